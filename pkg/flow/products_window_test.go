package flow

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/cazbling/cazbling/pkg/cazbling"
)

// In a window's overlap with the last run, products a run since then read and found
// current are not read again, unless Bling lists them as changed since the last cursor
// (a change the list entry does not show, here the brand); when Bling cannot say, they
// are all read.
func TestWindowTrustsOverlapOnlyWhatDidNotChange(t *testing.T) {
	e := newProductsEnv(t)
	var ids []int64
	for i := range 10 {
		ids = append(ids, e.product(fmt.Sprintf("SKU-%02d", i), "3"))
	}
	if res := e.sync(Options{}); res.Status != cazbling.StatusOK { // full walk; cursor at its start
		t.Fatalf("activation %+v", res)
	}
	start := e.clock.Now()
	e.sync(Options{}) // within the margin: nothing is trusted, each is read and found current
	e.calls()

	// SKU-03's brand changes; Bling dates the change after the last cursor.
	e.erp.mu.Lock()
	e.erp.changed = map[int64]time.Time{}
	for _, id := range ids {
		e.erp.changed[id] = start.Add(-5 * time.Minute) // in the overlap, before the cursor
	}
	e.erp.changed[ids[3]] = start.Add(30 * time.Second)
	e.erp.products[3].Brand = "Marca Nova"
	e.erp.mu.Unlock()
	res := e.sync(Options{})
	erp, market := e.calls()
	if res.Status != cazbling.StatusOK || erp["Product"] != 1 || market["UpdateProduct"] != 1 {
		t.Fatalf("run %+v: Bling %v, CaZco %v; want SKU-03 alone read and written", res, erp, market)
	}
	// 3 pages of the window, 3 listings of the trusted ids.
	if erp["ProductsPage"] != 6 {
		t.Errorf("%d listings, want 6 (one page per class, one id listing per class)", erp["ProductsPage"])
	}
	if rows := e.productRows(res.RunID)["SKU-03"]; len(rows) == 0 || rows[0].Action != cazbling.ActionUpdated {
		t.Errorf("SKU-03 rows %+v, want updated", rows)
	}

	// Bling cannot list by id now: every product of the page is read (and found
	// current, with no write).
	e.erp.mu.Lock()
	e.erp.failIDListing = blingError("GET /produtos", cazbling.KindServer)
	e.erp.mu.Unlock()
	res = e.sync(Options{})
	erp, market = e.calls()
	if res.Status != cazbling.StatusOK || erp["Product"] != 10 || market["UpdateProduct"] != 0 {
		t.Errorf("run without id listings %+v: Bling %v, CaZco %v; want all 10 read, none written", res, erp, market)
	}
}

// A linked product left for retry is made untrusted (no seen time, no hash): the next
// run of any flow reads and writes it, so its newest row is no longer the retry, even
// if another flow made CaZco right meanwhile.
func TestRetryLeavesTheLinkUntrusted(t *testing.T) {
	e := newProductsEnv(t)
	var failID int64
	for i := range 5 {
		id := e.product(fmt.Sprintf("P-%d", i), "3")
		if i == 2 {
			failID = id
		}
	}
	if res := e.sync(Options{Full: true}); res.Status != cazbling.StatusOK {
		t.Fatalf("full walk %+v", res)
	}
	e.erp.mu.Lock()
	for i := range e.erp.products {
		if e.erp.products[i].ID == failID {
			e.erp.products[i].Price = decimal.RequireFromString("12.34") // a change for the window to read
		}
	}
	e.erp.fail = func(method string, n int) error {
		if method == "Product" && n == 3 {
			return blingError("GET /produtos/{id}", cazbling.KindMalformed)
		}
		return nil
	}
	e.erp.mu.Unlock()
	e.calls()
	if res := e.sync(Options{}); res.Counts.Retry != 1 {
		t.Fatalf("window run %+v, want one product left for retry", res)
	}
	l := e.link("P-2")
	if !l.SeenAt.IsZero() || l.Hash != "" || l.CazcoID == "" {
		t.Fatalf("link of the product left for retry %+v, want its CaZco id kept, no seen time, no hash", l)
	}
	e.erp.mu.Lock()
	e.erp.fail = nil
	e.erp.mu.Unlock()
	if res := e.sync(Options{}); res.Status != cazbling.StatusOK {
		t.Fatalf("next run %+v", res)
	}
	if n, err := e.store.FailingItems(context.Background(), e.tenant.ID); err != nil || n != 0 {
		t.Fatalf("failing items %d (%v), want 0", n, err)
	}
}
