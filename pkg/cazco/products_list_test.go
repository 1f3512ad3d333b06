package cazco

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/cazbling/cazbling/pkg/cazbling"
)

// productJSON is a minimal valid product.
func productJSON(id, sku string) string {
	return fmt.Sprintf(`{"id":%q,"sku":%q,"name":"Produto %s","status":"active","price":"10.00","stock":{"quantity":1}}`, id, sku, id)
}

// productsOf returns n valid products whose ids and SKUs start at from.
func productsOf(from, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = productJSON(fmt.Sprint(from+i), fmt.Sprintf("SKU-%04d", from+i))
	}
	return out
}

// productPage is a page of the product list; next "" is null. meta is made to
// disagree with links.next, which alone decides the end.
func productPage(next string, products ...string) string {
	n := "null"
	if next != "" {
		n = fmt.Sprintf("%q", next)
	}
	return fmt.Sprintf(`{"data":[%s],"meta":{"page":1,"per_page":100,"total":%d,"last_page":1},"links":{"next":%s,"prev":null}}`,
		strings.Join(products, ","), len(products), n)
}

// walkedProduct is one step of a product walk: a product, or an error with what
// came with it.
type walkedProduct struct {
	p   cazbling.MarketProduct
	err error
}

func walkProducts(seq func(func(cazbling.MarketProduct, error) bool)) (skus []string, errs []walkedProduct) {
	for p, err := range seq {
		if err != nil {
			errs = append(errs, walkedProduct{p, err})
			continue
		}
		skus = append(skus, p.SKU)
	}
	return skus, errs
}

func skuRange(from, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("SKU-%04d", from+i)
	}
	return out
}

func TestProductsFollowsNextVerbatim(t *testing.T) {
	var s *apiServer
	s = newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		switch n {
		case 1:
			// A full page whose meta and headers claim it is the only one.
			reply(w, 200, productPage(s.baseURL()+"/products?cursor=abc%2Bdef%3D&per_page=100", productsOf(1, 100)...),
				"X-Total-Count", "100")
		case 2:
			// A short page, and another paging scheme under another path.
			reply(w, 200, productPage(s.srv.URL+"/api/v1/seller/catalog/feed/page-3?after=SKU-0103&limit=100", productsOf(101, 3)...))
		case 3:
			// An empty page that is still not the end.
			reply(w, 200, productPage("/api/v1/seller/catalog/feed/page-4?after=SKU-0103"))
		case 4:
			// The end, though the Link header says otherwise.
			reply(w, 200, productPage("", productsOf(104, 2)...),
				"Link", `<`+s.baseURL()+`/products?page=5>; rel="next"`, "X-Total-Count", "999")
		default:
			t.Errorf("unexpected request %d", n)
			reply(w, 404, errorJSON("not_found", "no"))
		}
	})
	skus, errs := walkProducts(s.client(t, newFakeClock(), nil).Products(context.Background()))
	if len(errs) != 0 {
		t.Fatalf("errors: %v", errs)
	}
	if want := skuRange(1, 105); !reflect.DeepEqual(skus, want) {
		t.Errorf("got %d SKUs %v..., want %d", len(skus), skus[:min(3, len(skus))], len(want))
	}
	reqs := s.requests()
	if len(reqs) != 4 {
		t.Fatalf("%d requests, want 4", len(reqs))
	}
	want := []struct{ path, query string }{
		{"/products", "per_page=100"},
		{"/products", "cursor=abc%2Bdef%3D&per_page=100"},
		{"/catalog/feed/page-3", "after=SKU-0103&limit=100"},
		{"/catalog/feed/page-4", "after=SKU-0103"},
	}
	for i, r := range reqs {
		if r.Method != "GET" || r.RawPath != want[i].path || r.RawQuery != want[i].query {
			t.Errorf("request %d: %s %s?%s, want GET %s?%s verbatim", i+1, r.Method, r.RawPath, r.RawQuery, want[i].path, want[i].query)
		}
	}
}

func TestProductsEndsAtNullNext(t *testing.T) {
	tests := []struct {
		name string
		page []string
	}{
		{"empty page", nil},
		{"short page", productsOf(1, 7)},
		{"full page", productsOf(1, 100)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s *apiServer
			s = newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
				// meta.last_page, Link and X-Total-Count all say more is to come.
				body := strings.Replace(productPage("", tt.page...), `"last_page":1`, `"last_page":9`, 1)
				reply(w, 200, body, "Link", `<`+s.baseURL()+`/products?page=2>; rel="next"`, "X-Total-Count", "900")
			})
			skus, errs := walkProducts(s.client(t, newFakeClock(), nil).Products(context.Background()))
			if len(errs) != 0 {
				t.Fatalf("errors: %v", errs)
			}
			if len(skus) != len(tt.page) {
				t.Errorf("%d products, want %d", len(skus), len(tt.page))
			}
			if reqs := s.requests(); len(reqs) != 1 || reqs[0].Path != "/products" || reqs[0].RawQuery != "per_page=100" {
				t.Errorf("requests %+v, want one GET /products?per_page=100", reqs)
			}
		})
	}
}

func TestProductsRefusesLoop(t *testing.T) {
	tests := []struct {
		name     string
		next     func(s *apiServer, n int) string
		wantLoop string // the URL the error must name
	}{
		{
			name: "back to the first page",
			next: func(s *apiServer, n int) string {
				if n == 1 {
					return s.baseURL() + "/products?page=2&per_page=100"
				}
				return s.baseURL() + "/products?per_page=100"
			},
			wantLoop: "/products?per_page=100",
		},
		{
			name: "relative link to itself",
			next: func(s *apiServer, n int) string {
				return "/api/v1/seller/products?page=2"
			},
			wantLoop: "/products?page=2",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s *apiServer
			s = newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
				if n > 2 {
					t.Errorf("request %d: the loop was followed", n)
					reply(w, 200, productPage(""))
					return
				}
				reply(w, 200, productPage(tt.next(s, n), productsOf(n, 1)...))
			})
			skus, errs := walkProducts(s.client(t, newFakeClock(), nil).Products(context.Background()))
			if !reflect.DeepEqual(skus, skuRange(1, 2)) || len(errs) != 1 {
				t.Fatalf("skus %v errs %v, want both pages then one error", skus, errs)
			}
			ae := apiError(t, errs[0].err)
			if ae.Kind != cazbling.KindData || ae.Op != "GET /products" || !strings.Contains(ae.Message, basePath+tt.wantLoop+`"`) {
				t.Errorf("error %v, want KindData naming %s", errs[0].err, tt.wantLoop)
			}
			if n := len(s.requests()); n != 2 {
				t.Errorf("%d requests, want 2", n)
			}
		})
	}
}

func TestProductsFailingPageEndsWalk(t *testing.T) {
	var s *apiServer
	s = newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if n == 1 {
			reply(w, 200, productPage(s.baseURL()+"/products?page=2&per_page=100", productsOf(1, 2)...))
			return
		}
		reply(w, 503, errorJSON("unavailable", "Service temporarily unavailable."))
	})
	c := s.client(t, newFakeClock(), func(o *Options) { o.MaxAttempts = 3 })
	skus, errs := walkProducts(c.Products(context.Background()))
	if !reflect.DeepEqual(skus, skuRange(1, 2)) || len(errs) != 1 {
		t.Fatalf("skus %v errs %v, want the first page then one error", skus, errs)
	}
	if ae := apiError(t, errs[0].err); ae.Kind != cazbling.KindServer || ae.Status != 503 || ae.Op != "GET /products" {
		t.Errorf("error %+v", ae)
	}
	reqs := s.requests()
	if len(reqs) != 4 {
		t.Fatalf("%d requests, want 1 + 3 tries of page 2", len(reqs))
	}
	for _, r := range reqs[1:] {
		if r.RawQuery != "page=2&per_page=100" {
			t.Errorf("retry went to ?%s", r.RawQuery)
		}
	}
}

func TestProductsUnreadableProductFailsWalk(t *testing.T) {
	good := productJSON("1", "SKU-0001")
	tests := []struct {
		name     string
		bad      string
		wantID   string
		wantSKU  string
		wantText string
	}{
		{"bad price", strings.Replace(productJSON("9", "CAM-9"), `"10.00"`, `"12,50"`, 1), "9", "CAM-9", `"9"`},
		{"missing sku", `{"id":"9","name":"x","status":"active","price":"1.00"}`, "9", "", "sku is missing"},
		{"id is an object", `{"id":{"x":1},"sku":"CAM-9","name":"x","price":"1.00"}`, "", "CAM-9", "without a readable id"},
		{"sku is an array", `{"id":"9","sku":["CAM-9"],"name":"x","price":"1.00"}`, "9", "", `"9"`},
		{"null item", `null`, "", "", "id is missing"},
		{"not an object", `"CAM-9"`, "", "", "without a readable id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s *apiServer
			s = newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
				if n > 1 {
					t.Errorf("request %d: the walk went on after an unreadable product", n)
				}
				reply(w, 200, productPage(s.baseURL()+"/products?page=2", good, tt.bad, productJSON("3", "SKU-0003")))
			})
			skus, errs := walkProducts(s.client(t, newFakeClock(), nil).Products(context.Background()))
			if !reflect.DeepEqual(skus, []string{"SKU-0001"}) || len(errs) != 1 {
				t.Fatalf("skus %v errs %v, want SKU-0001 then one error and nothing more", skus, errs)
			}
			got := errs[0]
			ae := apiError(t, got.err)
			if ae.Kind != cazbling.KindMalformed || ae.Op != "GET /products" || ae.Status != 200 ||
				!strings.Contains(ae.Message, tt.wantText) || !strings.Contains(ae.Message, "walk stops") {
				t.Errorf("error %v, want KindMalformed saying %q and that the walk stops", got.err, tt.wantText)
			}
			if got.p.ID != tt.wantID || got.p.SKU != tt.wantSKU {
				t.Errorf("error came with id %q sku %q, want %q %q", got.p.ID, got.p.SKU, tt.wantID, tt.wantSKU)
			}
		})
	}
}

func TestProductsPageWithoutData(t *testing.T) {
	s := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		reply(w, 200, `{"meta":{"total":0},"links":{"next":null}}`)
	})
	_, errs := walkProducts(s.client(t, newFakeClock(), nil).Products(context.Background()))
	if len(errs) != 1 {
		t.Fatalf("errors %v, want one", errs)
	}
	if ae := apiError(t, errs[0].err); ae.Kind != cazbling.KindMalformed || !strings.Contains(ae.Message, "product list has no data") {
		t.Errorf("error %v", errs[0].err)
	}
}

func TestProductsStops(t *testing.T) {
	newPaged := func(t *testing.T) *apiServer {
		var s *apiServer
		s = newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
			reply(w, 200, productPage(s.baseURL()+fmt.Sprintf("/products?page=%d", n+1), productsOf(2*n-1, 2)...))
		})
		return s
	}
	t.Run("context cancelled mid-walk", func(t *testing.T) {
		s := newPaged(t)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var skus []string
		var errs []error
		for p, err := range s.client(t, newFakeClock(), nil).Products(ctx) {
			if err != nil {
				errs = append(errs, err)
				continue
			}
			skus = append(skus, p.SKU)
			if len(skus) == 3 {
				cancel()
			}
		}
		if !reflect.DeepEqual(skus, skuRange(1, 4)) || len(errs) != 1 || !errors.Is(errs[0], context.Canceled) {
			t.Fatalf("skus %v errs %v, want the page in hand then context.Canceled", skus, errs)
		}
		if n := len(s.requests()); n != 2 {
			t.Errorf("%d requests, want 2", n)
		}
	})
	t.Run("context cancelled before", func(t *testing.T) {
		s := newPaged(t)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		skus, errs := walkProducts(s.client(t, newFakeClock(), nil).Products(ctx))
		if len(skus) != 0 || len(errs) != 1 || !errors.Is(errs[0].err, context.Canceled) {
			t.Fatalf("skus %v errs %v", skus, errs)
		}
		if n := len(s.requests()); n != 0 {
			t.Errorf("%d requests, want 0", n)
		}
	})
	t.Run("caller stops", func(t *testing.T) {
		s := newPaged(t)
		for range s.client(t, newFakeClock(), nil).Products(context.Background()) {
			break
		}
		if n := len(s.requests()); n != 1 {
			t.Errorf("%d requests after the caller stopped, want 1", n)
		}
	})
}

func TestProductsRefusesForeignNext(t *testing.T) {
	s := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		reply(w, 200, productPage("https://evil.example.com/api/v1/seller/products?page=2", productsOf(1, 1)...))
	})
	skus, errs := walkProducts(s.client(t, newFakeClock(), nil).Products(context.Background()))
	if len(skus) != 1 || len(errs) != 1 {
		t.Fatalf("skus %v errs %v", skus, errs)
	}
	if ae := apiError(t, errs[0].err); ae.Kind != cazbling.KindData || ae.Op != "GET /products" || !strings.Contains(ae.Message, "refusing") {
		t.Errorf("error %v", errs[0].err)
	}
	if n := len(s.requests()); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
}
