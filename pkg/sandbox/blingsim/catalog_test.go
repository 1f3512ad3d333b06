package blingsim

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
)

func simpleProduct(sku string) Product {
	return Product{Nome: "Produto " + sku, Codigo: sku, Preco: MustNumber("10.50"), Tipo: "P", Situacao: "A"}
}

func ids(items []any) []int64 {
	var out []int64
	for _, it := range items {
		m := it.(map[string]any)
		out = append(out, int64(m["id"].(float64)))
	}
	return out
}

func TestQueryValidation(t *testing.T) {
	e := newEnv(t, Options{})
	a, _ := e.login(clientA, secretA)
	tests := []struct {
		name, path, element string
	}{
		{"limite over 100", "/produtos?limite=101", "limite"},
		{"limite zero", "/produtos?limite=0", "limite"},
		{"pagina zero", "/produtos?pagina=0", "pagina"},
		{"pagina not a number", "/produtos?pagina=abc", "pagina"},
		{"criterio", "/produtos?criterio=9", "criterio"},
		{"tipo", "/produtos?tipo=X", "tipo"},
		{"ISO date", "/produtos?dataAlteracaoInicial=" + url.QueryEscape("2026-01-01T00:00:00"), "dataAlteracaoInicial"},
		{"offset date", "/produtos?dataAlteracaoInicial=" + url.QueryEscape("2026-01-01 00:00:00-03:00"), "dataAlteracaoInicial"},
		{"date only", "/produtos?dataInclusaoInicial=2026-01-01", "dataInclusaoInicial"},
		{"impossible date", "/produtos?dataInclusaoFinal=" + url.QueryEscape("2026-02-30 00:00:00"), "dataInclusaoFinal"},
		{"range over a year", "/produtos?dataAlteracaoInicial=" + url.QueryEscape("2025-01-01 00:00:00") + "&dataAlteracaoFinal=" + url.QueryEscape("2026-01-01 00:00:01"), "dataAlteracaoFinal"},
		{"range reversed", "/produtos?dataInclusaoInicial=" + url.QueryEscape("2026-01-02 00:00:00") + "&dataInclusaoFinal=" + url.QueryEscape("2026-01-01 00:00:00"), "dataInclusaoFinal"},
		{"ids not numbers", "/produtos?idsProdutos[]=1,2", "idsProdutos[]"},
		{"saldos without ids", "/estoques/saldos?codigos[]=X", "idsProdutos[]"},
		{"saldos with 101 ids", "/estoques/saldos?" + manyIDs(101), "idsProdutos[]"},
		{"orders date format", "/pedidos/vendas?dataInicial=" + url.QueryEscape("01/02/2026"), "dataInicial"},
		{"orders range", "/pedidos/vendas?dataInicial=2024-01-01&dataFinal=2025-06-01", "dataFinal"},
		{"orders limite", "/pedidos/vendas?limite=500", "limite"},
		{"contacts limite", "/contatos?limite=101", "limite"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.call("GET", tt.path, a, nil)
			if r.status != 400 || r.errType() != "VALIDATION_ERROR" {
				t.Fatalf("got %d %s", r.status, r.raw)
			}
			if els := r.fieldElements(); len(els) != 1 || els[0] != tt.element {
				t.Fatalf("fields %v, want %s: %s", els, tt.element, r.raw)
			}
			if !strings.Contains(r.errField()["description"].(string), tt.element) {
				t.Fatalf("description does not name %s: %s", tt.element, r.raw)
			}
		})
	}
	// A range of exactly one year is fine.
	r := e.call("GET", "/produtos?dataAlteracaoInicial="+url.QueryEscape("2025-01-01 00:00:00")+"&dataAlteracaoFinal="+url.QueryEscape("2026-01-01 00:00:00"), a, nil)
	if r.status != 200 {
		t.Fatalf("one-year range: %d %s", r.status, r.raw)
	}
}

func manyIDs(n int) string {
	var parts []string
	for i := 1; i <= n; i++ {
		parts = append(parts, fmt.Sprintf("idsProdutos[]=%d", i))
	}
	return strings.Join(parts, "&")
}

func TestPagingEndsOnShortPage(t *testing.T) {
	e := newEnv(t, Options{})
	a, _ := e.login(clientA, secretA)
	for i := 0; i < 5; i++ {
		e.sim.PutProduct(clientA, simpleProduct(fmt.Sprintf("SKU-%d", i)))
	}
	var seen []int64
	sizes := []int{}
	for p := 1; ; p++ {
		r := e.call("GET", fmt.Sprintf("/produtos?pagina=%d&limite=2&filtroSaldoEstoque=0", p), a, nil)
		if r.status != 200 {
			t.Fatalf("page %d: %d", p, r.status)
		}
		sizes = append(sizes, len(r.data()))
		seen = append(seen, ids(r.data())...)
		if len(r.data()) < 2 {
			break
		}
	}
	if fmt.Sprint(sizes) != "[2 2 1]" || len(seen) != 5 {
		t.Fatalf("page sizes %v, ids %v", sizes, seen)
	}
	for i := 1; i < len(seen); i++ {
		if seen[i] >= seen[i-1] {
			t.Fatalf("not latest-added first: %v", seen)
		}
	}
	if seen[0] < 1_000_000_000 {
		t.Errorf("ids should look like Bling's large ids: %v", seen)
	}
	// An exact multiple ends with an empty page.
	e.sim.PutProduct(clientA, simpleProduct("SKU-5"))
	if r := e.call("GET", "/produtos?pagina=3&limite=3&filtroSaldoEstoque=0", a, nil); r.status != 200 || len(r.data()) != 0 {
		t.Fatalf("page after the last: %d %s", r.status, r.raw)
	}
	// Account B sees none of A's products.
	b, _ := e.login(clientB, secretB)
	if r := e.call("GET", "/produtos?filtroSaldoEstoque=0", b, nil); len(r.data()) != 0 {
		t.Fatalf("B sees %d products", len(r.data()))
	}
	if r := e.call("GET", fmt.Sprintf("/produtos/%d", seen[0]), b, nil); r.status != 404 {
		t.Fatalf("B reads A's product: %d", r.status)
	}
}

func variedProduct() Product {
	p := simpleProduct("CAM-001")
	p.Nome = "Camiseta"
	p.GTIN = "7891000315507"
	p.Dimensoes = Dimensoes{Largura: MustNumber("20"), Altura: MustNumber("3"), Profundidade: MustNumber("30"), UnidadeMedida: 1}
	p.Tributacao = Tributacao{NCM: "6109.10.00"}
	p.Midia.Imagens.ImagensURL = []Link{{Link: "https://cdn.example.com/cam.jpg"}}
	p.Variacoes = []Product{
		{Nome: "Camiseta Azul P", Codigo: "CAM-001-AZ-P", Variacao: &VariationInfo{Nome: "Cor:Azul;Tamanho:P"}},
		{Nome: "Camiseta Azul M", Codigo: "CAM-001-AZ-M", Preco: MustNumber("12.00"), Variacao: &VariationInfo{Nome: "Cor:Azul;Tamanho:M"}},
	}
	return p
}

func TestVariations(t *testing.T) {
	e := newEnv(t, Options{})
	a, _ := e.login(clientA, secretA)
	parent := e.sim.PutProduct(clientA, variedProduct())
	e.sim.PutProduct(clientA, simpleProduct("MEIA-1"))

	list := e.call("GET", "/produtos?filtroSaldoEstoque=0", a, nil)
	if len(list.data()) != 2 {
		t.Fatalf("list shows %d products, want the parent and the simple one: %s", len(list.data()), list.raw)
	}
	r := e.call("GET", fmt.Sprintf("/produtos/%d", parent), a, nil)
	p := r.item()
	vars, _ := p["variacoes"].([]any)
	if r.status != 200 || p["formato"] != "V" || len(vars) != 2 {
		t.Fatalf("parent: %d %s", r.status, r.raw)
	}
	v0 := vars[0].(map[string]any)
	vi := v0["variacao"].(map[string]any)
	if vi["nome"] != "Cor:Azul;Tamanho:P" || vi["produtoPai"].(map[string]any)["id"] != float64(parent) || v0["preco"] != 10.5 {
		t.Fatalf("variation 0: %v", v0)
	}
	if vars[1].(map[string]any)["preco"] != 12.0 {
		t.Fatalf("variation 1 price: %v", vars[1])
	}
	if p["imagemURL"] != "https://cdn.example.com/cam.jpg" || p["gtin"] != "7891000315507" ||
		p["dimensoes"].(map[string]any)["unidadeMedida"] != float64(1) || p["tributacao"].(map[string]any)["ncm"] != "6109.10.00" {
		t.Fatalf("parent detail: %s", r.raw)
	}
	// A variation is readable by id and findable by SKU.
	vid := int64(v0["id"].(float64))
	if r := e.call("GET", fmt.Sprintf("/produtos/%d", vid), a, nil); r.status != 200 || r.item()["idProdutoPai"] != float64(parent) {
		t.Fatalf("variation by id: %d %s", r.status, r.raw)
	}
	r = e.call("GET", "/produtos?codigos[]=CAM-001-AZ-M&codigos[]=MEIA-1&codigos[]=CAM-001-AZ&filtroSaldoEstoque=0", a, nil)
	if got := len(r.data()); got != 2 {
		t.Fatalf("codigos[] lookup: %s", r.raw)
	}
	// tipo=V lists only variations.
	if r := e.call("GET", "/produtos?tipo=V&filtroSaldoEstoque=0", a, nil); len(r.data()) != 2 {
		t.Fatalf("tipo=V: %s", r.raw)
	}
	// Stock of the parent is the sum of its variations; the parent itself takes none.
	if err := e.sim.SetStock(clientA, parent, 0, decimal.NewFromInt(5)); err == nil {
		t.Fatal("SetStock on a parent with variations was accepted")
	}
	_ = e.sim.SetStock(clientA, vid, 0, decimal.NewFromInt(4))
	if b, _ := e.sim.Stock(clientA, parent); !b.SaldoVirtualTotal.Equal(decimal.NewFromInt(4)) {
		t.Fatalf("parent balance %v", b.SaldoVirtualTotal)
	}
	// Updating the parent with a shorter list deletes the variation left out.
	upd := variedProduct()
	upd.ID = parent
	upd.Variacoes = upd.Variacoes[:1]
	upd.Variacoes[0].ID = vid
	e.sim.PutProduct(clientA, upd)
	if got, _ := e.sim.Product(clientA, parent); len(got.Variacoes) != 1 || got.Variacoes[0].ID != vid {
		t.Fatalf("after update: %+v", got.Variacoes)
	}
	if n := len(e.sim.Products(clientA)); n != 3 {
		t.Fatalf("Products() = %d, want parent, one variation and the simple one", n)
	}
}

func TestAlterationDate(t *testing.T) {
	e := newEnv(t, Options{})
	a, _ := e.login(clientA, secretA)
	id := e.sim.PutProduct(clientA, simpleProduct("SKU-1"))
	sp := SaoPaulo()
	since := func() string { return url.QueryEscape(e.clock.Now().In(sp).Format("2006-01-02 15:04:05")) }

	e.clock.Add(time.Hour)
	mark := since()
	if r := e.call("GET", "/produtos?filtroSaldoEstoque=0&dataAlteracaoInicial="+mark, a, nil); len(r.data()) != 0 {
		t.Fatalf("nothing changed yet: %s", r.raw)
	}
	// A stock movement does not bump dataAlteracao.
	if err := e.sim.SetStock(clientA, id, 0, decimal.NewFromInt(7)); err != nil {
		t.Fatal(err)
	}
	if r := e.call("GET", "/produtos?dataAlteracaoInicial="+mark, a, nil); len(r.data()) != 0 {
		t.Fatalf("stock change bumped dataAlteracao: %s", r.raw)
	}
	// An edit does.
	p, _ := e.sim.Product(clientA, id)
	p.Preco = MustNumber("11.00")
	e.sim.PutProduct(clientA, p)
	r := e.call("GET", "/produtos?dataAlteracaoInicial="+mark, a, nil)
	if got := ids(r.data()); len(got) != 1 || got[0] != id {
		t.Fatalf("edited product not found by dataAlteracao: %s", r.raw)
	}
	// dataInclusao did not move.
	if r := e.call("GET", "/produtos?dataInclusaoInicial="+mark, a, nil); len(r.data()) != 0 {
		t.Fatalf("edit moved dataInclusao: %s", r.raw)
	}
	// The filter end is inclusive to the second, in São Paulo time.
	end := url.QueryEscape(p.DataInclusao.In(sp).Format("2006-01-02 15:04:05"))
	if r := e.call("GET", "/produtos?dataInclusaoInicial="+end+"&dataInclusaoFinal="+end, a, nil); len(r.data()) != 1 {
		t.Fatalf("inclusive end: %s", r.raw)
	}
}

func TestStockBalances(t *testing.T) {
	e := newEnv(t, Options{})
	a, _ := e.login(clientA, secretA)
	pos := e.sim.PutProduct(clientA, simpleProduct("POS"))
	zero := e.sim.PutProduct(clientA, simpleProduct("ZERO"))
	neg := e.sim.PutProduct(clientA, simpleProduct("NEG"))
	deps := e.sim.Deposits(clientA)
	if len(deps) != 2 || !deps[0].Padrao || deps[1].Descricao != "Loja Física" {
		t.Fatalf("deposits: %+v", deps)
	}
	_ = e.sim.SetStock(clientA, pos, 0, decimal.NewFromInt(10))
	_ = e.sim.SetStock(clientA, pos, deps[1].ID, decimal.NewFromInt(3))
	_ = e.sim.SetReserved(clientA, pos, 0, decimal.NewFromInt(2))
	_ = e.sim.SetStock(clientA, neg, 0, decimal.NewFromInt(-2))
	q := fmt.Sprintf("/estoques/saldos?idsProdutos[]=%d&idsProdutos[]=%d&idsProdutos[]=%d", pos, zero, neg)

	// Without filtroSaldoEstoque the spec's default (1, positive) applies.
	r := e.call("GET", q, a, nil)
	if got := r.data(); len(got) != 1 {
		t.Fatalf("default filter: %s", r.raw)
	}
	b := r.data()[0].(map[string]any)
	if b["produto"].(map[string]any)["codigo"] != "POS" || b["saldoFisicoTotal"] != 13.0 || b["saldoVirtualTotal"] != 11.0 {
		t.Fatalf("balance: %v", b)
	}
	d0 := b["depositos"].([]any)[0].(map[string]any)
	if d0["id"] != float64(deps[0].ID) || d0["saldoFisico"] != 10.0 || d0["saldoVirtual"] != 8.0 {
		t.Fatalf("deposit balance: %v", d0)
	}
	// 0, 1 and 2 partition the ids.
	total := 0
	for f := 0; f <= 2; f++ {
		r := e.call("GET", q+fmt.Sprintf("&filtroSaldoEstoque=%d", f), a, nil)
		if len(r.data()) != 1 {
			t.Fatalf("filtro %d: %s", f, r.raw)
		}
		total += len(r.data())
	}
	if total != 3 {
		t.Fatalf("partition covers %d", total)
	}
	// Unknown ids are simply absent.
	if r := e.call("GET", "/estoques/saldos?idsProdutos[]=999&filtroSaldoEstoque=0", a, nil); r.status != 200 || len(r.data()) != 0 {
		t.Fatalf("unknown id: %d %s", r.status, r.raw)
	}
	// The summary carries the virtual total.
	r = e.call("GET", "/produtos?codigos[]=POS", a, nil)
	if r.data()[0].(map[string]any)["estoque"].(map[string]any)["saldoVirtualTotal"] != 11.0 {
		t.Fatalf("summary stock: %s", r.raw)
	}
	// With StockListUnfiltered the default shows everything.
	e2 := newEnv(t, Options{StockListUnfiltered: true})
	a2, _ := e2.login(clientA, secretA)
	id := e2.sim.PutProduct(clientA, simpleProduct("Z"))
	if r := e2.call("GET", fmt.Sprintf("/estoques/saldos?idsProdutos[]=%d", id), a2, nil); len(r.data()) != 1 {
		t.Fatalf("unfiltered: %s", r.raw)
	}
}

func TestReferenceLists(t *testing.T) {
	e := newEnv(t, Options{})
	a, _ := e.login(clientA, secretA)
	r := e.call("GET", "/formas-pagamentos", a, nil)
	tipos := map[float64]bool{}
	defaults := 0
	for _, it := range r.data() {
		m := it.(map[string]any)
		tipos[m["tipoPagamento"].(float64)] = true
		if m["padrao"] == float64(1) {
			defaults++
			if m["tipoPagamento"] != float64(1) {
				t.Errorf("default method is %v", m)
			}
		}
	}
	if !tipos[17] || !tipos[15] || !tipos[3] || !tipos[1] || defaults != 1 {
		t.Fatalf("payment methods: %s", r.raw)
	}
	if r := e.call("GET", "/depositos", a, nil); len(r.data()) != 2 || r.data()[0].(map[string]any)["padrao"] != true {
		t.Fatalf("deposits: %s", r.raw)
	}
	r = e.call("GET", "/empresas/me/dados-basicos", a, nil)
	if r.item()["cnpj"] != "11.222.333/0001-81" || r.item()["email"] == "" || r.item()["id"] == "" {
		t.Fatalf("company: %s", r.raw)
	}
}

// TestProductListStockFilterDefault checks that GET /produtos applies the spec's
// default filtroSaldoEstoque=1 on every kind of listing, that 0 and 2 select the zero
// and negative balances, filtroSaldoEstoqueDeposito, and StockListUnfiltered.
func TestProductListStockFilterDefault(t *testing.T) {
	setUp := func(e *env) (pos, zero, neg, parent int64) {
		pos = e.sim.PutProduct(clientA, simpleProduct("POS"))
		zero = e.sim.PutProduct(clientA, simpleProduct("ZERO"))
		neg = e.sim.PutProduct(clientA, simpleProduct("NEG"))
		parent = e.sim.PutProduct(clientA, variedProduct())
		deps := e.sim.Deposits(clientA)
		full, _ := e.sim.Product(clientA, parent)
		for _, err := range []error{
			e.sim.SetStock(clientA, pos, deps[1].ID, decimal.NewFromInt(3)), // Loja Física only
			e.sim.SetStock(clientA, zero, 0, decimal.NewFromInt(4)),
			e.sim.SetReserved(clientA, zero, 0, decimal.NewFromInt(4)), // virtual 0
			e.sim.SetStock(clientA, neg, 0, decimal.NewFromInt(-1)),
			e.sim.SetStock(clientA, full.Variacoes[0].ID, 0, decimal.NewFromInt(2)),
			e.sim.SetStock(clientA, full.Variacoes[1].ID, 0, decimal.NewFromInt(-5)), // parent -3
		} {
			if err != nil {
				t.Fatal(err)
			}
		}
		return pos, zero, neg, parent
	}
	e := newEnv(t, Options{})
	a, _ := e.login(clientA, secretA)
	pos, zero, neg, parent := setUp(e)
	full, _ := e.sim.Product(clientA, parent)
	v0, v1 := full.Variacoes[0].ID, full.Variacoes[1].ID
	deps := e.sim.Deposits(clientA)
	window := "dataInclusaoInicial=" + url.QueryEscape(e.clock.Now().Add(-time.Minute).In(SaoPaulo()).Format("2006-01-02 15:04:05"))
	lookupIDs := fmt.Sprintf("idsProdutos[]=%d&idsProdutos[]=%d&idsProdutos[]=%d&idsProdutos[]=%d&idsProdutos[]=%d", pos, zero, neg, v0, v1)
	lookupCodes := "codigos[]=POS&codigos[]=ZERO&codigos[]=NEG&codigos[]=CAM-001-AZ-P&codigos[]=CAM-001-AZ-M"
	tests := []struct {
		name, query string
		want        []int64 // latest added first
	}{
		{"list, default", "", []int64{pos}},
		{"list, zero", "filtroSaldoEstoque=0", []int64{zero}},
		{"list, positive", "filtroSaldoEstoque=1", []int64{pos}},
		{"list, negative", "filtroSaldoEstoque=2", []int64{parent, neg}},
		{"window, default", window, []int64{pos}},
		{"window, zero", window + "&filtroSaldoEstoque=0", []int64{zero}},
		{"window, negative", window + "&filtroSaldoEstoque=2", []int64{parent, neg}},
		{"ids, default", lookupIDs, []int64{v0, pos}},
		{"ids, zero", lookupIDs + "&filtroSaldoEstoque=0", []int64{zero}},
		{"ids, negative", lookupIDs + "&filtroSaldoEstoque=2", []int64{v1, neg}},
		{"codes, default", lookupCodes, []int64{v0, pos}},
		{"codes, zero", lookupCodes + "&filtroSaldoEstoque=0", []int64{zero}},
		{"codes, negative", lookupCodes + "&filtroSaldoEstoque=2", []int64{v1, neg}},
		{"variations, default", "tipo=V", []int64{v0}},
		{"variations, negative", "tipo=V&filtroSaldoEstoque=2", []int64{v1}},
		// filtroSaldoEstoqueDeposito takes that deposit's balance, with the default too.
		{"deposit Loja, default", fmt.Sprintf("filtroSaldoEstoqueDeposito=%d", deps[1].ID), []int64{pos}},
		{"deposit Geral, default", fmt.Sprintf("filtroSaldoEstoqueDeposito=%d", deps[0].ID), nil},
		{"deposit Geral, zero", fmt.Sprintf("filtroSaldoEstoqueDeposito=%d&filtroSaldoEstoque=0", deps[0].ID), []int64{zero, pos}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.call("GET", "/produtos?"+tt.query, a, nil)
			if r.status != 200 {
				t.Fatalf("%d %s", r.status, r.raw)
			}
			if got := ids(r.data()); fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Fatalf("got %v, want %v: %s", got, tt.want, r.raw)
			}
		})
	}

	// With StockListUnfiltered, no filtroSaldoEstoque lists every balance.
	u := newEnv(t, Options{StockListUnfiltered: true})
	ua, _ := u.login(clientA, secretA)
	pos, zero, neg, parent = setUp(u)
	full, _ = u.sim.Product(clientA, parent)
	v0, v1 = full.Variacoes[0].ID, full.Variacoes[1].ID
	lookupIDs = fmt.Sprintf("idsProdutos[]=%d&idsProdutos[]=%d&idsProdutos[]=%d&idsProdutos[]=%d&idsProdutos[]=%d", pos, zero, neg, v0, v1)
	for query, want := range map[string][]int64{
		"":                     {parent, neg, zero, pos},
		lookupIDs:              {v1, v0, neg, zero, pos},
		lookupCodes:            {v1, v0, neg, zero, pos},
		"filtroSaldoEstoque=1": {pos},
	} {
		r := u.call("GET", "/produtos?"+query, ua, nil)
		if got := ids(r.data()); r.status != 200 || fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("unfiltered, %q: got %v, want %v: %s", query, got, want, r.raw)
		}
	}
}
