package schema

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/cazbling/cazbling/pkg/cazbling"
)

// BatchTx is what ApplyBatch needs of a backend's open write transaction. The
// backends differ only here: how the fencing lease is held still (SQLite's IMMEDIATE
// transaction, PostgreSQL's FOR SHARE) and how one statement is run for many rows
// (a prepared statement, a pgx batch).
type BatchTx interface {
	// LeaseHolder returns the holder of the lease of (tenantID, flow), "" if there
	// is none, such that the lease cannot change hands until the transaction ends.
	LeaseHolder(tenantID, flow string) (string, error)
	// ExecEach runs query, written with ? placeholders, with the arguments of each
	// of n items.
	ExecEach(query string, n int, args func(i int) []any) error
}

// ApplyBatch writes b in tx, with the order and the statements both backends share:
// first the fence (a batch whose lease another holder has writes nothing and fails
// with cazbling.ErrLeaseLost), then product links, stock levels, order links,
// lifecycles (after the order links, whose trigger opens them, so these win), log
// rows and last the cursors, so a cursor never moves without the records it covers.
// Links and cursors get updated_at now; a log row without a time gets now.
func ApplyBatch(tx BatchTx, b cazbling.Batch, now int64) error {
	if f := b.Fence; f != nil {
		holder, err := tx.LeaseHolder(f.TenantID, f.Flow)
		if err != nil {
			return err
		}
		if holder != f.Holder {
			return fmt.Errorf("the %s lease of tenant %q: %w; nothing of this batch was written (the other process does this work)", f.Flow, f.TenantID, cazbling.ErrLeaseLost)
		}
	}
	steps := []struct {
		what  string
		query string
		n     int
		args  func(i int) []any
	}{
		{"product links", upsertProductLink, len(b.ProductLinks), func(i int) []any {
			l := b.ProductLinks[i]
			return []any{l.TenantID, l.SKU, l.BlingID, l.CazcoID, l.Hash, l.StockSent, l.StockKnown, now, Nanos(l.SeenAt), l.SummaryHash, l.SKUShared, l.Inactive}
		}},
		{"stock levels", updateStockLevel, len(b.StockLevels), func(i int) []any {
			l := b.StockLevels[i]
			return []any{l.StockSent, l.StockKnown, now, l.TenantID, l.SKU}
		}},
		{"order links", upsertOrderLink, len(b.OrderLinks), func(i int) []any {
			l := b.OrderLinks[i]
			return []any{l.TenantID, l.CazcoID, l.Number, l.BlingID, string(l.State), l.Attempts,
				Nanos(l.NextAttempt), l.LastError, now}
		}},
		{"order lifecycles", upsertLifecycle, len(b.Lifecycles), func(i int) []any {
			return LifecycleValues(b.Lifecycles[i], now)
		}},
		{"log rows", insertLog, len(b.Logs), func(i int) []any {
			e := b.Logs[i]
			at := Nanos(e.Time)
			if at == 0 {
				at = now
			}
			return []any{at, e.RunID, e.TenantID, e.Flow, e.Entity, e.Key, e.Action, e.Status,
				e.Message, e.BlingID, e.CazcoID, e.Code, string(e.Params)}
		}},
		{"cursors", upsertCursor, len(b.Cursors), func(i int) []any {
			c := b.Cursors[i]
			return []any{c.TenantID, c.Stream, c.Value, now}
		}},
	}
	for _, st := range steps {
		if st.n == 0 {
			continue
		}
		if err := tx.ExecEach(st.query, st.n, st.args); err != nil {
			return fmt.Errorf("%s: %w", st.what, err)
		}
	}
	return nil
}

// The batch's statements. Both dialects take the same upserts (ON CONFLICT ... DO
// UPDATE SET ... = excluded....); only the placeholders differ (see Numbered).
const (
	upsertProductLink = `INSERT INTO product_links
			(tenant_id, sku, bling_id, cazco_id, hash, stock_sent, stock_known, updated_at, seen_at, summary_hash, sku_shared, inactive)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (tenant_id, sku) DO UPDATE SET
			bling_id = excluded.bling_id, cazco_id = excluded.cazco_id, hash = excluded.hash,
			updated_at = excluded.updated_at, seen_at = excluded.seen_at, summary_hash = excluded.summary_hash,
			sku_shared = excluded.sku_shared, inactive = excluded.inactive`

	// Stock levels record the stock last sent of existing links, and nothing else:
	// the products and stock parts of a flow may run at once, each writing its own
	// columns.
	updateStockLevel = `UPDATE product_links SET stock_sent = ?, stock_known = ?, updated_at = ?
		WHERE tenant_id = ? AND sku = ?`

	upsertOrderLink = `INSERT INTO order_links
			(tenant_id, cazco_id, number, bling_id, state, attempts, next_attempt, last_error, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (tenant_id, cazco_id) DO UPDATE SET
			number = excluded.number, bling_id = excluded.bling_id, state = excluded.state,
			attempts = excluded.attempts, next_attempt = excluded.next_attempt,
			last_error = excluded.last_error, updated_at = excluded.updated_at`

	// Lifecycles are written whole. created_at is kept from the row the trigger
	// opened (the filing time); a row written without one gets now.
	upsertLifecycle = `INSERT INTO order_lifecycle (` + LifecycleColumns + `)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (tenant_id, cazco_id) DO UPDATE SET
			number = excluded.number, bling_id = excluded.bling_id, state = excluded.state,
			invoice_key = excluded.invoice_key, invoice_id = excluded.invoice_id, tracking = excluded.tracking,
			cazco_canceled = excluded.cazco_canceled, bling_canceled = excluded.bling_canceled,
			bling_status = excluded.bling_status, last_error = excluded.last_error, updated_at = excluded.updated_at`

	insertLog = `INSERT INTO log_rows
			(time, run_id, tenant_id, flow, entity, key, action, status, message, bling_id, cazco_id, code, params)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

	upsertCursor = `INSERT INTO cursors (tenant_id, stream, value, updated_at)
		VALUES (?, ?, ?, ?)
		ON CONFLICT (tenant_id, stream) DO UPDATE SET
			value = excluded.value, updated_at = excluded.updated_at`
)

// Numbered rewrites the ? placeholders of a shared statement as PostgreSQL's $1, $2...
// The shared statements hold no ? in literals or names.
func Numbered(query string) string {
	var b strings.Builder
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}
