package cazcosim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

var (
	moneyPattern   = regexp.MustCompile(`^-?\d+\.\d{2}$`)
	gtinPattern    = regexp.MustCompile(`^(\d{8}|\d{12}|\d{13}|\d{14})$`)
	ncmPattern     = regexp.MustCompile(`^\d{4}\.?\d{2}\.?\d{2}$`)
	decimalPattern = regexp.MustCompile(`^\d+(\.\d+)?$`)
)

const (
	msgString   = "must be a string"
	msgRequired = "is required"
	msgBlank    = "must not be empty"
	msgMoney    = `must be a decimal string with two decimals, such as "129.90"`
	msgNegative = "must be greater than or equal to 0"
	msgDateTime = "must be an RFC 3339 date-time, such as 2025-03-10T14:22:05Z"
	msgGTIN     = "must have 8, 12, 13 or 14 digits"
	msgNCM      = "must be an NCM code such as 6109.10.00"
	msgDecimal  = `must be a non-negative decimal string, such as "0.350"`
	msgQuantity = "must be an integer greater than or equal to 0"
	msgTaken    = "has already been taken"
	msgName     = "must not be longer than 255 characters"
)

// idLess orders opaque ids: numeric ids of the sim sort numerically, any others
// consistently.
func idLess(a, b string) bool {
	if len(a) != len(b) {
		return len(a) < len(b)
	}
	return a < b
}

func idCompare(a, b string) int {
	switch {
	case a == b:
		return 0
	case idLess(a, b):
		return -1
	}
	return 1
}

// ------------------------------------------------------------------ HTTP handlers

func (s *Sim) listProducts(st *store, r *http.Request) response {
	q := r.URL.Query()
	errs := fieldErrors{}
	page, perPage := parsePaging(q, errs)
	since := parseTimeParam(q, "updated_since", errs)
	if q.Has("sku") && q.Get("sku") == "" {
		errs.add("sku", msgBlank)
	}
	if len(errs) > 0 {
		return validationFailed(errs)
	}
	candidates := st.products
	if q.Has("sku") {
		// SKUs are unique in a store: the index holds the one product, if any.
		candidates = map[string]*Product{}
		if p := st.products[st.productBySKU[q.Get("sku")]]; p != nil {
			candidates[p.ID] = p
		}
	}
	status, hasStatus := q.Get("status"), q.Has("status")
	var matched []*Product
	for _, p := range candidates {
		if hasStatus && p.Status != status {
			continue
		}
		if !since.IsZero() && p.UpdatedAt.Before(since) {
			continue
		}
		matched = append(matched, p)
	}
	slices.SortFunc(matched, func(a, b *Product) int { return idCompare(a.ID, b.ID) })
	return listResponse(r, matched, page, perPage)
}

func (s *Sim) getProduct(st *store, id string) response {
	p, found := st.products[id]
	if !found {
		return notFound()
	}
	return ok(http.StatusOK, envelope{Data: p})
}

func (s *Sim) createProduct(st *store, r *http.Request, body []byte) response {
	obj, bad := decodeObject(r, body)
	if bad != nil {
		return *bad
	}
	errs := fieldErrors{}
	if key := r.Header.Get("Idempotency-Key"); utf8.RuneCountInString(key) > 255 {
		errs.add("Idempotency-Key", "must not be longer than 255 characters")
	}
	now := s.stamp()
	p := Product{
		Status:     "active",
		Stock:      Stock{WarehouseCode: "default", UpdatedAt: now},
		Images:     []string{},
		Attributes: map[string]string{},
		CreatedAt:  now,
		UpdatedAt:  now,
	}
	applyProductFields(&p, obj, errs)
	for _, field := range []string{"sku", "name", "price"} {
		if _, present := obj[field]; !present {
			errs.add(field, msgRequired)
		}
	}
	if raw, present := obj["stock"]; present {
		applyStockInput(&p.Stock, raw, "stock.", errs)
	}
	existingID := ""
	if _, skuBad := errs["sku"]; !skuBad && p.SKU != "" {
		existingID = st.productBySKU[p.SKU]
	}
	if len(errs) > 0 {
		if existingID != "" {
			errs.add("sku", msgTaken)
		}
		return validationFailed(errs)
	}
	if existingID != "" {
		resp := errorResponse(http.StatusConflict, "conflict", "A product with this SKU already exists.",
			fieldErrors{"sku": {msgTaken}})
		resp.body.(*ErrorBody).ExistingID = existingID
		return resp
	}
	p.ID = s.newProductID(st)
	st.products[p.ID] = &p
	st.productBySKU[p.SKU] = p.ID
	return ok(http.StatusCreated, envelope{Data: &p})
}

func (s *Sim) updateProduct(st *store, r *http.Request, id string, body []byte) response {
	current, found := st.products[id]
	if !found {
		return notFound()
	}
	obj, bad := decodeObject(r, body)
	if bad != nil {
		return *bad
	}
	// A stock member is ignored here, as the contract says: applyProductFields skips it.
	next := cloneJSON(*current)
	errs := fieldErrors{}
	applyProductFields(&next, obj, errs)
	if _, skuBad := errs["sku"]; !skuBad && next.SKU != current.SKU {
		if other, taken := st.productBySKU[next.SKU]; taken && other != id {
			errs.add("sku", msgTaken)
		}
	}
	if len(errs) > 0 {
		return validationFailed(errs)
	}
	if !sameJSON(*current, next) {
		next.UpdatedAt = s.stamp()
		if next.SKU != current.SKU {
			delete(st.productBySKU, current.SKU)
			st.productBySKU[next.SKU] = id
		}
		*current = next
	}
	return ok(http.StatusOK, envelope{Data: current})
}

// envelope is the {"data": ...} answer of single resources.
type envelope struct {
	Data any `json:"data"`
}

// ------------------------------------------------------------------ field decoding

// applyProductFields decodes the catalogue members of a POST or PUT body onto p.
// Unknown and read-only members are ignored; stock is handled by the caller.
func applyProductFields(p *Product, obj map[string]json.RawMessage, errs fieldErrors) {
	for field, raw := range obj {
		switch field {
		case "sku":
			if v, isString := decodeString(raw); !isString {
				errs.add(field, msgString)
			} else if strings.TrimSpace(v) == "" {
				errs.add(field, msgBlank)
			} else {
				p.SKU = v
			}
		case "name":
			if v, isString := decodeString(raw); !isString {
				errs.add(field, msgString)
			} else if strings.TrimSpace(v) == "" {
				errs.add(field, msgBlank)
			} else if utf8.RuneCountInString(v) > 255 {
				errs.add(field, msgName)
			} else {
				p.Name = v
			}
		case "status":
			if v, isString := decodeString(raw); !isString {
				errs.add(field, msgString)
			} else if v == "" {
				errs.add(field, msgBlank)
			} else {
				p.Status = v
			}
		case "price":
			if v, isString := decodeString(raw); !isString || !moneyPattern.MatchString(v) {
				errs.add(field, msgMoney)
			} else if isNegativeMoney(v) {
				errs.add(field, msgNegative)
			} else {
				p.Price = v
			}
		case "promotional_price":
			decodeNullable(field, raw, errs, &p.PromotionalPrice, func(v string) string {
				if !moneyPattern.MatchString(v) {
					return msgMoney
				}
				if isNegativeMoney(v) {
					return msgNegative
				}
				return ""
			})
		case "promotional_price_from":
			decodeNullableTime(field, raw, errs, &p.PromotionalPriceFrom)
		case "promotional_price_to":
			decodeNullableTime(field, raw, errs, &p.PromotionalPriceTo)
		case "parent_sku":
			decodeNullable(field, raw, errs, &p.ParentSKU, nil)
		case "description":
			decodeNullable(field, raw, errs, &p.Description, nil)
		case "brand":
			decodeNullable(field, raw, errs, &p.Brand, nil)
		case "category":
			decodeNullable(field, raw, errs, &p.Category, nil)
		case "gtin":
			decodeNullable(field, raw, errs, &p.GTIN, patternCheck(gtinPattern, msgGTIN))
		case "ncm":
			decodeNullable(field, raw, errs, &p.NCM, patternCheck(ncmPattern, msgNCM))
		case "weight_kg":
			decodeNullable(field, raw, errs, &p.WeightKg, patternCheck(decimalPattern, msgDecimal))
		case "dimensions_cm":
			decodeDimensions(raw, errs, &p.Dimensions)
		case "images":
			decodeImages(raw, errs, &p.Images)
		case "attributes":
			var attrs map[string]json.RawMessage
			if isNull(raw) || json.Unmarshal(raw, &attrs) != nil {
				errs.add(field, "must be an object of strings")
				continue
			}
			decoded := make(map[string]string, len(attrs))
			for k, v := range attrs {
				str, isString := decodeString(v)
				if !isString {
					errs.add(field+"."+k, msgString)
					continue
				}
				decoded[k] = str
			}
			p.Attributes = decoded
		}
	}
}

func patternCheck(re *regexp.Regexp, message string) func(string) string {
	return func(v string) string {
		if !re.MatchString(v) {
			return message
		}
		return ""
	}
}

// decodeNullable sets *dst from a string-or-null member; check returns a message for a
// string it refuses.
func decodeNullable(field string, raw json.RawMessage, errs fieldErrors, dst **string, check func(string) string) {
	if isNull(raw) {
		*dst = nil
		return
	}
	v, isString := decodeString(raw)
	if !isString {
		errs.add(field, "must be a string or null")
		return
	}
	if check != nil {
		if msg := check(v); msg != "" {
			errs.add(field, msg)
			return
		}
	}
	*dst = &v
}

func decodeNullableTime(field string, raw json.RawMessage, errs fieldErrors, dst **time.Time) {
	if isNull(raw) {
		*dst = nil
		return
	}
	v, isString := decodeString(raw)
	t, err := time.Parse(time.RFC3339, v)
	if !isString || err != nil {
		errs.add(field, msgDateTime)
		return
	}
	t = normalizeTime(t)
	*dst = &t
}

func decodeDimensions(raw json.RawMessage, errs fieldErrors, dst **Dimensions) {
	const field = "dimensions_cm"
	if isNull(raw) {
		*dst = nil
		return
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(raw, &obj) != nil {
		errs.add(field, "must be an object with width, height and length, or null")
		return
	}
	var d Dimensions
	valid := true
	for _, part := range []struct {
		name string
		dst  *string
	}{{"width", &d.Width}, {"height", &d.Height}, {"length", &d.Length}} {
		member, present := obj[part.name]
		if !present {
			errs.add(field+"."+part.name, msgRequired)
			valid = false
			continue
		}
		v, isString := decodeString(member)
		if !isString || !decimalPattern.MatchString(v) {
			errs.add(field+"."+part.name, msgDecimal)
			valid = false
			continue
		}
		*part.dst = v
	}
	if valid {
		*dst = &d
	}
}

func decodeImages(raw json.RawMessage, errs fieldErrors, dst *[]string) {
	const field = "images"
	var items []json.RawMessage
	if isNull(raw) || json.Unmarshal(raw, &items) != nil {
		errs.add(field, "must be an array of URLs")
		return
	}
	images := make([]string, 0, len(items))
	valid := true
	for i, item := range items {
		v, isString := decodeString(item)
		u, err := url.Parse(v)
		if !isString || err != nil || !u.IsAbs() || u.Host == "" {
			errs.add(fmt.Sprintf("%s.%d", field, i), "must be an absolute URL")
			valid = false
			continue
		}
		images = append(images, v)
	}
	if valid {
		*dst = images
	}
}

// applyStockInput decodes a {"quantity","warehouse_code"} object onto stock; prefix
// names the fields in errors ("stock." inside a product).
func applyStockInput(stock *Stock, raw json.RawMessage, prefix string, errs fieldErrors) {
	var obj map[string]json.RawMessage
	if isNull(raw) || json.Unmarshal(raw, &obj) != nil {
		errs.add(strings.TrimSuffix(prefix, "."), "must be an object")
		return
	}
	decodeStockMembers(stock, obj, prefix, false, errs)
}

func decodeStockMembers(stock *Stock, obj map[string]json.RawMessage, prefix string, quantityRequired bool, errs fieldErrors) {
	if raw, present := obj["quantity"]; present {
		if n, isInt := decodeInteger(raw); !isInt || n < 0 {
			errs.add(prefix+"quantity", msgQuantity)
		} else {
			stock.Quantity = n
		}
	} else if quantityRequired {
		errs.add(prefix+"quantity", msgRequired)
	}
	if raw, present := obj["warehouse_code"]; present {
		if v, isString := decodeString(raw); !isString {
			errs.add(prefix+"warehouse_code", msgString)
		} else if v == "" {
			errs.add(prefix+"warehouse_code", msgBlank)
		} else {
			stock.WarehouseCode = v
		}
	}
}

// isNegativeMoney reports whether a string matching moneyPattern is below zero.
func isNegativeMoney(v string) bool {
	return strings.HasPrefix(v, "-") && strings.Trim(v[1:], "0.") != ""
}
