package flow

import (
	"context"
	"errors"
	"fmt"

	"github.com/cazbling/cazbling/pkg/cazbling"
)

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
