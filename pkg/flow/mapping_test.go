package flow

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/shopspring/decimal"

	"github.com/cazbling/cazbling/pkg/cazbling"
)

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func simpleProduct() cazbling.ERPProduct {
	return cazbling.ERPProduct{
		ERPProductSummary: cazbling.ERPProductSummary{
			ID: 10, SKU: "CAM-001", Name: "Camiseta Básica", Price: dec("59.9"), Type: "P", Status: "A", ShortDesc: "Algodão",
		},
		GTIN: "7891234567895", Brand: "Marca", NCM: "6109.10.00", GrossWeight: dec("0.250"),
		Width: dec("0.2"), Height: dec("0.05"), Depth: dec("0.3"), DimensionUnit: 0, Images: []string{"https://img/1.jpg"},
	}
}

func TestMapProductSimple(t *testing.T) {
	got := MapProduct(simpleProduct())
	if len(got) != 1 || got[0].Err != "" || len(got[0].Warnings) != 0 {
		t.Fatalf("MapProduct = %+v", got)
	}
	p := got[0].Product
	want := cazbling.MarketProduct{
		SKU: "CAM-001", Name: "Camiseta Básica", Description: "Algodão", Status: "active", Price: dec("59.90"),
		GTIN: "7891234567895", Brand: "Marca", NCM: "6109.10.00", WeightKg: "0.25",
		Dimensions: &cazbling.Dimensions{Width: "20", Height: "5", Length: "30"}, Images: []string{"https://img/1.jpg"},
	}
	if p.Price.StringFixed(2) != "59.90" || Hash(p) != Hash(want) {
		t.Errorf("mapped\n%+v\nwant\n%+v", p, want)
	}
	if got[0].BlingID != 10 {
		t.Errorf("BlingID %d", got[0].BlingID)
	}
}

func TestMapProductRules(t *testing.T) {
	tests := []struct {
		name   string
		change func(p *cazbling.ERPProduct)
		check  func(t *testing.T, m []Mapped)
	}{
		{"service not sent", func(p *cazbling.ERPProduct) { p.Type = "S" }, func(t *testing.T, m []Mapped) {
			if len(m) != 0 {
				t.Errorf("a service became %d products", len(m))
			}
		}},
		{"no SKU is an error", func(p *cazbling.ERPProduct) { p.SKU = " " }, func(t *testing.T, m []Mapped) {
			if m[0].Err == "" || !strings.Contains(m[0].Err, "no SKU") {
				t.Errorf("Err %q", m[0].Err)
			}
		}},
		{"long name cut at a word with a warning", func(p *cazbling.ERPProduct) {
			p.Name = strings.Repeat("Camiseta Algodão Orgânico ", 12)
		}, func(t *testing.T, m []Mapped) {
			n := m[0].Product.Name
			if utf8.RuneCountInString(n) > MaxNameLen || strings.HasSuffix(n, " ") || !strings.HasSuffix(n, "Orgânico") && !strings.HasSuffix(n, "Algodão") && !strings.HasSuffix(n, "Camiseta") {
				t.Errorf("name %q (%d runes)", n, utf8.RuneCountInString(n))
			}
			if len(m[0].Warnings) != 1 || !strings.Contains(m[0].Warnings[0], "255") {
				t.Errorf("warnings %v", m[0].Warnings)
			}
		}},
		{"inactive and unknown situacao", func(p *cazbling.ERPProduct) { p.Status = "E" }, func(t *testing.T, m []Mapped) {
			if m[0].Product.Status != "inactive" {
				t.Errorf("status %q", m[0].Product.Status)
			}
		}},
		{"bad GTIN and NCM dropped with warnings", func(p *cazbling.ERPProduct) { p.GTIN, p.NCM = "123", "61.09" }, func(t *testing.T, m []Mapped) {
			if m[0].Product.GTIN != "" || m[0].Product.NCM != "" || len(m[0].Warnings) != 2 {
				t.Errorf("gtin %q ncm %q warnings %v", m[0].Product.GTIN, m[0].Product.NCM, m[0].Warnings)
			}
		}},
		{"millimetres to centimetres", func(p *cazbling.ERPProduct) {
			p.Width, p.Height, p.Depth, p.DimensionUnit = dec("200"), dec("55"), dec("305"), 2
		}, func(t *testing.T, m []Mapped) {
			d := m[0].Product.Dimensions
			if d == nil || d.Width != "20" || d.Height != "5.5" || d.Length != "30.5" {
				t.Errorf("dimensions %+v", d)
			}
		}},
		{"no dimensions", func(p *cazbling.ERPProduct) { p.Width, p.Height, p.Depth = decimal.Zero, decimal.Zero, decimal.Zero }, func(t *testing.T, m []Mapped) {
			if m[0].Product.Dimensions != nil {
				t.Errorf("dimensions %+v", m[0].Product.Dimensions)
			}
		}},
		{"price rounded to cents exactly", func(p *cazbling.ERPProduct) { p.Price = dec("19.995") }, func(t *testing.T, m []Mapped) {
			if got := m[0].Product.Price.StringFixed(2); got != "20.00" {
				t.Errorf("price %s", got)
			}
		}},
		{"negative price is an error", func(p *cazbling.ERPProduct) { p.Price = dec("-1") }, func(t *testing.T, m []Mapped) {
			if m[0].Err == "" {
				t.Error("no error")
			}
		}},
		{"variations: one product each, parent not sold, inherited fields", func(p *cazbling.ERPProduct) {
			p.Format = "V"
			p.Variations = []cazbling.ERPProduct{
				{ERPProductSummary: cazbling.ERPProductSummary{ID: 11, SKU: "CAM-001-AZ-G", Status: "A"}, VariationName: "Cor:Azul;Tamanho:G"},
				{ERPProductSummary: cazbling.ERPProductSummary{ID: 12, SKU: "CAM-001-VM-P", Name: "Camiseta Vermelha P", Price: dec("64.9"), Status: "A"}, VariationName: "Cor:Vermelho;Tamanho:P"},
				{ERPProductSummary: cazbling.ERPProductSummary{ID: 13, Status: "A"}, VariationName: "Cor:Preto"},
			}
		}, func(t *testing.T, m []Mapped) {
			if len(m) != 3 {
				t.Fatalf("%d products", len(m))
			}
			a, b := m[0].Product, m[1].Product
			if a.SKU != "CAM-001-AZ-G" || a.ParentSKU != "CAM-001" || a.Name != "Camiseta Básica Azul G" || a.Price.StringFixed(2) != "59.90" ||
				a.NCM != "6109.10.00" || a.Attributes["Cor"] != "Azul" || m[0].BlingID != 11 {
				t.Errorf("first variation %+v", a)
			}
			if b.Name != "Camiseta Vermelha P" || b.Price.StringFixed(2) != "64.90" {
				t.Errorf("second variation %+v", b)
			}
			if m[2].Err == "" || !strings.Contains(m[2].Err, "CAM-001") {
				t.Errorf("variation without SKU: %q", m[2].Err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := simpleProduct()
			tt.change(&p)
			tt.check(t, MapProduct(p))
		})
	}
}

func TestHashChangesWithData(t *testing.T) {
	a := MapProduct(simpleProduct())[0].Product
	b := a
	b.Price = dec("59.91")
	if Hash(a) == Hash(b) {
		t.Error("price change keeps the hash")
	}
	c := a
	c.Price = dec("59.900")
	c.ID, c.Stock = "x", 7
	if Hash(a) != Hash(c) {
		t.Error("the same data (59.90 vs 59.900, id, stock) changes the hash")
	}
}

func TestQuantity(t *testing.T) {
	bal := cazbling.StockBalance{VirtualTotal: dec("7.75"), Deposits: []cazbling.DepositBalance{
		{DepositID: 1, Virtual: dec("-2")}, {DepositID: 2, Virtual: dec("9.75")},
	}}
	if q, note := Quantity(bal, 0); q != 7 || note != "" {
		t.Errorf("total: %d %q", q, note)
	}
	if q, note := Quantity(bal, 1); q != 0 || !strings.Contains(note, "negative") {
		t.Errorf("deposit 1: %d %q", q, note)
	}
	if q, _ := Quantity(bal, 3); q != 0 {
		t.Errorf("unknown deposit: %d", q)
	}
}

func TestSplitYears(t *testing.T) {
	from := dateUTC(2023, 1, 1)
	to := dateUTC(2026, 6, 1)
	pieces := SplitYears(from, to)
	if len(pieces) != 4 || !pieces[0][0].Equal(from) || !pieces[3][1].Equal(to) {
		t.Fatalf("pieces %v", pieces)
	}
	for i, p := range pieces {
		if p[1].Sub(p[0]) > 366*24*time.Hour {
			t.Errorf("piece %d longer than a year: %v", i, p)
		}
		if i > 0 && !p[0].Equal(pieces[i-1][1]) {
			t.Errorf("gap before piece %d", i)
		}
	}
}

func dateUTC(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }
