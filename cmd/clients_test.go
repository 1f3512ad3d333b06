package cmd

import (
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A tenant's account window is one open file; once the run is done with the tenant
// it is closed, so a run over many tenants does not hold a file for each.
func TestClientsReleaseATenant(t *testing.T) {
	dir := t.TempDir()
	app := &App{DB: filepath.Join(dir, "cazbling.db"), BlingRate: 2.8, BlingIPRate: 50, Logger: slog.New(slog.DiscardHandler)}
	c := newClients(app, nil)
	open := func() int {
		entries, err := os.ReadDir("/proc/self/fd")
		if err != nil {
			t.Skip("no /proc/self/fd here")
		}
		n := 0
		for _, e := range entries {
			if target, err := os.Readlink(filepath.Join("/proc/self/fd", e.Name())); err == nil && strings.HasPrefix(target, c.limits) {
				n++
			}
		}
		return n
	}
	base := open()
	for _, id := range []string{"a", "b", "c"} {
		if c.accountWindow(id) == nil {
			t.Fatal("no account window")
		}
	}
	if got := open() - base; got != 3 {
		t.Fatalf("%d window files open for 3 tenants, want 3", got)
	}
	if c.accountWindow("a") != c.accounts["a"] {
		t.Fatal("a tenant's clients do not share its window")
	}
	for _, id := range []string{"a", "b", "c"} {
		c.release(id)
	}
	if got := open() - base; got != 0 || len(c.accounts) != 0 {
		t.Fatalf("after release: %d files open, %d windows kept; want 0, 0", got, len(c.accounts))
	}
	if c.accountWindow("a") == nil || open()-base != 1 {
		t.Fatal("a released tenant's window cannot be made again")
	}
}
