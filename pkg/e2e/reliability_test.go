package e2e

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
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

	_ "github.com/mattn/go-sqlite3"
	"github.com/shopspring/decimal"

	"github.com/cazbling/cazbling/pkg/sandbox"
	"github.com/cazbling/cazbling/pkg/sandbox/blingsim"
	"github.com/cazbling/cazbling/pkg/sandbox/cazcosim"
)

// The reliability suite (issue 7): kill -9 loops, faults, races, store faults, bad
// input and secrets, each against the built binary and ending with both sides' full
// state compared. This file holds the helpers the suite shares (the kill loops are in
// killloop_test.go); they are prefixed rel so as not to collide with the other e2e
// files.

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
	if onPostgres() && vars["CAZBLING_DB"] == filepath.Join(dir, "store", "cazbling.db") {
		pgEnv(t, e)
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
	return p.kill()
}

// exited reports whether the process has ended.
func (p *relProc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// kill sends SIGKILL to the process group and waits; it reports whether the
// process was still running when the signal went.
func (p *relProc) kill() bool {
	alive := !p.exited()
	if alive {
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	}
	<-p.done
	return alive
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

// relDB opens the scenario's store directly: its SQLite file, or its PostgreSQL
// schema when the suite runs on PostgreSQL (storeDB).
func relDB(t *testing.T, e *env) storeDB {
	t.Helper()
	return openStoreDB(t, e, "_busy_timeout=5000")
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
	if db.pg {
		return // a check of the SQLite file; a PostgreSQL server keeps its own files
	}
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
//
// It differs from ordersCPF only in its numbers: each suite keeps its own buyers.
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
