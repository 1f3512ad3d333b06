package cazcosim

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestStockSingle(t *testing.T) {
	h := newHarness(t, Options{})
	p := h.createProduct(keyA, `{"sku":"CAM-001","name":"Camiseta","price":"129.90"}`)
	h.clock.Add(time.Minute)
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
