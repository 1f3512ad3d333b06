package flow

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/cazbling/cazbling/pkg/cazbling"
)

// productsEnv is one tenant with a real store, a fake Bling and a fake CaZco, for the
// products flow. The fake Bling lists every product in every window (it ignores
// dates), each under the stock class of its balance.
type productsEnv struct{ *stockEnv }

func newProductsEnv(t *testing.T) productsEnv { return productsEnv{newStockEnv(t)} }

// product adds a Bling product (not linked, not in CaZco) with a balance.
func (e productsEnv) product(sku, balance string) int64 {
	id := e.erp.AddProduct(sku, "Produto "+sku)
	v := decimal.RequireFromString(balance)
	e.erp.mu.Lock()
	e.erp.balances[id] = cazbling.StockBalance{ProductID: id, SKU: sku, PhysicalTotal: v, VirtualTotal: v}
	e.erp.mu.Unlock()
	return id
}

// catalogue adds n products POS-000… with the positive balance, and ZERO and NEG
// at zero and below: one of each stock class.
func (e productsEnv) catalogue(n int, balance string) {
	for i := range n {
		e.product(fmt.Sprintf("POS-%03d", i), balance)
	}
	e.product("ZERO", "0")
	e.product("NEG", "-2")
}

// activated adds n products, named by format and i, with balance, and activates the
// tenant over them (a full walk), which must end ok.
func (e productsEnv) activated(format string, n int, balance string) {
	e.t.Helper()
	for i := range n {
		e.product(fmt.Sprintf(format, i), balance)
	}
	if res := e.sync(Options{}); res.Status != cazbling.StatusOK {
		e.t.Fatalf("activation %+v", res)
	}
}

// inCazco puts a product in the CaZco store directly (made there by the seller).
func (e productsEnv) inCazco(id, sku string) {
	e.market.mu.Lock()
	defer e.market.mu.Unlock()
	e.market.products[id] = cazbling.MarketProduct{ID: id, SKU: sku, Name: "antigo"}
}

// sync runs the products flow once, after a minute, and returns its result.
func (e productsEnv) sync(opts Options) Result {
	e.t.Helper()
	e.clock.Advance(time.Minute)
	opts.Tenants = []string{e.tenant.ID}
	res, err := Run(context.Background(), e.deps(), cazbling.FlowProducts, opts, SyncProducts)
	if err != nil || len(res) != 1 {
		e.t.Fatalf("run: %v, %d results", err, len(res))
	}
	return res[0]
}

// calls returns the fakes' call counts since the last reset, and resets them.
func (e productsEnv) calls() (erp, market map[string]int) {
	e.erp.mu.Lock()
	erp, e.erp.calls = e.erp.calls, map[string]int{}
	e.erp.mu.Unlock()
	e.market.mu.Lock()
	market, e.market.calls = e.market.calls, map[string]int{}
	e.market.mu.Unlock()
	return erp, market
}

// productRows returns the products flow's log rows of the tenant since run, by key.
func (e productsEnv) productRows(runID int64) map[string][]cazbling.LogEntry {
	e.t.Helper()
	rows, err := e.store.Logs(context.Background(), cazbling.LogFilter{TenantID: e.tenant.ID, Entity: cazbling.EntityProduct})
	if err != nil {
		e.t.Fatal(err)
	}
	out := map[string][]cazbling.LogEntry{}
	for _, r := range rows {
		if r.RunID == runID {
			out[r.Key] = append(out[r.Key], r)
		}
	}
	return out
}

// sync-stock's sweep waits until the changed part has a product ready for CaZco, so
// the first CaZco write does not wait for balance reads sharing the Bling pace.
func TestSyncStockSweepStartsAfterFirstChangedProduct(t *testing.T) {
	e := newProductsEnv(t)
	e.activated("OLD-%02d", 30, "4")
	e.product("NEW", "2")
	var order []string
	e.erp.fail = func(method string, n int) error {
		order = append(order, method) // called with the fake's lock held
		return nil
	}
	e.clock.Advance(time.Minute)
	res, err := Run(context.Background(), e.deps(), cazbling.FlowStock, Options{Tenants: []string{e.tenant.ID}}, SyncStock)
	if err != nil || len(res) != 1 || res[0].Status != cazbling.StatusOK {
		t.Fatalf("sync-stock: %v %+v", err, res)
	}
	e.erp.mu.Lock()
	defer e.erp.mu.Unlock()
	firstRead, firstBalance := slices.Index(order, "Product"), slices.Index(order, "StockBalances")
	if firstRead < 0 || firstBalance < 0 || firstBalance < firstRead {
		t.Errorf("Bling calls in order %v: want the new product's detail read before the first balance read", order)
	}
	if l := e.link("NEW"); l.CazcoID == "" {
		t.Errorf("NEW link %+v, want created in CaZco", l)
	}
}

// A product the changed part of sync-stock creates in CaZco after the sweep has read
// the links gets its stock in the same run: the sweep alone would leave it at zero,
// with no row saying so, until the next run.
func TestSyncStockSetsStockOfProductsLinkedBehindTheSweep(t *testing.T) {
	e := newProductsEnv(t)
	e.activated("OLD-%02d", 30, "4")
	e.product("NEW", "2")
	swept := make(chan struct{})
	var once sync.Once
	e.erp.fail = func(method string, n int) error {
		if method == "StockBalances" {
			once.Do(func() { close(swept) }) // called with the fake's lock held: no waiting here
		}
		return nil
	}
	e.market.beforeCreate = func(sku string) {
		if sku == "NEW" {
			select { // the sweep has read every link it will see
			case <-swept:
			case <-time.After(10 * time.Second): // a safety net, not a measure: the test still checks the outcome
			}
		}
	}
	e.clock.Advance(time.Minute)
	res, err := Run(context.Background(), e.deps(), cazbling.FlowStock, Options{Tenants: []string{e.tenant.ID}}, SyncStock)
	if err != nil || len(res) != 1 || res[0].Status != cazbling.StatusOK {
		t.Fatalf("sync-stock: %v %+v", err, res)
	}
	l := e.link("NEW")
	if l.CazcoID == "" || !l.StockKnown || l.StockSent != 2 {
		t.Fatalf("NEW link %+v, want created in CaZco with stock 2 sent", l)
	}
	e.market.mu.Lock()
	got := e.market.products[l.CazcoID].Stock
	e.market.mu.Unlock()
	if got != 2 {
		t.Errorf("CaZco stock of NEW is %d, want 2", got)
	}
}

// A product with variations whose detail read failed leaves a retry row under its
// own SKU; once it is read, a skipped row under that SKU says the parent is not sold
// itself, so it is no longer shown as failing (the variations' rows are under theirs).
func TestVariationParentRetryIsClosed(t *testing.T) {
	e := newProductsEnv(t)
	id := e.product("CAM", "4")
	e.erp.mu.Lock()
	for i := range e.erp.products {
		p := &e.erp.products[i]
		if p.ID == id {
			p.Format = "V"
			p.Price = decimal.RequireFromString("59.90")
			for _, size := range []string{"P", "M"} {
				p.Variations = append(p.Variations, cazbling.ERPProduct{ERPProductSummary: cazbling.ERPProductSummary{
					ID: e.erp.id(), SKU: "CAM-" + size, Name: "Camiseta " + size, Type: "P", Status: "A", Format: "E", ParentID: id,
				}, VariationName: "Tamanho:" + size})
			}
		}
	}
	e.erp.fail = func(method string, n int) error {
		if method == "Product" {
			return blingError("GET /produtos/{id}", cazbling.KindServer)
		}
		return nil
	}
	e.erp.mu.Unlock()
	if res := e.sync(Options{Full: true}); res.Counts.Retry != 1 {
		t.Fatalf("faulty run: %+v, want the parent left for retry", res)
	}
	ctx := context.Background()
	if n, _ := e.store.FailingItems(ctx, e.tenant.ID); n != 1 {
		t.Fatalf("failing items after the faulty run: %d, want 1", n)
	}
	e.erp.mu.Lock()
	e.erp.fail = nil
	e.erp.mu.Unlock()
	res := e.sync(Options{Full: true})
	if res.Status != cazbling.StatusOK || res.Counts.Created != 2 || res.Counts.Skipped != 1 {
		t.Fatalf("next run: %+v, want 2 variations created and the parent skipped", res)
	}
	if n, err := e.store.FailingItems(ctx, e.tenant.ID); err != nil || n != 0 {
		t.Fatalf("failing items after the good run: %d (%v), want 0", n, err)
	}
}
