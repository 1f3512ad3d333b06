package postgres_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cazbling/cazbling/pkg/store"
	"github.com/cazbling/cazbling/pkg/store/postgres"
	"github.com/cazbling/cazbling/pkg/store/storetest"
)

// TestConformance runs the suite every store backend passes (pkg/store/storetest) on
// PostgreSQL, each test in a schema of its own.
func TestConformance(t *testing.T) {
	storetest.PostgresURL(t)
	storetest.Run(t, storetest.Backend{New: func(t *testing.T) storetest.Location {
		return location{dsn: storetest.NewPostgresSchema(t)}
	}})
}

// location is a store's schema on the test server.
type location struct{ dsn string }

func (l location) Open(ctx context.Context, key []byte, now func() time.Time) (store.Store, error) {
	return postgres.Open(ctx, postgres.Options{DSN: l.dsn, Key: key, Now: now})
}

// Name is the database's name, which every error about the store names.
func (l location) Name() string {
	cfg, err := pgx.ParseConfig(l.dsn)
	if err != nil {
		return l.dsn
	}
	return "/" + cfg.Database
}

func (l location) conn(t *testing.T) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), l.dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func (l location) Exec(t *testing.T, query string) {
	t.Helper()
	if _, err := l.conn(t).Exec(context.Background(), query); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

func (l location) Count(t *testing.T, query string) int {
	t.Helper()
	var n int
	if err := l.conn(t).QueryRow(context.Background(), query).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// Contents is every row of every table of the schema, as text (bytea as hex).
func (l location) Contents(t *testing.T) []byte {
	t.Helper()
	ctx := context.Background()
	conn := l.conn(t)
	rows, err := conn.Query(ctx, `SELECT table_name FROM information_schema.tables
		WHERE table_schema = current_schema() ORDER BY table_name`)
	if err != nil {
		t.Fatal(err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	var all strings.Builder
	for _, name := range tables {
		var text string
		if err := conn.QueryRow(ctx, `SELECT coalesce(string_agg(x::text, E'\n'), '') FROM `+pgx.Identifier{name}.Sanitize()+` x`).Scan(&text); err != nil {
			t.Fatal(err)
		}
		all.WriteString(text + "\n")
	}
	return []byte(all.String())
}
