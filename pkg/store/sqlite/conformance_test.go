package sqlite_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/cazbling/cazbling/pkg/store"
	"github.com/cazbling/cazbling/pkg/store/sqlite"
	"github.com/cazbling/cazbling/pkg/store/storetest"
)

// TestConformance runs the suite every store backend passes (pkg/store/storetest)
// on SQLite files.
func TestConformance(t *testing.T) {
	storetest.Run(t, storetest.Backend{New: func(t *testing.T) storetest.Location {
		return location(filepath.Join(t.TempDir(), "cazbling.db"))
	}})
}

// location is a SQLite store's file.
type location string

func (l location) Open(ctx context.Context, key []byte, now func() time.Time) (store.Store, error) {
	return sqlite.Open(ctx, sqlite.Options{Path: string(l), Key: key, Now: now})
}

func (l location) Name() string { return string(l) }

func (l location) raw(t *testing.T) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+string(l)+"?_busy_timeout=5000&_foreign_keys=on")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func (l location) Exec(t *testing.T, query string) {
	t.Helper()
	if _, err := l.raw(t).Exec(query); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

func (l location) Count(t *testing.T, query string) int {
	t.Helper()
	var n int
	if err := l.raw(t).QueryRow(query).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// Contents is the file and its WAL: while the store is open the rows sit in the WAL;
// after close, in the main file.
func (l location) Contents(t *testing.T) []byte {
	t.Helper()
	var all []byte
	for _, name := range []string{string(l), string(l) + "-wal"} {
		data, err := os.ReadFile(name)
		if err == nil {
			all = append(all, data...)
		}
	}
	return all
}
