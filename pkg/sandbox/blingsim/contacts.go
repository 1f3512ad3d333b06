package blingsim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

const maxBody = 1 << 20

// readJSON decodes the request body into v, or returns Bling's refusal.
func readJSON(r *http.Request, v any) (reply, bool) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil || len(body) > maxBody {
		return errReply(http.StatusBadRequest, apiError{Type: TypeInvalidBody,
			Message: "Corpo da requisição inválido", Description: "Não foi possível ler o corpo da requisição."}), false
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return errReply(http.StatusBadRequest, apiError{Type: TypeEmptyBody,
			Message: "Corpo da requisição vazio", Description: "O corpo da requisição não foi informado."}), false
	}
	if err := json.Unmarshal(body, v); err != nil {
		return errReply(http.StatusBadRequest, apiError{Type: TypeInvalidBody,
			Message: "Corpo da requisição inválido", Description: "JSON inválido: " + err.Error()}), false
	}
	return reply{}, true
}

// fieldErrors collects the complaints of one validation.
type fieldErrors struct {
	namespace string
	list      []ErrorField
}

func (f *fieldErrors) add(code int, element, msg string) {
	f.list = append(f.list, ErrorField{Code: code, Msg: msg, Element: element, Namespace: f.namespace, Collection: []ErrorFieldItem{}})
}

type contactInput struct {
	Nome            string         `json:"nome"`
	Codigo          string         `json:"codigo"`
	Situacao        string         `json:"situacao"`
	NumeroDocumento string         `json:"numeroDocumento"`
	Telefone        string         `json:"telefone"`
	Celular         string         `json:"celular"`
	Fantasia        string         `json:"fantasia"`
	Tipo            string         `json:"tipo"`
	IndicadorIE     int            `json:"indicadorIe"`
	IE              string         `json:"ie"`
	Email           string         `json:"email"`
	Endereco        ContactAddress `json:"endereco"`
}

func (s *Sim) createContact(r *http.Request, a *account) reply {
	var in contactInput
	if rep, ok := readJSON(r, &in); !ok {
		return rep
	}
	fe := fieldErrors{namespace: "CONTATOS"}
	if strings.TrimSpace(in.Nome) == "" {
		fe.add(2, "nome", "O nome do contato deve ser informado.")
	}
	if !slices.Contains([]string{"F", "J", "E"}, in.Tipo) {
		fe.add(3, "tipo", "O tipo de pessoa deve ser F (física), J (jurídica) ou E (estrangeira).")
	}
	doc, ok := digitsOnly(in.NumeroDocumento)
	switch {
	case in.NumeroDocumento == "":
	case !ok:
		fe.add(4, "numeroDocumento", "O CPF/CNPJ deve conter apenas números.")
	case in.Tipo == "F" && !ValidCPF(doc):
		fe.add(4, "numeroDocumento", "O CPF informado é inválido.")
	case in.Tipo == "J" && !ValidCNPJ(doc):
		fe.add(4, "numeroDocumento", "O CNPJ informado é inválido.")
	}
	if doc != "" && in.Tipo != "E" {
		for _, c := range a.contacts {
			if c.NumeroDocumento == doc {
				fe.add(5, "numeroDocumento", fmt.Sprintf("O CPF/CNPJ %s já está cadastrado no contato %s.", formatDocument(doc), c.Nome))
				break
			}
		}
	}
	switch in.IndicadorIE {
	case 0, 2, 9:
	case 1:
		if strings.TrimSpace(in.IE) == "" {
			fe.add(6, "ie", "A inscrição estadual deve ser informada para contribuintes do ICMS.")
		}
	default:
		fe.add(6, "indicadorIe", "O indicador de IE deve ser 1, 2 ou 9.")
	}
	if in.Email != "" && !plausibleEmail(in.Email) {
		fe.add(7, "email", "O e-mail informado é inválido.")
	}
	checkAddress(&fe, "endereco.geral", in.Endereco.Geral.UF, in.Endereco.Geral.CEP)
	checkAddress(&fe, "endereco.cobranca", in.Endereco.Cobranca.UF, in.Endereco.Cobranca.CEP)
	if len(fe.list) > 0 {
		slices.SortStableFunc(fe.list, func(x, y ErrorField) int { return x.Code - y.Code })
		return errReply(http.StatusBadRequest, apiError{Type: TypeValidation,
			Message: "Não foi possível salvar o contato", Description: "O contato não pode ser salvo, pois ocorreram problemas em sua validação.",
			Fields: fe.list})
	}
	c := &Contact{
		ID: a.newID(), Nome: strings.TrimSpace(in.Nome), Codigo: in.Codigo, Situacao: "A",
		NumeroDocumento: doc, Telefone: in.Telefone, Celular: in.Celular, Fantasia: in.Fantasia,
		Tipo: in.Tipo, IndicadorIE: in.IndicadorIE, IE: in.IE, Email: in.Email, Endereco: in.Endereco,
		CreatedAt: s.now(),
	}
	if c.IndicadorIE == 0 {
		c.IndicadorIE = 9
	}
	a.contacts[c.ID] = c
	return dataReply(http.StatusCreated, map[string]int64{"id": c.ID})
}

func checkAddress(fe *fieldErrors, name, uf, cep string) {
	if uf != "" && !ValidUF(uf) {
		fe.add(8, name+".uf", "UF inválida: "+uf+".")
	}
	if cep != "" {
		if d, ok := digitsOnly(cep); !ok || len(d) != 8 {
			fe.add(9, name+".cep", "CEP inválido: deve ter 8 dígitos.")
		}
	}
}

func plausibleEmail(s string) bool {
	at := strings.LastIndexByte(s, '@')
	return at > 0 && strings.Contains(s[at+1:], ".") && !strings.ContainsAny(s, " ,;")
}

func (s *Sim) listContacts(r *http.Request, a *account) reply {
	q := newQuery(r.URL.Query(), s.loc)
	pagina := q.int("pagina", 1, 1, maxPage)
	limite := q.int("limite", 100, 1, 100)
	criterio := q.int("criterio", 3, 1, 4)
	tipoPessoa, hasTipo := q.optInt("tipoPessoa", 1, 3)
	ids := q.ids("idsContatos[]")
	incFrom, incTo := q.dateTimeRange("dataInclusaoInicial", "dataInclusaoFinal")
	q.dateTimeRange("dataAlteracaoInicial", "dataAlteracaoFinal")
	doc := ""
	if q.v.Has("numeroDocumento") {
		d, ok := digitsOnly(q.v.Get("numeroDocumento"))
		if !ok || d == "" {
			q.fail("numeroDocumento", "deve conter apenas os dígitos do CPF/CNPJ")
		}
		doc = d
	}
	pesquisa := strings.ToLower(q.v.Get("pesquisa"))
	uf := q.v.Get("uf")
	if q.failed() {
		return q.reply()
	}
	out := []ContactSummary{}
	if criterio == 2 {
		return dataReply(http.StatusOK, out) // no deleted contacts in the Sim
	}
	list := make([]*Contact, 0, len(a.contacts))
	for _, c := range a.contacts {
		list = append(list, c)
	}
	slices.SortFunc(list, func(x, y *Contact) int { return -cmpInt(x.ID, y.ID) })
	for _, c := range list {
		if doc != "" && c.NumeroDocumento != doc ||
			hasTipo && c.Tipo != []string{"", "F", "J", "E"}[tipoPessoa] ||
			len(ids) > 0 && !slices.Contains(ids, c.ID) ||
			uf != "" && c.Endereco.Geral.UF != uf ||
			!inRange(c.CreatedAt, incFrom, incTo) ||
			pesquisa != "" && !contactMatches(c, pesquisa) {
			continue
		}
		out = append(out, ContactSummary{ID: c.ID, Nome: c.Nome, Codigo: c.Codigo, Situacao: c.Situacao,
			NumeroDocumento: formatDocument(c.NumeroDocumento), Telefone: c.Telefone, Celular: c.Celular})
	}
	return dataReply(http.StatusOK, page(out, pagina, limite))
}

func contactMatches(c *Contact, term string) bool {
	for _, f := range []string{c.Nome, c.Fantasia, c.Email, c.Codigo, c.NumeroDocumento, formatDocument(c.NumeroDocumento)} {
		if strings.Contains(strings.ToLower(f), term) {
			return true
		}
	}
	return false
}

func (s *Sim) getContact(r *http.Request, a *account) reply {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return paramReply("idContato", "deve ser um número inteiro")
	}
	c := a.contacts[id]
	if c == nil {
		return notFoundReply("Contato")
	}
	out := *c
	out.NumeroDocumento = formatDocument(c.NumeroDocumento)
	return dataReply(http.StatusOK, out)
}

// Contacts returns the account's contacts ordered by id, documents as digits.
func (s *Sim) Contacts(clientID string) []Contact {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.accounts[clientID]
	if a == nil {
		return nil
	}
	out := make([]Contact, 0, len(a.contacts))
	for _, c := range a.contacts {
		out = append(out, *c)
	}
	slices.SortFunc(out, func(x, y Contact) int { return cmpInt(x.ID, y.ID) })
	return out
}
