package blingsim

import (
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/shopspring/decimal"
)

// stockHolders returns the ids whose stock entries make up p's balance: p's own, or its
// variations' for a product with variations.
func (a *account) stockHolders(p *Product) []int64 {
	if kids := a.variations[p.ID]; len(kids) > 0 {
		return kids
	}
	return []int64{p.ID}
}

// balance computes a product's stock: its own entries, or the sum of its variations'
// for a product with variations. It costs O(deposits × variations).
func (a *account) balance(p *Product) StockBalance {
	ids := a.stockHolders(p)
	out := StockBalance{Produto: StockProduct{ID: p.ID, Codigo: p.Codigo}, Depositos: []DepositBalance{}}
	physTotal, virtTotal := decimal.Zero, decimal.Zero
	for _, d := range a.deposits {
		phys, res := decimal.Zero, decimal.Zero
		for _, id := range ids {
			if e := a.stock[id][d.ID]; e != nil {
				phys = phys.Add(e.physical)
				res = res.Add(e.reserved)
			}
		}
		virt := phys.Sub(res)
		out.Depositos = append(out.Depositos, DepositBalance{ID: d.ID, SaldoFisico: Number{phys}, SaldoVirtual: Number{virt}})
		if d.Situacao == 1 && !d.DesconsiderarSaldo {
			physTotal = physTotal.Add(phys)
			virtTotal = virtTotal.Add(virt)
		}
	}
	out.SaldoFisicoTotal, out.SaldoVirtualTotal = Number{physTotal}, Number{virtTotal}
	return out
}

// virtualBalance is balance(p)'s SaldoVirtualTotal or, for a depositID other than 0,
// the SaldoVirtual of that deposit (zero for an unknown one), without building the rest.
func (a *account) virtualBalance(p *Product, depositID int64) decimal.Decimal {
	total := decimal.Zero
	for _, id := range a.stockHolders(p) {
		entries := a.stock[id]
		if len(entries) == 0 {
			continue
		}
		for _, d := range a.deposits {
			counts := d.ID == depositID || depositID == 0 && d.Situacao == 1 && !d.DesconsiderarSaldo
			if e := entries[d.ID]; counts && e != nil {
				total = total.Add(e.physical)
				if !e.reserved.IsZero() {
					total = total.Sub(e.reserved)
				}
			}
		}
	}
	return total
}

func (s *Sim) listBalances(r *http.Request, a *account) reply {
	q := newQuery(r.URL.Query(), s.loc)
	if !q.v.Has("idsProdutos[]") {
		return errReply(http.StatusBadRequest, apiError{Type: TypeValidation,
			Message: "Parâmetro obrigatório", Description: "O parâmetro idsProdutos[] é obrigatório.",
			Fields: []ErrorField{{Code: 1, Msg: "O parâmetro idsProdutos[] é obrigatório.", Element: "idsProdutos[]", Collection: []ErrorFieldItem{}}}})
	}
	ids := q.ids("idsProdutos[]")
	if len(ids) > 100 {
		q.fail("idsProdutos[]", "no máximo 100 ids por requisição")
	}
	codes := q.v["codigos[]"]
	filtro, hasFiltro := q.optInt("filtroSaldoEstoque", 0, 2)
	if q.failed() {
		return q.reply()
	}
	if !hasFiltro && !s.opts.StockListUnfiltered {
		filtro, hasFiltro = 1, true // the spec's default: positive balances only
	}
	var picked []*Product
	for _, id := range ids {
		if p := a.products[id]; p != nil && !slices.Contains(picked, p) {
			picked = append(picked, p)
		}
	}
	if len(codes) > 0 {
		for _, p := range a.sortedProducts() {
			if s.matchesAny(codes, p.Codigo) && !slices.Contains(picked, p) {
				picked = append(picked, p)
			}
		}
	}
	out := []StockBalance{}
	for _, p := range picked {
		b := a.balance(p)
		if hasFiltro && !matchesSaldo(b.SaldoVirtualTotal.Decimal, filtro) {
			continue
		}
		out = append(out, b)
	}
	return dataReply(http.StatusOK, out)
}

// SetStock sets the physical balance of a product in a deposit (0: the default deposit).
// Like a stock movement in Bling, it does not change the product's DataAlteracao.
// Products with variations keep their stock in the variations.
func (s *Sim) SetStock(clientID string, productID, depositID int64, physical decimal.Decimal) error {
	return s.setStock(clientID, productID, depositID, func(e *stockEntry) { e.physical = physical })
}

// SetReserved sets the quantity reserved (by open orders) of a product in a deposit
// (0: the default deposit); the virtual balance is physical minus reserved.
func (s *Sim) SetReserved(clientID string, productID, depositID int64, reserved decimal.Decimal) error {
	return s.setStock(clientID, productID, depositID, func(e *stockEntry) { e.reserved = reserved })
}

func (s *Sim) setStock(clientID string, productID, depositID int64, set func(*stockEntry)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.accounts[clientID]
	if a == nil {
		return fmt.Errorf("unknown bling account %q", clientID)
	}
	p := a.products[productID]
	if p == nil {
		return fmt.Errorf("unknown product %d", productID)
	}
	if a.hasVariations(productID) {
		return fmt.Errorf("product %d has variations: set the stock of each variation", productID)
	}
	if depositID == 0 {
		depositID = a.defaultDeposit()
	}
	if !slices.ContainsFunc(a.deposits, func(d Deposit) bool { return d.ID == depositID }) {
		return fmt.Errorf("unknown deposit %d", depositID)
	}
	if a.stock[productID] == nil {
		a.stock[productID] = map[int64]*stockEntry{}
	}
	e := a.stock[productID][depositID]
	if e == nil {
		e = &stockEntry{}
		a.stock[productID][depositID] = e
	}
	set(e)
	return nil
}

// Stock returns a product's balance as GET /estoques/saldos shows it.
func (s *Sim) Stock(clientID string, productID int64) (StockBalance, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.accounts[clientID]
	if a == nil || a.products[productID] == nil {
		return StockBalance{}, false
	}
	return a.balance(a.products[productID]), true
}

// Deposits returns the account's deposits.
func (s *Sim) Deposits(clientID string) []Deposit {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a := s.accounts[clientID]; a != nil {
		return slices.Clone(a.deposits)
	}
	return nil
}

func (s *Sim) listDeposits(r *http.Request, a *account) reply {
	q := newQuery(r.URL.Query(), s.loc)
	pagina := q.int("pagina", 1, 1, maxPage)
	limite := q.int("limite", 100, 1, 100)
	situacao := q.int("situacao", 1, 0, 1)
	desc := strings.ToLower(q.v.Get("descricao"))
	if q.failed() {
		return q.reply()
	}
	out := []Deposit{}
	for _, d := range a.deposits {
		if d.Situacao == situacao && strings.Contains(strings.ToLower(d.Descricao), desc) {
			out = append(out, d)
		}
	}
	return dataReply(http.StatusOK, page(out, pagina, limite))
}
