package flow

import (
	"testing"

	"github.com/cazbling/cazbling/pkg/cazbling"
)

// The CaZco store is listed only when that saves look-ups: not when it is empty (every
// product is created directly), nor on a re-walk whose links cover the store (its new
// SKUs are looked up one by one).
func TestFullWalkListsTheStoreOnlyWhenItHelps(t *testing.T) {
	e := newProductsEnv(t)
	e.activated("P-%d", 5, "1")
	_, market := e.calls()
	if market["Info"] != 1 || market["Products"] != 0 || market["ProductBySKU"] != 0 || market["CreateProduct"] != 5 {
		t.Errorf("activation on an empty store: CaZco %v, want 1 Info, no listing, no look-up, 5 creates", market)
	}

	e.product("P-NEW", "1")
	if res := e.sync(Options{Full: true}); res.Status != cazbling.StatusOK {
		t.Fatalf("re-walk %+v", res)
	}
	_, market = e.calls()
	if market["Products"] != 0 || market["ProductBySKU"] != 1 || market["CreateProduct"] != 1 {
		t.Errorf("re-walk with every CaZco product linked: CaZco %v, want no listing, 1 look-up (the new SKU), 1 create", market)
	}
}

// A product the store listing showed but that is deleted in CaZco before its write is
// created again, not refused.
func TestFullWalkProductDeletedAfterStoreListing(t *testing.T) {
	e := newProductsEnv(t)
	e.product("GONE", "3")
	e.inCazco("c-gone", "GONE")
	e.erp.fail = func(method string, n int) error {
		if method == "Product" && n == 1 { // after the store was listed, before the write
			e.market.mu.Lock()
			delete(e.market.products, "c-gone")
			e.market.mu.Unlock()
		}
		return nil
	}
	if res := e.sync(Options{}); res.Status != cazbling.StatusOK {
		t.Fatalf("result %+v", res)
	}
	if l := e.link("GONE"); l.CazcoID == "" || l.CazcoID == "c-gone" {
		t.Errorf("GONE linked to %q, want a new CaZco product", l.CazcoID)
	}
}
