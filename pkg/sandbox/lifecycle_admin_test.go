package sandbox

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/cazbling/cazbling/pkg/sandbox/blingsim"
	"github.com/cazbling/cazbling/pkg/sandbox/cazcosim"
)

// The admin calls of the order lifecycle: NF-e, its cancel, tracking, a Bling status
// by name, a CaZco cancel, and a product deleted and restored; the new API routes are
// counted by name and faults apply to them.
func TestLifecycleAdmin(t *testing.T) {
	h := newHarness(t, Options{Seed: SeedEmpty, BlingRate: -1})
	h.sb.Bling.AddAccount(blingsim.Account{ClientID: "c1", ClientSecret: "s1", CompanyName: "Loja", CNPJ: "11222333000181"})
	h.sb.Cazco.AddStore("k1")
	tok := h.blingToken(DemoTenant{ClientID: "c1", ClientSecret: "s1"})
	pid := h.sb.Bling.PutProduct("c1", blingsim.Product{Nome: "Caneca", Codigo: "CAN", Preco: blingsim.MustNumber("10"), Formato: "S"})
	contact := h.bling("POST", "/contatos", tok, `{"nome":"Maria","tipo":"F","situacao":"A","numeroDocumento":"52998224725"}`)
	if contact.status != http.StatusCreated {
		t.Fatalf("contact: %d %s", contact.status, contact.raw)
	}
	var c struct{ Data struct{ ID int64 } }
	contact.decode(t, &c)
	var pms struct{ Data []struct{ ID int64 } }
	h.bling("GET", "/formas-pagamentos", tok, "").decode(t, &pms)
	order := h.bling("POST", "/pedidos/vendas", tok, `{"numeroLoja":"N-1","data":"2026-03-10","dataSaida":"2026-03-10","dataPrevista":"2026-03-10",
		"contato":{"id":`+strconv.FormatInt(c.Data.ID, 10)+`},"itens":[{"codigo":"CAN","descricao":"Caneca","quantidade":1,"valor":10,"produto":{"id":`+strconv.FormatInt(pid, 10)+`}}],
		"parcelas":[{"dataVencimento":"2026-03-10","valor":10,"formaPagamento":{"id":`+strconv.FormatInt(pms.Data[0].ID, 10)+`}}]}`)
	if order.status != http.StatusCreated {
		t.Fatalf("order: %d %s", order.status, order.raw)
	}
	admin := func(path string, want int) answer {
		t.Helper()
		a := h.do("POST", "/_sandbox"+path, nil, "")
		if a.status != want {
			t.Fatalf("%s: %d %s", path, a.status, a.raw)
		}
		return a
	}
	var nfe blingsim.NFe
	admin("/bling/nfe?client_id=c1&number=N-1", 200).decode(t, &nfe)
	if len(nfe.ChaveAcesso) != 44 || !cazcosim.ValidAccessKey(nfe.ChaveAcesso) || nfe.Situacao != 5 {
		t.Fatalf("nfe: %+v", nfe)
	}
	admin("/bling/nfe?client_id=c1&number=N-1", 400) // one authorized NF-e at a time
	admin("/bling/tracking?client_id=c1&number=N-1&code=QB1BR", 200)
	admin("/bling/order-status?client_id=c1&number=N-1&status=Cancelado", 200)
	admin("/bling/nfe/cancel?client_id=c1&number=N-1", 200)
	admin("/bling/nfe?client_id=c1&number=NOPE", 404)
	var st struct{ Data blingsim.Order }
	var id int64
	for _, o := range h.sb.Bling.Orders("c1") {
		id = o.ID
	}
	h.bling("GET", "/pedidos/vendas/"+strconv.FormatInt(id, 10), tok, "").decode(t, &st)
	if st.Data.NotaFiscal.ID != nfe.ID || len(st.Data.Transporte.Volumes) != 1 || st.Data.Transporte.Volumes[0].CodigoRastreamento != "QB1BR" {
		t.Fatalf("order: %+v", st.Data)
	}
	if _, canceled, n, _ := h.sb.Bling.OrderState("c1", id); !canceled || n.Situacao != 2 {
		t.Fatalf("state: canceled %v, nfe %+v", canceled, n)
	}

	admin("/bling/product/delete?client_id=c1&sku=CAN", 200)
	if a := h.bling("GET", "/produtos/"+strconv.FormatInt(pid, 10), tok, ""); a.status != http.StatusNotFound {
		t.Fatalf("deleted product: %d", a.status)
	}
	admin("/bling/product/restore?client_id=c1&id="+strconv.FormatInt(pid, 10), 200)
	if a := h.bling("GET", "/produtos/"+strconv.FormatInt(pid, 10), tok, ""); a.status != http.StatusOK {
		t.Fatalf("restored product: %d", a.status)
	}

	oid, err := h.sb.Cazco.AddOrder("k1", cazcosim.Order{Items: []cazcosim.OrderItem{{SKU: "X", Name: "X", UnitPrice: "1.00", Quantity: 1}}})
	if err != nil {
		t.Fatal(err)
	}
	admin("/cazco/cancel?key=k1&id="+url.QueryEscape(oid), 200)
	if o, _ := h.sb.Cazco.Order("k1", oid); o.Status != "canceled" {
		t.Fatalf("cazco order %s", o.Status)
	}
	// Faults apply to the new routes, and they are counted by name.
	if err := h.sb.SetFaults(APICazco, Faults{Burst5xx: 1}); err != nil {
		t.Fatal(err)
	}
	a := h.do("POST", "/api/v1/seller/orders/"+oid+"/cancel", map[string]string{"Authorization": "Bearer k1", "Content-Type": "application/json"}, `{"reason":"x"}`)
	if a.status != http.StatusServiceUnavailable {
		t.Fatalf("fault on cancel: %d", a.status)
	}
	a = h.do("POST", "/api/v1/seller/orders/"+oid+"/cancel", map[string]string{"Authorization": "Bearer k1", "Content-Type": "application/json"}, `{"reason":"x"}`)
	if a.status != http.StatusOK || !strings.Contains(string(a.raw), `"canceled"`) {
		t.Fatalf("cancel again: %d %s", a.status, a.raw)
	}
	cs := h.sb.Counters()
	if cs.Count(APICazco, "POST", "/orders/{id}/cancel", 0) != 2 || cs.Count(APIBling, "GET", "/pedidos/vendas/{id}", 200) != 1 {
		t.Errorf("counters: %+v", cs.Requests)
	}
}
