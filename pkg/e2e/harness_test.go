// Package e2e holds the end-to-end tests: the built cazbling binary, run as a real
// process (and killed), against the sandbox's stand-in Bling and CaZco servers, with a
// real SQLite store. Each scenario ends by comparing both sides' state.
package e2e

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/cazbling/cazbling/pkg/sandbox"
	"github.com/cazbling/cazbling/pkg/sandbox/blingsim"
	"github.com/cazbling/cazbling/pkg/sandbox/cazcosim"
)

// The longest scenarios (the kill loops, the fault rounds) call t.Parallel: each has
// its own sandbox, folder and store, and asserts what the sides hold at the end, not
// how fast they got there, so they can share the machine. Scenarios that count
// requests per second or per window (the rate-limit ones) stay sequential.

// binary is the cazbling binary built once for the whole package.
var binary string

// leaseTTL is short so that a killed run's lease lapses quickly; waitLease waits it out.
const leaseTTL = 1500 * time.Millisecond

func waitLease() { time.Sleep(leaseTTL + 100*time.Millisecond) }

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "cazbling-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "cazbling")
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..")
	args := []string{"build", "-o", binary}
	if os.Getenv("CAZBLING_E2E_RACE") != "" {
		args = append(args, "-race") // the binary itself under the race detector
	}
	build := exec.Command("go", append(args, ".")...)
	build.Dir = root
	build.Env = append(os.Environ(), "CGO_ENABLED=1")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build cazbling: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// env is one scenario's world: a sandbox, a store, and the binary's environment.
type env struct {
	t    *testing.T
	sb   *sandbox.Sandbox
	base string
	dir  string
	vars []string
	back *atomic.Int64 // how far the sandbox's clock is set back
}

// backdated runs f with the sandbox's clock set back by d, so that what f seeds (a
// catalogue, orders) looks as old as it would in a real account; the clock is right
// again afterwards.
func (e *env) backdated(d time.Duration, f func()) {
	e.back.Store(int64(d))
	defer e.back.Store(0)
	f()
}

// tenant is a sandbox account and store registered for one seller.
type tenant struct {
	ID           string
	ClientID     string
	ClientSecret string
	CazcoKey     string
}

// newEnv starts an empty sandbox with no rate limits (pacing is measured by the
// benchmarks, not here) and prepares a store folder.
func newEnv(t *testing.T, opts ...func(*sandbox.Options)) *env {
	t.Helper()
	back := new(atomic.Int64)
	o := sandbox.Options{Seed: sandbox.SeedEmpty, BlingRate: -1, CazcoRatePerMinute: 0,
		Now: func() time.Time { return time.Now().Add(-time.Duration(back.Load())) }}
	for _, f := range opts {
		f(&o)
	}
	sb, err := sandbox.New(o)
	if err != nil {
		t.Fatal(err)
	}
	base, err := sb.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sb.Close() })
	dir := t.TempDir()
	key := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))
	e := &env{t: t, sb: sb, base: base, dir: dir, back: back, vars: []string{
		"CAZBLING_DB=" + filepath.Join(dir, "store", "cazbling.db"),
		"CAZBLING_KEY=" + key,
		"CAZBLING_BLING_RATE=0", // unlimited: the sandbox is not limiting either
		"CAZBLING_BLING_IP_RATE=0",
		"CAZBLING_CAZCO_RPM=0",
		"CAZBLING_RETRY_BASE=20ms",
		"CAZBLING_MARGIN=1ms", // sandbox data is made "now": read up to now
		"CAZBLING_LEASE_TTL=" + leaseTTL.String(),
		"HOME=" + dir,
		"PATH=" + os.Getenv("PATH"),
	}}
	if onPostgres() {
		pgEnv(t, e)
	}
	return e
}

// addTenant creates a Bling account and a CaZco store for id.
func (e *env) addTenant(id string) tenant {
	tn := tenant{ID: id, ClientID: "client-" + id, ClientSecret: "secret-" + id + "-s3cr3t", CazcoKey: "czk-" + id + "-k3y"}
	e.sb.Bling.AddAccount(blingsim.Account{ClientID: tn.ClientID, ClientSecret: tn.ClientSecret,
		CompanyName: "Empresa " + id + " Ltda", CNPJ: "11222333000181"})
	e.sb.Cazco.AddStore(tn.CazcoKey)
	return tn
}

// result is one finished run of the binary.
type result struct {
	code   int
	stdout string
	stderr string
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
}

// command prepares the binary with the scenario's environment.
func (e *env) command(ctx context.Context, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Env = e.vars
	cmd.Dir = e.dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	return cmd
}

// run runs the binary to its end.
func (e *env) run(args ...string) result {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := e.command(ctx, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			e.t.Fatalf("run %v: %v", args, err)
		}
		code = ee.ExitCode()
	}
	return result{code: code, stdout: out.String(), stderr: errb.String()}
}

// mustRun runs the binary and fails the test unless it exits with want.
func (e *env) mustRun(want int, args ...string) result {
	e.t.Helper()
	r := e.run(args...)
	if r.code != want {
		e.t.Fatalf("cazbling %s: want exit %d, got:\n%s", strings.Join(args, " "), want, r)
	}
	return r
}

// activateArgs are the flags that register tn with a fresh authorization code.
func (e *env) activateArgs(tn tenant, extra ...string) []string {
	args := []string{"activate", tn.ID,
		"--bling-url", e.base + "/Api/v3",
		"--bling-client-id", tn.ClientID, "--bling-client-secret", tn.ClientSecret,
		"--bling-code", e.sb.Bling.IssueCode(tn.ClientID),
		"--cazco-url", e.base + "/api/v1/seller", "--cazco-api-key", tn.CazcoKey,
	}
	return append(args, extra...)
}

// killAfter starts the binary and kills it (SIGKILL) after d, or lets it finish if
// it is faster. It reports whether the kill landed.
func (e *env) killAfter(d time.Duration, args ...string) bool {
	e.t.Helper()
	cmd := e.command(context.Background(), args...)
	if err := cmd.Start(); err != nil {
		e.t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	select {
	case <-done:
		return false
	case <-time.After(d):
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
		return true
	}
}

// blingProduct is a simple Bling product for seeding.
func blingProduct(sku, name, price string) blingsim.Product {
	return blingsim.Product{
		Nome: name, Codigo: sku, Preco: blingsim.MustNumber(price), Tipo: "P", Situacao: "A", Formato: "S",
		Unidade: "UN", Marca: "Marca Teste", DescricaoCurta: "Descrição de " + name,
		PesoBruto:  blingsim.MustNumber("0.35"),
		Dimensoes:  blingsim.Dimensoes{Largura: blingsim.MustNumber("20"), Altura: blingsim.MustNumber("5"), Profundidade: blingsim.MustNumber("30"), UnidadeMedida: 1},
		Tributacao: blingsim.Tributacao{NCM: "6109.10.00"},
	}
}

// seedCatalogue puts n simple products in tn's Bling account with stock qty(i) in the
// default deposit and returns their ids by SKU.
func (e *env) seedCatalogue(tn tenant, n int, qty func(i int) int64) map[string]int64 {
	e.t.Helper()
	ids := make(map[string]int64, n)
	for i := range n {
		sku := fmt.Sprintf("SKU-%05d", i)
		p := blingProduct(sku, fmt.Sprintf("Produto de Teste %d", i), fmt.Sprintf("%d.%02d", 10+i%90, i%100))
		id := e.sb.Bling.PutProduct(tn.ClientID, p)
		ids[sku] = id
		if err := e.sb.Bling.SetStock(tn.ClientID, id, 0, decimal.NewFromInt(qty(i))); err != nil {
			e.t.Fatal(err)
		}
	}
	return ids
}

// cazcoBySKU is the CaZco store's products by SKU.
func (e *env) cazcoBySKU(tn tenant) map[string]cazcosim.Product {
	out := map[string]cazcosim.Product{}
	for _, p := range e.sb.Cazco.Products(tn.CazcoKey) {
		out[p.SKU] = p
	}
	return out
}

// cazcoWrites counts the CaZco write requests served since the last counter reset.
func (e *env) cazcoWrites() (products, stockBatches, stockSingles int) {
	c := e.sb.Counters()
	products = c.Count(sandbox.APICazco, "POST", "/products", 0) + c.Count(sandbox.APICazco, "PUT", "/products/{id}", 0)
	return products, c.Count(sandbox.APICazco, "PUT", "/stock", 0), c.Count(sandbox.APICazco, "PUT", "/products/{id}/stock", 0)
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		t.Fatalf("not a number: %q", s)
	}
	return n
}
