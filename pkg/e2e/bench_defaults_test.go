package e2e

// The benchmarks of issue 16: runs with the binary's defaults only (no tuning
// variable, no --concurrency), where what the APIs allow must be found by the binary
// itself: many tenants at once, an activation of 100,000 products, and one at CaZco's
// assumed 60 a minute.

import (
	"fmt"
	"testing"

	"github.com/cazbling/cazbling/pkg/sandbox"
)

// BenchmarkW6TwentyTenants runs sync-stock with the defaults for 20 tenants of 300
// linked products, 10 with changed data and 20 with changed stock each. The floor is
// the larger of the slowest tenant's (Bling 3/s per account, CaZco 60/min per key)
// and the Bling requests of all tenants at the per-IP 50/s that cazbling allows
// itself (issue 8: at most 500 in any 10 s; Bling blocks at 600).
func BenchmarkW6TwentyTenants(b *testing.B) {
	for range b.N {
		b.StopTimer()
		tenants, n, data, stock := 20, benchScaled(b, 300), benchScaled(b, 10), benchScaled(b, 20)
		e := newBenchEnv(b)
		all, cats := e.benchTenants(b, "w6", tenants, n)
		for i, tn := range all {
			e.benchChange(b, tn, cats[i], data, stock)
		}
		settleCazcoWindow()
		e.limitForMeasuredRun(cazcoPerMinute)

		b.StartTimer()
		proc := e.benchRun(b, measured("W6", e.realPacing()), "sync-stock", "-q")
		b.StopTimer()

		var m costModel
		for _, c := range cats {
			productsCost(&m, classCounts(c.dataChanged(data, stock)), data, 0, false, 0, c.stockReads(), stock)
		}
		r := benchReport{
			name: "W6", what: fmt.Sprintf("sync-stock (defaults), %d tenants × %d linked, %d changed (data) and %d stock changes each", tenants, n, data, stock),
			pacing: realPacingNote, proc: proc, counters: e.sb.Counters(), model: m,
			cazcoRPM: cazcoPerMinute, items: tenants * (n + data), perTenant: tenants,
		}
		r.report(b)
		tenantFloor, by := r.floor()
		ipFloor := float64(m.total(sandbox.APIBling)) / 50
		floor := max(tenantFloor, ipFloor)
		if ipFloor > tenantFloor {
			by = "Bling per IP at 50/s"
		}
		fmt.Printf("W6 floor %.1f s (%s): per tenant %.1f s, all tenants' Bling requests at 50/s %.1f s; wall/floor %.2f\n",
			floor, by, tenantFloor, ipFloor, proc.wall.Seconds()/floor)
		b.ReportMetric(floor, "floor-s")
		b.ReportMetric(proc.wall.Seconds()/floor, "wall/floor")
	}
}

// BenchmarkW7Activate100k activates one tenant of 100,000 products, unpaced: the
// wall, CPU and peak memory of the biggest full walk (the rate limits would make it
// take about 10 hours at Bling's 3/s: the floor is that).
func BenchmarkW7Activate100k(b *testing.B) {
	for range b.N {
		b.StopTimer()
		n := benchScaled(b, 100000)
		e := newBenchEnv(b)
		tn := e.addTenant("w7")
		c := e.benchSeed(b, tn, n, 10)
		e.sb.ResetCounters()

		b.StartTimer()
		proc := e.benchRun(b, measured("W7", e.vars), e.activateArgs(tn, "-q")...)
		b.StopTimer()

		m := e.activationCost(b, tn, c)
		benchReport{
			name: "W7", what: fmt.Sprintf("activate, %d products", n),
			pacing: "NONE: binary and sandbox unpaced (wall, memory and CPU of the walk); the floor is what the requests would take at the real limits",
			proc:   proc, counters: e.sb.Counters(), model: m, cazcoRPM: cazcoPerMinute, items: n,
		}.report(b)
	}
}

// BenchmarkW8ActivateAt60 activates a tenant of 200 products against a CaZco that
// allows (and advertises) the contract's 60 a minute, with the defaults: CaZco-bound.
func BenchmarkW8ActivateAt60(b *testing.B) {
	for range b.N {
		b.StopTimer()
		n := benchScaled(b, 200)
		e := newBenchEnv(b)
		tn := e.addTenant("w8")
		c := e.benchSeed(b, tn, n, 1)
		e.limitForMeasuredRun(cazcoPerMinute)

		b.StartTimer()
		proc := e.benchRun(b, measured("W8", e.realPacing()), e.activateArgs(tn, "-q")...)
		b.StopTimer()

		m := e.activationCost(b, tn, c)
		benchReport{
			name: "W8", what: fmt.Sprintf("activate, %d products, CaZco at 60/min", n),
			pacing: realPacingNote, proc: proc, counters: e.sb.Counters(), model: m,
			cazcoRPM: cazcoPerMinute, items: n,
		}.report(b)
	}
}

// activationCost checks that an activation of catalogue c put every product in tn's
// CaZco store, and returns the model's cost of that activation: the checks, the full
// walk of an empty store and the sweep.
func (e *env) activationCost(b *testing.B, tn tenant, c catalogue) costModel {
	b.Helper()
	n := len(c.ids)
	if got := len(e.sb.Cazco.Products(tn.CazcoKey)); got != n {
		b.Fatalf("CaZco holds %d products after activation, want %d", got, n)
	}
	var m costModel
	m.add(sandbox.APIBling, "token exchange, company, deposits (activation checks)", 3)
	m.add(sandbox.APICazco, "store check (activation)", 1)
	productsCost(&m, classCounts(c.virtual), n, n, true, 0, c.stockReads(), n)
	return m
}
