package flow

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/cazbling/cazbling/pkg/cazbling"
	"github.com/shopspring/decimal"
)

// StockBatchSize is how many balances are read from Bling, and how many levels are
// written to CaZco, in one call.
const StockBatchSize = 100

// SyncStock is the stock flow: products changed in Bling since the cursor get their
// data pushed to CaZco (created there if missing); then every linked product's Bling
// balance is read, and the quantities that differ from what CaZco was last sent are
// written, in batches.
//
// The two parts run at once (the sweep from when the changed part has its first product
// ready to write): the changed products' CaZco writes are paced by CaZco's
// limit while the sweep's balance reads are paced by Bling's, so each API's allowance
// is spent in parallel rather than one after the other. They write different fields
// of the product links (StockLevels vs ProductLinks), so neither undoes the other. The
// products the changed part newly links (created in CaZco, or found there by SKU) get
// their stock once both parts are done: the sweep may have been past their SKUs.
func SyncStock(ctx context.Context, j *Job) error {
	w, err := j.Window(ctx, cazbling.StreamProductsChanged)
	if err != nil {
		return err
	}
	if !w.Found {
		j.Logger().Warn("no products cursor yet: changed products are not pushed until `cazbling sync-products --full` (or activate) has run")
		return SweepStock(ctx, j)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var changedErr error
	var lateMu sync.Mutex
	var late []string // SKUs the changed part newly linked
	linked := func(links []cazbling.ProductLink) {
		lateMu.Lock()
		defer lateMu.Unlock()
		for _, l := range links {
			late = append(late, l.SKU)
		}
	}
	done := make(chan struct{})
	// The sweep starts once the changed part has its first product ready for CaZco:
	// until then the two would share the account's Bling pace, and CaZco's first
	// write (CaZco's pace is the longer one for product writes) would wait for both.
	walking := make(chan struct{})
	var once sync.Once
	ready := func() { once.Do(func() { close(walking) }) }
	go func() {
		defer close(done)
		changedErr = syncWindow(ctx, j, w, func(q *cazbling.ProductQuery, from, to time.Time) {
			q.ChangedFrom, q.ChangedTo = from, to
		}, ready, linked)
		if changedErr != nil {
			cancel() // a tenant-level failure stops the sweep too
		}
	}()
	select {
	case <-walking:
	case <-ctx.Done():
	}
	sweepErr := SweepStock(ctx, j)
	if sweepErr != nil {
		cancel()
	}
	<-done
	if changedErr != nil {
		return changedErr // the first cause; the sweep's error is then its cancellation
	}
	if sweepErr != nil {
		return sweepErr
	}
	return sweepLinked(ctx, j, late)
}

// sweepLinked reads the Bling balances of the SKUs' links, as they are now in the
// store, and writes those that differ from the last level sent.
func sweepLinked(ctx context.Context, j *Job, skus []string) error {
	if len(skus) == 0 {
		return nil
	}
	links, err := j.Store().ProductLinksBySKU(ctx, j.Tenant.ID, skus)
	if err != nil {
		return fmt.Errorf("read product links: %w", err)
	}
	s := newStockSweep(j)
	for _, sku := range skus {
		if l, ok := links[sku]; ok && l.BlingID != 0 && l.CazcoID != "" {
			delete(links, sku) // a SKU linked twice in the walk is read once
			s.add(l)
		}
	}
	if err := s.drain(ctx); err != nil {
		return err
	}
	return s.flush(ctx, true)
}

// pendingStock is one quantity to write to CaZco.
type pendingStock struct {
	link cazbling.ProductLink
	qty  int64
	note string // a warning about the value (negative balance sent as 0)
	was  string // " (was N)" when the last level sent is known
}

// SweepStock reads the Bling balance of every linked product and writes to CaZco the
// quantities that differ from the last ones sent.
//
// GET /estoques/saldos answers for one stock class (filtroSaldoEstoque) at a time, so
// the reads are pooled across pages of links in one queue per class (stockSweep): each
// product is first asked in the class its last sent quantity predicts, and a queue is
// read when it holds StockBatchSize products. A catalogue whose balances kept their
// class costs about one read per 100 products.
func SweepStock(ctx context.Context, j *Job) error {
	s := newStockSweep(j)
	after := ""
	seen := 0
	for {
		links, err := j.Store().ProductLinks(ctx, j.Tenant.ID, after, StockBatchSize)
		if err != nil {
			return fmt.Errorf("read product links: %w", err)
		}
		if len(links) == 0 {
			break
		}
		after = links[len(links)-1].SKU
		for _, l := range links {
			if l.BlingID != 0 && l.CazcoID != "" {
				s.add(l)
			}
		}
		if err := s.readFull(ctx); err != nil {
			return err
		}
		seen += len(links)
		j.Progress(seen, 0)
	}
	if err := s.drain(ctx); err != nil {
		return err
	}
	return s.flush(ctx, true)
}

// stockRead is a linked product waiting for its Bling balance, with the stock classes
// it is still to be asked in: it waits in the queue of the first.
type stockRead struct {
	link    cazbling.ProductLink
	classes []cazbling.StockClass
}

// stockSweep holds SweepStock's queues of balance reads, one per stock class, and the
// quantities waiting to be written to CaZco. Each queue is read down below
// StockBatchSize after every page of links, so it holds at most a few hundred links.
type stockSweep struct {
	j       *Job
	queues  map[cazbling.StockClass][]stockRead
	pending []pendingStock
	// orders are the classes a product is asked in, by the class it is predicted in:
	// that one first, then the others in the order of cazbling.StockClasses.
	orders map[cazbling.StockClass][]cazbling.StockClass
}

func newStockSweep(j *Job) *stockSweep {
	s := &stockSweep{
		j:      j,
		queues: make(map[cazbling.StockClass][]stockRead),
		orders: make(map[cazbling.StockClass][]cazbling.StockClass),
	}
	for _, predicted := range cazbling.StockClasses() {
		order := []cazbling.StockClass{predicted}
		for _, c := range cazbling.StockClasses() {
			if c != predicted {
				order = append(order, c)
			}
		}
		s.orders[predicted] = order
	}
	return s
}

// predictedClass is the class a linked product's balance is expected in: the one of
// the quantity last sent (a negative balance was sent as 0, so it is first looked for
// at zero), positive when none is known.
func predictedClass(l cazbling.ProductLink) cazbling.StockClass {
	if l.StockKnown && l.StockSent == 0 {
		return cazbling.StockZero
	}
	return cazbling.StockPositive
}

// add queues a linked product in its predicted class.
func (s *stockSweep) add(l cazbling.ProductLink) {
	classes := s.orders[predictedClass(l)]
	s.queues[classes[0]] = append(s.queues[classes[0]], stockRead{link: l, classes: classes})
}

// readFull reads every queue that holds a full call, until none does.
func (s *stockSweep) readFull(ctx context.Context) error {
	for {
		full := cazbling.StockClass(0)
		for _, c := range cazbling.StockClasses() {
			if len(s.queues[c]) >= StockBatchSize {
				full = c
				break
			}
		}
		if full == 0 {
			return nil
		}
		if err := s.read(ctx, full); err != nil {
			return err
		}
	}
}

// drain reads the partly filled queues until every product is answered or has been
// asked in every class. The negative queue, last in every product's order, goes last;
// of the others the fuller goes first (positive on a tie).
func (s *stockSweep) drain(ctx context.Context) error {
	for {
		next := cazbling.StockClass(0)
		for _, c := range []cazbling.StockClass{cazbling.StockPositive, cazbling.StockZero} {
			if n := len(s.queues[c]); n > 0 && (next == 0 || n > len(s.queues[next])) {
				next = c
			}
		}
		if next == 0 && len(s.queues[cazbling.StockNegative]) > 0 {
			next = cazbling.StockNegative
		}
		if next == 0 {
			return nil
		}
		if err := s.read(ctx, next); err != nil {
			return err
		}
	}
}

// read asks Bling, in one call, for the balances in class of the first StockBatchSize
// products of its queue. A call with room left asks too for products waiting in other
// queues that are still to be asked in class: a product whose balance changed class
// is then answered without a call of its own. A product the call answers for gets its
// quantity queued for CaZco when it differs from the last one sent; one it leaves out
// moves on to the queue of its next class, or, asked in every class, gets a warning.
// A failed call that does not stop the tenant leaves its products for the next run.
func (s *stockSweep) read(ctx context.Context, class cazbling.StockClass) error {
	j := s.j
	queue := s.queues[class]
	n := min(len(queue), StockBatchSize)
	batch := queue[:n:n]
	s.queues[class] = queue[n:]
	for _, other := range cazbling.StockClasses() {
		if other == class {
			continue
		}
		kept := s.queues[other][:0]
		for _, r := range s.queues[other] {
			if len(batch) < StockBatchSize && slices.Contains(r.classes, class) {
				batch = append(batch, r)
			} else {
				kept = append(kept, r)
			}
		}
		s.queues[other] = kept
	}
	n = len(batch)
	ids := make([]int64, n)
	for i, r := range batch {
		ids[i] = r.link.BlingID
	}
	var b cazbling.Batch
	balances, err := j.ERP.StockBalances(ctx, ids, class)
	if err != nil {
		if stopsTenant(ctx, err) {
			return fmt.Errorf("read Bling stock balances: %w", err)
		}
		for _, r := range batch {
			b.Logs = append(b.Logs, stockEntry(r.link, ActionRetryLater, cazbling.StatusError,
				fmt.Sprintf("could not read the Bling balance now (%v); checked again on the next run", err)))
		}
		return j.Commit(ctx, b)
	}
	byID := make(map[int64]cazbling.StockBalance, len(balances))
	for _, bal := range balances {
		byID[bal.ProductID] = bal
	}
	for _, r := range batch {
		l := r.link
		bal, ok := byID[l.BlingID]
		if !ok {
			rest := slices.DeleteFunc(slices.Clone(r.classes), func(c cazbling.StockClass) bool { return c == class })
			if len(rest) > 0 {
				s.queues[rest[0]] = append(s.queues[rest[0]], stockRead{link: l, classes: rest})
				continue
			}
			b.Logs = append(b.Logs, stockEntry(l, cazbling.ActionSkipped, cazbling.StatusWarning,
				fmt.Sprintf("Bling returned no balance for product %d (SKU %s); it may have been deleted in Bling. CaZco stock left as it is", l.BlingID, l.SKU)))
			continue
		}
		qty, note := Quantity(bal, j.Tenant.BlingDeposit)
		if l.StockKnown && l.StockSent == qty {
			continue
		}
		s.pending = append(s.pending, pendingStock{link: l, qty: qty, note: note, was: wasNote(l)})
	}
	if err := j.Commit(ctx, b); err != nil {
		return err
	}
	return s.flush(ctx, false)
}

// flush writes the pending quantities StockBatchSize at a time; the last, partial
// batch too when all is set.
func (s *stockSweep) flush(ctx context.Context, all bool) error {
	for len(s.pending) >= StockBatchSize || all && len(s.pending) > 0 {
		n := min(len(s.pending), StockBatchSize)
		if err := writeStock(ctx, s.j, s.pending[:n]); err != nil {
			return err
		}
		s.pending = s.pending[n:]
	}
	return nil
}

// Quantity is the whole, non-negative quantity CaZco is sent for a Bling balance: the
// virtual balance (physical minus reserved) over all deposits, or of one deposit.
// Negative balances become 0 and fractions are rounded down (never sell what is not
// there); note says so when the value was changed.
func Quantity(bal cazbling.StockBalance, deposit int64) (int64, string) {
	v := bal.VirtualTotal
	if deposit != 0 {
		v = decimal.Zero
		for _, d := range bal.Deposits {
			if d.DepositID == deposit {
				v = d.Virtual
			}
		}
	}
	if v.IsNegative() {
		return 0, fmt.Sprintf("Bling balance is %s (negative); sent as 0", v.String())
	}
	return v.Floor().IntPart(), ""
}

// writeStock writes up to StockBatchSize quantities: one batch call, or one call per
// product when the store has no batch endpoint; a SKU CaZco no longer has is created
// again from Bling.
func writeStock(ctx context.Context, j *Job, ps []pendingStock) error {
	var b cazbling.Batch
	if j.Opts.DryRun {
		for _, p := range ps {
			b.Logs = append(b.Logs, stockEntry(p.link, cazbling.ActionWouldWrite, cazbling.StatusOK,
				fmt.Sprintf("dry run: would set CaZco stock to %d%s", p.qty, p.was)))
		}
		return j.Commit(ctx, b)
	}
	// Before the write, the levels are recorded as unknown: a run killed after CaZco
	// took them but before they are recorded must not leave an old "last sent" that
	// happens to equal Bling's balance (the level would never be written again).
	var unknown cazbling.Batch
	for i := range ps {
		if ps[i].link.StockKnown {
			ps[i].link.StockKnown = false
			unknown.StockLevels = append(unknown.StockLevels, ps[i].link)
		}
	}
	if err := j.Commit(ctx, unknown); err != nil {
		return err
	}
	items := make([]cazbling.StockItem, len(ps))
	for i, p := range ps {
		items[i] = cazbling.StockItem{SKU: p.link.SKU, Quantity: p.qty}
	}
	results, err := j.Market.SetStockBatch(ctx, items)
	switch {
	case errors.Is(err, cazbling.ErrBatchUnsupported):
		for _, p := range ps {
			err := j.Market.SetStock(ctx, p.link.CazcoID, p.qty)
			if cazbling.KindOf(err) == cazbling.KindNotFound {
				if err := recreate(ctx, j, p, &b); err != nil {
					return commitThen(ctx, j, b, err)
				}
				continue
			}
			if err := stockOutcome(ctx, j, p, err, &b); err != nil {
				return commitThen(ctx, j, b, err)
			}
		}
		return j.Commit(ctx, b)
	case err != nil:
		if stopsTenant(ctx, err) {
			return fmt.Errorf("write CaZco stock: %w", err)
		}
		for _, p := range ps {
			_ = stockOutcome(ctx, j, p, err, &b)
		}
		return j.Commit(ctx, b)
	}
	bySKU := make(map[string]cazbling.StockResult, len(results))
	for _, r := range results {
		bySKU[r.SKU] = r
	}
	for _, p := range ps {
		r, ok := bySKU[p.link.SKU]
		switch {
		case !ok:
			b.Logs = append(b.Logs, stockEntry(p.link, ActionRetryLater, cazbling.StatusError,
				"CaZco's stock batch answer left this SKU out; written again on the next run"))
		case r.Status == "updated":
			_ = stockOutcome(ctx, j, p, nil, &b)
		case r.Status == "not_found":
			if err := recreate(ctx, j, p, &b); err != nil {
				return commitThen(ctx, j, b, err)
			}
		default:
			msg := r.Message
			if msg == "" {
				msg = "no reason given"
			}
			b.Logs = append(b.Logs, stockEntry(p.link, cazbling.ActionFailed, cazbling.StatusError,
				fmt.Sprintf("CaZco refused stock %d for SKU %s (%s: %s)", p.qty, p.link.SKU, r.Status, msg)))
		}
	}
	return j.Commit(ctx, b)
}

// stockOutcome records the result of one stock write; its error is one that stops the
// tenant.
func stockOutcome(ctx context.Context, j *Job, p pendingStock, err error, b *cazbling.Batch) error {
	switch {
	case err == nil:
		l := p.link
		l.StockSent, l.StockKnown = p.qty, true
		b.StockLevels = append(b.StockLevels, l)
		status, msg := cazbling.StatusOK, fmt.Sprintf("stock set to %d%s", p.qty, p.was)
		if p.note != "" {
			status, msg = cazbling.StatusWarning, msg+"; "+p.note
		}
		b.Logs = append(b.Logs, withCode(stockEntry(p.link, cazbling.ActionStockSet, status, msg), CodeStockSet, p.params()))
	case stopsTenant(ctx, err):
		return fmt.Errorf("write CaZco stock: %w", err)
	case retryable(err):
		b.Logs = append(b.Logs, stockEntry(p.link, ActionRetryLater, cazbling.StatusError,
			fmt.Sprintf("CaZco did not take stock %d now (%v); written again on the next run", p.qty, err)))
	default:
		b.Logs = append(b.Logs, stockEntry(p.link, cazbling.ActionFailed, cazbling.StatusError,
			fmt.Sprintf("CaZco refused stock %d for SKU %s: %v", p.qty, p.link.SKU, err)))
	}
	return nil
}

// recreate handles a SKU the link says is in CaZco but CaZco does not have (deleted
// there): it is created again from the Bling product, then its stock is set.
func recreate(ctx context.Context, j *Job, p pendingStock, b *cazbling.Batch) error {
	full, err := j.ERP.Product(ctx, p.link.BlingID)
	if err != nil {
		if stopsTenant(ctx, err) {
			return err
		}
		b.Logs = append(b.Logs, stockEntry(p.link, ActionRetryLater, cazbling.StatusError,
			fmt.Sprintf("CaZco no longer has SKU %s and the Bling product %d could not be read to create it again (%v); tried again on the next run", p.link.SKU, p.link.BlingID, err)))
		return nil
	}
	var it *item
	for _, m := range MapProduct(full) {
		if m.Product.SKU == p.link.SKU && m.Err == "" {
			stale := p.link
			stale.CazcoID, stale.Hash = "", ""
			it = &item{key: m.Product.SKU, blingID: m.BlingID, mapped: m, link: stale, linked: true}
		}
	}
	if it == nil {
		b.Logs = append(b.Logs, stockEntry(p.link, cazbling.ActionFailed, cazbling.StatusError,
			fmt.Sprintf("CaZco no longer has SKU %s and Bling product %d no longer carries that SKU; nothing written", p.link.SKU, p.link.BlingID)))
		return nil
	}
	link, entry, err := newWalker(j).upsert(ctx, *it)
	if err != nil {
		return stockOutcome(ctx, j, p, err, b)
	}
	entry.Message += " (CaZco no longer had it)"
	b.Logs = append(b.Logs, entry)
	b.ProductLinks = append(b.ProductLinks, link)
	p.link = link
	return stockOutcome(ctx, j, p, j.Market.SetStock(ctx, link.CazcoID, p.qty), b)
}

// commitThen records what was done, then returns err.
func commitThen(ctx context.Context, j *Job, b cazbling.Batch, err error) error {
	if cerr := j.Commit(ctx, b); cerr != nil {
		return errors.Join(err, cerr)
	}
	return err
}

func wasNote(l cazbling.ProductLink) string {
	if !l.StockKnown {
		return ""
	}
	return fmt.Sprintf(" (was %d)", l.StockSent)
}

func stockEntry(l cazbling.ProductLink, action, status, msg string) cazbling.LogEntry {
	return cazbling.LogEntry{
		Entity: cazbling.EntityStock, Key: l.SKU, Action: action, Status: status, Message: msg,
		BlingID: idString(l.BlingID), CazcoID: l.CazcoID,
	}
}
