package httpx

import (
	"net/http"
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

// PerWindow returns a limiter allowing n requests per window on average, with a burst of
// burst. n <= 0 means unlimited.
func PerWindow(n int, window time.Duration, burst int) *rate.Limiter {
	if n <= 0 {
		return rate.NewLimiter(rate.Inf, 1)
	}
	if burst < 1 {
		burst = 1
	}
	return rate.NewLimiter(rate.Limit(float64(n)/window.Seconds()), burst)
}
