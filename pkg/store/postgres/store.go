// Package postgres is the PostgreSQL implementation of the store (cazbling.Store and
// the panel's records), for installations where several hosts run the same crontab
// against one shared store. It behaves as pkg/store/sqlite does (pkg/store/storetest
// runs the same suite on both): the same tables, times as BIGINT nanoseconds written
// by the store's clock, secrets sealed by pkg/store/secrets, numbered migrations
// embedded in the binary and applied at Open.
//
// It talks to the server through pgx's own interface and a pgxpool.Pool rather than
// database/sql: transactions are pgx.Tx with the server's error codes (*pgconn.PgError)
// at hand, text arrays go as one parameter (= ANY($2)) instead of chunked IN lists, and
// nothing is shared with the SQLite code anyway, whose SQL dialect differs.
//
// Where SQLite takes a write transaction IMMEDIATE, this store locks what it reads
// for writing: UpdateToken reads the tenant's row FOR UPDATE, so two hosts refreshing
// one tenant's token run one after the other and the second sees the first's pair;
// AcquireLease is one INSERT ... ON CONFLICT DO UPDATE ... WHERE, which PostgreSQL
// evaluates on the latest committed row under its lock, so of any number of hosts
// racing for an expired lease exactly one wins.
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cazbling/cazbling/pkg/cazbling"
	"github.com/cazbling/cazbling/pkg/store/schema"
	"github.com/cazbling/cazbling/pkg/store/secrets"
)

var _ cazbling.Store = (*Store)(nil)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// errForeignDatabase marks a schema that another program made.
var errForeignDatabase = errors.New("not a cazbling schema")

// ErrPanelToken is returned for an invite, session or state that is unknown, used,
// expired or another session's. It wraps cazbling.ErrNotFound.
var ErrPanelToken = fmt.Errorf("unknown, used or expired token: %w", cazbling.ErrNotFound)

// Options configure Open.
type Options struct {
	// DSN is a PostgreSQL URL (postgres://user@host:port/db?...) or key=value string.
	// A search_path parameter in it chooses the schema the store lives in.
	DSN string
	// Key is the 32-byte AES-256 key for secrets at rest (CAZBLING_KEY: a network
	// database has no key file beside it).
	Key []byte
	// Now is the clock for every timestamp the store writes; nil means time.Now.
	Now func() time.Time
	// ServerClockLeases times leases by the server's clock instead of Now, so that
	// hosts whose clocks differ still agree on when a lease lapses (pkg/store.Open
	// sets it; tests that move Now leave it off).
	ServerClockLeases bool
	// MaxConns bounds the pool's connections; 0 means the DSN's pool_max_conns, or
	// DefaultMaxConns.
	MaxConns int32
}

// DefaultMaxConns is the pool's size when neither Options.MaxConns nor the DSN's
// pool_max_conns sets it: enough for a run working many tenants (each holds a
// connection only for a statement or a short transaction), few enough that several
// processes on several hosts stay under the server's max_connections (100 by default).
const DefaultMaxConns = 10

// Store is the store on one PostgreSQL database (and schema). It is safe for
// concurrent use, and any number of Stores on any hosts may share the database.
type Store struct {
	pool *pgxpool.Pool
	name string // the database as errors name it: never the password
	box  *secrets.Box
	now  func() time.Time
	// tokenSlots bounds the UpdateToken transactions open at once to half the pool.
	tokenSlots chan struct{}
	// serverClockLeases: see Options.ServerClockLeases.
	serverClockLeases bool
}

// Open connects to opts.DSN, applies pending migrations (one host at a time: the
// others wait on an advisory lock) and checks that opts.Key is the key the store's
// secrets were written with.
func Open(ctx context.Context, opts Options) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(opts.DSN)
	if err != nil {
		// pgx's parse errors never quote the password; the DSN itself is not repeated.
		return nil, fmt.Errorf("open store: the PostgreSQL address is not valid: %w", err)
	}
	name := describe(cfg.ConnConfig)
	box, err := secrets.NewBox(opts.Key)
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", name, err)
	}
	switch {
	case opts.MaxConns > 0:
		cfg.MaxConns = opts.MaxConns
	case !strings.Contains(opts.DSN, "pool_max_conns"):
		cfg.MaxConns = DefaultMaxConns
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", name, err)
	}
	s := &Store{pool: pool, name: name, box: box, now: opts.Now,
		tokenSlots: make(chan struct{}, max(1, cfg.MaxConns/2)), serverClockLeases: opts.ServerClockLeases}
	if s.now == nil {
		s.now = time.Now
	}
	if err := s.setUp(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return s, nil
}

// Describe names the database of dsn as the store's messages do: user, host, port,
// database and schema, never the password.
func Describe(dsn string) (string, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return "", fmt.Errorf("the PostgreSQL address is not valid: %w", err)
	}
	return describe(cfg), nil
}

// describe names the database for messages: user, host, port, database and schema,
// and never the password.
func describe(c *pgx.ConnConfig) string {
	var b strings.Builder
	b.WriteString("postgres://")
	if c.User != "" {
		b.WriteString(c.User + "@")
	}
	if strings.HasPrefix(c.Host, "/") {
		b.WriteString("[" + c.Host + "]")
	} else {
		b.WriteString(c.Host)
	}
	if c.Port != 0 && c.Port != 5432 {
		b.WriteString(":" + strconv.Itoa(int(c.Port)))
	}
	b.WriteString("/" + c.Database)
	if sp := c.RuntimeParams["search_path"]; sp != "" {
		b.WriteString(" (schema " + sp + ")")
	}
	return b.String()
}

func (s *Store) setUp(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("open store %s: %w; check that the server runs and the address, user and password are right", s.name, err)
	}
	if err := s.migrate(ctx); err != nil {
		if errors.Is(err, errForeignDatabase) {
			return fmt.Errorf("store %s is not a cazbling database: %w; point --db at an empty database or schema", s.name, err)
		}
		return fmt.Errorf("open store %s: %w", s.name, err)
	}
	return s.checkKey(ctx)
}

// Name describes the database, as the store's errors name it.
func (s *Store) Name() string { return s.name }

// Close closes the pool.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// fail wraps err with op, naming the database when the trouble is the server or the
// connection rather than the data.
func (s *Store) fail(op string, err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case strings.HasPrefix(pe.Code, "08"), strings.HasPrefix(pe.Code, "53"), strings.HasPrefix(pe.Code, "57"), strings.HasPrefix(pe.Code, "58"):
			// connection, resources (disk full, too many connections), operator
			// intervention (shutdown), system errors
			return fmt.Errorf("%s: store %s: %w", op, s.name, err)
		}
		return fmt.Errorf("%s: %w", op, err)
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, cazbling.ErrNotFound) {
		return fmt.Errorf("%s: %w", op, err)
	}
	if pgconn.SafeToRetry(err) || pgconn.Timeout(err) || isConnErr(err) {
		return fmt.Errorf("%s: store %s: %w", op, s.name, err)
	}
	return fmt.Errorf("%s: %w", op, err)
}

func isConnErr(err error) bool {
	var ce *pgconn.ConnectError
	return errors.As(err, &ce)
}

// retryable reports whether a transaction failed only because of another's: a
// deadlock or a serialization failure, which running it again resolves.
func retryable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40P01" || pe.Code == "40001")
}

// inTx runs fn in a transaction and commits if fn returns nil. A transaction that
// lost a deadlock is run again, a few times: fn must do nothing but SQL in tx.
func (s *Store) inTx(ctx context.Context, op string, fn func(tx pgx.Tx) error) error {
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		err = pgx.BeginFunc(ctx, s.pool, fn)
		if !retryable(err) {
			break
		}
	}
	if err != nil {
		return s.fail(op, err)
	}
	return nil
}

// ---------------------------------------------------------------- migrations

// migrations returns the embedded migrations in order; file names start with their
// version number, which must run 1, 2, 3... without gaps.
func migrations() ([]schema.Migration, error) { return schema.Migrations(migrationFiles) }

// SchemaVersion returns the number of the last migration this binary knows.
func SchemaVersion() int { return schema.Version(migrationFiles) }

// lockMigrations is the advisory lock (per schema) that hosts opening the store at
// once queue on, so that one applies a migration and the others find it applied.
const lockMigrations = `SELECT pg_advisory_xact_lock(hashtext('cazbling schema ' || current_schema()))`

// migrate applies the migrations the schema lacks, each in its own transaction under
// the advisory lock; schema_version records what was applied. An up-to-date schema is
// only read.
func (s *Store) migrate(ctx context.Context) error {
	ms, err := migrations()
	if err != nil {
		return err
	}
	version, err := s.schemaVersion(ctx, s.pool)
	if err != nil {
		return err
	}
	if version > len(ms) {
		return fmt.Errorf("schema version %d is newer than this cazbling knows (%d); upgrade cazbling", version, len(ms))
	}
	for _, m := range ms[version:] {
		err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, lockMigrations); err != nil {
				return err
			}
			current, err := s.schemaVersion(ctx, tx)
			if err != nil || current >= m.Version {
				return err // another host applied it while we waited
			}
			if current == 0 {
				// A schema of some other program must not be written into.
				var tables int
				if err := tx.QueryRow(ctx, `SELECT count(*) FROM information_schema.tables
					WHERE table_schema = current_schema()`).Scan(&tables); err != nil {
					return err
				}
				if tables > 0 {
					return fmt.Errorf("%w: schema holds %d tables of another program", errForeignDatabase, tables)
				}
				if _, err := tx.Exec(ctx, `CREATE TABLE schema_version (
					version    INTEGER PRIMARY KEY,
					name       TEXT NOT NULL,
					applied_at BIGINT NOT NULL)`); err != nil {
					return err
				}
			}
			if _, err := tx.Exec(ctx, m.SQL); err != nil {
				return fmt.Errorf("apply migration %s: %w", m.Name, err)
			}
			_, err = tx.Exec(ctx, `INSERT INTO schema_version (version, name, applied_at) VALUES ($1, $2, $3)`,
				m.Version, m.Name, toNanos(s.now()))
			return err
		})
		if err != nil {
			return err
		}
	}
	return nil
}

type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// schemaVersion is the last migration applied to the schema, 0 for a schema without
// cazbling's tables.
func (s *Store) schemaVersion(ctx context.Context, q querier) (int, error) {
	// A scan of the catalog with the statement's snapshot, not to_regclass: that
	// resolves names through caches that may not yet know of a table another host
	// just created under the migrations' lock.
	var exists bool
	if err := q.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_tables
		WHERE schemaname = current_schema() AND tablename = 'schema_version')`).Scan(&exists); err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	if !exists {
		return 0, nil
	}
	var v int
	if err := q.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_version`).Scan(&v); err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	return v, nil
}

// ---------------------------------------------------------------- secrets key

// checkKey verifies the key against the store's key-check value, writing that value
// on first use. A store whose check fails but that holds no secrets yet (nothing to
// lose) is re-keyed instead of refused. It runs under the migrations' lock, so that
// two hosts opening a new store with different keys do not both win.
func (s *Store) checkKey(ctx context.Context) error {
	var sealed []byte
	err := s.pool.QueryRow(ctx, `SELECT value FROM meta WHERE name = $1`, secrets.KeyCheckName).Scan(&sealed)
	if err == nil {
		if schema.KeyCheckOpens(s.box, sealed) {
			return nil
		}
	} else if !errors.Is(err, pgx.ErrNoRows) {
		return s.fail(fmt.Sprintf("open store %s: read key check", s.name), err)
	}
	wrongKey := false
	err = s.inTx(ctx, fmt.Sprintf("open store %s: write key check", s.name), func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, lockMigrations); err != nil {
			return err
		}
		var current []byte
		err := tx.QueryRow(ctx, `SELECT value FROM meta WHERE name = $1`, secrets.KeyCheckName).Scan(&current)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
		case err != nil:
			return err
		default:
			if schema.KeyCheckOpens(s.box, current) {
				return nil // another host wrote it with the same key meanwhile
			}
			var holders int
			err := tx.QueryRow(ctx, schema.CountSecretHolders).Scan(&holders)
			if err != nil {
				return err
			}
			if holders > 0 {
				wrongKey = true
				return cazbling.ErrWrongKey // rolls back
			}
		}
		_, err = tx.Exec(ctx, `INSERT INTO meta (name, value) VALUES ($1, $2)
			ON CONFLICT (name) DO UPDATE SET value = excluded.value`,
			secrets.KeyCheckName, s.box.Seal("meta", secrets.KeyCheckName, secrets.KeyCheckValue))
		return err
	})
	if wrongKey {
		return fmt.Errorf("the secrets key does not match store %s (did CAZBLING_KEY change?): %w; set CAZBLING_KEY to the key the store was created with, on every host",
			s.name, cazbling.ErrWrongKey)
	}
	return err
}

// wrongKeyErr is the error for a tenant whose secrets do not open.
func (s *Store) wrongKeyErr(tenantID string) error {
	return fmt.Errorf("tenant %q: %w (did CAZBLING_KEY change, or does this host have another?); set the key used when the tenant was activated, or run activate again",
		tenantID, cazbling.ErrWrongKey)
}

// ---------------------------------------------------------------- time

// toNanos stores a time as unix nanoseconds; the zero time is 0.
func toNanos(t time.Time) int64 { return schema.Nanos(t) }

// fromNanos is the inverse of toNanos, in UTC.
func fromNanos(n int64) time.Time { return schema.Time(n) }
