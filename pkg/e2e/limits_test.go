package e2e

import (
	"bytes"
	"context"
	"database/sql"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cazbling/cazbling/pkg/sandbox"
)

// assumedEnv is an env whose binary runs with the default CaZco assumption (60 a
// minute, paced at 57) instead of the suite's unpaced setting, against a sandbox whose
// CaZco enforces n requests per window.
func assumedEnv(t *testing.T, n int, window time.Duration) *env {
	t.Helper()
	e := newEnv(t)
	e.sb.Cazco.SetRateLimit(n, window)
	vars := e.vars[:0:0]
	for _, v := range e.vars {
		if !strings.HasPrefix(v, "CAZBLING_CAZCO_RPM=") {
			vars = append(vars, v)
		}
	}
	e.vars = vars
	return e
}

// learnedLimit reads the CaZco limit the store keeps for tenant: requests, window.
func learnedLimit(t *testing.T, e *env, tenant string) (int, time.Duration, bool) {
	t.Helper()
	db := openStoreDB(t, e, "mode=ro&_busy_timeout=5000")
	defer db.Close()
	var n, ms int64
	err := db.QueryRow(`SELECT per_window, window_ms FROM api_limits WHERE tenant_id = ? AND api = 'cazco'`, tenant).Scan(&n, &ms)
	if err == sql.ErrNoRows {
		return 0, 0, false
	}
	if err != nil {
		t.Fatal(err)
	}
	return int(n), time.Duration(ms) * time.Millisecond, true
}

func cazcoServed(e *env) (total, refused int) {
	c := e.sb.Counters()
	return c.Count(sandbox.APICazco, "", "", 0), c.Count(sandbox.APICazco, "", "", http.StatusTooManyRequests)
}

// A CaZco that advertises a higher limit than the assumed 60 a minute is used at
// that limit from its first answer on, and the next run starts from it.
func TestE2ECazcoHigherAdvertisedLimitIsUsed(t *testing.T) {
	e := assumedEnv(t, 600, 0)
	tn := e.addTenant("loja-rapida")
	e.seedCatalogue(tn, 80, func(i int) int64 { return int64(i % 4) })
	r := e.mustRun(0, e.activateArgs(tn)...)
	total, refused := cazcoServed(e)
	peak := e.sb.Counters().Peaks[sandbox.APICazco].Per10Secs
	t.Logf("activation: %d CaZco requests, %d refused, busiest 10 s %d", total, refused, peak)
	if refused != 0 {
		t.Errorf("%d CaZco requests refused with 429", refused)
	}
	// At the assumed 60 a minute no 10 s could hold more than 57.
	if peak <= 57 {
		t.Errorf("busiest 10 s held %d CaZco requests: the advertised 600 a minute was not used", peak)
	}
	if !strings.Contains(r.stderr, "pacing to it") {
		t.Errorf("the run does not say it paces at the advertised limit:\n%s", r.stderr)
	}
	if n, w, ok := learnedLimit(t, e, tn.ID); !ok || n != 600 || w != time.Minute {
		t.Fatalf("store keeps %d per %v (found %v), want 600 per 1m0s", n, w, ok)
	}
	// The next run starts at 600: nothing new to learn, nothing said.
	r = e.mustRun(0, "sync-stock", "--log-level", "info")
	if strings.Contains(r.stderr, "pacing to it") {
		t.Errorf("the second run learned the limit again instead of starting from the stored one:\n%s", r.stderr)
	}
}

// A CaZco that advertises a lower limit (here 10 per 5 s, its window in
// RateLimit-Policy) is held to from its first answer: no request is refused, though
// the assumed 60 a minute would have drawn 429s within seconds.
func TestE2ECazcoLowerAdvertisedLimitIsRespected(t *testing.T) {
	e := assumedEnv(t, 10, 5*time.Second)
	tn := e.addTenant("loja-lenta")
	e.seedCatalogue(tn, 30, func(i int) int64 { return int64(i % 3) })
	e.mustRun(0, e.activateArgs(tn)...)
	total, refused := cazcoServed(e)
	peak := e.sb.Counters().Peaks[sandbox.APICazco].Per10Secs
	t.Logf("activation: %d CaZco requests, %d refused, busiest 10 s %d", total, refused, peak)
	if total < 30 {
		t.Fatalf("only %d CaZco requests for 30 products", total)
	}
	if refused != 0 {
		t.Errorf("%d CaZco requests refused with 429: the advertised 10 per 5 s was exceeded", refused)
	}
	if peak > 20 {
		t.Errorf("busiest 10 s held %d CaZco requests, more than two 5 s windows of 10", peak)
	}
	if n, w, ok := learnedLimit(t, e, tn.ID); !ok || n != 10 || w != 5*time.Second {
		t.Errorf("store keeps %d per %v (found %v), want 10 per 5s", n, w, ok)
	}
}

// Headers that cannot be a limit change nothing: the client paces at its assumption
// (57 in the first minute, then it waits), warns, and keeps nothing. Trusting
// "1000000" would have let all of the activation's requests through at once.
func TestE2ECazcoGarbageLimitHeadersChangeNothing(t *testing.T) {
	for _, garbage := range []string{"1000000", "banana", "-5"} {
		t.Run(garbage, func(t *testing.T) {
			e := assumedEnv(t, 600, 0)
			e.sb.Cazco.SetAdvertised(http.Header{"X-RateLimit-Limit": {garbage}})
			tn := e.addTenant("loja-lixo")
			e.seedCatalogue(tn, 80, func(i int) int64 { return int64(i % 4) })
			cmd := e.command(context.Background(), e.activateArgs(tn)...)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			// Wait until the requests stop coming (the assumed minute is spent), then
			// stop the run: the rest would go a minute later.
			last, still := -1, time.Now()
			for time.Since(still) < 3*time.Second {
				select {
				case err := <-done:
					t.Fatalf("activation ended (%v) before the assumed limit held it:\n%s", err, stderr.String())
				case <-time.After(100 * time.Millisecond):
				}
				if n, _ := cazcoServed(e); n != last {
					last, still = n, time.Now()
				}
			}
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
			total, refused := cazcoServed(e)
			t.Logf("X-RateLimit-Limit %q: %d CaZco requests before the run paused, %d refused", garbage, total, refused)
			if total != 57 {
				t.Errorf("%d CaZco requests in the first minute, want the assumption's 57", total)
			}
			if refused != 0 {
				t.Errorf("%d requests refused", refused)
			}
			if !strings.Contains(stderr.String(), "cannot be this key's") || !strings.Contains(stderr.String(), garbage) {
				t.Errorf("no warning naming the bad header:\n%s", stderr.String())
			}
			if n, w, ok := learnedLimit(t, e, tn.ID); ok {
				t.Errorf("store keeps %d per %v learned from garbage", n, w)
			}
		})
	}
}
