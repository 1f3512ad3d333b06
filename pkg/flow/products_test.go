package flow

import (
	"context"
	"fmt"
	"slices"
	"strings"
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

// The CaZco store is listed only when that saves look-ups: not when it is empty (every
// product is created directly), nor on a re-walk whose links cover the store (its new
// SKUs are looked up one by one).
func TestFullWalkListsTheStoreOnlyWhenItHelps(t *testing.T) {
	e := newProductsEnv(t)
	for i := range 5 {
		e.product(fmt.Sprintf("P-%d", i), "1")
	}
	if res := e.sync(Options{}); res.Status != cazbling.StatusOK {
		t.Fatalf("activation %+v", res)
	}
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

// A full walk interrupted between stock classes resumes with the next class; one
// checkpointed by an older version (no stock classes) is walked again from the start.
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
	if erp["ProductsPage"] != 2 || erp["Product"] != 2 || market["CreateProduct"] != 2 {
		t.Errorf("resumed run: Bling %v, CaZco %v; want the zero and negative pages, 2 reads, 2 creates", erp, market)
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

// sync-stock's sweep waits until the changed part has a product ready for CaZco, so
// the first CaZco write does not wait for balance reads sharing the Bling pace.
func TestSyncStockSweepStartsAfterFirstChangedProduct(t *testing.T) {
	e := newProductsEnv(t)
	for i := range 30 {
		e.product(fmt.Sprintf("OLD-%02d", i), "4")
	}
	if res := e.sync(Options{}); res.Status != cazbling.StatusOK {
		t.Fatalf("activation %+v", res)
	}
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
	for i := range 30 {
		e.product(fmt.Sprintf("OLD-%02d", i), "4")
	}
	if res := e.sync(Options{}); res.Status != cazbling.StatusOK {
		t.Fatalf("activation %+v", res)
	}
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
