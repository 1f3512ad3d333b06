package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/cazbling/cazbling/pkg/cazbling"
	"github.com/cazbling/cazbling/pkg/store/schema"
)

// StartRun records a run with status "running" and returns its id. A zero StartedAt
// means now.
func (s *Store) StartRun(ctx context.Context, r cazbling.Run) (int64, error) {
	started := r.StartedAt
	if started.IsZero() {
		started = s.now()
	}
	var id int64
	err := s.inTx(ctx, "start run", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO runs (tenant_id, flow, started_at, status, message)
			VALUES (?, ?, ?, 'running', ?)`, r.TenantID, r.Flow, toNanos(started), r.Message)
		if err != nil {
			return err
		}
		id, err = res.LastInsertId()
		return err
	})
	return id, err
}

// FinishRun records the end of run r.ID: its status, message and counts. A zero
// FinishedAt means now.
func (s *Store) FinishRun(ctx context.Context, r cazbling.Run) error {
	finished := r.FinishedAt
	if finished.IsZero() {
		finished = s.now()
	}
	c := r.Counts
	return s.inTx(ctx, fmt.Sprintf("finish run %d", r.ID), func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE runs SET finished_at = ?, status = ?, message = ?,
				created = ?, updated = ?, unchanged = ?, stock_set = ?, skipped = ?,
				warnings = ?, failed = ?, retry = ?
			WHERE id = ?`,
			toNanos(finished), r.Status, r.Message, c.Created, c.Updated, c.Unchanged,
			c.StockSet, c.Skipped, c.Warnings, c.Failed, c.Retry, r.ID)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err == nil && n == 0 {
			err = fmt.Errorf("run %d: %w", r.ID, cazbling.ErrNotFound)
		}
		return err
	})
}

// likeEscape escapes LIKE's wildcards in p.
func likeEscape(p cazbling.LogParams) string { return schema.LikeEscape(p) }

// where collects the conditions of a query that filters on optional fields.
type where struct {
	conds []string
	args  []any
}

func (w *where) add(cond string, arg any) {
	w.conds = append(w.conds, cond)
	w.args = append(w.args, arg)
}

// common adds the filters log rows and runs share; zero values do not filter, and
// since applies to the column timeColumn.
func (w *where) common(tenantID, flow, status string, since time.Time, timeColumn string) {
	if tenantID != "" {
		w.add("tenant_id = ?", tenantID)
	}
	if flow != "" {
		w.add("flow = ?", flow)
	}
	if status != "" {
		w.add("status = ?", status)
	}
	if !since.IsZero() {
		w.add(timeColumn+" >= ?", toNanos(since))
	}
}

func (w *where) String() string {
	if len(w.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(w.conds, " AND ")
}

// limitClause turns a limit where 0 means all into SQL.
func limitClause(limit int) string {
	if limit <= 0 {
		return ""
	}
	return fmt.Sprintf(" LIMIT %d", limit)
}

// Logs returns the log rows f selects, newest first.
func (s *Store) Logs(ctx context.Context, f cazbling.LogFilter) ([]cazbling.LogEntry, error) {
	var w where
	w.common(f.TenantID, f.Flow, f.Status, f.Since, "time")
	if f.Key != "" {
		w.add("key = ?", f.Key)
	}
	if f.Entity != "" {
		w.add("entity = ?", f.Entity)
	}
	if f.RunID != 0 {
		w.add("run_id = ?", f.RunID)
	}
	if f.Search != "" {
		// An order's number is the "number" parameter of its rows' code.
		w.conds = append(w.conds, `(key = ? OR '&' || params || '&' LIKE ? ESCAPE '\')`)
		w.args = append(w.args, f.Search, "%&"+likeEscape(cazbling.Params("number", f.Search))+"&%")
	}
	page := limitClause(f.Limit)
	if f.Offset > 0 {
		if page == "" {
			page = " LIMIT -1"
		}
		page += fmt.Sprintf(" OFFSET %d", f.Offset)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT id, time, run_id, tenant_id, flow, entity, key,
		action, status, message, bling_id, cazco_id, code, params FROM log_rows`+w.String()+`
		ORDER BY time DESC, id DESC`+page, w.args...)
	if err != nil {
		return nil, s.fail("read logs", err)
	}
	defer rows.Close()
	var entries []cazbling.LogEntry
	for rows.Next() {
		var (
			e      cazbling.LogEntry
			at     int64
			params string
		)
		if err := rows.Scan(&e.ID, &at, &e.RunID, &e.TenantID, &e.Flow, &e.Entity, &e.Key,
			&e.Action, &e.Status, &e.Message, &e.BlingID, &e.CazcoID, &e.Code, &params); err != nil {
			return nil, s.fail("read logs", err)
		}
		e.Time = fromNanos(at)
		e.Params = cazbling.LogParams(params)
		entries = append(entries, e)
	}
	if err := rows.Err(); err != nil {
		return nil, s.fail("read logs", err)
	}
	return entries, nil
}

const runColumns = schema.RunColumns

func scanRun(row rowScanner) (cazbling.Run, error) { return schema.ScanRun(row) }

// Runs returns the runs f selects, newest first.
func (s *Store) Runs(ctx context.Context, f cazbling.RunFilter) ([]cazbling.Run, error) {
	var w where
	w.common(f.TenantID, f.Flow, f.Status, f.Since, "started_at")
	if f.RunID != 0 {
		w.add("id = ?", f.RunID)
	}
	return s.queryRuns(ctx, `SELECT `+runColumns+` FROM runs`+w.String()+`
		ORDER BY started_at DESC, id DESC`+limitClause(f.Limit), w.args...)
}

func (s *Store) queryRuns(ctx context.Context, query string, args ...any) ([]cazbling.Run, error) {
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, s.fail("read runs", err)
	}
	defer rows.Close()
	var runs []cazbling.Run
	for rows.Next() {
		r, err := scanRun(rows)
		if err != nil {
			return nil, s.fail("read runs", err)
		}
		runs = append(runs, r)
	}
	if err := rows.Err(); err != nil {
		return nil, s.fail("read runs", err)
	}
	return runs, nil
}

// LastRuns returns a tenant's latest run of each flow, by flow.
func (s *Store) LastRuns(ctx context.Context, tenantID string) (map[string]cazbling.Run, error) {
	runs, err := s.queryRuns(ctx, `SELECT `+runColumns+` FROM runs r
		WHERE tenant_id = ? AND id = (SELECT id FROM runs l
			WHERE l.tenant_id = r.tenant_id AND l.flow = r.flow
			ORDER BY l.started_at DESC, l.id DESC LIMIT 1)`, tenantID)
	if err != nil {
		return nil, err
	}
	last := make(map[string]cazbling.Run, len(runs))
	for _, r := range runs {
		last[r.Flow] = r
	}
	return last, nil
}

// failingLogRows selects the log rows e whose item is failing now: rows with status
// error that are the latest row of their (tenant, entity, key). Ties in time go to
// the higher id, as in Logs.
const failingLogRows = `SELECT e.tenant_id, e.entity, e.key FROM log_rows e
	WHERE e.status = 'error' AND NOT EXISTS (
		SELECT 1 FROM log_rows l
		WHERE l.key = e.key AND l.tenant_id = e.tenant_id AND l.entity = e.entity
			AND l.time >= e.time AND (l.time > e.time OR l.id > e.id))`

// FailingItems returns how many of a tenant's items are failing now: order links in
// state failed, plus products whose latest product or stock log row is an error.
func (s *Store) FailingItems(ctx context.Context, tenantID string) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT
		(SELECT count(*) FROM order_links WHERE tenant_id = ?1 AND state = 'failed') +
		(SELECT count(DISTINCT f.key) FROM (`+failingLogRows+` AND e.tenant_id = ?1
			AND e.entity IN ('product', 'stock')) f)`, tenantID).Scan(&n)
	if err != nil {
		return 0, s.fail("count failing items", err)
	}
	return n, nil
}

// PruneLogs deletes log rows older than before, except the rows of items still
// failing: orders whose link is failed or creating, and items whose latest log row
// is an error. It returns how many rows it deleted.
func (s *Store) PruneLogs(ctx context.Context, before time.Time) (int64, error) {
	var deleted int64
	err := s.inTx(ctx, "prune logs", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `WITH failing (tenant_id, key) AS MATERIALIZED (
				SELECT tenant_id, cazco_id FROM order_links WHERE state IN ('failed', 'creating')
				UNION
				SELECT f.tenant_id, f.key FROM (`+failingLogRows+`) f)
			DELETE FROM log_rows WHERE time < ? AND NOT EXISTS (
				SELECT 1 FROM failing WHERE failing.tenant_id = log_rows.tenant_id
					AND failing.key = log_rows.key)`, toNanos(before))
		if err != nil {
			return err
		}
		deleted, err = res.RowsAffected()
		return err
	})
	return deleted, err
}
