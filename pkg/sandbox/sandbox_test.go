package sandbox

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/cazbling/cazbling/pkg/sandbox/blingsim"
	"github.com/cazbling/cazbling/pkg/sandbox/cazcosim"
)

func TestEndToEndAndCounters(t *testing.T) {
	h := newHarness(t, Options{BlingRate: -1})
	var info struct {
		Tenants []TenantInfo `json:"tenants"`
	}
	h.do("GET", "/_sandbox/tenants", nil, "").decode(t, &info)
	if len(info.Tenants) != 2 || info.Tenants[0].BlingURL != h.srv.URL+"/Api/v3" || info.Tenants[0].CazcoKey == "" {
		t.Fatalf("tenants: %+v", info)
	}
	tn := info.Tenants[0].DemoTenant
	token := h.blingToken(tn)

	a := h.bling("GET", "/empresas/me/dados-basicos", token, "")
	var company struct{ Data blingsim.Company }
	a.decode(t, &company)
	if d := strings.NewReplacer(".", "", "/", "", "-", "").Replace(company.Data.CNPJ); !blingsim.ValidCNPJ(d) {
		t.Fatalf("company CNPJ %q", company.Data.CNPJ)
	}
	// File the first importable CaZco order in Bling, as the orders flow would.
	var list struct{ Data []cazcosim.Order }
	h.cazco("GET", "/orders?per_page=100", tn.CazcoKey).decode(t, &list)
	var order cazcosim.Order
	for _, o := range list.Data {
		if o.Status == "processing" {
			order = o
			break
		}
	}
	if order.ID == "" {
		t.Fatalf("no processing order: %d", len(list.Data))
	}
	fileOrder(t, h, token, order)

	c := h.sb.Counters()
	for _, tt := range []struct {
		api, method, route string
		status, want       int
	}{
		{"bling", "POST", "/oauth/token", 200, 1},
		{"bling", "GET", "/empresas/me/dados-basicos", 200, 1},
		{"bling", "GET", "/produtos", 200, 3},
		{"bling", "POST", "/contatos", 201, 1},
		{"bling", "GET", "/formas-pagamentos", 200, 1},
		{"bling", "POST", "/pedidos/vendas", 201, 1},
		{"bling", "GET", "/pedidos/vendas/{id}", 0, 1},
		{"cazco", "GET", "/orders", 200, 1},
		{"bling", "", "", 0, 9},
	} {
		if got := c.Count(tt.api, tt.method, tt.route, tt.status); got != tt.want {
			t.Errorf("Count(%s %s %s %d) = %d, want %d; rows %+v", tt.api, tt.method, tt.route, tt.status, got, tt.want, c.Requests)
		}
	}
	if c.Bling.MissingJWTHeader != 0 || c.Peaks["bling"].TotalCalls != 9 || c.Peaks["bling"].PerSecond != 9 {
		t.Errorf("bling stats %+v peaks %+v", c.Bling, c.Peaks)
	}
	var viaAdmin Counters
	h.do("GET", "/_sandbox/counters", nil, "").decode(t, &viaAdmin)
	if viaAdmin.Count("bling", "POST", "/pedidos/vendas", 201) != 1 {
		t.Errorf("admin counters: %+v", viaAdmin)
	}
	h.do("POST", "/_sandbox/counters/reset", nil, "")
	if c := h.sb.Counters(); len(c.Requests) != 0 || c.Peaks["bling"].TotalCalls != 0 {
		t.Errorf("after reset: %+v", c)
	}
	var st BlingState
	h.do("GET", "/_sandbox/state?client_id="+tn.ClientID, nil, "").decode(t, &st)
	if len(st.Orders) != 1 || st.Orders[0].NumeroLoja != order.Number || len(st.Stock) != len(st.Products) {
		t.Errorf("state: %d orders, %d stock rows, %d products", len(st.Orders), len(st.Stock), len(st.Products))
	}
}

// fileOrder maps a CaZco order to a Bling sales order, POSTs it and checks its total.
func fileOrder(t *testing.T, h *harness, token string, o cazcosim.Order) {
	t.Helper()
	a := h.bling("POST", "/pedidos/vendas", token, orderBody(t, h, token, o))
	if a.status != 201 {
		t.Fatalf("order: %d %s", a.status, a.raw)
	}
	var created struct{ Data struct{ ID int64 } }
	a.decode(t, &created)
	a = h.bling("GET", fmt.Sprintf("/pedidos/vendas/%d", created.Data.ID), token, "")
	var got struct{ Data blingsim.Order }
	a.decode(t, &got)
	if got.Data.Total.StringFixed(2) != o.Totals.Total {
		t.Fatalf("bling total %s, cazco total %s", got.Data.Total, o.Totals.Total)
	}
}

// orderBody maps a CaZco order to the body of a Bling sales order POST, creating the
// buyer as a contact.
func orderBody(t *testing.T, h *harness, token string, o cazcosim.Order) string {
	t.Helper()
	q := url.Values{}
	for _, it := range o.Items {
		q.Add("codigos[]", it.SKU)
	}
	// Without filtroSaldoEstoque Bling lists positive balances only: ask for each kind.
	ids := map[string]int64{}
	for _, filtro := range []string{"1", "0", "2"} {
		q.Set("filtroSaldoEstoque", filtro)
		var products struct{ Data []blingsim.ProductSummary }
		h.bling("GET", "/produtos?"+q.Encode(), token, "").decode(t, &products)
		for _, p := range products.Data {
			ids[p.Codigo] = p.ID
		}
	}
	tipo := "F"
	if o.Customer.DocumentType == "CNPJ" {
		tipo = "J"
	}
	body, _ := json.Marshal(map[string]any{"nome": o.Customer.Name, "tipo": tipo, "numeroDocumento": o.Customer.Document, "indicadorIe": 9})
	a := h.bling("POST", "/contatos", token, string(body))
	var contact struct{ Data struct{ ID int64 } }
	a.decode(t, &contact)
	if a.status != 201 {
		t.Fatalf("contact: %d %s", a.status, a.raw)
	}
	var methods struct{ Data []blingsim.PaymentMethod }
	h.bling("GET", "/formas-pagamentos", token, "").decode(t, &methods)
	method := int64(0)
	for _, m := range methods.Data {
		if m.TipoPagamento == map[string]int{"pix": 17, "boleto": 15, "credit_card": 3}[o.Payment.Method] {
			method = m.ID
		}
	}
	var items []any
	for _, it := range o.Items {
		if ids[it.SKU] == 0 {
			t.Fatalf("SKU %s not found in Bling", it.SKU)
		}
		items = append(items, map[string]any{"codigo": it.SKU, "descricao": it.Name, "unidade": "UN", "quantidade": it.Quantity,
			"valor": json.Number(it.UnitPrice), "produto": map[string]any{"id": ids[it.SKU]}})
	}
	day := o.CreatedAt.Format("2006-01-02")
	body, _ = json.Marshal(map[string]any{
		"numeroLoja": o.Number, "data": day, "dataSaida": day, "dataPrevista": day,
		"contato":  map[string]any{"id": contact.Data.ID},
		"itens":    items,
		"desconto": map[string]any{"valor": json.Number(o.Totals.Discount), "unidade": "REAL"},
		"transporte": map[string]any{"frete": json.Number(o.Totals.Shipping), "etiqueta": map[string]any{
			"nome": o.Customer.Name, "endereco": o.ShippingAddress.Street, "numero": o.ShippingAddress.Number,
			"municipio": o.ShippingAddress.City, "uf": o.ShippingAddress.State, "cep": o.ShippingAddress.Postcode,
			"bairro": o.ShippingAddress.Neighborhood}},
		"parcelas": []any{map[string]any{"dataVencimento": day, "valor": json.Number(o.Totals.Total), "formaPagamento": map[string]any{"id": method}}},
	})
	return string(body)
}

func TestStartLoopbackOnly(t *testing.T) {
	sb, err := New(Options{Seed: SeedEmpty})
	if err != nil {
		t.Fatal(err)
	}
	for _, addr := range []string{"0.0.0.0:0", ":0", "192.0.2.1:0", "example.com:80"} {
		if _, err := sb.Start(addr); err == nil {
			t.Fatalf("Start(%q) accepted", addr)
		}
	}
	base, err := sb.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	if _, err := sb.Start("127.0.0.1:0"); err == nil {
		t.Fatal("second Start accepted")
	}
	res, err := http.Get(base + "/_sandbox/tenants")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("tenants: %d", res.StatusCode)
	}
	if err := sb.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := http.Get(base + "/_sandbox/tenants"); err == nil {
		t.Fatal("server still answering after Close")
	}
}
