package blingsim

import (
	"net/http"
	"sync"
	"testing"
	"time"
)

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
