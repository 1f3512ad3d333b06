package e2e

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

	_ "github.com/mattn/go-sqlite3"
	"github.com/shopspring/decimal"

	"github.com/cazbling/cazbling/pkg/sandbox"
	"github.com/cazbling/cazbling/pkg/sandbox/blingsim"
	"github.com/cazbling/cazbling/pkg/sandbox/cazcosim"
)

// The reliability suite (issue 7): kill -9 loops, faults, races, store faults, bad
// input and secrets, each against the built binary and ending with both sides' full
// state compared. This file holds the kill loops and the helpers the suite shares;
// the helpers are prefixed rel so as not to collide with the other e2e files.

// ---------------------------------------------------------------- environment

// relConfig changes what newRelEnv builds.
type relConfig struct {
	sandbox func(*sandbox.Options)          // sandbox options (after the harness defaults)
	wrap    func(http.Handler) http.Handler // serve the sandbox through this (e.g. a recorder)
	noKey   bool                            // no CAZBLING_KEY: the key file <db>.key is used
	env     map[string]string               // variables to set ("" removes one)
}

// newRelEnv is newEnv with the changes of cfg: the same empty sandbox without rate
// limits and the same binary environment, unless cfg says otherwise.
func newRelEnv(t *testing.T, cfg relConfig) *env {
	t.Helper()
	back := new(atomic.Int64) // as newEnv, so that backdated works here too
	o := sandbox.Options{Seed: sandbox.SeedEmpty, BlingRate: -1, CazcoRatePerMinute: 0,
		Now: func() time.Time { return time.Now().Add(-time.Duration(back.Load())) }}
	if cfg.sandbox != nil {
		cfg.sandbox(&o)
	}
	sb, err := sandbox.New(o)
	if err != nil {
		t.Fatal(err)
	}
	h := sb.Handler()
	if cfg.wrap != nil {
		h = cfg.wrap(h)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	vars := map[string]string{
		"CAZBLING_DB":            filepath.Join(dir, "store", "cazbling.db"),
		"CAZBLING_KEY":           base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32)),
		"CAZBLING_BLING_RATE":    "0",
		"CAZBLING_BLING_IP_RATE": "0",
		"CAZBLING_CAZCO_RPM":     "0",
		"CAZBLING_RETRY_BASE":    "20ms",
		"CAZBLING_MARGIN":        "1ms",
		"CAZBLING_LEASE_TTL":     leaseTTL.String(),
		"HOME":                   dir,
		"PATH":                   os.Getenv("PATH"),
	}
	if cfg.noKey {
		delete(vars, "CAZBLING_KEY")
	}
	for k, v := range cfg.env {
		if v == "" {
			delete(vars, k)
		} else {
			vars[k] = v
		}
	}
	e := &env{t: t, sb: sb, base: srv.URL, dir: dir, back: back}
	for k, v := range vars {
		e.vars = append(e.vars, k+"="+v)
	}
	return e
}

// relDBPath is the scenario's store file.
func relDBPath(e *env) string { return filepath.Join(e.dir, "store", "cazbling.db") }

// relSeed is the seed of a randomized scenario, printed so that a failure can be
// replayed with CAZBLING_E2E_SEED.
func relSeed(t *testing.T) uint64 {
	t.Helper()
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("CAZBLING_E2E_SEED"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("CAZBLING_E2E_SEED=%q: %v", s, err)
		}
		seed = n
	}
	t.Logf("seed %d (replay: CAZBLING_E2E_SEED=%d go test -run '^%s$' ./pkg/e2e/)", seed, seed, t.Name())
	return seed
}

// relNoPanic fails when a run's output shows a Go panic or a goroutine dump.
func relNoPanic(t *testing.T, r result) {
	t.Helper()
	for _, s := range []string{r.stdout, r.stderr} {
		if strings.Contains(s, "panic:") || strings.Contains(s, "goroutine ") {
			t.Fatalf("the run panicked:\n%s", r)
		}
	}
}

// relRun runs the binary and checks it neither panicked nor exited with a status
// other than 0 or 1.
func relRun(t *testing.T, e *env, args ...string) result {
	t.Helper()
	r := e.run(args...)
	relNoPanic(t, r)
	if r.code != 0 && r.code != 1 {
		t.Fatalf("cazbling %s: exit %d, want 0 or 1:\n%s", strings.Join(args, " "), r.code, r)
	}
	return r
}

// ---------------------------------------------------------------- processes

// relProc is a started run of the binary.
type relProc struct {
	cmd     *exec.Cmd
	started time.Time
	done    chan struct{}
	out     bytes.Buffer
	errb    bytes.Buffer
	code    int
	took    time.Duration
}

// relStart starts the binary with args and returns at once.
func relStart(t *testing.T, e *env, args ...string) *relProc {
	t.Helper()
	p := &relProc{done: make(chan struct{})}
	p.cmd = e.command(context.Background(), args...)
	p.cmd.Stdout, p.cmd.Stderr = &p.out, &p.errb
	p.started = time.Now()
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		err := p.cmd.Wait()
		p.took = time.Since(p.started)
		if err != nil {
			p.code = -1
			if p.cmd.ProcessState != nil {
				p.code = p.cmd.ProcessState.ExitCode()
			}
		}
		close(p.done)
	}()
	return p
}

// killAt waits until d after the start and sends SIGKILL to the process group. It
// reports whether the process was still running (the kill landed).
func (p *relProc) killAt(d time.Duration) bool {
	select {
	case <-p.done:
		return false
	case <-time.After(time.Until(p.started.Add(d))):
	}
	select {
	case <-p.done:
		return false
	default:
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	<-p.done
	return true
}

// wait waits for the end (at most 3 minutes) and returns the result.
func (p *relProc) wait(t *testing.T) result {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(3 * time.Minute):
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
		t.Fatal("the run took more than 3 minutes")
	}
	return result{code: p.code, stdout: p.out.String(), stderr: p.errb.String()}
}

// ---------------------------------------------------------------- the store

// relDB opens the scenario's store file directly.
func relDB(t *testing.T, e *env) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+relDBPath(e)+"?_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// relExpireLeases makes every lease lapse, as waiting out the lease TTL would after a
// kill -9 (the killed process never released it). It returns how many were held.
func relExpireLeases(t *testing.T, e *env) int64 {
	t.Helper()
	db := relDB(t, e)
	defer db.Close()
	res, err := db.Exec(`UPDATE leases SET expires_at = 0 WHERE expires_at > 0`)
	if err != nil {
		t.Fatalf("expire leases: %v", err)
	}
	n, _ := res.RowsAffected()
	return n
}

// relIntegrity runs SQLite's integrity check on the store.
func relIntegrity(t *testing.T, e *env) {
	t.Helper()
	db := relDB(t, e)
	defer db.Close()
	var s string
	if err := db.QueryRow(`PRAGMA integrity_check`).Scan(&s); err != nil || s != "ok" {
		t.Errorf("store integrity check: %q, %v", s, err)
	}
}

// relCursorsSane reads `tenants show ID -o json` and checks that every time cursor
// parses as a time not in the future, and that no full-sync progress is left. It
// returns the cursors checked.
func relCursorsSane(t *testing.T, e *env, tn tenant) int {
	t.Helper()
	r := e.mustRun(0, "tenants", "show", tn.ID, "-o", "json")
	var d struct {
		Status  string `json:"status"`
		Cursors []struct {
			Stream string `json:"stream"`
			Value  string `json:"value"`
		} `json:"cursors"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &d); err != nil {
		t.Fatalf("tenants show json: %v\n%s", err, r.stdout)
	}
	if d.Status != "active" {
		t.Errorf("tenant %s is %s, want active", tn.ID, d.Status)
	}
	checked := 0
	now := time.Now()
	for _, c := range d.Cursors {
		if c.Stream == "products.full" {
			if c.Value != "" {
				t.Errorf("full-sync progress left behind: %q", c.Value)
			}
			continue
		}
		at, err := time.Parse(time.RFC3339Nano, c.Value)
		if err != nil {
			t.Errorf("cursor %s = %q is not a time: %v", c.Stream, c.Value, err)
			continue
		}
		if at.After(now) || at.Before(now.Add(-time.Hour)) {
			t.Errorf("cursor %s = %s is not in the last hour", c.Stream, c.Value)
		}
		checked++
	}
	return checked
}

// ---------------------------------------------------------------- both sides

// relCreates counts, per SKU, the CaZco product creations (POST /products answered
// 201) of tn's store, and returns the SKUs created more than once.
func relCreates(t *testing.T, e *env, tn tenant) (creates int, twice []string) {
	t.Helper()
	per := map[string]int{}
	for _, w := range e.sb.Cazco.Writes(tn.CazcoKey) {
		if w.Method != http.MethodPost || !strings.HasSuffix(w.Path, "/products") || w.Status != http.StatusCreated {
			continue
		}
		var b struct {
			SKU string `json:"sku"`
		}
		if err := json.Unmarshal([]byte(w.Body), &b); err != nil {
			t.Errorf("CaZco POST /products body: %v", err)
			continue
		}
		per[b.SKU]++
		creates++
	}
	for sku, n := range per {
		if n > 1 {
			twice = append(twice, fmt.Sprintf("%s×%d", sku, n))
		}
	}
	return creates, twice
}

// relCatalogueDiffs counts the differences expectCatalogue would report, without
// failing: for convergence loops.
func relCatalogueDiffs(e *env, tn tenant, skip map[string]bool) int {
	caz := e.cazcoBySKU(tn)
	diffs, want := 0, 0
	for _, p := range e.sb.Bling.Products(tn.ClientID) {
		if p.Tipo == "S" || p.Formato == "V" || p.Codigo == "" || skip[p.Codigo] {
			continue
		}
		want++
		c, ok := caz[p.Codigo]
		if !ok {
			diffs++
			continue
		}
		if c.Price != p.Preco.Round(2).StringFixed(2) {
			diffs++
		}
		if name := p.Nome; utf8.RuneCountInString(name) <= 255 && name != "" && c.Name != name ||
			utf8.RuneCountInString(name) > 255 && !strings.HasPrefix(name, c.Name) {
			diffs++
		}
		bal, _ := e.sb.Bling.Stock(tn.ClientID, p.ID)
		q := bal.SaldoVirtualTotal.Floor().IntPart()
		if q < 0 || p.Situacao != "A" {
			q = 0 // inactive in Bling: stock 0 in CaZco (issue 17)
		}
		if c.Stock.Quantity != q {
			diffs++
		}
	}
	if len(caz) != want {
		diffs++
	}
	return diffs
}

// relImportable are tn's CaZco orders in a default importable status.
func relImportable(e *env, tn tenant) []cazcosim.Order {
	ok := map[string]bool{}
	for _, s := range []string{"awaiting_confirmation", "processing", "billed", "ready_to_delivery",
		"shipped", "transit", "delivered", "completed"} {
		ok[s] = true
	}
	var out []cazcosim.Order
	for _, o := range e.sb.Cazco.Orders(tn.CazcoKey) {
		if ok[o.Status] {
			out = append(out, o)
		}
	}
	return out
}

// relOrdersDiff compares Bling's orders with want by numeroLoja: each once, with the
// CaZco items (SKU and quantity) and total, and none other. It reports the orders
// compared, the duplicates, and (with report) fails on every difference.
func relOrdersDiff(t *testing.T, e *env, tn tenant, want []cazcosim.Order, report bool) (compared, duplicates, diffs int) {
	t.Helper()
	fail := func(format string, a ...any) {
		diffs++
		if report {
			t.Errorf(format, a...)
		}
	}
	byNumber := map[string][]blingsim.Order{}
	for _, b := range e.sb.Bling.Orders(tn.ClientID) {
		byNumber[b.NumeroLoja] = append(byNumber[b.NumeroLoja], b)
	}
	wanted := map[string]bool{}
	for _, o := range want {
		wanted[o.Number] = true
		bs := byNumber[o.Number]
		if len(bs) == 0 {
			fail("CaZco order %s (#%s) is not in Bling", o.ID, o.Number)
			continue
		}
		if len(bs) > 1 {
			duplicates += len(bs) - 1
			fail("CaZco order #%s is filed %d times in Bling", o.Number, len(bs))
		}
		compared++
		b := bs[0]
		if len(b.Itens) != len(o.Items) {
			fail("#%s: Bling has %d items, CaZco %d", o.Number, len(b.Itens), len(o.Items))
		} else {
			for k, it := range o.Items {
				if b.Itens[k].Codigo != it.SKU || !b.Itens[k].Quantidade.Equal(decimal.NewFromInt(it.Quantity)) {
					fail("#%s item %d: Bling %s×%s, CaZco %s×%d", o.Number, k+1, b.Itens[k].Codigo, b.Itens[k].Quantidade, it.SKU, it.Quantity)
				}
			}
		}
		if total := decimal.RequireFromString(o.Totals.Total); !b.Total.Equal(total) {
			fail("#%s: Bling total %s, CaZco %s", o.Number, b.Total, total)
		}
	}
	for n, bs := range byNumber {
		if !wanted[n] {
			fail("Bling holds %d order(s) numeroLoja %q that should not be filed", len(bs), n)
		}
	}
	contacts := map[string]int{}
	for _, c := range e.sb.Bling.Contacts(tn.ClientID) {
		contacts[c.NumeroDocumento]++
	}
	for doc, n := range contacts {
		if n > 1 && doc != "" {
			duplicates += n - 1
			fail("document %s has %d Bling contacts", doc, n)
		}
	}
	return compared, duplicates, diffs
}

// relCPF is a valid CPF for buyer i.
func relCPF(i int) string {
	body := fmt.Sprintf("%09d", 300100000+i*7919)
	return body + blingsim.CPFCheckDigits(body)
}

// relOrder is a CaZco order of buyer i with 1–3 items of the first catalogue SKUs.
func relOrder(i, catalogue int, status string) cazcosim.Order {
	name := fmt.Sprintf("Cliente Confiável %d", i)
	var items []cazcosim.OrderItem
	seen := map[string]bool{}
	for k := range 1 + i%3 {
		sku := fmt.Sprintf("SKU-%05d", (i*13+k*7)%catalogue)
		if !seen[sku] {
			seen[sku] = true
			items = append(items, cazcosim.OrderItem{SKU: sku, Name: "Produto " + sku, UnitPrice: fmt.Sprintf("%d.90", 10+(i+k)%40),
				Quantity: int64(1 + (i+k)%3)})
		}
	}
	return cazcosim.Order{
		Status: status,
		Customer: cazcosim.Customer{Name: name, Email: cazcosim.Ptr(fmt.Sprintf("c%d@example.com", i)),
			DocumentType: "CPF", Document: relCPF(i % 40)},
		ShippingAddress: cazcosim.Address{Recipient: cazcosim.Ptr(name), Street: "Rua Augusta", Number: strconv.Itoa(10 + i),
			Neighborhood: "Consolação", City: "São Paulo", State: "SP", Postcode: "01305000", Country: "BR"},
		Items:    items,
		Shipping: cazcosim.Shipping{Price: "9.90", Carrier: cazcosim.Ptr("Correios")},
		Payment:  cazcosim.Payment{Method: []string{"pix", "boleto", "credit_card"}[i%3]},
	}
}

// relAddOrder adds an order to tn's CaZco store.
func relAddOrder(t *testing.T, e *env, tn tenant, o cazcosim.Order) string {
	t.Helper()
	id, err := e.sb.Cazco.AddOrder(tn.CazcoKey, o)
	if err != nil {
		t.Fatalf("add CaZco order: %v", err)
	}
	return id
}

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
