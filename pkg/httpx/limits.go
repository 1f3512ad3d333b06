package httpx

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// NewTransport returns the HTTP client every API client uses: TLS verification on
// (the default; there is no switch to turn it off), sane timeouts, and enough idle
// connections per host for concurrent tenants.
func NewTransport(timeout time.Duration) *http.Client {
	if timeout <= 0 {
		timeout = 60 * time.Second
	}
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 64
	t.ResponseHeaderTimeout = timeout
	return &http.Client{Transport: t, Timeout: timeout}
}

// PerSecond returns a limiter allowing n requests a second with no burst beyond one
// window of n spread evenly: it paces just under the limit rather than in bursts.
// n <= 0 means unlimited.
func PerSecond(n float64) *rate.Limiter {
	if n <= 0 {
		return rate.NewLimiter(rate.Inf, 1)
	}
	return rate.NewLimiter(rate.Limit(n), 1)
}

// Limiter is what a Client waits for before each attempt: a *rate.Limiter, or a *Gate
// that admits a request through several limits at once.
type Limiter interface {
	Wait(ctx context.Context) error
}

// Window is a limit stated as a count per period: at most n requests in any span of
// the window's length (Bling: 600 requests in 10 s per IP; CaZco: 60 a minute per
// key). It keeps the last n admission times, so whatever window the server counts
// in, fixed or sliding and wherever it starts, it sees at most n. A token bucket can
// only approximate such a limit by pacing evenly at n per length, which spends a
// window's allowance no faster than the bucket refills and so leaves a run that
// needs little more than one window's worth waiting for most of a second one.
//
// A slot is used again only a hundredth of the length after it frees: the window
// sees when a request leaves, the server when it arrives, and without that guard a
// request slowed on its way could be counted with the one that reuses its slot.
//
// A window made by NewSharedWindow is kept in a file, and so shared by every process
// that uses the same file. A Window admits nothing by itself: a Gate admits requests
// through it.
type Window struct {
	n      int
	span   time.Duration
	length time.Duration // span plus the guard: how long a slot stays used

	mu     sync.Mutex
	times  []time.Time // the last n admissions; once full, the oldest is at next
	next   int
	queued int // requests asleep until a slot frees, each until its own slot

	file  *os.File // NewSharedWindow's; nil: this process only
	dirty bool     // an admission to save before the file is unlocked
	buf   []byte   // the file's contents, read or written under the lock
}

// NewWindow returns a window of at most n requests in any span of length; nil (no
// limit) when n <= 0.
func NewWindow(n int, length time.Duration) *Window {
	if n <= 0 || length <= 0 {
		return nil
	}
	return &Window{n: n, span: length, length: length + length/100, times: make([]time.Time, 0, n)}
}

// String describes the window, e.g. "495 per 10s".
func (w *Window) String() string {
	if w == nil {
		return "unlimited"
	}
	return fmt.Sprintf("%d per %v", w.n, w.span)
}

// lock takes the window for one admission decision: its mutex and, for a shared
// window, the file's lock, reading what other processes admitted since.
func (w *Window) lock() {
	w.mu.Lock()
	if w.file != nil {
		w.loadShared()
	}
}

// unlock saves an admission made under lock to the shared file and lets go.
func (w *Window) unlock() {
	if w.file != nil {
		w.saveShared()
	}
	w.mu.Unlock()
}

// usedUntil is when the slot at i frees. An admission time after now (the wall clock
// went back, or another process's clock is ahead) counts as now.
func (w *Window) usedUntil(i int, now time.Time) time.Time {
	t := w.times[i]
	if t.After(now) {
		t = now
	}
	return t.Add(w.length)
}

// freeLocked reports whether a request may be admitted at now.
func (w *Window) freeLocked(now time.Time) bool {
	return len(w.times) < w.n || !now.Before(w.usedUntil(w.next, now))
}

// waitLocked returns how long a request that finds the window full at now sleeps:
// until the slot after the ones the requests already asleep wait for frees, so that
// they do not all wake for the same slot.
func (w *Window) waitLocked(now time.Time) time.Duration {
	ahead := min(w.queued, w.n-1)
	return max(w.usedUntil((w.next+ahead)%w.n, now).Sub(now), time.Millisecond)
}

func (w *Window) recordLocked(now time.Time) {
	w.dirty = true
	if len(w.times) < w.n {
		w.times = append(w.times, now)
		return
	}
	w.times[w.next] = now
	w.next = (w.next + 1) % w.n
}

// Gate admits a request only at an instant when all its limits allow it, and charges
// them all at that instant. Waiting for the limits one after the other would let
// each wait spoil the others: a request that waited for its process-wide slot and
// then for its account's pace would leave after the slot was counted (more than n in
// a window at the server), and one that waited the other way round would leave
// bunched with its account's previous request.
//
// Windows shared by several gates must be listed in the same order in each (they
// are locked in that order). Nil windows, pacers and slots are skipped.
type Gate struct {
	Windows []*Window
	Pacers  []*rate.Limiter // token buckets: each must hold a whole token
	// Slots are paces kept outside this process (one that every host shares), asked
	// last, when every window and pacer here allows the request: a request another
	// host took the slot from waits without charging anything here.
	Slots []Slot
	// Now and Sleep default to the wall clock; tests replace them.
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
}

// Wait blocks until the gate admits a request, or ctx ends.
func (g *Gate) Wait(ctx context.Context) error {
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		d, queuedOn, err := g.try(ctx)
		if err != nil || d == 0 {
			return err
		}
		err = g.sleep(ctx, d)
		if queuedOn != nil {
			queuedOn.mu.Lock()
			queuedOn.queued--
			queuedOn.mu.Unlock()
		}
		if err != nil {
			return err
		}
	}
}

// try admits a request now (0) or says how long to sleep before trying again; when
// the sleep is for a window's slot, the request is counted as queued on that window
// until it wakes. The clock is read under the windows' locks, so that each window
// records its admissions in order.
func (g *Gate) try(ctx context.Context) (time.Duration, *Window, error) {
	for _, w := range g.Windows {
		if w != nil {
			w.lock()
			defer w.unlock()
		}
	}
	now := g.now()
	var wait time.Duration
	var full *Window
	for _, w := range g.Windows {
		if w != nil && !w.freeLocked(now) {
			if d := w.waitLocked(now); d > wait {
				wait, full = d, w
			}
		}
	}
	for _, p := range g.Pacers {
		if p == nil || p.Limit() == rate.Inf {
			continue
		}
		tokens := p.TokensAt(now)
		if tokens >= 1 {
			continue
		}
		if p.Limit() <= 0 || p.Burst() < 1 {
			return 0, nil, fmt.Errorf("rate limiter admits nothing (rate %v, burst %d)", p.Limit(), p.Burst())
		}
		if d := time.Duration((1 - tokens) / float64(p.Limit()) * float64(time.Second)); d > wait {
			wait, full = max(d, time.Millisecond), nil
		}
	}
	if wait > 0 {
		if full != nil {
			full.queued++
		}
		return wait, full, nil
	}
	// Every limit allows the request now: charge them all. A pacer another user
	// drained in between gives its reservations back.
	var taken []*rate.Reservation
	for _, p := range g.Pacers {
		if p == nil {
			continue
		}
		r := p.ReserveN(now, 1)
		if d := r.DelayFrom(now); !r.OK() || d > 0 {
			r.CancelAt(now)
			for _, t := range taken {
				t.CancelAt(now)
			}
			if !r.OK() {
				return 0, nil, fmt.Errorf("rate limiter admits nothing (rate %v, burst %d)", p.Limit(), p.Burst())
			}
			return max(d, time.Millisecond), nil, nil
		}
		taken = append(taken, r)
	}
	// Asked under the windows' locks, so that what they record is what the slots
	// admitted: a round trip to the slot's keeper per admission.
	for _, s := range g.Slots {
		if s == nil {
			continue
		}
		if d := s.Take(ctx); d > 0 {
			for _, t := range taken {
				t.CancelAt(now)
			}
			return max(d, time.Millisecond), nil, nil
		}
	}
	for _, w := range g.Windows {
		if w != nil {
			w.recordLocked(now)
		}
	}
	return 0, nil, nil
}

// A Slot is a pace that every process on every host shares, kept where they all
// reach it (cazbling: a PostgreSQL store): Take admits one request now and returns 0,
// or returns how long until the next request may try. A slot that cannot be reached
// admits: the caller's own windows still pace this host, and Take says so itself.
type Slot interface {
	Take(ctx context.Context) time.Duration
}

func (g *Gate) now() time.Time {
	if g.Now != nil {
		return g.Now()
	}
	return time.Now()
}

func (g *Gate) sleep(ctx context.Context, d time.Duration) error {
	if g.Sleep != nil {
		return g.Sleep(ctx, d)
	}
	return Sleep(ctx, d)
}

// Resize makes the window one of at most n requests in any span of length, keeping
// the admissions it holds (the newest n of them), so that a limit learned while
// requests are being admitted takes effect at once without forgetting what was
// sent. n or length <= 0 leave the window as it is. Only for windows of this process:
// a shared window's size is part of its agreement with the other processes.
func (w *Window) Resize(n int, length time.Duration) {
	if w == nil || n <= 0 || length <= 0 {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.file != nil {
		return
	}
	ordered := make([]time.Time, 0, max(n, len(w.times)))
	for i := range w.times {
		ordered = append(ordered, w.times[(w.next+i)%len(w.times)])
	}
	if len(ordered) > n {
		ordered = ordered[len(ordered)-n:]
	}
	w.times, w.next = ordered, 0
	w.n, w.span, w.length = n, length, length+length/100
}

// Waiting returns how many of this process's requests are asleep until a slot of the
// window frees: more than 0 means the window is spent for now.
func (w *Window) Waiting() int {
	if w == nil {
		return 0
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.queued
}

// Limit returns the window's size: n requests in any span of length; 0, 0 for nil.
func (w *Window) Limit() (n int, length time.Duration) {
	if w == nil {
		return 0, 0
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.n, w.span
}
