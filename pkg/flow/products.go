package flow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cazbling/cazbling/pkg/cazbling"
)

// SyncProducts is the products flow: new Bling products (by inclusion date since the
// tenant's cursor) are created in CaZco or updated there. With Options.Full, or when
// the tenant has no cursor yet, it walks the whole catalogue instead, resuming an
// interrupted walk from its last finished page.
func SyncProducts(ctx context.Context, j *Job) error {
	if !j.Opts.Full {
		w, err := j.Window(ctx, cazbling.StreamProductsCreated)
		if err != nil {
			return err
		}
		if w.Found {
			return syncWindow(ctx, j, w, func(q *cazbling.ProductQuery, from, to time.Time) {
				q.CreatedFrom, q.CreatedTo = from, to
			}, nil, nil)
		}
		j.Logger().Info("no products cursor yet: walking the whole catalogue")
	}
	return syncFull(ctx, j)
}

// fullProgress is the checkpoint of an unfinished full sync.
type fullProgress struct {
	Started time.Time `json:"started"`
	// Version is 2 for walks that list by stock class. A checkpoint without it comes
	// from a walk that listed without filtroSaldoEstoque, whose page numbers mean
	// nothing in a filtered listing: that walk starts again from the first page.
	Version  int `json:"version"`
	Class    int `json:"class"` // index in cazbling.StockClasses() of the listing under way
	NextPage int `json:"next_page"`
}

// progressVersion is fullProgress.Version for walks by stock class.
const progressVersion = 2

// syncFull walks every Bling product, one listing per stock class (Bling can only list
// by the sign of the balance), page by page, checkpointing after each page, and at the
// end sets the incremental cursors to the walk's start.
func syncFull(ctx context.Context, j *Job) error {
	prog := fullProgress{Started: j.Now(), Version: progressVersion, NextPage: 1}
	classes := cazbling.StockClasses()
	if v, ok, err := j.Store().Cursor(ctx, j.Tenant.ID, cazbling.StreamFullSync); err != nil {
		return fmt.Errorf("read full sync progress: %w", err)
	} else if ok && v != "" {
		var p fullProgress
		switch {
		case json.Unmarshal([]byte(v), &p) != nil || p.Started.IsZero() || p.NextPage < 1:
		case p.Version != progressVersion || p.Class < 0 || p.Class >= len(classes):
			j.Logger().Info("an interrupted full sync from an older version is walked again from the start")
		case p.Class > 0 || p.NextPage > 1:
			prog = p
			j.Logger().Info("resuming an interrupted full sync", "stock", classes[p.Class], "page", p.NextPage)
		}
	}
	checkpoint := func(class, page int) cazbling.Cursor {
		b, _ := json.Marshal(fullProgress{Started: prog.Started, Version: progressVersion, Class: class, NextPage: page})
		return cazbling.Cursor{TenantID: j.Tenant.ID, Stream: cazbling.StreamFullSync, Value: string(b)}
	}
	wk := newWalker(j)
	wk.askAll = true // a full walk checks every SKU with Bling
	if err := wk.indexMarket(ctx); err != nil {
		return err
	}
	for ci := prog.Class; ci < len(classes); ci++ {
		q := cazbling.ProductQuery{Criterion: 5, Limit: ListPageSize, Stock: classes[ci]} // all products, active and inactive
		pages := func(ctx context.Context, page int) ([]cazbling.ERPProductSummary, bool, error) {
			return j.ERP.ProductsPage(ctx, q, page)
		}
		done := func(page int, more bool) []cazbling.Cursor {
			switch {
			case more:
				return []cazbling.Cursor{checkpoint(ci, page+1)}
			case ci < len(classes)-1:
				return []cazbling.Cursor{checkpoint(ci+1, 1)}
			}
			return []cazbling.Cursor{
				{TenantID: j.Tenant.ID, Stream: cazbling.StreamFullSync, Value: ""},
				TimeCursor(j.Tenant.ID, cazbling.StreamProductsCreated, prog.Started),
				TimeCursor(j.Tenant.ID, cazbling.StreamProductsChanged, prog.Started),
			}
		}
		start := 1
		if ci == prog.Class {
			start = prog.NextPage
		}
		if err := wk.walk(ctx, start, pages, done); err != nil {
			return err
		}
	}
	return nil
}

// syncWindow walks the products in a time window of a stream (inclusion or alteration
// date), in pieces of at most a year, each listed once per stock class, and moves the
// stream's cursor at the end.
//
// The window includes the overlap with the previous run, [From, Prev), in the same
// listings. A product listed there that a run since Prev already read, unchanged in the
// list, and knew current in CaZco needs no detail read (SYNC.md's overlap re-reads what
// a late index or a skewed clock hid, not what was already handled); but the list does
// not say when a product changed, and one changed since Prev must be read. So the few
// products a page would trust are asked again, in one listing per stock class of those
// ids changed since Prev (walker.unchangedSince), unless reading them costs less.
//
// A product whose balance changes sign while its piece is being listed may be listed
// under two classes (it is read once: the walker remembers it) or, if it moves into a
// class already listed, under none: its change is then seen by the next run only if it
// falls in that run's overlap. Bling offers no listing that ignores the balance.
//
// ready, when not nil, is called once the first products read go to CaZco's writer, or
// when the walk ends without any. linked, when not nil, is given the links the walk
// records for products newly linked to a CaZco product (created there, or found there
// by SKU), once they are committed.
func syncWindow(ctx context.Context, j *Job, w Window, filter func(q *cazbling.ProductQuery, from, to time.Time),
	ready func(), linked func([]cazbling.ProductLink)) error {
	if ready != nil {
		defer ready()
	}
	pieces := SplitYears(w.From, w.To)
	classes := cazbling.StockClasses()
	wk := newWalker(j)
	wk.ready, wk.linked = ready, linked
	if w.Found && w.From.Before(w.Prev) && w.Prev.Before(w.To) && len(SplitYears(w.Prev, w.To)) == 1 {
		wk.trustSince, wk.trustTo, wk.filter = w.Prev, w.To, filter
	}
	for i, piece := range pieces {
		for ci, class := range classes {
			q := cazbling.ProductQuery{Criterion: 5, Limit: ListPageSize, Stock: class}
			filter(&q, piece[0], piece[1])
			pages := func(ctx context.Context, page int) ([]cazbling.ERPProductSummary, bool, error) {
				return j.ERP.ProductsPage(ctx, q, page)
			}
			done := func(page int, more bool) []cazbling.Cursor {
				if more || ci < len(classes)-1 {
					return nil
				}
				// A piece ends: the cursor may move to its end. The last piece's end
				// is the window's end.
				end := piece[1]
				if i == len(pieces)-1 {
					end = w.To
				}
				return []cazbling.Cursor{TimeCursor(j.Tenant.ID, w.Stream, end)}
			}
			if err := wk.walk(ctx, 1, pages, done); err != nil {
				return err
			}
		}
	}
	return nil
}

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
	seen, err := wk.seenCurrent(ctx, summaries)
	if err != nil {
		return err
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
			items = append(items, item{key: s.SKU, blingID: s.ID, retry: err})
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

// indexMarket lists the CaZco store once (100 products a call) into wk.market, so that
// a full walk creates the products CaZco lacks without looking each SKU up first: an
// activation then costs CaZco one request per product instead of two. An empty store
// is not listed (its index is empty), nor one whose products the links already cover
// (a re-walk: its few new SKUs are looked up one by one). The index holds one entry
// per CaZco product (tens of bytes each). If the store cannot be listed now, the walk
// looks SKUs up one by one instead; an error that stops the tenant is returned.
func (wk *walker) indexMarket(ctx context.Context) error {
	j := wk.j
	if j.Opts.DryRun {
		return nil
	}
	fallBack := func(err error) error {
		if stopsTenant(ctx, err) {
			return fmt.Errorf("list the CaZco store: %w", err)
		}
		j.Logger().Warn("could not list the CaZco store; looking each new SKU up instead", "err", err)
		return nil
	}
	info, err := j.Market.Info(ctx)
	if err != nil {
		return fallBack(err)
	}
	linked, err := j.Store().CountProductLinks(ctx, j.Tenant.ID)
	switch {
	case err != nil:
		return nil // looked up one by one
	case info.Products == 0:
		wk.market = map[string]string{} // a create that finds the SKU taken still turns into an update
		return nil
	case linked >= info.Products:
		return nil
	}
	index := map[string]string{}
	for p, err := range j.Market.Products(ctx) {
		if err != nil {
			return fallBack(err)
		}
		if _, twice := index[p.SKU]; twice {
			index[p.SKU] = "" // ProductBySKU reports the store's duplicate
		} else {
			index[p.SKU] = p.ID
		}
	}
	wk.market = index
	return nil
}

// findInMarket finds a SKU's product in CaZco: in the store's index when there is one
// (a SKU listed twice is asked, to get the store's error), else with GET /products?sku=.
func (wk *walker) findInMarket(ctx context.Context, sku string) (cazbling.MarketProduct, bool, error) {
	if wk.market != nil {
		id, listed := wk.market[sku]
		switch {
		case !listed:
			return cazbling.MarketProduct{}, false, nil // a create that finds it taken turns into an update
		case id != "":
			return cazbling.MarketProduct{ID: id, SKU: sku}, true, nil
		}
	}
	return wk.j.Market.ProductBySKU(ctx, sku)
}

// toAsk returns the SKUs of summaries to look up in Bling. Unless the walk asks all, a
// product whose SKU's link names it, and that was not found shared, is not asked: a
// second product given that SKU later is listed itself (created or changed), is asked
// then, and marks the link shared, so that from then on every product with the SKU is
// asked again and refused while it is shared.
func (wk *walker) toAsk(ctx context.Context, summaries []cazbling.ERPProductSummary) []string {
	skus := make([]string, 0, len(summaries))
	for _, s := range summaries {
		skus = append(skus, s.SKU)
	}
	if wk.askAll || len(skus) == 0 {
		return skus
	}
	links, err := wk.j.Store().ProductLinksBySKU(ctx, wk.j.Tenant.ID, skus)
	if err != nil {
		return skus // Bling is asked instead
	}
	var ask []string
	for _, s := range summaries {
		if !wk.vouched(links, s.SKU, s.ID) {
			ask = append(ask, s.SKU)
		}
	}
	return ask
}

// vouched reports whether the SKU's link says product id alone has it.
func (wk *walker) vouched(links map[string]cazbling.ProductLink, sku string, id int64) bool {
	l, ok := links[sku]
	return !wk.askAll && ok && l.BlingID == id && !l.SKUShared && len(wk.shared[sku]) == 0
}

// lookUpOwners asks Bling which products carry skus and adds them to owners (SKU →
// Bling ids); every SKU asked gets an entry, empty if Bling has none.
func (wk *walker) lookUpOwners(ctx context.Context, skus []string, owners map[string][]int64) error {
	if len(skus) == 0 {
		return nil
	}
	found, err := wk.j.ERP.ProductsBySKU(ctx, skus)
	if err != nil {
		return fmt.Errorf("look up SKUs in Bling: %w", err)
	}
	for _, sku := range skus {
		if _, ok := owners[sku]; !ok {
			owners[sku] = nil
		}
	}
	for _, p := range found {
		if !slices.Contains(owners[p.SKU], p.ID) {
			owners[p.SKU] = append(owners[p.SKU], p.ID)
		}
	}
	for _, sku := range skus {
		if len(owners[sku]) > 1 {
			wk.shared[sku] = owners[sku]
		}
	}
	return nil
}

// seenCurrent returns, by Bling id, the links of the simple products of a page that
// need no detail read: listed by a run that started at or after trustSince with the
// same list entry, current in CaZco then, and not changed since trustSince.
func (wk *walker) seenCurrent(ctx context.Context, summaries []cazbling.ERPProductSummary) (map[int64]cazbling.ProductLink, error) {
	if wk.trustSince.IsZero() || wk.j.Opts.Full {
		return nil, nil
	}
	var skus []string
	for _, s := range summaries {
		if s.ParentID == 0 && !IsService(s) && s.Format != "V" && strings.TrimSpace(s.SKU) != "" {
			skus = append(skus, s.SKU)
		}
	}
	if len(skus) == 0 {
		return nil, nil
	}
	links, err := wk.j.Store().ProductLinksBySKU(ctx, wk.j.Tenant.ID, skus)
	if err != nil {
		return nil, fmt.Errorf("read product links: %w", err)
	}
	out := map[int64]cazbling.ProductLink{}
	for _, s := range summaries {
		l, ok := links[s.SKU]
		if ok && l.BlingID == s.ID && l.CazcoID != "" && l.Hash != "" && !l.SeenAt.Before(wk.trustSince) && !l.SKUShared &&
			l.SummaryHash != "" && l.SummaryHash == SummaryHash(s) && wk.claimed[s.SKU] == 0 && len(wk.shared[s.SKU]) == 0 {
			out[s.ID] = l
		}
	}
	return wk.unchangedSince(ctx, out)
}

// unchangedSince keeps of the candidates those Bling does not list as changed since
// trustSince: one listing of their ids per stock class. When there are no more of them
// than listings, or Bling cannot say now, none is kept: reading them is as cheap, and
// always right.
func (wk *walker) unchangedSince(ctx context.Context, candidates map[int64]cazbling.ProductLink) (map[int64]cazbling.ProductLink, error) {
	classes := cazbling.StockClasses()
	if len(candidates) <= len(classes) {
		return nil, nil
	}
	ids := make([]int64, 0, len(candidates))
	for id := range candidates {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, class := range classes {
		q := cazbling.ProductQuery{Criterion: 5, Limit: ListPageSize, Stock: class, IDs: ids}
		wk.filter(&q, wk.trustSince, wk.trustTo)
		changed, _, err := wk.j.ERP.ProductsPage(ctx, q, 1) // at most a page of ids: one page
		if err != nil {
			if stopsTenant(ctx, err) {
				return nil, fmt.Errorf("list Bling products changed since the last run: %w", err)
			}
			return nil, nil
		}
		for _, s := range changed {
			delete(candidates, s.ID)
		}
	}
	return candidates, nil
}

// linkAndClaim finds the links of the items' SKUs and refuses SKUs that Bling has on
// more than one product: none of them is sent, each gets an error row, until the seller
// gives each its own SKU. owners holds the page's Bling look-up by SKU; variations'
// SKUs, known only from their parent's details, and SKUs the page did not ask are
// looked up here unless their link vouches for the item (toAsk). Its error is one that
// stops the tenant.
func (wk *walker) linkAndClaim(ctx context.Context, items []item, owners map[string][]int64) error {
	var skus []string
	for _, it := range items {
		if it.sendable() {
			skus = append(skus, it.mapped.Product.SKU)
		}
	}
	if len(skus) == 0 {
		return nil
	}
	markRetry := func(err error) {
		for i := range items {
			if items[i].sendable() {
				items[i].retry = err
			}
		}
	}
	links, err := wk.j.Store().ProductLinksBySKU(ctx, wk.j.Tenant.ID, skus)
	if err != nil {
		markRetry(fmt.Errorf("read product links: %w", err))
		return nil
	}
	var unasked []string
	for _, it := range items {
		sku := it.mapped.Product.SKU
		if _, asked := owners[sku]; it.sendable() && !asked && !wk.vouched(links, sku, it.blingID) {
			unasked = append(unasked, sku)
		}
	}
	if err := wk.lookUpOwners(ctx, unasked, owners); err != nil {
		if stopsTenant(ctx, err) {
			return err
		}
		markRetry(err)
		return nil
	}
	for i := range items {
		it := &items[i]
		if !it.sendable() {
			continue
		}
		sku := it.mapped.Product.SKU
		ids := slices.Clone(owners[sku])
		for _, id := range append([]int64{it.blingID}, wk.shared[sku]...) {
			if !slices.Contains(ids, id) {
				ids = append(ids, id)
			}
		}
		if owner, ok := wk.claimed[sku]; ok && !slices.Contains(ids, owner) {
			ids = append(ids, owner)
		}
		if len(ids) > 1 {
			it.errMsg = duplicateMessage(sku, ids)
			it.errCode = CodeProductDuplicateSKU + "?" + string(cazbling.Params("ids", joinIDs(ids)))
			if l, ok := links[sku]; ok && !l.SKUShared {
				l.SKUShared = true
				it.shared = &l
			}
			continue
		}
		wk.claimed[sku] = it.blingID
		// A link naming another Bling product is stale (the seller moved the SKU):
		// Bling says this product alone has it now.
		it.link, it.linked = links[sku]
	}
	return nil
}

func duplicateMessage(sku string, ids []int64) string {
	slices.Sort(ids)
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = strconv.FormatInt(id, 10)
	}
	return fmt.Sprintf("SKU %s is used by %d Bling products (%s); none of them is sent until each has its own SKU (código) in Bling", sku, len(ids), strings.Join(s, ", "))
}

func (it item) sendable() bool {
	return !it.current && it.errMsg == "" && it.skipMsg == "" && it.retry == nil
}

// write sends the page's products to CaZco and returns the batch that records them,
// how many were left for a later run, the links of products newly linked to a CaZco
// product, and an error that stops the tenant (the batch still records what was done
// before it).
func (wk *walker) write(ctx context.Context, items []item) (b cazbling.Batch, retry int, fresh []cazbling.ProductLink, err error) {
	if err := wk.forgetHashes(ctx, items); err != nil {
		return b, retry, nil, err
	}
	for _, it := range items {
		entry := cazbling.LogEntry{Entity: cazbling.EntityProduct, Key: it.key, BlingID: idString(it.blingID)}
		switch {
		case it.current:
			l := it.link
			l.SeenAt = wk.j.Started
			b.ProductLinks = append(b.ProductLinks, l)
			continue // not touched: no row
		case it.skipMsg != "":
			entry.Action, entry.Status, entry.Message = cazbling.ActionSkipped, cazbling.StatusSkipped, it.skipMsg
		case it.errMsg != "":
			entry.Action, entry.Status, entry.Message = cazbling.ActionFailed, cazbling.StatusError, it.errMsg
			entry.Code, entry.Params = splitCode(it.errCode)
			if it.shared != nil {
				b.ProductLinks = append(b.ProductLinks, *it.shared)
			}
		case it.retry != nil:
			retry++
			entry.Action, entry.Status = ActionRetryLater, cazbling.StatusError
			entry.Message = fmt.Sprintf("Bling or CaZco did not answer well enough now (%v); left for the next run", it.retry)
		default:
			link, e, err := wk.upsert(ctx, it)
			entry = e
			if err != nil {
				if stopsTenant(ctx, err) {
					return b, retry, fresh, err
				}
				if retryable(err) {
					retry++
					entry.Action, entry.Status = ActionRetryLater, cazbling.StatusError
					entry.Message = fmt.Sprintf("CaZco did not take product %s now (%v); left for the next run", it.key, err)
				} else {
					entry.Action, entry.Status = cazbling.ActionFailed, cazbling.StatusError
					entry.Message = fmt.Sprintf("CaZco refused product %s: %v", it.key, err)
				}
			} else {
				b.ProductLinks = append(b.ProductLinks, link)
				if !it.linked || it.link.CazcoID != link.CazcoID {
					fresh = append(fresh, link)
				}
			}
		}
		b.Logs = append(b.Logs, entry)
	}
	return b, retry, fresh, nil
}

// forgetHashes clears, before any write, the stored hash of the linked products about
// to be written: if the run is killed after CaZco took a write but before the new hash
// is recorded, the next run must not compare Bling's data with a hash CaZco no longer
// matches (it would skip a product whose Bling data went back to the old values).
func (wk *walker) forgetHashes(ctx context.Context, items []item) error {
	if wk.j.Opts.DryRun {
		return nil
	}
	var b cazbling.Batch
	for _, it := range items {
		if it.sendable() && it.linked && it.link.Hash != "" && it.link.Hash != Hash(it.mapped.Product) {
			l := it.link
			l.Hash = ""
			b.ProductLinks = append(b.ProductLinks, l)
		}
	}
	return wk.j.Commit(ctx, b)
}

// upsert creates or updates one product in CaZco (SYNC.md): by the link's CaZco id,
// else by SKU; a create that finds the SKU taken turns into an update. Nothing is
// written when the data's hash equals the last one sent.
func (wk *walker) upsert(ctx context.Context, it item) (cazbling.ProductLink, cazbling.LogEntry, error) {
	j := wk.j
	p := it.mapped.Product
	hash := Hash(p)
	link := it.link
	link.TenantID, link.SKU, link.BlingID = j.Tenant.ID, p.SKU, it.blingID
	entry := cazbling.LogEntry{Entity: cazbling.EntityProduct, Key: p.SKU, BlingID: idString(it.blingID)}
	status, note := cazbling.StatusOK, ""
	if len(it.mapped.Warnings) > 0 {
		status, note = cazbling.StatusWarning, "; "+strings.Join(it.mapped.Warnings, "; ")
	}
	done := func(action, msg string) (cazbling.ProductLink, cazbling.LogEntry, error) {
		entry.Action, entry.Status, entry.Message, entry.CazcoID = action, status, msg+note, link.CazcoID
		link.Hash, link.SeenAt, link.SummaryHash, link.SKUShared = hash, j.Started, it.summary, false
		return link, entry, nil
	}
	fail := func(err error) (cazbling.ProductLink, cazbling.LogEntry, error) {
		entry.CazcoID = link.CazcoID
		return link, entry, err
	}
	if it.linked && link.CazcoID != "" && link.Hash == hash {
		return done(cazbling.ActionUnchanged, "already up to date in CaZco")
	}
	if j.Opts.DryRun {
		return done(cazbling.ActionWouldWrite, "dry run: would create or update in CaZco")
	}
	// By the linked id first; a 404 means the id is stale: re-resolve by SKU, asking
	// CaZco (the store's index may hold the same stale id).
	find := wk.findInMarket
	if link.CazcoID != "" {
		err := j.Market.UpdateProduct(ctx, link.CazcoID, p)
		if err == nil {
			return done(cazbling.ActionUpdated, "updated in CaZco")
		}
		if cazbling.KindOf(err) != cazbling.KindNotFound {
			return fail(fmt.Errorf("update CaZco product %s: %w", link.CazcoID, err))
		}
		link.CazcoID = ""
		find = j.Market.ProductBySKU
	}
	existing, found, err := find(ctx, p.SKU)
	if err != nil {
		return fail(fmt.Errorf("look up SKU in CaZco: %w", err))
	}
	if !found {
		id, err := j.Market.CreateProduct(ctx, p)
		if err == nil {
			link.CazcoID = id
			return done(cazbling.ActionCreated, "created in CaZco")
		}
		var ae *cazbling.APIError
		if !errors.As(err, &ae) || ae.Kind != cazbling.KindConflict {
			return fail(fmt.Errorf("create in CaZco: %w", err))
		}
		existing.ID = ae.ExistingID
		if existing.ID == "" {
			if existing, found, err = j.Market.ProductBySKU(ctx, p.SKU); err != nil || !found {
				return fail(fmt.Errorf("CaZco says SKU %s exists but does not find it: %w", p.SKU, errors.Join(err, ae)))
			}
		}
	}
	link.CazcoID = existing.ID
	if err := j.Market.UpdateProduct(ctx, existing.ID, p); err != nil {
		if cazbling.KindOf(err) == cazbling.KindNotFound && found && wk.market[p.SKU] == existing.ID {
			// Deleted in CaZco since the store was listed: the index forgets it, and
			// the product is created again.
			delete(wk.market, p.SKU)
			return wk.upsert(ctx, it)
		}
		return fail(fmt.Errorf("update CaZco product %s: %w", existing.ID, err))
	}
	return done(cazbling.ActionUpdated, "updated in CaZco (it was there already)")
}

func keyOf(sku string, blingID int64) string {
	if strings.TrimSpace(sku) != "" {
		return sku
	}
	return "bling:" + strconv.FormatInt(blingID, 10)
}

func idString(id int64) string {
	if id == 0 {
		return ""
	}
	return strconv.FormatInt(id, 10)
}
