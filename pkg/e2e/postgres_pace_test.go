package e2e

import (
	"testing"
	"time"
)

// TestE2EPostgresHostsPaceAnAccountTogether: two hosts (their own rate-limit folders,
// as on two machines) work one tenant at once, one filing its orders and one walking
// its stock, against a sandbox that enforces Bling's 3 requests a second per account.
// Each host paces at 2.8 a second; had each paced alone, the account would see twice
// that. With the pace kept in the store, Bling answers no 429.
func TestE2EPostgresHostsPaceAnAccountTogether(t *testing.T) {
	const catalogue, orders = 20, 8
	a := newEnv(t)
	pgEnv(t, a)
	tn := ordersTenant(t, a, "loja-pace", catalogue)
	for i := range orders {
		ordersAdd(t, a, tn, ordersNew(i, ordersPerson(i%5), "processing", ordersItems(i, 1+i%2, catalogue)))
	}
	a.vars = setVar(a.vars, "CAZBLING_BLING_RATE", "2.8")
	b := *a
	b.vars = setVar(a.vars, "HOME", t.TempDir())
	a.sb.Bling.SetRatePerSecond(3)
	a.sb.ResetCounters()

	pa, pb := relStart(t, a, "sync-orders"), relStart(t, &b, "sync-products", "--full")
	ra, rb := pa.wait(t), pb.wait(t)
	for name, r := range map[string]result{"host A (sync-orders)": ra, "host B (sync-products --full)": rb} {
		relNoPanic(t, r)
		if r.code != 0 {
			t.Errorf("%s: %s", name, r)
		}
	}
	// Both runs must have been at work together for the scenario to say anything.
	end, start := pa.started.Add(pa.took), pa.started
	if e := pb.started.Add(pb.took); e.Before(end) {
		end = e
	}
	if pb.started.After(start) {
		start = pb.started
	}
	overlap := end.Sub(start)
	st := a.sb.Counters().Bling
	t.Logf("Bling requests %d, 429s %d; runs took %v and %v, together for %v", st.Requests, st.RateLimitedSecond, pa.took, pb.took, overlap)
	if overlap < 2*time.Second {
		t.Fatalf("the two runs overlapped only %v; the scenario needs them at work together", overlap)
	}
	if st.RateLimitedSecond != 0 {
		t.Errorf("Bling answered %d requests of the account with 429: the hosts did not pace it together", st.RateLimitedSecond)
	}
}
