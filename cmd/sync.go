package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/cazbling/cazbling/pkg/cazbling"
	"github.com/cazbling/cazbling/pkg/flow"
)

// syncKind describes one sync subcommand.
type syncKind struct {
	use, short, long string
	flow             string
	work             flow.Work
	hasFull          bool
}

var (
	syncProducts = syncKind{
		use:   "sync-products",
		short: "Create new Bling products in CaZco (or update them there)",
		long: `New Bling products (by inclusion date since the tenant's cursor) are created in
CaZco, or updated there if the SKU already exists. --full walks the whole Bling
catalogue (this is what activate runs), resuming where an interrupted full sync stopped.`,
		flow: cazbling.FlowProducts, work: flow.SyncProducts, hasFull: true,
	}
	syncStock = syncKind{
		use:   "sync-stock",
		short: "Push changed Bling products and every stock balance to CaZco",
		long: `Products changed in Bling since the cursor (alteration date) get their data pushed
to CaZco (created there if the SKU is missing), and every mapped product's stock in
CaZco is set to its Bling balance, writing only the quantities that differ from what
CaZco was last sent.`,
		flow: cazbling.FlowStock, work: flow.SyncStock,
	}
	syncOrders = syncKind{
		use:   "sync-orders",
		short: "File new CaZco orders in Bling as sales orders, each exactly once",
		long: `CaZco orders updated since the cursor (with an overlap window) that are in an
importable status are created in Bling as sales orders, each exactly once, with the
buyer as a Bling contact (found by CPF/CNPJ or created). Orders that cannot be created
yet (unknown SKU, validation error, Bling down) are kept and retried on later runs.

Then the life of every filed order still open is carried across: an NF-e authorized in
Bling becomes the CaZco invoice, a tracking code becomes a CaZco shipment (after the
invoice), an order cancelled in Bling is cancelled in CaZco, and one cancelled in CaZco
moves the Bling order to "Cancelado" unless an NF-e is authorized for it (an error row
then says to cancel the NF-e in Bling first). Each run reads each open order once from
Bling, so its cost grows with the orders still open, not with all orders ever filed.`,
		flow: cazbling.FlowOrders, work: flow.SyncOrdersAndLifecycle,
	}
)

// SyncOptions are the flags of a sync subcommand.
type SyncOptions struct {
	DryRun bool
	Full   bool
}

// NewSyncCmd builds one sync subcommand.
func NewSyncCmd(app *App, k syncKind) *cobra.Command {
	var opts SyncOptions
	c := &cobra.Command{
		Use:   k.use + " [flags]",
		Short: k.short,
		Long:  k.long,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fopts := app.flowOptions()
			fopts.DryRun, fopts.Full = opts.DryRun, opts.Full
			return app.runFlow(cmd.Context(), k.use, k.flow, fopts, k.work)
		},
	}
	c.Flags().BoolVar(&opts.DryRun, "dry-run", false, "read both sides and report what would be written; write nothing, move no cursor")
	if k.hasFull {
		c.Flags().BoolVar(&opts.Full, "full", false, "walk the whole Bling catalogue (active and inactive), resuming an interrupted walk")
	}
	return c
}

func (app *App) flowOptions() flow.Options {
	return flow.Options{
		Tenants: app.Tenants, Concurrency: app.Concurrency,
		Overlap: app.Overlap, Margin: app.Margin,
	}
}

// runFlow runs one flow for the selected tenants with the run's deadline, pings,
// prints the summary and writes the metrics; it returns the exit status as an error.
func (app *App) runFlow(ctx context.Context, command, flowName string, opts flow.Options, work flow.Work) error {
	store, err := app.Store(ctx)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, app.Timeout)
	defer cancel()
	start := app.Now()
	ping := newPinger(app.PingURL, app.Logger)
	ping.send(ctx, "/start")

	cl := app.clients(store)
	deps := flow.Deps{
		Store: store, ERP: cl.ERP, Market: cl.Market, Now: app.Now,
		Logger: app.Logger, Holder: app.holderID(), LeaseTTL: app.LeaseTTL,
		Release: cl.release,
	}
	deps.Busy, deps.RampUp = cl.busy()
	if app.IO.StderrTerminal && !app.Quiet {
		bar := newProgress(app.IO.Err)
		defer bar.done()
		deps.Progress = bar.update
	}
	results, err := flow.Run(ctx, deps, flowName, opts, work)
	if err != nil {
		ping.send(ctx, "/fail")
		if errors.Is(err, flow.ErrUsage) {
			return usageErr("%s", strings.TrimPrefix(err.Error(), flow.ErrUsage.Error()+": "))
		}
		return &ExitError{Code: ExitFailed, Err: err}
	}
	return app.finishRun(ctx, command, start, results, cl, ping)
}

// finishRun reports a finished run: summary table, one-line summary, metrics, ping,
// exit status.
func (app *App) finishRun(ctx context.Context, command string, start time.Time, results []flow.Result, cl *clients, ping *pinger) error {
	if !app.Quiet {
		if err := printSummary(app.IO.Out, results); err != nil {
			return err
		}
	}
	failed := 0
	var total cazbling.Counts
	for _, r := range results {
		total = total.Add(r.Counts)
		if r.Failed() {
			failed++
			app.Logger.Error("tenant run failed", "tenant", r.TenantID, "flow", r.Flow, "reason", r.Message)
		} else if r.Status == cazbling.StatusSkipped {
			app.Logger.Info("tenant skipped", "tenant", r.TenantID, "flow", r.Flow, "reason", r.Message)
		}
	}
	exit := ExitOK
	if failed > 0 {
		exit = ExitFailed
	}
	line := fmt.Sprintf("%s: %d tenants (%d failed); %d created, %d updated, %d unchanged, %d stock set, %d failed, %d left for later; %s; exit %d",
		command, len(results), failed, total.Created, total.Updated, total.Unchanged, total.StockSet,
		total.Failed, total.Retry, app.Now().Sub(start).Round(time.Millisecond), exit)
	if exit == ExitOK {
		app.Logger.Info(line)
	} else {
		app.Logger.Warn(line)
	}
	if app.MetricsFile != "" {
		if err := writeMetrics(context.WithoutCancel(ctx), app.MetricsFile, app.store, results, cl.stats, app.Now()); err != nil {
			app.Logger.Error("could not write the metrics file", "path", app.MetricsFile, "error", err)
		}
	}
	if exit == ExitOK {
		ping.send(context.WithoutCancel(ctx), "")
		return nil
	}
	ping.send(context.WithoutCancel(ctx), "/fail")
	return &ExitError{Code: exit}
}

// printSummary prints one row per tenant.
func printSummary(w io.Writer, results []flow.Result) error {
	if len(results) == 0 {
		_, err := fmt.Fprintln(w, "No active tenants. Add one with 'cazbling activate'.")
		return err
	}
	rows := make([][]string, 0, len(results))
	for _, r := range results {
		c := r.Counts
		rows = append(rows, []string{
			ellipsize(r.TenantID, 16), r.Status, strconv.Itoa(c.Created), strconv.Itoa(c.Updated),
			strconv.Itoa(c.Unchanged), strconv.Itoa(c.StockSet), strconv.Itoa(c.Failed),
			strconv.Itoa(c.Retry), r.Duration.Round(100 * time.Millisecond).String(),
		})
	}
	return renderTable(w, []string{"TENANT", "STATUS", "CREATED", "UPDATED", "UNCHANGED", "STOCK", "FAILED", "RETRY", "TOOK"}, rows)
}
