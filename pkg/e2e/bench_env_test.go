package e2e

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
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
	e.benchChangeBy(b, tn, c, data, stock, 0)
}

// benchChangeBy is benchChange with the positive levels shifted by shift (mod 7), so
// that a second round of the same changes moves the levels again (in the same stock
// classes, so the cost model is the same).
func (e *env) benchChangeBy(b *testing.B, tn tenant, c catalogue, data, stock, shift int) {
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
		qty := int64(40 + (k+shift)%7)
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
