package cazcosim

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
)

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
