package bling

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cazbling/cazbling/pkg/cazbling"
	"github.com/cazbling/cazbling/pkg/httpx"
)

const (
	testClientID     = "client-id-123"
	testClientSecret = "s3cr3t-client-secret-value"
)

// testNow is the fixed clock of the tests: 2025-03-10 12:00 UTC (09:00 in São Paulo).
var testNow = time.Date(2025, 3, 10, 12, 0, 0, 0, time.UTC)

// recorded is one request the fake server received.
type recorded struct {
	Method string
	Path   string
	Query  url.Values
	Header http.Header
	Body   []byte
}

// fakeBling answers like Bling: /oauth/token rotates the refresh token (the old one then
// gets invalid_grant), API calls need a Bearer token it issued, and each route has a
// handler set by the test.
type fakeBling struct {
	t   *testing.T
	srv *httptest.Server

	mu          sync.Mutex
	calls       []recorded
	validAccess map[string]bool
	refresh     string // the one refresh token that works
	issued      int    // tokens issued
	routes      map[string]func(w http.ResponseWriter, r recorded)
	// tokenHook, if set, answers /oauth/token instead of the default.
	tokenHook func(w http.ResponseWriter, r recorded)
	// tokenGate, if set, is waited on before a token answer.
	tokenGate chan struct{}
}

func newFake(t *testing.T, access, refresh string) *fakeBling {
	t.Helper()
	f := &fakeBling{t: t, validAccess: map[string]bool{access: true}, refresh: refresh, routes: map[string]func(http.ResponseWriter, recorded){}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeBling) handle(methodPath string, h func(w http.ResponseWriter, r recorded)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.routes[methodPath] = h
}

func (f *fakeBling) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rec := recorded{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Header: r.Header.Clone(), Body: body}
	f.mu.Lock()
	f.calls = append(f.calls, rec)
	f.mu.Unlock()
	if r.URL.Path == "/oauth/token" {
		f.serveToken(w, rec)
		return
	}
	// Every API call: the headers Bling wants.
	if got := r.Header.Get("enable-jwt"); got != "1" {
		f.t.Errorf("%s %s: enable-jwt = %q, want 1", r.Method, r.URL.Path, got)
	}
	if got := r.Header.Get("Accept"); got != "application/json" {
		f.t.Errorf("%s %s: Accept = %q", r.Method, r.URL.Path, got)
	}
	if got := r.Header.Get("User-Agent"); got != "cazbling" {
		f.t.Errorf("%s %s: User-Agent = %q", r.Method, r.URL.Path, got)
	}
	if r.Method == http.MethodPost && r.Header.Get("Content-Type") != "application/json" {
		f.t.Errorf("%s %s: Content-Type = %q", r.Method, r.URL.Path, r.Header.Get("Content-Type"))
	}
	auth := r.Header.Get("Authorization")
	f.mu.Lock()
	ok := strings.HasPrefix(auth, "Bearer ") && f.validAccess[strings.TrimPrefix(auth, "Bearer ")]
	h := f.routes[r.Method+" "+r.URL.Path]
	f.mu.Unlock()
	if !ok {
		writeJSON(w, 401, `{"error":{"type":"invalid_token","message":"invalid_token","description":"The access token provided is invalid"}}`)
		return
	}
	if h == nil {
		writeJSON(w, 404, `{"error":{"type":"RESOURCE_NOT_FOUND","message":"Recurso não encontrado","description":"no route"}}`)
		return
	}
	h(w, rec)
}

func (f *fakeBling) serveToken(w http.ResponseWriter, r recorded) {
	if f.tokenGate != nil {
		<-f.tokenGate
	}
	want := "Basic " + base64.StdEncoding.EncodeToString([]byte(testClientID+":"+testClientSecret))
	if r.Header.Get("Authorization") != want {
		writeJSON(w, 401, `{"error":{"type":"invalid_client","message":"invalid_client","description":"bad client credentials"}}`)
		return
	}
	if r.Header.Get("enable-jwt") != "1" {
		f.t.Errorf("token call without enable-jwt: 1")
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
		f.t.Errorf("token call Content-Type = %q", ct)
	}
	if f.tokenHook != nil {
		f.tokenHook(w, r)
		return
	}
	form, err := url.ParseQuery(string(r.Body))
	if err != nil {
		writeJSON(w, 400, `{"error":{"type":"invalid_request"}}`)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	switch form.Get("grant_type") {
	case "refresh_token":
		if form.Get("refresh_token") != f.refresh {
			writeJSON(w, 400, `{"error":{"type":"invalid_grant","message":"invalid_grant","description":"Invalid refresh token"}}`)
			return
		}
	case "authorization_code":
		if form.Get("code") != "good-code" {
			writeJSON(w, 400, `{"error":{"type":"invalid_grant","message":"invalid_grant","description":"Authorization code is invalid"}}`)
			return
		}
	default:
		writeJSON(w, 400, `{"error":{"type":"unsupported_grant_type"}}`)
		return
	}
	f.issued++
	access := fmt.Sprintf("access-%d-%s", f.issued, strings.Repeat("J", 3000)) // JWTs run to ~3,000 chars
	f.refresh = fmt.Sprintf("refresh-%d-rotated", f.issued)
	f.validAccess[access] = true
	writeJSON(w, 200, fmt.Sprintf(`{"access_token":%q,"expires_in":21600,"token_type":"Bearer","scope":"98309 5990556","refresh_token":%q}`, access, f.refresh))
}

// requests returns the recorded requests to path (all paths when "").
func (f *fakeBling) requests(method, path string) []recorded {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []recorded
	for _, c := range f.calls {
		if (path == "" || c.Path == path) && (method == "" || c.Method == method) {
			out = append(out, c)
		}
	}
	return out
}

func (f *fakeBling) tokensIssued() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.issued
}

func writeJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

// memStore is a TokenStore serializing UpdateToken with a mutex, as the SQLite store
// does with an IMMEDIATE transaction.
type memStore struct {
	mu      sync.Mutex
	tok     cazbling.Token
	updates int
	saves   int
	// afterRead, if set, runs at the end of every Token call (outside the lock).
	afterRead func()
}

func (s *memStore) Token(ctx context.Context) (cazbling.Token, error) {
	s.mu.Lock()
	t := s.tok
	s.mu.Unlock()
	if s.afterRead != nil {
		s.afterRead()
	}
	return t, nil
}

func (s *memStore) UpdateToken(ctx context.Context, fn func(cazbling.Token) (cazbling.Token, error)) (cazbling.Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.updates++
	t, err := fn(s.tok)
	if err != nil {
		return cazbling.Token{}, err
	}
	s.tok = t
	s.saves++
	return t, nil
}

func (s *memStore) current() cazbling.Token {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tok
}

// sleeps records the waits of the retry loop instead of waiting.
type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.d = append(s.d, d)
	s.mu.Unlock()
	return ctx.Err()
}

func (s *sleeps) all() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.d...)
}

// validToken is a stored pair good for an hour at testNow.
func validToken(access, refresh string) cazbling.Token {
	return cazbling.Token{AccessToken: access, RefreshToken: refresh, Expiry: testNow.Add(time.Hour)}
}

func testOptions(f *fakeBling, store TokenStore, sl *sleeps) Options {
	return Options{
		BaseURL:      f.srv.URL,
		ClientID:     testClientID,
		ClientSecret: testClientSecret,
		Tokens:       store,
		HTTP:         f.srv.Client(),
		MaxAttempts:  3,
		// Pacing is tested on its own; here it would only slow the tests down.
		AccountLimiter: httpx.PerSecond(0),
		Now:            func() time.Time { return testNow },
		Sleep:          sl.sleep,
	}
}

// newTestClient returns a Client on f whose store holds a valid token "access-0".
func newTestClient(t *testing.T) (*Client, *fakeBling, *memStore, *sleeps) {
	t.Helper()
	f := newFake(t, "access-0", "refresh-0")
	store := &memStore{tok: validToken("access-0", "refresh-0")}
	sl := &sleeps{}
	c, err := New(testOptions(f, store, sl))
	if err != nil {
		t.Fatal(err)
	}
	return c, f, store, sl
}

// dataList wraps items as Bling's list answer.
func dataList(items ...string) string { return `{"data":[` + strings.Join(items, ",") + `]}` }

// logBuffer captures slog output at debug level.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// canonical re-encodes JSON with numbers kept as written, for comparisons.
func canonical(t *testing.T, b []byte) string {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		t.Fatalf("not JSON: %v: %s", err, b)
	}
	out, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}
