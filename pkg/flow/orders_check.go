package flow

import (
	"fmt"
	"strings"

	"github.com/cazbling/cazbling/pkg/cazbling"
)

// knownOrderStatus reports whether s is one of the order statuses CaZco documents.
func knownOrderStatus(s string) bool {
	switch s {
	case "pending_payment", "awaiting_confirmation", "processing", "billed", "ready_to_delivery",
		"shipped", "transit", "delivered", "completed", "canceled", "desisted":
		return true
	}
	return false
}

// checkOrder says why an order cannot be filed as it is, before anything is asked of
// Bling, or "".
func checkOrder(o cazbling.Order) string {
	if strings.TrimSpace(o.Number) == "" {
		return "the order has no number in CaZco, and Bling's store number is how cazbling files it exactly once; ask CaZco support"
	}
	if msg := checkBuyer(o.Customer); msg != "" {
		return msg
	}
	if len(o.Items) == 0 {
		return "the order has no items in CaZco"
	}
	for i, it := range o.Items {
		switch {
		case strings.TrimSpace(it.SKU) == "":
			return fmt.Sprintf("item %d (%q) has no SKU in CaZco; give the product a SKU that Bling knows", i+1, it.Name)
		case it.Quantity < 1:
			return fmt.Sprintf("item %s has quantity %d; CaZco should send at least 1; ask CaZco support", it.SKU, it.Quantity)
		case it.UnitPrice.IsNegative() || it.Discount.IsNegative():
			return fmt.Sprintf("item %s has a negative price or discount (%s, %s)", it.SKU, it.UnitPrice.StringFixed(2), it.Discount.StringFixed(2))
		}
	}
	if _, err := orderDiscount(o); err != nil {
		return err.Error()
	}
	return ""
}
