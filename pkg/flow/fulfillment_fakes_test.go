package flow

import (
	"context"
	"slices"

	"github.com/cazbling/cazbling/pkg/cazbling"
)

// The fakes' side of the order lifecycle: Bling's sales order states, NF-e, logistics
// objects and statuses; CaZco's invoice, shipments and cancel with the contract's 409s.

type fakeERPLifecycle struct {
	states   map[int64]*cazbling.ERPOrderState
	invoices map[int64]cazbling.ERPInvoice
	tracks   map[int64]cazbling.ERPTracking
	statuses []cazbling.ERPStatus
}

// fakeCanceled is the id of the fake account's "Cancelado".
const fakeCanceled, fakeCustomCanceled, fakeOpen = 9012, 9013, 6

func (f *fakeERP) lcInit() {
	if f.lc.states == nil {
		f.lc.states = map[int64]*cazbling.ERPOrderState{}
		f.lc.invoices = map[int64]cazbling.ERPInvoice{}
		f.lc.tracks = map[int64]cazbling.ERPTracking{}
		f.lc.statuses = []cazbling.ERPStatus{
			{ID: fakeOpen, Name: "Em aberto"}, {ID: 9, Name: "Atendido"},
			{ID: fakeCanceled, Name: "Cancelado"}, {ID: fakeCustomCanceled, Name: "Cancelado pelo comprador", InheritedID: fakeCanceled},
		}
	}
}

// state returns (making it) the lifecycle state of Bling order id. mu must be held.
func (f *fakeERP) state(id int64) *cazbling.ERPOrderState {
	f.lcInit()
	st := f.lc.states[id]
	if st == nil {
		st = &cazbling.ERPOrderState{ID: id, StatusID: fakeOpen}
		f.lc.states[id] = st
	}
	return st
}

// IssueNFe gives Bling order id an NF-e in status situacao and returns its id.
func (f *fakeERP) IssueNFe(orderID int64, situacao int, key string) int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	st := f.state(orderID)
	id := f.id()
	f.lc.invoices[id] = cazbling.ERPInvoice{ID: id, Status: situacao, Number: "77", Series: "1", AccessKey: key}
	st.InvoiceID = id
	return id
}

// SetNFeStatus changes an NF-e's situacao.
func (f *fakeERP) SetNFeStatus(id int64, situacao int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	inv := f.lc.invoices[id]
	inv.Status = situacao
	f.lc.invoices[id] = inv
}

// AddVolume adds a volume with code (may be "", then the object holds objectCode).
func (f *fakeERP) AddVolume(orderID int64, code, objectCode string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	st := f.state(orderID)
	id := f.id()
	st.Volumes = append(st.Volumes, cazbling.ERPVolume{ID: id, Service: "SEDEX", TrackingCode: code})
	f.lc.tracks[id] = cazbling.ERPTracking{Code: objectCode}
}

// SetStatus moves Bling order id to status.
func (f *fakeERP) SetStatus(orderID, status int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.state(orderID).StatusID = status
}

// StatusOf returns Bling order id's status.
func (f *fakeERP) StatusOf(orderID int64) int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.state(orderID).StatusID
}

func (f *fakeERP) SalesOrder(ctx context.Context, id int64) (cazbling.ERPOrderState, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("SalesOrder"); err != nil {
		return cazbling.ERPOrderState{}, err
	}
	st := *f.state(id)
	st.Volumes = slices.Clone(st.Volumes)
	return st, nil
}

func (f *fakeERP) Invoice(ctx context.Context, id int64) (cazbling.ERPInvoice, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("Invoice"); err != nil {
		return cazbling.ERPInvoice{}, err
	}
	f.lcInit()
	inv, ok := f.lc.invoices[id]
	if !ok {
		return inv, blingError("GET /nfe/{id}", cazbling.KindNotFound)
	}
	return inv, nil
}

func (f *fakeERP) Tracking(ctx context.Context, id int64) (cazbling.ERPTracking, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("Tracking"); err != nil {
		return cazbling.ERPTracking{}, err
	}
	f.lcInit()
	tr, ok := f.lc.tracks[id]
	if !ok {
		return tr, blingError("GET /logisticas/objetos/{id}", cazbling.KindNotFound)
	}
	return tr, nil
}

func (f *fakeERP) SalesStatuses(ctx context.Context) ([]cazbling.ERPStatus, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("SalesStatuses"); err != nil {
		return nil, err
	}
	f.lcInit()
	return slices.Clone(f.lc.statuses), nil
}

// SetOrderStatus refuses to cancel an order with an authorized NF-e, as Bling does.
func (f *fakeERP) SetOrderStatus(ctx context.Context, orderID, statusID int64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("SetOrderStatus"); err != nil {
		return err
	}
	st := f.state(orderID)
	if inv, ok := f.lc.invoices[st.InvoiceID]; ok && inv.Authorized() && statusID == fakeCanceled {
		return blingError("PATCH /pedidos/vendas/{id}/situacoes/{id}", cazbling.KindValidation)
	}
	st.StatusID = statusID
	return nil
}

type fakeMarketLifecycle struct {
	invoices                            map[string]cazbling.MarketInvoice
	shipments                           map[string][]cazbling.MarketShipment
	invoiceSets, shipmentsMade, cancels int
}

func (m *fakeMarket) lcCall(method string) error {
	m.calls[method]++
	if m.lc.invoices == nil {
		m.lc.invoices = map[string]cazbling.MarketInvoice{}
		m.lc.shipments = map[string][]cazbling.MarketShipment{}
	}
	if m.fail != nil {
		return m.fail(method, m.calls[method])
	}
	return nil
}

func marketError(op string, status int, kind cazbling.ErrorKind, typ, existing string) error {
	return &cazbling.APIError{API: "cazco", Op: op, Status: status, Kind: kind, Type: typ, ExistingID: existing}
}

func (m *fakeMarket) SetInvoice(ctx context.Context, id string, inv cazbling.MarketInvoice) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.lcCall("SetInvoice"); err != nil {
		return err
	}
	if _, ok := m.orders[id]; !ok {
		return marketError("PUT /orders/{id}/invoice", 404, cazbling.KindNotFound, "not_found", "")
	}
	if cur, ok := m.lc.invoices[id]; ok {
		if cur.AccessKey == inv.AccessKey {
			return nil
		}
		if inv.Replaces != cur.AccessKey {
			return marketError("PUT /orders/{id}/invoice", 409, cazbling.KindConflict, "conflict", cur.AccessKey)
		}
	}
	m.lc.invoices[id] = inv
	m.lc.invoiceSets++
	o := m.orders[id]
	o.Status = "billed"
	m.orders[id] = o
	return nil
}

func (m *fakeMarket) AddShipment(ctx context.Context, id string, s cazbling.MarketShipment) (string, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.lcCall("AddShipment"); err != nil {
		return "", false, err
	}
	for i, sh := range m.lc.shipments[id] {
		if sh.TrackingCode == s.TrackingCode {
			return "sh-" + id + "-" + string(rune('0'+i)), true, nil
		}
	}
	if _, ok := m.lc.invoices[id]; !ok {
		return "", false, marketError("POST /orders/{id}/shipments", 422, cazbling.KindValidation, "invoice_required", "")
	}
	m.lc.shipments[id] = append(m.lc.shipments[id], s)
	m.lc.shipmentsMade++
	o := m.orders[id]
	o.Status = "shipped"
	m.orders[id] = o
	return "sh-" + id, false, nil
}

func (m *fakeMarket) CancelOrder(ctx context.Context, id, reason string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.lcCall("CancelOrder"); err != nil {
		return err
	}
	o, ok := m.orders[id]
	switch {
	case !ok:
		return marketError("POST /orders/{id}/cancel", 404, cazbling.KindNotFound, "not_found", "")
	case o.Status == "canceled":
		return nil
	case o.Status == "shipped" || o.Status == "delivered":
		return marketError("POST /orders/{id}/cancel", 409, cazbling.KindConflict, "not_cancelable", "")
	}
	o.Status = "canceled"
	m.orders[id] = o
	m.lc.cancels++
	return nil
}

func (m *fakeMarket) SetProductStatus(ctx context.Context, id, status string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.lcCall("SetProductStatus"); err != nil {
		return err
	}
	p, ok := m.products[id]
	if !ok {
		return marketError("PUT /products/{id}", 404, cazbling.KindNotFound, "not_found", "")
	}
	p.Status = status
	m.products[id] = p
	return nil
}
