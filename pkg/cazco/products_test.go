package cazco

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/cazbling/cazbling/pkg/cazbling"
)

func TestInfo(t *testing.T) {
	s := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		reply(w, 200, `{"data":[],"meta":{"page":1,"per_page":1,"total":1234,"last_page":1234},"links":{"next":null,"prev":null}}`)
	})
	info, err := s.client(t, newFakeClock(), nil).Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if info.Products != 1234 {
		t.Errorf("Products = %d, want 1234", info.Products)
	}
	reqs := s.requests()
	if len(reqs) != 1 || reqs[0].Method != "GET" || reqs[0].Path != "/products" || reqs[0].RawQuery != "per_page=1" {
		t.Errorf("requests = %+v, want one GET /products?per_page=1", reqs)
	}
}

func TestProductBySKU(t *testing.T) {
	two := `{"data":[{"id":"1","sku":"CAM-001","name":"a","status":"active","price":"1.00"},{"id":"2","sku":"CAM-001","name":"b","status":"active","price":"1.00"}],"meta":{"page":1,"per_page":50,"total":2,"last_page":1},"links":{"next":null,"prev":null}}`
	caseMismatch := `{"data":[{"id":"7","sku":"cam-001","name":"a","status":"active","price":"1.00"}],"meta":{"page":1,"per_page":50,"total":1,"last_page":1},"links":{"next":null,"prev":null}}`
	tests := []struct {
		name      string
		sku       string
		body      string
		wantQuery string
		wantFound bool
		wantKind  cazbling.ErrorKind
		wantMsg   string
	}{
		{name: "none", sku: "XYZ-000", body: fixture(t, "product_not_found.json"), wantQuery: "sku=XYZ-000"},
		{name: "one", sku: "CAM-001-P-AZ", body: fixture(t, "product_found_by_sku.json"), wantQuery: "sku=CAM-001-P-AZ", wantFound: true},
		{name: "two", sku: "CAM-001", body: two, wantQuery: "sku=CAM-001", wantKind: cazbling.KindData,
			wantMsg: "CaZco returned 2 products for SKU CAM-001; fix the duplicate in CaZco"},
		{name: "sku differs in case", sku: "CAM-001", body: caseMismatch, wantQuery: "sku=CAM-001", wantKind: cazbling.KindData},
		{name: "plus and space encoded", sku: "A+B C/1", body: fixture(t, "product_not_found.json"), wantQuery: "sku=A%2BB+C%2F1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
				if got := r.URL.Query().Get("sku"); got != tt.sku {
					t.Errorf("server read sku %q, want %q", got, tt.sku)
				}
				reply(w, 200, tt.body)
			})
			p, found, err := s.client(t, newFakeClock(), nil).ProductBySKU(context.Background(), tt.sku)
			reqs := s.requests()
			if len(reqs) != 1 || reqs[0].Method != "GET" || reqs[0].Path != "/products" || reqs[0].RawQuery != tt.wantQuery {
				t.Fatalf("requests = %+v, want one GET /products?%s", reqs, tt.wantQuery)
			}
			if tt.wantKind != "" {
				ae := apiError(t, err)
				if ae.Kind != tt.wantKind || found {
					t.Fatalf("kind %s found %v, want %s and not found (%v)", ae.Kind, found, tt.wantKind, err)
				}
				if tt.wantMsg != "" && ae.Message != tt.wantMsg {
					t.Errorf("message %q, want %q", ae.Message, tt.wantMsg)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if found != tt.wantFound {
				t.Fatalf("found = %v, want %v", found, tt.wantFound)
			}
			if found && (p.ID != "81234" || p.SKU != tt.sku) {
				t.Errorf("product %s %s, want 81234 %s", p.ID, p.SKU, tt.sku)
			}
		})
	}
}

func TestProductMapping(t *testing.T) {
	s := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if r.Method != "GET" || r.URL.EscapedPath() != basePath+"/products/81234" {
			t.Errorf("got %s %s", r.Method, r.URL.EscapedPath())
		}
		reply(w, 200, fixture(t, "product.json"))
	})
	p, err := s.client(t, newFakeClock(), nil).Product(context.Background(), "81234")
	if err != nil {
		t.Fatal(err)
	}
	want := cazbling.MarketProduct{
		ID: "81234", SKU: "CAM-001-P-AZ", ParentSKU: "CAM-001", Name: "Camiseta Básica Azul P",
		Description: "Camiseta unissex 100% algodão penteado, gola careca.", Status: "active",
		Price: decimal.RequireFromString("129.90"), GTIN: "7891234567895", Brand: "Trama Brasil",
		NCM: "6109.10.00", WeightKg: "0.350",
		Dimensions: &cazbling.Dimensions{Width: "20.0", Height: "5.0", Length: "30.0"},
		Images:     []string{"https://s623.cazco.link/storage/product/81234/1.jpg"},
		Attributes: map[string]string{"cor": "Azul", "tamanho": "P"},
		Stock:      12,
	}
	if !p.Price.Equal(want.Price) || p.Price.StringFixed(2) != "129.90" {
		t.Errorf("price %s, want 129.90", p.Price)
	}
	p.Price, want.Price = decimal.Zero, decimal.Zero
	if !reflect.DeepEqual(p, want) {
		t.Errorf("product\n got %+v\nwant %+v", p, want)
	}
}

func TestProductPathEscapesID(t *testing.T) {
	s := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		reply(w, 200, `{"data":{"quantity":3}}`)
	})
	if err := s.client(t, newFakeClock(), nil).SetStock(context.Background(), "a/b c", 3); err != nil {
		t.Fatal(err)
	}
	req := s.requests()[0]
	if req.Method != "PUT" || req.RawPath != "/products/a%2Fb%20c/stock" {
		t.Errorf("got %s %s, want PUT /products/a%%2Fb%%20c/stock", req.Method, req.RawPath)
	}
	if string(req.Body) != `{"quantity":3}` {
		t.Errorf("body %s", req.Body)
	}
}

func TestCreateProduct(t *testing.T) {
	conflict := `{"code":"conflict","message":"A product with this SKU already exists.","errors":{"sku":["has already been taken"]},"request_id":"01HQ3W6V1Z6Y8J3Q0F4K2M7N9E","existing_id":"90577"}`
	skuTaken := `{"code":"validation_failed","message":"The given data was invalid.","errors":{"sku":["has already been taken"]},"request_id":"r1"}`
	invalidFields := `{"code":"validation_failed","message":"The given data was invalid.","errors":{"price":["must be a decimal string with two decimals, such as \"129.90\""],"gtin":["must have 8, 12, 13 or 14 digits"]},"request_id":"r2"}`
	tests := []struct {
		name         string
		answers      []func(w http.ResponseWriter)
		wantID       string
		wantKind     cazbling.ErrorKind
		wantExisting string
		wantFields   []cazbling.FieldError
		wantRequests int
	}{
		{
			name:         "201 created",
			answers:      []func(http.ResponseWriter){func(w http.ResponseWriter) { reply(w, 201, fixture(t, "product_created.json")) }},
			wantID:       "90577",
			wantRequests: 1,
		},
		{
			name:         "409 gives the existing id",
			answers:      []func(http.ResponseWriter){func(w http.ResponseWriter) { reply(w, 409, conflict) }},
			wantKind:     cazbling.KindConflict,
			wantExisting: "90577",
			wantRequests: 1,
		},
		{
			name:         "422 sku taken is a conflict without id",
			answers:      []func(http.ResponseWriter){func(w http.ResponseWriter) { reply(w, 422, skuTaken) }},
			wantKind:     cazbling.KindConflict,
			wantRequests: 1,
		},
		{
			name:     "422 on other fields is a validation error",
			answers:  []func(http.ResponseWriter){func(w http.ResponseWriter) { reply(w, 422, invalidFields) }},
			wantKind: cazbling.KindValidation,
			wantFields: []cazbling.FieldError{
				{Field: "gtin", Message: "must have 8, 12, 13 or 14 digits"},
				{Field: "price", Message: `must be a decimal string with two decimals, such as "129.90"`},
			},
			wantRequests: 1,
		},
		{
			name: "500 then 409: the retried POST had gone through",
			answers: []func(http.ResponseWriter){
				func(w http.ResponseWriter) { reply(w, 500, errorJSON("internal_error", "Server Error.")) },
				func(w http.ResponseWriter) { reply(w, 409, conflict) },
			},
			wantKind:     cazbling.KindConflict,
			wantExisting: "90577",
			wantRequests: 2,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
				if n > len(tt.answers) {
					t.Errorf("unexpected request %d", n)
					reply(w, 500, errorJSON("internal_error", "x"))
					return
				}
				tt.answers[n-1](w)
			})
			p := cazbling.MarketProduct{
				SKU: "BON-015-U-PT", Name: "Boné Aba Curva Preto", Status: "active",
				Price: decimal.RequireFromString("79.9"), Stock: 30,
				Attributes: map[string]string{"cor": "Preto"},
			}
			id, err := s.client(t, newFakeClock(), nil).CreateProduct(context.Background(), p)
			reqs := s.requests()
			if len(reqs) != tt.wantRequests {
				t.Fatalf("%d requests, want %d", len(reqs), tt.wantRequests)
			}
			for _, req := range reqs {
				if req.Method != "POST" || req.Path != "/products" || req.RawQuery != "" {
					t.Errorf("got %s %s?%s, want POST /products", req.Method, req.Path, req.RawQuery)
				}
				var body map[string]any
				if err := json.Unmarshal(req.Body, &body); err != nil {
					t.Fatalf("body %s: %v", req.Body, err)
				}
				if body["sku"] != "BON-015-U-PT" || body["name"] != "Boné Aba Curva Preto" || body["price"] != "79.90" {
					t.Errorf("body %s lacks sku, name or price 79.90", req.Body)
				}
				if _, ok := body["stock"]; ok {
					t.Errorf("create body carries stock: %s", req.Body)
				}
				if req.Header.Get("Idempotency-Key") == "" || req.Header.Get("Idempotency-Key") != reqs[0].Header.Get("Idempotency-Key") {
					t.Errorf("Idempotency-Key %q not the same on every try (%q)", req.Header.Get("Idempotency-Key"), reqs[0].Header.Get("Idempotency-Key"))
				}
			}
			if tt.wantKind == "" {
				if err != nil || id != tt.wantID {
					t.Fatalf("id %q err %v, want %q", id, err, tt.wantID)
				}
				return
			}
			ae := apiError(t, err)
			if ae.Kind != tt.wantKind || ae.ExistingID != tt.wantExisting || ae.Op != "POST /products" {
				t.Errorf("got kind %s existing %q op %q, want %s %q POST /products", ae.Kind, ae.ExistingID, ae.Op, tt.wantKind, tt.wantExisting)
			}
			if tt.wantFields != nil && !reflect.DeepEqual(ae.Fields, tt.wantFields) {
				t.Errorf("fields %+v, want %+v", ae.Fields, tt.wantFields)
			}
			if ae.RequestID == "" {
				t.Error("request id not kept")
			}
		})
	}
}

func TestCreateProductRefusesEmptySKU(t *testing.T) {
	s := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) { reply(w, 201, fixture(t, "product_created.json")) })
	_, err := s.client(t, newFakeClock(), nil).CreateProduct(context.Background(), cazbling.MarketProduct{Name: "x"})
	if ae := apiError(t, err); ae.Kind != cazbling.KindValidation {
		t.Errorf("kind %s, want validation", ae.Kind)
	}
	if n := len(s.requests()); n != 0 {
		t.Errorf("%d requests sent", n)
	}
}

func TestUpdateProductBody(t *testing.T) {
	tests := []struct {
		name string
		p    cazbling.MarketProduct
		want string
	}{
		{
			name: "all fields",
			p: cazbling.MarketProduct{
				ID: "ignored", SKU: "CAM-001-P-AZ", ParentSKU: "CAM-001", Name: "Camiseta", Description: "Algodão",
				Status: "active", Price: decimal.RequireFromString("119.9"), GTIN: "7891234567895", Brand: "Trama",
				NCM: "6109.10.00", WeightKg: "0.350", Dimensions: &cazbling.Dimensions{Width: "20.0", Height: "5.0", Length: "30.0"},
				Images: []string{"https://img/1.jpg"}, Attributes: map[string]string{"cor": "Azul"}, Stock: 99,
			},
			want: `{"name":"Camiseta","description":"Algodão","status":"active","price":"119.90","parent_sku":"CAM-001",
				"gtin":"7891234567895","brand":"Trama","ncm":"6109.10.00","weight_kg":"0.350",
				"dimensions_cm":{"width":"20.0","height":"5.0","length":"30.0"},"images":["https://img/1.jpg"]}`,
		},
		{
			name: "empty optional fields are null",
			p:    cazbling.MarketProduct{SKU: "X", Name: "Meia", Status: "inactive", Price: decimal.RequireFromString("24.9"), Dimensions: &cazbling.Dimensions{}, Stock: 5},
			want: `{"name":"Meia","description":null,"status":"inactive","price":"24.90","parent_sku":null,
				"gtin":null,"brand":null,"ncm":null,"weight_kg":null,"dimensions_cm":null,"images":[]}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) { reply(w, 200, fixture(t, "product.json")) })
			if err := s.client(t, newFakeClock(), nil).UpdateProduct(context.Background(), "81234", tt.p); err != nil {
				t.Fatal(err)
			}
			reqs := s.requests()
			if len(reqs) != 1 || reqs[0].Method != "PUT" || reqs[0].Path != "/products/81234" {
				t.Fatalf("requests %+v, want one PUT /products/81234", reqs)
			}
			var got, want map[string]any
			if err := json.Unmarshal(reqs[0].Body, &got); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal([]byte(tt.want), &want); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("body\n got %s\nwant %s", reqs[0].Body, tt.want)
			}
			for _, forbidden := range []string{"stock", "sku", "id", "attributes"} {
				if _, ok := got[forbidden]; ok {
					t.Errorf("update body carries %q", forbidden)
				}
			}
		})
	}
}

func TestSetStockRefusesNegative(t *testing.T) {
	s := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) { reply(w, 200, `{}`) })
	err := s.client(t, newFakeClock(), nil).SetStock(context.Background(), "81234", -1)
	if ae := apiError(t, err); ae.Kind != cazbling.KindValidation {
		t.Errorf("kind %s", ae.Kind)
	}
	if len(s.requests()) != 0 {
		t.Error("a negative stock was sent")
	}
}

func TestSetStockBatch(t *testing.T) {
	items := []cazbling.StockItem{{SKU: "CAM-001-P-AZ", Quantity: 12}, {SKU: "CAM-001-M-AZ", Quantity: 0}, {SKU: "CAM-999-G-VD", Quantity: 5}}
	t.Run("results", func(t *testing.T) {
		s := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
			reply(w, 200, fixture(t, "stock_batch_mixed.json"))
		})
		got, err := s.client(t, newFakeClock(), nil).SetStockBatch(context.Background(), items)
		if err != nil {
			t.Fatal(err)
		}
		want := []cazbling.StockResult{
			{SKU: "CAM-001-P-AZ", Status: "updated"},
			{SKU: "CAM-001-M-AZ", Status: "updated"},
			{SKU: "CAM-999-G-VD", Status: "not_found", Message: "No product with this SKU."},
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("results %+v, want %+v", got, want)
		}
		req := s.requests()[0]
		if req.Method != "PUT" || req.Path != "/stock" {
			t.Errorf("got %s %s", req.Method, req.Path)
		}
		wantBody := `{"items":[{"sku":"CAM-001-P-AZ","quantity":12},{"sku":"CAM-001-M-AZ","quantity":0},{"sku":"CAM-999-G-VD","quantity":5}]}`
		if string(req.Body) != wantBody {
			t.Errorf("body %s, want %s", req.Body, wantBody)
		}
	})
	t.Run("404 means unsupported", func(t *testing.T) {
		s := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
			reply(w, 404, errorJSON("not_found", "Resource not found."))
		})
		_, err := s.client(t, newFakeClock(), nil).SetStockBatch(context.Background(), items)
		if !errors.Is(err, cazbling.ErrBatchUnsupported) {
			t.Fatalf("err %v, want ErrBatchUnsupported", err)
		}
		if ae := apiError(t, err); ae.Status != 404 || ae.Op != "PUT /stock" {
			t.Errorf("wrapped %+v", ae)
		}
		if n := len(s.requests()); n != 1 {
			t.Errorf("%d requests, want 1 (404 is not retried)", n)
		}
	})
	t.Run("101 items refused before sending", func(t *testing.T) {
		s := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) { reply(w, 200, `{"data":[]}`) })
		many := make([]cazbling.StockItem, 101)
		for i := range many {
			many[i] = cazbling.StockItem{SKU: fmt.Sprintf("SKU-%d", i), Quantity: 1}
		}
		_, err := s.client(t, newFakeClock(), nil).SetStockBatch(context.Background(), many)
		if ae := apiError(t, err); ae.Kind != cazbling.KindValidation || !strings.Contains(ae.Message, "101") {
			t.Errorf("err %v", err)
		}
		if n := len(s.requests()); n != 0 {
			t.Errorf("%d requests sent", n)
		}
	})
	t.Run("result count mismatch is malformed", func(t *testing.T) {
		s := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
			reply(w, 200, `{"data":[{"sku":"CAM-001-P-AZ","status":"updated"}]}`)
		})
		_, err := s.client(t, newFakeClock(), nil).SetStockBatch(context.Background(), items)
		if ae := apiError(t, err); ae.Kind != cazbling.KindMalformed {
			t.Errorf("kind %s", ae.Kind)
		}
	})
}
