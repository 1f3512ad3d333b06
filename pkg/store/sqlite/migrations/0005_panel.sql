-- The seller panel (PANEL.md): invite links, sessions, OAuth states and used JWT ids,
-- and log rows as a code with parameters (so the panel can render pt-BR from the row
-- the CLI prints in English). Tokens of invites, sessions and states are random; only
-- their SHA-256 is stored, so a copy of the store opens no session.

-- code is a message code (e.g. product.created), params a JSON object of its
-- parameters; rows written before this migration have neither and keep their text.
ALTER TABLE log_rows ADD COLUMN code TEXT NOT NULL DEFAULT '';
ALTER TABLE log_rows ADD COLUMN params TEXT NOT NULL DEFAULT '';

CREATE TABLE panel_invites (
	token_hash BLOB PRIMARY KEY,
	tenant_id  TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL,
	used_at    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX panel_invites_tenant ON panel_invites (tenant_id);

CREATE TABLE panel_sessions (
	token_hash BLOB PRIMARY KEY,
	tenant_id  TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
	created_at INTEGER NOT NULL,
	seen_at    INTEGER NOT NULL,
	expires_at INTEGER NOT NULL
);
CREATE INDEX panel_sessions_tenant ON panel_sessions (tenant_id);
CREATE INDEX panel_sessions_expires ON panel_sessions (expires_at);

-- An OAuth state belongs to the session it was given to and is used once.
CREATE TABLE panel_oauth_states (
	state_hash   BLOB PRIMARY KEY,
	session_hash BLOB NOT NULL REFERENCES panel_sessions(token_hash) ON DELETE CASCADE,
	expires_at   INTEGER NOT NULL
);

-- The jti of every sign-in token accepted, kept until the token would have expired.
CREATE TABLE panel_used_jti (
	jti        TEXT PRIMARY KEY,
	expires_at INTEGER NOT NULL
);
