package flow

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/cazbling/cazbling/pkg/cazbling"
)

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
//
// An interrupted walk is resumed by listing again from the first page of the first
// class, not from its checkpoint: between two runs a product can change class (its
// balance changed sign) into one already walked, or move to an earlier page of its
// class when others leave it, and a walk resumed at a page number would never see it,
// nor would any window (a stock change does not move its alteration date). A product
// the walk already handled since it began (its link was written or seen since, with
// the same list entry) needs no detail read: any change it had since then is read by
// the next window, which starts at the walk's start. So a resume costs the list pages
// again, not the detail reads.
func syncFull(ctx context.Context, j *Job) error {
	prog := fullProgress{Started: j.Now(), Version: progressVersion, NextPage: 1}
	resumed := false
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
			prog.Started, resumed = p.Started, true
			j.Logger().Info("resuming an interrupted full sync: listing again from the start, reading only what it has not handled yet",
				"stopped_at_stock", classes[p.Class], "page", p.NextPage)
		}
	}
	checkpoint := func(class, page int) cazbling.Cursor {
		b, _ := json.Marshal(fullProgress{Started: prog.Started, Version: progressVersion, Class: class, NextPage: page})
		return cazbling.Cursor{TenantID: j.Tenant.ID, Stream: cazbling.StreamFullSync, Value: string(b)}
	}
	wk := newWalker(j)
	wk.askAll = true // a full walk checks every SKU with Bling
	if resumed {
		wk.trustSince, wk.resumed = prog.Started, true
	}
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
