package cmd

import (
	"bytes"
	"context"
	"encoding/base64"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/cazbling/cazbling/pkg/cazbling"
	"github.com/cazbling/cazbling/pkg/store"
	"github.com/cazbling/cazbling/pkg/store/sqlite"
)

var update = flag.Bool("update", false, "rewrite golden files")

// fixedNow is the clock of every test here: golden files depend on it.
var fixedNow = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)

// testKey is the secrets key of the test stores.
var testKey = bytes.Repeat([]byte{7}, sqlite.KeySize)

// Secrets of the fixture's first tenant: no output may ever show them.
const (
	secretClient  = "SECRET-client-4f1d9a"
	secretAPIKey  = "SECRET-cazco-key-77be20"
	secretAccess  = "SECRET-access-0c3e51"
	secretRefresh = "SECRET-refresh-9d8a66"
)

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// openStore opens a new store in a temporary folder with the fixed clock.
func openStore(t *testing.T) (*sqlite.Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "cazbling.db")
	s, err := sqlite.Open(context.Background(), sqlite.Options{Path: path, Key: testKey, Now: func() time.Time { return fixedNow }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, path
}

// fixture is what seed put in the store.
type fixture struct {
	runs map[string]int64 // by name
}

// longMessage is longer than any table cell; JSON and CSV must carry it whole.
const longMessage = "SKU CANECA-BRANCA is used by two Bling products (16010 and 16011); product 16011 was not sent. Give each product its own SKU (código) in Bling"

// seed fills s with tenants, runs, log rows, links and cursors at fixed times.
func seed(t *testing.T, s *sqlite.Store) fixture {
	t.Helper()
	ctx := context.Background()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(s.UpsertTenant(ctx, cazbling.Tenant{
		ID: "loja-da-ana", Status: cazbling.TenantActive,
		BlingURL: "https://api.bling.com.br/Api/v3", BlingClientID: "cid-ana-31", BlingClientSecret: secretClient,
		BlingDeposit: 14887, BlingStore: 203,
		CazcoURL: "https://s623.cazco.link/api/v1/seller", CazcoAPIKey: secretAPIKey,
		CreatedAt: at("2026-10-01T13:00:00Z"),
	}, &cazbling.Token{AccessToken: secretAccess, RefreshToken: secretRefresh, Expiry: at("2026-11-01T17:00:00Z")}))
	must(s.UpsertTenant(ctx, cazbling.Tenant{
		ID: "bazar-do-beto", Status: cazbling.TenantPaused, PausedUntil: at("2026-11-02T03:00:00Z"),
		StatusReason: "Bling's daily request quota is used up",
		BlingURL:     "https://api.bling.com.br/Api/v3", BlingClientID: "cid-beto", CazcoURL: "https://s9.cazco.link/api/v1/seller",
		ImportStatuses: []string{"processing", "shipped"}, CreatedAt: at("2026-10-05T10:00:00Z"),
	}, nil))
	must(s.UpsertTenant(ctx, cazbling.Tenant{
		ID: "casa-cris", Status: cazbling.TenantNeedsReauth, StatusReason: "Bling refused the refresh token (invalid_grant)",
		CreatedAt: at("2026-10-07T10:00:00Z"),
	}, nil))
	must(s.UpsertTenant(ctx, cazbling.Tenant{
		ID: "dani-modas-e-acessorios", Status: cazbling.TenantInactive, StatusReason: "deactivated by an operator",
		CreatedAt: at("2026-06-07T10:00:00Z"),
	}, nil))

	must(s.SetAPILimit(ctx, "loja-da-ana", "cazco", cazbling.RateLimit{N: 600, Window: time.Minute, SeenAt: at("2026-11-01T11:50:02Z")}))

	f := fixture{runs: map[string]int64{}}
	run := func(name, tenant, flow, start, end, status, msg string, c cazbling.Counts) int64 {
		t.Helper()
		id, err := s.StartRun(ctx, cazbling.Run{TenantID: tenant, Flow: flow, StartedAt: at(start), Host: "host-a:4242:9f3c1b2e"})
		must(err)
		if end != "" {
			must(s.FinishRun(ctx, cazbling.Run{ID: id, FinishedAt: at(end), Status: status, Message: msg, Counts: c}))
		}
		f.runs[name] = id
		return id
	}
	runP := run("ana-products", "loja-da-ana", "products", "2026-11-01T09:00:00Z", "2026-11-01T09:01:30Z", "error", "1 item failed",
		cazbling.Counts{Created: 1, Updated: 1, Unchanged: 120, Skipped: 1, Failed: 1})
	runS := run("ana-stock", "loja-da-ana", "stock", "2026-11-01T11:45:00Z", "2026-11-01T11:46:05Z", "warning", "",
		cazbling.Counts{Updated: 1, Unchanged: 5400, StockSet: 2, Warnings: 1})
	runO := run("ana-orders", "loja-da-ana", "orders", "2026-11-01T11:50:00Z", "2026-11-01T11:50:20.5Z", "error", "1 order failed, 1 left for the next run",
		cazbling.Counts{Created: 2, Failed: 1, Retry: 1})
	runBP := run("beto-products", "bazar-do-beto", "products", "2026-10-31T23:00:00Z", "2026-10-31T23:02:00Z", "ok", "",
		cazbling.Counts{Created: 1})
	runBO := run("beto-orders", "bazar-do-beto", "orders", "2026-10-31T23:10:00Z", "2026-10-31T23:10:01Z", "error",
		"tenant \"bazar-do-beto\": Bling's daily request quota is used up; paused until 2026-11-02T03:00:00Z", cazbling.Counts{})
	run("beto-stock", "bazar-do-beto", "stock", "2026-11-01T11:58:00Z", "", "", "", cazbling.Counts{})
	runCO := run("cris-orders", "casa-cris", "orders", "2026-10-25T08:00:00Z", "2026-10-25T08:00:03Z", "error",
		"tenant \"casa-cris\": Bling refused the refresh token (invalid_grant)", cazbling.Counts{})
	runDP := run("dani-products", "dani-modas-e-acessorios", "products", "2026-07-01T10:00:00Z", "2026-07-01T10:05:00Z", "ok", "",
		cazbling.Counts{Created: 2, Unchanged: 1, Failed: 0})

	row := func(run int64, tenant, flow, when, entity, key, action, status, msg, bling, cazco string) cazbling.LogEntry {
		return cazbling.LogEntry{Time: at(when), RunID: run, TenantID: tenant, Flow: flow, Entity: entity, Key: key,
			Action: action, Status: status, Message: msg, BlingID: bling, CazcoID: cazco}
	}
	const ana, beto, cris, dani = "loja-da-ana", "bazar-do-beto", "casa-cris", "dani-modas-e-acessorios"
	must(s.Apply(ctx, cazbling.Batch{
		ProductLinks: []cazbling.ProductLink{
			{TenantID: ana, SKU: "CAM-AZUL-G", BlingID: 16001, CazcoID: "p_1"},
			{TenantID: ana, SKU: "CAM-AZUL-M", BlingID: 16002, CazcoID: "p_2"},
			{TenantID: ana, SKU: "CANECA-BRANCA", BlingID: 16010, CazcoID: "p_3"},
			{TenantID: ana, SKU: "10042", BlingID: 16042, CazcoID: "p_4"},
		},
		OrderLinks: []cazbling.OrderLink{
			{TenantID: ana, CazcoID: "ord_8f2c91", Number: "1042", BlingID: 9001, State: cazbling.OrderCreated},
			{TenantID: ana, CazcoID: "10042", Number: "1043", BlingID: 9002, State: cazbling.OrderCreated},
			{TenantID: ana, CazcoID: "ord_77aa01", Number: "1044", State: cazbling.OrderFailed, Attempts: 1, LastError: "unknown SKU"},
			{TenantID: ana, CazcoID: "ord_5b3e10", Number: "1045", State: cazbling.OrderCreating, Attempts: 1},
		},
		Cursors: []cazbling.Cursor{
			{TenantID: ana, Stream: cazbling.StreamProductsCreated, Value: "2026-11-01T09:00:00Z"},
			{TenantID: ana, Stream: cazbling.StreamProductsChanged, Value: "2026-11-01T11:45:00Z"},
			{TenantID: ana, Stream: cazbling.StreamOrders, Value: "2026-11-01T11:40:00Z"},
		},
		Logs: []cazbling.LogEntry{
			row(runDP, dani, "products", "2026-07-01T10:01:00Z", "product", "VESTIDO-01", "created", "ok", "created in CaZco", "17001", "p_90"),
			row(runDP, dani, "products", "2026-07-01T10:02:00Z", "product", "VESTIDO-02", "failed", "error", "CaZco refused the product: price must be positive", "17002", ""),
			row(runDP, dani, "products", "2026-07-01T10:03:00Z", "product", "VESTIDO-03", "unchanged", "ok", "already up to date in CaZco", "17003", "p_91"),
			row(runCO, cris, "orders", "2026-10-25T08:00:02Z", "tenant", "casa-cris", "failed", "error",
				"tenant \"casa-cris\": Bling refused the refresh token (invalid_grant); it is marked needs_reauth", "", ""),
			row(runBP, beto, "products", "2026-10-31T23:00:10Z", "product", "VASO-01", "created", "ok", "created in CaZco", "18001", "p_70"),
			row(runBO, beto, "orders", "2026-10-31T23:10:00Z", "tenant", "bazar-do-beto", "failed", "error",
				"tenant \"bazar-do-beto\": Bling's daily request quota is used up; paused until 2026-11-02T03:00:00Z, when the quota resets", "", ""),
			row(runP, ana, "products", "2026-11-01T09:00:10Z", "product", "CAM-AZUL-G", "created", "ok", "created in CaZco", "16001", "p_1"),
			row(runP, ana, "products", "2026-11-01T09:00:20Z", "product", "CAM-AZUL-M", "updated", "ok", "updated in CaZco", "16002", "p_2"),
			row(runP, ana, "products", "2026-11-01T09:00:30Z", "product", "CANECA-BRANCA", "failed", "error", longMessage, "16010", ""),
			row(runP, ana, "products", "2026-11-01T09:00:40Z", "product", "KIT-PRESENTE", "skipped", "skipped", "compositions (formato E) are not sent", "16020", ""),
			row(runP, ana, "products", "2026-11-01T09:00:50Z", "product", "10042", "created", "ok", "created in CaZco", "16042", "p_4"),
			row(runS, ana, "stock", "2026-11-01T11:45:10Z", "stock", "CAM-AZUL-G", "stock_set", "ok", "stock 5 → 7", "16001", "p_1"),
			row(runS, ana, "stock", "2026-11-01T11:45:20Z", "stock", "CANECA-BRANCA", "stock_set", "warning", "stock 3 → 0; Bling's balance is -2, sent as 0", "16010", "p_3"),
			row(runS, ana, "stock", "2026-11-01T11:45:30Z", "product", "CAM-AZUL-M", "updated", "ok", "updated in CaZco", "16002", "p_2"),
			row(runO, ana, "orders", "2026-11-01T11:50:05Z", "order", "ord_8f2c91", "created", "ok", "filed in Bling as order 1042", "9001", "ord_8f2c91"),
			row(runO, ana, "orders", "2026-11-01T11:50:08Z", "order", "10042", "created", "ok", "filed in Bling as order 1043", "9002", "10042"),
			row(runO, ana, "orders", "2026-11-01T11:50:10Z", "order", "ord_77aa01", "failed", "error",
				"unknown SKU CAM-VERDE-P in Bling; create it there and the order is filed on the next run", "", "ord_77aa01"),
			row(runO, ana, "orders", "2026-11-01T11:50:15Z", "order", "ord_5b3e10", "retry_later", "error",
				"Bling did not answer (HTTP 503):\n<html>\tService Unavailable\x1b[31m</html>", "", "ord_5b3e10"),
		},
	}))
	return f
}

// golden compares got with testdata/name, or rewrites it with -update. Every line of
// a golden table must fit an 80-column terminal.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run the tests with -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs (run with -update to accept the new output):\n--- got\n%s--- want\n%s", name, got, want)
	}
	for i, line := range strings.Split(got, "\n") {
		if n := utf8.RuneCountInString(line); n > tableWidth {
			t.Errorf("%s line %d is %d characters wide, more than %d:\n%s", name, i+1, n, tableWidth, line)
		}
	}
}

// logsOpts returns options that print to out from store s at the fixed time.
func logsOpts(s *sqlite.Store, out, errOut *bytes.Buffer) *LogsOptions {
	return &LogsOptions{
		Out: out, Err: errOut, Now: func() time.Time { return fixedNow },
		Store: func(context.Context) (store.Store, error) { return s, nil },
		Limit: 50, Output: "table",
	}
}

// cli runs the command line against the store at db, the way main does.
func cli(t *testing.T, db string, env map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	getenv := func(k string) string {
		if k == "CAZBLING_KEY" {
			return base64.StdEncoding.EncodeToString(testKey)
		}
		return env[k]
	}
	code = Execute(context.Background(), append([]string{"--db", db}, args...), IO{In: strings.NewReader(""), Out: &out, Err: &errOut, Getenv: getenv})
	return code, out.String(), errOut.String()
}
