package panel

import "testing"

// The order lifecycle's and product retirement's codes (issue 17) have pt-BR messages.
func TestLifecycleCodesHavePortuguese(t *testing.T) {
	for _, code := range []string{"order.invoice_sent", "order.shipment_sent", "order.canceled_in_cazco",
		"order.canceled_in_bling", "order.cancel_blocked", "order.lifecycle_closed", "order.lifecycle_ok", "product.retired", "tenant.retry_later"} {
		if c, ok := catalogue[code]; !ok || c.msg == "" {
			t.Errorf("code %s has no pt-BR message", code)
		}
	}
}
