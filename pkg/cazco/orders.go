package cazco

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cazbling/cazbling/pkg/cazbling"
)

// maxPerPage is the largest page CaZco serves.
const maxPerPage = 100

// Documented values of the open sets; others pass through and are logged.
var (
	knownOrderStatuses = []string{
		"pending_payment", "awaiting_confirmation", "processing", "billed", "ready_to_delivery",
		"shipped", "transit", "delivered", "completed", "canceled", "desisted",
	}
	knownPaymentMethods = []string{"pix", "boleto", "credit_card"}
)

// wireOrder is an order as CaZco sends it.
type wireOrder struct {
	ID        text `json:"id"`
	Number    text `json:"number"`
	Status    text `json:"status"`
	CreatedAt text `json:"created_at"`
	UpdatedAt text `json:"updated_at"`
	PaidAt    text `json:"paid_at"`
	Totals    struct {
		Items    text `json:"items"`
		Discount text `json:"discount"`
		Shipping text `json:"shipping"`
		Total    text `json:"total"`
	} `json:"totals"`
	Customer struct {
		Name              text `json:"name"`
		Email             text `json:"email"`
		Phone             text `json:"phone"`
		DocumentType      text `json:"document_type"`
		Document          text `json:"document"`
		CompanyName       text `json:"company_name"`
		StateRegistration text `json:"state_registration"`
	} `json:"customer"`
	BillingAddress  wireAddress     `json:"billing_address"`
	ShippingAddress wireAddress     `json:"shipping_address"`
	Items           []wireOrderItem `json:"items"`
	Shipping        struct {
		Carrier               text   `json:"carrier"`
		Service               text   `json:"service"`
		EstimatedDeliveryDays optInt `json:"estimated_delivery_days"`
	} `json:"shipping"`
	Payment struct {
		Method       text   `json:"method"`
		Status       text   `json:"status"`
		Installments optInt `json:"installments"`
		PaidAt       text   `json:"paid_at"`
	} `json:"payment"`
	Notes text `json:"notes"`
}

type wireAddress struct {
	Recipient    text `json:"recipient"`
	Street       text `json:"street"`
	Number       text `json:"number"`
	Complement   text `json:"complement"`
	Neighborhood text `json:"neighborhood"`
	City         text `json:"city"`
	State        text `json:"state"`
	Postcode     text `json:"postcode"`
	Country      text `json:"country"`
}

type wireOrderItem struct {
	ID        text   `json:"id"`
	SKU       text   `json:"sku"`
	Name      text   `json:"name"`
	Quantity  optInt `json:"quantity"`
	UnitPrice text   `json:"unit_price"`
	Discount  text   `json:"discount"`
	Total     text   `json:"total"`
}

// decodeOrder reads one order object. Money is parsed exactly from its strings and
// timestamps as RFC 3339; status and payment values pass through as they are. The
// error names the order by id when the id can be read.
func decodeOrder(raw []byte) (cazbling.Order, error) {
	var w wireOrder
	if err := json.Unmarshal(raw, &w); err != nil {
		return cazbling.Order{}, describeItem("order", rawID(raw), err)
	}
	o, err := w.order()
	if err != nil {
		return cazbling.Order{}, describeItem("order", string(w.ID), err)
	}
	return o, nil
}

func (w wireOrder) order() (cazbling.Order, error) {
	if w.ID == "" {
		return cazbling.Order{}, errors.New("id is missing")
	}
	o := cazbling.Order{
		ID:     string(w.ID),
		Number: string(w.Number),
		Status: string(w.Status),
		Customer: cazbling.Customer{
			Name:              string(w.Customer.Name),
			Email:             string(w.Customer.Email),
			Phone:             string(w.Customer.Phone),
			DocumentType:      string(w.Customer.DocumentType),
			Document:          string(w.Customer.Document),
			CompanyName:       string(w.Customer.CompanyName),
			StateRegistration: string(w.Customer.StateRegistration),
		},
		Billing:               w.BillingAddress.address(),
		Shipping:              w.ShippingAddress.address(),
		Carrier:               string(w.Shipping.Carrier),
		ShippingService:       string(w.Shipping.Service),
		EstimatedDeliveryDays: int(w.Shipping.EstimatedDeliveryDays.n),
		PaymentMethod:         string(w.Payment.Method),
		PaymentStatus:         string(w.Payment.Status),
		Installments:          int(w.Payment.Installments.n),
		Notes:                 string(w.Notes),
	}
	var errs []error
	check := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	var err error
	o.CreatedAt, err = parseTime("created_at", w.CreatedAt, true)
	check(err)
	o.UpdatedAt, err = parseTime("updated_at", w.UpdatedAt, true)
	check(err)
	paidAt := w.PaidAt
	if paidAt == "" {
		paidAt = w.Payment.PaidAt
	}
	o.PaidAt, err = parseTime("paid_at", paidAt, false)
	check(err)
	o.ItemsTotal, err = parseMoney("totals.items", w.Totals.Items, true)
	check(err)
	o.Discount, err = parseMoney("totals.discount", w.Totals.Discount, true)
	check(err)
	o.ShippingPrice, err = parseMoney("totals.shipping", w.Totals.Shipping, true)
	check(err)
	o.Total, err = parseMoney("totals.total", w.Totals.Total, true)
	check(err)
	for i, it := range w.Items {
		item, err := it.item(i)
		check(err)
		o.Items = append(o.Items, item)
	}
	if len(errs) > 0 {
		return cazbling.Order{}, joinErrors(errs)
	}
	return o, nil
}

func (a wireAddress) address() cazbling.Address {
	return cazbling.Address{
		Recipient:    string(a.Recipient),
		Street:       string(a.Street),
		Number:       string(a.Number),
		Complement:   string(a.Complement),
		Neighborhood: string(a.Neighborhood),
		City:         string(a.City),
		State:        string(a.State),
		Postcode:     string(a.Postcode),
		Country:      string(a.Country),
	}
}

func (it wireOrderItem) item(i int) (cazbling.OrderItem, error) {
	field := "items[" + strconv.Itoa(i) + "]"
	item := cazbling.OrderItem{ID: string(it.ID), SKU: string(it.SKU), Name: string(it.Name), Quantity: it.Quantity.n}
	var errs []error
	if !it.Quantity.set {
		errs = append(errs, fmt.Errorf("%s.quantity is missing", field))
	}
	var err error
	if item.UnitPrice, err = parseMoney(field+".unit_price", it.UnitPrice, true); err != nil {
		errs = append(errs, err)
	}
	if item.Discount, err = parseMoney(field+".discount", it.Discount, true); err != nil {
		errs = append(errs, err)
	}
	if item.Total, err = parseMoney(field+".total", it.Total, true); err != nil {
		errs = append(errs, err)
	}
	return item, joinErrors(errs)
}

// Orders walks the orders whose updated_at is in [q.UpdatedSince, q.UpdatedUntil),
// newest first, following links.next verbatim until it is null (never stopping on a
// short page or on meta.last_page). A page that cannot be fetched or read ends the walk
// with its error. An order on a page that cannot be decoded is yielded as an *APIError
// of Kind KindMalformed, with Order.ID set when the id could be read, and the walk goes
// on if the caller keeps ranging.
func (c *Client) Orders(ctx context.Context, q cazbling.OrderQuery) iter.Seq2[cazbling.Order, error] {
	return func(yield func(cazbling.Order, error) bool) {
		perPage := q.PerPage
		if perPage <= 0 || perPage > maxPerPage {
			perPage = maxPerPage
		}
		v := url.Values{
			"per_page": {strconv.Itoa(perPage)},
			"sort":     {"updated_at"},
			"order":    {"desc"},
		}
		if !q.UpdatedSince.IsZero() {
			v.Set("updated_since", q.UpdatedSince.Format(time.RFC3339))
		}
		if !q.UpdatedUntil.IsZero() {
			v.Set("updated_until", q.UpdatedUntil.Format(time.RFC3339))
		}
		if len(q.Statuses) > 0 {
			// The contract documents one value; several go comma-separated.
			v.Set("status", strings.Join(q.Statuses, ","))
		}
		for page, err := range c.walkPages(ctx, opListOrders, "order", c.endpoint("/orders", v)) {
			if err != nil {
				yield(cazbling.Order{}, err)
				return
			}
			for _, raw := range page.items {
				if !yield(c.listedOrder(raw, page.status)) {
					return
				}
			}
		}
	}
}

// listedOrder decodes one order of a list page; one that cannot be decoded is an
// *APIError of Kind KindMalformed, with Order.ID set when the id could be read.
func (c *Client) listedOrder(raw []byte, status int) (cazbling.Order, error) {
	o, err := decodeOrder(raw)
	if err != nil {
		id := rawID(raw)
		c.log.Warn("cannot read a cazco order", "order_id", id, "error", err)
		return cazbling.Order{ID: id}, c.malformed(opListOrders, status, err.Error())
	}
	c.noteUnknown(o)
	return o, nil
}

// listPage is one page of a list with its items still undecoded, so that each item
// can be read, and named when it cannot, on its own.
type listPage struct {
	items  []json.RawMessage
	status int // HTTP status of the answer
}

// walkPages fetches the list at first, then each links.next in turn until it is null
// (never stopping on a short page or on meta.last_page), and yields the pages. op is the
// route pattern for errors and what names the items ("order"). A page that cannot be
// fetched or read, a links.next that leaves the API, or one that leads back to a page
// already read ends the walk with one error.
func (c *Client) walkPages(ctx context.Context, op, what, first string) iter.Seq2[listPage, error] {
	return func(yield func(listPage, error) bool) {
		pageURL := first
		seen := map[string]bool{}
		for {
			if err := ctx.Err(); err != nil {
				yield(listPage{}, fmt.Errorf("cazco %s: %w", op, err))
				return
			}
			seen[pageURL] = true
			page, next, err := c.fetchPage(ctx, op, what, pageURL)
			if err != nil {
				yield(listPage{}, err)
				return
			}
			if !yield(page, nil) || next == "" {
				return
			}
			if pageURL, err = c.followable(op, pageURL, next); err != nil {
				yield(listPage{}, err)
				return
			}
			if seen[pageURL] {
				yield(listPage{}, &cazbling.APIError{
					API: apiName, Op: op, Kind: cazbling.KindData,
					Message: c.clean(fmt.Sprintf("CaZco's links.next leads back to %q, a page of the %s list already read; stopping to avoid a loop",
						cut(pageURL, 300), what), 500),
				})
				return
			}
		}
	}
}

// fetchPage fetches one page of a list and returns it with its links.next ("" at the end).
func (c *Client) fetchPage(ctx context.Context, op, what, pageURL string) (listPage, string, error) {
	resp, err := c.do(ctx, request{op: op, method: http.MethodGet, url: pageURL})
	if err != nil {
		return listPage{}, "", err
	}
	var env listEnvelope
	if err := c.decode(op, resp, &env); err != nil {
		return listPage{}, "", err
	}
	if env.Data == nil {
		return listPage{}, "", c.malformed(op, resp.Status, "the "+what+" list has no data array")
	}
	return listPage{items: *env.Data, status: resp.Status}, string(env.Links.Next), nil
}

// followable checks a links.next value before the API key goes to it: it must lead to
// the same scheme and host as the base URL. A relative link is resolved against the
// page it came from; an absolute one is used verbatim.
func (c *Client) followable(op, current, next string) (string, error) {
	u, err := url.Parse(next)
	if err != nil {
		return "", c.malformed(op, http.StatusOK, "links.next is not a URL: "+quoteShort(next))
	}
	if !u.IsAbs() {
		cur, err := url.Parse(current)
		if err != nil {
			return "", c.malformed(op, http.StatusOK, "cannot resolve links.next "+quoteShort(next))
		}
		u = cur.ResolveReference(u)
		next = u.String()
	}
	if !strings.EqualFold(u.Scheme, c.base.Scheme) || !strings.EqualFold(u.Hostname(), c.base.Hostname()) ||
		portOf(u) != portOf(c.base) || u.User != nil {
		return "", &cazbling.APIError{
			API: apiName, Op: op, Kind: cazbling.KindData,
			Message: fmt.Sprintf("CaZco's links.next leads to %s, not to the API at %s://%s; refusing to send the API key there",
				quoteShort(u.Scheme+"://"+u.Host), c.base.Scheme, c.base.Host),
		}
	}
	return next, nil
}

func portOf(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	if strings.EqualFold(u.Scheme, "https") {
		return "443"
	}
	return "80"
}

// Order returns order id; an unknown id is an *APIError of Kind KindNotFound.
func (c *Client) Order(ctx context.Context, id string) (cazbling.Order, error) {
	if id == "" {
		return cazbling.Order{}, invalid(opGetOrder, "empty order id")
	}
	o, raw, err := getItem(ctx, c, opGetOrder, "/orders/"+url.PathEscape(id), decodeOrder)
	if err != nil {
		if raw != nil { // malformed: named by its id if it has one
			return cazbling.Order{ID: rawID(raw)}, err
		}
		return cazbling.Order{}, err
	}
	c.noteUnknown(o)
	return o, nil
}

// noteUnknown logs values of open sets the contract does not document; they still pass
// through unchanged for the flows to decide on.
func (c *Client) noteUnknown(o cazbling.Order) {
	if !slices.Contains(knownOrderStatuses, o.Status) {
		c.log.Warn("unknown cazco order status", "order_id", o.ID, "status", o.Status)
	}
	if o.PaymentMethod != "" && !slices.Contains(knownPaymentMethods, o.PaymentMethod) {
		c.log.Warn("unknown cazco payment method", "order_id", o.ID, "payment_method", o.PaymentMethod)
	}
}

// joinErrors joins the complaints about one order on one line; nil if there are none.
func joinErrors(errs []error) error {
	if len(errs) == 0 {
		return nil
	}
	msgs := make([]string, len(errs))
	for i, err := range errs {
		msgs[i] = err.Error()
	}
	return errors.New(strings.Join(msgs, "; "))
}
