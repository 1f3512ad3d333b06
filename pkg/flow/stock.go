package flow

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/cazbling/cazbling/pkg/cazbling"
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
