package postgres

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

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
	err := s.pool.QueryRow(ctx, `INSERT INTO runs (tenant_id, flow, started_at, status, message)
		VALUES ($1, $2, $3, 'running', $4) RETURNING id`, r.TenantID, r.Flow, toNanos(started), r.Message).Scan(&id)
	if err != nil {
		return 0, s.fail(fmt.Sprintf("start %s run of tenant %q", r.Flow, r.TenantID), err)
	}
	return id, nil
}

// FinishRun records the end of run r.ID: its status, message and counts. A zero
// FinishedAt means now.
func (s *Store) FinishRun(ctx context.Context, r cazbling.Run) error {
	finished := r.FinishedAt
	if finished.IsZero() {
		finished = s.now()
	}
	c := r.Counts
	tag, err := s.pool.Exec(ctx, `UPDATE runs SET finished_at = $1, status = $2, message = $3,
			created = $4, updated = $5, unchanged = $6, stock_set = $7, skipped = $8,
			warnings = $9, failed = $10, retry = $11
		WHERE id = $12`,
		toNanos(finished), r.Status, r.Message, c.Created, c.Updated, c.Unchanged,
		c.StockSet, c.Skipped, c.Warnings, c.Failed, c.Retry, r.ID)
	if err != nil {
		return s.fail(fmt.Sprintf("finish run %d", r.ID), err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("finish run %d: %w", r.ID, cazbling.ErrNotFound)
	}
	return nil
}

// likeEscape escapes LIKE's wildcards in p.
func likeEscape(p cazbling.LogParams) string { return schema.LikeEscape(p) }

// where collects the conditions of a query that filters on optional fields, with
// numbered parameters.
type where struct {
	conds []string
	args  []any
}

// arg adds a parameter and returns its placeholder.
func (w *where) arg(v any) string {
	w.args = append(w.args, v)
	return "$" + strconv.Itoa(len(w.args))
}

func (w *where) add(column string, v any) {
	w.conds = append(w.conds, column+" = "+w.arg(v))
}

// common adds the filters log rows and runs share; zero values do not filter, and
// since applies to the column timeColumn.
func (w *where) common(tenantID, flow, status string, since time.Time, timeColumn string) {
	if tenantID != "" {
		w.add("tenant_id", tenantID)
	}
	if flow != "" {
		w.add("flow", flow)
	}
	if status != "" {
		w.add("status", status)
	}
	if !since.IsZero() {
		w.conds = append(w.conds, timeColumn+" >= "+w.arg(toNanos(since)))
	}
}

func (w *where) String() string {
	if len(w.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(w.conds, " AND ")
}

// page turns a limit where 0 means all, and an offset, into SQL.
func page(limit, offset int) string {
	var p string
	if limit > 0 {
		p = fmt.Sprintf(" LIMIT %d", limit)
	}
	if offset > 0 {
		p += fmt.Sprintf(" OFFSET %d", offset)
	}
	return p
}

// Logs returns the log rows f selects, newest first.
func (s *Store) Logs(ctx context.Context, f cazbling.LogFilter) ([]cazbling.LogEntry, error) {
	var w where
	w.common(f.TenantID, f.Flow, f.Status, f.Since, "time")
	if f.Key != "" {
		w.add("key", f.Key)
	}
	if f.Entity != "" {
		w.add("entity", f.Entity)
	}
	if f.RunID != 0 {
		w.add("run_id", f.RunID)
	}
	if f.Search != "" {
		// An order's number is the "number" parameter of its rows' code.
		key := w.arg(f.Search)
		like := w.arg("%&" + likeEscape(cazbling.Params("number", f.Search)) + "&%")
		w.conds = append(w.conds, `(key = `+key+` OR '&' || params || '&' LIKE `+like+` ESCAPE '\')`)
	}
	entries, err := queryAll(ctx, s, `SELECT id, time, run_id, tenant_id, flow, entity, key,
		action, status, message, bling_id, cazco_id, code, params FROM log_rows`+w.String()+`
		ORDER BY time DESC, id DESC`+page(f.Limit, f.Offset), w.args, func(row pgx.Rows) (cazbling.LogEntry, error) {
		var (
			e      cazbling.LogEntry
			at     int64
			params string
		)
		err := row.Scan(&e.ID, &at, &e.RunID, &e.TenantID, &e.Flow, &e.Entity, &e.Key,
			&e.Action, &e.Status, &e.Message, &e.BlingID, &e.CazcoID, &e.Code, &params)
		e.Time = fromNanos(at)
		e.Params = cazbling.LogParams(params)
		return e, err
	})
	if err != nil {
		return nil, s.fail("read logs", err)
	}
	return entries, nil
}

const runColumns = schema.RunColumns

func scanRun(row pgx.Rows) (cazbling.Run, error) { return schema.ScanRun(row) }

// Runs returns the runs f selects, newest first.
func (s *Store) Runs(ctx context.Context, f cazbling.RunFilter) ([]cazbling.Run, error) {
	var w where
	w.common(f.TenantID, f.Flow, f.Status, f.Since, "started_at")
	if f.RunID != 0 {
		w.add("id", f.RunID)
	}
	runs, err := queryAll(ctx, s, `SELECT `+runColumns+` FROM runs`+w.String()+`
		ORDER BY started_at DESC, id DESC`+page(f.Limit, 0), w.args, scanRun)
	if err != nil {
		return nil, s.fail("read runs", err)
	}
	return runs, nil
}

// LastRuns returns a tenant's latest run of each flow, by flow.
func (s *Store) LastRuns(ctx context.Context, tenantID string) (map[string]cazbling.Run, error) {
	runs, err := queryAll(ctx, s, `SELECT DISTINCT ON (flow) `+runColumns+` FROM runs
		WHERE tenant_id = $1 ORDER BY flow, started_at DESC, id DESC`, []any{tenantID}, scanRun)
	if err != nil {
		return nil, s.fail(fmt.Sprintf("read last runs of tenant %q", tenantID), err)
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
	err := s.pool.QueryRow(ctx, `SELECT
		(SELECT count(*) FROM order_links WHERE tenant_id = $1 AND state = 'failed') +
		(SELECT count(DISTINCT f.key) FROM (`+failingLogRows+` AND e.tenant_id = $1
			AND e.entity IN ('product', 'stock')) f)`, tenantID).Scan(&n)
	if err != nil {
		return 0, s.fail(fmt.Sprintf("count failing items of tenant %q", tenantID), err)
	}
	return n, nil
}

// PruneLogs deletes log rows older than before, except the rows of items still
// failing: orders whose link is failed or creating, and items whose latest log row
// is an error. It returns how many rows it deleted.
func (s *Store) PruneLogs(ctx context.Context, before time.Time) (int64, error) {
	var deleted int64
	err := s.inTx(ctx, "prune logs", func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `WITH failing (tenant_id, key) AS MATERIALIZED (
				SELECT tenant_id, cazco_id FROM order_links WHERE state IN ('failed', 'creating')
				UNION
				SELECT f.tenant_id, f.key FROM (`+failingLogRows+`) f)
			DELETE FROM log_rows WHERE time < $1 AND NOT EXISTS (
				SELECT 1 FROM failing WHERE failing.tenant_id = log_rows.tenant_id
					AND failing.key = log_rows.key)`, toNanos(before))
		deleted = tag.RowsAffected()
		return err
	})
	return deleted, err
}
