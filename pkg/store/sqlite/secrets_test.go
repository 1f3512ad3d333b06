package sqlite

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cazbling/cazbling/pkg/cazbling"
)

func TestSecretsNotStoredInClear(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "store.db")
	s := openAt(t, path, testKey(1), nil)
	secrets := []string{
		"client-secret-2f9d8a7e", "cazco-key-61b0c3d4", "access-token-" + strings.Repeat("J", 3000), "refresh-token-a8c1e5f0",
	}
	tn := cazbling.Tenant{ID: "acme", BlingClientID: "public-client-id", BlingClientSecret: secrets[0], CazcoAPIKey: secrets[1]}
	if err := s.UpsertTenant(ctx, tn, &cazbling.Token{AccessToken: secrets[2], RefreshToken: secrets[3]}); err != nil {
		t.Fatal(err)
	}
	// While the store is open the rows sit in the WAL; after close, in the main file.
	check := func(when string) {
		t.Helper()
		sawClientID := false
		for _, name := range []string{path, path + "-wal"} {
			data, err := os.ReadFile(name)
			if err != nil {
				continue // no WAL after close
			}
			sawClientID = sawClientID || bytes.Contains(data, []byte("public-client-id"))
			for _, secret := range secrets {
				if bytes.Contains(data, []byte(secret[:min(len(secret), 24)])) {
					t.Errorf("%s: %s holds a secret in clear", when, filepath.Base(name))
				}
			}
		}
		if !sawClientID {
			t.Errorf("%s: the tenant row is in neither file; the check proves nothing", when)
		}
	}
	check("open")
	got, err := s.Tenant(ctx, "acme")
	if err != nil || got.BlingClientSecret != secrets[0] || got.CazcoAPIKey != secrets[1] {
		t.Errorf("decrypted tenant = %+v, %v", got, err)
	}
	tok, err := s.Token(ctx, "acme")
	if err != nil || tok.AccessToken != secrets[2] || tok.RefreshToken != secrets[3] {
		t.Errorf("decrypted token wrong: %v", err)
	}
	s.Close()
	check("closed")
}

func TestWrongKey(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "store.db")
	s := openAt(t, path, testKey(1), nil)
	err := s.UpsertTenant(ctx, cazbling.Tenant{ID: "acme", CazcoAPIKey: "key"}, &cazbling.Token{RefreshToken: "r"})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()

	_, err = Open(ctx, Options{Path: path, Key: testKey(2)})
	if !errors.Is(err, cazbling.ErrWrongKey) || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "does not match") {
		t.Fatalf("open with another key: %v", err)
	}
	openAt(t, path, testKey(1), nil).Close() // the right key still opens it
}

func TestNewKeyAcceptedWhileStoreHoldsNoSecrets(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "store.db")
	openAt(t, path, testKey(1), nil).Close()
	s := openAt(t, path, testKey(2), nil)
	if err := s.UpsertTenant(ctx, cazbling.Tenant{ID: "acme", CazcoAPIKey: "k"}, nil); err != nil {
		t.Fatal(err)
	}
	s.Close()
	openAt(t, path, testKey(2), nil).Close()
	if _, err := Open(ctx, Options{Path: path, Key: testKey(1)}); !errors.Is(err, cazbling.ErrWrongKey) {
		t.Errorf("old key after re-key: %v", err)
	}
}

// TestSecretBoundToRow moves a sealed value to another tenant's row; it must not open
// there, and the error must name the tenant.
func TestSecretBoundToRow(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "store.db")
	s := openAt(t, path, testKey(1), nil)
	for _, id := range []string{"acme", "bolt"} {
		if err := s.UpsertTenant(ctx, cazbling.Tenant{ID: id, CazcoAPIKey: "key-of-" + id}, &cazbling.Token{AccessToken: "a-" + id}); err != nil {
			t.Fatal(err)
		}
	}
	db := rawDB(t, path)
	if _, err := db.Exec(`UPDATE tenants SET cazco_api_key_enc = (SELECT cazco_api_key_enc FROM tenants WHERE id = 'bolt') WHERE id = 'acme'`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`UPDATE tenants SET refresh_token_enc = access_token_enc WHERE id = 'bolt'`); err != nil {
		t.Fatal(err)
	}
	_, err := s.Tenant(ctx, "acme")
	want := `tenant "acme": secrets cannot be decrypted with this key`
	if !errors.Is(err, cazbling.ErrWrongKey) || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "run activate again") {
		t.Errorf("Tenant: %v", err)
	}
	if _, err := s.Tenants(ctx); !errors.Is(err, cazbling.ErrWrongKey) || !strings.Contains(err.Error(), `"acme"`) {
		t.Errorf("Tenants: %v", err)
	}
	if _, err := s.Token(ctx, "bolt"); !errors.Is(err, cazbling.ErrWrongKey) || !strings.Contains(err.Error(), `"bolt"`) {
		t.Errorf("Token: %v", err)
	}
	called := false
	_, err = s.UpdateToken(ctx, "bolt", func(c cazbling.Token) (cazbling.Token, error) { called = true; return c, nil })
	if !errors.Is(err, cazbling.ErrWrongKey) || called {
		t.Errorf("UpdateToken: %v (fn called: %v)", err, called)
	}
}

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
	s := openAt(t, path, mustLoadKey(t, path), newClock())
	addTenant(t, s, "acme")
	s.Close()
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

func mustLoadKey(t *testing.T, path string) []byte {
	t.Helper()
	k, err := LoadKey(path, "")
	if err != nil {
		t.Fatal(err)
	}
	return k
}
