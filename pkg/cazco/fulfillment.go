package cazco

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/cazbling/cazbling/pkg/cazbling"
)

// After the order (CAZCO.md, contract v1.1): invoice, shipments, cancel.

const (
	opSetInvoice  = "PUT /orders/{id}/invoice"
	opAddShipment = "POST /orders/{id}/shipments"
	opCancelOrder = "POST /orders/{id}/cancel"
)

// ValidAccessKey reports whether key is an NF-e access key: 44 digits whose last is
// the mod-11 check digit of the first 43 (weights 2 to 9 from the right).
func ValidAccessKey(key string) bool {
	if len(key) != 44 {
		return false
	}
	sum, w := 0, 2
	for i := 42; i >= 0; i-- {
		c := key[i]
		if c < '0' || c > '9' {
			return false
		}
		sum += int(c-'0') * w
		if w++; w > 9 {
			w = 2
		}
	}
	dv := 11 - sum%11
	if dv >= 10 {
		dv = 0
	}
	return key[43] >= '0' && key[43] <= '9' && int(key[43]-'0') == dv
}

type invoiceWrite struct {
	Number    string  `json:"number"`
	Series    string  `json:"series"`
	AccessKey string  `json:"access_key"`
	IssuedAt  string  `json:"issued_at"`
	Amount    string  `json:"amount"`
	DanfeURL  *string `json:"danfe_url,omitempty"`
	XMLURL    *string `json:"xml_url,omitempty"`
	Replaces  *string `json:"replaces,omitempty"`
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// SetInvoice sets order id's invoice (PUT /orders/{id}/invoice). The same key again is
// a 200 that changes nothing; a 409 naming the same key as existing_access_key is
// success too. A 409 for another key is an *APIError of Kind KindConflict whose
// ExistingID is the key CaZco has.
func (c *Client) SetInvoice(ctx context.Context, id string, inv cazbling.MarketInvoice) error {
	switch {
	case id == "":
		return invalid(opSetInvoice, "empty order id")
	case !ValidAccessKey(inv.AccessKey):
		return invalid(opSetInvoice, fmt.Sprintf("order %s: %q is not an NF-e access key (44 digits with its check digit)", id, cut(inv.AccessKey, 60)))
	case inv.Number == "" || inv.IssuedAt.IsZero():
		return invalid(opSetInvoice, fmt.Sprintf("order %s: the NF-e has no number or issue date", id))
	}
	body := invoiceWrite{
		Number: inv.Number, Series: inv.Series, AccessKey: inv.AccessKey,
		IssuedAt: inv.IssuedAt.UTC().Format(time.RFC3339), Amount: inv.Amount.StringFixed(2),
		DanfeURL: optional(inv.DanfeURL), XMLURL: optional(inv.XMLURL), Replaces: optional(inv.Replaces),
	}
	resp, err := c.do(ctx, request{
		op: opSetInvoice, method: http.MethodPut, url: c.endpoint("/orders/"+url.PathEscape(id)+"/invoice", nil), body: body,
	})
	if err != nil {
		var ae *cazbling.APIError
		if errors.As(err, &ae) && ae.Kind == cazbling.KindConflict && ae.ExistingID == inv.AccessKey {
			return nil // already done
		}
		return err
	}
	return c.checkJSON(opSetInvoice, resp)
}

type shipmentWrite struct {
	Carrier      string  `json:"carrier"`
	TrackingCode string  `json:"tracking_code"`
	Service      *string `json:"service,omitempty"`
	TrackingURL  *string `json:"tracking_url,omitempty"`
	ShippedAt    *string `json:"shipped_at,omitempty"`
}

// AddShipment adds a shipment to order id (POST /orders/{id}/shipments). The same
// tracking code again is a 409 with existing_id, returned as already done. Retrying
// the POST after a lost answer is safe for the same reason.
func (c *Client) AddShipment(ctx context.Context, id string, s cazbling.MarketShipment) (string, bool, error) {
	switch {
	case id == "":
		return "", false, invalid(opAddShipment, "empty order id")
	case strings.TrimSpace(s.TrackingCode) == "":
		return "", false, invalid(opAddShipment, fmt.Sprintf("order %s: a shipment needs a tracking code", id))
	}
	body := shipmentWrite{Carrier: s.Carrier, TrackingCode: s.TrackingCode, Service: optional(s.Service), TrackingURL: optional(s.TrackingURL)}
	if body.Carrier == "" {
		body.Carrier = "-"
	}
	if !s.ShippedAt.IsZero() {
		at := s.ShippedAt.UTC().Format(time.RFC3339)
		body.ShippedAt = &at
	}
	resp, err := c.do(ctx, request{
		op: opAddShipment, method: http.MethodPost, url: c.endpoint("/orders/"+url.PathEscape(id)+"/shipments", nil), body: body,
	})
	if err != nil {
		var ae *cazbling.APIError
		if errors.As(err, &ae) && ae.Kind == cazbling.KindConflict && ae.Status == http.StatusConflict {
			return ae.ExistingID, true, nil
		}
		return "", false, err
	}
	var env itemEnvelope
	if err := c.decode(opAddShipment, resp, &env); err != nil {
		return "", false, err
	}
	return rawID(env.Data), false, nil
}

// CancelOrder cancels order id (POST /orders/{id}/cancel). Already canceled is a 200;
// shipped or later is a 409 not_cancelable, an *APIError of Kind KindConflict.
func (c *Client) CancelOrder(ctx context.Context, id, reason string) error {
	if id == "" {
		return invalid(opCancelOrder, "empty order id")
	}
	resp, err := c.do(ctx, request{
		op: opCancelOrder, method: http.MethodPost, url: c.endpoint("/orders/"+url.PathEscape(id)+"/cancel", nil),
		body: map[string]string{"reason": reason},
	})
	if err != nil {
		return err
	}
	return c.checkJSON(opCancelOrder, resp)
}

// SetProductStatus sets only the status of product id (PUT /products/{id} is partial:
// the other fields are left as they are), e.g. "inactive" for a product deleted in Bling.
func (c *Client) SetProductStatus(ctx context.Context, id, status string) error {
	if id == "" || status == "" {
		return invalid(opUpdateProduct, "empty product id or status")
	}
	resp, err := c.do(ctx, request{
		op: opUpdateProduct, method: http.MethodPut,
		url: c.endpoint("/products/"+url.PathEscape(id), nil), body: map[string]string{"status": status},
	})
	if err != nil {
		return err
	}
	return c.checkJSON(opUpdateProduct, resp)
}
