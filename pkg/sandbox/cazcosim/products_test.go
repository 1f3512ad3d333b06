package cazcosim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestCreateProduct(t *testing.T) {
	h := newHarness(t, Options{})
	first := h.createProduct(keyA, `{"sku":"CAM-001-P-AZ","name":"Camiseta Básica Azul P","price":"129.90"}`)
	if first.ID == "" || first.Status != "active" || first.Stock.Quantity != 0 || first.Stock.WarehouseCode != "default" {
		t.Errorf("defaults not applied: %+v", first)
	}
	if !first.CreatedAt.Equal(t0) || !first.UpdatedAt.Equal(t0) {
		t.Errorf("timestamps = %v, %v; want %v", first.CreatedAt, first.UpdatedAt, t0)
	}

	long := strings.Repeat("é", 256)
	tests := []struct {
		name   string
		body   string
		status int
		code   string
		fields []string
	}{
		{"full product", `{"sku":"BON-015-U-PT","parent_sku":null,"name":"Boné","status":"inactive","price":"79.90",
			"promotional_price":"69.90","promotional_price_from":"2025-03-01T00:00:00-03:00","gtin":"7898456000148",
			"ncm":"6505.00.90","weight_kg":"0.120","dimensions_cm":{"width":"20.0","height":"12.0","length":"27.0"},
			"images":["https://erp.example.com.br/a.jpg"],"attributes":{"cor":"Preto"},"category":"Moda > Acessórios",
			"stock":{"quantity":30,"warehouse_code":"default"}}`, http.StatusCreated, "", nil},
		{"name of 255 runes", `{"sku":"N255","name":"` + strings.Repeat("é", 255) + `","price":"1.00"}`, http.StatusCreated, "", nil},
		{"duplicate sku", `{"sku":"CAM-001-P-AZ","name":"Outra","price":"1.00"}`, http.StatusConflict, "conflict", []string{"sku"}},
		{"duplicate sku and a bad field", `{"sku":"CAM-001-P-AZ","name":"Outra","price":"1"}`, http.StatusUnprocessableEntity, "validation_failed", []string{"sku", "price"}},
		{"name of 256 runes", `{"sku":"N256","name":"` + long + `","price":"1.00"}`, http.StatusUnprocessableEntity, "validation_failed", []string{"name"}},
		{"blank name", `{"sku":"X1","name":"  ","price":"1.00"}`, http.StatusUnprocessableEntity, "validation_failed", []string{"name"}},
		{"price with one decimal", `{"sku":"X1","name":"X","price":"129.9"}`, http.StatusUnprocessableEntity, "validation_failed", []string{"price"}},
		{"price as number", `{"sku":"X1","name":"X","price":129.90}`, http.StatusUnprocessableEntity, "validation_failed", []string{"price"}},
		{"negative price", `{"sku":"X1","name":"X","price":"-1.00"}`, http.StatusUnprocessableEntity, "validation_failed", []string{"price"}},
		{"null price", `{"sku":"X1","name":"X","price":null}`, http.StatusUnprocessableEntity, "validation_failed", []string{"price"}},
		{"missing required", `{}`, http.StatusUnprocessableEntity, "validation_failed", []string{"sku", "name", "price"}},
		{"empty sku", `{"sku":"","name":"X","price":"1.00"}`, http.StatusUnprocessableEntity, "validation_failed", []string{"sku"}},
		{"sku as number", `{"sku":12,"name":"X","price":"1.00"}`, http.StatusUnprocessableEntity, "validation_failed", []string{"sku"}},
		{"bad gtin", `{"sku":"X1","name":"X","price":"1.00","gtin":"123"}`, http.StatusUnprocessableEntity, "validation_failed", []string{"gtin"}},
		{"empty gtin", `{"sku":"X1","name":"X","price":"1.00","gtin":""}`, http.StatusUnprocessableEntity, "validation_failed", []string{"gtin"}},
		{"bad ncm", `{"sku":"X1","name":"X","price":"1.00","ncm":"6109-10-00"}`, http.StatusUnprocessableEntity, "validation_failed", []string{"ncm"}},
		{"bad weight", `{"sku":"X1","name":"X","price":"1.00","weight_kg":"0,350"}`, http.StatusUnprocessableEntity, "validation_failed", []string{"weight_kg"}},
		{"dimensions without length", `{"sku":"X1","name":"X","price":"1.00","dimensions_cm":{"width":"1","height":"2"}}`, http.StatusUnprocessableEntity, "validation_failed", []string{"dimensions_cm.length"}},
		{"relative image", `{"sku":"X1","name":"X","price":"1.00","images":["/a.jpg"]}`, http.StatusUnprocessableEntity, "validation_failed", []string{"images.0"}},
		{"bad promotion date", `{"sku":"X1","name":"X","price":"1.00","promotional_price_to":"2025-03-01"}`, http.StatusUnprocessableEntity, "validation_failed", []string{"promotional_price_to"}},
		{"negative stock", `{"sku":"X1","name":"X","price":"1.00","stock":{"quantity":-1}}`, http.StatusUnprocessableEntity, "validation_failed", []string{"stock.quantity"}},
		{"fractional stock", `{"sku":"X1","name":"X","price":"1.00","stock":{"quantity":1.5}}`, http.StatusUnprocessableEntity, "validation_failed", []string{"stock.quantity"}},
		{"stock as string", `{"sku":"X1","name":"X","price":"1.00","stock":{"quantity":"5"}}`, http.StatusUnprocessableEntity, "validation_failed", []string{"stock.quantity"}},
		{"array body", `[]`, http.StatusUnprocessableEntity, "validation_failed", []string{"body"}},
		{"malformed json", `{"sku":`, http.StatusBadRequest, "bad_request", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := h.do(keyA, http.MethodPost, "/products", tt.body)
			if tt.status == http.StatusCreated {
				if r.status != tt.status {
					t.Fatalf("status = %d: %s", r.status, r.body)
				}
				return
			}
			eb := h.expectError(r, tt.status, tt.code, tt.fields...)
			if tt.status == http.StatusConflict && eb.ExistingID != first.ID {
				t.Errorf("existing_id = %q, want %q", eb.ExistingID, first.ID)
			}
			if tt.status != http.StatusConflict && eb.ExistingID != "" {
				t.Errorf("existing_id %q on a %d", eb.ExistingID, tt.status)
			}
		})
	}

	t.Run("wrong content type", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPost, h.srv.URL+BasePath+"/products",
			strings.NewReader(`{"sku":"CT","name":"X","price":"1.00"}`))
		req.Header.Set("Authorization", "Bearer "+keyA)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		h.expectError(h.send(req), http.StatusBadRequest, "bad_request")
	})

	p, found := h.sim.Product(keyA, "BON-015-U-PT")
	if !found {
		t.Fatal("full product not stored")
	}
	if p.Stock.Quantity != 30 || p.Status != "inactive" || p.PromotionalPriceFrom == nil ||
		!p.PromotionalPriceFrom.Equal(time.Date(2025, 3, 1, 3, 0, 0, 0, time.UTC)) || p.Dimensions == nil || p.Dimensions.Length != "27.0" {
		t.Errorf("full product stored as %+v", p)
	}
	if _, found := h.sim.Product(keyA, "X1"); found {
		t.Error("a refused product was stored")
	}
}

func TestProductJSONShape(t *testing.T) {
	h := newHarness(t, Options{})
	p := h.createProduct(keyA, `{"sku":"MEI-030","name":"Meia","price":"24.90"}`)
	r := h.do(keyA, http.MethodGet, "/products/"+p.ID, "")
	var env struct{ Data map[string]json.RawMessage }
	r.decode(t, &env)
	for _, field := range []string{"parent_sku", "description", "promotional_price", "promotional_price_from",
		"promotional_price_to", "gtin", "brand", "ncm", "weight_kg", "dimensions_cm", "category"} {
		if raw, present := env.Data[field]; !present || !isNull(raw) {
			t.Errorf("%s = %s, want null", field, raw)
		}
	}
	want := map[string]string{"id": `"` + p.ID + `"`, "price": `"24.90"`, "images": `[]`, "attributes": `{}`,
		"created_at": `"2025-03-10T12:00:00Z"`, "stock": `{"quantity":0,"warehouse_code":"default","updated_at":"2025-03-10T12:00:00Z"}`}
	for field, v := range want {
		if string(env.Data[field]) != v {
			t.Errorf("%s = %s, want %s", field, env.Data[field], v)
		}
	}
	h.expectError(h.do(keyA, http.MethodGet, "/products/999999", ""), http.StatusNotFound, "not_found")
}

func TestUpdateProductPartial(t *testing.T) {
	h := newHarness(t, Options{})
	p := h.createProduct(keyA, `{"sku":"CAM-001","name":"Camiseta","price":"129.90","promotional_price":"99.90",
		"description":"Algodão","gtin":"7891234567895","stock":{"quantity":12}}`)
	h.createProduct(keyA, `{"sku":"OTHER","name":"Outro","price":"1.00"}`)

	get := func() Product {
		t.Helper()
		var env struct{ Data Product }
		h.do(keyA, http.MethodGet, "/products/"+p.ID, "").decode(t, &env)
		return env.Data
	}

	h.clock.Add(time.Minute)
	r := h.do(keyA, http.MethodPut, "/products/"+p.ID, `{"price":"119.90","promotional_price":null,"stock":{"quantity":99}}`)
	if r.status != http.StatusOK {
		t.Fatalf("price update: %d %s", r.status, r.body)
	}
	got := get()
	if got.Price != "119.90" || got.PromotionalPrice != nil {
		t.Errorf("price/promotion = %s/%v, want 119.90/null", got.Price, got.PromotionalPrice)
	}
	if got.Description == nil || *got.Description != "Algodão" || got.GTIN == nil || got.Name != "Camiseta" {
		t.Errorf("absent fields changed: %+v", got)
	}
	if got.Stock.Quantity != 12 {
		t.Errorf("stock member was applied: quantity %d", got.Stock.Quantity)
	}
	if want := t0.Add(time.Minute); !got.UpdatedAt.Equal(want) || !got.CreatedAt.Equal(t0) {
		t.Errorf("updated_at/created_at = %v/%v, want %v/%v", got.UpdatedAt, got.CreatedAt, want, t0)
	}

	h.clock.Add(time.Minute)
	h.do(keyA, http.MethodPut, "/products/"+p.ID, `{"price":"119.90","description":"Algodão"}`)
	if got := get(); !got.UpdatedAt.Equal(t0.Add(time.Minute)) {
		t.Errorf("a no-op PUT moved updated_at to %v", got.UpdatedAt)
	}

	h.do(keyA, http.MethodPut, "/products/"+p.ID, `{"description":null,"sku":"CAM-001-NEW"}`)
	got = get()
	if got.Description != nil || got.SKU != "CAM-001-NEW" || !got.UpdatedAt.Equal(t0.Add(2*time.Minute)) {
		t.Errorf("after clearing description and renaming sku: %+v", got)
	}
	if _, found := h.sim.Product(keyA, "CAM-001"); found {
		t.Error("old sku still resolves")
	}

	tests := []struct {
		name, id, body string
		status         int
		code           string
		fields         []string
	}{
		{"sku taken", p.ID, `{"sku":"OTHER"}`, http.StatusUnprocessableEntity, "validation_failed", []string{"sku"}},
		{"name null", p.ID, `{"name":null}`, http.StatusUnprocessableEntity, "validation_failed", []string{"name"}},
		{"name too long", p.ID, `{"name":"` + strings.Repeat("a", 256) + `"}`, http.StatusUnprocessableEntity, "validation_failed", []string{"name"}},
		{"bad price", p.ID, `{"price":"10"}`, http.StatusUnprocessableEntity, "validation_failed", []string{"price"}},
		{"images null", p.ID, `{"images":null}`, http.StatusUnprocessableEntity, "validation_failed", []string{"images"}},
		{"malformed", p.ID, `{"price":`, http.StatusBadRequest, "bad_request", nil},
		{"unknown id", "424242", `{"price":"1.00"}`, http.StatusNotFound, "not_found", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h.expectError(h.do(keyA, http.MethodPut, "/products/"+tt.id, tt.body), tt.status, tt.code, tt.fields...)
		})
	}
	if got := get(); got.Name != "Camiseta" || got.Price != "119.90" {
		t.Errorf("a refused PUT changed the product: %+v", got)
	}
}

func TestListProducts(t *testing.T) {
	h := newHarness(t, Options{})
	for i, sku := range []string{"ABC-1", "abc-1", "A+B", "D-4", "E-5"} {
		h.clock.Add(time.Minute)
		status := "active"
		if i == 4 {
			status = "inactive"
		}
		h.createProduct(keyA, fmt.Sprintf(`{"sku":%q,"name":"P","price":"1.00","status":%q}`, sku, status))
	}
	skus := func(query string) ([]string, ListMeta) {
		t.Helper()
		r := h.do(keyA, http.MethodGet, "/products?"+query, "")
		if r.status != http.StatusOK {
			t.Fatalf("GET /products?%s: %d %s", query, r.status, r.body)
		}
		var list struct {
			Data []Product
			Meta ListMeta
		}
		r.decode(t, &list)
		var out []string
		for _, p := range list.Data {
			out = append(out, p.SKU)
		}
		return out, list.Meta
	}
	tests := []struct {
		query string
		want  string
	}{
		{"sku=ABC-1", "ABC-1"},
		{"sku=abc-1", "abc-1"},
		{"sku=Abc-1", ""},
		{"sku=A%2BB", "A+B"},
		{"sku=A+B", ""}, // an unencoded + is a space
		{"status=inactive", "E-5"},
		{"updated_since=" + url.QueryEscape(t0.Add(4*time.Minute).Format(time.RFC3339)), "D-4,E-5"},
		{"updated_since=2025-03-10T09:04:00-03:00", "D-4,E-5"}, // a '-' offset needs no encoding
	}
	for _, tt := range tests {
		got, meta := skus(tt.query)
		if strings.Join(got, ",") != tt.want {
			t.Errorf("%s: got %v, want %s", tt.query, got, tt.want)
		}
		if meta.Page != 1 || meta.PerPage != 50 || meta.LastPage != 1 {
			t.Errorf("%s: meta %+v", tt.query, meta)
		}
	}
	for _, query := range []string{"sku=", "per_page=101", "per_page=0", "page=0", "page=x", "updated_since=yesterday",
		"updated_since=2025-03-10T09:04:00+03:00"} {
		field, _, _ := strings.Cut(query, "=")
		h.expectError(h.do(keyA, http.MethodGet, "/products?"+query, ""), http.StatusUnprocessableEntity, "validation_failed", field)
	}
}

// TestSKUIndexMatchesScan checks GET /products?sku= (answered from the SKU index)
// against a scan of every product after each kind of change: create, SKU and parent
// changes, a refused change to a taken SKU, seeding over an existing SKU, delete.
func TestSKUIndexMatchesScan(t *testing.T) {
	h := newHarness(t, Options{})
	universe := []string{"P-1", "P-2", "P-3", "P-1-A", "P-1-B", "NEW-2", "GONE"}
	check := func(step string) {
		t.Helper()
		all := h.sim.Products(keyA)
		for _, sku := range universe {
			for _, status := range []string{"", "active", "inactive"} {
				var want []string
				for _, p := range all {
					if p.SKU == sku && (status == "" || p.Status == status) {
						want = append(want, p.ID)
					}
				}
				query := "/products?sku=" + url.QueryEscape(sku)
				if status != "" {
					query += "&status=" + status
				}
				r := h.do(keyA, http.MethodGet, query, "")
				if r.status != http.StatusOK {
					t.Fatalf("%s: GET %s: %d %s", step, query, r.status, r.body)
				}
				var list struct{ Data []Product }
				r.decode(t, &list)
				var got []string
				for _, p := range list.Data {
					got = append(got, p.ID)
					if p.SKU != sku {
						t.Errorf("%s: GET %s returned sku %s", step, query, p.SKU)
					}
				}
				if strings.Join(got, ",") != strings.Join(want, ",") {
					t.Errorf("%s: GET %s = %v, scan finds %v", step, query, got, want)
				}
			}
		}
	}
	check("empty")
	p1 := h.createProduct(keyA, `{"sku":"P-1","name":"Pai","price":"1.00"}`)
	a := h.createProduct(keyA, `{"sku":"P-1-A","name":"A","price":"1.00","parent_sku":"P-1"}`)
	p2 := h.createProduct(keyA, `{"sku":"P-2","name":"Dois","price":"1.00","status":"inactive"}`)
	h.createProduct(keyA, `{"sku":"GONE","name":"Some","price":"1.00"}`)
	check("created")

	if r := h.do(keyA, http.MethodPut, "/products/"+p2.ID, `{"sku":"NEW-2"}`); r.status != http.StatusOK {
		t.Fatalf("sku change: %d %s", r.status, r.body)
	}
	check("sku changed")
	if r := h.do(keyA, http.MethodPut, "/products/"+a.ID, `{"sku":"P-1-B","parent_sku":"P-3"}`); r.status != http.StatusOK {
		t.Fatalf("sku and parent change: %d %s", r.status, r.body)
	}
	check("sku and parent changed")
	h.expectError(h.do(keyA, http.MethodPut, "/products/"+a.ID, `{"sku":"P-1"}`), http.StatusUnprocessableEntity, "validation_failed", "sku")
	check("taken sku refused")
	if r := h.do(keyA, http.MethodPut, "/products/"+p1.ID, `{"sku":"P-2","status":"inactive"}`); r.status != http.StatusOK {
		t.Fatalf("reuse of a freed sku: %d %s", r.status, r.body)
	}
	check("freed sku reused")
	if _, err := h.sim.PutProduct(keyA, Product{SKU: "P-2", Name: "Seeded over", Price: "2.00"}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.sim.PutProduct(keyA, Product{SKU: "P-1", Name: "Seeded new", Price: "2.00"}); err != nil {
		t.Fatal(err)
	}
	check("seeded")
	if err := h.sim.DeleteProduct(keyA, "GONE"); err != nil {
		t.Fatal(err)
	}
	if err := h.sim.DeleteProduct(keyA, "P-2"); err != nil {
		t.Fatal(err)
	}
	check("deleted")
	if r := h.do(keyA, http.MethodPost, "/products", `{"sku":"GONE","name":"Volta","price":"1.00"}`); r.status != http.StatusCreated {
		t.Fatalf("re-create of a deleted sku: %d %s", r.status, r.body)
	}
	check("re-created")
}
