package flow

import (
	"context"
	"fmt"
	"slices"
	"strconv"

	"github.com/shopspring/decimal"

	"github.com/cazbling/cazbling/pkg/cazbling"
)

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
			// The level is forgotten, so the next run writes it whatever it reads: a
			// balance found unchanged would write nothing, and leave this row
			// saying the item is failing.
			if l := r.link; l.StockKnown && !j.Opts.DryRun {
				l.StockKnown = false
				b.StockLevels = append(b.StockLevels, l)
			}
			b.Logs = append(b.Logs, stockEntry(r.link, ActionRetryLater, cazbling.StatusError,
				fmt.Sprintf("could not read the Bling balance now (%v); checked again on the next run", err)))
		}
		return j.Commit(ctx, b)
	}
	var gone []cazbling.ProductLink
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
			gone = append(gone, l) // asked in every class: is it still in Bling? (stock_retire.go)
			continue
		}
		qty, note := Quantity(bal, j.Tenant.BlingDeposit)
		was := wasNote(l)
		if l.Inactive && qty != 0 {
			// Inactive in Bling, so inactive in CaZco: nothing to sell behind it.
			qty, note, was = 0, "", was+" (inactive in Bling: sent as 0, not its balance "+strconv.FormatInt(qty, 10)+")"
		}
		if l.StockKnown && l.StockSent == qty {
			continue
		}
		s.pending = append(s.pending, pendingStock{link: l, qty: qty, note: note, was: was})
	}
	if err := s.confirmGone(ctx, gone, &b); err != nil {
		return commitThen(ctx, j, b, err)
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
