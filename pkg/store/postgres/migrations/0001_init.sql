-- The schema of the SQLite store up to its migration 0006 (api_limits), in
-- PostgreSQL's types, so that both stores behave the same:
-- - times are BIGINT unix nanoseconds in UTC, 0 meaning "not set" (the store's clock
--   writes them, as in SQLite; PostgreSQL's own clock is not used);
-- - secret columns (*_enc) are BYTEA nonce||ciphertext of AES-256-GCM, NULL when empty;
-- - text that is compared or ordered (ids, SKUs, order numbers, streams, keys) is
--   COLLATE "C": byte order, as SQLite's BINARY, whatever the database's locale.
-- Later SQLite migrations get their PostgreSQL twin as the next number here; the two
-- numberings are independent (each store counts its own files).

CREATE TABLE meta (
	name  TEXT COLLATE "C" PRIMARY KEY,
	value BYTEA NOT NULL
);

CREATE TABLE tenants (
	id                      TEXT COLLATE "C" PRIMARY KEY,
	status                  TEXT NOT NULL,
	paused_until            BIGINT NOT NULL DEFAULT 0,
	status_reason           TEXT NOT NULL DEFAULT '',
	bling_url               TEXT NOT NULL DEFAULT '',
	bling_client_id         TEXT NOT NULL DEFAULT '',
	bling_client_secret_enc BYTEA,
	bling_deposit           BIGINT NOT NULL DEFAULT 0,
	bling_store             BIGINT NOT NULL DEFAULT 0,
	bling_payment_method    BIGINT NOT NULL DEFAULT 0,
	cazco_url               TEXT NOT NULL DEFAULT '',
	cazco_api_key_enc       BYTEA,
	import_statuses         TEXT NOT NULL DEFAULT '',
	access_token_enc        BYTEA,
	refresh_token_enc       BYTEA,
	token_expiry            BIGINT NOT NULL DEFAULT 0,
	created_at              BIGINT NOT NULL,
	updated_at              BIGINT NOT NULL
);

CREATE TABLE cursors (
	tenant_id  TEXT COLLATE "C" NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
	stream     TEXT COLLATE "C" NOT NULL,
	value      TEXT NOT NULL,
	updated_at BIGINT NOT NULL,
	PRIMARY KEY (tenant_id, stream)
);

CREATE TABLE product_links (
	tenant_id    TEXT COLLATE "C" NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
	sku          TEXT COLLATE "C" NOT NULL,
	bling_id     BIGINT NOT NULL DEFAULT 0,
	cazco_id     TEXT NOT NULL DEFAULT '',
	hash         TEXT NOT NULL DEFAULT '',
	stock_sent   BIGINT NOT NULL DEFAULT 0,
	stock_known  BOOLEAN NOT NULL DEFAULT false,
	updated_at   BIGINT NOT NULL,
	seen_at      BIGINT NOT NULL DEFAULT 0,
	summary_hash TEXT NOT NULL DEFAULT '',
	sku_shared   BOOLEAN NOT NULL DEFAULT false,
	PRIMARY KEY (tenant_id, sku)
);
CREATE INDEX product_links_bling_id ON product_links (tenant_id, bling_id);

CREATE TABLE order_links (
	tenant_id    TEXT COLLATE "C" NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
	cazco_id     TEXT COLLATE "C" NOT NULL,
	number       TEXT COLLATE "C" NOT NULL DEFAULT '',
	bling_id     BIGINT NOT NULL DEFAULT 0,
	state        TEXT NOT NULL,
	attempts     BIGINT NOT NULL DEFAULT 0,
	next_attempt BIGINT NOT NULL DEFAULT 0,
	last_error   TEXT NOT NULL DEFAULT '',
	updated_at   BIGINT NOT NULL,
	PRIMARY KEY (tenant_id, cazco_id)
);
CREATE INDEX order_links_state ON order_links (tenant_id, state);
CREATE INDEX order_links_number ON order_links (tenant_id, number);

CREATE TABLE runs (
	id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	tenant_id   TEXT COLLATE "C" NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
	flow        TEXT COLLATE "C" NOT NULL,
	started_at  BIGINT NOT NULL,
	finished_at BIGINT NOT NULL DEFAULT 0,
	status      TEXT NOT NULL,
	message     TEXT NOT NULL DEFAULT '',
	created     BIGINT NOT NULL DEFAULT 0,
	updated     BIGINT NOT NULL DEFAULT 0,
	unchanged   BIGINT NOT NULL DEFAULT 0,
	stock_set   BIGINT NOT NULL DEFAULT 0,
	skipped     BIGINT NOT NULL DEFAULT 0,
	warnings    BIGINT NOT NULL DEFAULT 0,
	failed      BIGINT NOT NULL DEFAULT 0,
	retry       BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX runs_started ON runs (started_at);
CREATE INDEX runs_tenant_flow ON runs (tenant_id, flow, started_at);

-- Every index below ends in (time, id) and serves ORDER BY time DESC, id DESC.
CREATE TABLE log_rows (
	id        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	time      BIGINT NOT NULL,
	run_id    BIGINT NOT NULL DEFAULT 0,
	tenant_id TEXT COLLATE "C" NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
	flow      TEXT COLLATE "C" NOT NULL DEFAULT '',
	entity    TEXT COLLATE "C" NOT NULL DEFAULT '',
	key       TEXT COLLATE "C" NOT NULL DEFAULT '',
	action    TEXT NOT NULL DEFAULT '',
	status    TEXT COLLATE "C" NOT NULL DEFAULT '',
	message   TEXT NOT NULL DEFAULT '',
	bling_id  TEXT NOT NULL DEFAULT '',
	cazco_id  TEXT NOT NULL DEFAULT '',
	code      TEXT NOT NULL DEFAULT '',
	params    TEXT NOT NULL DEFAULT ''
);
CREATE INDEX log_rows_time          ON log_rows (time, id);
CREATE INDEX log_rows_tenant        ON log_rows (tenant_id, time, id);
CREATE INDEX log_rows_tenant_status ON log_rows (tenant_id, status, time, id);
CREATE INDEX log_rows_flow          ON log_rows (flow, time, id);
CREATE INDEX log_rows_status        ON log_rows (status, time, id);
CREATE INDEX log_rows_key           ON log_rows (key, time, id);
CREATE INDEX log_rows_run           ON log_rows (run_id, time, id);

-- A lease is never deleted, only released (holder '', expires_at 0), so that its
-- generation only grows: every change of holder adds one, a renewal keeps it. It is
-- the fencing number a holder can check its writes against.
CREATE TABLE leases (
	tenant_id  TEXT COLLATE "C" NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
	flow       TEXT COLLATE "C" NOT NULL,
	holder     TEXT NOT NULL,
	expires_at BIGINT NOT NULL,
	generation BIGINT NOT NULL DEFAULT 1,
	PRIMARY KEY (tenant_id, flow)
);

CREATE TABLE panel_invites (
	token_hash BYTEA PRIMARY KEY,
	tenant_id  TEXT COLLATE "C" NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
	created_at BIGINT NOT NULL,
	expires_at BIGINT NOT NULL,
	used_at    BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX panel_invites_tenant ON panel_invites (tenant_id);

CREATE TABLE panel_sessions (
	token_hash BYTEA PRIMARY KEY,
	tenant_id  TEXT COLLATE "C" NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
	created_at BIGINT NOT NULL,
	seen_at    BIGINT NOT NULL,
	expires_at BIGINT NOT NULL
);
CREATE INDEX panel_sessions_tenant ON panel_sessions (tenant_id);
CREATE INDEX panel_sessions_expires ON panel_sessions (expires_at);

CREATE TABLE panel_oauth_states (
	state_hash   BYTEA PRIMARY KEY,
	session_hash BYTEA NOT NULL REFERENCES panel_sessions(token_hash) ON DELETE CASCADE,
	expires_at   BIGINT NOT NULL
);

CREATE TABLE panel_used_jti (
	jti        TEXT COLLATE "C" PRIMARY KEY,
	expires_at BIGINT NOT NULL
);

CREATE TABLE api_limits (
	tenant_id  TEXT COLLATE "C" NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
	api        TEXT COLLATE "C" NOT NULL,
	per_window BIGINT NOT NULL CHECK (per_window > 0),
	window_ms  BIGINT NOT NULL CHECK (window_ms > 0),
	seen_at    BIGINT NOT NULL,
	PRIMARY KEY (tenant_id, api)
);
