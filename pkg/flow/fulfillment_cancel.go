package flow

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/cazbling/cazbling/pkg/cazbling"
)

// Cancellations both ways, for the lifecycle phase (see fulfillment.go): CaZco's
// cancellations found by their own walk, Bling's "Cancelado" found by name, and the
// writes that carry a cancel to the other side.

// cazcoCancellations walks the CaZco orders canceled in the window of the
// orders.canceled cursor and marks the open ones CazcoCanceled, committing the marks
// with the cursor. A failed walk keeps the cursor (the next run reads again) but
// keeps the marks it made.
func (l *lifecycleSync) cazcoCancellations(ctx context.Context, open []cazbling.OrderLifecycle, byID map[string]int) error {
	j := l.j
	w, err := j.Window(ctx, cazbling.StreamOrdersCanceled)
	if err != nil {
		return err
	}
	from := w.From
	if !w.Found {
		from = j.Now().Add(-FirstRunLookback)
	}
	var b cazbling.Batch
	var walkErr error
	// One walk per status: the contract's status filter takes one value.
	for _, status := range canceledStatuses {
		for o, err := range j.Market.Orders(ctx, cazbling.OrderQuery{UpdatedSince: from, PerPage: 100, Statuses: []string{status}}) {
			if err != nil {
				walkErr = err
				break
			}
			i, ok := byID[o.ID]
			if !ok || !slices.Contains(canceledStatuses, o.Status) || open[i].CazcoCanceled {
				continue
			}
			open[i].CazcoCanceled = true
			b.Lifecycles = append(b.Lifecycles, open[i])
		}
		if walkErr != nil {
			break
		}
	}
	if walkErr == nil {
		b.Cursors = append(b.Cursors, w.Cursor(j.Tenant.ID))
	}
	if err := j.Commit(ctx, b); err != nil {
		return err
	}
	if walkErr != nil {
		return fmt.Errorf("read the CaZco orders canceled since %s (the cursor stays so the next run reads them again): %w",
			from.UTC().Format(time.RFC3339), walkErr)
	}
	return nil
}

// statuses reads the sales module's statuses and finds "Cancelado" by name, with the
// custom statuses that inherit from it (idHerdado).
func (l *lifecycleSync) statuses(ctx context.Context) error {
	list, err := l.j.ERP.SalesStatuses(ctx)
	if err != nil {
		return err
	}
	l.canceledIDs = map[int64]bool{}
	for _, s := range list {
		if normName(s.Name) == "cancelado" && s.ID != 0 {
			l.canceledIDs[s.ID] = true
			if l.cancelTo == 0 || s.InheritedID == 0 {
				l.cancelTo = s.ID
			}
		}
	}
	for changed := true; changed; {
		changed = false
		for _, s := range list {
			if s.InheritedID != 0 && l.canceledIDs[s.InheritedID] && !l.canceledIDs[s.ID] {
				l.canceledIDs[s.ID], changed = true, true
			}
		}
	}
	return nil
}

// normName lowercases a status name and drops its accents and spaces around.
func normName(s string) string {
	r := strings.NewReplacer("á", "a", "â", "a", "ã", "a", "é", "e", "ê", "e", "í", "i", "ó", "o", "ô", "o", "ú", "u", "ç", "c")
	return r.Replace(strings.ToLower(strings.TrimSpace(s)))
}

func (l *lifecycleSync) cancelInCazco(ctx context.Context, s *step, name string) error {
	j, lc := l.j, s.l
	if j.Opts.DryRun {
		s.row(cazbling.ActionWouldWrite, cazbling.StatusOK, fmt.Sprintf("dry run: %s is canceled in Bling; would cancel it in CaZco", name))
		return nil
	}
	err := j.Market.CancelOrder(ctx, lc.CazcoID, fmt.Sprintf("Cancelado no Bling (pedido de venda %d)", lc.BlingID))
	switch {
	case err == nil:
		lc.CazcoCanceled = true
		s.row(ActionCanceledInCazco, cazbling.StatusOK, fmt.Sprintf("%s was canceled in Bling; canceled in CaZco", name))
		s.close("")
	case stopsTenant(ctx, err):
		return fmt.Errorf("cancel CaZco order %s: %w", lc.CazcoID, err)
	case cazbling.KindOf(err) == cazbling.KindConflict:
		s.row(cazbling.ActionFailed, cazbling.StatusError, fmt.Sprintf("%s was canceled in Bling, but CaZco cannot cancel it (%v): it has shipped; handle the return in CaZco", name, err))
		s.close("CaZco refused the cancel: " + err.Error())
	case refusedForGood(err):
		s.fail(cazbling.ActionFailed, fmt.Sprintf("%s was canceled in Bling, but CaZco refused the cancel (%v); cancel it in CaZco by hand", name, err))
		s.close("CaZco refused the cancel: " + err.Error())
	default:
		s.passing("canceled in Bling, the CaZco cancel did not go through", err)
	}
	return nil
}

func (l *lifecycleSync) cancelInBling(ctx context.Context, s *step, st cazbling.ERPOrderState, name string) error {
	j, lc := l.j, s.l
	if st.InvoiceID != 0 {
		inv, err := j.ERP.Invoice(ctx, st.InvoiceID)
		switch {
		case err == nil:
		case stopsTenant(ctx, err):
			return fmt.Errorf("read Bling NF-e %d: %w", st.InvoiceID, err)
		case cazbling.KindOf(err) == cazbling.KindNotFound:
			inv = cazbling.ERPInvoice{} // gone: nothing authorized
		default:
			s.passing(fmt.Sprintf("canceled in CaZco; its NF-e %d could not be read from Bling", st.InvoiceID), err)
			return nil
		}
		if inv.Authorized() {
			s.fail(ActionCancelBlocked, fmt.Sprintf("CaZco order #%s (%s) was canceled, but Bling order %d has an authorized NF-e %s (id %d): cancel the NF-e in Bling, then the order is canceled in Bling on the next run (tenant %s)",
				lc.Number, lc.CazcoID, lc.BlingID, inv.Number, inv.ID, j.Tenant.ID))
			return nil
		}
	}
	if l.cancelTo == 0 {
		s.fail(cazbling.ActionFailed, fmt.Sprintf("%s was canceled in CaZco, but the Bling account has no sales status named \"Cancelado\" (Vendas module); cancel the order in Bling by hand (tenant %s)", name, j.Tenant.ID))
		return nil
	}
	if j.Opts.DryRun {
		s.row(cazbling.ActionWouldWrite, cazbling.StatusOK, fmt.Sprintf("dry run: %s is canceled in CaZco; would move the Bling order to Cancelado", name))
		return nil
	}
	err := j.ERP.SetOrderStatus(ctx, lc.BlingID, l.cancelTo)
	switch {
	case err == nil:
		lc.BlingCanceled, lc.BlingStatus = true, l.cancelTo
		s.row(ActionCanceledInBling, cazbling.StatusOK, fmt.Sprintf("%s was canceled in CaZco; the Bling order is now Cancelado", name))
		s.close("")
	case stopsTenant(ctx, err):
		return fmt.Errorf("cancel Bling order %d: %w", lc.BlingID, err)
	case refusedForGood(err):
		s.fail(cazbling.ActionFailed, fmt.Sprintf("%s was canceled in CaZco, but Bling refused to cancel the order (%v); cancel it in Bling by hand (tenant %s); tried again on the next run", name, err, j.Tenant.ID))
	default:
		s.passing("canceled in CaZco, the Bling cancel was not confirmed (the next run reads the order and cancels it if it is still open)", err)
	}
	return nil
}
