package flow

import (
	"context"
	"testing"

	"github.com/cazbling/cazbling/pkg/cazbling"
)

// A linked product Bling gives no balance for and no longer finds (404) is made
// inactive with stock 0 in CaZco, its link retired (no Bling id, so later sweeps leave
// it) and a product.retired row says so; a passing fault on the confirming read
// changes nothing until the next run.
func TestSweepStockRetiresDeletedProduct(t *testing.T) {
	e := newStockEnv(t)
	gone := e.add("GONE", true, 6, "6")
	e.add("KEPT", true, 3, "3")
	e.erp.mu.Lock()
	delete(e.erp.balances, gone)
	e.erp.products = e.erp.products[1:] // GONE is deleted in Bling
	e.erp.fail = func(method string, n int) error {
		if method == "Product" && n == 1 {
			return blingError("GET /produtos/{id}", cazbling.KindServer)
		}
		return nil
	}
	e.erp.mu.Unlock()

	e.run()
	if l := e.link("GONE"); l.BlingID != gone || e.stock("GONE") != 6 {
		t.Fatalf("retired on a passing fault: %+v", l)
	}
	res := e.run()
	l := e.link("GONE")
	if l.BlingID != 0 || l.CazcoID != "c-GONE" || l.Hash != "" || !l.StockKnown || l.StockSent != 0 {
		t.Fatalf("link after deletion: %+v", l)
	}
	e.market.mu.Lock()
	p := e.market.products["c-GONE"]
	e.market.mu.Unlock()
	if p.Status != "inactive" || p.Stock != 0 {
		t.Fatalf("CaZco product after deletion: %+v", p)
	}
	rows, err := e.store.Logs(context.Background(), cazbling.LogFilter{TenantID: e.tenant.ID, Key: "GONE", Entity: cazbling.EntityProduct})
	if err != nil || len(rows) != 1 || rows[0].Action != ActionRetired || rows[0].Code != "product.retired" || res.Status != cazbling.StatusWarning {
		t.Fatalf("rows %+v %v, result %+v", rows, err, res)
	}
	before := e.erp.Calls("Product")
	e.run()
	if e.erp.Calls("Product") != before {
		t.Error("a retired link was checked again")
	}
}

// A product sent to CaZco as inactive gets stock 0 from the sweep, whatever its Bling
// balance; active again, it gets its balance.
func TestSweepStockInactiveSendsZero(t *testing.T) {
	e := newStockEnv(t)
	e.add("OFF", true, 5, "5")
	e.links[len(e.links)-1].Inactive = true
	e.run()
	if got, l := e.stock("OFF"), e.link("OFF"); got != 0 || l.StockSent != 0 || !l.StockKnown {
		t.Fatalf("inactive product: CaZco stock %d, link %+v", got, l)
	}
	l := e.link("OFF")
	l.Inactive = false
	if err := e.store.Apply(context.Background(), cazbling.Batch{ProductLinks: []cazbling.ProductLink{l}}); err != nil {
		t.Fatal(err)
	}
	e.run()
	if got := e.stock("OFF"); got != 5 {
		t.Fatalf("active again: CaZco stock %d, want 5", got)
	}
}
