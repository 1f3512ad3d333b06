package bling

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/cazbling/cazbling/pkg/cazbling"
	"github.com/cazbling/cazbling/pkg/httpx"
)

const companyJSON = `{"data":{"id":"abc123","nome":"Loja Exemplo LTDA","cnpj":"12.345.678/0001-90","email":"contato@exemplo.com.br"}}`

func serveCompany(f *fakeBling) {
	f.handle("GET /empresas/me/dados-basicos", func(w http.ResponseWriter, r recorded) { writeJSON(w, 200, companyJSON) })
}

func TestCompanyHeadersAndMapping(t *testing.T) {
	c, f, _, _ := newTestClient(t)
	serveCompany(f)
	got, err := c.Company(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := cazbling.Company{ID: "abc123", Name: "Loja Exemplo LTDA", Document: "12.345.678/0001-90", Email: "contato@exemplo.com.br"}
	if got != want {
		t.Errorf("Company = %+v, want %+v", got, want)
	}
	reqs := f.requests("GET", "/empresas/me/dados-basicos")
	if len(reqs) != 1 {
		t.Fatalf("%d requests", len(reqs))
	}
	if h := reqs[0].Header.Get("Authorization"); h != "Bearer access-0" {
		t.Errorf("Authorization = %q", h)
	}
}

func TestRateLimitAndRetries(t *testing.T) {
	const tooMany = `{"error":{"type":"TOO_MANY_REQUESTS","message":"Limite de requisições atingido.","description":"Limite de requisições por segundo atingido.","limit":3,"period":"second"}}`
	const daily = `{"error":{"type":"TOO_MANY_REQUESTS","message":"Limite de requisições atingido.","description":"Limite diário atingido.","limit":120000,"period":"day"}}`
	const serverErr = `{"error":{"type":"SERVER_ERROR","message":"Erro interno","description":"tente novamente"}}`
	tests := []struct {
		name      string
		answers   []func(w http.ResponseWriter) // one per request; the last repeats
		post      bool
		wantKind  cazbling.ErrorKind // "" for success
		wantCalls int
		minSleep  time.Duration
	}{
		{name: "429 per second retried then ok", answers: []func(http.ResponseWriter){
			func(w http.ResponseWriter) { writeJSON(w, 429, tooMany) },
			func(w http.ResponseWriter) { writeJSON(w, 200, companyJSON) },
		}, wantCalls: 2, minSleep: time.Second},
		{name: "429 of unknown period retried", answers: []func(http.ResponseWriter){
			func(w http.ResponseWriter) { writeJSON(w, 429, `<html>slow down</html>`) },
			func(w http.ResponseWriter) { writeJSON(w, 200, companyJSON) },
		}, wantCalls: 2, minSleep: time.Second},
		{name: "429 per day not retried", answers: []func(http.ResponseWriter){
			func(w http.ResponseWriter) { writeJSON(w, 429, daily) },
		}, wantKind: cazbling.KindDailyQuota, wantCalls: 1},
		{name: "5xx on GET retried then given up", answers: []func(http.ResponseWriter){
			func(w http.ResponseWriter) { writeJSON(w, 500, serverErr) },
		}, wantKind: cazbling.KindServer, wantCalls: 3},
		{name: "5xx on GET retried then ok", answers: []func(http.ResponseWriter){
			func(w http.ResponseWriter) { writeJSON(w, 502, `<html>bad gateway</html>`) },
			func(w http.ResponseWriter) { writeJSON(w, 200, companyJSON) },
		}, wantCalls: 2},
		{name: "400 never retried", answers: []func(http.ResponseWriter){
			func(w http.ResponseWriter) {
				writeJSON(w, 400, `{"error":{"type":"VALIDATION_ERROR","message":"Não foi possível salvar","description":"x","fields":[{"code":1,"msg":"Campo inválido","element":"numeroDocumento","namespace":"CONTATO"}]}}`)
			},
		}, wantKind: cazbling.KindValidation, wantCalls: 1},
		{name: "403 forbidden", answers: []func(http.ResponseWriter){
			func(w http.ResponseWriter) {
				writeJSON(w, 403, `{"error":{"type":"FORBIDDEN","message":"insufficient_scope","description":"sem permissão"}}`)
			},
		}, wantKind: cazbling.KindForbidden, wantCalls: 1},
		{name: "POST order 500 sent once", post: true, answers: []func(http.ResponseWriter){
			func(w http.ResponseWriter) { writeJSON(w, 500, serverErr) },
		}, wantKind: cazbling.KindServer, wantCalls: 1},
		{name: "POST order 429 per second retried", post: true, answers: []func(http.ResponseWriter){
			func(w http.ResponseWriter) { writeJSON(w, 429, tooMany) },
			func(w http.ResponseWriter) { writeJSON(w, 201, `{"data":{"id":9876543210}}`) },
		}, wantCalls: 2, minSleep: time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, f, _, sl := newTestClient(t)
			var mu sync.Mutex
			n := 0
			h := func(w http.ResponseWriter, r recorded) {
				mu.Lock()
				i := min(n, len(tt.answers)-1)
				n++
				mu.Unlock()
				tt.answers[i](w)
			}
			var err error
			if tt.post {
				f.handle("POST /pedidos/vendas", h)
				_, err = c.CreateOrder(context.Background(), sampleOrder())
			} else {
				f.handle("GET /empresas/me/dados-basicos", h)
				_, err = c.Company(context.Background())
			}
			if got := cazbling.KindOf(err); got != tt.wantKind || (tt.wantKind == "" && err != nil) {
				t.Fatalf("kind %q, want %q (err %v)", got, tt.wantKind, err)
			}
			if n != tt.wantCalls {
				t.Errorf("%d requests, want %d", n, tt.wantCalls)
			}
			waits := sl.all()
			if len(waits) != tt.wantCalls-1 {
				t.Errorf("%d sleeps, want %d", len(waits), tt.wantCalls-1)
			}
			for _, d := range waits {
				if d < tt.minSleep {
					t.Errorf("slept %v, want at least %v", d, tt.minSleep)
				}
			}
			var ae *cazbling.APIError
			if tt.wantKind != "" && errors.As(err, &ae) {
				if ae.API != "bling" || ae.Status == 0 || ae.Message == "" {
					t.Errorf("incomplete error: %+v", ae)
				}
				if tt.wantKind == cazbling.KindDailyQuota && (ae.RetryAfter <= 0 || ae.RetryAfter > 24*time.Hour) {
					t.Errorf("daily quota RetryAfter = %v", ae.RetryAfter)
				}
				if tt.wantKind == cazbling.KindValidation && (len(ae.Fields) != 1 || ae.Fields[0].Field != "CONTATO.numeroDocumento") {
					t.Errorf("fields = %+v", ae.Fields)
				}
			}
		})
	}
}

func TestDailyQuotaRetryAfterIsSaoPauloMidnight(t *testing.T) {
	// testNow is 09:00 in São Paulo: 15 h to midnight.
	if got := untilMidnightSaoPaulo(testNow); got != 15*time.Hour {
		t.Errorf("until midnight = %v, want 15h", got)
	}
}

func TestNetworkErrorKind(t *testing.T) {
	c, f, _, _ := newTestClient(t)
	f.handle("POST /pedidos/vendas", func(w http.ResponseWriter, r recorded) {
		hj, ok := w.(http.Hijacker)
		if !ok {
			t.Fatal("no hijacker")
		}
		conn, _, _ := hj.Hijack()
		conn.Close() // no answer at all
	})
	_, err := c.CreateOrder(context.Background(), sampleOrder())
	if cazbling.KindOf(err) != cazbling.KindNetwork {
		t.Fatalf("kind %q (%v)", cazbling.KindOf(err), err)
	}
	if n := len(f.requests("POST", "/pedidos/vendas")); n != 1 {
		t.Errorf("order POST sent %d times after a network error, want 1", n)
	}
}

func TestMalformedAnswers(t *testing.T) {
	tests := []struct {
		name     string
		status   int
		body     string
		wantKind cazbling.ErrorKind
	}{
		{"html on 200", 200, "<!DOCTYPE html><html><body>Manutenção</body></html>", cazbling.KindMalformed},
		{"truncated json", 200, `{"data":[{"id":1,"nome":"Camis`, cazbling.KindMalformed},
		{"empty body", 200, ``, cazbling.KindMalformed},
		{"wrong money", 200, dataList(`{"id":1,"codigo":"A","preco":"12,50"}`), cazbling.KindMalformed},
		{"html on 502", 502, "<html>Bad Gateway</html>", cazbling.KindServer},
		{"error of another shape", 400, `{"error":"invalid_request","error_description":"bad"}`, cazbling.KindValidation},
		{"fields not a list", 400, `{"error":{"type":"VALIDATION_ERROR","fields":"oops"}}`, cazbling.KindValidation},
		{"unknown status", 418, `teapot`, cazbling.KindOther},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, f, _, _ := newTestClient(t)
			f.handle("GET /produtos", func(w http.ResponseWriter, r recorded) { writeJSON(w, tt.status, tt.body) })
			_, _, err := c.ProductsPage(context.Background(), cazbling.ProductQuery{Stock: cazbling.StockPositive}, 1)
			var ae *cazbling.APIError
			if !errors.As(err, &ae) || ae.Kind != tt.wantKind {
				t.Fatalf("err = %v, want kind %q", err, tt.wantKind)
			}
			if ae.Op != "GET /produtos" || ae.Status != tt.status {
				t.Errorf("op %q status %d", ae.Op, ae.Status)
			}
			if len(ae.Message) > 300 {
				t.Errorf("message too long: %d", len(ae.Message))
			}
		})
	}
}

func TestProductNotFoundOpHasNoID(t *testing.T) {
	c, _, _, _ := newTestClient(t)
	_, err := c.Product(context.Background(), 16132345678)
	var ae *cazbling.APIError
	if !errors.As(err, &ae) || ae.Kind != cazbling.KindNotFound {
		t.Fatalf("err = %v", err)
	}
	if ae.Op != "GET /produtos/{id}" {
		t.Errorf("op = %q", ae.Op)
	}
}

func TestRedaction(t *testing.T) {
	var logs logBuffer
	f := newFake(t, "access-0", "refresh-0")
	serveCompany(f)
	f.handle("GET /produtos", func(w http.ResponseWriter, r recorded) {
		writeJSON(w, 400, `{"error":{"type":"VALIDATION_ERROR","message":"bad","description":"Authorization: Bearer `+strings.Repeat("z", 40)+`"}}`)
	})
	store := &memStore{tok: cazbling.Token{AccessToken: "access-0", RefreshToken: "refresh-0", Expiry: testNow.Add(-time.Hour)}}
	o := testOptions(f, store, &sleeps{})
	o.Logger = logs.logger()
	c, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	var errs []error
	if _, err := c.Company(context.Background()); err != nil { // refresh, then call
		t.Fatal(err)
	}
	_, _, err = c.ProductsPage(context.Background(), cazbling.ProductQuery{Stock: cazbling.StockPositive}, 1)
	errs = append(errs, err)
	// Revoke everything: 401, refresh with a dead refresh token → invalid_grant.
	f.mu.Lock()
	f.validAccess = map[string]bool{}
	f.refresh = "nobody-has-this"
	f.mu.Unlock()
	_, err = c.Company(context.Background())
	errs = append(errs, err)
	_, err = ExchangeCode(context.Background(), o, "bad-code")
	errs = append(errs, err)
	f.tokenHook = func(w http.ResponseWriter, r recorded) {
		// A token answer cut short: the JWT is never closed.
		writeJSON(w, 200, `{"access_token":"`+strings.Repeat("T", 2500))
	}
	_, err = RefreshToken(context.Background(), o, "refresh-secret-xyz")
	errs = append(errs, err)

	issued := store.current()
	secrets := []string{testClientSecret, "refresh-0", "refresh-1-rotated", "refresh-secret-xyz", issued.AccessToken[:40], strings.Repeat("J", 40), strings.Repeat("T", 40), strings.Repeat("z", 40)}
	out := logs.String()
	if !strings.Contains(out, "level=DEBUG") {
		t.Fatalf("no debug lines captured:\n%s", out)
	}
	for _, s := range secrets {
		if strings.Contains(out, s) {
			t.Errorf("log holds secret %q...", s[:min(len(s), 12)])
		}
		for _, err := range errs {
			if err == nil {
				t.Fatal("expected an error")
			}
			if strings.Contains(err.Error(), s) {
				t.Errorf("error %q holds secret %q", err, s[:min(len(s), 12)])
			}
		}
	}
}

func TestNewValidates(t *testing.T) {
	store := &memStore{}
	tests := []struct {
		name string
		o    Options
	}{
		{"plain http remote", Options{BaseURL: "http://api.bling.com.br/Api/v3", ClientID: "a", ClientSecret: "b", Tokens: store}},
		{"not a url", Options{BaseURL: "api.bling.com.br", ClientID: "a", ClientSecret: "b", Tokens: store}},
		{"no store", Options{BaseURL: "https://api.bling.com.br/Api/v3", ClientID: "a", ClientSecret: "b"}},
		{"no secret", Options{BaseURL: "https://api.bling.com.br/Api/v3", ClientID: "a", Tokens: store}},
	}
	for _, tt := range tests {
		if _, err := New(tt.o); err == nil {
			t.Errorf("%s: New accepted it", tt.name)
		}
	}
	if _, err := New(Options{BaseURL: "https://api.bling.com.br/Api/v3/", ClientID: "a", ClientSecret: "b", Tokens: store}); err != nil {
		t.Errorf("real base refused: %v", err)
	}
}

func TestLimitersAreWaitedOn(t *testing.T) {
	closed := func() *rate.Limiter { return rate.NewLimiter(0, 0) } // every Wait fails at once
	// full is a window whose one slot is used for the next hour.
	full := func() *httpx.Window {
		w := httpx.NewWindow(1, time.Hour)
		if err := (&httpx.Gate{Windows: []*httpx.Window{w}}).Wait(context.Background()); err != nil {
			t.Fatal(err)
		}
		return w
	}
	tests := []struct {
		name          string
		mod           func(o *Options)
		wantAPI       int
		wantTokenCall int
	}{
		{"IP window holds API and token calls", func(o *Options) { o.IPWindow = full() }, 0, 0},
		{"account limiter holds API calls", func(o *Options) { o.AccountLimiter = closed() }, 0, 1},
		{"token window holds token calls", func(o *Options) { o.TokenWindow = full() }, 0, 0},
		{"open limits", func(o *Options) {
			o.IPWindow, o.TokenWindow = httpx.NewWindow(10, time.Second), httpx.NewWindow(10, time.Second)
		}, 1, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t, "access-0", "refresh-0")
			serveCompany(f)
			store := &memStore{tok: cazbling.Token{AccessToken: "access-0", RefreshToken: "refresh-0", Expiry: testNow}} // needs a refresh
			o := testOptions(f, store, &sleeps{})
			tt.mod(&o)
			c, err := New(o)
			if err != nil {
				t.Fatal(err)
			}
			// A held call waits for its slot until the context ends.
			ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
			defer cancel()
			_, err = c.Company(ctx)
			if (err == nil) != (tt.wantAPI == 1) {
				t.Errorf("err = %v", err)
			}
			if n := len(f.requests("GET", "/empresas/me/dados-basicos")); n != tt.wantAPI {
				t.Errorf("%d API requests, want %d", n, tt.wantAPI)
			}
			if n := len(f.requests("POST", "/oauth/token")); n != tt.wantTokenCall {
				t.Errorf("%d token requests, want %d", n, tt.wantTokenCall)
			}
		})
	}
}
