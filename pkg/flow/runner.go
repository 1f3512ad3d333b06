// Package flow holds the sync flows (activate, products, stock, orders) and the runner
// that works them for many tenants at once: leases, run rows, log rows, bounded
// concurrency, and the rule that one tenant's failure never stops the others. It talks
// only to the cazbling interfaces, never to HTTP or SQL directly.
package flow

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"
	_ "time/tzdata" // Bling dates are São Paulo time, even where the machine has no zoneinfo

	"github.com/cazbling/cazbling/pkg/cazbling"
)

// Deps are what the flows need from the outside world.
type Deps struct {
	Store cazbling.Store
	// ERP and Market build the API clients of one tenant.
	ERP    func(t cazbling.Tenant) (cazbling.ERP, error)
	Market func(t cazbling.Tenant) (cazbling.Marketplace, error)
	Now    func() time.Time
	Logger *slog.Logger
	// Holder names this process in leases (host, pid and a random part).
	Holder string
	// LeaseTTL is how long a lease lasts without renewal (default 45 s, so a killed
	// process's lease lapses within a minute); it is renewed every third of it.
	LeaseTTL time.Duration
	// Progress, if set, is told how far a tenant's flow has got (for a progress bar).
	Progress func(tenantID, flow string, done, total int)
	// Release, if set, is called when the run is done with a tenant, so that what its
	// clients hold for it (a shared window's open file) is let go: a run over
	// thousands of tenants must not keep a file open for each.
	Release func(tenantID string)
	// Busy, if set, reports that this host has no spare allowance for another tenant
	// now (its Bling per-IP window has requests waiting for a slot). Run works
	// RampUp tenants at once; past that, it starts another only when Busy is false,
	// and no sooner than RampStep after the last, so that its requests show whether
	// there is room. A host then takes (leases) only the tenants it can serve: on a
	// store several hosts share, the others are left for them.
	Busy     func() bool
	RampUp   int
	RampStep time.Duration // 0: 100 ms
}

// Options select what a run does.
type Options struct {
	Tenants     []string // empty: every active tenant
	Concurrency int      // tenants at once (0: 4; the command sets it from the limits)
	DryRun      bool     // read both sides, write nothing remote, move no cursor
	Full        bool     // products: walk the whole catalogue
	Overlap     time.Duration
	Margin      time.Duration
}

// Result is the outcome of one flow for one tenant.
type Result struct {
	TenantID string
	Flow     string
	RunID    int64
	Counts   cazbling.Counts
	Status   string // ok, warning, error, skipped
	Message  string
	Started  time.Time
	Duration time.Duration
}

// Failed reports whether the result should make the command exit 1.
func (r Result) Failed() bool { return r.Status == cazbling.StatusError }

// ErrUsage marks errors that are the caller's mistake (unknown tenant): exit 2.
var ErrUsage = errors.New("usage error")

// Work is one flow's work for one tenant.
type Work func(ctx context.Context, j *Job) error

// Job is one tenant's run of one flow: its clients, run id and the log it writes.
type Job struct {
	Tenant  cazbling.Tenant
	ERP     cazbling.ERP
	Market  cazbling.Marketplace
	RunID   int64
	Flow    string
	Opts    Options
	Started time.Time // the run's start, before its first request
	deps    *Deps

	mu     sync.Mutex
	counts cazbling.Counts
}

// Now is the run's clock.
func (j *Job) Now() time.Time { return j.deps.now() }

// Store is the local store.
func (j *Job) Store() cazbling.Store { return j.deps.Store }

// Logger is the job's logger, tagged with tenant and flow.
func (j *Job) Logger() *slog.Logger {
	return j.deps.logger().With("tenant", j.Tenant.ID, "flow", j.Flow)
}

// Progress reports how far the job has got.
func (j *Job) Progress(done, total int) {
	if j.deps.Progress != nil {
		j.deps.Progress(j.Tenant.ID, j.Flow, done, total)
	}
}

// Counts returns the tallies so far.
func (j *Job) Counts() cazbling.Counts {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.counts
}

// Commit stamps the batch's log rows with the run, tenant, flow and time, tallies them,
// and applies the batch in one transaction. In a dry run only the log rows are written.
func (j *Job) Commit(ctx context.Context, b cazbling.Batch) error {
	now := j.Now()
	for i := range b.Logs {
		e := &b.Logs[i]
		e.RunID, e.TenantID, e.Flow = j.RunID, j.Tenant.ID, j.Flow
		if e.Time.IsZero() {
			e.Time = now
		}
		if e.Status == "" {
			e.Status = cazbling.StatusOK
		}
		if j.Opts.DryRun && e.Message == "" {
			e.Message = "dry run: nothing written"
		}
		fillCode(e)
	}
	if j.Opts.DryRun {
		b = cazbling.Batch{Logs: b.Logs}
	}
	if b.Empty() {
		return nil
	}
	if !j.Opts.DryRun && j.deps.Holder != "" {
		// Written only while this run holds its lease (dry runs take none).
		b.Fence = &cazbling.Fence{TenantID: j.Tenant.ID, Flow: j.Flow, Holder: j.deps.Holder}
	}
	// What was done must be recorded even when the run is being interrupted.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
	defer cancel()
	if err := j.deps.Store.Apply(sctx, b); err != nil {
		return fmt.Errorf("save progress of tenant %q: %w", j.Tenant.ID, err)
	}
	j.mu.Lock()
	for _, e := range b.Logs {
		j.counts = j.counts.Add(tally(e))
	}
	j.mu.Unlock()
	for _, e := range b.Logs {
		switch e.Status {
		case cazbling.StatusError:
			j.Logger().Error(e.Message, "entity", e.Entity, "key", e.Key, "action", e.Action)
		case cazbling.StatusWarning:
			j.Logger().Warn(e.Message, "entity", e.Entity, "key", e.Key, "action", e.Action)
		default:
			j.Logger().Debug(e.Action, "entity", e.Entity, "key", e.Key, "message", e.Message)
		}
	}
	return nil
}

// tally counts one log row.
func tally(e cazbling.LogEntry) cazbling.Counts {
	var c cazbling.Counts
	switch e.Action {
	case cazbling.ActionCreated:
		c.Created++
	case cazbling.ActionUpdated:
		c.Updated++
	case cazbling.ActionUnchanged, cazbling.ActionExisting:
		c.Unchanged++
	case cazbling.ActionStockSet:
		c.StockSet++
	case cazbling.ActionSkipped:
		c.Skipped++
	case ActionRetryLater:
		c.Retry++
	}
	switch e.Status {
	case cazbling.StatusWarning:
		c.Warnings++
	case cazbling.StatusError:
		if e.Action != ActionRetryLater {
			c.Failed++
		}
	}
	return c
}

// ActionRetryLater marks an item left for a later run after a passing fault (5xx,
// timeout, rate limit). It is an error for this run's exit status.
const ActionRetryLater = "retry_later"

// Run works flow for every selected tenant, at most opts.Concurrency at once, and
// returns one Result per tenant in tenant order. Its error is for problems before any
// tenant started (unreadable store, unknown tenant: wrapped ErrUsage).
func Run(ctx context.Context, d Deps, flow string, opts Options, work Work) ([]Result, error) {
	tenants, err := selectTenants(ctx, d.Store, opts.Tenants, d.now())
	if err != nil {
		return nil, err
	}
	n := opts.Concurrency
	if n <= 0 {
		n = 4
	}
	results := make([]Result, len(tenants))
	sem := make(chan struct{}, n)
	var wg sync.WaitGroup
	var running atomic.Int32
	for i, t := range tenants {
		wg.Add(1)
		sem <- struct{}{}
		if running.Load() >= int32(d.RampUp) {
			d.waitForRoom(ctx, &running)
		}
		running.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			defer running.Add(-1)
			results[i] = runTenant(ctx, &d, flow, opts, t, work)
			if d.Release != nil {
				d.Release(t.ID)
			}
		}()
	}
	wg.Wait()
	return results, nil
}

// waitForRoom waits, when RampUp tenants are being worked, until the host has room
// for another (Deps.Busy): RampStep after the last start, then while Busy says so and
// RampUp tenants are still being worked. A tenant another host holds is skipped at
// once and so does not count: the host goes on to the tenants no one has taken.
func (d *Deps) waitForRoom(ctx context.Context, running *atomic.Int32) {
	if d.Busy == nil {
		return
	}
	step := d.RampStep
	if step <= 0 {
		step = 100 * time.Millisecond
	}
	least := int32(max(1, d.RampUp))
	for first := true; first || running.Load() >= least && d.Busy(); first = false {
		select {
		case <-ctx.Done():
			return
		case <-time.After(step):
		}
	}
}

// selectTenants returns the named tenants (all must exist) or every tenant, leaving
// out those that cannot run now; those named explicitly that cannot run come back
// too, so the run reports them.
func selectTenants(ctx context.Context, s cazbling.Store, names []string, now time.Time) ([]cazbling.Tenant, error) {
	if len(names) > 0 {
		var out []cazbling.Tenant
		for _, id := range names {
			t, err := s.Tenant(ctx, id)
			if errors.Is(err, cazbling.ErrNotFound) {
				return nil, fmt.Errorf("%w: unknown tenant %q; `cazbling tenants` lists them, `cazbling activate` adds one", ErrUsage, id)
			}
			if err != nil {
				return nil, err
			}
			out = append(out, t)
		}
		return out, nil
	}
	all, err := s.Tenants(ctx)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(all, func(t cazbling.Tenant) bool {
		// An invited tenant has not connected yet: it has nothing to run with.
		return t.Status == cazbling.TenantInactive || t.Status == cazbling.TenantInvited
	}), nil
}

// runTenant runs one tenant's flow under its lease and records the run.
func runTenant(ctx context.Context, d *Deps, flow string, opts Options, t cazbling.Tenant, work Work) Result {
	start := d.now()
	res := Result{TenantID: t.ID, Flow: flow, Started: start}
	finish := func(status, msg string) Result {
		res.Status, res.Message, res.Duration = status, msg, d.now().Sub(start)
		return res
	}
	switch t.Status {
	case cazbling.TenantInactive:
		return finish(cazbling.StatusSkipped, "tenant is inactive; `cazbling tenants reactivate "+t.ID+"` turns it back on")
	case cazbling.TenantInvited:
		return finish(cazbling.StatusSkipped, "tenant is invited and has not connected Bling and CaZco in the panel yet")
	case cazbling.TenantPausedBySeller:
		return finish(cazbling.StatusSkipped, "the seller paused syncing in the panel ("+t.StatusReason+"); it goes on when the seller resumes it")
	case cazbling.TenantNeedsReauth:
		return finish(cazbling.StatusError, fmt.Sprintf("tenant %q needs to authorize Bling again (%s); run `cazbling activate %s` with a new --bling-code", t.ID, t.StatusReason, t.ID))
	case cazbling.TenantPaused:
		if start.Before(t.PausedUntil) {
			return finish(cazbling.StatusSkipped, fmt.Sprintf("tenant is paused until %s (%s)", t.PausedUntil.Format(time.RFC3339), t.StatusReason))
		}
	}

	ttl := d.LeaseTTL
	if ttl <= 0 {
		ttl = 45 * time.Second
	}
	// Dry runs take no lease: they write nothing that a real run could collide with.
	if !opts.DryRun {
		ok, err := d.Store.AcquireLease(ctx, t.ID, flow, d.Holder, ttl)
		if err != nil {
			return finish(cazbling.StatusError, fmt.Sprintf("take the %s lease of tenant %q: %v", flow, t.ID, err))
		}
		if !ok {
			d.logger().Info("another process is working this tenant; skipped", "tenant", t.ID, "flow", flow)
			return finish(cazbling.StatusSkipped, "another cazbling process is running this flow for this tenant; skipped")
		}
		defer func() {
			// The run's context may be done; release with a fresh one so the next run
			// need not wait for the lease to lapse.
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			_ = d.Store.ReleaseLease(rctx, t.ID, flow, d.Holder)
		}()
		// The run starts once it holds the lease: its recorded span then never
		// overlaps that of the run it took the lease from (the store finishes a run
		// before its lease is released).
		start = d.now()
		res.Started = start
	}

	runID, err := d.Store.StartRun(ctx, cazbling.Run{TenantID: t.ID, Flow: flow, StartedAt: start, Status: "running", Host: d.Holder})
	if err != nil {
		return finish(cazbling.StatusError, fmt.Sprintf("record the run of tenant %q: %v", t.ID, err))
	}
	res.RunID = runID

	wctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	if !opts.DryRun {
		stop := renewLease(wctx, d, t.ID, flow, ttl, cancel)
		defer stop()
	}

	job := &Job{Tenant: t, RunID: runID, Flow: flow, Opts: opts, Started: start, deps: d}
	err = func() error {
		if job.ERP, err = d.ERP(t); err != nil {
			return err
		}
		if job.Market, err = d.Market(t); err != nil {
			return err
		}
		return work(wctx, job)
	}()
	if cause := context.Cause(wctx); err != nil && cause != nil && !errors.Is(cause, context.Canceled) {
		err = cause
	}
	res.Counts = job.Counts()
	status, msg := cazbling.StatusOK, ""
	switch {
	case err != nil:
		status, msg = cazbling.StatusError, tenantFailure(ctx, d, t, flow, err)
		_ = job.Commit(context.WithoutCancel(ctx), cazbling.Batch{Logs: []cazbling.LogEntry{{
			Entity: cazbling.EntityTenant, Key: t.ID, Action: cazbling.ActionFailed,
			Status: cazbling.StatusError, Message: msg,
		}}})
		res.Counts = job.Counts()
	case res.Counts.Failed > 0 || res.Counts.Retry > 0:
		status = cazbling.StatusError
		msg = fmt.Sprintf("%d items failed, %d left for a later run; `cazbling logs --tenant %s --status error` lists them", res.Counts.Failed, res.Counts.Retry, t.ID)
	case res.Counts.Warnings > 0:
		status = cazbling.StatusWarning
	}
	res = finish(status, msg)
	fctx, fcancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer fcancel()
	if err := d.Store.FinishRun(fctx, cazbling.Run{
		ID: runID, TenantID: t.ID, Flow: flow, StartedAt: start, FinishedAt: d.now(),
		Status: status, Message: msg, Counts: res.Counts,
	}); err != nil {
		d.logger().Error("could not record the end of the run", "tenant", t.ID, "flow", flow, "error", err)
	}
	return res
}

// renewLease renews the lease every third of its TTL until stopped; if the lease is
// lost (another process took it after a stall) the work is cancelled.
func renewLease(ctx context.Context, d *Deps, tenantID, flow string, ttl time.Duration, cancel context.CancelCauseFunc) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(ttl / 3)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-tick.C:
				ok, err := d.Store.AcquireLease(ctx, tenantID, flow, d.Holder, ttl)
				if err == nil && !ok {
					cancel(fmt.Errorf("lost the %s lease of tenant %q to another process; stopped so as not to work it twice", flow, tenantID))
					return
				}
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}

// tenantFailure turns a tenant-level error into the message a support person reads,
// and marks the tenant when the error says it cannot go on (re-authorization, daily
// quota).
func tenantFailure(ctx context.Context, d *Deps, t cazbling.Tenant, flow string, err error) string {
	sctx := context.WithoutCancel(ctx)
	var ae *cazbling.APIError
	errors.As(err, &ae)
	switch cazbling.KindOf(err) {
	case cazbling.KindInvalidGrant:
		reason := "Bling refused the refresh token (invalid_grant)"
		if serr := d.Store.SetTenantStatus(sctx, t.ID, cazbling.TenantNeedsReauth, time.Time{}, reason); serr != nil {
			d.logger().Error("could not mark tenant needs_reauth", "tenant", t.ID, "error", serr)
		}
		return fmt.Sprintf("tenant %q: %s; it is marked needs_reauth and skipped until you run `cazbling activate %s` with a new --bling-code", t.ID, reason, t.ID)
	case cazbling.KindDailyQuota:
		until := nextMidnightSaoPaulo(d.now())
		reason := "Bling's daily request quota is used up"
		if serr := d.Store.SetTenantStatus(sctx, t.ID, cazbling.TenantPaused, until, reason); serr != nil {
			d.logger().Error("could not pause tenant", "tenant", t.ID, "error", serr)
		}
		return fmt.Sprintf("tenant %q: %s; paused until %s, when the quota resets; work left is done then", t.ID, reason, until.Format(time.RFC3339))
	case cazbling.KindUnauthorized:
		if ae != nil && ae.API == "cazco" {
			return fmt.Sprintf("tenant %q: CaZco refused the API key; check the key and run `cazbling activate %s --cazco-api-key ...`: %v", t.ID, t.ID, err)
		}
		return fmt.Sprintf("tenant %q: Bling refused the credentials; run `cazbling activate %s` again: %v", t.ID, t.ID, err)
	}
	// The run's own context says whether --timeout was reached: a single request's
	// HTTP timeout also wraps context.DeadlineExceeded.
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Sprintf("tenant %q: the run's --timeout was reached; work not done is left for the next run: %v", t.ID, err)
	}
	if errors.Is(ctx.Err(), context.Canceled) {
		return fmt.Sprintf("tenant %q: the run was interrupted; work not done is left for the next run", t.ID)
	}
	return fmt.Sprintf("tenant %q %s flow failed; work not done is left for the next run: %v", t.ID, flow, err)
}

// SaoPaulo is Bling's time zone.
var SaoPaulo = mustLoad("America/Sao_Paulo")

func mustLoad(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		return time.FixedZone("BRT", -3*3600)
	}
	return loc
}

func nextMidnightSaoPaulo(now time.Time) time.Time {
	l := now.In(SaoPaulo)
	return time.Date(l.Year(), l.Month(), l.Day()+1, 0, 0, 0, 0, SaoPaulo)
}

func (d *Deps) now() time.Time {
	if d.Now == nil {
		return time.Now()
	}
	return d.Now()
}

func (d *Deps) logger() *slog.Logger {
	if d.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return d.Logger
}
