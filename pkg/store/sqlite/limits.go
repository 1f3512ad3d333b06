package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/cazbling/cazbling/pkg/cazbling"
	"github.com/cazbling/cazbling/pkg/store/schema"
)

// APILimit returns the allowance last learned for the tenant's key on api ("cazco");
// found is false if none was.
func (s *Store) APILimit(ctx context.Context, tenantID, api string) (cazbling.RateLimit, bool, error) {
	var n, windowMS, seen int64
	err := s.db.QueryRowContext(ctx, `SELECT `+schema.APILimitColumns+` FROM api_limits
		WHERE tenant_id = ? AND api = ?`, tenantID, api).Scan(&n, &windowMS, &seen)
	if errors.Is(err, sql.ErrNoRows) {
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
	_, err = s.db.ExecContext(ctx, schema.UpsertAPILimit, values...)
	if err != nil {
		return s.fail(fmt.Sprintf("save the %s rate limit of tenant %q", api, tenantID), err)
	}
	return nil
}
