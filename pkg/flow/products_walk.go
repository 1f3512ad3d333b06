package flow

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/cazbling/cazbling/pkg/cazbling"
)

// item is one CaZco product to be written, or the reason it is not.
type item struct {
	key     string // the SKU, or "bling:<id>" when there is none
	blingID int64
	summary string // fingerprint of the Bling list entry; "" for variations
	current bool   // known current in CaZco: no read, no write, only seen again
	mapped  Mapped
	link    cazbling.ProductLink
	linked  bool
	errMsg  string // not sent: an error row
	errCode string // its log code, when it has one of its own
	skipMsg string // not sent on purpose: a skipped row
	retry   error  // Bling could not be read now: left for a later run
	// shared, with errMsg, is the SKU's link marked as shared by several Bling
	// products, to be recorded with the error row.
	shared *cazbling.ProductLink
}

// chunk is a few products of a listing page, read and mapped, waiting for their CaZco
// writes. The last chunk of a page (end) carries the cursors that move when the whole
// page is done.
type chunk struct {
	page    int
	items   []item
	end     bool
	more    bool // with end: more pages follow
	cursors []cazbling.Cursor
	err     error // the listing itself failed, or an error that stops the tenant
}

// ListPageSize is the page size of product walks: 99, one under Bling's largest, so
// that a page's SKUs fit one look-up by SKU (which asks 99 at a time, to tell a full
// answer from a truncated one).
const ListPageSize = 99

// chunkSize is the most detail reads a chunk holds: the writer commits once a chunk,
// and a chunk goes to it sooner when it has nothing queued (walker.read).
const chunkSize = 10

// walker reads Bling pages and product details in one goroutine while another writes
// to CaZco and commits, so the two APIs' rate limits are spent at the same time.
type walker struct {
	j       *Job
	claimed map[string]int64 // SKU → Bling id, this run
	handled map[int64]bool   // Bling ids read this run: a product listed twice (window pieces share their edge second) is read once
	// held is set once a page ends with products left for a later run: from there on
	// the walk goes on writing, but no cursor or checkpoint moves, so the next run
	// starts again from that page.
	held bool
	done int
	// shared holds the SKUs found on more than one Bling product this run, with their
	// owners, so that a later page's product with one of them is refused too.
	shared map[string][]int64
	// askAll makes every SKU be looked up in Bling (full walks); otherwise a product
	// whose SKU is linked to it, and not marked shared, is not asked again.
	askAll bool
	// ready, when set, is called whenever read products go to the writer (SyncStock
	// waits for the first).
	ready func()
	// linked, when set, is given the committed links of products newly linked to a
	// CaZco product (SyncStock sets their stock: its sweep may be past their SKUs).
	linked func([]cazbling.ProductLink)
	// market, when not nil, is the CaZco store as listed at the start of a full walk:
	// SKU → product id, "" for a SKU listed more than once. A SKU without a link is
	// resolved here instead of with one GET /products?sku= each.
	market map[string]string
	// trustSince, when set, lets a product skip its detail read if a run that started
	// at or after it listed the product with the same list entry and knew it current,
	// and it has not changed since trustSince: Bling, asked through filter with the
	// range [trustSince, trustTo], does not list it.
	trustSince, trustTo time.Time
	filter              func(q *cazbling.ProductQuery, from, to time.Time)
	// resumed marks a resumed full walk: a product seen since trustSince (the walk's
	// start) with the same list entry is trusted without asking Bling, as the window
	// that follows the walk reads whatever changed since its start.
	resumed bool
}

func newWalker(j *Job) *walker {
	return &walker{j: j, claimed: map[string]int64{}, handled: map[int64]bool{}, shared: map[string][]int64{}}
}

// walk reads pages from start until a page says there are no more, writes their
// products as they are read, records each chunk as it is written, and moves the
// cursors done(page, more) returns when a page is complete. After a page with an item
// left for retry it moves no cursor (wk.held), but goes on: the products after it
// still reach CaZco in this run, and the next run reads again from that page (what
// was written is then unchanged and skipped by its hash).
func (wk *walker) walk(ctx context.Context, start int,
	pages func(ctx context.Context, page int) ([]cazbling.ERPProductSummary, bool, error),
	done func(page int, more bool) []cazbling.Cursor) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ch := make(chan chunk, 4)
	idle := func() bool { return len(ch) == 0 } // nothing queued for the writer
	send := func(c chunk) bool {
		select {
		case ch <- c:
			return true
		case <-ctx.Done():
			return false
		}
	}
	go func() {
		defer close(ch)
		for n := start; ; n++ {
			summaries, more, err := pages(ctx, n)
			if err != nil {
				send(chunk{page: n, err: fmt.Errorf("list Bling products, page %d: %w", n, err)})
				return
			}
			if err := wk.read(ctx, n, summaries, send, idle); err != nil {
				send(chunk{page: n, err: err})
				return
			}
			if !send(chunk{page: n, end: true, more: more, cursors: done(n, more)}) || !more {
				return
			}
		}
	}()
	retry := 0 // items of the current page left for a later run
	for c := range ch {
		if c.err != nil {
			return c.err
		}
		if c.end {
			if retry > 0 && !wk.held {
				wk.held = true
				wk.j.Logger().Warn("some products could not be read or written now: the walk goes on, and the next run reads again from this page", "page", c.page, "left", retry)
			}
			retry = 0
			if wk.held {
				continue
			}
			if err := wk.j.Commit(ctx, cazbling.Batch{Cursors: c.cursors}); err != nil {
				return err
			}
			continue
		}
		b, r, fresh, werr := wk.write(ctx, c.items)
		retry += r
		if err := wk.j.Commit(ctx, b); err != nil {
			return err
		}
		if wk.linked != nil && len(fresh) > 0 {
			wk.linked(fresh)
		}
		if werr != nil {
			return werr
		}
		wk.done += len(c.items)
		wk.j.Progress(wk.done, 0)
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	return ctx.Err()
}

// read turns a page of summaries into items, sent in chunks as their details are
// read: mapped, SKUs claimed, links found. Its error is one that stops the tenant.
func (wk *walker) read(ctx context.Context, page int, summaries []cazbling.ERPProductSummary, send func(chunk) bool, idle func() bool) error {
	seen, links, err := wk.seenCurrent(ctx, summaries)
	if err != nil {
		return err
	}
	// withLink gives an item left for retry the link of its product, so that the write
	// makes the link untrusted (see untrusted). Retries are rare: a page whose links
	// were not read for trust reads them here.
	withLink := func(it item) item {
		l, ok := links[it.key]
		if !ok && links == nil && strings.TrimSpace(it.key) != "" {
			if found, err := wk.j.Store().ProductLinksBySKU(ctx, wk.j.Tenant.ID, []string{it.key}); err == nil {
				l, ok = found[it.key]
			}
		}
		if ok && l.BlingID == it.blingID {
			it.link, it.linked = l, true
		}
		return it
	}
	var first []item // known without a detail read
	var toRead []cazbling.ERPProductSummary
	for _, s := range summaries {
		switch {
		case s.ParentID != 0: // a variation: synced through its parent
		case wk.handled[s.ID]:
		case IsService(s):
			first = append(first, item{key: keyOf(s.SKU, s.ID), blingID: s.ID,
				skipMsg: "a service (tipo S) is not sold on CaZco; not sent"})
		case strings.TrimSpace(s.SKU) == "":
			first = append(first, item{key: keyOf("", s.ID), blingID: s.ID,
				errMsg: fmt.Sprintf("Bling product %d %q has no SKU (código); give it one in Bling and it is synced on the next run", s.ID, s.Name)})
		default:
			if l, ok := seen[s.ID]; ok {
				first = append(first, item{key: s.SKU, blingID: s.ID, summary: l.SummaryHash, current: true, link: l, linked: true})
			} else {
				toRead = append(toRead, s)
			}
		}
		wk.handled[s.ID] = true
	}
	if len(first) > 0 && !send(chunk{page: page, items: first}) {
		return ctx.Err()
	}
	// Who else in Bling has these SKUs: one look-up for the page, before any write.
	owners := map[string][]int64{}
	if err := wk.lookUpOwners(ctx, wk.toAsk(ctx, toRead), owners); err != nil {
		if stopsTenant(ctx, err) {
			return err
		}
		// Bling could not say: nothing of this page is sent, all is left for later.
		var items []item
		for _, s := range toRead {
			items = append(items, withLink(item{key: s.SKU, blingID: s.ID, retry: err}))
		}
		if len(items) > 0 && !send(chunk{page: page, items: items}) {
			return ctx.Err()
		}
		return nil
	}
	// A chunk goes to the writer when it holds chunkSize products, or earlier when the
	// writer has nothing queued: CaZco's writes then follow the reads one by one instead
	// of ten at a time, and when the reads end (or the walk starts) the writer is not
	// left with a whole chunk to write alone.
	var items []item
	for i, s := range toRead {
		if err := ctx.Err(); err != nil {
			return err
		}
		full, err := wk.j.ERP.Product(ctx, s.ID)
		switch {
		case stopsTenant(ctx, err):
			return fmt.Errorf("read Bling product %d: %w", s.ID, err)
		case err != nil:
			it := item{key: keyOf(s.SKU, s.ID), blingID: s.ID}
			if retryable(err) {
				it.retry = fmt.Errorf("read Bling product %d: %w", s.ID, err)
				it = withLink(it)
			} else {
				it.errMsg = fmt.Sprintf("could not read Bling product %d (SKU %s): %v", s.ID, s.SKU, err)
			}
			items = append(items, it)
		default:
			for _, m := range MapProduct(full) {
				it := item{key: keyOf(m.Product.SKU, m.BlingID), blingID: m.BlingID, mapped: m, errMsg: m.Err}
				if m.BlingID == s.ID {
					it.summary = SummaryHash(s)
				}
				items = append(items, it)
			}
			if len(full.Variations) > 0 && full.Type != "S" {
				// The parent is not sold itself. Its row says so, and closes one left
				// for it by a run that could not read it (its variations' rows are
				// under their own SKUs).
				items = append(items, item{key: keyOf(s.SKU, s.ID), blingID: s.ID,
					skipMsg: fmt.Sprintf("a product with %d variations is not sold itself on CaZco; its variations are synced under their own SKUs", len(full.Variations))})
			}
		}
		if len(items) < chunkSize && i < len(toRead)-1 && !idle() {
			continue
		}
		if err := wk.linkAndClaim(ctx, items, owners); err != nil {
			return err
		}
		if !send(chunk{page: page, items: items}) {
			return ctx.Err()
		}
		items = nil
		if wk.ready != nil {
			wk.ready()
		}
	}
	return nil
}

func (it item) sendable() bool {
	return !it.current && it.errMsg == "" && it.skipMsg == "" && it.retry == nil
}

func keyOf(sku string, blingID int64) string {
	if strings.TrimSpace(sku) != "" {
		return sku
	}
	return "bling:" + strconv.FormatInt(blingID, 10)
}
