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

// The seller panel's records: invites, sessions, OAuth states and used sign-in token
// ids. Every token given to a browser is random; the store keeps only its SHA-256, so
// that the store file (or a backup) opens no session and redeems no invite.

// ErrPanelToken is returned for an invite, session or state that is unknown, used,
// expired or another session's: the caller cannot tell which, and need not. It wraps
// cazbling.ErrNotFound.
var ErrPanelToken = fmt.Errorf("unknown, used or expired token: %w", cazbling.ErrNotFound)

// Ping checks that the store answers a query.
func (s *Store) Ping(ctx context.Context) error {
	var one int
	if err := s.db.QueryRowContext(ctx, `SELECT 1 FROM meta LIMIT 1`).Scan(&one); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return s.fail("ping store", err)
	}
	return nil
}

func tokenHash(token string) []byte { return schema.TokenHash(token) }

// InviteTenant records an invite token for tenantID valid until expires, registering
// the tenant with status invited if it is new. It reports whether the tenant is new.
func (s *Store) InviteTenant(ctx context.Context, tenantID, token string, expires time.Time) (created bool, err error) {
	now := toNanos(s.now())
	err = s.inTx(ctx, fmt.Sprintf("invite tenant %q", tenantID), func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO tenants (id, status, created_at, updated_at)
			VALUES (?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`, tenantID, string(cazbling.TenantInvited), now, now)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		created = n == 1
		_, err = tx.ExecContext(ctx, `INSERT INTO panel_invites (token_hash, tenant_id, created_at, expires_at)
			VALUES (?, ?, ?, ?)`, tokenHash(token), tenantID, now, toNanos(expires))
		return err
	})
	return created, err
}

// UseInvite redeems an invite once: it returns the invite's tenant, or ErrPanelToken if
// the token is unknown, already used or expired.
func (s *Store) UseInvite(ctx context.Context, token string) (tenantID string, err error) {
	now := toNanos(s.now())
	err = s.inTx(ctx, "use invite", func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `UPDATE panel_invites SET used_at = ?
			WHERE token_hash = ? AND used_at = 0 AND expires_at > ? RETURNING tenant_id`,
			now, tokenHash(token), now).Scan(&tenantID)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrPanelToken
		}
		return err
	})
	return tenantID, err
}

// CreateSession records a session of tenantID that lapses after idle without use.
func (s *Store) CreateSession(ctx context.Context, token, tenantID string, idle time.Duration) error {
	now := s.now()
	return s.inTx(ctx, "create session", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO panel_sessions (token_hash, tenant_id, created_at, seen_at, expires_at)
			VALUES (?, ?, ?, ?, ?)`, tokenHash(token), tenantID, toNanos(now), toNanos(now), toNanos(now.Add(idle)))
		return err
	})
}

// Session returns the tenant of a live session and extends it by idle; ErrPanelToken
// if there is no such session or it has lapsed. It writes at most once a minute per
// session, so that reading pages does not queue behind the flows' writes.
//
// (Session looks like its twin in the other backend but stays here: the
// write differs, SQLite writes it in an IMMEDIATE transaction of its own.)
func (s *Store) Session(ctx context.Context, token string, idle time.Duration) (tenantID string, err error) {
	now := s.now()
	h := tokenHash(token)
	var seen int64
	err = s.db.QueryRowContext(ctx, `SELECT tenant_id, seen_at FROM panel_sessions
		WHERE token_hash = ? AND expires_at > ?`, h, toNanos(now)).Scan(&tenantID, &seen)
	if errors.Is(err, sql.ErrNoRows) {
		return "", ErrPanelToken
	}
	if err != nil {
		return "", s.fail("read session", err)
	}
	if now.Sub(fromNanos(seen)) >= time.Minute {
		err = s.inTx(ctx, "extend session", func(tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, `UPDATE panel_sessions SET seen_at = ?, expires_at = ?
				WHERE token_hash = ?`, toNanos(now), toNanos(now.Add(idle)), h)
			return err
		})
		if err != nil {
			return "", err
		}
	}
	return tenantID, nil
}

// DeleteSession ends a session (and voids the OAuth states it was given).
func (s *Store) DeleteSession(ctx context.Context, token string) error {
	return s.inTx(ctx, "delete session", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM panel_sessions WHERE token_hash = ?`, tokenHash(token))
		return err
	})
}

// SaveOAuthState records an OAuth state given to the session, valid until expires.
func (s *Store) SaveOAuthState(ctx context.Context, state, session string, expires time.Time) error {
	return s.inTx(ctx, "save oauth state", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO panel_oauth_states (state_hash, session_hash, expires_at)
			VALUES (?, ?, ?)`, tokenHash(state), tokenHash(session), toNanos(expires))
		return err
	})
}

// UseOAuthState spends a state once: it must have been given to this session and not
// have expired; otherwise ErrPanelToken, and a state of another session is left as it
// is (its owner may still use it).
func (s *Store) UseOAuthState(ctx context.Context, state, session string) error {
	return s.inTx(ctx, "use oauth state", func(tx *sql.Tx) error {
		var exp int64
		err := tx.QueryRowContext(ctx, `DELETE FROM panel_oauth_states
			WHERE state_hash = ? AND session_hash = ? RETURNING expires_at`,
			tokenHash(state), tokenHash(session)).Scan(&exp)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrPanelToken
		}
		if err != nil {
			return err
		}
		if !s.now().Before(fromNanos(exp)) {
			return ErrPanelToken
		}
		return nil
	})
}

// UseJTI records a sign-in token's id, kept until expires; it reports false if the id
// was used before.
func (s *Store) UseJTI(ctx context.Context, jti string, expires time.Time) (fresh bool, err error) {
	err = s.inTx(ctx, "use jti", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO panel_used_jti (jti, expires_at) VALUES (?, ?)
			ON CONFLICT (jti) DO NOTHING`, jti, toNanos(expires))
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		fresh = n == 1
		return err
	})
	return fresh, err
}

// PrunePanel deletes lapsed sessions, states, invites and used token ids.
func (s *Store) PrunePanel(ctx context.Context) error {
	now := toNanos(s.now())
	return s.inTx(ctx, "prune panel records", func(tx *sql.Tx) error {
		for _, q := range []string{
			`DELETE FROM panel_sessions WHERE expires_at <= ?`,
			`DELETE FROM panel_oauth_states WHERE expires_at <= ?`,
			`DELETE FROM panel_invites WHERE expires_at <= ?`,
			`DELETE FROM panel_used_jti WHERE expires_at <= ?`,
		} {
			if _, err := tx.ExecContext(ctx, q, now); err != nil {
				return err
			}
		}
		return nil
	})
}
