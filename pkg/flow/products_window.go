package flow

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/cazbling/cazbling/pkg/cazbling"
)

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

// seenCurrent returns, by Bling id, the links of the simple products of a page that
// need no detail read: listed by a run that started at or after trustSince with the
// same list entry, current in CaZco then, and not changed since trustSince. It also
// returns every link it read, by SKU (none when nothing can be trusted).
func (wk *walker) seenCurrent(ctx context.Context, summaries []cazbling.ERPProductSummary) (map[int64]cazbling.ProductLink, map[string]cazbling.ProductLink, error) {
	if wk.trustSince.IsZero() || wk.j.Opts.Full && !wk.resumed {
		return nil, nil, nil
	}
	var skus []string
	for _, s := range summaries {
		if s.ParentID == 0 && !IsService(s) && s.Format != "V" && strings.TrimSpace(s.SKU) != "" {
			skus = append(skus, s.SKU)
		}
	}
	if len(skus) == 0 {
		return nil, nil, nil
	}
	links, err := wk.j.Store().ProductLinksBySKU(ctx, wk.j.Tenant.ID, skus)
	if err != nil {
		return nil, nil, fmt.Errorf("read product links: %w", err)
	}
	out := map[int64]cazbling.ProductLink{}
	for _, s := range summaries {
		l, ok := links[s.SKU]
		if ok && l.BlingID == s.ID && l.CazcoID != "" && l.Hash != "" && !l.SeenAt.Before(wk.trustSince) && !l.SKUShared &&
			l.SummaryHash != "" && l.SummaryHash == SummaryHash(s) && wk.claimed[s.SKU] == 0 && len(wk.shared[s.SKU]) == 0 {
			out[s.ID] = l
		}
	}
	if wk.resumed {
		return out, links, nil
	}
	out, err = wk.unchangedSince(ctx, out)
	return out, links, err
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
