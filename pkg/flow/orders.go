package flow

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/cazbling/cazbling/pkg/cazbling"
)

// FirstRunLookback is how far back the first orders run of a tenant reads CaZco, when
// the tenant has no `orders` cursor yet: orders updated in the last 30 days are filed
// in Bling, older ones are taken to have been handled before cazbling. Later runs
// read from the cursor (minus the overlap).
const FirstRunLookback = 30 * 24 * time.Hour

// ActionWouldCreate marks, in a dry run, an order that a real run would file in Bling.
const ActionWouldCreate = "would_create"

// orderBatchSize is how many orders share one round of look-ups (SKUs, then Bling
// orders by store number) and one transaction of `creating` links.
const orderBatchSize = 100

// SyncOrders files the tenant's CaZco orders in Bling as sales orders, each exactly
// once (SYNC.md, "Orders"). It is a Work for Run with flow cazbling.FlowOrders.
//
// A run first settles what earlier runs left open: `creating` links (a run stopped
// between writing the link and recording the Bling id) are looked up in Bling by
// store number, and the orders of `failed` links are tried again, on every run,
// whatever their NextAttempt (it only records when the next try is due: the next
// run). Then it reads the orders updated in the window, newest first, and files each
// importable one: validate, write the link `creating`, look the store number up in
// Bling, and only if it is absent create the buyer's contact (if needed) and the
// order, recording the Bling id at once. The cursor moves to the window's end, with
// the last records, only when the whole window was read and every order in it was
// filed, found, skipped by status or recorded for retry.
func SyncOrders(ctx context.Context, j *Job) error {
	s := &orderSync{
		j:          j,
		importable: make(map[string]bool),
		productIDs: make(map[string]int64),
		ambiguous:  make(map[string]int),
		missing:    make(map[string]bool),
		contacts:   make(map[string]int64),
		lostBuyers: make(map[string]bool),
		numbers:    make(map[string]string),
	}
	statuses := j.Tenant.ImportStatuses
	if len(statuses) == 0 {
		statuses = cazbling.DefaultImportStatuses
	}
	for _, st := range statuses {
		s.importable[st] = true
	}
	return s.run(ctx)
}

// orderSync is one run of the orders flow for one tenant, with its per-run caches.
type orderSync struct {
	j          *Job
	importable map[string]bool
	productIDs map[string]int64 // SKU → Bling product id, resolved this run
	ambiguous  map[string]int   // SKU → how many Bling products carry it, when more than one
	missing    map[string]bool  // SKUs Bling did not know this run
	contacts   map[string]int64 // buyer document → Bling contact id (0 in a dry run: would be created)
	lostBuyers map[string]bool  // documents whose contact POST had an unknown outcome this run
	numbers    map[string]string
	methods    []cazbling.PaymentMethod
	methodsOK  bool

	pending     cazbling.Batch // records not yet committed: rows and links of orders not sent
	lostReplies []*orderTask   // order POSTs whose outcome is unknown, looked up at the end
	done, total int
}

// orderTask is one CaZco order on its way into Bling, with its link if it has one.
type orderTask struct {
	order   cazbling.Order
	link    cazbling.OrderLink
	hasLink bool
}

func (t *orderTask) id() string {
	if t.order.ID != "" {
		return t.order.ID
	}
	return t.link.CazcoID
}

// label names the order in messages: its number as people see it, else its id.
func (t *orderTask) label() string {
	if n := t.number(); n != "" {
		return "#" + n
	}
	return t.id()
}

func (t *orderTask) number() string {
	if t.order.Number != "" {
		return t.order.Number
	}
	return t.link.Number
}

func (s *orderSync) run(ctx context.Context) error {
	j := s.j
	started := j.Now() // the run's start, before the first request
	w, err := j.Window(ctx, cazbling.StreamOrders)
	if err != nil {
		return err
	}
	from := w.From
	if !w.Found {
		from = started.Add(-FirstRunLookback)
	}

	retries, err := s.openLinks(ctx)
	if err != nil {
		return s.abort(ctx, err)
	}

	window, walkErr := s.walk(ctx, from)
	if ctx.Err() != nil {
		return s.abort(ctx, context.Cause(ctx))
	}

	tasks, err := s.assemble(ctx, retries, window)
	if err != nil {
		return s.abort(ctx, err)
	}
	s.total = len(tasks)
	j.Progress(0, s.total)
	for batch := range slices.Chunk(tasks, orderBatchSize) {
		if err := s.fileBatch(ctx, batch); err != nil {
			return s.abort(ctx, err)
		}
		if err := s.flush(ctx); err != nil {
			return err
		}
		j.Progress(s.done, s.total)
	}
	if err := s.settleLostReplies(ctx, true); err != nil {
		return s.abort(ctx, err)
	}
	if walkErr != nil {
		if err := s.flush(ctx); err != nil {
			return err
		}
		return fmt.Errorf("read CaZco orders updated since %s (the orders read were processed; the cursor stays so the next run reads them again): %w",
			from.UTC().Format(time.RFC3339), walkErr)
	}
	s.pending.Cursors = append(s.pending.Cursors, w.Cursor(j.Tenant.ID))
	return s.flush(ctx)
}

// openLinks loads what earlier runs left open. `creating` links whose store number is
// already in Bling become `created`; the rest, with the `failed` links, are returned
// to be filed again this run.
func (s *orderSync) openLinks(ctx context.Context) ([]cazbling.OrderLink, error) {
	st, tenant := s.j.Store(), s.j.Tenant.ID
	failed, err := st.OrderLinksByState(ctx, tenant, cazbling.OrderFailed)
	if err != nil {
		return nil, fmt.Errorf("read failed order links: %w", err)
	}
	creating, err := st.OrderLinksByState(ctx, tenant, cazbling.OrderCreating)
	if err != nil {
		return nil, fmt.Errorf("read unfinished order links: %w", err)
	}
	if len(creating) > 0 {
		numbers := make([]string, 0, len(creating))
		for _, l := range creating {
			numbers = append(numbers, l.Number)
		}
		found, err := s.lookup(ctx, numbers)
		if err != nil {
			return nil, fmt.Errorf("look up in Bling the %d orders an earlier run left unfinished: %w", len(creating), err)
		}
		open := creating[:0]
		for _, l := range creating {
			ids := found[l.Number]
			if len(ids) == 0 || l.Number == "" {
				open = append(open, l)
				continue
			}
			t := &orderTask{link: l, hasLink: true}
			s.found(t, ids, "an earlier run was stopped before it recorded this")
		}
		creating = open
		if err := s.flush(ctx); err != nil {
			return nil, err
		}
	}
	return append(creating, failed...), nil
}

// walk reads the orders updated since from, newest first, keeping the first (newest)
// copy of each. On a failed page it returns what it read and the error.
func (s *orderSync) walk(ctx context.Context, from time.Time) ([]cazbling.Order, error) {
	seen := make(map[string]bool)
	var orders []cazbling.Order
	for o, err := range s.j.Market.Orders(ctx, cazbling.OrderQuery{UpdatedSince: from, PerPage: 100}) {
		if err != nil {
			return orders, err
		}
		if o.ID == "" {
			s.pending.Logs = append(s.pending.Logs, cazbling.LogEntry{
				Entity: cazbling.EntityOrder, Key: o.Number, Action: cazbling.ActionFailed, Status: cazbling.StatusError,
				Message: fmt.Sprintf("CaZco listed an order without an id (number %q); it cannot be filed exactly once without one; ask CaZco support", o.Number),
			})
			continue
		}
		if seen[o.ID] {
			continue
		}
		seen[o.ID] = true
		orders = append(orders, o)
	}
	return orders, nil
}

// assemble lists the orders to work: those of open links first (read from CaZco
// when the window did not bring them), then the window's, oldest first so that
// Bling numbers them in the order they were placed.
func (s *orderSync) assemble(ctx context.Context, retries []cazbling.OrderLink, window []cazbling.Order) ([]*orderTask, error) {
	byID := make(map[string]cazbling.Order, len(window))
	for _, o := range window {
		byID[o.ID] = o
	}
	var tasks []*orderTask
	queued := make(map[string]bool)
	for _, l := range retries {
		if queued[l.CazcoID] {
			continue
		}
		queued[l.CazcoID] = true
		t := &orderTask{link: l, hasLink: true}
		if o, ok := byID[l.CazcoID]; ok {
			t.order = o
			tasks = append(tasks, t)
			continue
		}
		o, err := s.j.Market.Order(ctx, l.CazcoID)
		switch {
		case err == nil:
			t.order = o
			tasks = append(tasks, t)
		case stopsTenant(ctx, err):
			return nil, fmt.Errorf("read CaZco order %s: %w", l.CazcoID, err)
		case cazbling.KindOf(err) == cazbling.KindNotFound:
			s.pending.Logs = append(s.pending.Logs, s.row(t, cazbling.ActionFailed, cazbling.StatusError, 0,
				fmt.Sprintf("order #%s is waiting to be filed in Bling (%s) but CaZco no longer finds it (404); check the order in CaZco: %v", l.Number, l.LastError, err)))
		default:
			s.pending.Logs = append(s.pending.Logs, s.row(t, ActionRetryLater, cazbling.StatusError, 0,
				fmt.Sprintf("order #%s is waiting to be filed in Bling but could not be read from CaZco; tried again on the next run: %v", l.Number, err)))
		}
	}
	slices.SortStableFunc(window, func(a, b cazbling.Order) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ID, b.ID))
	})
	for _, o := range window {
		if queued[o.ID] {
			continue
		}
		queued[o.ID] = true
		t := &orderTask{order: o}
		l, found, err := s.j.Store().OrderLink(ctx, s.j.Tenant.ID, o.ID)
		if err != nil {
			return nil, fmt.Errorf("read the link of order %s: %w", o.ID, err)
		}
		t.link, t.hasLink = l, found
		tasks = append(tasks, t)
	}
	return tasks, nil
}

// fileBatch takes a batch of orders as far as it can: each ends created, found in
// Bling, skipped, failed or left for a later run, and recorded as such. Its error is
// one that stops the tenant.
func (s *orderSync) fileBatch(ctx context.Context, batch []*orderTask) error {
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
			// Cancelling the Bling order is out of scope: Bling's order status ids are
			// per account and cancelling touches stock and invoices, so a person does it.
			msg = fmt.Sprintf("order #%s was canceled in CaZco (status %s) after it was filed in Bling as %d; cancel it in Bling", o.Number, o.Status, t.link.BlingID)
			status = cazbling.StatusWarning
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
		s.fail(t, fmt.Sprintf("order number %s is also used by CaZco order %s; Bling tells orders apart by this number, so neither can be filed safely twice under it; ask CaZco support", o.Number, other))
		return true
	}
	s.numbers[o.Number] = o.ID
	return false
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

// abort writes what is known before returning err, the error that stops this run.
// The cursor does not move.
func (s *orderSync) abort(ctx context.Context, err error) error {
	_ = s.settleLostReplies(ctx, false)
	wctx := context.WithoutCancel(ctx)
	if ctx.Err() != nil {
		// The run was stopped, maybe because another process took the lease: keep
		// the log rows but write no link that process may be writing too.
		s.pending = cazbling.Batch{Logs: s.pending.Logs}
	}
	if ferr := s.flush(wctx); ferr != nil {
		s.j.Logger().Error("could not record the orders processed before the run stopped", "error", ferr)
	}
	return err
}

func (s *orderSync) flush(ctx context.Context) error {
	b := s.pending
	s.pending = cazbling.Batch{}
	return s.j.Commit(ctx, b)
}

// ---------------------------------------------------------------- look-ups

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

// resolveSKUs finds the Bling product ids of the tasks' SKUs: from the product links,
// else from Bling in one batched look-up.
func (s *orderSync) resolveSKUs(ctx context.Context, tasks []*orderTask) error {
	var need []string
	seen := make(map[string]bool)
	for _, t := range tasks {
		for _, it := range t.order.Items {
			if _, ok := s.productIDs[it.SKU]; ok || s.missing[it.SKU] || s.ambiguous[it.SKU] > 0 || seen[it.SKU] {
				continue
			}
			seen[it.SKU] = true
			need = append(need, it.SKU)
		}
	}
	if len(need) == 0 {
		return nil
	}
	links, err := s.j.Store().ProductLinksBySKU(ctx, s.j.Tenant.ID, need)
	if err != nil {
		return fmt.Errorf("read product links: %w", err)
	}
	var ask []string
	for _, sku := range need {
		if l, ok := links[sku]; ok && l.BlingID != 0 {
			s.productIDs[sku] = l.BlingID
			continue
		}
		ask = append(ask, sku)
	}
	if len(ask) == 0 {
		return nil
	}
	products, err := s.j.ERP.ProductsBySKU(ctx, ask)
	if err != nil {
		return err
	}
	ids := make(map[string][]int64)
	for _, p := range products {
		if p.ID != 0 && !slices.Contains(ids[p.SKU], p.ID) {
			ids[p.SKU] = append(ids[p.SKU], p.ID)
		}
	}
	for _, sku := range ask {
		switch n := len(ids[sku]); {
		case n == 0:
			s.missing[sku] = true
		case n == 1:
			s.productIDs[sku] = ids[sku][0]
		default:
			s.ambiguous[sku] = n
		}
	}
	return nil
}

// skuProblem says why an order's items cannot be mapped to Bling products, or "".
func (s *orderSync) skuProblem(o cazbling.Order) string {
	for _, it := range o.Items {
		switch {
		case s.missing[it.SKU]:
			return fmt.Sprintf("SKU %s is not in Bling; add it there (or fix the SKU in CaZco) and the order is filed on the next run", it.SKU)
		case s.ambiguous[it.SKU] > 0:
			return fmt.Sprintf("SKU %s is carried by %d Bling products; give it to one product only in Bling and the order is filed on the next run", it.SKU, s.ambiguous[it.SKU])
		}
		if _, ok := s.productIDs[it.SKU]; !ok {
			return fmt.Sprintf("SKU %s could not be looked up in Bling; it is tried again on the next run", it.SKU)
		}
	}
	return ""
}

// contact returns the Bling contact id of the buyer with document doc, creating the
// contact if Bling has none. In a dry run a missing contact is not created: 0.
func (s *orderSync) contact(ctx context.Context, o cazbling.Order, doc string) (int64, error) {
	if id, ok := s.contacts[doc]; ok {
		return id, nil
	}
	if s.lostBuyers[doc] {
		// Creating this contact had no clear answer earlier in the run: a second POST
		// could make a duplicate, so wait for the next run's look-up.
		return 0, &cazbling.APIError{API: "bling", Op: "POST /contatos", Kind: cazbling.KindNetwork,
			Message: "an earlier attempt this run to create this contact had no clear answer"}
	}
	c, found, err := s.j.ERP.ContactByDocument(ctx, doc)
	if err != nil {
		return 0, err
	}
	if found && c.ID != 0 {
		s.contacts[doc] = c.ID
		return c.ID, nil
	}
	if s.j.Opts.DryRun {
		s.contacts[doc] = 0
		return 0, nil
	}
	id, err := s.j.ERP.CreateContact(ctx, buyerContact(o, doc))
	if err == nil && id == 0 {
		err = errors.New("Bling answered the contact POST without an id")
	}
	if err != nil {
		if !refusedForGood(err) {
			s.lostBuyers[doc] = true
		}
		return 0, err
	}
	s.contacts[doc] = id
	return id, nil
}

// paymentMethod picks the Bling payment method for a CaZco payment method, reading
// the account's methods once per run, when first needed. 0: the account has none.
func (s *orderSync) paymentMethod(ctx context.Context, cazcoMethod string) (int64, error) {
	if !s.methodsOK {
		methods, err := s.j.ERP.PaymentMethods(ctx)
		if err != nil {
			return 0, err
		}
		s.methods, s.methodsOK = methods, true
	}
	return ChoosePaymentMethod(s.methods, cazcoMethod, s.j.Tenant.BlingPaymentMethod), nil
}

// ---------------------------------------------------------------- records

func (s *orderSync) linkOf(t *orderTask, state cazbling.OrderLinkState, blingID int64, lastErr string) cazbling.OrderLink {
	l := cazbling.OrderLink{
		TenantID: s.j.Tenant.ID, CazcoID: t.id(), Number: t.number(), BlingID: blingID,
		State: state, Attempts: t.link.Attempts, LastError: lastErr,
	}
	if state == cazbling.OrderFailed {
		// Failed orders are tried on every run; NextAttempt records that the next
		// try is due at once, on the next run.
		l.NextAttempt = s.j.Now()
	}
	return l
}

func (s *orderSync) row(t *orderTask, action, status string, blingID int64, msg string) cazbling.LogEntry {
	e := cazbling.LogEntry{
		Entity: cazbling.EntityOrder, Key: t.id(), Action: action, Status: status,
		Message: msg, CazcoID: t.id(), Params: orderParams(t),
	}
	if blingID != 0 {
		e.BlingID = strconv.FormatInt(blingID, 10)
	}
	return e
}

func joinIDs(ids []int64) string {
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = strconv.FormatInt(id, 10)
	}
	return strings.Join(parts, ", ")
}

// ---------------------------------------------------------------- mapping

// knownOrderStatus reports whether s is one of the order statuses CaZco documents.
func knownOrderStatus(s string) bool {
	switch s {
	case "pending_payment", "awaiting_confirmation", "processing", "billed", "ready_to_delivery",
		"shipped", "transit", "delivered", "completed", "canceled", "desisted":
		return true
	}
	return false
}

// checkOrder says why an order cannot be filed as it is, before anything is asked of
// Bling, or "".
func checkOrder(o cazbling.Order) string {
	if strings.TrimSpace(o.Number) == "" {
		return "the order has no number in CaZco, and Bling's store number is how cazbling files it exactly once; ask CaZco support"
	}
	if msg := checkBuyer(o.Customer); msg != "" {
		return msg
	}
	if len(o.Items) == 0 {
		return "the order has no items in CaZco"
	}
	for i, it := range o.Items {
		switch {
		case strings.TrimSpace(it.SKU) == "":
			return fmt.Sprintf("item %d (%q) has no SKU in CaZco; give the product a SKU that Bling knows", i+1, it.Name)
		case it.Quantity < 1:
			return fmt.Sprintf("item %s has quantity %d; CaZco should send at least 1; ask CaZco support", it.SKU, it.Quantity)
		case it.UnitPrice.IsNegative() || it.Discount.IsNegative():
			return fmt.Sprintf("item %s has a negative price or discount (%s, %s)", it.SKU, it.UnitPrice.StringFixed(2), it.Discount.StringFixed(2))
		}
	}
	if _, err := orderDiscount(o); err != nil {
		return err.Error()
	}
	return ""
}

// checkBuyer says why a buyer cannot become a Bling contact, or "".
func checkBuyer(c cazbling.Customer) string {
	kind := documentKind(c)
	digits, ok := documentDigits(c.Document)
	valid := false
	switch kind {
	case "CPF":
		valid = ok && ValidCPF(digits)
	case "CNPJ":
		valid = ok && ValidCNPJ(digits)
	default:
		return fmt.Sprintf("buyer document type %q is neither CPF nor CNPJ (document %q); correct the buyer in CaZco", c.DocumentType, c.Document)
	}
	if !valid {
		return fmt.Sprintf("buyer document %q is not a valid %s (wrong length, characters or check digits); correct the buyer in CaZco and the order is filed on the next run", c.Document, kind)
	}
	if strings.TrimSpace(c.Name) == "" && strings.TrimSpace(c.CompanyName) == "" {
		return "the buyer has no name in CaZco; Bling needs one for the contact"
	}
	return ""
}

// documentKind is CPF or CNPJ as CaZco says, or guessed from the length when CaZco
// left the type out.
func documentKind(c cazbling.Customer) string {
	switch strings.ToUpper(strings.TrimSpace(c.DocumentType)) {
	case "CPF":
		return "CPF"
	case "CNPJ":
		return "CNPJ"
	case "":
		if d, ok := documentDigits(c.Document); ok {
			switch len(d) {
			case 11:
				return "CPF"
			case 14:
				return "CNPJ"
			}
		}
	}
	return strings.TrimSpace(c.DocumentType)
}

// orderDiscount is the discount, in reais, that Bling must take off the order so that
// its total (Σ unit price × quantity − discount + freight) is exactly what the buyer
// pays in CaZco. CaZco's item discounts are amounts, Bling's are percentages, so the
// items go at their unit price and every discount is taken at the order level. It
// fails when CaZco's totals do not add up, whichever way its discount is read (the
// sum of the item discounts, or an order discount besides them): such an order is
// not filed, so that Bling never gets a wrong amount.
func orderDiscount(o cazbling.Order) (decimal.Decimal, error) {
	gross, lines := decimal.Zero, decimal.Zero
	for _, it := range o.Items {
		gross = gross.Add(it.UnitPrice.Mul(decimal.NewFromInt(it.Quantity)))
		lines = lines.Add(it.Discount)
	}
	d := gross.Add(o.ShippingPrice).Sub(o.Total)
	if d.IsNegative() || (!d.Equal(o.Discount) && !d.Equal(o.Discount.Add(lines))) {
		return decimal.Zero, fmt.Errorf("the order's amounts do not add up (items %s, item discounts %s, discount %s, shipping %s, total %s); it is not filed so that Bling does not get a wrong amount; ask CaZco support to correct the order",
			gross.StringFixed(2), lines.StringFixed(2), o.Discount.StringFixed(2), o.ShippingPrice.StringFixed(2), o.Total.StringFixed(2))
	}
	return d, nil
}

// buyerContact is the Bling contact for an order's buyer.
func buyerContact(o cazbling.Order, doc string) cazbling.Contact {
	cust := o.Customer
	c := cazbling.Contact{
		Name: strings.TrimSpace(cust.Name), Type: "F", Document: doc,
		Email: cust.Email, Phone: cust.Phone, IEIndicator: 9,
		Address: o.Billing,
	}
	if c.Address.Street == "" {
		c.Address = o.Shipping
	}
	if documentKind(cust) == "CNPJ" {
		c.Type = "J"
		if n := strings.TrimSpace(cust.CompanyName); n != "" {
			c.Name = n
		}
		ie := strings.TrimSpace(cust.StateRegistration)
		switch {
		case strings.EqualFold(ie, "ISENTO"):
			c.IEIndicator = 2
		case Digits(ie) != "":
			c.IE, c.IEIndicator = Digits(ie), 1
		}
	}
	if c.Name == "" {
		c.Name = strings.TrimSpace(cust.CompanyName)
	}
	return c
}

// blingPaymentTypes maps a CaZco payment method to the Bling tipoPagamento codes that
// fit it, best first: pix → 17 (PIX dinâmico), 20 (PIX estático); boleto → 15 (boleto
// bancário); credit_card → 3 (cartão de crédito); debit_card → 4 (cartão de débito).
func blingPaymentTypes(cazcoMethod string) []int {
	switch strings.ToLower(strings.TrimSpace(cazcoMethod)) {
	case "pix":
		return []int{17, 20}
	case "boleto":
		return []int{15}
	case "credit_card":
		return []int{3}
	case "debit_card":
		return []int{4}
	}
	return nil
}

// ChoosePaymentMethod picks the Bling payment method (forma de pagamento) id for an
// order paid with cazcoMethod: the account's active method whose type fits it (the
// account's default among several), else the tenant's configured method (configured,
// when not 0), else the account's active default, else its first active method. It
// returns 0 when the account has no active method and none is configured.
func ChoosePaymentMethod(methods []cazbling.PaymentMethod, cazcoMethod string, configured int64) int64 {
	active := func(m cazbling.PaymentMethod) bool { return m.Status == 1 && m.ID != 0 }
	for _, typ := range blingPaymentTypes(cazcoMethod) {
		var first int64
		for _, m := range methods {
			if !active(m) || m.Type != typ {
				continue
			}
			if m.Default {
				return m.ID
			}
			if first == 0 {
				first = m.ID
			}
		}
		if first != 0 {
			return first
		}
	}
	if configured != 0 {
		return configured
	}
	var first int64
	for _, m := range methods {
		if !active(m) {
			continue
		}
		if m.Default {
			return m.ID
		}
		if first == 0 {
			first = m.ID
		}
	}
	return first
}

// salesOrder is the Bling sales order for a checked CaZco order. Dates are São Paulo
// calendar days: the order date is CaZco's created_at, the ship date the same day
// and the expected date that plus the estimated delivery days. Payment is one
// installment of the order's total, due on the order date.
func salesOrder(o cazbling.Order, storeID, contactID, methodID int64, productIDs map[string]int64, discount decimal.Decimal, now time.Time) cazbling.SalesOrder {
	created := o.CreatedAt
	if created.IsZero() {
		created = now
	}
	local := created.In(SaoPaulo)
	date := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, SaoPaulo)
	expected := date
	if o.EstimatedDeliveryDays > 0 {
		expected = date.AddDate(0, 0, o.EstimatedDeliveryDays)
	}
	items := make([]cazbling.SalesOrderItem, 0, len(o.Items))
	for _, it := range o.Items {
		desc := strings.TrimSpace(it.Name)
		if desc == "" {
			desc = it.SKU
		}
		items = append(items, cazbling.SalesOrderItem{
			ProductID: productIDs[it.SKU], SKU: it.SKU, Description: desc, Unit: "UN",
			Quantity: decimal.NewFromInt(it.Quantity), UnitPrice: it.UnitPrice,
			Discount: decimal.Zero, // taken at the order level: see orderDiscount
		})
	}
	shipTo := o.Shipping
	if shipTo.Street == "" {
		shipTo = o.Billing
	}
	if strings.TrimSpace(shipTo.Recipient) == "" {
		shipTo.Recipient = strings.TrimSpace(o.Customer.Name)
	}
	notes := fmt.Sprintf("CaZco order %s (number %s)", o.ID, o.Number)
	if n := strings.TrimSpace(o.Notes); n != "" {
		notes += "\nBuyer's note: " + n
	}
	return cazbling.SalesOrder{
		StoreNumber: o.Number, Date: date, ShipDate: date, ExpectedDate: expected,
		ContactID: contactID, StoreID: storeID, Items: items,
		Discount: discount, Freight: o.ShippingPrice, Carrier: o.Carrier, ShipTo: shipTo,
		Installments: []cazbling.Installment{{DueDate: date, Amount: o.Total, PaymentMethodID: methodID}},
		Notes:        notes,
	}
}
