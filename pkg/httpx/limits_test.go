package httpx

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"golang.org/x/time/rate"
)

// fakeClock is a clock that only moves when a sleeper sleeps.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }
func (c *fakeClock) sleep(ctx context.Context, d time.Duration) error {
	c.t = c.t.Add(d)
	return ctx.Err()
}

// admitTimes admits n requests through g one after another and returns the
// instants, as offsets from the start, at which each was admitted.
func admitTimes(t *testing.T, g *Gate, clock *fakeClock, n int) []time.Duration {
	t.Helper()
	start := clock.t
	var out []time.Duration
	for range n {
		if err := g.Wait(context.Background()); err != nil {
			t.Fatal(err)
		}
		out = append(out, clock.t.Sub(start))
	}
	return out
}

func TestGateAdmitsThroughWindowAndPacer(t *testing.T) {
	ms := func(v ...int) []time.Duration {
		out := make([]time.Duration, len(v))
		for i, x := range v {
			out[i] = time.Duration(x) * time.Millisecond
		}
		return out
	}
	tests := []struct {
		name   string
		window *Window
		pacer  *rate.Limiter
		want   []time.Duration
	}{
		{
			// The window's allowance is spent at the pacer's speed, then each slot
			// is reused one length (and the guard, a hundredth of it) after it was
			// last used.
			name:   "window binds",
			window: NewWindow(3, time.Second),
			pacer:  rate.NewLimiter(10, 1),
			want:   ms(0, 100, 200, 1010, 1110, 1210, 2020, 2120),
		},
		{
			name:   "pacer binds",
			window: NewWindow(100, time.Second),
			pacer:  rate.NewLimiter(2, 1),
			want:   ms(0, 500, 1000, 1500, 2000),
		},
		{
			name:   "window alone",
			window: NewWindow(2, 10*time.Second),
			want:   ms(0, 0, 10100, 10100, 20200),
		},
		{
			name:  "pacer alone",
			pacer: rate.NewLimiter(4, 1),
			want:  ms(0, 250, 500),
		},
		{
			name:   "unlimited",
			window: NewWindow(0, time.Second),
			pacer:  rate.NewLimiter(rate.Inf, 1),
			want:   ms(0, 0, 0),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := &fakeClock{t: time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)}
			g := &Gate{Windows: []*Window{tt.window}, Pacers: []*rate.Limiter{tt.pacer}, Now: clock.now, Sleep: clock.sleep}
			got := admitTimes(t, g, clock, len(tt.want))
			// A sleep computed from float tokens may overshoot by a few nanoseconds.
			for i := range got {
				got[i] = got[i].Round(time.Millisecond)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("admitted at %v, want %v", got, tt.want)
			}
		})
	}
}

func TestGateRefusesAClosedPacer(t *testing.T) {
	g := &Gate{Pacers: []*rate.Limiter{rate.NewLimiter(0, 0)}}
	if err := g.Wait(context.Background()); err == nil {
		t.Fatal("a pacer that admits nothing must fail the wait, not block it")
	}
}

// hostSlot is a Slot kept elsewhere, by the test's clock: one admission every
// `every`, the next free at free (another host may have taken the slot before).
type hostSlot struct {
	clock *fakeClock
	every time.Duration
	free  time.Time
	asked int
}

func (s *hostSlot) Take(context.Context) time.Duration {
	s.asked++
	if now := s.clock.now(); now.Before(s.free) {
		return s.free.Sub(now)
	}
	s.free = s.clock.now().Add(s.every)
	return 0
}

// TestGateWaitsForItsSlotWithoutChargingItsWindows: a request that finds the shared
// slot taken (by another host, until 300 ms) waits for it, and the window of this
// host counts it only when it leaves: had the refused try been charged, the window (2
// per second) would hold the second request until 1010 ms.
func TestGateWaitsForItsSlotWithoutChargingItsWindows(t *testing.T) {
	clock := &fakeClock{t: time.Unix(1000, 0)}
	slot := &hostSlot{clock: clock, every: 500 * time.Millisecond, free: clock.t.Add(300 * time.Millisecond)}
	g := &Gate{Windows: []*Window{NewWindow(2, time.Second)}, Slots: []Slot{nil, slot}, Now: clock.now, Sleep: clock.sleep}
	got := admitTimes(t, g, clock, 4)
	want := []time.Duration{300 * time.Millisecond, 800 * time.Millisecond, 1310 * time.Millisecond, 1810 * time.Millisecond}
	if !slices.Equal(got, want) {
		t.Errorf("admitted at %v, want %v", got, want)
	}
	// The slot is not asked while a window here is full: its keeper is a round trip.
	if slot.asked != 6 {
		t.Errorf("slot asked %d times for 4 requests, want 6 (two refusals)", slot.asked)
	}
}

func TestGateStopsWithItsContext(t *testing.T) {
	w := NewWindow(1, time.Hour)
	g := &Gate{Windows: []*Window{w}}
	if err := g.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := g.Wait(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want the context's deadline", err)
	}
	if w.queued != 0 {
		t.Errorf("%d requests still counted as queued after the wait ended", w.queued)
	}
}

// TestGateUnderConcurrency lets goroutines share a window and each have its own pacer,
// as tenants share the process's window, and checks the admissions that two more
// windows recorded at the same instants (one shared by all, one per goroutine, both
// large enough to hold every admission): never more than n in any span of the shared
// window's length, and each goroutine's requests spaced by its pacer.
func TestGateUnderConcurrency(t *testing.T) {
	const n, length, workers, each = 5, 100 * time.Millisecond, 6, 6
	shared := NewWindow(n, length)
	all := NewWindow(workers*each, time.Hour)
	mine := make([]*Window, workers)
	var wg sync.WaitGroup
	for k := range workers {
		mine[k] = NewWindow(each, time.Hour)
		g := &Gate{Windows: []*Window{shared, all, mine[k]}, Pacers: []*rate.Limiter{rate.NewLimiter(50, 1)}}
		wg.Go(func() {
			for range each {
				if err := g.Wait(context.Background()); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if len(all.times) != workers*each {
		t.Fatalf("%d admissions recorded, want %d", len(all.times), workers*each)
	}
	for i := n; i < len(all.times); i++ {
		if d := all.times[i].Sub(all.times[i-n]); d < length {
			t.Errorf("admissions %d and %d are %v apart: %d in less than %v", i-n, i, d, n+1, length)
		}
	}
	for k, w := range mine {
		for i := 1; i < len(w.times); i++ {
			if d := w.times[i].Sub(w.times[i-1]); d < 20*time.Millisecond-time.Microsecond {
				t.Errorf("worker %d: requests %d and %d %v apart, under its pacer's 20ms", k, i-1, i, d)
			}
		}
	}
	if shared.queued != 0 {
		t.Errorf("%d requests still counted as queued", shared.queued)
	}
}

// A window made larger admits at once what the new size allows, counting what it
// already admitted; one made smaller keeps the newest admissions and holds the next
// request until the oldest of those frees.
func TestWindowResizeKeepsWhatWasAdmitted(t *testing.T) {
	clock := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	w := NewWindow(2, time.Second)
	g := &Gate{Windows: []*Window{w}, Now: clock.now, Sleep: clock.sleep}
	guard := time.Second / 100

	got := admitTimes(t, g, clock, 3) // 0, 0, then a second and its guard later
	if want := []time.Duration{0, 0, time.Second + guard}; !slices.Equal(got, want) {
		t.Fatalf("before resize: admitted at %v, want %v", got, want)
	}
	w.Resize(4, time.Second) // 3 admitted in the last second at most: one more now
	got = admitTimes(t, g, clock, 3)
	// The two admitted at t0 freed just now: the window holds 1 of 4, three go at once.
	if want := []time.Duration{0, 0, 0}; !slices.Equal(got, want) {
		t.Fatalf("after growing to 4: admitted at %v, want %v", got, want)
	}
	if n, l := w.Limit(); n != 4 || l != time.Second {
		t.Fatalf("Limit() = %d per %v, want 4 per 1s", n, l)
	}

	// Four in the last instant; shrink to 2 per 2 s: the next waits for the older of
	// the two newest, 2 s and its guard after they were admitted.
	w.Resize(2, 2*time.Second)
	got = admitTimes(t, g, clock, 1)
	if want := 2*time.Second + 2*guard; got[0] != want {
		t.Fatalf("after shrinking to 2 per 2s: admitted %v after the burst, want %v", got[0], want)
	}

	w.Resize(0, time.Second) // ignored
	w.Resize(3, 0)           // ignored
	if n, l := w.Limit(); n != 2 || l != 2*time.Second {
		t.Fatalf("bad sizes changed the window to %d per %v", n, l)
	}
	var nilWindow *Window
	nilWindow.Resize(3, time.Second) // no panic
}
