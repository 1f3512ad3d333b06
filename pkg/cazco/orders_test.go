package cazco

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cazbling/cazbling/pkg/cazbling"
	"github.com/shopspring/decimal"
)

// orderJSON is a minimal valid order, varied by id, status and payment method.
func orderJSON(id, status, method string) string {
	return fmt.Sprintf(`{"id":%q,"number":"N-%s","status":%q,"created_at":"2025-03-10T14:22:05Z","updated_at":"2025-03-10T15:01:44Z",
		"paid_at":null,"currency":"BRL","totals":{"items":"10.00","discount":"0.00","shipping":"5.00","total":"15.00"},
		"customer":{"name":"Ana","document_type":"CPF","document":"52998224725"},
		"billing_address":{"street":"Rua A","number":"S/N","neighborhood":"Centro","city":"Recife","state":"PE","postcode":"51020000","country":"BR"},
		"shipping_address":{"street":"Rua A","number":"S/N","neighborhood":"Centro","city":"Recife","state":"PE","postcode":"51020000","country":"BR"},
		"items":[{"id":"1","product_id":"9","sku":"SKU-1","name":"x","quantity":1,"unit_price":"10.00","discount":"0.00","total":"10.00"}],
		"shipping":{"method_code":"correios_pac","price":"5.00","pickup_in_store":false},
		"payment":{"method":%q,"status":"paid","installments":1,"amount":"15.00"},
		"invoice":{"number":null,"series":null,"key":null,"issued_at":null},"notes":null}`, id, id, status, method)
}

func orderPage(next string, lastPage int, orders ...string) string {
	n := "null"
	if next != "" {
		n = fmt.Sprintf("%q", next)
	}
	return fmt.Sprintf(`{"data":[%s],"meta":{"page":1,"per_page":100,"total":99,"last_page":%d},"links":{"next":%s,"prev":null}}`,
		strings.Join(orders, ","), lastPage, n)
}

func collect(t *testing.T, seq func(func(cazbling.Order, error) bool)) (ids []string, errs []error) {
	t.Helper()
	for o, err := range seq {
		if err != nil {
			errs = append(errs, err)
			if o.ID != "" {
				ids = append(ids, "error:"+o.ID)
			}
			continue
		}
		ids = append(ids, o.ID)
	}
	return ids, errs
}

func TestOrdersFollowsNextVerbatim(t *testing.T) {
	var s *apiServer
	s = newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		switch n {
		case 1:
			// Short page whose meta claims it is the last: only links.next counts.
			reply(w, 200, orderPage(s.baseURL()+"/orders?cursor=abc%2Bdef%3D&x=1", 1, orderJSON("30", "shipped", "pix"), orderJSON("29", "processing", "pix")))
		case 2:
			// A different paging scheme under another path, and an empty page.
			reply(w, 200, orderPage(s.srv.URL+"/api/v1/seller/feed/orders/page-3?cursor=xyz", 1))
		case 3:
			reply(w, 200, orderPage("", 3, orderJSON("10", "billed", "boleto")))
		default:
			t.Errorf("unexpected request %d", n)
			reply(w, 404, errorJSON("not_found", "no"))
		}
	})
	since := time.Date(2025, 3, 10, 0, 0, 0, 0, time.FixedZone("", 3*3600))
	until := time.Date(2025, 3, 12, 9, 30, 0, 0, time.FixedZone("", -3*3600))
	c := s.client(t, newFakeClock(), nil)
	ids, errs := collect(t, c.Orders(context.Background(), cazbling.OrderQuery{UpdatedSince: since, UpdatedUntil: until}))
	if len(errs) != 0 {
		t.Fatalf("errors: %v", errs)
	}
	if want := []string{"30", "29", "10"}; !reflect.DeepEqual(ids, want) {
		t.Errorf("ids %v, want %v", ids, want)
	}
	reqs := s.requests()
	if len(reqs) != 3 {
		t.Fatalf("%d requests, want 3", len(reqs))
	}
	first := reqs[0]
	if first.Method != "GET" || first.Path != "/orders" {
		t.Errorf("first request %s %s", first.Method, first.Path)
	}
	for _, part := range []string{
		"updated_since=2025-03-10T00%3A00%3A00%2B03%3A00", "updated_until=2025-03-12T09%3A30%3A00-03%3A00",
		"per_page=100", "sort=updated_at", "order=desc",
	} {
		if !strings.Contains("&"+first.RawQuery+"&", "&"+part+"&") {
			t.Errorf("first query %q lacks %q", first.RawQuery, part)
		}
	}
	if reqs[1].RawPath != "/orders" || reqs[1].RawQuery != "cursor=abc%2Bdef%3D&x=1" {
		t.Errorf("second request %s?%s, want /orders?cursor=abc%%2Bdef%%3D&x=1 verbatim", reqs[1].RawPath, reqs[1].RawQuery)
	}
	if reqs[2].RawPath != "/feed/orders/page-3" || reqs[2].RawQuery != "cursor=xyz" {
		t.Errorf("third request %s?%s", reqs[2].RawPath, reqs[2].RawQuery)
	}
}

func TestOrdersRefusesForeignNext(t *testing.T) {
	tests := []struct {
		name string
		next func(s *apiServer) string
	}{
		{"other host", func(s *apiServer) string { return "https://evil.example.com/api/v1/seller/orders?page=2" }},
		{"other scheme", func(s *apiServer) string {
			return strings.Replace(s.baseURL(), "http://", "https://", 1) + "/orders?page=2"
		}},
		{"other port", func(s *apiServer) string { return "http://127.0.0.1:1/api/v1/seller/orders?page=2" }},
		{"credentials", func(s *apiServer) string {
			return strings.Replace(s.baseURL(), "http://", "http://u:p@", 1) + "/orders?page=2"
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s *apiServer
			s = newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
				reply(w, 200, orderPage(tt.next(s), 2, orderJSON("1", "processing", "pix")))
			})
			ids, errs := collect(t, s.client(t, newFakeClock(), nil).Orders(context.Background(), cazbling.OrderQuery{}))
			if !reflect.DeepEqual(ids, []string{"1"}) || len(errs) != 1 {
				t.Fatalf("ids %v errs %v, want the first page then one error", ids, errs)
			}
			if ae := apiError(t, errs[0]); ae.Kind != cazbling.KindData || !strings.Contains(ae.Message, "refusing") {
				t.Errorf("error %v", errs[0])
			}
			if n := len(s.requests()); n != 1 {
				t.Errorf("%d requests, want 1", n)
			}
		})
	}
}

func TestOrdersRelativeNextAndLoop(t *testing.T) {
	s := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if n > 2 {
			t.Errorf("request %d: the loop was followed", n)
			reply(w, 200, orderPage("", 2))
			return
		}
		// Page 2 points back to itself.
		reply(w, 200, orderPage("/api/v1/seller/orders?page=2", 2, orderJSON(fmt.Sprint(n), "processing", "pix")))
	})
	ids, errs := collect(t, s.client(t, newFakeClock(), nil).Orders(context.Background(), cazbling.OrderQuery{}))
	if !reflect.DeepEqual(ids, []string{"1", "2"}) || len(errs) != 1 {
		t.Fatalf("ids %v errs %v", ids, errs)
	}
	if ae := apiError(t, errs[0]); ae.Kind != cazbling.KindData {
		t.Errorf("kind %s", ae.Kind)
	}
	if got := s.requests()[1].RawQuery; got != "page=2" {
		t.Errorf("relative next resolved to ?%s", got)
	}
}

func TestOrdersBadOrderIsNamedAndWalkGoesOn(t *testing.T) {
	bad := strings.Replace(orderJSON("58240", "processing", "pix"), `"total":"15.00"`, `"total":"15,00"`, 1)
	s := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		reply(w, 200, orderPage("", 1, orderJSON("58241", "processing", "pix"), bad, `{"id":{"x":1}}`, orderJSON("58239", "canceled", "pix")))
	})
	ids, errs := collect(t, s.client(t, newFakeClock(), nil).Orders(context.Background(), cazbling.OrderQuery{}))
	if want := []string{"58241", "error:58240", "58239"}; !reflect.DeepEqual(ids, want) {
		t.Errorf("ids %v, want %v", ids, want)
	}
	if len(errs) != 2 {
		t.Fatalf("errors %v, want 2", errs)
	}
	ae := apiError(t, errs[0])
	if ae.Kind != cazbling.KindMalformed || !strings.Contains(ae.Message, `"58240"`) || !strings.Contains(ae.Message, "totals.total") {
		t.Errorf("error %v, want KindMalformed naming 58240 and totals.total", errs[0])
	}
	if ae := apiError(t, errs[1]); ae.Kind != cazbling.KindMalformed {
		t.Errorf("error %v, want KindMalformed", errs[1])
	}
}

func TestOrdersStopsWhenCallerStops(t *testing.T) {
	var s *apiServer
	s = newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		reply(w, 200, orderPage(s.baseURL()+"/orders?page=2", 2, orderJSON("1", "processing", "pix"), orderJSON("2", "processing", "pix")))
	})
	for range s.client(t, newFakeClock(), nil).Orders(context.Background(), cazbling.OrderQuery{}) {
		break
	}
	if n := len(s.requests()); n != 1 {
		t.Errorf("%d requests after the caller stopped, want 1", n)
	}
}

func TestOrdersPageErrorEndsWalk(t *testing.T) {
	var s *apiServer
	s = newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if n == 1 {
			reply(w, 200, orderPage(s.baseURL()+"/orders?page=2", 2, orderJSON("1", "processing", "pix")))
			return
		}
		reply(w, 422, `{"code":"validation_failed","message":"The given data was invalid.","errors":{"per_page":["must be between 1 and 100"]},"request_id":"q"}`)
	})
	ids, errs := collect(t, s.client(t, newFakeClock(), nil).Orders(context.Background(), cazbling.OrderQuery{}))
	if !reflect.DeepEqual(ids, []string{"1"}) || len(errs) != 1 {
		t.Fatalf("ids %v errs %v", ids, errs)
	}
	if ae := apiError(t, errs[0]); ae.Kind != cazbling.KindValidation || ae.Op != "GET /orders" || len(ae.Fields) != 1 {
		t.Errorf("error %+v", ae)
	}
}

func TestOrderMapping(t *testing.T) {
	s := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if r.URL.EscapedPath() != basePath+"/orders/58247" {
			t.Errorf("path %s", r.URL.EscapedPath())
		}
		reply(w, 200, fixture(t, "order_cnpj.json"))
	})
	o, err := s.client(t, newFakeClock(), nil).Order(context.Background(), "58247")
	if err != nil {
		t.Fatal(err)
	}
	d := decimal.RequireFromString
	money := map[string][2]decimal.Decimal{
		"items":    {o.ItemsTotal, d("1219.20")},
		"discount": {o.Discount, d("25.00")},
		"shipping": {o.ShippingPrice, d("45.00")},
		"total":    {o.Total, d("1239.20")},
		"item0":    {o.Items[0].UnitPrice, d("189.90")},
		"item1d":   {o.Items[1].Discount, d("25.00")},
		"item1t":   {o.Items[1].Total, d("624.50")},
	}
	for name, m := range money {
		if !m[0].Equal(m[1]) {
			t.Errorf("%s = %s, want %s", name, m[0], m[1])
		}
	}
	if o.Total.StringFixed(2) != "1239.20" {
		t.Errorf("total %s", o.Total.StringFixed(2))
	}
	o.ItemsTotal, o.Discount, o.ShippingPrice, o.Total = decimal.Zero, decimal.Zero, decimal.Zero, decimal.Zero
	for i := range o.Items {
		o.Items[i].UnitPrice, o.Items[i].Discount, o.Items[i].Total = decimal.Zero, decimal.Zero, decimal.Zero
	}
	ts := func(s string) time.Time { t, _ := time.Parse(time.RFC3339, s); return t }
	want := cazbling.Order{
		ID: "58247", Number: "100245-2", Status: "billed",
		CreatedAt: ts("2025-03-11T09:12:40Z"), UpdatedAt: ts("2025-03-11T13:05:18Z"), PaidAt: ts("2025-03-11T10:40:00Z"),
		Customer: cazbling.Customer{
			Name: "Ana Paula Ferreira", Email: "compras@liriodovale.com.br", Phone: "+551932345678",
			DocumentType: "CNPJ", Document: "27586501000158", CompanyName: "Boutique Lírio do Vale Ltda", StateRegistration: "244812390114",
		},
		Billing: cazbling.Address{Recipient: "Boutique Lírio do Vale Ltda", Street: "Avenida Francisco Glicério", Number: "1200",
			Complement: "Loja 3", Neighborhood: "Centro", City: "Campinas", State: "SP", Postcode: "13012100", Country: "BR"},
		Shipping: cazbling.Address{Recipient: "Ana Paula Ferreira", Street: "Avenida Francisco Glicério", Number: "1200",
			Complement: "Loja 3", Neighborhood: "Centro", City: "Campinas", State: "SP", Postcode: "13012100", Country: "BR"},
		Items: []cazbling.OrderItem{
			{ID: "802", SKU: "CAL-220-42-PT", Name: "Calça Jeans Slim Preta 42", Quantity: 3},
			{ID: "803", SKU: "CAM-001-M-AZ", Name: "Camiseta Básica Azul M", Quantity: 5},
		},
		ItemsTotal: decimal.Zero, Discount: decimal.Zero, ShippingPrice: decimal.Zero, Total: decimal.Zero,
		Carrier: "Jadlog", ShippingService: ".Package", EstimatedDeliveryDays: 4,
		PaymentMethod: "boleto", PaymentStatus: "paid", Installments: 1, Notes: "Entregar em horário comercial.",
	}
	for i := range want.Items {
		want.Items[i].UnitPrice, want.Items[i].Discount, want.Items[i].Total = decimal.Zero, decimal.Zero, decimal.Zero
	}
	if !reflect.DeepEqual(o, want) {
		t.Errorf("order\n got %+v\nwant %+v", o, want)
	}
}

func TestOrderUnknownEnumsPassThrough(t *testing.T) {
	s := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		reply(w, 200, `{"data":`+orderJSON("77", "aguardando_retirada", "crypto_coin")+`}`)
	})
	o, err := s.client(t, newFakeClock(), nil).Order(context.Background(), "77")
	if err != nil {
		t.Fatal(err)
	}
	if o.Status != "aguardando_retirada" || o.PaymentMethod != "crypto_coin" {
		t.Errorf("status %q payment %q", o.Status, o.PaymentMethod)
	}
}

func TestOrderMalformedKeepsItsID(t *testing.T) {
	s := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		reply(w, 200, `{"data":{"id":"58300","status":"paid","totals":{"total":"abc"}}}`)
	})
	o, err := s.client(t, newFakeClock(), nil).Order(context.Background(), "58300")
	if ae := apiError(t, err); ae.Kind != cazbling.KindMalformed || ae.Op != "GET /orders/{id}" {
		t.Errorf("error %+v", ae)
	}
	if o.ID != "58300" {
		t.Errorf("a malformed order came back as %+v, want its id 58300 kept", o)
	}
}

func TestOrderNotFound(t *testing.T) {
	s := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		reply(w, 404, `{"code":"not_found","message":"Resource not found.","errors":{},"request_id":"01HQ3W6V1Z6Y8J3Q0F4K2M7N9D"}`)
	})
	_, err := s.client(t, newFakeClock(), nil).Order(context.Background(), "999")
	ae := apiError(t, err)
	if ae.Kind != cazbling.KindNotFound || ae.Status != 404 || ae.Op != "GET /orders/{id}" || ae.Type != "not_found" ||
		ae.RequestID != "01HQ3W6V1Z6Y8J3Q0F4K2M7N9D" {
		t.Errorf("error %+v", ae)
	}
	if n := len(s.requests()); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
}

func TestDecodeOrderFixtures(t *testing.T) {
	for _, name := range []string{"order_cpf.json", "order_cnpj.json", "order_canceled.json"} {
		var env struct{ Data json.RawMessage }
		if err := json.Unmarshal([]byte(fixture(t, name)), &env); err != nil {
			t.Fatal(err)
		}
		o, err := decodeOrder(env.Data)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		// The contract's totals rule holds for every example: total = items - discount + shipping.
		if !o.ItemsTotal.Sub(o.Discount).Add(o.ShippingPrice).Equal(o.Total) {
			t.Errorf("%s: totals do not add up: %s - %s + %s != %s", name, o.ItemsTotal, o.Discount, o.ShippingPrice, o.Total)
		}
	}
}

func TestDecodeOrderLenient(t *testing.T) {
	// Numeric ids and quantities as strings are read; money keeps its exact digits.
	raw := strings.NewReplacer(`"id":"5"`, `"id":5`, `"quantity":1`, `"quantity":"1"`, `"total":"15.00"`, `"total":15.10`).
		Replace(orderJSON("5", "processing", "pix"))
	o, err := decodeOrder([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	if o.ID != "5" || o.Items[0].Quantity != 1 || o.Total.String() != "15.1" {
		t.Errorf("id %q qty %d total %s", o.ID, o.Items[0].Quantity, o.Total)
	}
}

func TestOrdersSinglePage(t *testing.T) {
	s := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		reply(w, 200, fixture(t, "orders_single_page.json"), "X-Total-Count", "7", "Link", `<`+basePath+`/orders?page=2>; rel="next"`)
	})
	since := time.Date(2025, 3, 10, 0, 0, 0, 0, time.UTC)
	ids, errs := collect(t, s.client(t, newFakeClock(), nil).Orders(context.Background(), cazbling.OrderQuery{UpdatedSince: since, PerPage: 500}))
	if len(errs) != 0 {
		t.Fatal(errs)
	}
	// The body's links.next (null) wins over a Link header that disagrees.
	if want := []string{"58247", "58231"}; !reflect.DeepEqual(ids, want) {
		t.Errorf("ids %v, want %v", ids, want)
	}
	q := s.requests()[0].RawQuery
	if !strings.Contains(q, "updated_since=2025-03-10T00%3A00%3A00Z") || !strings.Contains(q, "per_page=100") || strings.Contains(q, "updated_until") {
		t.Errorf("query %q", q)
	}
}
