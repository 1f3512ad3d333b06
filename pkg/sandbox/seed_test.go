package sandbox

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/cazbling/cazbling/pkg/sandbox/blingsim"
	"github.com/shopspring/decimal"
)

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
