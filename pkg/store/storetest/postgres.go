package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

// PostgresEnv names the variable that gives tests a PostgreSQL server to work on: a
// URL of a database the tests may create schemas in (scripts/pg-test.sh starts a
// throwaway server and prints it).
const PostgresEnv = "CAZBLING_TEST_POSTGRES"

// PostgresURL returns the test server's URL. Without one the test is skipped, except
// under CI (CI set), where a missing server is a failure: CI must run these tests.
func PostgresURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv(PostgresEnv)
	if u == "" {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is not set (CI is set, so this is a failure): start a server with scripts/pg-test.sh, as .ci/run does", PostgresEnv)
		}
		t.Skipf("%s is not set: run eval \"$(scripts/pg-test.sh start)\" (or make test-pg) to test on PostgreSQL", PostgresEnv)
	}
	return u
}

// NewPostgresSchema creates an empty schema of its own for the test on the server of
// PostgresURL, dropped at the end of the test, and returns the URL that puts a store
// in it (search_path).
func NewPostgresSchema(t testing.TB) string {
	t.Helper()
	base := PostgresURL(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("connect to the test server (%s): %v", PostgresEnv, err)
	}
	defer conn.Close(ctx)
	b := make([]byte, 6)
	rand.Read(b)
	schema := "t_" + hex.EncodeToString(b)
	if _, err := conn.Exec(ctx, `CREATE SCHEMA `+schema); err != nil {
		t.Fatalf("create schema %s: %v", schema, err)
	}
	t.Cleanup(func() {
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, `DROP SCHEMA `+schema+` CASCADE`); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	return WithParam(t, base, "search_path", schema)
}

// WithParam returns the PostgreSQL URL u with one more query parameter.
func WithParam(t testing.TB, u, name, value string) string {
	t.Helper()
	if !strings.Contains(u, "://") {
		return u + " " + name + "=" + value // key=value form
	}
	parsed, err := url.Parse(u)
	if err != nil {
		t.Fatalf("%s is not a URL: %v", PostgresEnv, err)
	}
	q := parsed.Query()
	q.Set(name, value)
	parsed.RawQuery = q.Encode()
	return parsed.String()
}
