package cmd

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/cazbling/cazbling/pkg/store"
)

// PruneOptions are the flags of `cazbling logs prune`.
type PruneOptions struct {
	Out     io.Writer
	Store   func(context.Context) (store.Store, error)
	Now     func() time.Time
	Tenants []string // the global --tenant flag: not allowed, pruning covers all tenants
	Quiet   bool     // the global -q flag: print nothing (for cron)

	OlderThan string
}

func newLogsPruneCmd(app *App, runF func(context.Context, *PruneOptions) error) *cobra.Command {
	opts := &PruneOptions{}
	c := &cobra.Command{
		Use:   "prune --older-than DURATION",
		Short: "Delete old log rows, never those of items still failing",
		Long: `Deletes the log rows older than --older-than, of every tenant, except the rows of
items still failing (orders not yet filed in Bling, products and stock whose latest
row is an error), so that their history stays until they are fixed. Runs are kept.
It prints how many rows it deleted, unless -q.`,
		Example: `  cazbling logs prune --older-than 90d
  # weekly, from cron:
  30 4 * * 0  cazbling logs prune --older-than 90d -q`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.Out, opts.Store, opts.Now, opts.Tenants, opts.Quiet = app.IO.Out, app.Store, app.Now, app.Tenants, app.Quiet
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return pruneRun(cmd.Context(), opts)
		},
	}
	c.Flags().StringVar(&opts.OlderThan, "older-than", "", "delete rows older than this: 90d, 720h, 1d12h (required)")
	return c
}

// pruneRun deletes old log rows and says how many.
func pruneRun(ctx context.Context, o *PruneOptions) error {
	if o.OlderThan == "" {
		return usageErr("prune needs --older-than, e.g. 'cazbling logs prune --older-than 90d'")
	}
	age, err := parseAge(o.OlderThan)
	if err != nil {
		return usageErr("--older-than: %v", err)
	}
	if age <= 0 {
		return usageErr("--older-than must be more than 0, e.g. 90d")
	}
	if len(o.Tenants) > 0 {
		return usageErr("prune covers every tenant; leave --tenant out")
	}
	store, err := o.Store(ctx)
	if err != nil {
		return err
	}
	before := o.Now().Add(-age)
	n, err := store.PruneLogs(ctx, before)
	if err != nil || o.Quiet {
		return err
	}
	_, err = fmt.Fprintf(o.Out, "Deleted %d log rows older than %s UTC (rows of items still failing are kept).\n",
		n, before.UTC().Format("2006-01-02 15:04"))
	return err
}
