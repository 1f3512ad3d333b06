package flow

import (
	"context"
	"fmt"

	"github.com/cazbling/cazbling/pkg/cazbling"
)

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
