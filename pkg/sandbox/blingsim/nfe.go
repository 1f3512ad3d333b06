package blingsim

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// After the order (issue 17): NF-e, logistics objects (volumes with tracking), the
// sales module's statuses and PATCH of an order's status, with the admin calls that
// make them happen (issue an NF-e, cancel it, add tracking, move an order).
//
// Issuing an NF-e or adding tracking does not move the order's alteration date here,
// as nothing says it does in real accounts: a client must not rely on it.

// Module ids of GET /situacoes/modulos.
const (
	ModuleSales     = 98310
	modulePurchases = 98311
	moduleServices  = 98312
)

// Sales statuses every account has besides "Cancelado" (whose id is per account, so
// that a client must resolve it by name).
const (
	StatusOpen     = orderStatusOpen // Em aberto
	StatusAttended = 9               // Atendido
	StatusProgress = 15              // Em andamento
)

// NFe is a nota fiscal in the wire format of GET /nfe/{id}.
type NFe struct {
	ID          int64  `json:"id"`
	Tipo        int    `json:"tipo"` // 1 saída
	Situacao    int    `json:"situacao"`
	Numero      string `json:"numero"`
	Serie       int    `json:"serie"`
	ChaveAcesso string `json:"chaveAcesso"`
	DataEmissao string `json:"dataEmissao"` // YYYY-MM-DD HH:MM:SS, São Paulo
	ValorNota   Number `json:"valorNota"`
	LinkDanfe   string `json:"linkDanfe"`
	XML         string `json:"xml"`
	NumeroLoja  string `json:"numeroLoja"`
	Contato     IDRef  `json:"contato"`
	PedidoVenda IDRef  `json:"-"`
}

// LogisticsObject is a package in the wire format of GET /logisticas/objetos/{id}.
type LogisticsObject struct {
	ID           int64        `json:"id"`
	PedidoVenda  IDRef        `json:"pedidoVenda"`
	NotaFiscal   IDRef        `json:"notaFiscal"`
	Servico      IDRef        `json:"servico"`
	Rastreamento ObjectTrack  `json:"rastreamento"`
	DataSaida    string       `json:"dataSaida"`
	Dimensao     ObjectDimens `json:"dimensao"`
}

// ObjectTrack is a logistics object's rastreamento.
type ObjectTrack struct {
	Codigo          string `json:"codigo"`
	Descricao       string `json:"descricao"`
	Situacao        int    `json:"situacao"`
	Origem          string `json:"origem"`
	Destino         string `json:"destino"`
	UltimaAlteracao string `json:"ultimaAlteracao"`
	URL             string `json:"url"`
}

// ObjectDimens is a logistics object's dimensao.
type ObjectDimens struct {
	Peso    Number `json:"peso"`
	Altura  Number `json:"altura"`
	Largura Number `json:"largura"`
}

// SalesStatus is a situação of the sales module (GET /situacoes/modulos/{id}).
type SalesStatus struct {
	ID        int64  `json:"id"`
	Nome      string `json:"nome"`
	IDHerdado int64  `json:"idHerdado"`
	Cor       string `json:"cor"`
}

func defaultStatuses(a *account) []SalesStatus {
	canceled := a.newID()
	return []SalesStatus{
		{ID: StatusOpen, Nome: "Em aberto", Cor: "#E9DC40"},
		{ID: StatusAttended, Nome: "Atendido", Cor: "#3FB57A"},
		{ID: canceled, Nome: "Cancelado", Cor: "#CA3F3F"},
		{ID: StatusProgress, Nome: "Em andamento", Cor: "#5C8DD6"},
		// A custom status made by the seller, which Bling treats as a cancellation.
		{ID: a.newID(), Nome: "Cancelado pelo comprador", IDHerdado: canceled, Cor: "#A03030"},
	}
}

func (a *account) statusID(name string) int64 {
	for _, st := range a.statuses {
		if st.Nome == name {
			return st.ID
		}
	}
	return 0
}

// canceledStatus reports whether status id is "Cancelado" or inherits from it.
func (a *account) canceledStatus(id int64) bool {
	c := a.statusID("Cancelado")
	for _, st := range a.statuses {
		if st.ID == id {
			return st.ID == c || st.IDHerdado == c
		}
	}
	return false
}

// authorizedNFe returns the order's NF-e when it is authorized (situacao 5 or 6).
func (a *account) authorizedNFe(o *Order) *NFe {
	if n := a.nfes[o.NotaFiscal.ID]; n != nil && (n.Situacao == 5 || n.Situacao == 6) {
		return n
	}
	return nil
}

func (s *Sim) listModules(r *http.Request, a *account) reply {
	return dataReply(http.StatusOK, []map[string]any{
		{"id": ModuleSales, "nome": "Vendas", "descricao": "Pedidos de Venda", "criarSituacoes": true},
		{"id": modulePurchases, "nome": "Compras", "descricao": "Pedidos de Compra", "criarSituacoes": true},
		{"id": moduleServices, "nome": "Serviços", "descricao": "Ordens de Serviço", "criarSituacoes": false},
	})
}

func (s *Sim) listModuleStatuses(r *http.Request, a *account) reply {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return paramReply("idModuloSistema", "deve ser um número inteiro")
	}
	switch id {
	case ModuleSales:
		return dataReply(http.StatusOK, slices.Clone(a.statuses))
	case modulePurchases, moduleServices:
		return dataReply(http.StatusOK, []SalesStatus{{ID: 1, Nome: "Em aberto"}})
	}
	return notFoundReply("Módulo")
}

// patchOrderStatus moves an order to a sales status. Cancelling an order whose NF-e is
// authorized is refused, as it is in Bling: the NF-e must be cancelled first.
func (s *Sim) patchOrderStatus(r *http.Request, a *account) reply {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return paramReply("idPedidoVenda", "deve ser um número inteiro")
	}
	st, err := strconv.ParseInt(r.PathValue("idSituacao"), 10, 64)
	if err != nil {
		return paramReply("idSituacao", "deve ser um número inteiro")
	}
	o := a.orders[id]
	if o == nil {
		return notFoundReply("Pedido de venda")
	}
	if !slices.ContainsFunc(a.statuses, func(x SalesStatus) bool { return x.ID == st }) {
		return paramReply("idSituacao", "a situação não pertence ao módulo de vendas")
	}
	if a.canceledStatus(st) && a.authorizedNFe(o) != nil {
		return errReply(http.StatusBadRequest, apiError{Type: TypeValidation, Message: "Não foi possível alterar a situação",
			Description: "O pedido possui nota fiscal autorizada; cancele a nota antes de cancelar o pedido."})
	}
	o.Situacao.ID = st
	return reply{status: http.StatusNoContent}
}

func (s *Sim) getNFe(r *http.Request, a *account) reply {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return paramReply("idNotaFiscal", "deve ser um número inteiro")
	}
	n := a.nfes[id]
	if n == nil {
		return notFoundReply("Nota fiscal")
	}
	return dataReply(http.StatusOK, *n)
}

func (s *Sim) getLogisticsObject(r *http.Request, a *account) reply {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return paramReply("idObjeto", "deve ser um número inteiro")
	}
	o := a.objects[id]
	if o == nil {
		return notFoundReply("Objeto")
	}
	return dataReply(http.StatusOK, *o)
}

// ---------------------------------------------------------------- admin

func (s *Sim) lockedOrder(clientID string, orderID int64) (*account, *Order, error) {
	a := s.accounts[clientID]
	if a == nil {
		return nil, nil, fmt.Errorf("unknown bling account %q", clientID)
	}
	o := a.orders[orderID]
	if o == nil {
		return nil, nil, fmt.Errorf("unknown sales order %d", orderID)
	}
	return a, o, nil
}

// OrderByStoreNumber returns the id of the account's order with numeroLoja number.
func (s *Sim) OrderByStoreNumber(clientID, number string) (int64, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.accounts[clientID]
	if a == nil {
		return 0, false
	}
	var ids []int64
	for _, o := range a.orders {
		if o.NumeroLoja == number {
			ids = append(ids, o.ID)
		}
	}
	if len(ids) == 0 {
		return 0, false
	}
	return slices.Min(ids), true
}

// IssueNFe issues and authorizes an NF-e for an order (situacao 5, a valid 44-digit
// key) and sets the order's notaFiscal; an order with an authorized NF-e gets an error.
// The order's alteration date does not move.
func (s *Sim) IssueNFe(clientID string, orderID int64) (NFe, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, o, err := s.lockedOrder(clientID, orderID)
	if err != nil {
		return NFe{}, err
	}
	if a.authorizedNFe(o) != nil {
		return NFe{}, fmt.Errorf("order %d already has an authorized NF-e", orderID)
	}
	if a.canceledStatus(o.Situacao.ID) {
		return NFe{}, fmt.Errorf("order %d is cancelled", orderID)
	}
	id := a.newID()
	numero := strconv.Itoa(1000 + len(a.nfes))
	n := &NFe{
		ID: id, Tipo: 1, Situacao: 5, Numero: numero, Serie: 1,
		ChaveAcesso: AccessKey(a.CNPJ, s.now().In(s.loc), numero, id),
		DataEmissao: s.now().In(s.loc).Format(dateTimeLayout), ValorNota: o.Total,
		LinkDanfe:  fmt.Sprintf("https://www.bling.com.br/doc.view.php?id=%d", id),
		XML:        fmt.Sprintf("https://www.bling.com.br/relatorios/nfe.xml.php?chaveAcesso=%d", id),
		NumeroLoja: o.NumeroLoja, Contato: IDRef{ID: o.Contato.ID}, PedidoVenda: IDRef{ID: o.ID},
	}
	a.nfes[id] = n
	o.NotaFiscal = IDRef{ID: id}
	return *n, nil
}

// CancelNFe cancels an order's NF-e (situacao 2). The order keeps its notaFiscal id.
func (s *Sim) CancelNFe(clientID string, orderID int64) (NFe, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, o, err := s.lockedOrder(clientID, orderID)
	if err != nil {
		return NFe{}, err
	}
	n := a.nfes[o.NotaFiscal.ID]
	if n == nil {
		return NFe{}, fmt.Errorf("order %d has no NF-e", orderID)
	}
	n.Situacao = 2
	return *n, nil
}

// AddTracking adds a volume with a tracking code to an order (a logistics object
// with the same id). The order's alteration date does not move.
func (s *Sim) AddTracking(clientID string, orderID int64, code, service string) (Volume, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, o, err := s.lockedOrder(clientID, orderID)
	if err != nil {
		return Volume{}, err
	}
	if code = strings.TrimSpace(code); code == "" {
		return Volume{}, fmt.Errorf("empty tracking code")
	}
	if service == "" {
		service = "SEDEX"
	}
	v := Volume{ID: a.newID(), Servico: service, CodigoRastreamento: code}
	o.Transporte.Volumes = append(o.Transporte.Volumes, v)
	o.Transporte.QuantidadeVolumes = len(o.Transporte.Volumes)
	a.objects[v.ID] = &LogisticsObject{
		ID: v.ID, PedidoVenda: IDRef{ID: o.ID}, NotaFiscal: o.NotaFiscal, Servico: IDRef{ID: 1},
		Rastreamento: ObjectTrack{Codigo: code, Descricao: "Postado", Situacao: 0,
			UltimaAlteracao: s.now().In(s.loc).Format(dateTimeLayout), URL: "https://rastreamento.correios.com.br/app/index.php?objeto=" + code},
		DataSaida: s.now().In(s.loc).Format(dateLayout),
	}
	return v, nil
}

// SetOrderStatusName moves an order to the sales status called name (as the seller
// does in Bling, with no check).
func (s *Sim) SetOrderStatusName(clientID string, orderID int64, name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, o, err := s.lockedOrder(clientID, orderID)
	if err != nil {
		return err
	}
	id := a.statusID(name)
	if id == 0 {
		return fmt.Errorf("no sales status named %q", name)
	}
	o.Situacao.ID = id
	return nil
}

// OrderState is an order's status name and NF-e, for tests.
func (s *Sim) OrderState(clientID string, orderID int64) (status string, canceled bool, nfe NFe, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, o, err := s.lockedOrder(clientID, orderID)
	if err != nil {
		return "", false, NFe{}, err
	}
	for _, st := range a.statuses {
		if st.ID == o.Situacao.ID {
			status = st.Nome
		}
	}
	if n := a.nfes[o.NotaFiscal.ID]; n != nil {
		nfe = *n
	}
	return status, a.canceledStatus(o.Situacao.ID), nfe, nil
}

// TrashProduct deletes a product (and its variations) as the seller does in Bling,
// keeping it so that RestoreProduct can bring it back with the same id.
func (s *Sim) TrashProduct(clientID string, id int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.accounts[clientID]
	if a == nil {
		return fmt.Errorf("unknown bling account %q", clientID)
	}
	p := a.products[id]
	if p == nil {
		return fmt.Errorf("unknown product %d", id)
	}
	first := cloneProduct(p)
	kept := []*Product{&first}
	for _, c := range a.children(id) {
		cp := cloneProduct(a.products[c.ID])
		kept = append(kept, &cp)
		a.deleteProduct(c.ID)
	}
	stock := map[int64]map[int64]*stockEntry{}
	for _, p := range kept {
		stock[p.ID] = a.stock[p.ID]
	}
	a.deleteProduct(id)
	a.trash[id] = trashed{products: kept, stock: stock}
	return nil
}

// trashed is a deleted product kept for RestoreProduct, with its variations and stock.
type trashed struct {
	products []*Product
	stock    map[int64]map[int64]*stockEntry
}

// RestoreProduct brings a trashed product back with its id and stock; its alteration
// date is now (nothing says Bling does so; cazbling's product walk finds it by it).
func (s *Sim) RestoreProduct(clientID string, id int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.accounts[clientID]
	if a == nil {
		return fmt.Errorf("unknown bling account %q", clientID)
	}
	kept, ok := a.trash[id]
	if !ok {
		return fmt.Errorf("product %d is not in the trash", id)
	}
	now := s.now()
	for _, p := range kept.products {
		p.DataAlteracao = now
		a.storeProduct(p)
		if st := kept.stock[p.ID]; st != nil {
			a.stock[p.ID] = st
		}
	}
	delete(a.trash, id)
	return nil
}

// AccessKey builds a valid 44-digit NF-e access key: UF 35 (SP), AAMM, the issuer's
// CNPJ, model 55, series 001, the number, emission type 1, a code from seed, and the
// mod-11 check digit.
func AccessKey(cnpj string, at time.Time, numero string, seed int64) string {
	d, _ := digitsOnly(cnpj)
	d = (strings.Repeat("0", 14) + d)
	d = d[len(d)-14:]
	n, _ := strconv.ParseInt(numero, 10, 64)
	body := fmt.Sprintf("35%s%s55001%09d1%08d", at.Format("0601"), d, n, seed%100000000)
	sum, w := 0, 2
	for i := len(body) - 1; i >= 0; i-- {
		sum += int(body[i]-'0') * w
		if w++; w > 9 {
			w = 2
		}
	}
	dv := 11 - sum%11
	if dv >= 10 {
		dv = 0
	}
	return body + strconv.Itoa(dv)
}
