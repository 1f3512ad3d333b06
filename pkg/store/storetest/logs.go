package storetest

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/cazbling/cazbling/pkg/cazbling"
)

func testLogsFilters(t *testing.T, b Backend) {
	ctx := context.Background()
	s, clk := b.openTest(t)
	addTenant(t, s, "acme")
	addTenant(t, s, "bolt")
	base := clk.Now()
	at := func(min int) time.Time { return base.Add(time.Duration(min) * time.Minute) }
	rows := []cazbling.LogEntry{
		{Time: at(1), RunID: 1, TenantID: "acme", Flow: "products", Entity: "product", Key: "A1", Status: "ok", Message: "m1"},
		{Time: at(2), RunID: 1, TenantID: "acme", Flow: "products", Entity: "product", Key: "A2", Status: "error", Message: "m2"},
		{Time: at(3), RunID: 2, TenantID: "acme", Flow: "stock", Entity: "stock", Key: "A1", Status: "warning", Message: "m3"},
		{Time: at(4), RunID: 3, TenantID: "bolt", Flow: "products", Entity: "product", Key: "A1", Status: "error", Message: "m4"},
		{Time: at(5), RunID: 4, TenantID: "acme", Flow: "orders", Entity: "order", Key: "o1", Status: "error", Message: "m5"},
		// Two rows at one instant: the later insert comes first.
		{Time: at(6), RunID: 4, TenantID: "acme", Flow: "orders", Entity: "order", Key: "o2", Status: "ok", Message: "m6"},
		{Time: at(6), RunID: 4, TenantID: "acme", Flow: "orders", Entity: "order", Key: "o3", Status: "ok", Message: "m7", BlingID: "9", CazcoID: "o3"},
	}
	if err := s.Apply(ctx, cazbling.Batch{Logs: rows}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		f    cazbling.LogFilter
		want []string // messages, in order
	}{
		{"all newest first", cazbling.LogFilter{}, []string{"m7", "m6", "m5", "m4", "m3", "m2", "m1"}},
		{"limit", cazbling.LogFilter{Limit: 2}, []string{"m7", "m6"}},
		{"tenant", cazbling.LogFilter{TenantID: "bolt"}, []string{"m4"}},
		{"tenant and status", cazbling.LogFilter{TenantID: "acme", Status: "error"}, []string{"m5", "m2"}},
		{"key", cazbling.LogFilter{Key: "A1"}, []string{"m4", "m3", "m1"}},
		{"key and entity", cazbling.LogFilter{Key: "A1", Entity: "stock"}, []string{"m3"}},
		{"key and tenant", cazbling.LogFilter{Key: "A1", TenantID: "acme"}, []string{"m3", "m1"}},
		{"flow and since", cazbling.LogFilter{Flow: "products", Since: at(2)}, []string{"m4", "m2"}},
		{"run", cazbling.LogFilter{RunID: 4}, []string{"m7", "m6", "m5"}},
		{"run and limit", cazbling.LogFilter{RunID: 4, Limit: 1}, []string{"m7"}},
		{"everything", cazbling.LogFilter{TenantID: "acme", Flow: "products", Status: "error", Since: at(1), Key: "A2", Entity: "product", RunID: 1}, []string{"m2"}},
		{"nothing matches", cazbling.LogFilter{TenantID: "bolt", Status: "ok"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.Logs(ctx, tt.f)
			if err != nil {
				t.Fatal(err)
			}
			var msgs []string
			for _, e := range got {
				msgs = append(msgs, e.Message)
			}
			if !slices.Equal(msgs, tt.want) {
				t.Errorf("got %v, want %v", msgs, tt.want)
			}
		})
	}
	got, _ := s.Logs(ctx, cazbling.LogFilter{Limit: 1})
	want := rows[6]
	want.ID = got[0].ID
	if len(got) != 1 || got[0] != want {
		t.Errorf("row = %+v, want %+v", got[0], want)
	}
}

func testRunsAndSummaries(t *testing.T, b Backend) {
	ctx := context.Background()
	s, clk := b.openTest(t)
	addTenant(t, s, "acme")
	addTenant(t, s, "bolt")
	start := func(tenant, flow string) int64 {
		t.Helper()
		id, err := s.StartRun(ctx, cazbling.Run{TenantID: tenant, Flow: flow, Host: "host-a:4242:" + flow})
		if err != nil {
			t.Fatal(err)
		}
		clk.Add(time.Minute)
		return id
	}
	r1 := start("acme", "products")
	r2 := start("acme", "products")
	r3 := start("acme", "stock")
	r4 := start("bolt", "products")
	counts := cazbling.Counts{Created: 1, Updated: 2, Unchanged: 3, StockSet: 4, Skipped: 5, Warnings: 6, Failed: 7, Retry: 8}
	if err := s.FinishRun(ctx, cazbling.Run{ID: r2, Status: "error", Message: "7 failed", Counts: counts}); err != nil {
		t.Fatal(err)
	}
	if err := s.FinishRun(ctx, cazbling.Run{ID: 999, Status: "ok"}); err == nil {
		t.Error("finishing an unknown run succeeded")
	}

	runs, err := s.Runs(ctx, cazbling.RunFilter{TenantID: "acme"})
	if err != nil || len(runs) != 3 || runs[0].ID != r3 || runs[1].ID != r2 || runs[2].ID != r1 {
		t.Fatalf("runs = %+v, %v", runs, err)
	}
	got := runs[1]
	if got.Host != "host-a:4242:products" || runs[0].Host != "host-a:4242:stock" {
		t.Errorf("hosts %q and %q, want the ones each run started with", got.Host, runs[0].Host)
	}
	if got.Status != "error" || got.Message != "7 failed" || got.Counts != counts || got.FinishedAt.IsZero() || !got.StartedAt.Before(got.FinishedAt) {
		t.Errorf("finished run = %+v", got)
	}
	if runs[0].Status != "running" || !runs[0].FinishedAt.IsZero() {
		t.Errorf("running run = %+v", runs[0])
	}
	for name, tc := range map[string]struct {
		f    cazbling.RunFilter
		want []int64
	}{
		"flow":   {cazbling.RunFilter{Flow: "products"}, []int64{r4, r2, r1}},
		"status": {cazbling.RunFilter{Status: "running"}, []int64{r4, r3, r1}},
		"since":  {cazbling.RunFilter{Since: clk.Now().Add(-2 * time.Minute)}, []int64{r4, r3}},
		"id":     {cazbling.RunFilter{RunID: r2}, []int64{r2}},
		"limit":  {cazbling.RunFilter{Limit: 1}, []int64{r4}},
	} {
		runs, err := s.Runs(ctx, tc.f)
		var ids []int64
		for _, r := range runs {
			ids = append(ids, r.ID)
		}
		if err != nil || !slices.Equal(ids, tc.want) {
			t.Errorf("%s: ids %v, want %v (%v)", name, ids, tc.want, err)
		}
	}

	last, err := s.LastRuns(ctx, "acme")
	if err != nil || len(last) != 2 || last["products"].ID != r2 || last["stock"].ID != r3 {
		t.Errorf("last runs = %+v, %v", last, err)
	}

	// Failing now: order o1 (failed link), product P1 (latest row error), stock S1
	// (latest stock row error). Not failing: P2 (error, then ok), o2 (created).
	at := clk.Now()
	err = s.Apply(ctx, cazbling.Batch{
		OrderLinks: []cazbling.OrderLink{
			{TenantID: "acme", CazcoID: "o1", State: cazbling.OrderFailed},
			{TenantID: "acme", CazcoID: "o2", State: cazbling.OrderCreated},
		},
		Logs: []cazbling.LogEntry{
			{Time: at, TenantID: "acme", Entity: "product", Key: "P1", Status: "ok"},
			{Time: at.Add(time.Second), TenantID: "acme", Entity: "product", Key: "P1", Status: "error"},
			{Time: at, TenantID: "acme", Entity: "product", Key: "P2", Status: "error"},
			{Time: at.Add(time.Second), TenantID: "acme", Entity: "product", Key: "P2", Status: "ok"},
			{Time: at, TenantID: "acme", Entity: "stock", Key: "S1", Status: "error"},
			{Time: at, TenantID: "acme", Entity: "stock", Key: "P1", Status: "error"}, // same product as P1
			{Time: at, TenantID: "bolt", Entity: "product", Key: "B1", Status: "error"},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if n, err := s.FailingItems(ctx, "acme"); err != nil || n != 3 {
		t.Errorf("failing items = %d, %v; want 3", n, err)
	}
	if n, err := s.FailingItems(ctx, "bolt"); err != nil || n != 1 {
		t.Errorf("bolt failing items = %d, %v; want 1", n, err)
	}
}

func testPruneLogsKeepsFailingItems(t *testing.T, b Backend) {
	ctx := context.Background()
	s, clk := b.openTest(t)
	addTenant(t, s, "acme")
	addTenant(t, s, "bolt")
	old := clk.Now().Add(-48 * time.Hour)
	recent := clk.Now()
	row := func(at time.Time, tenant, entity, key, status string) cazbling.LogEntry {
		return cazbling.LogEntry{Time: at, TenantID: tenant, Entity: entity, Key: key, Status: status,
			Message: fmt.Sprintf("%s/%s/%s@%s", tenant, entity, key, at.Format("02T15:04:05"))}
	}
	err := s.Apply(ctx, cazbling.Batch{
		OrderLinks: []cazbling.OrderLink{
			{TenantID: "acme", CazcoID: "o-failed", State: cazbling.OrderFailed},
			{TenantID: "acme", CazcoID: "o-creating", State: cazbling.OrderCreating},
			{TenantID: "acme", CazcoID: "o-done", State: cazbling.OrderCreated},
		},
		Logs: []cazbling.LogEntry{
			row(old, "acme", "product", "ok-sku", "ok"),                          // deleted
			row(old, "acme", "product", "failing-sku", "ok"),                     // kept: item failing
			row(old.Add(time.Second), "acme", "product", "failing-sku", "error"), // kept
			row(old, "acme", "product", "fixed-sku", "error"),                    // deleted: fixed since
			row(recent, "acme", "product", "fixed-sku", "ok"),                    // kept: recent
			row(old, "acme", "order", "o-failed", "error"),                       // kept
			row(old, "acme", "order", "o-creating", "ok"),                        // kept
			row(old, "acme", "order", "o-done", "error"),                         // deleted: created since
			row(old.Add(time.Second), "acme", "order", "o-done", "ok"),           // deleted
			row(old, "bolt", "product", "failing-sku", "ok"),                     // deleted: other tenant's item is fine
			row(recent, "bolt", "product", "new-sku", "ok"),                      // kept: recent
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	n, err := s.PruneLogs(ctx, clk.Now().Add(-24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if n != 5 {
		t.Errorf("deleted %d rows, want 5", n)
	}
	left, _ := s.Logs(ctx, cazbling.LogFilter{})
	var got []string
	for _, e := range left {
		got = append(got, e.Message)
	}
	slices.Sort(got)
	want := []string{
		"acme/order/o-creating@27T12:00:00",
		"acme/order/o-failed@27T12:00:00",
		"acme/product/failing-sku@27T12:00:00",
		"acme/product/failing-sku@27T12:00:01",
		"acme/product/fixed-sku@01T12:00:00",
		"bolt/product/new-sku@01T12:00:00",
	}
	if !slices.Equal(got, want) {
		t.Errorf("left\n%v\nwant\n%v", got, want)
	}
}
