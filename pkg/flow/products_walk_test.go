package flow

import (
	"context"
	"fmt"
	"testing"

	"github.com/cazbling/cazbling/pkg/cazbling"
)

// A full walk that leaves a product for a later run goes on with the rest of the
// catalogue (later pages, the other stock classes) but moves no checkpoint or cursor:
// the next run reads again from that page, writes the product left over, skips what
// is already current, and finishes the walk.
func TestFullWalkGoesOnPastAProductLeftForLater(t *testing.T) {
	e := newProductsEnv(t)
	e.catalogue(150, "5")
	e.erp.fail = func(method string, n int) error {
		if method == "Product" && n == 3 {
			return blingError("GET /produtos/{id}", cazbling.KindServer)
		}
		return nil
	}
	cursor := func(stream string) bool {
		_, ok, err := e.store.Cursor(context.Background(), e.tenant.ID, stream)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	unlinked := func() []string {
		skus := []string{"ZERO", "NEG"}
		for i := range 150 {
			skus = append(skus, fmt.Sprintf("POS-%03d", i))
		}
		links, err := e.store.ProductLinksBySKU(context.Background(), e.tenant.ID, skus)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, sku := range skus {
			if links[sku].CazcoID == "" {
				out = append(out, sku)
			}
		}
		return out
	}

	if res := e.sync(Options{}); res.Status != cazbling.StatusError || res.Counts.Retry != 1 {
		t.Fatalf("first run %+v, want an error with one product left for later", res)
	}
	left := unlinked()
	if len(left) != 1 {
		t.Fatalf("after the first run %v are not in CaZco, want only the product whose read failed", left)
	}
	if cursor(cazbling.StreamProductsCreated) {
		t.Error("the walk set the products cursor though a product was left for later")
	}
	e.calls()

	e.erp.fail = nil
	if res := e.sync(Options{}); res.Status != cazbling.StatusOK {
		t.Fatalf("second run %+v", res)
	}
	if left := unlinked(); len(left) != 0 {
		t.Errorf("after the second run %v are not in CaZco", left)
	}
	if !cursor(cazbling.StreamProductsCreated) {
		t.Error("the finished walk did not set the products cursor")
	}
	if _, market := e.calls(); market["CreateProduct"] != 1 || market["UpdateProduct"] != 0 {
		t.Errorf("second run's CaZco calls %v, want 1 create (the product left over) and no update", market)
	}
}
