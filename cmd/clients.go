package cmd

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"math"
	"net/http"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cazbling/cazbling/pkg/bling"
	"github.com/cazbling/cazbling/pkg/cazbling"
	"github.com/cazbling/cazbling/pkg/cazco"
	"github.com/cazbling/cazbling/pkg/httpx"
	"github.com/cazbling/cazbling/pkg/store"
)

// clients builds the API clients of each tenant. Bling's limits (per IP, for the token
// endpoint, and each account's pace) are windows kept in files beside a SQLite store
// (<db>.limits/; for PostgreSQL in the user's state folder: store.LimitsDir), so that
// every cazbling process of this host working that store shares them:
// Bling counts per IP and per account, whatever process sends. Within a process all the
// clients of a tenant share its account's window (activate verifies with one client
// and then syncs with another).
type clients struct {
	app        *App
	store      cazbling.Store
	http       *http.Client
	limits     string // the folder of the shared windows
	blingIP    *httpx.Window
	blingToken *httpx.Window
	stats      *apiStats

	mu       sync.Mutex
	accounts map[string]*httpx.Window // per tenant
	cazco    map[string]keyPacer      // per tenant: its CaZco key's pacing
}

// keyPacer is the pacing of one CaZco key (id: a hash of tenant, URL and key).
type keyPacer struct {
	id string
	p  *cazco.Pacer
}

// release lets go of what the clients hold for a tenant the run is done with: its
// account window's file and its CaZco pacing (the next run of the tenant, in this
// process or another, finds both again in the shared file and the store).
func (c *clients) release(tenantID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if w, ok := c.accounts[tenantID]; ok {
		_ = w.Close()
		delete(c.accounts, tenantID)
	}
	delete(c.cazco, tenantID)
}

// clients returns the process's clients, made on first use, so that every command
// of the process shares its limiters.
func (app *App) clients(store cazbling.Store) *clients {
	if app.cl == nil || app.cl.store != store {
		app.cl = newClients(app, store)
	}
	return app.cl
}

func newClients(app *App, st cazbling.Store) *clients {
	c := &clients{
		app:      app,
		store:    st,
		http:     httpx.NewTransport(60 * time.Second),
		limits:   store.LimitsDir(app.dbPath(), app.IO.Getenv),
		stats:    newAPIStats(),
		accounts: map[string]*httpx.Window{},
		cazco:    map[string]keyPacer{},
	}
	// Bling blocks an IP for 600 requests in 10 s; stay well under it ...
	c.blingIP = c.window("bling-ip", int(app.BlingIPRate*blingIPSpan.Seconds()), blingIPSpan)
	// ... and for 20 token calls a minute.
	c.blingToken = c.window("bling-token", app.BlingTokenRPM, time.Minute)
	return c
}

// window returns the shared window of that name, or, if its file cannot be used, one
// of this process only (and says so: other processes are then not counted).
func (c *clients) window(name string, n int, length time.Duration) *httpx.Window {
	w, err := httpx.NewSharedWindow(filepath.Join(c.limits, name), n, length)
	if err == nil {
		return w
	}
	if c.app.Logger != nil {
		c.app.Logger.Warn("a Bling rate limit is kept for this process only: other cazbling processes working this store are not counted", "limit", name, "err", err)
	}
	return httpx.NewWindow(n, length)
}

// busy is flow.Deps' Busy and RampUp: the host is busy while its Bling per-IP window
// has requests waiting, and it starts at once the tenants whose paces fill that window
// (per-IP rate over per-account rate, 18 with the defaults). Past those, a run takes
// another tenant only while the window has room, so that hosts sharing a store split
// the tenants by what each can serve instead of the first to start taking them all.
// Without both limits, no ramp.
func (c *clients) busy() (func() bool, int) {
	if c.blingIP == nil || c.app.BlingRate <= 0 {
		return nil, 0
	}
	return func() bool { return c.blingIP.Waiting() > 0 }, int(math.Ceil(c.app.BlingIPRate / c.app.BlingRate))
}

// blingIPSpan is the span of Bling's per-IP limit (600 requests in 10 s), over which
// CAZBLING_BLING_IP_RATE is counted.
const blingIPSpan = 10 * time.Second

// accountWindow is the pace of one tenant's Bling account: one request per 1/rate s,
// shared by every process working the store (and so with the run that ended just
// before).
// nil when pacing is off.
func (c *clients) accountWindow(tenantID string) *httpx.Window {
	if c.app.BlingRate <= 0 {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	w, ok := c.accounts[tenantID]
	if !ok {
		sum := sha256.Sum256([]byte(tenantID))
		w = c.window("bling-account-"+hex.EncodeToString(sum[:8]), 1, time.Duration(float64(time.Second)/c.app.BlingRate))
		c.accounts[tenantID] = w
	}
	return w
}

// accountSlot is the pace of a tenant's Bling account that every host working the
// store shares, when the store keeps paces (store.SharedPaces); nil otherwise, or
// when pacing is off. It is asked after the host's own account window admits a
// request, so it costs a round trip to the store only for requests about to leave.
func (c *clients) accountSlot(tenantID string) httpx.Slot {
	paces := store.SharedPaces(c.store)
	if paces == nil || c.app.BlingRate <= 0 {
		return nil
	}
	every := time.Duration(float64(time.Second) / c.app.BlingRate)
	// The guard of httpx.Window: a request slowed on its way is not counted at the
	// server with the next one.
	every += every / 100
	return &storeSlot{paces: paces, key: "bling-account:" + tenantID, every: every,
		logger: c.app.Logger.With("tenant", tenantID, "api", "bling")}
}

// storeSlot is an httpx.Slot kept in the store. When the store cannot be asked, the
// request goes (the host's own account window still paces it) and the first failure
// of the client says so; the run's other store work will meet the same fault.
type storeSlot struct {
	paces  store.Paces
	key    string
	every  time.Duration
	logger *slog.Logger
	warned atomic.Bool
}

func (s *storeSlot) Take(ctx context.Context) time.Duration {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	wait, err := s.paces.TakePace(ctx, s.key, s.every)
	if err != nil {
		if s.warned.CompareAndSwap(false, true) {
			s.logger.Warn("the Bling account's pace shared by every host cannot be read from the store; this host paces the account alone until it can", "err", err)
		}
		return 0
	}
	return wait
}

func (c *clients) blingOptions(t cazbling.Tenant, tokens bling.TokenStore) bling.Options {
	return bling.Options{
		BaseURL:         t.BlingURL,
		ClientID:        t.BlingClientID,
		ClientSecret:    t.BlingClientSecret,
		Tokens:          tokens,
		HTTP:            c.http,
		AccountWindow:   c.accountWindow(t.ID),
		AccountSlot:     c.accountSlot(t.ID),
		AccountLimiter:  httpx.PerSecond(0), // unlimited: AccountWindow paces
		IPWindow:        c.blingIP,
		TokenWindow:     c.blingToken,
		InitialInterval: c.app.RetryBase,
		Observe:         c.stats.observer("bling"),
		Logger:          c.app.Logger.With("tenant", t.ID, "api", "bling"),
		Now:             c.app.Now,
	}
}

// ERP is the Bling client of a stored tenant; its tokens live in the store.
func (c *clients) ERP(t cazbling.Tenant) (cazbling.ERP, error) {
	return bling.New(c.blingOptions(t, tenantTokens{store: c.store, tenantID: t.ID}))
}

// Market is the CaZco client of a tenant. It paces at the allowance the key's answers
// advertised in the last run (kept in the store), or at CAZBLING_CAZCO_RPM until an
// answer advertises one, and keeps what it learns for the next run.
func (c *clients) Market(t cazbling.Tenant) (cazbling.Marketplace, error) {
	logger := c.app.Logger.With("tenant", t.ID, "api", "cazco")
	return cazco.New(cazco.Options{
		BaseURL:         t.CazcoURL,
		APIKey:          t.CazcoAPIKey,
		HTTP:            c.http,
		Pacer:           c.cazcoPacer(t, logger),
		OnLimit:         c.saveLimit(t.ID, logger),
		UserAgent:       "cazbling/" + Version,
		InitialInterval: c.app.RetryBase,
		Observe:         c.stats.observer("cazco"),
		Logger:          logger,
		Now:             c.app.Now,
	})
}

// cazcoPacer is the pacing of a tenant's CaZco key, shared by the tenant's clients in
// this process (activate verifies with one and syncs with another): the allowance
// learned in an earlier run, or CAZBLING_CAZCO_RPM until an answer says it.
func (c *clients) cazcoPacer(t cazbling.Tenant, logger *slog.Logger) *cazco.Pacer {
	sum := sha256.Sum256([]byte(t.ID + "\x00" + t.CazcoURL + "\x00" + t.CazcoAPIKey))
	id := hex.EncodeToString(sum[:])
	c.mu.Lock()
	defer c.mu.Unlock()
	if kp, ok := c.cazco[t.ID]; ok && kp.id == id {
		return kp.p
	}
	var learned cazbling.RateLimit
	// What the store keeps belongs to the key it has: not to a new one being verified.
	ctx := context.Background()
	if stored, err := c.store.Tenant(ctx, t.ID); err == nil && stored.CazcoURL == t.CazcoURL && stored.CazcoAPIKey == t.CazcoAPIKey {
		if learned, _, err = c.store.APILimit(ctx, t.ID, "cazco"); err != nil {
			logger.Warn("the CaZco rate limit learned in an earlier run cannot be read; pacing at the configured one until CaZco's answers say it", "err", err)
		}
	}
	p := cazco.NewPacer(unlimitedIfZero(c.app.CazcoRPM), learned)
	c.cazco[t.ID] = keyPacer{id: id, p: p}
	return p
}

// keepLimit saves what the tenant's CaZco key was advertised in this process, for a
// tenant just saved (activate, the panel): answers read before the tenant was in the
// store could not be kept then.
func (c *clients) keepLimit(ctx context.Context, t cazbling.Tenant) {
	p := c.cazcoPacer(t, c.app.Logger)
	if l, ok := p.Limit(); ok {
		if err := c.store.SetAPILimit(ctx, t.ID, "cazco", l); err != nil {
			c.app.Logger.Warn("the CaZco rate limit could not be kept for the next run, which starts at the configured one", "tenant", t.ID, "limit", l.String(), "err", err)
		}
	}
}

// saveLimit returns the OnLimit of a tenant's CaZco client: it keeps the allowance in
// the store for the next run. Failing to keep it costs only pace, so it warns.
func (c *clients) saveLimit(tenantID string, logger *slog.Logger) func(cazbling.RateLimit) {
	return func(l cazbling.RateLimit) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := c.store.SetAPILimit(ctx, tenantID, "cazco", l); err != nil {
			logger.Warn("the CaZco rate limit could not be kept for the next run, which starts at the configured one", "limit", l.String(), "err", err)
		}
	}
}

// tenantTokens is a tenant's token pair in the store, as the Bling client needs it.
type tenantTokens struct {
	store    cazbling.Store
	tenantID string
}

func (t tenantTokens) Token(ctx context.Context) (cazbling.Token, error) {
	return t.store.Token(ctx, t.tenantID)
}

func (t tenantTokens) UpdateToken(ctx context.Context, fn func(cazbling.Token) (cazbling.Token, error)) (cazbling.Token, error) {
	return t.store.UpdateToken(ctx, t.tenantID, fn)
}

// memoryTokens holds a token pair not yet saved (activate verifies before it saves).
type memoryTokens struct {
	mu  sync.Mutex
	tok cazbling.Token
}

func (m *memoryTokens) Token(context.Context) (cazbling.Token, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.tok, nil
}

func (m *memoryTokens) UpdateToken(_ context.Context, fn func(cazbling.Token) (cazbling.Token, error)) (cazbling.Token, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, err := fn(m.tok)
	if err != nil {
		return cazbling.Token{}, err
	}
	m.tok = t
	return t, nil
}

// apiStats counts requests and 429s per API, for the metrics file.
type apiStats struct {
	mu       sync.Mutex
	requests map[string]int
	limited  map[string]int
	errors   map[string]int
}

func newAPIStats() *apiStats {
	return &apiStats{requests: map[string]int{}, limited: map[string]int{}, errors: map[string]int{}}
}

func (s *apiStats) observer(api string) func(method, rawURL string, status int) {
	return func(_, _ string, status int) {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.requests[api]++
		switch {
		case status == http.StatusTooManyRequests:
			s.limited[api]++
		case status == 0 || status >= 500:
			s.errors[api]++
		}
	}
}

// unlimitedIfZero maps the CLI's "0 or less: no pacing" to the client's negative.
func unlimitedIfZero(n int) int {
	if n <= 0 {
		return -1
	}
	return n
}
