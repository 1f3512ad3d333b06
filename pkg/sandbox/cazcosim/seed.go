package cazcosim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/shopspring/decimal"
)

// The helpers below seed and inspect stores directly, for the sandbox's demo data and
// for tests. They go through no rate limit and are not recorded in Writes.

// PutProduct creates p in the store of apiKey, or replaces the product with the same SKU
// (keeping its id and, unless p sets it, its created_at). An empty id, status, warehouse
// code or timestamp is filled in. sku, name (1..255 characters), price (money, not
// negative) and a non-negative stock quantity are checked like POST /products does.
func (s *Sim) PutProduct(apiKey string, p Product) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, found := s.stores[apiKey]
	if !found {
		return "", fmt.Errorf("put product: %w", ErrUnknownStore)
	}
	switch {
	case strings.TrimSpace(p.SKU) == "":
		return "", fmt.Errorf("put product: %w: empty sku", ErrInvalid)
	case strings.TrimSpace(p.Name) == "" || utf8.RuneCountInString(p.Name) > 255:
		return "", fmt.Errorf("put product %s: %w: name must have 1 to 255 characters", p.SKU, ErrInvalid)
	case !moneyPattern.MatchString(p.Price) || isNegativeMoney(p.Price):
		return "", fmt.Errorf("put product %s: %w: price %q is not a non-negative money string", p.SKU, ErrInvalid, p.Price)
	case p.Stock.Quantity < 0:
		return "", fmt.Errorf("put product %s: %w: negative stock", p.SKU, ErrInvalid)
	}
	p = cloneJSON(p)
	now := s.stamp()
	if existingID, exists := st.productBySKU[p.SKU]; exists {
		if p.ID != "" && p.ID != existingID {
			return "", fmt.Errorf("put product %s: %w: sku belongs to product %s", p.SKU, ErrInvalid, existingID)
		}
		p.ID = existingID
		if p.CreatedAt.IsZero() {
			p.CreatedAt = st.products[existingID].CreatedAt
		}
	} else if p.ID == "" {
		p.ID = s.newProductID(st)
	} else if _, taken := st.products[p.ID]; taken {
		return "", fmt.Errorf("put product %s: %w: id %s belongs to another sku", p.SKU, ErrInvalid, p.ID)
	}
	if p.CreatedAt.IsZero() {
		p.CreatedAt = now
	}
	if p.UpdatedAt.IsZero() {
		p.UpdatedAt = now
	}
	if p.Status == "" {
		p.Status = "active"
	}
	if p.Images == nil {
		p.Images = []string{}
	}
	if p.Attributes == nil {
		p.Attributes = map[string]string{}
	}
	if p.Stock.WarehouseCode == "" {
		p.Stock.WarehouseCode = "default"
	}
	if p.Stock.UpdatedAt.IsZero() {
		p.Stock.UpdatedAt = p.UpdatedAt
	}
	p.CreatedAt = normalizeTime(p.CreatedAt)
	p.UpdatedAt = normalizeTime(p.UpdatedAt)
	p.Stock.UpdatedAt = normalizeTime(p.Stock.UpdatedAt)
	p.PromotionalPriceFrom = normalizeTimePtr(p.PromotionalPriceFrom)
	p.PromotionalPriceTo = normalizeTimePtr(p.PromotionalPriceTo)
	st.products[p.ID] = &p
	st.productBySKU[p.SKU] = p.ID
	return p.ID, nil
}

// Product returns a copy of the product with sku in the store of apiKey.
func (s *Sim) Product(apiKey, sku string) (Product, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, found := s.stores[apiKey]
	if !found {
		return Product{}, false
	}
	id, exists := st.productBySKU[sku]
	if !exists {
		return Product{}, false
	}
	return cloneJSON(*st.products[id]), true
}

// Products returns copies of the products of the store of apiKey, sorted by SKU.
func (s *Sim) Products(apiKey string) []Product {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, found := s.stores[apiKey]
	if !found {
		return nil
	}
	out := make([]Product, 0, len(st.products))
	for _, p := range st.products {
		out = append(out, cloneJSON(*p))
	}
	slices.SortFunc(out, func(a, b Product) int { return strings.Compare(a.SKU, b.SKU) })
	return out
}

// DeleteProduct removes the product with sku from the store of apiKey.
func (s *Sim) DeleteProduct(apiKey, sku string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, id, err := s.lookupSKU(apiKey, sku, "delete product")
	if err != nil {
		return err
	}
	delete(st.products, id)
	delete(st.productBySKU, sku)
	return nil
}

// lookupSKU finds the store of apiKey and the id of its product with sku, for the
// helper op: its errors read "op: unknown store" and "op sku: not found". The caller
// holds s.mu.
func (s *Sim) lookupSKU(apiKey, sku, op string) (*store, string, error) {
	st, found := s.stores[apiKey]
	if !found {
		return nil, "", fmt.Errorf("%s: %w", op, ErrUnknownStore)
	}
	id, exists := st.productBySKU[sku]
	if !exists {
		return nil, "", fmt.Errorf("%s %s: %w", op, sku, ErrNotFound)
	}
	return st, id, nil
}

// SetStock sets the absolute stock of the product with sku, as a seller would in the panel.
func (s *Sim) SetStock(apiKey, sku string, quantity int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, id, err := s.lookupSKU(apiKey, sku, "set stock")
	if err != nil {
		return err
	}
	if quantity < 0 {
		return fmt.Errorf("set stock %s: %w: negative quantity", sku, ErrInvalid)
	}
	p := st.products[id]
	s.setStock(p, quantity, p.Stock.WarehouseCode)
	return nil
}

// newProductID returns the next product id not used in st.
func (s *Sim) newProductID(st *store) string {
	for {
		id := strconv.FormatInt(s.nextProductID, 10)
		s.nextProductID++
		if _, taken := st.products[id]; !taken {
			return id
		}
	}
}

func parseMoney(field, v string) (decimal.Decimal, error) {
	if !moneyPattern.MatchString(v) {
		return decimal.Decimal{}, fmt.Errorf("%w: %s %q is not a money string such as \"129.90\"", ErrInvalid, field, v)
	}
	d, err := decimal.NewFromString(v)
	if err != nil {
		return decimal.Decimal{}, fmt.Errorf("%w: %s %q: %v", ErrInvalid, field, v, err)
	}
	return d, nil
}

// cloneJSON deep-copies a wire struct by a JSON round trip, so callers never share
// pointers with the stored records. The types hold only JSON-safe values.
func cloneJSON[T any](v T) T {
	data, err := json.Marshal(v)
	if err != nil {
		return v
	}
	var out T
	if json.Unmarshal(data, &out) != nil {
		return v
	}
	return out
}

// sameJSON reports whether a and b encode to the same JSON.
func sameJSON(a, b any) bool {
	x, errX := json.Marshal(a)
	y, errY := json.Marshal(b)
	return errX == nil && errY == nil && bytes.Equal(x, y)
}
