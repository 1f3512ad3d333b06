package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cazbling/cazbling/pkg/store/postgres"
	"github.com/cazbling/cazbling/pkg/store/sqlite"
)

// copyTables are the tables CopyToPostgres moves, in an order that keeps foreign keys
// satisfied. meta (the key check, which the target writes for itself), leases (live
// locks of running processes, which a new store starts without), api_paces (the
// hosts' shared Bling paces, which SQLite does not keep: the target starts them) and
// schema_version are not copied. A table of the target that is in neither list stops the copy: a
// migration added it, and this list must say what to do with it.
var copyTables = []string{
	"tenants", "cursors", "product_links", "order_links", "order_lifecycle", "runs", "log_rows",
	"api_limits", "panel_invites", "panel_sessions", "panel_oauth_states", "panel_used_jti",
}

var notCopied = []string{"meta", "leases", "api_paces", "schema_version"}

// TableCount is the rows of one table in the source and, after the copy, the target.
type TableCount struct {
	Table          string
	Source, Target int64
}

// CopyReport is what CopyToPostgres moved and checked.
type CopyReport struct {
	Tables []TableCount
	// Tenants is how many tenants' secrets (client secret, API key, token pair) were
	// decrypted from the target with the key.
	Tenants int
}

// CopyToPostgres moves the whole SQLite store at from into the PostgreSQL database to,
// which must hold no tenant, and checks the result: the rows of every table are
// counted on both sides, and every tenant's secrets are decrypted from the target
// with key (the key the source's secrets were sealed with: they are copied sealed,
// so the target needs the same CAZBLING_KEY).
//
// The source is read in one read transaction (a consistent snapshot, while cazbling
// may be running on it); the target is written in one transaction (all or nothing).
// What the source records after the snapshot is not moved: stop the crontab first.
func CopyToPostgres(ctx context.Context, from, to string, key []byte) (CopyReport, error) {
	var rep CopyReport
	if !IsPostgres(to) {
		return rep, fmt.Errorf("the target must be a postgres:// URL, not %q", to)
	}
	if IsPostgres(from) {
		return rep, errors.New("the source must be a SQLite store (sqlite:PATH)")
	}
	if info, err := os.Stat(from); err != nil || info.Size() == 0 {
		return rep, fmt.Errorf("source %s: no store there (%v)", from, err)
	}
	// Open both through the stores first: the source is checked (its schema, the key)
	// and brought to this cazbling's schema; the target gets its tables and key check.
	src, err := sqlite.Open(ctx, sqlite.Options{Path: from, Key: key})
	if err != nil {
		return rep, fmt.Errorf("source: %w", err)
	}
	src.Close()
	dst, err := postgres.Open(ctx, postgres.Options{DSN: to, Key: key})
	if err != nil {
		return rep, fmt.Errorf("target: %w", err)
	}
	name := dst.Name()
	dst.Close()

	abs, err := filepath.Abs(from)
	if err != nil {
		return rep, err
	}
	u := url.URL{Path: filepath.ToSlash(abs)}
	sdb, err := sql.Open("sqlite3", "file:"+u.EscapedPath()+"?mode=ro&_busy_timeout=10000")
	if err != nil {
		return rep, fmt.Errorf("source %s: %w", from, err)
	}
	defer sdb.Close()
	stx, err := sdb.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return rep, fmt.Errorf("source %s: %w", from, err)
	}
	defer stx.Rollback()

	conn, err := pgx.Connect(ctx, to)
	if err != nil {
		return rep, fmt.Errorf("target %s: %w", name, err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		// One migrate-store at a time, and no cazbling migrating it meanwhile.
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('cazbling schema ' || current_schema()))`); err != nil {
			return err
		}
		var tenants int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM tenants`).Scan(&tenants); err != nil {
			return err
		}
		if tenants > 0 {
			return fmt.Errorf("refused: the target store %s already holds %d tenants; migrate-store writes only into a store without any (a new database, or a new schema with search_path)", name, tenants)
		}
		cols, err := targetColumns(ctx, tx)
		if err != nil {
			return err
		}
		for table := range cols {
			if !slices.Contains(copyTables, table) && !slices.Contains(notCopied, table) {
				return fmt.Errorf("the target has a table %s that migrate-store does not know; use the cazbling that made the target", table)
			}
		}
		// Lifecycles are copied as they are: the trigger that opens one for a created
		// order link must not add rows the source does not have.
		if _, err := tx.Exec(ctx, `ALTER TABLE order_links DISABLE TRIGGER USER`); err != nil {
			return err
		}
		for _, table := range copyTables {
			n, err := copyTable(ctx, stx, tx, table, cols[table])
			if err != nil {
				return fmt.Errorf("copy %s: %w", table, err)
			}
			rep.Tables = append(rep.Tables, TableCount{Table: table, Source: n})
		}
		if _, err := tx.Exec(ctx, `ALTER TABLE order_links ENABLE TRIGGER USER`); err != nil {
			return err
		}
		// The ids go on after the copied ones.
		for _, table := range []string{"runs", "log_rows"} {
			if _, err := tx.Exec(ctx, `SELECT setval(pg_get_serial_sequence($1, 'id'), coalesce(max(id), 0) + 1, false) FROM `+table, table); err != nil {
				return fmt.Errorf("%s ids: %w", table, err)
			}
		}
		return nil
	})
	if err != nil {
		return rep, err
	}
	return rep, verifyCopy(ctx, conn, to, key, &rep)
}

type column struct{ name, dataType string }

// targetColumns lists the columns of each table of the target's schema, in order.
func targetColumns(ctx context.Context, tx pgx.Tx) (map[string][]column, error) {
	rows, err := tx.Query(ctx, `SELECT table_name, column_name, data_type FROM information_schema.columns
		WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols := map[string][]column{}
	for rows.Next() {
		var table string
		var c column
		if err := rows.Scan(&table, &c.name, &c.dataType); err != nil {
			return nil, err
		}
		cols[table] = append(cols[table], c)
	}
	return cols, rows.Err()
}

// copyTable copies every row of table from the SQLite snapshot into the target with
// COPY, converting SQLite's integers to booleans where the target's column is one.
func copyTable(ctx context.Context, stx *sql.Tx, tx pgx.Tx, table string, cols []column) (int64, error) {
	if len(cols) == 0 {
		return 0, fmt.Errorf("the target has no table %s", table)
	}
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = c.name
	}
	rows, err := stx.QueryContext(ctx, `SELECT `+strings.Join(names, ", ")+` FROM `+table)
	if err != nil {
		return 0, fmt.Errorf("read the source: %w", err)
	}
	defer rows.Close()
	var batch [][]any
	var total int64
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		_, err := tx.CopyFrom(ctx, pgx.Identifier{table}, names, pgx.CopyFromRows(batch))
		batch = batch[:0]
		return err
	}
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return 0, err
		}
		for i, c := range cols {
			v, err := convert(vals[i], c.dataType)
			if err != nil {
				return 0, fmt.Errorf("row %d, column %s: %w", total+1, c.name, err)
			}
			vals[i] = v
		}
		batch = append(batch, vals)
		total++
		if len(batch) == 5000 {
			if err := flush(); err != nil {
				return 0, err
			}
		}
	}
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("read the source: %w", err)
	}
	return total, flush()
}

// convert turns a value as go-sqlite3 reads it into what the target column takes.
func convert(v any, dataType string) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch dataType {
	case "boolean":
		if n, ok := v.(int64); ok {
			return n != 0, nil
		}
	case "bigint", "integer":
		if n, ok := v.(int64); ok {
			return n, nil
		}
	case "text":
		switch x := v.(type) {
		case string:
			return x, nil
		case []byte:
			return string(x), nil
		}
	case "bytea":
		switch x := v.(type) {
		case []byte:
			return x, nil
		case string:
			return []byte(x), nil
		}
	}
	return nil, fmt.Errorf("a %T cannot go into a %s column", v, dataType)
}

// verifyCopy counts the target's rows and decrypts every tenant's secrets from it.
func verifyCopy(ctx context.Context, conn *pgx.Conn, to string, key []byte, rep *CopyReport) error {
	var bad []string
	for i, tc := range rep.Tables {
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM `+pgx.Identifier{tc.Table}.Sanitize()).Scan(&rep.Tables[i].Target); err != nil {
			return fmt.Errorf("verify: count %s: %w", tc.Table, err)
		}
		if rep.Tables[i].Target != tc.Source {
			bad = append(bad, fmt.Sprintf("%s: %d rows in the source, %d in the target", tc.Table, tc.Source, rep.Tables[i].Target))
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("verify: the counts differ (%s); empty the target and run migrate-store again", strings.Join(bad, "; "))
	}
	s, err := Open(ctx, Options{DB: to, Key: key, Now: time.Now})
	if err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	defer s.Close()
	tenants, err := s.Tenants(ctx)
	if err != nil {
		return fmt.Errorf("verify: the tenants' secrets: %w", err)
	}
	for _, t := range tenants {
		if _, err := s.Token(ctx, t.ID); err != nil {
			return fmt.Errorf("verify: %w", err)
		}
	}
	rep.Tenants = len(tenants)
	return nil
}
