package sandbox

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cazbling/cazbling/pkg/sandbox/blingsim"
)

func TestAdminLoopbackOnly(t *testing.T) {
	sb, err := New(Options{Seed: SeedEmpty})
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest("GET", "/_sandbox/tenants", nil)
	req.RemoteAddr = "203.0.113.9:4242"
	rec := httptest.NewRecorder()
	sb.Handler().ServeHTTP(rec, req)
	if rec.Code != http.StatusForbidden {
		t.Fatalf("remote admin call: %d", rec.Code)
	}
}

func TestAdminMutations(t *testing.T) {
	h := newHarness(t, Options{})
	tn := DemoTenants()[0]
	a := h.do("POST", "/_sandbox/bling/stock?client_id="+tn.ClientID+"&sku=BON-ABA-005&quantity=77", nil, "")
	var bal blingsim.StockBalance
	a.decode(t, &bal)
	if a.status != 200 || bal.SaldoFisicoTotal.IntPart() < 77 {
		t.Fatalf("stock: %d %s", a.status, a.raw)
	}
	before, _ := h.sb.Bling.Products(tn.ClientID)[0], 0
	h.clock.Add(time.Minute)
	a = h.do("POST", "/_sandbox/bling/price?client_id="+tn.ClientID+"&sku=CAM-ALG-001&price=54.90", nil, "")
	var p blingsim.Product
	a.decode(t, &p)
	if a.status != 200 || p.Preco.StringFixed(2) != "54.90" || len(p.Variacoes) != 6 {
		t.Fatalf("price: %d %s", a.status, a.raw)
	}
	if after, _ := h.sb.Bling.Product(tn.ClientID, before.ID); !after.DataAlteracao.After(before.DataAlteracao) {
		t.Fatalf("price edit did not bump dataAlteracao")
	}
	o := h.sb.Cazco.Orders(tn.CazcoKey)[0]
	a = h.do("POST", "/_sandbox/cazco/order-status?key="+tn.CazcoKey+"&id="+o.ID+"&status=shipped", nil, "")
	if a.status != 200 || !strings.Contains(string(a.raw), `"shipped"`) {
		t.Fatalf("order status: %d %s", a.status, a.raw)
	}
	if a := h.do("GET", "/_sandbox/state?key="+tn.CazcoKey, nil, ""); a.status != 200 || !strings.Contains(string(a.raw), o.ID) {
		t.Fatalf("cazco state: %d", a.status)
	}
	if a := h.do("POST", "/_sandbox/code?client_id=nobody", nil, ""); a.status != 404 {
		t.Fatalf("code for unknown client: %d", a.status)
	}
}
