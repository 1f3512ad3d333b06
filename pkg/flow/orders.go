package flow

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

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
	productIDs map[string]int64                // SKU → Bling product id, resolved this run
	ambiguous  map[string]int                  // SKU → how many Bling products carry it, when more than one
	missing    map[string]bool                 // SKUs Bling did not know this run
	contacts   map[string]int64                // buyer document → Bling contact id (0 in a dry run: would be created)
	lostBuyers map[string]bool                 // documents whose contact POST had an unknown outcome this run
	numbers    map[string]string               // order number → the CaZco order filed under it this run
	claimed    map[string][]cazbling.OrderLink // order number → the links that hold it (created or creating)
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
