package panel

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/cazbling/cazbling/pkg/cazbling"
)

func TestHealthzAndHeaders(t *testing.T) {
	e := newTestEnv(t)
	res := e.do("GET", "/healthz", nil, nil)
	if res.Code != 200 || strings.TrimSpace(res.Body.String()) != "ok" {
		t.Fatalf("healthz: %d %q", res.Code, res.Body)
	}
	c := e.login("ana")
	res = e.do("GET", "/", c, nil)
	h := res.Header()
	for name, want := range map[string]string{
		"X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin",
		"X-Frame-Options": "DENY", "Cache-Control": "no-store",
	} {
		if h.Get(name) != want {
			t.Errorf("%s = %q, want %q", name, h.Get(name), want)
		}
	}
	if csp := h.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("CSP = %q", csp)
	}

	framed := newTestEnv(t, func(c *Config) { c.FrameAncestors = []string{"https://loja.cazco.test"} })
	res = framed.do("GET", "/healthz", nil, nil)
	if csp := res.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors https://loja.cazco.test") || res.Header().Get("X-Frame-Options") != "" {
		t.Errorf("framed CSP = %q, XFO %q", csp, res.Header().Get("X-Frame-Options"))
	}
}

func TestConfigRefusals(t *testing.T) {
	e := newTestEnv(t)
	for _, bad := range []Config{
		{PublicURL: "http://painel.example.com"}, // plain http off loopback
		{PublicURL: "https://painel.test/sub"},   // not an origin
		{PublicURL: "painel.test"},               // not absolute
		{PublicURL: "https://painel.test", FrameAncestors: []string{"*"}},
		{PublicURL: "https://painel.test", FrameAncestors: []string{"https://a.test; script-src *"}},
	} {
		bad.Store, bad.Connector = e.store, e.conn
		if _, err := New(bad); err == nil {
			t.Errorf("New(%+v) accepted", bad)
		}
	}
	if _, err := New(Config{PublicURL: "http://127.0.0.1:8090", Store: e.store, Connector: e.conn}); err != nil {
		t.Errorf("loopback http refused: %v", err)
	}
}

func TestInviteIsSingleUseAndSetsASafeCookie(t *testing.T) {
	e := newTestEnv(t)
	tok := e.invite("ana", time.Hour)
	res := e.do("GET", "/invite/"+tok, nil, nil)
	if res.Code != http.StatusSeeOther || res.Header().Get("Location") != "/" {
		t.Fatalf("invite: %d %s", res.Code, res.Header())
	}
	var c *http.Cookie
	for _, k := range res.Result().Cookies() {
		if k.Name == sessionCookie {
			c = k
		}
	}
	if c == nil || !c.HttpOnly || !c.Secure || c.SameSite != http.SameSiteLaxMode || len(c.Value) < 40 {
		t.Fatalf("cookie: %+v", c)
	}
	if res := e.do("GET", "/", c, nil); res.Code != 200 {
		t.Fatalf("home with the session: %d", res.Code)
	}
	// Reused, unknown, expired: a clear page and no session.
	expired := e.invite("bia", time.Minute)
	e.advance(2 * time.Minute)
	for name, path := range map[string]string{"reused": "/invite/" + tok, "unknown": "/invite/" + NewToken(), "expired": "/invite/" + expired} {
		res := e.do("GET", path, nil, nil)
		if res.Code != http.StatusNotFound || !strings.Contains(res.Body.String(), "Link de convite inválido") || len(res.Result().Cookies()) != 0 {
			t.Errorf("%s invite: %d %s", name, res.Code, res.Body)
		}
	}
	// The invite token never reaches the log.
	if strings.Contains(e.logs.String(), tok) {
		t.Error("the invite token was logged")
	}
	// http public URL on loopback: no Secure flag (the browser would drop it).
	plain := newTestEnv(t, func(c *Config) { c.PublicURL = "http://127.0.0.1:8090" })
	res = plain.do("GET", "/invite/"+plain.invite("ana", time.Hour), nil, nil)
	if cs := res.Result().Cookies(); len(cs) != 1 || cs[0].Secure {
		t.Errorf("loopback cookie: %+v", cs)
	}
}

func TestNoSessionAndLogout(t *testing.T) {
	e := newTestEnv(t)
	for _, p := range []string{"/", "/logs", "/logs.csv", "/status.json", "/oauth/bling/callback?code=x&state=y"} {
		if res := e.do("GET", p, nil, nil); res.Code != http.StatusUnauthorized || !strings.Contains(res.Body.String(), "Entre pelo seu link") {
			t.Errorf("%s without session: %d", p, res.Code)
		}
	}
	forged := &http.Cookie{Name: sessionCookie, Value: NewToken()}
	if res := e.do("GET", "/", forged, nil); res.Code != http.StatusUnauthorized {
		t.Errorf("forged session: %d", res.Code)
	}
	c := e.login("ana")
	if res := e.post("/logout", c, nil); res.Code != 200 {
		t.Fatalf("logout: %d", res.Code)
	}
	if res := e.do("GET", "/", c, nil); res.Code != http.StatusUnauthorized {
		t.Errorf("after logout: %d", res.Code)
	}
	// Idle expiry: 12 h without use.
	c = e.login("ana")
	e.advance(SessionIdle + time.Minute)
	if res := e.do("GET", "/", c, nil); res.Code != http.StatusUnauthorized {
		t.Errorf("idle session: %d", res.Code)
	}
}

func TestCSRFAndOrigin(t *testing.T) {
	e := newTestEnv(t)
	a, b := e.login("ana"), e.login("bia")
	e.setUpCazco(a)
	// Make ana active so that pause would work.
	if err := e.store.SetTenantStatus(context.Background(), "ana", cazbling.TenantActive, time.Time{}, ""); err != nil {
		t.Fatal(err)
	}
	for name, form := range map[string]url.Values{
		"no token":              {},
		"other session's token": {csrfField: {e.csrf(b)}},
		"garbage":               {csrfField: {"00ff"}},
	} {
		res := e.do("POST", "/pause", a, form)
		if res.Code != http.StatusForbidden {
			t.Errorf("%s: %d", name, res.Code)
		}
	}
	if st := e.tenant("ana").Status; st != cazbling.TenantActive {
		t.Fatalf("status changed by a refused POST: %s", st)
	}
	form := url.Values{csrfField: {e.csrf(a)}}
	if res := e.do("POST", "/pause", a, form, "Origin", "https://evil.test"); res.Code != http.StatusForbidden {
		t.Errorf("foreign Origin: %d", res.Code)
	}
	if res := e.do("POST", "/pause", a, form, "Origin", "https://painel.test"); res.Code != http.StatusSeeOther {
		t.Fatalf("own Origin: %d %s", res.Code, res.Body)
	}
	if st := e.tenant("ana").Status; st != cazbling.TenantPausedBySeller {
		t.Fatalf("after pause: %s", st)
	}
	if res := e.post("/pause", a, nil); res.Code != http.StatusConflict {
		t.Errorf("pause twice: %d", res.Code)
	}
	if res := e.post("/resume", a, nil); res.Code != http.StatusSeeOther || e.tenant("ana").Status != cazbling.TenantActive {
		t.Errorf("resume: %d %s", res.Code, e.tenant("ana").Status)
	}
	// Resume cannot make an invited tenant active.
	if res := e.post("/resume", b, nil); res.Code != http.StatusConflict || e.tenant("bia").Status != cazbling.TenantInvited {
		t.Errorf("resume of invited: %d %s", res.Code, e.tenant("bia").Status)
	}
}

func TestOversizedBody(t *testing.T) {
	e := newTestEnv(t)
	c := e.login("ana")
	form := url.Values{csrfField: {e.csrf(c)}, "cazco_url": {"https://x.test"}, "cazco_api_key": {strings.Repeat("k", MaxBodyBytes)}}
	res := e.do("POST", "/cazco", c, form)
	if res.Code != http.StatusRequestEntityTooLarge {
		t.Fatalf("oversized: %d", res.Code)
	}
	if checks, _, _ := e.conn.counts(); checks != 0 || e.tenant("ana").CazcoURL != "" {
		t.Fatal("an oversized body reached CaZco or the store")
	}
}

func TestLoginRateLimit(t *testing.T) {
	e := newTestEnv(t, func(c *Config) { c.LoginRate = 2 })
	for i := range 3 {
		res := e.do("GET", "/invite/"+NewToken(), nil, nil)
		want := http.StatusNotFound
		if i == 2 {
			want = http.StatusTooManyRequests
		}
		if res.Code != want {
			t.Errorf("attempt %d: %d, want %d", i, res.Code, want)
		}
	}
}

func ssoToken(t *testing.T, secret []byte, method jwt.SigningMethod, claims jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(method, claims).SignedString(secret)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSSO(t *testing.T) {
	secret := []byte("0123456789abcdef0123456789abcdef")
	e := newTestEnv(t, func(c *Config) { c.SSOSecret = secret })
	now := e.clock()
	claims := func(sub, jti string, exp time.Duration) jwt.MapClaims {
		return jwt.MapClaims{"sub": sub, "jti": jti, "exp": now.Add(exp).Unix()}
	}
	good := ssoToken(t, secret, jwt.SigningMethodHS256, claims("ana", "j-1", 2*time.Minute))
	res := e.do("GET", "/sso?token="+good, nil, nil)
	if res.Code != http.StatusSeeOther || len(res.Result().Cookies()) != 1 {
		t.Fatalf("good token: %d %s", res.Code, res.Body)
	}
	if e.tenant("ana").Status != cazbling.TenantInvited {
		t.Fatal("a new seller from CaZco is not registered as invited")
	}
	for name, tok := range map[string]string{
		"reused jti":      good,
		"wrong signature": ssoToken(t, []byte("another-secret-another-secret-xx"), jwt.SigningMethodHS256, claims("ana", "j-2", time.Minute)),
		"exp too far":     ssoToken(t, secret, jwt.SigningMethodHS256, claims("ana", "j-3", time.Hour)),
		"expired":         ssoToken(t, secret, jwt.SigningMethodHS256, claims("ana", "j-4", -time.Hour)),
		"no exp":          ssoToken(t, secret, jwt.SigningMethodHS256, jwt.MapClaims{"sub": "ana", "jti": "j-5"}),
		"no jti":          ssoToken(t, secret, jwt.SigningMethodHS256, jwt.MapClaims{"sub": "ana", "exp": now.Add(time.Minute).Unix()}),
		"HS512":           ssoToken(t, secret, jwt.SigningMethodHS512, claims("ana", "j-6", time.Minute)),
		"bad sub":         ssoToken(t, secret, jwt.SigningMethodHS256, claims("../x", "j-7", time.Minute)),
		"alg none":        noneToken(claims("ana", "j-8", time.Minute)),
		"garbage":         "abc.def.ghi",
	} {
		res := e.do("GET", "/sso?token="+url.QueryEscape(tok), nil, nil)
		if res.Code != http.StatusUnauthorized || len(res.Result().Cookies()) != 0 || !strings.Contains(res.Body.String(), "Não foi possível entrar") {
			t.Errorf("%s: %d", name, res.Code)
		}
	}
	off := newTestEnv(t)
	if res := off.do("GET", "/sso?token="+good, nil, nil); res.Code != http.StatusNotFound {
		t.Errorf("sso without a secret: %d", res.Code)
	}
}

func noneToken(c jwt.MapClaims) string {
	s, _ := jwt.NewWithClaims(jwt.SigningMethodNone, c).SignedString(jwt.UnsafeAllowNoneSignatureType)
	return s
}
