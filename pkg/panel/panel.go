// Package panel is the seller panel (PANEL.md): an HTTP server where a seller,
// invited by link or signed in from CaZco, connects a CaZco store and a Bling account
// and sees, in Portuguese, what the sync did with every item. It shares the store with
// the cron flows; what needs the APIs (checking a CaZco key, exchanging a Bling code,
// the initial sync) is done by a Connector that the command wires up.
package panel

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/cazbling/cazbling/pkg/cazbling"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static
var staticFiles embed.FS

// Limits and lifetimes of the contract.
const (
	SessionIdle    = 12 * time.Hour   // a session lapses after this long unused
	StateTTL       = 10 * time.Minute // an OAuth state works once, within this
	MaxSSOAhead    = 5 * time.Minute  // a sign-in token's exp is at most this far ahead
	MaxBodyBytes   = 16 << 10         // request bodies are forms of two fields
	ShutdownGrace  = 10 * time.Second // requests in flight get this long at shutdown
	logsPerPage    = 50
	sessionCookie  = "cazbling_session"
	csrfField      = "csrf_token"
	maxLogsCSVRows = 100000
)

// Store is what the panel reads and writes in the store; *sqlite.Store is one.
type Store interface {
	Tenant(ctx context.Context, id string) (cazbling.Tenant, error)
	UpsertTenant(ctx context.Context, t cazbling.Tenant, tok *cazbling.Token) error
	SetTenantStatus(ctx context.Context, id string, status cazbling.TenantStatus, until time.Time, reason string) error
	Cursor(ctx context.Context, tenantID, stream string) (string, bool, error)
	Logs(ctx context.Context, f cazbling.LogFilter) ([]cazbling.LogEntry, error)
	LastRuns(ctx context.Context, tenantID string) (map[string]cazbling.Run, error)
	FailingItems(ctx context.Context, tenantID string) (int, error)

	InviteTenant(ctx context.Context, tenantID, token string, expires time.Time) (bool, error)
	UseInvite(ctx context.Context, token string) (string, error)
	CreateSession(ctx context.Context, token, tenantID string, idle time.Duration) error
	Session(ctx context.Context, token string, idle time.Duration) (string, error)
	DeleteSession(ctx context.Context, token string) error
	SaveOAuthState(ctx context.Context, state, session string, expires time.Time) error
	UseOAuthState(ctx context.Context, state, session string) error
	UseJTI(ctx context.Context, jti string, expires time.Time) (bool, error)
	PrunePanel(ctx context.Context) error
	Ping(ctx context.Context) error
}

// ErrCodeRefused is what a Connector returns when Bling would not exchange the
// authorization code (expired, used, of another app): nothing was stored.
var ErrCodeRefused = errors.New("bling refused the authorization code")

// Connector does the work that needs the APIs, with the logic of `activate`.
type Connector interface {
	// CheckCazco checks a CaZco base URL and key live; its error says CaZco's reason.
	CheckCazco(ctx context.Context, tenantID, baseURL, apiKey string) (products int, err error)
	// AuthorizeURL is Bling's authorize page for the marketplace's app with state.
	AuthorizeURL(state string) string
	// ConnectBling exchanges code at once, reads the company, and saves the tokens
	// with the tenant made active (its cursors and links are kept). Nothing is saved
	// on error; an exchange Bling refused is ErrCodeRefused.
	ConnectBling(ctx context.Context, tenantID, code string) (company string, err error)
	// InitialSync runs the tenant's initial full sync (resumable: the next
	// sync-products finishes an interrupted one), reporting products done.
	InitialSync(ctx context.Context, tenantID string, progress func(done, total int)) error
}

// Config configures a Server.
type Config struct {
	PublicURL      string   // where sellers reach the panel; https unless loopback
	FrameAncestors []string // origins allowed to frame the panel; none by default
	SSOSecret      []byte   // HS256 secret of CaZco's sign-in tokens; nil: /sso is off
	Store          Store
	Connector      Connector
	Logger         *slog.Logger
	Now            func() time.Time
	// LoginRate is how many sign-in attempts (invite, sso) an IP may make a minute;
	// 0 means 20.
	LoginRate int
}

// Server is the panel's HTTP handler and the initial syncs it started.
type Server struct {
	cfg     Config
	public  *url.URL
	secure  bool
	tmpl    map[string]*template.Template
	handler http.Handler
	limiter *ipLimiter

	base   context.Context // cancelled at shutdown: initial syncs stop at a safe point
	cancel context.CancelFunc
	syncs  sync.WaitGroup
	mu     sync.Mutex
	prog   map[string]*syncProgress // initial syncs running in this process, by tenant
}

// New checks cfg and builds the server.
func New(cfg Config) (*Server, error) {
	u, err := CheckPublicURL(cfg.PublicURL)
	if err != nil {
		return nil, err
	}
	for _, a := range cfg.FrameAncestors {
		if !validAncestor(a) {
			return nil, fmt.Errorf("--frame-ancestors: %q is not an origin like https://loja.cazco.com.br", a)
		}
	}
	if cfg.Store == nil || cfg.Connector == nil {
		return nil, errors.New("panel: a store and a connector are needed")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.LoginRate <= 0 {
		cfg.LoginRate = 20
	}
	tm, err := parseTemplates()
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, public: u, secure: u.Scheme == "https", tmpl: tm,
		limiter: newIPLimiter(cfg.LoginRate), prog: map[string]*syncProgress{}}
	s.base, s.cancel = context.WithCancel(context.Background())
	s.handler = s.routes()
	return s, nil
}

// Handler is the panel with its middleware.
func (s *Server) Handler() http.Handler { return s.handler }

// CallbackURL is the redirect URI to register in the Bling app.
func (s *Server) CallbackURL() string { return s.public.String() + "/oauth/bling/callback" }

// StopSyncs asks the initial syncs this server started to stop at a safe point and
// waits for them (until ctx is done). What they left is resumed by sync-products.
func (s *Server) StopSyncs(ctx context.Context) error {
	s.cancel()
	done := make(chan struct{})
	go func() { s.syncs.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	static, _ := fs.Sub(staticFiles, "static")
	mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /invite/{token}", s.invite)
	mux.HandleFunc("GET /sso", s.sso)
	mux.HandleFunc("GET /{$}", s.withSession(s.home))
	mux.HandleFunc("POST /cazco", s.withSession(s.postCazco))
	mux.HandleFunc("POST /bling/connect", s.withSession(s.connect))
	mux.HandleFunc("GET /oauth/bling/callback", s.withSession(s.callback))
	mux.HandleFunc("GET /status.json", s.withSession(s.statusJSON))
	mux.HandleFunc("GET /logs", s.withSession(s.logs))
	mux.HandleFunc("GET /logs.csv", s.withSession(s.logsCSV))
	mux.HandleFunc("POST /pause", s.withSession(s.pause))
	mux.HandleFunc("POST /resume", s.withSession(s.resume))
	mux.HandleFunc("POST /logout", s.withSession(s.logout))
	mux.HandleFunc("/", s.notFound)
	return s.middleware(mux)
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if err := s.cfg.Store.Ping(r.Context()); err != nil {
		s.cfg.Logger.Error("health check: the store does not answer", "err", err)
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintln(w, "store unavailable")
		return
	}
	fmt.Fprintln(w, "ok")
}

func (s *Server) notFound(w http.ResponseWriter, r *http.Request) {
	s.page(w, r, http.StatusNotFound, msgNotFound)
}

// CheckPublicURL checks the panel's public URL: an origin, https:// unless the host is
// loopback.
func CheckPublicURL(raw string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimRight(raw, "/"))
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, fmt.Errorf("--public-url %q: want an absolute http(s) URL", raw)
	}
	if u.Scheme == "http" && !isLoopbackHost(u.Hostname()) {
		return nil, fmt.Errorf("--public-url %q: must be https:// unless the host is loopback (TLS is the reverse proxy's)", raw)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.Path != "" || u.User != nil {
		return nil, fmt.Errorf("--public-url %q: give the origin only (no path, query or fragment)", raw)
	}
	return u, nil
}

// isLoopbackHost reports whether host is localhost or a loopback address.
func isLoopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	return strings.HasPrefix(host, "127.") || host == "::1"
}

func validAncestor(a string) bool {
	u, err := url.Parse(a)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http" && isLoopbackHost(u.Hostname())) &&
		u.Host != "" && (u.Path == "" || u.Path == "/") && u.RawQuery == "" && !strings.ContainsAny(a, " ;'\"")
}
