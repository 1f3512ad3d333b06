package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/cazbling/cazbling/pkg/cazbling"
	"github.com/cazbling/cazbling/pkg/store/schema"
)

// UpsertTenant creates or updates tenant t: its settings and secrets, and its token
// pair when tok is not nil, in one transaction. An update keeps created_at.
func (s *Store) UpsertTenant(ctx context.Context, t cazbling.Tenant, tok *cazbling.Token) error {
	if err := schema.CheckTenant(t); err != nil {
		return err
	}
	values := schema.TenantValues(t, s.box, s.now())
	return s.inTx(ctx, fmt.Sprintf("save tenant %q", t.ID), func(tx *sql.Tx) error {
		// The allowance learned for the CaZco key belongs to that key: forget it when
		// the store's URL or key changes.
		var oldURL string
		var oldKey []byte
		switch err := tx.QueryRowContext(ctx, `SELECT cazco_url, cazco_api_key_enc FROM tenants WHERE id = ?`, t.ID).Scan(&oldURL, &oldKey); {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return err
		default:
			if schema.CazcoKeyChanged(t, s.box, oldURL, oldKey) {
				if _, err := tx.ExecContext(ctx, `DELETE FROM api_limits WHERE tenant_id = ? AND api = 'cazco'`, t.ID); err != nil {
					return err
				}
			}
		}
		_, err := tx.ExecContext(ctx, schema.UpsertTenant, values...)
		if err != nil || tok == nil {
			return err
		}
		return s.saveToken(ctx, tx, t.ID, *tok)
	})
}

const tenantColumns = schema.TenantColumns

type rowScanner interface {
	Scan(dest ...any) error
}

// scanTenant reads a row of tenantColumns and decrypts its secrets.
func (s *Store) scanTenant(row rowScanner) (cazbling.Tenant, error) {
	return schema.ScanTenant(row, s.box, s.wrongKeyErr)
}

// Tenant returns tenant id with its secrets decrypted; the error wraps
// cazbling.ErrNotFound if there is no such tenant.
func (s *Store) Tenant(ctx context.Context, id string) (cazbling.Tenant, error) {
	row := s.db.QueryRowContext(ctx, `SELECT `+tenantColumns+` FROM tenants WHERE id = ?`, id)
	t, err := s.scanTenant(row)
	if errors.Is(err, sql.ErrNoRows) {
		return t, fmt.Errorf("tenant %q: %w", id, cazbling.ErrNotFound)
	}
	if err != nil && !errors.Is(err, cazbling.ErrWrongKey) {
		return t, s.fail(fmt.Sprintf("read tenant %q", id), err)
	}
	return t, err
}

// Tenants lists all tenants ordered by id. A tenant whose secrets do not decrypt
// fails the whole list, with an error naming it.
func (s *Store) Tenants(ctx context.Context) ([]cazbling.Tenant, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+tenantColumns+` FROM tenants ORDER BY id`)
	if err != nil {
		return nil, s.fail("list tenants", err)
	}
	defer rows.Close()
	ts, err := schema.ScanTenants(rows, s.box, s.wrongKeyErr)
	if err != nil && !errors.Is(err, cazbling.ErrWrongKey) {
		return nil, s.fail("list tenants", err)
	}
	if err != nil {
		return nil, err
	}
	return ts, nil
}

// SetTenantStatus sets a tenant's status, pause end and reason.
func (s *Store) SetTenantStatus(ctx context.Context, id string, status cazbling.TenantStatus, until time.Time, reason string) error {
	op := fmt.Sprintf("set status of tenant %q", id)
	return s.inTx(ctx, op, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE tenants SET status = ?, paused_until = ?,
			status_reason = ?, updated_at = ? WHERE id = ?`,
			string(status), toNanos(until), reason, toNanos(s.now()), id)
		if err != nil {
			return err
		}
		return mustChange(res, id)
	})
}

// mustChange turns an update that touched no row into ErrNotFound for tenant id.
func mustChange(res sql.Result, id string) error {
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("tenant %q: %w", id, cazbling.ErrNotFound)
	}
	return nil
}

// Token returns the tenant's stored token pair.
func (s *Store) Token(ctx context.Context, tenantID string) (cazbling.Token, error) {
	tok, err := s.readToken(ctx, s.db, tenantID)
	if err != nil && !errors.Is(err, cazbling.ErrWrongKey) && !errors.Is(err, cazbling.ErrNotFound) {
		return tok, s.fail(fmt.Sprintf("read token of tenant %q", tenantID), err)
	}
	return tok, err
}

// UpdateToken reads the tenant's token pair, calls fn with it and saves what fn
// returns, all in one IMMEDIATE transaction, so that refreshes of one tenant are
// serialized across connections and processes. If fn fails nothing is saved and its
// error is returned as is.
func (s *Store) UpdateToken(ctx context.Context, tenantID string, fn func(current cazbling.Token) (cazbling.Token, error)) (cazbling.Token, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return cazbling.Token{}, s.fail(fmt.Sprintf("lock token of tenant %q", tenantID), err)
	}
	defer tx.Rollback()
	current, err := s.readToken(ctx, tx, tenantID)
	if err != nil {
		if errors.Is(err, cazbling.ErrWrongKey) || errors.Is(err, cazbling.ErrNotFound) {
			return cazbling.Token{}, err
		}
		return cazbling.Token{}, s.fail(fmt.Sprintf("read token of tenant %q", tenantID), err)
	}
	next, err := fn(current)
	if err != nil {
		return cazbling.Token{}, err
	}
	if err := s.saveToken(ctx, tx, tenantID, next); err != nil {
		return cazbling.Token{}, s.fail(fmt.Sprintf("save token of tenant %q", tenantID), err)
	}
	if err := tx.Commit(); err != nil {
		return cazbling.Token{}, s.fail(fmt.Sprintf("save token of tenant %q", tenantID), err)
	}
	return next, nil
}

func (s *Store) readToken(ctx context.Context, q queryer, tenantID string) (cazbling.Token, error) {
	var (
		access, refresh []byte
		expiry          int64
	)
	err := q.QueryRowContext(ctx, `SELECT access_token_enc, refresh_token_enc, token_expiry
		FROM tenants WHERE id = ?`, tenantID).Scan(&access, &refresh, &expiry)
	if errors.Is(err, sql.ErrNoRows) {
		return cazbling.Token{}, fmt.Errorf("tenant %q: %w", tenantID, cazbling.ErrNotFound)
	}
	if err != nil {
		return cazbling.Token{}, err
	}
	return schema.OpenToken(tenantID, access, refresh, expiry, s.box, s.wrongKeyErr)
}

func (s *Store) saveToken(ctx context.Context, tx *sql.Tx, tenantID string, tok cazbling.Token) error {
	res, err := tx.ExecContext(ctx, schema.SaveToken, schema.TokenValues(tenantID, tok, s.box, s.now())...)
	if err != nil {
		return err
	}
	return mustChange(res, tenantID)
}
