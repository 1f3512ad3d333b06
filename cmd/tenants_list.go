package cmd

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cazbling/cazbling/pkg/cazbling"
	"github.com/cazbling/cazbling/pkg/store"
)

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
func lastRuns(ctx context.Context, store store.Store, scrub *strings.Replacer, id string) (map[string]cazbling.Run, error) {
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
