package flow

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cazbling/cazbling/pkg/cazbling"
)

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
