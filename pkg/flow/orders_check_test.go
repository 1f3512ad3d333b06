package flow

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cazbling/cazbling/pkg/cazbling"
)

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
