package bling_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/cazbling/cazbling/pkg/bling"
	"github.com/cazbling/cazbling/pkg/cazbling"
	"github.com/cazbling/cazbling/pkg/httpx"
	"github.com/cazbling/cazbling/pkg/sandbox/blingsim"
)

// simTokens is a TokenStore in memory, serialized like the SQLite store.
type simTokens struct {
	mu  sync.Mutex
	tok cazbling.Token
}

func (s *simTokens) Token(context.Context) (cazbling.Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tok, nil
}

func (s *simTokens) UpdateToken(_ context.Context, fn func(cazbling.Token) (cazbling.Token, error)) (cazbling.Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, err := fn(s.tok)
	if err != nil {
		return cazbling.Token{}, err
	}
	s.tok = t
	return t, nil
}

// TestAgainstSandbox runs the client against the strict stand-in Bling, which applies
// the spec's default filtroSaldoEstoque=1 and, here, matches codigos[] and numerosLojas[]
// by prefix.
func TestAgainstSandbox(t *testing.T) {
	ctx := context.Background()
	sim := blingsim.New(blingsim.Options{RatePerSecond: -1, FuzzyLookups: true})
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

	if co, err := c.Company(ctx); err != nil || co.Name != "Loja Teste" {
		t.Fatalf("company %+v err %v", co, err)
	}

	parent := sim.PutProduct("app-1", blingsim.Product{Nome: "Camiseta", Codigo: "CAM", Preco: blingsim.MustNumber("59.90"), Formato: "V",
		Variacoes: []blingsim.Product{
			{Nome: "Camiseta Azul", Codigo: "CAM-AZ", Formato: "S", Variacao: &blingsim.VariationInfo{Nome: "Cor:Azul"}},
			{Nome: "Camiseta Verde", Codigo: "CAM-VD", Formato: "S", Variacao: &blingsim.VariationInfo{Nome: "Cor:Verde"}},
		}})
	mug := sim.PutProduct("app-1", blingsim.Product{Nome: "Caneca", Codigo: "CANECA", Preco: blingsim.MustNumber("0.30"), Formato: "S"})
	sim.PutProduct("app-1", blingsim.Product{Nome: "Caneca 2", Codigo: "CANECA-2", Preco: blingsim.MustNumber("10"), Formato: "S"})

	full, err := c.Product(ctx, parent)
	if err != nil {
		t.Fatal(err)
	}
	if len(full.Variations) != 2 || full.Variations[0].VariationName == "" || full.Variations[0].ParentID != parent {
		t.Fatalf("variations = %+v", full.Variations)
	}
	blue, green := full.Variations[0].ID, full.Variations[1].ID
	if err := sim.SetStock("app-1", blue, 0, decimal.NewFromInt(5)); err != nil {
		t.Fatal(err)
	}
	if err := sim.SetStock("app-1", mug, 0, decimal.NewFromInt(-2)); err != nil {
		t.Fatal(err)
	}

	found, err := c.ProductsBySKU(ctx, []string{"CANECA", "CAM-AZ", "NOPE"})
	if err != nil {
		t.Fatal(err)
	}
	var skus []string
	for _, p := range found {
		skus = append(skus, p.SKU)
		if p.SKU == "CANECA" && p.Price.String() != "0.3" {
			t.Errorf("price = %s", p.Price)
		}
	}
	sort.Strings(skus)
	if len(skus) != 2 || skus[0] != "CAM-AZ" || skus[1] != "CANECA" {
		t.Errorf("ProductsBySKU = %v (fuzzy matches must be dropped)", skus)
	}

	for _, tc := range []struct {
		class cazbling.StockClass
		want  string
	}{
		{cazbling.StockPositive, fmt.Sprintf("%d=5", blue)},
		{cazbling.StockZero, fmt.Sprintf("%d=0", green)},
		{cazbling.StockNegative, fmt.Sprintf("%d=-2", mug)},
	} {
		balances, err := c.StockBalances(ctx, []int64{blue, green, mug}, tc.class)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, b := range balances {
			got = append(got, fmt.Sprintf("%d=%s", b.ProductID, b.VirtualTotal))
		}
		if len(got) != 1 || got[0] != tc.want {
			t.Errorf("%s balances = %v, want [%s]", tc.class, got, tc.want)
		}
	}

	deps, err := c.Deposits(ctx)
	if err != nil || len(deps) != 2 {
		t.Errorf("deposits %+v err %v", deps, err)
	}
	pms, err := c.PaymentMethods(ctx)
	if err != nil || len(pms) != 4 {
		t.Fatalf("payment methods %+v err %v", pms, err)
	}

	if _, ok, err := c.ContactByDocument(ctx, "529.982.247-25"); err != nil || ok {
		t.Fatalf("contact before creation: found=%v err=%v", ok, err)
	}
	contactID, err := c.CreateContact(ctx, cazbling.Contact{Name: "Maria Silva", Document: "529.982.247-25", Phone: "(11) 98888-7777",
		IEIndicator: 9, Address: cazbling.Address{Street: "Rua A", Number: "1", Neighborhood: "Centro", City: "São Paulo", State: "SP", Postcode: "01001-000"}})
	if err != nil {
		t.Fatal(err)
	}
	if ct, ok, err := c.ContactByDocument(ctx, "52998224725"); err != nil || !ok || ct.ID != contactID {
		t.Fatalf("contact after creation: %+v found=%v err=%v", ct, ok, err)
	}

	d := decimal.RequireFromString
	order := func(number string) cazbling.SalesOrder {
		return cazbling.SalesOrder{
			StoreNumber: number, Date: time.Date(2025, 3, 10, 15, 0, 0, 0, time.UTC), ContactID: contactID,
			Items: []cazbling.SalesOrderItem{
				{ProductID: mug, SKU: "CANECA", Description: "Caneca", Quantity: d("3"), UnitPrice: d("0.1").Add(d("0.2"))},
				{ProductID: blue, SKU: "CAM-AZ", Description: "Camiseta Azul", Quantity: d("1"), UnitPrice: d("59.90")},
			},
			Discount: d("0.90"), Freight: d("15.00"), Carrier: "Correios",
			ShipTo:       cazbling.Address{Recipient: "Maria Silva", Street: "Rua A", Number: "1", City: "São Paulo", State: "SP", Postcode: "01001000", Neighborhood: "Centro"},
			Installments: []cazbling.Installment{{DueDate: time.Date(2025, 3, 10, 15, 0, 0, 0, time.UTC), Amount: d("74.90"), PaymentMethodID: pms[3].ID}},
		}
	}
	id1, err := c.CreateOrder(ctx, order("CZ-1"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateOrder(ctx, order("CZ-10")); err != nil {
		t.Fatal(err)
	}
	refs, err := c.OrdersByStoreNumbers(ctx, []string{"CZ-1"}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(refs) != 1 || refs[0].ID != id1 || refs[0].StoreNumber != "CZ-1" {
		t.Errorf("refs = %+v (CZ-10 must not match CZ-1)", refs)
	}
	orders := sim.Orders("app-1")
	if len(orders) != 2 {
		t.Fatalf("%d orders in the sandbox", len(orders))
	}

	// The seller removes the app: the next call gets invalid_token, the refresh
	// invalid_grant.
	sim.RevokeTokens("app-1")
	if _, err := c.Company(ctx); cazbling.KindOf(err) != cazbling.KindInvalidGrant {
		t.Errorf("after revocation: %v", err)
	}
}
