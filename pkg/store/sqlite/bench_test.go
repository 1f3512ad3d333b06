package sqlite

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/cazbling/cazbling/pkg/cazbling"
)

const benchRows = 1_000_000

// benchStart is the time of the first benchmark row; rows follow every 2.5 s, so a
// million rows span about 29 days.
var benchStart = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func benchRow(i int) cazbling.LogEntry {
	flows := []string{cazbling.FlowProducts, cazbling.FlowStock, cazbling.FlowOrders}
	e := cazbling.LogEntry{
		Time:     benchStart.Add(time.Duration(i) * 2500 * time.Millisecond),
		RunID:    int64(i/10_000 + 1),
		TenantID: fmt.Sprintf("tenant-%d", i%10),
		Flow:     flows[(i/10)%3],
		Action:   cazbling.ActionUpdated,
		Status:   cazbling.StatusOK,
		Message:  "price and stock updated",
	}
	switch e.Flow {
	case cazbling.FlowOrders:
		e.Entity, e.Key = cazbling.EntityOrder, fmt.Sprintf("order-%07d", i)
	case cazbling.FlowStock:
		e.Entity, e.Key = cazbling.EntityStock, fmt.Sprintf("SKU-%05d", (i/7)%20_000)
	default:
		e.Entity, e.Key = cazbling.EntityProduct, fmt.Sprintf("SKU-%05d", (i/7)%20_000)
	}
	switch r := (i / 13) % 100; {
	case r < 3:
		e.Status, e.Action, e.Message = cazbling.StatusError, cazbling.ActionFailed, "HTTP 422: invalid GTIN"
	case r < 8:
		e.Status = cazbling.StatusWarning
	case r < 10:
		e.Status, e.Action = cazbling.StatusSkipped, cazbling.ActionSkipped
	}
	return e
}

// benchStore opens a store holding benchRows log rows. Building one takes a while,
// so it is kept in the temporary folder between runs (delete it to rebuild).
func benchStore(b *testing.B) *Store {
	b.Helper()
	ctx := context.Background()
	key := testKey(9)
	path := filepath.Join(os.TempDir(), fmt.Sprintf("cazbling-bench-logs1m-v%d.db", SchemaVersion()))
	if _, err := os.Stat(path); err != nil {
		building := path + ".building"
		for _, suffix := range []string{"", "-wal", "-shm"} {
			os.Remove(building + suffix)
		}
		s, err := Open(ctx, Options{Path: building, Key: key})
		if err != nil {
			b.Fatal(err)
		}
		for i := range 10 {
			if err := s.UpsertTenant(ctx, cazbling.Tenant{ID: fmt.Sprintf("tenant-%d", i)}, nil); err != nil {
				b.Fatal(err)
			}
		}
		const batch = 10_000
		logs := make([]cazbling.LogEntry, batch)
		for start := 0; start < benchRows; start += batch {
			for j := range logs {
				logs[j] = benchRow(start + j)
			}
			if err := s.Apply(ctx, cazbling.Batch{Logs: logs}); err != nil {
				b.Fatal(err)
			}
		}
		if _, err := s.db.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
			b.Fatal(err)
		}
		if err := s.Close(); err != nil {
			b.Fatal(err)
		}
		if err := os.Rename(building, path); err != nil {
			b.Fatal(err)
		}
	}
	s, err := Open(ctx, Options{Path: path, Key: key})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

// BenchmarkLogs1M measures `cazbling logs` queries (limit 50, the CLI default) over a
// million log rows.
func BenchmarkLogs1M(b *testing.B) {
	s := benchStore(b)
	ctx := context.Background()
	end := benchStart.Add(benchRows * 2500 * time.Millisecond)
	filters := []struct {
		name string
		f    cazbling.LogFilter
	}{
		{"none", cazbling.LogFilter{}},
		{"tenant", cazbling.LogFilter{TenantID: "tenant-3"}},
		{"tenant+status", cazbling.LogFilter{TenantID: "tenant-3", Status: cazbling.StatusError}},
		{"status", cazbling.LogFilter{Status: cazbling.StatusSkipped}},
		{"sku", cazbling.LogFilter{Key: "SKU-01234"}},
		{"sku+tenant", cazbling.LogFilter{Key: "SKU-01234", TenantID: "tenant-4"}},
		{"order", cazbling.LogFilter{Key: "order-0500000", Entity: cazbling.EntityOrder}},
		{"flow+since", cazbling.LogFilter{Flow: cazbling.FlowStock, Since: end.Add(-24 * time.Hour)}},
		{"tenant+flow+status+since", cazbling.LogFilter{TenantID: "tenant-5", Flow: cazbling.FlowProducts, Status: cazbling.StatusError, Since: end.Add(-7 * 24 * time.Hour)}},
		{"run", cazbling.LogFilter{RunID: 42}},
		{"since old", cazbling.LogFilter{Since: benchStart}},
	}
	for _, tc := range filters {
		tc.f.Limit = 50
		b.Run(tc.name, func(b *testing.B) {
			for b.Loop() {
				rows, err := s.Logs(ctx, tc.f)
				if err != nil {
					b.Fatal(err)
				}
				if len(rows) == 0 {
					b.Fatal("no rows")
				}
			}
		})
	}
}
