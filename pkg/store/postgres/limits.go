package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/cazbling/cazbling/pkg/cazbling"
	"github.com/cazbling/cazbling/pkg/store/schema"
)

// APILimit returns the allowance last learned for the tenant's key on api ("cazco");
// found is false if none was.
func (s *Store) APILimit(ctx context.Context, tenantID, api string) (cazbling.RateLimit, bool, error) {
	var n, windowMS, seen int64
	err := s.pool.QueryRow(ctx, `SELECT `+schema.APILimitColumns+` FROM api_limits
		WHERE tenant_id = $1 AND api = $2`, tenantID, api).Scan(&n, &windowMS, &seen)
	if errors.Is(err, pgx.ErrNoRows) {
		return cazbling.RateLimit{}, false, nil
	}
	if err != nil {
		return cazbling.RateLimit{}, false, s.fail(fmt.Sprintf("read the %s rate limit of tenant %q", api, tenantID), err)
	}
	return schema.APILimit(n, windowMS, seen), true, nil
}

// SetAPILimit records the allowance an answer of api advertised for the tenant's key.
func (s *Store) SetAPILimit(ctx context.Context, tenantID, api string, l cazbling.RateLimit) error {
	values, err := schema.APILimitValues(tenantID, api, l, s.now())
	if err != nil {
		return err
	}
	_, err = s.pool.Exec(ctx, schema.Numbered(schema.UpsertAPILimit), values...)
	if err != nil {
		return s.fail(fmt.Sprintf("save the %s rate limit of tenant %q", api, tenantID), err)
	}
	return nil
}
