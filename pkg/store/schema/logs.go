package schema

import (
	"strconv"
	"strings"
	"time"

	"github.com/cazbling/cazbling/pkg/cazbling"
)

// Placeholder is a backend's placeholder for its n-th parameter (from 1): ? for
// SQLite, $n for PostgreSQL.
type Placeholder func(n int) string

// QuestionMark is SQLite's Placeholder.
func QuestionMark(int) string { return "?" }

// Dollar is PostgreSQL's Placeholder.
func Dollar(n int) string { return "$" + strconv.Itoa(n) }

// Where collects the conditions of a query that filters on optional fields, the same
// for both backends but for the placeholders, and their arguments (Args).
type Where struct {
	ph    Placeholder
	conds []string
	Args  []any
}

// arg adds a parameter and returns its placeholder.
func (w *Where) arg(v any) string {
	w.Args = append(w.Args, v)
	return w.ph(len(w.Args))
}

func (w *Where) eq(column string, v any) {
	w.conds = append(w.conds, column+" = "+w.arg(v))
}

// common adds the filters log rows and runs share; zero values do not filter, and
// since applies to the column timeColumn.
func (w *Where) common(tenantID, flow, status string, since time.Time, timeColumn string) {
	if tenantID != "" {
		w.eq("tenant_id", tenantID)
	}
	if flow != "" {
		w.eq("flow", flow)
	}
	if status != "" {
		w.eq("status", status)
	}
	if !since.IsZero() {
		w.conds = append(w.conds, timeColumn+" >= "+w.arg(Nanos(since)))
	}
}

// String is the WHERE clause, empty when nothing filters.
func (w *Where) String() string {
	if len(w.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(w.conds, " AND ")
}

// LogWhere is the filter of f on log_rows (not its page: LIMIT and OFFSET differ).
func LogWhere(f cazbling.LogFilter, ph Placeholder) *Where {
	w := &Where{ph: ph}
	w.common(f.TenantID, f.Flow, f.Status, f.Since, "time")
	if f.Key != "" {
		w.eq("key", f.Key)
	}
	if f.Entity != "" {
		w.eq("entity", f.Entity)
	}
	if f.RunID != 0 {
		w.eq("run_id", f.RunID)
	}
	if f.Search != "" {
		// An order's number is the "number" parameter of its rows' code.
		key := w.arg(f.Search)
		like := w.arg("%&" + LikeEscape(cazbling.Params("number", f.Search)) + "&%")
		w.conds = append(w.conds, `(key = `+key+` OR '&' || params || '&' LIKE `+like+` ESCAPE '\')`)
	}
	return w
}

// RunWhere is the filter of f on runs (not its limit).
func RunWhere(f cazbling.RunFilter, ph Placeholder) *Where {
	w := &Where{ph: ph}
	w.common(f.TenantID, f.Flow, f.Status, f.Since, "started_at")
	if f.RunID != 0 {
		w.eq("id", f.RunID)
	}
	return w
}

// LogColumns are the columns ScanLog reads, in its order.
const LogColumns = `id, time, run_id, tenant_id, flow, entity, key,
		action, status, message, bling_id, cazco_id, code, params`

// ScanLog reads a row of LogColumns.
func ScanLog(row Row) (cazbling.LogEntry, error) {
	var (
		e      cazbling.LogEntry
		at     int64
		params string
	)
	err := row.Scan(&e.ID, &at, &e.RunID, &e.TenantID, &e.Flow, &e.Entity, &e.Key,
		&e.Action, &e.Status, &e.Message, &e.BlingID, &e.CazcoID, &e.Code, &params)
	e.Time = Time(at)
	e.Params = cazbling.LogParams(params)
	return e, err
}

// FailingLogRows selects the log rows e whose item is failing now: rows with status
// error that are the latest row of their (tenant, entity, key). Ties in time go to
// the higher id, as in Logs.
const FailingLogRows = `SELECT e.tenant_id, e.entity, e.key FROM log_rows e
	WHERE e.status = 'error' AND NOT EXISTS (
		SELECT 1 FROM log_rows l
		WHERE l.key = e.key AND l.tenant_id = e.tenant_id AND l.entity = e.entity
			AND l.time >= e.time AND (l.time > e.time OR l.id > e.id))`

// PruneLogs deletes the log rows older than its one parameter (? placeholder, see
// Numbered), except the rows of items still failing: orders whose link is failed or
// creating, and items whose latest log row is an error.
const PruneLogs = `WITH failing (tenant_id, key) AS MATERIALIZED (
		SELECT tenant_id, cazco_id FROM order_links WHERE state IN ('failed', 'creating')
		UNION
		SELECT f.tenant_id, f.key FROM (` + FailingLogRows + `) f)
	DELETE FROM log_rows WHERE time < ? AND NOT EXISTS (
		SELECT 1 FROM failing WHERE failing.tenant_id = log_rows.tenant_id
			AND failing.key = log_rows.key)`
