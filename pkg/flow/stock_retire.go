package flow

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/cazbling/cazbling/pkg/cazbling"
)

// ActionRetired marks a product deleted in Bling that was taken off sale in CaZco.
const ActionRetired = "retired"

// confirmGone looks at the linked products Bling gave no balance for in any stock
// class. A missing balance proves nothing (a product may have no stock record), so
// each is read (GET /produtos/{id}): one Bling does not find (404), or finds deleted
// (situacao E), is retired: made inactive with stock 0 in CaZco, and its link keeps
// the CaZco id but loses the Bling id and hashes, so the stock sweep leaves it and a
// product with the same SKU that appears in Bling again (restored or recreated) is
// linked again and sent whole (status active, its stock) by the products flow. One
// that exists keeps the old warning. Its error is one that stops the tenant.
func (s *stockSweep) confirmGone(ctx context.Context, links []cazbling.ProductLink, b *cazbling.Batch) error {
	j := s.j
	for _, l := range links {
		p, err := j.ERP.Product(ctx, l.BlingID)
		switch {
		case err == nil && !strings.EqualFold(p.Status, "E"):
			b.Logs = append(b.Logs, stockEntry(l, cazbling.ActionSkipped, cazbling.StatusWarning,
				fmt.Sprintf("Bling returned no balance for product %d (SKU %s), which still exists in Bling (situacao %s); CaZco stock left as it is", l.BlingID, l.SKU, p.Status)))
			continue
		case err == nil, cazbling.KindOf(err) == cazbling.KindNotFound:
			// deleted: retired below
		case stopsTenant(ctx, err):
			return fmt.Errorf("read Bling product %d: %w", l.BlingID, err)
		default:
			b.Logs = append(b.Logs, stockEntry(l, ActionRetryLater, cazbling.StatusError,
				fmt.Sprintf("Bling returned no balance for product %d (SKU %s) and the product could not be read to see whether it was deleted (%v); checked again on the next run", l.BlingID, l.SKU, err)))
			continue
		}
		if err := s.retire(ctx, l, b); err != nil {
			return err
		}
	}
	return nil
}

// retire takes a product deleted in Bling off sale in CaZco and retires its link.
func (s *stockSweep) retire(ctx context.Context, l cazbling.ProductLink, b *cazbling.Batch) error {
	j := s.j
	if j.Opts.DryRun {
		b.Logs = append(b.Logs, stockEntry(l, cazbling.ActionWouldWrite, cazbling.StatusOK,
			fmt.Sprintf("dry run: product %d (SKU %s) was deleted in Bling; would make it inactive with stock 0 in CaZco", l.BlingID, l.SKU)))
		return nil
	}
	err := j.Market.SetProductStatus(ctx, l.CazcoID, "inactive")
	if err == nil {
		err = j.Market.SetStock(ctx, l.CazcoID, 0)
	}
	switch {
	case err == nil, cazbling.KindOf(err) == cazbling.KindNotFound:
		// Off sale (or no longer in CaZco at all).
	case stopsTenant(ctx, err):
		return fmt.Errorf("take SKU %s off sale in CaZco: %w", l.SKU, err)
	default:
		b.Logs = append(b.Logs, stockEntry(l, ActionRetryLater, cazbling.StatusError,
			fmt.Sprintf("product %d (SKU %s) was deleted in Bling but could not be taken off sale in CaZco now (%v); tried again on the next run", l.BlingID, l.SKU, err)))
		return nil
	}
	retired := l
	retired.BlingID, retired.Hash, retired.SummaryHash, retired.Inactive = 0, "", "", true
	retired.SeenAt = time.Time{}
	b.ProductLinks = append(b.ProductLinks, retired)
	stock := l
	stock.StockSent, stock.StockKnown = 0, true
	b.StockLevels = append(b.StockLevels, stock)
	row := stockEntry(l, ActionRetired, cazbling.StatusWarning,
		fmt.Sprintf("product %d (SKU %s) was deleted in Bling (GET /produtos/%d: not found or deleted); made inactive with stock 0 in CaZco (product %s) and its link retired; restored or recreated in Bling, it comes back on the next sync",
			l.BlingID, l.SKU, l.BlingID, l.CazcoID))
	row.Entity = cazbling.EntityProduct // product.retired
	b.Logs = append(b.Logs, row)
	return nil
}
