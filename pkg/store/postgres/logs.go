package postgres

import (
	"context"
	"fmt"
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
	err := s.pool.QueryRow(ctx, `INSERT INTO runs (tenant_id, flow, started_at, status, message, host)
		VALUES ($1, $2, $3, 'running', $4, $5) RETURNING id`, r.TenantID, r.Flow, toNanos(started), r.Message, r.Host).Scan(&id)
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
	w := schema.LogWhere(f, schema.Dollar)
	entries, err := queryAll(ctx, s, `SELECT `+schema.LogColumns+` FROM log_rows`+w.String()+`
		ORDER BY time DESC, id DESC`+page(f.Limit, f.Offset), w.Args, schema.ScanLog)

	if err != nil {
		return nil, s.fail("read logs", err)
	}
	return entries, nil
}

const runColumns = schema.RunColumns

// Runs returns the runs f selects, newest first.
func (s *Store) Runs(ctx context.Context, f cazbling.RunFilter) ([]cazbling.Run, error) {
	w := schema.RunWhere(f, schema.Dollar)
	runs, err := queryAll(ctx, s, `SELECT `+runColumns+` FROM runs`+w.String()+`
		ORDER BY started_at DESC, id DESC`+page(f.Limit, 0), w.Args, schema.ScanRun)
	if err != nil {
		return nil, s.fail("read runs", err)
	}
	return runs, nil
}

// LastRuns returns a tenant's latest run of each flow, by flow.
func (s *Store) LastRuns(ctx context.Context, tenantID string) (map[string]cazbling.Run, error) {
	runs, err := queryAll(ctx, s, `SELECT DISTINCT ON (flow) `+runColumns+` FROM runs
		WHERE tenant_id = $1 ORDER BY flow, started_at DESC, id DESC`, []any{tenantID}, schema.ScanRun)
	if err != nil {
		return nil, s.fail(fmt.Sprintf("read last runs of tenant %q", tenantID), err)
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
	err := s.pool.QueryRow(ctx, `SELECT
		(SELECT count(*) FROM order_links WHERE tenant_id = $1 AND state = 'failed') +
		(SELECT count(DISTINCT f.key) FROM (`+schema.FailingLogRows+` AND e.tenant_id = $1
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
		tag, err := tx.Exec(ctx, schema.Numbered(schema.PruneLogs), toNanos(before))
		deleted = tag.RowsAffected()
		return err
	})
	return deleted, err
}
