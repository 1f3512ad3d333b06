package blingsim

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"
)

// clock is a settable sandbox clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

const (
	clientA = "client-a"
	secretA = "secret-a"
	clientB = "client-b"
	secretB = "secret-b"
)

type env struct {
	t     *testing.T
	sim   *Sim
	srv   *httptest.Server
	clock *clock
}

func newEnv(t *testing.T, opts Options) *env {
	t.Helper()
	c := &clock{t: time.Date(2026, 3, 10, 15, 0, 0, 0, time.UTC)}
	if opts.Now == nil {
		opts.Now = c.Now
	}
	if opts.RatePerSecond == 0 {
		opts.RatePerSecond = -1 // most tests are not about limits
	}
	s := New(opts)
	s.AddAccount(Account{ClientID: clientA, ClientSecret: secretA, CompanyName: "Loja A Ltda", CNPJ: "11222333000181"})
	s.AddAccount(Account{ClientID: clientB, ClientSecret: secretB, CompanyName: "Loja B Ltda", CNPJ: "11444777000161"})
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return &env{t: t, sim: s, srv: srv, clock: c}
}

type resp struct {
	status int
	header http.Header
	raw    []byte
	body   map[string]any
}

func (r resp) errType() string {
	e, _ := r.body["error"].(map[string]any)
	s, _ := e["type"].(string)
	return s
}

func (r resp) errField() map[string]any {
	e, _ := r.body["error"].(map[string]any)
	return e
}

func (r resp) data() []any {
	d, _ := r.body["data"].([]any)
	return d
}

func (r resp) item() map[string]any {
	d, _ := r.body["data"].(map[string]any)
	return d
}

// fieldElements lists error.fields[].element.
func (r resp) fieldElements() []string {
	var out []string
	fs, _ := r.errField()["fields"].([]any)
	for _, f := range fs {
		m, _ := f.(map[string]any)
		el, _ := m["element"].(string)
		out = append(out, el)
	}
	return out
}

func (e *env) send(req *http.Request) resp {
	e.t.Helper()
	res, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	out := resp{status: res.StatusCode, header: res.Header, raw: raw}
	_ = json.Unmarshal(raw, &out.body)
	return out
}

// call sends an API request with a bearer token and enable-jwt.
func (e *env) call(method, path, token string, body any) resp {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		switch b := body.(type) {
		case string:
			rd = strings.NewReader(b)
		default:
			raw, _ := json.Marshal(b)
			rd = strings.NewReader(string(raw))
		}
	}
	req, _ := http.NewRequest(method, e.srv.URL+"/Api/v3"+path, rd)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("enable-jwt", "1")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return e.send(req)
}

func (e *env) tokenCall(id, secret string, form url.Values, jwt bool) resp {
	e.t.Helper()
	req, _ := http.NewRequest("POST", e.srv.URL+"/Api/v3/oauth/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if id != "" {
		req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(id+":"+secret)))
	}
	if jwt {
		req.Header.Set("enable-jwt", "1")
	}
	return e.send(req)
}

// login exchanges a fresh code and returns the access and refresh tokens.
func (e *env) login(id, secret string) (access, refresh string) {
	e.t.Helper()
	r := e.tokenCall(id, secret, url.Values{"grant_type": {"authorization_code"}, "code": {e.sim.IssueCode(id)}}, true)
	if r.status != 200 {
		e.t.Fatalf("login: %d %s", r.status, r.raw)
	}
	return r.body["access_token"].(string), r.body["refresh_token"].(string)
}

func TestTokenRotation(t *testing.T) {
	e := newEnv(t, Options{})
	_, rt1 := e.login(clientA, secretA)

	r := e.tokenCall(clientA, secretA, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt1}}, true)
	if r.status != 200 {
		t.Fatalf("refresh: %d %s", r.status, r.raw)
	}
	if r.body["token_type"] != "Bearer" || r.body["expires_in"] != float64(21600) || r.body["scope"] == "" {
		t.Errorf("token reply = %s", r.raw)
	}
	rt2 := r.body["refresh_token"].(string)
	if rt2 == rt1 {
		t.Fatal("refresh token did not rotate")
	}
	// The old refresh token is dead at once.
	r = e.tokenCall(clientA, secretA, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt1}}, true)
	if r.status != 400 || r.errType() != "invalid_grant" {
		t.Fatalf("old refresh token: %d %s", r.status, r.raw)
	}
	// The new one works, and the access token it gives is accepted.
	r = e.tokenCall(clientA, secretA, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt2}}, true)
	if r.status != 200 {
		t.Fatalf("new refresh token: %d %s", r.status, r.raw)
	}
	if got := e.call("GET", "/empresas/me/dados-basicos", r.body["access_token"].(string), nil); got.status != 200 || got.item()["nome"] != "Loja A Ltda" {
		t.Fatalf("company: %d %s", got.status, got.raw)
	}
	// A refresh token of another client is refused.
	_, rtB := e.login(clientB, secretB)
	r = e.tokenCall(clientA, secretA, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rtB}}, true)
	if r.errType() != "invalid_grant" {
		t.Fatalf("foreign refresh token: %d %s", r.status, r.raw)
	}
}

func TestAuthorizationCode(t *testing.T) {
	e := newEnv(t, Options{})
	code := e.sim.IssueCode(clientA)
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}}
	first := e.tokenCall(clientA, secretA, form, true)
	if first.status != 200 {
		t.Fatalf("exchange: %d %s", first.status, first.raw)
	}
	access := first.body["access_token"].(string)
	if parts := strings.Split(access, "."); len(parts) != 3 || len(access) < 2500 || len(access) > 4000 {
		t.Errorf("JWT access token: %d chars, %d parts", len(access), len(parts))
	}
	// Reuse: invalid_grant, and what the code granted is revoked.
	again := e.tokenCall(clientA, secretA, form, true)
	if again.status != 400 || again.errType() != "invalid_grant" {
		t.Fatalf("reused code: %d %s", again.status, again.raw)
	}
	if r := e.call("GET", "/depositos", access, nil); r.status != 401 || r.errType() != "invalid_token" {
		t.Fatalf("token after code reuse: %d %s", r.status, r.raw)
	}
	rt := first.body["refresh_token"].(string)
	if r := e.tokenCall(clientA, secretA, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, true); r.errType() != "invalid_grant" {
		t.Fatalf("refresh after code reuse: %d %s", r.status, r.raw)
	}

	// Expiry: a code lives one minute of sandbox time.
	code = e.sim.IssueCode(clientA)
	e.clock.Add(61 * time.Second)
	if r := e.tokenCall(clientA, secretA, url.Values{"grant_type": {"authorization_code"}, "code": {code}}, true); r.status != 400 || r.errType() != "invalid_grant" {
		t.Fatalf("expired code: %d %s", r.status, r.raw)
	}
	// Without enable-jwt the token is short and opaque.
	r := e.tokenCall(clientA, secretA, url.Values{"grant_type": {"authorization_code"}, "code": {e.sim.IssueCode(clientA)}}, false)
	if tok, _ := r.body["access_token"].(string); r.status != 200 || strings.Contains(tok, ".") {
		t.Fatalf("plain token: %d %s", r.status, r.raw)
	}
}

func TestAuthorizeRedirect(t *testing.T) {
	e := newEnv(t, Options{})
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Get(e.srv.URL + "/Api/v3/oauth/authorize?response_type=code&client_id=" + clientA + "&state=xyz")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	loc, _ := url.Parse(res.Header.Get("Location"))
	if res.StatusCode != 302 || loc.Path != "/Api/v3/oauth/callback" || loc.Query().Get("state") != "xyz" || loc.Query().Get("code") == "" {
		t.Fatalf("authorize: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	page, _ := http.Get(e.srv.URL + loc.RequestURI())
	text, _ := io.ReadAll(page.Body)
	page.Body.Close()
	if !strings.Contains(string(text), loc.Query().Get("code")) {
		t.Fatalf("callback page lacks the code: %s", text)
	}
	r := e.tokenCall(clientA, secretA, url.Values{"grant_type": {"authorization_code"}, "code": {loc.Query().Get("code")}}, true)
	if r.status != 200 {
		t.Fatalf("exchange of redirected code: %d %s", r.status, r.raw)
	}
}

func TestTokenClientAuth(t *testing.T) {
	e := newEnv(t, Options{})
	tests := []struct {
		name     string
		id, sec  string
		form     url.Values
		status   int
		wantType string
	}{
		{"no basic auth", "", "", url.Values{"grant_type": {"authorization_code"}, "code": {"x"}, "client_id": {clientA}, "client_secret": {secretA}}, 401, "invalid_client"},
		{"secret in body", clientA, secretA, url.Values{"grant_type": {"authorization_code"}, "code": {"x"}, "client_secret": {secretA}}, 401, "invalid_client"},
		{"wrong secret", clientA, "nope", url.Values{"grant_type": {"authorization_code"}, "code": {"x"}}, 401, "invalid_client"},
		{"unknown code", clientA, secretA, url.Values{"grant_type": {"authorization_code"}, "code": {"x"}}, 400, "invalid_grant"},
		{"bad grant type", clientA, secretA, url.Values{"grant_type": {"password"}}, 400, "unsupported_grant_type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.tokenCall(tt.id, tt.sec, tt.form, true)
			if r.status != tt.status || r.errType() != tt.wantType {
				t.Fatalf("got %d %s", r.status, r.raw)
			}
			if e := r.errField(); e["message"] == nil || e["description"] == nil {
				t.Fatalf("error body lacks message/description: %s", r.raw)
			}
		})
	}
}

func TestTokenCallsPerIP(t *testing.T) {
	e := newEnv(t, Options{})
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"dead"}}
	for i := 0; i < 20; i++ {
		if r := e.tokenCall(clientA, secretA, form, true); r.status != 400 {
			t.Fatalf("call %d: %d %s", i+1, r.status, r.raw)
		}
	}
	r := e.tokenCall(clientA, secretA, form, true)
	if r.status != 429 || r.errType() != "TOO_MANY_REQUESTS" {
		t.Fatalf("21st token call: %d %s", r.status, r.raw)
	}
	if got := e.sim.Stats().TokenRateLimited; got != 1 {
		t.Errorf("TokenRateLimited = %d", got)
	}
	e.clock.Add(time.Minute)
	if r := e.tokenCall(clientA, secretA, form, true); r.status != 400 {
		t.Fatalf("after a minute: %d %s", r.status, r.raw)
	}
}

func TestAccessTokenExpiry(t *testing.T) {
	e := newEnv(t, Options{TokenTTL: time.Hour})
	access, _ := e.login(clientA, secretA)
	if r := e.call("GET", "/depositos", access, nil); r.status != 200 {
		t.Fatalf("fresh token: %d %s", r.status, r.raw)
	}
	e.clock.Add(time.Hour)
	r := e.call("GET", "/depositos", access, nil)
	if r.status != 401 || r.errType() != "invalid_token" {
		t.Fatalf("expired token: %d %s", r.status, r.raw)
	}
	for _, auth := range []string{"", "Bearer nope", "Basic abc"} {
		req, _ := http.NewRequest("GET", e.srv.URL+"/Api/v3/depositos", nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		if r := e.send(req); r.status != 401 || r.errType() != "invalid_token" {
			t.Fatalf("auth %q: %d %s", auth, r.status, r.raw)
		}
	}
}

func TestMissingJWTHeaderCounted(t *testing.T) {
	e := newEnv(t, Options{})
	access, _ := e.login(clientA, secretA)
	e.call("GET", "/depositos", access, nil)
	if n := e.sim.Stats().MissingJWTHeader; n != 0 {
		t.Fatalf("MissingJWTHeader = %d with the header sent", n)
	}
	req, _ := http.NewRequest("GET", e.srv.URL+"/Api/v3/depositos", nil)
	req.Header.Set("Authorization", "Bearer "+access)
	if r := e.send(req); r.status != 200 {
		t.Fatalf("%d", r.status)
	}
	if n := e.sim.Stats().MissingJWTHeader; n != 1 {
		t.Fatalf("MissingJWTHeader = %d, want 1", n)
	}
}

func TestRateLimitPerAccount(t *testing.T) {
	e := newEnv(t, Options{RatePerSecond: 3})
	a, _ := e.login(clientA, secretA)
	b, _ := e.login(clientB, secretB)
	for i := 0; i < 3; i++ {
		if r := e.call("GET", "/depositos", a, nil); r.status != 200 {
			t.Fatalf("A request %d: %d", i+1, r.status)
		}
		e.clock.Add(100 * time.Millisecond)
	}
	// Account B has its own window.
	for i := 0; i < 3; i++ {
		if r := e.call("GET", "/depositos", b, nil); r.status != 200 {
			t.Fatalf("B request %d: %d %s", i+1, r.status, r.raw)
		}
	}
	r := e.call("GET", "/depositos", a, nil)
	if r.status != 429 {
		t.Fatalf("4th request of A within a second: %d", r.status)
	}
	got := r.errField()
	if got["type"] != "TOO_MANY_REQUESTS" || got["limit"] != float64(3) || got["period"] != "second" || got["message"] == "" {
		t.Fatalf("429 body = %s", r.raw)
	}
	// The 429 did not take a slot: once the first request is a second old, one more fits.
	e.clock.Add(700 * time.Millisecond) // first request now exactly 1 s old
	if r := e.call("GET", "/depositos", a, nil); r.status != 200 {
		t.Fatalf("after the window moved: %d %s", r.status, r.raw)
	}
	if r := e.call("GET", "/depositos", a, nil); r.status != 429 {
		t.Fatalf("window should be full again: %d", r.status)
	}
	if s := e.sim.Stats(); s.RateLimitedSecond != 2 {
		t.Errorf("RateLimitedSecond = %d", s.RateLimitedSecond)
	}
}

func TestSetRatePerSecond(t *testing.T) {
	e := newEnv(t, Options{}) // unlimited
	a, _ := e.login(clientA, secretA)
	for i := range 10 {
		if r := e.call("GET", "/depositos", a, nil); r.status != 200 {
			t.Fatalf("unlimited, request %d: %d %s", i+1, r.status, r.raw)
		}
	}
	// The requests made while unlimited do not count against the new limit.
	e.sim.SetRatePerSecond(3)
	for i := range 3 {
		if r := e.call("GET", "/depositos", a, nil); r.status != 200 {
			t.Fatalf("3/s, request %d: %d %s", i+1, r.status, r.raw)
		}
	}
	r := e.call("GET", "/produtos?filtroSaldoEstoque=0", a, nil)
	if r.status != 429 || r.errType() != "TOO_MANY_REQUESTS" || r.errField()["period"] != "second" || r.errField()["limit"] != float64(3) {
		t.Fatalf("4th request in the second: %d %s", r.status, r.raw)
	}
	e.sim.SetRatePerSecond(0)
	for i := range 10 {
		if r := e.call("GET", "/depositos", a, nil); r.status != 200 {
			t.Fatalf("limit removed, request %d: %d %s", i+1, r.status, r.raw)
		}
	}
	if got := e.sim.Stats().RateLimitedSecond; got != 1 {
		t.Errorf("RateLimitedSecond = %d, want 1", got)
	}
}

// TestSetRatePerSecondConcurrent changes the limit while requests are in flight (for
// the race detector) and then checks that the last setting holds.
func TestSetRatePerSecondConcurrent(t *testing.T) {
	e := newEnv(t, Options{})
	a, _ := e.login(clientA, secretA)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 10 {
				req, _ := http.NewRequest("GET", e.srv.URL+"/Api/v3/depositos", nil)
				req.Header.Set("Authorization", "Bearer "+a)
				if res, err := e.srv.Client().Do(req); err == nil {
					res.Body.Close()
				}
			}
		})
	}
	for i := range 20 {
		e.sim.SetRatePerSecond(i % 4)
	}
	wg.Wait()
	e.clock.Add(time.Second)
	e.sim.SetRatePerSecond(2)
	got := []int{e.call("GET", "/depositos", a, nil).status, e.call("GET", "/depositos", a, nil).status, e.call("GET", "/depositos", a, nil).status}
	if got[0] != 200 || got[1] != 200 || got[2] != 429 {
		t.Fatalf("statuses at 2/s: %v", got)
	}
}

func TestSetTokenCallsPerMinute(t *testing.T) {
	e := newEnv(t, Options{})
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"dead"}}
	e.sim.SetTokenCallsPerMinute(2)
	for i := range 2 {
		if r := e.tokenCall(clientA, secretA, form, true); r.status != 400 {
			t.Fatalf("call %d: %d %s", i+1, r.status, r.raw)
		}
	}
	if r := e.tokenCall(clientA, secretA, form, true); r.status != 429 || r.errField()["limit"] != float64(2) {
		t.Fatalf("3rd token call at 2/min: %d %s", r.status, r.raw)
	}
	e.sim.SetTokenCallsPerMinute(-1)
	for i := range 25 {
		if r := e.tokenCall(clientA, secretA, form, true); r.status != 400 {
			t.Fatalf("unlimited, call %d: %d %s", i+1, r.status, r.raw)
		}
	}
}

func TestDailyQuota(t *testing.T) {
	e := newEnv(t, Options{DailyQuota: 5, TokenTTL: 48 * time.Hour})
	a, _ := e.login(clientA, secretA)
	for i := 0; i < 5; i++ {
		if r := e.call("GET", "/depositos", a, nil); r.status != 200 {
			t.Fatalf("request %d: %d", i+1, r.status)
		}
	}
	r := e.call("GET", "/depositos", a, nil)
	if r.status != 429 || r.errField()["period"] != "day" || r.errField()["limit"] != float64(5) {
		t.Fatalf("over quota: %d %s", r.status, r.raw)
	}
	// Midnight in São Paulo (03:00 UTC) resets the quota; the clock is at 15:00 UTC.
	e.clock.Add(11 * time.Hour)
	if r := e.call("GET", "/depositos", a, nil); r.status != 429 {
		t.Fatalf("before midnight SP: %d", r.status)
	}
	e.clock.Add(1*time.Hour + time.Second)
	if r := e.call("GET", "/depositos", a, nil); r.status != 200 {
		t.Fatalf("after midnight SP: %d %s", r.status, r.raw)
	}
}

func TestUnknownRoute(t *testing.T) {
	e := newEnv(t, Options{})
	a, _ := e.login(clientA, secretA)
	if r := e.call("GET", "/nada", a, nil); r.status != 404 || r.errType() != "RESOURCE_NOT_FOUND" {
		t.Fatalf("%d %s", r.status, r.raw)
	}
	if r := e.call("GET", "/produtos/123", a, nil); r.status != 404 || r.errType() != "RESOURCE_NOT_FOUND" {
		t.Fatalf("%d %s", r.status, r.raw)
	}
}

func TestNumberJSON(t *testing.T) {
	b, _ := json.Marshal(struct{ P Number }{MustNumber("129.90")})
	if string(b) != `{"P":129.9}` {
		t.Fatalf("marshal = %s", b)
	}
	var v struct{ P Number }
	if err := json.Unmarshal([]byte(`{"P":0.1}`), &v); err != nil || !v.P.Equal(decimal.RequireFromString("0.1")) {
		t.Fatalf("unmarshal = %v %v", v.P, err)
	}
	if err := json.Unmarshal([]byte(`{"P":"0.1"}`), &v); err == nil {
		t.Fatal("a quoted number was accepted")
	}
}

func TestValidators(t *testing.T) {
	for _, tt := range []struct {
		doc  string
		cpf  bool
		cnpj bool
	}{
		{"52998224725", true, false},
		{"52998224724", false, false},
		{"11111111111", false, false},
		{"11222333000181", false, true},
		{"11222333000182", false, false},
		{"5299822472", false, false},
		{"5299822472a", false, false},
	} {
		if ValidCPF(tt.doc) != tt.cpf || ValidCNPJ(tt.doc) != tt.cnpj {
			t.Errorf("%s: cpf %v cnpj %v", tt.doc, ValidCPF(tt.doc), ValidCNPJ(tt.doc))
		}
	}
	if got := CPFCheckDigits("529982247"); got != "25" {
		t.Errorf("CPFCheckDigits = %s", got)
	}
	if got := CNPJCheckDigits("112223330001"); got != "81" {
		t.Errorf("CNPJCheckDigits = %s", got)
	}
	for gtin, ok := range map[string]bool{"7891000315507": true, "7891000315508": false, "96385074": true, "036000291452": true, "123": false} {
		if ValidGTIN(gtin) != ok {
			t.Errorf("ValidGTIN(%s) = %v", gtin, !ok)
		}
	}
}

// With a redirect URI set, authorize asks first; Autorizar sends a code and the state
// there, Negar sends error=access_denied and the state, and no code.
func TestAuthorizeConsentAllowAndDeny(t *testing.T) {
	e := newEnv(t, Options{})
	e.sim.SetRedirectURI("http://127.0.0.1:9/oauth/bling/callback?keep=1")
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	base := e.srv.URL + "/Api/v3/oauth/authorize?response_type=code&client_id=" + clientA + "&state=st"
	res, err := client.Get(base)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(string(body), `id="allow"`) || !strings.Contains(string(body), `id="deny"`) {
		t.Fatalf("consent page: %d %s", res.StatusCode, body)
	}
	for _, tc := range []struct{ decision, want string }{{"allow", "code"}, {"deny", "error"}} {
		res, err := client.Get(base + "&decision=" + tc.decision)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		loc, _ := url.Parse(res.Header.Get("Location"))
		q := loc.Query()
		if res.StatusCode != 302 || loc.Host != "127.0.0.1:9" || loc.Path != "/oauth/bling/callback" || q.Get("state") != "st" || q.Get("keep") != "1" || q.Get(tc.want) == "" {
			t.Fatalf("%s: %d %s", tc.decision, res.StatusCode, loc)
		}
		if tc.decision == "deny" && (q.Get("error") != "access_denied" || q.Has("code")) {
			t.Fatalf("deny: %s", loc)
		}
	}
}
