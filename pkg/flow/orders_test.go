package flow

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/cazbling/cazbling/pkg/cazbling"
	"github.com/cazbling/cazbling/pkg/store/sqlite"
)

// The scenario: 60 orders (repeat CPF buyers, 5 CNPJ buyers, 3 with an unknown
// SKU, 2 pending payment) → 55 Bling orders, contacts not duplicated, 3 failed; after
// the SKU appears in Bling the next run files the 3, with no duplicate store number.
func TestSyncOrdersSixtyOrders(t *testing.T) {
	e := newOrdersEnv(t)
	ctx := context.Background()
	skuIDs := map[string]int64{}
	for _, sku := range []string{"SKU-1", "SKU-2", "SKU-3", "SKU-4"} {
		skuIDs[sku] = e.erp.AddProduct(sku, "Produto "+sku)
	}
	// SKU-1 is known through its product link (Bling is not asked for it).
	if err := e.store.Apply(ctx, cazbling.Batch{ProductLinks: []cazbling.ProductLink{{TenantID: e.tenant.ID, SKU: "SKU-1", BlingID: skuIDs["SKU-1"], CazcoID: "p1"}}}); err != nil {
		t.Fatal(err)
	}
	existingContact := e.erp.AddContact(cazbling.Contact{Name: "Comprador 1", Type: "F", Document: testCPF(1)})

	var orders []cazbling.Order
	failing := map[int]bool{10: true, 20: true, 30: true}
	pending := map[int]bool{40: true, 41: true}
	methods := []string{"pix", "boleto", "credit_card"}
	for i := range 60 {
		cust := cpfBuyer(i % 20)
		if i < 5 {
			cust = cnpjBuyer(i%3, []string{"ISENTO", "123.456.789", ""}[i%3])
		}
		items := []cazbling.OrderItem{testItem("SKU-1", int64(1+i%3), "19.90", "0.00"), testItem(fmt.Sprintf("SKU-%d", 2+i%3), 2, "33.33", "0.01")}
		if failing[i] {
			items = append(items, testItem("NEW-SKU", 1, "10.00", "0.00"))
		}
		o := testOrder(i, ordersT0.Add(-2*time.Hour+time.Duration(i)*time.Minute), cust, items...)
		o.PaymentMethod = methods[i%3]
		if pending[i] {
			o.Status = "pending_payment"
		}
		orders = append(orders, o)
		e.market.PutOrder(o)
	}

	// When an order is sent, its link already says `creating` in the store.
	e.erp.createOrder = func(n int, o cazbling.SalesOrder) (bool, error) {
		var id string
		if _, err := fmt.Sscanf(o.Notes, "CaZco order %s", &id); err != nil {
			t.Errorf("notes %q: %v", o.Notes, err)
		}
		l, found, err := e.store.OrderLink(ctx, e.tenant.ID, id)
		if err != nil || !found || l.State != cazbling.OrderCreating || l.Number != o.StoreNumber {
			t.Errorf("order %s sent to Bling with link %+v (found %v, %v), want creating first", id, l, found, err)
		}
		return true, nil
	}
	res := e.run(Options{})
	if res.Status != cazbling.StatusError || res.Counts.Created != 55 || res.Counts.Failed != 3 || res.Counts.Skipped != 2 {
		t.Fatalf("first run: status %s, counts %+v, message %q; want error with 55 created, 3 failed, 2 skipped", res.Status, res.Counts, res.Message)
	}
	byNumber := e.assertNoDuplicates()
	if len(byNumber) != 55 {
		t.Fatalf("Bling has %d orders, want 55", len(byNumber))
	}

	// Contacts: one per buyer document, the existing one reused.
	wantDocs := map[string]bool{}
	for i, o := range orders {
		if !failing[i] && !pending[i] {
			wantDocs[o.Customer.Document] = true
		}
	}
	contacts := e.erp.Contacts()
	docs := map[string]int64{}
	for _, c := range contacts {
		if _, dup := docs[c.Document]; dup {
			t.Errorf("contact for document %s created twice", c.Document)
		}
		docs[c.Document] = c.ID
	}
	if !wantDocs[testCPF(1)] {
		t.Fatal("the buyer with a Bling contact has no order to file")
	}
	if got := e.erp.Calls("CreateContact"); got != len(wantDocs)-1 {
		t.Errorf("CreateContact called %d times, want %d (one per new buyer)", got, len(wantDocs)-1)
	}
	if got := e.erp.Calls("ContactByDocument"); got != len(wantDocs) {
		t.Errorf("ContactByDocument called %d times, want %d (once per buyer per run)", got, len(wantDocs))
	}
	if calls := e.erp.Calls("PaymentMethods"); calls != 1 {
		t.Errorf("payment methods read %d times, want once per run", calls)
	}
	if slices.Contains(e.erp.askedSKU, "SKU-1") {
		t.Errorf("Bling asked for SKU-1, which has a product link")
	}

	// Every filed order is right: items, quantities, prices, contact, payment, money.
	wantMethod := map[string]int64{"pix": 7, "boleto": 8, "credit_card": 9}
	for i, o := range orders {
		got, ok := byNumber[o.Number]
		if failing[i] || pending[i] {
			if ok {
				t.Errorf("order %s filed, want not", o.ID)
			}
			continue
		}
		if !ok {
			t.Errorf("order %s not filed", o.ID)
			continue
		}
		so := got.Order
		if so.ContactID != docs[o.Customer.Document] || (i%20 == 1 && i >= 5 && so.ContactID != existingContact) {
			t.Errorf("order %s: contact %d, want %d", o.ID, so.ContactID, docs[o.Customer.Document])
		}
		if len(so.Items) != len(o.Items) {
			t.Fatalf("order %s: %d items, want %d", o.ID, len(so.Items), len(o.Items))
		}
		sum := decimal.Zero
		for k, it := range so.Items {
			src := o.Items[k]
			if it.SKU != src.SKU || it.ProductID != skuIDs[src.SKU] || !it.Quantity.Equal(decimal.NewFromInt(src.Quantity)) || !it.UnitPrice.Equal(src.UnitPrice) || it.Unit != "UN" || it.Description != src.Name {
				t.Errorf("order %s item %d: %+v, want from %+v", o.ID, k, it, src)
			}
			sum = sum.Add(it.UnitPrice.Mul(it.Quantity))
		}
		if total := sum.Sub(so.Discount).Add(so.Freight); !total.Equal(o.Total) {
			t.Errorf("order %s: Bling total %s, CaZco total %s", o.ID, total, o.Total)
		}
		if len(so.Installments) != 1 || !so.Installments[0].Amount.Equal(o.Total) || so.Installments[0].PaymentMethodID != wantMethod[o.PaymentMethod] {
			t.Errorf("order %s: installments %+v, want one of %s with method %d", o.ID, so.Installments, o.Total, wantMethod[o.PaymentMethod])
		}
		if !strings.Contains(so.Notes, o.ID) {
			t.Errorf("order %s: notes %q lack the CaZco id", o.ID, so.Notes)
		}
		if l := e.link(o.ID); l.State != cazbling.OrderCreated || l.BlingID != got.ID || l.Number != o.Number {
			t.Errorf("order %s: link %+v, want created as %d", o.ID, l, got.ID)
		}
	}
	// CNPJ buyers are companies with the right IE indicator.
	for _, c := range contacts {
		switch c.Document {
		case testCNPJ(0):
			if c.Type != "J" || c.IEIndicator != 2 || c.Name != "Empresa 0 Ltda" {
				t.Errorf("CNPJ contact (ISENTO): %+v", c)
			}
		case testCNPJ(1):
			if c.Type != "J" || c.IEIndicator != 1 || c.IE != "123456789" {
				t.Errorf("CNPJ contact (IE): %+v", c)
			}
		case testCNPJ(2):
			if c.Type != "J" || c.IEIndicator != 9 || c.IE != "" {
				t.Errorf("CNPJ contact (no IE): %+v", c)
			}
		}
	}

	failed := e.links(cazbling.OrderFailed)
	if len(failed) != 3 {
		t.Fatalf("%d failed links, want 3: %+v", len(failed), failed)
	}
	errRows := e.logs(cazbling.LogFilter{Status: cazbling.StatusError})
	if len(errRows) != 3 {
		t.Fatalf("%d error rows, want 3: %+v", len(errRows), errRows)
	}
	for _, r := range errRows {
		if r.Entity != cazbling.EntityOrder || r.Action != cazbling.ActionFailed || !failing[orderIndex(t, r.Key)] ||
			!strings.Contains(r.Message, "SKU NEW-SKU is not in Bling") || r.CazcoID != r.Key {
			t.Errorf("error row %+v", r)
		}
	}
	skipped := e.logs(cazbling.LogFilter{Status: cazbling.StatusSkipped})
	if len(skipped) != 2 || !strings.Contains(skipped[0].Message, "status pending_payment is not imported") {
		t.Errorf("skipped rows: %+v", skipped)
	}
	for id := range pending {
		if _, found, _ := e.store.OrderLink(ctx, e.tenant.ID, orders[id].ID); found {
			t.Errorf("pending order %s has a link", orders[id].ID)
		}
	}
	// Failed orders are recorded for retry, so the cursor moves to the window's end.
	if v, found := e.cursor(); !found || v != ordersT0.Add(-DefaultMargin).Format(time.RFC3339Nano) {
		t.Errorf("cursor %q (found %v), want the window's end", v, found)
	}

	// The SKU is added in Bling; three hours later (the orders are long out of the
	// window) the next run files the three failed orders, and nothing else.
	e.erp.AddProduct("NEW-SKU", "Produto novo")
	e.clock.Advance(3 * time.Hour)
	res = e.run(Options{})
	if res.Status != cazbling.StatusOK || res.Counts.Created != 3 || res.Counts.Failed != 0 {
		t.Fatalf("second run: status %s, counts %+v, message %q; want ok with 3 created", res.Status, res.Counts, res.Message)
	}
	if n := len(e.assertNoDuplicates()); n != 58 {
		t.Errorf("Bling has %d orders, want 58", n)
	}
	if got := e.market.Calls("Order"); got != 3 {
		t.Errorf("CaZco asked for %d single orders, want the 3 failed ones", got)
	}
	if n := len(e.links(cazbling.OrderFailed)); n != 0 {
		t.Errorf("%d failed links left", n)
	}

	// A pending order is paid: its update brings it into the window and it is filed.
	paid := orders[40]
	paid.Status, paid.UpdatedAt = "processing", e.clock.Now().Add(-5*time.Minute)
	e.market.PutOrder(paid)
	e.clock.Advance(10 * time.Minute)
	res = e.run(Options{})
	if res.Status != cazbling.StatusOK || res.Counts.Created != 1 {
		t.Fatalf("third run: status %s, counts %+v, message %q", res.Status, res.Counts, res.Message)
	}
	if n := len(e.assertNoDuplicates()); n != 59 {
		t.Errorf("Bling has %d orders, want 59", n)
	}
}

func orderIndex(t *testing.T, id string) int {
	var n int
	if _, err := fmt.Sscanf(id, "ord-%d", &n); err != nil {
		t.Fatalf("order id %q: %v", id, err)
	}
	return n
}

// Bling's daily quota stops the tenant: it is paused, the order's link stays
// `creating`, the cursor stays; after the pause the order is filed once.
func TestSyncOrdersDailyQuota(t *testing.T) {
	e := newOrdersEnv(t)
	e.erp.AddProduct("SKU-1", "Produto")
	e.market.PutOrder(testOrder(1, ordersT0.Add(-time.Hour), cpfBuyer(1), testItem("SKU-1", 1, "10.00", "0.00")))
	e.market.PutOrder(testOrder(2, ordersT0.Add(-time.Hour+time.Minute), cpfBuyer(2), testItem("SKU-1", 1, "10.00", "0.00")))
	e.erp.createOrder = func(n int, o cazbling.SalesOrder) (bool, error) {
		if n == 1 {
			return false, blingError("POST /pedidos/vendas", cazbling.KindDailyQuota)
		}
		return true, nil
	}
	res := e.run(Options{})
	if res.Status != cazbling.StatusError || !strings.Contains(res.Message, "paused") {
		t.Fatalf("status %s, message %q", res.Status, res.Message)
	}
	tn, err := e.store.Tenant(context.Background(), e.tenant.ID)
	if err != nil || tn.Status != cazbling.TenantPaused {
		t.Fatalf("tenant %+v, %v; want paused", tn, err)
	}
	if l := e.link("ord-001"); l.State != cazbling.OrderCreating {
		t.Errorf("link %+v, want creating", l)
	}
	if _, found := e.cursor(); found {
		t.Errorf("cursor moved after the tenant stopped")
	}
	if e.erp.Calls("CreateOrder") != 1 {
		t.Errorf("%d POSTs, want the run to stop after the first", e.erp.Calls("CreateOrder"))
	}

	e.clock.Advance(24 * time.Hour)
	res = e.run(Options{})
	if res.Status != cazbling.StatusOK || res.Counts.Created != 2 {
		t.Fatalf("after the pause: status %s, counts %+v, %q", res.Status, res.Counts, res.Message)
	}
	if n := len(e.assertNoDuplicates()); n != 2 {
		t.Errorf("Bling has %d orders, want 2", n)
	}
}

// Two processes run sync-orders on one tenant at once: one takes the lease and
// works, the other skips; no order is filed twice.
func TestSyncOrdersConcurrentRuns(t *testing.T) {
	e := newOrdersEnv(t)
	e.erp.AddProduct("SKU-1", "Produto")
	for i := range 5 {
		e.market.PutOrder(testOrder(i, ordersT0.Add(-time.Hour+time.Duration(i)*time.Minute), cpfBuyer(i), testItem("SKU-1", 1, "10.00", "0.00")))
	}
	// A second store handle on the same file stands for a second process.
	other, err := sqlite.Open(context.Background(), sqlite.Options{Path: e.path, Key: testKey(), Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	e.market.entered = make(chan struct{}, 2)
	e.market.gate = make(chan struct{})

	results := make(chan Result, 2)
	for i, st := range []cazbling.Store{e.store, other} {
		d := e.deps(fmt.Sprintf("host-%d", i))
		d.Store = st
		go func() {
			res, err := Run(context.Background(), d, cazbling.FlowOrders, Options{Tenants: []string{e.tenant.ID}}, SyncOrders)
			if err != nil || len(res) != 1 {
				t.Errorf("run: %v %v", res, err)
				results <- Result{}
				return
			}
			results <- res[0]
		}()
	}
	timeout := time.After(20 * time.Second)
	var first Result
	select {
	case first = <-results:
	case <-timeout:
		close(e.market.gate)
		t.Fatal("neither run finished: both are working the tenant at once")
	}
	if first.Status != cazbling.StatusSkipped || !strings.Contains(first.Message, "another cazbling process") {
		t.Errorf("first result %+v, want skipped for the lease", first)
	}
	close(e.market.gate)
	var second Result
	select {
	case second = <-results:
	case <-timeout:
		t.Fatal("the working run did not finish")
	}
	if second.Status != cazbling.StatusOK || second.Counts.Created != 5 {
		t.Errorf("second result %+v", second)
	}
	if n := len(e.assertNoDuplicates()); n != 5 {
		t.Errorf("Bling has %d orders, want 5", n)
	}
}
