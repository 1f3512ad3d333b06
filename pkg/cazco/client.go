// Package cazco is the client of the CaZco seller API v1 (api/CAZCO.md and
// api/cazco-seller-v1.yaml). It implements cazbling.Marketplace on top of httpx: it paces
// requests under the per-key limit, honours X-RateLimit-Remaining and Retry-After,
// retries what is safe to repeat, and returns every failure as a *cazbling.APIError.
package cazco

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/cazbling/cazbling/pkg/cazbling"
	"github.com/cazbling/cazbling/pkg/httpx"
)

var _ cazbling.Marketplace = (*Client)(nil)

const (
	apiName = "cazco"

	defaultRatePerMinute   = 60
	rateShare              = 0.95 // use this share of the allowance, for the server's clock skew
	defaultMaxAttempts     = 6
	defaultInitialInterval = time.Second
	defaultMaxInterval     = 60 * time.Second
	defaultUserAgent       = "cazbling"
	maxConcurrent          = 2 // requests in flight per client (per tenant)

	unauthorizedMessage = "the CaZco API key was refused (401 unauthenticated); check --cazco-api-key for this store"
)

// Route patterns, used as APIError.Op: they name the endpoint, never an id.
const (
	opListProducts  = "GET /products"
	opGetProduct    = "GET /products/{id}"
	opCreateProduct = "POST /products"
	opUpdateProduct = "PUT /products/{id}"
	opSetStock      = "PUT /products/{id}/stock"
	opSetStockBatch = "PUT /stock"
	opListOrders    = "GET /orders"
	opGetOrder      = "GET /orders/{id}"
)

// Options configure a Client. Only BaseURL and APIKey are required.
type Options struct {
	// BaseURL is the tenant's API base, e.g. https://s623.cazco.link/api/v1/seller.
	BaseURL string
	// APIKey is the store's secret key, sent as a bearer token and never logged.
	APIKey string
	// HTTP sends the requests; nil means httpx.NewTransport(60 s).
	HTTP *http.Client
	// RatePerMinute is the key's request allowance assumed until an answer advertises
	// it (X-RateLimit-Limit; see limits.go); the client sends at most 95% of the
	// allowance in force in any window. Zero means 60; negative means no pacing until
	// an answer advertises a limit (tests against a local sandbox).
	RatePerMinute int
	// Learned is the allowance an earlier run learned for this key (zero: none); it is
	// used instead of RatePerMinute from the first request, if it is plausible.
	Learned cazbling.RateLimit
	// Pacer, if set, is the key's pacing shared with its other clients (NewPacer);
	// RatePerMinute and Learned are then unused.
	Pacer *Pacer
	// OnLimit, if set, is called when an answer advertises an allowance other than the
	// one in force (so that the next run can start from it).
	OnLimit func(cazbling.RateLimit)
	// ExtraHeaders are sent on every request (e.g. Url-Store). They cannot replace the
	// headers the client sets itself.
	ExtraHeaders map[string]string
	// UserAgent defaults to "cazbling".
	UserAgent string
	// MaxAttempts bounds the tries of one call (default 6); InitialInterval and
	// MaxInterval shape the backoff (defaults 1 s and 60 s).
	MaxAttempts     int
	InitialInterval time.Duration
	MaxInterval     time.Duration
	// Observe, if set, is called after every attempt with its status (0: no answer).
	Observe func(method, url string, status int)
	// Logger receives debug traces of the traffic, with secrets removed; nil discards.
	Logger *slog.Logger
	// Now is the clock used for the rate-limit window; nil means time.Now.
	Now func() time.Time
	// Sleep waits for d or until ctx ends; nil means a real timer. Tests replace it.
	Sleep func(ctx context.Context, d time.Duration) error
}

// Client talks to one CaZco store with one API key. It is safe for concurrent use and
// lets at most two requests run at once.
type Client struct {
	base      *url.URL
	baseURL   string // base without a trailing slash
	apiKey    string
	userAgent string
	extra     http.Header
	transport *httpx.Client
	log       *slog.Logger
	now       func() time.Time
	sleep     func(ctx context.Context, d time.Duration) error
	slots     chan struct{}
	window    *rateWindow
	pace      *Pacer
	onLimit   func(cazbling.RateLimit)
}

// New checks o and returns a Client.
func New(o Options) (*Client, error) {
	base, err := httpx.CheckBaseURL("cazco url", o.BaseURL)
	if err != nil {
		return nil, err
	}
	if base.RawQuery != "" || base.Fragment != "" {
		return nil, fmt.Errorf("cazco url %q must not carry a query or fragment; give the API base, e.g. https://s623.cazco.link/api/v1/seller", o.BaseURL)
	}
	if o.APIKey == "" {
		return nil, errors.New("cazco api key is empty; give the store's key with --cazco-api-key")
	}
	if !validHeaderValue(o.APIKey) || strings.ContainsAny(o.APIKey, " \t") {
		return nil, errors.New("cazco api key contains spaces or control characters; check that it was copied whole")
	}
	extra := http.Header{}
	for name, value := range o.ExtraHeaders {
		if !validHeaderName(name) {
			return nil, fmt.Errorf("cazco extra header name %q is not a valid HTTP header name", name)
		}
		if !validHeaderValue(value) {
			return nil, fmt.Errorf("cazco extra header %s has a value with control characters", name)
		}
		switch http.CanonicalHeaderKey(name) {
		case "Authorization", "Accept", "Content-Type", "User-Agent", "Content-Length", "Host":
			return nil, fmt.Errorf("cazco extra header %s is set by the client itself and cannot be overridden", name)
		}
		extra.Set(name, value)
	}
	userAgent := o.UserAgent
	if userAgent == "" {
		userAgent = defaultUserAgent
	}
	if !validHeaderValue(userAgent) {
		return nil, errors.New("cazco user agent has control characters")
	}
	perMinute := o.RatePerMinute
	if perMinute == 0 {
		perMinute = defaultRatePerMinute
	}
	hc := o.HTTP
	if hc == nil {
		hc = httpx.NewTransport(60 * time.Second)
	}
	c := &Client{
		base:      base,
		baseURL:   strings.TrimRight(base.String(), "/"),
		apiKey:    o.APIKey,
		userAgent: userAgent,
		extra:     extra,
		now:       o.Now,
		sleep:     o.Sleep,
		slots:     make(chan struct{}, maxConcurrent),
		window:    &rateWindow{length: contractWindow},
		pace:      o.Pacer,
		onLimit:   o.OnLimit,
	}
	if c.pace == nil {
		c.pace = newPacer(perMinute, o.Learned, o.Now, o.Sleep)
	}
	if l, ok := c.pace.Limit(); ok {
		c.window.setLength(l.Window)
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.sleep == nil {
		c.sleep = httpx.Sleep
	}
	logger := o.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	c.log = slog.New(scrubHandler{next: logger.Handler(), secret: o.APIKey})
	c.transport = &httpx.Client{
		HTTP: hc,
		// CaZco counts requests per window (X-RateLimit-Limit/-Remaining): a run may
		// spend a window's allowance as fast as it has work, not only evenly.
		Limiters:        []httpx.Limiter{c.pace},
		MaxAttempts:     orDefault(o.MaxAttempts, defaultMaxAttempts),
		InitialInterval: orDefaultDuration(o.InitialInterval, defaultInitialInterval),
		MaxInterval:     orDefaultDuration(o.MaxInterval, defaultMaxInterval),
		Classify:        c.classify,
		Observe:         o.Observe,
		Logger:          c.log,
		Sleep:           c.sleep,
	}
	return c, nil
}

// request is one logical call to the API.
type request struct {
	op     string // route pattern, e.g. "PUT /products/{id}"
	method string
	url    string
	body   any // JSON-encoded when not nil
	header http.Header
}

// do sends r and returns a 2xx answer, or an error that is (or wraps) an *APIError,
// or the context's error. Every call is marked idempotent: GET and PUT set absolute
// values, and a repeated POST /products ends in a 409 the caller turns into an update.
func (c *Client) do(ctx context.Context, r request) (*httpx.Response, error) {
	var body []byte
	if r.body != nil {
		b, err := json.Marshal(r.body)
		if err != nil {
			return nil, fmt.Errorf("encode cazco %s body: %w", r.op, err)
		}
		body = b
	}
	header := c.headers(body != nil)
	for k, vs := range r.header {
		header[k] = vs
	}
	if err := c.acquire(ctx); err != nil {
		return nil, fmt.Errorf("cazco %s: %w", r.op, err)
	}
	defer c.release()
	if d := c.window.wait(c.now()); d > 0 {
		c.log.Debug("cazco rate-limit window exhausted; waiting for the next one", "op", r.op, "wait", d)
		if err := c.sleep(ctx, d); err != nil {
			return nil, fmt.Errorf("cazco %s: %w", r.op, err)
		}
	}
	resp, err := c.transport.Do(ctx, httpx.Request{
		Method: r.method, URL: r.url, Header: header, Body: body, Idempotent: true,
	})
	if err != nil {
		return nil, c.transportError(ctx, r.op, err)
	}
	if resp.Status < 400 {
		// Answers of 400 and above were already seen by classify.
		c.observeLimits(resp.Header)
	}
	if resp.Status < 200 || resp.Status > 299 {
		return nil, c.statusError(r.op, resp)
	}
	return resp, nil
}

// classify is the httpx.Classifier: 429 and 5xx are worth repeating, after the larger
// of Retry-After and the time left in an exhausted rate-limit window.
func (c *Client) classify(resp *httpx.Response) httpx.Verdict {
	now := c.now()
	c.observeLimits(resp.Header)
	wait := max(c.window.wait(now), httpx.RetryAfter(resp.Header))
	switch {
	case resp.Status == http.StatusTooManyRequests, resp.Status >= 500:
		return httpx.Verdict{Retry: true, Wait: wait}
	}
	return httpx.Verdict{}
}

// observeLimits takes the rate-limit headers of an answer: the allowance it advertises
// and what is left of the window.
func (c *Client) observeLimits(h http.Header) {
	now := c.now()
	l, changed, bad := c.pace.learn(h, now)
	switch {
	case bad != "":
		c.log.Warn("CaZco advertised a rate limit that cannot be this key's; it is ignored and the pace stays as it was", "header", bad)
	case changed:
		c.window.setLength(l.Window)
		c.log.Info("CaZco advertises this key's rate limit; pacing to it", "limit", l.String())
		if c.onLimit != nil {
			c.onLimit(l)
		}
	}
	c.window.observe(now, h)
}

func (c *Client) headers(withBody bool) http.Header {
	h := c.extra.Clone()
	h.Set("Authorization", "Bearer "+c.apiKey)
	h.Set("Accept", "application/json")
	h.Set("User-Agent", c.userAgent)
	if withBody {
		h.Set("Content-Type", "application/json")
	}
	return h
}

func (c *Client) acquire(ctx context.Context) error {
	select {
	case c.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (c *Client) release() { <-c.slots }

// endpoint returns the URL of path under the base, with query q (URL-encoded, so a
// "+" goes as %2B).
func (c *Client) endpoint(path string, q url.Values) string {
	u := c.baseURL + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	return u
}

// transportError classifies a call that got no usable answer.
func (c *Client) transportError(ctx context.Context, op string, err error) error {
	if ctx.Err() != nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("cazco %s: %w", op, err)
	}
	var ne *httpx.NetworkError
	if errors.As(err, &ne) {
		return &cazbling.APIError{API: apiName, Op: op, Kind: cazbling.KindNetwork, Err: err}
	}
	return &cazbling.APIError{API: apiName, Op: op, Kind: cazbling.KindOther, Err: err}
}

// errorBody is CaZco's error document.
type errorBody struct {
	Code       text            `json:"code"`
	Message    text            `json:"message"`
	Errors     json.RawMessage `json:"errors"`
	RequestID  text            `json:"request_id"`
	ExistingID text            `json:"existing_id"`
	// ExistingAccessKey is the invoice key a 409 on PUT /orders/{id}/invoice names.
	ExistingAccessKey text `json:"existing_access_key"`
}

// statusError turns an HTTP error answer into an *APIError.
func (c *Client) statusError(op string, resp *httpx.Response) *cazbling.APIError {
	e := &cazbling.APIError{
		API:        apiName,
		Op:         op,
		Status:     resp.Status,
		Kind:       cazbling.KindForStatus(resp.Status),
		RetryAfter: httpx.RetryAfter(resp.Header),
		RequestID:  c.clean(resp.Header.Get("X-Request-Id"), 100),
	}
	var body errorBody
	switch {
	case json.Unmarshal(resp.Body, &body) == nil:
		e.Type = c.clean(string(body.Code), 100)
		e.Message = c.clean(string(body.Message), 500)
		e.Fields = c.fieldErrors(body.Errors)
		if body.RequestID != "" {
			e.RequestID = c.clean(string(body.RequestID), 100)
		}
		e.ExistingID = string(body.ExistingID)
		if e.ExistingID == "" {
			e.ExistingID = c.clean(string(body.ExistingAccessKey), 100)
		}
	case len(strings.TrimSpace(string(resp.Body))) > 0:
		e.Message = "unexpected answer that is not a JSON error: " + c.excerpt(resp.Body)
		// For these statuses the action does not depend on the body; for the others
		// (400, 404, 409, 422, ...) an HTML page most likely comes from a wrong base URL
		// or a proxy, and reading it as "not found" or "conflict" would mislead.
		if !(resp.Status == http.StatusUnauthorized || resp.Status == http.StatusForbidden ||
			resp.Status == http.StatusTooManyRequests || resp.Status >= 500) {
			e.Kind = cazbling.KindMalformed
		}
	}
	if resp.Status == http.StatusUnauthorized {
		e.Message = unauthorizedMessage
	}
	return e
}

// fieldErrors reads the errors member, {field: [messages]}, in field order. It accepts a
// single string for a field and ignores shapes it does not know (Laravel sends [] when
// there are none).
func (c *Client) fieldErrors(raw json.RawMessage) []cazbling.FieldError {
	var fields map[string]json.RawMessage
	if len(raw) == 0 || json.Unmarshal(raw, &fields) != nil {
		return nil
	}
	names := make([]string, 0, len(fields))
	for name := range fields {
		names = append(names, name)
	}
	slices.Sort(names)
	var out []cazbling.FieldError
	for _, name := range names {
		var msgs []text
		if json.Unmarshal(fields[name], &msgs) != nil {
			var one text
			if json.Unmarshal(fields[name], &one) != nil {
				continue
			}
			msgs = []text{one}
		}
		for _, m := range msgs {
			out = append(out, cazbling.FieldError{Field: c.clean(name, 100), Message: c.clean(string(m), 300)})
		}
	}
	return out
}

// decode reads a 2xx answer into v; an answer that is not the expected JSON is an
// *APIError of Kind KindMalformed.
func (c *Client) decode(op string, resp *httpx.Response, v any) error {
	if err := json.Unmarshal(resp.Body, v); err != nil {
		return &cazbling.APIError{
			API: apiName, Op: op, Status: resp.Status, Kind: cazbling.KindMalformed,
			Message: "cannot read the answer: " + c.excerpt(resp.Body), Err: err,
		}
	}
	return nil
}

func (c *Client) malformed(op string, status int, msg string) *cazbling.APIError {
	return &cazbling.APIError{API: apiName, Op: op, Status: status, Kind: cazbling.KindMalformed, Message: c.clean(msg, 500)}
}

// invalid is a call refused before sending: the caller's data cannot be right.
func invalid(op, msg string) *cazbling.APIError {
	return &cazbling.APIError{API: apiName, Op: op, Kind: cazbling.KindValidation, Message: msg}
}

func orDefault(n, def int) int {
	if n <= 0 {
		return def
	}
	return n
}

func orDefaultDuration(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

func validHeaderName(name string) bool {
	if name == "" {
		return false
	}
	for _, r := range name {
		if r > 0x7e || r <= ' ' || strings.ContainsRune(`"(),/:;<=>?@[\]{}`, r) {
			return false
		}
	}
	return true
}

func validHeaderValue(v string) bool {
	for _, r := range v {
		if (r < ' ' && r != '\t') || r == 0x7f {
			return false
		}
	}
	return true
}
