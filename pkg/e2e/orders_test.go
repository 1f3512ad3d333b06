package e2e

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
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

// The orders flow end to end: CaZco orders made with cazcosim.AddOrder, the built
// binary's `sync-orders` run (and killed) against the sandbox, and both sides' full
// state compared at the end of every scenario: Bling orders by numeroLoja (zero
// duplicates) with their items, quantities, unit prices, totals and buyers; Bling
// contacts by document (zero duplicates).

// ---------------------------------------------------------------- data

// ordersCPF is a valid CPF (correct check digits) for buyer i.
func ordersCPF(i int) string {
	body := fmt.Sprintf("%09d", 123450000+i*1013)
	return body + blingsim.CPFCheckDigits(body)
}

// ordersCNPJ is a valid CNPJ (correct check digits) for company i.
func ordersCNPJ(i int) string {
	body := fmt.Sprintf("%08d0001", 40110000+i*37)
	return body + blingsim.CNPJCheckDigits(body)
}

// ordersAddress is a complete Brazilian delivery address.
func ordersAddress(name string, i int) cazcosim.Address {
	return cazcosim.Address{
		Recipient: cazcosim.Ptr(name), Street: "Rua das Laranjeiras", Number: strconv.Itoa(100 + i),
		Complement: cazcosim.Ptr("apto " + strconv.Itoa(i%40+1)), Neighborhood: "Centro",
		City: "São Paulo", State: "SP", Postcode: fmt.Sprintf("0131%04d", i%10000), Country: "BR",
		Phone: cazcosim.Ptr("11987654321"),
	}
}

// ordersPerson is a CPF buyer.
func ordersPerson(i int) cazcosim.Customer {
	return cazcosim.Customer{
		Name: fmt.Sprintf("Cliente Pessoa %d da Silva", i), Email: cazcosim.Ptr(fmt.Sprintf("cliente%d@example.com", i)),
		Phone: cazcosim.Ptr("11912345678"), DocumentType: "CPF", Document: ordersCPF(i),
	}
}

// ordersCompany is a CNPJ buyer with a state registration.
func ordersCompany(i int) cazcosim.Customer {
	return cazcosim.Customer{
		Name: fmt.Sprintf("Comprador %d", i), Email: cazcosim.Ptr(fmt.Sprintf("compras%d@empresa.example.com", i)),
		Phone: cazcosim.Ptr("1133334444"), DocumentType: "CNPJ", Document: ordersCNPJ(i),
		CompanyName: cazcosim.Ptr(fmt.Sprintf("Empresa Compradora %d Ltda", i)), StateRegistration: cazcosim.Ptr("110042490114"),
	}
}

// ordersItems are n items of the seeded catalogue (SKU-00000 … SKU-<catalogue-1>),
// varied by i, with quantities 1–4 and sometimes an item discount. Name and unit
// price come from the CaZco product (AddOrder fills them in).
func ordersItems(i, n, catalogue int) []cazcosim.OrderItem {
	items := make([]cazcosim.OrderItem, 0, n)
	seen := map[string]bool{}
	for k := range n {
		sku := fmt.Sprintf("SKU-%05d", (i*7+k*11)%catalogue)
		if seen[sku] {
			continue
		}
		seen[sku] = true
		it := cazcosim.OrderItem{SKU: sku, Quantity: int64(1 + (i+k)%4)}
		if (i+k)%5 == 0 {
			it.Discount = "1.50"
		}
		items = append(items, it)
	}
	return items
}

// ordersNew is an order with the usual shipping and payment; AddOrder fills the rest.
func ordersNew(i int, buyer cazcosim.Customer, status string, items []cazcosim.OrderItem) cazcosim.Order {
	method := []string{"pix", "boleto", "credit_card"}[i%3]
	ship := "0.00"
	if i%2 == 0 {
		ship = "12.90"
	}
	return cazcosim.Order{
		Status: status, Customer: buyer, ShippingAddress: ordersAddress(buyer.Name, i), Items: items,
		Shipping: cazcosim.Shipping{Price: ship, Carrier: cazcosim.Ptr("Correios"), Service: cazcosim.Ptr("SEDEX"),
			EstimatedDeliveryDays: cazcosim.Ptr(3 + i%5)},
		Payment: cazcosim.Payment{Method: method},
		Notes:   cazcosim.Ptr(fmt.Sprintf("Pedido de teste %d", i)),
	}
}

// ordersAdd adds o to tn's CaZco store and returns it as stored (with its id,
// number and totals).
func ordersAdd(t *testing.T, e *env, tn tenant, o cazcosim.Order) cazcosim.Order {
	t.Helper()
	id, err := e.sb.Cazco.AddOrder(tn.CazcoKey, o)
	if err != nil {
		t.Fatalf("add CaZco order: %v", err)
	}
	stored, ok := e.sb.Cazco.Order(tn.CazcoKey, id)
	if !ok {
		t.Fatalf("CaZco order %s not found after adding it", id)
	}
	return stored
}

// ordersTenant is a tenant whose Bling catalogue has n products (stock 50 each),
// activated (so the product sync ran and the product links exist).
func ordersTenant(t *testing.T, e *env, id string, n int) tenant {
	t.Helper()
	tn := e.addTenant(id)
	e.seedCatalogue(tn, n, func(int) int64 { return 50 })
	e.mustRun(0, e.activateArgs(tn)...)
	if got := len(e.sb.Cazco.Products(tn.CazcoKey)); got != n {
		t.Fatalf("after activate CaZco holds %d products, want %d", got, n)
	}
	return tn
}

// ordersMix adds n orders of valid buyers: CPF buyers repeating (buyer i%repeatEvery),
// with every cnpjEvery-th order (when > 0) bought by a company.
func ordersMix(t *testing.T, e *env, tn tenant, n, repeatEvery, cnpjEvery, catalogue int) []cazcosim.Order {
	t.Helper()
	out := make([]cazcosim.Order, 0, n)
	for i := range n {
		buyer := ordersPerson(i % repeatEvery)
		if cnpjEvery > 0 && i%cnpjEvery == cnpjEvery-1 {
			buyer = ordersCompany(i)
		}
		out = append(out, ordersAdd(t, e, tn, ordersNew(i, buyer, "processing", ordersItems(i, 1+i%3, catalogue))))
	}
	return out
}

// ---------------------------------------------------------------- checks

// ordersCheck compares Bling with the CaZco orders that must be filed (want):
// exactly one Bling order per number and none other, with the CaZco items (SKU,
// Bling product, quantity, unit price), shipping, total, note and buyer; and exactly
// one Bling contact per buyer document of want (contacts in baseline, present before
// the scenario, are left out). It returns the orders compared and the duplicates
// found (orders and contacts).
func ordersCheck(t *testing.T, e *env, tn tenant, want []cazcosim.Order, baseline map[int64]bool) (compared, duplicates int) {
	t.Helper()
	skuIDs := map[string]int64{}
	for _, p := range e.sb.Bling.Products(tn.ClientID) {
		skuIDs[p.Codigo] = p.ID
	}
	contacts := map[int64]blingsim.Contact{}
	byDoc := map[string][]int64{}
	for _, c := range e.sb.Bling.Contacts(tn.ClientID) {
		contacts[c.ID] = c
		if baseline[c.ID] {
			continue
		}
		byDoc[c.NumeroDocumento] = append(byDoc[c.NumeroDocumento], c.ID)
	}
	byNumber := map[string][]blingsim.Order{}
	for _, b := range e.sb.Bling.Orders(tn.ClientID) {
		byNumber[b.NumeroLoja] = append(byNumber[b.NumeroLoja], b)
	}
	for n, bs := range byNumber {
		if len(bs) > 1 {
			duplicates += len(bs) - 1
			t.Errorf("numeroLoja %s is filed %d times in Bling", n, len(bs))
		}
	}
	wantNumbers := map[string]bool{}
	wantDocs := map[string]bool{}
	for _, o := range want {
		wantNumbers[o.Number] = true
		wantDocs[o.Customer.Document] = true
		bs := byNumber[o.Number]
		if len(bs) == 0 {
			t.Errorf("CaZco order %s (#%s) is not in Bling", o.ID, o.Number)
			continue
		}
		compared++
		b := bs[0]
		if len(b.Itens) != len(o.Items) {
			t.Errorf("#%s: Bling has %d items, CaZco %d", o.Number, len(b.Itens), len(o.Items))
		} else {
			for k, it := range o.Items {
				bi := b.Itens[k]
				price := decimal.RequireFromString(it.UnitPrice)
				if bi.Codigo != it.SKU || !bi.Quantidade.Equal(decimal.NewFromInt(it.Quantity)) ||
					!bi.Valor.Equal(price) || bi.Produto.ID != skuIDs[it.SKU] || bi.Produto.ID == 0 {
					t.Errorf("#%s item %d: Bling %s×%s at %s (product %d), want %s×%d at %s (product %d)",
						o.Number, k+1, bi.Codigo, bi.Quantidade, bi.Valor, bi.Produto.ID, it.SKU, it.Quantity, price, skuIDs[it.SKU])
				}
			}
		}
		if total := decimal.RequireFromString(o.Totals.Total); !b.Total.Equal(total) {
			t.Errorf("#%s: Bling total %s, CaZco %s", o.Number, b.Total, total)
		}
		if ship := decimal.RequireFromString(o.Shipping.Price); !b.Transporte.Frete.Equal(ship) {
			t.Errorf("#%s: Bling freight %s, CaZco %s", o.Number, b.Transporte.Frete, ship)
		}
		if !strings.Contains(b.Observacoes, o.ID) {
			t.Errorf("#%s: Bling observacoes %q do not name the CaZco order %s", o.Number, b.Observacoes, o.ID)
		}
		if c, ok := contacts[b.Contato.ID]; !ok || c.NumeroDocumento != o.Customer.Document {
			t.Errorf("#%s: Bling contact %d has document %q, want %s", o.Number, b.Contato.ID, c.NumeroDocumento, o.Customer.Document)
		}
	}
	for n := range byNumber {
		if !wantNumbers[n] {
			t.Errorf("Bling holds order numeroLoja %s, which should not be filed", n)
		}
	}
	for doc, ids := range byDoc {
		if len(ids) > 1 {
			duplicates += len(ids) - 1
			t.Errorf("document %s has %d Bling contacts %v", doc, len(ids), ids)
		}
		if !wantDocs[doc] {
			t.Errorf("Bling contact %v (document %s) belongs to no filed order", ids, doc)
		}
	}
	for doc := range wantDocs {
		if len(byDoc[doc]) == 0 {
			t.Errorf("no Bling contact for buyer document %s", doc)
		}
	}
	if got := len(e.sb.Bling.Orders(tn.ClientID)); got != len(want) {
		t.Errorf("Bling holds %d orders, want exactly %d", got, len(want))
	}
	return compared, duplicates
}

// ordersContactIDs are the ids of the account's contacts now (a baseline).
func ordersContactIDs(e *env, tn tenant) map[int64]bool {
	ids := map[int64]bool{}
	for _, c := range e.sb.Bling.Contacts(tn.ClientID) {
		ids[c.ID] = true
	}
	return ids
}

// ordersNoPanic fails when a run's output shows a panic.
func ordersNoPanic(t *testing.T, r result) {
	t.Helper()
	for _, s := range []string{r.stdout, r.stderr} {
		if strings.Contains(s, "panic") || strings.Contains(s, "goroutine ") {
			t.Fatalf("the run panicked:\n%s", r)
		}
	}
}

// ordersErrorRows are the order rows with status error, by CaZco order id.
func ordersErrorRows(t *testing.T, e *env) map[string][]logRow {
	t.Helper()
	out := map[string][]logRow{}
	for _, row := range logRows(t, e, "--status", "error", "--flow", "orders") {
		if row.Entity == "order" {
			out[row.Key] = append(out[row.Key], row)
		}
	}
	return out
}

// ---------------------------------------------------------------- the store

// ordersDB opens the scenario's store file directly, to simulate what only time
// does (a lease lapsing) and to read the order links and cursor.
func ordersDB(t *testing.T, e *env) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+filepath.Join(e.dir, "store", "cazbling.db")+"?_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// ordersExpireLeases makes every lease lapse, as waiting out the lease TTL would
// after a kill -9 (the killed process never released its lease), without the wait.
// It returns how many leases were left behind.
func ordersExpireLeases(t *testing.T, e *env) int64 {
	t.Helper()
	db := ordersDB(t, e)
	defer db.Close()
	res, err := db.Exec(`UPDATE leases SET expires_at = 0`)
	if err != nil {
		t.Fatalf("expire leases: %v", err)
	}
	n, _ := res.RowsAffected()
	return n
}

// ordersLinkStates counts tn's order links by state, and returns the state of the
// link of each order number.
func ordersLinkStates(t *testing.T, e *env, tn tenant) (counts map[string]int, byNumber map[string]string) {
	t.Helper()
	db := ordersDB(t, e)
	defer db.Close()
	rows, err := db.Query(`SELECT number, state FROM order_links WHERE tenant_id = ?`, tn.ID)
	if err != nil {
		t.Fatalf("read order links: %v", err)
	}
	defer rows.Close()
	counts, byNumber = map[string]int{}, map[string]string{}
	for rows.Next() {
		var number, state string
		if err := rows.Scan(&number, &state); err != nil {
			t.Fatal(err)
		}
		counts[state]++
		byNumber[number] = state
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return counts, byNumber
}

// ordersCursorSane checks that tn's orders cursor exists, is a time, and lies
// between notBefore and now.
func ordersCursorSane(t *testing.T, e *env, tn tenant, notBefore time.Time) {
	t.Helper()
	db := ordersDB(t, e)
	defer db.Close()
	var value string
	if err := db.QueryRow(`SELECT value FROM cursors WHERE tenant_id = ? AND stream = 'orders'`, tn.ID).Scan(&value); err != nil {
		t.Errorf("orders cursor of %s: %v", tn.ID, err)
		return
	}
	c, err := time.Parse(time.RFC3339Nano, value)
	if err != nil {
		t.Errorf("orders cursor %q is not a time: %v", value, err)
		return
	}
	if c.Before(notBefore) || c.After(time.Now()) {
		t.Errorf("orders cursor %s is outside [%s, now]", c.Format(time.RFC3339Nano), notBefore.Format(time.RFC3339Nano))
	}
}

// ---------------------------------------------------------------- processes

// ordersProc is a started run of the binary.
type ordersProc struct {
	cmd      *exec.Cmd
	done     chan struct{}
	out, err bytes.Buffer
	code     int
}

// ordersStart starts the binary with args and returns at once.
func ordersStart(t *testing.T, e *env, args ...string) *ordersProc {
	t.Helper()
	p := &ordersProc{done: make(chan struct{})}
	cmd := e.command(context.Background(), args...)
	cmd.Stdout, cmd.Stderr = &p.out, &p.err
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p.cmd = cmd
	go func() {
		err := cmd.Wait()
		p.code = 0
		if err != nil {
			p.code = -1
			if cmd.ProcessState != nil {
				p.code = cmd.ProcessState.ExitCode()
			}
		}
		close(p.done)
	}()
	return p
}

// exited reports whether the process has ended.
func (p *ordersProc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// kill sends SIGKILL to the process group and waits; it reports whether the
// process was still running when the signal went.
func (p *ordersProc) kill() bool {
	alive := !p.exited()
	if alive {
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	}
	<-p.done
	return alive
}

// wait waits for the end (at most 3 minutes) and returns the result.
func (p *ordersProc) wait(t *testing.T) result {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(3 * time.Minute):
		p.kill()
		t.Fatal("the run took more than 3 minutes")
	}
	return result{code: p.code, stdout: p.out.String(), stderr: p.err.String()}
}

// ordersSeed is the seed of a randomized scenario: CAZBLING_E2E_SEED to replay one.
func ordersSeed(t *testing.T) uint64 {
	t.Helper()
	if s := os.Getenv("CAZBLING_E2E_SEED"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("CAZBLING_E2E_SEED=%q: %v", s, err)
		}
		return n
	}
	return uint64(time.Now().UnixNano())
}

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
	ordersNoPanic(t, r)
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
	ordersNoPanic(t, r)
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
	ordersNoPanic(t, r)
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
	const catalogue, orders = 30, 100
	seed := ordersSeed(t)
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
			p := ordersStart(t, e, "sync-orders")
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
			p := ordersStart(t, e, "sync-orders")
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
		leftLeases += ordersExpireLeases(t, e)
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
	ordersNoPanic(t, r)
	if r.code != 0 {
		t.Logf("first clean run exit %d; running once more:\n%s", r.code, r)
		r = e.mustRun(0, "sync-orders")
		ordersNoPanic(t, r)
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
	a, b := ordersStart(t, e, "sync-orders"), ordersStart(t, e, "sync-orders")
	ra, rb := a.wait(t), b.wait(t)
	ordersNoPanic(t, ra)
	ordersNoPanic(t, rb)
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
	p := ordersStart(t, e, "sync-orders")
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
	ordersNoPanic(t, r)
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
		ordersNoPanic(t, r)
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
	ordersNoPanic(t, r)
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
	ordersNoPanic(t, r)
	c2, d2 := ordersCheck(t, e, tn, want, baseline)
	if errs2 := ordersErrorRows(t, e); len(errs2) != len(bads) {
		t.Errorf("after the second run, error rows for %d orders, want %d", len(errs2), len(bads))
	}
	t.Logf("bad orders: %d (one error row each), unknown status: 1 warning, valid orders compared: %d (again %d), duplicates found: %d",
		len(bads), compared, c2, dups+d2)
}
