package postgres_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cazbling/cazbling/pkg/store/storetest"
)

// Two hosts (two stores on one database) asking one pace at the same instant: exactly
// one request is admitted, the others are told to wait until the slot frees, and when
// it has the next one goes.
func TestTakePaceAdmitsOneRequestPerSlotAcrossHosts(t *testing.T) {
	ctx := context.Background()
	dsn := storetest.NewPostgresSchema(t)
	var nanos atomic.Int64
	nanos.Store(time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC).UnixNano())
	now := func() time.Time { return time.Unix(0, nanos.Load()) }
	hosts := []interface {
		TakePace(context.Context, string, time.Duration) (time.Duration, error)
	}{open(t, dsn, now), open(t, dsn, now)}
	const every = 400 * time.Millisecond

	var admitted atomic.Int32
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			wait, err := hosts[i%2].TakePace(ctx, "bling-account:t1", every)
			if err != nil {
				t.Error(err)
				return
			}
			switch {
			case wait == 0:
				admitted.Add(1)
			case wait != every:
				t.Errorf("a refused request waits %v, want %v (the slot frees %v after the admitted one)", wait, every, every)
			}
		}()
	}
	wg.Wait()
	if n := admitted.Load(); n != 1 {
		t.Fatalf("%d requests admitted at one instant, want 1", n)
	}

	nanos.Add(int64(every - 100*time.Millisecond))
	if wait, err := hosts[1].TakePace(ctx, "bling-account:t1", every); err != nil || wait != 100*time.Millisecond {
		t.Errorf("300 ms later: wait %v (err %v), want 100ms", wait, err)
	}
	// Another pace is not held by this one.
	if wait, err := hosts[1].TakePace(ctx, "bling-account:t2", every); err != nil || wait != 0 {
		t.Errorf("another account's pace: wait %v (err %v), want 0", wait, err)
	}
	nanos.Add(int64(100 * time.Millisecond))
	if wait, err := hosts[1].TakePace(ctx, "bling-account:t1", every); err != nil || wait != 0 {
		t.Errorf("once the slot freed: wait %v (err %v), want 0", wait, err)
	}
	if wait, err := hosts[0].TakePace(ctx, "bling-account:t1", every); err != nil || wait != every {
		t.Errorf("right after: wait %v (err %v), want %v", wait, err, every)
	}
}
