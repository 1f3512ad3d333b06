package cmd

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/cazbling/cazbling/pkg/bling"
	"github.com/cazbling/cazbling/pkg/cazbling"
	"github.com/cazbling/cazbling/pkg/flow"
	"github.com/cazbling/cazbling/pkg/httpx"
	"github.com/cazbling/cazbling/pkg/panel"
	"github.com/cazbling/cazbling/pkg/store"
)

var _ panel.Store = store.Store(nil)

// PanelOptions are the panel's flags (PANEL.md).
type PanelOptions struct {
	Listen            string
	PublicURL         string
	BlingClientID     string
	BlingClientSecret string
	BlingURL          string
	SSOSecret         string
	FrameAncestors    []string
}

// NewPanelCmd builds `cazbling panel`.
func NewPanelCmd(app *App) *cobra.Command {
	opts := &PanelOptions{}
	c := &cobra.Command{
		Use:   "panel [flags]",
		Short: "Serve the seller panel: sellers connect CaZco and Bling and see the log",
		Long: `Serves the seller panel over HTTP, on the same store as the sync commands (cron
keeps running those). A seller invited with 'cazbling tenants invite TENANT' (or signed
in from CaZco with --sso-secret) enters the CaZco API key, connects Bling through
Bling's authorization page, watches the initial sync, and reads the log, in Portuguese.

Put it behind the reverse proxy that terminates TLS; --public-url is the address
sellers reach it at, and the redirect URI to register in the Bling app is
<public-url>/oauth/bling/callback. SIGTERM or SIGINT stops it gracefully: requests in
flight get 10 s, an initial sync it started stops at a safe point (the next
sync-products finishes it), and it exits 0.`,
		Example: `  cazbling panel --listen 127.0.0.1:8090 --public-url https://integracoes.example.com.br \
    --bling-client-id "$ID" --bling-client-secret "$SECRET"`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			getenv := app.getenv()
			fl := cmd.Flags()
			opts.Listen = envOr(fl, "listen", getenv, "CAZBLING_PANEL_LISTEN")
			opts.PublicURL = envOr(fl, "public-url", getenv, "CAZBLING_PANEL_PUBLIC_URL")
			opts.BlingClientID = envOr(fl, "bling-client-id", getenv, "CAZBLING_BLING_CLIENT_ID")
			opts.BlingClientSecret = envOr(fl, "bling-client-secret", getenv, "CAZBLING_BLING_CLIENT_SECRET")
			opts.SSOSecret = envOr(fl, "sso-secret", getenv, "CAZBLING_PANEL_SSO_SECRET")
			return app.panel(cmd.Context(), opts)
		},
	}
	f := c.Flags()
	f.StringVar(&opts.Listen, "listen", "127.0.0.1:8090", "address to listen on (env CAZBLING_PANEL_LISTEN)")
	f.StringVar(&opts.PublicURL, "public-url", "", "the URL sellers reach the panel at; https:// unless loopback (env CAZBLING_PANEL_PUBLIC_URL)")
	f.StringVar(&opts.BlingClientID, "bling-client-id", "", "the marketplace's Bling OAuth app client id (env CAZBLING_BLING_CLIENT_ID)")
	f.StringVar(&opts.BlingClientSecret, "bling-client-secret", "", "the Bling app's client secret (env CAZBLING_BLING_CLIENT_SECRET)")
	f.StringVar(&opts.BlingURL, "bling-url", DefaultBlingURL, "Bling API base (authorize page <base>/oauth/authorize, token endpoint <base>/oauth/token)")
	f.StringVar(&opts.SSOSecret, "sso-secret", "", "optional: the secret CaZco signs HS256 sign-in tokens with, for GET /sso (env CAZBLING_PANEL_SSO_SECRET)")
	f.StringSliceVar(&opts.FrameAncestors, "frame-ancestors", nil, "origins allowed to embed the panel in a frame (CSP frame-ancestors); default none")
	return c
}

func (app *App) panel(ctx context.Context, o *PanelOptions) error {
	if o.PublicURL == "" {
		return usageErr("--public-url is required: the address sellers reach the panel at, e.g. https://integracoes.example.com.br")
	}
	if o.BlingClientID == "" || o.BlingClientSecret == "" {
		return usageErr("--bling-client-id and --bling-client-secret are required: the marketplace's Bling app, which the sellers authorize")
	}
	o.BlingURL = strings.TrimRight(o.BlingURL, "/")
	if _, err := httpx.CheckBaseURL("--bling-url", o.BlingURL); err != nil {
		return usageErr("%v", err)
	}
	if o.SSOSecret != "" && len(o.SSOSecret) < 32 {
		return usageErr("--sso-secret must be at least 32 characters (it signs HS256 tokens)")
	}
	store, err := app.Store(ctx)
	if err != nil {
		return err
	}
	conn := &panelConnector{app: app, store: store, cl: app.clients(store), o: o}
	cfg := panel.Config{
		PublicURL: o.PublicURL, FrameAncestors: o.FrameAncestors, Store: store, Connector: conn,
		Logger: app.Logger.With("component", "panel"), Now: app.Now,
	}
	if o.SSOSecret != "" {
		cfg.SSOSecret = []byte(o.SSOSecret)
	}
	srv, err := panel.New(cfg)
	if err != nil {
		return usageErr("%v", err)
	}
	ln, err := net.Listen("tcp", o.Listen)
	if err != nil {
		return usageErr("--listen %s: %v", o.Listen, err)
	}
	hs := &http.Server{
		Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 90 * time.Second, IdleTimeout: 120 * time.Second, MaxHeaderBytes: 64 << 10,
	}
	app.Logger.Info("panel listening", "addr", ln.Addr().String(), "public_url", o.PublicURL,
		"bling_redirect_uri", srv.CallbackURL())
	go prunePanel(ctx, store, app)
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	select {
	case err := <-served:
		return &ExitError{Code: ExitFailed, Err: fmt.Errorf("panel: %w", err)}
	case <-ctx.Done():
	}
	app.Logger.Info("stopping the panel: finishing requests in flight")
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), panel.ShutdownGrace)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		app.Logger.Warn("requests still in flight at the end of the grace period were cut", "err", err)
	}
	// The syncs stop at their next safe point (a page's commit); give them a while.
	wctx, wcancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer wcancel()
	if err := srv.StopSyncs(wctx); err != nil {
		app.Logger.Warn("an initial sync did not stop in time; the next sync-products resumes it", "err", err)
	}
	app.Logger.Info("panel stopped")
	return nil
}

// prunePanel deletes lapsed sessions, states and invites every 10 minutes.
func prunePanel(ctx context.Context, store store.Store, app *App) {
	t := time.NewTicker(10 * time.Minute)
	defer t.Stop()
	for {
		if err := store.PrunePanel(ctx); err != nil && ctx.Err() == nil {
			app.Logger.Warn("could not prune the panel's lapsed records", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// panelConnector does the panel's API work with activate's logic and this process's
// clients (and so its shared limits).
type panelConnector struct {
	app   *App
	store store.Store
	cl    *clients
	o     *PanelOptions
}

func (c *panelConnector) CheckCazco(ctx context.Context, tenantID, baseURL, apiKey string) (int, error) {
	if _, err := httpx.CheckBaseURL("CaZco URL", baseURL); err != nil {
		return 0, err
	}
	market, err := c.cl.Market(cazbling.Tenant{ID: tenantID, CazcoURL: baseURL, CazcoAPIKey: apiKey})
	if err != nil {
		return 0, err
	}
	info, err := market.Info(ctx)
	return info.Products, err
}

func (c *panelConnector) AuthorizeURL(state string) string {
	return bling.AuthorizeURL(c.o.BlingURL, c.o.BlingClientID, state)
}

// ConnectBling is activate's Bling half: exchange the code at once, verify the
// company, then save the tenant active with its tokens (cursors and links are other
// rows: a re-connected tenant keeps them).
func (c *panelConnector) ConnectBling(ctx context.Context, tenantID, code string) (string, error) {
	t, err := c.store.Tenant(ctx, tenantID)
	if err != nil {
		return "", err
	}
	t.BlingURL, t.BlingClientID, t.BlingClientSecret = c.o.BlingURL, c.o.BlingClientID, c.o.BlingClientSecret
	tok, err := bling.ExchangeCode(ctx, c.cl.blingOptions(t, nil), code)
	if err != nil {
		var ae *cazbling.APIError
		if errors.As(err, &ae) {
			return "", fmt.Errorf("%w: %v", panel.ErrCodeRefused, err)
		}
		return "", fmt.Errorf("exchange the authorization code: %w", err)
	}
	company, _, tok, err := verifyBling(ctx, c.cl, t, tok)
	if err != nil {
		return "", err
	}
	t.Status, t.StatusReason = cazbling.TenantActive, ""
	if err := c.store.UpsertTenant(ctx, t, &tok); err != nil {
		return "", err
	}
	c.app.Logger.Info("tenant connected Bling in the panel", "tenant", t.ID)
	return company.Name, nil
}

// InitialSync is activate's initial sync, run by the flow runner (lease, run and log
// rows) for one tenant.
func (c *panelConnector) InitialSync(ctx context.Context, tenantID string, progress func(done, total int)) error {
	deps := flow.Deps{
		Store: c.store, ERP: c.cl.ERP, Market: c.cl.Market, Now: c.app.Now,
		Logger: c.app.Logger, Holder: c.app.holderID(), LeaseTTL: c.app.LeaseTTL,
		Release:  c.cl.release,
		Progress: func(_, _ string, done, total int) { progress(done, total) },
	}
	fopts := c.app.flowOptions()
	fopts.Tenants, fopts.Full = []string{tenantID}, true
	results, err := flow.Run(ctx, deps, cazbling.FlowActivate, fopts, initialSync)
	if err != nil {
		return err
	}
	for _, r := range results {
		if r.Failed() || r.Status == cazbling.StatusSkipped {
			return fmt.Errorf("initial sync of %s: %s: %s", r.TenantID, r.Status, r.Message)
		}
	}
	return nil
}
