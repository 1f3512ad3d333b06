package flow

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/cazbling/cazbling/pkg/cazbling"
	"github.com/shopspring/decimal"
)

// MaxNameLen is CaZco's limit on a product name, in characters.
const MaxNameLen = 255

var (
	gtinPattern = regexp.MustCompile(`^(\d{8}|\d{12}|\d{13}|\d{14})$`)
	ncmPattern  = regexp.MustCompile(`^\d{4}\.?\d{2}\.?\d{2}$`)
)

// Mapped is one CaZco product made from Bling data, with the notes the mapping made.
type Mapped struct {
	BlingID  int64 // the Bling product (or variation) whose stock this SKU sells
	Product  cazbling.MarketProduct
	Warnings []string // data changed to fit CaZco (name cut, bad GTIN dropped)
	Err      string   // the product cannot be sent; why, for a support person
}

// MapProduct maps a full Bling product to the CaZco products it becomes: one for a
// simple product, one per variation for a product with variations (the parent is not
// sold by itself), none for a service. See the README's mapping table.
func MapProduct(p cazbling.ERPProduct) []Mapped {
	if p.Type == "S" {
		return nil
	}
	if len(p.Variations) == 0 {
		return []Mapped{mapOne(p, nil)}
	}
	out := make([]Mapped, 0, len(p.Variations))
	for _, v := range p.Variations {
		out = append(out, mapOne(v, &p))
	}
	return out
}

// IsService reports whether a Bling product is a service, which CaZco does not sell.
func IsService(p cazbling.ERPProductSummary) bool { return p.Type == "S" }

func mapOne(p cazbling.ERPProduct, parent *cazbling.ERPProduct) Mapped {
	m := Mapped{BlingID: p.ID}
	sku := p.SKU
	if strings.TrimSpace(sku) == "" {
		if parent != nil {
			m.Err = fmt.Sprintf("variation %q (Bling id %d) of product %s has no SKU (código) in Bling; give it one there and it is synced on the next run", p.VariationName, p.ID, parent.SKU)
		} else {
			m.Err = fmt.Sprintf("Bling product %d %q has no SKU (código); give it one in Bling and it is synced on the next run", p.ID, p.Name)
		}
		return m
	}
	mp := cazbling.MarketProduct{SKU: sku, Description: p.ShortDesc, Brand: p.Brand, Images: p.Images}

	name := p.Name
	price := p.Price
	if parent != nil {
		mp.ParentSKU = parent.SKU
		mp.Attributes = variationAttributes(p.VariationName)
		if strings.TrimSpace(name) == "" {
			name = strings.TrimSpace(parent.Name + " " + attributeLabel(mp.Attributes))
		}
		if price.IsZero() {
			price = parent.Price
		}
		if mp.Description == "" {
			mp.Description = parent.ShortDesc
		}
		if mp.Brand == "" {
			mp.Brand = parent.Brand
		}
		if len(mp.Images) == 0 {
			mp.Images = parent.Images
		}
		if p.NCM == "" {
			p.NCM = parent.NCM
		}
		if p.GrossWeight.IsZero() {
			p.GrossWeight = parent.GrossWeight
		}
		if p.Width.IsZero() && p.Height.IsZero() && p.Depth.IsZero() {
			p.Width, p.Height, p.Depth, p.DimensionUnit = parent.Width, parent.Height, parent.Depth, parent.DimensionUnit
		}
	}
	name = strings.TrimSpace(name)
	if name == "" {
		m.Err = fmt.Sprintf("Bling product %d (SKU %s) has no name; CaZco needs one", p.ID, sku)
		return m
	}
	if utf8.RuneCountInString(name) > MaxNameLen {
		cut := CutAtWord(name, MaxNameLen)
		m.Warnings = append(m.Warnings, fmt.Sprintf("name has %d characters, more than CaZco's %d; sent cut to %q", utf8.RuneCountInString(name), MaxNameLen, cut))
		name = cut
	}
	mp.Name = name

	if price.IsNegative() {
		m.Err = fmt.Sprintf("Bling product %d (SKU %s) has a negative price %s; fix it in Bling", p.ID, sku, price.String())
		return m
	}
	mp.Price = price.Round(2)

	switch p.Status {
	case "A":
		mp.Status = "active"
	case "I":
		mp.Status = "inactive"
	default:
		// Bling has undocumented values (E for excluded, empty): not for sale.
		mp.Status = "inactive"
	}

	if gtin := strings.TrimSpace(p.GTIN); gtin != "" {
		if gtinPattern.MatchString(gtin) {
			mp.GTIN = gtin
		} else {
			m.Warnings = append(m.Warnings, fmt.Sprintf("GTIN %q is not 8, 12, 13 or 14 digits; sent without GTIN, fix it in Bling", gtin))
		}
	}
	if ncm := strings.TrimSpace(p.NCM); ncm != "" {
		if ncmPattern.MatchString(ncm) {
			mp.NCM = ncm
		} else {
			m.Warnings = append(m.Warnings, fmt.Sprintf("NCM %q is not 8 digits; sent without NCM, fix it in Bling", ncm))
		}
	}
	if p.GrossWeight.IsPositive() {
		mp.WeightKg = p.GrossWeight.String()
	}
	mp.Dimensions = dimensionsCM(p)
	m.Product = mp
	return m
}

// dimensionsCM converts Bling's dimensions to centimetres; nil when absent.
func dimensionsCM(p cazbling.ERPProduct) *cazbling.Dimensions {
	if !p.Width.IsPositive() && !p.Height.IsPositive() && !p.Depth.IsPositive() {
		return nil
	}
	factor := decimal.NewFromInt(1) // 1: centimetres
	switch p.DimensionUnit {
	case 0: // metres
		factor = decimal.NewFromInt(100)
	case 2: // millimetres
		factor = decimal.New(1, -1)
	}
	cm := func(d decimal.Decimal) string {
		if d.IsNegative() {
			d = decimal.Zero
		}
		return d.Mul(factor).String()
	}
	return &cazbling.Dimensions{Width: cm(p.Width), Height: cm(p.Height), Length: cm(p.Depth)}
}

// variationAttributes parses Bling's "Cor:Azul;Tamanho:G".
func variationAttributes(s string) map[string]string {
	if s == "" {
		return nil
	}
	out := map[string]string{}
	for part := range strings.SplitSeq(s, ";") {
		k, v, ok := strings.Cut(part, ":")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || k == "" {
			continue
		}
		out[k] = v
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

func attributeLabel(attrs map[string]string) string {
	keys := make([]string, 0, len(attrs))
	for k := range attrs {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	vals := make([]string, 0, len(keys))
	for _, k := range keys {
		vals = append(vals, attrs[k])
	}
	return strings.Join(vals, " ")
}

// CutAtWord shortens s to at most n characters, at the last space that keeps it
// within n (or hard at n when there is none in the second half). Trailing spaces and
// separators are dropped, unless nothing else is left: the result of a non-empty s
// is never empty.
func CutAtWord(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	cut := n
	for i := n; i > n/2; i-- {
		if r[i] == ' ' {
			cut = i
			break
		}
	}
	if out := strings.TrimRight(string(r[:cut]), " ,;-"); out != "" {
		return out
	}
	return string(r[:n])
}

// Hash is the fingerprint of the data sent to CaZco: equal hashes mean nothing to write.
func Hash(p cazbling.MarketProduct) string {
	p.ID, p.Stock = "", 0
	b, _ := json.Marshal(struct {
		cazbling.MarketProduct
		Price string
	}{p, p.Price.StringFixed(2)})
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:16])
}

// SummaryHash fingerprints a Bling list entry: what the list shows of a product.
func SummaryHash(s cazbling.ERPProductSummary) string {
	b, _ := json.Marshal([]string{
		strconv.FormatInt(s.ID, 10), strconv.FormatInt(s.ParentID, 10), s.SKU, s.Name,
		s.Price.String(), s.Type, s.Status, s.Format, s.ShortDesc, s.ImageURL,
	})
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:16])
}
