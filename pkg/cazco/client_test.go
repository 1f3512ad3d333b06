package cazco

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cazbling/cazbling/pkg/cazbling"
	"github.com/cazbling/cazbling/pkg/httpx"
	"github.com/shopspring/decimal"
)

func TestNewValidates(t *testing.T) {
	tests := []struct {
		name string
		o    Options
	}{
		{"empty url", Options{APIKey: testKey}},
		{"not http", Options{BaseURL: "ftp://s623.cazco.link/api", APIKey: testKey}},
		{"plain http to a remote host", Options{BaseURL: "http://s623.cazco.link/api/v1/seller", APIKey: testKey}},
		{"query in base", Options{BaseURL: "https://s623.cazco.link/api/v1/seller?x=1", APIKey: testKey}},
		{"no key", Options{BaseURL: "https://s623.cazco.link/api/v1/seller"}},
		{"key with newline", Options{BaseURL: "https://s623.cazco.link/api/v1/seller", APIKey: testKey + "\n"}},
		{"bad extra header name", Options{BaseURL: "https://s623.cazco.link/api/v1/seller", APIKey: testKey, ExtraHeaders: map[string]string{"Url Store": "x"}}},
		{"extra header overriding auth", Options{BaseURL: "https://s623.cazco.link/api/v1/seller", APIKey: testKey, ExtraHeaders: map[string]string{"authorization": "x"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.o)
			if err == nil {
				t.Fatal("New accepted bad options")
			}
			if strings.Contains(err.Error(), testKey) {
				t.Errorf("error carries the key: %v", err)
			}
		})
	}
	if _, err := New(Options{BaseURL: "https://s623.cazco.link/api/v1/seller/", APIKey: testKey}); err != nil {
		t.Errorf("valid options refused: %v", err)
	}
}

func TestRetries(t *testing.T) {
	tests := []struct {
		name         string
		maxAttempts  int
		call         func(c *Client) error
		answer       func(w http.ResponseWriter, n int)
		wantRequests int
		wantKind     cazbling.ErrorKind // "" for success
		wantMinSleep time.Duration
	}{
		{
			name: "429 waits Retry-After then succeeds",
			call: func(c *Client) error { _, err := c.Info(context.Background()); return err },
			answer: func(w http.ResponseWriter, n int) {
				if n == 1 {
					reply(w, 429, errorJSON("rate_limited", "Too Many Attempts."), "Retry-After", "3", "X-RateLimit-Remaining", "0")
					return
				}
				reply(w, 200, `{"data":[],"meta":{"total":3},"links":{"next":null}}`)
			},
			wantRequests: 2,
			wantMinSleep: 3 * time.Second,
		},
		{
			name: "500 on GET retried up to the default 6 tries",
			call: func(c *Client) error { _, err := c.Product(context.Background(), "1"); return err },
			answer: func(w http.ResponseWriter, n int) {
				reply(w, 500, errorJSON("internal_error", "Server Error."))
			},
			wantRequests: 6,
			wantKind:     cazbling.KindServer,
			wantMinSleep: 5 * 500 * time.Millisecond, // 1 s doubling with ±50% jitter
		},
		{
			name:        "503 on PUT retried up to MaxAttempts",
			maxAttempts: 3,
			call:        func(c *Client) error { return c.SetStock(context.Background(), "1", 2) },
			answer: func(w http.ResponseWriter, n int) {
				reply(w, 503, errorJSON("unavailable", "Service temporarily unavailable."), "Retry-After", "7")
			},
			wantRequests: 3,
			wantKind:     cazbling.KindServer,
			wantMinSleep: 14 * time.Second,
		},
		{
			name: "401 is not retried",
			call: func(c *Client) error { _, err := c.Info(context.Background()); return err },
			answer: func(w http.ResponseWriter, n int) {
				reply(w, 401, errorJSON("unauthenticated", "Unauthenticated."))
			},
			wantRequests: 1,
			wantKind:     cazbling.KindUnauthorized,
		},
		{
			name: "403 is not retried",
			call: func(c *Client) error { return c.SetStock(context.Background(), "1", 2) },
			answer: func(w http.ResponseWriter, n int) {
				reply(w, 403, errorJSON("forbidden", "This API key is not allowed to perform this action."))
			},
			wantRequests: 1,
			wantKind:     cazbling.KindForbidden,
		},
		{
			name: "400 is not retried",
			call: func(c *Client) error {
				return c.UpdateProduct(context.Background(), "1", cazbling.MarketProduct{Name: "x"})
			},
			answer: func(w http.ResponseWriter, n int) {
				reply(w, 400, errorJSON("bad_request", "The request body is not valid JSON."))
			},
			wantRequests: 1,
			wantKind:     cazbling.KindValidation,
		},
		{
			name: "unknown 4xx is not retried",
			call: func(c *Client) error { _, err := c.Order(context.Background(), "1"); return err },
			answer: func(w http.ResponseWriter, n int) {
				reply(w, 418, errorJSON("teapot", "I'm a teapot."))
			},
			wantRequests: 1,
			wantKind:     cazbling.KindOther,
		},
		{
			name:        "network errors on GET are retried",
			maxAttempts: 2,
			call:        func(c *Client) error { _, err := c.Order(context.Background(), "1"); return err },
			answer: func(w http.ResponseWriter, n int) {
				panic(http.ErrAbortHandler) // drop the connection without an answer
			},
			wantRequests: 2,
			wantKind:     cazbling.KindNetwork,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) { tt.answer(w, n) })
			clock := newFakeClock()
			c := s.client(t, clock, func(o *Options) { o.MaxAttempts = tt.maxAttempts })
			err := tt.call(c)
			if n := len(s.requests()); n != tt.wantRequests {
				t.Errorf("%d requests, want %d", n, tt.wantRequests)
			}
			var slept time.Duration
			for _, d := range clock.Slept() {
				slept += d
			}
			if slept < tt.wantMinSleep {
				t.Errorf("slept %v in all, want at least %v", slept, tt.wantMinSleep)
			}
			if tt.wantKind == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			ae := apiError(t, err)
			if ae.Kind != tt.wantKind {
				t.Errorf("kind %s, want %s (%v)", ae.Kind, tt.wantKind, err)
			}
			if strings.Contains(err.Error(), testKey) {
				t.Errorf("error carries the key: %v", err)
			}
		})
	}
}

func TestUnauthorizedMessage(t *testing.T) {
	s := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		reply(w, 401, errorJSON("unauthenticated", "Unauthenticated."))
	})
	_, _, err := s.client(t, newFakeClock(), nil).ProductBySKU(context.Background(), "X")
	ae := apiError(t, err)
	if ae.Kind != cazbling.KindUnauthorized || ae.Status != 401 || ae.Type != "unauthenticated" || ae.Op != "GET /products" {
		t.Errorf("error %+v", ae)
	}
	if ae.Message != "the CaZco API key was refused (401 unauthenticated); check --cazco-api-key for this store" {
		t.Errorf("message %q", ae.Message)
	}
	if ae.Retryable() {
		t.Error("401 is retryable")
	}
}

func TestRateLimitWindow(t *testing.T) {
	tests := []struct {
		name string
		// remaining answers the n-th request's X-RateLimit-Remaining (limit 60).
		remaining func(n int) string
		// between runs before the n-th call (n >= 2), e.g. to let time pass.
		between  func(clock *fakeClock, n int)
		calls    int
		wantWait []time.Duration // the waits before calls 2..calls, in order (none: no entry)
	}{
		{
			name: "remaining 0 on the first answer waits a whole window",
			remaining: func(n int) string {
				if n == 1 {
					return "0"
				}
				return "59"
			},
			calls:    2,
			wantWait: []time.Duration{time.Minute},
		},
		{
			name: "window starts at remaining == limit-1",
			remaining: func(n int) string {
				return map[int]string{1: "59", 2: "0", 3: "59"}[n]
			},
			between: func(clock *fakeClock, n int) {
				if n == 2 {
					clock.Advance(10 * time.Second)
				}
			},
			calls:    3,
			wantWait: []time.Duration{50 * time.Second},
		},
		{
			name:      "remaining above 0 never waits",
			remaining: func(n int) string { return "1" },
			calls:     4,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
				reply(w, 200, `{"data":[],"meta":{"total":0},"links":{"next":null}}`, "X-RateLimit-Remaining", tt.remaining(n))
			})
			clock := newFakeClock()
			c := s.client(t, clock, nil)
			for n := 1; n <= tt.calls; n++ {
				if tt.between != nil {
					tt.between(clock, n)
				}
				if _, err := c.Info(context.Background()); err != nil {
					t.Fatal(err)
				}
			}
			got := clock.Slept()
			if len(got) != len(tt.wantWait) {
				t.Fatalf("waits %v, want %v", got, tt.wantWait)
			}
			for i := range got {
				if got[i] != tt.wantWait[i] {
					t.Errorf("wait %d = %v, want %v", i, got[i], tt.wantWait[i])
				}
			}
			if n := len(s.requests()); n != tt.calls {
				t.Errorf("%d requests, want %d", n, tt.calls)
			}
		})
	}
}

func TestWindowWaitHonoursContext(t *testing.T) {
	s := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		reply(w, 200, `{"data":[],"meta":{"total":0},"links":{"next":null}}`, "X-RateLimit-Remaining", "0")
	})
	c := s.client(t, newFakeClock(), func(o *Options) { o.Sleep = nil }) // real sleep
	if _, err := c.Info(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err := c.Info(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err %v, want the context's deadline while waiting for the window", err)
	}
	if n := len(s.requests()); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
}

func TestMalformedAnswers(t *testing.T) {
	tests := []struct {
		name     string
		call     func(c *Client) error
		status   int
		body     string
		wantKind cazbling.ErrorKind
		wantText string
	}{
		{"html on 200", func(c *Client) error { _, err := c.Info(context.Background()); return err },
			200, "<html><body>Bad gateway page</body></html>", cazbling.KindMalformed, "Bad gateway page"},
		{"truncated json", func(c *Client) error { _, err := c.Order(context.Background(), "1"); return err },
			200, `{"data":{"id":"1","totals":{`, cazbling.KindMalformed, ""},
		{"product with bad price names its id", func(c *Client) error { _, err := c.Product(context.Background(), "81234"); return err },
			200, `{"data":{"id":"81234","sku":"A","price":{"amount":1}}}`, cazbling.KindMalformed, `"81234"`},
		{"product with unparseable price", func(c *Client) error { _, err := c.Product(context.Background(), "81234"); return err },
			200, `{"data":{"id":"81234","sku":"A","price":"12,90"}}`, cazbling.KindMalformed, "price"},
		{"list without data", func(c *Client) error { _, _, err := c.ProductBySKU(context.Background(), "A"); return err },
			200, `{"meta":{"total":0}}`, cazbling.KindMalformed, ""},
		{"html 404 is not read as not found", func(c *Client) error { _, err := c.Product(context.Background(), "1"); return err },
			404, "<!DOCTYPE html><title>404</title>", cazbling.KindMalformed, "DOCTYPE"},
		{"html 502 stays a server error", func(c *Client) error { _, err := c.Product(context.Background(), "1"); return err },
			502, "<html>502 Bad Gateway</html>", cazbling.KindServer, "502 Bad Gateway"},
		{"html 200 on a write", func(c *Client) error { return c.SetStock(context.Background(), "1", 5) },
			200, "<html>Welcome to the hotel wifi</html>", cazbling.KindMalformed, "hotel wifi"},
		{"created product without id", func(c *Client) error {
			_, err := c.CreateProduct(context.Background(), cazbling.MarketProduct{SKU: "A", Name: "a", Price: decimal.NewFromInt(1)})
			return err
		}, 201, `{"data":{}}`, cazbling.KindMalformed, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
				w.Header().Set("Content-Type", "text/html")
				w.WriteHeader(tt.status)
				w.Write([]byte(tt.body))
			})
			err := tt.call(s.client(t, newFakeClock(), func(o *Options) { o.MaxAttempts = 2 }))
			ae := apiError(t, err)
			if ae.Kind != tt.wantKind {
				t.Errorf("kind %s, want %s (%v)", ae.Kind, tt.wantKind, err)
			}
			if !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("error %q lacks %q", err, tt.wantText)
			}
		})
	}
}

func TestRedaction(t *testing.T) {
	// A server that echoes the key back, bare and as a bearer credential, in every
	// kind of answer the client may quote or log.
	s := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		switch r.URL.Path {
		case basePath + "/products/1":
			reply(w, 422, `{"code":"validation_failed","message":"key `+testKey+` is not allowed","errors":{"sku":["`+testKey+`"]},"request_id":"`+testKey+`"}`)
		case basePath + "/products/2":
			w.WriteHeader(500)
			w.Write([]byte("<html>Authorization: " + r.Header.Get("Authorization") + " key=" + testKey + "</html>"))
		default:
			w.WriteHeader(200)
			w.Write([]byte("<html>" + testKey + "</html>"))
		}
	})
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c := s.client(t, newFakeClock(), func(o *Options) { o.Logger = logger; o.MaxAttempts = 2 })
	var errs []error
	errs = append(errs, c.UpdateProduct(context.Background(), "1", cazbling.MarketProduct{Name: "x"}))
	errs = append(errs, c.UpdateProduct(context.Background(), "2", cazbling.MarketProduct{Name: "x"}))
	_, err := c.Product(context.Background(), "3")
	errs = append(errs, err)
	for _, err := range errs {
		if err == nil {
			t.Fatal("expected an error")
		}
		if strings.Contains(err.Error(), testKey) {
			t.Errorf("error carries the key: %v", err)
		}
	}
	if logs.Len() == 0 {
		t.Fatal("no debug logs written; the test would prove nothing")
	}
	if strings.Contains(logs.String(), testKey) {
		t.Errorf("logs carry the key:\n%s", logs.String())
	}
}

func TestConcurrencyLimit(t *testing.T) {
	var inFlight, peak atomic.Int32
	s := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		now := inFlight.Add(1)
		for {
			p := peak.Load()
			if now <= p || peak.CompareAndSwap(p, now) {
				break
			}
		}
		time.Sleep(20 * time.Millisecond)
		inFlight.Add(-1)
		reply(w, 200, fixture(t, "product.json"))
	})
	c := s.client(t, newFakeClock(), nil)
	var wg sync.WaitGroup
	for range 6 {
		wg.Go(func() {
			if _, err := c.Product(context.Background(), "81234"); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if p := peak.Load(); p > 2 {
		t.Errorf("%d requests in flight at once, want at most 2", p)
	}
	if n := len(s.requests()); n != 6 {
		t.Errorf("%d requests, want 6", n)
	}
}

func TestPacing(t *testing.T) {
	// At the default 60 a minute the client sends at most 57 in any minute, as fast
	// as it has work; negative turns pacing off. Only the settings are checked (the
	// window itself is tested in httpx), so the test costs no wall time.
	tests := []struct {
		perMinute int
		want      string
	}{
		{0, "57 per 1m0s"},
		{600, "570 per 1m0s"},
		{1, "1 per 1m0s"},
		{-1, "unlimited"},
	}
	for _, tt := range tests {
		c, err := New(Options{BaseURL: "https://s623.cazco.link/api/v1/seller", APIKey: testKey, RatePerMinute: tt.perMinute})
		if err != nil {
			t.Fatal(err)
		}
		if len(c.transport.Limiters) != 1 || c.transport.Limiters[0] != httpx.Limiter(c.pace) {
			t.Fatalf("RatePerMinute %d: limiters %#v, want the client's pacer alone", tt.perMinute, c.transport.Limiters)
		}
		if got := c.pace.window.String(); got != tt.want {
			t.Errorf("RatePerMinute %d: window %s, want %s", tt.perMinute, got, tt.want)
		}
		if c.transport.MaxAttempts != 6 || c.transport.InitialInterval != time.Second || c.transport.MaxInterval != time.Minute {
			t.Errorf("backoff %d tries, %v..%v; want 6, 1s..1m", c.transport.MaxAttempts, c.transport.InitialInterval, c.transport.MaxInterval)
		}
	}
}
