package e2e

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/cazbling/cazbling/pkg/sandbox/blingsim"
	"github.com/cazbling/cazbling/pkg/sandbox/cazcosim"
)

// The data, checks and store reads of the orders scenarios (orders_test.go). The
// processes, the seed and the store handle are the reliability suite's
// (reliability_test.go).

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

// ordersLinkStates counts tn's order links by state, and returns the state of the
// link of each order number.
func ordersLinkStates(t *testing.T, e *env, tn tenant) (counts map[string]int, byNumber map[string]string) {
	t.Helper()
	db := relDB(t, e)
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
	db := relDB(t, e)
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
