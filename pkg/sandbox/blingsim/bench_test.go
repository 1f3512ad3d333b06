package blingsim

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
)

// benchCatalogue seeds clientA of a fresh Sim with n listed products: every 20th a
// parent with two variations, the others simple; one in ten at zero stock, the others
// with stock in both deposits. It returns the Sim and an access token of clientA.
func benchCatalogue(b *testing.B, n int) (*Sim, string) {
	b.Helper()
	now := time.Date(2026, 3, 10, 15, 0, 0, 0, time.UTC)
	s := New(Options{Now: func() time.Time { return now }, RatePerSecond: -1, DailyQuota: -1, TokenCallsPerMinute: -1})
	s.AddAccount(Account{ClientID: clientA, ClientSecret: secretA, CompanyName: "Loja A Ltda", CNPJ: "11222333000181"})
	deps := s.Deposits(clientA)
	for i := range n {
		p := simpleProduct(fmt.Sprintf("SKU-%06d", i))
		if i%20 == 0 {
			p.Variacoes = []Product{
				{Nome: p.Nome + " P", Codigo: p.Codigo + "-P"},
				{Nome: p.Nome + " M", Codigo: p.Codigo + "-M"},
			}
		}
		id := s.PutProduct(clientA, p)
		if i%10 == 5 {
			continue // zero stock
		}
		stocked := []int64{id}
		if i%20 == 0 {
			got, _ := s.Product(clientA, id)
			stocked = stocked[:0]
			for _, v := range got.Variacoes {
				stocked = append(stocked, v.ID)
			}
		}
		for _, sid := range stocked {
			for j, d := range deps {
				if err := s.SetStock(clientA, sid, d.ID, decimal.NewFromInt(int64(3+j))); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
	code := s.IssueCode(clientA)
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}}
	req := httptest.NewRequest("POST", "/Api/v3/oauth/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(clientA, secretA)
	req.Header.Set("enable-jwt", "1")
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	access := tokenFrom(b, rec)
	return s, access
}

func tokenFrom(b *testing.B, rec *httptest.ResponseRecorder) string {
	b.Helper()
	const key = `"access_token":"`
	body := rec.Body.String()
	i := strings.Index(body, key)
	if rec.Code != http.StatusOK || i < 0 {
		b.Fatalf("token: %d %s", rec.Code, body)
	}
	rest := body[i+len(key):]
	return rest[:strings.IndexByte(rest, '"')]
}

// BenchmarkListProducts lists one page of GET /produtos over a catalogue of 100,000
// products (5,000 of them with two variations each).
func BenchmarkListProducts(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			s, access := benchCatalogue(b, n)
			last := n * 9 / 10 / 100 // the last full page of the positive balances
			for _, q := range []string{"pagina=1&limite=100", fmt.Sprintf("pagina=%d&limite=100&filtroSaldoEstoque=1", last), "pagina=2&limite=100&filtroSaldoEstoque=0"} {
				b.Run(q, func(b *testing.B) {
					for range b.N {
						req := httptest.NewRequest("GET", "/Api/v3/produtos?"+q, nil)
						req.Header.Set("Authorization", "Bearer "+access)
						req.Header.Set("enable-jwt", "1")
						rec := httptest.NewRecorder()
						s.ServeHTTP(rec, req)
						if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"id"`) {
							b.Fatalf("%d %s", rec.Code, rec.Body.String())
						}
					}
				})
			}
		})
	}
}
