package cmd

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/cazbling/cazbling/pkg/cazbling"
	"github.com/cazbling/cazbling/pkg/store/sqlite"
)

// tableWidth is the terminal width every table fits in.
const tableWidth = 80

// LogsOptions are the flags of `cazbling logs` and what it needs to run.
type LogsOptions struct {
	Out   io.Writer // the rows
	Err   io.Writer // notes for people, e.g. that more rows exist than shown
	Store func(context.Context) (*sqlite.Store, error)
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
		if err := checkTenant(ctx, store, q.logs.TenantID); err != nil {
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

// checkTenant turns an unknown tenant into a usage error.
func checkTenant(ctx context.Context, store *sqlite.Store, id string) error {
	_, err := store.Tenant(ctx, id)
	if errors.Is(err, cazbling.ErrNotFound) {
		return usageErr("unknown tenant %q; 'cazbling tenants' lists them", id)
	}
	return err
}

// minScrubbed is the length from which a secret is scrubbed from output: shorter
// ones would hide ordinary words (and are not real credentials).
const minScrubbed = 8

// secretScrubber replaces every tenant's secrets (client secret, API key, tokens)
// with [REDACTED]. Messages never should carry one; this makes sure that, should a
// bug let one into the log, no output shows it.
func secretScrubber(ctx context.Context, store *sqlite.Store) (*strings.Replacer, error) {
	tenants, err := store.Tenants(ctx)
	if err != nil {
		return nil, err
	}
	var pairs []string
	for _, t := range tenants {
		tok, err := store.Token(ctx, t.ID)
		if err != nil {
			return nil, err
		}
		for _, secret := range []string{t.BlingClientSecret, t.CazcoAPIKey, tok.AccessToken, tok.RefreshToken} {
			if len(secret) >= minScrubbed {
				pairs = append(pairs, secret, "[REDACTED]")
			}
		}
	}
	return strings.NewReplacer(pairs...), nil
}

// readLogs reads the rows of q. A SKU's rows are its product rows and its stock rows,
// two entities the store filters one at a time: read both and merge them.
func readLogs(ctx context.Context, store *sqlite.Store, q logQuery) ([]cazbling.LogEntry, error) {
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

// ---------------------------------------------------------------- --since

var (
	ageSyntax  = regexp.MustCompile(`^(?:(\d+)d)?(.*)$`)
	dateSyntax = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)
)

// maxAgeDays bounds the days of an age so that it fits a time.Duration.
const maxAgeDays = 36500

// parseAge reads a non-negative age: a Go duration (90m, 720h, 1h30m) that may start
// with a number of days (7d, 1d12h).
func parseAge(s string) (time.Duration, error) {
	m := ageSyntax.FindStringSubmatch(s)
	if s == "" || m == nil {
		return 0, fmt.Errorf("%q is not a duration like 24h, 90m or 7d", s)
	}
	var age time.Duration
	if m[1] != "" {
		days, err := strconv.Atoi(m[1])
		if err != nil || days > maxAgeDays {
			return 0, fmt.Errorf("%q: at most %d days", s, maxAgeDays)
		}
		age = time.Duration(days) * 24 * time.Hour
	}
	if rest := m[2]; rest != "" {
		d, err := time.ParseDuration(rest)
		if err != nil || d < 0 || strings.HasPrefix(rest, "+") {
			return 0, fmt.Errorf("%q is not a duration like 24h, 90m or 7d", s)
		}
		if d > time.Duration(1<<63-1)-age {
			return 0, fmt.Errorf("%q is too long", s)
		}
		age += d
	}
	return age, nil
}

// ParseSince reads a --since value: an age back from now (24h, 90m, 7d, 1d12h), a date
// (2026-11-01, meaning its midnight in UTC) or an RFC 3339 time
// (2026-11-01T09:00:00-03:00).
func ParseSince(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if dateSyntax.MatchString(s) {
		t, err := time.Parse(time.DateOnly, s)
		if err != nil {
			return time.Time{}, fmt.Errorf("%q is not a date: %v", s, err)
		}
		return t, nil
	}
	if strings.Contains(s, "T") || strings.Contains(s, "t") {
		t, err := time.Parse(time.RFC3339, strings.ToUpper(s))
		if err != nil {
			return time.Time{}, fmt.Errorf("%q is not an RFC 3339 time like 2026-11-01T09:00:00-03:00", s)
		}
		return t.UTC(), nil
	}
	age, err := parseAge(s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q: want a duration (24h, 7d), a date (2026-11-01) or an RFC 3339 time (2026-11-01T09:00:00-03:00)", s)
	}
	return now.Add(-age), nil
}

// ---------------------------------------------------------------- output

// logRow is a log row as JSON and CSV show it. Unknown fields are empty strings.
type logRow struct {
	ID      int64  `json:"id"`
	Time    string `json:"time"`
	RunID   int64  `json:"run_id"`
	Tenant  string `json:"tenant"`
	Flow    string `json:"flow"`
	Entity  string `json:"entity"`
	Key     string `json:"key"`
	Action  string `json:"action"`
	Status  string `json:"status"`
	Message string `json:"message"`
	BlingID string `json:"bling_id"`
	CazcoID string `json:"cazco_id"`
}

var logColumns = []string{"id", "time", "run_id", "tenant", "flow", "entity", "key", "action", "status", "message", "bling_id", "cazco_id"}

func newLogRow(e cazbling.LogEntry) logRow {
	return logRow{
		ID: e.ID, Time: rfc3339(e.Time), RunID: e.RunID, Tenant: e.TenantID, Flow: e.Flow,
		Entity: e.Entity, Key: e.Key, Action: e.Action, Status: e.Status, Message: e.Message,
		BlingID: e.BlingID, CazcoID: e.CazcoID,
	}
}

func (r logRow) record() []string {
	return []string{strconv.FormatInt(r.ID, 10), r.Time, strconv.FormatInt(r.RunID, 10), r.Tenant,
		r.Flow, r.Entity, r.Key, r.Action, r.Status, r.Message, r.BlingID, r.CazcoID}
}

// runRow is a run as JSON and CSV show it.
type runRow struct {
	RunID      int64  `json:"run_id"`
	Tenant     string `json:"tenant"`
	Flow       string `json:"flow"`
	StartedAt  string `json:"started_at"`
	FinishedAt string `json:"finished_at"`
	Status     string `json:"status"`
	Message    string `json:"message"`
	Created    int    `json:"created"`
	Updated    int    `json:"updated"`
	Unchanged  int    `json:"unchanged"`
	StockSet   int    `json:"stock_set"`
	Skipped    int    `json:"skipped"`
	Warnings   int    `json:"warnings"`
	Failed     int    `json:"failed"`
	Retry      int    `json:"retry"`
}

var runColumns = []string{"run_id", "tenant", "flow", "started_at", "finished_at", "status", "message",
	"created", "updated", "unchanged", "stock_set", "skipped", "warnings", "failed", "retry"}

func newRunRow(r cazbling.Run) runRow {
	c := r.Counts
	return runRow{
		RunID: r.ID, Tenant: r.TenantID, Flow: r.Flow, StartedAt: rfc3339(r.StartedAt),
		FinishedAt: rfc3339(r.FinishedAt), Status: r.Status, Message: r.Message,
		Created: c.Created, Updated: c.Updated, Unchanged: c.Unchanged, StockSet: c.StockSet,
		Skipped: c.Skipped, Warnings: c.Warnings, Failed: c.Failed, Retry: c.Retry,
	}
}

func (r runRow) record() []string {
	rec := []string{strconv.FormatInt(r.RunID, 10), r.Tenant, r.Flow, r.StartedAt, r.FinishedAt, r.Status, r.Message}
	for _, n := range []int{r.Created, r.Updated, r.Unchanged, r.StockSet, r.Skipped, r.Warnings, r.Failed, r.Retry} {
		rec = append(rec, strconv.Itoa(n))
	}
	return rec
}

func printLogs(w io.Writer, output string, entries []cazbling.LogEntry, withTenant bool) error {
	rows := make([]logRow, 0, len(entries))
	for _, e := range entries {
		rows = append(rows, newLogRow(e))
	}
	switch output {
	case "json":
		return writeJSON(w, rows)
	case "csv":
		return writeCSV(w, logColumns, rows, logRow.record)
	}
	if len(entries) == 0 {
		_, err := fmt.Fprintln(w, "No log rows match.")
		return err
	}
	header := []string{"TIME (UTC)", "TENANT", "KEY", "RESULT", "MESSAGE"}
	if !withTenant {
		header = slices.Delete(header, 1, 2)
	}
	cells := make([][]string, 0, len(entries))
	for _, e := range entries {
		row := []string{shortTime(e.Time), cell(e.TenantID), cell(e.Key), cell(result(e)), cell(e.Message)}
		if !withTenant {
			row = slices.Delete(row, 1, 2)
		}
		cells = append(cells, row)
	}
	// Cut the message first, then the key and tenant (down to what tells most apart),
	// the message again, and the result last.
	msg, key, res := len(header)-1, len(header)-3, len(header)-2
	rules := []shrink{{msg, 20}, {key, 12}}
	if withTenant {
		rules = append(rules, shrink{1, 11})
	}
	rules = append(rules, shrink{msg, 16}, shrink{key, 8}, shrink{res, 9}, shrink{msg, 8})
	fitTable(header, cells, tableWidth, rules...)
	return renderTable(w, header, cells)
}

// result is the RESULT cell: the action, or the status when that says more.
func result(e cazbling.LogEntry) string {
	switch {
	case e.Status == cazbling.StatusOK:
		return e.Action
	case e.Status == cazbling.StatusError && e.Action != "" && e.Action != cazbling.ActionSkipped:
		return e.Action // failed, retry_later: both errors, and the difference matters
	case e.Status == "":
		return e.Action
	}
	return e.Status
}

func printRuns(w io.Writer, output string, runs []cazbling.Run, withTenant bool) error {
	rows := make([]runRow, 0, len(runs))
	for _, r := range runs {
		rows = append(rows, newRunRow(r))
	}
	switch output {
	case "json":
		return writeJSON(w, rows)
	case "csv":
		return writeCSV(w, runColumns, rows, runRow.record)
	}
	if len(runs) == 0 {
		_, err := fmt.Fprintln(w, "No runs match.")
		return err
	}
	header := []string{"RUN", "TENANT", "FLOW", "STARTED UTC", "TOOK", "STATUS", "ITEMS"}
	if !withTenant {
		header = slices.Delete(header, 1, 2)
	}
	cells := make([][]string, 0, len(runs))
	for _, r := range runs {
		row := []string{strconv.FormatInt(r.ID, 10), cell(r.TenantID), cell(r.Flow), shortTime(r.StartedAt),
			took(r), cell(r.Status), items(r.Counts)}
		if !withTenant {
			row = slices.Delete(row, 1, 2)
		}
		cells = append(cells, row)
	}
	var rules []shrink
	if withTenant {
		rules = append(rules, shrink{1, 8})
	}
	rules = append(rules, shrink{len(header) - 1, 12})
	fitTable(header, cells, tableWidth, rules...)
	if err := renderTable(w, header, cells); err != nil {
		return err
	}
	_, err := fmt.Fprintln(w, "ITEMS: created/updated/unchanged/stock set/failed/left to retry")
	return err
}

// items is the compact ITEMS cell of a run.
func items(c cazbling.Counts) string {
	parts := make([]string, 0, 6)
	for _, n := range []int{c.Created, c.Updated, c.Unchanged, c.StockSet, c.Failed, c.Retry} {
		parts = append(parts, compactCount(n))
	}
	return strings.Join(parts, "/")
}

// compactCount writes n in at most 4 characters: 9999, 12k, 999k, 12M.
func compactCount(n int) string {
	switch {
	case n < 10000:
		return strconv.Itoa(n)
	case n < 1000000:
		return strconv.Itoa(n/1000) + "k"
	default:
		return strconv.Itoa(n/1000000) + "M"
	}
}

// took is a run's duration, compact; "-" while it runs.
func took(r cazbling.Run) string {
	if r.FinishedAt.IsZero() {
		return "-"
	}
	d := r.FinishedAt.Sub(r.StartedAt)
	switch {
	case d < 0:
		return "-"
	case d < time.Minute:
		return fmt.Sprintf("%.1fs", d.Seconds())
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	default:
		return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
	}
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func writeCSV[T any](w io.Writer, header []string, rows []T, record func(T) []string) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(header); err != nil {
		return err
	}
	for _, r := range rows {
		if err := cw.Write(record(r)); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// rfc3339 formats t in UTC, or "" when it is not set.
func rfc3339(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// shortTime is a table's time: month, day, hour and minute in UTC.
func shortTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("01-02 15:04")
}

// cell makes text safe for one table cell: control characters (newlines, tabs,
// terminal escapes) become spaces.
func cell(s string) string {
	if !strings.ContainsFunc(s, unicode.IsControl) {
		return s
	}
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
}

// shrink lets fitTable cut column col down to min characters.
type shrink struct {
	col, min int
}

// fitTable cuts cells so that the table renderTable draws is at most width characters
// wide, trying the rules in order: each cuts its column (marking cuts with "…") until
// the table fits or the column is down to its minimum.
func fitTable(header []string, rows [][]string, width int, rules ...shrink) {
	widths := make([]int, len(header))
	measure := func() int {
		total := 3*len(header) + 1 // "| " before each cell, " |" after the last
		for i := range header {
			widths[i] = utf8.RuneCountInString(header[i])
			for _, r := range rows {
				widths[i] = max(widths[i], utf8.RuneCountInString(r[i]))
			}
			total += widths[i]
		}
		return total
	}
	for _, rule := range rules {
		over := measure() - width
		if over <= 0 {
			return
		}
		limit := max(widths[rule.col]-over, rule.min, utf8.RuneCountInString(header[rule.col]), 2)
		for _, r := range rows {
			r[rule.col] = ellipsize(r[rule.col], limit)
		}
	}
}

// ---------------------------------------------------------------- prune

// PruneOptions are the flags of `cazbling logs prune`.
type PruneOptions struct {
	Out     io.Writer
	Store   func(context.Context) (*sqlite.Store, error)
	Now     func() time.Time
	Tenants []string // the global --tenant flag: not allowed, pruning covers all tenants
	Quiet   bool     // the global -q flag: print nothing (for cron)

	OlderThan string
}

func newLogsPruneCmd(app *App, runF func(context.Context, *PruneOptions) error) *cobra.Command {
	opts := &PruneOptions{}
	c := &cobra.Command{
		Use:   "prune --older-than DURATION",
		Short: "Delete old log rows, never those of items still failing",
		Long: `Deletes the log rows older than --older-than, of every tenant, except the rows of
items still failing (orders not yet filed in Bling, products and stock whose latest
row is an error), so that their history stays until they are fixed. Runs are kept.
It prints how many rows it deleted, unless -q.`,
		Example: `  cazbling logs prune --older-than 90d
  # weekly, from cron:
  30 4 * * 0  cazbling logs prune --older-than 90d -q`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.Out, opts.Store, opts.Now, opts.Tenants, opts.Quiet = app.IO.Out, app.Store, app.Now, app.Tenants, app.Quiet
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return pruneRun(cmd.Context(), opts)
		},
	}
	c.Flags().StringVar(&opts.OlderThan, "older-than", "", "delete rows older than this: 90d, 720h, 1d12h (required)")
	return c
}

// pruneRun deletes old log rows and says how many.
func pruneRun(ctx context.Context, o *PruneOptions) error {
	if o.OlderThan == "" {
		return usageErr("prune needs --older-than, e.g. 'cazbling logs prune --older-than 90d'")
	}
	age, err := parseAge(o.OlderThan)
	if err != nil {
		return usageErr("--older-than: %v", err)
	}
	if age <= 0 {
		return usageErr("--older-than must be more than 0, e.g. 90d")
	}
	if len(o.Tenants) > 0 {
		return usageErr("prune covers every tenant; leave --tenant out")
	}
	store, err := o.Store(ctx)
	if err != nil {
		return err
	}
	before := o.Now().Add(-age)
	n, err := store.PruneLogs(ctx, before)
	if err != nil || o.Quiet {
		return err
	}
	_, err = fmt.Fprintf(o.Out, "Deleted %d log rows older than %s UTC (rows of items still failing are kept).\n",
		n, before.UTC().Format("2006-01-02 15:04"))
	return err
}
