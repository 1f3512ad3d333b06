package e2e

import (
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

// rowsFor are the log rows whose key is key.
func rowsFor(rows []logRow, key string) []logRow {
	var out []logRow
	for _, r := range rows {
		if r.Key == key {
			out = append(out, r)
		}
	}
	return out
}

// hasRow reports whether one of rows has status and a message containing each of says.
func hasRow(rows []logRow, status string, says ...string) bool {
	for _, r := range rows {
		if r.Status != status {
			continue
		}
		ok := true
		for _, s := range says {
			ok = ok && strings.Contains(r.Message, s)
		}
		if ok {
			return true
		}
	}
	return false
}

// TestE2EBadInputBothAPIs feeds both APIs data they should not send: Bling products
// with no name, a 10,000-character name of emoji and accents, negative and fractional
// balances, invalid GTIN and NCM, an undocumented situação "E", a service, and a
// variation without SKU; CaZco orders with an invalid CPF, an item of quantity 0, an
// unknown status and an unknown payment method; then a phase where each API answers
// HTML instead of JSON; and a second tenant whose every page is empty. Each bad item
// gets its own row with a message a support person can act on, everything else is
// synced, runs with a failed item exit 1, nothing panics, and once the APIs answer
// JSON again both sides converge.
func TestE2EBadInputBothAPIs(t *testing.T) {
	const catalogue = 15
	start := time.Now()
	e := newEnv(t)
	tn := e.addTenant("loja-dados-ruins")
	empty := e.addTenant("loja-vazia")
	e.seedCatalogue(tn, catalogue, func(i int) int64 { return 10 })

	put := func(p blingsim.Product, stock string) int64 {
		id := e.sb.Bling.PutProduct(tn.ClientID, p)
		if stock != "" && len(p.Variacoes) == 0 {
			if err := e.sb.Bling.SetStock(tn.ClientID, id, 0, decimal.RequireFromString(stock)); err != nil {
				t.Fatal(err)
			}
		}
		return id
	}
	noName := blingProduct("SEM-NOME", "", "10.00")
	noNameID := put(noName, "3")
	huge := string([]rune(strings.Repeat("Camiseta Ñandú 👕 Çaçapava 李小龍 ", 334))[:10000])
	if n := utf8.RuneCountInString(huge); n != 10000 {
		t.Fatalf("huge name has %d runes", n)
	}
	put(blingProduct("NOME-ENORME", huge, "59.90"), "4")
	put(blingProduct("SALDO-NEG", "Produto com saldo negativo", "12.00"), "-3.5")
	put(blingProduct("SALDO-FRAC", "Produto vendido a granel", "7.25"), "2.75")
	badGTIN := blingProduct("GTIN-RUIM", "Produto com GTIN errado", "15.00")
	badGTIN.GTIN = "789123"
	badGTIN.Tributacao.NCM = "61.09"
	put(badGTIN, "5")
	excluded := blingProduct("SIT-E", "Produto excluído no Bling", "30.00")
	excluded.Situacao = "E"
	put(excluded, "8")
	service := blingProduct("SERVICO-1", "Instalação", "100.00")
	service.Tipo = "S"
	put(service, "")
	parent := blingProduct("CAMISA-VAR", "Camisa Polo", "80.00")
	parent.Formato = "V"
	azul := blingProduct("CAMISA-AZUL", "Camisa Polo Azul", "0")
	azul.Variacao = &blingsim.VariationInfo{Nome: "Cor:Azul"}
	semSKU := blingProduct("", "Camisa Polo Verde", "0")
	semSKU.Variacao = &blingsim.VariationInfo{Nome: "Cor:Verde"}
	parent.Variacoes = []blingsim.Product{azul, semSKU}
	parentID := put(parent, "")
	full, _ := e.sb.Bling.Product(tn.ClientID, parentID)
	var semSKUID int64
	for _, v := range full.Variacoes {
		qty := "6"
		if v.Codigo == "" {
			semSKUID, qty = v.ID, "2"
		}
		if err := e.sb.Bling.SetStock(tn.ClientID, v.ID, 0, decimal.RequireFromString(qty)); err != nil {
			t.Fatal(err)
		}
	}

	// Products: activation sends all but the product without a name and the variation
	// without a SKU, and exits 1 for those two.
	r := e.mustRun(1, e.activateArgs(tn)...)
	relNoPanic(t, r)
	e.mustRun(0, e.activateArgs(empty)...)
	skip := map[string]bool{"SEM-NOME": true}
	expectCatalogue(t, e, tn, skip)
	caz := e.cazcoBySKU(tn)
	if p := caz["GTIN-RUIM"]; p.GTIN != nil || p.NCM != nil {
		t.Errorf("invalid GTIN/NCM sent to CaZco: %v %v", p.GTIN, p.NCM)
	}
	if _, ok := caz["SERVICO-1"]; ok {
		t.Errorf("a service was sent to CaZco")
	}
	rows := logRows(t, e, "--tenant", tn.ID)
	checks := []struct {
		key, status string
		says        []string
	}{
		{"bling:" + fmt.Sprint(noNameID), "error", []string{"SEM-NOME", "no name"}},
		{"bling:" + fmt.Sprint(semSKUID), "error", []string{"Cor:Verde", fmt.Sprint(semSKUID), "no SKU", "CAMISA-VAR"}},
		{"NOME-ENORME", "warning", []string{"10000 characters", "255"}},
		{"SALDO-NEG", "warning", []string{"negative"}},
		{"GTIN-RUIM", "warning", []string{"789123", "GTIN"}},
		{"GTIN-RUIM", "warning", []string{"61.09", "NCM"}},
	}
	var errorRows, warningRows int
	for _, c := range checks {
		got := rowsFor(rows, c.key)
		if !hasRow(got, c.status, c.says...) {
			t.Errorf("%s: no %s row saying %q; rows: %+v", c.key, c.status, c.says, got)
		}
	}
	for _, row := range rows {
		switch row.Status {
		case "error":
			errorRows++
		case "warning":
			warningRows++
		}
	}
	if errorRows != 2 {
		t.Errorf("error rows: %d, want 2 (the product without a name, the variation without a SKU): %+v", errorRows, rows)
	}

	// Orders.
	var want []cazcosim.Order
	for i := range 5 {
		o := relOrder(200+i, catalogue, "processing")
		if i == 2 {
			o.Payment.Method = "cripto_moeda"
		}
		if i == 3 {
			o.Customer.Name = strings.Repeat("Joãozinho Ñandú 👩🏽‍💻 ", 300)
		}
		id := relAddOrder(t, e, tn, o)
		stored, _ := e.sb.Cazco.Order(tn.CazcoKey, id)
		want = append(want, stored)
	}
	badCPF := relOrder(210, catalogue, "processing")
	badCPF.Customer.Document = badCPF.Customer.Document[:9] + "00"
	if blingsim.ValidCPF(badCPF.Customer.Document) {
		badCPF.Customer.Document = badCPF.Customer.Document[:9] + "99"
	}
	badCPFID := relAddOrder(t, e, tn, badCPF)
	zero := relOrder(211, catalogue, "processing")
	zero.Items = append(zero.Items, cazcosim.OrderItem{SKU: "SKU-00009", Quantity: 1})
	zeroID := relAddOrder(t, e, tn, zero)
	if err := e.sb.Cazco.UpdateOrder(tn.CazcoKey, zeroID, func(o *cazcosim.Order) {
		last := &o.Items[len(o.Items)-1]
		line := decimal.RequireFromString(last.Total)
		last.Quantity, last.Total = 0, "0.00"
		items := decimal.RequireFromString(o.Totals.Items).Sub(line)
		total := decimal.RequireFromString(o.Totals.Total).Sub(line)
		o.Totals.Items, o.Totals.Total, o.Payment.Amount = items.StringFixed(2), total.StringFixed(2), total.StringFixed(2)
	}); err != nil {
		t.Fatal(err)
	}
	strange := relAddOrder(t, e, tn, relOrder(212, catalogue, "em_analise_antifraude"))

	r = e.mustRun(1, "sync-orders")
	relNoPanic(t, r)
	compared, dups, _ := relOrdersDiff(t, e, tn, want, true)
	orderRows := logRows(t, e, "--tenant", tn.ID, "--flow", "orders")
	badOrders := 0
	for _, c := range []struct {
		id   string
		says []string
	}{
		{badCPFID, []string{badCPF.Customer.Document, "CPF"}},
		{zeroID, []string{"SKU-00009", "quantity 0"}},
	} {
		got := rowsFor(orderRows, c.id)
		if !hasRow(got, "error", c.says...) {
			t.Errorf("order %s: no error row saying %q; rows: %+v", c.id, c.says, got)
		}
		badOrders++
	}
	if got := rowsFor(orderRows, strange); len(got) == 0 || got[0].Status == "error" || !strings.Contains(got[0].Message, "em_analise_antifraude") {
		t.Errorf("order with an unknown status: want a non-error row naming the status, got %+v", got)
	}

	// HTML instead of JSON, from each API in turn: the run fails with a clear message
	// and writes nothing half; then the next runs converge.
	htmlRuns := 0
	okBefore := checkEmptyRuns(t, e, empty, 0)
	for _, c := range []struct {
		api  string
		args []string
	}{
		{sandbox.APICazco, []string{"sync-orders"}},
		{sandbox.APIBling, []string{"sync-stock"}},
		{sandbox.APIBling, []string{"sync-products"}},
	} {
		// The sandbox answers either an HTML page or cut JSON; try seeds until the
		// first answer is HTML (the run stops at the first bad answer).
		var r result
		for seed := int64(0); seed < 16; seed++ {
			if err := e.sb.SetFaults(c.api, sandbox.Faults{MalformedRate: 1, Seed: seed}); err != nil {
				t.Fatal(err)
			}
			r = e.run(c.args...)
			relNoPanic(t, r)
			if strings.Contains(r.stderr, "<!DOCTYPE html>") {
				break
			}
		}
		if r.code != 1 {
			t.Errorf("%s while %s answers HTML: exit %d, want 1:\n%s", c.args[0], c.api, r.code, r)
		}
		low := strings.ToLower(r.stderr)
		if !strings.Contains(low, "json") && !strings.Contains(low, "html") && !strings.Contains(low, "malformed") {
			t.Errorf("%s while %s answers HTML: the message does not say the answer was not JSON:\n%s", c.args[0], c.api, r.stderr)
		}
		for _, line := range strings.Split(r.stderr, "\n") {
			if strings.Contains(line, "tenant run failed") && strings.Contains(line, tn.ID) {
				t.Logf("%s while %s answers HTML: %s", c.args[0], c.api, line)
			}
		}
		if err := e.sb.SetFaults(c.api, sandbox.Faults{}); err != nil {
			t.Fatal(err)
		}
		htmlRuns++
	}
	// The last run of the HTML phase is the highest id: runs of tenants worked at once
	// may start in another order than their ids, so the newest by start time is not it.
	lastHTML := int64(0)
	for _, run := range logRows(t, e, "--runs", "--limit", "0") {
		lastHTML = max(lastHTML, run.RunID)
	}
	// The bad items fail again on every run that sees them (the product ones while
	// they are in the changed window), and nothing else does.
	for _, args := range [][]string{{"sync-products"}, {"sync-stock"}, {"sync-orders"}} {
		r := relRun(t, e, args...)
		for _, line := range strings.Split(r.stderr, "\n") {
			if strings.Contains(line, "ERRO") && !strings.Contains(line, "tenant run failed") &&
				!strings.Contains(line, "SEM-NOME") && !strings.Contains(line, "Cor:Verde") &&
				!strings.Contains(line, badCPF.Customer.Document) && !strings.Contains(line, "quantity 0") {
				t.Errorf("%s after the HTML phase: an error about something else: %s", args[0], line)
			}
		}
	}
	expectCatalogue(t, e, tn, skip)
	c2, d2, _ := relOrdersDiff(t, e, tn, want, true)
	for _, id := range []string{badCPFID, zeroID, strange} {
		o, _ := e.sb.Cazco.Order(tn.CazcoKey, id)
		for _, b := range e.sb.Bling.Orders(tn.ClientID) {
			if b.NumeroLoja == o.Number {
				t.Errorf("bad order #%s was filed in Bling", o.Number)
			}
		}
	}
	// The empty tenant: every page empty, every run fine, nothing on either side.
	if n := len(e.sb.Cazco.Products(empty.CazcoKey)) + len(e.sb.Bling.Orders(empty.ClientID)); n != 0 {
		t.Errorf("the empty tenant has %d items", n)
	}
	okAfter := checkEmptyRuns(t, e, empty, lastHTML)
	t.Logf("bad products: 2 error rows, %d warning rows; bad orders: %d error rows, 1 unknown status left out; HTML answers: %d runs failed cleanly; empty tenant: %d runs ok (the HTML phase's left out); items compared: %d products, %d orders (again %d); duplicates found: %d; took %s",
		warningRows, badOrders, htmlRuns, okBefore+okAfter, len(caz), compared, c2, dups+d2, time.Since(start).Round(time.Millisecond))
}

// checkEmptyRuns checks that the runs of the empty tenant after run id after ended
// ok, and returns how many there were.
func checkEmptyRuns(t *testing.T, e *env, empty tenant, after int64) int {
	t.Helper()
	n := 0
	for _, run := range logRows(t, e, "--runs", "--tenant", empty.ID) {
		if run.RunID <= after {
			continue
		}
		n++
		if run.Status != "ok" {
			t.Errorf("run %d of the empty tenant (%s) ended %s", run.RunID, run.Flow, run.Status)
		}
	}
	if n == 0 {
		t.Errorf("no runs of the empty tenant after run %d", after)
	}
	return n
}
