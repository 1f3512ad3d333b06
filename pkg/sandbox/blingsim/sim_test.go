package blingsim

import (
	"encoding/json"
	"testing"

	"github.com/shopspring/decimal"
)

func TestUnknownRoute(t *testing.T) {
	e := newEnv(t, Options{})
	a, _ := e.login(clientA, secretA)
	if r := e.call("GET", "/nada", a, nil); r.status != 404 || r.errType() != "RESOURCE_NOT_FOUND" {
		t.Fatalf("%d %s", r.status, r.raw)
	}
	if r := e.call("GET", "/produtos/123", a, nil); r.status != 404 || r.errType() != "RESOURCE_NOT_FOUND" {
		t.Fatalf("%d %s", r.status, r.raw)
	}
}

func TestNumberJSON(t *testing.T) {
	b, _ := json.Marshal(struct{ P Number }{MustNumber("129.90")})
	if string(b) != `{"P":129.9}` {
		t.Fatalf("marshal = %s", b)
	}
	var v struct{ P Number }
	if err := json.Unmarshal([]byte(`{"P":0.1}`), &v); err != nil || !v.P.Equal(decimal.RequireFromString("0.1")) {
		t.Fatalf("unmarshal = %v %v", v.P, err)
	}
	if err := json.Unmarshal([]byte(`{"P":"0.1"}`), &v); err == nil {
		t.Fatal("a quoted number was accepted")
	}
}

func TestValidators(t *testing.T) {
	for _, tt := range []struct {
		doc  string
		cpf  bool
		cnpj bool
	}{
		{"52998224725", true, false},
		{"52998224724", false, false},
		{"11111111111", false, false},
		{"11222333000181", false, true},
		{"11222333000182", false, false},
		{"5299822472", false, false},
		{"5299822472a", false, false},
	} {
		if ValidCPF(tt.doc) != tt.cpf || ValidCNPJ(tt.doc) != tt.cnpj {
			t.Errorf("%s: cpf %v cnpj %v", tt.doc, ValidCPF(tt.doc), ValidCNPJ(tt.doc))
		}
	}
	if got := CPFCheckDigits("529982247"); got != "25" {
		t.Errorf("CPFCheckDigits = %s", got)
	}
	if got := CNPJCheckDigits("112223330001"); got != "81" {
		t.Errorf("CNPJCheckDigits = %s", got)
	}
	for gtin, ok := range map[string]bool{"7891000315507": true, "7891000315508": false, "96385074": true, "036000291452": true, "123": false} {
		if ValidGTIN(gtin) != ok {
			t.Errorf("ValidGTIN(%s) = %v", gtin, !ok)
		}
	}
}
