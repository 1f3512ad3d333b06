package bling

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/cazbling/cazbling/pkg/cazbling"
)

func sampleOrder() cazbling.SalesOrder {
	d := decimal.RequireFromString
	return cazbling.SalesOrder{
		StoreNumber: "CZ-1001",
		// 01:30 UTC on the 11th is still the 10th in São Paulo.
		Date:      time.Date(2025, 3, 11, 1, 30, 0, 0, time.UTC),
		ContactID: 17012345678,
		StoreID:   204567890,
		Items: []cazbling.SalesOrderItem{
			{ProductID: 16132345679, SKU: "CAM-AZ-G", Description: "Camiseta Azul G", Quantity: d("2"), UnitPrice: d("0.1").Add(d("0.2")), Discount: d("0.05")},
			{SKU: "BRINDE", Description: "Brinde", Unit: "PC", Quantity: d("1.5"), UnitPrice: d("19.999")},
		},
		Discount: d("1.00"),
		Freight:  d("15.9"),
		Carrier:  "Correios SEDEX",
		ShipTo: cazbling.Address{Recipient: "Maria Silva", Street: "Rua das Flores", Number: "100", Complement: "ap 3",
			Neighborhood: "Centro", City: "São Paulo", State: "sp", Postcode: "01001-000"},
		Installments: []cazbling.Installment{{DueDate: time.Date(2025, 3, 11, 2, 0, 0, 0, time.UTC), Amount: d("46.53"), PaymentMethodID: 3456}},
		Notes:        "Pedido CaZco CZ-1001",
	}
}

func TestCreateOrderBody(t *testing.T) {
	var logs logBuffer
	c, f, _, _ := newTestClient(t)
	c.log = logs.logger()
	f.handle("POST /pedidos/vendas", func(w http.ResponseWriter, r recorded) {
		writeJSON(w, 201, `{"data":{"id":12345678901,"alertas":[{"code":40,"msg":"Estoque insuficiente","element":"itens","namespace":"VENDAS"}]}}`)
	})
	id, err := c.CreateOrder(context.Background(), sampleOrder())
	if err != nil {
		t.Fatal(err)
	}
	if id != 12345678901 {
		t.Errorf("id = %d", id)
	}
	reqs := f.requests("POST", "/pedidos/vendas")
	if len(reqs) != 1 {
		t.Fatalf("%d requests", len(reqs))
	}
	const want = `{
	 "numeroLoja":"CZ-1001","data":"2025-03-10","dataSaida":"2025-03-10","dataPrevista":"2025-03-10",
	 "contato":{"id":17012345678},"loja":{"id":204567890},
	 "itens":[
	  {"codigo":"CAM-AZ-G","descricao":"Camiseta Azul G","unidade":"UN","quantidade":2,"valor":0.30,"produto":{"id":16132345679}},
	  {"codigo":"BRINDE","descricao":"Brinde","unidade":"PC","quantidade":1.5,"valor":19.999}
	 ],
	 "desconto":{"valor":1.05,"unidade":"REAL"},
	 "transporte":{"fretePorConta":0,"frete":15.90,"contato":{"nome":"Correios SEDEX"},
	  "etiqueta":{"nome":"Maria Silva","endereco":"Rua das Flores","numero":"100","complemento":"ap 3","municipio":"São Paulo","uf":"SP","cep":"01001000","bairro":"Centro"}},
	 "parcelas":[{"dataVencimento":"2025-03-10","valor":46.53,"formaPagamento":{"id":3456}}],
	 "observacoes":"Pedido CaZco CZ-1001"
	}`
	if got, exp := canonical(t, reqs[0].Body), canonical(t, []byte(want)); got != exp {
		t.Errorf("body\n got %s\nwant %s", got, exp)
	}
	// Money is written as decimal text, exactly.
	for _, s := range []string{`"valor":0.30`, `"frete":15.90`, `"valor":19.999`, `"valor":46.53`} {
		if !strings.Contains(string(reqs[0].Body), s) {
			t.Errorf("body lacks %s: %s", s, reqs[0].Body)
		}
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(reqs[0].Body, &top); err != nil {
		t.Fatal(err)
	}
	if _, ok := top["numero"]; ok {
		t.Errorf("numero sent: %s", reqs[0].Body)
	}
	if out := logs.String(); !strings.Contains(out, "level=WARN") || !strings.Contains(out, "Estoque insuficiente") {
		t.Errorf("alerts not logged at warn level:\n%s", out)
	}
}

func TestCreateOrderMinimal(t *testing.T) {
	c, f, _, _ := newTestClient(t)
	f.handle("POST /pedidos/vendas", func(w http.ResponseWriter, r recorded) { writeJSON(w, 201, `{"data":{"id":5}}`) })
	o := cazbling.SalesOrder{
		StoreNumber: "N1", Date: time.Date(2025, 1, 2, 15, 0, 0, 0, time.UTC), ContactID: 1,
		Items:        []cazbling.SalesOrderItem{{Description: "X", Quantity: decimal.NewFromInt(1), UnitPrice: decimal.RequireFromString("10")}},
		Installments: []cazbling.Installment{{Amount: decimal.RequireFromString("10")}},
	}
	if _, err := c.CreateOrder(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	body := f.requests("POST", "/pedidos/vendas")[0].Body
	const want = `{"numeroLoja":"N1","data":"2025-01-02","dataSaida":"2025-01-02","dataPrevista":"2025-01-02","contato":{"id":1},
	 "itens":[{"descricao":"X","unidade":"UN","quantidade":1,"valor":10.00}],"transporte":{"fretePorConta":0,"frete":0.00},
	 "parcelas":[{"dataVencimento":"2025-01-02","valor":10.00}]}`
	if got, exp := canonical(t, body), canonical(t, []byte(want)); got != exp {
		t.Errorf("body\n got %s\nwant %s", got, exp)
	}
}

func TestCreateOrderRefusesIncompleteOrders(t *testing.T) {
	c, f, _, _ := newTestClient(t)
	tests := map[string]func(o *cazbling.SalesOrder){
		"no store number":  func(o *cazbling.SalesOrder) { o.StoreNumber = " " },
		"no contact":       func(o *cazbling.SalesOrder) { o.ContactID = 0 },
		"no items":         func(o *cazbling.SalesOrder) { o.Items = nil },
		"no installments":  func(o *cazbling.SalesOrder) { o.Installments = nil },
		"zero quantity":    func(o *cazbling.SalesOrder) { o.Items[0].Quantity = decimal.Zero },
		"no item describe": func(o *cazbling.SalesOrder) { o.Items[1].Description = "" },
	}
	for name, mod := range tests {
		o := sampleOrder()
		mod(&o)
		if _, err := c.CreateOrder(context.Background(), o); cazbling.KindOf(err) != cazbling.KindValidation {
			t.Errorf("%s: err = %v", name, err)
		}
	}
	if n := len(f.requests("", "/pedidos/vendas")); n != 0 {
		t.Errorf("%d requests sent", n)
	}
}

func TestCreateOrderWithoutID(t *testing.T) {
	c, f, _, _ := newTestClient(t)
	f.handle("POST /pedidos/vendas", func(w http.ResponseWriter, r recorded) { writeJSON(w, 201, `{"data":{}}`) })
	_, err := c.CreateOrder(context.Background(), sampleOrder())
	if cazbling.KindOf(err) != cazbling.KindMalformed || !strings.Contains(err.Error(), "look it up") {
		t.Errorf("err = %v", err)
	}
}

func TestMoney(t *testing.T) {
	tests := map[string]string{"0.3": "0.30", "15.9": "15.90", "10": "10.00", "19.999": "19.999", "-1.5": "-1.50", "0": "0.00", "1234567.891": "1234567.891"}
	for in, want := range tests {
		if got := money(decimal.RequireFromString(in)); string(got) != want {
			t.Errorf("money(%s) = %s, want %s", in, got, want)
		}
	}
	if decimal.MarshalJSONWithoutQuotes {
		t.Error("the package-global decimal flag was flipped")
	}
}

func TestContactByDocument(t *testing.T) {
	c, f, _, _ := newTestClient(t)
	f.handle("GET /contatos", func(w http.ResponseWriter, r recorded) {
		if r.Query.Get("numeroDocumento") != "12345678909" || r.Query.Get("criterio") != "1" {
			t.Errorf("query = %v", r.Query)
		}
		writeJSON(w, 200, dataList(
			`{"id":1,"nome":"Outro","situacao":"A","numeroDocumento":"123.456.789-091"}`,
			`{"id":2,"nome":"Excluido","situacao":"E","numeroDocumento":"123.456.789-09"}`,
			`{"id":3,"nome":"Maria (inativa)","situacao":"I","numeroDocumento":"123.456.789-09"}`,
			`{"id":4,"nome":"Maria","situacao":"A","numeroDocumento":"12345678909","telefone":"","celular":"(11) 98888-7777"}`,
		))
	})
	ct, found, err := c.ContactByDocument(context.Background(), "123.456.789-09")
	if err != nil {
		t.Fatal(err)
	}
	if !found || ct.ID != 4 || ct.Name != "Maria" || ct.Document != "12345678909" || ct.Phone != "(11) 98888-7777" {
		t.Errorf("contact = %+v found=%v", ct, found)
	}

	f.handle("GET /contatos", func(w http.ResponseWriter, r recorded) {
		writeJSON(w, 200, dataList(`{"id":1,"nome":"Quase","situacao":"A","numeroDocumento":"1234567890"}`))
	})
	if _, found, err := c.ContactByDocument(context.Background(), "12345678909"); err != nil || found {
		t.Errorf("found=%v err=%v for a near match", found, err)
	}
	if _, _, err := c.ContactByDocument(context.Background(), "--"); cazbling.KindOf(err) != cazbling.KindValidation {
		t.Errorf("no digits: %v", err)
	}
}

func TestCreateContact(t *testing.T) {
	c, f, _, _ := newTestClient(t)
	f.handle("POST /contatos", func(w http.ResponseWriter, r recorded) { writeJSON(w, 201, `{"data":{"id":17012345678}}`) })
	id, err := c.CreateContact(context.Background(), cazbling.Contact{
		Name: "Empresa X LTDA", Document: "12.345.678/0001-95", Email: "a@x.com", Phone: "+55 (11) 3333-4444",
		IE: "123456789", IEIndicator: 1,
		Address: cazbling.Address{Street: "Av. Paulista", Number: "1000", Neighborhood: "Bela Vista", City: "São Paulo", State: "SP", Postcode: "01310-100"},
	})
	if err != nil || id != 17012345678 {
		t.Fatalf("id %d err %v", id, err)
	}
	const want = `{"nome":"Empresa X LTDA","tipo":"J","situacao":"A","numeroDocumento":"12345678000195","email":"a@x.com",
	 "telefone":"+55 (11) 3333-4444","ie":"123456789","indicadorIe":1,
	 "endereco":{"geral":{"endereco":"Av. Paulista","numero":"1000","bairro":"Bela Vista","cep":"01310100","municipio":"São Paulo","uf":"SP"}}}`
	if got, exp := canonical(t, f.requests("POST", "/contatos")[0].Body), canonical(t, []byte(want)); got != exp {
		t.Errorf("body\n got %s\nwant %s", got, exp)
	}

	// A person with a mobile number; no address.
	if _, err := c.CreateContact(context.Background(), cazbling.Contact{Name: "Maria", Document: "123.456.789-09", Phone: "(11) 98888-7777", IEIndicator: 9}); err != nil {
		t.Fatal(err)
	}
	var body map[string]any
	_ = json.Unmarshal(f.requests("POST", "/contatos")[1].Body, &body)
	if body["tipo"] != "F" || body["celular"] != "(11) 98888-7777" || body["telefone"] != nil || body["endereco"] != nil {
		t.Errorf("body = %v", body)
	}
	if _, err := c.CreateContact(context.Background(), cazbling.Contact{Document: "1"}); cazbling.KindOf(err) != cazbling.KindValidation {
		t.Errorf("no name: %v", err)
	}
}

func TestOrdersByStoreNumbers(t *testing.T) {
	c, f, _, _ := newTestClient(t)
	var numbers []string
	for i := range 120 {
		numbers = append(numbers, fmt.Sprintf("CZ-%d", i))
	}
	f.handle("GET /pedidos/vendas", func(w http.ResponseWriter, r recorded) {
		if r.Query.Get("idLoja") != "204567890" {
			t.Errorf("idLoja = %q", r.Query.Get("idLoja"))
		}
		var items []string
		for _, n := range r.Query["numerosLojas[]"] {
			switch n {
			case "CZ-1":
				items = append(items, `{"id":11,"numero":1,"numeroLoja":"CZ-1","loja":{"id":204567890}}`,
					`{"id":12,"numero":2,"numeroLoja":"CZ-10","loja":{"id":204567890}}`, // not asked in this form
					`{"id":13,"numero":3,"numeroLoja":"cz-1","loja":{"id":204567890}}`)
			case "CZ-70":
				items = append(items, `{"id":70,"numero":"70","numeroLoja":"CZ-70","loja":{"id":999}}`) // another store
			case "CZ-110":
				items = append(items, `{"id":110,"numero":110,"numeroLoja":"CZ-110","loja":{"id":204567890}}`)
			}
		}
		writeJSON(w, 200, dataList(items...))
	})
	got, err := c.OrdersByStoreNumbers(context.Background(), numbers, 204567890)
	if err != nil {
		t.Fatal(err)
	}
	want := []cazbling.ERPOrderRef{
		{ID: 11, Number: "1", StoreNumber: "CZ-1", StoreID: 204567890},
		{ID: 12, Number: "2", StoreNumber: "CZ-10", StoreID: 204567890}, // CZ-10 was asked too
		{ID: 110, Number: "110", StoreNumber: "CZ-110", StoreID: 204567890},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("refs = %+v", got)
	}
	var sizes []int
	for _, r := range f.requests("GET", "/pedidos/vendas") {
		sizes = append(sizes, len(r.Query["numerosLojas[]"]))
	}
	if !reflect.DeepEqual(sizes, []int{50, 50, 20}) {
		t.Errorf("batch sizes = %v", sizes)
	}
}

func TestOrdersByStoreNumbersWithoutStore(t *testing.T) {
	c, f, _, _ := newTestClient(t)
	f.handle("GET /pedidos/vendas", func(w http.ResponseWriter, r recorded) {
		if r.Query.Has("idLoja") {
			t.Errorf("idLoja sent: %v", r.Query)
		}
		writeJSON(w, 200, dataList(`{"id":5,"numero":9,"numeroLoja":"A","loja":{"id":0}}`, `{"id":6,"numeroLoja":"A","loja":{"id":3}}`))
	})
	got, err := c.OrdersByStoreNumbers(context.Background(), []string{"A"}, 0)
	if err != nil || len(got) != 2 {
		t.Errorf("refs %+v err %v", got, err)
	}
}

func TestPaymentMethods(t *testing.T) {
	c, f, _, _ := newTestClient(t)
	f.handle("GET /formas-pagamentos", func(w http.ResponseWriter, r recorded) {
		if r.Query.Get("pagina") != "1" || r.Query.Get("limite") != "100" {
			t.Errorf("query = %v", r.Query)
		}
		writeJSON(w, 200, dataList(
			`{"id":3456,"descricao":"PIX","tipoPagamento":17,"situacao":1,"fixa":false,"padrao":1,"finalidade":3}`,
			`{"id":3457,"descricao":"Boleto","tipoPagamento":15,"situacao":0,"padrao":2}`,
			`{"id":3458,"descricao":"Estranha","tipoPagamento":"x","situacao":null,"padrao":"0"}`,
		))
	})
	got, err := c.PaymentMethods(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := []cazbling.PaymentMethod{
		{ID: 3456, Description: "PIX", Type: 17, Status: 1, Default: true},
		{ID: 3457, Description: "Boleto", Type: 15, Status: 0},
		{ID: 3458, Description: "Estranha", Type: -1, Status: 0},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("methods = %+v", got)
	}
}
