package cazcosim

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

// seedOrders adds n orders; order i is updated at t0 + (i/2) minutes, so pairs tie on
// updated_at and are ordered by id.
func seedOrders(t *testing.T, h *harness, key string, n int) []Order {
	t.Helper()
	if _, err := h.sim.PutProduct(key, Product{SKU: "CAM-001", Name: "Camiseta", Price: "129.90"}); err != nil {
		t.Fatal(err)
	}
	var out []Order
	for i := range n {
		at := t0.Add(time.Duration(i/2) * time.Minute)
		id, err := h.sim.AddOrder(key, Order{CreatedAt: at, UpdatedAt: at, Items: []OrderItem{{SKU: "CAM-001", Quantity: 1}}})
		if err != nil {
			t.Fatal(err)
		}
		o, _ := h.sim.Order(key, id)
		out = append(out, o)
	}
	return out
}

type orderPage struct {
	Data  []Order
	Meta  ListMeta
	Links ListLinks
}

// walkOrders follows links.next from the first page and returns the ids in order.
func walkOrders(t *testing.T, h *harness, query string) []string {
	t.Helper()
	var ids []string
	target := h.srv.URL + BasePath + "/orders?" + query
	for pages := 0; ; pages++ {
		if pages > 50 {
			t.Fatal("links.next never became null")
		}
		r := h.do(keyA, http.MethodGet, target, "")
		if r.status != http.StatusOK {
			t.Fatalf("GET %s: %d %s", target, r.status, r.body)
		}
		var page orderPage
		r.decode(t, &page)
		if got := r.header.Get("X-Total-Count"); got != strconv.Itoa(page.Meta.Total) {
			t.Errorf("X-Total-Count %s, meta.total %d", got, page.Meta.Total)
		}
		for _, o := range page.Data {
			ids = append(ids, o.ID)
		}
		link := r.header.Get("Link")
		if page.Links.Next == nil {
			if strings.Contains(link, `rel="next"`) {
				t.Errorf("last page has a next Link header: %s", link)
			}
			if page.Meta.Page != page.Meta.LastPage {
				t.Errorf("next is null on page %d of %d", page.Meta.Page, page.Meta.LastPage)
			}
			return ids
		}
		if want := "<" + *page.Links.Next + `>; rel="next"`; !strings.Contains(link, want) {
			t.Errorf("Link = %q, want it to contain %q", link, want)
		}
		if !strings.HasPrefix(*page.Links.Next, h.srv.URL+BasePath+"/orders?") {
			t.Errorf("next %q is not an absolute URL on this host", *page.Links.Next)
		}
		if (pages == 0) != (page.Links.Prev == nil) {
			t.Errorf("page %d: prev = %v", page.Meta.Page, page.Links.Prev)
		}
		target = *page.Links.Next
	}
}

func TestOrdersPaging(t *testing.T) {
	h := newHarness(t, Options{})
	orders := seedOrders(t, h, keyA, 7)
	// Newest first: updated_at descending, ties by id descending.
	var desc []string
	for i := len(orders) - 1; i >= 0; i-- {
		desc = append(desc, orders[i].ID)
	}
	tests := []struct {
		query string
		want  []string
	}{
		{"per_page=3", desc},
		{"per_page=3&sort=updated_at&order=desc", desc},
		{"per_page=2&updated_since=" + url.QueryEscape(t0.Format(time.RFC3339)), desc},
		{"per_page=100", desc},
		{"per_page=1&order=asc", []string{orders[0].ID, orders[1].ID, orders[2].ID, orders[3].ID, orders[4].ID, orders[5].ID, orders[6].ID}},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			if got := walkOrders(t, h, tt.query); strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Errorf("ids = %v, want %v", got, tt.want)
			}
		})
	}
	if orders[0].ID != "58000" {
		t.Errorf("first order id = %s, want 58000", orders[0].ID)
	}

	r := h.do(keyA, http.MethodGet, "/orders?per_page=3&page=9", "")
	var page orderPage
	r.decode(t, &page)
	if len(page.Data) != 0 || page.Links.Next != nil || page.Meta.LastPage != 3 {
		t.Errorf("page past the end: %+v", page)
	}
}

func TestOrdersWindow(t *testing.T) {
	h := newHarness(t, Options{})
	orders := seedOrders(t, h, keyA, 6) // updated at t0, t0, t0+1m, t0+1m, t0+2m, t0+2m
	at := func(minutes int) string {
		return url.QueryEscape(t0.Add(time.Duration(minutes) * time.Minute).Format(time.RFC3339))
	}
	ids := func(idx ...int) string {
		var out []string
		for _, i := range idx {
			out = append(out, orders[i].ID)
		}
		return strings.Join(out, ",")
	}
	tests := []struct {
		name, query, want string
	}{
		{"since is inclusive", "updated_since=" + at(1), ids(5, 4, 3, 2)},
		{"until is exclusive", "updated_until=" + at(1), ids(1, 0)},
		{"both", "updated_since=" + at(1) + "&updated_until=" + at(2), ids(3, 2)},
		{"offset encoded as %2B", "updated_since=" + url.QueryEscape("2025-03-10T15:02:00+03:00"), ids(5, 4)},
		{"since in the future", "updated_since=" + at(3), ""},
		{"status filter", "status=processing,billed", ids(5, 4, 3, 2, 1, 0)},
		{"status filter no match", "status=canceled", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := strings.Join(walkOrders(t, h, tt.query), ","); got != tt.want {
				t.Errorf("ids = %s, want %s", got, tt.want)
			}
		})
	}
	for _, query := range []string{"per_page=101", "per_page=0", "updated_since=2025-03-10", "updated_until=nope",
		"updated_since=2025-03-10T15:02:00+03:00", "sort=created_at", "order=newest", "page=-1"} {
		field, _, _ := strings.Cut(query, "=")
		h.expectError(h.do(keyA, http.MethodGet, "/orders?"+query, ""), http.StatusUnprocessableEntity, "validation_failed", field)
	}
	h.expectError(h.do(keyA, http.MethodGet, "/orders/nope", ""), http.StatusNotFound, "not_found")
}

func TestOrderContent(t *testing.T) {
	h := newHarness(t, Options{})
	pid, err := h.sim.PutProduct(keyA, Product{SKU: "CAM-001-P-AZ", Name: "Camiseta Básica Azul P", Price: "129.90"})
	if err != nil {
		t.Fatal(err)
	}
	id, err := h.sim.AddOrder(keyA, Order{
		Customer:       Customer{Name: "Mariana Souza Lima", Document: "52998224725"},
		BillingAddress: Address{Street: "Rua dos Guajajaras", Number: "1470", Neighborhood: "Barro Preto", City: "Belo Horizonte", State: "MG", Postcode: "30180101"},
		Items:          []OrderItem{{SKU: "CAM-001-P-AZ", Quantity: 2, Discount: "20.00"}},
		Shipping:       Shipping{MethodCode: "correios_sedex", Price: "19.90"},
	})
	if err != nil {
		t.Fatal(err)
	}
	r := h.do(keyA, http.MethodGet, "/orders/"+id, "")
	var env struct{ Data map[string]json.RawMessage }
	r.decode(t, &env)
	want := map[string]string{
		"id":           `"` + id + `"`,
		"status":       `"processing"`,
		"status_label": `"Em Processo"`,
		"currency":     `"BRL"`,
		"created_at":   `"2025-03-10T12:00:00Z"`,
		"paid_at":      `"2025-03-10T12:00:00Z"`,
		"canceled_at":  `null`,
		"notes":        `null`,
		"totals":       `{"items":"259.80","discount":"20.00","shipping":"19.90","total":"259.70"}`,
		"invoice":      `null`, // contract v1.1: an object once invoiced
		"shipments":    `[]`,
		"items":        `[{"id":"700","product_id":"` + pid + `","sku":"CAM-001-P-AZ","name":"Camiseta Básica Azul P","quantity":2,"unit_price":"129.90","discount":"20.00","total":"239.80"}]`,
	}
	for field, v := range want {
		if string(env.Data[field]) != v {
			t.Errorf("%s = %s, want %s", field, env.Data[field], v)
		}
	}
	var o Order
	json.Unmarshal(r.body, &struct{ Data *Order }{&o})
	if o.ShippingAddress.City != "Belo Horizonte" || o.ShippingAddress.Country != "BR" || o.Customer.DocumentType != "CPF" ||
		o.Payment.Amount != "259.70" || o.Payment.Status != "paid" || o.Number == "" || o.MarketplaceOrderID == nil {
		t.Errorf("defaults: %+v", o)
	}

	h.clock.Add(90 * time.Second)
	if err := h.sim.SetOrderStatus(keyA, id, "canceled"); err != nil {
		t.Fatal(err)
	}
	got, _ := h.sim.Order(keyA, id)
	later := t0.Add(90 * time.Second)
	if got.Status != "canceled" || *got.StatusLabel != "Cancelado" || !got.UpdatedAt.Equal(later) || got.CanceledAt == nil || !got.CanceledAt.Equal(later) {
		t.Errorf("after cancel: %+v", got)
	}
	if err := h.sim.SetOrderStatus(keyA, id, "lost_in_space"); err != nil {
		t.Fatal(err)
	}
	if got, _ := h.sim.Order(keyA, id); got.StatusLabel != nil {
		t.Errorf("unknown status has label %q", *got.StatusLabel)
	}
	if err := h.sim.SetOrderStatus(keyB, id, "billed"); err == nil {
		t.Error("store B changed an order of store A")
	}
	if _, err := h.sim.AddOrder(keyA, Order{Items: []OrderItem{{SKU: "NOPE"}}}); err == nil {
		t.Error("an item without price or known SKU was accepted")
	}
	if _, err := h.sim.AddOrder(keyA, Order{ID: id, Items: []OrderItem{{SKU: "CAM-001-P-AZ"}}}); err == nil {
		t.Error("a duplicate order id was accepted")
	}
}
