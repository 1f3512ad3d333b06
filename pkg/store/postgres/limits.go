package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cazbling/cazbling/pkg/cazbling"
)

// APILimit returns the allowance last learned for the tenant's key on api ("cazco");
// found is false if none was.
func (s *Store) APILimit(ctx context.Context, tenantID, api string) (cazbling.RateLimit, bool, error) {
	var n, windowMS, seen int64
	err := s.pool.QueryRow(ctx, `SELECT per_window, window_ms, seen_at FROM api_limits
		WHERE tenant_id = $1 AND api = $2`, tenantID, api).Scan(&n, &windowMS, &seen)
	if errors.Is(err, pgx.ErrNoRows) {
		return cazbling.RateLimit{}, false, nil
	}
	if err != nil {
		return cazbling.RateLimit{}, false, s.fail(fmt.Sprintf("read the %s rate limit of tenant %q", api, tenantID), err)
	}
	return cazbling.RateLimit{N: int(n), Window: time.Duration(windowMS) * time.Millisecond, SeenAt: fromNanos(seen)}, true, nil
}

// SetAPILimit records the allowance an answer of api advertised for the tenant's key.
func (s *Store) SetAPILimit(ctx context.Context, tenantID, api string, l cazbling.RateLimit) error {
	if l.N <= 0 || l.Window < time.Millisecond {
		return fmt.Errorf("save the %s rate limit of tenant %q: %s is not a limit", api, tenantID, l)
	}
	seen := l.SeenAt
	if seen.IsZero() {
		seen = s.now()
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO api_limits (tenant_id, api, per_window, window_ms, seen_at)
		VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (tenant_id, api) DO UPDATE SET per_window = excluded.per_window,
			window_ms = excluded.window_ms, seen_at = excluded.seen_at`,
		tenantID, api, l.N, l.Window.Milliseconds(), toNanos(seen))
	if err != nil {
		return s.fail(fmt.Sprintf("save the %s rate limit of tenant %q", api, tenantID), err)
	}
	return nil
}
