package e2e

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/shopspring/decimal"

	"github.com/cazbling/cazbling/pkg/sandbox"
	"github.com/cazbling/cazbling/pkg/sandbox/blingsim"
	"github.com/cazbling/cazbling/pkg/sandbox/cazcosim"
)

// expectCatalogue checks that CaZco holds exactly the sellable Bling products of tn,
// with their data and stock (total virtual balance, clamped at 0). skip names SKUs
// that are expected to be absent (bad data).
func expectCatalogue(t *testing.T, e *env, tn tenant, skip map[string]bool) {
	t.Helper()
	for _, msg := range catalogueProblems(e, tn, skip) {
		t.Error(msg)
	}
}

// catalogueProblems lists what expectCatalogue reports, without failing: convergence
// loops count them.
func catalogueProblems(e *env, tn tenant, skip map[string]bool) []string {
	var out []string
	caz := e.cazcoBySKU(tn)
	want := 0
	for _, p := range e.sb.Bling.Products(tn.ClientID) {
		if p.Tipo == "S" || p.Formato == "V" || p.Codigo == "" || skip[p.Codigo] {
			continue
		}
		want++
		c, ok := caz[p.Codigo]
		if !ok {
			out = append(out, fmt.Sprintf("SKU %s (Bling %d) missing in CaZco", p.Codigo, p.ID))
			continue
		}
		name := p.Nome
		if utf8.RuneCountInString(name) > 255 {
			if utf8.RuneCountInString(c.Name) > 255 || !strings.HasPrefix(name, c.Name) {
				out = append(out, fmt.Sprintf("SKU %s: long name not cut to a prefix of ≤255: %q", p.Codigo, c.Name))
			}
		} else if c.Name != name {
			out = append(out, fmt.Sprintf("SKU %s: name %q, want %q", p.Codigo, c.Name, name))
		}
		if wantPrice := p.Preco.Round(2).StringFixed(2); c.Price != wantPrice {
			out = append(out, fmt.Sprintf("SKU %s: price %s, want %s", p.Codigo, c.Price, wantPrice))
		}
		wantStatus := map[string]string{"A": "active"}[p.Situacao]
		if wantStatus == "" {
			wantStatus = "inactive"
		}
		if c.Status != wantStatus {
			out = append(out, fmt.Sprintf("SKU %s: status %s, want %s", p.Codigo, c.Status, wantStatus))
		}
		bal, _ := e.sb.Bling.Stock(tn.ClientID, p.ID)
		wantQty := bal.SaldoVirtualTotal.Floor().IntPart()
		if wantQty < 0 || wantStatus == "inactive" {
			wantQty = 0 // inactive in Bling: nothing to sell behind it (issue 17)
		}
		if c.Stock.Quantity != wantQty {
			out = append(out, fmt.Sprintf("SKU %s: stock %d, want %d", p.Codigo, c.Stock.Quantity, wantQty))
		}
	}
	if len(caz) != want {
		out = append(out, fmt.Sprintf("CaZco holds %d products, want exactly %d", len(caz), want))
	}
	return out
}

// TestE2EActivateThenIncremental is the products issue's main scenario: activation
// over 1,000 products (30 of them already in CaZco with stale data), then changes to
// data and stock, with the CaZco writes counted.
func TestE2EActivateThenIncremental(t *testing.T) {
	e := newEnv(t)
	tn := e.addTenant("loja-e2e")
	var ids map[string]int64
	e.backdated(2*time.Hour, func() {
		ids = e.seedCatalogue(tn, 1000, func(i int) int64 { return int64(i % 17) })
	})
	for i := range 30 {
		sku := fmt.Sprintf("SKU-%05d", i*31)
		if _, err := e.sb.Cazco.PutProduct(tn.CazcoKey, cazcosim.Product{
			SKU: sku, Name: "Nome antigo", Price: "1.00", Status: "inactive",
			Stock: cazcosim.Stock{Quantity: 999, WarehouseCode: "default"},
		}); err != nil {
			t.Fatal(err)
		}
	}

	r := e.mustRun(0, e.activateArgs(tn)...)
	if !strings.Contains(r.stdout, "970") || !strings.Contains(r.stdout, "loja-e2e") {
		t.Errorf("activate summary should show 970 created:\n%s", r.stdout)
	}
	expectCatalogue(t, e, tn, nil)

	// A second run of each flow writes nothing to CaZco.
	e.sb.ResetCounters()
	e.mustRun(0, "sync-products")
	e.mustRun(0, "sync-stock")
	if p, b, s := e.cazcoWrites(); p+b+s != 0 {
		t.Errorf("second runs wrote to CaZco: %d product writes, %d stock batches, %d single stock writes", p, b, s)
	}

	// 20 products' data changed, 30 products' stock changed (no alteration date), 5 added.
	for i := range 20 {
		sku := fmt.Sprintf("SKU-%05d", 100+i)
		p, _ := e.sb.Bling.Product(tn.ClientID, ids[sku])
		p.Preco = blingsim.MustNumber("77.70")
		p.Nome = p.Nome + " (nova versão)"
		e.sb.Bling.PutProduct(tn.ClientID, p)
	}
	for i := range 30 {
		sku := fmt.Sprintf("SKU-%05d", 500+i)
		if err := e.sb.Bling.SetStock(tn.ClientID, ids[sku], 0, decimal.NewFromInt(int64(100+i))); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 5 {
		p := blingProduct(fmt.Sprintf("NEW-%d", i), fmt.Sprintf("Produto Novo %d", i), "19.90")
		id := e.sb.Bling.PutProduct(tn.ClientID, p)
		if err := e.sb.Bling.SetStock(tn.ClientID, id, 0, decimal.NewFromInt(3)); err != nil {
			t.Fatal(err)
		}
	}
	e.sb.ResetCounters()
	e.mustRun(0, "sync-products")
	e.mustRun(0, "sync-stock")
	expectCatalogue(t, e, tn, nil)
	p, b, s := e.cazcoWrites()
	t.Logf("incremental: %d product writes, %d stock batches, %d single stock writes", p, b, s)
	if p != 25 || b != 1 || s != 0 {
		t.Errorf("CaZco writes: %d product writes, %d stock batches, %d singles; want 25, 1, 0", p, b, s)
	}
	// The README's cost model for this workload. Every product listing is asked once
	// per stock class (filtroSaldoEstoque 1, 0, 2), the overlap with the last run
	// included. sync-products: 3 pages and 5 details for the 5 new products, 1 SKU
	// look-up (3 calls) for those 5, which no link vouches for; sync-stock: 3 pages for
	// 25 changed products (20 edited + 5 new, whose inclusion is also an alteration)
	// and no look-up (their links vouch for them). The 5 new ones were read by
	// sync-products since the stock cursor, unchanged in the list: more than 3, so
	// Bling is asked (3 listings of their ids) whether they changed since; they did
	// (they were created since), so all 25 are read. Then one balance read per 100 of
	// the 1,005 links in the class their last sent level predicts (11), and one more
	// per class for the few that changed class. CaZco: 5 GETs by SKU (new products
	// without a link) besides the writes.
	c := e.sb.Counters()
	details := c.Count(sandbox.APIBling, "GET", "/produtos/{id}", 0)
	lists := c.Count(sandbox.APIBling, "GET", "/produtos", 0)
	balances := c.Count(sandbox.APIBling, "GET", "/estoques/saldos", 0)
	bySKU := c.Count(sandbox.APICazco, "GET", "/products", 0)
	t.Logf("incremental Bling requests: %d details, %d list pages and SKU look-ups, %d balance reads; CaZco: %d GETs by SKU",
		details, lists, balances, bySKU)
	if details != 30 || lists != 12 || balances < 11 || balances > 13 || bySKU != 5 {
		t.Errorf("requests differ from the cost model: %d details (want 30), %d list+look-ups (want 12), %d balance reads (want 11..13), %d CaZco GETs by SKU (want 5)",
			details, lists, balances, bySKU)
	}
	// The stock batch carried the 30 changed levels and the 5 new products' levels.
	if n := countStockSet(t, e, "stock"); n != 35 {
		t.Errorf("stock rows of the last run: %d, want 35", n)
	}
}

// countStockSet counts the stock_set rows of the newest run of a flow.
func countStockSet(t *testing.T, e *env, flow string) int {
	t.Helper()
	r := e.mustRun(0, "logs", "--runs", "--flow", flow, "--limit", "1", "-o", "json")
	var runs []struct {
		RunID    int64 `json:"run_id"`
		StockSet int   `json:"stock_set"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &runs); err != nil || len(runs) != 1 {
		t.Fatalf("logs --runs json: %v\n%s", err, r.stdout)
	}
	return runs[0].StockSet
}

// TestE2EKilledFullSyncResumes kills activate's full sync at several moments, then
// lets it finish: CaZco ends with every product once.
func TestE2EKilledFullSyncResumes(t *testing.T) {
	t.Parallel() // convergence, not timing: see harness_test.go
	e := newEnv(t)
	tn := e.addTenant("loja-kill")
	e.seedCatalogue(tn, 400, func(i int) int64 { return int64(i % 5) })
	// Slow Bling a little so that a kill lands mid-walk.
	if err := e.sb.SetFaults(sandbox.APIBling, sandbox.Faults{Latency: 2 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	e.mustRun(0, e.activateArgs(tn, "--no-initial-sync")...)
	kills := 0
	for i, d := range []time.Duration{300 * time.Millisecond, 700 * time.Millisecond, 1100 * time.Millisecond} {
		if e.killAfter(d, "sync-products", "--full") {
			kills++
			waitLease()
		}
		t.Logf("kill %d after %s: CaZco has %d products", i, d, len(e.sb.Cazco.Products(tn.CazcoKey)))
	}
	if kills == 0 {
		t.Fatal("no kill landed mid-run; the scenario proves nothing")
	}
	waitLease()
	e.mustRun(0, "sync-products", "--full")
	e.mustRun(0, "sync-stock")
	expectCatalogue(t, e, tn, nil)
	t.Logf("kills: %d, products compared: 400, duplicates: 0", kills)
}

// TestE2EBadProductData: products without SKU or with a SKU used twice get one error
// row each, the rest is synced, exit 1; a long name is cut with a warning, a negative
// balance goes as 0 with a warning.
func TestE2EBadProductData(t *testing.T) {
	e := newEnv(t)
	tn := e.addTenant("loja-bad")
	e.seedCatalogue(tn, 20, func(i int) int64 { return 4 })
	noSKU := blingProduct("", "Produto Sem Código", "9.90")
	noSKUID := e.sb.Bling.PutProduct(tn.ClientID, noSKU)
	dup := blingProduct("SKU-00003", "Outro produto com o mesmo SKU", "5.00")
	dupID := e.sb.Bling.PutProduct(tn.ClientID, dup)
	long := blingProduct("LONG-1", strings.Repeat("Camiseta Algodão Orgânico Premium ", 10), "49.90")
	e.sb.Bling.PutProduct(tn.ClientID, long)
	neg := blingProduct("NEG-1", "Produto com Saldo Negativo", "12.00")
	negID := e.sb.Bling.PutProduct(tn.ClientID, neg)
	if err := e.sb.Bling.SetStock(tn.ClientID, negID, 0, decimal.NewFromInt(-3)); err != nil {
		t.Fatal(err)
	}

	r := e.mustRun(1, e.activateArgs(tn)...)
	_ = r
	caz := e.cazcoBySKU(tn)
	if got := caz["LONG-1"].Name; utf8.RuneCountInString(got) > 255 || strings.HasSuffix(got, " ") {
		t.Errorf("long name sent as %q", got)
	}
	if caz["NEG-1"].Stock.Quantity != 0 {
		t.Errorf("negative balance sent as %d", caz["NEG-1"].Stock.Quantity)
	}
	if p, ok := caz["SKU-00003"]; ok {
		t.Errorf("SKU-00003 is on two Bling products; neither should be sent, CaZco has %q", p.Name)
	}

	errs := logRows(t, e, "--status", "error")
	if len(errs) != 3 {
		t.Fatalf("error rows: %d, want 3 (no SKU, twice the duplicate SKU): %+v", len(errs), errs)
	}
	var sawNoSKU, sawDup int
	for _, row := range errs {
		switch {
		case strings.Contains(row.Message, "no SKU") && row.BlingID == fmt.Sprint(noSKUID):
			sawNoSKU++
		case row.Key == "SKU-00003" && strings.Contains(row.Message, fmt.Sprint(dupID)):
			sawDup++
		}
	}
	if sawNoSKU != 1 || sawDup != 2 {
		t.Errorf("error rows do not name the products and causes: %+v", errs)
	}
	warns := logRows(t, e, "--status", "warning")
	var sawLong, sawNeg bool
	for _, row := range warns {
		sawLong = sawLong || (row.Key == "LONG-1" && strings.Contains(row.Message, "255"))
		sawNeg = sawNeg || (row.Key == "NEG-1" && strings.Contains(row.Message, "negative"))
	}
	if !sawLong || !sawNeg {
		t.Errorf("warning rows for the long name and the negative balance missing: %+v", warns)
	}
	// Everything else is there.
	expectCatalogue(t, e, tn, map[string]bool{"": true, "SKU-00003": true})
}

// logRow is one row of `logs -o json`. It restates cmd's logRow on purpose: the suite
// reads the output as a user's script would, so a change to the JSON fails here.
type logRow struct {
	Time    string `json:"time"`
	RunID   int64  `json:"run_id"`
	Tenant  string `json:"tenant"`
	Flow    string `json:"flow"`
	Entity  string `json:"entity"`
	Key     string `json:"key"`
	Action  string `json:"action"`
	Status  string `json:"status"`
	Message string `json:"message"`
	BlingID string `json:"bling_id"`
	CazcoID string `json:"cazco_id"`
}

func logRows(t *testing.T, e *env, filters ...string) []logRow {
	t.Helper()
	r := e.mustRun(0, append([]string{"logs", "--limit", "0", "-o", "json"}, filters...)...)
	var rows []logRow
	if err := json.Unmarshal([]byte(r.stdout), &rows); err != nil {
		t.Fatalf("logs json: %v\n%s", err, r.stdout)
	}
	return rows
}

// TestE2EFaultBursts: a burst of Bling 5xx and one of 429 mid-run; the run completes
// (retries) or leaves its cursor for the next run, and nothing is lost.
func TestE2EFaultBursts(t *testing.T) {
	t.Parallel() // convergence, not timing: see harness_test.go
	e := newEnv(t)
	tn := e.addTenant("loja-faults")
	e.seedCatalogue(tn, 150, func(i int) int64 { return int64(i % 7) })
	e.mustRun(0, e.activateArgs(tn, "--no-initial-sync")...)
	if err := e.sb.SetFaults(sandbox.APIBling, sandbox.Faults{Burst429: 6, Burst5xx: 8}); err != nil {
		t.Fatal(err)
	}
	if err := e.sb.SetFaults(sandbox.APICazco, sandbox.Faults{Burst429: 4, Burst5xx: 6}); err != nil {
		t.Fatal(err)
	}
	first := e.run("sync-products", "--full")
	if first.code != 0 && first.code != 1 {
		t.Fatalf("first run: %s", first)
	}
	// Whatever the first run left, the next ones finish it.
	for i := 0; i < 3; i++ {
		if r := e.run("sync-products", "--full"); r.code == 0 {
			break
		}
	}
	e.mustRun(0, "sync-stock")
	expectCatalogue(t, e, tn, nil)
	c := e.sb.Counters()
	t.Logf("faults injected: bling 429=%d 5xx=%d; cazco 429=%d 5xx=%d",
		c.Count(sandbox.APIBling, "", "", 429), c.Count(sandbox.APIBling, "", "", 503),
		c.Count(sandbox.APICazco, "", "", 429), c.Count(sandbox.APICazco, "", "", 503))
}
