// Package sqlite is the SQLite implementation of cazbling.Store: one file, opened in
// WAL mode with foreign keys on and a busy timeout, every write transaction taken
// IMMEDIATE, the schema kept by numbered migrations embedded in the binary, and the
// tenants' secrets encrypted at rest with AES-256-GCM.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/mattn/go-sqlite3"

	"github.com/cazbling/cazbling/pkg/cazbling"
	"github.com/cazbling/cazbling/pkg/store/schema"
	"github.com/cazbling/cazbling/pkg/store/secrets"
)

var _ cazbling.Store = (*Store)(nil)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// errForeignDatabase marks a SQLite file that another program made.
var errForeignDatabase = errors.New("not a cazbling schema")

// DefaultBusyTimeout is how long a statement waits for another connection's lock.
const DefaultBusyTimeout = 10 * time.Second

// KeySize is the length in bytes of the secrets key.
const KeySize = secrets.KeySize

// Options configure Open.
type Options struct {
	// Path is the database file; it and its folder are created on first use.
	Path string
	// Key is the 32-byte AES-256 key for secrets at rest (see secrets.LoadKey).
	Key []byte
	// Now is the clock for every timestamp the store writes; nil means time.Now.
	Now func() time.Time
	// BusyTimeout bounds the wait for a lock held by another connection or process;
	// 0 means DefaultBusyTimeout.
	BusyTimeout time.Duration
	// ReadOnly opens an existing store for reading only (a copy on read-only media,
	// a file the user may not write): nothing is created, migrated or written, and a
	// store whose schema is older than this cazbling is refused.
	ReadOnly bool
}

// Store is a cazbling.Store backed by one SQLite file. It is safe for concurrent use,
// and several Stores (in one process or many) may share a file.
type Store struct {
	db       *sql.DB
	path     string
	box      *secrets.Box
	now      func() time.Time
	readOnly bool
}

// Open opens the store at opts.Path, creating the file (mode 0600) and its folder
// (mode 0700) if needed, applies pending migrations and checks that opts.Key is the
// key the store's secrets were written with.
func Open(ctx context.Context, opts Options) (*Store, error) {
	if opts.Path == "" {
		return nil, errors.New("open store: no path given")
	}
	path, err := filepath.Abs(opts.Path)
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", opts.Path, err)
	}
	box, err := secrets.NewBox(opts.Key)
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	if opts.ReadOnly {
		if _, err := os.Stat(path); err != nil {
			return nil, fmt.Errorf("open store %s for reading: %w", path, err)
		}
	} else if err := createFile(path); err != nil {
		return nil, err
	}
	busy := opts.BusyTimeout
	if busy <= 0 {
		busy = DefaultBusyTimeout
	}
	// On read-only media SQLite cannot make the WAL's shared-memory file; the file
	// is then read as it is (immutable: nothing can be writing it there either).
	modes := []string{""}
	if opts.ReadOnly {
		modes = []string{"ro", "ro-immutable"}
	}
	var openErr error
	for _, mode := range modes {
		db, err := sql.Open("sqlite3", dsn(path, busy, mode))
		if err != nil {
			return nil, fmt.Errorf("open store %s: %w", path, err)
		}
		s := &Store{db: db, path: path, box: box, now: opts.Now, readOnly: opts.ReadOnly}
		if s.now == nil {
			s.now = time.Now
		}
		if openErr = s.setUp(ctx); openErr == nil {
			return s, nil
		}
		db.Close()
		if !NotWritable(openErr) {
			break // only a file SQLite cannot open for want of write access is read immutable
		}
	}
	return nil, openErr
}

// setUp checks the file is a database, migrates it (or, read-only, checks that it
// needs no migration) and checks the key.
func (s *Store) setUp(ctx context.Context) error {
	if err := s.db.PingContext(ctx); err != nil {
		return s.openErr(err)
	}
	if s.readOnly {
		if err := s.checkSchema(ctx); err != nil {
			return s.openErr(err)
		}
	} else if err := s.migrate(ctx); err != nil {
		return s.openErr(err)
	}
	if err := s.checkKey(ctx); err != nil {
		if errors.Is(err, cazbling.ErrWrongKey) {
			return err
		}
		return s.openErr(err)
	}
	return nil
}

// createFile makes the folder and an empty database file with owner-only bits,
// and tightens the bits of an existing file.
func createFile(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("create store folder for %s: %w", path, err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("open store %s: %w", path, err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return fmt.Errorf("open store %s: %w", path, err)
	}
	if info.Mode().Perm()&0o077 != 0 {
		if err := f.Chmod(0o600); err != nil {
			return fmt.Errorf("restrict store %s to mode 0600: %w", path, err)
		}
	}
	return nil
}

// dsn builds a file: URI, so any character in the path is safe, with the driver's
// per-connection settings. WAL mode is persistent in the file; migrate sets it once
// the file is known to be ours, so that a foreign file is never converted.
//
// mode "ro" opens the file read-only; "ro-immutable" also tells SQLite that nothing
// changes the file, so that it needs no lock or shared-memory file beside it.
func dsn(path string, busy time.Duration, mode string) string {
	q := url.Values{}
	q.Set("_foreign_keys", "on")
	q.Set("_busy_timeout", strconv.FormatInt(busy.Milliseconds(), 10))
	q.Set("_txlock", "immediate")
	switch mode {
	case "ro":
		q.Set("mode", "ro")
	case "ro-immutable":
		q.Set("mode", "ro")
		q.Set("immutable", "1")
	}
	u := url.URL{Path: filepath.ToSlash(path)}
	return "file:" + u.EscapedPath() + "?" + q.Encode()
}

// NotWritable reports whether an error from Open means that the store's file or folder
// cannot be written (read-only media, permissions), so that opening it with
// Options.ReadOnly may still work.
func NotWritable(err error) bool {
	var se sqlite3.Error
	return errors.Is(err, fs.ErrPermission) || errors.Is(err, syscall.EROFS) ||
		errors.As(err, &se) && (se.Code == sqlite3.ErrReadonly || se.Code == sqlite3.ErrPerm || se.Code == sqlite3.ErrCantOpen)
}

// openErr turns a failure at open into a message a user can act on.
func (s *Store) openErr(err error) error {
	var se sqlite3.Error
	if errors.Is(err, errForeignDatabase) || errors.As(err, &se) && (se.Code == sqlite3.ErrNotADB || se.Code == sqlite3.ErrCorrupt) {
		return fmt.Errorf("store %s is not a cazbling database or is corrupted: %w; restore it from a backup or point --db elsewhere", s.path, err)
	}
	return fmt.Errorf("open store %s: %w", s.path, err)
}

// Path returns the absolute path of the database file.
func (s *Store) Path() string { return s.path }

// Close closes the database.
func (s *Store) Close() error {
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("close store %s: %w", s.path, err)
	}
	return nil
}

// fail wraps err with op, naming the file when the trouble is the disk (full,
// read-only, I/O error) rather than the data.
func (s *Store) fail(op string, err error) error {
	var se sqlite3.Error
	if errors.As(err, &se) {
		switch se.Code {
		case sqlite3.ErrFull, sqlite3.ErrReadonly, sqlite3.ErrIoErr, sqlite3.ErrCantOpen, sqlite3.ErrPerm:
			return fmt.Errorf("%s: store %s: %w", op, s.path, err)
		case sqlite3.ErrNotADB, sqlite3.ErrCorrupt:
			return fmt.Errorf("%s: store %s is corrupted: %w; restore it from a backup or point --db elsewhere", op, s.path, err)
		}
	}
	return fmt.Errorf("%s: %w", op, err)
}

// inTx runs fn in a write transaction (IMMEDIATE, per the DSN) and commits if fn
// returns nil.
func (s *Store) inTx(ctx context.Context, op string, fn func(tx *sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return s.fail(op, err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return s.fail(op, err)
	}
	if err := tx.Commit(); err != nil {
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

// schemaVersion returns the file's schema version (PRAGMA user_version) and the
// migrations this cazbling knows, refusing a file newer than those.
func (s *Store) schemaVersion(ctx context.Context) (int, []schema.Migration, error) {
	ms, err := migrations()
	if err != nil {
		return 0, nil, err
	}
	version, err := userVersion(ctx, s.db)
	if err != nil {
		return 0, nil, err
	}
	if version > len(ms) {
		return 0, nil, fmt.Errorf("schema version %d is newer than this cazbling knows (%d); upgrade cazbling", version, len(ms))
	}
	return version, ms, nil
}

// checkSchema refuses, for a read-only open, a file that is not a cazbling store or
// whose schema is not the one this cazbling knows.
func (s *Store) checkSchema(ctx context.Context) error {
	version, ms, err := s.schemaVersion(ctx)
	switch {
	case err != nil:
		return err
	case version == 0:
		return fmt.Errorf("%w: it has no cazbling schema", errForeignDatabase)
	case version < len(ms):
		return fmt.Errorf("schema version %d is older than this cazbling's (%d) and the store cannot be written to upgrade it; run cazbling once where the store is writable", version, len(ms))
	}
	return nil
}

// migrate applies the migrations the file lacks, each in its own transaction.
// PRAGMA user_version records the schema version; an up-to-date file is only read.
func (s *Store) migrate(ctx context.Context) error {
	version, ms, err := s.schemaVersion(ctx)
	if err != nil {
		return err
	}
	if version == 0 {
		// A database of some other program must not be written into.
		var tables int
		if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'`).Scan(&tables); err != nil {
			return err
		}
		if tables > 0 {
			return fmt.Errorf("%w: it holds %d tables of another program", errForeignDatabase, tables)
		}
	}
	var mode string
	if err := s.db.QueryRowContext(ctx, "PRAGMA journal_mode = WAL").Scan(&mode); err != nil {
		return fmt.Errorf("set WAL mode: %w", err)
	}
	if !strings.EqualFold(mode, "wal") {
		return fmt.Errorf("set WAL mode: the file stays in %s mode", mode)
	}
	if version == len(ms) {
		return nil
	}
	for _, m := range ms[version:] {
		err := s.inTx(ctx, "apply migration "+m.Name, func(tx *sql.Tx) error {
			// Another process may have applied it since we looked.
			current, err := userVersion(ctx, tx)
			if err != nil || current >= m.Version {
				return err
			}
			if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
				return err
			}
			_, err = tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", m.Version))
			return err
		})
		if err != nil {
			return err
		}
	}
	return nil
}

type queryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func userVersion(ctx context.Context, q queryer) (int, error) {
	var v int
	if err := q.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	return v, nil
}

// ---------------------------------------------------------------- time

// toNanos stores a time as unix nanoseconds; the zero time is 0.
func toNanos(t time.Time) int64 { return schema.Nanos(t) }

// fromNanos is the inverse of toNanos, in UTC.
func fromNanos(n int64) time.Time { return schema.Time(n) }
