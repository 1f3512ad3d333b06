package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/cazbling/cazbling/pkg/cazbling"
	"github.com/cazbling/cazbling/pkg/store"
)

func testLeases(t *testing.T, b Backend) {
	ctx := context.Background()
	s, clk := b.openTest(t)
	addTenant(t, s, "acme")
	acquire := func(holder string) bool {
		t.Helper()
		ok, err := s.AcquireLease(ctx, "acme", cazbling.FlowOrders, holder, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	release := func(holder string) {
		t.Helper()
		if err := s.ReleaseLease(ctx, "acme", cazbling.FlowOrders, holder); err != nil {
			t.Fatal(err)
		}
	}
	if !acquire("a") {
		t.Fatal("a could not take a free lease")
	}
	if acquire("b") {
		t.Fatal("b took a lease a holds")
	}
	ok, err := s.AcquireLease(ctx, "acme", cazbling.FlowStock, "b", time.Minute)
	if err != nil || !ok {
		t.Fatalf("b could not take another flow's lease: %v", err)
	}
	clk.Add(50 * time.Second)
	if !acquire("a") {
		t.Fatal("a could not renew")
	}
	clk.Add(50 * time.Second) // within the renewed term
	if acquire("b") {
		t.Fatal("b took a renewed lease")
	}
	clk.Add(10 * time.Second) // expired now
	if !acquire("b") {
		t.Fatal("b could not take an expired lease")
	}
	release("a") // not the holder: no-op
	if acquire("c") {
		t.Fatal("release by a non-holder freed the lease")
	}
	release("b")
	if !acquire("c") {
		t.Fatal("c could not take a released lease")
	}
}

func testApplyWritesEverythingOrNothing(t *testing.T, b Backend) {
	ctx := context.Background()
	s, clk := b.openTest(t)
	addTenant(t, s, "acme")

	bad := cazbling.Batch{
		ProductLinks: []cazbling.ProductLink{{TenantID: "acme", SKU: "A1", BlingID: 1, CazcoID: "c1"}},
		OrderLinks:   []cazbling.OrderLink{{TenantID: "acme", CazcoID: "o1", State: cazbling.OrderCreating}},
		Logs:         []cazbling.LogEntry{{TenantID: "ghost", Flow: cazbling.FlowProducts, Key: "A1"}}, // no such tenant
		Cursors:      []cazbling.Cursor{{TenantID: "acme", Stream: cazbling.StreamProductsCreated, Value: "2026-03-01T00:00:00Z"}},
	}
	if err := s.Apply(ctx, bad); err == nil {
		t.Fatal("batch with a constraint violation was accepted")
	}
	if _, found, _ := s.ProductLink(ctx, "acme", "A1"); found {
		t.Error("product link of a failed batch was saved")
	}
	if _, found, _ := s.OrderLink(ctx, "acme", "o1"); found {
		t.Error("order link of a failed batch was saved")
	}
	if _, found, _ := s.Cursor(ctx, "acme", cazbling.StreamProductsCreated); found {
		t.Error("cursor of a failed batch moved")
	}

	good := bad
	good.Logs = []cazbling.LogEntry{{TenantID: "acme", Flow: cazbling.FlowProducts, Key: "A1", Status: cazbling.StatusOK}}
	good.OrderLinks = []cazbling.OrderLink{{TenantID: "acme", CazcoID: "o1", Number: "1001", BlingID: 55,
		State: cazbling.OrderFailed, Attempts: 2, NextAttempt: clk.Now().Add(time.Hour), LastError: "unknown SKU"}}
	if err := s.Apply(ctx, good); err != nil {
		t.Fatal(err)
	}
	pl, found, err := s.ProductLink(ctx, "acme", "A1")
	if err != nil || !found || pl.BlingID != 1 || pl.CazcoID != "c1" || !pl.UpdatedAt.Equal(clk.Now()) {
		t.Errorf("product link = %+v, %v, %v", pl, found, err)
	}
	ol, found, err := s.OrderLink(ctx, "acme", "o1")
	want := good.OrderLinks[0]
	want.UpdatedAt = clk.Now()
	if err != nil || !found || ol != want {
		t.Errorf("order link = %+v, want %+v (%v)", ol, want, err)
	}
	if v, found, _ := s.Cursor(ctx, "acme", cazbling.StreamProductsCreated); !found || v != "2026-03-01T00:00:00Z" {
		t.Errorf("cursor = %q, %v", v, found)
	}
	logs, _ := s.Logs(ctx, cazbling.LogFilter{})
	if len(logs) != 1 || !logs[0].Time.Equal(clk.Now()) {
		t.Errorf("logs = %+v, want one row at now", logs)
	}

	// Upserts replace, each in its own columns: a product link upsert leaves the stock
	// last sent alone, a stock level touches nothing else.
	clk.Add(time.Minute)
	before, _, _ := s.ProductLink(ctx, "acme", "A1")
	err = s.Apply(ctx, cazbling.Batch{
		ProductLinks: []cazbling.ProductLink{{TenantID: "acme", SKU: "A1", BlingID: 1, CazcoID: "c1", Hash: "h2", StockSent: 99, StockKnown: !before.StockKnown}},
		Cursors:      []cazbling.Cursor{{TenantID: "acme", Stream: cazbling.StreamProductsCreated, Value: "later"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	pl, _, _ = s.ProductLink(ctx, "acme", "A1")
	if pl.Hash != "h2" || pl.StockSent != before.StockSent || pl.StockKnown != before.StockKnown || !pl.UpdatedAt.Equal(clk.Now()) {
		t.Errorf("updated link = %+v (before %+v)", pl, before)
	}
	err = s.Apply(ctx, cazbling.Batch{StockLevels: []cazbling.ProductLink{
		{TenantID: "acme", SKU: "A1", StockSent: 5, StockKnown: true, Hash: "ignored", CazcoID: "ignored"},
		{TenantID: "acme", SKU: "NO-SUCH-SKU", StockSent: 1, StockKnown: true},
	}})
	if err != nil {
		t.Fatal(err)
	}
	pl, _, _ = s.ProductLink(ctx, "acme", "A1")
	if pl.Hash != "h2" || pl.CazcoID != "c1" || pl.StockSent != 5 || !pl.StockKnown {
		t.Errorf("link after a stock level = %+v", pl)
	}
	if _, found, _ := s.ProductLink(ctx, "acme", "NO-SUCH-SKU"); found {
		t.Error("a stock level created a link")
	}
	cs, err := s.Cursors(ctx, "acme")
	if err != nil || len(cs) != 1 || cs[0].Value != "later" {
		t.Errorf("cursors = %+v, %v", cs, err)
	}
	if err := s.Apply(ctx, cazbling.Batch{}); err != nil {
		t.Errorf("empty batch: %v", err)
	}
}

func testProductLinksPagingAndLookup(t *testing.T, b Backend) {
	ctx := context.Background()
	s, _ := b.openTest(t)
	addTenant(t, s, "acme")
	addTenant(t, s, "other")
	var batch cazbling.Batch
	const n = 1201
	for i := range n {
		batch.ProductLinks = append(batch.ProductLinks, cazbling.ProductLink{TenantID: "acme", SKU: fmt.Sprintf("SKU-%04d", i), BlingID: int64(i + 1)})
	}
	batch.ProductLinks = append(batch.ProductLinks, cazbling.ProductLink{TenantID: "other", SKU: "SKU-0000", BlingID: 999})
	if err := s.Apply(ctx, batch); err != nil {
		t.Fatal(err)
	}
	if got, err := s.CountProductLinks(ctx, "acme"); err != nil || got != n {
		t.Errorf("count = %d, %v", got, err)
	}
	var all []string
	after := ""
	for {
		page, err := s.ProductLinks(ctx, "acme", after, 500)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		for _, l := range page {
			all = append(all, l.SKU)
		}
		after = page[len(page)-1].SKU
	}
	if len(all) != n || all[0] != "SKU-0000" || all[n-1] != fmt.Sprintf("SKU-%04d", n-1) {
		t.Errorf("paged %d links, first %v", len(all), all[:1])
	}
	for i := 1; i < len(all); i++ {
		if all[i-1] >= all[i] {
			t.Fatalf("pages out of order at %d: %s, %s", i, all[i-1], all[i])
		}
	}

	skus := []string{"missing"}
	for i := 0; i < n; i += 2 {
		skus = append(skus, fmt.Sprintf("SKU-%04d", i))
	}
	got, err := s.ProductLinksBySKU(ctx, "acme", skus)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(skus)-1 {
		t.Errorf("found %d links, want %d", len(got), len(skus)-1)
	}
	if l := got["SKU-0000"]; l.BlingID != 1 || l.TenantID != "acme" {
		t.Errorf("SKU-0000 = %+v (another tenant's link?)", l)
	}
	if _, ok := got["missing"]; ok {
		t.Error("missing SKU found")
	}
}

func testOrderLinksByStateAndCounts(t *testing.T, b Backend) {
	ctx := context.Background()
	s, clk := b.openTest(t)
	addTenant(t, s, "acme")
	now := clk.Now()
	err := s.Apply(ctx, cazbling.Batch{OrderLinks: []cazbling.OrderLink{
		{TenantID: "acme", CazcoID: "o3", State: cazbling.OrderFailed, NextAttempt: now.Add(2 * time.Hour)},
		{TenantID: "acme", CazcoID: "o1", State: cazbling.OrderFailed, NextAttempt: now.Add(time.Hour)},
		{TenantID: "acme", CazcoID: "o2", State: cazbling.OrderCreated, BlingID: 7},
		{TenantID: "acme", CazcoID: "o4", State: cazbling.OrderCreating},
	}})
	if err != nil {
		t.Fatal(err)
	}
	failed, err := s.OrderLinksByState(ctx, "acme", cazbling.OrderFailed)
	if err != nil || len(failed) != 2 || failed[0].CazcoID != "o1" || failed[1].CazcoID != "o3" {
		t.Errorf("failed = %+v, %v", failed, err)
	}
	counts, err := s.CountOrderLinks(ctx, "acme")
	want := map[cazbling.OrderLinkState]int{cazbling.OrderFailed: 2, cazbling.OrderCreated: 1, cazbling.OrderCreating: 1}
	if err != nil || fmt.Sprint(counts) != fmt.Sprint(want) {
		t.Errorf("counts = %v, want %v (%v)", counts, want, err)
	}
}

// Order links are found by order number, in chunks past a backend's parameter limit,
// only the tenant's own.
func testOrderLinksByNumber(t *testing.T, b Backend) {
	ctx := context.Background()
	s, _ := b.openTest(t)
	addTenant(t, s, "acme")
	addTenant(t, s, "other")
	var links []cazbling.OrderLink
	var numbers []string
	for i := range 1200 {
		n := fmt.Sprint(5000 + i)
		links = append(links, cazbling.OrderLink{TenantID: "acme", CazcoID: fmt.Sprintf("o%04d", i), Number: n, State: cazbling.OrderCreated, BlingID: int64(i + 1)})
		if i%2 == 0 {
			numbers = append(numbers, n)
		}
	}
	links = append(links, cazbling.OrderLink{TenantID: "other", CazcoID: "x", Number: "5000", State: cazbling.OrderCreated, BlingID: 9})
	if err := s.Apply(ctx, cazbling.Batch{OrderLinks: links}); err != nil {
		t.Fatal(err)
	}
	got, err := s.OrderLinksByNumber(ctx, "acme", append(numbers, "no-such"))
	if err != nil || len(got) != 600 {
		t.Fatalf("%d links (%v), want 600", len(got), err)
	}
	for _, l := range got {
		if l.TenantID != "acme" || (l.BlingID-1)%2 != 0 {
			t.Fatalf("unexpected link %+v", l)
		}
	}
	if got, err := s.OrderLinksByNumber(ctx, "acme", nil); err != nil || len(got) != 0 {
		t.Errorf("no numbers: %v %v", got, err)
	}
}

// testLeaseRaceHasOneWinner has several handles (as several hosts would) try to take
// the same free lease at once: exactly one may win.
func testLeaseRaceHasOneWinner(t *testing.T, b Backend) {
	ctx := context.Background()
	loc := b.New(t)
	clk := newClock()
	first := openAt(t, loc, TestKey(1), clk)
	addTenant(t, first, "acme")
	const handles = 6
	stores := []store.Store{first}
	for range handles - 1 {
		stores = append(stores, openAt(t, loc, TestKey(1), clk))
	}
	for round := range 5 {
		var (
			wg    sync.WaitGroup
			won   = make([]bool, handles)
			errs  = make([]error, handles)
			start = make(chan struct{})
		)
		for i, s := range stores {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				won[i], errs[i] = s.AcquireLease(ctx, "acme", cazbling.FlowOrders, fmt.Sprintf("host-%d", i), time.Minute)
			}()
		}
		close(start)
		wg.Wait()
		winners := 0
		for i := range handles {
			if errs[i] != nil {
				t.Fatalf("round %d, handle %d: %v", round, i, errs[i])
			}
			if won[i] {
				winners++
			}
		}
		if winners != 1 {
			t.Fatalf("round %d: %d handles took the lease, want 1", round, winners)
		}
		clk.Add(2 * time.Minute) // the winner's lease lapses: the next round races again
	}
}

// The lease's generation is its fencing number: the same while its holder renews, one
// more on every change of holder (a takeover after expiry, or after a release), and a
// holder whose lease was taken cannot get it back by renewing.
func testLeaseGenerationFences(t *testing.T, b Backend) {
	ctx := context.Background()
	s, clk := b.openTest(t)
	advance := clk.Add
	if err := s.UpsertTenant(ctx, cazbling.Tenant{ID: "acme"}, nil); err != nil {
		t.Fatal(err)
	}
	take := func(holder string) (int64, bool) {
		t.Helper()
		g, ok, err := s.LeaseGeneration(ctx, "acme", cazbling.FlowOrders, holder, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		return g, ok
	}
	g1, ok := take("host-a")
	if !ok || g1 != 1 {
		t.Fatalf("first take: %d %v", g1, ok)
	}
	advance(30 * time.Second)
	if g, ok := take("host-a"); !ok || g != g1 {
		t.Fatalf("renewal: generation %d (%v), want %d", g, ok, g1)
	}
	advance(2 * time.Minute) // host-a stalls; its lease lapses
	g2, ok := take("host-b")
	if !ok || g2 != g1+1 {
		t.Fatalf("takeover: generation %d (%v), want %d", g2, ok, g1+1)
	}
	if _, ok := take("host-a"); ok {
		t.Fatal("the stalled holder renewed a lease another host took over")
	}
	if err := s.ReleaseLease(ctx, "acme", cazbling.FlowOrders, "host-a"); err != nil {
		t.Fatal(err)
	}
	if _, ok := take("host-c"); ok {
		t.Fatal("a release by the old holder freed the new holder's lease")
	}
	if err := s.ReleaseLease(ctx, "acme", cazbling.FlowOrders, "host-b"); err != nil {
		t.Fatal(err)
	}
	if g3, ok := take("host-c"); !ok || g3 != g2+1 {
		t.Fatalf("take after release: generation %d (%v), want %d", g3, ok, g2+1)
	}
}

// A fenced batch is written only while its holder holds the lease: not by a holder
// whose lease lapsed and was taken, not after a release, not without a lease; and then
// nothing of it is written.
func testFencedBatches(t *testing.T, b Backend) {
	ctx := context.Background()
	s, clk := b.openTest(t)
	addTenant(t, s, "acme")
	fenced := func(holder, value string) cazbling.Batch {
		return cazbling.Batch{
			Cursors: []cazbling.Cursor{{TenantID: "acme", Stream: cazbling.StreamProductsChanged, Value: value}},
			Logs: []cazbling.LogEntry{{Time: clk.Now(), TenantID: "acme", Flow: cazbling.FlowStock, Entity: cazbling.EntityProduct,
				Key: "SKU-" + value, Action: cazbling.ActionUpdated, Status: cazbling.StatusOK, Message: "by " + holder}},
			Fence: &cazbling.Fence{TenantID: "acme", Flow: cazbling.FlowStock, Holder: holder},
		}
	}
	cursor := func() string {
		t.Helper()
		v, _, err := s.Cursor(ctx, "acme", cazbling.StreamProductsChanged)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	lost := func(err error, what string) {
		t.Helper()
		if !errors.Is(err, cazbling.ErrLeaseLost) {
			t.Fatalf("%s: error %v, want ErrLeaseLost", what, err)
		}
	}
	lost(s.Apply(ctx, fenced("a", "1")), "no lease taken")
	if ok, err := s.AcquireLease(ctx, "acme", cazbling.FlowStock, "a", time.Minute); err != nil || !ok {
		t.Fatalf("a takes the lease: %v %v", ok, err)
	}
	if err := s.Apply(ctx, fenced("a", "2")); err != nil || cursor() != "2" {
		t.Fatalf("the holder's batch: %v, cursor %q", err, cursor())
	}
	lost(s.Apply(ctx, fenced("b", "3")), "a batch of another holder")
	clk.Add(2 * time.Minute) // a stalls; its lease lapses, b takes it
	if ok, err := s.AcquireLease(ctx, "acme", cazbling.FlowStock, "b", time.Minute); err != nil || !ok {
		t.Fatalf("b takes the lapsed lease: %v %v", ok, err)
	}
	lost(s.Apply(ctx, fenced("a", "4")), "the stalled holder after the takeover")
	if err := s.Apply(ctx, fenced("b", "5")); err != nil {
		t.Fatal(err)
	}
	if err := s.ReleaseLease(ctx, "acme", cazbling.FlowStock, "b"); err != nil {
		t.Fatal(err)
	}
	lost(s.Apply(ctx, fenced("b", "6")), "after the release")
	if got := cursor(); got != "5" {
		t.Fatalf("cursor %q, want the last fenced batch that held its lease (5)", got)
	}
	rows, err := s.Logs(ctx, cazbling.LogFilter{TenantID: "acme"})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if r.Key == "SKU-1" || r.Key == "SKU-3" || r.Key == "SKU-4" || r.Key == "SKU-6" {
			t.Errorf("a refused batch wrote its log row %+v", r)
		}
	}
	if len(rows) != 2 {
		t.Errorf("%d log rows, want the 2 of the batches that held their lease", len(rows))
	}
}
