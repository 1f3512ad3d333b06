package cmd

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cazbling/cazbling/pkg/cazbling"
	"github.com/cazbling/cazbling/pkg/httpx"
	"github.com/cazbling/cazbling/pkg/store"
)

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
	CazcoAPIKey           string            `json:"cazco_api_key"`    // set or not set
	CazcoRateLimit        string            `json:"cazco_rate_limit"` // as CaZco's answers advertised it; "" if none yet
	CazcoRateLimitSeen    string            `json:"cazco_rate_limit_seen"`
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
func tenantDetails(ctx context.Context, store store.Store, scrub *strings.Replacer, t cazbling.Tenant) (tenantDetail, map[string]cazbling.Run, error) {
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
	if l, ok, err := store.APILimit(ctx, t.ID, "cazco"); err != nil {
		return d, nil, err
	} else if ok {
		d.CazcoRateLimit, d.CazcoRateLimitSeen = l.String(), rfc3339(l.SeenAt)
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
	if d.CazcoRateLimit != "" {
		seen, _ := time.Parse(time.RFC3339Nano, d.CazcoRateLimitSeen)
		field("  Rate limit", d.CazcoRateLimit+", advertised "+longTime(seen))
	} else {
		field("  Rate limit", "none advertised yet: the assumed one (CAZBLING_CAZCO_RPM)")
	}
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
