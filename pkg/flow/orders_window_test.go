package flow

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/cazbling/cazbling/pkg/cazbling"
)

// Links left `creating` by a run killed mid-way are resolved by the look-up: the ones
// Bling has are linked (the lowest id when there are duplicates), the others filed once.
func TestSyncOrdersResolvesCreatingLinks(t *testing.T) {
	e := newOrdersEnv(t)
	ctx := context.Background()
	e.erp.AddProduct("SKU-1", "Produto")
	old := ordersT0.Add(-48 * time.Hour) // far out of the window: only the links bring them back
	var links []cazbling.OrderLink
	for i := range 3 {
		o := testOrder(i, old, cpfBuyer(i), testItem("SKU-1", 1, "10.00", "0.00"))
		e.market.PutOrder(o)
		links = append(links, cazbling.OrderLink{TenantID: e.tenant.ID, CazcoID: o.ID, Number: o.Number, State: cazbling.OrderCreating, Attempts: 1})
	}
	if err := e.store.Apply(ctx, cazbling.Batch{OrderLinks: links, Cursors: []cazbling.Cursor{TimeCursor(e.tenant.ID, cazbling.StreamOrders, ordersT0.Add(-time.Hour))}}); err != nil {
		t.Fatal(err)
	}
	filedBefore := e.erp.AddOrder(cazbling.SalesOrder{StoreNumber: "5000"})
	dupHigh := e.erp.AddOrder(cazbling.SalesOrder{StoreNumber: "5002"})
	dupLow := dupHigh - 1000 // a lower id, as if made long ago
	e.erp.mu.Lock()
	e.erp.orders = append(e.erp.orders, fakeERPOrder{ID: dupLow, Order: cazbling.SalesOrder{StoreNumber: "5002"}})
	e.erp.mu.Unlock()

	res := e.run(Options{})
	if res.Status != cazbling.StatusWarning || res.Counts.Created != 1 || res.Counts.Unchanged != 2 || res.Counts.Warnings != 1 {
		t.Fatalf("status %s, counts %+v, message %q", res.Status, res.Counts, res.Message)
	}
	if got := e.erp.Calls("CreateOrder"); got != 1 {
		t.Errorf("%d POSTs, want 1 (only the order Bling lacks)", got)
	}
	if got := e.market.Calls("Order"); got != 1 {
		t.Errorf("CaZco asked for %d orders, want 1 (the found ones need no read)", got)
	}
	if l := e.link("ord-000"); l.State != cazbling.OrderCreated || l.BlingID != filedBefore {
		t.Errorf("ord-000: %+v, want created as %d", l, filedBefore)
	}
	if l := e.link("ord-002"); l.State != cazbling.OrderCreated || l.BlingID != dupLow {
		t.Errorf("ord-002: %+v, want created as the lowest id %d", l, dupLow)
	}
	warn := e.logs(cazbling.LogFilter{Status: cazbling.StatusWarning})
	if len(warn) != 1 || warn[0].Key != "ord-002" || !strings.Contains(warn[0].Message, "2 Bling orders carry store number 5002") {
		t.Errorf("warning rows: %+v", warn)
	}
	if l := e.link("ord-001"); l.State != cazbling.OrderCreated || l.BlingID == 0 || l.Attempts != 2 {
		t.Errorf("ord-001: %+v, want created on its second attempt", l)
	}
}

// A page that fails ends the walk: the orders read are filed, the cursor stays, and
// the next run reads the window again without filing anything twice.
func TestSyncOrdersWalkFailure(t *testing.T) {
	e := newOrdersEnv(t)
	e.erp.AddProduct("SKU-1", "Produto")
	for i := range 4 {
		e.market.PutOrder(testOrder(i, ordersT0.Add(-time.Hour+time.Duration(i)*time.Minute), cpfBuyer(i), testItem("SKU-1", 1, "10.00", "0.00")))
	}
	e.market.failOrdersAfter = 2
	e.market.ordersErr = &cazbling.APIError{API: "cazco", Op: "GET /orders", Status: 503, Kind: cazbling.KindServer}
	res := e.run(Options{})
	if res.Status != cazbling.StatusError || res.Counts.Created != 2 || !strings.Contains(res.Message, "read CaZco orders") {
		t.Fatalf("status %s, counts %+v, message %q", res.Status, res.Counts, res.Message)
	}
	if _, found := e.cursor(); found {
		t.Errorf("cursor moved although the walk failed")
	}
	e.market.failOrdersAfter = 0
	e.clock.Advance(5 * time.Minute)
	res = e.run(Options{})
	if res.Status != cazbling.StatusOK || res.Counts.Created != 2 || res.Counts.Unchanged != 2 {
		t.Fatalf("second run: status %s, counts %+v", res.Status, res.Counts)
	}
	if n := len(e.assertNoDuplicates()); n != 4 {
		t.Errorf("Bling has %d orders, want 4", n)
	}
	if _, found := e.cursor(); !found {
		t.Errorf("cursor not moved after a complete run")
	}
}

// The first run reads FirstRunLookback back; later runs read from the cursor minus
// the overlap.
func TestSyncOrdersWindow(t *testing.T) {
	e := newOrdersEnv(t)
	e.run(Options{})
	e.clock.Advance(time.Hour)
	e.run(Options{})
	q := e.market.Queries()
	if len(q) != 2 {
		t.Fatalf("%d order queries, want 2", len(q))
	}
	if want := ordersT0.Add(-FirstRunLookback); !q[0].UpdatedSince.Equal(want) || q[0].PerPage != 100 {
		t.Errorf("first query %+v, want since %s", q[0], want)
	}
	if want := ordersT0.Add(-DefaultMargin - DefaultOverlap); !q[1].UpdatedSince.Equal(want) {
		t.Errorf("second query since %s, want %s", q[1].UpdatedSince, want)
	}
}
