package bling

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/cazbling/cazbling/pkg/cazbling"
)

func productItem(id int, sku string) string {
	return fmt.Sprintf(`{"id":%d,"idProdutoPai":0,"nome":"Produto %d","codigo":%q,"preco":19.9,"precoCusto":5,"estoque":{"saldoVirtualTotal":3},"tipo":"P","situacao":"A","formato":"S","descricaoCurta":"","imagemURL":""}`, id, id, sku)
}

func TestProductsPageQuery(t *testing.T) {
	c, f, _, _ := newTestClient(t)
	f.handle("GET /produtos", func(w http.ResponseWriter, r recorded) {
		writeJSON(w, 200, dataList(`{"id":16132345678,"idProdutoPai":161,"nome":"Camiseta","codigo":"CAM-01","preco":0.3,"estoque":{"saldoVirtualTotal":-2.5},"tipo":"P","situacao":"E","formato":"V","descricaoCurta":"curta","imagemURL":"https://img/1.jpg"}`))
	})
	q := cazbling.ProductQuery{
		Criterion:   2,
		Type:        "P",
		ChangedFrom: time.Date(2025, 3, 1, 3, 0, 0, 0, time.UTC),    // 00:00 in São Paulo (UTC-3)
		ChangedTo:   time.Date(2025, 3, 10, 11, 59, 0, 0, time.UTC), // 08:59
		CreatedFrom: time.Date(2018, 1, 15, 12, 0, 0, 0, time.UTC),  // summer time then: UTC-2 → 10:00
		CreatedTo:   time.Date(2018, 6, 15, 12, 0, 0, 0, time.UTC),  // winter: UTC-3 → 09:00
		SKUs:        []string{"A&B", "C D"},
		IDs:         []int64{1, 2},
		Limit:       50,
		Stock:       cazbling.StockZero,
	}
	items, more, err := c.ProductsPage(context.Background(), q, 3)
	if err != nil {
		t.Fatal(err)
	}
	if more {
		t.Error("more on a short page")
	}
	want := cazbling.ERPProductSummary{ID: 16132345678, ParentID: 161, Name: "Camiseta", SKU: "CAM-01", Price: decimal.RequireFromString("0.3"),
		Type: "P", Status: "E", Format: "V", ShortDesc: "curta", ImageURL: "https://img/1.jpg", StockVirtual: decimal.RequireFromString("-2.5")}
	if len(items) != 1 || !reflect.DeepEqual(items[0], want) {
		t.Errorf("items = %+v", items)
	}
	r := f.requests("GET", "/produtos")[0]
	wantQuery := map[string][]string{
		"pagina": {"3"}, "limite": {"50"}, "criterio": {"2"}, "tipo": {"P"},
		"dataAlteracaoInicial": {"2025-03-01 00:00:00"}, "dataAlteracaoFinal": {"2025-03-10 08:59:00"},
		"dataInclusaoInicial": {"2018-01-15 10:00:00"}, "dataInclusaoFinal": {"2018-06-15 09:00:00"},
		"codigos[]": {"A&B", "C D"}, "idsProdutos[]": {"1", "2"}, "filtroSaldoEstoque": {"0"},
	}
	if !reflect.DeepEqual(map[string][]string(r.Query), wantQuery) {
		t.Errorf("query = %v\nwant    %v", r.Query, wantQuery)
	}
}

func TestProductsPageRefusesLongWindow(t *testing.T) {
	c, f, _, _ := newTestClient(t)
	pos := cazbling.StockPositive
	tests := []cazbling.ProductQuery{
		{Stock: pos, ChangedFrom: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), ChangedTo: time.Date(2025, 1, 2, 0, 0, 0, 0, time.UTC)},
		{Stock: pos, CreatedFrom: time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC)}, // open end: now is 2025
		{Stock: pos, ChangedFrom: time.Date(2025, 1, 2, 0, 0, 0, 0, time.UTC), ChangedTo: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)},
		{}, // no stock class: Bling's default would hide products at zero
	}
	for i, q := range tests {
		if _, _, err := c.ProductsPage(context.Background(), q, 1); err == nil {
			t.Errorf("case %d: no error", i)
		} else if i < 2 && !errors.Is(err, ErrWindowTooLong) {
			t.Errorf("case %d: %v is not ErrWindowTooLong", i, err)
		}
	}
	if n := len(f.requests("", "/produtos")); n != 0 {
		t.Errorf("%d requests sent", n)
	}
	// Exactly a year is fine.
	f.handle("GET /produtos", func(w http.ResponseWriter, r recorded) { writeJSON(w, 200, `{"data":[]}`) })
	q := cazbling.ProductQuery{Stock: pos, ChangedFrom: time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC), ChangedTo: time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)}
	if _, _, err := c.ProductsPage(context.Background(), q, 1); err != nil {
		t.Errorf("one year refused: %v", err)
	}
}

func TestProductsIteratorPaging(t *testing.T) {
	tests := []struct {
		name      string
		pageSizes []int
		wantCalls int
	}{
		{"ends on a short page", []int{100, 100, 37}, 3},
		{"ends on an empty page", []int{100, 0}, 2},
		{"empty catalogue", []int{0}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, f, _, _ := newTestClient(t)
			f.handle("GET /produtos", func(w http.ResponseWriter, r recorded) {
				page, _ := strconv.Atoi(r.Query.Get("pagina"))
				switch r.Query.Get("filtroSaldoEstoque") {
				case "0": // one product out of stock, then the walk's last class
					writeJSON(w, 200, dataList(productItem(77, "ZERO")))
					return
				case "2":
					writeJSON(w, 200, `{"data":[]}`)
					return
				}
				if page < 1 || page > len(tt.pageSizes) {
					t.Errorf("asked page %d", page)
					writeJSON(w, 200, `{"data":[]}`)
					return
				}
				var items []string
				for i := range tt.pageSizes[page-1] {
					items = append(items, productItem(page*1000+i, fmt.Sprintf("SKU-%d-%d", page, i)))
				}
				writeJSON(w, 200, dataList(items...))
			})
			n := 0
			for p, err := range c.Products(context.Background(), cazbling.ProductQuery{Criterion: 5}) {
				if err != nil {
					t.Fatal(err)
				}
				if p.ID == 0 {
					t.Fatal("zero product")
				}
				n++
			}
			total := 1 // the product at zero stock
			for _, s := range tt.pageSizes {
				total += s
			}
			if n != total {
				t.Errorf("%d products, want %d", n, total)
			}
			var classes []string
			for _, r := range f.requests("GET", "/produtos") {
				classes = append(classes, r.Query.Get("filtroSaldoEstoque"))
			}
			want := slices.Repeat([]string{"1"}, tt.wantCalls)
			if want = append(want, "0", "2"); !reflect.DeepEqual(classes, want) {
				t.Errorf("calls by filtroSaldoEstoque = %v, want %v", classes, want)
			}
		})
	}
}

func TestProductsIteratorStopsOnError(t *testing.T) {
	c, f, _, _ := newTestClient(t)
	f.handle("GET /produtos", func(w http.ResponseWriter, r recorded) {
		if r.Query.Get("pagina") == "1" {
			var items []string
			for i := range 100 {
				items = append(items, productItem(i+1, "S"+strconv.Itoa(i)))
			}
			writeJSON(w, 200, dataList(items...))
			return
		}
		writeJSON(w, 400, `{"error":{"type":"VALIDATION_ERROR","message":"pagina"}}`)
	})
	n, errs := 0, 0
	for _, err := range c.Products(context.Background(), cazbling.ProductQuery{Stock: cazbling.StockPositive}) {
		if err != nil {
			errs++
			continue
		}
		n++
	}
	if n != 100 || errs != 1 {
		t.Errorf("%d products, %d errors", n, errs)
	}
}

const fullProductJSON = `{"data":{
 "id":16132345678,"nome":"Camiseta Básica","codigo":"CAM","preco":59.9,"tipo":"P","situacao":"A","formato":"V",
 "descricaoCurta":"<p>Algodão</p>","imagemURL":"",
 "unidade":"UN","pesoLiquido":0.25,"pesoBruto":0.3,"gtin":"7891234567895","marca":"Marca X",
 "dimensoes":{"largura":20,"altura":3,"profundidade":30,"unidadeMedida":"1"},
 "tributacao":{"origem":0,"ncm":"6109.10.00","cest":""},
 "midia":{"video":{"url":""},"imagens":{"imagensURL":[{"link":"https://cdn/a.jpg"},{"link":"https://cdn/b.jpg"}],"externas":[{"link":"https://cdn/b.jpg"},{"link":"https://ext/c.jpg"}],"internas":[]}},
 "estoque":{"minimo":0,"maximo":0,"saldoVirtualTotal":12},
 "variacoes":[
  {"id":16132345679,"nome":"Camiseta Básica Cor:Azul;Tamanho:G","codigo":"CAM-AZ-G","preco":59.9,"tipo":"P","situacao":"A","formato":"S",
   "gtin":"7891234567901","pesoLiquido":"0.25","estoque":{"saldoVirtualTotal":4},
   "variacao":{"nome":"Cor:Azul;Tamanho:G","ordem":1,"produtoPai":{"id":16132345678,"cloneInfo":true}},
   "midia":{"imagens":{"imagensURL":[{"link":"https://cdn/az.jpg"}]}}},
  {"id":16132345680,"nome":"sem sku","codigo":"","preco":null,"tipo":"P","situacao":"I","formato":"S",
   "variacao":{"nome":"Cor:Preto","produtoPai":null}}
 ]}}`

func TestProductMapping(t *testing.T) {
	c, f, _, _ := newTestClient(t)
	f.handle("GET /produtos/16132345678", func(w http.ResponseWriter, r recorded) { writeJSON(w, 200, fullProductJSON) })
	p, err := c.Product(context.Background(), 16132345678)
	if err != nil {
		t.Fatal(err)
	}
	d := decimal.RequireFromString
	if p.ID != 16132345678 || p.SKU != "CAM" || !p.Price.Equal(d("59.9")) || p.Status != "A" || p.Format != "V" || p.Type != "P" {
		t.Errorf("summary = %+v", p.ERPProductSummary)
	}
	if p.GTIN != "7891234567895" || p.Brand != "Marca X" || p.Unit != "UN" || p.NCM != "6109.10.00" || p.ShortDesc != "<p>Algodão</p>" {
		t.Errorf("fields = %+v", p)
	}
	if !p.NetWeight.Equal(d("0.25")) || !p.GrossWeight.Equal(d("0.3")) || !p.Width.Equal(d("20")) || !p.Height.Equal(d("3")) || !p.Depth.Equal(d("30")) || p.DimensionUnit != 1 {
		t.Errorf("measures = %v %v %v %v %v %d", p.NetWeight, p.GrossWeight, p.Width, p.Height, p.Depth, p.DimensionUnit)
	}
	if want := []string{"https://cdn/a.jpg", "https://cdn/b.jpg", "https://ext/c.jpg"}; !reflect.DeepEqual(p.Images, want) {
		t.Errorf("images = %v", p.Images)
	}
	if p.ImageURL != "https://cdn/a.jpg" || !p.StockVirtual.Equal(d("12")) {
		t.Errorf("image %q stock %v", p.ImageURL, p.StockVirtual)
	}
	if len(p.Variations) != 2 {
		t.Fatalf("%d variations", len(p.Variations))
	}
	v := p.Variations[0]
	if v.ID != 16132345679 || v.SKU != "CAM-AZ-G" || v.VariationName != "Cor:Azul;Tamanho:G" || v.ParentID != p.ID ||
		v.GTIN != "7891234567901" || !v.NetWeight.Equal(d("0.25")) || !reflect.DeepEqual(v.Images, []string{"https://cdn/az.jpg"}) || !v.StockVirtual.Equal(d("4")) {
		t.Errorf("variation = %+v", v)
	}
	if w := p.Variations[1]; w.SKU != "" || w.ParentID != p.ID || w.VariationName != "Cor:Preto" || !w.Price.IsZero() || w.Status != "I" {
		t.Errorf("variation without sku = %+v", w)
	}
}

func TestProductsBySKU(t *testing.T) {
	c, f, _, _ := newTestClient(t)
	var skus []string
	for i := range 250 {
		skus = append(skus, fmt.Sprintf("SKU-%03d", i))
	}
	skus = append(skus, "SKU-000", "") // a duplicate and an empty one are not asked
	f.handle("GET /produtos", func(w http.ResponseWriter, r recorded) {
		if tipo := r.Query.Get("tipo"); r.Query.Get("criterio") != "5" || r.Query.Get("limite") != "100" || (tipo != "T" && tipo != "V") {
			t.Errorf("query = %v", r.Query)
		}
		var items []string
		if r.Query.Get("pagina") != "1" || r.Query.Get("filtroSaldoEstoque") != "1" {
			writeJSON(w, 200, `{"data":[]}`)
			return
		}
		for _, s := range r.Query["codigos[]"] {
			n, _ := strconv.Atoi(strings.TrimPrefix(s, "SKU-"))
			switch {
			case n%50 == 7: // Bling matches loosely: a different case and a longer code come back
				items = append(items, productItem(n+1, strings.ToLower(s)), productItem(n+100000, s+"-X"))
			default:
				items = append(items, productItem(n+1, s))
			}
		}
		writeJSON(w, 200, dataList(items...))
	})
	got, err := c.ProductsBySKU(context.Background(), skus)
	if err != nil {
		t.Fatal(err)
	}
	// Batches of 99, 99 and 52 with tipo=T, each under filtroSaldoEstoque 1, 0 and 2;
	// the two batches answered with 101 items (loose matches) fill a page, so page 2 is
	// asked; the 5 SKUs with only loose matches are asked again with tipo=V.
	var calls []string
	for _, r := range f.requests("GET", "/produtos") {
		calls = append(calls, fmt.Sprintf("%s%s p%s n%d", r.Query.Get("tipo"), r.Query.Get("filtroSaldoEstoque"), r.Query.Get("pagina"), len(r.Query["codigos[]"])))
	}
	if want := []string{"T1 p1 n99", "T1 p2 n99", "T0 p1 n99", "T2 p1 n99", "T1 p1 n99", "T1 p2 n99", "T0 p1 n99", "T2 p1 n99",
		"T1 p1 n52", "T0 p1 n52", "T2 p1 n52", "V1 p1 n5", "V0 p1 n5", "V2 p1 n5"}; !reflect.DeepEqual(calls, want) {
		t.Errorf("calls = %v\nwant    %v", calls, want)
	}
	if len(got) != 245 {
		t.Errorf("%d products, want 245 exact matches", len(got))
	}
	for _, p := range got {
		if !strings.HasPrefix(p.SKU, "SKU-") || strings.HasSuffix(p.SKU, "-X") {
			t.Errorf("inexact match %q", p.SKU)
		}
	}
}

func TestProductsBySKUBatchesAndVariationFallback(t *testing.T) {
	var many []string
	for i := range 250 {
		many = append(many, fmt.Sprintf("SKU-%03d", i))
	}
	tests := []struct {
		name      string
		skus      []string
		wantFound int
		wantCalls []string
	}{
		{"250 SKUs in 3 batches, each under 3 stock classes", many, 250,
			[]string{"T1:99", "T0:99", "T2:99", "T1:99", "T0:99", "T2:99", "T1:52", "T0:52", "T2:52"}},
		{"a variation found with tipo=V", append(many[:3:3], "VAR-AZUL-G"), 4, []string{"T1:4", "T0:4", "T2:4", "V1:1", "V0:1", "V2:1"}},
		{"unknown SKU asked once per tipo and class", []string{"NOPE"}, 0, []string{"T1:1", "T0:1", "T2:1", "V1:1", "V0:1", "V2:1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, f, _, _ := newTestClient(t)
			f.handle("GET /produtos", func(w http.ResponseWriter, r recorded) {
				var items []string
				for _, s := range r.Query["codigos[]"] {
					if r.Query.Get("filtroSaldoEstoque") != "1" {
						break
					}
					switch {
					case s == "VAR-AZUL-G" && r.Query.Get("tipo") == "V":
						items = append(items, productItem(999, s))
					case strings.HasPrefix(s, "SKU-"):
						n, _ := strconv.Atoi(strings.TrimPrefix(s, "SKU-"))
						items = append(items, productItem(n+1, s))
					}
				}
				writeJSON(w, 200, dataList(items...))
			})
			got, err := c.ProductsBySKU(context.Background(), tt.skus)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != tt.wantFound {
				t.Errorf("%d products, want %d", len(got), tt.wantFound)
			}
			var calls []string
			for _, r := range f.requests("GET", "/produtos") {
				calls = append(calls, fmt.Sprintf("%s%s:%d", r.Query.Get("tipo"), r.Query.Get("filtroSaldoEstoque"), len(r.Query["codigos[]"])))
			}
			if !reflect.DeepEqual(calls, tt.wantCalls) {
				t.Errorf("calls = %v, want %v", calls, tt.wantCalls)
			}
		})
	}
}

// Two products sharing a SKU, one in stock and one at zero, are both found: a look-up
// that relied on Bling's default filter (positive balances) would see only one and let
// a duplicate through.
func TestProductsBySKUFindsEveryStockClass(t *testing.T) {
	c, f, _, _ := newTestClient(t)
	f.handle("GET /produtos", func(w http.ResponseWriter, r recorded) {
		switch r.Query.Get("filtroSaldoEstoque") {
		case "1":
			writeJSON(w, 200, dataList(productItem(1, "DUP")))
		case "0":
			writeJSON(w, 200, dataList(productItem(2, "DUP"), productItem(3, "ZERO")))
		case "2":
			writeJSON(w, 200, dataList(productItem(4, "NEG")))
		default:
			t.Errorf("no filtroSaldoEstoque in %v", r.Query)
			writeJSON(w, 200, dataList(productItem(1, "DUP")))
		}
	})
	got, err := c.ProductsBySKU(context.Background(), []string{"DUP", "ZERO", "NEG"})
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, p := range got {
		ids = append(ids, p.ID)
	}
	slices.Sort(ids)
	if want := []int64{1, 2, 3, 4}; !reflect.DeepEqual(ids, want) {
		t.Errorf("found %v, want %v", ids, want)
	}
}

func TestProductsBySKUPagesAFullBatch(t *testing.T) {
	c, f, _, _ := newTestClient(t)
	f.handle("GET /produtos", func(w http.ResponseWriter, r recorded) {
		page := r.Query.Get("pagina")
		var items []string
		if r.Query.Get("filtroSaldoEstoque") != "1" {
			page = "" // every product here has stock
		}
		if page == "1" {
			for i := range 100 { // a full page of products sharing one code
				items = append(items, productItem(i+1, "DUP"))
			}
		} else if page == "2" {
			items = append(items, productItem(500, "ONE"))
		}
		writeJSON(w, 200, dataList(items...))
	})
	got, err := c.ProductsBySKU(context.Background(), []string{"DUP", "ONE"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 101 {
		t.Errorf("%d products", len(got))
	}
	if n := len(f.requests("GET", "/produtos")); n != 4 { // 2 pages under filtroSaldoEstoque=1, 1 under 0, 1 under 2
		t.Errorf("%d calls, want 4", n)
	}
}
