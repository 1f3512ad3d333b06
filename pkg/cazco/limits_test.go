package cazco

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cazbling/cazbling/pkg/cazbling"
)

func TestAdvertisedLimit(t *testing.T) {
	tests := []struct {
		name    string
		headers []string // name, value pairs
		want    cazbling.RateLimit
		present bool
		bad     bool
	}{
		{"none", nil, cazbling.RateLimit{}, false, false},
		{"per minute by the contract", []string{"X-RateLimit-Limit", "600"}, cazbling.RateLimit{N: 600, Window: time.Minute}, true, false},
		{"lower", []string{"X-RateLimit-Limit", " 12 "}, cazbling.RateLimit{N: 12, Window: time.Minute}, true, false},
		{"window from the policy", []string{"X-RateLimit-Limit", "10", "RateLimit-Policy", "10;w=5"}, cazbling.RateLimit{N: 10, Window: 5 * time.Second}, true, false},
		{"named policy with q and w", []string{"RateLimit-Policy", `"default";q=300;w=30, "burst";q=20;w=1`}, cazbling.RateLimit{N: 300, Window: 30 * time.Second}, true, false},
		{"X-RateLimit-Limit wins over q", []string{"X-RateLimit-Limit", "50", "RateLimit-Policy", "q=70;w=60"}, cazbling.RateLimit{N: 50, Window: time.Minute}, true, false},
		{"policy without a window", []string{"RateLimit-Policy", "q=70"}, cazbling.RateLimit{N: 70, Window: time.Minute}, true, false},
		{"not a number", []string{"X-RateLimit-Limit", "sixty"}, cazbling.RateLimit{}, false, true},
		{"zero", []string{"X-RateLimit-Limit", "0"}, cazbling.RateLimit{}, false, true},
		{"negative", []string{"X-RateLimit-Limit", "-60"}, cazbling.RateLimit{}, false, true},
		{"absurd", []string{"X-RateLimit-Limit", "1000000"}, cazbling.RateLimit{}, false, true},
		{"overflow", []string{"X-RateLimit-Limit", "99999999999999999999999"}, cazbling.RateLimit{}, false, true},
		{"fraction", []string{"X-RateLimit-Limit", "60.5"}, cazbling.RateLimit{}, false, true},
		{"window of a day", []string{"X-RateLimit-Limit", "60", "RateLimit-Policy", "60;w=86400"}, cazbling.RateLimit{}, false, true},
		{"window zero", []string{"X-RateLimit-Limit", "60", "RateLimit-Policy", "60;w=0"}, cazbling.RateLimit{}, false, true},
		{"garbled policy", []string{"X-RateLimit-Limit", "60", "RateLimit-Policy", "lots;w=soon"}, cazbling.RateLimit{}, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			for i := 0; i+1 < len(tt.headers); i += 2 {
				h.Set(tt.headers[i], tt.headers[i+1])
			}
			got, present, bad := advertisedLimit(h)
			if present != tt.present || (bad != "") != tt.bad {
				t.Fatalf("present %v, bad %q; want present %v, bad %v", present, bad, tt.present, tt.bad)
			}
			if present && (got.N != tt.want.N || got.Window != tt.want.Window) {
				t.Fatalf("limit %s, want %s", got, tt.want)
			}
		})
	}
}

// lockedBuffer collects a logger's output from concurrent writers.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// The client paces at what the key's answers advertise, above or below the assumed
// allowance, says so once per change, and ignores (with one warning per value)
// headers that cannot be a limit.
func TestClientLearnsTheAdvertisedLimit(t *testing.T) {
	var mu sync.Mutex
	advertise := []string{"X-RateLimit-Limit", "600"}
	s := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		mu.Lock()
		h := append([]string(nil), advertise...)
		mu.Unlock()
		reply(w, 200, fixture(t, "product.json"), h...)
	})
	var learned []cazbling.RateLimit
	var logs lockedBuffer
	clock := newFakeClock()
	c := s.client(t, clock, func(o *Options) {
		o.RatePerMinute = 0 // the contract's 60
		o.OnLimit = func(l cazbling.RateLimit) { learned = append(learned, l) }
		o.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	})
	get := func() {
		t.Helper()
		if _, err := c.Product(context.Background(), "81234"); err != nil {
			t.Fatal(err)
		}
	}
	if got := c.pace.window.String(); got != "57 per 1m0s" {
		t.Fatalf("before any answer: pacing at %s, want the assumed 57 per 1m0s", got)
	}
	get()
	get()
	if got := c.pace.window.String(); got != "570 per 1m0s" {
		t.Fatalf("after answers advertising 600: pacing at %s, want 570 per 1m0s", got)
	}
	if len(learned) != 1 || learned[0].N != 600 || learned[0].Window != time.Minute || !learned[0].SeenAt.Equal(clock.Now()) {
		t.Fatalf("OnLimit calls %v, want one with 600 per 1m0s seen now", learned)
	}

	for _, garbage := range [][]string{
		{"X-RateLimit-Limit", "banana"}, {"X-RateLimit-Limit", "-1"}, {"X-RateLimit-Limit", "5000000"},
		{"X-RateLimit-Limit", "60", "RateLimit-Policy", "60;w=-3"},
	} {
		mu.Lock()
		advertise = garbage
		mu.Unlock()
		get()
		get()
		if got := c.pace.window.String(); got != "570 per 1m0s" {
			t.Fatalf("after %q: pacing at %s, want 570 per 1m0s unchanged", garbage, got)
		}
	}
	if len(learned) != 1 {
		t.Fatalf("garbage headers reported as limits: %v", learned)
	}
	if n := strings.Count(logs.String(), "cannot be this key's"); n != 4 {
		t.Errorf("%d warnings for 4 distinct bad values sent twice each, want 4:\n%s", n, logs.String())
	}
	if !strings.Contains(logs.String(), "banana") {
		t.Errorf("the warning does not show the bad value:\n%s", logs.String())
	}

	mu.Lock()
	advertise = []string{"X-RateLimit-Limit", "10", "RateLimit-Policy", "10;w=5"}
	mu.Unlock()
	get()
	if got := c.pace.window.String(); got != "9 per 5s" {
		t.Fatalf("after an answer advertising 10 per 5 s: pacing at %s, want 9 per 5s", got)
	}
	if len(learned) != 2 || learned[1].N != 10 || learned[1].Window != 5*time.Second {
		t.Fatalf("OnLimit calls %v, want a second one with 10 per 5s", learned)
	}
	if strings.Contains(logs.String(), testKey) {
		t.Errorf("the API key is in the log:\n%s", logs.String())
	}
}

// A limit learned by an earlier run is used from the first request; one that is not
// plausible is not, and the assumption stands.
func TestClientStartsFromTheLearnedLimit(t *testing.T) {
	tests := []struct {
		learned cazbling.RateLimit
		rpm     int
		want    string
	}{
		{cazbling.RateLimit{N: 600, Window: time.Minute}, 0, "570 per 1m0s"},
		{cazbling.RateLimit{N: 20, Window: time.Minute}, 600, "19 per 1m0s"},
		{cazbling.RateLimit{N: 100, Window: 10 * time.Second}, -1, "95 per 10s"},
		{cazbling.RateLimit{N: -5, Window: time.Minute}, 0, "57 per 1m0s"},
		{cazbling.RateLimit{N: 60, Window: 0}, 0, "57 per 1m0s"},
		{cazbling.RateLimit{}, -1, "unlimited"},
	}
	for _, tt := range tests {
		c, err := New(Options{BaseURL: "https://s623.cazco.link/api/v1/seller", APIKey: testKey, RatePerMinute: tt.rpm, Learned: tt.learned})
		if err != nil {
			t.Fatal(err)
		}
		if got := c.pace.window.String(); got != tt.want {
			t.Errorf("learned %s, RatePerMinute %d: pacing at %s, want %s", tt.learned, tt.rpm, got, tt.want)
		}
	}
}

// A lower limit is held to from the answer that advertises it: with 3 per 5 s, the
// fourth request waits for the window (on the client's clock).
func TestClientHoldsToALowerLimit(t *testing.T) {
	s := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		reply(w, 200, fixture(t, "product.json"), "X-RateLimit-Limit", "3", "RateLimit-Policy", "3;w=5", "X-RateLimit-Remaining", "2")
	})
	clock := newFakeClock()
	c := s.client(t, clock, nil)
	start := clock.Now()
	for range 4 {
		if _, err := c.Product(context.Background(), "81234"); err != nil {
			t.Fatal(err)
		}
	}
	// 95% of 3 is 2: the first request goes under the assumption, then two more fit
	// the learned window, and the fourth waits for the first slot (5 s + guard).
	if waited := clock.Now().Sub(start); waited < 5*time.Second {
		t.Fatalf("4 requests under an advertised 3 per 5 s took %v on the client's clock, want at least 5 s", waited)
	}
}
