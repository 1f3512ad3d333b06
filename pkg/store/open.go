package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/cazbling/cazbling/pkg/store/postgres"
	"github.com/cazbling/cazbling/pkg/store/secrets"
	"github.com/cazbling/cazbling/pkg/store/sqlite"
)

// IsPostgres reports whether a --db value names a PostgreSQL database (a postgres://
// or postgresql:// URL) rather than a SQLite file.
func IsPostgres(db string) bool {
	lower := strings.ToLower(strings.TrimSpace(db))
	return strings.HasPrefix(lower, "postgres://") || strings.HasPrefix(lower, "postgresql://")
}

// LoadKey returns the secrets key of the store db. env is the value of CAZBLING_KEY:
// base64 of 32 bytes. A SQLite store without it uses (and on first use makes) the key
// file beside it; a PostgreSQL store has no place for one, so CAZBLING_KEY is needed,
// the same on every host.
func LoadKey(db, env string) ([]byte, error) {
	if !IsPostgres(db) {
		return secrets.LoadKey(db, env)
	}
	if strings.TrimSpace(env) == "" {
		return nil, errors.New("a PostgreSQL store needs CAZBLING_KEY (base64 of 32 random bytes, e.g. from `openssl rand -base64 32`), the same on every host that uses it; keep a copy with your backups: the store's secrets cannot be read without it")
	}
	key, err := secrets.DecodeKey(env)
	if err != nil {
		return nil, fmt.Errorf("CAZBLING_KEY must be base64 of %d random bytes: %w", secrets.KeySize, err)
	}
	return key, nil
}

// Options configure Open.
type Options struct {
	// DB is the --db value: a postgres:// or postgresql:// URL, or a SQLite file's path.
	DB string
	// Key is the secrets key (LoadKey).
	Key []byte
	// Now is the clock of every timestamp the store writes; nil means time.Now.
	Now func() time.Time
	// ReadOnly opens a SQLite store for reading only (sqlite.Options.ReadOnly); a
	// PostgreSQL store ignores it (its server decides who may write).
	ReadOnly bool
}

// Open opens the store that opts.DB names, migrating it and checking the key.
func Open(ctx context.Context, opts Options) (Store, error) {
	if IsPostgres(opts.DB) {
		// Leases by the server's clock: the hosts sharing the store need not agree on
		// the time for one of them to know that another's lease lapsed.
		s, err := postgres.Open(ctx, postgres.Options{DSN: opts.DB, Key: opts.Key, Now: opts.Now, ServerClockLeases: true})
		if err != nil {
			return nil, err
		}
		return s, nil
	}
	s, err := sqlite.Open(ctx, sqlite.Options{Path: opts.DB, Key: opts.Key, Now: opts.Now, ReadOnly: opts.ReadOnly})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// NotWritable reports whether an error from Open means that the store cannot be
// written where it is (a SQLite file on read-only media, or another user's), so that
// opening it with Options.ReadOnly may still work.
func NotWritable(err error) bool {
	return sqlite.NotWritable(err)
}

// LimitsDir is the folder of the Bling rate-limit windows that the processes working
// store db share on this host: beside a SQLite file (<db>.limits), or for a PostgreSQL
// store a folder of this user's state ($XDG_STATE_HOME/cazbling/limits/<hash of the
// database's address>, without its password). Processes on other hosts do not share
// it: the per-IP and token windows are each host's own, as Bling counts them; the
// per-account pace of a PostgreSQL store is also kept in the store (SharedPaces), for
// every host.
func LimitsDir(db string, getenv func(string) string) string {
	if !IsPostgres(db) {
		return db + ".limits"
	}
	if getenv == nil {
		getenv = os.Getenv
	}
	id := db
	if name, err := postgres.Describe(db); err == nil {
		id = name
	}
	sum := sha256.Sum256([]byte(id))
	state := getenv("XDG_STATE_HOME")
	if state == "" {
		home := getenv("HOME")
		if home == "" {
			home, _ = os.UserHomeDir()
		}
		state = filepath.Join(home, ".local", "state")
	}
	return filepath.Join(state, "cazbling", "limits", hex.EncodeToString(sum[:8]))
}
