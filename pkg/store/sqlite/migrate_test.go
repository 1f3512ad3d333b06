package sqlite

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cazbling/cazbling/pkg/cazbling"
)

// A store written by the first schema (no seen_at/summary_hash/sku_shared on product
// links) is brought up to date at open, keeping its data; the new fields round-trip.
func TestOlderSchemaMigratesKeepingData(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	s := openAt(t, path, testKey(1), newClock())
	addTenant(t, s, "acme")
	link := cazbling.ProductLink{TenantID: "acme", SKU: "A-1", BlingID: 7, CazcoID: "81000", Hash: "h", StockSent: 4, StockKnown: true}
	if err := s.Apply(ctx, cazbling.Batch{ProductLinks: []cazbling.ProductLink{link}}); err != nil {
		t.Fatal(err)
	}
	s.Close()

	// Make it a version-1 file, as an older binary left it.
	db := rawDB(t, path)
	for _, q := range []string{
		"ALTER TABLE product_links DROP COLUMN seen_at",
		"ALTER TABLE product_links DROP COLUMN summary_hash",
		"ALTER TABLE product_links DROP COLUMN sku_shared",
		"ALTER TABLE log_rows DROP COLUMN code",
		"ALTER TABLE log_rows DROP COLUMN params",
		"DROP TABLE panel_oauth_states",
		"DROP TABLE panel_sessions",
		"DROP TABLE panel_invites",
		"DROP TABLE panel_used_jti",
		"DROP TABLE api_limits",
		"DROP INDEX order_links_number",
		"DROP TRIGGER order_links_created_insert",
		"DROP TRIGGER order_links_created_update",
		"DROP TABLE order_lifecycle",
		"ALTER TABLE product_links DROP COLUMN inactive",
		"ALTER TABLE leases DROP COLUMN generation",
		"ALTER TABLE runs DROP COLUMN host",
		"PRAGMA user_version = 1",
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	db.Close()

	s = openAt(t, path, testKey(1), newClock())
	var v int
	if err := s.db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil || v != SchemaVersion() {
		t.Fatalf("version after open: %d (%v), want %d", v, err, SchemaVersion())
	}
	got, ok, err := s.ProductLink(ctx, "acme", "A-1")
	if err != nil || !ok || got.CazcoID != "81000" || got.StockSent != 4 || !got.SeenAt.IsZero() || got.SummaryHash != "" || got.SKUShared {
		t.Fatalf("link after migration: %+v %v %v", got, ok, err)
	}
	seen := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	got.SeenAt, got.SummaryHash, got.SKUShared = seen, "sum", true
	if err := s.Apply(ctx, cazbling.Batch{ProductLinks: []cazbling.ProductLink{got}}); err != nil {
		t.Fatal(err)
	}
	again, _, _ := s.ProductLink(ctx, "acme", "A-1")
	if !again.SeenAt.Equal(seen) || again.SummaryHash != "sum" || !again.SKUShared {
		t.Errorf("seen_at/summary_hash/sku_shared did not round-trip: %+v", again)
	}
	// The order lifecycle table (0007) works on the migrated file.
	if err := s.Apply(ctx, cazbling.Batch{OrderLinks: []cazbling.OrderLink{{TenantID: "acme", CazcoID: "58001", Number: "1001", BlingID: 9, State: cazbling.OrderCreated}}}); err != nil {
		t.Fatal(err)
	}
	if l, ok, err := s.Lifecycle(ctx, "acme", "58001"); err != nil || !ok || l.State != cazbling.LifecycleOpen {
		t.Errorf("lifecycle after migration: %+v %v %v", l, ok, err)
	}
}

// schemaOf returns the schema version and every schema object's SQL.
func schemaOf(t *testing.T, path string) (int, string) {
	t.Helper()
	db := rawDB(t, path)
	var version int
	if err := db.QueryRow("PRAGMA user_version").Scan(&version); err != nil {
		t.Fatal(err)
	}
	rows, err := db.Query("SELECT type, name, coalesce(sql, '') FROM sqlite_master ORDER BY type, name")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var typ, name, text string
		if err := rows.Scan(&typ, &name, &text); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%s %s: %s\n", typ, name, text)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	return version, b.String()
}

func fileSum(t *testing.T, path string) [32]byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(data)
}

func TestMigrateFromEmptyThenReopenChangesNothing(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "store.db")
	s, err := Open(ctx, Options{Path: path, Key: testKey(1)})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	version, schema := schemaOf(t, path)
	if version != SchemaVersion() || version < 1 {
		t.Fatalf("schema version = %d, want %d", version, SchemaVersion())
	}
	for _, table := range []string{"tenants", "cursors", "product_links", "order_links", "runs", "log_rows", "leases", "meta"} {
		if !strings.Contains(schema, "table "+table+":") {
			t.Errorf("table %s missing from schema:\n%s", table, schema)
		}
	}
	sum := fileSum(t, path)
	info, _ := os.Stat(path)

	s, err = Open(ctx, Options{Path: path, Key: testKey(1)})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	version2, schema2 := schemaOf(t, path)
	if version2 != version || schema2 != schema {
		t.Errorf("reopen changed the schema: version %d → %d", version, version2)
	}
	if fileSum(t, path) != sum {
		t.Error("reopen rewrote the database file")
	}
	if info2, _ := os.Stat(path); !info2.ModTime().Equal(info.ModTime()) {
		t.Error("reopen changed the file's modification time")
	}
}

func TestNewerSchemaRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "store.db")
	s := openAt(t, path, testKey(1), nil)
	s.Close()
	db := rawDB(t, path)
	if _, err := db.Exec(fmt.Sprintf("PRAGMA user_version = %d", SchemaVersion()+1)); err != nil {
		t.Fatal(err)
	}
	db.Close()
	_, err := Open(context.Background(), Options{Path: path, Key: testKey(1)})
	if err == nil || !strings.Contains(err.Error(), "newer than this cazbling knows") || !strings.Contains(err.Error(), path) {
		t.Fatalf("err = %v", err)
	}
}

func TestNotADatabaseRefused(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, path string)
	}{
		{"garbage", func(t *testing.T, path string) {
			garbage := bytes.Repeat([]byte("this is not sqlite at all\n"), 400)
			if err := os.WriteFile(path, garbage, 0o600); err != nil {
				t.Fatal(err)
			}
		}},
		{"damaged header", func(t *testing.T, path string) {
			s := openAt(t, path, testKey(1), nil)
			addTenant(t, s, "acme")
			s.Close()
			f, err := os.OpenFile(path, os.O_RDWR, 0)
			if err != nil {
				t.Fatal(err)
			}
			f.WriteAt([]byte("SQLite format 9\x00"), 0)
			f.Close()
		}},
		{"another program's database", func(t *testing.T, path string) {
			db := rawDB(t, path)
			if _, err := db.Exec("CREATE TABLE photos (id INTEGER)"); err != nil {
				t.Fatal(err)
			}
			db.Close()
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "store.db")
			tt.setup(t, path)
			before := fileSum(t, path)
			_, err := Open(context.Background(), Options{Path: path, Key: testKey(1)})
			want := "store " + path + " is not a cazbling database or is corrupted"
			if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "point --db elsewhere") {
				t.Fatalf("err = %v, want it to say %q", err, want)
			}
			if fileSum(t, path) != before {
				t.Error("the refused file was modified")
			}
		})
	}
}
