package e2e

// The benchmarks of issue 8 (`make bench`, BENCHMARKS.md): the built binary against the
// sandbox, one workload each. Each sets its state up fast (sandbox and binary unpaced),
// then measures one run of the binary with the real pacing and reports wall time,
// requests per API and endpoint (sandbox counters), the floor (the fewest requests the
// workload needs, by the cost model below, divided by the allowed rates), wall/floor,
// CPU time (user+sys) and peak RSS of the cazbling process.
//
// They run only with -bench, once each: go test -run '^$' -bench W3 -benchtime 1x ./pkg/e2e/
// CAZBLING_BENCH_SCALE (default 1) multiplies the catalogue and order sizes, for a quick
// trial run (0.1) of the whole suite; CAZBLING_BENCH_CPUPROFILE=dir makes each measured
// run write its CPU profile to dir/<workload>.prof.

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/cazbling/cazbling/pkg/cazbling"
	"github.com/cazbling/cazbling/pkg/sandbox"
	"github.com/cazbling/cazbling/pkg/sandbox/blingsim"
	"github.com/cazbling/cazbling/pkg/sandbox/cazcosim"
	"github.com/cazbling/cazbling/pkg/store/sqlite"
)

// The real limits the floors are computed against.
const (
	blingPerSecond   = 3.0 // per Bling account
	blingIPPer10s    = 600 // per IP: Bling blocks the IP above this
	cazcoPerMinute   = 60  // per CaZco key (CAZCO.md), unless a workload says otherwise
	benchRunDeadline = 90 * time.Minute
)

// benchScaled is n times CAZBLING_BENCH_SCALE (at least 1).
func benchScaled(b *testing.B, n int) int {
	s := os.Getenv("CAZBLING_BENCH_SCALE")
	if s == "" {
		return n
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f <= 0 {
		b.Fatalf("CAZBLING_BENCH_SCALE=%q: want a positive number", s)
	}
	return max(1, int(math.Round(float64(n)*f)))
}

// newBenchEnv is newEnv for a benchmark: an empty sandbox with no limits (the measured
// phase sets CaZco's per key and Bling's 3/s per account; the sandbox has no per-IP
// request limit to set, only Bling's 20 token calls a minute, on throughout), and the
// binary's environment for the unpaced set-up runs.
func newBenchEnv(b *testing.B) *env {
	b.Helper()
	sb, err := sandbox.New(sandbox.Options{Seed: sandbox.SeedEmpty, BlingRate: -1, CazcoRatePerMinute: 0})
	if err != nil {
		b.Fatal(err)
	}
	base, err := sb.Start("127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = sb.Close() })
	dir := b.TempDir()
	key := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))
	return &env{sb: sb, base: base, dir: dir, vars: []string{
		"CAZBLING_DB=" + filepath.Join(dir, "store", "cazbling.db"),
		"CAZBLING_KEY=" + key,
		"CAZBLING_BLING_RATE=0",
		"CAZBLING_BLING_IP_RATE=0",
		"CAZBLING_CAZCO_RPM=0",
		"CAZBLING_RETRY_BASE=20ms",
		"CAZBLING_MARGIN=1ms", // sandbox data is made "now": read up to now
		"HOME=" + dir,
		"PATH=" + os.Getenv("PATH"),
	}}
}

// realPacing is the environment of a measured run: the binary's default pacing and
// retry settings (the tuning variables removed), plus extra.
func (e *env) realPacing(extra ...string) []string {
	drop := []string{"CAZBLING_BLING_RATE=", "CAZBLING_BLING_IP_RATE=", "CAZBLING_CAZCO_RPM=", "CAZBLING_RETRY_BASE="}
	var out []string
	for _, v := range e.vars {
		if !slices.ContainsFunc(drop, func(p string) bool { return strings.HasPrefix(v, p) }) {
			out = append(out, v)
		}
	}
	return append(out, extra...)
}

// benchProc is one finished run of the binary, with its resource usage.
type benchProc struct {
	args      []string
	wall      time.Duration
	user, sys time.Duration
	maxRSSKiB int64 // VmHWM of the process, KiB
	// rusageMaxRSSKiB is wait4's ru_maxrss. It is not used: Go starts children with
	// vfork semantics (CLONE_VM), and Linux records the parent's peak RSS into the
	// child's at exec, so it shows the benchmark process (and its sandbox) instead.
	rusageMaxRSSKiB int64
	code            int
	stdout          string
	stderr          string // the log, cut to its last lines
}

func (p benchProc) cpu() time.Duration { return p.user + p.sys }

// benchRun runs the binary to its end with vars and records wall time, CPU and peak
// RSS. It fails the benchmark unless the exit code is 0.
func (e *env) benchRun(b *testing.B, vars []string, args ...string) benchProc {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), benchRunDeadline)
	defer cancel()
	cmd := e.command(ctx, args...)
	cmd.Env = vars
	var out bytes.Buffer
	logPath := filepath.Join(e.dir, "run.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		b.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = &out, logFile
	start := time.Now()
	if err := cmd.Start(); err != nil {
		b.Fatalf("start %v: %v", args, err)
	}
	hwm := make(chan int64)
	stop := make(chan struct{})
	go func() { hwm <- pollHWM(cmd.Process.Pid, stop) }()
	err = cmd.Wait()
	wall := time.Since(start)
	close(stop)
	_ = logFile.Close()
	p := benchProc{args: args, wall: wall, stdout: out.String(), stderr: tail(logPath, 40), maxRSSKiB: <-hwm}
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			b.Fatalf("run %v: %v", args, err)
		}
		p.code = ee.ExitCode()
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		p.user = time.Duration(ru.Utime.Nano())
		p.sys = time.Duration(ru.Stime.Nano())
		p.rusageMaxRSSKiB = ru.Maxrss
	}
	if p.code != 0 {
		b.Fatalf("cazbling %s: exit %d\nstdout:\n%s\nlog (end):\n%s", strings.Join(redactArgs(args), " "), p.code, p.stdout, p.stderr)
	}
	return p
}

// pollHWM samples the peak resident set (VmHWM, KiB) of process pid every 20 ms
// until stop is closed, and returns the last value read: the peak up to the last
// sample before the process exited.
func pollHWM(pid int, stop <-chan struct{}) int64 {
	path := fmt.Sprintf("/proc/%d/status", pid)
	var peak int64
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		if data, err := os.ReadFile(path); err == nil {
			for line := range strings.SplitSeq(string(data), "\n") {
				if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
					kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
					if err == nil && kb > peak {
						peak = kb
					}
				}
			}
		}
		select {
		case <-stop:
			return peak
		case <-tick.C:
		}
	}
}

// redactArgs hides the secret flags' values in a failure message.
func redactArgs(args []string) []string {
	out := slices.Clone(args)
	for i := 1; i < len(out); i++ {
		switch out[i-1] {
		case "--bling-client-secret", "--bling-code", "--cazco-api-key":
			out[i] = "…"
		}
	}
	return out
}

// tail is the last n lines of a file.
func tail(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// ---------------------------------------------------------------- data

// catalogue is a seeded Bling catalogue: SKU-00000 … in SKU order (the order the stock
// sweep reads the links in), with each product's Bling id and virtual balance as the
// benchmark set them (kept here: the sandbox's own balance read scans the whole
// account, too slow at 100,000 products).
type catalogue struct {
	ids     []int64
	virtual []int64
}

// benchSeed puts n simple products in tn's Bling account, created 30 days ago (so
// that only the products a workload changes are in a changed-since window), with
// stock i%17 in the default deposit (about one product in 17 at zero, as in a real
// catalogue). With stockEvery > 1 only every stockEvery-th product gets stock (the
// others are at zero): the sandbox's SetStock scans the whole account, so seeding
// 100,000 balances would take many minutes.
func (e *env) benchSeed(b *testing.B, tn tenant, n, stockEvery int) catalogue {
	b.Helper()
	if n > 100000 {
		b.Fatalf("SKU-%%05d holds 100,000 products, not %d", n)
	}
	past := time.Now().Add(-30 * 24 * time.Hour)
	c := catalogue{ids: make([]int64, n), virtual: make([]int64, n)}
	for i := range n {
		sku := fmt.Sprintf("SKU-%05d", i)
		p := blingProduct(sku, fmt.Sprintf("Produto de Teste %d", i), fmt.Sprintf("%d.%02d", 10+i%90, i%100))
		p.DataInclusao = past
		id := e.sb.Bling.PutProduct(tn.ClientID, p)
		if id == 0 {
			b.Fatalf("seed %s: no id", sku)
		}
		c.ids[i] = id
		if i%max(1, stockEvery) == 0 {
			c.virtual[i] = int64(i % 17)
			if err := e.sb.Bling.SetStock(tn.ClientID, id, 0, decimal.NewFromInt(c.virtual[i])); err != nil {
				b.Fatal(err)
			}
		}
	}
	return c
}

// benchChange changes the data (price and name) of `data` products of c and the
// stock of `stock` other products (every 10th to zero, every 50th oversold: reserved
// above physical, a negative virtual balance), spread over the catalogue.
func (e *env) benchChange(b *testing.B, tn tenant, c catalogue, data, stock int) {
	b.Helper()
	n := len(c.ids)
	if data+stock > n {
		b.Fatalf("cannot change %d+%d of %d products", data, stock, n)
	}
	step := n / (data + stock)
	for k := range data + stock {
		i := k * step
		id := c.ids[i]
		if k < data {
			p, ok := e.sb.Bling.Product(tn.ClientID, id)
			if !ok {
				b.Fatalf("product %d not found", id)
			}
			p.Preco = blingsim.MustNumber(fmt.Sprintf("%d.90", 100+k))
			p.Nome += " (nova versão)"
			p.Variacoes = nil
			e.sb.Bling.PutProduct(tn.ClientID, p)
			continue
		}
		qty := int64(40 + k%7)
		c.virtual[i] = qty
		switch {
		case k%10 == 0:
			qty, c.virtual[i] = 0, 0
		case k%50 == 1:
			if err := e.sb.Bling.SetReserved(tn.ClientID, id, 0, decimal.NewFromInt(qty+3)); err != nil {
				b.Fatal(err)
			}
			c.virtual[i] = -3
		}
		if err := e.sb.Bling.SetStock(tn.ClientID, id, 0, decimal.NewFromInt(qty)); err != nil {
			b.Fatal(err)
		}
	}
}

// stockReads is the model's count of GET /estoques/saldos for the sweep of c (every
// product linked): 100 ids a call, each asked in the stock class (filtroSaldoEstoque)
// of its balance.
func (c catalogue) stockReads() int {
	reads := 0
	for _, n := range classCounts(c.virtual) {
		reads += ceilDiv(n, 100)
	}
	return reads
}

// dataChanged returns the balances of the products benchChange(…, data, stock) gave
// new data: those a changed-since window lists.
func (c catalogue) dataChanged(data, stock int) []int64 {
	step := len(c.virtual) / (data + stock)
	out := make([]int64, data)
	for k := range data {
		out[k] = c.virtual[k*step]
	}
	return out
}

// classCounts counts balances by stock class: positive, zero, negative.
func classCounts(virtual []int64) [3]int {
	var n [3]int
	for _, v := range virtual {
		switch {
		case v > 0:
			n[0]++
		case v == 0:
			n[1]++
		default:
			n[2]++
		}
	}
	return n
}

// benchLink puts c's products in tn's CaZco store and writes their product links
// with the store's own Apply, as a finished activation leaves them (CaZco id, stock
// sent), without an activation: the sandbox's Bling listing computes every product's
// balance by scanning the whole account, so a walk of 100,000 products cannot finish
// (each list page takes over a minute).
func (e *env) benchLink(b *testing.B, tn tenant, c catalogue) {
	b.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, sqlite.Options{Path: filepath.Join(e.dir, "store", "cazbling.db"), Key: bytes.Repeat([]byte{7}, 32)})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	var links []cazbling.ProductLink
	for i, id := range c.ids {
		sku := fmt.Sprintf("SKU-%05d", i)
		qty := max(0, c.virtual[i])
		cazcoID, err := e.sb.Cazco.PutProduct(tn.CazcoKey, cazcosim.Product{SKU: sku, Name: fmt.Sprintf("Produto de Teste %d", i),
			Price: "10.00", Status: "active", Stock: cazcosim.Stock{Quantity: qty, WarehouseCode: "default"}})
		if err != nil {
			b.Fatal(err)
		}
		links = append(links, cazbling.ProductLink{TenantID: tn.ID, SKU: sku, BlingID: id, CazcoID: cazcoID,
			Hash: "set up by the benchmark", StockSent: qty, StockKnown: true})
		if len(links) == 1000 || i == len(c.ids)-1 {
			if err := st.Apply(ctx, cazbling.Batch{ProductLinks: links}); err != nil {
				b.Fatal(err)
			}
			links = links[:0]
		}
	}
}

// benchActivate registers and fully syncs tn with no pacing (set-up).
func (e *env) benchActivate(b *testing.B, tn tenant) benchProc {
	b.Helper()
	return e.benchRun(b, e.vars, e.activateArgs(tn, "-q")...)
}

// benchTenants seeds and activates (unpaced) tenants of n products each, named
// prefix-00, prefix-01...; Bling allows 20 token calls a minute per IP, so at most 18
// activations start in any minute.
func (e *env) benchTenants(b *testing.B, prefix string, tenants, n int) ([]tenant, []catalogue) {
	b.Helper()
	var all []tenant
	var cats []catalogue
	var starts []time.Time
	for i := range tenants {
		tn := e.addTenant(fmt.Sprintf("%s-%02d", prefix, i))
		all = append(all, tn)
		cats = append(cats, e.benchSeed(b, tn, n, 1))
		if k := len(starts); k >= 18 {
			time.Sleep(time.Until(starts[k-18].Add(61 * time.Second)))
		}
		starts = append(starts, time.Now())
		e.benchActivate(b, tn)
	}
	return all, cats
}

// limitForMeasuredRun ends the unpaced set-up: the sandbox enforces CaZco's
// cazcoRPM per key and Bling's 3/s per account from now on, and its counters start
// from zero.
func (e *env) limitForMeasuredRun(cazcoRPM int) {
	e.sb.Cazco.SetRatePerMinute(cazcoRPM)
	e.sb.Bling.SetRatePerSecond(blingPerSecond)
	e.sb.ResetCounters()
}

// settleCazcoWindow waits until CaZco's fixed rate window, full of the set-up's
// requests, has ended, so that the measured run starts with a fresh window.
func settleCazcoWindow() { time.Sleep(61 * time.Second) }

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

		if got := len(e.sb.Cazco.Products(tn.CazcoKey)); got != n {
			b.Fatalf("CaZco holds %d products after activation, want %d", got, n)
		}
		var m costModel
		m.add(sandbox.APIBling, "token exchange, company, deposits (activation checks)", 3)
		m.add(sandbox.APICazco, "store check (activation)", 1)
		productsCost(&m, classCounts(c.virtual), n, n, true, 0, c.stockReads(), n)
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
