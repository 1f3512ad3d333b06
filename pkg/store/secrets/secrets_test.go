package secrets

import (
	"bytes"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadKeyFromEnv(t *testing.T) {
	key := bytes.Repeat([]byte{7}, KeySize)
	valid := base64.StdEncoding.EncodeToString(key)
	tests := []struct {
		name    string
		env     string
		wantErr string
	}{
		{"standard base64", valid, ""},
		{"with newline", valid + "\n", ""},
		{"url base64 unpadded", base64.RawURLEncoding.EncodeToString(key), ""},
		{"not base64", "not*base64*at*all!", "not valid base64"},
		{"too short", base64.StdEncoding.EncodeToString(key[:16]), "decodes to 16 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dbPath := filepath.Join(t.TempDir(), "store.db")
			got, err := LoadKey(dbPath, tt.env)
			if tt.wantErr == "" {
				if err != nil || !bytes.Equal(got, key) {
					t.Fatalf("got %x, %v", got, err)
				}
			} else {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), "CAZBLING_KEY") {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), strings.TrimSpace(tt.env)) {
					t.Errorf("error echoes the key: %v", err)
				}
			}
			if _, err := os.Stat(dbPath + ".key"); err == nil {
				t.Error("a key file was created although CAZBLING_KEY was set")
			}
		})
	}
}

func TestLoadKeyFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new", "folder")
	dbPath := filepath.Join(dir, "store.db")
	first, err := LoadKey(dbPath, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(first) != KeySize || bytes.Equal(first, make([]byte, KeySize)) {
		t.Fatalf("key = %x", first)
	}
	for name, want := range map[string]os.FileMode{dir: 0o700, dbPath + ".key": 0o600} {
		info, err := os.Stat(name)
		if err != nil {
			t.Fatal(err)
		}
		if info.Mode().Perm() != want {
			t.Errorf("%s mode = %o, want %o", name, info.Mode().Perm(), want)
		}
	}
	second, err := LoadKey(dbPath, "")
	if err != nil || !bytes.Equal(first, second) {
		t.Errorf("second load = %x, %v; want the same key", second, err)
	}
	if leftovers, _ := filepath.Glob(filepath.Join(dir, "*.tmp*")); len(leftovers) > 0 {
		t.Errorf("temporary files left: %v", leftovers)
	}

	for name, content := range map[string]string{
		"garbage": "hello world",
		"short":   base64.StdEncoding.EncodeToString([]byte("too short")),
		"empty":   "",
	} {
		t.Run(name, func(t *testing.T) {
			bad := filepath.Join(t.TempDir(), "store.db")
			if err := os.WriteFile(bad+".key", []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := LoadKey(bad, "")
			if err == nil || !strings.Contains(err.Error(), bad+".key") {
				t.Errorf("err = %v, want one naming the key file", err)
			}
		})
	}
}

// A missing key file beside an existing store is an error, and no new key is made.
func TestLoadKeyRefusesToReplaceALostKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.db")
	if _, err := LoadKey(path, ""); err != nil { // a new store: the key is made
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("a store that holds secrets"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(path + ".key"); err != nil {
		t.Fatal(err)
	}
	_, err := LoadKey(path, "")
	if err == nil || !strings.Contains(err.Error(), "missing") || !strings.Contains(err.Error(), path+".key") {
		t.Fatalf("LoadKey after the key file was lost: %v", err)
	}
	if _, err := os.Stat(path + ".key"); !os.IsNotExist(err) {
		t.Errorf("a new key file was written beside the store: %v", err)
	}
}
