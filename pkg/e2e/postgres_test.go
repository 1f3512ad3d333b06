package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cazbling/cazbling/pkg/sandbox"
	"github.com/cazbling/cazbling/pkg/sandbox/cazcosim"
	"github.com/cazbling/cazbling/pkg/store/storetest"
)

// StoreEnv names the switch that puts the scenarios of newEnv and newRelEnv on
// PostgreSQL: CAZBLING_E2E_STORE=postgres gives each its own fresh schema on the test
// server (pgEnv); unset or "sqlite", they use a SQLite file in their folder.
const StoreEnv = "CAZBLING_E2E_STORE"

// onPostgres reports whether the suite runs on PostgreSQL (StoreEnv).
func onPostgres() bool { return strings.EqualFold(os.Getenv(StoreEnv), "postgres") }

// sqliteOnly skips a scenario that is about the SQLite file itself when the suite
// runs on PostgreSQL; why says what makes it SQLite-only.
func sqliteOnly(t *testing.T, why string) {
	t.Helper()
	if onPostgres() {
		t.Skipf("SQLite-only (%s=postgres): %s", StoreEnv, why)
	}
}

// pgEnv points a scenario's store at a schema of its own on the test PostgreSQL
// server (CAZBLING_TEST_POSTGRES; skipped without one, failed under CI) and returns
// its URL.
func pgEnv(t *testing.T, e *env) string {
	t.Helper()
	dsn := storetest.NewPostgresSchema(t)
	e.vars = setVar(e.vars, "CAZBLING_DB", dsn)
	return dsn
}

// setVar returns vars with name set to value (replacing it if present).
func setVar(vars []string, name, value string) []string {
	out := slices.DeleteFunc(slices.Clone(vars), func(v string) bool { return strings.HasPrefix(v, name+"=") })
	return append(out, name+"="+value)
}

// TestE2EPostgresSmoke runs the whole product on a PostgreSQL store: activate (with its
// initial sync), sync-products, sync-stock, sync-orders twice, logs and tenants. Both
// sides converge, no order is filed twice, and nothing is written beside a store that
// is not a file.
func TestE2EPostgresSmoke(t *testing.T) {
	const catalogue = 25
	e := newEnv(t)
	dsn := pgEnv(t, e)
	e.vars = setVar(e.vars, "CAZBLING_BLING_IP_RATE", "50") // the IP window is then a file
	tn := ordersTenant(t, e, "loja-pg", catalogue)          // activate: the initial sync
	orders := ordersMix(t, e, tn, 8, 5, 4, catalogue)

	e.mustRun(0, "sync-products")
	e.mustRun(0, "sync-stock")
	e.mustRun(0, "sync-orders")
	e.mustRun(0, "sync-orders") // again: nothing new, nothing twice
	expectCatalogue(t, e, tn, nil)
	compared, dups := ordersCheck(t, e, tn, orders, nil)
	if compared != len(orders) || dups != 0 {
		t.Errorf("%d of %d orders in Bling, %d duplicates", compared, len(orders), dups)
	}
	if s := tenantStatuses(t, e)[tn.ID]; s != "active" {
		t.Errorf("tenant is %s, want active", s)
	}
	r := e.mustRun(0, "logs", "--tenant", tn.ID, "--flow", "orders", "-o", "json")
	if !strings.Contains(r.stdout, `"order"`) {
		t.Errorf("logs show no order rows:\n%s", r)
	}
	for _, secret := range []string{tn.ClientSecret, tn.CazcoKey} {
		if strings.Contains(r.stdout+r.stderr, secret) {
			t.Errorf("a secret in the logs output")
		}
	}
	if n := pgCount(t, dsn, `SELECT count(*) FROM order_links WHERE state = 'created'`); n != len(orders) {
		t.Errorf("%d order links created in PostgreSQL, want %d", n, len(orders))
	}
	// The Bling windows of a PostgreSQL store are in the user's state folder, and no
	// file was made with the URL for a name.
	if matches, _ := filepath.Glob(filepath.Join(e.dir, ".local", "state", "cazbling", "limits", "*", "bling-ip")); len(matches) != 1 {
		t.Errorf("Bling IP window files under HOME/.local/state: %v, want one", matches)
	}
	if matches, _ := filepath.Glob(filepath.Join(e.dir, "postgres*")); len(matches) != 0 {
		t.Errorf("files named after the URL: %v", matches)
	}
}

// TestE2EPostgresTwoHosts runs the same crontab on two "hosts" (processes with their
// own HOME, so their own local rate-limit folders) against one PostgreSQL store and 8
// tenants. Round 1: both start sync-orders at once while every tenant's access token
// has expired at Bling: each tenant is refreshed exactly once, never with a spent
// refresh token. Round 2: new orders; host A is killed (SIGKILL) mid-run and host B,
// started at once, skips the tenants A held. Round 3: both again, after A's leases
// lapse. In the end every order is in Bling once, every
// tenant is active, and no two finished runs of a tenant's flow overlapped in time.
func TestE2EPostgresTwoHosts(t *testing.T) {
	const tenants, catalogue, perRound = 8, 10, 10
	clock := &sandboxClock{}
	a := newRelEnv(t, relConfig{sandbox: func(o *sandbox.Options) { o.Now = clock.now }})
	dsn := pgEnv(t, a)
	b := *a
	b.vars = setVar(a.vars, "HOME", t.TempDir())

	var tns []tenant
	want := map[string][]cazcosim.Order{}
	for i := range tenants {
		tn := ordersTenant(t, a, fmt.Sprintf("loja-%02d", i), catalogue)
		tns = append(tns, tn)
	}
	addOrders := func(round int) {
		for _, tn := range tns {
			for k := range perRound {
				i := round*perRound + k
				o := ordersNew(i, ordersPerson(i%7), "processing", ordersItems(i, 1+i%2, catalogue))
				want[tn.ID] = append(want[tn.ID], ordersAdd(t, a, tn, o))
			}
		}
	}
	if err := a.sb.SetFaults(sandbox.APIBling, sandbox.Faults{Latency: 2 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}

	// Round 1: both hosts at once, every token expired.
	addOrders(0)
	clock.ahead.Add(int64(6*time.Hour + time.Minute))
	a.sb.ResetCounters()
	pa, pb := relStart(t, a, "sync-orders"), relStart(t, &b, "sync-orders")
	for name, p := range map[string]*relProc{"host A": pa, "host B": pb} {
		r := p.wait(t)
		relNoPanic(t, r)
		if r.code != 0 {
			t.Errorf("round 1, %s: %s", name, r)
		}
	}
	st := a.sb.Counters().Bling
	if st.TokenCalls != tenants || st.InvalidGrant != 0 {
		t.Errorf("round 1: Bling saw %d token calls (%d invalid_grant); want %d, one per tenant", st.TokenCalls, st.InvalidGrant, tenants)
	}

	// Round 2: host A is killed (SIGKILL) mid-run, holding its tenants' leases and
	// maybe orders half filed; host B, started at once, must skip what A held.
	addOrders(1)
	if err := a.sb.SetFaults(sandbox.APIBling, sandbox.Faults{Latency: 15 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	a.sb.ResetCounters()
	if !a.killAfter(250*time.Millisecond, "sync-orders") {
		t.Fatal("round 2: host A finished before it could be killed; the scenario proves nothing")
	}
	if r := relRun(t, &b, "sync-orders"); r.code != 0 {
		t.Errorf("round 2, host B: %s", r)
	}
	if err := a.sb.SetFaults(sandbox.APIBling, sandbox.Faults{Latency: 2 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	waitLease()

	// Round 3: both again; together they finish what A left.
	pa, pb = relStart(t, a, "sync-orders"), relStart(t, &b, "sync-orders")
	for name, p := range map[string]*relProc{"host A": pa, "host B": pb} {
		r := p.wait(t)
		relNoPanic(t, r)
		if r.code != 0 {
			t.Errorf("round 3, %s: %s", name, r)
		}
	}
	if st := a.sb.Counters().Bling; st.InvalidGrant != 0 {
		t.Errorf("rounds 2-3: %d invalid_grant", st.InvalidGrant)
	}

	statuses := tenantStatuses(t, a)
	filed, dups := 0, 0
	for _, tn := range tns {
		if statuses[tn.ID] != "active" {
			t.Errorf("tenant %s is %s, want active", tn.ID, statuses[tn.ID])
		}
		c, d := ordersCheck(t, a, tn, want[tn.ID], nil)
		filed, dups = filed+c, dups+d
	}
	overlaps := pgOverlappingRuns(t, dsn)
	for _, o := range overlaps {
		t.Errorf("runs worked the same tenant and flow at once: %s", o)
	}
	t.Logf("hosts: 2 on one PostgreSQL store; tenants: %d; orders filed: %d of %d; duplicates: %d; host A killed mid-run: yes; overlapping runs: %d",
		tenants, filed, tenants*2*perRound, dups, len(overlaps))
}

// pgCount runs a query of one integer on the store's schema.
func pgCount(t testing.TB, dsn, query string) int {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var n int
	if err := conn.QueryRow(context.Background(), query).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// pgOverlappingRuns lists pairs of finished runs of one (tenant, flow) whose times
// overlap: two processes working a tenant at once. A run killed before it finished has
// no end and is left out.
func pgOverlappingRuns(t *testing.T, dsn string) []string {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT x.tenant_id || '/' || x.flow || ': runs ' || x.id || ' (' || x.host || ') and '
			|| y.id || ' (' || y.host || '), for '
			|| (least(x.finished_at, y.finished_at) - greatest(x.started_at, y.started_at)) / 1000 || ' µs'
		FROM runs x JOIN runs y ON x.tenant_id = y.tenant_id AND x.flow = y.flow AND x.id < y.id
		WHERE x.finished_at > 0 AND y.finished_at > 0
			AND x.started_at < y.finished_at AND y.started_at < x.finished_at`)
	if err != nil {
		t.Fatal(err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	if n := pgCount(t, dsn, `SELECT count(*) FROM runs WHERE finished_at > 0`); n == 0 {
		t.Fatal("no finished runs in the store: the overlap check proves nothing")
	}
	return out
}
