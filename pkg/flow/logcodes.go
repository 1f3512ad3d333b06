package flow

import (
	"strconv"
	"strings"

	"github.com/cazbling/cazbling/pkg/cazbling"
)

// Log row codes: what a row says, as a name with parameters (LogEntry.Code, Params),
// so that the panel can say it in Portuguese while the CLI prints Message. A row whose
// construction site gives no code gets "<entity>.<action>" (e.g. product.created,
// order.failed) from Commit; the codes below are the ones with parameters of their own.
const (
	CodeProductNoSKU        = "product.no_sku"        // bling_id
	CodeProductDuplicateSKU = "product.duplicate_sku" // ids: the Bling product ids
	CodeStockSet            = "stock.stock_set"       // qty; was, when known; negative=1 when sent as 0
)

// withCode returns e with its code and parameters set.
func withCode(e cazbling.LogEntry, code string, params cazbling.LogParams) cazbling.LogEntry {
	e.Code, e.Params = code, params
	return e
}

// fillCode gives a row without a code the one its entity and action name, with the
// parameters every row can carry.
func fillCode(e *cazbling.LogEntry) {
	if e.Code != "" {
		return
	}
	switch {
	case e.Entity == cazbling.EntityProduct && e.Action == cazbling.ActionFailed && strings.HasPrefix(e.Key, "bling:"):
		// Only a product without a SKU is keyed by its Bling id (keyOf).
		e.Code = CodeProductNoSKU
		e.Params = e.Params.With("bling_id", strings.TrimPrefix(e.Key, "bling:"))
	case e.Entity != "" && e.Action != "":
		e.Code = e.Entity + "." + e.Action
	}
}

// params are the parameters of a stock row.
func (p pendingStock) params() cazbling.LogParams {
	pp := cazbling.Params("qty", strconv.FormatInt(p.qty, 10))
	if p.link.StockKnown {
		pp = pp.With("was", strconv.FormatInt(p.link.StockSent, 10))
	}
	if p.note != "" {
		pp = pp.With("negative", "1")
	}
	return pp
}

// orderParams are the parameters of an order row: the number people see.
func orderParams(t *orderTask) cazbling.LogParams {
	n := t.order.Number
	if n == "" {
		n = t.link.Number
	}
	if n == "" {
		return ""
	}
	return cazbling.Params("number", n)
}

// splitCode splits an item's "code?params" into a row's code and parameters.
func splitCode(s string) (string, cazbling.LogParams) {
	code, params, _ := strings.Cut(s, "?")
	return code, cazbling.LogParams(params)
}
