package sandbox

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cazbling/cazbling/pkg/sandbox/blingsim"
	"github.com/cazbling/cazbling/pkg/sandbox/cazcosim"
	"github.com/shopspring/decimal"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newClock() *clock { return &clock{t: time.Date(2026, 3, 10, 15, 4, 5, 0, time.UTC)} }

type harness struct {
	t     *testing.T
	sb    *Sandbox
	srv   *httptest.Server
	clock *clock
}

func newHarness(t *testing.T, opts Options) *harness {
	t.Helper()
	c := newClock()
	if opts.Now == nil {
		opts.Now = c.Now
	}
	sb, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sb.Handler())
	t.Cleanup(srv.Close)
	return &harness{t: t, sb: sb, srv: srv, clock: c}
}

type answer struct {
	status int
	header http.Header
	raw    []byte
}

func (a answer) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(a.raw, v); err != nil {
		t.Fatalf("decode %s: %v", a.raw, err)
	}
}

func (h *harness) do(method, path string, header map[string]string, body string) answer {
	h.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, h.srv.URL+path, rd)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := h.srv.Client().Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	return answer{status: res.StatusCode, header: res.Header, raw: raw}
}

// blingToken gets an access token for a demo tenant the way a script would: a code from
// the admin API, exchanged at the token endpoint.
func (h *harness) blingToken(tn DemoTenant) string {
	h.t.Helper()
	a := h.do("POST", "/_sandbox/code?client_id="+tn.ClientID, nil, "")
	var code struct{ Code string }
	a.decode(h.t, &code)
	basic := base64.StdEncoding.EncodeToString([]byte(tn.ClientID + ":" + tn.ClientSecret))
	a = h.do("POST", "/Api/v3/oauth/token", map[string]string{
		"Authorization": "Basic " + basic, "Content-Type": "application/x-www-form-urlencoded", "enable-jwt": "1",
	}, url.Values{"grant_type": {"authorization_code"}, "code": {code.Code}}.Encode())
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	a.decode(h.t, &tok)
	if tok.AccessToken == "" {
		h.t.Fatalf("token: %d %s", a.status, a.raw)
	}
	return tok.AccessToken
}

func (h *harness) bling(method, path, token, body string) answer {
	h.t.Helper()
	hdr := map[string]string{"Authorization": "Bearer " + token, "enable-jwt": "1"}
	if body != "" {
		hdr["Content-Type"] = "application/json"
	}
	return h.do(method, "/Api/v3"+path, hdr, body)
}

func (h *harness) cazco(method, path, key string) answer {
	h.t.Helper()
	return h.do(method, "/api/v1/seller"+path, map[string]string{"Authorization": "Bearer " + key, "Accept": "application/json"}, "")
}

func TestDemoSeedIsDeterministicAndValid(t *testing.T) {
	c := newClock()
	a, err := New(Options{Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	b, err := New(Options{Now: c.Now, Seed: SeedDemo})
	if err != nil {
		t.Fatal(err)
	}
	tenants := DemoTenants()
	if len(tenants) != 2 || tenants[0].Tenant != "loja-da-ana" || tenants[1].Tenant != "casa-do-joao" {
		t.Fatalf("tenants: %+v", tenants)
	}
	if got := a.DemoTenants(); len(got) != 2 || got[0] != tenants[0] || got[1] != tenants[1] {
		t.Fatalf("seeded tenants %+v", got)
	}
	for _, tn := range tenants {
		ja, _ := json.Marshal([]any{a.Bling.Products(tn.ClientID), a.Cazco.Products(tn.CazcoKey), a.Cazco.Orders(tn.CazcoKey)})
		jb, _ := json.Marshal([]any{b.Bling.Products(tn.ClientID), b.Cazco.Products(tn.CazcoKey), b.Cazco.Orders(tn.CazcoKey)})
		if string(ja) != string(jb) {
			t.Fatalf("%s: two demo seeds differ", tn.Tenant)
		}
		for _, p := range a.Bling.Products(tn.ClientID) {
			sa, _ := a.Bling.Stock(tn.ClientID, p.ID)
			sb, _ := b.Bling.Stock(tn.ClientID, p.ID)
			if !sa.SaldoVirtualTotal.Equal(sb.SaldoVirtualTotal.Decimal) {
				t.Fatalf("%s: stock of %s differs", tn.Tenant, p.Codigo)
			}
		}
		checkCatalogue(t, a, tn)
		checkOrders(t, a, tn)
	}
	empty, err := New(Options{Now: c.Now, Seed: SeedEmpty})
	if err != nil || len(empty.DemoTenants()) != 0 || empty.Bling.Products(tenants[0].ClientID) != nil {
		t.Fatalf("empty seed: %v %+v", err, empty.DemoTenants())
	}
	if _, err := New(Options{Seed: "lots"}); err == nil {
		t.Fatal("unknown seed accepted")
	}
}

func checkCatalogue(t *testing.T, sb *Sandbox, tn DemoTenant) {
	t.Helper()
	products := sb.Bling.Products(tn.ClientID)
	parents, variations, services, inactive, negative := 0, 0, 0, 0, 0
	skus := map[string]bool{}
	for _, p := range products {
		if skus[p.Codigo] || p.Codigo == "" {
			t.Errorf("%s: SKU %q empty or repeated", tn.Tenant, p.Codigo)
		}
		skus[p.Codigo] = true
		switch {
		case p.IDProdutoPai != 0:
			variations++
			if p.Variacao == nil || !strings.Contains(p.Variacao.Nome, ":") {
				t.Errorf("%s: variation %s lacks variacao.nome", tn.Tenant, p.Codigo)
			}
		default:
			parents++
		}
		if p.Tipo == "S" {
			services++
			continue
		}
		if p.Situacao == "I" {
			inactive++
		}
		if !blingsim.ValidGTIN(p.GTIN) || len(p.GTIN) != 13 {
			t.Errorf("%s: %s GTIN %q invalid", tn.Tenant, p.Codigo, p.GTIN)
		}
		if len(p.Tributacao.NCM) != 10 || p.Marca == "" || !p.PesoBruto.IsPositive() || p.Dimensoes.UnidadeMedida != 1 || !p.Dimensoes.Altura.IsPositive() {
			t.Errorf("%s: %s lacks fiscal or shipping data: %+v", tn.Tenant, p.Codigo, p)
		}
		if p.ImagemURL == "" || !p.Preco.IsPositive() || p.Preco.Exponent() < -2 {
			t.Errorf("%s: %s price or image: %v %q", tn.Tenant, p.Codigo, p.Preco, p.ImagemURL)
		}
		if s, _ := sb.Bling.Stock(tn.ClientID, p.ID); s.SaldoVirtualTotal.IsNegative() {
			negative++
		}
	}
	if parents < 24 || parents > 26 || variations < 6 || services != 1 || inactive != 1 || negative < 1 {
		t.Errorf("%s: %d products, %d variations, %d services, %d inactive, %d negative", tn.Tenant, parents, variations, services, inactive, negative)
	}
	co := sb.Bling.Contacts(tn.ClientID)
	if len(co) != 0 {
		t.Errorf("%s: Bling starts with %d contacts", tn.Tenant, len(co))
	}
}

func checkOrders(t *testing.T, sb *Sandbox, tn DemoTenant) {
	t.Helper()
	skus := map[string]blingsim.Product{}
	for _, p := range sb.Bling.Products(tn.ClientID) {
		skus[p.Codigo] = p
	}
	orders := sb.Cazco.Orders(tn.CazcoKey)
	if len(orders) < 10 || len(orders) > 14 {
		t.Fatalf("%s: %d orders", tn.Tenant, len(orders))
	}
	statuses, methods, docTypes := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, o := range orders {
		statuses[o.Status], methods[o.Payment.Method], docTypes[o.Customer.DocumentType] = true, true, true
		switch o.Customer.DocumentType {
		case "CPF":
			if !blingsim.ValidCPF(o.Customer.Document) {
				t.Errorf("%s: order %s CPF %s invalid", tn.Tenant, o.ID, o.Customer.Document)
			}
		case "CNPJ":
			if !blingsim.ValidCNPJ(o.Customer.Document) || o.Customer.CompanyName == nil {
				t.Errorf("%s: order %s CNPJ %s invalid", tn.Tenant, o.ID, o.Customer.Document)
			}
		}
		if !blingsim.ValidUF(o.ShippingAddress.State) || len(o.ShippingAddress.Postcode) != 8 || o.ShippingAddress.City == "" {
			t.Errorf("%s: order %s address %+v", tn.Tenant, o.ID, o.ShippingAddress)
		}
		items := decimal.Zero
		for _, it := range o.Items {
			p, ok := skus[it.SKU]
			if !ok || p.Situacao != "A" || p.Tipo != "P" || p.Formato == "V" {
				t.Errorf("%s: order %s sells %s, not a sellable Bling SKU", tn.Tenant, o.ID, it.SKU)
			}
			if it.ProductID == "" {
				t.Errorf("%s: order %s item %s has no CaZco product", tn.Tenant, o.ID, it.SKU)
			}
			items = items.Add(decimal.RequireFromString(it.UnitPrice).Mul(decimal.NewFromInt(it.Quantity)))
		}
		total := items.Sub(decimal.RequireFromString(o.Totals.Discount)).Add(decimal.RequireFromString(o.Totals.Shipping))
		if o.Totals.Items != items.StringFixed(2) || o.Totals.Total != total.StringFixed(2) {
			t.Errorf("%s: order %s totals %+v", tn.Tenant, o.ID, o.Totals)
		}
	}
	for _, want := range []string{"pending_payment", "canceled", "processing"} {
		if !statuses[want] {
			t.Errorf("%s: no %s order", tn.Tenant, want)
		}
	}
	if !methods["pix"] || !methods["boleto"] || !methods["credit_card"] || !docTypes["CPF"] || !docTypes["CNPJ"] {
		t.Errorf("%s: methods %v, documents %v", tn.Tenant, methods, docTypes)
	}
}

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

func TestFaultBursts(t *testing.T) {
	h := newHarness(t, Options{BlingRate: -1})
	tn := DemoTenants()[0]
	token := h.blingToken(tn)
	if err := h.sb.SetFaults("bling", Faults{Burst429: 2}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		a := h.bling("GET", "/produtos/123", token, "")
		var body struct {
			Error struct {
				Type   string
				Limit  int
				Period string
			}
		}
		a.decode(t, &body)
		if a.status != 429 || body.Error.Type != "TOO_MANY_REQUESTS" || body.Error.Period != "second" || body.Error.Limit != 3 {
			t.Fatalf("burst %d: %d %s", i, a.status, a.raw)
		}
	}
	if a := h.bling("GET", "/produtos/123", token, ""); a.status != 404 {
		t.Fatalf("after the burst: %d %s", a.status, a.raw)
	}
	c := h.sb.Counters()
	if c.Count("bling", "GET", "/produtos/{id}", 429) != 2 || c.Count("bling", "GET", "/produtos/{id}", 404) != 1 {
		t.Fatalf("counters: %+v", c.Requests)
	}
	if c.Bling.RateLimitedSecond != 0 {
		t.Errorf("injected 429s reached the Bling sim: %+v", c.Bling)
	}

	// CaZco: set through the admin API, with its own body and Retry-After.
	a := h.do("POST", "/_sandbox/faults?api=cazco", nil, `{"burst_429":1,"burst_5xx":1,"latency":"1ms"}`)
	if a.status != 200 {
		t.Fatalf("set faults: %d %s", a.status, a.raw)
	}
	a = h.cazco("GET", "/orders", tn.CazcoKey)
	var ce struct{ Code, RequestID string }
	a.decode(t, &ce)
	if a.status != 429 || ce.Code != "rate_limited" || a.header.Get("Retry-After") != "1" {
		t.Fatalf("cazco 429: %d %v %s", a.status, a.header, a.raw)
	}
	if a = h.cazco("GET", "/orders", tn.CazcoKey); a.status != 503 {
		t.Fatalf("cazco 5xx burst: %d %s", a.status, a.raw)
	}
	if a = h.cazco("GET", "/orders", tn.CazcoKey); a.status != 200 {
		t.Fatalf("cazco after bursts: %d %s", a.status, a.raw)
	}
	if got := h.sb.Faults("cazco"); got.Latency != time.Millisecond || got.Burst429 != 1 {
		t.Fatalf("faults read back: %+v", got)
	}
	if a := h.do("POST", "/_sandbox/faults?api=erp", nil, `{}`); a.status != 400 {
		t.Fatalf("unknown api: %d", a.status)
	}
	if a := h.do("POST", "/_sandbox/faults?api=bling", nil, `{"error_rate":2}`); a.status != 400 {
		t.Fatalf("bad rate: %d", a.status)
	}
}

func TestFaultRatesAreSeeded(t *testing.T) {
	h := newHarness(t, Options{BlingRate: -1, Seed: SeedEmpty})
	run := func(f Faults) []int {
		if err := h.sb.SetFaults("bling", f); err != nil {
			t.Fatal(err)
		}
		var out []int
		for i := 0; i < 40; i++ {
			a := h.do("GET", "/Api/v3/depositos", nil, "")
			out = append(out, a.status)
			switch a.status {
			case 500:
				var e struct{ Error struct{ Type string } }
				a.decode(t, &e)
				if e.Error.Type != "SERVER_ERROR" {
					t.Fatalf("500 body: %s", a.raw)
				}
			case 200:
				if json.Valid(a.raw) {
					t.Fatalf("a malformed answer is valid JSON: %s", a.raw)
				}
			}
		}
		return out
	}
	f := Faults{ErrorRate: 0.3, MalformedRate: 0.3, Seed: 42}
	first, second := run(f), run(f)
	if fmt.Sprint(first) != fmt.Sprint(second) {
		t.Fatalf("same seed, different faults:\n%v\n%v", first, second)
	}
	n := map[int]int{}
	for _, s := range first {
		n[s]++
	}
	if n[500] == 0 || n[200] == 0 || n[401] == 0 {
		t.Fatalf("expected a mix of 500, malformed 200 and real 401: %v", n)
	}
	f.Seed = 43
	if fmt.Sprint(run(f)) == fmt.Sprint(first) {
		t.Fatal("another seed gave the same faults")
	}
}

func TestOrderPostDelay(t *testing.T) {
	h := newHarness(t, Options{BlingRate: -1})
	tn := DemoTenants()[1]
	token := h.blingToken(tn)
	var orders struct{ Data []cazcosim.Order }
	h.cazco("GET", "/orders?per_page=100", tn.CazcoKey).decode(t, &orders)
	if err := h.sb.SetFaults("bling", Faults{OrderPostDelay: time.Second}); err != nil {
		t.Fatal(err)
	}
	body := orderBody(t, h, token, orders.Data[0])
	done := make(chan int, 1)
	go func() {
		req, _ := http.NewRequest("POST", h.srv.URL+"/Api/v3/pedidos/vendas", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("enable-jwt", "1")
		req.Header.Set("Content-Type", "application/json")
		status := 0
		if res, err := h.srv.Client().Do(req); err == nil {
			res.Body.Close()
			status = res.StatusCode
		}
		done <- status
	}()
	// The order is stored while its POST is still unanswered.
	deadline := time.After(10 * time.Second)
	for len(h.sb.Bling.Orders(tn.ClientID)) == 0 {
		select {
		case <-done:
			t.Fatal("the POST was answered before the order was seen stored")
		case <-deadline:
			t.Fatal("order never stored")
		case <-time.After(time.Millisecond):
		}
	}
	select {
	case <-done:
		t.Fatal("the POST was answered without the delay")
	default:
	}
	if status := <-done; status != 201 {
		t.Fatalf("delayed POST: %d", status)
	}
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

func TestAdminLoopbackOnly(t *testing.T) {
	sb, err := New(Options{Seed: SeedEmpty})
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest("GET", "/_sandbox/tenants", nil)
	req.RemoteAddr = "203.0.113.9:4242"
	rec := httptest.NewRecorder()
	sb.Handler().ServeHTTP(rec, req)
	if rec.Code != http.StatusForbidden {
		t.Fatalf("remote admin call: %d", rec.Code)
	}
}

func TestAdminMutations(t *testing.T) {
	h := newHarness(t, Options{})
	tn := DemoTenants()[0]
	a := h.do("POST", "/_sandbox/bling/stock?client_id="+tn.ClientID+"&sku=BON-ABA-005&quantity=77", nil, "")
	var bal blingsim.StockBalance
	a.decode(t, &bal)
	if a.status != 200 || bal.SaldoFisicoTotal.IntPart() < 77 {
		t.Fatalf("stock: %d %s", a.status, a.raw)
	}
	before, _ := h.sb.Bling.Products(tn.ClientID)[0], 0
	h.clock.Add(time.Minute)
	a = h.do("POST", "/_sandbox/bling/price?client_id="+tn.ClientID+"&sku=CAM-ALG-001&price=54.90", nil, "")
	var p blingsim.Product
	a.decode(t, &p)
	if a.status != 200 || p.Preco.StringFixed(2) != "54.90" || len(p.Variacoes) != 6 {
		t.Fatalf("price: %d %s", a.status, a.raw)
	}
	if after, _ := h.sb.Bling.Product(tn.ClientID, before.ID); !after.DataAlteracao.After(before.DataAlteracao) {
		t.Fatalf("price edit did not bump dataAlteracao")
	}
	o := h.sb.Cazco.Orders(tn.CazcoKey)[0]
	a = h.do("POST", "/_sandbox/cazco/order-status?key="+tn.CazcoKey+"&id="+o.ID+"&status=shipped", nil, "")
	if a.status != 200 || !strings.Contains(string(a.raw), `"shipped"`) {
		t.Fatalf("order status: %d %s", a.status, a.raw)
	}
	if a := h.do("GET", "/_sandbox/state?key="+tn.CazcoKey, nil, ""); a.status != 200 || !strings.Contains(string(a.raw), o.ID) {
		t.Fatalf("cazco state: %d", a.status)
	}
	if a := h.do("POST", "/_sandbox/code?client_id=nobody", nil, ""); a.status != 404 {
		t.Fatalf("code for unknown client: %d", a.status)
	}
}

func TestPeaks(t *testing.T) {
	h := newHarness(t, Options{Seed: SeedEmpty})
	for i := 0; i < 4; i++ {
		h.do("GET", "/Api/v3/depositos", nil, "")
	}
	h.clock.Add(1500 * time.Millisecond)
	for i := 0; i < 3; i++ {
		h.do("GET", "/Api/v3/depositos", nil, "")
	}
	h.clock.Add(10 * time.Second)
	h.do("GET", "/Api/v3/depositos", nil, "")
	p := h.sb.Counters().Peaks["bling"]
	if p.PerSecond != 4 || p.Per10Secs != 7 || p.TotalCalls != 8 {
		t.Fatalf("peaks %+v", p)
	}
}
