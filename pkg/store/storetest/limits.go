package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/cazbling/cazbling/pkg/cazbling"
)

// A learned limit round-trips, is replaced by a newer one, survives changes to the
// tenant that leave its CaZco key alone, and is forgotten when the key or the store's
// URL changes (the allowance belongs to the key) or the tenant goes.
func testAPILimitsBelongToTheKey(t *testing.T, b Backend) {
	ctx := context.Background()
	loc := b.New(t)
	s := openAt(t, loc, TestKey(1), newClock())
	tn := cazbling.Tenant{ID: "acme", BlingURL: "https://bling.test", CazcoURL: "https://cazco.test", CazcoAPIKey: "czk-1"}
	if err := s.UpsertTenant(ctx, tn, nil); err != nil {
		t.Fatal(err)
	}
	if _, found, err := s.APILimit(ctx, "acme", "cazco"); err != nil || found {
		t.Fatalf("before any: found %v, %v", found, err)
	}
	seen := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	for _, l := range []cazbling.RateLimit{{N: 600, Window: time.Minute, SeenAt: seen}, {N: 120, Window: 30 * time.Second, SeenAt: seen.Add(time.Hour)}} {
		if err := s.SetAPILimit(ctx, "acme", "cazco", l); err != nil {
			t.Fatal(err)
		}
		got, found, err := s.APILimit(ctx, "acme", "cazco")
		if err != nil || !found || got.N != l.N || got.Window != l.Window || !got.SeenAt.Equal(l.SeenAt) {
			t.Fatalf("after setting %s: %+v %v %v", l, got, found, err)
		}
	}
	if err := s.SetAPILimit(ctx, "acme", "cazco", cazbling.RateLimit{N: 0, Window: time.Minute}); err == nil {
		t.Fatal("a limit of 0 was saved")
	}

	keep := func(why string) {
		t.Helper()
		if _, found, _ := s.APILimit(ctx, "acme", "cazco"); !found {
			t.Fatalf("%s forgot the learned limit", why)
		}
	}
	gone := func(why string) {
		t.Helper()
		if _, found, _ := s.APILimit(ctx, "acme", "cazco"); found {
			t.Fatalf("%s kept the learned limit", why)
		}
	}
	tn.BlingDeposit = 7
	if err := s.UpsertTenant(ctx, tn, nil); err != nil {
		t.Fatal(err)
	}
	keep("a new Bling deposit")

	tn.CazcoAPIKey = "czk-2"
	if err := s.UpsertTenant(ctx, tn, nil); err != nil {
		t.Fatal(err)
	}
	gone("a new CaZco key")

	_ = s.SetAPILimit(ctx, "acme", "cazco", cazbling.RateLimit{N: 600, Window: time.Minute})
	tn.CazcoURL = "https://other.cazco.test"
	if err := s.UpsertTenant(ctx, tn, nil); err != nil {
		t.Fatal(err)
	}
	gone("a new CaZco URL")

	_ = s.SetAPILimit(ctx, "acme", "cazco", cazbling.RateLimit{N: 600, Window: time.Minute})
	loc.Exec(t, `DELETE FROM tenants WHERE id = 'acme'`)
	if rows := loc.Count(t, `SELECT count(*) FROM api_limits`); rows != 0 {
		t.Fatalf("%d limit rows after the tenant went, want 0", rows)
	}
}
