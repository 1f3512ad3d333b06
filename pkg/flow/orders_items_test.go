package flow

import (
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/cazbling/cazbling/pkg/cazbling"
)

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
