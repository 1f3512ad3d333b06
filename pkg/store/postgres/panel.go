package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cazbling/cazbling/pkg/cazbling"
	"github.com/cazbling/cazbling/pkg/store/schema"
)

// The seller panel's records: invites, sessions, OAuth states and used sign-in token
// ids. Every token given to a browser is random; the store keeps only its SHA-256, so
// that the database (or a dump of it) opens no session and redeems no invite.

// Ping checks that the store answers a query.
func (s *Store) Ping(ctx context.Context) error {
	var one int
	if err := s.pool.QueryRow(ctx, `SELECT 1`).Scan(&one); err != nil {
		return s.fail("ping store", err)
	}
	return nil
}

func tokenHash(token string) []byte { return schema.TokenHash(token) }

// InviteTenant records an invite token for tenantID valid until expires, registering
// the tenant with status invited if it is new. It reports whether the tenant is new.
func (s *Store) InviteTenant(ctx context.Context, tenantID, token string, expires time.Time) (created bool, err error) {
	now := toNanos(s.now())
	err = s.inTx(ctx, fmt.Sprintf("invite tenant %q", tenantID), func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `INSERT INTO tenants (id, status, created_at, updated_at)
			VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO NOTHING`, tenantID, string(cazbling.TenantInvited), now, now)
		if err != nil {
			return err
		}
		created = tag.RowsAffected() == 1
		_, err = tx.Exec(ctx, `INSERT INTO panel_invites (token_hash, tenant_id, created_at, expires_at)
			VALUES ($1, $2, $3, $4)`, tokenHash(token), tenantID, now, toNanos(expires))
		return err
	})
	return created, err
}

// UseInvite redeems an invite once: it returns the invite's tenant, or ErrPanelToken if
// the token is unknown, already used or expired.
func (s *Store) UseInvite(ctx context.Context, token string) (tenantID string, err error) {
	now := toNanos(s.now())
	err = s.pool.QueryRow(ctx, `UPDATE panel_invites SET used_at = $1
		WHERE token_hash = $2 AND used_at = 0 AND expires_at > $1 RETURNING tenant_id`,
		now, tokenHash(token)).Scan(&tenantID)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", fmt.Errorf("use invite: %w", ErrPanelToken)
	}
	if err != nil {
		return "", s.fail("use invite", err)
	}
	return tenantID, nil
}

// CreateSession records a session of tenantID that lapses after idle without use.
func (s *Store) CreateSession(ctx context.Context, token, tenantID string, idle time.Duration) error {
	now := s.now()
	_, err := s.pool.Exec(ctx, `INSERT INTO panel_sessions (token_hash, tenant_id, created_at, seen_at, expires_at)
		VALUES ($1, $2, $3, $3, $4)`, tokenHash(token), tenantID, toNanos(now), toNanos(now.Add(idle)))
	if err != nil {
		return s.fail(fmt.Sprintf("create session of tenant %q", tenantID), err)
	}
	return nil
}

// Session returns the tenant of a live session and extends it by idle; ErrPanelToken
// if there is no such session or it has lapsed. It writes at most once a minute per
// session.
//
// (Session looks like its twin in the other backend but stays here: the
// write differs, PostgreSQL writes it with a plain statement, where SQLite takes an IMMEDIATE transaction.)
func (s *Store) Session(ctx context.Context, token string, idle time.Duration) (tenantID string, err error) {
	now := s.now()
	h := tokenHash(token)
	var seen int64
	err = s.pool.QueryRow(ctx, `SELECT tenant_id, seen_at FROM panel_sessions
		WHERE token_hash = $1 AND expires_at > $2`, h, toNanos(now)).Scan(&tenantID, &seen)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", ErrPanelToken
	}
	if err != nil {
		return "", s.fail("read session", err)
	}
	if now.Sub(fromNanos(seen)) >= time.Minute {
		_, err := s.pool.Exec(ctx, `UPDATE panel_sessions SET seen_at = $1, expires_at = $2
			WHERE token_hash = $3`, toNanos(now), toNanos(now.Add(idle)), h)
		if err != nil {
			return "", s.fail("extend session", err)
		}
	}
	return tenantID, nil
}

// DeleteSession ends a session (and voids the OAuth states it was given).
func (s *Store) DeleteSession(ctx context.Context, token string) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM panel_sessions WHERE token_hash = $1`, tokenHash(token)); err != nil {
		return s.fail("delete session", err)
	}
	return nil
}

// SaveOAuthState records an OAuth state given to the session, valid until expires.
func (s *Store) SaveOAuthState(ctx context.Context, state, session string, expires time.Time) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO panel_oauth_states (state_hash, session_hash, expires_at)
		VALUES ($1, $2, $3)`, tokenHash(state), tokenHash(session), toNanos(expires))
	if err != nil {
		return s.fail("save oauth state", err)
	}
	return nil
}

// UseOAuthState spends a state once: it must have been given to this session and not
// have expired; otherwise ErrPanelToken, and a state of another session is left as it
// is (its owner may still use it).
func (s *Store) UseOAuthState(ctx context.Context, state, session string) error {
	var exp int64
	err := s.pool.QueryRow(ctx, `DELETE FROM panel_oauth_states
		WHERE state_hash = $1 AND session_hash = $2 RETURNING expires_at`,
		tokenHash(state), tokenHash(session)).Scan(&exp)
	if errors.Is(err, pgx.ErrNoRows) {
		return ErrPanelToken
	}
	if err != nil {
		return s.fail("use oauth state", err)
	}
	if !s.now().Before(fromNanos(exp)) {
		return ErrPanelToken
	}
	return nil
}

// UseJTI records a sign-in token's id, kept until expires; it reports false if the id
// was used before.
func (s *Store) UseJTI(ctx context.Context, jti string, expires time.Time) (fresh bool, err error) {
	tag, err := s.pool.Exec(ctx, `INSERT INTO panel_used_jti (jti, expires_at) VALUES ($1, $2)
		ON CONFLICT (jti) DO NOTHING`, jti, toNanos(expires))
	if err != nil {
		return false, s.fail("use jti", err)
	}
	return tag.RowsAffected() == 1, nil
}

// PrunePanel deletes lapsed sessions, states, invites and used token ids.
func (s *Store) PrunePanel(ctx context.Context) error {
	now := toNanos(s.now())
	return s.inTx(ctx, "prune panel records", func(tx pgx.Tx) error {
		for _, q := range []string{
			`DELETE FROM panel_sessions WHERE expires_at <= $1`,
			`DELETE FROM panel_oauth_states WHERE expires_at <= $1`,
			`DELETE FROM panel_invites WHERE expires_at <= $1`,
			`DELETE FROM panel_used_jti WHERE expires_at <= $1`,
		} {
			if _, err := tx.Exec(ctx, q, now); err != nil {
				return err
			}
		}
		return nil
	})
}
