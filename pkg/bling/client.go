// Package bling is the client of Bling's API v3 for one tenant. It implements
// cazbling.ERP: OAuth token refresh serialized through the store, pacing under the
// account's and the process's limits, bounded retries that never repeat an order POST
// blindly, exact decimals for money, and errors classified as *cazbling.APIError with
// no secret in them.
package bling

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
	_ "time/tzdata" // São Paulo time must work on a machine without zoneinfo

	"golang.org/x/time/rate"

	"github.com/cazbling/cazbling/pkg/cazbling"
	"github.com/cazbling/cazbling/pkg/httpx"
)

// tokenMargin is how long before its expiry an access token is refreshed.
const tokenMargin = 5 * time.Minute

// userAgent is sent on every call.
const userAgent = "cazbling"

// saoPaulo is Bling's time zone: date filters and order dates are São Paulo local time.
var saoPaulo = mustLoadLocation("America/Sao_Paulo")

func mustLoadLocation(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(fmt.Sprintf("bling: load time zone %s: %v (tzdata is embedded; this is a build bug)", name, err))
	}
	return loc
}

// TokenStore holds the tenant's token pair; refresh is serialized through it.
type TokenStore interface {
	// Token returns the stored pair.
	Token(ctx context.Context) (cazbling.Token, error)
	// UpdateToken reads the stored pair inside a transaction, calls fn with it and saves
	// what fn returns before committing; if fn fails nothing is saved.
	UpdateToken(ctx context.Context, fn func(current cazbling.Token) (cazbling.Token, error)) (cazbling.Token, error)
}

// Options configure a Client and the token calls.
type Options struct {
	// BaseURL is the API base, e.g. https://api.bling.com.br/Api/v3.
	BaseURL      string
	ClientID     string
	ClientSecret string // secret
	// Tokens is the tenant's token pair in the store. Required by New only.
	Tokens TokenStore
	// HTTP sends the requests; default httpx.NewTransport(60 s).
	HTTP *http.Client
	// AccountLimiter paces this account's calls (Bling allows 3 a second); default
	// httpx.PerSecond(2.8) unless AccountWindow is set.
	AccountLimiter *rate.Limiter
	// AccountWindow, if set, paces this account's calls too: a window of one request
	// per interval, which may be shared with other processes (httpx.NewSharedWindow).
	AccountWindow *httpx.Window
	// AccountSlot, if set, is the account's pace kept where every host working the
	// account shares it (a PostgreSQL store): asked after the windows allow a request.
	AccountSlot httpx.Slot
	// IPWindow is the process-wide per-IP limit shared by all clients (Bling blocks an
	// IP for 600 requests in 10 s); nil is none.
	IPWindow *httpx.Window
	// TokenWindow is the process-wide /oauth/token limit shared by all clients (20
	// calls a minute per IP); nil is none.
	TokenWindow *httpx.Window
	// MaxAttempts, InitialInterval and MaxInterval bound the retries (see httpx.Client).
	MaxAttempts     int
	InitialInterval time.Duration
	MaxInterval     time.Duration
	// Observe, if set, is called after every attempt (for metrics).
	Observe func(method, url string, status int)
	// Logger receives debug lines of every call (redacted) and warnings; nil discards.
	Logger *slog.Logger
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Sleep waits between retries; default httpx.Sleep. Tests replace it.
	Sleep func(ctx context.Context, d time.Duration) error
}

func (o Options) now() time.Time {
	if o.Now != nil {
		return o.Now()
	}
	return time.Now()
}

func (o Options) logger() *slog.Logger {
	if o.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return o.Logger
}

func (o Options) httpClient() *http.Client {
	if o.HTTP == nil {
		return httpx.NewTransport(60 * time.Second)
	}
	return o.HTTP
}

// Client calls Bling's API v3 for one tenant. It is safe for use by several goroutines.
type Client struct {
	base   string // without trailing slash
	opts   Options
	api    *httpx.Client
	tokens TokenStore
	log    *slog.Logger

	mu  sync.Mutex
	tok cazbling.Token // last known pair; guarded by mu

	// refreshing holds one token; whoever holds it may read the store or refresh, so
	// that goroutines of this Client do not refresh side by side.
	refreshing chan struct{}
}

var _ cazbling.ERP = (*Client)(nil)

// New returns a Client for the tenant whose tokens o.Tokens holds.
func New(o Options) (*Client, error) {
	base, err := checkOptions(o)
	if err != nil {
		return nil, err
	}
	if o.Tokens == nil {
		return nil, errors.New("bling: a token store is required")
	}
	o.HTTP = o.httpClient()
	if o.AccountLimiter == nil && o.AccountWindow == nil {
		o.AccountLimiter = httpx.PerSecond(2.8)
	}
	c := &Client{
		base:       base,
		opts:       o,
		tokens:     o.Tokens,
		log:        o.logger(),
		refreshing: make(chan struct{}, 1),
	}
	c.api = &httpx.Client{
		HTTP: o.HTTP,
		// One gate: a request leaves when both the IP's window and the account's
		// pace allow it at once, so waiting for one never bunches the requests the
		// other counts. The IP window first, as in every gate that shares it.
		Limiters:        []httpx.Limiter{&httpx.Gate{Windows: []*httpx.Window{o.IPWindow, o.AccountWindow}, Pacers: []*rate.Limiter{o.AccountLimiter}, Slots: []httpx.Slot{o.AccountSlot}}},
		MaxAttempts:     o.MaxAttempts,
		InitialInterval: o.InitialInterval,
		MaxInterval:     o.MaxInterval,
		Classify:        classify,
		Observe:         o.Observe,
		Logger:          c.log,
		Sleep:           o.Sleep,
	}
	return c, nil
}

// checkOptions validates what both the Client and the token calls need and returns
// the base URL without a trailing slash.
func checkOptions(o Options) (string, error) {
	if _, err := httpx.CheckBaseURL("bling url", o.BaseURL); err != nil {
		return "", err
	}
	if strings.TrimSpace(o.ClientID) == "" || o.ClientSecret == "" {
		return "", errors.New("bling: client id and client secret are required")
	}
	return strings.TrimRight(o.BaseURL, "/"), nil
}

func (c *Client) now() time.Time { return c.opts.now() }

// call is one API request.
type call struct {
	method string
	route  string // path pattern for messages: "/produtos/{id}"
	path   string // actual path: "/produtos/123"
	query  url.Values
	body   any // marshalled as JSON when not nil
	// idempotent calls may be repeated after a 5xx or a network error.
	idempotent bool
}

// get is an idempotent GET of route (which is also the path).
func get(route string, query url.Values) call {
	return call{method: http.MethodGet, route: route, path: route, query: query, idempotent: true}
}

// do sends cl with a valid access token, refreshing once on a 401 invalid_token, and
// decodes a 2xx answer into out (when not nil). The answer is returned for callers that
// read more than out.
func (c *Client) do(ctx context.Context, cl call, out any) (*httpx.Response, error) {
	op := cl.method + " " + cl.route
	var body []byte
	if cl.body != nil {
		b, err := json.Marshal(cl.body)
		if err != nil {
			return nil, fmt.Errorf("bling %s: encode body: %w", op, err)
		}
		body = b
	}
	u := c.base + cl.path
	if len(cl.query) > 0 {
		u += "?" + cl.query.Encode()
	}
	for attempt := 1; ; attempt++ {
		access, err := c.accessToken(ctx)
		if err != nil {
			return nil, err
		}
		h := http.Header{}
		h.Set("Authorization", "Bearer "+access)
		h.Set("enable-jwt", "1")
		h.Set("Accept", "application/json")
		h.Set("User-Agent", userAgent)
		if body != nil {
			h.Set("Content-Type", "application/json")
		}
		resp, err := c.api.Do(ctx, httpx.Request{Method: cl.method, URL: u, Header: h, Body: body, Idempotent: cl.idempotent})
		if err != nil {
			return nil, networkError(op, err)
		}
		switch {
		case resp.Status >= 400:
			ae := c.decodeAPIError(op, resp)
			if attempt == 1 && isInvalidToken(ae) {
				// A 401 means the call was not processed, so repeating it (even a POST) is safe.
				c.log.Debug("bling access token refused; refreshing", "op", op)
				if _, err := c.renew(ctx, access, true); err != nil {
					return nil, err
				}
				continue
			}
			return resp, ae
		case resp.Status < 200 || resp.Status >= 300:
			return resp, malformed(op, resp, fmt.Errorf("unexpected status %d", resp.Status))
		}
		if out != nil {
			if err := json.Unmarshal(resp.Body, out); err != nil {
				return resp, malformed(op, resp, err)
			}
		} else if b := bytes.TrimSpace(resp.Body); len(b) > 0 && !json.Valid(b) {
			// An answer with no content (204) that came with a body that is not JSON: a
			// proxy's page or a cut answer, which does not show that Bling did the call.
			return resp, malformed(op, resp, fmt.Errorf("HTTP %d with a body that is not Bling's where no content was expected; whether the call was carried out is not known", resp.Status))
		}
		return resp, nil
	}
}

// accessToken returns an access token valid for at least tokenMargin.
func (c *Client) accessToken(ctx context.Context) (string, error) {
	c.mu.Lock()
	t := c.tok
	c.mu.Unlock()
	if t.Valid(c.now(), tokenMargin) {
		return t.AccessToken, nil
	}
	return c.renew(ctx, t.AccessToken, false)
}

// renew gets a fresh access token: from the store when another process or goroutine
// already refreshed, otherwise by refreshing inside Tokens.UpdateToken so that the new
// pair is saved before it is used. With force, the token stale (just refused by Bling)
// is not accepted even if its expiry says it is valid.
func (c *Client) renew(ctx context.Context, stale string, force bool) (string, error) {
	select {
	case c.refreshing <- struct{}{}:
		defer func() { <-c.refreshing }()
	case <-ctx.Done():
		return "", ctx.Err()
	}
	usable := func(t cazbling.Token) bool {
		return t.Valid(c.now(), tokenMargin) && !(force && t.AccessToken == stale)
	}
	// Another goroutine of this Client may have renewed while we waited.
	c.mu.Lock()
	t := c.tok
	c.mu.Unlock()
	if t.AccessToken != stale && usable(t) {
		return t.AccessToken, nil
	}
	if !force {
		stored, err := c.tokens.Token(ctx)
		if err != nil {
			return "", fmt.Errorf("read bling token: %w", err)
		}
		if usable(stored) {
			c.setToken(stored)
			return stored.AccessToken, nil
		}
	}
	var refreshed bool
	nt, err := c.tokens.UpdateToken(ctx, func(cur cazbling.Token) (cazbling.Token, error) {
		if usable(cur) {
			return cur, nil // another process refreshed already
		}
		if cur.RefreshToken == "" {
			return cazbling.Token{}, &cazbling.APIError{API: "bling", Op: "POST /oauth/token", Kind: cazbling.KindInvalidGrant,
				Message: "no Bling refresh token is stored; the seller must authorize again: run `cazbling activate TENANT` with a new --bling-code"}
		}
		next, err := RefreshToken(ctx, c.opts, cur.RefreshToken)
		if err != nil {
			return cazbling.Token{}, err
		}
		refreshed = true
		return next, nil
	})
	if err != nil {
		var ae *cazbling.APIError
		if errors.As(err, &ae) {
			return "", err
		}
		return "", fmt.Errorf("refresh bling token: %w", err)
	}
	if refreshed {
		c.log.Debug("bling token refreshed", "expiry", nt.Expiry)
	}
	if nt.AccessToken == "" {
		return "", errors.New("refresh bling token: the store returned no access token")
	}
	c.setToken(nt)
	return nt.AccessToken, nil
}

func (c *Client) setToken(t cazbling.Token) {
	c.mu.Lock()
	c.tok = t
	c.mu.Unlock()
}

// envelope is Bling's answer shape: {"data": ...}.
type envelope[T any] struct {
	Data T `json:"data"`
}

// created is the data of a create answer.
type created struct {
	ID       jsonID          `json:"id"`
	Alertas  json.RawMessage `json:"alertas"`
	Warnings json.RawMessage `json:"warnings"`
}

// create POSTs body to route (never repeated after a 5xx or a network error) and returns
// the new id, logging Bling's alerts at warn level.
func (c *Client) create(ctx context.Context, route string, body any) (int64, error) {
	op := http.MethodPost + " " + route
	var env struct {
		Data     created         `json:"data"`
		Warnings json.RawMessage `json:"warnings"`
		Alertas  json.RawMessage `json:"alertas"`
	}
	resp, err := c.do(ctx, call{method: http.MethodPost, route: route, path: route, body: body}, &env)
	if err != nil {
		return 0, err
	}
	if env.Data.ID <= 0 {
		return 0, malformed(op, resp, errors.New("no id in the answer; the record may exist: look it up before creating again"))
	}
	for _, raw := range []json.RawMessage{env.Data.Alertas, env.Data.Warnings, env.Alertas, env.Warnings} {
		if s := strings.TrimSpace(string(raw)); s != "" && s != "null" && s != "[]" && s != "{}" {
			c.log.Warn("bling answered with alerts", "op", op, "id", int64(env.Data.ID), "alerts", excerpt([]byte(httpx.RedactString(s)), 2000))
		}
	}
	return int64(env.Data.ID), nil
}
