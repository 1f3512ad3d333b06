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
			})
		}
		j.Logger().Info("no products cursor yet: walking the whole catalogue")
	}
	return syncFull(ctx, j)
}

// fullProgress is the checkpoint of an unfinished full sync.
type fullProgress struct {
	Started  time.Time `json:"started"`
	NextPage int       `json:"next_page"`
}

// syncFull walks every Bling product page by page, checkpointing after each page, and
// at the end sets the incremental cursors to the walk's start.
func syncFull(ctx context.Context, j *Job) error {
	prog := fullProgress{Started: j.Now(), NextPage: 1}
	if v, ok, err := j.Store().Cursor(ctx, j.Tenant.ID, cazbling.StreamFullSync); err != nil {
		return fmt.Errorf("read full sync progress: %w", err)
	} else if ok && v != "" {
		var p fullProgress
		if json.Unmarshal([]byte(v), &p) == nil && p.NextPage > 1 && !p.Started.IsZero() {
			prog = p
			j.Logger().Info("resuming an interrupted full sync", "page", p.NextPage)
		}
	}
	checkpoint := func(p fullProgress) cazbling.Cursor {
		b, _ := json.Marshal(p)
		return cazbling.Cursor{TenantID: j.Tenant.ID, Stream: cazbling.StreamFullSync, Value: string(b)}
	}
	q := cazbling.ProductQuery{Criterion: 5} // all products, active and inactive
	pages := func(ctx context.Context, page int) ([]cazbling.ERPProductSummary, bool, error) {
		return j.ERP.ProductsPage(ctx, q, page)
	}
	done := func(page int, more bool) []cazbling.Cursor {
		if more {
			return []cazbling.Cursor{checkpoint(fullProgress{Started: prog.Started, NextPage: page + 1})}
		}
		return []cazbling.Cursor{
			{TenantID: j.Tenant.ID, Stream: cazbling.StreamFullSync, Value: ""},
			TimeCursor(j.Tenant.ID, cazbling.StreamProductsCreated, prog.Started),
			TimeCursor(j.Tenant.ID, cazbling.StreamProductsChanged, prog.Started),
		}
	}
	return newWalker(j).walk(ctx, prog.NextPage, pages, done)
}

// syncWindow walks the products in a time window of a stream (inclusion or alteration
// date), in pieces of at most a year, and moves the stream's cursor at the end.
//
// The overlap with the previous run, [From, Prev), is walked on its own: a product
// listed there that a run since Prev already listed, unchanged in the list, and knew
// current in CaZco needs no detail read (SYNC.md's overlap re-reads what a late index
// or a skewed clock hid, not what was already handled).
func syncWindow(ctx context.Context, j *Job, w Window, filter func(q *cazbling.ProductQuery, from, to time.Time)) error {
	start := w.From
	var pieces [][2]time.Time
	var trusted int // pieces[:trusted] are the overlap
	if w.Found && w.From.Before(w.Prev) && w.Prev.Before(w.To) {
		pieces = append(pieces, [2]time.Time{w.From, w.Prev})
		trusted, start = 1, w.Prev
	}
	pieces = append(pieces, SplitYears(start, w.To)...)
	wk := newWalker(j)
	for i, piece := range pieces {
		q := cazbling.ProductQuery{Criterion: 5}
		filter(&q, piece[0], piece[1])
		last := i == len(pieces)-1
		wk.trustSince = time.Time{}
		if i < trusted {
			wk.trustSince = w.Prev
		}
		pages := func(ctx context.Context, page int) ([]cazbling.ERPProductSummary, bool, error) {
			return j.ERP.ProductsPage(ctx, q, page)
		}
		done := func(page int, more bool) []cazbling.Cursor {
			if more {
				return nil
			}
			// A piece ends: the cursor may move to its end. The last piece's end is
			// the window's end.
			end := piece[1]
			if last {
				end = w.To
			}
			return []cazbling.Cursor{TimeCursor(j.Tenant.ID, w.Stream, end)}
		}
		if err := wk.walk(ctx, 1, pages, done); err != nil {
			return err
		}
		if wk.stopped {
			return nil
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
	skipMsg string // not sent on purpose: a skipped row
	retry   error  // Bling could not be read now: left for a later run
}

// page is one listing page, read and mapped, waiting for its CaZco writes.
type page struct {
	number  int
	more    bool
	items   []item
	cursors []cazbling.Cursor
	err     error // the listing itself failed
}

// walker reads Bling pages and product details in one goroutine while another writes
// to CaZco and commits, so the two APIs' rate limits are spent at the same time.
type walker struct {
	j       *Job
	claimed map[string]int64 // SKU → Bling id, this run
	handled map[int64]bool   // Bling ids read this run: a product listed twice (window pieces share their edge second) is read once
	stopped bool             // the walk stopped early and left work for a later run
	done    int
	// trustSince, when set, lets a product skip its detail read if a run that started
	// at or after it listed the product with the same list entry and knew it current.
	trustSince time.Time
}

func newWalker(j *Job) *walker {
	return &walker{j: j, claimed: map[string]int64{}, handled: map[int64]bool{}}
}

// walk reads pages from start until a page says there are no more, writes each page's
// products, and commits each page with the cursors done(page, more) returns. It stops
// at the first page with an item left for retry, committing what it did but no cursor.
func (wk *walker) walk(ctx context.Context, start int,
	pages func(ctx context.Context, page int) ([]cazbling.ERPProductSummary, bool, error),
	done func(page int, more bool) []cazbling.Cursor) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ch := make(chan page, 1)
	go func() {
		defer close(ch)
		for n := start; ; n++ {
			summaries, more, err := pages(ctx, n)
			if err != nil {
				ch <- page{number: n, err: fmt.Errorf("list Bling products, page %d: %w", n, err)}
				return
			}
			items, err := wk.read(ctx, summaries)
			if err != nil {
				ch <- page{number: n, err: err}
				return
			}
			p := page{number: n, more: more, items: items, cursors: done(n, more)}
			select {
			case ch <- p:
			case <-ctx.Done():
				return
			}
			if !more {
				return
			}
		}
	}()
	for p := range ch {
		if p.err != nil {
			return p.err
		}
		b, retry, werr := wk.write(ctx, p.items)
		if retry == 0 && werr == nil {
			b.Cursors = p.cursors
		}
		if err := wk.j.Commit(ctx, b); err != nil {
			return err
		}
		if werr != nil {
			return werr
		}
		wk.done += len(p.items)
		wk.j.Progress(wk.done, 0)
		if retry > 0 {
			wk.stopped = true
			wk.j.Logger().Warn("stopping the walk: some products could not be read or written now; the next run picks up from here", "page", p.number, "left", retry)
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	return ctx.Err()
}

// read turns a page of summaries into items: full product read, mapped, SKUs
// claimed, and links found. Its error is one that stops the tenant.
func (wk *walker) read(ctx context.Context, summaries []cazbling.ERPProductSummary) ([]item, error) {
	seen, err := wk.seenCurrent(ctx, summaries)
	if err != nil {
		return nil, err
	}
	var items []item
	for _, s := range summaries {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if s.ParentID != 0 {
			continue // a variation: synced through its parent
		}
		if wk.handled[s.ID] {
			continue
		}
		wk.handled[s.ID] = true
		if IsService(s) {
			items = append(items, item{key: keyOf(s.SKU, s.ID), blingID: s.ID,
				skipMsg: "a service (tipo S) is not sold on CaZco; not sent"})
			continue
		}
		if strings.TrimSpace(s.SKU) == "" {
			items = append(items, item{key: keyOf("", s.ID), blingID: s.ID,
				errMsg: fmt.Sprintf("Bling product %d %q has no SKU (código); give it one in Bling and it is synced on the next run", s.ID, s.Name)})
			continue
		}
		if l, ok := seen[s.ID]; ok {
			items = append(items, item{key: s.SKU, blingID: s.ID, summary: l.SummaryHash, current: true, link: l, linked: true})
			continue
		}
		full, err := wk.j.ERP.Product(ctx, s.ID)
		if tenantLevel(err) {
			return nil, fmt.Errorf("read Bling product %d: %w", s.ID, err)
		}
		if err != nil {
			it := item{key: keyOf(s.SKU, s.ID), blingID: s.ID}
			if retryable(err) {
				it.retry = fmt.Errorf("read Bling product %d: %w", s.ID, err)
			} else {
				it.errMsg = fmt.Sprintf("could not read Bling product %d (SKU %s): %v", s.ID, s.SKU, err)
			}
			items = append(items, it)
			continue
		}
		for _, m := range MapProduct(full) {
			it := item{key: keyOf(m.Product.SKU, m.BlingID), blingID: m.BlingID, mapped: m, errMsg: m.Err}
			if m.BlingID == s.ID {
				it.summary = SummaryHash(s)
			}
			items = append(items, it)
		}
	}
	if err := wk.linkAndClaim(ctx, items); err != nil {
		return nil, err
	}
	return items, nil
}

// seenCurrent returns, by Bling id, the links of the simple products of a page that
// need no detail read: in the overlap (trustSince set), listed by a run that started at
// or after trustSince with the same list entry, and current in CaZco then.
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
		if ok && l.BlingID == s.ID && l.CazcoID != "" && l.Hash != "" && !l.SeenAt.Before(wk.trustSince) &&
			l.SummaryHash != "" && l.SummaryHash == SummaryHash(s) && wk.claimed[s.SKU] == 0 {
			out[s.ID] = l
		}
	}
	return out, nil
}

// linkAndClaim finds the links of the items' SKUs and refuses SKUs that Bling has on
// more than one product: none of them is sent, each gets an error row, until the seller
// gives each its own SKU. One Bling look-up by SKU per page finds them, whatever order
// the catalogue is walked in. Its error is one that stops the tenant.
func (wk *walker) linkAndClaim(ctx context.Context, items []item) error {
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
	found, err := wk.j.ERP.ProductsBySKU(ctx, skus)
	if err != nil {
		if tenantLevel(err) {
			return fmt.Errorf("look up SKUs in Bling: %w", err)
		}
		markRetry(fmt.Errorf("look up SKUs in Bling: %w", err))
		return nil
	}
	owners := map[string][]int64{}
	for _, p := range found {
		if !slices.Contains(owners[p.SKU], p.ID) {
			owners[p.SKU] = append(owners[p.SKU], p.ID)
		}
	}
	links, err := wk.j.Store().ProductLinksBySKU(ctx, wk.j.Tenant.ID, skus)
	if err != nil {
		markRetry(fmt.Errorf("read product links: %w", err))
		return nil
	}
	for i := range items {
		it := &items[i]
		if !it.sendable() {
			continue
		}
		sku := it.mapped.Product.SKU
		ids := owners[sku]
		if !slices.Contains(ids, it.blingID) {
			ids = append(ids, it.blingID)
		}
		if owner, ok := wk.claimed[sku]; ok && !slices.Contains(ids, owner) {
			ids = append(ids, owner)
		}
		if len(ids) > 1 {
			it.errMsg = duplicateMessage(sku, ids)
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
// how many were left for a later run, and an error that stops the tenant (the batch
// still records what was done before it).
func (wk *walker) write(ctx context.Context, items []item) (cazbling.Batch, int, error) {
	var b cazbling.Batch
	retry := 0
	if err := wk.forgetHashes(ctx, items); err != nil {
		return b, retry, err
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
		case it.retry != nil:
			retry++
			entry.Action, entry.Status = ActionRetryLater, cazbling.StatusError
			entry.Message = fmt.Sprintf("Bling or CaZco did not answer well enough now (%v); left for the next run", it.retry)
		default:
			link, e, err := wk.upsert(ctx, it)
			entry = e
			if err != nil {
				if ctx.Err() != nil || tenantLevel(err) {
					return b, retry, err
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
			}
		}
		b.Logs = append(b.Logs, entry)
	}
	return b, retry, nil
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
		link.Hash, link.SeenAt, link.SummaryHash = hash, j.Started, it.summary
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
	// By the linked id first; a 404 means the id is stale: re-resolve by SKU.
	if link.CazcoID != "" {
		err := j.Market.UpdateProduct(ctx, link.CazcoID, p)
		if err == nil {
			return done(cazbling.ActionUpdated, "updated in CaZco")
		}
		if cazbling.KindOf(err) != cazbling.KindNotFound {
			return fail(fmt.Errorf("update CaZco product %s: %w", link.CazcoID, err))
		}
		link.CazcoID = ""
	}
	existing, found, err := j.Market.ProductBySKU(ctx, p.SKU)
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
		return fail(fmt.Errorf("update CaZco product %s: %w", existing.ID, err))
	}
	return done(cazbling.ActionUpdated, "updated in CaZco (it was there already)")
}

// retryable reports whether an error is a passing fault worth trying on a later run,
// rather than a refusal that needs someone to fix the data.
func retryable(err error) bool {
	if cazbling.IsRetryable(err) || errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	switch cazbling.KindOf(err) {
	case cazbling.KindMalformed:
		return true
	}
	return false
}

// tenantLevel reports whether an error stops the whole tenant rather than one item:
// credentials refused, re-authorization needed, daily quota used up.
func tenantLevel(err error) bool {
	switch cazbling.KindOf(err) {
	case cazbling.KindUnauthorized, cazbling.KindForbidden, cazbling.KindInvalidGrant, cazbling.KindDailyQuota:
		return true
	}
	return false
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
