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

// Apply writes a batch in one transaction, in the order and with the statements of
// schema.ApplyBatch.
func (s *Store) Apply(ctx context.Context, b cazbling.Batch) error {
	if b.Empty() {
		return nil
	}
	now := toNanos(s.now())
	return s.inTx(ctx, "save batch", func(tx pgx.Tx) error {
		return schema.ApplyBatch(batchTx{ctx, tx}, b, now)
	})
}

// batchTx is the PostgreSQL side of schema.BatchTx.
type batchTx struct {
	ctx context.Context
	tx  pgx.Tx
}

// LeaseHolder reads the lease's holder FOR SHARE: no other host can take the lease
// until this transaction ends.
func (t batchTx) LeaseHolder(tenantID, flow string) (string, error) {
	var holder string
	err := t.tx.QueryRow(t.ctx, `SELECT holder FROM leases WHERE tenant_id = $1 AND flow = $2 FOR SHARE`, tenantID, flow).Scan(&holder)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	return holder, err
}

// ExecEach sends query with the arguments of each of n items in one round trip (a
// pgx batch inside the transaction); the first failing statement's error is returned.
func (t batchTx) ExecEach(query string, n int, args func(i int) []any) error {
	query = schema.Numbered(query)
	var b pgx.Batch
	for i := range n {
		b.Queue(query, args(i)...)
	}
	return t.tx.SendBatch(t.ctx, &b).Close()
}

// ---------------------------------------------------------------- cursors

// Cursor returns the value of a tenant's stream cursor; found is false if unset.
func (s *Store) Cursor(ctx context.Context, tenantID, stream string) (string, bool, error) {
	var value string
	err := s.pool.QueryRow(ctx, `SELECT value FROM cursors WHERE tenant_id = $1 AND stream = $2`,
		tenantID, stream).Scan(&value)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, s.fail(fmt.Sprintf("read cursor %s of tenant %q", stream, tenantID), err)
	}
	return value, true, nil
}

// Cursors lists a tenant's cursors ordered by stream.
func (s *Store) Cursors(ctx context.Context, tenantID string) ([]cazbling.Cursor, error) {
	cs, err := queryAll(ctx, s, `SELECT tenant_id, stream, value FROM cursors
		WHERE tenant_id = $1 ORDER BY stream`, []any{tenantID}, func(row schema.Row) (cazbling.Cursor, error) {
		var c cazbling.Cursor
		err := row.Scan(&c.TenantID, &c.Stream, &c.Value)
		return c, err
	})
	if err != nil {
		return nil, s.fail(fmt.Sprintf("list cursors of tenant %q", tenantID), err)
	}
	return cs, nil
}

// queryAll runs a query and scans every row with scan.
func queryAll[T any](ctx context.Context, s *Store, query string, args []any, scan func(schema.Row) (T, error)) ([]T, error) {
	rows, err := s.pool.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	return schema.ScanAll(rows, scan)
}

// ---------------------------------------------------------------- product links

const productLinkColumns = schema.ProductLinkColumns

func scanProductLink(row schema.Row) (cazbling.ProductLink, error) {
	return schema.ScanProductLink(row)
}

// ProductLink returns the link of one SKU; found is false if there is none.
func (s *Store) ProductLink(ctx context.Context, tenantID, sku string) (cazbling.ProductLink, bool, error) {
	l, err := scanProductLink(s.pool.QueryRow(ctx, `SELECT `+productLinkColumns+`
		FROM product_links WHERE tenant_id = $1 AND sku = $2`, tenantID, sku))
	if errors.Is(err, pgx.ErrNoRows) {
		return cazbling.ProductLink{}, false, nil
	}
	if err != nil {
		return cazbling.ProductLink{}, false, s.fail(fmt.Sprintf("read product link %s of tenant %q", sku, tenantID), err)
	}
	return l, true, nil
}

// ProductLinksBySKU returns the links of the SKUs that have one, by SKU.
func (s *Store) ProductLinksBySKU(ctx context.Context, tenantID string, skus []string) (map[string]cazbling.ProductLink, error) {
	links := make(map[string]cazbling.ProductLink)
	if len(skus) == 0 {
		return links, nil
	}
	all, err := queryAll(ctx, s, `SELECT `+productLinkColumns+` FROM product_links
		WHERE tenant_id = $1 AND sku = ANY($2)`, []any{tenantID, skus}, scanProductLink)
	if err != nil {
		return nil, s.fail(fmt.Sprintf("read product links of tenant %q", tenantID), err)
	}
	for _, l := range all {
		links[l.SKU] = l
	}
	return links, nil
}

// ProductLinks returns up to limit links of a tenant with SKUs after afterSKU, in SKU
// order; pass the last SKU of a page to get the next. limit <= 0 means all.
func (s *Store) ProductLinks(ctx context.Context, tenantID, afterSKU string, limit int) ([]cazbling.ProductLink, error) {
	var lim *int64 // NULL: no limit
	if limit > 0 {
		n := int64(limit)
		lim = &n
	}
	links, err := queryAll(ctx, s, `SELECT `+productLinkColumns+` FROM product_links
		WHERE tenant_id = $1 AND sku > $2 ORDER BY sku LIMIT $3`, []any{tenantID, afterSKU, lim}, scanProductLink)
	if err != nil {
		return nil, s.fail(fmt.Sprintf("list product links of tenant %q", tenantID), err)
	}
	return links, nil
}

// CountProductLinks returns how many product links a tenant has.
func (s *Store) CountProductLinks(ctx context.Context, tenantID string) (int, error) {
	var n int
	err := s.pool.QueryRow(ctx, `SELECT count(*) FROM product_links WHERE tenant_id = $1`, tenantID).Scan(&n)
	if err != nil {
		return 0, s.fail(fmt.Sprintf("count product links of tenant %q", tenantID), err)
	}
	return n, nil
}

// ---------------------------------------------------------------- order links

const orderLinkColumns = schema.OrderLinkColumns

func scanOrderLink(row schema.Row) (cazbling.OrderLink, error) { return schema.ScanOrderLink(row) }

// OrderLink returns the link of one CaZco order; found is false if there is none.
func (s *Store) OrderLink(ctx context.Context, tenantID, cazcoID string) (cazbling.OrderLink, bool, error) {
	l, err := scanOrderLink(s.pool.QueryRow(ctx, `SELECT `+orderLinkColumns+`
		FROM order_links WHERE tenant_id = $1 AND cazco_id = $2`, tenantID, cazcoID))
	if errors.Is(err, pgx.ErrNoRows) {
		return cazbling.OrderLink{}, false, nil
	}
	if err != nil {
		return cazbling.OrderLink{}, false, s.fail(fmt.Sprintf("read order link %s of tenant %q", cazcoID, tenantID), err)
	}
	return l, true, nil
}

// OrderLinksByNumber returns a tenant's order links whose CaZco order number is one of
// numbers, by number then CaZco id.
func (s *Store) OrderLinksByNumber(ctx context.Context, tenantID string, numbers []string) ([]cazbling.OrderLink, error) {
	if len(numbers) == 0 {
		return nil, nil
	}
	links, err := queryAll(ctx, s, `SELECT `+orderLinkColumns+` FROM order_links
		WHERE tenant_id = $1 AND number = ANY($2) ORDER BY number, cazco_id`, []any{tenantID, numbers}, scanOrderLink)
	if err != nil {
		return nil, s.fail(fmt.Sprintf("find order links by number of tenant %q", tenantID), err)
	}
	return links, nil
}

// OrderLinksByState lists a tenant's order links in one state, the ones due first
// (by next attempt, then CaZco id).
func (s *Store) OrderLinksByState(ctx context.Context, tenantID string, state cazbling.OrderLinkState) ([]cazbling.OrderLink, error) {
	links, err := queryAll(ctx, s, `SELECT `+orderLinkColumns+` FROM order_links
		WHERE tenant_id = $1 AND state = $2 ORDER BY next_attempt, cazco_id`, []any{tenantID, string(state)}, scanOrderLink)
	if err != nil {
		return nil, s.fail(fmt.Sprintf("list %s order links of tenant %q", state, tenantID), err)
	}
	return links, nil
}

// CountOrderLinks returns how many order links a tenant has in each state.
func (s *Store) CountOrderLinks(ctx context.Context, tenantID string) (map[cazbling.OrderLinkState]int, error) {
	type count struct {
		state string
		n     int
	}
	all, err := queryAll(ctx, s, `SELECT state, count(*) FROM order_links
		WHERE tenant_id = $1 GROUP BY state`, []any{tenantID}, func(row schema.Row) (count, error) {
		var c count
		err := row.Scan(&c.state, &c.n)
		return c, err
	})
	if err != nil {
		return nil, s.fail(fmt.Sprintf("count order links of tenant %q", tenantID), err)
	}
	counts := make(map[cazbling.OrderLinkState]int, len(all))
	for _, c := range all {
		counts[cazbling.OrderLinkState(c.state)] = c.n
	}
	return counts, nil
}

// ---------------------------------------------------------------- leases

// AcquireLease takes (tenant, flow) for holder until now+ttl if no one holds it, the
// lease has expired, or holder already has it (a renewal). It reports whether holder
// now has the lease.
//
// It is one statement: PostgreSQL takes the row's lock for ON CONFLICT DO UPDATE and
// evaluates the WHERE on the latest committed version, so of hosts racing for the
// same lease exactly one wins, and a holder whose lease lapsed and was taken cannot
// renew it (its holder no longer matches). Each change of holder adds one to the
// lease's generation, its fencing number.
func (s *Store) AcquireLease(ctx context.Context, tenantID, flow, holder string, ttl time.Duration) (bool, error) {
	_, taken, err := s.acquireLease(ctx, tenantID, flow, holder, ttl)
	return taken, err
}

// LeaseGeneration takes the lease as AcquireLease does and also returns its
// generation: it stays the same while holder renews, and grows on every takeover.
func (s *Store) LeaseGeneration(ctx context.Context, tenantID, flow, holder string, ttl time.Duration) (int64, bool, error) {
	return s.acquireLease(ctx, tenantID, flow, holder, ttl)
}

func (s *Store) acquireLease(ctx context.Context, tenantID, flow, holder string, ttl time.Duration) (int64, bool, error) {
	if holder == "" {
		return 0, false, fmt.Errorf("take lease %s/%s: empty holder", tenantID, flow)
	}
	// now is the store's clock, or NULL for the server's (clock_timestamp(), in
	// nanoseconds); the new expiry is now+ttl, so the row's own excluded.expires_at
	// minus ttl is the instant the old lease is judged at.
	var now *int64
	if !s.serverClockLeases {
		n := toNanos(s.now())
		now = &n
	}
	var generation int64
	err := s.pool.QueryRow(ctx, `INSERT INTO leases (tenant_id, flow, holder, expires_at)
		VALUES ($1, $2, $3, coalesce($4::bigint, (extract(epoch FROM clock_timestamp()) * 1000000)::bigint * 1000) + $5::bigint)
		ON CONFLICT (tenant_id, flow) DO UPDATE SET
			holder = excluded.holder, expires_at = excluded.expires_at,
			generation = leases.generation + CASE WHEN leases.holder = excluded.holder THEN 0 ELSE 1 END
		WHERE leases.expires_at <= excluded.expires_at - $5::bigint OR leases.holder = excluded.holder
		RETURNING generation`,
		tenantID, flow, holder, now, ttl.Nanoseconds()).Scan(&generation)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, false, nil // another holder has it
	}
	if err != nil {
		return 0, false, s.fail(fmt.Sprintf("take lease %s/%s", tenantID, flow), err)
	}
	return generation, true, nil
}

// ReleaseLease gives up (tenant, flow) if holder has it; otherwise it does nothing.
// The row stays (an empty holder, expired) so that the generation keeps growing.
func (s *Store) ReleaseLease(ctx context.Context, tenantID, flow, holder string) error {
	_, err := s.pool.Exec(ctx, `UPDATE leases SET holder = '', expires_at = 0
		WHERE tenant_id = $1 AND flow = $2 AND holder = $3`, tenantID, flow, holder)
	if err != nil {
		return s.fail(fmt.Sprintf("release lease %s/%s", tenantID, flow), err)
	}
	return nil
}
