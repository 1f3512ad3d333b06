package cazcosim

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	keyA = "key-store-a"
	keyB = "key-store-b"
)

var t0 = time.Date(2025, 3, 10, 12, 0, 0, 0, time.UTC)

// clock is a settable sandbox clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

type harness struct {
	t          *testing.T
	sim        *Sim
	srv        *httptest.Server
	clock      *clock
	requestIDs map[string]bool
	lying      bool // the sim was told to advertise garbage rate-limit headers
}

func newHarness(t *testing.T, opts Options) *harness {
	t.Helper()
	c := &clock{now: t0}
	opts.Now = c.Now
	sim := New(opts)
	sim.AddStore(keyA)
	sim.AddStore(keyB)
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	return &harness{t: t, sim: sim, srv: srv, clock: c, requestIDs: map[string]bool{}}
}

type result struct {
	status int
	header http.Header
	body   []byte
}

func (r result) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

// do sends a request with key (none if empty) to a path under BasePath, or to an absolute URL.
func (h *harness) do(key, method, path, body string) result {
	h.t.Helper()
	target := path
	if !strings.HasPrefix(path, "http") {
		target = h.srv.URL + BasePath + path
	}
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, target, rd)
	if err != nil {
		h.t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	return h.send(req)
}

func (h *harness) send(req *http.Request) result {
	h.t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		h.t.Fatal(err)
	}
	for _, name := range []string{"X-RateLimit-Limit", "X-RateLimit-Remaining"} {
		if _, err := strconv.Atoi(resp.Header.Get(name)); err != nil && !h.lying {
			h.t.Errorf("%s %s: header %s = %q, want an integer", req.Method, req.URL.Path, name, resp.Header.Get(name))
		}
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		h.t.Errorf("Content-Type = %q", ct)
	}
	r := result{status: resp.StatusCode, header: resp.Header, body: data}
	if r.status >= 400 {
		h.checkErrorShape(r)
	}
	return r
}

// checkErrorShape asserts the Error body of every failure: code, message, errors object,
// a request id never seen before.
func (h *harness) checkErrorShape(r result) {
	h.t.Helper()
	var body map[string]json.RawMessage
	if err := json.Unmarshal(r.body, &body); err != nil {
		h.t.Fatalf("error body %s: %v", r.body, err)
	}
	for _, field := range []string{"code", "message", "request_id"} {
		v, present := decodeString(body[field])
		if !present || v == "" {
			h.t.Errorf("error body %s: %s missing or empty", r.body, field)
		}
	}
	var fields map[string][]string
	if raw, present := body["errors"]; !present || isNull(raw) || json.Unmarshal(raw, &fields) != nil {
		h.t.Errorf("error body %s: errors is not an object of string lists", r.body)
	}
	id, _ := decodeString(body["request_id"])
	if h.requestIDs[id] {
		h.t.Errorf("request_id %s repeated", id)
	}
	h.requestIDs[id] = true
}

func (h *harness) expectError(r result, status int, code string, fields ...string) ErrorBody {
	h.t.Helper()
	if r.status != status {
		h.t.Fatalf("status = %d, want %d; body %s", r.status, status, r.body)
	}
	var eb ErrorBody
	r.decode(h.t, &eb)
	if eb.Code != code {
		h.t.Errorf("code = %q, want %q", eb.Code, code)
	}
	for _, f := range fields {
		if len(eb.Errors[f]) == 0 {
			h.t.Errorf("errors[%s] missing in %s", f, r.body)
		}
	}
	return eb
}

func (h *harness) createProduct(key, body string) Product {
	h.t.Helper()
	r := h.do(key, http.MethodPost, "/products", body)
	if r.status != http.StatusCreated {
		h.t.Fatalf("create: %d %s", r.status, r.body)
	}
	var env struct{ Data Product }
	r.decode(h.t, &env)
	return env.Data
}

func TestAuth(t *testing.T) {
	h := newHarness(t, Options{RatePerMinute: 60})
	tests := []struct {
		name   string
		header string
		status int
	}{
		{"no header", "", http.StatusUnauthorized},
		{"unknown key", "Bearer nope", http.StatusUnauthorized},
		{"wrong scheme", "Basic " + keyA, http.StatusUnauthorized},
		{"key without scheme", keyA, http.StatusUnauthorized},
		{"good key", "Bearer " + keyA, http.StatusOK},
		{"scheme is case-insensitive", "bearer " + keyA, http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet, h.srv.URL+BasePath+"/products", nil)
			if tt.header != "" {
				req.Header.Set("Authorization", tt.header)
			}
			r := h.send(req)
			if tt.status == http.StatusUnauthorized {
				h.expectError(r, http.StatusUnauthorized, "unauthenticated")
				return
			}
			if r.status != tt.status {
				t.Fatalf("status = %d, want %d: %s", r.status, tt.status, r.body)
			}
		})
	}
}

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

	h.clock.Advance(time.Minute)
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

	h.clock.Advance(time.Minute)
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
		h.clock.Advance(time.Minute)
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

func TestStockSingle(t *testing.T) {
	h := newHarness(t, Options{})
	p := h.createProduct(keyA, `{"sku":"CAM-001","name":"Camiseta","price":"129.90"}`)
	h.clock.Advance(time.Minute)
	r := h.do(keyA, http.MethodPut, "/products/"+p.ID+"/stock", `{"quantity":12,"warehouse_code":"default"}`)
	if r.status != http.StatusOK {
		t.Fatalf("set stock: %d %s", r.status, r.body)
	}
	var env struct{ Data StockLevel }
	r.decode(t, &env)
	want := StockLevel{ProductID: p.ID, SKU: "CAM-001", Quantity: 12, WarehouseCode: "default", UpdatedAt: t0.Add(time.Minute)}
	if env.Data != want {
		t.Errorf("stock level = %+v, want %+v", env.Data, want)
	}
	if got, _ := h.sim.Product(keyA, "CAM-001"); got.Stock.Quantity != 12 || !got.UpdatedAt.Equal(t0) {
		t.Errorf("product after stock set: %+v", got)
	}
	tests := []struct {
		name, id, body string
		status         int
		code           string
		fields         []string
	}{
		{"negative", p.ID, `{"quantity":-1}`, http.StatusUnprocessableEntity, "validation_failed", []string{"quantity"}},
		{"fraction", p.ID, `{"quantity":2.5}`, http.StatusUnprocessableEntity, "validation_failed", []string{"quantity"}},
		{"string", p.ID, `{"quantity":"12"}`, http.StatusUnprocessableEntity, "validation_failed", []string{"quantity"}},
		{"missing", p.ID, `{"warehouse_code":"default"}`, http.StatusUnprocessableEntity, "validation_failed", []string{"quantity"}},
		{"empty warehouse", p.ID, `{"quantity":1,"warehouse_code":""}`, http.StatusUnprocessableEntity, "validation_failed", []string{"warehouse_code"}},
		{"unknown product", "1", `{"quantity":1}`, http.StatusNotFound, "not_found", nil},
		{"malformed", p.ID, `quantity=1`, http.StatusBadRequest, "bad_request", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h.expectError(h.do(keyA, http.MethodPut, "/products/"+tt.id+"/stock", tt.body), tt.status, tt.code, tt.fields...)
		})
	}
	if got, _ := h.sim.Product(keyA, "CAM-001"); got.Stock.Quantity != 12 {
		t.Errorf("a refused stock write applied: %d", got.Stock.Quantity)
	}
}

func TestStockBatch(t *testing.T) {
	h := newHarness(t, Options{})
	for _, sku := range []string{"A", "B", "C"} {
		h.createProduct(keyA, `{"sku":"`+sku+`","name":"P","price":"1.00","stock":{"quantity":1}}`)
	}
	r := h.do(keyA, http.MethodPut, "/stock", `{"items":[{"sku":"A","quantity":12},{"sku":"B","quantity":0},
		{"sku":"Z","quantity":5},{"sku":"A","quantity":7}]}`)
	if r.status != http.StatusOK {
		t.Fatalf("batch: %d %s", r.status, r.body)
	}
	var env struct{ Data []StockResult }
	r.decode(t, &env)
	wantStatus := []string{"updated", "updated", "not_found", "invalid"}
	if len(env.Data) != len(wantStatus) {
		t.Fatalf("results = %+v", env.Data)
	}
	for i, res := range env.Data {
		if res.Status != wantStatus[i] {
			t.Errorf("item %d: status %q, want %q", i, res.Status, wantStatus[i])
		}
		if (res.Status == "updated") != (res.Message == "") {
			t.Errorf("item %d: message %q with status %s", i, res.Message, res.Status)
		}
	}
	quantities := func() string {
		var out []string
		for _, p := range h.sim.Products(keyA) {
			out = append(out, fmt.Sprintf("%s=%d", p.SKU, p.Stock.Quantity))
		}
		return strings.Join(out, " ")
	}
	if got := quantities(); got != "A=12 B=0 C=1" {
		t.Errorf("quantities = %s, want A=12 B=0 C=1", got)
	}

	items := func(n int) string {
		parts := make([]string, n)
		for i := range parts {
			parts[i] = `{"sku":"C","quantity":50}`
		}
		return `{"items":[` + strings.Join(parts, ",") + `]}`
	}
	tests := []struct {
		name, body string
		status     int
		code       string
		fields     []string
	}{
		{"101 items", items(101), http.StatusUnprocessableEntity, "validation_failed", []string{"items"}},
		{"no items", `{"items":[]}`, http.StatusUnprocessableEntity, "validation_failed", []string{"items"}},
		{"missing items", `{}`, http.StatusUnprocessableEntity, "validation_failed", []string{"items"}},
		{"items not an array", `{"items":{"sku":"C"}}`, http.StatusUnprocessableEntity, "validation_failed", []string{"items"}},
		{"one negative quantity", `{"items":[{"sku":"C","quantity":50},{"sku":"A","quantity":-1}]}`, http.StatusUnprocessableEntity, "validation_failed", []string{"items.1.quantity"}},
		{"one fractional quantity", `{"items":[{"sku":"C","quantity":50},{"sku":"A","quantity":1.5}]}`, http.StatusUnprocessableEntity, "validation_failed", []string{"items.1.quantity"}},
		{"missing sku", `{"items":[{"sku":"C","quantity":50},{"quantity":1}]}`, http.StatusUnprocessableEntity, "validation_failed", []string{"items.1.sku"}},
		{"malformed json", `{"items":[`, http.StatusBadRequest, "bad_request", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h.expectError(h.do(keyA, http.MethodPut, "/stock", tt.body), tt.status, tt.code, tt.fields...)
			if got := quantities(); got != "A=12 B=0 C=1" {
				t.Errorf("a refused batch applied: %s", got)
			}
		})
	}
	if r := h.do(keyA, http.MethodPut, "/stock", items(100)); r.status != http.StatusOK {
		t.Errorf("100 items: %d %s", r.status, r.body)
	}
	if got := quantities(); got != "A=12 B=0 C=50" {
		t.Errorf("after 100 items: %s", got)
	}
}

func TestNoBatchStock(t *testing.T) {
	h := newHarness(t, Options{NoBatchStock: true})
	h.createProduct(keyA, `{"sku":"A","name":"P","price":"1.00"}`)
	h.expectError(h.do(keyA, http.MethodPut, "/stock", `{"items":[{"sku":"A","quantity":3}]}`), http.StatusNotFound, "not_found")
	if p, _ := h.sim.Product(keyA, "A"); p.Stock.Quantity != 0 {
		t.Errorf("quantity = %d", p.Stock.Quantity)
	}
	h.sim.SetNoBatchStock(false)
	if r := h.do(keyA, http.MethodPut, "/stock", `{"items":[{"sku":"A","quantity":3}]}`); r.status != http.StatusOK {
		t.Errorf("batch after enabling: %d", r.status)
	}
}

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

	h.clock.Advance(90 * time.Second)
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

func TestRateLimit(t *testing.T) {
	const limit = 3
	h := newHarness(t, Options{RatePerMinute: limit})
	remaining := func(r result) string { return r.header.Get("X-RateLimit-Remaining") }
	for i := 1; i <= limit; i++ {
		r := h.do(keyA, http.MethodGet, "/products", "")
		if r.status != http.StatusOK || remaining(r) != strconv.Itoa(limit-i) || r.header.Get("X-RateLimit-Limit") != "3" {
			t.Fatalf("request %d: %d, remaining %s, limit %s", i, r.status, remaining(r), r.header.Get("X-RateLimit-Limit"))
		}
		h.clock.Advance(10 * time.Second)
	}
	// 30 s into the window: the next request is refused until it ends, 30 s later.
	r := h.do(keyA, http.MethodGet, "/products", "")
	h.expectError(r, http.StatusTooManyRequests, "rate_limited")
	if r.header.Get("Retry-After") != "30" || remaining(r) != "0" {
		t.Errorf("429: Retry-After %q, remaining %q; want 30, 0", r.header.Get("Retry-After"), remaining(r))
	}
	h.clock.Advance(29500 * time.Millisecond)
	r = h.do(keyA, http.MethodPut, "/stock", `{"items":[]}`)
	h.expectError(r, http.StatusTooManyRequests, "rate_limited")
	if r.header.Get("Retry-After") != "1" {
		t.Errorf("Retry-After = %q, want 1 (rounded up)", r.header.Get("Retry-After"))
	}
	if len(h.sim.Writes(keyA)) != 0 {
		t.Error("a refused request was recorded as a write")
	}

	// Another store has its own budget.
	if r := h.do(keyB, http.MethodGet, "/orders", ""); r.status != http.StatusOK || remaining(r) != "2" {
		t.Errorf("store B: %d, remaining %s", r.status, remaining(r))
	}

	h.clock.Advance(time.Second)
	r = h.do(keyA, http.MethodGet, "/products/404", "")
	h.expectError(r, http.StatusNotFound, "not_found")
	if remaining(r) != "2" {
		t.Errorf("new window: remaining %s, want 2", remaining(r))
	}

	h.sim.SetRatePerMinute(0)
	for range 5 {
		if r := h.do(keyA, http.MethodGet, "/products", ""); r.status != http.StatusOK {
			t.Fatalf("unlimited: %d", r.status)
		}
	}
}

// A limit counted over another window than a minute is enforced over it and
// advertised in RateLimit-Policy; advertised headers can be made to lie while the true
// limit still holds.
func TestRateLimitWindowAndAdvertised(t *testing.T) {
	h := newHarness(t, Options{RatePerMinute: 2, Window: 5 * time.Second})
	for i := range 2 {
		r := h.do(keyA, http.MethodGet, "/products", "")
		if r.status != http.StatusOK || r.header.Get("RateLimit-Policy") != "2;w=5" || r.header.Get("X-RateLimit-Limit") != "2" {
			t.Fatalf("request %d: %d, policy %q, limit %q", i, r.status, r.header.Get("RateLimit-Policy"), r.header.Get("X-RateLimit-Limit"))
		}
	}
	r := h.do(keyA, http.MethodGet, "/products", "")
	h.expectError(r, http.StatusTooManyRequests, "rate_limited")
	if r.header.Get("Retry-After") != "5" {
		t.Errorf("Retry-After %q, want 5", r.header.Get("Retry-After"))
	}
	h.clock.Advance(5 * time.Second)
	if r := h.do(keyA, http.MethodGet, "/products", ""); r.status != http.StatusOK {
		t.Fatalf("next window: %d", r.status)
	}

	h.sim.SetAdvertised(http.Header{"X-RateLimit-Limit": {"banana"}, "RateLimit-Policy": {""}})
	h.lying = true
	r = h.do(keyA, http.MethodGet, "/products", "")
	if r.status != http.StatusOK || r.header.Get("X-RateLimit-Limit") != "banana" || r.header.Get("RateLimit-Policy") != "" {
		t.Fatalf("lying headers: %d, limit %q, policy %q", r.status, r.header.Get("X-RateLimit-Limit"), r.header.Get("RateLimit-Policy"))
	}
	h.expectError(h.do(keyA, http.MethodGet, "/products", ""), http.StatusTooManyRequests, "rate_limited")

	h.sim.SetAdvertised(nil)
	h.lying = false
	h.sim.SetRateLimit(3, 0) // per minute again: no policy header
	if r := h.do(keyA, http.MethodGet, "/products", ""); r.status != http.StatusOK || r.header.Get("RateLimit-Policy") != "" || r.header.Get("X-RateLimit-Limit") != "3" {
		t.Fatalf("per minute: %d, policy %q, limit %q", r.status, r.header.Get("RateLimit-Policy"), r.header.Get("X-RateLimit-Limit"))
	}
}

func TestStoresIsolated(t *testing.T) {
	h := newHarness(t, Options{})
	a := h.createProduct(keyA, `{"sku":"SAME","name":"Loja A","price":"1.00"}`)
	b := h.createProduct(keyB, `{"sku":"SAME","name":"Loja B","price":"2.00"}`)
	if a.ID == b.ID {
		t.Errorf("both stores got product id %s", a.ID)
	}
	h.expectError(h.do(keyB, http.MethodGet, "/products/"+a.ID, ""), http.StatusNotFound, "not_found")
	h.expectError(h.do(keyB, http.MethodPut, "/products/"+a.ID+"/stock", `{"quantity":1}`), http.StatusNotFound, "not_found")
	var list struct{ Data []Product }
	h.do(keyB, http.MethodGet, "/products?sku=SAME", "").decode(t, &list)
	if len(list.Data) != 1 || list.Data[0].ID != b.ID {
		t.Errorf("store B sees %+v", list.Data)
	}
	h.do(keyB, http.MethodPut, "/stock", `{"items":[{"sku":"SAME","quantity":9}]}`)
	if p, _ := h.sim.Product(keyA, "SAME"); p.Stock.Quantity != 0 {
		t.Errorf("store B's batch changed store A: %d", p.Stock.Quantity)
	}

	orders := seedOrders(t, h, keyA, 1)
	h.expectError(h.do(keyB, http.MethodGet, "/orders/"+orders[0].ID, ""), http.StatusNotFound, "not_found")
	var page orderPage
	h.do(keyB, http.MethodGet, "/orders", "").decode(t, &page)
	if len(page.Data) != 0 || page.Meta.Total != 0 || page.Meta.LastPage != 1 {
		t.Errorf("store B lists %+v", page)
	}
	if len(h.sim.Orders(keyB)) != 0 || len(h.sim.Orders(keyA)) != 1 {
		t.Error("Orders leaks between stores")
	}
}

func TestRoutingErrors(t *testing.T) {
	h := newHarness(t, Options{})
	tests := []struct {
		method, path string
		status       int
		code         string
	}{
		{http.MethodGet, "/nothing", http.StatusNotFound, "not_found"},
		{http.MethodGet, "/products/", http.StatusNotFound, "not_found"},
		{http.MethodDelete, "/products/1", http.StatusMethodNotAllowed, "method_not_allowed"},
		{http.MethodPost, "/orders", http.StatusMethodNotAllowed, "method_not_allowed"},
		{http.MethodGet, "/stock", http.StatusMethodNotAllowed, "method_not_allowed"},
	}
	for _, tt := range tests {
		h.expectError(h.do(keyA, tt.method, tt.path, ""), tt.status, tt.code)
	}
	r := h.do(keyA, http.MethodGet, h.srv.URL+"/api/v2/seller/products", "")
	h.expectError(r, http.StatusNotFound, "not_found")
}

func TestSeedingHelpers(t *testing.T) {
	h := newHarness(t, Options{})
	id, err := h.sim.PutProduct(keyA, Product{SKU: "B", Name: "B", Price: "1.00", Description: Ptr("x")})
	if err != nil {
		t.Fatal(err)
	}
	again, err := h.sim.PutProduct(keyA, Product{SKU: "B", Name: "B2", Price: "2.00"})
	if err != nil || again != id {
		t.Fatalf("replace by sku: id %s (%v), want %s", again, err, id)
	}
	if _, err := h.sim.PutProduct(keyA, Product{SKU: "A", Name: "A", Price: "1.0"}); err == nil {
		t.Error("bad price accepted")
	}
	if _, err := h.sim.PutProduct("nope", Product{SKU: "A", Name: "A", Price: "1.00"}); err == nil {
		t.Error("unknown store accepted")
	}
	h.sim.PutProduct(keyA, Product{SKU: "A", Name: "A", Price: "1.00"})
	ps := h.sim.Products(keyA)
	if len(ps) != 2 || ps[0].SKU != "A" || ps[1].Name != "B2" || ps[1].Description != nil {
		t.Errorf("products = %+v", ps)
	}
	// Copies must not share memory with the store.
	ps[0].Images = append(ps[0].Images, "https://x/y.jpg")
	if p, _ := h.sim.Product(keyA, "A"); len(p.Images) != 0 {
		t.Error("Products returned shared slices")
	}
	if err := h.sim.SetStock(keyA, "A", 4); err != nil {
		t.Fatal(err)
	}
	if err := h.sim.DeleteProduct(keyA, "A"); err != nil {
		t.Fatal(err)
	}
	if _, found := h.sim.Product(keyA, "A"); found {
		t.Error("deleted product still there")
	}

	h.createProduct(keyA, `{"sku":"W","name":"W","price":"1.00"}`)
	writes := h.sim.Writes(keyA)
	if len(writes) != 1 || writes[0].Method != http.MethodPost || writes[0].Status != http.StatusCreated ||
		writes[0].Path != BasePath+"/products" || !strings.Contains(writes[0].Body, `"sku":"W"`) {
		t.Errorf("writes = %+v", writes)
	}
}

func TestConcurrentRequests(t *testing.T) {
	h := newHarness(t, Options{RatePerMinute: 1000})
	var wg sync.WaitGroup
	errs := make(chan string, 100)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 10 {
				body := fmt.Sprintf(`{"sku":"G%d-%d","name":"P","price":"1.00"}`, g, i)
				req, _ := http.NewRequest(http.MethodPost, h.srv.URL+BasePath+"/products", strings.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+keyA)
				req.Header.Set("Content-Type", "application/json")
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					errs <- err.Error()
					return
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusCreated {
					errs <- fmt.Sprintf("status %d", resp.StatusCode)
				}
				_ = h.sim.Products(keyA)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	if n := len(h.sim.Products(keyA)); n != 80 {
		t.Errorf("%d products, want 80", n)
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
