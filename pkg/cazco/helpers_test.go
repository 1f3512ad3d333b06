package cazco

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cazbling/cazbling/pkg/cazbling"
)

const (
	testKey   = "sk_live_S3CR3T-key-0042"
	basePath  = "/api/v1/seller"
	testAgent = "cazbling-test/1.0 (ops@example.com)"
)

// fakeClock is the injected Now and Sleep: sleeping advances the clock at once and is
// recorded, so retries and window waits cost no wall time.
type fakeClock struct {
	mu    sync.Mutex
	now   time.Time
	slept []time.Duration
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2025, 3, 12, 12, 0, 0, 0, time.UTC)}
}

func (f *fakeClock) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.slept = append(f.slept, d)
	f.now = f.now.Add(d)
	return nil
}

func (f *fakeClock) Advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = f.now.Add(d)
}

func (f *fakeClock) Slept() []time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]time.Duration(nil), f.slept...)
}

// seenRequest is what the fake server received.
type seenRequest struct {
	Method   string
	Path     string // decoded, without the base path
	RawPath  string // as sent, without the base path
	RawQuery string
	Header   http.Header
	Body     []byte
}

// apiServer is an httptest server answering as the CaZco contract says. Every request
// is checked for the headers the contract requires and recorded.
type apiServer struct {
	t      *testing.T
	srv    *httptest.Server
	mu     sync.Mutex
	reqs   []seenRequest
	handle func(w http.ResponseWriter, r *http.Request, n int)
}

func newServer(t *testing.T, handle func(w http.ResponseWriter, r *http.Request, n int)) *apiServer {
	t.Helper()
	s := &apiServer{t: t, handle: handle}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *apiServer) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rawPath := r.URL.EscapedPath()
	if !strings.HasPrefix(rawPath, basePath) {
		s.t.Errorf("request to %s is outside the base path %s", rawPath, basePath)
	}
	checks := map[string]string{
		"Authorization": "Bearer " + testKey,
		"Accept":        "application/json",
		"User-Agent":    testAgent,
		"Url-Store":     "s623",
	}
	for name, want := range checks {
		if got := r.Header.Get(name); got != want {
			s.t.Errorf("%s %s: header %s = %q, want %q", r.Method, rawPath, name, got, want)
		}
	}
	if ct := r.Header.Get("Content-Type"); (len(body) > 0) != (ct == "application/json") {
		s.t.Errorf("%s %s: Content-Type %q with a body of %d bytes", r.Method, rawPath, ct, len(body))
	}
	s.mu.Lock()
	s.reqs = append(s.reqs, seenRequest{
		Method: r.Method, Path: strings.TrimPrefix(r.URL.Path, basePath), RawPath: strings.TrimPrefix(rawPath, basePath),
		RawQuery: r.URL.RawQuery, Header: r.Header.Clone(), Body: body,
	})
	n := len(s.reqs)
	s.mu.Unlock()
	s.handle(w, r, n)
}

func (s *apiServer) requests() []seenRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]seenRequest(nil), s.reqs...)
}

func (s *apiServer) baseURL() string { return s.srv.URL + basePath }

// client returns a Client for s with a fake clock and a rate limit high enough that
// pacing costs no wall time; mod adjusts the options.
func (s *apiServer) client(t *testing.T, clock *fakeClock, mod func(*Options)) *Client {
	t.Helper()
	o := Options{
		BaseURL:       s.baseURL(),
		APIKey:        testKey,
		RatePerMinute: 6_000_000,
		ExtraHeaders:  map[string]string{"Url-Store": "s623"},
		UserAgent:     testAgent,
		Now:           clock.Now,
		Sleep:         clock.Sleep,
	}
	if mod != nil {
		mod(&o)
	}
	c, err := New(o)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

// reply writes a JSON answer with the rate-limit headers every CaZco answer has.
// headers are name, value pairs and may override the defaults.
func reply(w http.ResponseWriter, status int, body string, headers ...string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-RateLimit-Limit", "60")
	w.Header().Set("X-RateLimit-Remaining", "50")
	for i := 0; i+1 < len(headers); i += 2 {
		w.Header().Set(headers[i], headers[i+1])
	}
	w.WriteHeader(status)
	io.WriteString(w, body)
}

func errorJSON(code, message string) string {
	return `{"code":"` + code + `","message":"` + message + `","errors":{},"request_id":"01HQ3W6V1Z6Y8J3Q0F4K2M7N9K"}`
}

func fixture(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// apiError returns err's *APIError or fails the test.
func apiError(t *testing.T, err error) *cazbling.APIError {
	t.Helper()
	var ae *cazbling.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("error %v (%T) is not an *APIError", err, err)
	}
	return ae
}
