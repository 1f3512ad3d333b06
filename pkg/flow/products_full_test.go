package flow

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/cazbling/cazbling/pkg/cazbling"
)

// A full walk lists Bling once per stock class, so products at zero and below are
// created too; the CaZco store is listed once instead of each SKU being looked up.
func TestFullWalkListsEveryStockClass(t *testing.T) {
	e := newProductsEnv(t)
	e.catalogue(150, "5")
	e.inCazco("c-old", "POS-007") // the seller already sells it on CaZco

	res := e.sync(Options{})
	if res.Status != cazbling.StatusOK {
		t.Fatalf("result %+v", res)
	}
	erp, market := e.calls()
	// Positive: pages of 99 → 2; zero and negative: 1 each.
	if erp["ProductsPage"] != 4 || erp["Product"] != 152 || erp["ProductsBySKU"] != 4 {
		t.Errorf("Bling calls %v, want 4 list pages, 152 detail reads, 4 look-ups (one per page)", erp)
	}
	if market["Products"] != 1 || market["ProductBySKU"] != 0 || market["CreateProduct"] != 151 || market["UpdateProduct"] != 1 {
		t.Errorf("CaZco calls %v, want 1 store listing, no look-up, 151 creates, 1 update", market)
	}
	for _, sku := range []string{"ZERO", "NEG", "POS-149"} {
		if l := e.link(sku); l.CazcoID == "" {
			t.Errorf("%s not linked: %+v", sku, l)
		}
	}
	if l := e.link("POS-007"); l.CazcoID != "c-old" {
		t.Errorf("POS-007 linked to %q, want the CaZco product that was there (c-old)", l.CazcoID)
	}
}

// A full walk interrupted between stock classes resumes by listing every class again,
// reading only the products it has not handled yet; one checkpointed by an older
// version (no stock classes) is walked again from the start, reading everything.
func TestFullWalkResumesByClass(t *testing.T) {
	e := newProductsEnv(t)
	e.catalogue(120, "1")
	e.erp.fail = func(method string, n int) error {
		if method == "ProductsPage" && n == 3 { // the zero class's first page
			return blingError("GET /produtos", cazbling.KindServer)
		}
		return nil
	}
	if res := e.sync(Options{}); res.Status != cazbling.StatusError {
		t.Fatalf("first run %+v, want an error", res)
	}
	if _, market := e.calls(); market["CreateProduct"] != 120 {
		t.Errorf("first run created %d, want the 120 positive ones", market["CreateProduct"])
	}
	e.erp.fail = nil
	if res := e.sync(Options{}); res.Status != cazbling.StatusOK {
		t.Fatalf("second run %+v", res)
	}
	erp, market := e.calls()
	if erp["ProductsPage"] != 4 || erp["Product"] != 2 || market["CreateProduct"] != 2 {
		t.Errorf("resumed run: Bling %v, CaZco %v; want every class listed again (4 pages) but only the 2 products not handled yet read and created", erp, market)
	}
	if v, _, _ := e.store.Cursor(context.Background(), e.tenant.ID, cazbling.StreamFullSync); v != "" {
		t.Errorf("full sync progress left: %q", v)
	}

	// An older binary's checkpoint: page 2 of an unfiltered walk.
	old := fmt.Sprintf(`{"started":%q,"next_page":2}`, e.clock.Now().Format(time.RFC3339))
	if err := e.store.Apply(context.Background(), cazbling.Batch{Cursors: []cazbling.Cursor{{TenantID: e.tenant.ID, Stream: cazbling.StreamFullSync, Value: old}}}); err != nil {
		t.Fatal(err)
	}
	if res := e.sync(Options{Full: true}); res.Status != cazbling.StatusOK {
		t.Fatalf("run after an old checkpoint %+v", res)
	}
	if erp, _ := e.calls(); erp["ProductsPage"] != 4 || erp["Product"] != 122 {
		t.Errorf("walk after an old checkpoint: %v, want every class from page 1 (4 pages, 122 reads)", erp)
	}
}

// A product that changes stock class between an interrupted walk and its resume, into
// a class the walk had already listed, is still synced: the resume lists every class
// again. (Resumed at its checkpoint, the walk never saw it, and no window would: a
// stock change does not move a product's alteration date.)
func TestFullWalkResumeFindsAProductThatChangedClass(t *testing.T) {
	e := newProductsEnv(t)
	e.catalogue(3, "2") // POS-000..002, ZERO, NEG
	moved := e.product("ZERO-2", "0")
	e.erp.fail = func(method string, n int) error {
		if method == "ProductsPage" && n == 2 { // the zero class's first page
			return blingError("GET /produtos", cazbling.KindServer)
		}
		return nil
	}
	if res := e.sync(Options{}); res.Status != cazbling.StatusError {
		t.Fatalf("first run %+v, want an error", res)
	}
	e.erp.fail = nil
	// Between the runs ZERO-2 gets stock: it is listed under the positive class now,
	// which the interrupted walk had finished.
	e.erp.mu.Lock()
	e.erp.balances[moved] = cazbling.StockBalance{ProductID: moved, SKU: "ZERO-2", PhysicalTotal: decimal.NewFromInt(4), VirtualTotal: decimal.NewFromInt(4)}
	e.erp.mu.Unlock()
	e.calls()
	if res := e.sync(Options{}); res.Status != cazbling.StatusOK {
		t.Fatalf("second run %+v", res)
	}
	e.market.mu.Lock()
	defer e.market.mu.Unlock()
	skus := map[string]bool{}
	for _, p := range e.market.products {
		skus[p.SKU] = true
	}
	for _, sku := range []string{"POS-000", "POS-001", "POS-002", "ZERO", "NEG", "ZERO-2"} {
		if !skus[sku] {
			t.Errorf("%s is not in CaZco after the resumed walk (CaZco has %v)", sku, skus)
		}
	}
}

// A run whose lease another process took while it stalled (the lease lapsed) records
// nothing more: its next batch is refused by the store, and the run ends in error
// saying so. The new holder's work is not written over.
func TestRunThatLostItsLeaseWritesNothingMore(t *testing.T) {
	e := newProductsEnv(t)
	e.catalogue(30, "2")
	e.erp.fail = func(method string, n int) error {
		if method == "Product" && n == 5 {
			// The run stalls past its lease; another process takes it.
			e.clock.Advance(10 * time.Minute)
			if ok, err := e.store.AcquireLease(context.Background(), e.tenant.ID, cazbling.FlowProducts, "other-host", time.Hour); err != nil || !ok {
				t.Errorf("the other process could not take the lapsed lease: %v %v", ok, err)
			}
		}
		return nil
	}
	res := e.sync(Options{})
	if res.Status != cazbling.StatusError || !strings.Contains(res.Message, "held by another process") {
		t.Fatalf("run %+v, want an error saying the lease is held by another process", res)
	}
	rows := e.productRows(res.RunID)
	written := 0
	for _, rs := range rows {
		written += len(rs)
	}
	if written >= 5 {
		t.Errorf("%d product rows written by the run, want fewer than the 5 products read before the lease was lost", written)
	}
	links, err := e.store.CountProductLinks(context.Background(), e.tenant.ID)
	if err != nil || links >= 5 {
		t.Errorf("%d links recorded (%v), want fewer than 5", links, err)
	}
}
