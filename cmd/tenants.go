package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/cazbling/cazbling/pkg/cazbling"
	"github.com/cazbling/cazbling/pkg/httpx"
	"github.com/cazbling/cazbling/pkg/store/sqlite"
)

// TenantsOptions are the flags of `cazbling tenants` and its subcommands, and what
// they need to run.
type TenantsOptions struct {
	Out   io.Writer
	Store func(context.Context) (*sqlite.Store, error)
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
func lookupTenant(ctx context.Context, store *sqlite.Store, id string) (cazbling.Tenant, error) {
	t, err := store.Tenant(ctx, id)
	if errors.Is(err, cazbling.ErrNotFound) {
		return t, usageErr("unknown tenant %q; 'cazbling tenants' lists them", id)
	}
	return t, err
}

// tenantsFlows are the flows the list shows a column for.
func tenantsFlows() []string {
	return []string{cazbling.FlowProducts, cazbling.FlowStock, cazbling.FlowOrders}
}

// tenantRow is a tenant as `tenants -o json` shows it.
type tenantRow struct {
	Tenant      string            `json:"tenant"`
	Status      string            `json:"status"`
	PausedUntil string            `json:"paused_until"`
	Reason      string            `json:"reason"`
	Failing     int               `json:"failing"`
	LastRuns    map[string]runRow `json:"last_runs"`
}

// tenantsRun lists the tenants.
func tenantsRun(ctx context.Context, o *TenantsOptions) error {
	if err := checkTableJSON(o.Output); err != nil {
		return err
	}
	store, err := o.Store(ctx)
	if err != nil {
		return err
	}
	var tenants []cazbling.Tenant
	if len(o.Tenants) > 0 {
		for i, id := range o.Tenants {
			if slices.Contains(o.Tenants[:i], id) {
				continue
			}
			t, err := lookupTenant(ctx, store, id)
			if err != nil {
				return err
			}
			tenants = append(tenants, t)
		}
	} else if tenants, err = store.Tenants(ctx); err != nil {
		return err
	}
	scrub, err := secretScrubber(ctx, store)
	if err != nil {
		return err
	}
	rows := make([]tenantRow, 0, len(tenants))
	lasts := make([]map[string]cazbling.Run, 0, len(tenants))
	for i := range tenants {
		t := &tenants[i]
		t.StatusReason = scrub.Replace(t.StatusReason)
		last, err := lastRuns(ctx, store, scrub, t.ID)
		if err != nil {
			return err
		}
		failing, err := store.FailingItems(ctx, t.ID)
		if err != nil {
			return err
		}
		rows = append(rows, tenantRow{
			Tenant: t.ID, Status: string(t.Status), PausedUntil: rfc3339(t.PausedUntil),
			Reason: t.StatusReason, Failing: failing, LastRuns: runRows(last),
		})
		lasts = append(lasts, last)
	}
	if o.Output == "json" {
		return writeJSON(o.Out, rows)
	}
	if len(tenants) == 0 {
		_, err := fmt.Fprintln(o.Out, "No tenants. Add one with 'cazbling activate'.")
		return err
	}
	header := []string{"TENANT", "STATUS", "PRODUCTS", "STOCK", "ORDERS", "FAILING"}
	now := o.Now()
	cells := make([][]string, 0, len(tenants))
	var notes []string
	for i, t := range tenants {
		last := lasts[i]
		row := []string{cell(t.ID), statusCell(t, now)}
		for _, flow := range tenantsFlows() {
			row = append(row, lastRunCell(last, flow, now))
		}
		row = append(row, strconv.Itoa(rows[i].Failing))
		cells = append(cells, row)
		if note := statusNote(t); note != "" {
			notes = append(notes, ellipsize(cell(t.ID+": "+note), tableWidth))
		}
	}
	fitTable(header, cells, tableWidth, shrink{0, 8}, shrink{1, 8})
	if err := renderTable(o.Out, header, cells); err != nil {
		return err
	}
	for _, n := range notes {
		if _, err := fmt.Fprintln(o.Out, n); err != nil {
			return err
		}
	}
	return nil
}

// statusCell is a tenant's STATUS cell: its status, with the end of a pause (UTC).
func statusCell(t cazbling.Tenant, now time.Time) string {
	if t.Status != cazbling.TenantPaused {
		return cell(string(t.Status))
	}
	switch until := t.PausedUntil.UTC(); {
	case !until.After(now):
		return "pause ended" // the next run works the tenant again
	case until.Sub(now) < 24*time.Hour:
		return "paused→" + until.Format("15:04")
	default:
		return "paused→" + until.Format("01-02")
	}
}

// statusNote says why a tenant is not active, or "" when it is.
func statusNote(t cazbling.Tenant) string {
	var s string
	switch t.Status {
	case cazbling.TenantActive:
		return ""
	case cazbling.TenantPaused:
		s = "paused until " + t.PausedUntil.UTC().Format("2006-01-02 15:04") + " UTC"
	default:
		s = string(t.Status)
	}
	if t.StatusReason != "" {
		s += " (" + t.StatusReason + ")"
	}
	return s
}

// lastRunCell is "ok 5m": the outcome of the tenant's last run of flow and how long
// ago it ended (or started, while it runs); "-" if it never ran.
func lastRunCell(last map[string]cazbling.Run, flow string, now time.Time) string {
	r, ok := last[flow]
	if !ok {
		return "-"
	}
	at := r.FinishedAt
	if at.IsZero() {
		at = r.StartedAt
	}
	word := map[string]string{
		cazbling.StatusWarning: "warn", cazbling.StatusSkipped: "skip", "running": "run",
	}[r.Status]
	if word == "" {
		word = ellipsize(cell(r.Status), 5)
	}
	return word + " " + age(now.Sub(at))
}

// lastRuns reads a tenant's last run of each flow, secrets scrubbed from messages.
func lastRuns(ctx context.Context, store *sqlite.Store, scrub *strings.Replacer, id string) (map[string]cazbling.Run, error) {
	last, err := store.LastRuns(ctx, id)
	if err != nil {
		return nil, err
	}
	for flow, r := range last {
		r.Message = scrub.Replace(r.Message)
		last[flow] = r
	}
	return last, nil
}

// runRows turns a tenant's last runs into their JSON form.
func runRows(last map[string]cazbling.Run) map[string]runRow {
	rows := make(map[string]runRow, len(last))
	for flow, r := range last {
		rows[flow] = newRunRow(r)
	}
	return rows
}

// age is a compact duration: 45s, 12m, 5h, 3d.
func age(d time.Duration) string {
	switch {
	case d < 0:
		return "0s"
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d.Hours()))
	default:
		return fmt.Sprintf("%dd", int(d.Hours()/24))
	}
}

// ---------------------------------------------------------------- show

// tenantDetail is a tenant as `tenants show -o json` shows it: settings, never
// secrets (only whether each is set).
type tenantDetail struct {
	Tenant                string            `json:"tenant"`
	Status                string            `json:"status"`
	PausedUntil           string            `json:"paused_until"`
	Reason                string            `json:"reason"`
	CreatedAt             string            `json:"created_at"`
	UpdatedAt             string            `json:"updated_at"`
	BlingURL              string            `json:"bling_url"`
	BlingClientID         string            `json:"bling_client_id"`
	BlingClientSecret     string            `json:"bling_client_secret"` // set or not set
	BlingRefreshToken     string            `json:"bling_refresh_token"` // set or not set
	BlingAccessToken      string            `json:"bling_access_token"`  // set or not set
	BlingTokenExpiry      string            `json:"bling_token_expiry"`
	BlingDeposit          int64             `json:"bling_deposit"`
	BlingStore            int64             `json:"bling_store"`
	BlingPaymentMethod    int64             `json:"bling_payment_method"`
	CazcoURL              string            `json:"cazco_url"`
	CazcoAPIKey           string            `json:"cazco_api_key"` // set or not set
	ImportStatuses        []string          `json:"import_statuses"`
	ImportStatusesDefault bool              `json:"import_statuses_default"`
	Cursors               []cursorRow       `json:"cursors"`
	ProductLinks          int               `json:"product_links"`
	OrderLinks            map[string]int    `json:"order_links"`
	Failing               int               `json:"failing"`
	LastRuns              map[string]runRow `json:"last_runs"`
}

type cursorRow struct {
	Stream string `json:"stream"`
	Value  string `json:"value"`
}

// setOrNot is all that is ever shown of a secret.
func setOrNot(secret string) string {
	if secret == "" {
		return "not set"
	}
	return "set"
}

// tenantShowRun prints one tenant in detail.
func tenantShowRun(ctx context.Context, o *TenantsOptions) error {
	if err := checkTableJSON(o.Output); err != nil {
		return err
	}
	store, err := o.Store(ctx)
	if err != nil {
		return err
	}
	t, err := lookupTenant(ctx, store, o.ID)
	if err != nil {
		return err
	}
	scrub, err := secretScrubber(ctx, store)
	if err != nil {
		return err
	}
	t.StatusReason = scrub.Replace(t.StatusReason)
	d, last, err := tenantDetails(ctx, store, scrub, t)
	if err != nil {
		return err
	}
	if o.Output == "json" {
		return writeJSON(o.Out, d)
	}
	return printTenantDetail(o.Out, t, d, last, o.Now())
}

// tenantDetails gathers what show prints, and the tenant's last run of each flow.
func tenantDetails(ctx context.Context, store *sqlite.Store, scrub *strings.Replacer, t cazbling.Tenant) (tenantDetail, map[string]cazbling.Run, error) {
	tok, err := store.Token(ctx, t.ID)
	if err != nil {
		return tenantDetail{}, nil, err
	}
	d := tenantDetail{
		Tenant: t.ID, Status: string(t.Status), PausedUntil: rfc3339(t.PausedUntil), Reason: t.StatusReason,
		CreatedAt: rfc3339(t.CreatedAt), UpdatedAt: rfc3339(t.UpdatedAt),
		BlingURL: httpx.RedactURL(t.BlingURL), BlingClientID: t.BlingClientID,
		BlingClientSecret: setOrNot(t.BlingClientSecret), BlingRefreshToken: setOrNot(tok.RefreshToken),
		BlingAccessToken: setOrNot(tok.AccessToken), BlingTokenExpiry: rfc3339(tok.Expiry),
		BlingDeposit: t.BlingDeposit, BlingStore: t.BlingStore, BlingPaymentMethod: t.BlingPaymentMethod,
		CazcoURL: httpx.RedactURL(t.CazcoURL), CazcoAPIKey: setOrNot(t.CazcoAPIKey),
		ImportStatuses: t.ImportStatuses, ImportStatusesDefault: len(t.ImportStatuses) == 0,
		Cursors: []cursorRow{}, OrderLinks: map[string]int{},
	}
	if d.ImportStatusesDefault {
		d.ImportStatuses = slices.Clone(cazbling.DefaultImportStatuses)
	}
	cursors, err := store.Cursors(ctx, t.ID)
	if err != nil {
		return d, nil, err
	}
	for _, c := range cursors {
		d.Cursors = append(d.Cursors, cursorRow{Stream: c.Stream, Value: c.Value})
	}
	if d.ProductLinks, err = store.CountProductLinks(ctx, t.ID); err != nil {
		return d, nil, err
	}
	orders, err := store.CountOrderLinks(ctx, t.ID)
	if err != nil {
		return d, nil, err
	}
	for _, s := range []cazbling.OrderLinkState{cazbling.OrderCreated, cazbling.OrderCreating, cazbling.OrderFailed} {
		d.OrderLinks[string(s)] = orders[s]
	}
	for s, n := range orders {
		d.OrderLinks[string(s)] = n
	}
	if d.Failing, err = store.FailingItems(ctx, t.ID); err != nil {
		return d, nil, err
	}
	last, err := lastRuns(ctx, store, scrub, t.ID)
	if err != nil {
		return d, nil, err
	}
	d.LastRuns = runRows(last)
	return d, last, nil
}

func printTenantDetail(w io.Writer, t cazbling.Tenant, d tenantDetail, last map[string]cazbling.Run, now time.Time) error {
	var b strings.Builder
	field := func(name, value string) {
		if name != "" {
			name += ":"
		}
		if value == "" {
			value = "-"
		}
		fmt.Fprintf(&b, "%-18s %s\n", name, value)
	}
	orNone := func(id int64, none string) string {
		if id == 0 {
			return none
		}
		return strconv.FormatInt(id, 10)
	}
	status := string(t.Status)
	if t.Status == cazbling.TenantPaused {
		status += " until " + t.PausedUntil.UTC().Format("2006-01-02 15:04") + " UTC"
		if !t.PausedUntil.After(now) {
			status += " (over: the next run works it)"
		}
	}
	field("Tenant", cell(t.ID))
	field("Status", cell(status))
	if t.StatusReason != "" {
		field("Reason", cell(t.StatusReason))
	}
	field("Created", longTime(t.CreatedAt))
	field("Updated", longTime(t.UpdatedAt))
	b.WriteString("\nBling\n")
	field("  URL", cell(d.BlingURL))
	field("  Client id", cell(d.BlingClientID))
	field("  Client secret", d.BlingClientSecret)
	field("  Refresh token", d.BlingRefreshToken)
	access := d.BlingAccessToken
	if d.BlingTokenExpiry != "" {
		tok, _ := time.Parse(time.RFC3339Nano, d.BlingTokenExpiry)
		access += ", expires " + longTime(tok)
	}
	field("  Access token", access)
	field("  Deposit", orNone(t.BlingDeposit, "all deposits (total)"))
	field("  Store (loja)", orNone(t.BlingStore, "none"))
	field("  Payment method", orNone(t.BlingPaymentMethod, "the account's default"))
	b.WriteString("\nCaZco\n")
	field("  URL", cell(d.CazcoURL))
	field("  API key", d.CazcoAPIKey)
	statuses := d.ImportStatuses
	if d.ImportStatusesDefault {
		statuses = append(slices.Clone(statuses), "(default)")
	}
	for i, line := range wrapWords(statuses, tableWidth-19) {
		if i == 0 {
			field("  Import statuses", cell(line))
		} else {
			field("", cell(line))
		}
	}
	b.WriteString("\n")
	field("Product links", strconv.Itoa(d.ProductLinks))
	field("Order links", fmt.Sprintf("%d created, %d creating, %d failed",
		d.OrderLinks[string(cazbling.OrderCreated)], d.OrderLinks[string(cazbling.OrderCreating)],
		d.OrderLinks[string(cazbling.OrderFailed)]))
	field("Failing now", strconv.Itoa(d.Failing))
	if _, err := io.WriteString(w, b.String()); err != nil {
		return err
	}

	fmt.Fprintln(w, "\nCursors")
	if len(d.Cursors) == 0 {
		fmt.Fprintln(w, "  none yet")
	} else {
		cells := make([][]string, 0, len(d.Cursors))
		for _, c := range d.Cursors {
			cells = append(cells, []string{cell(c.Stream), cell(c.Value)})
		}
		header := []string{"STREAM", "VALUE"}
		fitTable(header, cells, tableWidth, shrink{1, 20})
		if err := renderTable(w, header, cells); err != nil {
			return err
		}
	}

	fmt.Fprintln(w, "\nLast runs")
	if len(last) == 0 {
		_, err := fmt.Fprintln(w, "  none yet")
		return err
	}
	flows := make([]string, 0, len(last))
	for f := range last {
		flows = append(flows, f)
	}
	order := []string{cazbling.FlowActivate, cazbling.FlowProducts, cazbling.FlowStock, cazbling.FlowOrders}
	slices.SortFunc(flows, func(a, b string) int {
		ia, ib := slices.Index(order, a), slices.Index(order, b)
		if ia < 0 {
			ia = len(order)
		}
		if ib < 0 {
			ib = len(order)
		}
		if ia != ib {
			return ia - ib
		}
		return strings.Compare(a, b)
	})
	header := []string{"FLOW", "RUN", "STARTED UTC", "TOOK", "STATUS", "ITEMS"}
	cells := make([][]string, 0, len(flows))
	var messages []string
	for _, f := range flows {
		r := last[f]
		cells = append(cells, []string{cell(f), strconv.FormatInt(r.ID, 10), shortTime(r.StartedAt),
			took(r), cell(r.Status), items(r.Counts)})
		if r.Message != "" {
			messages = append(messages, ellipsize(cell(f+": "+r.Message), tableWidth))
		}
	}
	fitTable(header, cells, tableWidth, shrink{5, 12})
	if err := renderTable(w, header, cells); err != nil {
		return err
	}
	messages = append(messages, "ITEMS: created/updated/unchanged/stock set/failed/left to retry")
	for _, m := range messages {
		if _, err := fmt.Fprintln(w, m); err != nil {
			return err
		}
	}
	return nil
}

// longTime is a full time in UTC for people, or "-".
func longTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04") + " UTC"
}

// wrapWords joins words with ", " into lines of at most width characters (a longer
// word gets a line of its own).
func wrapWords(words []string, width int) []string {
	var lines []string
	var line string
	for i, w := range words {
		if i < len(words)-1 && !strings.HasPrefix(words[i+1], "(") {
			w += ","
		}
		switch {
		case line == "":
			line = w
		case len(line)+1+len(w) <= width:
			line += " " + w
		default:
			lines = append(lines, line)
			line = w
		}
	}
	if line != "" || len(lines) == 0 {
		lines = append(lines, line)
	}
	return lines
}

// ---------------------------------------------------------------- deactivate, reactivate

// tenantStatusRun deactivates (to inactive) or reactivates (to active) a tenant.
func tenantStatusRun(ctx context.Context, o *TenantsOptions, to cazbling.TenantStatus) error {
	store, err := o.Store(ctx)
	if err != nil {
		return err
	}
	t, err := lookupTenant(ctx, store, o.ID)
	if err != nil {
		return err
	}
	var reason, done string
	switch to {
	case cazbling.TenantInactive:
		if t.Status == cazbling.TenantInactive {
			_, err := fmt.Fprintf(o.Out, "Tenant %s is inactive already.\n", t.ID)
			return err
		}
		reason = "deactivated by an operator"
		done = fmt.Sprintf("Deactivated %s: sync commands skip it until 'cazbling tenants reactivate %s'.", t.ID, t.ID)
	case cazbling.TenantActive:
		switch t.Status {
		case cazbling.TenantActive:
			_, err := fmt.Fprintf(o.Out, "Tenant %s is active already.\n", t.ID)
			return err
		case cazbling.TenantNeedsReauth:
			return usageErr("tenant %q needs to authorize Bling again (%s); reactivating cannot fix that: run 'cazbling activate %s' with a new --bling-code",
				t.ID, t.StatusReason, t.ID)
		case cazbling.TenantInvited:
			return usageErr("tenant %q is invited and has not connected yet; it becomes active when the seller connects in the panel (or with 'cazbling activate %s')",
				t.ID, t.ID)
		}
		done = fmt.Sprintf("Reactivated %s (it was %s): the next sync runs work it.", t.ID, t.Status)
	default:
		return fmt.Errorf("set status of tenant %q: unexpected status %q", t.ID, to)
	}
	if err := store.SetTenantStatus(ctx, t.ID, to, time.Time{}, reason); err != nil {
		return err
	}
	_, err = fmt.Fprintln(o.Out, done)
	return err
}
