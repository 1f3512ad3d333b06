package cazco

import (
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cazbling/cazbling/pkg/httpx"
)

// rateWindow follows CaZco's fixed window (a minute unless the server says otherwise) through the X-RateLimit-Limit and
// X-RateLimit-Remaining headers, so that once Remaining reaches 0 the client waits for
// the next window instead of drawing a 429. The server does not say when its window
// started; the client assumes it began when it saw Remaining == Limit-1 (the first call
// of a window), or at the first answer it saw, which errs on the side of waiting.
type rateWindow struct {
	mu     sync.Mutex
	length time.Duration
	start  time.Time // start of the current window as estimated; zero: none seen yet
	until  time.Time // no request before this instant
}

// observe records the rate-limit headers of an answer received at now.
func (w *rateWindow) observe(now time.Time, h http.Header) {
	remaining, ok := headerInt(h, "X-RateLimit-Remaining")
	if !ok {
		return
	}
	limit, hasLimit := headerInt(h, "X-RateLimit-Limit")
	retryAfter := httpx.RetryAfter(h)
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.start.IsZero() || !now.Before(w.start.Add(w.length)) || (hasLimit && remaining == limit-1) {
		w.start = now
	}
	if remaining > 0 {
		return
	}
	end := w.start.Add(w.length)
	if retryAfter > 0 {
		// The server knows when its window ends; trust it over the estimate.
		end = now.Add(retryAfter)
	}
	if end.After(w.until) {
		w.until = end
	}
}

// setLength makes the window length long (as the server advertised it).
func (w *rateWindow) setLength(length time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.length = length
}

// wait returns how long a request must wait at now; 0 if it may go.
func (w *rateWindow) wait(now time.Time) time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	if now.Before(w.until) {
		return w.until.Sub(now)
	}
	return 0
}

func headerInt(h http.Header, name string) (int, bool) {
	v := strings.TrimSpace(h.Get(name))
	if v == "" {
		return 0, false
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, false
	}
	return n, true
}
