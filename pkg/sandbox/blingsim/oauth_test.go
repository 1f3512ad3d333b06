package blingsim

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

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
