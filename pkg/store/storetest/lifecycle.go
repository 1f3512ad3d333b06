package storetest

import (
	"context"
	"slices"
	"testing"

	"github.com/cazbling/cazbling/pkg/cazbling"
)

// An order link recorded as created opens its lifecycle in the same transaction; one
// still creating or failed does not; a written lifecycle round-trips and a closed one
// leaves the open list; a later link write does not reopen or reset it.
func testLifecycleOpenedByCreatedLink(t *testing.T, b Backend) {
	ctx := context.Background()
	s, _ := b.openTest(t)
	addTenant(t, s, "acme")
	links := []cazbling.OrderLink{
		{TenantID: "acme", CazcoID: "1", Number: "N1", State: cazbling.OrderCreating},
		{TenantID: "acme", CazcoID: "2", Number: "N2", State: cazbling.OrderFailed},
		{TenantID: "acme", CazcoID: "3", Number: "N3", BlingID: 33, State: cazbling.OrderCreated},
	}
	if err := s.Apply(ctx, cazbling.Batch{OrderLinks: links}); err != nil {
		t.Fatal(err)
	}
	open, err := s.OpenLifecycles(ctx, "acme")
	if err != nil || len(open) != 1 || open[0].CazcoID != "3" || open[0].BlingID != 33 || open[0].Number != "N3" {
		t.Fatalf("open after insert: %+v %v", open, err)
	}
	// Link 1 becomes created (an update): its lifecycle opens too.
	links[0].State, links[0].BlingID = cazbling.OrderCreated, 11
	if err := s.Apply(ctx, cazbling.Batch{OrderLinks: links[:1]}); err != nil {
		t.Fatal(err)
	}
	open, _ = s.OpenLifecycles(ctx, "acme")
	if len(open) != 2 {
		t.Fatalf("open after update: %+v", open)
	}
	l := open[0]
	l.InvoiceKey, l.InvoiceID, l.Tracking, l.BlingStatus, l.CazcoCanceled = "k", 5, []string{"AA1BR", "BB2BR"}, 9, true
	if err := s.Apply(ctx, cazbling.Batch{Lifecycles: []cazbling.OrderLifecycle{l}}); err != nil {
		t.Fatal(err)
	}
	got, ok, err := s.Lifecycle(ctx, "acme", l.CazcoID)
	if err != nil || !ok || got.InvoiceKey != "k" || got.InvoiceID != 5 || !slices.Equal(got.Tracking, l.Tracking) ||
		got.BlingStatus != 9 || !got.CazcoCanceled || got.BlingCanceled || !got.CreatedAt.Equal(l.CreatedAt) {
		t.Fatalf("round trip: %+v %v %v", got, ok, err)
	}
	got.State = cazbling.LifecycleClosed
	if err := s.Apply(ctx, cazbling.Batch{Lifecycles: []cazbling.OrderLifecycle{got}}); err != nil {
		t.Fatal(err)
	}
	// Writing the link again (as a re-run does) leaves the lifecycle as it is.
	if err := s.Apply(ctx, cazbling.Batch{OrderLinks: links}); err != nil {
		t.Fatal(err)
	}
	open, _ = s.OpenLifecycles(ctx, "acme")
	if len(open) != 1 || open[0].CazcoID == got.CazcoID {
		t.Fatalf("open after close: %+v", open)
	}
	again, _, _ := s.Lifecycle(ctx, "acme", got.CazcoID)
	if again.State != cazbling.LifecycleClosed || again.InvoiceKey != "k" {
		t.Fatalf("closed lifecycle changed by a link write: %+v", again)
	}
}

// A product link's inactive mark (sent to CaZco as inactive) round-trips, and a stock
// level leaves it alone.
func testInactiveProductLinkRoundTrips(t *testing.T, b Backend) {
	ctx := context.Background()
	s, _ := b.openTest(t)
	addTenant(t, s, "acme")
	err := s.Apply(ctx, cazbling.Batch{ProductLinks: []cazbling.ProductLink{
		{TenantID: "acme", SKU: "OFF", CazcoID: "c1", Inactive: true},
		{TenantID: "acme", SKU: "ON", CazcoID: "c2"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Apply(ctx, cazbling.Batch{StockLevels: []cazbling.ProductLink{{TenantID: "acme", SKU: "OFF", StockSent: 0, StockKnown: true}}}); err != nil {
		t.Fatal(err)
	}
	got, err := s.ProductLinksBySKU(ctx, "acme", []string{"OFF", "ON"})
	if err != nil || !got["OFF"].Inactive || got["ON"].Inactive || !got["OFF"].StockKnown {
		t.Fatalf("links: %+v %v", got, err)
	}
}
