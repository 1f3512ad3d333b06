package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

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
	return s.inTx(ctx, fmt.Sprintf("save tenant %q", t.ID), func(tx pgx.Tx) error {
		// The allowance learned for the CaZco key belongs to that key: forget it when
		// the store's URL or key changes.
		var oldURL string
		var oldKey []byte
		switch err := tx.QueryRow(ctx, `SELECT cazco_url, cazco_api_key_enc FROM tenants WHERE id = $1 FOR NO KEY UPDATE`, t.ID).Scan(&oldURL, &oldKey); {
		case errors.Is(err, pgx.ErrNoRows):
		case err != nil:
			return err
		default:
			if schema.CazcoKeyChanged(t, s.box, oldURL, oldKey) {
				if _, err := tx.Exec(ctx, `DELETE FROM api_limits WHERE tenant_id = $1 AND api = 'cazco'`, t.ID); err != nil {
					return err
				}
			}
		}
		_, err := tx.Exec(ctx, schema.Numbered(schema.UpsertTenant), values...)
		if err != nil || tok == nil {
			return err
		}
		return s.saveToken(ctx, tx, t.ID, *tok)
	})
}

const tenantColumns = schema.TenantColumns

// scanTenant reads a row of tenantColumns and decrypts its secrets.
func (s *Store) scanTenant(row pgx.Row) (cazbling.Tenant, error) {
	return schema.ScanTenant(row, s.box, s.wrongKeyErr)
}

// Tenant returns tenant id with its secrets decrypted; the error wraps
// cazbling.ErrNotFound if there is no such tenant.
func (s *Store) Tenant(ctx context.Context, id string) (cazbling.Tenant, error) {
	t, err := s.scanTenant(s.pool.QueryRow(ctx, `SELECT `+tenantColumns+` FROM tenants WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
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
	rows, err := s.pool.Query(ctx, `SELECT `+tenantColumns+` FROM tenants ORDER BY id`)
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
	return s.inTx(ctx, op, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE tenants SET status = $1, paused_until = $2,
			status_reason = $3, updated_at = $4 WHERE id = $5`,
			string(status), toNanos(until), reason, toNanos(s.now()), id)
		if err != nil {
			return err
		}
		return mustChange(tag, id)
	})
}

// mustChange turns an update that touched no row into ErrNotFound for tenant id.
func mustChange(tag pgconn.CommandTag, id string) error {
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("tenant %q: %w", id, cazbling.ErrNotFound)
	}
	return nil
}

// Token returns the tenant's stored token pair.
func (s *Store) Token(ctx context.Context, tenantID string) (cazbling.Token, error) {
	tok, err := s.readToken(ctx, s.pool, tenantID, false)
	if err != nil && !errors.Is(err, cazbling.ErrWrongKey) && !errors.Is(err, cazbling.ErrNotFound) {
		return tok, s.fail(fmt.Sprintf("read token of tenant %q", tenantID), err)
	}
	return tok, err
}

// UpdateToken reads the tenant's token pair with its row locked (FOR NO KEY UPDATE), calls fn
// with it and saves what fn returns, all in one transaction, so that refreshes of one
// tenant are serialized across connections, processes and hosts: a second refresher
// waits for the first to commit and then reads the new pair. If fn fails nothing is
// saved and its error is returned as is. fn runs while the row is locked; it must not
// use the store for the same tenant.
func (s *Store) UpdateToken(ctx context.Context, tenantID string, fn func(current cazbling.Token) (cazbling.Token, error)) (cazbling.Token, error) {
	// fn may wait long (Bling's token endpoint, its 20-a-minute limit) holding a
	// connection: at most half the pool does, so that the other work of the process
	// (lease renewals above all) always finds one.
	select {
	case s.tokenSlots <- struct{}{}:
		defer func() { <-s.tokenSlots }()
	case <-ctx.Done():
		return cazbling.Token{}, fmt.Errorf("lock token of tenant %q: %w", tenantID, ctx.Err())
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return cazbling.Token{}, s.fail(fmt.Sprintf("lock token of tenant %q", tenantID), err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	current, err := s.readToken(ctx, tx, tenantID, true)
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
	if err := tx.Commit(ctx); err != nil {
		return cazbling.Token{}, s.fail(fmt.Sprintf("save token of tenant %q (the new pair may be lost: if Bling then answers invalid_grant, run activate again)", tenantID), err)
	}
	return next, nil
}

func (s *Store) readToken(ctx context.Context, q querier, tenantID string, lock bool) (cazbling.Token, error) {
	var (
		access, refresh []byte
		expiry          int64
	)
	query := `SELECT access_token_enc, refresh_token_enc, token_expiry FROM tenants WHERE id = $1`
	if lock {
		// NO KEY UPDATE: it serializes refreshers (it conflicts with itself) but not
		// the foreign-key checks of the tenant's other writes (links, log rows), which
		// take KEY SHARE: a tenant's flows keep writing while its token is refreshed.
		query += ` FOR NO KEY UPDATE`
	}
	err := q.QueryRow(ctx, query, tenantID).Scan(&access, &refresh, &expiry)
	if errors.Is(err, pgx.ErrNoRows) {
		return cazbling.Token{}, fmt.Errorf("tenant %q: %w", tenantID, cazbling.ErrNotFound)
	}
	if err != nil {
		return cazbling.Token{}, err
	}
	return schema.OpenToken(tenantID, access, refresh, expiry, s.box, s.wrongKeyErr)
}

func (s *Store) saveToken(ctx context.Context, tx pgx.Tx, tenantID string, tok cazbling.Token) error {
	tag, err := tx.Exec(ctx, schema.Numbered(schema.SaveToken), schema.TokenValues(tenantID, tok, s.box, s.now())...)
	if err != nil {
		return err
	}
	return mustChange(tag, tenantID)
}
