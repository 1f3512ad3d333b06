package flow

// In-memory stand-ins for Bling (fakeERP) and CaZco (fakeMarket), a settable clock and
// a real SQLite store in t.TempDir(), shared by the flow tests. The fakes behave like
// the real services where the flows depend on it (Bling takes a repeated numeroLoja,
// CaZco lists orders newest first) and can be told to fail in the ways that matter.

import (
	"cmp"
	"context"
	"fmt"
	"iter"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/cazbling/cazbling/pkg/cazbling"
	"github.com/cazbling/cazbling/pkg/store/sqlite"
)

// testClock is a clock the test moves by hand; safe for concurrent use.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func newTestClock(t time.Time) *testClock { return &testClock{t: t} }

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// testKey is the secrets key of the test stores.
func testKey() []byte {
	key := make([]byte, sqlite.KeySize)
	for i := range key {
		key[i] = byte(i + 1)
	}
	return key
}

// openTestStore opens a real SQLite store in a temporary folder, on clock, and
// returns it with its path (another handle on the same file stands for another
// process).
func openTestStore(t *testing.T, clock func() time.Time) (*sqlite.Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "cazbling.db")
	st, err := sqlite.Open(context.Background(), sqlite.Options{Path: path, Key: testKey(), Now: clock})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	return st, path
}

// blingError is an *APIError from Bling of the given kind.
func blingError(op string, kind cazbling.ErrorKind, fields ...cazbling.FieldError) error {
	return &cazbling.APIError{API: "bling", Op: op, Kind: kind, Message: string(kind), Fields: fields}
}

// ---------------------------------------------------------------- Bling

// fakeERP is an in-memory Bling account.
type fakeERP struct {
	mu       sync.Mutex
	nextID   int64
	products []cazbling.ERPProduct
	balances map[int64]cazbling.StockBalance
	deposits []cazbling.Deposit
	methods  []cazbling.PaymentMethod
	contacts []cazbling.Contact
	orders   []fakeERPOrder
	calls    map[string]int
	askedSKU []string // every SKU passed to ProductsBySKU
	// changed, when not nil, holds the dates products are listed by: a listing by
	// inclusion or alteration date then lists only the products it holds in that
	// range (otherwise the fake lists everything, whatever the dates).
	changed map[int64]time.Time
	// failIDListing, when set, is returned by listings by id (idsProdutos).
	failIDListing error

	// fail, when set, is asked before each call (by method name, e.g. "CreateOrder",
	// with the 1-based number of that call) and its error returned.
	fail func(method string, n int) error
	// createOrder, when set, decides the fate of the nth CreateOrder: keep files the
	// order even when err is not nil (Bling committed it and the reply was lost).
	createOrder func(n int, o cazbling.SalesOrder) (keep bool, err error)
	// hideLostFor hides an order kept by a failed CreateOrder from that many
	// following OrdersByStoreNumbers calls (Bling's list lagging behind).
	hideLostFor int
	// lc is the order lifecycle's side of Bling (fulfillment_fakes_test.go).
	lc fakeERPLifecycle
}

type fakeERPOrder struct {
	ID     int64
	Order  cazbling.SalesOrder
	hidden int
}

func newFakeERP() *fakeERP {
	return &fakeERP{nextID: 1000, balances: make(map[int64]cazbling.StockBalance), calls: make(map[string]int)}
}

var _ cazbling.ERP = (*fakeERP)(nil)

// call counts a call and returns the injected failure, if any. mu must be held.
func (f *fakeERP) call(method string) error {
	f.calls[method]++
	if f.fail != nil {
		return f.fail(method, f.calls[method])
	}
	return nil
}

func (f *fakeERP) id() int64 { f.nextID++; return f.nextID }

// Calls returns how many times method was called.
func (f *fakeERP) Calls(method string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[method]
}

// TotalCalls returns how many calls were made to any method.
func (f *fakeERP) TotalCalls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, c := range f.calls {
		n += c
	}
	return n
}

// AddProduct adds a simple product and returns its id.
func (f *fakeERP) AddProduct(sku, name string) int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	p := cazbling.ERPProduct{ERPProductSummary: cazbling.ERPProductSummary{
		ID: f.id(), SKU: sku, Name: name, Type: "P", Status: "A", Format: "S",
	}}
	f.products = append(f.products, p)
	return p.ID
}

// AddContact adds a contact and returns its id.
func (f *fakeERP) AddContact(c cazbling.Contact) int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	c.ID = f.id()
	f.contacts = append(f.contacts, c)
	return c.ID
}

// AddOrder files an order directly (made outside cazbling) and returns its id.
func (f *fakeERP) AddOrder(o cazbling.SalesOrder) int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	id := f.id()
	f.orders = append(f.orders, fakeERPOrder{ID: id, Order: o})
	return id
}

// Orders returns a copy of the filed orders.
func (f *fakeERP) Orders() []fakeERPOrder {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.orders)
}

// Contacts returns a copy of the contacts.
func (f *fakeERP) Contacts() []cazbling.Contact {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.contacts)
}

func (f *fakeERP) Company(ctx context.Context) (cazbling.Company, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("Company"); err != nil {
		return cazbling.Company{}, err
	}
	return cazbling.Company{ID: "1", Name: "Loja Teste"}, nil
}

func (f *fakeERP) ProductsPage(ctx context.Context, q cazbling.ProductQuery, page int) ([]cazbling.ERPProductSummary, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("ProductsPage"); err != nil {
		return nil, false, err
	}
	limit := q.Limit
	if limit <= 0 || limit > 100 {
		limit = 100
	}
	if q.Stock.Param() == "" {
		return nil, false, fmt.Errorf("fake ProductsPage: no stock class (Bling would list only positive balances)")
	}
	if len(q.IDs) > 0 && f.failIDListing != nil {
		return nil, false, f.failIDListing
	}
	var all []cazbling.ERPProductSummary
	for _, p := range f.products {
		if len(q.SKUs) > 0 && !slices.Contains(q.SKUs, p.SKU) || len(q.IDs) > 0 && !slices.Contains(q.IDs, p.ID) {
			continue
		}
		from, to := q.ChangedFrom, q.ChangedTo
		if from.IsZero() {
			from, to = q.CreatedFrom, q.CreatedTo
		}
		if at, ok := f.changed[p.ID]; f.changed != nil && !from.IsZero() && (!ok || at.Before(from) || at.After(to)) {
			continue
		}
		if f.stockClass(p.ID) != q.Stock {
			continue
		}
		all = append(all, p.ERPProductSummary)
	}
	start := (page - 1) * limit
	if page < 1 || start >= len(all) {
		return nil, false, nil
	}
	end := min(start+limit, len(all))
	return all[start:end], end-start == limit, nil
}

// stockClass is the class Bling lists a product under: by its balance's sign, zero
// when it has none. The caller holds f.mu.
func (f *fakeERP) stockClass(id int64) cazbling.StockClass {
	v := f.balances[id].VirtualTotal
	switch {
	case v.IsPositive():
		return cazbling.StockPositive
	case v.IsNegative():
		return cazbling.StockNegative
	}
	return cazbling.StockZero
}

func (f *fakeERP) Product(ctx context.Context, id int64) (cazbling.ERPProduct, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("Product"); err != nil {
		return cazbling.ERPProduct{}, err
	}
	for _, p := range f.products {
		if p.ID == id {
			return p, nil
		}
	}
	return cazbling.ERPProduct{}, blingError("GET /produtos/{id}", cazbling.KindNotFound)
}

func (f *fakeERP) ProductsBySKU(ctx context.Context, skus []string) ([]cazbling.ERPProductSummary, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("ProductsBySKU"); err != nil {
		return nil, err
	}
	f.askedSKU = append(f.askedSKU, skus...)
	var out []cazbling.ERPProductSummary
	for _, p := range f.products {
		if slices.Contains(skus, p.SKU) {
			out = append(out, p.ERPProductSummary)
		}
	}
	return out, nil
}

// StockBalances answers like GET /estoques/saldos with filtroSaldoEstoque: the balances
// of ids whose VirtualTotal has the sign of class, one per id. Like the real client, it
// refuses more than 100 distinct ids or an unset class without counting a call.
func (f *fakeERP) StockBalances(ctx context.Context, ids []int64, class cazbling.StockClass) ([]cazbling.StockBalance, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	sign, ok := map[cazbling.StockClass]int{cazbling.StockPositive: 1, cazbling.StockZero: 0, cazbling.StockNegative: -1}[class]
	distinct := make(map[int64]bool, len(ids))
	for _, id := range ids {
		if id > 0 {
			distinct[id] = true
		}
	}
	if !ok || len(distinct) > 100 {
		return nil, fmt.Errorf("fake bling: StockBalances refused %d ids in class %s", len(distinct), class)
	}
	if err := f.call("StockBalances"); err != nil {
		return nil, err
	}
	var out []cazbling.StockBalance
	for _, id := range ids {
		if b, found := f.balances[id]; found && distinct[id] && b.VirtualTotal.Sign() == sign {
			out = append(out, b)
			delete(distinct, id) // answered once
		}
	}
	return out, nil
}

func (f *fakeERP) Deposits(ctx context.Context) ([]cazbling.Deposit, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("Deposits"); err != nil {
		return nil, err
	}
	return slices.Clone(f.deposits), nil
}

func (f *fakeERP) PaymentMethods(ctx context.Context) ([]cazbling.PaymentMethod, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("PaymentMethods"); err != nil {
		return nil, err
	}
	return slices.Clone(f.methods), nil
}

func (f *fakeERP) ContactByDocument(ctx context.Context, document string) (cazbling.Contact, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("ContactByDocument"); err != nil {
		return cazbling.Contact{}, false, err
	}
	for _, c := range f.contacts {
		if c.Document == document {
			return c, true, nil
		}
	}
	return cazbling.Contact{}, false, nil
}

func (f *fakeERP) CreateContact(ctx context.Context, c cazbling.Contact) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("CreateContact"); err != nil {
		return 0, err
	}
	if c.Name == "" || (c.Type != "F" && c.Type != "J") {
		return 0, blingError("POST /contatos", cazbling.KindValidation, cazbling.FieldError{Field: "nome", Message: "obrigatório"})
	}
	c.ID = f.id()
	f.contacts = append(f.contacts, c)
	return c.ID, nil
}

// OrdersByStoreNumbers matches numeroLoja exactly, like Bling, and returns every order
// carrying it: Bling takes a repeated numeroLoja.
func (f *fakeERP) OrdersByStoreNumbers(ctx context.Context, numbers []string, storeID int64) ([]cazbling.ERPOrderRef, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("OrdersByStoreNumbers"); err != nil {
		return nil, err
	}
	var out []cazbling.ERPOrderRef
	for i := range f.orders {
		o := &f.orders[i]
		if o.hidden > 0 {
			o.hidden--
			continue
		}
		if !slices.Contains(numbers, o.Order.StoreNumber) || storeID != 0 && o.Order.StoreID != storeID {
			continue
		}
		out = append(out, cazbling.ERPOrderRef{ID: o.ID, Number: fmt.Sprint(o.ID), StoreNumber: o.Order.StoreNumber, StoreID: o.Order.StoreID})
	}
	return out, nil
}

func (f *fakeERP) CreateOrder(ctx context.Context, o cazbling.SalesOrder) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("CreateOrder"); err != nil {
		return 0, err
	}
	keep, err := true, error(nil)
	if f.createOrder != nil {
		keep, err = f.createOrder(f.calls["CreateOrder"], o)
	}
	if o.ContactID == 0 || len(o.Items) == 0 || len(o.Installments) == 0 {
		return 0, blingError("POST /pedidos/vendas", cazbling.KindValidation, cazbling.FieldError{Field: "contato", Message: "obrigatório"})
	}
	if !keep {
		return 0, err
	}
	id := f.id()
	stored := fakeERPOrder{ID: id, Order: o}
	if err != nil {
		stored.hidden = f.hideLostFor
	}
	f.orders = append(f.orders, stored)
	if err != nil {
		return 0, err
	}
	return id, nil
}

// ---------------------------------------------------------------- CaZco

// fakeMarket is an in-memory CaZco store.
type fakeMarket struct {
	mu       sync.Mutex
	orders   map[string]cazbling.Order
	products map[string]cazbling.MarketProduct // by id
	nextID   int
	calls    map[string]int
	queries  []cazbling.OrderQuery

	// failOrdersAfter, when > 0, makes Orders end with ordersErr after yielding that
	// many orders.
	failOrdersAfter int
	ordersErr       error
	// entered, when set, is signalled (without blocking) when Orders is called; gate,
	// when set, is then waited for before the first order is yielded.
	entered chan struct{}
	gate    chan struct{}
	// beforeCreate, when set, is called with the SKU before each CreateProduct, without
	// the lock.
	beforeCreate func(sku string)
	// lc is the order lifecycle's side of CaZco (fulfillment_fakes_test.go).
	lc fakeMarketLifecycle
	// fail, when set, is asked before each lifecycle call (by method name, with the
	// 1-based number of that call) and its error returned.
	fail func(method string, n int) error
}

func newFakeMarket() *fakeMarket {
	return &fakeMarket{
		orders: make(map[string]cazbling.Order), products: make(map[string]cazbling.MarketProduct),
		calls: make(map[string]int),
	}
}

var _ cazbling.Marketplace = (*fakeMarket)(nil)

// PutOrder adds or replaces an order.
func (m *fakeMarket) PutOrder(o cazbling.Order) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.orders[o.ID] = o
}

// Calls returns how many times method was called.
func (m *fakeMarket) Calls(method string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.calls[method]
}

// Queries returns the order queries received.
func (m *fakeMarket) Queries() []cazbling.OrderQuery {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.queries)
}

func (m *fakeMarket) Info(ctx context.Context) (cazbling.MarketInfo, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls["Info"]++
	return cazbling.MarketInfo{Products: len(m.products)}, nil
}

func (m *fakeMarket) ProductBySKU(ctx context.Context, sku string) (cazbling.MarketProduct, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls["ProductBySKU"]++
	for _, p := range m.products {
		if p.SKU == sku {
			return p, true, nil
		}
	}
	return cazbling.MarketProduct{}, false, nil
}

func (m *fakeMarket) Product(ctx context.Context, id string) (cazbling.MarketProduct, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls["Product"]++
	p, ok := m.products[id]
	if !ok {
		return p, &cazbling.APIError{API: "cazco", Op: "GET /products/{id}", Status: 404, Kind: cazbling.KindNotFound}
	}
	return p, nil
}

// Products walks the store's products in SKU order, 100 a page, as they are when the
// walk starts. Each page served counts as one "Products" call (an empty store still
// costs one), so a caller that stops early makes fewer; a cancelled ctx ends the walk
// with its error before the next page.
func (m *fakeMarket) Products(ctx context.Context) iter.Seq2[cazbling.MarketProduct, error] {
	return func(yield func(cazbling.MarketProduct, error) bool) {
		m.mu.Lock()
		list := make([]cazbling.MarketProduct, 0, len(m.products))
		for _, p := range m.products {
			list = append(list, p)
		}
		m.mu.Unlock()
		slices.SortFunc(list, func(a, b cazbling.MarketProduct) int {
			return cmp.Or(cmp.Compare(a.SKU, b.SKU), cmp.Compare(a.ID, b.ID))
		})
		for start := 0; start == 0 || start < len(list); start += 100 {
			if err := ctx.Err(); err != nil {
				yield(cazbling.MarketProduct{}, err)
				return
			}
			m.mu.Lock()
			m.calls["Products"]++
			m.mu.Unlock()
			for _, p := range list[start:min(start+100, len(list))] {
				if !yield(p, nil) {
					return
				}
			}
		}
	}
}

func (m *fakeMarket) CreateProduct(ctx context.Context, p cazbling.MarketProduct) (string, error) {
	if m.beforeCreate != nil {
		m.beforeCreate(p.SKU)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls["CreateProduct"]++
	for id, q := range m.products {
		if q.SKU == p.SKU {
			return "", &cazbling.APIError{API: "cazco", Op: "POST /products", Status: 409, Kind: cazbling.KindConflict, ExistingID: id}
		}
	}
	m.nextID++
	p.ID = fmt.Sprintf("p%d", m.nextID)
	m.products[p.ID] = p
	return p.ID, nil
}

func (m *fakeMarket) UpdateProduct(ctx context.Context, id string, p cazbling.MarketProduct) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls["UpdateProduct"]++
	old, ok := m.products[id]
	if !ok {
		return &cazbling.APIError{API: "cazco", Op: "PUT /products/{id}", Status: 404, Kind: cazbling.KindNotFound}
	}
	p.ID, p.Stock = id, old.Stock
	m.products[id] = p
	return nil
}

func (m *fakeMarket) SetStock(ctx context.Context, id string, quantity int64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls["SetStock"]++
	p, ok := m.products[id]
	if !ok {
		return &cazbling.APIError{API: "cazco", Op: "PUT /products/{id}/stock", Status: 404, Kind: cazbling.KindNotFound}
	}
	p.Stock = quantity
	m.products[id] = p
	return nil
}

func (m *fakeMarket) SetStockBatch(ctx context.Context, items []cazbling.StockItem) ([]cazbling.StockResult, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls["SetStockBatch"]++
	var out []cazbling.StockResult
	for _, it := range items {
		res := cazbling.StockResult{SKU: it.SKU, Status: "not_found"}
		for id, p := range m.products {
			if p.SKU == it.SKU {
				p.Stock = it.Quantity
				m.products[id] = p
				res.Status = "updated"
			}
		}
		out = append(out, res)
	}
	return out, nil
}

// Orders lists the orders updated in the query's window, newest first.
func (m *fakeMarket) Orders(ctx context.Context, q cazbling.OrderQuery) iter.Seq2[cazbling.Order, error] {
	m.mu.Lock()
	m.calls["Orders"]++
	m.queries = append(m.queries, q)
	var list []cazbling.Order
	for _, o := range m.orders {
		if o.UpdatedAt.Before(q.UpdatedSince) || !q.UpdatedUntil.IsZero() && !o.UpdatedAt.Before(q.UpdatedUntil) ||
			len(q.Statuses) > 0 && !slices.Contains(q.Statuses, o.Status) {
			continue
		}
		list = append(list, o)
	}
	failAfter, failErr, entered, gate := m.failOrdersAfter, m.ordersErr, m.entered, m.gate
	m.mu.Unlock()
	slices.SortFunc(list, func(a, b cazbling.Order) int {
		return cmp.Or(b.UpdatedAt.Compare(a.UpdatedAt), cmp.Compare(a.ID, b.ID))
	})
	return func(yield func(cazbling.Order, error) bool) {
		if entered != nil {
			select {
			case entered <- struct{}{}:
			default:
			}
		}
		if gate != nil {
			select {
			case <-gate:
			case <-ctx.Done():
				yield(cazbling.Order{}, ctx.Err())
				return
			}
		}
		for i, o := range list {
			if failAfter > 0 && i == failAfter {
				yield(cazbling.Order{}, failErr)
				return
			}
			if !yield(o, nil) {
				return
			}
		}
	}
}

func (m *fakeMarket) Order(ctx context.Context, id string) (cazbling.Order, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls["Order"]++
	o, ok := m.orders[id]
	if !ok {
		return o, &cazbling.APIError{API: "cazco", Op: "GET /orders/{id}", Status: 404, Kind: cazbling.KindNotFound}
	}
	return o, nil
}
