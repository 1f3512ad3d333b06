package cmd

import (
	"bytes"
	"context"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cazbling/cazbling/pkg/cazbling"
	"github.com/cazbling/cazbling/pkg/store"
	"github.com/cazbling/cazbling/pkg/store/sqlite"
)

func tenantsOpts(s *sqlite.Store, out *bytes.Buffer) *TenantsOptions {
	return &TenantsOptions{
		Out: out, Now: func() time.Time { return fixedNow }, Output: "table",
		Store: func(context.Context) (store.Store, error) { return s, nil },
	}
}

func TestTenantsTablesMatchGoldenFiles(t *testing.T) {
	s, _ := openStore(t)
	seed(t, s)
	for _, tc := range []struct {
		golden string
		run    func(o *TenantsOptions) error
	}{
		{"tenants.golden", func(o *TenantsOptions) error { return tenantsRun(context.Background(), o) }},
		{"tenants_named.golden", func(o *TenantsOptions) error {
			o.Tenants = []string{"loja-da-ana", "casa-cris"}
			return tenantsRun(context.Background(), o)
		}},
		{"tenants_show.golden", func(o *TenantsOptions) error {
			o.ID = "loja-da-ana"
			return tenantShowRun(context.Background(), o)
		}},
		{"tenants_show_paused.golden", func(o *TenantsOptions) error {
			o.ID = "bazar-do-beto"
			return tenantShowRun(context.Background(), o)
		}},
		{"tenants_show_new.golden", func(o *TenantsOptions) error {
			o.ID = "casa-cris"
			return tenantShowRun(context.Background(), o)
		}},
	} {
		t.Run(tc.golden, func(t *testing.T) {
			var out bytes.Buffer
			if err := tc.run(tenantsOpts(s, &out)); err != nil {
				t.Fatal(err)
			}
			golden(t, tc.golden, out.String())
		})
	}
}

func TestTenantsEmptyStore(t *testing.T) {
	s, _ := openStore(t)
	for output, want := range map[string]string{"table": "No tenants. Add one with 'cazbling activate'.\n", "json": "[]\n"} {
		var out bytes.Buffer
		o := tenantsOpts(s, &out)
		o.Output = output
		if err := tenantsRun(context.Background(), o); err != nil {
			t.Fatal(err)
		}
		if out.String() != want {
			t.Errorf("-o %s: %q, want %q", output, out.String(), want)
		}
	}
}

func TestTenantsJSON(t *testing.T) {
	s, _ := openStore(t)
	f := seed(t, s)
	var out bytes.Buffer
	o := tenantsOpts(s, &out)
	o.Output = "json"
	if err := tenantsRun(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	var list []tenantRow
	if err := json.Unmarshal(out.Bytes(), &list); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	var ids []string
	for _, r := range list {
		ids = append(ids, r.Tenant)
	}
	if want := []string{"bazar-do-beto", "casa-cris", "dani-modas-e-acessorios", "loja-da-ana"}; !slices.Equal(ids, want) {
		t.Fatalf("tenants %q, want %q", ids, want)
	}
	beto, ana := list[0], list[3]
	if beto.Status != "paused" || beto.PausedUntil != "2026-11-02T03:00:00Z" || beto.Reason != "Bling's daily request quota is used up" {
		t.Errorf("bazar-do-beto: %+v", beto)
	}
	if r := beto.LastRuns["stock"]; r.RunID != f.runs["beto-stock"] || r.Status != "running" || r.FinishedAt != "" {
		t.Errorf("bazar-do-beto last stock run: %+v", r)
	}
	// Failing: one failed order link (one still creating is not failed) and
	// CANECA-BRANCA, whose latest product row is an error.
	if ana.Failing != 2 {
		t.Errorf("loja-da-ana failing %d, want 2", ana.Failing)
	}
	if len(ana.LastRuns) != 3 || ana.LastRuns["orders"].RunID != f.runs["ana-orders"] || ana.LastRuns["orders"].Retry != 1 {
		t.Errorf("loja-da-ana last runs: %+v", ana.LastRuns)
	}
	if strings.Contains(out.String(), "null") {
		t.Errorf("null in tenants -o json:\n%s", out.String())
	}

	out.Reset()
	o.ID = "loja-da-ana"
	if err := tenantShowRun(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	var raw map[string]any
	if err := json.Unmarshal(out.Bytes(), &raw); err != nil {
		t.Fatal(err)
	}
	for _, field := range []string{"tenant", "status", "paused_until", "reason", "created_at", "updated_at", "bling_url",
		"bling_client_id", "bling_client_secret", "bling_refresh_token", "bling_access_token", "bling_token_expiry",
		"bling_deposit", "bling_store", "bling_payment_method", "cazco_url", "cazco_api_key", "import_statuses",
		"import_statuses_default", "cursors", "product_links", "order_links", "failing", "last_runs"} {
		if v, ok := raw[field]; !ok || v == nil {
			t.Errorf("show -o json: field %q missing or null", field)
		}
	}
	var d tenantDetail
	if err := json.Unmarshal(out.Bytes(), &d); err != nil {
		t.Fatal(err)
	}
	want := tenantDetail{
		Tenant: "loja-da-ana", Status: "active", CreatedAt: "2026-10-01T13:00:00Z", UpdatedAt: "2026-11-01T12:00:00Z",
		BlingURL: "https://api.bling.com.br/Api/v3", BlingClientID: "cid-ana-31", BlingClientSecret: "set",
		BlingRefreshToken: "set", BlingAccessToken: "set", BlingTokenExpiry: "2026-11-01T17:00:00Z",
		BlingDeposit: 14887, BlingStore: 203, CazcoURL: "https://s623.cazco.link/api/v1/seller", CazcoAPIKey: "set",
		CazcoRateLimit: "600 per minute", CazcoRateLimitSeen: "2026-11-01T11:50:02Z",
		ImportStatusesDefault: true, ProductLinks: 4, Failing: 2,
	}
	got := d
	got.ImportStatuses, got.Cursors, got.OrderLinks, got.LastRuns = nil, nil, nil, nil
	if !reflect.DeepEqual(got, want) {
		t.Errorf("show:\ngot  %+v\nwant %+v", got, want)
	}
	if !slices.Equal(d.ImportStatuses, cazbling.DefaultImportStatuses) {
		t.Errorf("import statuses %q", d.ImportStatuses)
	}
	if want := map[string]int{"created": 2, "creating": 1, "failed": 1}; len(d.OrderLinks) != 3 ||
		d.OrderLinks["created"] != 2 || d.OrderLinks["creating"] != 1 || d.OrderLinks["failed"] != 1 {
		t.Errorf("order links %v, want %v", d.OrderLinks, want)
	}
	if len(d.Cursors) != 3 || d.Cursors[0] != (cursorRow{"orders", "2026-11-01T11:40:00Z"}) {
		t.Errorf("cursors %+v", d.Cursors)
	}
	if len(d.LastRuns) != 3 || d.LastRuns["stock"].Unchanged != 5400 {
		t.Errorf("last runs %+v", d.LastRuns)
	}

	// A tenant with nothing set says so, with empty strings rather than nulls.
	out.Reset()
	o.ID = "casa-cris"
	if err := tenantShowRun(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), "null") {
		t.Errorf("null in show -o json:\n%s", out.String())
	}
	d = tenantDetail{}
	if err := json.Unmarshal(out.Bytes(), &d); err != nil {
		t.Fatal(err)
	}
	if d.BlingClientSecret != "not set" || d.CazcoAPIKey != "not set" || d.BlingRefreshToken != "not set" || d.BlingTokenExpiry != "" {
		t.Errorf("casa-cris secrets: %+v", d)
	}
}

func TestNoSecretInAnyOutput(t *testing.T) {
	s, db := openStore(t)
	f := seed(t, s)
	ctx := context.Background()
	// Even should a bug let secrets into messages and reasons, no output shows them.
	if err := s.Apply(ctx, cazbling.Batch{Logs: []cazbling.LogEntry{{
		Time: at("2026-11-01T11:59:00Z"), TenantID: "loja-da-ana", Flow: "orders", Entity: "order", Key: "ord_1",
		Action: "failed", Status: "error", Message: `POST /pedidos/vendas: 401 {"error":"invalid token ` + secretAccess + `"} key ` + secretAPIKey,
	}}}); err != nil {
		t.Fatal(err)
	}
	if err := s.FinishRun(ctx, cazbling.Run{ID: f.runs["ana-orders"], FinishedAt: at("2026-11-01T11:50:20Z"), Status: "error",
		Message: "refresh " + secretRefresh + " refused; secret " + secretClient}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetTenantStatus(ctx, "casa-cris", cazbling.TenantNeedsReauth, time.Time{}, "Bling refused "+secretRefresh); err != nil {
		t.Fatal(err)
	}
	secrets := []string{secretClient, secretAPIKey, secretAccess, secretRefresh}
	check := func(what, text string) {
		t.Helper()
		if text == "" {
			t.Errorf("%s printed nothing", what)
		}
		for _, secret := range secrets {
			// A secret cut short by a table must not show either.
			if strings.Contains(text, secret) || strings.Contains(text, secret[:len("SECRET-")+4]) {
				t.Errorf("%s shows a secret (%s…):\n%s", what, secret[:10], text)
			}
		}
	}
	var out bytes.Buffer
	for _, output := range []string{"table", "json"} {
		out.Reset()
		o := tenantsOpts(s, &out)
		o.Output = output
		if err := tenantsRun(context.Background(), o); err != nil {
			t.Fatal(err)
		}
		check("tenants -o "+output, out.String())
		out.Reset()
		o.ID = "loja-da-ana"
		if err := tenantShowRun(context.Background(), o); err != nil {
			t.Fatal(err)
		}
		check("tenants show -o "+output, out.String())
	}
	for _, output := range []string{"table", "json", "csv"} {
		for _, runs := range []bool{false, true} {
			out.Reset()
			var errOut bytes.Buffer
			o := logsOpts(s, &out, &errOut)
			o.Output, o.Runs, o.Limit = output, runs, 0
			if err := logsRun(context.Background(), o); err != nil {
				t.Fatal(err)
			}
			check("logs -o "+output, out.String()+errOut.String())
			if output != "table" && !strings.Contains(out.String(), "[REDACTED]") {
				t.Errorf("logs -o %s --runs=%v: the secrets are not marked as removed:\n%s", output, runs, out.String())
			}
		}
	}
	s.Close()
	// And through the command line, stderr included.
	for _, args := range [][]string{
		{"tenants"}, {"tenants", "show", "loja-da-ana"}, {"tenants", "show", "loja-da-ana", "-o", "json"},
		{"logs", "--limit", "0"}, {"logs", "-o", "json"}, {"logs", "--runs", "-o", "csv"},
		{"--log-level", "debug", "tenants", "deactivate", "loja-da-ana"}, {"tenants", "reactivate", "loja-da-ana"},
		{"tenants", "show", "nobody"},
	} {
		_, stdout, stderr := cli(t, db, nil, args...)
		check(strings.Join(args, " "), stdout+stderr)
	}
}

func TestStatusCellAndAge(t *testing.T) {
	now := fixedNow
	for _, tc := range []struct {
		t    cazbling.Tenant
		want string
	}{
		{cazbling.Tenant{Status: cazbling.TenantActive}, "active"},
		{cazbling.Tenant{Status: cazbling.TenantPaused, PausedUntil: now.Add(3 * time.Hour)}, "paused→15:00"},
		{cazbling.Tenant{Status: cazbling.TenantPaused, PausedUntil: now.Add(50 * time.Hour)}, "paused→11-03"},
		{cazbling.Tenant{Status: cazbling.TenantPaused, PausedUntil: now.Add(-time.Minute)}, "pause ended"},
		{cazbling.Tenant{Status: "weird\nstatus"}, "weird status"},
	} {
		if got := statusCell(tc.t, now); got != tc.want {
			t.Errorf("statusCell(%+v) = %q, want %q", tc.t, got, tc.want)
		}
	}
	for d, want := range map[time.Duration]string{
		-time.Second: "0s", 45 * time.Second: "45s", 12 * time.Minute: "12m", 5 * time.Hour: "5h",
		47 * time.Hour: "47h", 72 * time.Hour: "3d",
	} {
		if got := age(d); got != want {
			t.Errorf("age(%v) = %q, want %q", d, got, want)
		}
	}
}
