package cazcosim

import (
	"fmt"
	"strconv"

	"github.com/shopspring/decimal"
)

// The order helpers, as seed.go's product ones: they seed and inspect stores directly,
// for the sandbox's demo data and for tests, through no rate limit and not recorded in
// Writes.

// AddOrder adds o to the store of apiKey and returns its id. Empty fields are filled in:
// id (from a counter), marketplace_order_id, number ("<cart>-1"), created_at and
// updated_at (now), status (processing) and its label, currency (BRL); per item the id,
// and product_id, name and unit_price from the store's product with that SKU, quantity
// 1, discount 0.00 and the total; the totals (items = Σ unit_price×quantity, discount =
// Σ item discounts, shipping = shipping.price, total = items − discount + shipping);
// the payment (pix, status from the order status, amount = total, 1 installment),
// paid_at and canceled_at; a missing address copies the other one; country BR; the
// document type from the document's length. Given values are kept as they are.
func (s *Sim) AddOrder(apiKey string, o Order) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, found := s.stores[apiKey]
	if !found {
		return "", fmt.Errorf("add order: %w", ErrUnknownStore)
	}
	o = cloneJSON(o)
	if o.ID != "" {
		if _, dup := st.orders[o.ID]; dup {
			return "", fmt.Errorf("add order %s: %w: id already used", o.ID, ErrInvalid)
		}
	}
	if err := s.completeOrder(st, &o); err != nil {
		return "", fmt.Errorf("add order: %w", err)
	}
	if o.ID == "" {
		o.ID = s.newOrderID(st)
	}
	st.orders[o.ID] = &o
	st.orderSequence = append(st.orderSequence, o.ID)
	return o.ID, nil
}

func (s *Sim) newOrderID(st *store) string {
	for {
		id := strconv.FormatInt(s.nextOrderID, 10)
		s.nextOrderID++
		if _, taken := st.orders[id]; !taken {
			return id
		}
	}
}

// completeOrder fills the empty fields of a new order (see AddOrder).
func (s *Sim) completeOrder(st *store, o *Order) error {
	now := s.stamp()
	if o.MarketplaceOrderID == nil {
		cart := strconv.FormatInt(s.nextCartID, 10)
		s.nextCartID++
		o.MarketplaceOrderID = &cart
	}
	if o.Number == "" {
		o.Number = *o.MarketplaceOrderID + "-1"
	}
	if o.CreatedAt.IsZero() {
		o.CreatedAt = now
	}
	if o.UpdatedAt.IsZero() {
		o.UpdatedAt = now
		if o.CreatedAt.After(now) {
			o.UpdatedAt = o.CreatedAt
		}
	}
	if o.Status == "" {
		o.Status = "processing"
	}
	if o.StatusLabel == nil {
		o.StatusLabel = statusLabel(o.Status)
	}
	if o.Currency == "" {
		o.Currency = "BRL"
	}
	if len(o.Items) == 0 {
		return fmt.Errorf("%w: an order needs at least one item", ErrInvalid)
	}

	var gross, discounts decimal.Decimal
	for i := range o.Items {
		it := &o.Items[i]
		if it.ID == "" {
			it.ID = strconv.FormatInt(s.nextItemID, 10)
			s.nextItemID++
		}
		if id, exists := st.productBySKU[it.SKU]; exists {
			p := st.products[id]
			if it.ProductID == "" {
				it.ProductID = p.ID
			}
			if it.Name == "" {
				it.Name = p.Name
			}
			if it.UnitPrice == "" {
				it.UnitPrice = p.Price
			}
		}
		if it.Quantity == 0 {
			it.Quantity = 1
		}
		if it.Quantity < 0 {
			return fmt.Errorf("%w: item %d: negative quantity", ErrInvalid, i)
		}
		if it.Discount == "" {
			it.Discount = "0.00"
		}
		unit, err := parseMoney("unit_price", it.UnitPrice)
		if err != nil {
			return fmt.Errorf("item %d (sku %q): %w", i, it.SKU, err)
		}
		discount, err := parseMoney("discount", it.Discount)
		if err != nil {
			return fmt.Errorf("item %d: %w", i, err)
		}
		line := unit.Mul(decimal.NewFromInt(it.Quantity))
		if it.Total == "" {
			it.Total = line.Sub(discount).StringFixed(2)
		}
		gross = gross.Add(line)
		discounts = discounts.Add(discount)
	}

	if o.Shipping.Price == "" {
		o.Shipping.Price = o.Totals.Shipping
		if o.Shipping.Price == "" {
			o.Shipping.Price = "0.00"
		}
	}
	if o.Shipping.MethodCode == "" {
		o.Shipping.MethodCode = "correios_sedex"
	}
	if o.Totals.Items == "" {
		o.Totals.Items = gross.StringFixed(2)
	}
	if o.Totals.Discount == "" {
		o.Totals.Discount = discounts.StringFixed(2)
	}
	if o.Totals.Shipping == "" {
		o.Totals.Shipping = o.Shipping.Price
	}
	if o.Totals.Total == "" {
		var sum decimal.Decimal
		for _, part := range []struct {
			name, value string
			sign        int64
		}{{"totals.items", o.Totals.Items, 1}, {"totals.discount", o.Totals.Discount, -1}, {"totals.shipping", o.Totals.Shipping, 1}} {
			d, err := parseMoney(part.name, part.value)
			if err != nil {
				return err
			}
			sum = sum.Add(d.Mul(decimal.NewFromInt(part.sign)))
		}
		o.Totals.Total = sum.StringFixed(2)
	}
	for name, v := range map[string]string{"shipping.price": o.Shipping.Price, "totals.total": o.Totals.Total,
		"totals.items": o.Totals.Items, "totals.discount": o.Totals.Discount, "totals.shipping": o.Totals.Shipping} {
		if _, err := parseMoney(name, v); err != nil {
			return err
		}
	}

	if o.Payment.Method == "" {
		o.Payment.Method = "pix"
	}
	if o.Payment.Status == "" {
		switch {
		case o.Status == "pending_payment":
			o.Payment.Status = "pending"
		case isCanceled(o.Status) && o.PaidAt == nil:
			o.Payment.Status = "canceled"
		default:
			o.Payment.Status = "paid"
		}
	}
	if o.Payment.Installments == 0 {
		o.Payment.Installments = 1
	}
	if o.Payment.Amount == "" {
		o.Payment.Amount = o.Totals.Total
	}
	if _, err := parseMoney("payment.amount", o.Payment.Amount); err != nil {
		return err
	}
	if o.Payment.Status == "paid" {
		if o.PaidAt == nil {
			paid := o.CreatedAt
			if o.Payment.PaidAt != nil {
				paid = *o.Payment.PaidAt
			}
			o.PaidAt = &paid
		}
		if o.Payment.PaidAt == nil {
			paid := *o.PaidAt
			o.Payment.PaidAt = &paid
		}
	}
	if isCanceled(o.Status) && o.CanceledAt == nil {
		canceled := o.UpdatedAt
		o.CanceledAt = &canceled
	}

	if o.BillingAddress == (Address{}) {
		o.BillingAddress = o.ShippingAddress
	}
	if o.ShippingAddress == (Address{}) {
		o.ShippingAddress = o.BillingAddress
	}
	for _, a := range []*Address{&o.BillingAddress, &o.ShippingAddress} {
		if a.Country == "" {
			a.Country = "BR"
		}
	}
	if o.Customer.DocumentType == "" {
		o.Customer.DocumentType = "CPF"
		if len(o.Customer.Document) == 14 {
			o.Customer.DocumentType = "CNPJ"
		}
	}
	normalizeOrderTimes(o)
	return nil
}

// SetOrderStatus moves an order to status, as the marketplace would: the label follows,
// updated_at becomes now, a paid status sets paid_at (and marks a pending payment paid)
// when it was empty, and canceled or desisted sets canceled_at when it was empty.
func (s *Sim) SetOrderStatus(apiKey, id, status string) error {
	return s.UpdateOrder(apiKey, id, func(o *Order) {
		now := s.stamp()
		o.Status = status
		o.StatusLabel = statusLabel(status)
		switch {
		case isCanceled(status):
			if o.CanceledAt == nil {
				o.CanceledAt = &now
			}
			if o.Payment.Status == "pending" {
				o.Payment.Status = "canceled"
			}
		case isPaid(status):
			if o.PaidAt == nil {
				o.PaidAt = &now
			}
			if o.Payment.Status == "pending" {
				o.Payment.Status = "paid"
				o.Payment.PaidAt = &now
			}
		}
	})
}

// UpdateOrder changes the order id of the store of apiKey with change, which gets a copy.
// The id cannot change. updated_at becomes now unless change set it.
func (s *Sim) UpdateOrder(apiKey, id string, change func(o *Order)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, found := s.stores[apiKey]
	if !found {
		return fmt.Errorf("update order: %w", ErrUnknownStore)
	}
	current, exists := st.orders[id]
	if !exists {
		return fmt.Errorf("update order %s: %w", id, ErrNotFound)
	}
	next := cloneJSON(*current)
	change(&next)
	next.ID = id
	if next.UpdatedAt.Equal(current.UpdatedAt) {
		next.UpdatedAt = s.stamp()
	}
	normalizeOrderTimes(&next)
	*current = next
	return nil
}

// Order returns a copy of the order id of the store of apiKey.
func (s *Sim) Order(apiKey, id string) (Order, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, found := s.stores[apiKey]
	if !found {
		return Order{}, false
	}
	o, exists := st.orders[id]
	if !exists {
		return Order{}, false
	}
	return cloneJSON(*o), true
}

// Orders returns copies of the orders of the store of apiKey, in the order they were added.
func (s *Sim) Orders(apiKey string) []Order {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, found := s.stores[apiKey]
	if !found {
		return nil
	}
	out := make([]Order, 0, len(st.orderSequence))
	for _, id := range st.orderSequence {
		out = append(out, cloneJSON(*st.orders[id]))
	}
	return out
}

func normalizeOrderTimes(o *Order) {
	o.CreatedAt = normalizeTime(o.CreatedAt)
	o.UpdatedAt = normalizeTime(o.UpdatedAt)
	o.PaidAt = normalizeTimePtr(o.PaidAt)
	o.CanceledAt = normalizeTimePtr(o.CanceledAt)
	o.Shipping.DispatchedAt = normalizeTimePtr(o.Shipping.DispatchedAt)
	o.Payment.PaidAt = normalizeTimePtr(o.Payment.PaidAt)
	if o.Invoice != nil {
		o.Invoice.IssuedAt = normalizeTimePtr(o.Invoice.IssuedAt)
	}
	if o.Shipments == nil {
		o.Shipments = []Shipment{}
	}
}

// statusLabel is the storefront's Portuguese label of a documented status; nil otherwise.
func statusLabel(status string) *string {
	var label string
	switch status {
	case "pending_payment":
		label = "Aguardando Pagamento"
	case "awaiting_confirmation", "processing":
		label = "Em Processo"
	case "billed":
		label = "Faturado"
	case "ready_to_delivery":
		label = "Pronto para Retirada"
	case "shipped":
		label = "Enviado"
	case "transit":
		label = "Em Transporte"
	case "delivered":
		label = "Entregue"
	case "completed":
		label = "Completo"
	case "canceled":
		label = "Cancelado"
	case "desisted":
		label = "Desistência"
	default:
		return nil
	}
	return &label
}

func isCanceled(status string) bool { return status == "canceled" || status == "desisted" }

func isPaid(status string) bool {
	switch status {
	case "awaiting_confirmation", "processing", "billed", "ready_to_delivery",
		"shipped", "transit", "delivered", "completed":
		return true
	}
	return false
}
