package flow

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/cazbling/cazbling/pkg/cazbling"
)

// resolveSKUs finds the Bling product ids of the tasks' SKUs: from the product links,
// else from Bling in one batched look-up.
func (s *orderSync) resolveSKUs(ctx context.Context, tasks []*orderTask) error {
	var need []string
	seen := make(map[string]bool)
	for _, t := range tasks {
		for _, it := range t.order.Items {
			if _, ok := s.productIDs[it.SKU]; ok || s.missing[it.SKU] || s.ambiguous[it.SKU] > 0 || seen[it.SKU] {
				continue
			}
			seen[it.SKU] = true
			need = append(need, it.SKU)
		}
	}
	if len(need) == 0 {
		return nil
	}
	links, err := s.j.Store().ProductLinksBySKU(ctx, s.j.Tenant.ID, need)
	if err != nil {
		return fmt.Errorf("read product links: %w", err)
	}
	var ask []string
	for _, sku := range need {
		if l, ok := links[sku]; ok && l.BlingID != 0 {
			s.productIDs[sku] = l.BlingID
			continue
		}
		ask = append(ask, sku)
	}
	if len(ask) == 0 {
		return nil
	}
	products, err := s.j.ERP.ProductsBySKU(ctx, ask)
	if err != nil {
		return err
	}
	ids := make(map[string][]int64)
	for _, p := range products {
		if p.ID != 0 && !slices.Contains(ids[p.SKU], p.ID) {
			ids[p.SKU] = append(ids[p.SKU], p.ID)
		}
	}
	for _, sku := range ask {
		switch n := len(ids[sku]); {
		case n == 0:
			s.missing[sku] = true
		case n == 1:
			s.productIDs[sku] = ids[sku][0]
		default:
			s.ambiguous[sku] = n
		}
	}
	return nil
}

// skuProblem says why an order's items cannot be mapped to Bling products, or "".
func (s *orderSync) skuProblem(o cazbling.Order) string {
	for _, it := range o.Items {
		switch {
		case s.missing[it.SKU]:
			return fmt.Sprintf("SKU %s is not in Bling; add it there (or fix the SKU in CaZco) and the order is filed on the next run", it.SKU)
		case s.ambiguous[it.SKU] > 0:
			return fmt.Sprintf("SKU %s is carried by %d Bling products; give it to one product only in Bling and the order is filed on the next run", it.SKU, s.ambiguous[it.SKU])
		}
		if _, ok := s.productIDs[it.SKU]; !ok {
			return fmt.Sprintf("SKU %s could not be looked up in Bling; it is tried again on the next run", it.SKU)
		}
	}
	return ""
}

// orderDiscount is the discount, in reais, that Bling must take off the order so that
// its total (Σ unit price × quantity − discount + freight) is exactly what the buyer
// pays in CaZco. CaZco's item discounts are amounts, Bling's are percentages, so the
// items go at their unit price and every discount is taken at the order level. It
// fails when CaZco's totals do not add up, whichever way its discount is read (the
// sum of the item discounts, or an order discount besides them): such an order is
// not filed, so that Bling never gets a wrong amount.
func orderDiscount(o cazbling.Order) (decimal.Decimal, error) {
	gross, lines := decimal.Zero, decimal.Zero
	for _, it := range o.Items {
		gross = gross.Add(it.UnitPrice.Mul(decimal.NewFromInt(it.Quantity)))
		lines = lines.Add(it.Discount)
	}
	d := gross.Add(o.ShippingPrice).Sub(o.Total)
	if d.IsNegative() || (!d.Equal(o.Discount) && !d.Equal(o.Discount.Add(lines))) {
		return decimal.Zero, fmt.Errorf("the order's amounts do not add up (items %s, item discounts %s, discount %s, shipping %s, total %s); it is not filed so that Bling does not get a wrong amount; ask CaZco support to correct the order",
			gross.StringFixed(2), lines.StringFixed(2), o.Discount.StringFixed(2), o.ShippingPrice.StringFixed(2), o.Total.StringFixed(2))
	}
	return d, nil
}

// salesOrder is the Bling sales order for a checked CaZco order. Dates are São Paulo
// calendar days: the order date is CaZco's created_at, the ship date the same day
// and the expected date that plus the estimated delivery days. Payment is one
// installment of the order's total, due on the order date.
func salesOrder(o cazbling.Order, storeID, contactID, methodID int64, productIDs map[string]int64, discount decimal.Decimal, now time.Time) cazbling.SalesOrder {
	created := o.CreatedAt
	if created.IsZero() {
		created = now
	}
	local := created.In(SaoPaulo)
	date := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, SaoPaulo)
	expected := date
	if o.EstimatedDeliveryDays > 0 {
		expected = date.AddDate(0, 0, o.EstimatedDeliveryDays)
	}
	items := make([]cazbling.SalesOrderItem, 0, len(o.Items))
	for _, it := range o.Items {
		desc := strings.TrimSpace(it.Name)
		if desc == "" {
			desc = it.SKU
		}
		items = append(items, cazbling.SalesOrderItem{
			ProductID: productIDs[it.SKU], SKU: it.SKU, Description: desc, Unit: "UN",
			Quantity: decimal.NewFromInt(it.Quantity), UnitPrice: it.UnitPrice,
			Discount: decimal.Zero, // taken at the order level: see orderDiscount
		})
	}
	shipTo := o.Shipping
	if shipTo.Street == "" {
		shipTo = o.Billing
	}
	if strings.TrimSpace(shipTo.Recipient) == "" {
		shipTo.Recipient = strings.TrimSpace(o.Customer.Name)
	}
	notes := fmt.Sprintf("CaZco order %s (number %s)", o.ID, o.Number)
	if n := strings.TrimSpace(o.Notes); n != "" {
		notes += "\nBuyer's note: " + n
	}
	return cazbling.SalesOrder{
		StoreNumber: o.Number, Date: date, ShipDate: date, ExpectedDate: expected,
		ContactID: contactID, StoreID: storeID, Items: items,
		Discount: discount, Freight: o.ShippingPrice, Carrier: o.Carrier, ShipTo: shipTo,
		Installments: []cazbling.Installment{{DueDate: date, Amount: o.Total, PaymentMethodID: methodID}},
		Notes:        notes,
	}
}
