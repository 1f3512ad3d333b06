-- The life of a filed order after it is in Bling (issue 17): NF-e → CaZco invoice,
-- tracking → CaZco shipment, cancellations both ways. One row per filed order while
-- it is open; the lifecycle phase of sync-orders reads only the open rows, so its
-- cost grows with the orders still open, not with all orders ever filed.
CREATE TABLE order_lifecycle (
	tenant_id      TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
	cazco_id       TEXT NOT NULL,
	number         TEXT NOT NULL DEFAULT '',
	bling_id       INTEGER NOT NULL,
	state          TEXT NOT NULL,             -- open, closed
	invoice_key    TEXT NOT NULL DEFAULT '',  -- NF-e key set on the CaZco order
	invoice_id     INTEGER NOT NULL DEFAULT 0, -- its NF-e id in Bling
	tracking       TEXT NOT NULL DEFAULT '',  -- tracking codes sent as shipments, one a line
	cazco_canceled INTEGER NOT NULL DEFAULT 0,
	bling_canceled INTEGER NOT NULL DEFAULT 0,
	bling_status   INTEGER NOT NULL DEFAULT 0,
	last_error     TEXT NOT NULL DEFAULT '',
	created_at     INTEGER NOT NULL,
	updated_at     INTEGER NOT NULL,
	PRIMARY KEY (tenant_id, cazco_id)
);
CREATE INDEX order_lifecycle_open ON order_lifecycle (tenant_id, state, created_at);

-- A link recorded as created opens the order's lifecycle in the same transaction, so
-- no filed order is missed whatever path filed it (created, found, a lost reply).
-- (NOT EXISTS, not INSERT OR IGNORE: the outer upsert's conflict policy would win.)
CREATE TRIGGER order_links_created_insert AFTER INSERT ON order_links
WHEN NEW.state = 'created' AND NEW.bling_id <> 0
BEGIN
	INSERT INTO order_lifecycle (tenant_id, cazco_id, number, bling_id, state, created_at, updated_at)
	SELECT NEW.tenant_id, NEW.cazco_id, NEW.number, NEW.bling_id, 'open', NEW.updated_at, NEW.updated_at
	WHERE NOT EXISTS (SELECT 1 FROM order_lifecycle WHERE tenant_id = NEW.tenant_id AND cazco_id = NEW.cazco_id);
END;
CREATE TRIGGER order_links_created_update AFTER UPDATE OF state, bling_id ON order_links
WHEN NEW.state = 'created' AND NEW.bling_id <> 0
BEGIN
	INSERT INTO order_lifecycle (tenant_id, cazco_id, number, bling_id, state, created_at, updated_at)
	SELECT NEW.tenant_id, NEW.cazco_id, NEW.number, NEW.bling_id, 'open', NEW.updated_at, NEW.updated_at
	WHERE NOT EXISTS (SELECT 1 FROM order_lifecycle WHERE tenant_id = NEW.tenant_id AND cazco_id = NEW.cazco_id);
END;

-- Orders filed before this migration: those of the last 30 days are followed (older
-- ones were handled by hand before cazbling did it), so the first run after upgrading
-- does not read every order ever filed.
INSERT OR IGNORE INTO order_lifecycle (tenant_id, cazco_id, number, bling_id, state, created_at, updated_at)
SELECT tenant_id, cazco_id, number, bling_id, 'open', updated_at, updated_at FROM order_links
WHERE state = 'created' AND bling_id <> 0
	AND updated_at >= (CAST(strftime('%s', 'now') AS INTEGER) - 30 * 86400) * 1000000000;

-- A product sent to CaZco as inactive (inactive or deleted in Bling): the stock sweep
-- sends 0 for it whatever its Bling balance.
ALTER TABLE product_links ADD COLUMN inactive INTEGER NOT NULL DEFAULT 0;
