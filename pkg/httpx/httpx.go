// Package httpx holds the transport pieces the API clients share: pacing with
// golang.org/x/time/rate limiters and sliding windows (Gate), bounded retries with exponential backoff and jitter
// (cenkalti/backoff), and redaction of secrets in anything that may be logged.
package httpx

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/cenkalti/backoff/v5"
)

// MaxBody is the largest response body read; anything larger is an error, not an
// out-of-memory crash.
const MaxBody = 32 << 20

// Request is one logical API call. Body is kept as bytes so that it can be re-sent.
type Request struct {
	Method string
	URL    string
	Header http.Header
	Body   []byte
	// Idempotent marks a call that may be repeated after a 5xx or a network error
	// (GET, PUT of absolute values). A non-idempotent call (an order POST) is repeated
	// only when the server said it did not process it (429).
	Idempotent bool
}

// Response is a complete answer: status, headers and the whole body.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// Verdict is a client's reading of one answer: whether to try again, and the
// server's own wait hint.
type Verdict struct {
	Retry bool
	Wait  time.Duration // at least this long before the next try (Retry-After)
}

// Classifier reads an answer and says whether it is worth repeating. It is called only
// for status codes >= 400.
type Classifier func(resp *Response) Verdict

// Client sends Requests with pacing and bounded retries.
type Client struct {
	HTTP *http.Client
	// Limiters are all waited for, in order, before every attempt. Waiting for one
	// can delay the request past the ones before it: limits that must all hold at
	// the instant the request leaves go in one Gate.
	Limiters []Limiter
	// MaxAttempts bounds the tries of one call (default 5).
	MaxAttempts int
	// InitialInterval and MaxInterval shape the exponential backoff (defaults 500 ms, 30 s).
	InitialInterval time.Duration
	MaxInterval     time.Duration
	// Classify decides on retries of HTTP errors; nil retries 429 always and 5xx when
	// the request is idempotent.
	Classify Classifier
	// Observe, if set, is called after every attempt with its status (0 on a network
	// error): for metrics.
	Observe func(method, url string, status int)
	Logger  *slog.Logger
	// Sleep waits for d or until ctx ends; tests replace it.
	Sleep func(ctx context.Context, d time.Duration) error
}

// DefaultClassify retries 429 always (the server did not process the request) and
// 5xx when the request is idempotent, honouring Retry-After.
func DefaultClassify(resp *Response) Verdict {
	switch {
	case resp.Status == http.StatusTooManyRequests:
		return Verdict{Retry: true, Wait: RetryAfter(resp.Header)}
	case resp.Status >= 500:
		return Verdict{Retry: true, Wait: RetryAfter(resp.Header)}
	}
	return Verdict{}
}

// RetryAfter parses a Retry-After header given in seconds; 0 if absent or invalid.
func RetryAfter(h http.Header) time.Duration {
	v := h.Get("Retry-After")
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := time.Until(t); d > 0 {
			return d
		}
	}
	return 0
}

// NetworkError is a call that got no complete answer; whether the server acted on it
// is unknown.
type NetworkError struct {
	Method string
	URL    string // redacted
	Err    error
}

func (e *NetworkError) Error() string {
	return fmt.Sprintf("%s %s: no answer: %v", e.Method, e.URL, e.Err)
}

func (e *NetworkError) Unwrap() error { return e.Err }

// Timeout reports whether the call got no answer in time (the client's or the
// transport's timeout), as opposed to a refused or broken connection.
func (e *NetworkError) Timeout() bool {
	var t interface{ Timeout() bool }
	return errors.Is(e.Err, context.DeadlineExceeded) || errors.As(e.Err, &t) && t.Timeout()
}

// Do sends req, retrying as the Classifier and req.Idempotent allow, and returns the
// last answer. An HTTP error status is not a Go error: the caller decodes it. The error
// is a *NetworkError when no answer came, or the context's error.
func (c *Client) Do(ctx context.Context, req Request) (*Response, error) {
	attempts := c.MaxAttempts
	if attempts <= 0 {
		attempts = 5
	}
	bo := backoff.NewExponentialBackOff()
	bo.InitialInterval = orDefault(c.InitialInterval, 500*time.Millisecond)
	bo.MaxInterval = orDefault(c.MaxInterval, 30*time.Second)
	bo.RandomizationFactor = 0.5
	bo.Multiplier = 2
	bo.Reset()
	classify := c.Classify
	if classify == nil {
		classify = DefaultClassify
	}
	for attempt := 1; ; attempt++ {
		resp, err := c.once(ctx, req)
		var wait time.Duration
		switch {
		case err != nil:
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			if !req.Idempotent || attempt >= attempts {
				return nil, err
			}
		case resp.Status < 400:
			return resp, nil
		default:
			v := classify(resp)
			if !v.Retry || attempt >= attempts || (resp.Status != http.StatusTooManyRequests && !req.Idempotent) {
				return resp, nil
			}
			wait = v.Wait
		}
		d := bo.NextBackOff()
		if d == backoff.Stop {
			d = bo.MaxInterval
		}
		d = max(d, wait)
		c.logger().Debug("retrying request", "method", req.Method, "url", RedactURL(req.URL),
			"attempt", attempt, "wait", d, "status", statusOf(resp), "error", errString(err))
		if err := c.sleep(ctx, d); err != nil {
			return nil, err
		}
	}
}

func (c *Client) once(ctx context.Context, req Request) (*Response, error) {
	for _, l := range c.Limiters {
		if l == nil {
			continue
		}
		if err := l.Wait(ctx); err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, fmt.Errorf("wait for rate limit: %w", err)
		}
	}
	var body io.Reader
	if req.Body != nil {
		body = bytes.NewReader(req.Body)
	}
	hr, err := http.NewRequestWithContext(ctx, req.Method, req.URL, body)
	if err != nil {
		return nil, fmt.Errorf("build request %s %s: %w", req.Method, RedactURL(req.URL), err)
	}
	for k, vs := range req.Header {
		hr.Header[k] = vs
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	start := time.Now()
	r, err := hc.Do(hr)
	if err != nil {
		c.observe(req, 0)
		return nil, &NetworkError{Method: req.Method, URL: RedactURL(req.URL), Err: stripURLError(err)}
	}
	defer r.Body.Close()
	data, err := io.ReadAll(io.LimitReader(r.Body, MaxBody+1))
	if err != nil {
		c.observe(req, 0)
		return nil, &NetworkError{Method: req.Method, URL: RedactURL(req.URL), Err: fmt.Errorf("read body: %w", err)}
	}
	if len(data) > MaxBody {
		c.observe(req, 0)
		return nil, &NetworkError{Method: req.Method, URL: RedactURL(req.URL), Err: fmt.Errorf("body larger than %d bytes", MaxBody)}
	}
	c.observe(req, r.StatusCode)
	if l := c.logger(); l.Enabled(ctx, slog.LevelDebug) {
		l.Debug("http", "method", req.Method, "url", RedactURL(req.URL), "status", r.StatusCode,
			"took", time.Since(start).Round(time.Millisecond), "request", truncate(RedactBody(req.Body), 2048), "response", truncate(RedactBody(data), 2048))
	}
	return &Response{Status: r.StatusCode, Header: r.Header, Body: data}, nil
}

func (c *Client) observe(req Request, status int) {
	if c.Observe != nil {
		c.Observe(req.Method, req.URL, status)
	}
}

func (c *Client) sleep(ctx context.Context, d time.Duration) error {
	if c.Sleep != nil {
		return c.Sleep(ctx, d)
	}
	return Sleep(ctx, d)
}

func (c *Client) logger() *slog.Logger {
	if c.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return c.Logger
}

// Sleep waits for d or until ctx is done.
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// stripURLError drops the *url.Error wrapper, whose message repeats the full URL
// (which may carry query values we would rather not log).
func stripURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

func statusOf(r *Response) int {
	if r == nil {
		return 0
	}
	return r.Status
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// truncate cuts s for a log line. It runs after redaction: cutting first could split
// a secret from the pattern that recognizes it.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
