package sqlite

import (
	"context"
	"path/filepath"
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
		"DROP TRIGGER order_links_created_insert",
		"DROP TRIGGER order_links_created_update",
		"DROP TABLE order_lifecycle",
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
