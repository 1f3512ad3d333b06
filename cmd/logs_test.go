package cmd

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cazbling/cazbling/pkg/store/sqlite"
)

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
