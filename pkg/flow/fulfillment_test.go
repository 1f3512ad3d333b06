package flow

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/cazbling/cazbling/pkg/cazbling"
)

// testKey44 is a valid NF-e access key (the check digit is computed, not copied).
func testKey44(seed string) string {
	body := (seed + strings.Repeat("3", 43))[:43]
	sum, w := 0, 2
	for i := 42; i >= 0; i-- {
		sum += int(body[i]-'0') * w
		if w++; w > 9 {
			w = 2
		}
	}
	dv := 11 - sum%11
	if dv >= 10 {
		dv = 0
	}
	return body + string(rune('0'+dv))
}

// lifeEnv is an orders env with one order filed in Bling by a first run.
type lifeEnv struct {
	*ordersEnv
	order   cazbling.Order
	blingID int64
}

func newLifeEnv(t *testing.T) *lifeEnv {
	t.Helper()
	e := newOrdersEnv(t)
	e.erp.AddProduct("SKU-1", "Produto 1")
	o := testOrder(1, ordersT0.Add(-time.Hour), cpfBuyer(1), testItem("SKU-1", 1, "50.00", "0.00"))
	e.market.PutOrder(o)
	le := &lifeEnv{ordersEnv: e, order: o}
	res := le.runLife(Options{})
	if res.Status != cazbling.StatusOK {
		t.Fatalf("first run: %+v", res)
	}
	le.blingID = e.link(o.ID).BlingID
	if le.blingID == 0 {
		t.Fatal("order not filed")
	}
	return le
}

func (e *lifeEnv) runLife(opts Options) Result {
	e.t.Helper()
	e.clock.Advance(5 * time.Minute)
	opts.Tenants = []string{e.tenant.ID}
	res, err := Run(context.Background(), e.deps("test"), cazbling.FlowOrders, opts, SyncOrdersAndLifecycle)
	if err != nil || len(res) != 1 {
		e.t.Fatalf("run: %v %v", res, err)
	}
	return res[0]
}

func (e *lifeEnv) life() cazbling.OrderLifecycle {
	e.t.Helper()
	l, ok, err := e.store.Lifecycle(context.Background(), e.tenant.ID, e.order.ID)
	if err != nil || !ok {
		e.t.Fatalf("lifecycle: %v %v", ok, err)
	}
	return l
}

func (e *lifeEnv) rows(action string) []cazbling.LogEntry {
	var out []cazbling.LogEntry
	for _, r := range e.logs(cazbling.LogFilter{Key: e.order.ID}) {
		if r.Action == action {
			out = append(out, r)
		}
	}
	return out
}

// cancelInCazco cancels the order in CaZco, as the buyer does (updated_at moves).
func (e *lifeEnv) cancelInCazco() {
	e.market.mu.Lock()
	o := e.market.orders[e.order.ID]
	o.Status, o.UpdatedAt = "canceled", e.clock.Now()
	e.market.orders[e.order.ID] = o
	e.market.mu.Unlock()
}

func (e *lifeEnv) cazcoStatus() string {
	e.market.mu.Lock()
	defer e.market.mu.Unlock()
	return e.market.orders[e.order.ID].Status
}

// An NF-e that is not authorized yet is not sent; once authorized it becomes the
// invoice, and a tracking code becomes a shipment after it; then the order is closed
// and no longer read. Tracking before the NF-e waits for it.
func TestLifecycleInvoiceThenShipment(t *testing.T) {
	e := newLifeEnv(t)
	if l := e.life(); l.State != cazbling.LifecycleOpen || l.BlingID != e.blingID {
		t.Fatalf("lifecycle after filing: %+v", l)
	}
	e.erp.AddVolume(e.blingID, "", "")                     // a volume without tracking yet
	nfe := e.erp.IssueNFe(e.blingID, 1, testKey44("3526")) // pending
	e.runLife(Options{})
	if n := e.market.Calls("SetInvoice"); n != 0 {
		t.Fatalf("a pending NF-e was sent: %d calls", n)
	}
	e.erp.SetNFeStatus(nfe, cazbling.NFeAuthorized)
	e.runLife(Options{})
	if l := e.life(); l.InvoiceKey != testKey44("3526") || l.InvoiceID != nfe || l.State != cazbling.LifecycleOpen {
		t.Fatalf("after authorization: %+v", l)
	}
	if e.market.lc.invoiceSets != 1 || e.market.lc.shipmentsMade != 0 || len(e.rows(ActionInvoiceSent)) != 1 {
		t.Fatalf("invoice sets %d, shipments %d", e.market.lc.invoiceSets, e.market.lc.shipmentsMade)
	}
	// Reading again changes nothing.
	e.runLife(Options{})
	if e.market.Calls("SetInvoice") != 1 {
		t.Fatalf("invoice re-sent: %d", e.market.Calls("SetInvoice"))
	}
	e.erp.mu.Lock()
	e.erp.state(e.blingID).Volumes[0].TrackingCode = "AA123456789BR"
	e.erp.mu.Unlock()
	e.runLife(Options{})
	l := e.life()
	if l.State != cazbling.LifecycleClosed || len(l.Tracking) != 1 || l.Tracking[0] != "AA123456789BR" {
		t.Fatalf("after tracking: %+v", l)
	}
	if e.market.lc.shipmentsMade != 1 || e.cazcoStatus() != "shipped" {
		t.Fatalf("shipments %d, status %s", e.market.lc.shipmentsMade, e.cazcoStatus())
	}
	before := e.erp.Calls("SalesOrder")
	e.runLife(Options{})
	if e.erp.Calls("SalesOrder") != before {
		t.Errorf("a closed order was read again")
	}
}

// A tracking code only on the logistics object is found there; a cancelled NF-e is
// never sent; a corrected NF-e replaces the one sent.
func TestLifecycleCanceledNFeNeverSent(t *testing.T) {
	e := newLifeEnv(t)
	first := e.erp.IssueNFe(e.blingID, cazbling.NFeCanceled, testKey44("1111"))
	e.runLife(Options{})
	e.runLife(Options{})
	if e.market.Calls("SetInvoice") != 0 || e.life().InvoiceKey != "" {
		t.Fatalf("a cancelled NF-e reached CaZco")
	}
	_ = first
	second := e.erp.IssueNFe(e.blingID, cazbling.NFeDanfe, testKey44("2222"))
	e.erp.AddVolume(e.blingID, "", "OBJ1BR")
	e.runLife(Options{})
	l := e.life()
	if l.InvoiceID != second || l.InvoiceKey != testKey44("2222") || l.State != cazbling.LifecycleClosed || len(l.Tracking) != 1 || l.Tracking[0] != "OBJ1BR" {
		t.Fatalf("after the second NF-e: %+v", l)
	}
}

// Bling's "Cancelado" (here a custom status inheriting from it) cancels the CaZco order.
func TestLifecycleCancelInBling(t *testing.T) {
	e := newLifeEnv(t)
	e.erp.SetStatus(e.blingID, fakeCustomCanceled)
	e.runLife(Options{})
	if e.cazcoStatus() != "canceled" || e.market.lc.cancels != 1 {
		t.Fatalf("CaZco status %s, cancels %d", e.cazcoStatus(), e.market.lc.cancels)
	}
	if l := e.life(); l.State != cazbling.LifecycleClosed || !l.CazcoCanceled || !l.BlingCanceled {
		t.Fatalf("lifecycle: %+v", l)
	}
	if len(e.rows(ActionCanceledInCazco)) != 1 {
		t.Errorf("no canceled_in_cazco row")
	}
}

// A CaZco cancel moves the Bling order to Cancelado (found by name).
func TestLifecycleCancelInCazco(t *testing.T) {
	e := newLifeEnv(t)
	e.cancelInCazco()
	res := e.runLife(Options{})
	if got := e.erp.StatusOf(e.blingID); got != fakeCanceled {
		t.Fatalf("Bling status %d, want %d (%+v)", got, fakeCanceled, res)
	}
	if l := e.life(); l.State != cazbling.LifecycleClosed || !l.BlingCanceled {
		t.Fatalf("lifecycle: %+v", l)
	}
	if len(e.rows(ActionCanceledInBling)) != 1 {
		t.Errorf("no canceled_in_bling row")
	}
	// The filing part says cazbling carries it now, not "cancel it in Bling" by hand.
	e.runLife(Options{})
	if e.erp.Calls("SetOrderStatus") != 1 {
		t.Errorf("SetOrderStatus called %d times", e.erp.Calls("SetOrderStatus"))
	}
}

// A CaZco cancel after the NF-e was authorized: an error row says what to do, nothing
// is cancelled in Bling; once the NF-e is cancelled the order follows.
func TestLifecycleCancelInCazcoAfterNFe(t *testing.T) {
	e := newLifeEnv(t)
	nfe := e.erp.IssueNFe(e.blingID, cazbling.NFeAuthorized, testKey44("3333"))
	e.runLife(Options{})
	if e.life().InvoiceKey == "" {
		t.Fatal("invoice not sent")
	}
	e.cancelInCazco()
	res := e.runLife(Options{})
	blocked := e.rows(ActionCancelBlocked)
	if len(blocked) != 1 || blocked[0].Status != cazbling.StatusError || res.Status != cazbling.StatusError {
		t.Fatalf("blocked rows %+v, result %+v", blocked, res)
	}
	msg := blocked[0].Message
	for _, want := range []string{e.order.Number, "authorized NF-e", "cancel the NF-e in Bling", e.tenant.ID} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q lacks %q", msg, want)
		}
	}
	if e.erp.Calls("SetOrderStatus") != 0 || e.erp.StatusOf(e.blingID) != fakeOpen {
		t.Fatalf("Bling order touched")
	}
	e.runLife(Options{}) // still blocked, still not touched
	if e.erp.Calls("SetOrderStatus") != 0 || len(e.rows(ActionCancelBlocked)) != 2 {
		t.Fatalf("second run: %d calls, %d rows", e.erp.Calls("SetOrderStatus"), len(e.rows(ActionCancelBlocked)))
	}
	e.erp.SetNFeStatus(nfe, cazbling.NFeCanceled)
	e.runLife(Options{})
	if e.erp.StatusOf(e.blingID) != fakeCanceled || e.life().State != cazbling.LifecycleClosed {
		t.Fatalf("after the NF-e was cancelled: status %d, %+v", e.erp.StatusOf(e.blingID), e.life())
	}
}

// Faults: a write that fails with a 5xx is tried on the next run; a write that went
// through but whose answer was lost is re-sent, and the marketplace's idempotency
// makes it harmless (one invoice, one shipment).
func TestLifecycleFaults(t *testing.T) {
	e := newLifeEnv(t)
	e.erp.IssueNFe(e.blingID, cazbling.NFeAuthorized, testKey44("4444"))
	e.erp.AddVolume(e.blingID, "BR1", "")
	server := &cazbling.APIError{API: "cazco", Status: 503, Kind: cazbling.KindServer}
	e.market.fail = func(method string, n int) error {
		if method == "SetInvoice" && n == 1 {
			return server
		}
		return nil
	}
	e.runLife(Options{})
	if e.life().InvoiceKey != "" || e.market.lc.invoiceSets != 0 || len(e.rows(ActionRetryLater)) == 0 {
		t.Fatalf("after a 503: %+v", e.life())
	}
	// Lost answers: the write is applied, the reply is an error.
	lost := errors.New("connection reset")
	e.market.mu.Lock()
	e.market.fail = func(method string, n int) error {
		if method == "SetInvoice" && n == 2 {
			e.market.lc.invoices[e.order.ID] = cazbling.MarketInvoice{AccessKey: testKey44("4444")}
			e.market.lc.invoiceSets++
			return &cazbling.APIError{API: "cazco", Kind: cazbling.KindNetwork, Err: lost}
		}
		return nil
	}
	e.market.mu.Unlock()
	e.runLife(Options{})
	if e.life().InvoiceKey != "" {
		t.Fatal("an unanswered write was recorded")
	}
	e.runLife(Options{})
	l := e.life()
	if l.InvoiceKey == "" || l.State != cazbling.LifecycleClosed {
		t.Fatalf("after the re-send: %+v", l)
	}
	if e.market.lc.invoiceSets != 1 || e.market.lc.shipmentsMade != 1 {
		t.Fatalf("invoice sets %d, shipments %d: want 1 each", e.market.lc.invoiceSets, e.market.lc.shipmentsMade)
	}
}

// A late read never goes backwards: once the invoice is recorded, an order that no
// longer shows the NF-e (or shows a pending one) changes nothing in CaZco.
func TestLifecycleNeverBackwards(t *testing.T) {
	e := newLifeEnv(t)
	e.erp.IssueNFe(e.blingID, cazbling.NFeAuthorized, testKey44("5555"))
	e.runLife(Options{})
	e.erp.mu.Lock()
	e.erp.state(e.blingID).InvoiceID = 0
	e.erp.mu.Unlock()
	e.runLife(Options{})
	if l := e.life(); l.InvoiceKey != testKey44("5555") || e.market.Calls("SetInvoice") != 1 {
		t.Fatalf("went backwards: %+v", l)
	}
}

// The cost of a run grows with the open orders: closed ones are not read.
func TestLifecycleCostOpenOnly(t *testing.T) {
	e := newLifeEnv(t)
	for i := 2; i <= 6; i++ {
		o := testOrder(i, ordersT0.Add(-time.Hour), cpfBuyer(i), testItem("SKU-1", 1, "50.00", "0.00"))
		o.UpdatedAt = e.clock.Now()
		e.market.PutOrder(o)
	}
	e.runLife(Options{})
	open, _ := e.store.OpenLifecycles(context.Background(), e.tenant.ID)
	if len(open) != 6 {
		t.Fatalf("%d open", len(open))
	}
	e.erp.SetStatus(open[0].BlingID, fakeCanceled)
	e.erp.SetStatus(open[1].BlingID, fakeCanceled)
	e.runLife(Options{})
	before := e.erp.Calls("SalesOrder")
	e.runLife(Options{})
	if got := e.erp.Calls("SalesOrder") - before; got != 4 {
		t.Errorf("a run read %d orders, want the 4 open", got)
	}
}

// A passing fault leaves a retry row; the next run that reads the order without one,
// with nothing new to send, says so, so that the retry row is not the newest for ever.
func TestLifecycleRetryRowIsFollowedUp(t *testing.T) {
	e := newLifeEnv(t)
	e.erp.mu.Lock()
	e.erp.fail = func(method string, n int) error {
		if method == "SalesOrder" && n == 2 {
			return blingError("GET /pedidos/vendas/{id}", cazbling.KindServer)
		}
		return nil
	}
	e.erp.mu.Unlock()
	e.runLife(Options{})
	if len(e.rows(ActionRetryLater)) != 1 || e.life().LastError == "" {
		t.Fatalf("after the fault: rows %d, %+v", len(e.rows(ActionRetryLater)), e.life())
	}
	e.runLife(Options{})
	rows := e.logs(cazbling.LogFilter{Key: e.order.ID})
	if len(rows) == 0 || rows[0].Action != ActionLifecycleOK || e.life().LastError != "" {
		t.Fatalf("newest row %+v, lifecycle %+v", rows[0], e.life())
	}
	e.runLife(Options{})
	if len(e.rows(ActionLifecycleOK)) != 1 {
		t.Errorf("the follow-up row was written again")
	}
}
