package e2e

// The benchmark of issue 18: one PostgreSQL store worked by one host and by two, and
// the same work on SQLite.

import (
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cazbling/cazbling/pkg/sandbox"
	"github.com/cazbling/cazbling/pkg/store/storetest"
)

// BenchmarkW9TwoHosts runs sync-stock with the defaults for 50 tenants of 1,000 linked
// products (20 stock changes each), a sweep that Bling's per-IP limit binds: every
// tenant's balances at the 500 in 10 s that one host allows itself. It runs the same
// work three times, the stock changed again before each: one process on SQLite, one
// on PostgreSQL (the SQLite store moved there by migrate-store), and two processes at
// once on that PostgreSQL store, each with its own rate-limit folder, so that each
// counts the per-IP limit as a host of its own would. It reports each wall and CPU,
// and the ratio of the one-host wall to the two-host wall (the target is 1.8 or more).
func BenchmarkW9TwoHosts(b *testing.B) {
	for range b.N {
		b.StopTimer()
		tenants, n, stock := 50, benchScaled(b, 1000), benchScaled(b, 20)
		e := newBenchEnv(b)
		all, cats := e.benchTenants(b, "w9", tenants, n)
		dsn := storetest.NewPostgresSchema(b)
		sqlitePath := filepath.Join(e.dir, "store", "cazbling.db")
		e.benchRun(b, e.vars, "migrate-store", "--from", "sqlite:"+sqlitePath, "--to", dsn)
		settleCazcoWindow()
		e.limitForMeasuredRun(cazcoPerMinute)

		var m costModel // set after the first change: its levels' classes are the model's
		report := func(name, what string, proc benchProc) {
			r := benchReport{name: name, what: what, pacing: realPacingNote, proc: proc, counters: e.sb.Counters(), model: m,
				cazcoRPM: cazcoPerMinute, items: tenants * n, perTenant: tenants}
			r.report(b)
		}
		round := 0
		change := func() { // each round moves the same products' levels to new ones
			for i, tn := range all {
				e.benchChangeBy(b, tn, cats[i], 0, stock, round)
			}
			round++
			e.sb.ResetCounters()
		}

		change()
		for _, c := range cats { // every round's changes leave the same stock classes
			productsCost(&m, classCounts(c.dataChanged(0, stock)), 0, 0, false, 0, c.stockReads(), stock)
		}
		b.StartTimer()
		onSQLite := e.benchRun(b, measured("W9-sqlite", e.realPacing()), "sync-stock", "-q")
		b.StopTimer()
		report("W9-sqlite", fmt.Sprintf("sync-stock (defaults), %d tenants × %d linked, %d stock changes each, 1 process, SQLite", tenants, n, stock), onSQLite)

		pg := e.realPacing("CAZBLING_DB="+dsn, "HOME="+b.TempDir())
		change()
		b.StartTimer()
		onPG := e.benchRun(b, measured("W9-pg", setVars(pg, "CAZBLING_HOST=host-a")), "sync-stock", "-q")
		b.StopTimer()
		report("W9-pg", "the same, 1 process, PostgreSQL", onPG)

		change()
		hosts := []*env{e, e.hostCopy(b)}
		procs := make([]benchProc, len(hosts))
		var wg sync.WaitGroup
		start := time.Now()
		b.StartTimer()
		for i, h := range hosts {
			vars := setVars(pg, fmt.Sprintf("CAZBLING_HOST=host-%c", 'a'+i), "HOME="+h.dir)
			wg.Add(1)
			go func() {
				defer wg.Done()
				procs[i] = h.benchRun(b, measured(fmt.Sprintf("W9-pg-host%d", i+1), vars), "sync-stock", "-q")
			}()
		}
		wg.Wait()
		b.StopTimer()
		wall := time.Since(start)
		two := benchProc{wall: wall, user: procs[0].user + procs[1].user, sys: procs[0].sys + procs[1].sys,
			maxRSSKiB: max(procs[0].maxRSSKiB, procs[1].maxRSSKiB)}
		report("W9-pg-2", "the same, 2 processes at once (each its own per-IP window), PostgreSQL; CPU of both", two)
		for i, p := range procs { // and the tenants each took, by the host its runs name
			took := pgCount(b, dsn, fmt.Sprintf(`SELECT count(DISTINCT tenant_id) FROM runs
				WHERE started_at >= %d AND split_part(host, ':', 1) = 'host-%c'`, start.UnixNano(), 'a'+i))
			fmt.Printf("W9-pg-2 host %d: wall %.1f s, cpu %.2f s, %d of the %d tenants\n", i+1, p.wall.Seconds(), p.cpu().Seconds(), took, tenants)
		}
		// cazbling allows a host 50 Bling requests a second (500 in any 10 s).
		ipFloor := float64(m.total(sandbox.APIBling)) / 50
		fmt.Printf("W9 floors at 50/s per host: 1 host %.1f s, 2 hosts %.1f s; per tenant (3/s per account) %.1f s\n",
			ipFloor, ipFloor/2, float64(m.total(sandbox.APIBling))/float64(tenants)/blingPerSecond)
		ratio := onPG.wall.Seconds() / wall.Seconds()
		fmt.Printf("W9: 1 host on PostgreSQL %.1f s (cpu %.2f s); on SQLite %.1f s (cpu %.2f s); 2 hosts %.1f s: %.2f× (target 1.8×)\n",
			onPG.wall.Seconds(), onPG.cpu().Seconds(), onSQLite.wall.Seconds(), onSQLite.cpu().Seconds(), wall.Seconds(), ratio)
		b.ReportMetric(ratio, "2-host-speedup")
		b.ReportMetric(onPG.cpu().Seconds()/onSQLite.cpu().Seconds(), "pg/sqlite-cpu")
	}
}

// setVars returns vars with each NAME=value of sets set (replacing it if present).
func setVars(vars []string, sets ...string) []string {
	for _, kv := range sets {
		name, value, _ := strings.Cut(kv, "=")
		vars = setVar(vars, name, value)
	}
	return vars
}

// hostCopy is e as another host sees it: the same sandbox, a folder of its own (its
// HOME, its run log).
func (e *env) hostCopy(b *testing.B) *env {
	h := *e
	h.dir = b.TempDir()
	return &h
}
