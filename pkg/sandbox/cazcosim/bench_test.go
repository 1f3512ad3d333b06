package cazcosim

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// BenchmarkListProductsBySKU answers GET /products?sku= in a store of 100,000 products.
func BenchmarkListProductsBySKU(b *testing.B) {
	const n = 100_000
	now := time.Date(2025, 3, 10, 12, 0, 0, 0, time.UTC)
	sim := New(Options{Now: func() time.Time { return now }})
	sim.AddStore(keyA)
	for i := range n {
		if _, err := sim.PutProduct(keyA, Product{SKU: fmt.Sprintf("SKU-%06d", i), Name: "Produto", Price: "10.00"}); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for i := range b.N {
		sku := fmt.Sprintf("SKU-%06d", i*7919%n)
		req := httptest.NewRequest("GET", BasePath+"/products?sku="+sku, nil)
		req.Header.Set("Authorization", "Bearer "+keyA)
		rec := httptest.NewRecorder()
		sim.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"sku":"`+sku+`"`) {
			b.Fatalf("%s: %d %s", sku, rec.Code, rec.Body.String())
		}
	}
}
