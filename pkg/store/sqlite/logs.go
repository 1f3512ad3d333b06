package sqlite

import (
	"context"
	"database/sql"
	"fmt"
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
		res, err := tx.ExecContext(ctx, `INSERT INTO runs (tenant_id, flow, started_at, status, message, host)
			VALUES (?, ?, ?, 'running', ?, ?)`, r.TenantID, r.Flow, toNanos(started), r.Message, r.Host)
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

// limitClause turns a limit where 0 means all into SQL.
func limitClause(limit int) string {
	if limit <= 0 {
		return ""
	}
	return fmt.Sprintf(" LIMIT %d", limit)
}

// Logs returns the log rows f selects, newest first.
func (s *Store) Logs(ctx context.Context, f cazbling.LogFilter) ([]cazbling.LogEntry, error) {
	w := schema.LogWhere(f, schema.QuestionMark)
	page := limitClause(f.Limit)
	if f.Offset > 0 {
		if page == "" {
			page = " LIMIT -1"
		}
		page += fmt.Sprintf(" OFFSET %d", f.Offset)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+schema.LogColumns+` FROM log_rows`+w.String()+`
		ORDER BY time DESC, id DESC`+page, w.Args...)
	if err != nil {
		return nil, s.fail("read logs", err)
	}
	defer rows.Close()
	entries, err := schema.ScanAll(rows, schema.ScanLog)
	if err != nil {
		return nil, s.fail("read logs", err)
	}
	return entries, nil
}

const runColumns = schema.RunColumns

// Runs returns the runs f selects, newest first.
func (s *Store) Runs(ctx context.Context, f cazbling.RunFilter) ([]cazbling.Run, error) {
	w := schema.RunWhere(f, schema.QuestionMark)
	return s.queryRuns(ctx, `SELECT `+runColumns+` FROM runs`+w.String()+`
		ORDER BY started_at DESC, id DESC`+limitClause(f.Limit), w.Args...)
}

func (s *Store) queryRuns(ctx context.Context, query string, args ...any) ([]cazbling.Run, error) {
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, s.fail("read runs", err)
	}
	defer rows.Close()
	runs, err := schema.ScanAll(rows, schema.ScanRun)
	if err != nil {
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

// FailingItems returns how many of a tenant's items are failing now: order links in
// state failed, plus products whose latest product or stock log row is an error.
func (s *Store) FailingItems(ctx context.Context, tenantID string) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT
		(SELECT count(*) FROM order_links WHERE tenant_id = ?1 AND state = 'failed') +
		(SELECT count(DISTINCT f.key) FROM (`+schema.FailingLogRows+` AND e.tenant_id = ?1
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
		res, err := tx.ExecContext(ctx, schema.PruneLogs, toNanos(before))
		if err != nil {
			return err
		}
		deleted, err = res.RowsAffected()
		return err
	})
	return deleted, err
}
