package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/cazbling/cazbling/pkg/cazbling"
	"github.com/cazbling/cazbling/pkg/store/schema"
)

// maxParams bounds the parameters of one IN list, well under SQLite's limit.
const maxParams = 500

// Apply writes a batch in one IMMEDIATE transaction, in the order and with the
// statements of schema.ApplyBatch.
func (s *Store) Apply(ctx context.Context, b cazbling.Batch) error {
	if b.Empty() {
		return nil
	}
	now := toNanos(s.now())
	return s.inTx(ctx, "save batch", func(tx *sql.Tx) error {
		return schema.ApplyBatch(batchTx{ctx, tx}, b, now)
	})
}

// batchTx is the SQLite side of schema.BatchTx.
type batchTx struct {
	ctx context.Context
	tx  *sql.Tx
}

// LeaseHolder reads the lease's holder. The transaction is IMMEDIATE: no lease
// changes hands until it ends.
func (t batchTx) LeaseHolder(tenantID, flow string) (string, error) {
	var holder string
	err := t.tx.QueryRowContext(t.ctx, `SELECT holder FROM leases WHERE tenant_id = ? AND flow = ?`, tenantID, flow).Scan(&holder)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return holder, err
}

// ExecEach prepares query once and runs it with the arguments of each of n items.
func (t batchTx) ExecEach(query string, n int, args func(i int) []any) error {
	stmt, err := t.tx.PrepareContext(t.ctx, query)
	if err != nil {
		return err
	}
	defer stmt.Close()
	for i := range n {
		if _, err := stmt.ExecContext(t.ctx, args(i)...); err != nil {
			return err
		}
	}
	return nil
}

// ---------------------------------------------------------------- cursors

// Cursor returns the value of a tenant's stream cursor; found is false if unset.
func (s *Store) Cursor(ctx context.Context, tenantID, stream string) (string, bool, error) {
	var value string
	err := s.db.QueryRowContext(ctx, `SELECT value FROM cursors WHERE tenant_id = ? AND stream = ?`,
		tenantID, stream).Scan(&value)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, s.fail(fmt.Sprintf("read cursor %s of tenant %q", stream, tenantID), err)
	}
	return value, true, nil
}

// Cursors lists a tenant's cursors ordered by stream.
func (s *Store) Cursors(ctx context.Context, tenantID string) ([]cazbling.Cursor, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT tenant_id, stream, value FROM cursors
		WHERE tenant_id = ? ORDER BY stream`, tenantID)
	if err != nil {
		return nil, s.fail("list cursors", err)
	}
	defer rows.Close()
	var cs []cazbling.Cursor
	for rows.Next() {
		var c cazbling.Cursor
		if err := rows.Scan(&c.TenantID, &c.Stream, &c.Value); err != nil {
			return nil, s.fail("list cursors", err)
		}
		cs = append(cs, c)
	}
	if err := rows.Err(); err != nil {
		return nil, s.fail("list cursors", err)
	}
	return cs, nil
}

// ---------------------------------------------------------------- product links

const productLinkColumns = schema.ProductLinkColumns

func scanProductLink(row rowScanner) (cazbling.ProductLink, error) {
	return schema.ScanProductLink(row)
}

// ProductLink returns the link of one SKU; found is false if there is none.
func (s *Store) ProductLink(ctx context.Context, tenantID, sku string) (cazbling.ProductLink, bool, error) {
	l, err := scanProductLink(s.db.QueryRowContext(ctx, `SELECT `+productLinkColumns+`
		FROM product_links WHERE tenant_id = ? AND sku = ?`, tenantID, sku))
	if errors.Is(err, sql.ErrNoRows) {
		return cazbling.ProductLink{}, false, nil
	}
	if err != nil {
		return cazbling.ProductLink{}, false, s.fail("read product link", err)
	}
	return l, true, nil
}

// ProductLinksBySKU returns the links of the SKUs that have one, by SKU.
func (s *Store) ProductLinksBySKU(ctx context.Context, tenantID string, skus []string) (map[string]cazbling.ProductLink, error) {
	links := make(map[string]cazbling.ProductLink)
	for start := 0; start < len(skus); start += maxParams {
		chunk := skus[start:min(start+maxParams, len(skus))]
		args := make([]any, 0, len(chunk)+1)
		args = append(args, tenantID)
		for _, sku := range chunk {
			args = append(args, sku)
		}
		rows, err := s.db.QueryContext(ctx, `SELECT `+productLinkColumns+` FROM product_links
			WHERE tenant_id = ? AND sku IN (`+placeholders(len(chunk))+`)`, args...)
		if err != nil {
			return nil, s.fail("read product links", err)
		}
		for rows.Next() {
			l, err := scanProductLink(rows)
			if err != nil {
				rows.Close()
				return nil, s.fail("read product links", err)
			}
			links[l.SKU] = l
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, s.fail("read product links", err)
		}
	}
	return links, nil
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?,", n), ",")
}

// ProductLinks returns up to limit links of a tenant with SKUs after afterSKU, in SKU
// order; pass the last SKU of a page to get the next. limit <= 0 means all.
func (s *Store) ProductLinks(ctx context.Context, tenantID, afterSKU string, limit int) ([]cazbling.ProductLink, error) {
	if limit <= 0 {
		limit = -1 // SQLite: no limit
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+productLinkColumns+` FROM product_links
		WHERE tenant_id = ? AND sku > ? ORDER BY sku LIMIT ?`, tenantID, afterSKU, limit)
	if err != nil {
		return nil, s.fail("list product links", err)
	}
	defer rows.Close()
	var links []cazbling.ProductLink
	for rows.Next() {
		l, err := scanProductLink(rows)
		if err != nil {
			return nil, s.fail("list product links", err)
		}
		links = append(links, l)
	}
	if err := rows.Err(); err != nil {
		return nil, s.fail("list product links", err)
	}
	return links, nil
}

// CountProductLinks returns how many product links a tenant has.
func (s *Store) CountProductLinks(ctx context.Context, tenantID string) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM product_links WHERE tenant_id = ?`, tenantID).Scan(&n)
	if err != nil {
		return 0, s.fail("count product links", err)
	}
	return n, nil
}

// ---------------------------------------------------------------- order links

const orderLinkColumns = schema.OrderLinkColumns

func scanOrderLink(row rowScanner) (cazbling.OrderLink, error) { return schema.ScanOrderLink(row) }

// OrderLink returns the link of one CaZco order; found is false if there is none.
func (s *Store) OrderLink(ctx context.Context, tenantID, cazcoID string) (cazbling.OrderLink, bool, error) {
	l, err := scanOrderLink(s.db.QueryRowContext(ctx, `SELECT `+orderLinkColumns+`
		FROM order_links WHERE tenant_id = ? AND cazco_id = ?`, tenantID, cazcoID))
	if errors.Is(err, sql.ErrNoRows) {
		return cazbling.OrderLink{}, false, nil
	}
	if err != nil {
		return cazbling.OrderLink{}, false, s.fail("read order link", err)
	}
	return l, true, nil
}

// OrderLinksByNumber returns a tenant's order links whose CaZco order number is one of
// numbers.
func (s *Store) OrderLinksByNumber(ctx context.Context, tenantID string, numbers []string) ([]cazbling.OrderLink, error) {
	var out []cazbling.OrderLink
	for len(numbers) > 0 {
		n := min(len(numbers), 500)
		args := []any{tenantID}
		for _, v := range numbers[:n] {
			args = append(args, v)
		}
		rows, err := s.db.QueryContext(ctx, `SELECT `+orderLinkColumns+` FROM order_links
			WHERE tenant_id = ? AND number IN (?`+strings.Repeat(",?", n-1)+`) ORDER BY number, cazco_id`, args...)
		if err != nil {
			return nil, s.fail("find order links by number", err)
		}
		for rows.Next() {
			l, err := scanOrderLink(rows)
			if err != nil {
				rows.Close()
				return nil, s.fail("find order links by number", err)
			}
			out = append(out, l)
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, s.fail("find order links by number", err)
		}
		numbers = numbers[n:]
	}
	return out, nil
}

// OrderLinksByState lists a tenant's order links in one state, the ones due first
// (by next attempt, then CaZco id).
func (s *Store) OrderLinksByState(ctx context.Context, tenantID string, state cazbling.OrderLinkState) ([]cazbling.OrderLink, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+orderLinkColumns+` FROM order_links
		WHERE tenant_id = ? AND state = ? ORDER BY next_attempt, cazco_id`, tenantID, string(state))
	if err != nil {
		return nil, s.fail("list order links", err)
	}
	defer rows.Close()
	var links []cazbling.OrderLink
	for rows.Next() {
		l, err := scanOrderLink(rows)
		if err != nil {
			return nil, s.fail("list order links", err)
		}
		links = append(links, l)
	}
	if err := rows.Err(); err != nil {
		return nil, s.fail("list order links", err)
	}
	return links, nil
}

// CountOrderLinks returns how many order links a tenant has in each state.
func (s *Store) CountOrderLinks(ctx context.Context, tenantID string) (map[cazbling.OrderLinkState]int, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT state, count(*) FROM order_links
		WHERE tenant_id = ? GROUP BY state`, tenantID)
	if err != nil {
		return nil, s.fail("count order links", err)
	}
	defer rows.Close()
	counts := make(map[cazbling.OrderLinkState]int)
	for rows.Next() {
		var (
			state string
			n     int
		)
		if err := rows.Scan(&state, &n); err != nil {
			return nil, s.fail("count order links", err)
		}
		counts[cazbling.OrderLinkState(state)] = n
	}
	if err := rows.Err(); err != nil {
		return nil, s.fail("count order links", err)
	}
	return counts, nil
}

// ---------------------------------------------------------------- leases

// AcquireLease takes (tenant, flow) for holder until now+ttl if no one holds it, the
// lease has expired, or holder already has it (a renewal). It reports whether holder
// now has the lease.
func (s *Store) AcquireLease(ctx context.Context, tenantID, flow, holder string, ttl time.Duration) (bool, error) {
	_, taken, err := s.LeaseGeneration(ctx, tenantID, flow, holder, ttl)
	return taken, err
}

// LeaseGeneration takes the lease as AcquireLease does and also returns its
// generation, the fencing number: the same while holder renews, one more on every
// change of holder.
func (s *Store) LeaseGeneration(ctx context.Context, tenantID, flow, holder string, ttl time.Duration) (int64, bool, error) {
	if holder == "" {
		return 0, false, fmt.Errorf("take lease %s/%s: empty holder", tenantID, flow)
	}
	now := s.now()
	var (
		generation int64
		taken      bool
	)
	err := s.inTx(ctx, fmt.Sprintf("take lease %s/%s", tenantID, flow), func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `INSERT INTO leases (tenant_id, flow, holder, expires_at)
			VALUES (?, ?, ?, ?)
			ON CONFLICT (tenant_id, flow) DO UPDATE SET
				holder = excluded.holder, expires_at = excluded.expires_at,
				generation = leases.generation + (leases.holder <> excluded.holder)
			WHERE leases.expires_at <= ? OR leases.holder = excluded.holder
			RETURNING generation`,
			tenantID, flow, holder, toNanos(now.Add(ttl)), toNanos(now)).Scan(&generation)
		if errors.Is(err, sql.ErrNoRows) {
			return nil // another holder has it
		}
		taken = err == nil
		return err
	})
	return generation, taken, err
}

// ReleaseLease gives up (tenant, flow) if holder has it; otherwise it does nothing.
// The row stays (an empty holder, expired) so that the generation keeps growing.
func (s *Store) ReleaseLease(ctx context.Context, tenantID, flow, holder string) error {
	return s.inTx(ctx, fmt.Sprintf("release lease %s/%s", tenantID, flow), func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE leases SET holder = '', expires_at = 0
			WHERE tenant_id = ? AND flow = ? AND holder = ?`, tenantID, flow, holder)
		return err
	})
}
