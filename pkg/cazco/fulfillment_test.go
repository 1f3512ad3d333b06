package cazco

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/cazbling/cazbling/pkg/cazbling"
	"github.com/cazbling/cazbling/pkg/sandbox/blingsim"
	"github.com/cazbling/cazbling/pkg/sandbox/cazcosim"
)

func TestValidAccessKey(t *testing.T) {
	good := blingsim.AccessKey("12345678000195", time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), "1001", 42)
	if !ValidAccessKey(good) || !cazcosim.ValidAccessKey(good) {
		t.Fatalf("%s should be valid", good)
	}
	bad := good[:43] + string(rune('0'+(int(good[43]-'0')+1)%10))
	for _, k := range []string{bad, good[:43], good + "1", "A" + good[1:], ""} {
		if ValidAccessKey(k) || cazcosim.ValidAccessKey(k) {
			t.Errorf("%q should be invalid", k)
		}
	}
}

// The v1.1 writes against the stand-in CaZco, with the contract's idempotency: the same
// invoice key again is fine, another key is a conflict naming the one there (unless it
// replaces it), a shipment before the invoice is refused, the same tracking code again
// is already done, a cancel twice is fine, and a shipped order cannot be canceled.
func TestFulfillmentAgainstSandbox(t *testing.T) {
	ctx := context.Background()
	sim := cazcosim.New(cazcosim.Options{})
	sim.AddStore("k1")
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	c, err := New(Options{BaseURL: srv.URL + cazcosim.BasePath, APIKey: "k1", RatePerMinute: 6_000_000,
		Sleep: func(context.Context, time.Duration) error { return nil }})
	if err != nil {
		t.Fatal(err)
	}
	mk := func(sku string) string {
		if _, err := sim.PutProduct("k1", cazcosim.Product{SKU: sku, Name: "P " + sku, Price: "10.00", Status: "active"}); err != nil {
			t.Fatal(err)
		}
		id, err := sim.AddOrder("k1", cazcosim.Order{Items: []cazcosim.OrderItem{{SKU: sku, Quantity: 1}}})
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	id := mk("A")
	key := blingsim.AccessKey("12345678000195", time.Now(), "1001", 1)
	other := blingsim.AccessKey("12345678000195", time.Now(), "1002", 2)
	inv := cazbling.MarketInvoice{Number: "1001", Series: "1", AccessKey: key, IssuedAt: time.Now(), Amount: decimal.RequireFromString("10")}

	if _, _, err := c.AddShipment(ctx, id, cazbling.MarketShipment{Carrier: "Correios", TrackingCode: "BR1"}); err == nil {
		t.Fatal("shipment before the invoice was accepted")
	} else if ae := apiError(t, err); ae.Status != 422 || ae.Type != "invoice_required" {
		t.Fatalf("shipment before the invoice: %+v", ae)
	}
	for range 2 {
		if err := c.SetInvoice(ctx, id, inv); err != nil {
			t.Fatal(err)
		}
	}
	o, _ := sim.Order("k1", id)
	if o.Status != "billed" || o.Invoice == nil || o.Invoice.AccessKey != key || sim.FulfillmentOf("k1", id).InvoicesSet != 1 {
		t.Fatalf("after invoice: %+v %+v", o, sim.FulfillmentOf("k1", id))
	}
	inv2 := inv
	inv2.AccessKey = other
	err = c.SetInvoice(ctx, id, inv2)
	if ae := apiError(t, err); ae.Kind != cazbling.KindConflict || ae.ExistingID != key {
		t.Fatalf("another key: %+v", ae)
	}
	inv2.Replaces = key
	if err := c.SetInvoice(ctx, id, inv2); err != nil {
		t.Fatalf("a corrected NF-e: %v", err)
	}
	bad := inv
	bad.AccessKey = key[:43] + "x"
	if err := c.SetInvoice(ctx, id, bad); cazbling.KindOf(err) != cazbling.KindValidation {
		t.Fatalf("bad key: %v", err)
	}

	shipID, already, err := c.AddShipment(ctx, id, cazbling.MarketShipment{Carrier: "Correios", TrackingCode: "BR1", Service: "PAC", ShippedAt: time.Now()})
	if err != nil || already || shipID == "" {
		t.Fatalf("shipment: %q %v %v", shipID, already, err)
	}
	again, already, err := c.AddShipment(ctx, id, cazbling.MarketShipment{Carrier: "Correios", TrackingCode: "BR1"})
	if err != nil || !already || again != shipID {
		t.Fatalf("same tracking again: %q %v %v", again, already, err)
	}
	if f := sim.FulfillmentOf("k1", id); f.ShipmentsMade != 1 {
		t.Fatalf("shipments made %d", f.ShipmentsMade)
	}
	if err := c.CancelOrder(ctx, id, "teste"); cazbling.KindOf(err) != cazbling.KindConflict {
		t.Fatalf("cancel after shipping: %v", err)
	}

	id2 := mk("B")
	for range 2 {
		if err := c.CancelOrder(ctx, id2, "Cancelado no Bling"); err != nil {
			t.Fatal(err)
		}
	}
	if o, _ := sim.Order("k1", id2); o.Status != "canceled" || sim.FulfillmentOf("k1", id2).Cancels != 1 {
		t.Fatalf("after cancel: %s %+v", o.Status, sim.FulfillmentOf("k1", id2))
	}
	// The canceled-orders walk filters by status.
	n := 0
	for o, err := range c.Orders(ctx, cazbling.OrderQuery{Statuses: []string{"canceled", "desisted"}}) {
		if err != nil {
			t.Fatal(err)
		}
		if o.ID != id2 {
			t.Errorf("listed %s (%s)", o.ID, o.Status)
		}
		n++
	}
	if n != 1 {
		t.Errorf("listed %d canceled orders", n)
	}
}
