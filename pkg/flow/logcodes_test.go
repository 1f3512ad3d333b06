package flow

import (
	"testing"

	"github.com/cazbling/cazbling/pkg/cazbling"
)

func TestFillCode(t *testing.T) {
	for _, tc := range []struct {
		in       cazbling.LogEntry
		code     string
		paramKey string
		param    string
	}{
		{cazbling.LogEntry{Entity: "product", Action: "created", Key: "A-1"}, "product.created", "", ""},
		{cazbling.LogEntry{Entity: "product", Action: "failed", Key: "bling:77"}, CodeProductNoSKU, "bling_id", "77"},
		{cazbling.LogEntry{Entity: "order", Action: "failed", Key: "o-1", Params: cazbling.Params("number", "9")}, "order.failed", "number", "9"},
		{cazbling.LogEntry{Entity: "stock", Action: "stock_set", Code: CodeStockSet, Params: cazbling.Params("qty", "3")}, CodeStockSet, "qty", "3"},
		{cazbling.LogEntry{}, "", "", ""},
	} {
		e := tc.in
		fillCode(&e)
		if e.Code != tc.code || (tc.paramKey != "" && e.Params.Get(tc.paramKey) != tc.param) {
			t.Errorf("fillCode(%+v) = %q %q", tc.in, e.Code, e.Params)
		}
	}
	code, p := splitCode(CodeProductDuplicateSKU + "?" + string(cazbling.Params("ids", "1, 2")))
	if code != CodeProductDuplicateSKU || p.Get("ids") != "1, 2" {
		t.Errorf("splitCode: %q %q", code, p)
	}
	ps := pendingStock{link: cazbling.ProductLink{StockKnown: true, StockSent: 4}, qty: 0, note: "negative"}.params()
	if ps.Get("qty") != "0" || ps.Get("was") != "4" || ps.Get("negative") != "1" {
		t.Errorf("stock params: %q", ps)
	}
}
