package cazcosim

import (
	"net/http"
	"strconv"
	"testing"
	"time"
)

func TestRateLimit(t *testing.T) {
	const limit = 3
	h := newHarness(t, Options{RatePerMinute: limit})
	remaining := func(r result) string { return r.header.Get("X-RateLimit-Remaining") }
	for i := 1; i <= limit; i++ {
		r := h.do(keyA, http.MethodGet, "/products", "")
		if r.status != http.StatusOK || remaining(r) != strconv.Itoa(limit-i) || r.header.Get("X-RateLimit-Limit") != "3" {
			t.Fatalf("request %d: %d, remaining %s, limit %s", i, r.status, remaining(r), r.header.Get("X-RateLimit-Limit"))
		}
		h.clock.Add(10 * time.Second)
	}
	// 30 s into the window: the next request is refused until it ends, 30 s later.
	r := h.do(keyA, http.MethodGet, "/products", "")
	h.expectError(r, http.StatusTooManyRequests, "rate_limited")
	if r.header.Get("Retry-After") != "30" || remaining(r) != "0" {
		t.Errorf("429: Retry-After %q, remaining %q; want 30, 0", r.header.Get("Retry-After"), remaining(r))
	}
	h.clock.Add(29500 * time.Millisecond)
	r = h.do(keyA, http.MethodPut, "/stock", `{"items":[]}`)
	h.expectError(r, http.StatusTooManyRequests, "rate_limited")
	if r.header.Get("Retry-After") != "1" {
		t.Errorf("Retry-After = %q, want 1 (rounded up)", r.header.Get("Retry-After"))
	}
	if len(h.sim.Writes(keyA)) != 0 {
		t.Error("a refused request was recorded as a write")
	}

	// Another store has its own budget.
	if r := h.do(keyB, http.MethodGet, "/orders", ""); r.status != http.StatusOK || remaining(r) != "2" {
		t.Errorf("store B: %d, remaining %s", r.status, remaining(r))
	}

	h.clock.Add(time.Second)
	r = h.do(keyA, http.MethodGet, "/products/404", "")
	h.expectError(r, http.StatusNotFound, "not_found")
	if remaining(r) != "2" {
		t.Errorf("new window: remaining %s, want 2", remaining(r))
	}

	h.sim.SetRatePerMinute(0)
	for range 5 {
		if r := h.do(keyA, http.MethodGet, "/products", ""); r.status != http.StatusOK {
			t.Fatalf("unlimited: %d", r.status)
		}
	}
}

// A limit counted over another window than a minute is enforced over it and
// advertised in RateLimit-Policy; advertised headers can be made to lie while the true
// limit still holds.
func TestRateLimitWindowAndAdvertised(t *testing.T) {
	h := newHarness(t, Options{RatePerMinute: 2, Window: 5 * time.Second})
	for i := range 2 {
		r := h.do(keyA, http.MethodGet, "/products", "")
		if r.status != http.StatusOK || r.header.Get("RateLimit-Policy") != "2;w=5" || r.header.Get("X-RateLimit-Limit") != "2" {
			t.Fatalf("request %d: %d, policy %q, limit %q", i, r.status, r.header.Get("RateLimit-Policy"), r.header.Get("X-RateLimit-Limit"))
		}
	}
	r := h.do(keyA, http.MethodGet, "/products", "")
	h.expectError(r, http.StatusTooManyRequests, "rate_limited")
	if r.header.Get("Retry-After") != "5" {
		t.Errorf("Retry-After %q, want 5", r.header.Get("Retry-After"))
	}
	h.clock.Add(5 * time.Second)
	if r := h.do(keyA, http.MethodGet, "/products", ""); r.status != http.StatusOK {
		t.Fatalf("next window: %d", r.status)
	}

	h.sim.SetAdvertised(http.Header{"X-RateLimit-Limit": {"banana"}, "RateLimit-Policy": {""}})
	h.lying = true
	r = h.do(keyA, http.MethodGet, "/products", "")
	if r.status != http.StatusOK || r.header.Get("X-RateLimit-Limit") != "banana" || r.header.Get("RateLimit-Policy") != "" {
		t.Fatalf("lying headers: %d, limit %q, policy %q", r.status, r.header.Get("X-RateLimit-Limit"), r.header.Get("RateLimit-Policy"))
	}
	h.expectError(h.do(keyA, http.MethodGet, "/products", ""), http.StatusTooManyRequests, "rate_limited")

	h.sim.SetAdvertised(nil)
	h.lying = false
	h.sim.SetRateLimit(3, 0) // per minute again: no policy header
	if r := h.do(keyA, http.MethodGet, "/products", ""); r.status != http.StatusOK || r.header.Get("RateLimit-Policy") != "" || r.header.Get("X-RateLimit-Limit") != "3" {
		t.Fatalf("per minute: %d, policy %q, limit %q", r.status, r.header.Get("RateLimit-Policy"), r.header.Get("X-RateLimit-Limit"))
	}
}
