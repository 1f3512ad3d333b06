package e2e

import (
	"fmt"
	"testing"

	"github.com/cazbling/cazbling/pkg/sandbox"
)

// BenchmarkLifecycle500Open50Changed runs sync-orders for a tenant with 500 filed orders
// still open (no new order to file), of which 50 changed in Bling or CaZco since the
// last run: 20 got an authorized NF-e, 10 already invoiced got tracking, 10 were
// cancelled in Bling and 10 in CaZco. The lifecycle phase reads every open order once
// (the alteration date is not trusted to move on an NF-e or tracking), so its cost is
// about one Bling request per open order plus those of the changes.
func BenchmarkLifecycle500Open50Changed(b *testing.B) {
	for range b.N {
		b.StopTimer()
		size, open := 50, benchScaled(b, 500)
		nfe, track, blingCancel, cazcoCancel := open*20/500, open*10/500, open*10/500, open*10/500
		e := newBenchEnv(b)
		tn := e.addTenant("wl")
		e.benchSeed(b, tn, size, 1)
		e.benchActivate(b, tn)
		var ids []string
		for i := range open {
			id, err := e.sb.Cazco.AddOrder(tn.CazcoKey, ordersNew(i, ordersPerson(i%100), "processing", ordersItems(i, 1, size)))
			if err != nil {
				b.Fatal(err)
			}
			ids = append(ids, id)
		}
		e.benchRun(b, e.vars, "sync-orders", "-q") // set-up: files the 500 (unpaced)
		bling := make([]int64, open)
		for i, id := range ids {
			o, _ := e.sb.Cazco.Order(tn.CazcoKey, id)
			bid, ok := e.sb.Bling.OrderByStoreNumber(tn.ClientID, o.Number)
			if !ok {
				b.Fatalf("order %s not filed", id)
			}
			bling[i] = bid
		}
		// The first `track` orders are invoiced during the set-up, so that their
		// tracking can go in the measured run.
		for i := range track {
			if _, err := e.sb.Bling.IssueNFe(tn.ClientID, bling[i]); err != nil {
				b.Fatal(err)
			}
		}
		e.benchRun(b, e.vars, "sync-orders", "-q")
		k := 0
		for i := range track {
			if _, err := e.sb.Bling.AddTracking(tn.ClientID, bling[i], fmt.Sprintf("BR%09dXX", i), ""); err != nil {
				b.Fatal(err)
			}
			k++
		}
		for range nfe {
			if _, err := e.sb.Bling.IssueNFe(tn.ClientID, bling[k]); err != nil {
				b.Fatal(err)
			}
			k++
		}
		for range blingCancel {
			if err := e.sb.Bling.SetOrderStatusName(tn.ClientID, bling[k], "Cancelado"); err != nil {
				b.Fatal(err)
			}
			k++
		}
		for range cazcoCancel {
			if err := e.sb.Cazco.SetOrderStatus(tn.CazcoKey, ids[k], "canceled"); err != nil {
				b.Fatal(err)
			}
			k++
		}
		settleCazcoWindow()
		e.limitForMeasuredRun(cazcoPerMinute)

		b.StartTimer()
		proc := e.benchRun(b, measured("WL", e.realPacing()), "sync-orders", "-q")
		b.StopTimer()

		for i := range track {
			if o, _ := e.sb.Cazco.Order(tn.CazcoKey, ids[i]); o.Status != "shipped" {
				b.Fatalf("order %s with tracking is %s", ids[i], o.Status)
			}
		}
		var m costModel
		m.add(sandbox.APIBling, "sales statuses (GET /situacoes/modulos, GET /situacoes/modulos/{id})", 2)
		m.add(sandbox.APIBling, "one read per open order (GET /pedidos/vendas/{id})", open)
		m.add(sandbox.APIBling, "NF-e reads of the orders showing a new one (GET /nfe/{id})", nfe)
		m.add(sandbox.APIBling, "cancels of the orders canceled in CaZco (PATCH .../situacoes/{id})", cazcoCancel)
		// The filing part's walk: the set-up's orders were all added within its 10-minute
		// overlap, so they are listed again (and found already filed, at no Bling cost).
		m.add(sandbox.APICazco, "changed orders in the filing window, 100 a page (GET /orders?updated_since)", ceilDiv(open, 100))
		m.add(sandbox.APICazco, "canceled orders, 1 page per status (GET /orders?status=canceled, =desisted)", 2)
		m.add(sandbox.APICazco, "invoices (PUT /orders/{id}/invoice)", nfe)
		m.add(sandbox.APICazco, "shipments (POST /orders/{id}/shipments)", track)
		m.add(sandbox.APICazco, "cancels (POST /orders/{id}/cancel)", blingCancel)
		benchReport{
			name: "WL", what: fmt.Sprintf("sync-orders lifecycle, %d open orders, %d changed (%d NF-e, %d tracking, %d cancelled in Bling, %d in CaZco)",
				open, nfe+track+blingCancel+cazcoCancel, nfe, track, blingCancel, cazcoCancel),
			pacing: realPacingNote, proc: proc,
			counters: e.sb.Counters(), model: m, cazcoRPM: cazcoPerMinute, items: open,
		}.report(b)
	}
}
