package flow

import (
	"fmt"
	"testing"
	"time"

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
