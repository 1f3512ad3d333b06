package cmd

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/cazbling/cazbling/pkg/cazbling"
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

	f := fixture{runs: map[string]int64{}}
	run := func(name, tenant, flow, start, end, status, msg string, c cazbling.Counts) int64 {
		t.Helper()
		id, err := s.StartRun(ctx, cazbling.Run{TenantID: tenant, Flow: flow, StartedAt: at(start)})
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
		Store: func(context.Context) (*sqlite.Store, error) { return s, nil },
		Limit: 50, Output: "table",
	}
}

func TestLogsTablesMatchGoldenFiles(t *testing.T) {
	s, _ := openStore(t)
	seed(t, s)
	for _, tc := range []struct {
		golden string
		set    func(o *LogsOptions)
	}{
		{"logs.golden", func(o *LogsOptions) {}},
		{"logs_tenant.golden", func(o *LogsOptions) { o.Tenants = []string{"loja-da-ana"} }},
		{"logs_runs.golden", func(o *LogsOptions) { o.Runs = true }},
		{"logs_runs_tenant.golden", func(o *LogsOptions) { o.Runs, o.Tenants = true, []string{"bazar-do-beto"} }},
	} {
		t.Run(tc.golden, func(t *testing.T) {
			var out, errOut bytes.Buffer
			o := logsOpts(s, &out, &errOut)
			tc.set(o)
			if err := logsRun(context.Background(), o); err != nil {
				t.Fatal(err)
			}
			golden(t, tc.golden, out.String())
			if errOut.Len() != 0 {
				t.Errorf("stderr: %q, want nothing (every row fits the limit)", errOut.String())
			}
		})
	}
}

func TestLogsTableCutsMessagesButKeepsThemClean(t *testing.T) {
	s, _ := openStore(t)
	seed(t, s)
	var out, errOut bytes.Buffer
	o := logsOpts(s, &out, &errOut)
	if err := logsRun(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	if strings.Contains(text, longMessage) {
		t.Error("the table shows the long message whole; it should be cut to fit")
	}
	if !strings.Contains(text, "…") {
		t.Error("no cell was marked as cut")
	}
	if strings.ContainsAny(text, "\t\x1b") || strings.Contains(text, "503):\n") {
		t.Errorf("control characters of a message reached the table:\n%s", text)
	}
}

func TestLogsEmptyResult(t *testing.T) {
	s, _ := openStore(t)
	seed(t, s)
	for output, want := range map[string]string{"table": "No log rows match.\n", "json": "[]\n", "csv": strings.Join(logColumns, ",") + "\n"} {
		var out, errOut bytes.Buffer
		o := logsOpts(s, &out, &errOut)
		o.Output, o.Since = output, "2026-12-01"
		if err := logsRun(context.Background(), o); err != nil {
			t.Fatal(err)
		}
		if out.String() != want {
			t.Errorf("-o %s: got %q, want %q", output, out.String(), want)
		}
		out.Reset()
		o.Runs = true
		if err := logsRun(context.Background(), o); err != nil {
			t.Fatal(err)
		}
		if output == "json" && out.String() != "[]\n" {
			t.Errorf("--runs -o json: got %q, want []", out.String())
		}
	}
}

// rowKeys runs logs with o and returns its rows as "tenant/flow/entity/key/action".
func rowKeys(t *testing.T, s *sqlite.Store, set func(o *LogsOptions)) []string {
	t.Helper()
	var out, errOut bytes.Buffer
	o := logsOpts(s, &out, &errOut)
	o.Output = "json"
	set(o)
	if err := logsRun(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	var rows []logRow
	if err := json.Unmarshal(out.Bytes(), &rows); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	keys := []string{}
	for _, r := range rows {
		keys = append(keys, r.Tenant+"/"+r.Flow+"/"+r.Entity+"/"+r.Key+"/"+r.Action)
	}
	return keys
}

func TestLogsFiltersCombine(t *testing.T) {
	s, _ := openStore(t)
	f := seed(t, s)
	for _, tc := range []struct {
		name string
		set  func(o *LogsOptions)
		want []string
	}{
		{"tenant+flow+status+since+sku", func(o *LogsOptions) {
			o.Tenants, o.Flow, o.Status, o.Since, o.SKU = []string{"loja-da-ana"}, "stock", "ok", "1h", "CAM-AZUL-G"
		}, []string{"loja-da-ana/stock/stock/CAM-AZUL-G/stock_set"}},
		{"sku matches product and stock rows, newest first", func(o *LogsOptions) { o.SKU = "CANECA-BRANCA" },
			[]string{"loja-da-ana/stock/stock/CANECA-BRANCA/stock_set", "loja-da-ana/products/product/CANECA-BRANCA/failed"}},
		{"sku is not an order id", func(o *LogsOptions) { o.SKU = "10042" },
			[]string{"loja-da-ana/products/product/10042/created"}},
		{"order is not a sku", func(o *LogsOptions) { o.Order = "10042" },
			[]string{"loja-da-ana/orders/order/10042/created"}},
		{"sku with limit takes the newest of both entities", func(o *LogsOptions) { o.SKU, o.Limit = "CAM-AZUL-G", 1 },
			[]string{"loja-da-ana/stock/stock/CAM-AZUL-G/stock_set"}},
		{"sku rows of any flow", func(o *LogsOptions) { o.SKU = "CAM-AZUL-M" },
			[]string{"loja-da-ana/stock/product/CAM-AZUL-M/updated", "loja-da-ana/products/product/CAM-AZUL-M/updated"}},
		{"sku and flow", func(o *LogsOptions) { o.SKU, o.Flow = "CAM-AZUL-M", "products" },
			[]string{"loja-da-ana/products/product/CAM-AZUL-M/updated"}},
		{"order", func(o *LogsOptions) { o.Order = "ord_77aa01" },
			[]string{"loja-da-ana/orders/order/ord_77aa01/failed"}},
		{"run", func(o *LogsOptions) { o.RunID = f.runs["ana-orders"] }, []string{
			"loja-da-ana/orders/order/ord_5b3e10/retry_later", "loja-da-ana/orders/order/ord_77aa01/failed",
			"loja-da-ana/orders/order/10042/created", "loja-da-ana/orders/order/ord_8f2c91/created"}},
		{"run and status", func(o *LogsOptions) { o.RunID, o.Status = f.runs["ana-orders"], "error" }, []string{
			"loja-da-ana/orders/order/ord_5b3e10/retry_later", "loja-da-ana/orders/order/ord_77aa01/failed"}},
		{"status across tenants", func(o *LogsOptions) { o.Status = "error" }, []string{
			"loja-da-ana/orders/order/ord_5b3e10/retry_later", "loja-da-ana/orders/order/ord_77aa01/failed",
			"loja-da-ana/products/product/CANECA-BRANCA/failed", "bazar-do-beto/orders/tenant/bazar-do-beto/failed",
			"casa-cris/orders/tenant/casa-cris/failed", "dani-modas-e-acessorios/products/product/VESTIDO-02/failed"}},
		{"since a date is midnight UTC", func(o *LogsOptions) { o.Since, o.Flow = "2026-10-31", "products" }, []string{
			"loja-da-ana/products/product/10042/created", "loja-da-ana/products/product/KIT-PRESENTE/skipped",
			"loja-da-ana/products/product/CANECA-BRANCA/failed", "loja-da-ana/products/product/CAM-AZUL-M/updated",
			"loja-da-ana/products/product/CAM-AZUL-G/created", "bazar-do-beto/products/product/VASO-01/created"}},
		{"since an RFC 3339 time with offset", func(o *LogsOptions) { o.Since, o.Tenants = "2026-11-01T08:50:09-03:00", []string{"loja-da-ana"} },
			[]string{"loja-da-ana/orders/order/ord_5b3e10/retry_later", "loja-da-ana/orders/order/ord_77aa01/failed"}},
		{"since days", func(o *LogsOptions) { o.Since, o.Status = "7d", "error" }, []string{
			"loja-da-ana/orders/order/ord_5b3e10/retry_later", "loja-da-ana/orders/order/ord_77aa01/failed",
			"loja-da-ana/products/product/CANECA-BRANCA/failed", "bazar-do-beto/orders/tenant/bazar-do-beto/failed"}},
		{"limit keeps the newest", func(o *LogsOptions) { o.Limit = 2 },
			[]string{"loja-da-ana/orders/order/ord_5b3e10/retry_later", "loja-da-ana/orders/order/ord_77aa01/failed"}},
		{"nothing", func(o *LogsOptions) { o.Tenants, o.Flow = []string{"casa-cris"}, "products" }, []string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := rowKeys(t, s, tc.set)
			if !slices.Equal(got, tc.want) {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
		})
	}
	t.Run("limit 0 is all", func(t *testing.T) {
		if got := rowKeys(t, s, func(o *LogsOptions) { o.Limit = 0 }); len(got) != 18 {
			t.Errorf("got %d rows, want all 18", len(got))
		}
		if got := rowKeys(t, s, func(o *LogsOptions) { o.Limit = 18 }); len(got) != 18 {
			t.Errorf("--limit 18: got %d rows, want 18", len(got))
		}
	})
}

func TestLogsLimitNotesOlderRowsOnStderr(t *testing.T) {
	s, _ := openStore(t)
	seed(t, s)
	for _, tc := range []struct {
		limit    int
		runs     bool
		wantNote bool
	}{{3, false, true}, {18, false, false}, {0, false, false}, {2, true, true}, {8, true, false}} {
		var out, errOut bytes.Buffer
		o := logsOpts(s, &out, &errOut)
		o.Limit, o.Runs = tc.limit, tc.runs
		if err := logsRun(context.Background(), o); err != nil {
			t.Fatal(err)
		}
		if got := errOut.String() != ""; got != tc.wantNote {
			t.Errorf("--limit %d --runs=%v: note %q, want a note: %v", tc.limit, tc.runs, errOut.String(), tc.wantNote)
		}
		if tc.limit > 0 {
			lines := strings.Count(out.String(), "\n") - 4 // borders and header
			if tc.runs {
				lines-- // the ITEMS legend
			}
			if tc.wantNote && lines != tc.limit {
				t.Errorf("--limit %d: %d table rows\n%s", tc.limit, lines, out.String())
			}
		}
	}
}

func TestLogsJSONAndCSVCarryEveryFieldWhole(t *testing.T) {
	s, _ := openStore(t)
	f := seed(t, s)
	for _, runs := range []bool{false, true} {
		columns := logColumns
		if runs {
			columns = runColumns
		}
		var jsonOut, csvOut, errOut bytes.Buffer
		o := logsOpts(s, &jsonOut, &errOut)
		o.Output, o.Limit, o.Runs = "json", 0, runs
		if err := logsRun(context.Background(), o); err != nil {
			t.Fatal(err)
		}
		o = logsOpts(s, &csvOut, &errOut)
		o.Output, o.Limit, o.Runs = "csv", 0, runs
		if err := logsRun(context.Background(), o); err != nil {
			t.Fatal(err)
		}
		var objs []map[string]any
		if err := json.Unmarshal(jsonOut.Bytes(), &objs); err != nil {
			t.Fatalf("--runs=%v: JSON does not parse: %v", runs, err)
		}
		csvText := csvOut.String()
		records, err := csv.NewReader(strings.NewReader(csvText)).ReadAll()
		if err != nil {
			t.Fatalf("--runs=%v: CSV does not parse: %v", runs, err)
		}
		if !slices.Equal(records[0], columns) {
			t.Errorf("CSV header %q, want %q", records[0], columns)
		}
		wantRows := 18
		if runs {
			wantRows = len(f.runs)
		}
		if len(objs) != wantRows || len(records) != wantRows+1 {
			t.Fatalf("--runs=%v: %d JSON rows and %d CSV rows, want %d", runs, len(objs), len(records)-1, wantRows)
		}
		for i, obj := range objs {
			if len(obj) != len(columns) {
				t.Errorf("JSON row %d has %d fields, want %d: %v", i, len(obj), len(columns), obj)
			}
			for j, col := range columns {
				v, ok := obj[col]
				if !ok || v == nil {
					t.Errorf("JSON row %d: field %q missing or null", i, col)
					continue
				}
				// The CSV row says the same as the JSON row, field by field.
				var text string
				switch v := v.(type) {
				case string:
					text = v
				case float64:
					text = fmt.Sprint(int64(v))
				default:
					t.Errorf("JSON row %d field %q has type %T", i, col, v)
				}
				if records[i+1][j] != text {
					t.Errorf("row %d field %q: CSV %q, JSON %q", i, col, records[i+1][j], text)
				}
			}
		}
		if runs {
			// A run still going has no finish time: an empty string, not null.
			var running map[string]any
			for _, obj := range objs {
				if obj["status"] == "running" {
					running = obj
				}
			}
			if running == nil || running["finished_at"] != "" {
				t.Errorf("running run: %v, want finished_at \"\"", running)
			}
			continue
		}
		var found bool
		for _, obj := range objs {
			if obj["key"] == "CANECA-BRANCA" && obj["entity"] == "product" {
				found = obj["message"] == longMessage
				if tm, err := time.Parse(time.RFC3339, obj["time"].(string)); err != nil || !tm.Equal(at("2026-11-01T09:00:30Z")) {
					t.Errorf("time %v: %v", obj["time"], err)
				}
			}
			if obj["key"] == "ord_5b3e10" && obj["message"] != "Bling did not answer (HTTP 503):\n<html>\tService Unavailable\x1b[31m</html>" {
				t.Errorf("JSON changed a message: %q", obj["message"])
			}
		}
		if !found || !strings.Contains(csvText, longMessage) {
			t.Error("the long message is not whole in JSON and CSV")
		}
	}
}

func TestParseSince(t *testing.T) {
	now := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		want time.Time
	}{
		{"24h", now.Add(-24 * time.Hour)},
		{"90m", now.Add(-90 * time.Minute)},
		{"7d", now.Add(-7 * 24 * time.Hour)},
		{"1d12h", now.Add(-36 * time.Hour)},
		{"0d", now},
		{" 2h ", now.Add(-2 * time.Hour)},
		{"2026-10-15", time.Date(2026, 10, 15, 0, 0, 0, 0, time.UTC)},
		{"2026-11-01T09:00:00-03:00", time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)},
		{"2026-11-01t09:00:00z", time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)},
		{"2026-11-01T09:00:00.5Z", time.Date(2026, 11, 1, 9, 0, 0, 5e8, time.UTC)},
	} {
		got, err := ParseSince(tc.in, now)
		if err != nil || !got.Equal(tc.want) {
			t.Errorf("ParseSince(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "yesterday", "d", "7", "-2h", "+2h", "7d-1h", "1.5d", "2h7d", "2026-13-01",
		"2026-11-01T09:00:00", "01/11/2026", "99999999999999999999d", "36501d", "36500d2562047h"} {
		if got, err := ParseSince(bad, now); err == nil {
			t.Errorf("ParseSince(%q) = %v, want an error", bad, got)
		}
	}
}

func FuzzParseSince(f *testing.F) {
	for _, s := range []string{"24h", "7d", "1d12h", "90m", "0d", "2026-11-01", "2026-11-01T09:00:00-03:00",
		"2026-11-01t09:00:00z", "", "d", "-1h", "7d-1h", "99999999999d", "36500d2562047h", "1.5h", "T", "2026-02-30"} {
		f.Add(s)
	}
	now := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseSince(s, now)
		if err != nil {
			return
		}
		if got.IsZero() {
			t.Fatalf("ParseSince(%q) = the zero time", s)
		}
		if age, err := parseAge(strings.TrimSpace(s)); err == nil {
			if age < 0 || !got.Equal(now.Add(-age)) || got.After(now) {
				t.Fatalf("ParseSince(%q) = %v, age %v: not now minus the age", s, got, age)
			}
		}
	})
}

func TestPruneKeepsRowsOfItemsStillFailing(t *testing.T) {
	s, _ := openStore(t)
	seed(t, s)
	ctx := context.Background()
	// Old rows: an order that was filed (prunable) and one still failing (kept).
	if err := s.Apply(ctx, cazbling.Batch{Logs: []cazbling.LogEntry{
		{Time: at("2026-08-01T10:00:00Z"), TenantID: "loja-da-ana", Flow: "orders", Entity: "order", Key: "ord_8f2c91", Action: "failed", Status: "error", Message: "Bling down"},
		{Time: at("2026-08-01T10:00:01Z"), TenantID: "loja-da-ana", Flow: "orders", Entity: "order", Key: "ord_77aa01", Action: "failed", Status: "error", Message: "unknown SKU"},
	}}); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	o := &PruneOptions{Out: &out, Now: func() time.Time { return fixedNow }, OlderThan: "30d",
		Store: func(context.Context) (*sqlite.Store, error) { return s, nil }}
	if err := pruneRun(ctx, o); err != nil {
		t.Fatal(err)
	}
	// Deleted: VESTIDO-01 and VESTIDO-03 (ok), the old ord_8f2c91 row (filed since).
	// Kept: VESTIDO-02 (its latest row is an error), the old ord_77aa01 row (still failing).
	if want := "Deleted 3 log rows older than 2026-10-02 12:00 UTC (rows of items still failing are kept).\n"; out.String() != want {
		t.Errorf("got %q, want %q", out.String(), want)
	}
	rows, err := s.Logs(ctx, cazbling.LogFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var old []string
	for _, r := range rows {
		if r.Time.Before(at("2026-10-02T12:00:00Z")) {
			old = append(old, r.Key)
		}
	}
	if want := []string{"ord_77aa01", "VESTIDO-02"}; !slices.Equal(old, want) {
		t.Errorf("old rows left %q, want %q", old, want)
	}
	if len(rows) != 17 {
		t.Errorf("%d rows left, want 17", len(rows))
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

func TestLogsCommandLine(t *testing.T) {
	s, db := openStore(t)
	seed(t, s)
	for _, tc := range []struct {
		args     []string
		code     int
		inStderr string
	}{
		{[]string{"logs", "--flow", "bogus"}, ExitUsage, "--flow must be one of products, stock, orders, activate"},
		{[]string{"logs", "--status", "fine"}, ExitUsage, "--status must be one of"},
		{[]string{"logs", "--runs", "--status", "running"}, ExitOK, ""},
		{[]string{"logs", "--status", "running"}, ExitUsage, "--status must be one of"},
		{[]string{"logs", "--since", "yesterday"}, ExitUsage, "2026-11-01"},
		{[]string{"logs", "--since", "-3h"}, ExitUsage, "--since"},
		{[]string{"logs", "-o", "xml"}, ExitUsage, "--output must be table, json or csv"},
		{[]string{"logs", "--limit", "-1"}, ExitUsage, "--limit"},
		{[]string{"logs", "--limit", "many"}, ExitUsage, "invalid argument"},
		{[]string{"logs", "--run", "x"}, ExitUsage, "invalid argument"},
		{[]string{"logs", "--sku", "A", "--order", "B"}, ExitUsage, "not both"},
		{[]string{"logs", "--runs", "--sku", "A"}, ExitUsage, "--runs"},
		{[]string{"logs", "--tenant", "loja-da-ana", "--tenant", "casa-cris"}, ExitUsage, "one --tenant"},
		{[]string{"logs", "--tenant", "nobody"}, ExitUsage, `unknown tenant "nobody"`},
		{[]string{"logs", "extra"}, ExitUsage, "unknown command"},
		{[]string{"logs", "--tenant", "loja-da-ana", "--status", "error", "--since", "7d", "-o", "csv"}, ExitOK, ""},
		{[]string{"logs", "prune"}, ExitUsage, "--older-than"},
		{[]string{"logs", "prune", "--older-than", "soon"}, ExitUsage, "--older-than"},
		{[]string{"logs", "prune", "--older-than", "0d"}, ExitUsage, "more than 0"},
		{[]string{"logs", "prune", "--older-than", "90d", "--tenant", "loja-da-ana"}, ExitUsage, "every tenant"},
		{[]string{"logs", "prune", "--older-than", "720h"}, ExitOK, ""},
		{[]string{"-q", "logs", "prune", "--older-than", "720h"}, ExitOK, ""},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			code, stdout, stderr := cli(t, db, nil, tc.args...)
			if code != tc.code {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tc.code, stdout, stderr)
			}
			if !strings.Contains(stderr, tc.inStderr) {
				t.Errorf("stderr %q does not say %q", stderr, tc.inStderr)
			}
			if tc.code == ExitOK && stderr != "" {
				t.Errorf("stderr %q, want nothing", stderr)
			}
			if tc.args[1] == "prune" && tc.code == ExitOK && !strings.HasPrefix(stdout, "Deleted ") {
				t.Errorf("prune printed %q, want how many rows it deleted", stdout)
			}
			if tc.args[0] == "-q" && stdout != "" {
				t.Errorf("-q: printed %q, want nothing", stdout)
			}
		})
	}
}

func TestLogsFlagsReachOptions(t *testing.T) {
	app := &App{IO: IO{Out: &bytes.Buffer{}, Err: &bytes.Buffer{}}, Now: func() time.Time { return fixedNow }, Tenants: []string{"loja-da-ana"}}
	var got *LogsOptions
	c := newLogsCmd(app, func(_ context.Context, o *LogsOptions) error { got = o; return nil }, nil)
	c.SetArgs([]string{"--flow", "stock", "--status", "warning", "--since", "7d", "--sku", "A-1", "--run", "12", "--runs", "--limit", "0", "-o", "csv"})
	if err := c.Execute(); err != nil {
		t.Fatal(err)
	}
	want := LogsOptions{Tenants: []string{"loja-da-ana"}, Flow: "stock", Status: "warning", Since: "7d", SKU: "A-1", RunID: 12, Runs: true, Limit: 0, Output: "csv"}
	if got == nil || !slices.Equal(got.Tenants, want.Tenants) || got.Flow != want.Flow || got.Status != want.Status ||
		got.Since != want.Since || got.SKU != want.SKU || got.RunID != want.RunID || got.Runs != want.Runs ||
		got.Limit != want.Limit || got.Output != want.Output || got.Out != app.IO.Out {
		t.Errorf("options %+v, want %+v", got, want)
	}

	var prune *PruneOptions
	c = newLogsCmd(app, nil, func(_ context.Context, o *PruneOptions) error { prune = o; return nil })
	c.SetArgs([]string{"prune", "--older-than", "90d"})
	if err := c.Execute(); err != nil {
		t.Fatal(err)
	}
	if prune == nil || prune.OlderThan != "90d" {
		t.Errorf("prune options %+v", prune)
	}
}

func TestFitTableKeepsEveryLineWithinWidth(t *testing.T) {
	long := strings.Repeat("x", 200)
	var out, errOut bytes.Buffer
	entries := []cazbling.LogEntry{{Time: fixedNow, TenantID: strings.Repeat("t", 64), Key: long, Action: "already_in_bling", Status: "ok", Message: long}}
	if err := printLogs(&out, "table", entries, true); err != nil {
		t.Fatal(err)
	}
	runs := []cazbling.Run{{ID: 9999999, TenantID: strings.Repeat("t", 64), Flow: "products", StartedAt: fixedNow, FinishedAt: fixedNow.Add(5 * time.Hour),
		Status: "warning", Counts: cazbling.Counts{Created: 999999, Updated: 999999, Unchanged: 9999999, StockSet: 999999, Failed: 999999, Retry: 999999}}}
	if err := printRuns(&out, "table", runs, true); err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(out.String(), "\n") {
		if n := utf8.RuneCountInString(line); n > tableWidth {
			t.Errorf("line of %d characters:\n%s", n, line)
		}
	}
	_ = errOut
}
