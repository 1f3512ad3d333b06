package flow

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/cazbling/cazbling/pkg/cazbling"
	"github.com/cazbling/cazbling/pkg/store/sqlite"
)

// ordersEnv is one tenant with a real store, a fake Bling and a fake CaZco.
type ordersEnv struct {
	t      *testing.T
	clock  *testClock
	store  *sqlite.Store
	path   string
	erp    *fakeERP
	market *fakeMarket
	tenant cazbling.Tenant
}

var ordersT0 = time.Date(2026, 3, 10, 15, 0, 0, 0, time.UTC)

func newOrdersEnv(t *testing.T) *ordersEnv {
	t.Helper()
	clock := newTestClock(ordersT0)
	st, path := openTestStore(t, clock.Now)
	e := &ordersEnv{
		t: t, clock: clock, store: st, path: path,
		erp: newFakeERP(), market: newFakeMarket(),
		tenant: cazbling.Tenant{ID: "loja1", Status: cazbling.TenantActive, BlingURL: "http://bling.test", CazcoURL: "http://cazco.test"},
	}
	e.erp.methods = []cazbling.PaymentMethod{
		{ID: 7, Description: "PIX", Type: 17, Status: 1},
		{ID: 8, Description: "Boleto", Type: 15, Status: 1},
		{ID: 9, Description: "Cartão", Type: 3, Status: 1, Default: true},
		{ID: 10, Description: "Boleto antigo", Type: 15, Status: 0},
	}
	e.saveTenant()
	return e
}

func (e *ordersEnv) saveTenant() {
	e.t.Helper()
	if err := e.store.UpsertTenant(context.Background(), e.tenant, nil); err != nil {
		e.t.Fatalf("save tenant: %v", err)
	}
}

func (e *ordersEnv) deps(holder string) Deps {
	return Deps{
		Store:  e.store,
		ERP:    func(cazbling.Tenant) (cazbling.ERP, error) { return e.erp, nil },
		Market: func(cazbling.Tenant) (cazbling.Marketplace, error) { return e.market, nil },
		Now:    e.clock.Now,
		Holder: holder,
	}
}

// run works the orders flow once for the tenant and returns its result.
func (e *ordersEnv) run(opts Options) Result {
	e.t.Helper()
	opts.Tenants = []string{e.tenant.ID}
	res, err := Run(context.Background(), e.deps("test"), cazbling.FlowOrders, opts, SyncOrders)
	if err != nil {
		e.t.Fatalf("run: %v", err)
	}
	if len(res) != 1 {
		e.t.Fatalf("run: %d results, want 1", len(res))
	}
	return res[0]
}

func (e *ordersEnv) links(state cazbling.OrderLinkState) []cazbling.OrderLink {
	e.t.Helper()
	l, err := e.store.OrderLinksByState(context.Background(), e.tenant.ID, state)
	if err != nil {
		e.t.Fatal(err)
	}
	return l
}

func (e *ordersEnv) link(id string) cazbling.OrderLink {
	e.t.Helper()
	l, found, err := e.store.OrderLink(context.Background(), e.tenant.ID, id)
	if err != nil || !found {
		e.t.Fatalf("link of order %s: found %v, %v", id, found, err)
	}
	return l
}

func (e *ordersEnv) logs(f cazbling.LogFilter) []cazbling.LogEntry {
	e.t.Helper()
	f.TenantID, f.Flow = e.tenant.ID, cazbling.FlowOrders
	rows, err := e.store.Logs(context.Background(), f)
	if err != nil {
		e.t.Fatal(err)
	}
	return rows
}

func (e *ordersEnv) cursor() (string, bool) {
	e.t.Helper()
	v, found, err := e.store.Cursor(context.Background(), e.tenant.ID, cazbling.StreamOrders)
	if err != nil {
		e.t.Fatal(err)
	}
	return v, found
}

// assertNoDuplicates fails if two Bling orders carry the same store number, and
// returns the orders by store number.
func (e *ordersEnv) assertNoDuplicates() map[string]fakeERPOrder {
	e.t.Helper()
	by := make(map[string]fakeERPOrder)
	for _, o := range e.erp.Orders() {
		if prev, dup := by[o.Order.StoreNumber]; dup {
			e.t.Errorf("store number %s filed twice in Bling: ids %d and %d", o.Order.StoreNumber, prev.ID, o.ID)
		}
		by[o.Order.StoreNumber] = o
	}
	return by
}

// ---------------------------------------------------------------- test data

// testCPF makes a valid CPF from n, with check digits computed the textbook way
// (independently of ValidCPF).
func testCPF(n int) string {
	body := fmt.Sprintf("%09d", 123456000+n*37)
	return body + checkDigits(body, 2, 10)
}

// testCNPJ makes a valid CNPJ from n.
func testCNPJ(n int) string {
	body := fmt.Sprintf("%08d0001", 11222000+n*13)
	return body + checkDigits(body, 2, 0)
}

// checkDigits appends count modulo-11 check digits to body: CPF weights run from
// first down to 2; CNPJ weights (first 0) cycle 2..9 from the right.
func checkDigits(body string, count, first int) string {
	out := body
	for range count {
		sum := 0
		for i := range len(out) {
			d := int(out[len(out)-1-i] - '0')
			w := i + 2
			if first == 0 {
				w = i%8 + 2
			}
			sum += d * w
		}
		dv := (sum * 10) % 11 % 10
		if first == 0 {
			if r := sum % 11; r < 2 {
				dv = 0
			} else {
				dv = 11 - r
			}
		}
		out += string(rune('0' + dv))
	}
	return out[len(body):]
}

func money(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func testItem(sku string, qty int64, price, discount string) cazbling.OrderItem {
	p, d := money(price), money(discount)
	return cazbling.OrderItem{
		ID: "it-" + sku, SKU: sku, Name: "Produto " + sku, Quantity: qty, UnitPrice: p, Discount: d,
		Total: p.Mul(decimal.NewFromInt(qty)).Sub(d),
	}
}

// testOrder is a paid CaZco order whose totals add up the way CaZco's sandbox makes
// them: discount is the sum of the item discounts.
func testOrder(n int, at time.Time, cust cazbling.Customer, items ...cazbling.OrderItem) cazbling.Order {
	gross, disc := decimal.Zero, decimal.Zero
	for _, it := range items {
		gross = gross.Add(it.UnitPrice.Mul(decimal.NewFromInt(it.Quantity)))
		disc = disc.Add(it.Discount)
	}
	ship := money("19.90")
	addr := cazbling.Address{Street: "Rua das Flores", Number: "10", Neighborhood: "Centro", City: "São Paulo", State: "SP", Postcode: "01001000", Country: "BR"}
	return cazbling.Order{
		ID: fmt.Sprintf("ord-%03d", n), Number: fmt.Sprintf("%d", 5000+n), Status: "processing",
		CreatedAt: at, UpdatedAt: at, PaidAt: at, Customer: cust, Billing: addr, Shipping: addr,
		Items: items, ItemsTotal: gross, Discount: disc, ShippingPrice: ship,
		Total: gross.Sub(disc).Add(ship), Carrier: "Correios", EstimatedDeliveryDays: 5,
		PaymentMethod: "pix", PaymentStatus: "paid", Installments: 1,
	}
}

func cpfBuyer(n int) cazbling.Customer {
	return cazbling.Customer{Name: fmt.Sprintf("Comprador %d", n), Email: fmt.Sprintf("c%d@example.com", n), Phone: "+5511999998888", DocumentType: "CPF", Document: testCPF(n)}
}

func cnpjBuyer(n int, ie string) cazbling.Customer {
	return cazbling.Customer{Name: "Ana Compras", CompanyName: fmt.Sprintf("Empresa %d Ltda", n), DocumentType: "CNPJ", Document: testCNPJ(n), StateRegistration: ie}
}

// ---------------------------------------------------------------- scenarios

func TestTestDocumentsAreValid(t *testing.T) {
	for n := range 30 {
		if !ValidCPF(testCPF(n)) {
			t.Errorf("testCPF(%d) = %s, not valid", n, testCPF(n))
		}
		if !ValidCNPJ(testCNPJ(n)) {
			t.Errorf("testCNPJ(%d) = %s, not valid", n, testCNPJ(n))
		}
	}
}

// The scenario: 60 orders (repeat CPF buyers, 5 CNPJ buyers, 3 with an unknown
// SKU, 2 pending payment) → 55 Bling orders, contacts not duplicated, 3 failed; after
// the SKU appears in Bling the next run files the 3, with no duplicate store number.
func TestSyncOrdersSixtyOrders(t *testing.T) {
	e := newOrdersEnv(t)
	ctx := context.Background()
	skuIDs := map[string]int64{}
	for _, sku := range []string{"SKU-1", "SKU-2", "SKU-3", "SKU-4"} {
		skuIDs[sku] = e.erp.AddProduct(sku, "Produto "+sku)
	}
	// SKU-1 is known through its product link (Bling is not asked for it).
	if err := e.store.Apply(ctx, cazbling.Batch{ProductLinks: []cazbling.ProductLink{{TenantID: e.tenant.ID, SKU: "SKU-1", BlingID: skuIDs["SKU-1"], CazcoID: "p1"}}}); err != nil {
		t.Fatal(err)
	}
	existingContact := e.erp.AddContact(cazbling.Contact{Name: "Comprador 1", Type: "F", Document: testCPF(1)})

	var orders []cazbling.Order
	failing := map[int]bool{10: true, 20: true, 30: true}
	pending := map[int]bool{40: true, 41: true}
	methods := []string{"pix", "boleto", "credit_card"}
	for i := range 60 {
		cust := cpfBuyer(i % 20)
		if i < 5 {
			cust = cnpjBuyer(i%3, []string{"ISENTO", "123.456.789", ""}[i%3])
		}
		items := []cazbling.OrderItem{testItem("SKU-1", int64(1+i%3), "19.90", "0.00"), testItem(fmt.Sprintf("SKU-%d", 2+i%3), 2, "33.33", "0.01")}
		if failing[i] {
			items = append(items, testItem("NEW-SKU", 1, "10.00", "0.00"))
		}
		o := testOrder(i, ordersT0.Add(-2*time.Hour+time.Duration(i)*time.Minute), cust, items...)
		o.PaymentMethod = methods[i%3]
		if pending[i] {
			o.Status = "pending_payment"
		}
		orders = append(orders, o)
		e.market.PutOrder(o)
	}

	// When an order is sent, its link already says `creating` in the store.
	e.erp.createOrder = func(n int, o cazbling.SalesOrder) (bool, error) {
		var id string
		if _, err := fmt.Sscanf(o.Notes, "CaZco order %s", &id); err != nil {
			t.Errorf("notes %q: %v", o.Notes, err)
		}
		l, found, err := e.store.OrderLink(ctx, e.tenant.ID, id)
		if err != nil || !found || l.State != cazbling.OrderCreating || l.Number != o.StoreNumber {
			t.Errorf("order %s sent to Bling with link %+v (found %v, %v), want creating first", id, l, found, err)
		}
		return true, nil
	}
	res := e.run(Options{})
	if res.Status != cazbling.StatusError || res.Counts.Created != 55 || res.Counts.Failed != 3 || res.Counts.Skipped != 2 {
		t.Fatalf("first run: status %s, counts %+v, message %q; want error with 55 created, 3 failed, 2 skipped", res.Status, res.Counts, res.Message)
	}
	byNumber := e.assertNoDuplicates()
	if len(byNumber) != 55 {
		t.Fatalf("Bling has %d orders, want 55", len(byNumber))
	}

	// Contacts: one per buyer document, the existing one reused.
	wantDocs := map[string]bool{}
	for i, o := range orders {
		if !failing[i] && !pending[i] {
			wantDocs[o.Customer.Document] = true
		}
	}
	contacts := e.erp.Contacts()
	docs := map[string]int64{}
	for _, c := range contacts {
		if _, dup := docs[c.Document]; dup {
			t.Errorf("contact for document %s created twice", c.Document)
		}
		docs[c.Document] = c.ID
	}
	if !wantDocs[testCPF(1)] {
		t.Fatal("the buyer with a Bling contact has no order to file")
	}
	if got := e.erp.Calls("CreateContact"); got != len(wantDocs)-1 {
		t.Errorf("CreateContact called %d times, want %d (one per new buyer)", got, len(wantDocs)-1)
	}
	if got := e.erp.Calls("ContactByDocument"); got != len(wantDocs) {
		t.Errorf("ContactByDocument called %d times, want %d (once per buyer per run)", got, len(wantDocs))
	}
	if calls := e.erp.Calls("PaymentMethods"); calls != 1 {
		t.Errorf("payment methods read %d times, want once per run", calls)
	}
	if slices.Contains(e.erp.askedSKU, "SKU-1") {
		t.Errorf("Bling asked for SKU-1, which has a product link")
	}

	// Every filed order is right: items, quantities, prices, contact, payment, money.
	wantMethod := map[string]int64{"pix": 7, "boleto": 8, "credit_card": 9}
	for i, o := range orders {
		got, ok := byNumber[o.Number]
		if failing[i] || pending[i] {
			if ok {
				t.Errorf("order %s filed, want not", o.ID)
			}
			continue
		}
		if !ok {
			t.Errorf("order %s not filed", o.ID)
			continue
		}
		so := got.Order
		if so.ContactID != docs[o.Customer.Document] || (i%20 == 1 && i >= 5 && so.ContactID != existingContact) {
			t.Errorf("order %s: contact %d, want %d", o.ID, so.ContactID, docs[o.Customer.Document])
		}
		if len(so.Items) != len(o.Items) {
			t.Fatalf("order %s: %d items, want %d", o.ID, len(so.Items), len(o.Items))
		}
		sum := decimal.Zero
		for k, it := range so.Items {
			src := o.Items[k]
			if it.SKU != src.SKU || it.ProductID != skuIDs[src.SKU] || !it.Quantity.Equal(decimal.NewFromInt(src.Quantity)) || !it.UnitPrice.Equal(src.UnitPrice) || it.Unit != "UN" || it.Description != src.Name {
				t.Errorf("order %s item %d: %+v, want from %+v", o.ID, k, it, src)
			}
			sum = sum.Add(it.UnitPrice.Mul(it.Quantity))
		}
		if total := sum.Sub(so.Discount).Add(so.Freight); !total.Equal(o.Total) {
			t.Errorf("order %s: Bling total %s, CaZco total %s", o.ID, total, o.Total)
		}
		if len(so.Installments) != 1 || !so.Installments[0].Amount.Equal(o.Total) || so.Installments[0].PaymentMethodID != wantMethod[o.PaymentMethod] {
			t.Errorf("order %s: installments %+v, want one of %s with method %d", o.ID, so.Installments, o.Total, wantMethod[o.PaymentMethod])
		}
		if !strings.Contains(so.Notes, o.ID) {
			t.Errorf("order %s: notes %q lack the CaZco id", o.ID, so.Notes)
		}
		if l := e.link(o.ID); l.State != cazbling.OrderCreated || l.BlingID != got.ID || l.Number != o.Number {
			t.Errorf("order %s: link %+v, want created as %d", o.ID, l, got.ID)
		}
	}
	// CNPJ buyers are companies with the right IE indicator.
	for _, c := range contacts {
		switch c.Document {
		case testCNPJ(0):
			if c.Type != "J" || c.IEIndicator != 2 || c.Name != "Empresa 0 Ltda" {
				t.Errorf("CNPJ contact (ISENTO): %+v", c)
			}
		case testCNPJ(1):
			if c.Type != "J" || c.IEIndicator != 1 || c.IE != "123456789" {
				t.Errorf("CNPJ contact (IE): %+v", c)
			}
		case testCNPJ(2):
			if c.Type != "J" || c.IEIndicator != 9 || c.IE != "" {
				t.Errorf("CNPJ contact (no IE): %+v", c)
			}
		}
	}

	failed := e.links(cazbling.OrderFailed)
	if len(failed) != 3 {
		t.Fatalf("%d failed links, want 3: %+v", len(failed), failed)
	}
	errRows := e.logs(cazbling.LogFilter{Status: cazbling.StatusError})
	if len(errRows) != 3 {
		t.Fatalf("%d error rows, want 3: %+v", len(errRows), errRows)
	}
	for _, r := range errRows {
		if r.Entity != cazbling.EntityOrder || r.Action != cazbling.ActionFailed || !failing[orderIndex(t, r.Key)] ||
			!strings.Contains(r.Message, "SKU NEW-SKU is not in Bling") || r.CazcoID != r.Key {
			t.Errorf("error row %+v", r)
		}
	}
	skipped := e.logs(cazbling.LogFilter{Status: cazbling.StatusSkipped})
	if len(skipped) != 2 || !strings.Contains(skipped[0].Message, "status pending_payment is not imported") {
		t.Errorf("skipped rows: %+v", skipped)
	}
	for id := range pending {
		if _, found, _ := e.store.OrderLink(ctx, e.tenant.ID, orders[id].ID); found {
			t.Errorf("pending order %s has a link", orders[id].ID)
		}
	}
	// Failed orders are recorded for retry, so the cursor moves to the window's end.
	if v, found := e.cursor(); !found || v != ordersT0.Add(-DefaultMargin).Format(time.RFC3339Nano) {
		t.Errorf("cursor %q (found %v), want the window's end", v, found)
	}

	// The SKU is added in Bling; three hours later (the orders are long out of the
	// window) the next run files the three failed orders, and nothing else.
	e.erp.AddProduct("NEW-SKU", "Produto novo")
	e.clock.Advance(3 * time.Hour)
	res = e.run(Options{})
	if res.Status != cazbling.StatusOK || res.Counts.Created != 3 || res.Counts.Failed != 0 {
		t.Fatalf("second run: status %s, counts %+v, message %q; want ok with 3 created", res.Status, res.Counts, res.Message)
	}
	if n := len(e.assertNoDuplicates()); n != 58 {
		t.Errorf("Bling has %d orders, want 58", n)
	}
	if got := e.market.Calls("Order"); got != 3 {
		t.Errorf("CaZco asked for %d single orders, want the 3 failed ones", got)
	}
	if n := len(e.links(cazbling.OrderFailed)); n != 0 {
		t.Errorf("%d failed links left", n)
	}

	// A pending order is paid: its update brings it into the window and it is filed.
	paid := orders[40]
	paid.Status, paid.UpdatedAt = "processing", e.clock.Now().Add(-5*time.Minute)
	e.market.PutOrder(paid)
	e.clock.Advance(10 * time.Minute)
	res = e.run(Options{})
	if res.Status != cazbling.StatusOK || res.Counts.Created != 1 {
		t.Fatalf("third run: status %s, counts %+v, message %q", res.Status, res.Counts, res.Message)
	}
	if n := len(e.assertNoDuplicates()); n != 59 {
		t.Errorf("Bling has %d orders, want 59", n)
	}
}

func orderIndex(t *testing.T, id string) int {
	var n int
	if _, err := fmt.Sscanf(id, "ord-%d", &n); err != nil {
		t.Fatalf("order id %q: %v", id, err)
	}
	return n
}

// A POST that Bling commits but whose reply is lost leaves the link `creating`; the
// order is found by store number (at the end of the run, or on the next run when
// Bling's list lags) and never filed twice.
func TestSyncOrdersLostReply(t *testing.T) {
	for _, tc := range []struct {
		name        string
		hide        int // look-ups the lost order stays hidden from
		wantCreated int
		wantRetry   int
	}{
		{"found at the end of the run", 0, 3, 0},
		{"found by the next run", 1, 2, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newOrdersEnv(t)
			e.erp.AddProduct("SKU-1", "Produto")
			for i := range 3 {
				e.market.PutOrder(testOrder(i, ordersT0.Add(-time.Hour+time.Duration(i)*time.Minute), cpfBuyer(i), testItem("SKU-1", 1, "10.00", "0.00")))
			}
			e.erp.hideLostFor = tc.hide
			e.erp.createOrder = func(n int, o cazbling.SalesOrder) (bool, error) {
				if n == 2 {
					return true, blingError("POST /pedidos/vendas", cazbling.KindServer)
				}
				return true, nil
			}
			res := e.run(Options{})
			if res.Counts.Created != tc.wantCreated || res.Counts.Retry != tc.wantRetry {
				t.Fatalf("first run: counts %+v, want %d created, %d retry", res.Counts, tc.wantCreated, tc.wantRetry)
			}
			if n := len(e.assertNoDuplicates()); n != 3 {
				t.Fatalf("Bling has %d orders, want 3", n)
			}
			if tc.wantRetry > 0 {
				if l := e.link("ord-001"); l.State != cazbling.OrderCreating || !strings.Contains(l.LastError, "lost") {
					t.Errorf("link after lost reply: %+v", l)
				}
				rows := e.logs(cazbling.LogFilter{Key: "ord-001"})
				if len(rows) != 1 || rows[0].Action != ActionRetryLater {
					t.Errorf("rows of the lost order: %+v", rows)
				}
			}

			e.clock.Advance(5 * time.Minute)
			res = e.run(Options{})
			if res.Status != cazbling.StatusOK {
				t.Fatalf("second run: %s %q %+v", res.Status, res.Message, res.Counts)
			}
			byNumber := e.assertNoDuplicates()
			if len(byNumber) != 3 || e.erp.Calls("CreateOrder") != 3 {
				t.Fatalf("Bling has %d orders after %d POSTs, want 3 and 3", len(byNumber), e.erp.Calls("CreateOrder"))
			}
			if l := e.link("ord-001"); l.State != cazbling.OrderCreated || l.BlingID != byNumber["5001"].ID {
				t.Errorf("link %+v, want created as %d", l, byNumber["5001"].ID)
			}
		})
	}
}

// Links left `creating` by a run killed mid-way are resolved by the look-up: the ones
// Bling has are linked (the lowest id when there are duplicates), the others filed once.
func TestSyncOrdersResolvesCreatingLinks(t *testing.T) {
	e := newOrdersEnv(t)
	ctx := context.Background()
	e.erp.AddProduct("SKU-1", "Produto")
	old := ordersT0.Add(-48 * time.Hour) // far out of the window: only the links bring them back
	var links []cazbling.OrderLink
	for i := range 3 {
		o := testOrder(i, old, cpfBuyer(i), testItem("SKU-1", 1, "10.00", "0.00"))
		e.market.PutOrder(o)
		links = append(links, cazbling.OrderLink{TenantID: e.tenant.ID, CazcoID: o.ID, Number: o.Number, State: cazbling.OrderCreating, Attempts: 1})
	}
	if err := e.store.Apply(ctx, cazbling.Batch{OrderLinks: links, Cursors: []cazbling.Cursor{TimeCursor(e.tenant.ID, cazbling.StreamOrders, ordersT0.Add(-time.Hour))}}); err != nil {
		t.Fatal(err)
	}
	filedBefore := e.erp.AddOrder(cazbling.SalesOrder{StoreNumber: "5000"})
	dupHigh := e.erp.AddOrder(cazbling.SalesOrder{StoreNumber: "5002"})
	dupLow := dupHigh - 1000 // a lower id, as if made long ago
	e.erp.mu.Lock()
	e.erp.orders = append(e.erp.orders, fakeERPOrder{ID: dupLow, Order: cazbling.SalesOrder{StoreNumber: "5002"}})
	e.erp.mu.Unlock()

	res := e.run(Options{})
	if res.Status != cazbling.StatusWarning || res.Counts.Created != 1 || res.Counts.Unchanged != 2 || res.Counts.Warnings != 1 {
		t.Fatalf("status %s, counts %+v, message %q", res.Status, res.Counts, res.Message)
	}
	if got := e.erp.Calls("CreateOrder"); got != 1 {
		t.Errorf("%d POSTs, want 1 (only the order Bling lacks)", got)
	}
	if got := e.market.Calls("Order"); got != 1 {
		t.Errorf("CaZco asked for %d orders, want 1 (the found ones need no read)", got)
	}
	if l := e.link("ord-000"); l.State != cazbling.OrderCreated || l.BlingID != filedBefore {
		t.Errorf("ord-000: %+v, want created as %d", l, filedBefore)
	}
	if l := e.link("ord-002"); l.State != cazbling.OrderCreated || l.BlingID != dupLow {
		t.Errorf("ord-002: %+v, want created as the lowest id %d", l, dupLow)
	}
	warn := e.logs(cazbling.LogFilter{Status: cazbling.StatusWarning})
	if len(warn) != 1 || warn[0].Key != "ord-002" || !strings.Contains(warn[0].Message, "2 Bling orders carry store number 5002") {
		t.Errorf("warning rows: %+v", warn)
	}
	if l := e.link("ord-001"); l.State != cazbling.OrderCreated || l.BlingID == 0 || l.Attempts != 2 {
		t.Errorf("ord-001: %+v, want created on its second attempt", l)
	}
}

// Orders that fail a check made before any request are failed without a single call
// to Bling, with a message that says what to fix.
func TestSyncOrdersLocalChecks(t *testing.T) {
	good := testOrder(1, ordersT0.Add(-time.Hour), cpfBuyer(1), testItem("SKU-1", 1, "10.00", "0.00"))
	for _, tc := range []struct {
		name   string
		change func(o *cazbling.Order)
		want   string
	}{
		{"invalid CPF check digits", func(o *cazbling.Order) { o.Customer.Document = "12345678900" }, `buyer document "12345678900" is not a valid CPF`},
		{"repeated-digit CPF", func(o *cazbling.Order) { o.Customer.Document = "11111111111" }, "not a valid CPF"},
		{"CPF with letters", func(o *cazbling.Order) { o.Customer.Document = "1234567890a" }, "not a valid CPF"},
		{"CNPJ too short", func(o *cazbling.Order) { o.Customer.DocumentType, o.Customer.Document = "CNPJ", "1122233300018" }, "not a valid CNPJ"},
		{"CPF given as CNPJ", func(o *cazbling.Order) { o.Customer.DocumentType = "CNPJ" }, "not a valid CNPJ"},
		{"unknown document type", func(o *cazbling.Order) { o.Customer.DocumentType = "RG" }, `document type "RG" is neither CPF nor CNPJ`},
		{"no buyer name", func(o *cazbling.Order) { o.Customer.Name = " " }, "the buyer has no name"},
		{"quantity zero", func(o *cazbling.Order) { o.Items[0].Quantity = 0 }, "item SKU-1 has quantity 0"},
		{"no SKU", func(o *cazbling.Order) { o.Items[0].SKU = "" }, "has no SKU"},
		{"no items", func(o *cazbling.Order) { o.Items = nil }, "has no items"},
		{"no number", func(o *cazbling.Order) { o.Number = "" }, "has no number"},
		{"totals do not add up", func(o *cazbling.Order) { o.Total = o.Total.Add(money("0.01")) }, "amounts do not add up"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newOrdersEnv(t)
			o := good
			o.Items = slices.Clone(good.Items)
			tc.change(&o)
			e.market.PutOrder(o)
			res := e.run(Options{})
			if res.Status != cazbling.StatusError || res.Counts.Failed != 1 {
				t.Fatalf("status %s, counts %+v", res.Status, res.Counts)
			}
			if n := e.erp.TotalCalls(); n != 0 {
				t.Errorf("%d calls to Bling, want none", n)
			}
			l := e.link(o.ID)
			if l.State != cazbling.OrderFailed || !strings.Contains(l.LastError, tc.want) || l.Attempts != 1 {
				t.Errorf("link %+v, want failed with %q", l, tc.want)
			}
			rows := e.logs(cazbling.LogFilter{Key: o.ID})
			if len(rows) != 1 || rows[0].Status != cazbling.StatusError || !strings.Contains(rows[0].Message, tc.want) || !strings.Contains(rows[0].Message, "order #5001") && !strings.Contains(rows[0].Message, "order ord-001") {
				t.Errorf("rows %+v, want one error naming the order and %q", rows, tc.want)
			}
		})
	}
}

// A definite refusal by Bling fails the order with Bling's field messages; once the
// cause is gone the next run files it, once.
func TestSyncOrdersBlingRefusal(t *testing.T) {
	e := newOrdersEnv(t)
	e.erp.AddProduct("SKU-1", "Produto")
	e.market.PutOrder(testOrder(1, ordersT0.Add(-time.Hour), cpfBuyer(1), testItem("SKU-1", 1, "10.00", "0.00")))
	e.erp.createOrder = func(n int, o cazbling.SalesOrder) (bool, error) {
		if n == 1 {
			return false, blingError("POST /pedidos/vendas", cazbling.KindValidation, cazbling.FieldError{Field: "itens[0].produto", Message: "produto inativo"})
		}
		return true, nil
	}
	res := e.run(Options{})
	if res.Status != cazbling.StatusError || res.Counts.Failed != 1 {
		t.Fatalf("status %s, counts %+v", res.Status, res.Counts)
	}
	if l := e.link("ord-001"); l.State != cazbling.OrderFailed || !strings.Contains(l.LastError, "produto inativo") {
		t.Errorf("link %+v", l)
	}
	e.clock.Advance(time.Hour)
	res = e.run(Options{})
	if res.Status != cazbling.StatusOK || res.Counts.Created != 1 {
		t.Fatalf("second run: status %s, counts %+v, %q", res.Status, res.Counts, res.Message)
	}
	if n := len(e.assertNoDuplicates()); n != 1 {
		t.Errorf("Bling has %d orders, want 1", n)
	}
}

// Bling's daily quota stops the tenant: it is paused, the order's link stays
// `creating`, the cursor stays; after the pause the order is filed once.
func TestSyncOrdersDailyQuota(t *testing.T) {
	e := newOrdersEnv(t)
	e.erp.AddProduct("SKU-1", "Produto")
	e.market.PutOrder(testOrder(1, ordersT0.Add(-time.Hour), cpfBuyer(1), testItem("SKU-1", 1, "10.00", "0.00")))
	e.market.PutOrder(testOrder(2, ordersT0.Add(-time.Hour+time.Minute), cpfBuyer(2), testItem("SKU-1", 1, "10.00", "0.00")))
	e.erp.createOrder = func(n int, o cazbling.SalesOrder) (bool, error) {
		if n == 1 {
			return false, blingError("POST /pedidos/vendas", cazbling.KindDailyQuota)
		}
		return true, nil
	}
	res := e.run(Options{})
	if res.Status != cazbling.StatusError || !strings.Contains(res.Message, "paused") {
		t.Fatalf("status %s, message %q", res.Status, res.Message)
	}
	tn, err := e.store.Tenant(context.Background(), e.tenant.ID)
	if err != nil || tn.Status != cazbling.TenantPaused {
		t.Fatalf("tenant %+v, %v; want paused", tn, err)
	}
	if l := e.link("ord-001"); l.State != cazbling.OrderCreating {
		t.Errorf("link %+v, want creating", l)
	}
	if _, found := e.cursor(); found {
		t.Errorf("cursor moved after the tenant stopped")
	}
	if e.erp.Calls("CreateOrder") != 1 {
		t.Errorf("%d POSTs, want the run to stop after the first", e.erp.Calls("CreateOrder"))
	}

	e.clock.Advance(24 * time.Hour)
	res = e.run(Options{})
	if res.Status != cazbling.StatusOK || res.Counts.Created != 2 {
		t.Fatalf("after the pause: status %s, counts %+v, %q", res.Status, res.Counts, res.Message)
	}
	if n := len(e.assertNoDuplicates()); n != 2 {
		t.Errorf("Bling has %d orders, want 2", n)
	}
}

// A page that fails ends the walk: the orders read are filed, the cursor stays, and
// the next run reads the window again without filing anything twice.
func TestSyncOrdersWalkFailure(t *testing.T) {
	e := newOrdersEnv(t)
	e.erp.AddProduct("SKU-1", "Produto")
	for i := range 4 {
		e.market.PutOrder(testOrder(i, ordersT0.Add(-time.Hour+time.Duration(i)*time.Minute), cpfBuyer(i), testItem("SKU-1", 1, "10.00", "0.00")))
	}
	e.market.failOrdersAfter = 2
	e.market.ordersErr = &cazbling.APIError{API: "cazco", Op: "GET /orders", Status: 503, Kind: cazbling.KindServer}
	res := e.run(Options{})
	if res.Status != cazbling.StatusError || res.Counts.Created != 2 || !strings.Contains(res.Message, "read CaZco orders") {
		t.Fatalf("status %s, counts %+v, message %q", res.Status, res.Counts, res.Message)
	}
	if _, found := e.cursor(); found {
		t.Errorf("cursor moved although the walk failed")
	}
	e.market.failOrdersAfter = 0
	e.clock.Advance(5 * time.Minute)
	res = e.run(Options{})
	if res.Status != cazbling.StatusOK || res.Counts.Created != 2 || res.Counts.Unchanged != 2 {
		t.Fatalf("second run: status %s, counts %+v", res.Status, res.Counts)
	}
	if n := len(e.assertNoDuplicates()); n != 4 {
		t.Errorf("Bling has %d orders, want 4", n)
	}
	if _, found := e.cursor(); !found {
		t.Errorf("cursor not moved after a complete run")
	}
}

// The first run reads FirstRunLookback back; later runs read from the cursor minus
// the overlap.
func TestSyncOrdersWindow(t *testing.T) {
	e := newOrdersEnv(t)
	e.run(Options{})
	e.clock.Advance(time.Hour)
	e.run(Options{})
	q := e.market.Queries()
	if len(q) != 2 {
		t.Fatalf("%d order queries, want 2", len(q))
	}
	if want := ordersT0.Add(-FirstRunLookback); !q[0].UpdatedSince.Equal(want) || q[0].PerPage != 100 {
		t.Errorf("first query %+v, want since %s", q[0], want)
	}
	if want := ordersT0.Add(-DefaultMargin - DefaultOverlap); !q[1].UpdatedSince.Equal(want) {
		t.Errorf("second query since %s, want %s", q[1].UpdatedSince, want)
	}
}

// Statuses: not importable ones are skipped without a link, unknown ones with a
// warning; a canceled order already in Bling gets a warning to cancel it there.
func TestSyncOrdersStatuses(t *testing.T) {
	e := newOrdersEnv(t)
	ctx := context.Background()
	e.erp.AddProduct("SKU-1", "Produto")
	at := ordersT0.Add(-time.Hour)
	statuses := []string{"pending_payment", "canceled", "em_analise", "completed"}
	for i, st := range statuses {
		o := testOrder(i, at, cpfBuyer(i), testItem("SKU-1", 1, "10.00", "0.00"))
		o.Status = st
		e.market.PutOrder(o)
	}
	filed := testOrder(9, at, cpfBuyer(9), testItem("SKU-1", 1, "10.00", "0.00"))
	filed.Status = "canceled"
	e.market.PutOrder(filed)
	if err := e.store.Apply(ctx, cazbling.Batch{OrderLinks: []cazbling.OrderLink{{TenantID: e.tenant.ID, CazcoID: filed.ID, Number: filed.Number, BlingID: 4242, State: cazbling.OrderCreated}}}); err != nil {
		t.Fatal(err)
	}
	res := e.run(Options{})
	if res.Counts.Created != 1 || res.Counts.Skipped != 3 || res.Counts.Warnings != 2 || res.Status != cazbling.StatusWarning {
		t.Fatalf("status %s, counts %+v", res.Status, res.Counts)
	}
	want := map[string]struct{ status, text string }{
		"ord-000": {cazbling.StatusSkipped, "status pending_payment is not imported; it will be when it changes"},
		"ord-001": {cazbling.StatusSkipped, "status canceled is not imported"},
		"ord-002": {cazbling.StatusWarning, `status "em_analise", which cazbling does not know`},
		"ord-003": {cazbling.StatusOK, "filed in Bling"},
		"ord-009": {cazbling.StatusWarning, "canceled in CaZco (status canceled) after it was filed in Bling as 4242; cancel it in Bling"},
	}
	for id, w := range want {
		rows := e.logs(cazbling.LogFilter{Key: id})
		if len(rows) != 1 || rows[0].Status != w.status || !strings.Contains(rows[0].Message, w.text) {
			t.Errorf("%s: rows %+v, want one %s row with %q", id, rows, w.status, w.text)
		}
	}
	for _, id := range []string{"ord-000", "ord-001", "ord-002"} {
		if _, found, _ := e.store.OrderLink(ctx, e.tenant.ID, id); found {
			t.Errorf("%s has a link, want none", id)
		}
	}

	// A tenant that imports only completed orders skips processing ones.
	e.tenant.ImportStatuses = []string{"completed"}
	e.saveTenant()
	p := testOrder(20, e.clock.Now(), cpfBuyer(20), testItem("SKU-1", 1, "10.00", "0.00"))
	e.market.PutOrder(p)
	e.clock.Advance(5 * time.Minute)
	e.run(Options{})
	if rows := e.logs(cazbling.LogFilter{Key: p.ID}); len(rows) != 1 || rows[0].Action != cazbling.ActionSkipped {
		t.Errorf("processing order with completed-only import: %+v", rows)
	}
}

// A dry run reads both sides and says what it would do, and writes nothing: no
// contact or order in Bling, no link, no cursor.
func TestSyncOrdersDryRun(t *testing.T) {
	e := newOrdersEnv(t)
	e.erp.AddProduct("SKU-1", "Produto")
	e.erp.AddContact(cazbling.Contact{Name: "Comprador 1", Type: "F", Document: testCPF(1)})
	for i := range 3 {
		e.market.PutOrder(testOrder(i, ordersT0.Add(-time.Hour+time.Duration(i)*time.Minute), cpfBuyer(i), testItem("SKU-1", 1, "10.00", "0.00")))
	}
	res := e.run(Options{DryRun: true})
	if res.Status != cazbling.StatusOK {
		t.Fatalf("status %s %q", res.Status, res.Message)
	}
	if e.erp.Calls("CreateOrder") != 0 || e.erp.Calls("CreateContact") != 0 || len(e.erp.Orders()) != 0 {
		t.Errorf("dry run wrote to Bling: %d orders, %d contact POSTs", len(e.erp.Orders()), e.erp.Calls("CreateContact"))
	}
	for _, st := range []cazbling.OrderLinkState{cazbling.OrderCreating, cazbling.OrderCreated, cazbling.OrderFailed} {
		if n := len(e.links(st)); n != 0 {
			t.Errorf("dry run wrote %d %s links", n, st)
		}
	}
	if _, found := e.cursor(); found {
		t.Errorf("dry run moved the cursor")
	}
	rows := e.logs(cazbling.LogFilter{})
	if len(rows) != 3 {
		t.Fatalf("%d rows, want 3: %+v", len(rows), rows)
	}
	for _, r := range rows {
		if r.Action != ActionWouldCreate || r.Status != cazbling.StatusOK || !strings.Contains(r.Message, "would file order") {
			t.Errorf("row %+v", r)
		}
	}
	if !strings.Contains(rows[0].Message+rows[1].Message+rows[2].Message, "a new contact") {
		t.Errorf("no row says a new contact would be made")
	}
}

// Two processes run sync-orders on one tenant at once: one takes the lease and
// works, the other skips; no order is filed twice.
func TestSyncOrdersConcurrentRuns(t *testing.T) {
	e := newOrdersEnv(t)
	e.erp.AddProduct("SKU-1", "Produto")
	for i := range 5 {
		e.market.PutOrder(testOrder(i, ordersT0.Add(-time.Hour+time.Duration(i)*time.Minute), cpfBuyer(i), testItem("SKU-1", 1, "10.00", "0.00")))
	}
	// A second store handle on the same file stands for a second process.
	other, err := sqlite.Open(context.Background(), sqlite.Options{Path: e.path, Key: testKey(), Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	e.market.entered = make(chan struct{}, 2)
	e.market.gate = make(chan struct{})

	results := make(chan Result, 2)
	for i, st := range []cazbling.Store{e.store, other} {
		d := e.deps(fmt.Sprintf("host-%d", i))
		d.Store = st
		go func() {
			res, err := Run(context.Background(), d, cazbling.FlowOrders, Options{Tenants: []string{e.tenant.ID}}, SyncOrders)
			if err != nil || len(res) != 1 {
				t.Errorf("run: %v %v", res, err)
				results <- Result{}
				return
			}
			results <- res[0]
		}()
	}
	timeout := time.After(20 * time.Second)
	var first Result
	select {
	case first = <-results:
	case <-timeout:
		close(e.market.gate)
		t.Fatal("neither run finished: both are working the tenant at once")
	}
	if first.Status != cazbling.StatusSkipped || !strings.Contains(first.Message, "another cazbling process") {
		t.Errorf("first result %+v, want skipped for the lease", first)
	}
	close(e.market.gate)
	var second Result
	select {
	case second = <-results:
	case <-timeout:
		t.Fatal("the working run did not finish")
	}
	if second.Status != cazbling.StatusOK || second.Counts.Created != 5 {
		t.Errorf("second result %+v", second)
	}
	if n := len(e.assertNoDuplicates()); n != 5 {
		t.Errorf("Bling has %d orders, want 5", n)
	}
}

// ---------------------------------------------------------------- units

func TestChoosePaymentMethod(t *testing.T) {
	methods := []cazbling.PaymentMethod{
		{ID: 1, Type: 1, Status: 1},                 // dinheiro
		{ID: 2, Type: 20, Status: 1},                // PIX estático
		{ID: 3, Type: 17, Status: 0},                // PIX dinâmico, inactive
		{ID: 4, Type: 15, Status: 1},                // boleto
		{ID: 5, Type: 15, Status: 1, Default: true}, // boleto, the default
		{ID: 6, Type: 3, Status: 1},                 // crédito
		{ID: 7, Type: 99, Status: 1},
	}
	for _, tc := range []struct {
		name       string
		methods    []cazbling.PaymentMethod
		cazco      string
		configured int64
		want       int64
	}{
		{"pix falls to static PIX when the dynamic one is inactive", methods, "pix", 0, 2},
		{"pix prefers dynamic PIX", append(slices.Clone(methods), cazbling.PaymentMethod{ID: 8, Type: 17, Status: 1}), "pix", 0, 8},
		{"boleto prefers the default among several", methods, "boleto", 0, 5},
		{"credit card", methods, "credit_card", 0, 6},
		{"case and spaces", methods, " PIX ", 0, 2},
		{"no debit card method: configured", methods, "debit_card", 42, 42},
		{"unknown method: configured", methods, "crypto", 42, 42},
		{"unknown method: account default", methods, "crypto", 0, 5},
		{"no default: first active", []cazbling.PaymentMethod{{ID: 3, Type: 1, Status: 0}, {ID: 4, Type: 1, Status: 1}, {ID: 5, Type: 1, Status: 1}}, "pix", 0, 4},
		{"inactive default is not used", []cazbling.PaymentMethod{{ID: 3, Type: 1, Status: 0, Default: true}, {ID: 4, Type: 1, Status: 1}}, "pix", 0, 4},
		{"none at all", []cazbling.PaymentMethod{{ID: 3, Type: 17, Status: 0}}, "pix", 0, 0},
		{"none at all but configured", nil, "pix", 9, 9},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := ChoosePaymentMethod(tc.methods, tc.cazco, tc.configured); got != tc.want {
				t.Errorf("got %d, want %d", got, tc.want)
			}
		})
	}
}

// The account without any payment method fails the order with a clear message.
func TestSyncOrdersNoPaymentMethod(t *testing.T) {
	e := newOrdersEnv(t)
	e.erp.methods = nil
	e.erp.AddProduct("SKU-1", "Produto")
	e.market.PutOrder(testOrder(1, ordersT0.Add(-time.Hour), cpfBuyer(1), testItem("SKU-1", 1, "10.00", "0.00")))
	res := e.run(Options{})
	if res.Counts.Failed != 1 || e.erp.Calls("CreateOrder") != 0 {
		t.Fatalf("counts %+v, %d POSTs", res.Counts, e.erp.Calls("CreateOrder"))
	}
	if l := e.link("ord-001"); l.State != cazbling.OrderFailed || !strings.Contains(l.LastError, "no active payment method") {
		t.Errorf("link %+v", l)
	}
}

// Money is exact: the Bling order's total (items − discount + freight) and its one
// installment equal CaZco's total to the cent, with amounts a float would get wrong.
func TestOrderMoneyIsExact(t *testing.T) {
	for _, tc := range []struct {
		name  string
		order func() cazbling.Order
		want  string // the order discount sent to Bling
	}{
		{"cents that floats round", func() cazbling.Order {
			return testOrder(1, ordersT0, cpfBuyer(1), testItem("A", 3, "0.10", "0.00"), testItem("B", 7, "0.20", "0.00"))
		}, "0"},
		{"line discounts that do not divide by the quantity", func() cazbling.Order {
			return testOrder(1, ordersT0, cpfBuyer(1), testItem("A", 3, "33.33", "0.01"), testItem("B", 1, "1999.99", "100.00"))
		}, "100.01"},
		{"an order discount besides the line discounts", func() cazbling.Order {
			o := testOrder(1, ordersT0, cpfBuyer(1), testItem("A", 3, "10.00", "1.00"))
			o.Discount = money("5.00") // coupon; CaZco total = 30 − 1 − 5 + 19.90
			o.Total = money("43.90")
			return o
		}, "6"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := tc.order()
			if msg := checkOrder(o); msg != "" {
				t.Fatalf("checkOrder: %s", msg)
			}
			d, err := orderDiscount(o)
			if err != nil || !d.Equal(money(tc.want)) {
				t.Fatalf("discount %s, %v; want %s", d, err, tc.want)
			}
			ids := map[string]int64{"A": 1, "B": 2}
			so := salesOrder(o, 0, 1, 7, ids, d, ordersT0)
			sum := decimal.Zero
			for _, it := range so.Items {
				sum = sum.Add(it.UnitPrice.Mul(it.Quantity))
				if !it.Discount.IsZero() {
					t.Errorf("item %s carries a discount %s; discounts go on the order", it.SKU, it.Discount)
				}
			}
			if got := sum.Sub(so.Discount).Add(so.Freight); !got.Equal(o.Total) {
				t.Errorf("Bling total %s, CaZco total %s", got, o.Total)
			}
			if !so.Installments[0].Amount.Equal(o.Total) || so.Installments[0].Amount.StringFixed(2) != o.Total.StringFixed(2) {
				t.Errorf("installment %s, total %s", so.Installments[0].Amount, o.Total)
			}
		})
	}
}

func TestSalesOrderMapping(t *testing.T) {
	// 02:30 UTC on 10 March is still 9 March in São Paulo.
	o := testOrder(3, time.Date(2026, 3, 10, 2, 30, 0, 0, time.UTC), cpfBuyer(3), testItem("A", 2, "50.00", "0.00"))
	o.Notes = "Entregar à tarde"
	o.Shipping.Recipient = ""
	o.EstimatedDeliveryDays = 5
	so := salesOrder(o, 55, 66, 77, map[string]int64{"A": 88}, decimal.Zero, ordersT0)
	day := func(t time.Time) string { return t.In(SaoPaulo).Format("2006-01-02") }
	if day(so.Date) != "2026-03-09" || day(so.ShipDate) != "2026-03-09" || day(so.ExpectedDate) != "2026-03-14" || day(so.Installments[0].DueDate) != "2026-03-09" {
		t.Errorf("dates %s %s %s %s", so.Date, so.ShipDate, so.ExpectedDate, so.Installments[0].DueDate)
	}
	if so.StoreNumber != "5003" || so.StoreID != 55 || so.ContactID != 66 || so.Installments[0].PaymentMethodID != 77 || so.Items[0].ProductID != 88 {
		t.Errorf("ids: %+v", so)
	}
	if so.ShipTo.Recipient != "Comprador 3" || so.ShipTo.Street != "Rua das Flores" || so.Carrier != "Correios" || !so.Freight.Equal(money("19.90")) {
		t.Errorf("shipping: %+v, carrier %q, freight %s", so.ShipTo, so.Carrier, so.Freight)
	}
	if so.Notes != "CaZco order ord-003 (number 5003)\nBuyer's note: Entregar à tarde" {
		t.Errorf("notes %q", so.Notes)
	}
}

func TestBuyerContact(t *testing.T) {
	o := testOrder(1, ordersT0, cpfBuyer(1), testItem("A", 1, "1.00", "0.00"))
	o.Billing.Street = ""
	o.Shipping.Street = "Rua de Entrega"
	c := buyerContact(o, testCPF(1))
	if c.Type != "F" || c.IEIndicator != 9 || c.IE != "" || c.Name != "Comprador 1" || c.Document != testCPF(1) || c.Address.Street != "Rua de Entrega" || c.Email == "" {
		t.Errorf("CPF buyer: %+v", c)
	}
	for _, tc := range []struct {
		ie        string
		wantIE    string
		indicator int
	}{
		{"ISENTO", "", 2}, {" isento ", "", 2}, {"110.042.490.114", "110042490114", 1}, {"", "", 9},
	} {
		o.Customer = cnpjBuyer(1, tc.ie)
		c := buyerContact(o, testCNPJ(1))
		if c.Type != "J" || c.IE != tc.wantIE || c.IEIndicator != tc.indicator || c.Name != "Empresa 1 Ltda" {
			t.Errorf("CNPJ buyer with IE %q: %+v", tc.ie, c)
		}
	}
}
