package e2e

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/cazbling/cazbling/pkg/sandbox"
	"github.com/cazbling/cazbling/pkg/sandbox/cazcosim"
)

// The life of an order after it is filed (issue 17), each step of it under faults on
// both APIs and the kill -9 loop of the reliability suite, then a clean run:
//
//	A: CaZco → Bling → NF-e → invoice on CaZco → tracking → shipment on CaZco
//	B: cancel in CaZco → the Bling order is Cancelado
//	C: cancel in Bling → the CaZco order is canceled
//	D: NF-e authorized, then cancel in CaZco → an error row, nothing cancelled in Bling;
//	   the NF-e is cancelled in Bling → the Bling order follows
//	E: a cancelled NF-e never reaches CaZco
//
// and no invoice or shipment is ever sent twice (the sandbox counts them).
func TestE2ELifecycle(t *testing.T) {
	const catalogue = 10
	start := time.Now()
	rng := rand.New(rand.NewPCG(relSeed(t), 17))
	e := newEnv(t)
	tn := e.addTenant("loja-ciclo")
	e.seedCatalogue(tn, catalogue, func(int) int64 { return 100 })
	e.mustRun(0, e.activateArgs(tn)...)

	names := []string{"A", "B", "C", "D", "E"}
	orders := map[string]cazcosim.Order{}
	for i, n := range names {
		id := relAddOrder(t, e, tn, relOrder(i, catalogue, "processing"))
		o, _ := e.sb.Cazco.Order(tn.CazcoKey, id)
		orders[n] = o
	}
	blingID := func(n string) int64 {
		t.Helper()
		id, ok := e.sb.Bling.OrderByStoreNumber(tn.ClientID, orders[n].Number)
		if !ok {
			t.Fatalf("order %s (#%s) is not in Bling", n, orders[n].Number)
		}
		return id
	}
	cazco := func(n string) cazcosim.Order {
		o, _ := e.sb.Cazco.Order(tn.CazcoKey, orders[n].ID)
		return o
	}
	canceledInBling := func(n string) bool {
		_, c, _, err := e.sb.Bling.OrderState(tn.ClientID, blingID(n))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}

	kills := 0
	// step runs sync-orders under faults and kills until enough kills landed, then a
	// clean run, which must exit with want.
	step := func(name string, want int) result {
		t.Helper()
		for _, api := range []string{sandbox.APIBling, sandbox.APICazco} {
			if err := e.sb.SetFaults(api, sandbox.Faults{ErrorRate: 0.1, MalformedRate: 0.02, Latency: 2 * time.Millisecond,
				LatencyJitter: 3 * time.Millisecond, Seed: rng.Int64()}); err != nil {
				t.Fatal(err)
			}
		}
		loop := killLoop{args: []string{"sync-orders"}, kills: 5, guess: 400 * time.Millisecond, maxIter: 40}
		st := loop.run(t, e, rng)
		kills += st.kills
		relExpireLeases(t, e)
		for _, api := range []string{sandbox.APIBling, sandbox.APICazco} {
			if err := e.sb.SetFaults(api, sandbox.Faults{}); err != nil {
				t.Fatal(err)
			}
		}
		r := e.run("sync-orders")
		relNoPanic(t, r)
		if r.code != want {
			t.Fatalf("%s: clean run: want exit %d, got:\n%s", name, want, r)
		}
		t.Logf("%s: %s", name, st)
		return r
	}

	step("filing", 0)
	for _, n := range names {
		blingID(n)
	}

	// Bling: NF-e for A, D and E (E's then cancelled); B cancelled in CaZco; C in Bling.
	nfeA, err := e.sb.Bling.IssueNFe(tn.ClientID, blingID("A"))
	if err != nil {
		t.Fatal(err)
	}
	nfeD, err := e.sb.Bling.IssueNFe(tn.ClientID, blingID("D"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.sb.Bling.IssueNFe(tn.ClientID, blingID("E")); err != nil {
		t.Fatal(err)
	}
	if _, err := e.sb.Bling.CancelNFe(tn.ClientID, blingID("E")); err != nil {
		t.Fatal(err)
	}
	if err := e.sb.Cazco.SetOrderStatus(tn.CazcoKey, orders["B"].ID, "canceled"); err != nil {
		t.Fatal(err)
	}
	if err := e.sb.Bling.SetOrderStatusName(tn.ClientID, blingID("C"), "Cancelado"); err != nil {
		t.Fatal(err)
	}
	step("NF-e and cancellations", 0)
	if a := cazco("A"); a.Invoice == nil || a.Invoice.AccessKey != nfeA.ChaveAcesso || a.Invoice.Number != nfeA.Numero || a.Status != "billed" || len(a.Shipments) != 0 {
		t.Errorf("A after its NF-e: status %s, invoice %+v, shipments %d", a.Status, a.Invoice, len(a.Shipments))
	}
	if !canceledInBling("B") {
		t.Error("B was canceled in CaZco but not in Bling")
	}
	if c := cazco("C"); c.Status != "canceled" {
		t.Errorf("C was canceled in Bling but is %s in CaZco", c.Status)
	}
	if d := cazco("D"); d.Invoice == nil || d.Invoice.AccessKey != nfeD.ChaveAcesso {
		t.Errorf("D's invoice: %+v", d.Invoice)
	}
	if e := cazco("E"); e.Invoice != nil {
		t.Errorf("E's cancelled NF-e reached CaZco: %+v", e.Invoice)
	}

	// Tracking for A; D canceled in CaZco while its NF-e is authorized.
	if _, err := e.sb.Bling.AddTracking(tn.ClientID, blingID("A"), "QB123456789BR", "SEDEX"); err != nil {
		t.Fatal(err)
	}
	if err := e.sb.Cazco.SetOrderStatus(tn.CazcoKey, orders["D"].ID, "canceled"); err != nil {
		t.Fatal(err)
	}
	step("tracking, and a cancel blocked by an NF-e", 1)
	if a := cazco("A"); a.Status != "shipped" || len(a.Shipments) != 1 || a.Shipments[0].TrackingCode != "QB123456789BR" {
		t.Errorf("A after its tracking: status %s, shipments %+v", a.Status, a.Shipments)
	}
	if canceledInBling("D") {
		t.Error("D was cancelled in Bling although its NF-e is authorized")
	}
	var blocked []logRow
	for _, r := range logRows(t, e, "--tenant", tn.ID, "--status", "error") {
		if r.Action == "cancel_blocked" && r.Key == orders["D"].ID {
			blocked = append(blocked, r)
		}
	}
	if len(blocked) == 0 {
		t.Fatal("no error row for D's blocked cancel")
	}
	for _, want := range []string{orders["D"].Number, "authorized NF-e", "cancel the NF-e in Bling", tn.ID} {
		if !strings.Contains(blocked[0].Message, want) {
			t.Errorf("blocked row %q does not say %q", blocked[0].Message, want)
		}
	}

	// The NF-e is cancelled in Bling: D follows.
	if _, err := e.sb.Bling.CancelNFe(tn.ClientID, blingID("D")); err != nil {
		t.Fatal(err)
	}
	step("the NF-e cancelled, the cancel follows", 0)
	if !canceledInBling("D") {
		t.Error("D not cancelled in Bling after its NF-e was cancelled")
	}
	step("nothing new", 0)

	// Never twice: each order got at most one invoice and one shipment, no 409 on a
	// different key, one cancel.
	for _, n := range names {
		f := e.sb.Cazco.FulfillmentOf(tn.CazcoKey, orders[n].ID)
		wantInv := map[string]int{"A": 1, "D": 1}[n]
		wantShip := map[string]int{"A": 1}[n]
		wantCancel := map[string]int{"C": 1}[n]
		if f.InvoicesSet != wantInv || f.ShipmentsMade != wantShip || f.Cancels != wantCancel || f.InvoiceConflict != 0 {
			t.Errorf("%s: %+v; want %d invoice, %d shipment, %d cancel by cazbling", n, f, wantInv, wantShip, wantCancel)
		}
	}
	c := e.sb.Counters()
	relIntegrity(t, e)
	relCursorsSane(t, e, tn)
	t.Logf("kills: %d; CaZco invoice PUTs %d, shipment POSTs %d (409 already done: %d), cancels %d; Bling PATCHes %d; took %s", kills,
		c.Count(sandbox.APICazco, "PUT", "/orders/{id}/invoice", 0), c.Count(sandbox.APICazco, "POST", "/orders/{id}/shipments", 0),
		c.Count(sandbox.APICazco, "POST", "/orders/{id}/shipments", 409), c.Count(sandbox.APICazco, "POST", "/orders/{id}/cancel", 0),
		c.Count(sandbox.APIBling, "PATCH", "/pedidos/vendas/{id}/situacoes/{idSituacao}", 0), time.Since(start).Round(time.Millisecond))
}

// TestE2ELifecycleKillLoop kills sync-orders at random moments while 30 filed orders
// get their NF-e and tracking sent to CaZco (slowed down so that kills land between a
// write and its record): afterwards every order has exactly one invoice and one
// shipment, re-sends having ended in the contract's "already done".
func TestE2ELifecycleKillLoop(t *testing.T) {
	t.Parallel() // convergence, not timing: see harness_test.go
	const catalogue, n = 10, 30
	rng := rand.New(rand.NewPCG(relSeed(t), 171))
	e := newEnv(t)
	tn := e.addTenant("loja-ciclo-kill")
	e.seedCatalogue(tn, catalogue, func(int) int64 { return 500 })
	e.mustRun(0, e.activateArgs(tn)...)
	var ids []string
	for i := range n {
		ids = append(ids, relAddOrder(t, e, tn, relOrder(i, catalogue, "processing")))
	}
	e.mustRun(0, "sync-orders")
	bids := make([]int64, n)
	numbers := make([]string, n)
	for i, id := range ids {
		o, _ := e.sb.Cazco.Order(tn.CazcoKey, id)
		bid, ok := e.sb.Bling.OrderByStoreNumber(tn.ClientID, o.Number)
		if !ok {
			t.Fatalf("order %s not filed", id)
		}
		bids[i], numbers[i] = bid, o.Number
	}
	// Between runs, 3 more orders get their NF-e and the 3 before them their tracking,
	// so that writes are going on when the kills land.
	next := 0
	change := func(int) {
		for k := next; k < min(next+3, n); k++ {
			if _, err := e.sb.Bling.IssueNFe(tn.ClientID, bids[k]); err != nil {
				t.Fatal(err)
			}
		}
		for k := max(next-3, 0); k < min(next, n); k++ {
			if _, err := e.sb.Bling.AddTracking(tn.ClientID, bids[k], "TR000"+numbers[k]+"BR", ""); err != nil {
				t.Fatal(err)
			}
		}
		next += 3
	}
	e.sb.ResetCounters()
	if err := e.sb.SetFaults(sandbox.APICazco, sandbox.Faults{Latency: 8 * time.Millisecond, LatencyJitter: 8 * time.Millisecond, ErrorRate: 0.05, Seed: rng.Int64()}); err != nil {
		t.Fatal(err)
	}
	if err := e.sb.SetFaults(sandbox.APIBling, sandbox.Faults{Latency: 2 * time.Millisecond, LatencyJitter: 2 * time.Millisecond, ErrorRate: 0.05, Seed: rng.Int64()}); err != nil {
		t.Fatal(err)
	}
	loop := killLoop{args: []string{"sync-orders"}, kills: 15, guess: 300 * time.Millisecond, maxIter: 60, change: change}
	st := loop.run(t, e, rng)
	for next < n+3 {
		change(0)
	}
	relExpireLeases(t, e)
	for _, api := range []string{sandbox.APIBling, sandbox.APICazco} {
		if err := e.sb.SetFaults(api, sandbox.Faults{}); err != nil {
			t.Fatal(err)
		}
	}
	e.mustRun(0, "sync-orders")
	for _, id := range ids {
		o, _ := e.sb.Cazco.Order(tn.CazcoKey, id)
		f := e.sb.Cazco.FulfillmentOf(tn.CazcoKey, id)
		if o.Status != "shipped" || o.Invoice == nil || len(o.Shipments) != 1 || f.InvoicesSet != 1 || f.ShipmentsMade != 1 || f.InvoiceConflict != 0 {
			t.Errorf("order %s: status %s, invoice %v, %d shipments, %+v", id, o.Status, o.Invoice != nil, len(o.Shipments), f)
		}
	}
	db := relDB(t, e)
	defer db.Close()
	var open int
	if err := db.QueryRow(`SELECT count(*) FROM order_lifecycle WHERE tenant_id = ? AND state = 'open'`, tn.ID).Scan(&open); err != nil {
		t.Fatal(err)
	}
	if open != 0 {
		t.Errorf("%d orders still open", open)
	}
	relIntegrity(t, e)
	c := e.sb.Counters()
	t.Logf("%s; invoice PUTs %d for %d orders (re-sent after a kill: %d), shipment POSTs %d (409 already done: %d)", st,
		c.Count(sandbox.APICazco, "PUT", "/orders/{id}/invoice", 200), n, c.Count(sandbox.APICazco, "PUT", "/orders/{id}/invoice", 200)-n,
		c.Count(sandbox.APICazco, "POST", "/orders/{id}/shipments", 0), c.Count(sandbox.APICazco, "POST", "/orders/{id}/shipments", 409))
}

// TestE2ELifecycleDeletedProduct: a product deleted in Bling leaves sale in CaZco
// (inactive, stock 0, a product.retired row) and comes back when restored, each under
// faults and the kill -9 loop; no SKU is created twice in CaZco.
func TestE2ELifecycleDeletedProduct(t *testing.T) {
	const catalogue = 40
	rng := rand.New(rand.NewPCG(relSeed(t), 172))
	e := newEnv(t)
	tn := e.addTenant("loja-excluido")
	ids := e.seedCatalogue(tn, catalogue, func(int) int64 { return 25 })
	e.mustRun(0, e.activateArgs(tn)...)
	e.mustRun(0, "sync-stock")
	for _, sku := range []string{"SKU-00003", "SKU-00007"} {
		if err := e.sb.Bling.TrashProduct(tn.ClientID, ids[sku]); err != nil {
			t.Fatal(err)
		}
	}
	// SKU-00011 is made inactive in Bling (an edit): inactive in CaZco, stock 0.
	off, ok := e.sb.Bling.Product(tn.ClientID, ids["SKU-00011"])
	if !ok {
		t.Fatal("no SKU-00011")
	}
	off.Situacao, off.Variacoes = "I", nil
	e.sb.Bling.PutProduct(tn.ClientID, off)
	time.Sleep(1100 * time.Millisecond) // Bling's date filters have whole seconds
	loop := func(name string, args ...string) {
		t.Helper()
		for _, api := range []string{sandbox.APIBling, sandbox.APICazco} {
			if err := e.sb.SetFaults(api, sandbox.Faults{ErrorRate: 0.1, Latency: 2 * time.Millisecond, LatencyJitter: 2 * time.Millisecond, Seed: rng.Int64()}); err != nil {
				t.Fatal(err)
			}
		}
		st := killLoop{args: args, kills: 5, guess: 300 * time.Millisecond, maxIter: 40}.run(t, e, rng)
		relExpireLeases(t, e)
		for _, api := range []string{sandbox.APIBling, sandbox.APICazco} {
			if err := e.sb.SetFaults(api, sandbox.Faults{}); err != nil {
				t.Fatal(err)
			}
		}
		t.Logf("%s: %s", name, st)
	}
	loop("deleted", "sync-stock")
	e.mustRun(0, "sync-stock")
	by := e.cazcoBySKU(tn)
	for _, sku := range []string{"SKU-00003", "SKU-00007"} {
		if p := by[sku]; p.Status != "inactive" || p.Stock.Quantity != 0 {
			t.Errorf("%s deleted in Bling: CaZco status %s, stock %d", sku, p.Status, p.Stock.Quantity)
		}
	}
	e.mustRun(0, "sync-stock") // the sweep may have run before the changed part made SKU-00011 inactive
	by = e.cazcoBySKU(tn)
	if p := by["SKU-00011"]; p.Status != "inactive" || p.Stock.Quantity != 0 {
		t.Errorf("SKU-00011 inactive in Bling: CaZco status %s, stock %d", p.Status, p.Stock.Quantity)
	}
	if p := by["SKU-00004"]; p.Status != "active" || p.Stock.Quantity != 25 {
		t.Errorf("SKU-00004 touched: %s %d", p.Status, p.Stock.Quantity)
	}
	retired := map[string]bool{}
	for _, r := range logRows(t, e, "--tenant", tn.ID, "--flow", "stock") {
		if r.Action == "retired" {
			retired[r.Key] = true
		}
	}
	if !retired["SKU-00003"] || !retired["SKU-00007"] || len(retired) != 2 {
		t.Errorf("retired rows: %v", retired)
	}

	if err := e.sb.Bling.RestoreProduct(tn.ClientID, ids["SKU-00003"]); err != nil {
		t.Fatal(err)
	}
	loop("restored", "sync-products")
	e.mustRun(0, "sync-products")
	e.mustRun(0, "sync-stock")
	by = e.cazcoBySKU(tn)
	if p := by["SKU-00003"]; p.Status != "active" || p.Stock.Quantity != 25 {
		t.Errorf("SKU-00003 restored in Bling: CaZco status %s, stock %d", p.Status, p.Stock.Quantity)
	}
	if p := by["SKU-00007"]; p.Status != "inactive" || p.Stock.Quantity != 0 {
		t.Errorf("SKU-00007 still deleted: CaZco status %s, stock %d", p.Status, p.Stock.Quantity)
	}
	if creates, twice := relCreates(t, e, tn); len(twice) > 0 || creates != catalogue {
		t.Errorf("CaZco creations: %d (want %d), twice: %v", creates, catalogue, twice)
	}
	relIntegrity(t, e)
}
