package cmd

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/cazbling/cazbling/pkg/cazbling"
	"github.com/cazbling/cazbling/pkg/store"
)

// LogsOptions are the flags of `cazbling logs` and what it needs to run.
type LogsOptions struct {
	Out   io.Writer // the rows
	Err   io.Writer // notes for people, e.g. that more rows exist than shown
	Store func(context.Context) (store.Store, error)
	Now   func() time.Time

	Tenants []string // the global --tenant flag; logs takes at most one
	Flow    string
	Status  string
	Since   string // a duration, a date or an RFC 3339 time; see ParseSince
	SKU     string
	Order   string
	RunID   int64
	Runs    bool // one row per run instead of one per item
	Limit   int  // 0: all
	Output  string
}

// NewLogsCmd builds `cazbling logs` and `cazbling logs prune`.
func NewLogsCmd(app *App) *cobra.Command {
	return newLogsCmd(app, nil, nil)
}

// newLogsCmd builds the logs command; runF and pruneF, when not nil, replace logsRun
// and pruneRun (tests check flag parsing with them).
func newLogsCmd(app *App, runF func(context.Context, *LogsOptions) error, pruneF func(context.Context, *PruneOptions) error) *cobra.Command {
	opts := &LogsOptions{}
	c := &cobra.Command{
		Use:   "logs [flags]",
		Short: "Show what happened to every item (or every run), newest first",
		Long: `Shows the sync log: one row per item processed (product, stock or order), newest
first; or, with --runs, one row per run of a flow for a tenant.

Filters combine: a row is shown when it matches all of them. --sku shows the product
and stock rows of one SKU; --order the rows of one CaZco order id.

Times are UTC. The table cuts long messages to fit 80 columns; -o json and -o csv
carry every field in full. In the table, RESULT is the action taken (created,
updated, unchanged, stock_set, failed, retry_later, ...) or the status when that says
more (warning, skipped, error).

'cazbling logs prune --older-than 90d' deletes old rows (see its help).`,
		Example: `  cazbling logs --tenant loja-da-ana --status error --since 24h
  cazbling logs --sku CAM-AZUL-G --limit 0
  cazbling logs --order 8f2c91 -o json
  cazbling logs --runs --flow orders --since 2026-11-01
  cazbling logs --run 1234 -o csv > run-1234.csv`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.Out, opts.Err, opts.Store, opts.Now, opts.Tenants = app.IO.Out, app.IO.Err, app.StoreForReading, app.Now, app.Tenants
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return logsRun(cmd.Context(), opts)
		},
	}
	f := c.Flags()
	f.StringVar(&opts.Flow, "flow", "", "one flow: products, stock, orders or activate")
	f.StringVar(&opts.Status, "status", "", "one outcome: ok, warning, error or skipped (with --runs also running)")
	f.StringVar(&opts.Since, "since", "", "rows from this time on: a duration back from now (24h, 7d, 1d12h), a date (2026-11-01, midnight UTC) or an RFC 3339 time")
	f.StringVar(&opts.SKU, "sku", "", "the product and stock rows of one SKU")
	f.StringVar(&opts.Order, "order", "", "the rows of one CaZco order id")
	f.Int64Var(&opts.RunID, "run", 0, "the rows of one run (ids from --runs)")
	f.BoolVar(&opts.Runs, "runs", false, "one row per run instead: tenant, flow, start, duration, counts, outcome")
	f.IntVar(&opts.Limit, "limit", 50, "show at most N rows, newest first; 0 for all")
	f.StringVarP(&opts.Output, "output", "o", "table", "table, json or csv")
	for flag, values := range map[string][]string{
		"flow":   {cazbling.FlowProducts, cazbling.FlowStock, cazbling.FlowOrders, cazbling.FlowActivate},
		"status": {cazbling.StatusOK, cazbling.StatusWarning, cazbling.StatusError, cazbling.StatusSkipped},
		"output": {"table", "json", "csv"},
	} {
		_ = c.RegisterFlagCompletionFunc(flag, cobra.FixedCompletions(values, cobra.ShellCompDirectiveNoFileComp))
	}
	c.AddCommand(newLogsPruneCmd(app, pruneF))
	return c
}

// logQuery is a validated logs request.
type logQuery struct {
	logs  cazbling.LogFilter
	runs  cazbling.RunFilter
	sku   bool // logs.Key is a SKU: product and stock rows
	limit int  // 0: all
}

// query checks the options and turns them into store filters.
func (o *LogsOptions) query() (logQuery, error) {
	var q logQuery
	switch o.Output {
	case "table", "json", "csv":
	default:
		return q, usageErr("--output must be table, json or csv, not %q", o.Output)
	}
	if len(o.Tenants) > 1 {
		return q, usageErr("logs takes one --tenant, not %d; leave it out to see every tenant", len(o.Tenants))
	}
	tenant := ""
	if len(o.Tenants) == 1 {
		tenant = o.Tenants[0]
	}
	flows := []string{cazbling.FlowProducts, cazbling.FlowStock, cazbling.FlowOrders, cazbling.FlowActivate}
	if o.Flow != "" && !slices.Contains(flows, o.Flow) {
		return q, usageErr("--flow must be one of %s, not %q", strings.Join(flows, ", "), o.Flow)
	}
	statuses := []string{cazbling.StatusOK, cazbling.StatusWarning, cazbling.StatusError, cazbling.StatusSkipped}
	if o.Runs {
		statuses = append(statuses, "running")
	}
	if o.Status != "" && !slices.Contains(statuses, o.Status) {
		return q, usageErr("--status must be one of %s, not %q", strings.Join(statuses, ", "), o.Status)
	}
	var since time.Time
	if o.Since != "" {
		var err error
		if since, err = ParseSince(o.Since, o.Now()); err != nil {
			return q, usageErr("--since: %v", err)
		}
	}
	if o.SKU != "" && o.Order != "" {
		return q, usageErr("give --sku or --order, not both")
	}
	if o.Runs && (o.SKU != "" || o.Order != "") {
		return q, usageErr("--runs lists whole runs; --sku and --order select items, leave them out")
	}
	if o.RunID < 0 {
		return q, usageErr("--run must be a run id, not %d", o.RunID)
	}
	if o.Limit < 0 {
		return q, usageErr("--limit must be 0 (all) or more, not %d", o.Limit)
	}
	q.limit = o.Limit
	fetch := 0
	if o.Limit > 0 {
		fetch = o.Limit + 1 // one more tells whether rows were left out
	}
	q.logs = cazbling.LogFilter{TenantID: tenant, Flow: o.Flow, Status: o.Status, Since: since, RunID: o.RunID, Limit: fetch}
	q.runs = cazbling.RunFilter{TenantID: tenant, Flow: o.Flow, Status: o.Status, Since: since, RunID: o.RunID, Limit: fetch}
	switch {
	case o.SKU != "":
		q.logs.Key, q.sku = o.SKU, true
	case o.Order != "":
		q.logs.Key, q.logs.Entity = o.Order, cazbling.EntityOrder
	}
	return q, nil
}

// logsRun prints the log rows or runs the options select.
func logsRun(ctx context.Context, o *LogsOptions) error {
	q, err := o.query()
	if err != nil {
		return err
	}
	store, err := o.Store(ctx)
	if err != nil {
		return err
	}
	if q.logs.TenantID != "" {
		if _, err := lookupTenant(ctx, store, q.logs.TenantID); err != nil {
			return err
		}
	}
	scrub, err := secretScrubber(ctx, store)
	if err != nil {
		return err
	}
	if o.Runs {
		runs, err := store.Runs(ctx, q.runs)
		if err != nil {
			return err
		}
		for i := range runs {
			runs[i].Message = scrub.Replace(runs[i].Message)
		}
		more := q.limit > 0 && len(runs) > q.limit
		if more {
			runs = runs[:q.limit]
		}
		if err := printRuns(o.Out, o.Output, runs, q.runs.TenantID == ""); err != nil {
			return err
		}
		o.noteMore(more, len(runs), "runs")
		return nil
	}
	entries, err := readLogs(ctx, store, q)
	if err != nil {
		return err
	}
	for i := range entries {
		entries[i].Message = scrub.Replace(entries[i].Message)
	}
	more := q.limit > 0 && len(entries) > q.limit
	if more {
		entries = entries[:q.limit]
	}
	if err := printLogs(o.Out, o.Output, entries, q.logs.TenantID == ""); err != nil {
		return err
	}
	o.noteMore(more, len(entries), "rows")
	return nil
}

// noteMore tells people reading a table that older rows were left out.
func (o *LogsOptions) noteMore(more bool, shown int, what string) {
	if more && o.Output == "table" && o.Err != nil {
		fmt.Fprintf(o.Err, "Showing the newest %d %s; --limit N shows more, --limit 0 all.\n", shown, what)
	}
}

// readLogs reads the rows of q. A SKU's rows are its product rows and its stock rows,
// two entities the store filters one at a time: read both and merge them.
func readLogs(ctx context.Context, store store.Store, q logQuery) ([]cazbling.LogEntry, error) {
	if !q.sku {
		return store.Logs(ctx, q.logs)
	}
	var merged []cazbling.LogEntry
	for _, entity := range []string{cazbling.EntityProduct, cazbling.EntityStock} {
		f := q.logs
		f.Entity = entity
		rows, err := store.Logs(ctx, f)
		if err != nil {
			return nil, err
		}
		merged = mergeNewest(merged, rows)
	}
	if q.logs.Limit > 0 && len(merged) > q.logs.Limit {
		merged = merged[:q.logs.Limit]
	}
	return merged, nil
}

// mergeNewest merges two lists of rows that are each newest first (by time, then id)
// into one.
func mergeNewest(a, b []cazbling.LogEntry) []cazbling.LogEntry {
	out := make([]cazbling.LogEntry, 0, len(a)+len(b))
	for len(a) > 0 && len(b) > 0 {
		if a[0].Time.After(b[0].Time) || a[0].Time.Equal(b[0].Time) && a[0].ID > b[0].ID {
			out, a = append(out, a[0]), a[1:]
		} else {
			out, b = append(out, b[0]), b[1:]
		}
	}
	return append(append(out, a...), b...)
}
