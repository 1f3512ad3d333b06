package sqlite

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cazbling/cazbling/pkg/cazbling"
)

// clock is a settable clock safe for concurrent use.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock {
	return &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func testKey(b byte) []byte {
	return bytes.Repeat([]byte{b}, KeySize)
}

// openAt opens (or reopens) the store at path with key and clock, closing it at the
// end of the test.
func openAt(t *testing.T, path string, key []byte, clk *clock) *Store {
	t.Helper()
	opts := Options{Path: path, Key: key}
	if clk != nil {
		opts.Now = clk.Now
	}
	s, err := Open(context.Background(), opts)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func openTest(t *testing.T) (*Store, *clock) {
	t.Helper()
	clk := newClock()
	return openAt(t, filepath.Join(t.TempDir(), "cazbling.db"), testKey(1), clk), clk
}

func addTenant(t *testing.T, s *Store, id string) {
	t.Helper()
	err := s.UpsertTenant(context.Background(), cazbling.Tenant{ID: id, BlingURL: "https://bling.test", CazcoURL: "https://cazco.test"}, nil)
	if err != nil {
		t.Fatalf("add tenant %s: %v", id, err)
	}
}

// rawDB opens the file without the store, for inspecting and tampering.
func rawDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite3", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestOpenCreatesFolderAndFileOwnerOnly(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data dir?#%20", "cazbling") // characters a URI must escape
	path := filepath.Join(dir, "store.db")
	s := openAt(t, path, testKey(1), nil)
	if s.Path() != path {
		t.Errorf("Path() = %q, want %q", s.Path(), path)
	}
	for name, want := range map[string]os.FileMode{dir: 0o700, path: 0o600} {
		info, err := os.Stat(name)
		if err != nil {
			t.Fatal(err)
		}
		if got := info.Mode().Perm(); got != want {
			t.Errorf("%s mode = %o, want %o", name, got, want)
		}
	}
	// SQLite must have used that very file, not a mis-decoded name.
	addTenant(t, s, "acme")
	s.Close()
	entries, _ := os.ReadDir(dir)
	if info, err := os.Stat(path); err != nil || info.Size() == 0 || len(entries) != 1 {
		t.Errorf("after a write: %v, %d entries in the folder, want only a non-empty store.db", err, len(entries))
	}
}

func TestOpenTightensLooseFileMode(t *testing.T) {
	path := filepath.Join(t.TempDir(), "store.db")
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	openAt(t, path, testKey(1), nil)
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := info.Mode().Perm(); got != 0o600 {
		t.Errorf("mode = %o, want 600", got)
	}
}

func TestOpenBadFolderNamesPath(t *testing.T) {
	blocker := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(blocker, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(blocker, "store.db") // parent is a file
	_, err := Open(context.Background(), Options{Path: path, Key: testKey(1)})
	if err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("err = %v, want one naming %s", err, path)
	}
}

func TestOpenRejectsBadKeyLength(t *testing.T) {
	_, err := Open(context.Background(), Options{Path: filepath.Join(t.TempDir(), "s.db"), Key: []byte("short")})
	if err == nil || !strings.Contains(err.Error(), "32 bytes") {
		t.Fatalf("err = %v", err)
	}
}

// TestFullDiskNamesPath fills the database to a page limit, the way a full disk
// fails a write, and expects the error to name the file.
func TestFullDiskNamesPath(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	addTenant(t, s, "acme")
	s.db.SetMaxOpenConns(1) // so the per-connection limit below applies to Apply
	var pages int
	if err := s.db.QueryRowContext(ctx, "PRAGMA page_count").Scan(&pages); err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.ExecContext(ctx, fmt.Sprintf("PRAGMA max_page_count = %d", pages)); err != nil {
		t.Fatal(err)
	}
	var b cazbling.Batch
	for i := range 2000 {
		b.Logs = append(b.Logs, cazbling.LogEntry{TenantID: "acme", Key: fmt.Sprintf("SKU-%d", i), Message: strings.Repeat("x", 200)})
	}
	err := s.Apply(ctx, b)
	if err == nil || !strings.Contains(err.Error(), s.Path()) || !strings.Contains(err.Error(), "save batch") {
		t.Fatalf("err = %v, want one naming %s", err, s.Path())
	}
	if logs, _ := s.Logs(ctx, cazbling.LogFilter{}); len(logs) != 0 {
		t.Errorf("%d rows of a failed batch were saved", len(logs))
	}
}

// TestReadOnlyOpen opens a store with Options.ReadOnly: it reads what is there and
// writes nothing; a missing file, an older schema or a wrong key is refused.
func TestReadOnlyOpen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "store.db")
	s := openAt(t, path, testKey(1), nil)
	addTenant(t, s, "loja-ro")
	s.Close()
	sum := func() [32]byte {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return sha256.Sum256(b)
	}
	before := sum()

	ro, err := Open(ctx, Options{Path: path, Key: testKey(1), ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ro.Tenant(ctx, "loja-ro"); err != nil {
		t.Errorf("read a tenant: %v", err)
	}
	err = ro.UpsertTenant(ctx, cazbling.Tenant{ID: "other", BlingURL: "https://bling.test", CazcoURL: "https://cazco.test"}, nil)
	if err == nil || !NotWritable(err) {
		t.Errorf("write through a read-only store: err = %v, want one NotWritable reports", err)
	}
	ro.Close()
	if sum() != before {
		t.Error("the read-only open changed the file")
	}

	tests := []struct {
		name string
		prep func(t *testing.T) string // returns the path to open
		key  []byte
		says string
	}{
		{"missing file", func(t *testing.T) string { return filepath.Join(t.TempDir(), "none.db") }, testKey(1), "no such file"},
		{"wrong key", func(*testing.T) string { return path }, testKey(2), "does not match"},
		{"older schema", func(t *testing.T) string {
			old := filepath.Join(t.TempDir(), "old.db")
			openAt(t, old, testKey(1), nil).Close()
			db := rawDB(t, old)
			if _, err := db.Exec(fmt.Sprintf("PRAGMA user_version = %d", SchemaVersion()-1)); err != nil {
				t.Fatal(err)
			}
			db.Close()
			return old
		}, testKey(1), "older than this cazbling's"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := tt.prep(t)
			_, err := Open(ctx, Options{Path: p, Key: tt.key, ReadOnly: true})
			if err == nil || !strings.Contains(err.Error(), tt.says) {
				t.Fatalf("err = %v, want one saying %q", err, tt.says)
			}
			if tt.name == "missing file" {
				if _, err := os.Stat(p); !errors.Is(err, fs.ErrNotExist) {
					t.Errorf("a read-only open created %s", p)
				}
			}
		})
	}
}
