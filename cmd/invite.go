package cmd

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/cazbling/cazbling/pkg/panel"
)

// InviteOptions are the flags of `tenants invite`.
type InviteOptions struct {
	TenantID  string
	Expires   time.Duration
	Output    string
	PublicURL string
}

// NewTenantsInviteCmd builds `cazbling tenants invite TENANT`.
func NewTenantsInviteCmd(app *App) *cobra.Command {
	opts := &InviteOptions{}
	c := &cobra.Command{
		Use:   "invite TENANT [--expires 72h] [-o json]",
		Short: "Print a single-use link for a seller to set up the integration in the panel",
		Long: `Registers the tenant if it is new (status invited: no flow works it until the seller
connects it in the panel) and prints a single-use link <public-url>/invite/<token>.
Opening the link starts a panel session and voids it. Only a hash of the token is
stored. The public URL is the panel's (--public-url or CAZBLING_PANEL_PUBLIC_URL).`,
		Example: `  cazbling tenants invite loja-da-ana --public-url https://integracoes.example.com.br`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageErr("tenants invite needs one TENANT name, e.g. 'cazbling tenants invite loja-da-ana'")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.TenantID = args[0]
			opts.PublicURL = envOr(cmd.Flags(), "public-url", app.getenv(), "CAZBLING_PANEL_PUBLIC_URL")
			return app.invite(cmd.Context(), opts)
		},
	}
	f := c.Flags()
	f.DurationVar(&opts.Expires, "expires", 72*time.Hour, "how long the link works")
	f.StringVarP(&opts.Output, "output", "o", "table", "table or json")
	f.StringVar(&opts.PublicURL, "public-url", "", "the panel's public URL (env CAZBLING_PANEL_PUBLIC_URL)")
	return c
}

func (app *App) invite(ctx context.Context, o *InviteOptions) error {
	if !tenantIDPattern.MatchString(o.TenantID) {
		return usageErr("tenant name %q is not valid: use up to 64 letters, digits, '.', '_' or '-', starting with a letter or digit", o.TenantID)
	}
	if err := checkTableJSON(o.Output); err != nil {
		return err
	}
	if o.Expires <= 0 || o.Expires > 30*24*time.Hour {
		return usageErr("--expires must be positive and at most 720h, not %s", o.Expires)
	}
	base := strings.TrimRight(o.PublicURL, "/")
	if base == "" {
		return usageErr("the panel's public URL is needed: give --public-url or set CAZBLING_PANEL_PUBLIC_URL")
	}
	// The same rules as the panel's own --public-url.
	if _, err := panel.CheckPublicURL(base); err != nil {
		return usageErr("%v", err)
	}
	store, err := app.Store(ctx)
	if err != nil {
		return err
	}
	token := panel.NewToken()
	expires := app.Now().Add(o.Expires)
	created, err := store.InviteTenant(ctx, o.TenantID, token, expires)
	if err != nil {
		return &ExitError{Code: ExitFailed, Err: fmt.Errorf("invite tenant %q: %w", o.TenantID, err)}
	}
	link := base + "/invite/" + token
	if created {
		app.Logger.Info("tenant registered as invited", "tenant", o.TenantID)
	}
	if o.Output == "json" {
		return writeJSON(app.IO.Out, struct {
			Tenant    string `json:"tenant"`
			URL       string `json:"url"`
			ExpiresAt string `json:"expires_at"`
		}{o.TenantID, link, rfc3339(expires)})
	}
	_, err = fmt.Fprintf(app.IO.Out, "Invite link for %s (single use, until %s):\n\n  %s\n",
		o.TenantID, expires.UTC().Format(time.RFC3339), link)
	return err
}
