package flow

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cazbling/cazbling/pkg/cazbling"
)

// A POST that Bling commits but whose reply is lost leaves the link `creating`; the
// order is found by store number (at the end of the run, or on the next run when
// Bling's list lags) and never filed twice.
func TestSyncOrdersLostReply(t *testing.T) {
	for _, tc := range []struct {
		name        string
		hide        int // look-ups the lost order stays hidden from
		wantCreated int
		wantRetry   int
	}{
		{"found at the end of the run", 0, 3, 0},
		{"found by the next run", 1, 2, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newOrdersEnv(t)
			e.erp.AddProduct("SKU-1", "Produto")
			for i := range 3 {
				e.market.PutOrder(testOrder(i, ordersT0.Add(-time.Hour+time.Duration(i)*time.Minute), cpfBuyer(i), testItem("SKU-1", 1, "10.00", "0.00")))
			}
			e.erp.hideLostFor = tc.hide
			e.erp.createOrder = func(n int, o cazbling.SalesOrder) (bool, error) {
				if n == 2 {
					return true, blingError("POST /pedidos/vendas", cazbling.KindServer)
				}
				return true, nil
			}
			res := e.run(Options{})
			if res.Counts.Created != tc.wantCreated || res.Counts.Retry != tc.wantRetry {
				t.Fatalf("first run: counts %+v, want %d created, %d retry", res.Counts, tc.wantCreated, tc.wantRetry)
			}
			if n := len(e.assertNoDuplicates()); n != 3 {
				t.Fatalf("Bling has %d orders, want 3", n)
			}
			if tc.wantRetry > 0 {
				if l := e.link("ord-001"); l.State != cazbling.OrderCreating || !strings.Contains(l.LastError, "lost") {
					t.Errorf("link after lost reply: %+v", l)
				}
				rows := e.logs(cazbling.LogFilter{Key: "ord-001"})
				if len(rows) != 1 || rows[0].Action != ActionRetryLater {
					t.Errorf("rows of the lost order: %+v", rows)
				}
			}

			e.clock.Advance(5 * time.Minute)
			res = e.run(Options{})
			if res.Status != cazbling.StatusOK {
				t.Fatalf("second run: %s %q %+v", res.Status, res.Message, res.Counts)
			}
			byNumber := e.assertNoDuplicates()
			if len(byNumber) != 3 || e.erp.Calls("CreateOrder") != 3 {
				t.Fatalf("Bling has %d orders after %d POSTs, want 3 and 3", len(byNumber), e.erp.Calls("CreateOrder"))
			}
			if l := e.link("ord-001"); l.State != cazbling.OrderCreated || l.BlingID != byNumber["5001"].ID {
				t.Errorf("link %+v, want created as %d", l, byNumber["5001"].ID)
			}
		})
	}
}

// A definite refusal by Bling fails the order with Bling's field messages; once the
// cause is gone the next run files it, once.
func TestSyncOrdersBlingRefusal(t *testing.T) {
	e := newOrdersEnv(t)
	e.erp.AddProduct("SKU-1", "Produto")
	e.market.PutOrder(testOrder(1, ordersT0.Add(-time.Hour), cpfBuyer(1), testItem("SKU-1", 1, "10.00", "0.00")))
	e.erp.createOrder = func(n int, o cazbling.SalesOrder) (bool, error) {
		if n == 1 {
			return false, blingError("POST /pedidos/vendas", cazbling.KindValidation, cazbling.FieldError{Field: "itens[0].produto", Message: "produto inativo"})
		}
		return true, nil
	}
	res := e.run(Options{})
	if res.Status != cazbling.StatusError || res.Counts.Failed != 1 {
		t.Fatalf("status %s, counts %+v", res.Status, res.Counts)
	}
	if l := e.link("ord-001"); l.State != cazbling.OrderFailed || !strings.Contains(l.LastError, "produto inativo") {
		t.Errorf("link %+v", l)
	}
	e.clock.Advance(time.Hour)
	res = e.run(Options{})
	if res.Status != cazbling.StatusOK || res.Counts.Created != 1 {
		t.Fatalf("second run: status %s, counts %+v, %q", res.Status, res.Counts, res.Message)
	}
	if n := len(e.assertNoDuplicates()); n != 1 {
		t.Errorf("Bling has %d orders, want 1", n)
	}
}

// Statuses: not importable ones are skipped without a link, unknown ones with a
// warning; a canceled order already in Bling gets a warning to cancel it there.
func TestSyncOrdersStatuses(t *testing.T) {
	e := newOrdersEnv(t)
	ctx := context.Background()
	e.erp.AddProduct("SKU-1", "Produto")
	at := ordersT0.Add(-time.Hour)
	statuses := []string{"pending_payment", "canceled", "em_analise", "completed"}
	for i, st := range statuses {
		o := testOrder(i, at, cpfBuyer(i), testItem("SKU-1", 1, "10.00", "0.00"))
		o.Status = st
		e.market.PutOrder(o)
	}
	filed := testOrder(9, at, cpfBuyer(9), testItem("SKU-1", 1, "10.00", "0.00"))
	filed.Status = "canceled"
	e.market.PutOrder(filed)
	if err := e.store.Apply(ctx, cazbling.Batch{OrderLinks: []cazbling.OrderLink{{TenantID: e.tenant.ID, CazcoID: filed.ID, Number: filed.Number, BlingID: 4242, State: cazbling.OrderCreated}}}); err != nil {
		t.Fatal(err)
	}
	res := e.run(Options{})
	if res.Counts.Created != 1 || res.Counts.Skipped != 3 || res.Counts.Warnings != 1 || res.Status != cazbling.StatusWarning {
		t.Fatalf("status %s, counts %+v", res.Status, res.Counts)
	}
	want := map[string]struct{ status, text string }{
		"ord-000": {cazbling.StatusSkipped, "status pending_payment is not imported; it will be when it changes"},
		"ord-001": {cazbling.StatusSkipped, "status canceled is not imported"},
		"ord-002": {cazbling.StatusWarning, `status "em_analise", which cazbling does not know`},
		"ord-003": {cazbling.StatusOK, "filed in Bling"},
		"ord-009": {cazbling.StatusOK, "canceled in CaZco (status canceled) after it was filed in Bling as 4242; the lifecycle phase cancels it in Bling"},
	}
	for id, w := range want {
		rows := e.logs(cazbling.LogFilter{Key: id})
		if len(rows) != 1 || rows[0].Status != w.status || !strings.Contains(rows[0].Message, w.text) {
			t.Errorf("%s: rows %+v, want one %s row with %q", id, rows, w.status, w.text)
		}
	}
	for _, id := range []string{"ord-000", "ord-001", "ord-002"} {
		if _, found, _ := e.store.OrderLink(ctx, e.tenant.ID, id); found {
			t.Errorf("%s has a link, want none", id)
		}
	}

	// A tenant that imports only completed orders skips processing ones.
	e.tenant.ImportStatuses = []string{"completed"}
	e.saveTenant()
	p := testOrder(20, e.clock.Now(), cpfBuyer(20), testItem("SKU-1", 1, "10.00", "0.00"))
	e.market.PutOrder(p)
	e.clock.Advance(5 * time.Minute)
	e.run(Options{})
	if rows := e.logs(cazbling.LogFilter{Key: p.ID}); len(rows) != 1 || rows[0].Action != cazbling.ActionSkipped {
		t.Errorf("processing order with completed-only import: %+v", rows)
	}
}

// A dry run reads both sides and says what it would do, and writes nothing: no
// contact or order in Bling, no link, no cursor.
func TestSyncOrdersDryRun(t *testing.T) {
	e := newOrdersEnv(t)
	e.erp.AddProduct("SKU-1", "Produto")
	e.erp.AddContact(cazbling.Contact{Name: "Comprador 1", Type: "F", Document: testCPF(1)})
	for i := range 3 {
		e.market.PutOrder(testOrder(i, ordersT0.Add(-time.Hour+time.Duration(i)*time.Minute), cpfBuyer(i), testItem("SKU-1", 1, "10.00", "0.00")))
	}
	res := e.run(Options{DryRun: true})
	if res.Status != cazbling.StatusOK {
		t.Fatalf("status %s %q", res.Status, res.Message)
	}
	if e.erp.Calls("CreateOrder") != 0 || e.erp.Calls("CreateContact") != 0 || len(e.erp.Orders()) != 0 {
		t.Errorf("dry run wrote to Bling: %d orders, %d contact POSTs", len(e.erp.Orders()), e.erp.Calls("CreateContact"))
	}
	for _, st := range []cazbling.OrderLinkState{cazbling.OrderCreating, cazbling.OrderCreated, cazbling.OrderFailed} {
		if n := len(e.links(st)); n != 0 {
			t.Errorf("dry run wrote %d %s links", n, st)
		}
	}
	if _, found := e.cursor(); found {
		t.Errorf("dry run moved the cursor")
	}
	rows := e.logs(cazbling.LogFilter{})
	if len(rows) != 3 {
		t.Fatalf("%d rows, want 3: %+v", len(rows), rows)
	}
	for _, r := range rows {
		if r.Action != ActionWouldCreate || r.Status != cazbling.StatusOK || !strings.Contains(r.Message, "would file order") {
			t.Errorf("row %+v", r)
		}
	}
	if !strings.Contains(rows[0].Message+rows[1].Message+rows[2].Message, "a new contact") {
		t.Errorf("no row says a new contact would be made")
	}
}

// A CaZco order whose number an order filed in an earlier run already has is not
// filed, and above all not linked to the other's Bling order (which the look-up by
// store number would find): it fails with a row that names both.
func TestSyncOrdersNumberOfAnEarlierOrder(t *testing.T) {
	e := newOrdersEnv(t)
	e.erp.AddProduct("SKU-1", "Produto")
	first := testOrder(1, ordersT0.Add(-time.Hour), cpfBuyer(1), testItem("SKU-1", 1, "10.00", "0.00"))
	e.market.PutOrder(first)
	if res := e.run(Options{}); res.Status != cazbling.StatusOK || res.Counts.Created != 1 {
		t.Fatalf("first run: %+v", res)
	}
	filed := e.link(first.ID)

	e.clock.Advance(time.Hour)
	second := testOrder(2, e.clock.Now().Add(-5*time.Minute), cpfBuyer(2), testItem("SKU-1", 2, "10.00", "0.00"))
	second.Number = first.Number
	e.market.PutOrder(second)
	res := e.run(Options{})
	if res.Counts.Failed != 1 || res.Counts.Created != 0 || res.Counts.Unchanged != 0 {
		t.Fatalf("second run: %+v, want the second order failed, nothing created or found", res)
	}
	if l := e.link(second.ID); l.State != cazbling.OrderFailed || l.BlingID != 0 {
		t.Errorf("second order's link %+v, want failed with no Bling order", l)
	}
	rows := e.logs(cazbling.LogFilter{TenantID: e.tenant.ID, Key: second.ID})
	if len(rows) == 0 || !strings.Contains(rows[0].Message, first.ID) || !strings.Contains(rows[0].Message, strconv.FormatInt(filed.BlingID, 10)) {
		t.Errorf("rows of the second order %+v, want one naming %s and its Bling order %d", rows, first.ID, filed.BlingID)
	}
	if n := len(e.assertNoDuplicates()); n != 1 {
		t.Errorf("Bling has %d orders, want 1", n)
	}
}
