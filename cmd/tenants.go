package cmd

import (
	"context"
	"errors"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/cazbling/cazbling/pkg/cazbling"
	"github.com/cazbling/cazbling/pkg/store"
)

// TenantsOptions are the flags of `cazbling tenants` and its subcommands, and what
// they need to run.
type TenantsOptions struct {
	Out   io.Writer
	Store func(context.Context) (store.Store, error)
	Now   func() time.Time

	Tenants []string // the global --tenant flag: list only these
	ID      string   // show, deactivate, reactivate: the tenant
	Output  string   // table or json
}

// NewTenantsCmd builds `cazbling tenants` and its subcommands show, deactivate and
// reactivate.
func NewTenantsCmd(app *App) *cobra.Command {
	// list and show only read: they work on a store that cannot be written.
	fill := func(o *TenantsOptions) {
		o.Out, o.Store, o.Now, o.Tenants = app.IO.Out, app.StoreForReading, app.Now, app.Tenants
	}
	list := &TenantsOptions{}
	c := &cobra.Command{
		Use:   "tenants [show ID | deactivate ID | reactivate ID] [-o table|json]",
		Short: "List tenants: status, last run per flow, items failing now",
		Long: `Lists the tenants with their status (active, needs_reauth, paused until when,
inactive), the outcome and age of the last run of each flow (e.g. "ok 5m": it ended
well 5 minutes ago; "-": never ran), and how many items are failing now. Notes under
the table say why a tenant is not active. --tenant lists only the tenants named.

'tenants show ID' adds the settings (never secrets: only whether they are set),
cursors, link counts and last runs. 'tenants deactivate ID' makes every sync command
skip the tenant until 'tenants reactivate ID'.`,
		Example: `  cazbling tenants
  cazbling tenants show loja-da-ana -o json
  cazbling tenants deactivate loja-da-ana`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fill(list)
			return tenantsRun(cmd.Context(), list)
		},
	}
	c.Flags().StringVarP(&list.Output, "output", "o", "table", "table or json")

	show := &TenantsOptions{}
	showCmd := &cobra.Command{
		Use:   "show ID [-o table|json]",
		Short: "Show one tenant: settings (never secrets), cursors, link counts, last runs",
		Args:  tenantArg("show"),
		RunE: func(cmd *cobra.Command, args []string) error {
			fill(show)
			show.ID = args[0]
			return tenantShowRun(cmd.Context(), show)
		},
	}
	showCmd.Flags().StringVarP(&show.Output, "output", "o", "table", "table or json")

	status := func(name, short string, to cazbling.TenantStatus) *cobra.Command {
		opts := &TenantsOptions{}
		return &cobra.Command{
			Use:   name + " ID",
			Short: short,
			Args:  tenantArg(name),
			RunE: func(cmd *cobra.Command, args []string) error {
				fill(opts)
				opts.Store, opts.ID = app.Store, args[0]
				return tenantStatusRun(cmd.Context(), opts, to)
			},
		}
	}
	c.AddCommand(showCmd,
		status("deactivate", "Make every sync command skip a tenant until it is reactivated", cazbling.TenantInactive),
		status("reactivate", "Let the sync commands work a deactivated or paused tenant again", cazbling.TenantActive),
		NewTenantsInviteCmd(app),
	)
	return c
}

func tenantArg(sub string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != 1 {
			return usageErr("tenants %s needs one tenant ID, e.g. 'cazbling tenants %s loja-da-ana'; 'cazbling tenants' lists them", sub, sub)
		}
		return nil
	}
}

func checkTableJSON(output string) error {
	if output != "table" && output != "json" {
		return usageErr("--output must be table or json, not %q", output)
	}
	return nil
}

// lookupTenant reads one tenant; an unknown id is a usage error.
func lookupTenant(ctx context.Context, store store.Store, id string) (cazbling.Tenant, error) {
	t, err := store.Tenant(ctx, id)
	if errors.Is(err, cazbling.ErrNotFound) {
		return t, usageErr("unknown tenant %q; 'cazbling tenants' lists them", id)
	}
	return t, err
}
