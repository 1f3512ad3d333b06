package flow

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/cazbling/cazbling/pkg/cazbling"
)

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
