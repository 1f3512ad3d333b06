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
