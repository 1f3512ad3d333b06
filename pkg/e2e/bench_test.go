package e2e

// The benchmarks of issue 8 (`make bench`, BENCHMARKS.md): the built binary against the
// sandbox, one workload each. Each sets its state up fast (sandbox and binary unpaced),
// then measures one run of the binary with the real pacing and reports wall time,
// requests per API and endpoint (sandbox counters), the floor (the fewest requests the
// workload needs, by the cost model in bench_cost_test.go, divided by the allowed
// rates), wall/floor, CPU time (user+sys) and peak RSS of the cazbling process. The
// set-up helpers are in bench_env_test.go.
//
// They run only with -bench, once each: go test -run '^$' -bench W3 -benchtime 1x ./pkg/e2e/
// CAZBLING_BENCH_SCALE (default 1) multiplies the catalogue and order sizes, for a quick
// trial run (0.1) of the whole suite; CAZBLING_BENCH_CPUPROFILE=dir makes each measured
// run write its CPU profile to dir/<workload>.prof.

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/cazbling/cazbling/pkg/sandbox"
)

// ---------------------------------------------------------------- workloads

// measured is vars for the measured run of workload name: with CAZBLING_BENCH_CPUPROFILE
// set to a folder, the run also writes its CPU profile there (name.prof).
func measured(name string, vars []string) []string {
	if dir := os.Getenv("CAZBLING_BENCH_CPUPROFILE"); dir != "" {
		return append(slices.Clone(vars), "CAZBLING_CPUPROFILE="+filepath.Join(dir, name+".prof"))
	}
	return vars
}

// BenchmarkW1Activate2000 activates a tenant with 2,000 Bling products: the full walk
// (list, detail per product, SKU look-ups), a CaZco create per product and the stock
// sweep. CaZco allows 600/min here.
func BenchmarkW1Activate2000(b *testing.B) {
	for range b.N {
		b.StopTimer()
		n := benchScaled(b, 2000)
		e := newBenchEnv(b)
		tn := e.addTenant("w1")
		c := e.benchSeed(b, tn, n, 1)
		const rpm = 600
		e.limitForMeasuredRun(rpm)

		b.StartTimer()
		// Defaults only: the binary learns the 600 a minute from CaZco's answers.
		proc := e.benchRun(b, measured("W1", e.realPacing()), e.activateArgs(tn, "-q")...)
		b.StopTimer()

		m := e.activationCost(b, tn, c)
		benchReport{
			name: "W1", what: fmt.Sprintf("activate, %d products", n),
			pacing:   "binary defaults (no tuning variable: CaZco's 600/min learned from its X-RateLimit-Limit); sandbox enforces and advertises CaZco 600/min and Bling 3/s per account",
			proc:     proc,
			counters: e.sb.Counters(), model: m, cazcoRPM: rpm, items: n,
		}.report(b)
	}
}

// BenchmarkW2Stock100of5000 runs sync-stock on a tenant with 5,000 linked products,
// 100 of them with changed data and 200 others with changed stock.
func BenchmarkW2Stock100of5000(b *testing.B) {
	for range b.N {
		b.StopTimer()
		n, data, stock := benchScaled(b, 5000), benchScaled(b, 100), benchScaled(b, 200)
		e := newBenchEnv(b)
		tn := e.addTenant("w2")
		c := e.benchSeed(b, tn, n, 1)
		e.benchActivate(b, tn)
		e.benchChange(b, tn, c, data, stock)
		settleCazcoWindow()
		e.limitForMeasuredRun(cazcoPerMinute)

		b.StartTimer()
		proc := e.benchRun(b, measured("W2", e.realPacing()), "sync-stock", "-q")
		b.StopTimer()

		var m costModel
		productsCost(&m, classCounts(c.dataChanged(data, stock)), data, 0, false, 0, c.stockReads(), stock)
		benchReport{
			name: "W2", what: fmt.Sprintf("sync-stock, %d changed (data) and %d stock changes out of %d linked", data, stock, n),
			pacing: realPacingNote, proc: proc,
			counters: e.sb.Counters(), model: m, cazcoRPM: cazcoPerMinute, items: n + data,
		}.report(b)
	}
}

// BenchmarkW3Orders200 runs sync-orders on 200 new CaZco orders of a tenant whose
// products are linked: CPF buyers that repeat, and every 10th order by a company.
func BenchmarkW3Orders200(b *testing.B) {
	for range b.N {
		b.StopTimer()
		size, orders := benchScaled(b, 300), benchScaled(b, 200)
		e := newBenchEnv(b)
		tn := e.addTenant("w3")
		e.benchSeed(b, tn, size, 1)
		e.benchActivate(b, tn)
		buyers := map[string]bool{}
		for i := range orders {
			buyer := ordersPerson(i % max(1, orders*3/4))
			if i%10 == 9 {
				buyer = ordersCompany(i)
			}
			buyers[buyer.Document] = true
			if _, err := e.sb.Cazco.AddOrder(tn.CazcoKey, ordersNew(i, buyer, "processing", ordersItems(i, 1+i%3, size))); err != nil {
				b.Fatal(err)
			}
		}
		settleCazcoWindow()
		e.limitForMeasuredRun(cazcoPerMinute)

		b.StartTimer()
		proc := e.benchRun(b, measured("W3", e.realPacing()), "sync-orders", "-q")
		b.StopTimer()

		if got := len(e.sb.Bling.Orders(tn.ClientID)); got != orders {
			b.Fatalf("Bling holds %d orders, want %d", got, orders)
		}
		var m costModel
		m.add(sandbox.APICazco, "order pages (GET /orders, 100 a page)", ceilDiv(orders, 100))
		m.add(sandbox.APIBling, "look-ups by store number, 100 a call (GET /pedidos/vendas?numerosLojas[])", ceilDiv(orders, 100))
		m.add(sandbox.APIBling, "contact look-ups, one per distinct buyer (GET /contatos)", len(buyers))
		m.add(sandbox.APIBling, "contact creates, one per new buyer (POST /contatos)", len(buyers))
		m.add(sandbox.APIBling, "order creates, one per order (POST /pedidos/vendas)", orders)
		m.add(sandbox.APIBling, "payment methods, once (GET /formas-pagamentos)", 1)
		benchReport{
			name: "W3", what: fmt.Sprintf("sync-orders, %d new orders, %d distinct buyers (all new to Bling)", orders, len(buyers)),
			pacing: realPacingNote, proc: proc,
			counters: e.sb.Counters(), model: m, cazcoRPM: cazcoPerMinute, items: orders,
		}.report(b)
	}
}

// BenchmarkW4FiftyTenants runs sync-stock with the default concurrency for 50 tenants of 500
// linked products each, 50 with changed data and 20 with changed stock per tenant. The
// floor is the largest single tenant's; the process-wide Bling peaks are reported.
func BenchmarkW4FiftyTenants(b *testing.B) {
	for range b.N {
		b.StopTimer()
		tenants, n, data, stock := 50, benchScaled(b, 500), benchScaled(b, 50), benchScaled(b, 20)
		e := newBenchEnv(b)
		all, cats := e.benchTenants(b, "w4", tenants, n)
		for i, tn := range all {
			e.benchChange(b, tn, cats[i], data, stock)
		}
		settleCazcoWindow()
		e.limitForMeasuredRun(cazcoPerMinute)

		b.StartTimer()
		proc := e.benchRun(b, measured("W4", e.realPacing()), "sync-stock", "-q") // default concurrency
		b.StopTimer()

		// The tenants are alike; the floor divides the model's sum back per tenant.
		var m costModel
		for _, c := range cats {
			productsCost(&m, classCounts(c.dataChanged(data, stock)), data, 0, false, 0, c.stockReads(), stock)
		}
		r := benchReport{
			name: "W4", what: fmt.Sprintf("sync-stock (default concurrency), %d tenants × %d linked, %d changed (data) and %d stock changes each", tenants, n, data, stock),
			pacing: realPacingNote, proc: proc, counters: e.sb.Counters(), model: m,
			cazcoRPM: cazcoPerMinute, items: tenants * (n + data), perTenant: tenants,
		}
		r.report(b)
		b.ReportMetric(r.ipFloor(), "ip-floor-s")
	}
}

// BenchmarkW5Store100k runs sync-stock on one tenant with 100,000 linked products (100
// with changed data, 1,000 with changed stock) with no pacing: it measures memory and
// CPU, not rate. Its links are written by the benchmark (benchLink). Before it, a
// tenant of 10,000 products is activated, unpaced, for the memory and CPU of a full
// walk at that size.
func BenchmarkW5Store100k(b *testing.B) {
	for range b.N {
		b.StopTimer()
		n, data, stock, walked := benchScaled(b, 100000), benchScaled(b, 100), benchScaled(b, 1000), benchScaled(b, 10000)
		e := newBenchEnv(b)
		other := e.addTenant("w5-walk")
		e.benchSeed(b, other, walked, 1)
		walk := e.benchActivate(b, other)

		tn := e.addTenant("w5")
		e.benchActivate(b, tn) // registers the tenant; its catalogue is still empty
		c := e.benchSeed(b, tn, n, 10)
		e.benchLink(b, tn, c)
		e.benchChange(b, tn, c, data, stock)
		e.sb.ResetCounters()

		b.StartTimer()
		proc := e.benchRun(b, measured("W5", e.vars), "sync-stock", "-q", "--tenant", tn.ID)
		b.StopTimer()

		var m costModel
		productsCost(&m, classCounts(c.dataChanged(data, stock)), data, 0, false, 0, c.stockReads(), stock)
		r := benchReport{
			name: "W5", what: fmt.Sprintf("sync-stock, %d linked, %d changed (data) and %d stock changes", n, data, stock),
			pacing: "NONE: binary and sandbox unpaced (memory and CPU are measured here, not rate); the floor is what the requests would take at the real limits",
			proc:   proc, counters: e.sb.Counters(), model: m, cazcoRPM: cazcoPerMinute, items: n + data,
		}
		r.report(b)
		fmt.Printf("activate of %d products (another tenant, before), unpaced: wall %.1f s, cpu %.2f s (%.3f ms per product), peak RSS %.1f MB\n",
			walked, walk.wall.Seconds(), walk.cpu().Seconds(), float64(walk.cpu().Microseconds())/1000/float64(walked), float64(walk.maxRSSKiB)/1024)
		b.ReportMetric(float64(walk.maxRSSKiB)/1024, "walk-rss-MB")
		b.ReportMetric(walk.cpu().Seconds(), "walk-cpu-s")
	}
}
