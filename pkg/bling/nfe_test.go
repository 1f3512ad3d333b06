package bling_test

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/cazbling/cazbling/pkg/bling"
	"github.com/cazbling/cazbling/pkg/cazbling"
	"github.com/cazbling/cazbling/pkg/httpx"
	"github.com/cazbling/cazbling/pkg/sandbox/blingsim"
)

// The lifecycle calls against the stand-in Bling: an order's state before and after
// an NF-e and tracking, the NF-e itself (key, number, date in São Paulo time), the
// logistics object, the sales statuses with "Cancelado" found by name, and PATCH of
// the status (refused while an NF-e is authorized).
func TestLifecycleAgainstSandbox(t *testing.T) {
	ctx := context.Background()
	sim := blingsim.New(blingsim.Options{RatePerSecond: -1})
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	sim.AddAccount(blingsim.Account{ClientID: "app-1", ClientSecret: "secret-1", CompanyName: "Loja Teste", CNPJ: "12345678000195"})
	store := &simTokens{}
	o := bling.Options{
		BaseURL: srv.URL + "/Api/v3", ClientID: "app-1", ClientSecret: "secret-1", Tokens: store,
		HTTP: srv.Client(), AccountLimiter: httpx.PerSecond(0), MaxAttempts: 2,
		Sleep: func(context.Context, time.Duration) error { return nil },
	}
	tok, err := bling.ExchangeCode(ctx, o, sim.IssueCode("app-1"))
	if err != nil {
		t.Fatal(err)
	}
	store.tok = tok
	c, err := bling.New(o)
	if err != nil {
		t.Fatal(err)
	}
	mug := sim.PutProduct("app-1", blingsim.Product{Nome: "Caneca", Codigo: "CANECA", Preco: blingsim.MustNumber("10"), Formato: "S"})
	contactID, err := c.CreateContact(ctx, cazbling.Contact{Name: "Maria Silva", Document: "529.982.247-25"})
	if err != nil {
		t.Fatal(err)
	}
	pms, err := c.PaymentMethods(ctx)
	if err != nil || len(pms) == 0 {
		t.Fatal(pms, err)
	}
	d := decimal.RequireFromString
	day := time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)
	orderID, err := c.CreateOrder(ctx, cazbling.SalesOrder{StoreNumber: "CZ-9", Date: day, ContactID: contactID,
		Items:        []cazbling.SalesOrderItem{{ProductID: mug, SKU: "CANECA", Description: "Caneca", Quantity: d("2"), UnitPrice: d("10")}},
		Installments: []cazbling.Installment{{DueDate: day, Amount: d("20"), PaymentMethodID: pms[0].ID}}})
	if err != nil {
		t.Fatal(err)
	}

	st, err := c.SalesOrder(ctx, orderID)
	if err != nil || st.ID != orderID || st.InvoiceID != 0 || len(st.Volumes) != 0 || st.StatusID != blingsim.StatusOpen {
		t.Fatalf("fresh order: %+v %v", st, err)
	}
	statuses, err := c.SalesStatuses(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var canceled, custom int64
	for _, s := range statuses {
		switch s.Name {
		case "Cancelado":
			canceled = s.ID
		case "Cancelado pelo comprador":
			custom = s.InheritedID
		}
	}
	if canceled == 0 || custom != canceled {
		t.Fatalf("statuses: %+v", statuses)
	}

	nfe, err := sim.IssueNFe("app-1", orderID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sim.AddTracking("app-1", orderID, "AA123BR", "PAC"); err != nil {
		t.Fatal(err)
	}
	st, err = c.SalesOrder(ctx, orderID)
	if err != nil || st.InvoiceID != nfe.ID || len(st.Volumes) != 1 || st.Volumes[0].TrackingCode != "AA123BR" || st.Volumes[0].Service != "PAC" {
		t.Fatalf("order with NF-e and tracking: %+v %v", st, err)
	}
	inv, err := c.Invoice(ctx, nfe.ID)
	if err != nil || !inv.Authorized() || inv.AccessKey != nfe.ChaveAcesso || len(inv.AccessKey) != 44 || inv.Number != nfe.Numero ||
		inv.Series != "1" || !inv.Amount.Equal(d("20")) || inv.IssuedAt.IsZero() || inv.DanfeURL == "" {
		t.Fatalf("invoice: %+v %v (sim %+v)", inv, err, nfe)
	}
	if got := inv.IssuedAt.In(blingsim.SaoPaulo()).Format("2006-01-02 15:04:05"); got != nfe.DataEmissao {
		t.Errorf("issued at %s, sim says %s (São Paulo)", got, nfe.DataEmissao)
	}
	tr, err := c.Tracking(ctx, st.Volumes[0].ID)
	if err != nil || tr.Code != "AA123BR" || tr.URL == "" {
		t.Fatalf("tracking: %+v %v", tr, err)
	}
	if _, err := c.Invoice(ctx, 1); cazbling.KindOf(err) != cazbling.KindNotFound {
		t.Errorf("unknown NF-e: %v", err)
	}

	// Bling refuses to cancel an order with an authorized NF-e; after the NF-e is
	// cancelled it accepts, and a repeat changes nothing.
	if err := c.SetOrderStatus(ctx, orderID, canceled); cazbling.KindOf(err) != cazbling.KindValidation {
		t.Fatalf("cancel with an authorized NF-e: %v", err)
	}
	if _, err := sim.CancelNFe("app-1", orderID); err != nil {
		t.Fatal(err)
	}
	if inv, _ := c.Invoice(ctx, nfe.ID); inv.Authorized() || inv.Status != cazbling.NFeCanceled {
		t.Fatalf("cancelled NF-e reads %+v", inv)
	}
	for range 2 {
		if err := c.SetOrderStatus(ctx, orderID, canceled); err != nil {
			t.Fatal(err)
		}
	}
	if _, isCanceled, _, _ := sim.OrderState("app-1", orderID); !isCanceled {
		t.Error("order not cancelled in the sandbox")
	}
	if st, _ := c.SalesOrder(ctx, orderID); st.StatusID != canceled {
		t.Errorf("status after PATCH: %d", st.StatusID)
	}
}
