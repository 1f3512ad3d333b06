package blingsim

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/shopspring/decimal"
)

// scanView is what the account holds, worked out by scanning every product, as the Sim
// did before it kept indexes.
type scanView struct {
	products map[int64]Product
	kids     map[int64][]int64 // parent → variations, in their order
	balances map[int64]StockBalance
	deposits []Deposit
}

func scanAccount(s *Sim, clientID string) scanView {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.accounts[clientID]
	v := scanView{products: map[int64]Product{}, kids: map[int64][]int64{}, balances: map[int64]StockBalance{},
		deposits: slices.Clone(a.deposits)}
	for _, p := range a.products {
		v.products[p.ID] = *p
		var kids []*Product
		for _, q := range a.products {
			if q.IDProdutoPai == p.ID {
				kids = append(kids, q)
			}
		}
		slices.SortFunc(kids, func(x, y *Product) int {
			if x.Variacao.Ordem != y.Variacao.Ordem {
				return x.Variacao.Ordem - y.Variacao.Ordem
			}
			return cmpInt(x.ID, y.ID)
		})
		holders := []int64{p.ID}
		if len(kids) > 0 {
			holders = nil
			for _, k := range kids {
				v.kids[p.ID] = append(v.kids[p.ID], k.ID)
				holders = append(holders, k.ID)
			}
		}
		b := StockBalance{Produto: StockProduct{ID: p.ID, Codigo: p.Codigo}, Depositos: []DepositBalance{}}
		physTotal, virtTotal := decimal.Zero, decimal.Zero
		for _, d := range a.deposits {
			phys, res := decimal.Zero, decimal.Zero
			for _, id := range holders {
				if e := a.stock[id][d.ID]; e != nil {
					phys, res = phys.Add(e.physical), res.Add(e.reserved)
				}
			}
			b.Depositos = append(b.Depositos, DepositBalance{ID: d.ID, SaldoFisico: Number{phys}, SaldoVirtual: Number{phys.Sub(res)}})
			if d.Situacao == 1 && !d.DesconsiderarSaldo {
				physTotal, virtTotal = physTotal.Add(phys), virtTotal.Add(phys.Sub(res))
			}
		}
		b.SaldoFisicoTotal, b.SaldoVirtualTotal = Number{physTotal}, Number{virtTotal}
		v.balances[p.ID] = b
	}
	return v
}

// virtual is the balance the list filters on: the total, or one deposit's.
func (v scanView) virtual(id, deposit int64) decimal.Decimal {
	b := v.balances[id]
	if deposit == 0 {
		return b.SaldoVirtualTotal.Decimal
	}
	for _, d := range b.Depositos {
		if d.ID == deposit {
			return d.SaldoVirtual.Decimal
		}
	}
	return decimal.Zero
}

// expect lists, latest added first, the products that pass keep and the stock filter.
func (v scanView) expect(filtro int, deposit int64, keep func(p Product) bool) []int64 {
	var out []int64
	for id, p := range v.products {
		if keep(p) && matchesSaldo(v.virtual(id, deposit), filtro) {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	slices.Reverse(out)
	return out
}

// checkIndexes compares the indexed internals with the scan.
func checkIndexes(t *testing.T, s *Sim, clientID string, v scanView) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.accounts[clientID]
	var sorted []int64
	for _, p := range a.sortedProducts() {
		sorted = append(sorted, p.ID)
	}
	var want []int64
	for id := range v.products {
		want = append(want, id)
	}
	slices.Sort(want)
	slices.Reverse(want)
	if !slices.Equal(sorted, want) {
		t.Fatalf("sortedProducts %v, scan %v", sorted, want)
	}
	for id := range v.products {
		p := a.products[id]
		var kids []int64
		for _, c := range a.children(id) {
			kids = append(kids, c.ID)
		}
		if !slices.Equal(kids, v.kids[id]) || a.hasVariations(id) != (len(v.kids[id]) > 0) {
			t.Fatalf("children(%d) = %v, scan %v", id, kids, v.kids[id])
		}
		got, _ := json.Marshal(a.balance(p))
		wantB, _ := json.Marshal(v.balances[id])
		if string(got) != string(wantB) {
			t.Fatalf("balance(%d) = %s, scan %s", id, got, wantB)
		}
		for _, dep := range append([]int64{0, 42}, depositIDs(v.deposits)...) {
			if got, want := a.virtualBalance(p, dep), v.virtual(id, dep); !got.Equal(want) {
				t.Fatalf("virtualBalance(%d, %d) = %s, scan %s", id, dep, got, want)
			}
		}
	}
	for parent := range a.variations {
		if _, ok := v.kids[parent]; !ok {
			t.Fatalf("variations index keeps parent %d, which the scan does not find", parent)
		}
	}
}

func depositIDs(ds []Deposit) []int64 {
	var out []int64
	for _, d := range ds {
		out = append(out, d.ID)
	}
	return out
}

// TestIndexesMatchScan applies random creates, edits (SKU changes, variations added,
// kept and dropped), deletes and stock changes, and after each step checks the
// variation and order indexes, the balances and GET /produtos (plain, variations, date
// window, idsProdutos[], codigos[], each stock filter, a deposit filter) against a
// scan of every product.
func TestIndexesMatchScan(t *testing.T) {
	e := newEnv(t, Options{})
	tok, _ := e.login(clientA, secretA)
	rng := rand.New(rand.NewPCG(7, 11))
	deps := e.sim.Deposits(clientA)
	seq := 0
	sku := func() string { seq++; return fmt.Sprintf("S-%03d", seq) }
	ids := func() []int64 {
		var out []int64
		for _, p := range e.sim.Products(clientA) {
			out = append(out, p.ID)
		}
		return out
	}
	pick := func(list []int64) int64 {
		if len(list) == 0 {
			return 0
		}
		return list[rng.IntN(len(list))]
	}
	var everID []int64
	var everSKU []string
	start := e.clock.Now()

	list := func(query string) []int64 {
		t.Helper()
		var out []int64
		for pagina := 1; ; pagina++ {
			r := e.call("GET", fmt.Sprintf("/produtos?limite=7&pagina=%d&%s", pagina, query), tok, nil)
			if r.status != 200 {
				t.Fatalf("GET /produtos?%s: %d %s", query, r.status, r.raw)
			}
			for _, it := range r.data() {
				out = append(out, int64(it.(map[string]any)["id"].(float64)))
			}
			if len(r.data()) < 7 {
				return out
			}
		}
	}

	for step := range 150 {
		e.clock.Add(time.Duration(1+rng.IntN(90)) * time.Second)
		current := ids()
		switch op := rng.IntN(10); {
		case op < 3 || len(current) == 0:
			p := simpleProduct(sku())
			if rng.IntN(2) == 0 {
				for range rng.IntN(4) {
					p.Variacoes = append(p.Variacoes, Product{Nome: "V", Codigo: sku()})
				}
			}
			e.sim.PutProduct(clientA, p)
		case op < 5: // edit: new SKU, and for a parent or simple product a new set of variations
			id := pick(current)
			p, _ := e.sim.Product(clientA, id)
			p.Codigo = sku()
			if p.IDProdutoPai == 0 && rng.IntN(2) == 0 {
				var kept []Product
				for _, v := range p.Variacoes {
					if rng.IntN(3) > 0 {
						kept = append(kept, v)
					}
				}
				for range rng.IntN(3) {
					kept = append(kept, Product{Nome: "V", Codigo: sku()})
				}
				p.Variacoes = kept
				if p.Variacoes == nil {
					p.Variacoes = []Product{}
				}
			} else {
				p.Variacoes = nil
			}
			if e.sim.PutProduct(clientA, p) != id {
				t.Fatalf("step %d: edit of %d failed", step, id)
			}
		case op < 6:
			_ = e.sim.DeleteProduct(clientA, pick(current))
		default:
			id := pick(current)
			dep := deps[rng.IntN(len(deps))].ID
			qty := decimal.NewFromInt(int64(rng.IntN(7) - 2))
			if rng.IntN(3) == 0 {
				_ = e.sim.SetReserved(clientA, id, dep, qty.Abs())
			} else {
				_ = e.sim.SetStock(clientA, id, dep, qty) // refused for a parent: fine
			}
		}
		if step == 100 { // a deposit that does not count in the totals
			e.sim.mu.Lock()
			e.sim.accounts[clientA].deposits[1].DesconsiderarSaldo = true
			e.sim.mu.Unlock()
		}
		for _, id := range ids() {
			if !slices.Contains(everID, id) {
				everID = append(everID, id)
			}
		}
		for _, p := range e.sim.Products(clientA) {
			if !slices.Contains(everSKU, p.Codigo) {
				everSKU = append(everSKU, p.Codigo)
			}
		}

		v := scanAccount(e.sim, clientA)
		checkIndexes(t, e.sim, clientA, v)
		if step%5 != 0 {
			continue
		}
		mark := start.Add(time.Duration(rng.Int64N(int64(e.clock.Now().Sub(start)) + 1))).Truncate(time.Second)
		markQ := "dataAlteracaoInicial=" + url.QueryEscape(mark.In(SaoPaulo()).Format("2006-01-02 15:04:05"))
		var idQ, codeQ string
		lookedUp := map[int64]bool{}
		codes := map[string]bool{}
		for range 6 {
			id := pick(everID)
			lookedUp[id] = true
			idQ += fmt.Sprintf("&idsProdutos[]=%d", id)
			c := everSKU[rng.IntN(len(everSKU))]
			codes[c] = true
			codeQ += "&codigos[]=" + url.QueryEscape(c)
		}
		top := func(p Product) bool { return p.IDProdutoPai == 0 }
		for filtro := range 3 {
			f := fmt.Sprintf("filtroSaldoEstoque=%d", filtro)
			for _, c := range []struct {
				query   string
				deposit int64
				keep    func(Product) bool
			}{
				{f, 0, top},
				{f + "&tipo=V", 0, func(p Product) bool { return p.IDProdutoPai != 0 }},
				{f + "&" + markQ, 0, func(p Product) bool { return top(p) && !p.DataAlteracao.Truncate(time.Second).Before(mark) }},
				{f + idQ, 0, func(p Product) bool { return lookedUp[p.ID] }},
				{f + codeQ, 0, func(p Product) bool { return codes[p.Codigo] }},
				{f + fmt.Sprintf("&filtroSaldoEstoqueDeposito=%d", deps[1].ID), deps[1].ID, top},
			} {
				if got, want := list(c.query), v.expect(filtro, c.deposit, c.keep); !slices.Equal(got, want) {
					t.Fatalf("step %d: GET /produtos?%s = %v, scan %v", step, c.query, got, want)
				}
			}
		}
		if got, want := list(""), v.expect(1, 0, top); !slices.Equal(got, want) {
			t.Fatalf("step %d: GET /produtos (default filter) = %v, scan %v", step, got, want)
		}
	}
	if len(everID) < 60 {
		t.Fatalf("only %d products were ever created: the test did not exercise much", len(everID))
	}
}
