package flow

import (
	"testing"
)

func TestBuyerContact(t *testing.T) {
	o := testOrder(1, ordersT0, cpfBuyer(1), testItem("A", 1, "1.00", "0.00"))
	o.Billing.Street = ""
	o.Shipping.Street = "Rua de Entrega"
	c := buyerContact(o, testCPF(1))
	if c.Type != "F" || c.IEIndicator != 9 || c.IE != "" || c.Name != "Comprador 1" || c.Document != testCPF(1) || c.Address.Street != "Rua de Entrega" || c.Email == "" {
		t.Errorf("CPF buyer: %+v", c)
	}
	for _, tc := range []struct {
		ie        string
		wantIE    string
		indicator int
	}{
		{"ISENTO", "", 2}, {" isento ", "", 2}, {"110.042.490.114", "110042490114", 1}, {"", "", 9},
	} {
		o.Customer = cnpjBuyer(1, tc.ie)
		c := buyerContact(o, testCNPJ(1))
		if c.Type != "J" || c.IE != tc.wantIE || c.IEIndicator != tc.indicator || c.Name != "Empresa 1 Ltda" {
			t.Errorf("CNPJ buyer with IE %q: %+v", tc.ie, c)
		}
	}
}
