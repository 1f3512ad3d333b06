package sqlite

import (
	"context"
	"database/sql"
	"errors"

	"github.com/cazbling/cazbling/pkg/cazbling"
	"github.com/cazbling/cazbling/pkg/store/schema"
)

// Order lifecycles (migration 0007): rows are opened by a trigger when an order link
// becomes created, and written whole by the lifecycle phase through Apply.

const lifecycleColumns = schema.LifecycleColumns

func scanLifecycle(row rowScanner) (cazbling.OrderLifecycle, error) { return schema.ScanLifecycle(row) }

// OpenLifecycles lists a tenant's open order lifecycles, oldest filed first.
func (s *Store) OpenLifecycles(ctx context.Context, tenantID string) ([]cazbling.OrderLifecycle, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+lifecycleColumns+` FROM order_lifecycle
		WHERE tenant_id = ? AND state = 'open' ORDER BY created_at, cazco_id`, tenantID)
	if err != nil {
		return nil, s.fail("list open order lifecycles", err)
	}
	defer rows.Close()
	var out []cazbling.OrderLifecycle
	for rows.Next() {
		l, err := scanLifecycle(rows)
		if err != nil {
			return nil, s.fail("list open order lifecycles", err)
		}
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		return nil, s.fail("list open order lifecycles", err)
	}
	return out, nil
}

// Lifecycle returns one order's lifecycle; found is false if there is none.
func (s *Store) Lifecycle(ctx context.Context, tenantID, cazcoID string) (cazbling.OrderLifecycle, bool, error) {
	l, err := scanLifecycle(s.db.QueryRowContext(ctx, `SELECT `+lifecycleColumns+`
		FROM order_lifecycle WHERE tenant_id = ? AND cazco_id = ?`, tenantID, cazcoID))
	if errors.Is(err, sql.ErrNoRows) {
		return cazbling.OrderLifecycle{}, false, nil
	}
	if err != nil {
		return cazbling.OrderLifecycle{}, false, s.fail("read order lifecycle", err)
	}
	return l, true, nil
}

// applyLifecycles writes lifecycles whole. created_at is kept from the row the trigger
// opened (the filing time); a row written without one gets now.
func applyLifecycles(ctx context.Context, tx *sql.Tx, ls []cazbling.OrderLifecycle, now int64) error {
	return execEach(ctx, tx, `INSERT INTO order_lifecycle (`+lifecycleColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (tenant_id, cazco_id) DO UPDATE SET
			number = excluded.number, bling_id = excluded.bling_id, state = excluded.state,
			invoice_key = excluded.invoice_key, invoice_id = excluded.invoice_id, tracking = excluded.tracking,
			cazco_canceled = excluded.cazco_canceled, bling_canceled = excluded.bling_canceled,
			bling_status = excluded.bling_status, last_error = excluded.last_error, updated_at = excluded.updated_at`,
		len(ls), func(i int) []any { return schema.LifecycleValues(ls[i], now) })
}
