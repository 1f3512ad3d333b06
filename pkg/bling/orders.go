package bling

import (
	"context"
	"encoding/json"
	"net/url"
	"strconv"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/cazbling/cazbling/pkg/cazbling"
)

// maxStoreNumbers is the batch size of numerosLojas[] look-ups.
const maxStoreNumbers = 50

// Company returns the account's company (GET /empresas/me/dados-basicos): a cheap call
// that proves the credentials work.
func (c *Client) Company(ctx context.Context) (cazbling.Company, error) {
	var env envelope[obj[struct {
		ID    jsonText `json:"id"`
		Nome  jsonText `json:"nome"`
		Cnpj  jsonText `json:"cnpj"`
		Email jsonText `json:"email"`
	}]]
	if _, err := c.do(ctx, get("/empresas/me/dados-basicos", nil), &env); err != nil {
		return cazbling.Company{}, err
	}
	d := env.Data.V
	return cazbling.Company{ID: string(d.ID), Name: string(d.Nome), Document: string(d.Cnpj), Email: string(d.Email)}, nil
}

type paymentMethodJSON struct {
	ID            jsonID   `json:"id"`
	Descricao     jsonText `json:"descricao"`
	TipoPagamento jsonCode `json:"tipoPagamento"`
	Situacao      jsonCode `json:"situacao"`
	Padrao        jsonCode `json:"padrao"` // 0 no, 1 default, 2 default for returns
}

// PaymentMethods lists the account's formas de pagamento (GET /formas-pagamentos).
func (c *Client) PaymentMethods(ctx context.Context) ([]cazbling.PaymentMethod, error) {
	items, err := collect[paymentMethodJSON](ctx, c, "/formas-pagamentos", nil)
	if err != nil {
		return nil, err
	}
	out := make([]cazbling.PaymentMethod, 0, len(items))
	for _, p := range items {
		out = append(out, cazbling.PaymentMethod{
			ID: int64(p.ID), Description: string(p.Descricao), Type: int(p.TipoPagamento),
			Status: int(p.Situacao), Default: p.Padrao == 1,
		})
	}
	return out, nil
}

type contactJSON struct {
	ID              jsonID   `json:"id"`
	Nome            jsonText `json:"nome"`
	Situacao        jsonText `json:"situacao"`
	NumeroDocumento jsonText `json:"numeroDocumento"`
	Telefone        jsonText `json:"telefone"`
	Celular         jsonText `json:"celular"`
	Tipo            jsonText `json:"tipo"`
	Email           jsonText `json:"email"`
}

// ContactByDocument finds a contact by CPF/CNPJ digits (GET /contatos?numeroDocumento=
// &criterio=1), keeping only contacts whose document digits equal document's exactly.
// An active contact is preferred; deleted ones (situacao E) are not returned.
func (c *Client) ContactByDocument(ctx context.Context, document string) (cazbling.Contact, bool, error) {
	doc := digits(document)
	if doc == "" {
		return cazbling.Contact{}, false, &cazbling.APIError{API: "bling", Op: "GET /contatos", Kind: cazbling.KindValidation,
			Message: "the buyer's document has no digits; a CPF or CNPJ is needed to find the Bling contact"}
	}
	items, err := collect[contactJSON](ctx, c, "/contatos", url.Values{"numeroDocumento": {doc}, "criterio": {"1"}})
	if err != nil {
		return cazbling.Contact{}, false, err
	}
	var best *contactJSON
	for i := range items {
		it := &items[i]
		if digits(string(it.NumeroDocumento)) != doc || it.ID <= 0 || strings.EqualFold(string(it.Situacao), "E") {
			continue
		}
		if best == nil || (!strings.EqualFold(string(best.Situacao), "A") && strings.EqualFold(string(it.Situacao), "A")) {
			best = it
		}
	}
	if best == nil {
		return cazbling.Contact{}, false, nil
	}
	phone := string(best.Telefone)
	if phone == "" {
		phone = string(best.Celular)
	}
	return cazbling.Contact{
		ID: int64(best.ID), Name: string(best.Nome), Type: string(best.Tipo), Document: doc,
		Email: string(best.Email), Phone: phone,
	}, true, nil
}

type addressBody struct {
	Endereco    string `json:"endereco,omitempty"`
	Numero      string `json:"numero,omitempty"`
	Complemento string `json:"complemento,omitempty"`
	Bairro      string `json:"bairro,omitempty"`
	Cep         string `json:"cep,omitempty"`
	Municipio   string `json:"municipio,omitempty"`
	Uf          string `json:"uf,omitempty"`
}

type contactBody struct {
	Nome            string `json:"nome"`
	Tipo            string `json:"tipo"`
	Situacao        string `json:"situacao"`
	NumeroDocumento string `json:"numeroDocumento,omitempty"`
	Email           string `json:"email,omitempty"`
	Telefone        string `json:"telefone,omitempty"`
	Celular         string `json:"celular,omitempty"`
	Ie              string `json:"ie,omitempty"`
	IndicadorIe     int    `json:"indicadorIe,omitempty"`
	Endereco        *struct {
		Geral addressBody `json:"geral"`
	} `json:"endereco,omitempty"`
	Pais *struct {
		Nome string `json:"nome"`
	} `json:"pais,omitempty"`
}

// CreateContact creates a contact (POST /contatos) and returns its id. It is never
// re-sent after a 5xx or a network error. The type is inferred from the document when
// empty (11 digits F, 14 digits J). A mobile number (DDD + 9 digits starting with 9) is
// sent as celular, any other as telefone.
func (c *Client) CreateContact(ctx context.Context, ct cazbling.Contact) (int64, error) {
	const op = "POST /contatos"
	doc := digits(ct.Document)
	tipo := strings.ToUpper(strings.TrimSpace(ct.Type))
	if tipo == "" {
		switch len(doc) {
		case 11:
			tipo = "F"
		case 14:
			tipo = "J"
		}
	}
	switch {
	case strings.TrimSpace(ct.Name) == "":
		return 0, &cazbling.APIError{API: "bling", Op: op, Kind: cazbling.KindValidation, Message: "the contact has no name"}
	case tipo == "":
		return 0, &cazbling.APIError{API: "bling", Op: op, Kind: cazbling.KindValidation,
			Message: "the contact's type (F, J or E) is unknown and its document is neither a CPF nor a CNPJ"}
	}
	body := contactBody{
		Nome: strings.TrimSpace(ct.Name), Tipo: tipo, Situacao: "A", NumeroDocumento: doc,
		Email: strings.TrimSpace(ct.Email), Ie: strings.TrimSpace(ct.IE), IndicadorIe: ct.IEIndicator,
	}
	if isMobile(ct.Phone) {
		body.Celular = strings.TrimSpace(ct.Phone)
	} else {
		body.Telefone = strings.TrimSpace(ct.Phone)
	}
	if a := ct.Address; a != (cazbling.Address{}) {
		body.Endereco = &struct {
			Geral addressBody `json:"geral"`
		}{Geral: addressBody{
			Endereco: a.Street, Numero: a.Number, Complemento: a.Complement, Bairro: a.Neighborhood,
			Cep: digits(a.Postcode), Municipio: a.City, Uf: strings.ToUpper(strings.TrimSpace(a.State)),
		}}
		if tipo == "E" && strings.TrimSpace(a.Country) != "" {
			body.Pais = &struct {
				Nome string `json:"nome"`
			}{Nome: strings.TrimSpace(a.Country)}
		}
	}
	return c.create(ctx, "/contatos", body)
}

// isMobile reports whether phone is a Brazilian mobile number: DDD plus nine digits
// starting with 9, with or without the country code 55.
func isMobile(phone string) bool {
	d := digits(phone)
	if len(d) == 13 && strings.HasPrefix(d, "55") {
		d = d[2:]
	}
	return len(d) == 11 && d[2] == '9'
}

type orderRefJSON struct {
	ID         jsonID   `json:"id"`
	Numero     jsonText `json:"numero"`
	NumeroLoja jsonText `json:"numeroLoja"`
	Loja       obj[struct {
		ID jsonID `json:"id"`
	}] `json:"loja"`
}

// OrdersByStoreNumbers finds sales orders whose numeroLoja is exactly one of numbers
// (GET /pedidos/vendas?numerosLojas[]=, 50 a call, paging until a short page) and, when
// storeID is not 0, whose loja is storeID (also sent as idLoja).
func (c *Client) OrdersByStoreNumbers(ctx context.Context, numbers []string, storeID int64) ([]cazbling.ERPOrderRef, error) {
	want := map[string]bool{}
	var asked []string
	for _, n := range numbers {
		if n != "" && !want[n] {
			want[n] = true
			asked = append(asked, n)
		}
	}
	var out []cazbling.ERPOrderRef
	seen := map[int64]bool{}
	for _, batch := range batches(asked, maxStoreNumbers, "numerosLojas[]") {
		q := url.Values{"numerosLojas[]": batch}
		if storeID != 0 {
			q.Set("idLoja", strconv.FormatInt(storeID, 10))
		}
		items, err := collect[orderRefJSON](ctx, c, "/pedidos/vendas", q)
		if err != nil {
			return nil, err
		}
		for _, o := range items {
			ref := cazbling.ERPOrderRef{ID: int64(o.ID), Number: string(o.Numero), StoreNumber: string(o.NumeroLoja), StoreID: int64(o.Loja.V.ID)}
			if !want[ref.StoreNumber] || ref.ID <= 0 || seen[ref.ID] || (storeID != 0 && ref.StoreID != storeID) {
				continue
			}
			seen[ref.ID] = true
			out = append(out, ref)
		}
	}
	return out, nil
}

type idRef struct {
	ID int64 `json:"id"`
}

type orderBody struct {
	NumeroLoja   string            `json:"numeroLoja"`
	Data         string            `json:"data"`
	DataSaida    string            `json:"dataSaida"`
	DataPrevista string            `json:"dataPrevista"`
	Contato      idRef             `json:"contato"`
	Loja         *idRef            `json:"loja,omitempty"`
	Itens        []orderItemBody   `json:"itens"`
	Desconto     *orderDiscount    `json:"desconto,omitempty"`
	Transporte   orderTransport    `json:"transporte"`
	Parcelas     []orderInstalment `json:"parcelas"`
	Observacoes  string            `json:"observacoes,omitempty"`
}

type orderItemBody struct {
	Codigo     string      `json:"codigo,omitempty"`
	Descricao  string      `json:"descricao"`
	Unidade    string      `json:"unidade"`
	Quantidade json.Number `json:"quantidade"`
	Valor      json.Number `json:"valor"`
	Produto    *idRef      `json:"produto,omitempty"`
}

type orderDiscount struct {
	Valor   json.Number `json:"valor"`
	Unidade string      `json:"unidade"`
}

type orderTransport struct {
	FretePorConta int         `json:"fretePorConta"`
	Frete         json.Number `json:"frete"`
	Contato       *struct {
		Nome string `json:"nome"`
	} `json:"contato,omitempty"`
	Etiqueta *orderLabel `json:"etiqueta,omitempty"`
}

type orderLabel struct {
	Nome        string `json:"nome,omitempty"`
	Endereco    string `json:"endereco,omitempty"`
	Numero      string `json:"numero,omitempty"`
	Complemento string `json:"complemento,omitempty"`
	Municipio   string `json:"municipio,omitempty"`
	Uf          string `json:"uf,omitempty"`
	Cep         string `json:"cep,omitempty"`
	Bairro      string `json:"bairro,omitempty"`
}

type orderInstalment struct {
	DataVencimento string      `json:"dataVencimento"`
	Valor          json.Number `json:"valor"`
	FormaPagamento *idRef      `json:"formaPagamento,omitempty"`
}

// money writes d as a JSON number exactly: two decimals when that loses nothing
// ("0.30"), every digit otherwise (never rounded).
func money(d decimal.Decimal) json.Number {
	if d.Equal(d.Round(2)) {
		return json.Number(d.StringFixed(2))
	}
	return json.Number(d.String())
}

// orderRequest builds the body of POST /pedidos/vendas (VendasDadosBaseDTO +
// VendasDadosDTO). Choices, checked against the spec:
//   - numero is never sent (a reused numero fails the POST; Bling numbers the order).
//   - Dates are São Paulo dates; dataSaida defaults to data, dataPrevista to dataSaida
//     (the spec requires all three).
//   - itens[].desconto is a percentage in the spec ("Valor percentual"), while
//     SalesOrderItem.Discount is the line's discount in reais. Converting would round, so
//     item discounts are added to the order's desconto {valor, unidade: "REAL"} instead:
//     the order total stays exact.
//   - transporte.fretePorConta is 0, "Contratação do Frete por conta do Remetente
//     (CIF)": the seller ships and the buyer paid the freight in the order.
//   - The carrier's name goes in transporte.contato.nome (VendasTransporteContatoDTO, the
//     transportadora; only nome is required).
//   - parcelas[].formaPagamento is left out when PaymentMethodID is 0 (Bling's default).
func (c *Client) orderRequest(o cazbling.SalesOrder) (orderBody, error) {
	const op = "POST /pedidos/vendas"
	invalid := func(msg string) error {
		return &cazbling.APIError{API: "bling", Op: op, Kind: cazbling.KindValidation, Message: msg}
	}
	switch {
	case strings.TrimSpace(o.StoreNumber) == "":
		return orderBody{}, invalid("the order has no store number (numeroLoja); it is needed to find the order again")
	case o.ContactID <= 0:
		return orderBody{}, invalid("the order has no Bling contact")
	case len(o.Items) == 0:
		return orderBody{}, invalid("the order has no items")
	case len(o.Installments) == 0:
		return orderBody{}, invalid("the order has no installments (parcelas), which Bling requires")
	}
	date := o.Date
	if date.IsZero() {
		date = c.now()
	}
	ship := o.ShipDate
	if ship.IsZero() {
		ship = date
	}
	expected := o.ExpectedDate
	if expected.IsZero() {
		expected = ship
	}
	b := orderBody{
		NumeroLoja:   o.StoreNumber,
		Data:         saoPauloDate(date),
		DataSaida:    saoPauloDate(ship),
		DataPrevista: saoPauloDate(expected),
		Contato:      idRef{ID: o.ContactID},
		Observacoes:  o.Notes,
	}
	if o.StoreID != 0 {
		b.Loja = &idRef{ID: o.StoreID}
	}
	discount := o.Discount
	for _, it := range o.Items {
		if strings.TrimSpace(it.Description) == "" {
			return orderBody{}, invalid("an item of the order has no description")
		}
		if !it.Quantity.IsPositive() {
			return orderBody{}, invalid("an item of the order has a quantity that is not positive")
		}
		unit := strings.TrimSpace(it.Unit)
		if unit == "" {
			unit = "UN"
		}
		item := orderItemBody{
			Codigo: it.SKU, Descricao: it.Description, Unidade: unit,
			Quantidade: json.Number(it.Quantity.String()), Valor: money(it.UnitPrice),
		}
		if it.ProductID != 0 {
			item.Produto = &idRef{ID: it.ProductID}
		}
		b.Itens = append(b.Itens, item)
		discount = discount.Add(it.Discount)
	}
	if !discount.IsZero() {
		b.Desconto = &orderDiscount{Valor: money(discount), Unidade: "REAL"}
	}
	b.Transporte = orderTransport{FretePorConta: 0, Frete: money(o.Freight)}
	if name := strings.TrimSpace(o.Carrier); name != "" {
		b.Transporte.Contato = &struct {
			Nome string `json:"nome"`
		}{Nome: name}
	}
	if a := o.ShipTo; a != (cazbling.Address{}) {
		b.Transporte.Etiqueta = &orderLabel{
			Nome: a.Recipient, Endereco: a.Street, Numero: a.Number, Complemento: a.Complement,
			Municipio: a.City, Uf: strings.ToUpper(strings.TrimSpace(a.State)), Cep: digits(a.Postcode), Bairro: a.Neighborhood,
		}
	}
	for _, in := range o.Installments {
		p := orderInstalment{DataVencimento: saoPauloDate(in.DueDate), Valor: money(in.Amount)}
		if in.DueDate.IsZero() {
			p.DataVencimento = b.Data
		}
		if in.PaymentMethodID != 0 {
			p.FormaPagamento = &idRef{ID: in.PaymentMethodID}
		}
		b.Parcelas = append(b.Parcelas, p)
	}
	return b, nil
}

// CreateOrder files a sales order (POST /pedidos/vendas) and returns its id. See
// orderRequest for how SalesOrder maps to Bling's fields; SalesOrderItem.Discount is the
// line's discount in reais. The POST is repeated only after a 429 (not processed); after
// a 5xx, a network error or an unreadable answer the outcome is unknown and the caller
// must look the order up by its store number before trying again. Bling's alerts are
// logged at warn level.
func (c *Client) CreateOrder(ctx context.Context, o cazbling.SalesOrder) (int64, error) {
	body, err := c.orderRequest(o)
	if err != nil {
		return 0, err
	}
	return c.create(ctx, "/pedidos/vendas", body)
}
