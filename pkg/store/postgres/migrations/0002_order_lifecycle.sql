-- SQLite's 0007_order_lifecycle.sql: the life of a filed order after it is in Bling
-- (issue 17): NF-e → CaZco invoice, tracking → CaZco shipment, cancellations both
-- ways. One row per filed order while it is open; the lifecycle phase of sync-orders
-- reads only the open rows.
CREATE TABLE order_lifecycle (
	tenant_id      TEXT COLLATE "C" NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
	cazco_id       TEXT COLLATE "C" NOT NULL,
	number         TEXT NOT NULL DEFAULT '',
	bling_id       BIGINT NOT NULL,
	state          TEXT NOT NULL,               -- open, closed
	invoice_key    TEXT NOT NULL DEFAULT '',    -- NF-e key set on the CaZco order
	invoice_id     BIGINT NOT NULL DEFAULT 0,   -- its NF-e id in Bling
	tracking       TEXT NOT NULL DEFAULT '',    -- tracking codes sent as shipments, one a line
	cazco_canceled BOOLEAN NOT NULL DEFAULT false,
	bling_canceled BOOLEAN NOT NULL DEFAULT false,
	bling_status   BIGINT NOT NULL DEFAULT 0,
	last_error     TEXT NOT NULL DEFAULT '',
	created_at     BIGINT NOT NULL,
	updated_at     BIGINT NOT NULL,
	PRIMARY KEY (tenant_id, cazco_id)
);
CREATE INDEX order_lifecycle_open ON order_lifecycle (tenant_id, state, created_at);

-- A link recorded as created opens the order's lifecycle in the same transaction, so
-- no filed order is missed whatever path filed it (created, found, a lost reply). An
-- upsert that updates fires the UPDATE trigger, as in SQLite.
CREATE FUNCTION order_links_open_lifecycle() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO order_lifecycle (tenant_id, cazco_id, number, bling_id, state, created_at, updated_at)
	VALUES (NEW.tenant_id, NEW.cazco_id, NEW.number, NEW.bling_id, 'open', NEW.updated_at, NEW.updated_at)
	ON CONFLICT (tenant_id, cazco_id) DO NOTHING;
	RETURN NULL;
END;
$$;
CREATE TRIGGER order_links_created_insert AFTER INSERT ON order_links
	FOR EACH ROW WHEN (NEW.state = 'created' AND NEW.bling_id <> 0)
	EXECUTE FUNCTION order_links_open_lifecycle();
CREATE TRIGGER order_links_created_update AFTER UPDATE OF state, bling_id ON order_links
	FOR EACH ROW WHEN (NEW.state = 'created' AND NEW.bling_id <> 0)
	EXECUTE FUNCTION order_links_open_lifecycle();

-- Orders filed before this migration: those of the last 30 days are followed.
INSERT INTO order_lifecycle (tenant_id, cazco_id, number, bling_id, state, created_at, updated_at)
SELECT tenant_id, cazco_id, number, bling_id, 'open', updated_at, updated_at FROM order_links
WHERE state = 'created' AND bling_id <> 0
	AND updated_at >= (extract(epoch FROM now())::bigint - 30 * 86400) * 1000000000
ON CONFLICT DO NOTHING;

-- A product sent to CaZco as inactive (inactive or deleted in Bling): the stock sweep
-- sends 0 for it whatever its Bling balance.
ALTER TABLE product_links ADD COLUMN inactive BOOLEAN NOT NULL DEFAULT false;
