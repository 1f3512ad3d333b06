package e2e

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/cazbling/cazbling/pkg/sandbox"
	"github.com/cazbling/cazbling/pkg/sandbox/blingsim"
)

// The kill -9 loops of the reliability suite; the helpers they share with the rest of
// it are in reliability_test.go.

// ---------------------------------------------------------------- kill loops

// killLoop is one flow's kill -9 loop: before each run, change changes the data;
// then the run is killed at a uniformly random moment of its expected duration.
type killLoop struct {
	args    []string      // the command killed
	kills   int           // landed kills wanted
	guess   time.Duration // first estimate of a run's duration
	maxIter int
	change  func(iter int) // changes Bling or CaZco data before a run (may be nil)
	killed  func()         // looks at what a landed kill left (may be nil)
}

// killStats are what a kill loop did.
type killStats struct {
	kills, missed, leaseWaits int
	maxDelay                  time.Duration // the latest kill that landed, after the start
	expected                  time.Duration // the last estimate of a run's duration
	finished                  []string      // duration→exit of the runs that ended before their kill
}

func (s killStats) String() string {
	return fmt.Sprintf("%d kills (latest %s after the start; runs last about %s), %d runs ended before their kill %v, %d lease waits",
		s.kills, s.maxDelay.Round(time.Millisecond), s.expected.Round(time.Millisecond), s.missed, s.finished, s.leaseWaits)
}

// run performs the loop. Every 10th kill waits out the real lease instead of expiring
// it in the store, so that both ways a killed run's lease ends are exercised.
func (k killLoop) run(t *testing.T, e *env, rng *rand.Rand) killStats {
	t.Helper()
	var st killStats
	expected := k.guess
	for iter := 0; st.kills < k.kills; iter++ {
		if iter >= k.maxIter {
			t.Fatalf("only %d of %d kills landed in %d runs (%d ended before their kill); the runs are too short to kill", st.kills, k.kills, iter, st.missed)
		}
		if k.change != nil {
			k.change(iter)
		}
		delay := time.Duration(rng.Int64N(int64(expected)))
		p := relStart(t, e, k.args...)
		if p.killAt(delay) {
			st.kills++
			st.maxDelay = max(st.maxDelay, delay)
			if k.killed != nil {
				k.killed()
			}
			if st.kills%10 == 0 {
				waitLease()
				st.leaseWaits++
			} else {
				relExpireLeases(t, e)
			}
			continue
		}
		// The run ended before its kill: it must have ended well, and it tells how
		// long a run takes now.
		st.missed++
		r := result{code: p.code, stdout: p.out.String(), stderr: p.errb.String()}
		relNoPanic(t, r)
		if r.code != 0 && r.code != 1 {
			t.Fatalf("un-killed run of %v: exit %d:\n%s", k.args, r.code, r)
		}
		st.finished = append(st.finished, fmt.Sprintf("%s→%d", p.took.Round(time.Millisecond), r.code))
		// Runs get shorter as work is done; let the estimate follow, slowly.
		expected = max(p.took*11/10, expected*3/4, 50*time.Millisecond)
	}
	st.expected = expected
	return st
}

// TestE2EKillLoopProducts kills `sync-products --full` (and now and then the
// incremental run) at least 30 times at seeded random moments while Bling prices,
// stock and the catalogue change between runs; then a clean run of the products and
// stock flows leaves CaZco exactly as Bling says, every SKU created once.
func TestE2EKillLoopProducts(t *testing.T) {
	t.Parallel() // convergence, not timing: see harness_test.go
	start := time.Now()
	rng := rand.New(rand.NewPCG(relSeed(t), 1))
	e := newEnv(t)
	tn := e.addTenant("loja-kill-prod")
	ids := e.seedCatalogue(tn, 250, func(i int) int64 { return int64(i % 9) })
	if err := e.sb.SetFaults(sandbox.APIBling, sandbox.Faults{Latency: 2 * time.Millisecond, LatencyJitter: 2 * time.Millisecond, Seed: rng.Int64()}); err != nil {
		t.Fatal(err)
	}
	e.mustRun(0, e.activateArgs(tn, "--no-initial-sync")...)

	added, priced, stocked := 0, 0, 0
	loop := killLoop{args: []string{"sync-products", "--full"}, kills: 30, guess: 1500 * time.Millisecond, maxIter: 90}
	loop.change = func(iter int) {
		for range 5 {
			sku := fmt.Sprintf("SKU-%05d", rng.IntN(250))
			p, _ := e.sb.Bling.Product(tn.ClientID, ids[sku])
			p.Preco = blingsim.NewNumber(decimal.New(int64(100+rng.IntN(90000)), -2))
			p.Variacoes = nil
			e.sb.Bling.PutProduct(tn.ClientID, p)
			priced++
			if err := e.sb.Bling.SetStock(tn.ClientID, ids[fmt.Sprintf("SKU-%05d", rng.IntN(250))], 0, decimal.NewFromInt(int64(rng.IntN(50)-5))); err != nil {
				t.Fatal(err)
			}
			stocked++
		}
		if iter%3 == 0 {
			sku := fmt.Sprintf("NEW-%03d", added)
			id := e.sb.Bling.PutProduct(tn.ClientID, blingProduct(sku, "Produto Novo "+sku, "15.50"))
			ids[sku] = id
			if err := e.sb.Bling.SetStock(tn.ClientID, id, 0, decimal.NewFromInt(int64(added))); err != nil {
				t.Fatal(err)
			}
			added++
		}
	}
	st := loop.run(t, e, rng)

	// Now and then the incremental run is killed too.
	inc := killLoop{args: []string{"sync-products"}, kills: 3, guess: 300 * time.Millisecond, maxIter: 40, change: loop.change}
	st2 := inc.run(t, e, rng)

	// The clean runs.
	if n := relExpireLeases(t, e); n != 0 {
		t.Logf("%d lease(s) left by the last kill expired", n)
	}
	if err := e.sb.SetFaults(sandbox.APIBling, sandbox.Faults{}); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"sync-products", "--full"}, {"sync-products"}, {"sync-stock"}} {
		r := e.mustRun(0, args...)
		relNoPanic(t, r)
		if strings.Contains(r.stdout, "skipped") {
			t.Errorf("a clean run skipped the tenant:\n%s", r)
		}
	}
	expectCatalogue(t, e, tn, nil)
	creates, twice := relCreates(t, e, tn)
	if len(twice) > 0 {
		t.Errorf("SKUs created more than once in CaZco: %v", twice)
	}
	if want := 250 + added; creates != want {
		t.Errorf("CaZco product creations: %d, want %d (one per SKU)", creates, want)
	}
	cursors := relCursorsSane(t, e, tn)
	relIntegrity(t, e)
	t.Logf("sync-products --full: %s; sync-products: %s", st, st2)
	t.Logf("kills: %d; changes between runs: %d prices, %d stock levels, %d new products; items compared: %d; CaZco creations: %d; duplicates found: %d; cursors checked: %d; took %s",
		st.kills+st2.kills, priced, stocked, added, 250+added, creates, len(twice), cursors, time.Since(start).Round(time.Millisecond))
}

// TestE2EKillLoopStock kills `sync-stock` at least 30 times at seeded random moments
// while Bling stock levels (including negative and fractional ones) and prices change
// between runs; then a clean run leaves every CaZco level and price as Bling says.
func TestE2EKillLoopStock(t *testing.T) {
	t.Parallel() // convergence, not timing: see harness_test.go
	// Every product changed within the overlap window (10 minutes) is read again by
	// each run, so the catalogue is smaller here than in the products loop.
	const stockCatalogue = 150
	start := time.Now()
	rng := rand.New(rand.NewPCG(relSeed(t), 2))
	e := newEnv(t)
	tn := e.addTenant("loja-kill-estoque")
	ids := e.seedCatalogue(tn, stockCatalogue, func(i int) int64 { return int64(i % 13) })
	e.mustRun(0, e.activateArgs(tn)...)
	if err := e.sb.SetFaults(sandbox.APIBling, sandbox.Faults{Latency: 2 * time.Millisecond, LatencyJitter: 2 * time.Millisecond, Seed: rng.Int64()}); err != nil {
		t.Fatal(err)
	}
	if err := e.sb.SetFaults(sandbox.APICazco, sandbox.Faults{Latency: 2 * time.Millisecond, LatencyJitter: 2 * time.Millisecond, Seed: rng.Int64()}); err != nil {
		t.Fatal(err)
	}

	stocked, priced := 0, 0
	loop := killLoop{args: []string{"sync-stock"}, kills: 30, guess: 800 * time.Millisecond, maxIter: 90}
	loop.change = func(iter int) {
		for range 15 {
			qty := decimal.New(int64(rng.IntN(4000)-200), -2) // −2.00 … 37.99
			if err := e.sb.Bling.SetStock(tn.ClientID, ids[fmt.Sprintf("SKU-%05d", rng.IntN(stockCatalogue))], 0, qty); err != nil {
				t.Fatal(err)
			}
			stocked++
		}
		for range 3 {
			p, _ := e.sb.Bling.Product(tn.ClientID, ids[fmt.Sprintf("SKU-%05d", rng.IntN(stockCatalogue))])
			p.Preco = blingsim.NewNumber(decimal.New(int64(100+rng.IntN(90000)), -2))
			p.Variacoes = nil
			e.sb.Bling.PutProduct(tn.ClientID, p)
			priced++
		}
	}
	// One un-killed run measures how long a run takes; the kills spread over that.
	loop.change(0)
	p := relStart(t, e, "sync-stock")
	if r := p.wait(t); r.code != 0 {
		t.Fatalf("measuring run: %s", r)
	}
	loop.guess = p.took * 11 / 10
	st := loop.run(t, e, rng)

	relExpireLeases(t, e)
	for _, api := range []string{sandbox.APIBling, sandbox.APICazco} {
		if err := e.sb.SetFaults(api, sandbox.Faults{}); err != nil {
			t.Fatal(err)
		}
	}
	r := e.mustRun(0, "sync-stock")
	relNoPanic(t, r)
	expectCatalogue(t, e, tn, nil)
	_, twice := relCreates(t, e, tn)
	if len(twice) > 0 {
		t.Errorf("SKUs created more than once in CaZco: %v", twice)
	}
	// A further run finds nothing to write: what was sent is recorded as sent.
	e.sb.ResetCounters()
	e.mustRun(0, "sync-stock")
	if p, b, s := e.cazcoWrites(); p+b+s != 0 {
		t.Errorf("a run after the clean one wrote to CaZco: %d product writes, %d stock batches, %d single stock writes", p, b, s)
	}
	cursors := relCursorsSane(t, e, tn)
	relIntegrity(t, e)
	t.Logf("sync-stock: %s", st)
	t.Logf("kills: %d; changes between runs: %d stock levels, %d prices; items compared: %d; duplicates found: %d; cursors checked: %d; took %s",
		st.kills, stocked, priced, stockCatalogue, len(twice), cursors, time.Since(start).Round(time.Millisecond))
}

// TestE2EKillLoopOrders kills `sync-orders` at least 30 times at seeded random moments
// (Bling holds each order POST's answer a little, so many kills land between Bling
// storing an order and cazbling hearing of it) while new orders arrive and pending ones
// are paid; then a clean run leaves exactly one Bling order per importable CaZco order
// and one contact per buyer.
func TestE2EKillLoopOrders(t *testing.T) {
	t.Parallel() // convergence, not timing: see harness_test.go
	const catalogue = 20
	start := time.Now()
	rng := rand.New(rand.NewPCG(relSeed(t), 3))
	e := newEnv(t)
	tn := e.addTenant("loja-kill-pedidos")
	e.seedCatalogue(tn, catalogue, func(int) int64 { return 500 })
	e.mustRun(0, e.activateArgs(tn)...)
	var pending []string
	n := 0
	for ; n < 60; n++ {
		status := "processing"
		if n%10 == 9 {
			status = "pending_payment"
		}
		id := relAddOrder(t, e, tn, relOrder(n, catalogue, status))
		if status == "pending_payment" {
			pending = append(pending, id)
		}
	}
	if err := e.sb.SetFaults(sandbox.APIBling, sandbox.Faults{Latency: 2 * time.Millisecond, LatencyJitter: 2 * time.Millisecond,
		OrderPostDelay: 25 * time.Millisecond, Seed: rng.Int64()}); err != nil {
		t.Fatal(err)
	}
	paid, inWindow := 0, 0
	loop := killLoop{args: []string{"sync-orders"}, kills: 30, guess: 1200 * time.Millisecond, maxIter: 90}
	loop.killed = func() {
		// A kill between Bling storing an order and cazbling recording it leaves the
		// order in Bling and its link "creating": the dangerous window.
		inBling := map[string]bool{}
		for _, b := range e.sb.Bling.Orders(tn.ClientID) {
			inBling[b.NumeroLoja] = true
		}
		db := relDB(t, e)
		defer db.Close()
		rows, err := db.Query(`SELECT number FROM order_links WHERE tenant_id = ? AND state = 'creating'`, tn.ID)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var number string
			if err := rows.Scan(&number); err != nil {
				t.Fatal(err)
			}
			if inBling[number] {
				inWindow++
				break
			}
		}
	}
	loop.change = func(iter int) {
		for range 2 {
			relAddOrder(t, e, tn, relOrder(n, catalogue, "processing"))
			n++
		}
		if iter%4 == 0 && len(pending) > 0 {
			if err := e.sb.Cazco.SetOrderStatus(tn.CazcoKey, pending[0], "processing"); err != nil {
				t.Fatal(err)
			}
			pending = pending[1:]
			paid++
		}
	}
	st := loop.run(t, e, rng)
	filedBefore := len(e.sb.Bling.Orders(tn.ClientID))

	relExpireLeases(t, e)
	if err := e.sb.SetFaults(sandbox.APIBling, sandbox.Faults{}); err != nil {
		t.Fatal(err)
	}
	r := e.mustRun(0, "sync-orders")
	relNoPanic(t, r)
	want := relImportable(e, tn)
	compared, dups, _ := relOrdersDiff(t, e, tn, want, true)
	if compared != len(want) || len(want) != n-len(pending) {
		t.Errorf("orders compared %d of %d importable (%d added, %d still pending)", compared, len(want), n, len(pending))
	}
	db := relDB(t, e)
	defer db.Close()
	var created, other int
	if err := db.QueryRow(`SELECT count(*) FILTER (WHERE state = 'created'), count(*) FILTER (WHERE state <> 'created') FROM order_links WHERE tenant_id = ?`, tn.ID).Scan(&created, &other); err != nil {
		t.Fatal(err)
	}
	if created != len(want) || other != 0 {
		t.Errorf("order links: %d created, %d in another state; want %d created", created, other, len(want))
	}
	cursors := relCursorsSane(t, e, tn)
	relIntegrity(t, e)
	t.Logf("sync-orders: %s", st)
	t.Logf("kills: %d (%d between Bling storing an order and cazbling recording it); orders added: %d (%d paid between runs), filed when the kills ended: %d; orders compared: %d; duplicates found: %d; cursors checked: %d; took %s",
		st.kills, inWindow, n, paid, filedBefore, compared, dups, cursors, time.Since(start).Round(time.Millisecond))
}
