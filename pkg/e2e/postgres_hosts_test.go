package e2e

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/cazbling/cazbling/pkg/sandbox"
	"github.com/cazbling/cazbling/pkg/sandbox/cazcosim"
)

// hostsCrontab is the line both hosts run each tick, as a crontab would: every flow of
// every tenant, one after the other.
var hostsCrontab = [][]string{{"sync-products"}, {"sync-stock"}, {"sync-orders"}}

// TestE2EPostgresTwoHostsCrontab: two hosts (processes with their own host names and
// rate-limit folders) run the same crontab-like loop against one PostgreSQL store of
// 30 tenants, every token expired at the first tick, while the sellers' catalogues change
// and orders arrive between ticks. Host A is killed with SIGKILL mid-run once. In the
// end every token was refreshed once, every tenant is active and converged (each product right in CaZco, nothing left
// for retry), every order is in Bling once, Bling saw no invalid_grant, and no tenant's
// flow was worked by both hosts at once (the lease's unit: one tenant's different
// flows may run at once, on one host or two, and share the account's pace).
func TestE2EPostgresTwoHostsCrontab(t *testing.T) {
	const tenants, catalogue, ticks, ordersPerTick = 30, 6, 4, 2
	clock := &sandboxClock{}
	// Token calls unlimited on both sides: at Bling's 20 a minute, 30 activations and
	// 30 refreshes alone would take three minutes.
	a := newRelEnv(t, relConfig{sandbox: func(o *sandbox.Options) { o.Now = clock.now }})
	a.sb.Bling.SetTokenCallsPerMinute(-1)
	dsn := pgEnv(t, a)
	a.vars = setVars(a.vars, "CAZBLING_HOST=host-a", "CAZBLING_BLING_TOKEN_RPM=0")
	b := *a
	b.vars = setVar(setVar(a.vars, "HOME", t.TempDir()), "CAZBLING_HOST", "host-b")

	var tns []tenant
	want := map[string][]cazcosim.Order{}
	began0 := time.Now()
	for i := range tenants {
		tns = append(tns, ordersTenant(t, a, fmt.Sprintf("loja-%02d", i), catalogue))
	}
	began := time.Now()
	t.Logf("%d tenants activated in %v", tenants, time.Since(began0).Round(time.Millisecond))
	rng := rand.New(rand.NewPCG(18, 30))
	change := func(tick int) {
		for _, tn := range tns {
			if tick > 0 { // see below: the first tick runs with the sandbox's clock ahead
				changeCatalogue(t, a, tn, rng, tick)
			}
			for k := range ordersPerTick {
				i := tick*ordersPerTick + k
				o := ordersNew(i, ordersPerson(i%7), "processing", ordersItems(i, 1+i%2, catalogue))
				want[tn.ID] = append(want[tn.ID], ordersAdd(t, a, tn, o))
			}
		}
	}
	if err := a.sb.SetFaults(sandbox.APIBling, sandbox.Faults{Latency: 5 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	clock.ahead.Add(int64(6*time.Hour + time.Minute)) // every access token expired
	a.sb.ResetCounters()

	// Each tick: the catalogues change and orders arrive, then both hosts run the
	// crontab line at once. In one tick host A is killed mid-run: the first of its
	// runs still going 400 ms after it started.
	killed := false
	for tick := range ticks {
		change(tick)
		var wg sync.WaitGroup
		for _, h := range []struct {
			name string
			e    *env
			kill bool
		}{{"host A", a, tick == 1}, {"host B", &b, false}} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for _, args := range hostsCrontab {
					p := relStart(t, h.e, args...)
					if h.kill && !killed && p.killAt(400*time.Millisecond) {
						killed = true
						t.Logf("tick %d: %s killed during %s", tick, h.name, args[0])
						return // the host is gone for the rest of the tick
					}
					r := p.wait(t)
					relNoPanic(t, r)
					if r.code != 0 && r.code != 1 { // 1: some item failed, said in the log
						t.Errorf("tick %d, %s, %s: %s", tick, h.name, args[0], r)
					}
				}
			}()
		}
		wg.Wait()
		t.Logf("tick %d done at %v", tick, time.Since(began).Round(time.Millisecond))
		// The first tick refreshed every token at a clock 6 h ahead, so they stay
		// good once it is right again; products changed at that clock would look
		// changed in the future, so the catalogues change from the second tick on.
		clock.ahead.Store(0)
	}
	if !killed {
		t.Fatal("host A finished every run before it could be killed; the scenario proves nothing")
	}

	// One more tick on both once the killed run's leases have lapsed: converged.
	waitLease()
	for _, e := range []*env{a, &b} {
		for _, args := range hostsCrontab {
			if r := relRun(t, e, args...); r.code != 0 {
				t.Errorf("final tick, %s: %s", args[0], r)
			}
		}
	}

	st := a.sb.Counters().Bling
	if st.TokenCalls != tenants {
		t.Errorf("Bling saw %d token calls; want %d, one refresh per tenant whichever host made it", st.TokenCalls, tenants)
	}
	if st.InvalidGrant != 0 {
		t.Errorf("Bling refused %d refresh tokens with invalid_grant: two hosts refreshed one tenant's token", st.InvalidGrant)
	}
	statuses := tenantStatuses(t, a)
	filed, dups := 0, 0
	for _, tn := range tns {
		if statuses[tn.ID] != "active" {
			t.Errorf("tenant %s is %s, want active", tn.ID, statuses[tn.ID])
		}
		c, d := ordersCheck(t, a, tn, want[tn.ID], nil)
		filed, dups = filed+c, dups+d
		for _, diff := range unexplainedDiffs(t, a, tn, true) {
			t.Errorf("tenant %s: %s", tn.ID, diff)
		}
		for _, s := range staleRetries(t, a, tn) {
			t.Errorf("tenant %s: still left for retry: %s", tn.ID, s)
		}
	}
	overlaps := pgOverlappingRuns(t, dsn)
	for _, o := range overlaps {
		t.Errorf("both hosts worked one tenant's flow at once: %s", o)
	}
	// Each run names the host that ran it (logs --runs -o json): both did some.
	byHost := map[string]int{}
	for _, h := range []string{"host-a", "host-b"} {
		byHost[h] = pgCount(t, dsn, `SELECT count(*) FROM runs WHERE flow <> 'activate' AND split_part(host, ':', 1) = '`+h+`'`)
		if byHost[h] == 0 {
			t.Errorf("no sync run is recorded as run by %s", h)
		}
	}
	if n := pgCount(t, dsn, `SELECT count(*) FROM runs WHERE split_part(host, ':', 1) NOT IN ('host-a', 'host-b')`); n != 0 {
		t.Errorf("%d runs name neither host-a nor host-b as their host", n)
	}
	t.Logf("hosts: 2 on one PostgreSQL store; tenants: %d; ticks: %d; orders filed: %d of %d; duplicates: %d; token calls: %d, invalid_grant: %d; overlapping runs: %d; sync runs by host: %v",
		tenants, ticks, filed, tenants*ticks*ordersPerTick, dups, st.TokenCalls, st.InvalidGrant, len(overlaps), byHost)
}
