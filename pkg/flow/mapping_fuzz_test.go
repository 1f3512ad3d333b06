package flow

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/shopspring/decimal"

	"github.com/cazbling/cazbling/pkg/cazbling"
)

// FuzzMapProduct maps arbitrary Bling products (the shapes the Bling decoder can
// produce: any text, decimals with exponents within ±30, any number of variations)
// and checks that MapProduct never panics and that every product it lets through is
// one CaZco accepts: a SKU, a name of 1 to 255 characters, a price of at least 0 with
// two decimals, a known status, a GTIN and NCM of the right shape or none; and that
// the hash of the data sent is stable (the same input maps to the same hash, and the
// CaZco id and stock do not change it).
func FuzzMapProduct(f *testing.F) {
	f.Add("Camiseta Básica Azul", "CAM-001", "A", "P", "7891234567895", "6109.10.00", int64(12990), int8(-2), int64(350), int8(-3), 1, "", "", uint8(0))
	f.Add(strings.Repeat("Camiseta Algodão Orgânico Premium ", 10), "LONG-1", "A", "P", "123", "61", int64(4990), int8(-2), int64(0), int8(0), 0, "", "", uint8(0))
	f.Add("   ", "SKU-VAZIO", "I", "P", "", "", int64(-5), int8(0), int64(1), int8(0), 2, "", "", uint8(0))
	f.Add(strings.Repeat(",", 300), "VIRGULAS", "E", "P", "", "", int64(1), int8(0), int64(1), int8(0), 1, "", "", uint8(0))
	f.Add(strings.Repeat("👕", 256), "EMOJI", "A", "X", "00000000", "00000000", int64(1), int8(-30), int64(1), int8(30), 7, "", "", uint8(0))
	f.Add("Camisa Polo", "POLO", "A", "P", "", "6105.10.00", int64(8000), int8(-2), int64(2), int8(-1), 2, "Cor:Azul;Tamanho:G", "POLO-AZ-G", uint8(2))
	f.Add("Camisa", "", "A", "P", "", "", int64(0), int8(0), int64(0), int8(0), 0, ":;::;", "", uint8(3))
	f.Add("\xff\xfe nome inválido", "S\x00KU", "A", "S", "", "", int64(1), int8(2), int64(1), int8(0), 0, "", "", uint8(0))
	f.Add(strings.Repeat("a", 255)+" b", "EXATO", "A", "P", "", "", int64(999), int8(-3), int64(0), int8(0), 0, "", "", uint8(0))
	f.Fuzz(func(t *testing.T, name, sku, status, typ, gtin, ncm string, priceMant int64, priceExp int8,
		weightMant int64, weightExp int8, dimUnit int, varName, varSKU string, variations uint8) {
		exp := func(e int8) int32 { return int32(max(-30, min(30, int(e)))) }
		p := cazbling.ERPProduct{
			ERPProductSummary: cazbling.ERPProductSummary{
				ID: 16001234567, Name: name, SKU: sku, Price: decimal.New(priceMant, exp(priceExp)),
				Type: typ, Status: status, Format: "S", ShortDesc: name,
			},
			GTIN: gtin, NCM: ncm, Brand: varName,
			GrossWeight: decimal.New(weightMant, exp(weightExp)),
			Width:       decimal.New(weightMant, exp(weightExp)), Height: decimal.New(priceMant, exp(priceExp)),
			DimensionUnit: dimUnit,
			Images:        []string{name},
		}
		for i := range int(variations % 4) {
			v := cazbling.ERPProduct{
				ERPProductSummary: cazbling.ERPProductSummary{
					ID: int64(16001234600 + i), ParentID: p.ID, SKU: strings.Repeat(varSKU, i+1),
					Price: decimal.New(weightMant, exp(priceExp)), Type: typ, Status: status,
				},
				VariationName: varName,
				GTIN:          gtin,
			}
			if i == 1 {
				v.Name = name
			}
			p.Variations = append(p.Variations, v)
			p.Format = "V"
		}

		out := MapProduct(p)
		again := MapProduct(p)
		if typ == "S" {
			if out != nil {
				t.Fatalf("a service was mapped: %+v", out)
			}
			return
		}
		if want := max(1, len(p.Variations)); len(out) != want {
			t.Fatalf("%d products mapped, want %d", len(out), want)
		}
		for i, m := range out {
			if m.Err != "" {
				if m.Product.Name != "" || m.Product.SKU != "" {
					t.Fatalf("an error mapping still carries data: %+v", m)
				}
				continue
			}
			mp := m.Product
			if strings.TrimSpace(mp.SKU) == "" {
				t.Fatalf("mapped without a SKU: %+v", m)
			}
			if n := utf8.RuneCountInString(mp.Name); n == 0 || n > MaxNameLen {
				t.Fatalf("name of %d characters sent (input %q): %q", n, name, mp.Name)
			}
			if mp.Price.IsNegative() || !mp.Price.Equal(mp.Price.Round(2)) {
				t.Fatalf("price %s sent", mp.Price)
			}
			if mp.Status != "active" && mp.Status != "inactive" {
				t.Fatalf("status %q sent", mp.Status)
			}
			if mp.GTIN != "" && !gtinPattern.MatchString(mp.GTIN) {
				t.Fatalf("GTIN %q sent", mp.GTIN)
			}
			if mp.NCM != "" && !ncmPattern.MatchString(mp.NCM) {
				t.Fatalf("NCM %q sent", mp.NCM)
			}
			if utf8.RuneCountInString(strings.TrimSpace(name)) > MaxNameLen && len(p.Variations) == 0 && len(m.Warnings) == 0 {
				t.Fatalf("a %d-character name was cut without a warning", utf8.RuneCountInString(name))
			}
			h := Hash(mp)
			if h != Hash(again[i].Product) {
				t.Fatalf("the same product hashed twice differently")
			}
			moved := mp
			moved.ID, moved.Stock = "81000", 42
			if Hash(moved) != h {
				t.Fatalf("the hash depends on the CaZco id or the stock")
			}
		}
	})
}

// TestCutAtWordNeverEmpty is the regression test of the first finding of
// FuzzMapProduct: a name made only of separators was cut to "" and sent.
func TestCutAtWordNeverEmpty(t *testing.T) {
	for _, s := range []string{strings.Repeat(",", 300), strings.Repeat(" -", 200) + "x", strings.Repeat(";", 256)} {
		got := CutAtWord(strings.TrimSpace(s), MaxNameLen)
		if n := utf8.RuneCountInString(got); n == 0 || n > MaxNameLen {
			t.Errorf("CutAtWord(%q…) = %q (%d characters)", s[:10], got, n)
		}
	}
}
