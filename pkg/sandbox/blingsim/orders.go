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

// orderStatusOpen is the id Bling gives the "Em aberto" situation.
const orderStatusOpen = 6

type orderInput struct {
	Numero              *int64         `json:"numero"`
	NumeroLoja          string         `json:"numeroLoja"`
	Data                *string        `json:"data"`
	DataSaida           *string        `json:"dataSaida"`
	DataPrevista        *string        `json:"dataPrevista"`
	Contato             *optionalRef   `json:"contato"`
	Loja                *IDRef         `json:"loja"`
	Situacao            *IDRef         `json:"situacao"`
	NumeroPedidoCompra  string         `json:"numeroPedidoCompra"`
	OutrasDespesas      Number         `json:"outrasDespesas"`
	Observacoes         string         `json:"observacoes"`
	ObservacoesInternas string         `json:"observacoesInternas"`
	Desconto            *OrderDiscount `json:"desconto"`
	Itens               []itemInput    `json:"itens"`
	Parcelas            []parcelInput  `json:"parcelas"`
	Transporte          Transport      `json:"transporte"`
}

type optionalRef struct {
	ID *int64 `json:"id"`
}

type itemInput struct {
	Codigo             string       `json:"codigo"`
	Unidade            string       `json:"unidade"`
	Quantidade         *Number      `json:"quantidade"`
	Desconto           Number       `json:"desconto"`
	Valor              *Number      `json:"valor"`
	AliquotaIPI        Number       `json:"aliquotaIPI"`
	Descricao          *string      `json:"descricao"`
	DescricaoDetalhada string       `json:"descricaoDetalhada"`
	Produto            *optionalRef `json:"produto"`
}

type parcelInput struct {
	DataVencimento *string      `json:"dataVencimento"`
	Valor          *Number      `json:"valor"`
	Observacoes    string       `json:"observacoes"`
	Caut           string       `json:"caut"`
	FormaPagamento *optionalRef `json:"formaPagamento"`
}

func (s *Sim) createOrder(r *http.Request, a *account) reply {
	var in orderInput
	if rep, ok := readJSON(r, &in); !ok {
		return rep
	}
	fe := fieldErrors{namespace: "VENDAS"}
	var contact *Contact
	switch {
	case in.Contato == nil || in.Contato.ID == nil || *in.Contato.ID == 0:
		fe.add(10, "contato", "O contato da venda deve ser informado.")
	default:
		if contact = a.contacts[*in.Contato.ID]; contact == nil {
			fe.add(11, "contato", fmt.Sprintf("Contato %d não encontrado.", *in.Contato.ID))
		}
	}
	dates := map[string]string{}
	for _, d := range []struct {
		name string
		v    *string
	}{{"data", in.Data}, {"dataSaida", in.DataSaida}, {"dataPrevista", in.DataPrevista}} {
		switch {
		case d.v == nil || *d.v == "":
			fe.add(20, d.name, "O campo "+d.name+" deve ser informado.")
		case !validDate(*d.v):
			fe.add(21, d.name, "O campo "+d.name+" deve ser uma data válida no formato AAAA-MM-DD.")
		default:
			dates[d.name] = *d.v
		}
	}
	if in.Numero != nil && *in.Numero != 0 {
		for _, o := range a.orders {
			if o.Numero == *in.Numero {
				fe.add(30, "numero", fmt.Sprintf("Já existe uma venda com o número %d.", *in.Numero))
				break
			}
		}
	}

	// Items.
	totalProdutos := decimal.Zero
	var items []OrderItem
	var itemErrs []ErrorFieldItem
	if len(in.Itens) == 0 {
		fe.add(40, "itens", "A venda deve conter ao menos um item.")
	}
	for i, it := range in.Itens {
		bad := func(code int, element, msg string) {
			itemErrs = append(itemErrs, ErrorFieldItem{Index: i + 1, Code: code, Msg: msg, Element: element, Namespace: "VENDAS"})
		}
		if it.Descricao == nil || strings.TrimSpace(*it.Descricao) == "" {
			bad(41, "descricao", "A descrição do item deve ser informada.")
		}
		if it.Quantidade == nil || !it.Quantidade.IsPositive() {
			bad(42, "quantidade", "A quantidade do item deve ser maior que zero.")
		}
		if it.Valor == nil || it.Valor.IsNegative() {
			bad(43, "valor", "O valor unitário do item deve ser informado e não pode ser negativo.")
		}
		if it.Desconto.IsNegative() || it.Desconto.GreaterThan(decimal.NewFromInt(100)) {
			bad(44, "desconto", "O desconto do item é um percentual entre 0 e 100.")
		}
		var prod *Product
		if it.Produto != nil && it.Produto.ID != nil && *it.Produto.ID != 0 {
			prod = a.products[*it.Produto.ID]
			switch {
			case prod == nil:
				bad(45, "produto", fmt.Sprintf("Produto %d não encontrado.", *it.Produto.ID))
			case a.hasVariations(prod.ID):
				bad(46, "produto", fmt.Sprintf("O produto %d possui variações: informe a variação vendida.", prod.ID))
			}
		}
		if it.Descricao == nil || it.Quantidade == nil || it.Valor == nil {
			continue
		}
		item := OrderItem{ID: a.newID(), Codigo: it.Codigo, Unidade: it.Unidade, Quantidade: *it.Quantidade,
			Desconto: it.Desconto, Valor: *it.Valor, AliquotaIPI: it.AliquotaIPI, Descricao: *it.Descricao,
			DescricaoDetalhada: it.DescricaoDetalhada}
		if prod != nil {
			item.Produto = IDRef{ID: prod.ID}
			if item.Codigo == "" {
				item.Codigo = prod.Codigo
			}
		}
		if item.Unidade == "" {
			item.Unidade = "UN"
		}
		totalProdutos = totalProdutos.Add(it.Quantidade.Mul(it.Valor.Decimal))
		items = append(items, item)
	}
	if len(itemErrs) > 0 {
		fe.list = append(fe.list, ErrorField{Code: 47, Msg: "Um ou mais itens da venda possuem erros de validação",
			Element: "itens", Namespace: "VENDAS", Collection: itemErrs})
	}

	// Totals.
	totalProdutos = totalProdutos.Round(2)
	discount := OrderDiscount{Unidade: "REAL"}
	if in.Desconto != nil {
		discount = *in.Desconto
		if discount.Unidade == "" {
			discount.Unidade = "REAL"
		}
	}
	discountValue := discount.Valor.Decimal
	switch discount.Unidade {
	case "REAL":
	case "PERCENTUAL":
		discountValue = totalProdutos.Mul(discountValue).Div(decimal.NewFromInt(100)).Round(2)
	default:
		fe.add(50, "desconto.unidade", "A unidade do desconto deve ser REAL ou PERCENTUAL.")
	}
	if discount.Valor.IsNegative() {
		fe.add(51, "desconto.valor", "O desconto não pode ser negativo.")
	}
	total := totalProdutos.Sub(discountValue).Add(in.Transporte.Frete.Decimal).Add(in.OutrasDespesas.Decimal).Round(2)
	if total.IsNegative() {
		fe.add(52, "total", "O total da venda não pode ser negativo.")
	}

	// Installments.
	var parcels []Installment
	var parcelErrs []ErrorFieldItem
	sumParcels := decimal.Zero
	if len(in.Parcelas) == 0 {
		fe.add(48, "parcelas", "A venda deve conter ao menos uma parcela.")
	}
	for i, p := range in.Parcelas {
		bad := func(code int, element, msg string) {
			parcelErrs = append(parcelErrs, ErrorFieldItem{Index: i + 1, Code: code, Msg: msg, Element: element, Namespace: "VENDAS"})
		}
		if p.DataVencimento == nil || !validDate(*p.DataVencimento) {
			bad(13, "dataVencimento", "A data de vencimento da parcela deve ser uma data válida no formato AAAA-MM-DD.")
		}
		if p.Valor == nil || !p.Valor.IsPositive() {
			bad(14, "valor", "O valor da parcela deve ser maior que zero.")
		}
		if p.FormaPagamento == nil || p.FormaPagamento.ID == nil ||
			!slices.ContainsFunc(a.payments, func(pm PaymentMethod) bool { return pm.ID == *p.FormaPagamento.ID }) {
			bad(12, "formaPagamento", "Id da forma de pagamento inválido.")
		}
		if p.DataVencimento == nil || p.Valor == nil || p.FormaPagamento == nil || p.FormaPagamento.ID == nil {
			continue
		}
		sumParcels = sumParcels.Add(p.Valor.Decimal)
		parcels = append(parcels, Installment{ID: a.newID(), DataVencimento: *p.DataVencimento, Valor: *p.Valor,
			Observacoes: p.Observacoes, Caut: p.Caut, FormaPagamento: IDRef{ID: *p.FormaPagamento.ID}})
	}
	if len(parcelErrs) > 0 {
		fe.list = append(fe.list, ErrorField{Code: 49, Msg: "Uma ou mais parcelas da venda possuem erros de validação",
			Element: "parcelas", Namespace: "VENDAS", Collection: parcelErrs})
	} else if len(in.Parcelas) > 0 && len(items) > 0 && len(itemErrs) == 0 && !sumParcels.Equal(total) {
		fe.add(53, "parcelas", fmt.Sprintf("A soma das parcelas (%s) difere do total da venda (%s).",
			sumParcels.StringFixed(2), total.StringFixed(2)))
	}

	et := in.Transporte.Etiqueta
	checkAddress(&fe, "transporte.etiqueta", et.UF, et.CEP)

	if len(fe.list) > 0 {
		return errReply(http.StatusBadRequest, apiError{Type: TypeValidation,
			Message: "Não foi possível salvar a venda", Description: "A venda não pode ser salva, pois ocorreram problemas em sua validação.",
			Fields: fe.list})
	}

	numero := a.nextNumero
	if in.Numero != nil && *in.Numero != 0 {
		numero = *in.Numero
	}
	if numero >= a.nextNumero {
		a.nextNumero = numero + 1
	}
	o := &Order{
		ID: a.newID(), Numero: numero, NumeroLoja: in.NumeroLoja,
		Data: dates["data"], DataSaida: dates["dataSaida"], DataPrevista: dates["dataPrevista"],
		TotalProdutos: Number{totalProdutos}, Total: Number{total},
		Contato:            OrderContact{ID: contact.ID, Nome: contact.Nome, TipoPessoa: contact.Tipo, NumeroDocumento: contact.NumeroDocumento},
		Situacao:           OrderStatus{ID: orderStatusOpen, Valor: 0},
		NumeroPedidoCompra: in.NumeroPedidoCompra, OutrasDespesas: in.OutrasDespesas,
		Observacoes: in.Observacoes, ObservacoesInternas: in.ObservacoesInternas,
		Desconto: discount, Itens: items, Parcelas: parcels, Transporte: in.Transporte,
		CreatedAt: s.now(),
	}
	if in.Loja != nil {
		o.Loja = *in.Loja
	}
	if in.Situacao != nil && in.Situacao.ID != 0 {
		o.Situacao.ID = in.Situacao.ID
	}
	a.orders[o.ID] = o
	s.opts.Logger.Debug("bling sandbox: order created", "client_id", a.ClientID, "id", o.ID, "numeroLoja", o.NumeroLoja)
	rep := dataReply(http.StatusCreated, map[string]any{"id": o.ID, "alertas": []ErrorField{}})
	rep.committed = o.ID
	return rep
}

func validDate(s string) bool {
	if !hasShape(s, "dddd-dd-dd") {
		return false
	}
	_, err := time.Parse(dateLayout, s)
	return err == nil
}

func (s *Sim) listOrders(r *http.Request, a *account) reply {
	q := newQuery(r.URL.Query(), s.loc)
	pagina := q.int("pagina", 1, 1, maxPage)
	limite := q.int("limite", 100, 1, 100)
	idContato := q.id("idContato")
	idLoja := q.id("idLoja")
	situacoes := q.ids("idsSituacoes[]")
	numero := q.id("numero")
	from, to := q.dateRange("dataInicial", "dataFinal")
	prevFrom, prevTo := q.dateRange("dataPrevistaInicial", "dataPrevistaFinal")
	altFrom, altTo := q.dateTimeRange("dataAlteracaoInicial", "dataAlteracaoFinal")
	numerosLojas := q.v["numerosLojas[]"]
	if q.failed() {
		return q.reply()
	}
	list := make([]*Order, 0, len(a.orders))
	for _, o := range a.orders {
		list = append(list, o)
	}
	slices.SortFunc(list, func(x, y *Order) int { return -cmpInt(x.ID, y.ID) })
	out := []OrderSummary{}
	for _, o := range list {
		if idContato != 0 && o.Contato.ID != idContato ||
			idLoja != 0 && o.Loja.ID != idLoja ||
			len(situacoes) > 0 && !slices.Contains(situacoes, o.Situacao.ID) ||
			numero != 0 && o.Numero != numero ||
			len(numerosLojas) > 0 && !s.matchesAny(numerosLojas, o.NumeroLoja) ||
			!s.dateIn(o.Data, from, to) || !s.dateIn(o.DataPrevista, prevFrom, prevTo) ||
			!inRange(o.CreatedAt, altFrom, altTo) {
			continue
		}
		out = append(out, OrderSummary{ID: o.ID, Numero: o.Numero, NumeroLoja: o.NumeroLoja, Data: o.Data,
			DataSaida: o.DataSaida, DataPrevista: o.DataPrevista, TotalProdutos: o.TotalProdutos, Total: o.Total,
			Contato: o.Contato, Situacao: o.Situacao, Loja: o.Loja})
	}
	return dataReply(http.StatusOK, page(out, pagina, limite))
}

func (s *Sim) dateIn(date string, from, to time.Time) bool {
	if from.IsZero() && to.IsZero() {
		return true
	}
	t, err := time.ParseInLocation(dateLayout, date, s.loc)
	return err == nil && inRange(t, from, to)
}

func (s *Sim) getOrder(r *http.Request, a *account) reply {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return paramReply("idPedidoVenda", "deve ser um número inteiro")
	}
	o := a.orders[id]
	if o == nil {
		return notFoundReply("Pedido de venda")
	}
	return dataReply(http.StatusOK, cloneOrder(o))
}

func cloneOrder(o *Order) Order {
	out := *o
	out.Itens = slices.Clone(o.Itens)
	out.Parcelas = slices.Clone(o.Parcelas)
	out.Transporte.Volumes = slices.Clone(o.Transporte.Volumes)
	if out.Itens == nil {
		out.Itens = []OrderItem{}
	}
	if out.Parcelas == nil {
		out.Parcelas = []Installment{}
	}
	return out
}

// Orders returns the account's sales orders ordered by id.
func (s *Sim) Orders(clientID string) []Order {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.accounts[clientID]
	if a == nil {
		return nil
	}
	out := make([]Order, 0, len(a.orders))
	for _, o := range a.orders {
		out = append(out, cloneOrder(o))
	}
	slices.SortFunc(out, func(x, y Order) int { return cmpInt(x.ID, y.ID) })
	return out
}
