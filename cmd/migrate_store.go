package cmd

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cazbling/cazbling/pkg/store"
)

// MigrateStoreOptions are the flags of migrate-store.
type MigrateStoreOptions struct {
	From, To string
	Out      io.Writer
	Getenv   func(string) string
	Quiet    bool
}

// NewMigrateStoreCmd builds `cazbling migrate-store`.
func NewMigrateStoreCmd(app *App) *cobra.Command {
	opts := &MigrateStoreOptions{}
	c := &cobra.Command{
		Use:   "migrate-store --from sqlite:PATH --to postgres://...",
		Short: "Move a SQLite store into an empty PostgreSQL database, verified",
		Long: `Copies the whole SQLite store at --from (tenants and their sealed secrets, cursors,
product and order links, order lifecycles, runs, log rows, learned rate limits, the
panel's invites and sessions) into the PostgreSQL database --to, in one transaction,
and checks the result: the rows of every table counted on both sides, and every
tenant's secrets decrypted from the new store. It refuses a target that already holds
tenants.

The secrets are copied sealed, so the new store needs the old store's key: set
CAZBLING_KEY to it (the content of PATH.key when the SQLite store has a key file) here
and on every host that will use the new store. Leases are not copied.

The source is read as one snapshot; what cazbling records in it after that is not
moved. Stop the crontab, run migrate-store, point CAZBLING_DB at the new store, start
the crontab again (on every host).`,
		Example: `  export CAZBLING_KEY="$(cat /var/lib/cazbling/cazbling.db.key)"
  cazbling migrate-store --from sqlite:/var/lib/cazbling/cazbling.db \
    --to 'postgres://cazbling@db.internal/cazbling?sslmode=verify-full'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.Out, opts.Getenv, opts.Quiet = app.IO.Out, app.IO.Getenv, app.Quiet
			return migrateStoreRun(cmd.Context(), opts)
		},
	}
	c.Flags().StringVar(&opts.From, "from", "", "the SQLite store to move: sqlite:PATH (required)")
	c.Flags().StringVar(&opts.To, "to", "", "the PostgreSQL database to move it into: postgres://... (required)")
	return c
}

func migrateStoreRun(ctx context.Context, o *MigrateStoreOptions) error {
	getenv := o.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	from, ok := strings.CutPrefix(o.From, "sqlite:")
	if !ok || from == "" {
		return usageErr("--from must be sqlite:PATH, the SQLite store to move (e.g. --from sqlite:/var/lib/cazbling/cazbling.db)")
	}
	if !store.IsPostgres(o.To) {
		return usageErr("--to must be a postgres:// or postgresql:// URL of the database to move the store into")
	}
	if _, err := os.Stat(from); err != nil {
		return usageErr("--from: %v", err)
	}
	env := getenv("CAZBLING_KEY")
	key, err := store.LoadKey(from, env)
	if err != nil {
		return usageErr("secrets key: %v", err)
	}
	rep, err := store.CopyToPostgres(ctx, from, o.To, key)
	if err != nil {
		return &ExitError{Code: ExitFailed, Err: fmt.Errorf("migrate-store: %w", err)}
	}
	if o.Quiet {
		return nil
	}
	rows := make([][]string, 0, len(rep.Tables))
	for _, t := range rep.Tables {
		rows = append(rows, []string{t.Table, strconv.FormatInt(t.Source, 10), strconv.FormatInt(t.Target, 10)})
	}
	if err := renderTable(o.Out, []string{"TABLE", "SOURCE", "TARGET"}, rows); err != nil {
		return err
	}
	fmt.Fprintf(o.Out, "Moved and verified: every table's rows counted on both sides, the secrets of %d tenants decrypted from the new store.\n", rep.Tenants)
	if strings.TrimSpace(env) == "" {
		fmt.Fprintf(o.Out, "The new store needs the key of %s.key: set CAZBLING_KEY to its content on every host.\n", from)
	}
	fmt.Fprintln(o.Out, "Point CAZBLING_DB at the new store on every host, then start the crontab again.")
	return nil
}
