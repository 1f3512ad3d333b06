package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/cazbling/cazbling/pkg/cazbling"
	"github.com/cazbling/cazbling/pkg/store/schema"
)

// Order lifecycles (migration 0002, SQLite's 0007): rows are opened by a trigger when
// an order link becomes created, and written whole by the lifecycle phase through
// Apply.

const lifecycleColumns = schema.LifecycleColumns

func scanLifecycle(row schema.Row) (cazbling.OrderLifecycle, error) { return schema.ScanLifecycle(row) }

// OpenLifecycles lists a tenant's open order lifecycles, oldest filed first.
func (s *Store) OpenLifecycles(ctx context.Context, tenantID string) ([]cazbling.OrderLifecycle, error) {
	out, err := queryAll(ctx, s, `SELECT `+lifecycleColumns+` FROM order_lifecycle
		WHERE tenant_id = $1 AND state = 'open' ORDER BY created_at, cazco_id`, []any{tenantID}, scanLifecycle)
	if err != nil {
		return nil, s.fail(fmt.Sprintf("list open order lifecycles of tenant %q", tenantID), err)
	}
	return out, nil
}

// Lifecycle returns one order's lifecycle; found is false if there is none.
func (s *Store) Lifecycle(ctx context.Context, tenantID, cazcoID string) (cazbling.OrderLifecycle, bool, error) {
	l, err := scanLifecycle(s.pool.QueryRow(ctx, `SELECT `+lifecycleColumns+`
		FROM order_lifecycle WHERE tenant_id = $1 AND cazco_id = $2`, tenantID, cazcoID))
	if errors.Is(err, pgx.ErrNoRows) {
		return cazbling.OrderLifecycle{}, false, nil
	}
	if err != nil {
		return cazbling.OrderLifecycle{}, false, s.fail(fmt.Sprintf("read the lifecycle of order %s of tenant %q", cazcoID, tenantID), err)
	}
	return l, true, nil
}
