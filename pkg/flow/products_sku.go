package flow

import (
	"context"
	"fmt"
	"slices"

	"github.com/cazbling/cazbling/pkg/cazbling"
)

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
	return fmt.Sprintf("SKU %s is used by %d Bling products (%s); none of them is sent until each has its own SKU (código) in Bling", sku, len(ids), joinIDs(ids))
}
