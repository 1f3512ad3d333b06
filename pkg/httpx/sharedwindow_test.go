package httpx

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

func sharedWindow(t *testing.T, path string, n int, length time.Duration) *Window {
	t.Helper()
	w, err := NewSharedWindow(path, n, length)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return w
}

// TestSharedWindowAcrossHandles opens one window file twice, as two processes do,
// and admits through both in turn: together they keep the window's limit, and a
// handle opened later (the next run) starts from what the earlier ones admitted.
func TestSharedWindowAcrossHandles(t *testing.T) {
	path := filepath.Join(t.TempDir(), "limits", "bling-ip")
	clock := &fakeClock{t: time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)}
	start := clock.t
	gate := func(w *Window) *Gate {
		return &Gate{Windows: []*Window{w}, Now: clock.now, Sleep: clock.sleep}
	}
	a, b := gate(sharedWindow(t, path, 3, time.Second)), gate(sharedWindow(t, path, 3, time.Second))
	var got []time.Duration
	for i := range 7 {
		g := a
		if i%2 == 1 {
			g = b
		}
		if err := g.Wait(context.Background()); err != nil {
			t.Fatal(err)
		}
		got = append(got, clock.t.Sub(start))
	}
	ms := time.Millisecond
	want := []time.Duration{0, 0, 0, 1010 * ms, 1010 * ms, 1010 * ms, 2020 * ms}
	if !slices.Equal(got, want) {
		t.Errorf("admitted at %v, want %v (3 a second between both handles)", got, want)
	}
	if info, err := os.Stat(path); err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("window file: %v, mode %v; want 0600", err, info.Mode().Perm())
	}

	// The next run: a new handle waits for the slots the earlier ones used.
	c := gate(sharedWindow(t, path, 3, time.Second))
	before := clock.t
	if err := c.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	if waited := clock.t.Sub(before); waited != 0 {
		// Two slots were used at 1.01 s and one at 2.02 s; at 2.02 s the 1.01 s ones
		// are free again.
		t.Errorf("a new handle waited %v at %v, want 0 (two slots free)", waited, before.Sub(start))
	}
	if err := c.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := c.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	if at := clock.t.Sub(start); at != 3030*ms {
		t.Errorf("third admission of the new handle at %v, want 3.03s (the slot used at 2.02s)", at)
	}
}

// TestSharedWindowFileContents: a file that is not a window's starts afresh, and one
// written by a larger window counts its newest admissions.
func TestSharedWindowFileContents(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	admit := func(w *Window) bool { // one try at now; true if admitted
		g := &Gate{Windows: []*Window{w}, Now: func() time.Time { return now }}
		d, queued, err := g.try(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if queued != nil {
			queued.mu.Lock()
			queued.queued--
			queued.mu.Unlock()
		}
		return d == 0
	}

	garbage := filepath.Join(t.TempDir(), "garbage")
	if err := os.WriteFile(garbage, []byte("CZW1\xff\xff\xff\xffnot a window at all"), 0o600); err != nil {
		t.Fatal(err)
	}
	w := sharedWindow(t, garbage, 2, time.Minute)
	if !admit(w) || !admit(w) || admit(w) {
		t.Error("a garbage file should start afresh: 2 admitted, the third held")
	}

	path := filepath.Join(t.TempDir(), "shared")
	big := sharedWindow(t, path, 5, time.Minute)
	for i := range 5 {
		now = now.Add(time.Second)
		if !admit(big) {
			t.Fatalf("the large window refused admission %d", i)
		}
	}
	small := sharedWindow(t, path, 3, time.Minute)
	if admit(small) {
		t.Error("a smaller window over a full larger one admitted at once")
	}
	// Its 3 newest slots free 61 s after they were used (1 minute and the guard).
	now = now.Add(60*time.Second + 600*time.Millisecond - 2*time.Second)
	if !admit(small) {
		t.Error("the smaller window still held when the third newest slot had freed")
	}
}
