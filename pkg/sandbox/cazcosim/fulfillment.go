package cazcosim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// After the order (CAZCO.md, contract v1.1): PUT /orders/{id}/invoice, POST
// /orders/{id}/shipments, POST /orders/{id}/cancel, with their 409s. The store counts
// every invoice set and shipment created (Fulfillment), so tests can prove that
// nothing was sent twice.

// statusRank orders the documented statuses along an order's life; canceled ones and
// unknown values rank 0.
func statusRank(status string) int {
	switch status {
	case "pending_payment":
		return 1
	case "awaiting_confirmation", "processing":
		return 2
	case "billed":
		return 3
	case "ready_to_delivery":
		return 4
	case "shipped":
		return 5
	case "transit":
		return 6
	case "delivered":
		return 7
	case "completed":
		return 8
	}
	return 0
}

// ValidAccessKey reports whether key is 44 digits with a right mod-11 check digit.
func ValidAccessKey(key string) bool {
	if len(key) != 44 {
		return false
	}
	sum, w := 0, 2
	for i := 42; i >= 0; i-- {
		if key[i] < '0' || key[i] > '9' {
			return false
		}
		sum += int(key[i]-'0') * w
		if w++; w > 9 {
			w = 2
		}
	}
	dv := 11 - sum%11
	if dv >= 10 {
		dv = 0
	}
	return key[43] == byte('0'+dv)
}

// Fulfillment counts what the writes of v1.1 did to one order.
type Fulfillment struct {
	InvoicesSet     int // PUT /invoice answers that set or replaced the invoice
	ShipmentsMade   int // POST /shipments answered 201
	Cancels         int // POST /cancel that canceled the order
	InvoiceConflict int // 409s on PUT /invoice
}

func (s *Sim) fulfillment(st *store, id string) *Fulfillment {
	if st.fulfillment == nil {
		st.fulfillment = map[string]*Fulfillment{}
	}
	f := st.fulfillment[id]
	if f == nil {
		f = &Fulfillment{}
		st.fulfillment[id] = f
	}
	return f
}

// FulfillmentOf returns the counts of order id of the store of apiKey.
func (s *Sim) FulfillmentOf(apiKey, id string) Fulfillment {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stores[apiKey]
	if st == nil || st.fulfillment == nil || st.fulfillment[id] == nil {
		return Fulfillment{}
	}
	return *st.fulfillment[id]
}

func stringMember(obj map[string]json.RawMessage, name string, required bool, errs fieldErrors) (string, bool) {
	raw, found := obj[name]
	if !found || isNull(raw) {
		if required {
			errs.add(name, "The "+name+" field is required.")
		}
		return "", false
	}
	v, isString := decodeString(raw)
	if !isString {
		errs.add(name, "The "+name+" must be a string.")
		return "", false
	}
	return v, true
}

// orderAndBody finds the order id of st and decodes the request's JSON object, or
// returns the answer to give instead: 404 for an unknown order, else decodeObject's.
func orderAndBody(st *store, r *http.Request, id string, body []byte) (*Order, map[string]json.RawMessage, *response) {
	o, found := st.orders[id]
	if !found {
		nf := notFound()
		return nil, nil, &nf
	}
	obj, bad := decodeObject(r, body)
	if bad != nil {
		return nil, nil, bad
	}
	return o, obj, nil
}

func (s *Sim) putInvoice(st *store, r *http.Request, id string, body []byte) response {
	o, obj, bad := orderAndBody(st, r, id, body)
	if bad != nil {
		return *bad
	}
	errs := fieldErrors{}
	number, _ := stringMember(obj, "number", true, errs)
	series, _ := stringMember(obj, "series", true, errs)
	key, _ := stringMember(obj, "access_key", true, errs)
	issued, _ := stringMember(obj, "issued_at", true, errs)
	amount, _ := stringMember(obj, "amount", true, errs)
	danfe, hasDanfe := stringMember(obj, "danfe_url", false, errs)
	xml, hasXML := stringMember(obj, "xml_url", false, errs)
	replaces, _ := stringMember(obj, "replaces", false, errs)
	if key != "" && !ValidAccessKey(key) {
		errs.add("access_key", "The access key must be 44 digits with a valid check digit.")
	}
	var issuedAt time.Time
	if issued != "" {
		t, err := time.Parse(time.RFC3339, issued)
		if err != nil {
			errs.add("issued_at", "The issued at must be an RFC 3339 date-time.")
		}
		issuedAt = normalizeTime(t)
	}
	if amount != "" && !moneyPattern.MatchString(amount) {
		errs.add("amount", "The amount must be a money string with two decimals.")
	}
	if len(errs) > 0 {
		return validationFailed(errs)
	}
	f := s.fulfillment(st, id)
	if o.Invoice != nil {
		switch {
		case o.Invoice.AccessKey == key:
			return ok(http.StatusOK, envelope{Data: o}) // the same key again: nothing changes
		case replaces != o.Invoice.AccessKey:
			f.InvoiceConflict++
			resp := errorResponse(http.StatusConflict, "conflict", "The order already has an invoice with another access key.", nil)
			resp.body.(*ErrorBody).ExistingAccessKey = o.Invoice.AccessKey
			return resp
		}
	}
	inv := &Invoice{Number: number, Series: series, AccessKey: key, IssuedAt: &issuedAt, Amount: amount}
	if hasDanfe {
		inv.DanfeURL = &danfe
	}
	if hasXML {
		inv.XMLURL = &xml
	}
	o.Invoice = inv
	f.InvoicesSet++
	if r := statusRank(o.Status); r > 0 && r < statusRank("billed") {
		o.Status, o.StatusLabel = "billed", statusLabel("billed")
	}
	o.UpdatedAt = s.stamp()
	return ok(http.StatusOK, envelope{Data: o})
}

func (s *Sim) postShipment(st *store, r *http.Request, id string, body []byte) response {
	o, obj, bad := orderAndBody(st, r, id, body)
	if bad != nil {
		return *bad
	}
	errs := fieldErrors{}
	carrier, _ := stringMember(obj, "carrier", true, errs)
	code, _ := stringMember(obj, "tracking_code", true, errs)
	service, hasService := stringMember(obj, "service", false, errs)
	trackURL, hasURL := stringMember(obj, "tracking_url", false, errs)
	shipped, hasShipped := stringMember(obj, "shipped_at", false, errs)
	if strings.TrimSpace(code) == "" && len(errs["tracking_code"]) == 0 {
		errs.add("tracking_code", "The tracking code field is required.")
	}
	var shippedAt *time.Time
	if hasShipped {
		t, err := time.Parse(time.RFC3339, shipped)
		if err != nil {
			errs.add("shipped_at", "The shipped at must be an RFC 3339 date-time.")
		}
		t = normalizeTime(t)
		shippedAt = &t
	}
	if len(errs) > 0 {
		return validationFailed(errs)
	}
	for _, sh := range o.Shipments {
		if sh.TrackingCode == code {
			resp := errorResponse(http.StatusConflict, "conflict", "A shipment with this tracking code already exists.", nil)
			resp.body.(*ErrorBody).ExistingID = sh.ID
			return resp
		}
	}
	if o.Invoice == nil {
		return errorResponse(http.StatusUnprocessableEntity, "invoice_required", "The order must be invoiced before it ships.", nil)
	}
	if statusRank(o.Status) == 0 {
		return errorResponse(http.StatusUnprocessableEntity, "validation_failed", fmt.Sprintf("An order in status %s cannot ship.", o.Status), nil)
	}
	f := s.fulfillment(st, id)
	sh := Shipment{ID: strconv.FormatInt(int64(9000+f.ShipmentsMade)+int64(len(st.orders))*10, 10) + "-" + id,
		Carrier: carrier, TrackingCode: code, ShippedAt: shippedAt, CreatedAt: s.stamp()}
	if hasService {
		sh.Service = &service
	}
	if hasURL {
		sh.TrackingURL = &trackURL
	}
	o.Shipments = append(o.Shipments, sh)
	f.ShipmentsMade++
	if statusRank(o.Status) < statusRank("shipped") {
		o.Status, o.StatusLabel = "shipped", statusLabel("shipped")
	}
	o.UpdatedAt = s.stamp()
	return ok(http.StatusCreated, envelope{Data: sh})
}

func (s *Sim) postCancel(st *store, r *http.Request, id string, body []byte) response {
	o, obj, bad := orderAndBody(st, r, id, body)
	if bad != nil {
		return *bad
	}
	errs := fieldErrors{}
	stringMember(obj, "reason", true, errs)
	if len(errs) > 0 {
		return validationFailed(errs)
	}
	switch {
	case isCanceled(o.Status):
		return ok(http.StatusOK, envelope{Data: o}) // already canceled: nothing changes
	case statusRank(o.Status) >= statusRank("shipped"):
		return errorResponse(http.StatusConflict, "not_cancelable", "An order that has shipped cannot be canceled.", nil)
	}
	now := s.stamp()
	o.Status, o.StatusLabel, o.CanceledAt, o.UpdatedAt = "canceled", statusLabel("canceled"), &now, now
	s.fulfillment(st, id).Cancels++
	return ok(http.StatusOK, envelope{Data: o})
}
