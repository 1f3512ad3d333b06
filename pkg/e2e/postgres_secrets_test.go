package e2e

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cazbling/cazbling/pkg/sandbox"
)

// TestE2EPostgresSecretsNeverInClear is TestE2ESecretsNeverInClear's scan on a
// PostgreSQL store: every secret that crossed the wire (the client secret, the CaZco
// key, the authorization code, every access and refresh token Bling issued, a token
// refresh on the way) is looked for in every row of every table of the store, and in
// every output of the runs. The file checks (WAL, modes, the key file) are SQLite's
// and stay in the other test.
func TestE2EPostgresSecretsNeverInClear(t *testing.T) {
	rec := &secretRecorder{secrets: map[string]bool{}}
	e := newRelEnv(t, relConfig{
		wrap:    rec.wrap,
		sandbox: func(o *sandbox.Options) { o.TokenTTL = 5*time.Minute + time.Second }, // refreshed (rotated) after 1 s
	})
	dsn := pgEnv(t, e)
	tn := e.addTenant("loja-segredos-pg")
	e.seedCatalogue(tn, 30, func(i int) int64 { return int64(i % 4) })
	for i := range 3 {
		relAddOrder(t, e, tn, relOrder(400+i, 30, "processing"))
	}
	rec.add(tn.ClientSecret)
	rec.add(tn.CazcoKey)

	var outputs []result
	for _, args := range [][]string{
		append(e.activateArgs(tn), "--log-level", "debug", "--log-format", "json"),
		{"sync-products", "--full", "--log-level", "debug"},
		{"sync-stock", "--log-level", "debug", "--log-format", "json"},
		{"sync-orders", "--log-level", "debug"},
		{"tenants", "show", tn.ID, "-o", "json"},
		{"logs", "--limit", "0", "-o", "json"},
	} {
		if args[0] == "sync-products" {
			time.Sleep(1100 * time.Millisecond) // the token is due for a refresh
		}
		outputs = append(outputs, e.mustRun(0, args...))
	}
	secrets := rec.list()
	if tokens := len(secrets) - 2; tokens < 4 {
		t.Fatalf("only %d tokens and codes recorded (want the code and two pairs of tokens); the check is weaker than it says", tokens)
	}

	// Every row of every table of the scenario's schema, as text.
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT table_name FROM information_schema.tables
		WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(tables, "tenants") {
		t.Fatalf("no tenants table among %v: the scan reads the wrong schema", tables)
	}
	var dump strings.Builder
	rowCount := 0
	for _, table := range tables {
		rows, err := conn.Query(ctx, fmt.Sprintf(`SELECT t::text FROM %s t`, pgx.Identifier{table}.Sanitize()))
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var row string
			if err := rows.Scan(&row); err != nil {
				t.Fatal(err)
			}
			dump.WriteString(row + "\n")
			rowCount++
			if l := leaks(row, secrets); len(l) > 0 {
				t.Errorf("table %s holds %d secrets in clear", table, len(l))
			}
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
	}
	// The scan reads what the store holds: the client id, not a secret, is there.
	if !strings.Contains(dump.String(), tn.ClientID) {
		t.Errorf("the store's rows do not show the client id; the scan proves nothing")
	}
	for i, r := range outputs {
		if l := leaks(r.stdout+r.stderr, secrets); len(l) > 0 {
			t.Errorf("run %d shows %d secrets in clear", i+1, len(l))
		}
	}
	t.Logf("Bling token calls: %d; secrets watched: %d; tables scanned: %d (%d rows); outputs scanned: %d; leaks: 0 expected",
		e.sb.Counters().Bling.TokenCalls, len(secrets), len(tables), rowCount, len(outputs))
}
