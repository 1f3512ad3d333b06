package cmd

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cazbling/cazbling/pkg/cazbling"
)

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
	Host       string `json:"host"`
}

var runColumns = []string{"run_id", "tenant", "flow", "started_at", "finished_at", "status", "message",
	"created", "updated", "unchanged", "stock_set", "skipped", "warnings", "failed", "retry", "host"}

func newRunRow(r cazbling.Run) runRow {
	c := r.Counts
	return runRow{
		RunID: r.ID, Tenant: r.TenantID, Flow: r.Flow, StartedAt: rfc3339(r.StartedAt),
		FinishedAt: rfc3339(r.FinishedAt), Status: r.Status, Message: r.Message,
		Created: c.Created, Updated: c.Updated, Unchanged: c.Unchanged, StockSet: c.StockSet,
		Skipped: c.Skipped, Warnings: c.Warnings, Failed: c.Failed, Retry: c.Retry, Host: r.Host,
	}
}

func (r runRow) record() []string {
	rec := []string{strconv.FormatInt(r.RunID, 10), r.Tenant, r.Flow, r.StartedAt, r.FinishedAt, r.Status, r.Message}
	for _, n := range []int{r.Created, r.Updated, r.Unchanged, r.StockSet, r.Skipped, r.Warnings, r.Failed, r.Retry} {
		rec = append(rec, strconv.Itoa(n))
	}
	return append(rec, r.Host)
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
