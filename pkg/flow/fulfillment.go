package flow

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/cazbling/cazbling/pkg/cazbling"
)

// The order lifecycle (issue 17): what happens to an order after it was filed in
// Bling travels back and forth.
//
//   - Bling → CaZco: an authorized NF-e becomes the CaZco invoice; a tracking code
//     becomes a shipment (after the invoice); Bling's "Cancelado" (or a status that
//     inherits from it) becomes a CaZco cancel.
//   - CaZco → Bling: a CaZco order canceled after it was filed moves the Bling order to
//     the sales module's "Cancelado", unless an NF-e is authorized for it: then an
//     error row says what to do in Bling, and it follows once the NF-e is cancelled.
//
// It is a phase of sync-orders (SyncOrdersAndLifecycle), after the filing, under the
// same (tenant, orders) lease, so existing crontabs get it with no change.
//
// Cost. Nothing says that issuing an NF-e or adding tracking moves a Bling order's
// alteration date, so changes are not found by a date filter: each run reads every
// OPEN order (filed, not yet invoiced and shipped, not canceled) with one GET
// /pedidos/vendas/{id}, plus GET /nfe/{id} only when the order shows an NF-e not sent
// yet, plus GET /logisticas/objetos/{id} only for a volume without a tracking code
// on the order; plus 2 requests a run for the sales statuses. On CaZco it reads the
// canceled orders changed since its own cursor (GET /orders?status=canceled, then
// status=desisted: usually one page each) and writes only what changed. So a run costs about
// open + 2 (+ NF-e and tracking reads of the orders that changed) Bling requests:
// it grows with the orders still open, not with all the orders ever filed. An order
// is closed once its shipment is sent, once it is canceled on both sides, or after
// MaxLifecycleAge with a warning.
//
// Every remote write is recorded only after it succeeded; a stop between the write
// and its record re-sends it on the next run, which the contract makes harmless
// (same invoice key: 200; same tracking code: 409 existing_id; canceled: 200; the
// same Bling status again). Nothing goes backwards: a recorded invoice, shipment or
// cancel is never undone by a later read.

// MaxLifecycleAge is how long a filed order is followed at most: one still open after
// that (never invoiced, or never given tracking in Bling) is closed with a warning, so
// that abandoned orders do not cost requests forever.
const MaxLifecycleAge = 120 * 24 * time.Hour

// Lifecycle log actions (entity order; the panel says each in pt-BR).
const (
	ActionInvoiceSent     = "invoice_sent"
	ActionShipmentSent    = "shipment_sent"
	ActionCanceledInCazco = "canceled_in_cazco"
	ActionCanceledInBling = "canceled_in_bling"
	ActionCancelBlocked   = "cancel_blocked"
	ActionLifecycleClosed = "lifecycle_closed"
	// ActionLifecycleOK says an order that had a problem on an earlier run was read
	// again without one (nothing new to carry): its retry or error row is not the
	// newest any more.
	ActionLifecycleOK = "lifecycle_ok"
)

// canceledStatuses are the CaZco statuses that cancel an order (CAZCO.md).
var canceledStatuses = []string{"canceled", "desisted"}

// SyncOrdersAndLifecycle is the work of `sync-orders`: SyncOrders files new orders,
// then SyncLifecycle carries the life of those already filed. The lifecycle runs even
// when the filing had item errors; not when the tenant must stop (credentials, quota,
// the run's context).
func SyncOrdersAndLifecycle(ctx context.Context, j *Job) error {
	err := SyncOrders(ctx, j)
	if err != nil && stopsTenant(ctx, err) {
		return err
	}
	return errors.Join(err, SyncLifecycle(ctx, j))
}

// lifecycleSync is one run of the lifecycle phase for one tenant.
type lifecycleSync struct {
	j           *Job
	canceledIDs map[int64]bool // Bling sales statuses that mean canceled
	cancelTo    int64          // the status cazbling moves orders to ("Cancelado")
}

// SyncLifecycle carries the life of the tenant's open filed orders (see above).
func SyncLifecycle(ctx context.Context, j *Job) error {
	l := &lifecycleSync{j: j}
	return l.run(ctx)
}

func (l *lifecycleSync) run(ctx context.Context) error {
	j := l.j
	open, err := j.Store().OpenLifecycles(ctx, j.Tenant.ID)
	if err != nil {
		return fmt.Errorf("read the open orders: %w", err)
	}
	byID := make(map[string]int, len(open))
	for i, o := range open {
		byID[o.CazcoID] = i
	}

	// CaZco cancellations since the cursor: marked on the open orders, with the
	// cursor, before anything is sent.
	walkErr := l.cazcoCancellations(ctx, open, byID)
	if walkErr != nil && stopsTenant(ctx, walkErr) {
		return walkErr
	}
	if len(open) == 0 {
		return walkErr
	}
	if err := l.statuses(ctx); err != nil {
		if stopsTenant(ctx, err) {
			return err
		}
		_ = j.Commit(ctx, cazbling.Batch{Logs: []cazbling.LogEntry{{
			Entity: cazbling.EntityTenant, Key: j.Tenant.ID, Action: ActionRetryLater, Status: cazbling.StatusError,
			Message: fmt.Sprintf("tenant %s: the sales order statuses could not be read from Bling (%v); NF-e, tracking and cancellations of the %d open orders are carried on the next run", j.Tenant.ID, err, len(open)),
		}}})
		return errors.Join(walkErr, fmt.Errorf("read Bling's sales statuses: %w", err))
	}
	j.Progress(0, len(open))
	for i := range open {
		if err := l.advance(ctx, &open[i]); err != nil {
			return errors.Join(walkErr, err)
		}
		if (i+1)%10 == 0 {
			j.Progress(i+1, len(open))
		}
	}
	j.Progress(len(open), len(open))
	return walkErr
}

// step is what one open order's run produced: rows to log, whether its record changed.
type step struct {
	l       *cazbling.OrderLifecycle
	rows    []cazbling.LogEntry
	changed bool
	problem bool // an error or retry row this run
}

func (s *step) row(action, status, msg string) {
	e := cazbling.LogEntry{
		Entity: cazbling.EntityOrder, Key: s.l.CazcoID, CazcoID: s.l.CazcoID, Action: action, Status: status,
		Message: msg, BlingID: strconv.FormatInt(s.l.BlingID, 10),
	}
	if s.l.Number != "" {
		e.Params = cazbling.Params("number", s.l.Number)
	}
	s.rows = append(s.rows, e)
}

func (s *step) close(reason string) {
	s.l.State = cazbling.LifecycleClosed
	s.l.LastError = reason
	s.changed = true
}

// fail records a problem the seller must act on (an error row each run until fixed).
func (s *step) fail(action, msg string) {
	s.problem = true
	s.row(action, cazbling.StatusError, msg)
	if s.l.LastError != msg {
		s.l.LastError, s.changed = msg, true
	}
}

// passing records a passing fault: tried again on the next run.
func (s *step) passing(what string, err error) {
	s.problem = true
	s.row(ActionRetryLater, cazbling.StatusError, fmt.Sprintf("order #%s (CaZco %s, Bling %d): %s; tried again on the next run: %v",
		s.l.Number, s.l.CazcoID, s.l.BlingID, what, err))
	if msg := "retry: " + what; s.l.LastError != msg {
		s.l.LastError, s.changed = msg, true
	}
}

// advance takes one open order as far as it goes this run and records it. Its error
// is one that stops the tenant.
func (l *lifecycleSync) advance(ctx context.Context, lc *cazbling.OrderLifecycle) error {
	s := &step{l: lc}
	hadProblem := lc.LastError != ""
	stop := l.advanceSteps(ctx, s)
	if stop == nil && hadProblem && !s.problem && lc.State == cazbling.LifecycleOpen {
		if len(s.rows) == 0 {
			s.row(ActionLifecycleOK, cazbling.StatusOK, fmt.Sprintf("order #%s (CaZco %s, Bling %d) was read again without the earlier problem (%s); nothing new to carry yet",
				lc.Number, lc.CazcoID, lc.BlingID, lc.LastError))
		}
		lc.LastError, s.changed = "", true
	}
	if s.changed || len(s.rows) > 0 {
		b := cazbling.Batch{Logs: s.rows}
		if s.changed {
			b.Lifecycles = []cazbling.OrderLifecycle{*lc}
		}
		if err := l.j.Commit(ctx, b); err != nil {
			return err
		}
	}
	return stop
}

func (l *lifecycleSync) advanceSteps(ctx context.Context, s *step) error {
	j, lc := l.j, s.l
	name := fmt.Sprintf("order #%s (CaZco %s, Bling %d)", lc.Number, lc.CazcoID, lc.BlingID)

	st, err := j.ERP.SalesOrder(ctx, lc.BlingID)
	switch {
	case err == nil:
	case stopsTenant(ctx, err):
		return fmt.Errorf("read Bling order %d: %w", lc.BlingID, err)
	case cazbling.KindOf(err) == cazbling.KindNotFound:
		s.row(cazbling.ActionFailed, cazbling.StatusError, fmt.Sprintf("%s: Bling no longer finds the sales order (404; deleted in Bling?); its NF-e, tracking and cancellation are no longer carried to CaZco: update the CaZco order by hand", name))
		s.close("the Bling order was not found")
		return nil
	default:
		s.passing("the Bling order could not be read", err)
		return nil
	}
	if st.StatusID != lc.BlingStatus {
		lc.BlingStatus, s.changed = st.StatusID, true
	}
	if l.canceledIDs[st.StatusID] && !lc.BlingCanceled {
		lc.BlingCanceled, s.changed = true, true
	}

	// Canceled in Bling: cancel in CaZco.
	if lc.BlingCanceled && !lc.CazcoCanceled {
		return l.cancelInCazco(ctx, s, name)
	}
	if lc.BlingCanceled && lc.CazcoCanceled {
		s.close("")
		return nil
	}
	// Canceled in CaZco: cancel in Bling, unless an NF-e is authorized.
	if lc.CazcoCanceled {
		return l.cancelInBling(ctx, s, st, name)
	}

	if lc.CreatedAt.Before(j.Now().Add(-MaxLifecycleAge)) && lc.InvoiceKey == "" {
		s.row(ActionLifecycleClosed, cazbling.StatusWarning, fmt.Sprintf("%s was filed %s ago and has no authorized NF-e yet; cazbling stops following it: send its invoice and tracking in CaZco by hand",
			name, MaxLifecycleAge))
		s.close("too old")
		return nil
	}

	// An NF-e not sent yet.
	if st.InvoiceID != 0 && st.InvoiceID != lc.InvoiceID {
		if err := l.sendInvoice(ctx, s, st, name); err != nil {
			return err
		}
	}
	if lc.InvoiceKey == "" {
		return nil // shipments go after the invoice
	}
	// Tracking codes not sent yet.
	all := len(st.Volumes) > 0
	for _, v := range st.Volumes {
		code, trackURL := v.TrackingCode, ""
		if code == "" && v.ID != 0 {
			tr, err := j.ERP.Tracking(ctx, v.ID)
			switch {
			case err == nil:
				code, trackURL = tr.Code, tr.URL
			case stopsTenant(ctx, err):
				return fmt.Errorf("read Bling logistics object %d: %w", v.ID, err)
			case cazbling.KindOf(err) != cazbling.KindNotFound:
				s.passing(fmt.Sprintf("the tracking of volume %d could not be read from Bling", v.ID), err)
			}
		}
		if code == "" {
			all = false
			continue
		}
		if slices.Contains(lc.Tracking, code) {
			continue
		}
		if done, err := l.sendShipment(ctx, s, st, v, code, trackURL, name); err != nil {
			return err
		} else if !done {
			all = false
		}
	}
	if all && len(lc.Tracking) > 0 {
		s.close("")
	}
	return nil
}

func (l *lifecycleSync) sendInvoice(ctx context.Context, s *step, st cazbling.ERPOrderState, name string) error {
	j, lc := l.j, s.l
	inv, err := j.ERP.Invoice(ctx, st.InvoiceID)
	switch {
	case err == nil:
	case stopsTenant(ctx, err):
		return fmt.Errorf("read Bling NF-e %d: %w", st.InvoiceID, err)
	default:
		s.passing(fmt.Sprintf("its NF-e %d could not be read from Bling", st.InvoiceID), err)
		return nil
	}
	if !inv.Authorized() {
		return nil // pending, rejected or cancelled: never sent; looked at again next run
	}
	mi := cazbling.MarketInvoice{
		Number: inv.Number, Series: inv.Series, AccessKey: inv.AccessKey, IssuedAt: inv.IssuedAt,
		Amount: inv.Amount, DanfeURL: inv.DanfeURL, XMLURL: inv.XMLURL,
	}
	if lc.InvoiceKey != "" && lc.InvoiceKey != inv.AccessKey {
		mi.Replaces = lc.InvoiceKey // a corrected NF-e
	}
	if j.Opts.DryRun {
		s.row(cazbling.ActionWouldWrite, cazbling.StatusOK, fmt.Sprintf("dry run: would send NF-e %s (key %s) of %s to CaZco", inv.Number, inv.AccessKey, name))
		return nil
	}
	err = j.Market.SetInvoice(ctx, lc.CazcoID, mi)
	switch {
	case err == nil:
		lc.InvoiceKey, lc.InvoiceID, lc.LastError, s.changed = inv.AccessKey, inv.ID, "", true
		s.row(ActionInvoiceSent, cazbling.StatusOK, fmt.Sprintf("%s: NF-e %s series %s (key %s) sent to CaZco as its invoice", name, inv.Number, inv.Series, inv.AccessKey))
	case stopsTenant(ctx, err):
		return fmt.Errorf("send the invoice of CaZco order %s: %w", lc.CazcoID, err)
	case cazbling.KindOf(err) == cazbling.KindConflict:
		var ae *cazbling.APIError
		existing := ""
		if errors.As(err, &ae) {
			existing = ae.ExistingID
		}
		s.fail(cazbling.ActionFailed, fmt.Sprintf("%s: CaZco already has an invoice with key %s, not Bling's NF-e %s (key %s); correct the invoice in CaZco (or the NF-e in Bling) and it is sent on the next run",
			name, existing, inv.Number, inv.AccessKey))
	case refusedForGood(err):
		s.fail(cazbling.ActionFailed, fmt.Sprintf("%s: CaZco refused Bling's NF-e %s (key %s) as its invoice (%v); check the NF-e in Bling", name, inv.Number, inv.AccessKey, err))
	default:
		s.passing("the invoice could not be sent to CaZco", err)
	}
	return nil
}

// sendShipment sends one tracking code; done reports whether it is now in CaZco.
func (l *lifecycleSync) sendShipment(ctx context.Context, s *step, st cazbling.ERPOrderState, v cazbling.ERPVolume, code, trackURL, name string) (bool, error) {
	j, lc := l.j, s.l
	carrier := st.Carrier
	if carrier == "" {
		carrier = v.Service
	}
	if j.Opts.DryRun {
		s.row(cazbling.ActionWouldWrite, cazbling.StatusOK, fmt.Sprintf("dry run: would send tracking %s of %s to CaZco", code, name))
		return false, nil
	}
	id, already, err := j.Market.AddShipment(ctx, lc.CazcoID, cazbling.MarketShipment{
		Carrier: carrier, TrackingCode: code, Service: v.Service, TrackingURL: trackURL,
	})
	switch {
	case err == nil:
		lc.Tracking, s.changed = append(lc.Tracking, code), true
		msg := fmt.Sprintf("%s: tracking %s sent to CaZco as shipment %s", name, code, id)
		if already {
			msg = fmt.Sprintf("%s: tracking %s was already a CaZco shipment (%s)", name, code, id)
		}
		s.row(ActionShipmentSent, cazbling.StatusOK, msg)
		return true, nil
	case stopsTenant(ctx, err):
		return false, fmt.Errorf("send the shipment of CaZco order %s: %w", lc.CazcoID, err)
	case refusedForGood(err):
		s.fail(cazbling.ActionFailed, fmt.Sprintf("%s: CaZco refused tracking %s as a shipment (%v); tried again on the next run", name, code, err))
	default:
		s.passing(fmt.Sprintf("tracking %s could not be sent to CaZco", code), err)
	}
	return false, nil
}
