package sandbox

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/cazbling/cazbling/pkg/sandbox/blingsim"
	"github.com/cazbling/cazbling/pkg/sandbox/cazcosim"
	"github.com/shopspring/decimal"
)

// DemoTenant is a seller of the demo seed: a Bling account and a CaZco store.
type DemoTenant struct {
	Tenant       string `json:"tenant"`
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
	CazcoKey     string `json:"cazco_key"`
}

// DemoTenants returns the demo seed's tenants and their fixed credentials.
func DemoTenants() []DemoTenant {
	return []DemoTenant{
		{Tenant: "loja-da-ana", ClientID: "5a1b7c3d9e0f2a4b6c8d0e1f3a5b7c9d1e3f5a70",
			ClientSecret: "d41c8a7e2b9f03654e1a7c9b2d8f6e0a3c5b7d9e1f2a4c6e8b0d2f4a6c8e",
			CazcoKey:     "czk_demo_lojadaana_7f3a9c2e41b8d6f05e2a"},
		{Tenant: "casa-do-joao", ClientID: "8c2e4a6b0d1f3e5a7c9b1d3f5e7a9c0b2d4f6e81",
			ClientSecret: "a7f9c1e3b5d70264f8a0c2e4b6d8f1a3c5e7b9d0f2a4c6e8a1c3e5b7d9f0",
			CazcoKey:     "czk_demo_casadojoao_3b8e1d6f9a2c47e05d1b"},
	}
}

// seedDemo fills the sandbox with the demo tenants. Everything is derived from fixed
// seeds and the sandbox clock, so two sandboxes with the same clock hold the same data
// (ids included).
func seedDemo(sb *Sandbox) error {
	now := sb.now()
	for _, t := range seedTenants() {
		if err := seedAccount(sb, t, now); err != nil {
			return fmt.Errorf("tenant %s: %w", t.Tenant, err)
		}
		sb.tenants = append(sb.tenants, t.DemoTenant)
	}
	return nil
}

type sellable struct {
	sku, name, price string
	onCazco          bool
}

func seedAccount(sb *Sandbox, t seedTenant, now time.Time) error {
	rng := rand.New(rand.NewPCG(t.rngSeed, t.rngSeed*31+7))
	cnpj := t.cnpjBody + "0001"
	cnpj += blingsim.CNPJCheckDigits(cnpj)
	sb.Bling.AddAccount(blingsim.Account{ClientID: t.ClientID, ClientSecret: t.ClientSecret,
		CompanyName: t.company, CNPJ: cnpj, Email: "contato@" + strings.ReplaceAll(t.Tenant, "-", "") + ".com.br"})
	sb.Cazco.AddStore(t.CazcoKey)
	deposits := sb.Bling.Deposits(t.ClientID)
	if len(deposits) < 2 {
		return fmt.Errorf("bling account has %d deposits", len(deposits))
	}

	var items []sellable
	for i, sp := range t.catalogue {
		p := blingProduct(t, i, sp, now)
		id := sb.Bling.PutProduct(t.ClientID, p)
		if id == 0 {
			return fmt.Errorf("put product %s", sp.sku)
		}
		if sp.service {
			continue
		}
		full, _ := sb.Bling.Product(t.ClientID, id)
		units := []blingsim.Product{full}
		if len(full.Variacoes) > 0 {
			units = full.Variacoes
		}
		for _, u := range units {
			geral, loja := int64(rng.IntN(40)), int64(rng.IntN(8))
			if sp.stockOverride != nil {
				geral, loja = sp.stockOverride[0], sp.stockOverride[1]
			}
			if err := sb.Bling.SetStock(t.ClientID, u.ID, deposits[0].ID, decimal.NewFromInt(geral)); err != nil {
				return err
			}
			if err := sb.Bling.SetStock(t.ClientID, u.ID, deposits[1].ID, decimal.NewFromInt(loja)); err != nil {
				return err
			}
			if geral > 5 && rng.IntN(5) == 0 {
				if err := sb.Bling.SetReserved(t.ClientID, u.ID, deposits[0].ID, decimal.NewFromInt(2)); err != nil {
					return err
				}
			}
			if sp.inactive {
				continue
			}
			items = append(items, sellable{sku: u.Codigo, name: u.Nome, price: u.Preco.StringFixed(2), onCazco: sp.onCazco})
			if sp.onCazco {
				if err := putCazcoProduct(sb, t, sp, u, full, now); err != nil {
					return err
				}
			}
		}
	}
	return seedOrders(sb, t, items, rng, now)
}

func blingProduct(t seedTenant, i int, sp seedProduct, now time.Time) blingsim.Product {
	created := now.Add(-time.Duration(90-i*3)*24*time.Hour - time.Duration(i*37)*time.Minute).Truncate(time.Second)
	p := blingsim.Product{
		Nome: sp.name, Codigo: sp.sku, Preco: blingsim.MustNumber(sp.price), PrecoCusto: blingsim.MustNumber(sp.cost),
		Tipo: "P", Situacao: "A", DescricaoCurta: sp.short, Unidade: "UN", Marca: sp.brand,
		DescricaoComplementar: sp.short + " Produto vendido por " + t.company + ".",
		DataInclusao:          created, DataAlteracao: created.Add(time.Duration(i%4) * 24 * time.Hour),
	}
	if sp.service {
		p.Tipo, p.Unidade = "S", "SV"
		return p
	}
	if sp.inactive {
		p.Situacao = "I"
	}
	p.GTIN = gtin(t.gtinPrefix, i, 0)
	p.PesoLiquido = blingsim.MustNumber(sp.weight)
	p.PesoBruto = blingsim.NewNumber(decimal.RequireFromString(sp.weight).Add(decimal.RequireFromString("0.050")))
	p.Dimensoes = blingsim.Dimensoes{Largura: blingsim.MustNumber(sp.dims[0]), Altura: blingsim.MustNumber(sp.dims[1]),
		Profundidade: blingsim.MustNumber(sp.dims[2]), UnidadeMedida: 1}
	p.Tributacao = blingsim.Tributacao{Origem: 0, NCM: sp.ncm}
	images := []blingsim.Link{{Link: imageURL(t, sp.sku, 1)}, {Link: imageURL(t, sp.sku, 2)}}
	// Bling shows external images under imagensURL or externas depending on how they
	// were added; a client must read both.
	if i%3 == 2 {
		p.Midia.Imagens.Externas = images
	} else {
		p.Midia.Imagens.ImagensURL = images
	}
	for j, v := range sp.variations {
		vp := blingsim.Product{
			Nome:   sp.name + " " + strings.NewReplacer("Cor:", "", "Tamanho:", "", "Voltagem:", "", ";", " ").Replace(v.attrs),
			Codigo: sp.sku + v.sku, Tipo: "P", Situacao: p.Situacao, Unidade: "UN", Marca: sp.brand,
			GTIN: gtin(t.gtinPrefix, i, j+1), PesoLiquido: p.PesoLiquido, PesoBruto: p.PesoBruto,
			Dimensoes: p.Dimensoes, Tributacao: p.Tributacao, PrecoCusto: p.PrecoCusto,
			DescricaoCurta: sp.short, Variacao: &blingsim.VariationInfo{Nome: v.attrs, Ordem: j + 1},
		}
		vp.Midia.Imagens.ImagensURL = []blingsim.Link{{Link: imageURL(t, vp.Codigo, 1)}}
		if v.price != "" {
			vp.Preco = blingsim.MustNumber(v.price)
		}
		p.Variacoes = append(p.Variacoes, vp)
	}
	return p
}

// gtin builds a GTIN-13 with a Brazilian prefix (789), the tenant's company prefix, an
// item reference and a valid check digit.
func gtin(prefix string, product, variation int) string {
	body := fmt.Sprintf("789%s%03d%02d", prefix, product+1, variation)
	return body + string('0'+blingsim.GTINCheckDigit(body))
}

func imageURL(t seedTenant, sku string, n int) string {
	return fmt.Sprintf("https://cdn.example.com/%s/%s-%d.jpg", t.Tenant, strings.ToLower(sku), n)
}

// putCazcoProduct lists a product on CaZco as the seller had it before the integration:
// an older price and no stock, so the first sync has something to fix.
func putCazcoProduct(sb *Sandbox, t seedTenant, sp seedProduct, u, parent blingsim.Product, now time.Time) error {
	price := u.Preco.Decimal.Sub(decimal.NewFromInt(10))
	if price.IsNegative() {
		price = u.Preco.Decimal
	}
	cp := cazcosim.Product{
		SKU: u.Codigo, Name: u.Nome, Status: "active", Price: price.StringFixed(2),
		Description: cazcosim.Ptr(sp.short), Brand: cazcosim.Ptr(sp.brand), NCM: cazcosim.Ptr(sp.ncm),
		GTIN: cazcosim.Ptr(u.GTIN), WeightKg: cazcosim.Ptr(u.PesoBruto.String()),
		Dimensions: &cazcosim.Dimensions{Width: u.Dimensoes.Largura.String(), Height: u.Dimensoes.Altura.String(), Length: u.Dimensoes.Profundidade.String()},
		Images:     []string{imageURL(t, u.Codigo, 1)},
		CreatedAt:  now.Add(-200 * 24 * time.Hour), UpdatedAt: now.Add(-120 * 24 * time.Hour),
	}
	if u.Variacao != nil {
		cp.ParentSKU = cazcosim.Ptr(parent.Codigo)
		cp.Attributes = map[string]string{}
		for _, kv := range strings.Split(u.Variacao.Nome, ";") {
			if k, v, ok := strings.Cut(kv, ":"); ok {
				cp.Attributes[strings.ToLower(k)] = v
			}
		}
	}
	if _, err := sb.Cazco.PutProduct(t.CazcoKey, cp); err != nil {
		return fmt.Errorf("put cazco product %s: %w", u.Codigo, err)
	}
	return nil
}

func seedOrders(sb *Sandbox, t seedTenant, items []sellable, rng *rand.Rand, now time.Time) error {
	var listed []sellable
	for _, it := range items {
		if it.onCazco {
			listed = append(listed, it)
		}
	}
	if len(listed) == 0 {
		return fmt.Errorf("no product listed on cazco to sell")
	}
	statuses := []string{"processing", "awaiting_confirmation", "billed", "shipped", "pending_payment", "delivered",
		"processing", "canceled", "completed", "ready_to_delivery", "pending_payment", "processing"}
	methods := []string{"pix", "credit_card", "boleto", "pix", "credit_card", "pix"}
	carriers := []struct{ carrier, service, code string }{
		{"Correios", "SEDEX", "correios_sedex"}, {"Correios", "PAC", "correios_pac"}, {"Jadlog", ".Package", "jadlog_package"},
	}
	addrs := seedAddresses()
	for i, c := range t.customers {
		created := now.Add(-time.Duration(12-i)*24*time.Hour - time.Duration(rng.IntN(600))*time.Minute).Truncate(time.Second)
		updated := created.Add(time.Duration(30+rng.IntN(600)) * time.Minute)
		if updated.After(now) {
			updated = now
		}
		a := addrs[i%len(addrs)]
		addr := cazcosim.Address{Recipient: cazcosim.Ptr(c.name), Street: a.street, Number: a.number,
			Neighborhood: a.neighborhood, City: a.city, State: a.state, Postcode: a.postcode, Country: "BR"}
		if a.complement != "" {
			addr.Complement = cazcosim.Ptr(a.complement)
		}
		cust := cazcosim.Customer{Name: c.name, Email: cazcosim.Ptr(email(c.name)),
			Phone: cazcosim.Ptr(fmt.Sprintf("+55%s9%08d", areaCode(a.state), 10000000+rng.IntN(89999999)))}
		if c.company {
			body := fmt.Sprintf("%08d0001", 10000000+rng.IntN(89999999))
			cust.DocumentType, cust.Document = "CNPJ", body+blingsim.CNPJCheckDigits(body)
			cust.CompanyName = cazcosim.Ptr(c.name)
			if i%2 == 0 {
				cust.StateRegistration = cazcosim.Ptr("ISENTO")
			} else {
				cust.StateRegistration = cazcosim.Ptr(fmt.Sprintf("%012d", 100000000000+rng.Int64N(899999999999)))
			}
		} else {
			body := fmt.Sprintf("%09d", 100000000+rng.IntN(899999999))
			cust.DocumentType, cust.Document = "CPF", body+blingsim.CPFCheckDigits(body)
		}
		var lines []cazcosim.OrderItem
		used := map[string]bool{}
		for n := 1 + rng.IntN(3); len(lines) < n; {
			it := listed[rng.IntN(len(listed))]
			if used[it.sku] {
				if len(used) == len(listed) {
					break
				}
				continue
			}
			used[it.sku] = true
			line := cazcosim.OrderItem{SKU: it.sku, Name: it.name, Quantity: int64(1 + rng.IntN(3)), UnitPrice: it.price, Discount: "0.00"}
			if rng.IntN(4) == 0 {
				line.Discount = "10.00"
			}
			lines = append(lines, line)
		}
		ship := carriers[rng.IntN(len(carriers))]
		shipPrice := []string{"0.00", "18.90", "24.50", "32.70"}[rng.IntN(4)]
		method := methods[i%len(methods)]
		installments := 1
		if method == "credit_card" {
			installments = 1 + rng.IntN(6)
		}
		o := cazcosim.Order{
			Status: statuses[i%len(statuses)], CreatedAt: created, UpdatedAt: updated,
			Customer: cust, BillingAddress: addr, ShippingAddress: addr, Items: lines,
			Shipping: cazcosim.Shipping{MethodCode: ship.code, Carrier: cazcosim.Ptr(ship.carrier), Service: cazcosim.Ptr(ship.service),
				Price: shipPrice, EstimatedDeliveryDays: cazcosim.Ptr(3 + rng.IntN(8))},
			Payment: cazcosim.Payment{Method: method, Installments: installments},
		}
		if i%5 == 3 {
			o.Notes = cazcosim.Ptr("Entregar em horário comercial, por favor.")
		}
		if _, err := sb.Cazco.AddOrder(t.CazcoKey, o); err != nil {
			return fmt.Errorf("add cazco order %d: %w", i, err)
		}
	}
	return nil
}

func email(name string) string {
	r := strings.NewReplacer("á", "a", "ã", "a", "â", "a", "é", "e", "ê", "e", "í", "i", "ó", "o", "ô", "o", "ú", "u", "ç", "c")
	parts := strings.Fields(strings.ToLower(r.Replace(name)))
	if len(parts) > 2 {
		parts = []string{parts[0], parts[len(parts)-1]}
	}
	return strings.Join(parts, ".") + "@example.com.br"
}

func areaCode(uf string) string {
	codes := map[string]string{"SP": "11", "RJ": "21", "MG": "31", "PR": "41", "RS": "51", "PE": "81",
		"BA": "71", "CE": "85", "DF": "61", "SC": "47", "GO": "62"}
	if c, ok := codes[uf]; ok {
		return c
	}
	return "11"
}
