-- Initial schema. Times are INTEGER unix nanoseconds in UTC; 0 means "not set".
-- Secret columns (*_enc) hold nonce||ciphertext of AES-256-GCM, NULL when empty.

CREATE TABLE meta (
	name  TEXT PRIMARY KEY,
	value BLOB NOT NULL
);

CREATE TABLE tenants (
	id                      TEXT PRIMARY KEY,
	status                  TEXT NOT NULL,
	paused_until            INTEGER NOT NULL DEFAULT 0,
	status_reason           TEXT NOT NULL DEFAULT '',
	bling_url               TEXT NOT NULL DEFAULT '',
	bling_client_id         TEXT NOT NULL DEFAULT '',
	bling_client_secret_enc BLOB,
	bling_deposit           INTEGER NOT NULL DEFAULT 0,
	bling_store             INTEGER NOT NULL DEFAULT 0,
	bling_payment_method    INTEGER NOT NULL DEFAULT 0,
	cazco_url               TEXT NOT NULL DEFAULT '',
	cazco_api_key_enc       BLOB,
	import_statuses         TEXT NOT NULL DEFAULT '',
	access_token_enc        BLOB,
	refresh_token_enc       BLOB,
	token_expiry            INTEGER NOT NULL DEFAULT 0,
	created_at              INTEGER NOT NULL,
	updated_at              INTEGER NOT NULL
);

CREATE TABLE cursors (
	tenant_id  TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
	stream     TEXT NOT NULL,
	value      TEXT NOT NULL,
	updated_at INTEGER NOT NULL,
	PRIMARY KEY (tenant_id, stream)
);

CREATE TABLE product_links (
	tenant_id   TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
	sku         TEXT NOT NULL,
	bling_id    INTEGER NOT NULL DEFAULT 0,
	cazco_id    TEXT NOT NULL DEFAULT '',
	hash        TEXT NOT NULL DEFAULT '',
	stock_sent  INTEGER NOT NULL DEFAULT 0,
	stock_known INTEGER NOT NULL DEFAULT 0,
	updated_at  INTEGER NOT NULL,
	PRIMARY KEY (tenant_id, sku)
);
CREATE INDEX product_links_bling_id ON product_links (tenant_id, bling_id);

CREATE TABLE order_links (
	tenant_id    TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
	cazco_id     TEXT NOT NULL,
	number       TEXT NOT NULL DEFAULT '',
	bling_id     INTEGER NOT NULL DEFAULT 0,
	state        TEXT NOT NULL,
	attempts     INTEGER NOT NULL DEFAULT 0,
	next_attempt INTEGER NOT NULL DEFAULT 0,
	last_error   TEXT NOT NULL DEFAULT '',
	updated_at   INTEGER NOT NULL,
	PRIMARY KEY (tenant_id, cazco_id)
);
CREATE INDEX order_links_state ON order_links (tenant_id, state);

CREATE TABLE runs (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	tenant_id   TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
	flow        TEXT NOT NULL,
	started_at  INTEGER NOT NULL,
	finished_at INTEGER NOT NULL DEFAULT 0,
	status      TEXT NOT NULL,
	message     TEXT NOT NULL DEFAULT '',
	created     INTEGER NOT NULL DEFAULT 0,
	updated     INTEGER NOT NULL DEFAULT 0,
	unchanged   INTEGER NOT NULL DEFAULT 0,
	stock_set   INTEGER NOT NULL DEFAULT 0,
	skipped     INTEGER NOT NULL DEFAULT 0,
	warnings    INTEGER NOT NULL DEFAULT 0,
	failed      INTEGER NOT NULL DEFAULT 0,
	retry       INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX runs_started ON runs (started_at);
CREATE INDEX runs_tenant_flow ON runs (tenant_id, flow, started_at);

-- log_rows.id is the rowid, so every index below ends in (time, id) and serves
-- ORDER BY time DESC, id DESC without a sort.
CREATE TABLE log_rows (
	id        INTEGER PRIMARY KEY,
	time      INTEGER NOT NULL,
	run_id    INTEGER NOT NULL DEFAULT 0,
	tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
	flow      TEXT NOT NULL DEFAULT '',
	entity    TEXT NOT NULL DEFAULT '',
	key       TEXT NOT NULL DEFAULT '',
	action    TEXT NOT NULL DEFAULT '',
	status    TEXT NOT NULL DEFAULT '',
	message   TEXT NOT NULL DEFAULT '',
	bling_id  TEXT NOT NULL DEFAULT '',
	cazco_id  TEXT NOT NULL DEFAULT ''
);
CREATE INDEX log_rows_time          ON log_rows (time);
CREATE INDEX log_rows_tenant        ON log_rows (tenant_id, time);
CREATE INDEX log_rows_tenant_status ON log_rows (tenant_id, status, time);
CREATE INDEX log_rows_flow          ON log_rows (flow, time);
CREATE INDEX log_rows_status        ON log_rows (status, time);
CREATE INDEX log_rows_key           ON log_rows (key, time);
CREATE INDEX log_rows_run           ON log_rows (run_id, time);

CREATE TABLE leases (
	tenant_id  TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
	flow       TEXT NOT NULL,
	holder     TEXT NOT NULL,
	expires_at INTEGER NOT NULL,
	PRIMARY KEY (tenant_id, flow)
);
