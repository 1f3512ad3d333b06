package blingsim

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

const maxPage = 1<<31 - 1

// ---------------------------------------------------------------- HTTP

func (s *Sim) listProducts(r *http.Request, a *account) reply {
	q := newQuery(r.URL.Query(), s.loc)
	pagina := q.int("pagina", 1, 1, maxPage)
	limite := q.int("limite", 100, 1, 100)
	criterio := q.int("criterio", 1, 1, 5)
	tipo := q.str("tipo", "T", "T", "P", "S", "E", "PS", "C", "V")
	incFrom, incTo := q.dateTimeRange("dataInclusaoInicial", "dataInclusaoFinal")
	altFrom, altTo := q.dateTimeRange("dataAlteracaoInicial", "dataAlteracaoFinal")
	ids := q.ids("idsProdutos[]")
	codes := q.v["codigos[]"]
	gtins := q.v["gtins[]"]
	nome := strings.ToLower(q.v.Get("nome"))
	filtro, hasFiltro := q.optInt("filtroSaldoEstoque", 0, 2)
	filtroDeposito := q.id("filtroSaldoEstoqueDeposito")
	if q.failed() {
		return q.reply()
	}
	if !hasFiltro && !s.opts.StockListUnfiltered {
		filtro, hasFiltro = 1, true // the spec's default: positive balances only
	}
	lookup := len(ids) > 0 || len(codes) > 0 || len(gtins) > 0

	var candidates []*Product // latest added first
	if len(ids) > 0 {
		candidates = a.productsByID(ids)
	} else {
		candidates = a.sortedProducts()
	}
	var matched []*Product
	for _, p := range candidates {
		isVariation := p.IDProdutoPai != 0
		switch {
		case tipo == "V" && !isVariation:
			continue
		case tipo != "V" && isVariation && !lookup:
			// The list shows parents and simple products; a variation is found by id or SKU.
			continue
		}
		if criterio == 2 && p.Situacao != "A" || criterio == 3 && p.Situacao != "I" || criterio == 4 {
			continue // deleted products are gone from the Sim
		}
		if !matchesTipo(p, tipo) {
			continue
		}
		if len(ids) > 0 && !slices.Contains(ids, p.ID) ||
			len(codes) > 0 && !s.matchesAny(codes, p.Codigo) ||
			len(gtins) > 0 && !slices.Contains(gtins, p.GTIN) ||
			nome != "" && !strings.Contains(strings.ToLower(p.Nome), nome) {
			continue
		}
		if !inRange(p.DataInclusao, incFrom, incTo) || !inRange(p.DataAlteracao, altFrom, altTo) {
			continue
		}
		if hasFiltro && !matchesSaldo(a.virtualBalance(p, filtroDeposito), filtro) {
			continue
		}
		matched = append(matched, p)
	}
	out := []ProductSummary{}
	for _, p := range page(matched, pagina, limite) {
		out = append(out, a.summary(p))
	}
	return dataReply(http.StatusOK, out)
}

func matchesTipo(p *Product, tipo string) bool {
	switch tipo {
	case "P":
		return p.Tipo == "P"
	case "S":
		return p.Tipo == "S"
	case "E":
		return p.Formato == "E"
	case "PS":
		return p.Tipo == "P" && p.Formato == "S"
	case "C":
		return p.Formato == "V"
	}
	return true
}

// matchesSaldo applies filtroSaldoEstoque: 0 zero, 1 positive, 2 negative.
func matchesSaldo(v decimal.Decimal, filtro int) bool {
	switch filtro {
	case 0:
		return v.IsZero()
	case 1:
		return v.IsPositive()
	default:
		return v.IsNegative()
	}
}

func (s *Sim) matchesAny(wanted []string, got string) bool {
	for _, w := range wanted {
		if got == w || s.opts.FuzzyLookups && w != "" && strings.HasPrefix(got, w) {
			return true
		}
	}
	return false
}

func (s *Sim) getProduct(r *http.Request, a *account) reply {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return paramReply("idProduto", "deve ser um número inteiro")
	}
	p, ok := a.products[id]
	if !ok {
		return notFoundReply("Produto")
	}
	return dataReply(http.StatusOK, a.full(p))
}

// ---------------------------------------------------------------- views

// sortedProducts returns every product, latest added first, as criterio 1 (últimos
// incluídos) shows them; ids grow with time.
func (a *account) sortedProducts() []*Product {
	if a.sortedIDs == nil {
		ids := make([]int64, 0, len(a.products))
		for id := range a.products {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		a.sortedIDs = ids
	}
	out := make([]*Product, 0, len(a.sortedIDs))
	for i := len(a.sortedIDs) - 1; i >= 0; i-- {
		out = append(out, a.products[a.sortedIDs[i]])
	}
	return out
}

// productsByID returns the products among ids, each once, latest added first.
func (a *account) productsByID(ids []int64) []*Product {
	ids = slices.Clone(ids)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	out := make([]*Product, 0, len(ids))
	for i := len(ids) - 1; i >= 0; i-- {
		if p := a.products[ids[i]]; p != nil {
			out = append(out, p)
		}
	}
	return out
}

// storeProduct puts p in the account under p.ID, replacing the product stored there,
// and keeps the indexes (variations, sortedIDs) in step.
func (a *account) storeProduct(p *Product) {
	old := a.products[p.ID]
	switch {
	case old == nil:
		a.linkVariation(p.IDProdutoPai, p.ID)
		if n := len(a.sortedIDs); a.sortedIDs != nil && (n == 0 || a.sortedIDs[n-1] < p.ID) {
			a.sortedIDs = append(a.sortedIDs, p.ID)
		} else {
			a.sortedIDs = nil
		}
	case old.IDProdutoPai != p.IDProdutoPai:
		a.unlinkVariation(old.IDProdutoPai, p.ID)
		a.linkVariation(p.IDProdutoPai, p.ID)
	}
	a.products[p.ID] = p
}

func (a *account) linkVariation(parentID, id int64) {
	if parentID != 0 {
		a.variations[parentID] = append(a.variations[parentID], id)
	}
}

func (a *account) unlinkVariation(parentID, id int64) {
	if parentID == 0 {
		return
	}
	kids := slices.DeleteFunc(a.variations[parentID], func(k int64) bool { return k == id })
	if len(kids) == 0 {
		delete(a.variations, parentID)
	} else {
		a.variations[parentID] = kids
	}
}

// hasVariations reports whether some product has parentID as its parent.
func (a *account) hasVariations(parentID int64) bool { return len(a.variations[parentID]) > 0 }

// children returns the variations of parentID in their order.
func (a *account) children(parentID int64) []*Product {
	ids := a.variations[parentID]
	out := make([]*Product, 0, len(ids))
	for _, id := range ids {
		if p := a.products[id]; p != nil {
			out = append(out, p)
		}
	}
	slices.SortFunc(out, func(x, y *Product) int {
		ox, oy := 0, 0
		if x.Variacao != nil {
			ox = x.Variacao.Ordem
		}
		if y.Variacao != nil {
			oy = y.Variacao.Ordem
		}
		if ox != oy {
			return ox - oy
		}
		return cmpInt(x.ID, y.ID)
	})
	return out
}

func cmpInt(x, y int64) int {
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}

func (a *account) summary(p *Product) ProductSummary {
	return ProductSummary{
		ID: p.ID, IDProdutoPai: p.IDProdutoPai, Nome: p.Nome, Codigo: p.Codigo,
		Preco: p.Preco, PrecoCusto: p.PrecoCusto,
		Estoque: ProductStock{SaldoVirtualTotal: Number{a.virtualBalance(p, 0)}},
		Tipo:    p.Tipo, Situacao: p.Situacao, Formato: p.Formato,
		DescricaoCurta: p.DescricaoCurta, ImagemURL: firstImage(p),
	}
}

// full returns a deep copy of p as GET /produtos/{id} shows it, with its variations.
func (a *account) full(p *Product) Product {
	out := cloneProduct(p)
	out.Estoque = &ProductStock{SaldoVirtualTotal: Number{a.virtualBalance(p, 0)}}
	out.ImagemURL = firstImage(p)
	out.Variacoes = []Product{}
	if p.IDProdutoPai == 0 {
		for _, c := range a.children(p.ID) {
			out.Variacoes = append(out.Variacoes, a.full(c))
		}
	}
	return out
}

func firstImage(p *Product) string {
	for _, l := range [][]Link{p.Midia.Imagens.ImagensURL, p.Midia.Imagens.Externas, p.Midia.Imagens.Internas} {
		if len(l) > 0 {
			return l[0].Link
		}
	}
	return ""
}

func cloneProduct(p *Product) Product {
	out := *p
	out.Midia.Imagens.ImagensURL = cloneLinks(p.Midia.Imagens.ImagensURL)
	out.Midia.Imagens.Externas = cloneLinks(p.Midia.Imagens.Externas)
	out.Midia.Imagens.Internas = cloneLinks(p.Midia.Imagens.Internas)
	if p.Variacao != nil {
		v := *p.Variacao
		out.Variacao = &v
	}
	out.Variacoes = nil
	out.Estoque = nil
	return out
}

func cloneLinks(l []Link) []Link {
	if l == nil {
		return []Link{}
	}
	return slices.Clone(l)
}

// ---------------------------------------------------------------- Go API

// PutProduct creates p (when p.ID is 0) or updates the product p.ID in clientID's
// account, and returns its id (0 if the account or p.ID is unknown). Creating sets
// DataInclusao to now unless p carries one; every update sets DataAlteracao to now.
// p.Variacoes, when not nil, is the complete set of the product's variations: those
// with ID 0 are created, the others updated, and missing ones deleted. A variation
// with a zero price takes its parent's price, as Bling does when saving through the
// parent. Stock is not touched (see SetStock).
func (s *Sim) PutProduct(clientID string, p Product) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.accounts[clientID]
	if a == nil {
		return 0
	}
	now := s.now()
	parentID := int64(0)
	if p.ID != 0 {
		old := a.products[p.ID]
		if old == nil {
			return 0
		}
		parentID = old.IDProdutoPai
	}
	id := a.putProduct(p, parentID, now)
	if parentID != 0 && id != 0 {
		if parent := a.products[parentID]; parent != nil {
			parent.DataAlteracao = now
		}
	}
	return id
}

func (a *account) putProduct(p Product, parentID int64, now time.Time) int64 {
	stored := cloneProduct(&p)
	if stored.Tipo == "" {
		stored.Tipo = "P"
	}
	if stored.Situacao == "" {
		stored.Situacao = "A"
	}
	if stored.Unidade == "" {
		stored.Unidade = "UN"
	}
	stored.ImagemURL = ""
	created := true
	if old := a.products[p.ID]; p.ID != 0 && old != nil {
		created = false
		stored.DataInclusao = old.DataInclusao
		stored.DataAlteracao = now
		if stored.Variacao == nil && old.Variacao != nil {
			v := *old.Variacao
			stored.Variacao = &v
		}
	} else {
		stored.ID = a.newID()
		if stored.DataInclusao.IsZero() {
			stored.DataInclusao = now
		}
		if stored.DataAlteracao.Before(stored.DataInclusao) {
			stored.DataAlteracao = stored.DataInclusao
		}
	}
	stored.IDProdutoPai = parentID
	if parentID != 0 {
		parent := a.products[parentID]
		if stored.Variacao == nil {
			stored.Variacao = &VariationInfo{}
		}
		stored.Variacao.ProdutoPai = ParentInfo{ID: parentID, CloneInfo: true}
		if stored.Preco.IsZero() && parent != nil {
			stored.Preco = parent.Preco
		}
		if stored.Formato == "" || stored.Formato == "V" {
			stored.Formato = "S"
		}
	} else {
		stored.Variacao = nil
	}
	a.storeProduct(&stored)

	if parentID == 0 && p.Variacoes != nil {
		keep := map[int64]bool{}
		for i, v := range p.Variacoes {
			if v.ID != 0 {
				if old := a.products[v.ID]; old == nil || old.IDProdutoPai != stored.ID {
					continue // not a variation of this product
				}
			}
			if v.Variacao == nil {
				v.Variacao = &VariationInfo{}
			} else {
				vi := *v.Variacao
				v.Variacao = &vi
			}
			if v.Variacao.Ordem == 0 {
				v.Variacao.Ordem = i + 1
			}
			if created {
				// Variations born with their parent share its dates (seeds back-date them).
				v.DataInclusao, v.DataAlteracao = stored.DataInclusao, stored.DataAlteracao
			} else {
				v.DataInclusao, v.DataAlteracao = time.Time{}, time.Time{}
			}
			keep[a.putProduct(v, stored.ID, now)] = true
		}
		for _, c := range a.children(stored.ID) {
			if !keep[c.ID] {
				a.deleteProduct(c.ID)
			}
		}
	}
	if parentID == 0 {
		switch {
		case a.hasVariations(stored.ID):
			stored.Formato = "V"
		case stored.Formato == "" || stored.Formato == "V":
			stored.Formato = "S"
		}
	}
	return stored.ID
}

// DeleteProduct removes a product, its variations and their stock.
func (s *Sim) DeleteProduct(clientID string, id int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.accounts[clientID]
	if a == nil {
		return fmt.Errorf("unknown bling account %q", clientID)
	}
	if a.products[id] == nil {
		return fmt.Errorf("unknown product %d", id)
	}
	for _, c := range a.children(id) {
		a.deleteProduct(c.ID)
	}
	a.deleteProduct(id)
	return nil
}

func (a *account) deleteProduct(id int64) {
	p := a.products[id]
	if p == nil {
		return
	}
	a.unlinkVariation(p.IDProdutoPai, id)
	delete(a.products, id)
	delete(a.stock, id)
	a.sortedIDs = nil
}

// Products returns every product of the account, variations included as separate
// entries (Variacoes empty), ordered by id.
func (s *Sim) Products(clientID string) []Product {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.accounts[clientID]
	if a == nil {
		return nil
	}
	sorted := a.sortedProducts()
	slices.Reverse(sorted)
	out := make([]Product, 0, len(sorted))
	for _, p := range sorted {
		c := a.full(p)
		c.Variacoes = nil
		out = append(out, c)
	}
	return out
}

// Product returns one product as GET /produtos/{id} shows it, with its variations.
func (s *Sim) Product(clientID string, id int64) (Product, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.accounts[clientID]
	if a == nil || a.products[id] == nil {
		return Product{}, false
	}
	return a.full(a.products[id]), true
}
