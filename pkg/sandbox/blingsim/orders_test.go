package blingsim

import (
	"fmt"
	"slices"
	"sync"
	"testing"
)

func TestContacts(t *testing.T) {
	e := newEnv(t, Options{})
	a, _ := e.login(clientA, secretA)
	tests := []struct {
		name     string
		body     map[string]any
		status   int
		elements []string
	}{
		{"no name no type", map[string]any{"numeroDocumento": "52998224725"}, 400, []string{"nome", "tipo"}},
		{"bad CPF", map[string]any{"nome": "Ana", "tipo": "F", "numeroDocumento": "52998224724"}, 400, []string{"numeroDocumento"}},
		{"CNPJ for a person", map[string]any{"nome": "Ana", "tipo": "F", "numeroDocumento": "11222333000181"}, 400, []string{"numeroDocumento"}},
		{"letters", map[string]any{"nome": "Ana", "tipo": "F", "numeroDocumento": "5299822472X"}, 400, []string{"numeroDocumento"}},
		{"bad UF", map[string]any{"nome": "Ana", "tipo": "F", "endereco": map[string]any{"geral": map[string]any{"uf": "XX"}}}, 400, []string{"endereco.geral.uf"}},
		{"ok person", map[string]any{"nome": "Ana Souza", "tipo": "F", "numeroDocumento": "529.982.247-25",
			"endereco": map[string]any{"geral": map[string]any{"endereco": "Rua A", "numero": "10", "cep": "01310-100", "municipio": "São Paulo", "uf": "SP"}}}, 201, nil},
		{"duplicate", map[string]any{"nome": "Ana S.", "tipo": "F", "numeroDocumento": "52998224725"}, 400, []string{"numeroDocumento"}},
		{"ok company", map[string]any{"nome": "Empresa X Ltda", "tipo": "J", "numeroDocumento": "11222333000181", "indicadorIe": 1, "ie": "110042490114"}, 201, nil},
		{"taxpayer without IE", map[string]any{"nome": "Empresa Y", "tipo": "J", "numeroDocumento": "11444777000161", "indicadorIe": 1}, 400, []string{"ie"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.call("POST", "/contatos", a, tt.body)
			if r.status != tt.status {
				t.Fatalf("got %d %s", r.status, r.raw)
			}
			if tt.status == 400 && (r.errType() != "VALIDATION_ERROR" || !slices.Equal(r.fieldElements(), tt.elements)) {
				t.Fatalf("fields %v: %s", r.fieldElements(), r.raw)
			}
			if tt.status == 201 && r.item()["id"] == nil {
				t.Fatalf("no id: %s", r.raw)
			}
		})
	}
	r := e.call("GET", "/contatos?numeroDocumento=52998224725&criterio=1", a, nil)
	if len(r.data()) != 1 || r.data()[0].(map[string]any)["numeroDocumento"] != "529.982.247-25" {
		t.Fatalf("lookup by document: %s", r.raw)
	}
	if r := e.call("GET", "/contatos?numeroDocumento=11111111111&criterio=1", a, nil); r.status != 200 || len(r.data()) != 0 {
		t.Fatalf("lookup of unknown document: %s", r.raw)
	}
	if got := e.sim.Contacts(clientA); len(got) != 2 || got[0].NumeroDocumento != "52998224725" {
		t.Fatalf("Contacts() = %+v", got)
	}
	if r := e.call("POST", "/contatos", a, "{not json"); r.status != 400 || r.errType() != "INVALID_REQUEST_BODY" {
		t.Fatalf("bad JSON: %d %s", r.status, r.raw)
	}
}

// orderFixture creates a contact and a product and returns a valid order body.
func orderFixture(t *testing.T, e *env, token string) map[string]any {
	t.Helper()
	r := e.call("POST", "/contatos", token, map[string]any{"nome": "Ana", "tipo": "F", "numeroDocumento": "52998224725"})
	if r.status != 201 {
		t.Fatalf("contact: %s", r.raw)
	}
	contact := r.item()["id"]
	pid := e.sim.PutProduct(clientA, simpleProduct("SKU-1"))
	pix := int64(0)
	for _, pm := range e.sim.PaymentMethods(clientA) {
		if pm.TipoPagamento == 17 {
			pix = pm.ID
		}
	}
	return map[string]any{
		"numeroLoja": "CZ-1001", "data": "2026-03-10", "dataSaida": "2026-03-10", "dataPrevista": "2026-03-15",
		"contato": map[string]any{"id": contact},
		"itens": []any{map[string]any{"codigo": "SKU-1", "descricao": "Produto SKU-1", "unidade": "UN",
			"quantidade": 2, "valor": 10.50, "produto": map[string]any{"id": pid}}},
		"transporte": map[string]any{"fretePorConta": 0, "frete": 15.9,
			"etiqueta": map[string]any{"nome": "Ana", "endereco": "Rua A", "numero": "10", "municipio": "São Paulo", "uf": "SP", "cep": "01310100", "bairro": "Centro"}},
		"parcelas":    []any{map[string]any{"dataVencimento": "2026-03-10", "valor": 36.90, "formaPagamento": map[string]any{"id": pix}}},
		"observacoes": "Pedido CaZco CZ-1001",
	}
}

func without(m map[string]any, key string) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		if k != key {
			out[k] = v
		}
	}
	return out
}

func with(m map[string]any, key string, v any) map[string]any {
	out := without(m, key)
	out[key] = v
	return out
}

func TestOrderValidation(t *testing.T) {
	e := newEnv(t, Options{})
	a, _ := e.login(clientA, secretA)
	good := orderFixture(t, e, a)
	item := good["itens"].([]any)[0].(map[string]any)
	parcel := good["parcelas"].([]any)[0].(map[string]any)
	tests := []struct {
		name     string
		body     map[string]any
		elements []string
	}{
		{"missing parcelas", without(good, "parcelas"), []string{"parcelas"}},
		{"empty parcelas", with(good, "parcelas", []any{}), []string{"parcelas"}},
		{"missing contato", without(good, "contato"), []string{"contato"}},
		{"unknown contato", with(good, "contato", map[string]any{"id": 42}), []string{"contato"}},
		{"missing dataPrevista", without(good, "dataPrevista"), []string{"dataPrevista"}},
		{"bad data", with(good, "data", "10/03/2026"), []string{"data"}},
		{"missing itens", without(good, "itens"), []string{"itens"}},
		{"item without descricao", with(good, "itens", []any{without(item, "descricao")}), []string{"itens"}},
		{"item unknown product", with(good, "itens", []any{with(item, "produto", map[string]any{"id": 1})}), []string{"itens"}},
		{"parcel unknown method", with(good, "parcelas", []any{with(parcel, "formaPagamento", map[string]any{"id": 1})}), []string{"parcelas"}},
		{"parcel without due date", with(good, "parcelas", []any{without(parcel, "dataVencimento")}), []string{"parcelas"}},
		{"parcels do not add up", with(good, "parcelas", []any{with(parcel, "valor", 36.89)}), []string{"parcelas"}},
		{"bad label UF", with(good, "transporte", map[string]any{"frete": 15.9, "etiqueta": map[string]any{"uf": "São Paulo"}}), []string{"transporte.etiqueta.uf"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.call("POST", "/pedidos/vendas", a, tt.body)
			if r.status != 400 || r.errType() != "VALIDATION_ERROR" {
				t.Fatalf("got %d %s", r.status, r.raw)
			}
			if els := r.fieldElements(); !slices.Equal(els, tt.elements) {
				t.Fatalf("fields %v, want %v: %s", els, tt.elements, r.raw)
			}
		})
	}
	// A price sent as a string is not Bling's wire format.
	r := e.call("POST", "/pedidos/vendas", a, with(good, "itens", []any{with(item, "valor", "10.50")}))
	if r.status != 400 || r.errType() != "INVALID_REQUEST_BODY" {
		t.Fatalf("string price: %d %s", r.status, r.raw)
	}
	if n := len(e.sim.Orders(clientA)); n != 0 {
		t.Fatalf("%d orders stored by refused POSTs", n)
	}
}

func TestOrderCreateAndLookup(t *testing.T) {
	var mu sync.Mutex
	var committed []int64
	e := newEnv(t, Options{OrderCommitted: func(clientID string, id int64) {
		mu.Lock()
		defer mu.Unlock()
		if clientID == clientA {
			committed = append(committed, id)
		}
	}})
	a, _ := e.login(clientA, secretA)
	body := orderFixture(t, e, a)
	var created []int64
	for i := 0; i < 2; i++ { // Bling accepts a repeated numeroLoja.
		r := e.call("POST", "/pedidos/vendas", a, body)
		if r.status != 201 {
			t.Fatalf("create %d: %d %s", i, r.status, r.raw)
		}
		if al, ok := r.item()["alertas"].([]any); !ok || len(al) != 0 {
			t.Fatalf("alertas: %s", r.raw)
		}
		created = append(created, int64(r.item()["id"].(float64)))
	}
	if !slices.Equal(committed, created) {
		t.Fatalf("OrderCommitted saw %v, created %v", committed, created)
	}
	orders := e.sim.Orders(clientA)
	if len(orders) != 2 || orders[0].Numero != 1 || orders[1].Numero != 2 {
		t.Fatalf("orders: %+v", orders)
	}
	o := orders[0]
	if o.Total.String() != "36.9" || o.TotalProdutos.String() != "21" || o.Contato.NumeroDocumento != "52998224725" ||
		o.Itens[0].Produto.ID == 0 || o.Transporte.Etiqueta.CEP != "01310100" || o.Situacao.Valor != 0 {
		t.Fatalf("stored order: %+v", o)
	}
	r := e.call("GET", "/pedidos/vendas?numerosLojas[]=CZ-1001", a, nil)
	if got := ids(r.data()); len(got) != 2 {
		t.Fatalf("lookup by numeroLoja: %s", r.raw)
	}
	if r := e.call("GET", "/pedidos/vendas?numerosLojas[]=CZ-100", a, nil); len(r.data()) != 0 {
		t.Fatalf("numerosLojas[] must match exactly: %s", r.raw)
	}
	r = e.call("GET", fmt.Sprintf("/pedidos/vendas/%d", created[0]), a, nil)
	if r.status != 200 || r.item()["numeroLoja"] != "CZ-1001" || len(r.item()["parcelas"].([]any)) != 1 || r.item()["total"] != 36.9 {
		t.Fatalf("get order: %d %s", r.status, r.raw)
	}
	// A reused numero fails.
	r = e.call("POST", "/pedidos/vendas", a, with(body, "numero", 1))
	if r.status != 400 || !slices.Equal(r.fieldElements(), []string{"numero"}) {
		t.Fatalf("reused numero: %d %s", r.status, r.raw)
	}
	// Fuzzy lookups prove a client re-checks matches.
	e2 := newEnv(t, Options{FuzzyLookups: true})
	a2, _ := e2.login(clientA, secretA)
	body2 := orderFixture(t, e2, a2)
	e2.call("POST", "/pedidos/vendas", a2, with(body2, "numeroLoja", "CZ-10010"))
	if r := e2.call("GET", "/pedidos/vendas?numerosLojas[]=CZ-1001", a2, nil); len(r.data()) != 1 {
		t.Fatalf("fuzzy lookup: %s", r.raw)
	}
}

func TestOrderDiscountsAndPercent(t *testing.T) {
	e := newEnv(t, Options{})
	a, _ := e.login(clientA, secretA)
	body := orderFixture(t, e, a)
	// 21.00 items − 10% (2.10) + 15.90 freight = 34.80
	body = with(body, "desconto", map[string]any{"valor": 10, "unidade": "PERCENTUAL"})
	parcel := body["parcelas"].([]any)[0].(map[string]any)
	body = with(body, "parcelas", []any{with(parcel, "valor", 34.80)})
	if r := e.call("POST", "/pedidos/vendas", a, body); r.status != 201 {
		t.Fatalf("percent discount: %d %s", r.status, r.raw)
	}
	// Two installments that add up.
	body = with(body, "desconto", map[string]any{"valor": 4.8, "unidade": "REAL"}) // 21 − 4.8 + 15.9 = 32.10
	body = with(body, "parcelas", []any{with(parcel, "valor", 16.05), with(parcel, "valor", 16.05)})
	if r := e.call("POST", "/pedidos/vendas", a, body); r.status != 201 {
		t.Fatalf("two parcels: %d %s", r.status, r.raw)
	}
}
