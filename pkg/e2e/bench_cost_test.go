package e2e

import (
	"fmt"
	"io"
	"os"
	"testing"

	"github.com/cazbling/cazbling/pkg/sandbox"
)

// ---------------------------------------------------------------- cost model

// costTerm is one kind of request a workload cannot do without, and how many.
type costTerm struct {
	api, what string
	n         int
}

// costModel is the fewest requests a workload needs, term by term.
type costModel []costTerm

func (m *costModel) add(api, what string, n int) {
	if n > 0 {
		*m = append(*m, costTerm{api, what, n})
	}
}

func (m costModel) total(api string) int {
	n := 0
	for _, t := range m {
		if t.api == api {
			n += t.n
		}
	}
	return n
}

// listPages is how many pages of 100 a listing of n items takes: a full last page
// needs one more (empty) page to show that it was the last.
func listPages(n int) int { return n/100 + 1 }

func ceilDiv(a, b int) int { return (a + b - 1) / b }

// productsCost adds the model's cost of pushing `changed` new or changed products
// found by a listing (a full walk, or a window), listed by stock class, `unlinked` of
// them without a link, and then sweeping stock: changedLevels levels to write. A full
// walk lists the CaZco store (storeSize products) once and asks Bling about every SKU;
// a window asks only about the SKUs no link vouches for, and CaZco about the SKUs
// without a link.
func productsCost(m *costModel, listed [3]int, changed, unlinked int, full bool, storeSize, stockReads, changedLevels int) {
	pages := 0
	for _, n := range listed {
		pages += listPages(n)
	}
	m.add(sandbox.APIBling, "list pages, one listing per stock class (GET /produtos?filtroSaldoEstoque=1, 0, 2; 100 a page)", pages)
	m.add(sandbox.APIBling, "detail reads, one per new/changed product (GET /produtos/{id})", changed)
	if full {
		m.add(sandbox.APIBling, "SKU look-ups, every SKU, 100 a call under each stock class (GET /produtos?codigos[])", 3*ceilDiv(changed, 100))
		m.add(sandbox.APICazco, "store count and listing, once per full walk (GET /products, 100 a page; no listing when empty)", 1+ceilDiv(storeSize, 100))
	} else {
		m.add(sandbox.APIBling, "SKU look-ups, products no link vouches for, 100 a call under each stock class (GET /produtos?codigos[])", 3*ceilDiv(unlinked, 100))
		m.add(sandbox.APICazco, "look-ups by SKU, one per product without a link (GET /products?sku)", unlinked)
	}
	m.add(sandbox.APIBling, "stock reads, 100 linked ids a call in their balance's class (GET /estoques/saldos)", stockReads)
	m.add(sandbox.APICazco, "product writes, one per new/changed product (POST /products, PUT /products/{id})", changed)
	m.add(sandbox.APICazco, "stock batches, one per 100 changed levels (PUT /stock)", ceilDiv(changedLevels, 100))
}

// ---------------------------------------------------------------- report

// benchReport is the outcome of one measured run.
type benchReport struct {
	name      string
	what      string
	pacing    string
	proc      benchProc
	counters  sandbox.Counters
	model     costModel
	cazcoRPM  int // CaZco's allowed rate per key in the measured run
	items     int // items processed, for CPU per item
	perTenant int // tenants sharing the counters (W4); the floor is per tenant
}

// floor is the time the model's requests take at the allowed rates, for the API that
// takes longest: per tenant when several tenants share the counters (each has its own
// limits).
func (r benchReport) floor() (float64, string) {
	tenants := max(1, r.perTenant)
	bling := float64(r.model.total(sandbox.APIBling)) / float64(tenants) / blingPerSecond
	cazco := float64(r.model.total(sandbox.APICazco)) / float64(tenants) / (float64(r.cazcoRPM) / 60)
	if r.cazcoRPM <= 0 {
		cazco = 0
	}
	if cazco > bling {
		return cazco, "CaZco"
	}
	return bling, "Bling"
}

// ipFloor is the time the Bling requests of all tenants take at Bling's per-IP limit.
func (r benchReport) ipFloor() float64 {
	return float64(r.model.total(sandbox.APIBling)) / (blingIPPer10s / 10.0)
}

func (r benchReport) print(w io.Writer) {
	floor, by := r.floor()
	wall := r.proc.wall.Seconds()
	fmt.Fprintf(w, "\n=== %s: %s\n", r.name, r.what)
	fmt.Fprintf(w, "pacing: %s\n", r.pacing)
	fmt.Fprintf(w, "wall %.1f s   floor %.1f s (%s-bound)   wall/floor %.2f\n", wall, floor, by, wall/floor)
	if r.perTenant > 1 {
		fmt.Fprintf(w, "process-wide Bling floor at the per-IP limit (600/10 s): %.1f s; wall/that %.2f\n", r.ipFloor(), wall/r.ipFloor())
	}
	fmt.Fprintf(w, "cpu %.2f s (user %.2f + sys %.2f) = %.3f ms per item over %d items\n",
		r.proc.cpu().Seconds(), r.proc.user.Seconds(), r.proc.sys.Seconds(),
		float64(r.proc.cpu().Microseconds())/1000/float64(max(1, r.items)), r.items)
	fmt.Fprintf(w, "peak RSS %.1f MB (VmHWM; wait4's ru_maxrss says %.1f MB, which counts this benchmark process: see benchProc)\n",
		float64(r.proc.maxRSSKiB)/1024, float64(r.proc.rusageMaxRSSKiB)/1024)
	for _, api := range []string{sandbox.APIBling, sandbox.APICazco} {
		pk := r.counters.Peaks[api]
		fmt.Fprintf(w, "%-6s requests %5d  (model minimum %d)  peak %d in 1 s, %d in 10 s  429s %d\n",
			api, r.counters.Count(api, "", "", 0), r.model.total(api), pk.PerSecond, pk.Per10Secs, r.counters.Count(api, "", "", 429))
		for _, row := range r.counters.Requests {
			if row.API == api {
				fmt.Fprintf(w, "         %-6s %-28s %3d  %6d\n", row.Method, row.Route, row.Status, row.Count)
			}
		}
	}
	fmt.Fprintf(w, "cost model (fewest requests):\n")
	for _, t := range r.model {
		fmt.Fprintf(w, "  %-6s %6d  %s\n", t.api, t.n, t.what)
	}
}

func (r benchReport) report(b *testing.B) {
	r.print(os.Stdout)
	floor, _ := r.floor()
	wall := r.proc.wall.Seconds()
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(wall, "wall-s")
	b.ReportMetric(floor, "floor-s")
	b.ReportMetric(wall/floor, "wall/floor")
	b.ReportMetric(float64(r.counters.Count(sandbox.APIBling, "", "", 0)), "bling-req")
	b.ReportMetric(float64(r.counters.Count(sandbox.APICazco, "", "", 0)), "cazco-req")
	b.ReportMetric(float64(r.counters.Peaks[sandbox.APIBling].PerSecond), "bling-peak/1s")
	b.ReportMetric(float64(r.counters.Peaks[sandbox.APIBling].Per10Secs), "bling-peak/10s")
	b.ReportMetric(r.proc.cpu().Seconds(), "cpu-s")
	b.ReportMetric(float64(r.proc.cpu().Microseconds())/1000/float64(max(1, r.items)), "cpu-ms/item")
	b.ReportMetric(float64(r.proc.maxRSSKiB)/1024, "rss-MB")
}

const realPacingNote = "binary defaults (Bling 2.8/s per account, and per process at most CAZBLING_BLING_IP_RATE's default × 10 in any 10 s; CaZco at most 95% of 60 in any minute per key); " +
	"sandbox enforces CaZco's 60/min per key and Bling's 3/s per account (the process-wide peaks are reported)"
