package cmd

import (
	"bytes"
	"context"
	"slices"
	"testing"
	"time"

	"github.com/cazbling/cazbling/pkg/cazbling"
	"github.com/cazbling/cazbling/pkg/store"
)

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
		Store: func(context.Context) (store.Store, error) { return s, nil }}
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
