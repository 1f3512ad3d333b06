package e2e

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/cazbling/cazbling/pkg/sandbox"
)

// TestE2ETwoFlowsOneExpiredToken starts the products, stock and orders flows of one
// tenant at the same moment while the access token they hold has expired at Bling
// (Bling's clock is moved past its 6 hours), three times over: each time Bling sees
// exactly one refresh, never a spent refresh token, every flow succeeds and the tenant
// stays active.
func TestE2ETwoFlowsOneExpiredToken(t *testing.T) {
	const catalogue = 40
	start := time.Now()
	clock := &sandboxClock{}
	e := newRelEnv(t, relConfig{sandbox: func(o *sandbox.Options) { o.Now = clock.now }})
	tn := e.addTenant("loja-token")
	ids := e.seedCatalogue(tn, catalogue, func(i int) int64 { return int64(i % 6) })
	e.mustRun(0, e.activateArgs(tn)...)

	// The orders are made now: once Bling's clock (which is CaZco's too) runs ahead,
	// new data would be dated in cazbling's future.
	for i := range 9 {
		relAddOrder(t, e, tn, relOrder(i, catalogue, "processing"))
	}
	refreshes, unauthorized := 0, 0
	for round := 1; round <= 3; round++ {
		// New stock for the stock flow (a stock movement carries no date).
		for k := range 3 {
			if err := e.sb.Bling.SetStock(tn.ClientID, ids[fmt.Sprintf("SKU-%05d", k*7+round)], 0, decimal.NewFromInt(int64(20+round))); err != nil {
				t.Fatal(err)
			}
		}
		clock.ahead.Add(int64(6*time.Hour + time.Minute))
		e.sb.ResetCounters()

		flows := []string{"sync-products", "sync-stock", "sync-orders"}
		procs := make([]*relProc, len(flows))
		for i, f := range flows {
			procs[i] = relStart(t, e, f)
		}
		for i, p := range procs {
			r := p.wait(t)
			relNoPanic(t, r)
			if r.code != 0 {
				t.Errorf("round %d: %s: %s", round, flows[i], r)
			}
			if strings.Contains(r.stdout, "skipped") {
				t.Errorf("round %d: %s skipped the tenant: %s", round, flows[i], r)
			}
		}
		st := e.sb.Counters().Bling
		if st.TokenCalls != 1 || st.InvalidGrant != 0 || st.TokenRateLimited != 0 {
			t.Errorf("round %d: Bling saw %d token calls (%d invalid_grant, %d rate limited); want exactly 1 refresh", round, st.TokenCalls, st.InvalidGrant, st.TokenRateLimited)
		}
		if st.Unauthorized == 0 {
			t.Errorf("round %d: no call met the expired token; the race was not run", round)
		}
		refreshes += st.TokenCalls
		unauthorized += st.Unauthorized
	}
	if s := tenantStatuses(t, e)[tn.ID]; s != "active" {
		t.Errorf("tenant is %s, want active", s)
	}
	expectCatalogue(t, e, tn, nil)
	compared, dups, _ := relOrdersDiff(t, e, tn, relImportable(e, tn), true)
	t.Logf("rounds: 3 of 3 flows at once on an expired token; Bling token calls: %d (one per round), calls refused with the expired token: %d; items compared: %d products, %d orders; duplicates found: %d; took %s",
		refreshes, unauthorized, catalogue, compared, dups, time.Since(start).Round(time.Millisecond))
}

// TestE2EFlowsShareBlingPace runs `sync-products --full` and `sync-stock` for one
// tenant at the same moment, as cron does at the top of the hour, while Bling allows
// the account 10 requests a second and cazbling paces it at 8. Each process alone
// keeps under 10; together they keep under it only because they share the account's
// pace (a window in a file beside the store): Bling answers no 429.
func TestE2EFlowsShareBlingPace(t *testing.T) {
	start := time.Now()
	e := newRelEnv(t, relConfig{env: map[string]string{"CAZBLING_BLING_RATE": "8", "CAZBLING_BLING_IP_RATE": ""}})
	tn := e.addTenant("loja-compartilhada")
	ids := e.seedCatalogue(tn, 20, func(i int) int64 { return int64(i % 4) })
	e.mustRun(0, e.activateArgs(tn)...)
	for k := range 6 {
		if err := e.sb.Bling.SetStock(tn.ClientID, ids[fmt.Sprintf("SKU-%05d", k*3)], 0, decimal.NewFromInt(int64(30+k))); err != nil {
			t.Fatal(err)
		}
	}
	e.sb.Bling.SetRatePerSecond(10)
	e.sb.ResetCounters()

	flows := [][]string{{"sync-products", "--full"}, {"sync-stock"}}
	procs := make([]*relProc, len(flows))
	for i, f := range flows {
		procs[i] = relStart(t, e, f...)
	}
	for i, p := range procs {
		r := p.wait(t)
		relNoPanic(t, r)
		if r.code != 0 || strings.Contains(r.stdout, "skipped") {
			t.Errorf("%s: want exit 0 with the tenant worked:\n%s", flows[i][0], r)
		}
	}
	c := e.sb.Counters()
	bling := c.Count(sandbox.APIBling, "", "", 0)
	if c.Bling.RateLimitedSecond != 0 {
		t.Errorf("Bling answered %d of %d requests with a per-second 429: the two processes did not share the account's pace", c.Bling.RateLimitedSecond, bling)
	}
	if bling < 30 {
		t.Errorf("only %d Bling requests: the two runs did not overlap long enough to test the pace", bling)
	}
	if onPostgres() {
		// Beside no file: in the user's state folder (as TestE2EPostgresSmoke checks).
		if matches, _ := filepath.Glob(filepath.Join(e.dir, ".local", "state", "cazbling", "limits", "*", "bling-ip")); len(matches) != 1 {
			t.Errorf("the shared window of the IP limit: files under HOME/.local/state: %v, want one", matches)
		}
	} else if _, err := os.Stat(filepath.Join(filepath.Dir(relDBPath(e)), "cazbling.db.limits", "bling-ip")); err != nil {
		t.Errorf("the shared window of the IP limit: %v", err)
	}
	expectCatalogue(t, e, tn, nil)
	t.Logf("two flows at once on one account: %d Bling requests, busiest second %d, per-second 429s %d; took %s",
		bling, c.Peaks[sandbox.APIBling].PerSecond, c.Bling.RateLimitedSecond, time.Since(start).Round(time.Millisecond))
}

// TestE2ETwoRunsOneFlow starts two `sync-products --full` on one store at the same
// moment: one works the tenant, the other says it skipped it; both exit 0, and every
// SKU is created in CaZco once.
func TestE2ETwoRunsOneFlow(t *testing.T) {
	const catalogue = 200
	start := time.Now()
	e := newEnv(t)
	tn := e.addTenant("loja-dupla")
	e.seedCatalogue(tn, catalogue, func(i int) int64 { return int64(i % 4) })
	e.mustRun(0, e.activateArgs(tn, "--no-initial-sync")...)
	if err := e.sb.SetFaults(sandbox.APIBling, sandbox.Faults{Latency: 3 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	a, b := relStart(t, e, "sync-products", "--full"), relStart(t, e, "sync-products", "--full")
	results := []result{a.wait(t), b.wait(t)}
	skipped := 0
	for i, r := range results {
		relNoPanic(t, r)
		if r.code != 0 {
			t.Errorf("run %d: want exit 0 (a skipped tenant counts as success): %s", i+1, r)
		}
		if strings.Contains(r.stdout, "skipped") && strings.Contains(r.stderr, "skipped") {
			skipped++
		}
	}
	if skipped != 1 {
		t.Errorf("%d of the 2 runs say they skipped the tenant; want exactly 1:\nfirst: %s\nsecond: %s", skipped, results[0], results[1])
	}
	if err := e.sb.SetFaults(sandbox.APIBling, sandbox.Faults{}); err != nil {
		t.Fatal(err)
	}
	e.mustRun(0, "sync-stock")
	expectCatalogue(t, e, tn, nil)
	creates, twice := relCreates(t, e, tn)
	if creates != catalogue || len(twice) != 0 {
		t.Errorf("CaZco creations: %d (twice: %v), want %d, each SKU once", creates, twice, catalogue)
	}
	t.Logf("runs at once: 2, skipped: %d; items compared: %d; CaZco creations: %d; duplicates found: %d; took %s",
		skipped, catalogue, creates, len(twice), time.Since(start).Round(time.Millisecond))
}

// rlimitMu serializes the moments the test process lowers its file size limit so
// that a started child inherits it.
var rlimitMu sync.Mutex

// startWithFileLimit starts the binary with RLIMIT_FSIZE set to limit bytes: no file
// it writes can grow past that, as on a full disk (SQLite gets EFBIG or a short write;
// Go ignores SIGXFSZ).
func startWithFileLimit(t *testing.T, e *env, limit uint64, args ...string) *relProc {
	t.Helper()
	rlimitMu.Lock()
	defer rlimitMu.Unlock()
	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_FSIZE, &old); err != nil {
		t.Fatal(err)
	}
	lowered := syscall.Rlimit{Cur: limit, Max: old.Max}
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &lowered); err != nil {
		t.Skipf("cannot lower the file size limit: %v", err)
	}
	defer func() {
		if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &old); err != nil {
			t.Fatalf("restore the file size limit: %v", err)
		}
	}()
	return relStart(t, e, args...)
}

// relLeasesHeld counts the leases not yet expired.
func relLeasesHeld(t *testing.T, e *env) int {
	t.Helper()
	db := relDB(t, e)
	defer db.Close()
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM leases WHERE expires_at > ?`, time.Now().UnixNano()).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// fileSum is the SHA-256 of a file ("" if it does not exist).
func fileSum(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return ""
	}
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%x", sha256.Sum256(b))
}

// TestE2EReadOnlyStore: a store that cannot be written. Paths that cannot hold a
// store (under a regular file, a directory, a read-only system folder) are refused
// with exit 2 and a message naming the path; a store whose disk fills up in the middle
// of a run (the file size limit of the process, which root cannot ignore) ends the run
// with exit 1 and a message naming the store, leaves the store intact, and the next
// run with space finishes the work without a duplicate; a store on a read-only mount
// (a private bind mount, where the system allows one) is refused with a clear message
// and left unchanged.
func TestE2EReadOnlyStore(t *testing.T) {
	sqliteOnly(t, "store paths that are not folders, and a disk that fills up under the SQLite file")
	start := time.Now()
	e := newEnv(t)
	tn := e.addTenant("loja-disco")
	e.seedCatalogue(tn, 30, func(i int) int64 { return int64(i % 5) })

	// Places where no store can be.
	plain := filepath.Join(e.dir, "a-file")
	if err := os.WriteFile(plain, []byte("not a folder\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	folder := filepath.Join(e.dir, "a-folder")
	if err := os.Mkdir(folder, 0o700); err != nil {
		t.Fatal(err)
	}
	refused := 0
	for _, c := range []struct{ db, says string }{
		{filepath.Join(plain, "cazbling.db"), "not a directory"},
		{folder, "is a directory"},
		{"/proc/cazbling-e2e/cazbling.db", "/proc/cazbling-e2e"},
	} {
		for _, args := range [][]string{{"sync-products"}, {"tenants"}, {"logs"}} {
			r := e.run(append(args, "--db", c.db)...)
			relNoPanic(t, r)
			if r.code != 2 || !strings.Contains(r.stderr, c.says) || !strings.Contains(r.stderr, "store") {
				t.Errorf("cazbling %s --db %s: want exit 2 and a message about the store saying %q:\n%s", args[0], c.db, c.says, r)
			}
			refused++
		}
	}

	// The disk fills up in the middle of a run.
	e.mustRun(0, e.activateArgs(tn)...)
	for i := range 120 {
		id := e.sb.Bling.PutProduct(tn.ClientID, blingProduct(fmt.Sprintf("CHEIO-%03d", i), strings.Repeat("Produto com nome comprido ", 8)+fmt.Sprint(i), "9.99"))
		if err := e.sb.Bling.SetStock(tn.ClientID, id, 0, decimal.NewFromInt(int64(i%7))); err != nil {
			t.Fatal(err)
		}
	}
	db := relDBPath(e)
	// Room for the shared-memory file (32 KiB) and a few pages of write-ahead log,
	// not for a run's worth of links and log rows (reads are not limited).
	p := startWithFileLimit(t, e, 64<<10, "sync-products")
	r := p.wait(t)
	relNoPanic(t, r)
	if r.code != 1 && r.code != 2 {
		t.Fatalf("run on a full disk: want exit 1 (or 2 if the store could not even be opened):\n%s", r)
	}
	full := r.code == 1
	if !strings.Contains(r.stderr, db) && !strings.Contains(r.stderr, "store") {
		t.Errorf("run on a full disk: the message does not name the store:\n%s", r)
	}
	relIntegrity(t, e)
	inCaZco := len(e.sb.Cazco.Products(tn.CazcoKey))
	// The full run could not release its lease either (that is a write too); it lapses
	// like a killed run's.
	leaseLeft := relLeasesHeld(t, e)
	if leaseLeft > 0 {
		waitLease()
	}
	r = e.mustRun(0, "sync-products")
	relNoPanic(t, r)
	if strings.Contains(r.stdout, "skipped") {
		t.Errorf("the run after the full disk skipped the tenant:\n%s", r)
	}
	e.mustRun(0, "sync-stock")
	expectCatalogue(t, e, tn, nil)
	creates, twice := relCreates(t, e, tn)
	if len(twice) != 0 || creates != 150 {
		t.Errorf("CaZco creations: %d (twice: %v), want 150, each SKU once", creates, twice)
	}
	relIntegrity(t, e)

	// A read-only mount: root ignores file modes, so a private read-only bind mount of
	// the store's folder is used where the system allows it; otherwise mode bits.
	before := fileSum(t, db)
	roRefused := readOnlyRun(t, e, filepath.Dir(db))
	if roRefused != "" {
		if after := fileSum(t, db); after != before {
			t.Errorf("the read-only store changed")
		}
	}
	t.Logf("paths refused: %d; disk full mid-run: %v (exit %d, CaZco had %d of 150 products, leases left held: %d, the next run finished them); read-only store: %s; items compared: 150; duplicates found: %d; took %s",
		refused, full, p.code, inCaZco, leaseLeft, roRefused, len(twice), time.Since(start).Round(time.Millisecond))
}

// readOnlyRun runs `sync-stock` with dir read-only and checks that it is refused
// with a clear message. It returns how it made dir read-only ("" if it could not).
func readOnlyRun(t *testing.T, e *env, dir string) string {
	t.Helper()
	check := func(r result, how string) string {
		relNoPanic(t, r)
		msg := strings.ToLower(r.stderr)
		if r.code == 0 || !strings.Contains(msg, "read-only") && !strings.Contains(msg, "readonly") && !strings.Contains(msg, "permission denied") {
			t.Errorf("sync-stock on a read-only store (%s): want a failure saying so:\n%s", how, r)
		}
		if r.code != 1 && r.code != 2 {
			t.Errorf("sync-stock on a read-only store (%s): exit %d, want 1 or 2", how, r.code)
		}
		return fmt.Sprintf("%s, exit %d", how, r.code)
	}
	if os.Geteuid() != 0 {
		files, _ := filepath.Glob(filepath.Join(dir, "*"))
		for _, f := range files {
			if err := os.Chmod(f, 0o400); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.Chmod(dir, 0o500); err != nil {
			t.Fatal(err)
		}
		defer func() {
			_ = os.Chmod(dir, 0o700)
			for _, f := range files {
				_ = os.Chmod(f, 0o600)
			}
		}()
		return check(e.run("sync-stock"), "mode 0500 folder, 0400 files")
	}
	r, ok := runOnReadOnlyMount(t, e, dir, "sync-stock")
	if !ok {
		return ""
	}
	return check(r, "read-only bind mount")
}

// runOnReadOnlyMount runs the binary with args in a private mount namespace where dir
// is bind-mounted read-only (root ignores file modes), so nothing outside the run
// sees the mount. ok is false, and the reason logged, where the system allows no
// private mount.
func runOnReadOnlyMount(t *testing.T, e *env, dir string, args ...string) (r result, ok bool) {
	t.Helper()
	unshare, err := exec.LookPath("unshare")
	if err != nil {
		t.Logf("read-only store not simulated: running as root without unshare(1)")
		return result{}, false
	}
	script := `mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" || exit 97; shift; exec "$@"`
	cmd := e.command(t.Context(), args...)
	cmd.Path = unshare
	cmd.Args = append([]string{"unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sh", dir, binary}, args...)
	out, errb := &strings.Builder{}, &strings.Builder{}
	cmd.Stdout, cmd.Stderr = out, errb
	code := 0
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			t.Fatal(err)
		}
		code = ee.ExitCode()
	}
	if code == 97 || strings.Contains(errb.String(), "unshare failed") || strings.Contains(errb.String(), "Operation not permitted") {
		t.Logf("read-only store not simulated: this system allows no private mount (%s)", strings.TrimSpace(errb.String()))
		return result{}, false
	}
	return result{code: code, stdout: out.String(), stderr: errb.String()}, true
}
