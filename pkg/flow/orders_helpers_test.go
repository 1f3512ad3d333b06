package flow

import (
	"context"
	"fmt"
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
