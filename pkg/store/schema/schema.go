// Package schema is what the store backends share about their tables, so that they
// read and write them the same way: the numbered migration files and their order, how
// times are kept (unix nanoseconds, 0 for none), the columns of the tables whose rows
// become cazbling's records, with their scanners, and the backend-neutral logic
// around the SQL: the order of a batch's writes and its fence check (ApplyBatch over
// the BatchTx each backend implements), the statements both dialects take (written
// with ? placeholders; PostgreSQL's are made by Numbered), the log and run filters
// (built with a Placeholder function), the sealing and opening of tenants' secrets,
// and the checks of inputs before SQL. What differs stays in each backend: its
// driver, its placeholders where a statement is its own, its locking (SQLite's
// IMMEDIATE transactions, PostgreSQL's FOR SHARE / FOR NO KEY UPDATE and retried
// deadlocks), its paging and the leases on the server's clock.
package schema

import (
	"crypto/sha256"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/cazbling/cazbling/pkg/cazbling"
	"github.com/cazbling/cazbling/pkg/store/secrets"
)

// Migration is one numbered schema change.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// Migrations returns the migrations/*.sql files of fsys in order; their names start
// with their version number, which must run 1, 2, 3... without gaps.
func Migrations(fsys fs.FS) ([]Migration, error) {
	names, err := fs.Glob(fsys, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	var ms []Migration
	for _, name := range names {
		base := path.Base(name)
		num, _, _ := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if err != nil {
			return nil, fmt.Errorf("migration %s: name must start with its number", base)
		}
		text, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		ms = append(ms, Migration{Version: v, Name: base, SQL: string(text)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].Version < ms[j].Version })
	for i, m := range ms {
		if m.Version != i+1 {
			return nil, fmt.Errorf("migration %s: expected number %d", m.Name, i+1)
		}
	}
	return ms, nil
}

// Version is the number of the last migration of fsys (see Migrations), 0 if its
// migrations are not in order.
func Version(fsys fs.FS) int {
	ms, err := Migrations(fsys)
	if err != nil {
		return 0
	}
	return len(ms)
}

// Nanos stores a time as unix nanoseconds; the zero time is 0.
func Nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// Time is the inverse of Nanos, in UTC.
func Time(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// Row is a row to scan: *sql.Row, *sql.Rows, pgx.Row, pgx.Rows.
type Row interface {
	Scan(dest ...any) error
}

// TenantColumns are the columns ScanTenant reads, in its order.
const TenantColumns = `id, status, paused_until, status_reason, bling_url, bling_client_id,
	bling_client_secret_enc, bling_deposit, bling_store, bling_payment_method, cazco_url,
	cazco_api_key_enc, import_statuses, created_at, updated_at`

// ScanTenant reads a row of TenantColumns and opens its secrets with box; a secret
// that does not open is the error wrongKey makes for the tenant.
func ScanTenant(row Row, box *secrets.Box, wrongKey func(tenantID string) error) (cazbling.Tenant, error) {
	var (
		t                       cazbling.Tenant
		status, statuses        string
		paused, created, update int64
		secret, apiKey          []byte
	)
	err := row.Scan(&t.ID, &status, &paused, &t.StatusReason, &t.BlingURL, &t.BlingClientID,
		&secret, &t.BlingDeposit, &t.BlingStore, &t.BlingPaymentMethod, &t.CazcoURL,
		&apiKey, &statuses, &created, &update)
	if err != nil {
		return t, err
	}
	t.Status = cazbling.TenantStatus(status)
	t.PausedUntil = Time(paused)
	t.CreatedAt = Time(created)
	t.UpdatedAt = Time(update)
	if statuses != "" {
		t.ImportStatuses = strings.Split(statuses, ",")
	}
	var ok1, ok2 bool
	t.BlingClientSecret, ok1 = box.Open(t.ID, secrets.ColClientSecret, secret)
	t.CazcoAPIKey, ok2 = box.Open(t.ID, secrets.ColCazcoKey, apiKey)
	if !ok1 || !ok2 {
		return cazbling.Tenant{}, wrongKey(t.ID)
	}
	return t, nil
}

// ProductLinkColumns are the columns ScanProductLink reads, in its order.
const ProductLinkColumns = `tenant_id, sku, bling_id, cazco_id, hash, stock_sent, stock_known, updated_at, seen_at, summary_hash, sku_shared, inactive`

// ScanProductLink reads a row of ProductLinkColumns.
func ScanProductLink(row Row) (cazbling.ProductLink, error) {
	var (
		l             cazbling.ProductLink
		updated, seen int64
	)
	err := row.Scan(&l.TenantID, &l.SKU, &l.BlingID, &l.CazcoID, &l.Hash, &l.StockSent, &l.StockKnown, &updated, &seen, &l.SummaryHash, &l.SKUShared, &l.Inactive)
	l.UpdatedAt, l.SeenAt = Time(updated), Time(seen)
	return l, err
}

// OrderLinkColumns are the columns ScanOrderLink reads, in its order.
const OrderLinkColumns = `tenant_id, cazco_id, number, bling_id, state, attempts, next_attempt, last_error, updated_at`

// ScanOrderLink reads a row of OrderLinkColumns.
func ScanOrderLink(row Row) (cazbling.OrderLink, error) {
	var (
		l             cazbling.OrderLink
		state         string
		next, updated int64
	)
	err := row.Scan(&l.TenantID, &l.CazcoID, &l.Number, &l.BlingID, &state, &l.Attempts, &next, &l.LastError, &updated)
	l.State = cazbling.OrderLinkState(state)
	l.NextAttempt = Time(next)
	l.UpdatedAt = Time(updated)
	return l, err
}

// RunColumns are the columns ScanRun reads, in its order.
const RunColumns = `id, tenant_id, flow, started_at, finished_at, status, message,
	created, updated, unchanged, stock_set, skipped, warnings, failed, retry, host`

// ScanRun reads a row of RunColumns.
func ScanRun(row Row) (cazbling.Run, error) {
	var (
		r                 cazbling.Run
		started, finished int64
	)
	c := &r.Counts
	err := row.Scan(&r.ID, &r.TenantID, &r.Flow, &started, &finished, &r.Status, &r.Message,
		&c.Created, &c.Updated, &c.Unchanged, &c.StockSet, &c.Skipped, &c.Warnings, &c.Failed, &c.Retry, &r.Host)
	r.StartedAt = Time(started)
	r.FinishedAt = Time(finished)
	return r, err
}

// LifecycleColumns are the columns ScanLifecycle reads, in its order, and the ones
// a lifecycle is written with (LifecycleValues).
const LifecycleColumns = `tenant_id, cazco_id, number, bling_id, state, invoice_key, invoice_id, tracking,
	cazco_canceled, bling_canceled, bling_status, last_error, created_at, updated_at`

// ScanLifecycle reads a row of LifecycleColumns.
func ScanLifecycle(row Row) (cazbling.OrderLifecycle, error) {
	var (
		l                cazbling.OrderLifecycle
		state, tracking  string
		created, updated int64
	)
	err := row.Scan(&l.TenantID, &l.CazcoID, &l.Number, &l.BlingID, &state, &l.InvoiceKey, &l.InvoiceID, &tracking,
		&l.CazcoCanceled, &l.BlingCanceled, &l.BlingStatus, &l.LastError, &created, &updated)
	l.State = cazbling.LifecycleState(state)
	l.Tracking = splitLines(tracking)
	l.CreatedAt, l.UpdatedAt = Time(created), Time(updated)
	return l, err
}

// LifecycleValues are l's values for LifecycleColumns, written at now: an empty state
// is open, and a lifecycle without a creation time (the filing) gets now.
func LifecycleValues(l cazbling.OrderLifecycle, now int64) []any {
	state := l.State
	if state == "" {
		state = cazbling.LifecycleOpen
	}
	created := Nanos(l.CreatedAt)
	if created == 0 {
		created = now
	}
	return []any{l.TenantID, l.CazcoID, l.Number, l.BlingID, string(state), l.InvoiceKey, l.InvoiceID,
		strings.Join(l.Tracking, "\n"), l.CazcoCanceled, l.BlingCanceled, l.BlingStatus, l.LastError, created, now}
}

func splitLines(s string) []string {
	var out []string
	for line := range strings.SplitSeq(s, "\n") {
		if line = strings.TrimSpace(line); line != "" {
			out = append(out, line)
		}
	}
	return out
}

// LikeEscape escapes LIKE's wildcards in p (ESCAPE '\').
func LikeEscape(p cazbling.LogParams) string {
	return strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(string(p))
}

// TokenHash is what the panel's tables keep of a token given to a browser.
func TokenHash(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// Rows are the rows of a query: *sql.Rows, pgx.Rows.
type Rows interface {
	Row
	Next() bool
	Err() error
}

// ScanAll reads every row of rows with scan; the first error stops it.
func ScanAll[T any](rows Rows, scan func(Row) (T, error)) ([]T, error) {
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
