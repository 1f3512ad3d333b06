package cazcosim

import (
	"encoding/json"
	"fmt"
	"net/http"
)

const maxBatchItems = 100

func (s *Sim) setProductStock(st *store, r *http.Request, id string, body []byte) response {
	p, found := st.products[id]
	if !found {
		return notFound()
	}
	obj, bad := decodeObject(r, body)
	if bad != nil {
		return *bad
	}
	next := Stock{Quantity: p.Stock.Quantity, WarehouseCode: "default"}
	errs := fieldErrors{}
	decodeStockMembers(&next, obj, "", true, errs)
	if len(errs) > 0 {
		return validationFailed(errs)
	}
	s.setStock(p, next.Quantity, next.WarehouseCode)
	return ok(http.StatusOK, envelope{Data: StockLevel{
		ProductID:     p.ID,
		SKU:           p.SKU,
		Quantity:      p.Stock.Quantity,
		WarehouseCode: p.Stock.WarehouseCode,
		UpdatedAt:     p.Stock.UpdatedAt,
	}})
}

// setStock sets an absolute level; the stock's updated_at moves only when it changes.
// The product's own updated_at is left alone: stock has its own timestamp.
func (s *Sim) setStock(p *Product, quantity int64, warehouse string) {
	if p.Stock.Quantity == quantity && p.Stock.WarehouseCode == warehouse {
		return
	}
	p.Stock = Stock{Quantity: quantity, WarehouseCode: warehouse, UpdatedAt: s.stamp()}
}

// setStockBatch follows the yaml: a body that breaks the schema (no items, more than
// 100, a negative or non-integer quantity, a missing SKU) is refused whole with 422 and
// nothing is applied; otherwise every item gets updated, not_found, or invalid when its
// SKU already appeared earlier in the batch.
func (s *Sim) setStockBatch(st *store, r *http.Request, body []byte) response {
	if s.noBatchStock {
		return notFound()
	}
	obj, bad := decodeObject(r, body)
	if bad != nil {
		return *bad
	}
	errs := fieldErrors{}
	raw, present := obj["items"]
	var rawItems []json.RawMessage
	switch {
	case !present:
		errs.add("items", msgRequired)
	case isNull(raw) || json.Unmarshal(raw, &rawItems) != nil:
		errs.add("items", "must be an array")
	case len(rawItems) == 0:
		errs.add("items", "must have at least 1 item")
	case len(rawItems) > maxBatchItems:
		errs.add("items", fmt.Sprintf("must not have more than %d items", maxBatchItems))
	}
	if len(errs) > 0 {
		return validationFailed(errs)
	}
	type item struct {
		sku      string
		quantity int64
	}
	items := make([]item, len(rawItems))
	for i, rawItem := range rawItems {
		prefix := fmt.Sprintf("items.%d.", i)
		var member map[string]json.RawMessage
		if isNull(rawItem) || json.Unmarshal(rawItem, &member) != nil {
			errs.add(fmt.Sprintf("items.%d", i), "must be an object")
			continue
		}
		if rawSKU, has := member["sku"]; !has {
			errs.add(prefix+"sku", msgRequired)
		} else if sku, isString := decodeString(rawSKU); !isString {
			errs.add(prefix+"sku", msgString)
		} else if sku == "" {
			errs.add(prefix+"sku", msgBlank)
		} else {
			items[i].sku = sku
		}
		if rawQuantity, has := member["quantity"]; !has {
			errs.add(prefix+"quantity", msgRequired)
		} else if n, isInt := decodeInteger(rawQuantity); !isInt || n < 0 {
			errs.add(prefix+"quantity", msgQuantity)
		} else {
			items[i].quantity = n
		}
	}
	if len(errs) > 0 {
		return validationFailed(errs)
	}
	results := make([]StockResult, len(items))
	seen := map[string]bool{}
	for i, it := range items {
		results[i].SKU = it.sku
		id, exists := st.productBySKU[it.sku]
		switch {
		case seen[it.sku]:
			results[i].Status = "invalid"
			results[i].Message = "SKU repeated in this batch; only the first item was applied."
		case !exists:
			results[i].Status = "not_found"
			results[i].Message = "No product with this SKU."
		default:
			s.setStock(st.products[id], it.quantity, "default")
			results[i].Status = "updated"
		}
		seen[it.sku] = true
	}
	return ok(http.StatusOK, envelope{Data: results})
}
