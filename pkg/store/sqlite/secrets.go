package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/cazbling/cazbling/pkg/cazbling"
	"github.com/cazbling/cazbling/pkg/store/schema"
	"github.com/cazbling/cazbling/pkg/store/secrets"
)

// wrongKeyErr is the error for a tenant whose secrets do not open.
func (s *Store) wrongKeyErr(tenantID string) error {
	return fmt.Errorf("tenant %q: %w (CAZBLING_KEY or %s.key changed?); set the key used when the tenant was activated, or run activate again",
		tenantID, cazbling.ErrWrongKey, s.path)
}

// checkKey verifies the key against the store's key-check value, writing that value
// on first use. A store whose check fails but that holds no secrets yet (nothing to
// lose) is re-keyed instead of refused.
func (s *Store) checkKey(ctx context.Context) error {
	var sealed []byte
	err := s.db.QueryRowContext(ctx, `SELECT value FROM meta WHERE name = ?`, secrets.KeyCheckName).Scan(&sealed)
	if err == nil {
		if schema.KeyCheckOpens(s.box, sealed) {
			return nil
		}
	} else if !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("read key check: %w", err)
	}
	if s.readOnly {
		// Nothing can be written: a store never checked has no secrets to read yet;
		// a failed check is a wrong key.
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		return s.storeKeyErr()
	}
	wrongKey := false
	err = s.inTx(ctx, "write key check", func(tx *sql.Tx) error {
		var current []byte
		err := tx.QueryRowContext(ctx, `SELECT value FROM meta WHERE name = ?`, secrets.KeyCheckName).Scan(&current)
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return err
		default:
			if schema.KeyCheckOpens(s.box, current) {
				return nil // another process wrote it with the same key meanwhile
			}
			var holders int
			err := tx.QueryRowContext(ctx, schema.CountSecretHolders).Scan(&holders)
			if err != nil {
				return err
			}
			if holders > 0 {
				wrongKey = true
				return cazbling.ErrWrongKey // rolls back
			}
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO meta (name, value) VALUES (?, ?)
			ON CONFLICT (name) DO UPDATE SET value = excluded.value`,
			secrets.KeyCheckName, s.box.Seal("meta", secrets.KeyCheckName, secrets.KeyCheckValue))
		return err
	})
	if wrongKey {
		return s.storeKeyErr()
	}
	return err
}

// storeKeyErr is the error for a key that does not open the store's key check.
func (s *Store) storeKeyErr() error {
	return fmt.Errorf("the secrets key does not match store %s (was %s.key deleted or CAZBLING_KEY changed?): %w; set the key the store was created with",
		s.path, s.path, cazbling.ErrWrongKey)
}
