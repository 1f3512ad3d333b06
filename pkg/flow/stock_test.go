package flow

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/cazbling/cazbling/pkg/cazbling"
	"github.com/cazbling/cazbling/pkg/store/sqlite"
)

// stockEnv is one tenant with a real store, a fake Bling and a fake CaZco, for the
// stock sweep.
type stockEnv struct {
	t      *testing.T
	clock  *testClock
	store  *sqlite.Store
	erp    *fakeERP
	market *fakeMarket
	tenant cazbling.Tenant
	links  []cazbling.ProductLink // added, not yet saved
}

func newStockEnv(t *testing.T) *stockEnv {
	t.Helper()
	clock := newTestClock(time.Date(2026, 3, 10, 15, 0, 0, 0, time.UTC))
	st, _ := openTestStore(t, clock.Now)
	e := &stockEnv{
		t: t, clock: clock, store: st, erp: newFakeERP(), market: newFakeMarket(),
		tenant: cazbling.Tenant{ID: "loja1", Status: cazbling.TenantActive, BlingURL: "http://bling.test", CazcoURL: "http://cazco.test"},
	}
	if err := st.UpsertTenant(context.Background(), e.tenant, nil); err != nil {
		t.Fatalf("save tenant: %v", err)
	}
	return e
}

// add makes a product linked on both sides: in Bling with balance, in CaZco with the
// stock last sent (when known), and its link. It returns the Bling id.
func (e *stockEnv) add(sku string, known bool, sent int64, balance string) int64 {
	id := e.erp.AddProduct(sku, "Produto "+sku)
	v := decimal.RequireFromString(balance)
	e.erp.mu.Lock()
	e.erp.balances[id] = cazbling.StockBalance{ProductID: id, SKU: sku, PhysicalTotal: v, VirtualTotal: v}
	e.erp.mu.Unlock()
	cazcoID := "c-" + sku
	e.market.mu.Lock()
	e.market.products[cazcoID] = cazbling.MarketProduct{ID: cazcoID, SKU: sku, Name: "Produto " + sku, Stock: sent}
	e.market.mu.Unlock()
	e.links = append(e.links, cazbling.ProductLink{
		TenantID: e.tenant.ID, SKU: sku, BlingID: id, CazcoID: cazcoID, Hash: "h",
		StockSent: sent, StockKnown: known, UpdatedAt: e.clock.Now(),
	})
	return id
}

// run saves the links added so far and sweeps the stock once.
func (e *stockEnv) run() Result {
	e.t.Helper()
	if len(e.links) > 0 {
		if err := e.store.Apply(context.Background(), cazbling.Batch{ProductLinks: e.links}); err != nil {
			e.t.Fatalf("save links: %v", err)
		}
		e.links = nil
	}
	res, err := Run(context.Background(), e.deps(), cazbling.FlowStock, Options{Tenants: []string{e.tenant.ID}}, SweepStock)
	if err != nil {
		e.t.Fatalf("run: %v", err)
	}
	if len(res) != 1 {
		e.t.Fatalf("run: %d results, want 1", len(res))
	}
	return res[0]
}

// deps wires the env's store and fakes for Run.
func (e *stockEnv) deps() Deps {
	return Deps{
		Store:  e.store,
		ERP:    func(cazbling.Tenant) (cazbling.ERP, error) { return e.erp, nil },
		Market: func(cazbling.Tenant) (cazbling.Marketplace, error) { return e.market, nil },
		Now:    e.clock.Now,
		Holder: "test",
	}
}

// link returns the stored link of sku.
func (e *stockEnv) link(sku string) cazbling.ProductLink {
	e.t.Helper()
	got, err := e.store.ProductLinksBySKU(context.Background(), e.tenant.ID, []string{sku})
	if err != nil {
		e.t.Fatal(err)
	}
	l, ok := got[sku]
	if !ok {
		e.t.Fatalf("no link for %s", sku)
	}
	return l
}

// stock returns CaZco's stock of sku.
func (e *stockEnv) stock(sku string) int64 {
	e.market.mu.Lock()
	defer e.market.mu.Unlock()
	return e.market.products["c-"+sku].Stock
}

// logs returns the stock flow's log rows of the tenant, by SKU.
func (e *stockEnv) logs() map[string][]cazbling.LogEntry {
	e.t.Helper()
	rows, err := e.store.Logs(context.Background(), cazbling.LogFilter{TenantID: e.tenant.ID, Flow: cazbling.FlowStock, Entity: cazbling.EntityStock})
	if err != nil {
		e.t.Fatal(err)
	}
	out := make(map[string][]cazbling.LogEntry)
	for _, r := range rows {
		out[r.Key] = append(out[r.Key], r)
	}
	return out
}

func TestSweepStockPoolsReadsByClass(t *testing.T) {
	for _, tc := range []struct {
		name     string
		products int
		zeroPage int  // the first zeroPage products of each 100 were last sent 0 and are still at 0
		negative bool // one more product went from 4 to -1
		unknown  bool // no level was ever sent (all balances positive)
		reads    int
		writes   int // quantities written to CaZco
	}{
		// 100 links a page: 5 pages with 6 zeros each (30), 470 positive. 4 full
		// positive reads while walking, the last 70 positive and the 30 zero at the end.
		{name: "500 with 30 zero", products: 500, zeroPage: 6, reads: 6},
		// The negative one is asked as positive, then joins the zero read, then needs
		// one negative read of its own.
		{name: "500 with 30 zero, one gone negative", products: 500, zeroPage: 6, negative: true, reads: 7, writes: 1},
		{name: "5000 with 50 zero", products: 5000, zeroPage: 1, reads: 51},
		{name: "250 never sent", products: 250, unknown: true, reads: 3, writes: 250},
		{name: "nothing linked", products: 0, reads: 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newStockEnv(t)
			for i := range tc.products {
				sku := fmt.Sprintf("SKU%05d", i)
				switch {
				case tc.unknown:
					e.add(sku, false, 0, "8")
				case i%100 < tc.zeroPage:
					e.add(sku, true, 0, "0")
				default:
					e.add(sku, true, 12, "12")
				}
			}
			if tc.negative {
				e.add("NEG", true, 4, "-1")
			}
			// A link without a CaZco id is not swept.
			e.links = append(e.links, cazbling.ProductLink{TenantID: e.tenant.ID, SKU: "ONLY-BLING", BlingID: 999999, Hash: "h", UpdatedAt: e.clock.Now()})
			res := e.run()
			if got := e.erp.Calls("StockBalances"); got != tc.reads {
				t.Errorf("%d StockBalances calls, want %d", got, tc.reads)
			}
			if res.Counts.StockSet != tc.writes {
				t.Errorf("%d stock levels set, want %d (result %+v)", res.Counts.StockSet, tc.writes, res)
			}
			wantStatus := cazbling.StatusOK
			if tc.negative {
				wantStatus = cazbling.StatusWarning
				if got := e.stock("NEG"); got != 0 {
					t.Errorf("CaZco stock of NEG = %d, want 0", got)
				}
			}
			if res.Status != wantStatus {
				t.Errorf("status %s (%s), want %s", res.Status, res.Message, wantStatus)
			}
			if tc.unknown {
				for _, sku := range []string{"SKU00000", "SKU00249"} {
					if l := e.link(sku); !l.StockKnown || l.StockSent != 8 || e.stock(sku) != 8 {
						t.Errorf("%s: link %+v, CaZco stock %d; want 8 sent", sku, l, e.stock(sku))
					}
				}
			}
		})
	}
}

func TestSweepStockClassChanged(t *testing.T) {
	e := newStockEnv(t)
	type want struct {
		stock  int64
		status string // of the stock_set row; "" when nothing is written
		note   string // in its message
	}
	cases := map[string]struct {
		known   bool
		sent    int64
		balance string
		want    want
	}{
		"POS-TO-ZERO":     {true, 5, "0", want{0, cazbling.StatusOK, "stock set to 0 (was 5)"}},
		"ZERO-TO-POS":     {true, 0, "7", want{7, cazbling.StatusOK, "stock set to 7 (was 0)"}},
		"POS-TO-NEG":      {true, 3, "-2", want{0, cazbling.StatusWarning, "balance is -2 (negative); sent as 0"}},
		"NEW-AT-ZERO":     {false, 0, "0", want{0, cazbling.StatusOK, "stock set to 0"}},
		"NEW-NEG":         {false, 0, "-4.5", want{0, cazbling.StatusWarning, "balance is -4.5 (negative); sent as 0"}},
		"POS-FRACTION":    {true, 2, "2.75", want{2, "", ""}},
		"POS-SAME":        {true, 4, "4", want{4, "", ""}},
		"ZERO-SAME":       {true, 0, "0", want{0, "", ""}},
		"ZERO-STILL-NEG":  {true, 0, "-1", want{0, "", ""}},
		"POS-TO-FRACTION": {true, 1, "0.5", want{0, cazbling.StatusOK, "stock set to 0 (was 1)"}},
	}
	for sku, c := range cases {
		e.add(sku, c.known, c.sent, c.balance)
	}
	res := e.run()
	if res.Status != cazbling.StatusWarning {
		t.Errorf("status %s (%s), want warning", res.Status, res.Message)
	}
	logs := e.logs()
	for sku, c := range cases {
		if got := e.stock(sku); got != c.want.stock {
			t.Errorf("%s: CaZco stock %d, want %d", sku, got, c.want.stock)
		}
		l := e.link(sku)
		if c.want.status == "" {
			if len(logs[sku]) != 0 {
				t.Errorf("%s: log rows %+v, want none", sku, logs[sku])
			}
			if l.StockKnown != c.known || l.StockSent != c.sent {
				t.Errorf("%s: link %+v changed", sku, l)
			}
			continue
		}
		if !l.StockKnown || l.StockSent != c.want.stock {
			t.Errorf("%s: link sent %d known %v, want %d known", sku, l.StockSent, l.StockKnown, c.want.stock)
		}
		rows := logs[sku]
		if len(rows) != 1 || rows[0].Action != cazbling.ActionStockSet || rows[0].Status != c.want.status || !strings.Contains(rows[0].Message, c.want.note) {
			t.Errorf("%s: log rows %+v, want one %s stock_set saying %q", sku, rows, c.want.status, c.want.note)
		}
	}
	// Positive queue (POS-*, NEW-*) and zero queue (ZERO-*) are read at the end. The
	// positive call has room, so it asks for the ZERO-* products too (ZERO-TO-POS is
	// answered there, not by a second positive call); its misses go on to zero, and
	// zero's to negative: positive, zero, negative.
	if got := e.erp.Calls("StockBalances"); got != 3 {
		t.Errorf("%d StockBalances calls, want 3", got)
	}
	if got := e.market.Calls("SetStockBatch"); got != 1 {
		t.Errorf("%d SetStockBatch calls, want 1", got)
	}
}

func TestSweepStockNoBalanceInAnyClass(t *testing.T) {
	e := newStockEnv(t)
	gone := e.add("GONE", true, 6, "6")
	for i := range 150 {
		e.add(fmt.Sprintf("SKU%03d", i), true, 3, "9")
	}
	e.erp.mu.Lock()
	delete(e.erp.balances, gone)
	e.erp.mu.Unlock()
	res := e.run()
	if res.Status != cazbling.StatusWarning || res.Counts.Warnings != 1 || res.Counts.Skipped != 1 || res.Counts.StockSet != 150 {
		t.Errorf("result %+v, want one warning, 150 set", res)
	}
	rows := e.logs()["GONE"]
	want := fmt.Sprintf("Bling returned no balance for product %d (SKU GONE), which still exists in Bling (situacao A); CaZco stock left as it is", gone)
	if len(rows) != 1 || rows[0].Action != cazbling.ActionSkipped || rows[0].Status != cazbling.StatusWarning || rows[0].Message != want {
		t.Errorf("rows of GONE = %+v, want one skipped warning %q", rows, want)
	}
	if got, l := e.stock("GONE"), e.link("GONE"); got != 6 || !l.StockKnown || l.StockSent != 6 {
		t.Errorf("GONE: CaZco stock %d, link %+v; want both left at 6", got, l)
	}
	if got := e.stock("SKU149"); got != 9 {
		t.Errorf("SKU149: CaZco stock %d, want 9", got)
	}
	// Positive: a full read (GONE and SKU000-098) and the last 51; then zero and
	// negative for GONE alone.
	if got := e.erp.Calls("StockBalances"); got != 4 {
		t.Errorf("%d StockBalances calls, want 4", got)
	}
}

func TestSweepStockReadErrors(t *testing.T) {
	for _, tc := range []struct {
		name        string
		kind        cazbling.ErrorKind
		cause       error // the APIError's underlying error, if any
		stops       bool  // the tenant stops: nothing after the failed call
		retryFailed bool  // the failed call's products get retry-later rows
	}{
		{name: "server error", kind: cazbling.KindServer, retryFailed: true},
		{name: "validation error", kind: cazbling.KindValidation, retryFailed: true},
		{name: "daily quota", kind: cazbling.KindDailyQuota, stops: true},
		{name: "rate limit still hit after the client's retries", kind: cazbling.KindRateLimited, stops: true},
		{name: "unauthorized", kind: cazbling.KindUnauthorized, stops: true},
		{name: "connection refused after the client's retries", kind: cazbling.KindNetwork, cause: errors.New("connection refused"), retryFailed: true},
		{name: "no answer in time after the client's retries", kind: cazbling.KindNetwork, cause: timeoutErr{}, stops: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newStockEnv(t)
			for i := range 250 {
				e.add(fmt.Sprintf("SKU%03d", i), false, 0, "10")
			}
			e.erp.fail = func(method string, n int) error {
				if method == "StockBalances" && n == 2 {
					err := blingError("GET /estoques/saldos", tc.kind).(*cazbling.APIError)
					err.Err = tc.cause
					return err
				}
				return nil
			}
			res := e.run()
			if res.Status != cazbling.StatusError {
				t.Errorf("status %s, want error", res.Status)
			}
			logs := e.logs()
			// Pages of 100 links: call 1 reads SKU000-099, call 2 SKU100-199, call 3
			// (after the walk) SKU200-249.
			for i := range 250 {
				sku := fmt.Sprintf("SKU%03d", i)
				inFailed := i >= 100 && i < 200
				written := !inFailed && !(tc.stops && i >= 100)
				if tc.stops && i < 100 {
					written = true // read and written before the failing call
				}
				if got := e.stock(sku); written != (got == 10) {
					t.Errorf("%s: CaZco stock %d, written %v", sku, got, written)
				}
				if l := e.link(sku); written != (l.StockKnown && l.StockSent == 10) {
					t.Errorf("%s: link %+v, written %v", sku, l, written)
				}
				rows := logs[sku]
				switch {
				case inFailed && tc.retryFailed:
					if len(rows) != 1 || rows[0].Action != ActionRetryLater || !strings.Contains(rows[0].Message, "checked again on the next run") {
						t.Errorf("%s: rows %+v, want one retry_later", sku, rows)
					}
				case written:
					if len(rows) != 1 || rows[0].Action != cazbling.ActionStockSet {
						t.Errorf("%s: rows %+v, want one stock_set", sku, rows)
					}
				default:
					if len(rows) != 0 {
						t.Errorf("%s: rows %+v, want none", sku, rows)
					}
				}
			}
			wantCalls := 3
			if tc.stops {
				wantCalls = 2
			}
			if got := e.erp.Calls("StockBalances"); got != wantCalls {
				t.Errorf("%d StockBalances calls, want %d", got, wantCalls)
			}
			if tc.retryFailed && (res.Counts.Retry != 100 || res.Counts.StockSet != 150) {
				t.Errorf("counts %+v, want 100 retry, 150 set", res.Counts)
			}
		})
	}
}

// pageCountingStore counts the pages of product links read.
type pageCountingStore struct {
	cazbling.Store
	pages atomic.Int64
}

func (s *pageCountingStore) ProductLinks(ctx context.Context, tenantID, afterSKU string, limit int) ([]cazbling.ProductLink, error) {
	s.pages.Add(1)
	return s.Store.ProductLinks(ctx, tenantID, afterSKU, limit)
}

func TestSweepStockReadsAsItWalks(t *testing.T) {
	e := newStockEnv(t)
	for i := range 3000 {
		if i%100 == 0 {
			e.add(fmt.Sprintf("SKU%05d", i), true, 0, "0")
		} else {
			e.add(fmt.Sprintf("SKU%05d", i), true, 2, "2")
		}
	}
	if err := e.store.Apply(context.Background(), cazbling.Batch{ProductLinks: e.links}); err != nil {
		t.Fatal(err)
	}
	e.links = nil
	counting := &pageCountingStore{Store: e.store}
	var late []string
	e.erp.fail = func(method string, n int) error {
		// 99 positive links a page: the nth full positive read needs at most n+1 pages,
		// so the sweep never holds much more than a page or two of links.
		if p := counting.pages.Load(); method == "StockBalances" && n <= 29 && p > int64(n)+1 {
			late = append(late, fmt.Sprintf("read %d after %d pages", n, p))
		}
		return nil
	}
	d := Deps{
		Store:  counting,
		ERP:    func(cazbling.Tenant) (cazbling.ERP, error) { return e.erp, nil },
		Market: func(cazbling.Tenant) (cazbling.Marketplace, error) { return e.market, nil },
		Now:    e.clock.Now,
		Holder: "test",
	}
	res, err := Run(context.Background(), d, cazbling.FlowStock, Options{Tenants: []string{e.tenant.ID}}, SweepStock)
	if err != nil || len(res) != 1 || res[0].Status != cazbling.StatusOK {
		t.Fatalf("run: %+v, %v", res, err)
	}
	if len(late) > 0 {
		t.Errorf("balances read late: %v", late)
	}
	// 2,970 positive: 29 full reads and one of 70; the 30 zero in one.
	if got := e.erp.Calls("StockBalances"); got != 31 {
		t.Errorf("%d StockBalances calls, want 31", got)
	}
}

// A balance that could not be read leaves a retry row; the next run, finding it
// unchanged, still writes it (the level was forgotten), so the item is no longer
// shown as failing. Without that the row would stay the item's newest forever.
func TestSweepStockClosesTheRetryOfAnUnchangedBalance(t *testing.T) {
	e := newStockEnv(t)
	e.add("A-1", true, 5, "5")
	e.add("B-2", true, 3, "3")
	e.erp.fail = func(method string, n int) error {
		if method == "StockBalances" {
			return blingError("GET /estoques/saldos", cazbling.KindServer)
		}
		return nil
	}
	if res := e.run(); res.Counts.Retry != 2 {
		t.Fatalf("failing run: %+v, want 2 left for retry", res)
	}
	ctx := context.Background()
	if n, err := e.store.FailingItems(ctx, e.tenant.ID); err != nil || n != 2 {
		t.Fatalf("failing items after the faulty run: %d (%v), want 2", n, err)
	}
	e.erp.fail = nil
	res := e.run()
	if res.Status != cazbling.StatusOK || res.Counts.StockSet != 2 {
		t.Fatalf("next run: %+v, want both levels written again", res)
	}
	if n, err := e.store.FailingItems(ctx, e.tenant.ID); err != nil || n != 0 {
		t.Fatalf("failing items after the good run: %d (%v), want 0", n, err)
	}
	if e.stock("A-1") != 5 || e.stock("B-2") != 3 {
		t.Errorf("CaZco stock A-1 %d, B-2 %d; want 5, 3", e.stock("A-1"), e.stock("B-2"))
	}
	// And then nothing: the levels are known again.
	if res := e.run(); res.Counts.StockSet != 0 {
		t.Errorf("third run wrote %d levels, want 0", res.Counts.StockSet)
	}
}
