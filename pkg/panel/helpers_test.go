package panel

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cazbling/cazbling/pkg/cazbling"
	"github.com/cazbling/cazbling/pkg/store/sqlite"
)

const (
	goodKey  = "czk-good-key-9876"
	goodCode = "good-code"
)

// fakeConnector stands in for the APIs: CaZco takes goodKey only, Bling exchanges
// goodCode only, and the initial sync runs until released or cancelled.
type fakeConnector struct {
	store *sqlite.Store

	mu       sync.Mutex
	checks   int
	connects []string // codes exchanged
	syncs    int
	release  chan struct{}
	started  chan string
}

func (f *fakeConnector) CheckCazco(_ context.Context, _, baseURL, apiKey string) (int, error) {
	f.mu.Lock()
	f.checks++
	f.mu.Unlock()
	if apiKey != goodKey {
		return 0, errors.New("cazco: 401 Unauthorized: invalid API key " + apiKey)
	}
	return 7, nil
}

func (f *fakeConnector) AuthorizeURL(state string) string {
	return "https://bling.test/Api/v3/oauth/authorize?response_type=code&client_id=app&state=" + url.QueryEscape(state)
}

func (f *fakeConnector) ConnectBling(ctx context.Context, tenantID, code string) (string, error) {
	f.mu.Lock()
	f.connects = append(f.connects, code)
	f.mu.Unlock()
	if code != goodCode {
		return "", ErrCodeRefused
	}
	t, err := f.store.Tenant(ctx, tenantID)
	if err != nil {
		return "", err
	}
	t.Status, t.StatusReason = cazbling.TenantActive, ""
	t.BlingClientID, t.BlingClientSecret = "app", "app-secret"
	tok := cazbling.Token{AccessToken: "access-xyz", RefreshToken: "refresh-xyz", Expiry: time.Now().Add(time.Hour)}
	return "Empresa Teste", f.store.UpsertTenant(ctx, t, &tok)
}

func (f *fakeConnector) InitialSync(ctx context.Context, tenantID string, progress func(done, total int)) error {
	f.mu.Lock()
	f.syncs++
	f.mu.Unlock()
	progress(3, 10)
	if f.started != nil {
		f.started <- tenantID
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-f.release:
		return nil
	}
}

func (f *fakeConnector) counts() (checks, connects, syncs int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.checks, len(f.connects), f.syncs
}

// testEnv is a panel on a real SQLite store with a fake connector.
type testEnv struct {
	t     *testing.T
	srv   *Server
	store *sqlite.Store
	conn  *fakeConnector
	logs  *bytes.Buffer
	now   time.Time
	mu    sync.Mutex
	path  string
}

func (e *testEnv) clock() time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.now
}

func (e *testEnv) advance(d time.Duration) {
	e.mu.Lock()
	e.now = e.now.Add(d)
	e.mu.Unlock()
}

func newTestEnv(t *testing.T, mod ...func(*Config)) *testEnv {
	t.Helper()
	e := &testEnv{t: t, now: time.Date(2026, 11, 3, 15, 0, 0, 0, time.UTC), logs: &bytes.Buffer{}}
	e.path = filepath.Join(t.TempDir(), "panel.db")
	st, err := sqlite.Open(context.Background(), sqlite.Options{Path: e.path, Key: bytes.Repeat([]byte{3}, 32), Now: e.clock})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e.store = st
	e.conn = &fakeConnector{store: st, release: make(chan struct{})}
	cfg := Config{PublicURL: "https://painel.test", Store: st, Connector: e.conn, Now: e.clock,
		Logger: slog.New(slog.NewTextHandler(&lockedWriter{w: e.logs}, nil)), LoginRate: 1000}
	for _, m := range mod {
		m(&cfg)
	}
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.srv = srv
	t.Cleanup(func() {
		close(e.conn.release)
		_ = srv.StopSyncs(context.Background())
	})
	return e
}

type lockedWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// invite registers tenant and returns a fresh invite token.
func (e *testEnv) invite(tenant string, ttl time.Duration) string {
	e.t.Helper()
	tok := NewToken()
	if _, err := e.store.InviteTenant(context.Background(), tenant, tok, e.clock().Add(ttl)); err != nil {
		e.t.Fatal(err)
	}
	return tok
}

// login redeems an invite for tenant and returns the session cookie.
func (e *testEnv) login(tenant string) *http.Cookie {
	e.t.Helper()
	res := e.do("GET", "/invite/"+e.invite(tenant, time.Hour), nil, nil)
	if res.Code != http.StatusSeeOther {
		e.t.Fatalf("invite: %d %s", res.Code, res.Body)
	}
	for _, c := range res.Result().Cookies() {
		if c.Name == sessionCookie {
			return c
		}
	}
	e.t.Fatal("no session cookie")
	return nil
}

// do serves one request; form, if not nil, is sent as a POST body.
func (e *testEnv) do(method, target string, cookie *http.Cookie, form url.Values, hdr ...string) *httptest.ResponseRecorder {
	var body *strings.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	} else {
		body = strings.NewReader("")
	}
	req := httptest.NewRequest(method, "https://painel.test"+target, body)
	req.RemoteAddr = "203.0.113.9:5555"
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	if cookie != nil {
		req.AddCookie(cookie)
	}
	rec := httptest.NewRecorder()
	e.srv.Handler().ServeHTTP(rec, req)
	return rec
}

var csrfInput = regexp.MustCompile(`name="csrf_token" value="([0-9a-f]+)"`)

// csrf reads the session's CSRF token off the home page.
func (e *testEnv) csrf(c *http.Cookie) string {
	e.t.Helper()
	res := e.do("GET", "/", c, nil)
	m := csrfInput.FindStringSubmatch(res.Body.String())
	if m == nil {
		e.t.Fatalf("no csrf token on the home page: %d %s", res.Code, res.Body)
	}
	return m[1]
}

// post sends a form with the session's CSRF token.
func (e *testEnv) post(target string, c *http.Cookie, form url.Values) *httptest.ResponseRecorder {
	if form == nil {
		form = url.Values{}
	}
	form.Set(csrfField, e.csrf(c))
	return e.do("POST", target, c, form)
}

func (e *testEnv) tenant(id string) cazbling.Tenant {
	e.t.Helper()
	t, err := e.store.Tenant(context.Background(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	return t
}

// setUpCazco stores a working CaZco connection for the session's tenant.
func (e *testEnv) setUpCazco(c *http.Cookie) {
	e.t.Helper()
	res := e.post("/cazco", c, url.Values{"cazco_url": {"https://s1.cazco.test/api/v1/seller"}, "cazco_api_key": {goodKey}})
	if res.Code != http.StatusSeeOther {
		e.t.Fatalf("cazco: %d %s", res.Code, res.Body)
	}
}

// state starts a Bling connection and returns the state it was given.
func (e *testEnv) state(c *http.Cookie) string {
	e.t.Helper()
	res := e.post("/bling/connect", c, nil)
	if res.Code != http.StatusSeeOther {
		e.t.Fatalf("connect: %d %s", res.Code, res.Body)
	}
	loc, _ := url.Parse(res.Header().Get("Location"))
	st := loc.Query().Get("state")
	if st == "" {
		e.t.Fatalf("no state in %s", loc)
	}
	return st
}
