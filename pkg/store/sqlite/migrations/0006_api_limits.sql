-- The allowance each tenant's key was last advertised by an API (CaZco's
-- X-RateLimit-Limit and window), so that the next run paces at it from its first
-- request instead of at the configured assumption. Forgotten when the tenant's CaZco
-- URL or key changes (UpsertTenant), since the allowance belongs to the key.
CREATE TABLE api_limits (
	tenant_id  TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
	api        TEXT NOT NULL,
	per_window INTEGER NOT NULL CHECK (per_window > 0),
	window_ms  INTEGER NOT NULL CHECK (window_ms > 0),
	seen_at    INTEGER NOT NULL,
	PRIMARY KEY (tenant_id, api)
);

-- Order links by CaZco order number: an order whose number another linked order
-- already has is not filed (Bling finds orders by that number, so the look-up before
-- filing would take the other's Bling order for its own).
CREATE INDEX order_links_number ON order_links (tenant_id, number);
