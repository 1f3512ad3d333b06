package e2e

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/shopspring/decimal"

	"github.com/cazbling/cazbling/pkg/sandbox"
	"github.com/cazbling/cazbling/pkg/sandbox/blingsim"
	"github.com/cazbling/cazbling/pkg/sandbox/cazcosim"
)

// The orders flow end to end: CaZco orders made with cazcosim.AddOrder, the built
// binary's `sync-orders` run (and killed) against the sandbox, and both sides' full
// state compared at the end of every scenario: Bling orders by numeroLoja (zero
// duplicates) with their items, quantities, unit prices, totals and buyers; Bling
// contacts by document (zero duplicates).

// ---------------------------------------------------------------- scenarios

// TestE2EOrdersSixty is the orders issue's main scenario: 60 CaZco orders (new and
// repeat CPF buyers, 5 CNPJ buyers, 3 with a SKU Bling lacks, 2 pending payment).
// The first run files exactly the 55 fileable ones and exits 1 with the 3 listed as
// errors; once the SKU exists in Bling the next run files the 3; once a pending
// order is paid the next run files it. Never a duplicate order or contact.
func TestE2EOrdersSixty(t *testing.T) {
	const catalogue, missingSKU = 30, "SKU-FALTANTE-9"
	e := newEnv(t)
	tn := ordersTenant(t, e, "loja-pedidos", catalogue)
	baseline := ordersContactIDs(e, tn)

	unknown := map[int]bool{10: true, 25: true, 40: true}
	pending := map[int]bool{15: true, 50: true}
	company := map[int]bool{3: true, 18: true, 33: true, 48: true, 58: true}
	var filed, failed, waiting []cazcosim.Order
	for i := range 60 {
		buyer := ordersPerson(i % 38) // orders i and i+38 share a buyer: 22 repeat buyers
		if company[i] {
			buyer = ordersCompany(i)
		}
		items := ordersItems(i, 1+i%3, catalogue)
		status := "processing"
		if i%7 == 0 {
			status = "shipped"
		}
		if unknown[i] {
			items = append(items, cazcosim.OrderItem{SKU: missingSKU, Name: "Produto que falta no Bling", UnitPrice: "33.33", Quantity: 2})
		}
		if pending[i] {
			status = "pending_payment"
		}
		o := ordersAdd(t, e, tn, ordersNew(i, buyer, status, items))
		switch {
		case unknown[i]:
			failed = append(failed, o)
		case pending[i]:
			waiting = append(waiting, o)
		default:
			filed = append(filed, o)
		}
	}

	r := e.mustRun(1, "sync-orders")
	relNoPanic(t, r)
	compared, dups := ordersCheck(t, e, tn, filed, baseline)
	if compared != 55 {
		t.Errorf("first run: %d orders compared in Bling, want 55", compared)
	}
	if all := logRows(t, e, "--status", "error"); len(all) != 3 {
		t.Errorf("`logs --status error` lists %d rows, want exactly the 3 orders: %+v", len(all), all)
	}
	errs := ordersErrorRows(t, e)
	if len(errs) != 3 {
		t.Errorf("error rows for %d orders, want the 3 with SKU %s: %+v", len(errs), missingSKU, errs)
	}
	for _, o := range failed {
		rows := errs[o.ID]
		if len(rows) != 1 || !strings.Contains(rows[0].Message, missingSKU) || !strings.Contains(rows[0].Message, o.Number) {
			t.Errorf("order %s (#%s): want one error row naming SKU %s and the order, got %+v", o.ID, o.Number, missingSKU, rows)
		}
	}
	var skipped int
	for _, row := range logRows(t, e, "--status", "skipped", "--flow", "orders") {
		if row.Key == waiting[0].ID || row.Key == waiting[1].ID {
			skipped++
		}
	}
	if skipped != 2 {
		t.Errorf("skipped rows for the 2 pending orders: %d, want 2", skipped)
	}
	_, links := ordersLinkStates(t, e, tn)
	for _, o := range failed {
		if links[o.Number] != "failed" {
			t.Errorf("order #%s: link %q, want failed", o.Number, links[o.Number])
		}
	}

	// The SKU appears in Bling and reaches CaZco; the next run files the 3.
	id := e.sb.Bling.PutProduct(tn.ClientID, blingProduct(missingSKU, "Produto que falta no Bling", "33.33"))
	if err := e.sb.Bling.SetStock(tn.ClientID, id, 0, decimal.NewFromInt(10)); err != nil {
		t.Fatal(err)
	}
	e.mustRun(0, "sync-products")
	e.mustRun(0, "sync-stock")
	r = e.mustRun(0, "sync-orders")
	relNoPanic(t, r)
	filed = append(filed, failed...)
	compared, d := ordersCheck(t, e, tn, filed, baseline)
	dups += d
	if compared != 58 {
		t.Errorf("after the SKU was added: %d orders compared, want 58", compared)
	}

	// One pending order is paid; the next run files it, the other stays out.
	if err := e.sb.Cazco.SetOrderStatus(tn.CazcoKey, waiting[0].ID, "processing"); err != nil {
		t.Fatal(err)
	}
	r = e.mustRun(0, "sync-orders")
	relNoPanic(t, r)
	paid, _ := e.sb.Cazco.Order(tn.CazcoKey, waiting[0].ID)
	filed = append(filed, paid)
	compared, d = ordersCheck(t, e, tn, filed, baseline)
	dups += d
	if compared != 59 {
		t.Errorf("after a pending order was paid: %d orders compared, want 59", compared)
	}
	counts, _ := ordersLinkStates(t, e, tn)
	if counts["created"] != 59 || counts["creating"] != 0 || counts["failed"] != 0 {
		t.Errorf("order links by state: %v, want 59 created", counts)
	}
	ordersCursorSane(t, e, tn, time.Now().Add(-time.Hour))
	t.Logf("orders compared: %d, Bling contacts: %d, duplicates found: %d", compared, len(e.sb.Bling.Contacts(tn.ClientID))-len(baseline), dups)
}

// TestE2EOrdersKillLoop kills `sync-orders` (SIGKILL, the whole process group) at
// seeded random moments of a 100-order run, and at least 3 times in the window
// after Bling stored an order POST but before its reply arrived, then lets a clean
// run finish: exactly 100 Bling orders, zero duplicates, every link created.
func TestE2EOrdersKillLoop(t *testing.T) {
	t.Parallel() // convergence, not timing: see harness_test.go
	const catalogue, orders = 30, 100
	seed := relSeed(t)
	t.Logf("seed %d (CAZBLING_E2E_SEED=%d replays it)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, seed^0x5eed))

	e := newEnv(t)
	tn := ordersTenant(t, e, "loja-kill-pedidos", catalogue)
	baseline := ordersContactIDs(e, tn)
	want := ordersMix(t, e, tn, orders, 70, 9, catalogue)

	slow := sandbox.Faults{Latency: 4 * time.Millisecond, LatencyJitter: 4 * time.Millisecond, Seed: int64(seed % (1 << 62))}
	held := slow
	held.OrderPostDelay = time.Second // the kill comes within ms; the rest is margin for a loaded machine
	var randomKills, commitKills, missed int
	var leftLeases int64
	for iter := 0; (randomKills < 10 || commitKills < 3) && iter < 40; iter++ {
		before := len(e.sb.Bling.Orders(tn.ClientID))
		if before == orders {
			t.Fatalf("all %d orders were filed after %d random and %d commit-window kills; the loop needs more orders left to kill", orders, randomKills, commitKills)
		}
		if commitKills < 3 && iter%3 == 1 {
			// Kill while Bling holds the reply to an order POST it has stored.
			if err := e.sb.SetFaults(sandbox.APIBling, held); err != nil {
				t.Fatal(err)
			}
			grow := 1 + rng.IntN(2)
			p := relStart(t, e, "sync-orders")
			for !p.exited() && len(e.sb.Bling.Orders(tn.ClientID)) < before+grow {
				time.Sleep(2 * time.Millisecond)
			}
			landed := p.kill()
			after := e.sb.Bling.Orders(tn.ClientID)
			// The kill landed in the window if the newest Bling order's link still
			// says `creating`: the process never got the reply.
			last := ""
			if len(after) > before {
				last = after[len(after)-1].NumeroLoja
			}
			_, links := ordersLinkStates(t, e, tn)
			if landed && last != "" && links[last] == "creating" {
				commitKills++
				t.Logf("kill %d: in the commit window of order #%s (POST %d of this run stored, reply held); Bling has %d orders", iter, last, grow, len(after))
			} else {
				missed++
				t.Logf("kill %d: commit-window kill missed (process alive: %v, newest order #%s link %q); Bling has %d orders", iter, landed, last, links[last], len(after))
			}
		} else {
			if err := e.sb.SetFaults(sandbox.APIBling, slow); err != nil {
				t.Fatal(err)
			}
			delay := 20*time.Millisecond + time.Duration(rng.Int64N(int64(260*time.Millisecond)))
			p := relStart(t, e, "sync-orders")
			select {
			case <-p.done:
			case <-time.After(delay):
			}
			landed := p.kill()
			if landed {
				randomKills++
			} else {
				missed++
			}
			counts, _ := ordersLinkStates(t, e, tn)
			t.Logf("kill %d after %s (landed: %v): Bling has %d orders; links %v", iter, delay.Round(time.Millisecond), landed, len(e.sb.Bling.Orders(tn.ClientID)), counts)
		}
		// The killed process never released its lease, which lapses only after the
		// TTL; make it lapse now, or the next run would skip the tenant (and exit 0).
		leftLeases += relExpireLeases(t, e)
	}
	if randomKills < 10 || commitKills < 3 {
		t.Fatalf("kills landed: %d random, %d in the commit window; want at least 10 and 3", randomKills, commitKills)
	}

	// Clean runs: no faults.
	if err := e.sb.SetFaults(sandbox.APIBling, sandbox.Faults{}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	r := e.run("sync-orders")
	relNoPanic(t, r)
	if r.code != 0 {
		t.Logf("first clean run exit %d; running once more:\n%s", r.code, r)
		r = e.mustRun(0, "sync-orders")
		relNoPanic(t, r)
	}
	if strings.Contains(r.stdout, "skipped") {
		t.Errorf("the clean run skipped the tenant:\n%s", r)
	}
	compared, dups := ordersCheck(t, e, tn, want, baseline)
	counts, _ := ordersLinkStates(t, e, tn)
	if counts["created"] != orders || len(counts) != 1 {
		t.Errorf("order links by state: %v, want %d created", counts, orders)
	}
	ordersCursorSane(t, e, tn, start.Add(-time.Minute))
	t.Logf("kills: %d random + %d in the commit window (%d missed); leases left by killed runs, expired: %d; orders compared: %d; duplicates found: %d",
		randomKills, commitKills, missed, leftLeases, compared, dups)
}

// TestE2EOrdersTwoProcesses starts two `sync-orders` on one store at once: one
// works the tenant and the other skips it (lease), or both finish; either way
// every importable order is in Bling once.
func TestE2EOrdersTwoProcesses(t *testing.T) {
	const catalogue = 20
	e := newEnv(t)
	tn := ordersTenant(t, e, "loja-dois", catalogue)
	baseline := ordersContactIDs(e, tn)
	all := ordersMix(t, e, tn, 40, 30, 8, catalogue)
	var want []cazcosim.Order
	for i, o := range all {
		if i == 5 || i == 22 {
			if err := e.sb.Cazco.SetOrderStatus(tn.CazcoKey, o.ID, "pending_payment"); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want = append(want, o)
	}
	if err := e.sb.SetFaults(sandbox.APIBling, sandbox.Faults{Latency: 2 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	a, b := relStart(t, e, "sync-orders"), relStart(t, e, "sync-orders")
	ra, rb := a.wait(t), b.wait(t)
	relNoPanic(t, ra)
	relNoPanic(t, rb)
	if ra.code != 0 || rb.code != 0 {
		t.Fatalf("both runs should exit 0:\nfirst: %s\nsecond: %s", ra, rb)
	}
	skipped := 0
	for _, r := range []result{ra, rb} {
		if strings.Contains(r.stderr, "another process is working this tenant") || strings.Contains(r.stderr, "tenant skipped") {
			skipped++
		}
	}
	if skipped > 1 {
		t.Errorf("both runs skipped the tenant:\nfirst: %s\nsecond: %s", ra, rb)
	}
	compared, dups := ordersCheck(t, e, tn, want, baseline)
	if compared != 38 {
		t.Errorf("orders compared: %d, want 38", compared)
	}
	t.Logf("runs that skipped the tenant (lease held): %d of 2; orders compared: %d; duplicates found: %d", skipped, compared, dups)
}

// TestE2EOrdersBling5xx turns Bling errors on (50% 500s) once the order POSTs have
// begun: the run exits 1 with retry rows; with the faults gone the next runs file
// every order, none twice.
func TestE2EOrdersBling5xx(t *testing.T) {
	const catalogue = 20
	e := newEnv(t)
	tn := ordersTenant(t, e, "loja-5xx", catalogue)
	baseline := ordersContactIDs(e, tn)
	want := ordersMix(t, e, tn, 30, 30, 6, catalogue)

	if err := e.sb.SetFaults(sandbox.APIBling, sandbox.Faults{Latency: 5 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	e.sb.ResetCounters()
	p := relStart(t, e, "sync-orders")
	faulted := false
	for !p.exited() {
		if len(e.sb.Bling.Orders(tn.ClientID)) >= 3 {
			if err := e.sb.SetFaults(sandbox.APIBling, sandbox.Faults{Latency: 5 * time.Millisecond, ErrorRate: 0.5, Seed: 11}); err != nil {
				t.Fatal(err)
			}
			faulted = true
			break
		}
		time.Sleep(time.Millisecond)
	}
	r := p.wait(t)
	relNoPanic(t, r)
	if !faulted {
		t.Fatalf("the run ended before the faults were turned on:\n%s", r)
	}
	c := e.sb.Counters()
	postFaults := c.Count(sandbox.APIBling, "POST", "/pedidos/vendas", 500)
	allFaults := c.Count(sandbox.APIBling, "", "", 500)
	if r.code != 1 {
		t.Fatalf("faulted run: want exit 1 (%d order POSTs and %d Bling requests answered 500):\n%s", postFaults, allFaults, r)
	}
	if postFaults == 0 {
		t.Errorf("no order POST was answered 500; the scenario proves less than it says (%d Bling 500s)", allFaults)
	}
	retryRows := 0
	for _, rows := range ordersErrorRows(t, e) {
		for _, row := range rows {
			if row.Action == "retry_later" {
				retryRows++
			}
		}
	}
	if retryRows == 0 {
		t.Errorf("the faulted run left no retry_later rows")
	}
	filedFirst := len(e.sb.Bling.Orders(tn.ClientID))

	if err := e.sb.SetFaults(sandbox.APIBling, sandbox.Faults{}); err != nil {
		t.Fatal(err)
	}
	runs, clean := 0, false
	for !clean && runs < 3 {
		runs++
		r := e.run("sync-orders")
		relNoPanic(t, r)
		if clean = r.code == 0; !clean {
			t.Logf("clean run %d: exit %d\n%s", runs, r.code, r)
		}
	}
	if !clean {
		t.Fatalf("%d runs without faults did not end with exit 0", runs)
	}
	compared, dups := ordersCheck(t, e, tn, want, baseline)
	counts, _ := ordersLinkStates(t, e, tn)
	if counts["created"] != len(want) || len(counts) != 1 {
		t.Errorf("order links by state: %v, want %d created", counts, len(want))
	}
	t.Logf("faults injected: %d Bling 500s (%d on order POSTs); retry rows: %d; filed in the faulted run: %d; clean runs: %d; orders compared: %d; duplicates found: %d",
		allFaults, postFaults, retryRows, filedFirst, runs, compared, dups)
}

// TestE2EOrdersBadInput: orders with an invalid CPF or CNPJ, a document with
// letters, an item of quantity 0, a huge unicode buyer name and an unknown status.
// The invalid ones get one error row each saying what to fix, the unknown status a
// warning, every valid order is filed, nothing panics.
func TestE2EOrdersBadInput(t *testing.T) {
	const catalogue = 10
	e := newEnv(t)
	tn := ordersTenant(t, e, "loja-ruim", catalogue)
	baseline := ordersContactIDs(e, tn)

	var want []cazcosim.Order
	for i := range 6 {
		want = append(want, ordersAdd(t, e, tn, ordersNew(i, ordersPerson(i), "processing", ordersItems(i, 2, catalogue))))
	}
	huge := ordersPerson(50)
	huge.Name = strings.Repeat("Joãozinho Ñandú Çaçapava 李小龍 👩🏽‍💻 ", 300)
	want = append(want, ordersAdd(t, e, tn, ordersNew(50, huge, "processing", ordersItems(50, 1, catalogue))))

	type bad struct {
		order cazcosim.Order
		says  []string // the error message must contain each
	}
	var bads []bad
	badCPF := ordersPerson(60)
	badCPF.Document = badCPF.Document[:9] + "00"
	if blingsim.ValidCPF(badCPF.Document) {
		badCPF.Document = badCPF.Document[:9] + "99"
	}
	o := ordersAdd(t, e, tn, ordersNew(60, badCPF, "processing", ordersItems(60, 1, catalogue)))
	bads = append(bads, bad{o, []string{badCPF.Document, "CPF", "correct the buyer in CaZco"}})

	badCNPJ := ordersCompany(61)
	badCNPJ.Document = badCNPJ.Document[:12] + "00"
	if blingsim.ValidCNPJ(badCNPJ.Document) {
		badCNPJ.Document = badCNPJ.Document[:12] + "99"
	}
	o = ordersAdd(t, e, tn, ordersNew(61, badCNPJ, "processing", ordersItems(61, 1, catalogue)))
	bads = append(bads, bad{o, []string{badCNPJ.Document, "CNPJ"}})

	letters := ordersPerson(62)
	letters.Document = "12A456789B0"
	o = ordersAdd(t, e, tn, ordersNew(62, letters, "processing", ordersItems(62, 1, catalogue)))
	bads = append(bads, bad{o, []string{"12A456789B0"}})

	// AddOrder turns quantity 0 into 1; UpdateOrder sets it afterwards (totals kept
	// consistent), as a faulty marketplace might send it.
	o = ordersAdd(t, e, tn, ordersNew(63, ordersPerson(63), "processing", ordersItems(63, 2, catalogue)))
	if err := e.sb.Cazco.UpdateOrder(tn.CazcoKey, o.ID, func(o *cazcosim.Order) {
		it := &o.Items[0]
		line := decimal.RequireFromString(it.UnitPrice).Mul(decimal.NewFromInt(it.Quantity))
		it.Quantity, it.Total = 0, "0.00"
		items := decimal.RequireFromString(o.Totals.Items).Sub(line)
		total := decimal.RequireFromString(o.Totals.Total).Sub(line).Add(decimal.RequireFromString(it.Discount))
		o.Totals.Items, o.Totals.Total, o.Payment.Amount = items.StringFixed(2), total.StringFixed(2), total.StringFixed(2)
	}); err != nil {
		t.Fatal(err)
	}
	o, _ = e.sb.Cazco.Order(tn.CazcoKey, o.ID)
	if o.Items[0].Quantity != 0 {
		t.Fatalf("could not set an item's quantity to 0: %+v", o.Items[0])
	}
	bads = append(bads, bad{o, []string{o.Items[0].SKU, "quantity 0"}})

	strange := ordersAdd(t, e, tn, ordersNew(64, ordersPerson(64), "em_analise_antifraude", ordersItems(64, 1, catalogue)))

	r := e.mustRun(1, "sync-orders")
	relNoPanic(t, r)
	compared, dups := ordersCheck(t, e, tn, want, baseline)
	if compared != len(want) {
		t.Errorf("valid orders filed: %d, want %d", compared, len(want))
	}
	for _, c := range e.sb.Bling.Contacts(tn.ClientID) {
		if c.NumeroDocumento == huge.Document && (c.Nome == "" || !utf8.ValidString(c.Nome)) {
			t.Errorf("the buyer with the huge unicode name became contact %d named %q", c.ID, c.Nome)
		}
	}
	errs := ordersErrorRows(t, e)
	if len(errs) != len(bads) {
		t.Errorf("error rows for %d orders, want %d: %+v", len(errs), len(bads), errs)
	}
	for _, b := range bads {
		rows := errs[b.order.ID]
		if len(rows) != 1 {
			t.Errorf("order %s (#%s): %d error rows, want 1: %+v", b.order.ID, b.order.Number, len(rows), rows)
			continue
		}
		for _, s := range append(b.says, b.order.Number) {
			if !strings.Contains(rows[0].Message, s) {
				t.Errorf("order #%s: error %q does not say %q", b.order.Number, rows[0].Message, s)
			}
		}
	}
	var warned bool
	for _, row := range logRows(t, e, "--status", "warning", "--flow", "orders") {
		if row.Key == strange.ID && strings.Contains(row.Message, "em_analise_antifraude") && strings.Contains(row.Message, "--import-statuses") {
			warned = true
		}
	}
	if !warned {
		t.Errorf("no warning row for the unknown status of order #%s", strange.Number)
	}
	// A second run changes nothing in Bling and fails on the same orders only.
	r = e.mustRun(1, "sync-orders")
	relNoPanic(t, r)
	c2, d2 := ordersCheck(t, e, tn, want, baseline)
	if errs2 := ordersErrorRows(t, e); len(errs2) != len(bads) {
		t.Errorf("after the second run, error rows for %d orders, want %d", len(errs2), len(bads))
	}
	t.Logf("bad orders: %d (one error row each), unknown status: 1 warning, valid orders compared: %d (again %d), duplicates found: %d",
		len(bads), compared, c2, dups+d2)
}
