package flow

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/cazbling/cazbling/pkg/cazbling"
)

// fileBatch takes a batch of orders as far as it can: each ends created, found in
// Bling, skipped, failed or left for a later run, and recorded as such. Its error is
// one that stops the tenant.
func (s *orderSync) fileBatch(ctx context.Context, batch []*orderTask) error {
	if err := s.claimNumbers(ctx, batch); err != nil {
		for _, t := range batch {
			if !t.hasLink || t.link.State != cazbling.OrderCreated {
				s.pending.Logs = append(s.pending.Logs, s.row(t, ActionRetryLater, cazbling.StatusError, 0,
					fmt.Sprintf("order %s not filed yet: the store could not say which orders already use its number; tried again on the next run", t.label())))
			}
		}
		return err
	}
	var ready []*orderTask
	for _, t := range batch {
		if s.settled(t) {
			s.done++
			continue
		}
		ready = append(ready, t)
	}

	if err := s.resolveSKUs(ctx, ready); err != nil {
		for _, t := range ready {
			s.pending.Logs = append(s.pending.Logs, s.row(t, ActionRetryLater, cazbling.StatusError, 0,
				fmt.Sprintf("order #%s not filed yet: its SKUs could not be looked up in Bling; tried again on the next run", t.number())))
		}
		return fmt.Errorf("look up order SKUs in Bling: %w", err)
	}
	toFile := ready[:0]
	for _, t := range ready {
		if msg := s.skuProblem(t.order); msg != "" {
			s.fail(t, msg)
			s.done++
			continue
		}
		toFile = append(toFile, t)
	}
	if len(toFile) == 0 {
		return nil
	}

	// The links say `creating` before anything is sent: a stop from here on leaves
	// them for the next run's look-up, never for a second POST.
	var b cazbling.Batch
	for _, t := range toFile {
		l := s.linkOf(t, cazbling.OrderCreating, 0, "")
		l.Attempts++
		t.link, t.hasLink = l, true
		b.OrderLinks = append(b.OrderLinks, l)
	}
	if err := s.j.Commit(ctx, b); err != nil {
		return err
	}

	numbers := make([]string, 0, len(toFile))
	for _, t := range toFile {
		numbers = append(numbers, t.order.Number)
	}
	found, err := s.lookup(ctx, numbers)
	if err != nil {
		for _, t := range toFile {
			s.pending.Logs = append(s.pending.Logs, s.row(t, ActionRetryLater, cazbling.StatusError, 0,
				fmt.Sprintf("order #%s not filed yet: Bling could not be asked whether it already has it; tried again on the next run", t.number())))
		}
		return fmt.Errorf("look up Bling orders by store number: %w", err)
	}
	for _, t := range toFile {
		s.done++
		if ids := found[t.order.Number]; len(ids) > 0 {
			s.found(t, ids, "")
			continue
		}
		if err := s.create(ctx, t); err != nil {
			return err
		}
		if s.done%10 == 0 {
			s.j.Progress(s.done, s.total)
		}
	}
	return nil
}

// settled handles the orders that need no Bling write: already filed, not in an
// importable status, or failing a check that needs no request. It reports whether
// the order is done with.
func (s *orderSync) settled(t *orderTask) bool {
	o := t.order
	if t.hasLink && t.link.State == cazbling.OrderCreated {
		msg := fmt.Sprintf("order #%s is already in Bling as %d", o.Number, t.link.BlingID)
		status := cazbling.StatusOK
		if o.Status == "canceled" || o.Status == "desisted" {
			// The lifecycle phase (fulfillment.go) cancels the Bling order, or says
			// why it cannot (an authorized NF-e).
			msg = fmt.Sprintf("order #%s was canceled in CaZco (status %s) after it was filed in Bling as %d; the lifecycle phase cancels it in Bling", o.Number, o.Status, t.link.BlingID)
		}
		s.pending.Logs = append(s.pending.Logs, s.row(t, cazbling.ActionExisting, status, t.link.BlingID, msg))
		return true
	}
	if !s.importable[o.Status] {
		s.skip(t)
		return true
	}
	if msg := checkOrder(o); msg != "" {
		s.fail(t, msg)
		return true
	}
	if other, ok := s.numbers[o.Number]; ok && other != o.ID {
		s.fail(t, fmt.Sprintf("order number %s is also used by CaZco order %s, filed under it in this run; Bling tells orders apart by this number, so this order (CaZco id %s) is not filed: it would be taken for the other. File it in Bling by hand, and ask CaZco support why two orders share a number", o.Number, other, o.ID))
		return true
	}
	if i := slices.IndexFunc(s.claimed[o.Number], func(l cazbling.OrderLink) bool { return l.CazcoID != o.ID }); i >= 0 {
		other := s.claimed[o.Number][i]
		where := "being filed in Bling"
		if other.BlingID != 0 {
			where = fmt.Sprintf("in Bling as %d", other.BlingID)
		}
		s.fail(t, fmt.Sprintf("order number %s is also used by CaZco order %s (%s); Bling tells orders apart by this number, so this order (CaZco id %s) is not filed: it would be taken for the other. File it in Bling by hand, and ask CaZco support why two orders share a number", o.Number, other.CazcoID, where, o.ID))
		return true
	}
	s.numbers[o.Number] = o.ID
	return false
}

// claimNumbers finds, for the batch's orders not yet filed, the links of other orders
// that hold the same order number (created, or being created): Bling finds an order by
// that number, so filing a second under it would link it to the first's Bling order.
func (s *orderSync) claimNumbers(ctx context.Context, batch []*orderTask) error {
	var numbers []string
	for _, t := range batch {
		if (!t.hasLink || t.link.State != cazbling.OrderCreated) && t.order.Number != "" {
			numbers = append(numbers, t.order.Number)
		}
	}
	if len(numbers) == 0 {
		return nil
	}
	links, err := s.j.Store().OrderLinksByNumber(ctx, s.j.Tenant.ID, numbers)
	if err != nil {
		return fmt.Errorf("find order links by number: %w", err)
	}
	if s.claimed == nil {
		s.claimed = map[string][]cazbling.OrderLink{}
	}
	for _, l := range links {
		if (l.State == cazbling.OrderCreated || l.State == cazbling.OrderCreating) &&
			!slices.ContainsFunc(s.claimed[l.Number], func(c cazbling.OrderLink) bool { return c.CazcoID == l.CazcoID }) {
			s.claimed[l.Number] = append(s.claimed[l.Number], l)
		}
	}
	return nil
}

// skip records an order in a status that is not filed. Nothing is linked, so that a
// later change (a payment) brings it back in a window and it is filed then.
func (s *orderSync) skip(t *orderTask) {
	o := t.order
	status, msg := cazbling.StatusSkipped, ""
	switch {
	case o.Status == "canceled" || o.Status == "desisted":
		msg = fmt.Sprintf("order #%s: status %s is not imported; canceled orders are not filed in Bling", o.Number, o.Status)
	case knownOrderStatus(o.Status):
		msg = fmt.Sprintf("order #%s: status %s is not imported; it will be when it changes to an importable status", o.Number, o.Status)
	default:
		status = cazbling.StatusWarning
		msg = fmt.Sprintf("order #%s has status %q, which cazbling does not know; it is not imported. If such orders should be filed in Bling, add the status with `cazbling activate %s --import-statuses ...`",
			o.Number, o.Status, s.j.Tenant.ID)
	}
	if t.hasLink {
		// An order that failed or was left unfinished earlier and is no longer
		// importable: it is not in Bling (openLinks looked unfinished ones up), so
		// the link says why it stays out; it is looked at again on every run.
		l := s.linkOf(t, cazbling.OrderFailed, 0, fmt.Sprintf("not filed: status %s is not imported", o.Status))
		s.pending.OrderLinks = append(s.pending.OrderLinks, l)
		if t.link.LastError != "" && !strings.HasPrefix(t.link.LastError, "not filed: status") {
			msg += " (it was waiting to be filed: " + t.link.LastError + ")"
		}
	}
	s.pending.Logs = append(s.pending.Logs, s.row(t, cazbling.ActionSkipped, status, 0, msg))
}

// fail records an order that cannot be filed until someone fixes the cause. It is
// tried again on every later run.
func (s *orderSync) fail(t *orderTask, reason string) {
	l := s.linkOf(t, cazbling.OrderFailed, 0, reason)
	l.Attempts++
	t.link, t.hasLink = l, true
	s.pending.OrderLinks = append(s.pending.OrderLinks, l)
	s.pending.Logs = append(s.pending.Logs, s.row(t, cazbling.ActionFailed, cazbling.StatusError, 0,
		fmt.Sprintf("order %s not filed in Bling: %s", t.label(), reason)))
}

// found links an order to the Bling order(s) already filed under its store number.
// More than one means duplicates made outside cazbling (or before it): the lowest id
// is kept and a warning says so.
func (s *orderSync) found(t *orderTask, ids []int64, why string) {
	l := s.linkOf(t, cazbling.OrderCreated, ids[0], "")
	t.link, t.hasLink = l, true
	msg := fmt.Sprintf("order #%s is already in Bling as %d", t.number(), ids[0])
	if why != "" {
		msg += " (" + why + ")"
	}
	status := cazbling.StatusOK
	if len(ids) > 1 {
		status = cazbling.StatusWarning
		msg += fmt.Sprintf("; %d Bling orders carry store number %s (%s); duplicates were made outside cazbling or before it: cancel the extra ones in Bling",
			len(ids), t.number(), joinIDs(ids))
	}
	s.pending.OrderLinks = append(s.pending.OrderLinks, l)
	s.pending.Logs = append(s.pending.Logs, s.row(t, cazbling.ActionExisting, status, ids[0], msg))
}

// create files one checked order whose store number Bling does not have. Its error
// is one that stops the tenant.
func (s *orderSync) create(ctx context.Context, t *orderTask) error {
	o, j := t.order, s.j
	doc, _ := documentDigits(o.Customer.Document)

	contactID, err := s.contact(ctx, o, doc)
	if err != nil {
		return s.notFiled(ctx, t, "the buyer could not be found or created as a Bling contact", err)
	}
	methodID, err := s.paymentMethod(ctx, o.PaymentMethod)
	if err != nil {
		return s.notFiled(ctx, t, "Bling's payment methods could not be read", err)
	}
	if methodID == 0 {
		s.fail(t, "the Bling account has no active payment method; create one in Bling (Cadastros → Formas de pagamento) and the order is filed on the next run")
		return nil
	}
	discount, _ := orderDiscount(o) // checkOrder made sure it adds up
	so := salesOrder(o, j.Tenant.BlingStore, contactID, methodID, s.productIDs, discount, j.Now())

	if j.Opts.DryRun {
		buyer := fmt.Sprintf("contact %d", contactID)
		if contactID == 0 {
			buyer = "a new contact for document " + doc
		}
		s.pending.Logs = append(s.pending.Logs, s.row(t, ActionWouldCreate, cazbling.StatusOK, 0,
			fmt.Sprintf("dry run: would file order #%s in Bling: %d items, total %s, %s, payment method %d",
				o.Number, len(so.Items), o.Total.StringFixed(2), buyer, methodID)))
		return nil
	}

	id, err := j.ERP.CreateOrder(ctx, so)
	switch {
	case err == nil && id != 0:
		l := s.linkOf(t, cazbling.OrderCreated, id, "")
		t.link = l
		return j.Commit(ctx, cazbling.Batch{
			OrderLinks: []cazbling.OrderLink{l},
			Logs: []cazbling.LogEntry{s.row(t, cazbling.ActionCreated, cazbling.StatusOK, id,
				fmt.Sprintf("order #%s filed in Bling as %d", o.Number, id))},
		})
	case err == nil:
		err = errors.New("Bling answered the order POST without an order id")
	case refusedForGood(err):
		l := s.linkOf(t, cazbling.OrderFailed, 0, "Bling refused the order: "+err.Error())
		t.link = l
		return j.Commit(ctx, cazbling.Batch{
			OrderLinks: []cazbling.OrderLink{l},
			Logs: []cazbling.LogEntry{s.row(t, cazbling.ActionFailed, cazbling.StatusError, 0,
				fmt.Sprintf("order #%s not filed: Bling refused it (%v); correct the data in CaZco or Bling and it is tried again on the next run", o.Number, err))},
		})
	}
	// The outcome is unknown: Bling may have filed the order and lost the reply. The
	// link stays `creating`, so a look-up by store number (at the end of this run,
	// else on the next) decides; the POST is never repeated blindly.
	l := s.linkOf(t, cazbling.OrderCreating, 0, "Bling's answer to the order POST was lost: "+err.Error())
	t.link = l
	if cerr := j.Commit(ctx, cazbling.Batch{OrderLinks: []cazbling.OrderLink{l}}); cerr != nil {
		return cerr
	}
	s.lostReplies = append(s.lostReplies, t)
	if stopsTenant(ctx, err) {
		return fmt.Errorf("file order %s in Bling: %w", o.ID, err)
	}
	return nil
}

// notFiled records an order stopped before its POST by a failed request: refused
// data fails it, a passing fault leaves it (`creating`, nothing sent) for the next
// run, and an error that stops the tenant is returned.
func (s *orderSync) notFiled(ctx context.Context, t *orderTask, what string, err error) error {
	switch {
	case stopsTenant(ctx, err):
		s.pending.Logs = append(s.pending.Logs, s.row(t, ActionRetryLater, cazbling.StatusError, 0,
			fmt.Sprintf("order #%s not filed yet: %s; tried again on the next run: %v", t.number(), what, err)))
		return fmt.Errorf("order %s: %w", t.id(), err)
	case refusedForGood(err):
		s.fail(t, fmt.Sprintf("%s: Bling refused it (%v); correct the buyer in CaZco", what, err))
	default:
		s.pending.Logs = append(s.pending.Logs, s.row(t, ActionRetryLater, cazbling.StatusError, 0,
			fmt.Sprintf("order #%s not filed yet: %s; tried again on the next run: %v", t.number(), what, err)))
	}
	return nil
}

// settleLostReplies looks up the orders whose POST had no clear answer. Found: the
// POST worked, and the order is recorded as created. Not found (Bling may not show
// it yet), or not looked up: the link stays `creating` for the next run's look-up.
// Its error is one that stops the tenant.
func (s *orderSync) settleLostReplies(ctx context.Context, lookUp bool) error {
	lost := s.lostReplies
	s.lostReplies = nil
	if len(lost) == 0 {
		return nil
	}
	var (
		found map[string][]int64
		stop  error
	)
	if lookUp {
		numbers := make([]string, 0, len(lost))
		for _, t := range lost {
			numbers = append(numbers, t.number())
		}
		var err error
		found, err = s.lookup(ctx, numbers)
		if err != nil && stopsTenant(ctx, err) {
			stop = fmt.Errorf("look up Bling orders by store number: %w", err)
		}
	}
	for _, t := range lost {
		if ids := found[t.number()]; len(ids) > 0 {
			l := s.linkOf(t, cazbling.OrderCreated, ids[0], "")
			msg := fmt.Sprintf("order #%s filed in Bling as %d (Bling's reply was lost; found by store number)", t.number(), ids[0])
			status := cazbling.StatusOK
			if len(ids) > 1 {
				status = cazbling.StatusWarning
				msg += fmt.Sprintf("; %d Bling orders carry store number %s (%s): cancel the extra ones in Bling", len(ids), t.number(), joinIDs(ids))
			}
			s.pending.OrderLinks = append(s.pending.OrderLinks, l)
			s.pending.Logs = append(s.pending.Logs, s.row(t, cazbling.ActionCreated, status, ids[0], msg))
			continue
		}
		s.pending.Logs = append(s.pending.Logs, s.row(t, ActionRetryLater, cazbling.StatusError, 0,
			fmt.Sprintf("order #%s: Bling did not answer the order POST clearly (%s); the next run looks it up by store number and files it only if it is not there",
				t.number(), t.link.LastError)))
	}
	return stop
}

// lookup finds Bling orders by exact store number (in the tenant's Bling store, if
// it has one) and returns their ids by number, lowest first.
func (s *orderSync) lookup(ctx context.Context, numbers []string) (map[string][]int64, error) {
	want := make(map[string]bool, len(numbers))
	var ask []string
	for _, n := range numbers {
		if n != "" && !want[n] {
			want[n] = true
			ask = append(ask, n)
		}
	}
	out := make(map[string][]int64)
	if len(ask) == 0 {
		return out, nil
	}
	refs, err := s.j.ERP.OrdersByStoreNumbers(ctx, ask, s.j.Tenant.BlingStore)
	if err != nil {
		return nil, err
	}
	for _, r := range refs {
		if !want[r.StoreNumber] || r.ID == 0 || slices.Contains(out[r.StoreNumber], r.ID) {
			continue
		}
		out[r.StoreNumber] = append(out[r.StoreNumber], r.ID)
	}
	for _, ids := range out {
		slices.Sort(ids)
	}
	return out, nil
}

func joinIDs(ids []int64) string {
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = strconv.FormatInt(id, 10)
	}
	return strings.Join(parts, ", ")
}
