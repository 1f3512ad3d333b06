package cazco

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cazbling/cazbling/pkg/cazbling"
	"github.com/cazbling/cazbling/pkg/httpx"
)

// What a key may do is learned from CaZco's answers. Every answer carries
// X-RateLimit-Limit, the requests the key may make per window (a minute, by the
// contract); a server that says its window in an IETF RateLimit-Policy header
// ("600;w=60" or `"default";q=600;w=60`) is taken at its word for the window too.
// The client paces at 95% of what was advertised last, from the first answer on,
// whether that is above or below the configured assumption (RatePerMinute), which is
// used only until an answer says otherwise. Values that cannot be a key's limit (not
// a number, 0 or less, over maxPlausibleLimit, a window under a second or over an
// hour) are ignored with a warning: a garbled header must not let the client flood
// the key, nor stall it.
const (
	contractWindow     = time.Minute // CAZCO.md: "requests per minute per key"
	maxPlausibleLimit  = 100_000     // requests per window
	minPlausibleWindow = time.Second
	maxPlausibleWindow = time.Hour
)

// advertisedLimit reads the limit an answer advertises. present is false when it
// advertises none; bad names a header whose value is not a plausible limit (and then
// present is false).
func advertisedLimit(h http.Header) (l cazbling.RateLimit, present bool, bad string) {
	window := contractWindow
	n, hasN := 0, false
	if p := strings.TrimSpace(h.Get("RateLimit-Policy")); p != "" {
		q, w, ok := parsePolicy(p)
		if !ok {
			return l, false, "RateLimit-Policy: " + p
		}
		if w > 0 {
			window = w
		}
		if q > 0 {
			n, hasN = q, true
		}
	}
	if v := strings.TrimSpace(h.Get("X-RateLimit-Limit")); v != "" {
		x, err := strconv.Atoi(v)
		if err != nil || x <= 0 || x > maxPlausibleLimit {
			return l, false, "X-RateLimit-Limit: " + v
		}
		n, hasN = x, true
	}
	if !hasN {
		return l, false, ""
	}
	if window < minPlausibleWindow || window > maxPlausibleWindow {
		return l, false, "RateLimit-Policy window: " + window.String()
	}
	return cazbling.RateLimit{N: n, Window: window}, true, ""
}

// parsePolicy reads the first policy of a RateLimit-Policy header: its quota (q=, or
// a leading number in the older drafts) and its window (w=, seconds). Either may be
// absent (0). ok is false for a value that cannot be read.
func parsePolicy(v string) (quota int, window time.Duration, ok bool) {
	first, _, _ := strings.Cut(v, ",")
	for i, part := range strings.Split(first, ";") {
		part = strings.TrimSpace(part)
		key, val, isParam := strings.Cut(part, "=")
		if !isParam {
			if i == 0 {
				if strings.HasPrefix(part, `"`) {
					continue // the policy's name
				}
				n, err := strconv.Atoi(part)
				if err != nil || n <= 0 || n > maxPlausibleLimit {
					return 0, 0, false
				}
				quota = n
				continue
			}
			return 0, 0, false
		}
		switch strings.TrimSpace(key) {
		case "q":
			n, err := strconv.Atoi(strings.TrimSpace(val))
			if err != nil || n <= 0 || n > maxPlausibleLimit {
				return 0, 0, false
			}
			quota = n
		case "w":
			s, err := strconv.Atoi(strings.TrimSpace(val))
			if err != nil || s <= 0 || time.Duration(s)*time.Second > maxPlausibleWindow {
				return 0, 0, false
			}
			window = time.Duration(s) * time.Second
		}
	}
	return quota, window, true
}

// plausible reports whether l could be a key's limit.
func plausible(l cazbling.RateLimit) bool {
	return l.N > 0 && l.N <= maxPlausibleLimit && l.Window >= minPlausibleWindow && l.Window <= maxPlausibleWindow
}

// Pacer is the limit on one key: a window of 95% of the allowance, made again in place
// when an answer advertises another. It is the transport's Limiter. The clients of
// one key in a process share one (Options.Pacer), so that together they stay under
// the key's allowance.
type Pacer struct {
	mu      sync.Mutex
	gate    *httpx.Gate // nil: no pacing (none configured, none advertised yet)
	window  *httpx.Window
	current cazbling.RateLimit // the allowance paced at; zero: the configured assumption
	warned  map[string]bool
	now     func() time.Time // the gate's clock; nil: the wall clock
	sleep   func(ctx context.Context, d time.Duration) error
}

// NewPacer returns a Pacer for one key, to share between its clients: it paces at
// learned if that is plausible, else at perMinute (0: the contract's 60; < 0: none
// until an answer advertises a limit), on the wall clock.
func NewPacer(perMinute int, learned cazbling.RateLimit) *Pacer {
	if perMinute == 0 {
		perMinute = defaultRatePerMinute
	}
	return newPacer(perMinute, learned, nil, nil)
}

// newPacer paces at learned if it is plausible, else at perMinute (<= 0: none), on
// the given clock (nil: the wall clock).
func newPacer(perMinute int, learned cazbling.RateLimit, now func() time.Time, sleep func(context.Context, time.Duration) error) *Pacer {
	p := &Pacer{warned: map[string]bool{}, now: now, sleep: sleep}
	switch {
	case plausible(learned):
		p.set(learned)
	case perMinute > 0:
		p.window = httpx.NewWindow(share(perMinute), contractWindow)
		p.gate = &httpx.Gate{Windows: []*httpx.Window{p.window}, Now: now, Sleep: sleep}
	}
	return p
}

func share(n int) int { return max(1, int(rateShare*float64(n))) }

// set paces at l from now on; p.mu is held or p is not yet shared.
func (p *Pacer) set(l cazbling.RateLimit) {
	p.current = l
	if p.window != nil {
		p.window.Resize(share(l.N), l.Window)
		return
	}
	p.window = httpx.NewWindow(share(l.N), l.Window)
	p.gate = &httpx.Gate{Windows: []*httpx.Window{p.window}, Now: p.now, Sleep: p.sleep}
}

// Wait admits a request under the pace in force.
func (p *Pacer) Wait(ctx context.Context) error {
	p.mu.Lock()
	g := p.gate
	p.mu.Unlock()
	if g == nil {
		return ctx.Err()
	}
	return g.Wait(ctx)
}

// learn takes what an answer advertises. It returns the new limit and true when it
// differs from the one in force, and the bad header (once per distinct value) to warn
// about.
func (p *Pacer) learn(h http.Header, now time.Time) (changed cazbling.RateLimit, isNew bool, warn string) {
	l, present, bad := advertisedLimit(h)
	p.mu.Lock()
	defer p.mu.Unlock()
	if bad != "" {
		if !p.warned[bad] {
			p.warned[bad] = true
			return l, false, bad
		}
		return l, false, ""
	}
	if !present || (l.N == p.current.N && l.Window == p.current.Window) {
		return l, false, ""
	}
	l.SeenAt = now
	p.set(l)
	return l, true, ""
}

// Limit returns the allowance in force and whether it was learned (from an answer,
// or given as learned).
func (p *Pacer) Limit() (cazbling.RateLimit, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.current, p.current.N > 0
}
