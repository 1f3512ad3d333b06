package httpx

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// recordSleep collects the waits Do asks for, without waiting.
type recordSleep struct{ waits []time.Duration }

func (r *recordSleep) sleep(_ context.Context, d time.Duration) error {
	r.waits = append(r.waits, d)
	return nil
}

func TestDoRetries(t *testing.T) {
	tests := []struct {
		name       string
		statuses   []int // answers in order; the last repeats
		idempotent bool
		retryAfter string
		wantCalls  int
		wantStatus int
		minWait    time.Duration
	}{
		{"ok at once", []int{200}, true, "", 1, 200, 0},
		{"5xx then ok on GET", []int{500, 503, 200}, true, "", 3, 200, 0},
		{"5xx given up after max attempts", []int{500}, true, "", 4, 500, 0},
		{"5xx on POST not repeated", []int{500}, false, "", 1, 500, 0},
		{"429 on POST repeated (not processed)", []int{429, 201}, false, "", 2, 201, 0},
		{"429 honours Retry-After", []int{429, 200}, true, "7", 2, 200, 7 * time.Second},
		{"4xx never repeated", []int{422}, true, "", 1, 422, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var calls atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				n := int(calls.Add(1))
				st := tt.statuses[min(n, len(tt.statuses))-1]
				if tt.retryAfter != "" {
					w.Header().Set("Retry-After", tt.retryAfter)
				}
				w.WriteHeader(st)
				_, _ = w.Write([]byte(`{}`))
			}))
			defer srv.Close()
			rs := &recordSleep{}
			c := &Client{MaxAttempts: 4, Sleep: rs.sleep}
			resp, err := c.Do(context.Background(), Request{Method: "GET", URL: srv.URL, Idempotent: tt.idempotent})
			if err != nil {
				t.Fatal(err)
			}
			if resp.Status != tt.wantStatus {
				t.Errorf("status %d, want %d", resp.Status, tt.wantStatus)
			}
			if got := int(calls.Load()); got != tt.wantCalls {
				t.Errorf("%d calls, want %d", got, tt.wantCalls)
			}
			for _, w := range rs.waits {
				if w < tt.minWait {
					t.Errorf("waited %s, want at least %s", w, tt.minWait)
				}
			}
		})
	}
}

func TestDoBackoffGrowsWithJitter(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(502)
	}))
	defer srv.Close()
	rs := &recordSleep{}
	c := &Client{MaxAttempts: 6, Sleep: rs.sleep, InitialInterval: 100 * time.Millisecond, MaxInterval: time.Second}
	if _, err := c.Do(context.Background(), Request{Method: "GET", URL: srv.URL, Idempotent: true}); err != nil {
		t.Fatal(err)
	}
	if len(rs.waits) != 5 {
		t.Fatalf("%d waits, want 5", len(rs.waits))
	}
	if rs.waits[0] < 50*time.Millisecond || rs.waits[0] > 150*time.Millisecond {
		t.Errorf("first wait %s, want 100ms ± 50%%", rs.waits[0])
	}
	if rs.waits[4] < 500*time.Millisecond || rs.waits[4] > 1500*time.Millisecond {
		t.Errorf("fifth wait %s, want near the 1s cap", rs.waits[4])
	}
}

func TestDoNetworkError(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	url := srv.URL + "/x?access_token=SECRET123"
	srv.Close() // nothing listens any more
	for _, idem := range []bool{true, false} {
		rs := &recordSleep{}
		c := &Client{MaxAttempts: 3, Sleep: rs.sleep}
		_, err := c.Do(context.Background(), Request{Method: "POST", URL: url, Idempotent: idem})
		var ne *NetworkError
		if !errors.As(err, &ne) {
			t.Fatalf("idempotent=%v: error %v, want *NetworkError", idem, err)
		}
		if ne.Timeout() {
			t.Errorf("a refused connection reported as a timeout: %v", err)
		}
		if strings.Contains(err.Error(), "SECRET123") {
			t.Errorf("error leaks a token: %v", err)
		}
		wantWaits := 0
		if idem {
			wantWaits = 2
		}
		if len(rs.waits) != wantWaits {
			t.Errorf("idempotent=%v: %d retries, want %d", idem, len(rs.waits), wantWaits)
		}
	}
}

// TestDoTimeout checks that a call that gets no answer in time, by the client's
// overall timeout or the transport's wait for response headers, is a NetworkError
// that says it timed out.
func TestDoTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	for name, hc := range map[string]*http.Client{
		"client timeout":          {Timeout: 50 * time.Millisecond},
		"response header timeout": {Transport: &http.Transport{ResponseHeaderTimeout: 50 * time.Millisecond}},
	} {
		c := &Client{HTTP: hc, MaxAttempts: 1}
		_, err := c.Do(context.Background(), Request{Method: "GET", URL: srv.URL, Idempotent: true})
		var ne *NetworkError
		if !errors.As(err, &ne) || !ne.Timeout() {
			t.Errorf("%s: error %v, want a *NetworkError that timed out", name, err)
		}
	}
}

func TestDoContextCancelled(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(503) }))
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	c := &Client{MaxAttempts: 5, Sleep: func(ctx context.Context, d time.Duration) error { cancel(); return ctx.Err() }}
	_, err := c.Do(ctx, Request{Method: "GET", URL: srv.URL, Idempotent: true})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
}

func TestRedact(t *testing.T) {
	in := `Authorization: Bearer eyJhbGciOi.abc.def {"access_token":"AT-1","refresh_token":"RT-2","expires_in":21600} grant_type=refresh_token&refresh_token=RT-3&x=1 Basic Y2xpZW50OnNlY3JldA==`
	out := RedactString(in)
	for _, secret := range []string{"eyJhbGciOi", "AT-1", "RT-2", "RT-3", "Y2xpZW50OnNlY3JldA"} {
		if strings.Contains(out, secret) {
			t.Errorf("redacted text still holds %q: %s", secret, out)
		}
	}
	if !strings.Contains(out, "expires_in") || !strings.Contains(out, "x=1") {
		t.Errorf("redaction removed too much: %s", out)
	}
	h := http.Header{"Authorization": {"Bearer X"}, "Accept": {"application/json"}}
	rh := RedactHeader(h)
	if rh.Get("Authorization") != Redacted || rh.Get("Accept") != "application/json" || h.Get("Authorization") != "Bearer X" {
		t.Errorf("RedactHeader: %v (original %v)", rh, h)
	}
}

func TestCheckBaseURL(t *testing.T) {
	tests := []struct {
		url string
		ok  bool
	}{
		{"https://api.bling.com.br/Api/v3", true},
		{"http://127.0.0.1:8080/Api/v3", true},
		{"http://localhost:8081/api/v1/seller", true},
		{"http://[::1]:8081/api", true},
		{"http://api.bling.com.br/Api/v3", false},
		{"http://10.0.0.5/api", false},
		{"ftp://x/y", false},
		{"api.bling.com.br", false},
		{"https://user:pass@host/api", false},
		{"", false},
	}
	for _, tt := range tests {
		_, err := CheckBaseURL("--x-url", tt.url)
		if (err == nil) != tt.ok {
			t.Errorf("CheckBaseURL(%q) error %v, want ok=%v", tt.url, err, tt.ok)
		}
	}
}

func TestDoRefusesHugeBody(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		chunk := strings.Repeat("x", 1<<20)
		for range MaxBody/(1<<20) + 2 {
			_, _ = w.Write([]byte(chunk))
		}
	}))
	defer srv.Close()
	c := &Client{MaxAttempts: 1}
	_, err := c.Do(context.Background(), Request{Method: "GET", URL: srv.URL})
	var ne *NetworkError
	if !errors.As(err, &ne) {
		t.Fatalf("error %v, want *NetworkError for an oversized body", err)
	}
}

// A token answer longer than the debug log's cut must not leak the token's head.
func TestDebugLogRedactsBeforeCutting(t *testing.T) {
	token := strings.Repeat("eyJhbGciOiJSUzI1NiJ9", 200) // ~4,000 characters
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"access_token":"` + token + `","expires_in":21600}`))
	}))
	defer srv.Close()
	var logs strings.Builder
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c := &Client{Logger: logger}
	if _, err := c.Do(context.Background(), Request{Method: "POST", URL: srv.URL}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "http") {
		t.Fatalf("no debug line written: %q", logs.String())
	}
	if strings.Contains(logs.String(), "eyJhbGciOiJSUzI1NiJ9") {
		t.Errorf("debug log holds part of the access token")
	}
}
