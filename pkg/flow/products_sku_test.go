package flow

import (
	"fmt"
	"strings"
	"testing"

	"github.com/cazbling/cazbling/pkg/cazbling"
)

// In a window, a product whose SKU is linked to it is not looked up in Bling again;
// a second product given that SKU is, marks the SKU shared, and from then on both are
// refused until the seller gives them different SKUs.
func TestWindowLooksUpOnlyUnvouchedSKUs(t *testing.T) {
	e := newProductsEnv(t)
	a := e.product("SKU-A", "2")
	e.product("SKU-B", "0")
	if res := e.sync(Options{}); res.Status != cazbling.StatusOK {
		t.Fatalf("activation %+v", res)
	}
	e.calls()

	// Both change (the fake lists everything): their links vouch for them.
	res := e.sync(Options{})
	erp, _ := e.calls()
	if res.Status != cazbling.StatusOK || erp["ProductsBySKU"] != 0 || erp["ProductsPage"] != 3 {
		t.Errorf("window run %+v, Bling %v; want no look-up and one page per class", res, erp)
	}

	// The seller gives a new product SKU-A. Both are looked up and refused; the link is
	// marked shared. (The old one, unchanged in the overlap, is one of too few trusted
	// products to be worth asking Bling about: it is read, and refused too.)
	dup := e.product("SKU-A", "7")
	res = e.sync(Options{})
	erp, _ = e.calls()
	if res.Status != cazbling.StatusError || erp["ProductsBySKU"] == 0 {
		t.Fatalf("run with a duplicate %+v, Bling %v; want an error after a look-up", res, erp)
	}
	want := fmt.Sprintf("(%d, %d)", a, dup)
	rows := e.productRows(res.RunID)["SKU-A"]
	if len(rows) != 2 {
		t.Fatalf("SKU-A rows %+v, want an error for each of %d and %d", rows, a, dup)
	}
	for _, r := range rows {
		if r.Status != cazbling.StatusError || !strings.Contains(r.Message, want) {
			t.Fatalf("SKU-A row %+v, want an error naming %s", r, want)
		}
	}
	if l := e.link("SKU-A"); !l.SKUShared || l.BlingID != a {
		t.Errorf("link %+v, want marked shared and still naming %d", l, a)
	}
	// From then on both are refused.
	res = e.sync(Options{})
	if rows := e.productRows(res.RunID)["SKU-A"]; len(rows) != 2 {
		t.Errorf("SKU-A rows %+v, want an error for each product", rows)
	} else {
		for _, r := range rows {
			if r.Status != cazbling.StatusError || !strings.Contains(r.Message, want) {
				t.Errorf("row %+v, want an error naming %s", r, want)
			}
		}
	}
	e.calls()

	// Fixed in Bling: the new product gets its own SKU. The shared link is asked again,
	// then vouches again.
	e.erp.mu.Lock()
	for i := range e.erp.products {
		if e.erp.products[i].ID == dup {
			e.erp.products[i].SKU = "SKU-C"
		}
	}
	e.erp.mu.Unlock()
	res = e.sync(Options{})
	erp, _ = e.calls()
	if res.Status != cazbling.StatusOK || erp["ProductsBySKU"] == 0 {
		t.Errorf("run after the fix %+v, Bling %v; want ok after a look-up", res, erp)
	}
	if l := e.link("SKU-A"); l.SKUShared || l.BlingID != a {
		t.Errorf("link after the fix %+v, want not shared", l)
	}
	e.sync(Options{})
	if erp, _ := e.calls(); erp["ProductsBySKU"] != 0 {
		t.Errorf("next run looked SKUs up %d times, want none", erp["ProductsBySKU"])
	}
}
