package sandbox

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/cazbling/cazbling/pkg/sandbox/blingsim"
	"github.com/cazbling/cazbling/pkg/sandbox/cazcosim"
)

// Path prefixes of the APIs the sandbox serves.
const (
	BlingPrefix = "/Api/v3"
	CazcoPrefix = cazcosim.BasePath // "/api/v1/seller"
	AdminPrefix = "/_sandbox"
)

// Seeds.
const (
	SeedDemo  = "demo"
	SeedEmpty = "empty"
)

// Options configure a Sandbox.
type Options struct {
	Seed string           // "demo" (also when empty) or "empty"
	Now  func() time.Time // nil: time.Now
	// BlingRate is Bling's per-account limit in requests per second: 0 the real 3,
	// < 0 none. Bling.SetRatePerSecond changes it later, as Cazco.SetRatePerMinute
	// does CaZco's.
	BlingRate int
	// CazcoRatePerMinute is CaZco's per-key limit (CAZCO.md assumes 60); 0 or less: none.
	CazcoRatePerMinute int
	// CazcoWindow is the span CaZco's limit counts over; 0: a minute. Any other is
	// advertised in a RateLimit-Policy header.
	CazcoWindow time.Duration
	TokenTTL    time.Duration // Bling access tokens; 0: 6 h
	Logger      *slog.Logger
}

// Sandbox is the composed stand-in server.
type Sandbox struct {
	Bling *blingsim.Sim
	Cazco *cazcosim.Sim

	opts    Options
	tenants []DemoTenant
	handler http.Handler

	mu       sync.Mutex
	faults   map[string]*faultState
	counts   map[counterKey]int
	arrivals map[string][]time.Time
	peaks    map[string]Peak
	server   *http.Server
	baseURL  string
}

// New builds a sandbox and seeds it.
func New(opts Options) (*Sandbox, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Seed == "" {
		opts.Seed = SeedDemo
	}
	if opts.Seed != SeedDemo && opts.Seed != SeedEmpty {
		return nil, fmt.Errorf("unknown sandbox seed %q: want %q or %q", opts.Seed, SeedDemo, SeedEmpty)
	}
	cazcoRate := max(opts.CazcoRatePerMinute, 0) // cazcosim: 0 is unlimited
	sb := &Sandbox{
		opts:     opts,
		faults:   map[string]*faultState{APIBling: {}, APICazco: {}},
		counts:   map[counterKey]int{},
		arrivals: map[string][]time.Time{},
		peaks:    map[string]Peak{},
	}
	for _, api := range []string{APIBling, APICazco} {
		_ = sb.SetFaults(api, Faults{})
	}
	sb.Bling = blingsim.New(blingsim.Options{
		Now: opts.Now, TokenTTL: opts.TokenTTL, RatePerSecond: opts.BlingRate,
		Logger: opts.Logger, OrderCommitted: sb.orderCommitted,
	})
	sb.Cazco = cazcosim.New(cazcosim.Options{Now: opts.Now, RatePerMinute: cazcoRate, Window: opts.CazcoWindow, Logger: opts.Logger})
	if opts.Seed == SeedDemo {
		if err := seedDemo(sb); err != nil {
			return nil, fmt.Errorf("seed demo data: %w", err)
		}
	}

	var cazcoPatterns []string
	for _, p := range []string{"GET /products", "POST /products", "GET /products/{id}", "PUT /products/{id}",
		"PUT /products/{id}/stock", "PUT /stock", "GET /orders", "GET /orders/{id}",
		"PUT /orders/{id}/invoice", "POST /orders/{id}/shipments", "POST /orders/{id}/cancel"} {
		method, path, _ := strings.Cut(p, " ")
		cazcoPatterns = append(cazcoPatterns, method+" "+CazcoPrefix+path)
	}
	mux := http.NewServeMux()
	mux.Handle(BlingPrefix+"/", sb.withFaults(APIBling, newRouteMatcher(BlingPrefix, blingsim.Patterns()), sb.Bling))
	mux.Handle(CazcoPrefix+"/", sb.withFaults(APICazco, newRouteMatcher(CazcoPrefix, cazcoPatterns), sb.Cazco))
	mux.Handle(AdminPrefix+"/", sb.admin())
	sb.handler = mux
	return sb, nil
}

func (sb *Sandbox) now() time.Time { return sb.opts.Now() }

// Handler returns the sandbox's handler: /Api/v3/ (Bling), /api/v1/seller/ (CaZco) and
// /_sandbox/ (admin, loopback clients only).
func (sb *Sandbox) Handler() http.Handler { return sb.handler }

// DemoTenants returns the demo tenants seeded in this sandbox (none with the empty seed).
func (sb *Sandbox) DemoTenants() []DemoTenant { return append([]DemoTenant(nil), sb.tenants...) }

// Start serves the sandbox on addr, which must be a loopback address ("127.0.0.1:8080",
// "localhost:0", "[::1]:0"; empty means "127.0.0.1:0"), and returns the base URL, e.g.
// "http://127.0.0.1:8080". Bling's API is then at baseURL+"/Api/v3" and CaZco's at
// baseURL+"/api/v1/seller".
func (sb *Sandbox) Start(addr string) (string, error) {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("sandbox address %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return "", fmt.Errorf("sandbox address %q: only loopback addresses are allowed", addr)
	}
	sb.mu.Lock()
	defer sb.mu.Unlock()
	if sb.server != nil {
		return "", errors.New("sandbox already started")
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("listen on %s: %w", addr, err)
	}
	if tcp, ok := ln.Addr().(*net.TCPAddr); !ok || !tcp.IP.IsLoopback() {
		ln.Close()
		return "", fmt.Errorf("sandbox address %q: resolved to a non-loopback address", addr)
	}
	srv := &http.Server{Handler: sb.handler, ReadHeaderTimeout: 10 * time.Second,
		ErrorLog: slog.NewLogLogger(sb.opts.Logger.Handler(), slog.LevelWarn)}
	sb.server = srv
	sb.baseURL = "http://" + ln.Addr().String()
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			sb.opts.Logger.Error("sandbox server stopped", "err", err)
		}
	}()
	return sb.baseURL, nil
}

// Close stops a started sandbox, waiting briefly for requests in flight.
func (sb *Sandbox) Close() error {
	sb.mu.Lock()
	srv := sb.server
	sb.server = nil
	sb.mu.Unlock()
	if srv == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		return srv.Close()
	}
	return nil
}
