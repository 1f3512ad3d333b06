package flow

import (
	"cmp"
	"context"
	"fmt"
	"iter"
	"slices"
	"sync"

	"github.com/cazbling/cazbling/pkg/cazbling"
)

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
