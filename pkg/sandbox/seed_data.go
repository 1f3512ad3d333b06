package sandbox

import (
	"strings"
)

// The demo seed's data: the two tenants' catalogues, their customers and addresses.
// seed.go turns it into Bling accounts, CaZco stores and orders.

// seedVariation is one variation of a seed product.
type seedVariation struct {
	attrs string // Bling's variacao.nome, "Cor:Azul;Tamanho:G"
	sku   string // suffix appended to the parent SKU
	price string // "" takes the parent's
}

type seedProduct struct {
	name, sku     string
	price, cost   string
	brand, ncm    string
	weight        string    // kg
	dims          [3]string // largura, altura, profundidade in cm
	service       bool      // tipo S
	inactive      bool      // situacao I
	short         string    // descricaoCurta
	variations    []seedVariation
	onCazco       bool      // the seller already lists it on CaZco (with a stale price)
	stockOverride *[2]int64 // Geral, Loja Física; nil: random
}

// axes builds variations from value lists, e.g. axes("Cor", colors, "Tamanho", sizes).
func axes(name1 string, values1 []string, name2 string, values2 []string) []seedVariation {
	var out []seedVariation
	for _, v1 := range values1 {
		if name2 == "" {
			out = append(out, seedVariation{attrs: name1 + ":" + v1, sku: "-" + skuPart(v1)})
			continue
		}
		for _, v2 := range values2 {
			out = append(out, seedVariation{attrs: name1 + ":" + v1 + ";" + name2 + ":" + v2, sku: "-" + skuPart(v1) + "-" + skuPart(v2)})
		}
	}
	return out
}

func skuPart(v string) string {
	r := strings.NewReplacer("á", "A", "ã", "A", "â", "A", "é", "E", "ê", "E", "í", "I", "ó", "O", "ô", "O", "ú", "U", "ç", "C", " ", "")
	v = strings.ToUpper(r.Replace(v))
	if len(v) > 3 && !strings.ContainsAny(v[:1], "0123456789") {
		v = v[:3]
	}
	return v
}

func stock(geral, loja int64) *[2]int64 { return &[2]int64{geral, loja} }

func anaCatalogue() []seedProduct {
	cores := []string{"Branca", "Preta"}
	tamanhos := []string{"P", "M", "G"}
	return []seedProduct{
		{name: "Camiseta Algodão Básica", sku: "CAM-ALG-001", price: "49.90", cost: "18.40", brand: "Trama Brasil", ncm: "6109.10.00", weight: "0.180", dims: [3]string{"25", "3", "30"},
			short: "Camiseta 100% algodão penteado, gola careca.", variations: axes("Cor", cores, "Tamanho", tamanhos), onCazco: true},
		{name: "Tênis Corrida Leve", sku: "TEN-COR-002", price: "299.90", cost: "142.00", brand: "Passada", ncm: "6404.11.00", weight: "0.620", dims: [3]string{"20", "12", "32"},
			short: "Tênis de corrida com entressola em EVA e cabedal em mesh respirável.", variations: axes("Tamanho", []string{"38", "39", "40", "41", "42"}, "", nil), onCazco: true},
		{name: "Calça Jeans Slim", sku: "CAL-JEA-003", price: "179.90", cost: "71.50", brand: "Trama Brasil", ncm: "6203.42.00", weight: "0.550", dims: [3]string{"30", "5", "35"},
			short: "Calça jeans com elastano, modelagem slim.", variations: axes("Tamanho", []string{"38", "40", "42", "44"}, "", nil)},
		{name: "Moletom Canguru Cinza Mescla", sku: "MOL-CAN-004", price: "159.90", cost: "64.00", brand: "Trama Brasil", ncm: "6110.20.00", weight: "0.700", dims: [3]string{"30", "8", "35"},
			short: "Moletom flanelado com capuz e bolso canguru.", onCazco: true},
		{name: "Boné Aba Curva Sarja", sku: "BON-ABA-005", price: "69.90", cost: "22.10", brand: "Sol a Pino", ncm: "6505.00.90", weight: "0.120", dims: [3]string{"20", "12", "25"},
			short: "Boné de sarja com regulagem em fivela."},
		{name: "Meia Esportiva Cano Médio Kit 3 Pares", sku: "MEI-ESP-006", price: "39.90", cost: "12.30", brand: "Passada", ncm: "6115.95.00", weight: "0.150", dims: [3]string{"15", "4", "22"},
			short: "Kit com 3 pares de meias com reforço no calcanhar.", onCazco: true},
		{name: "Jaqueta Corta-Vento Impermeável", sku: "JAQ-COR-007", price: "229.90", cost: "98.00", brand: "Ventania", ncm: "6201.40.00", weight: "0.400", dims: [3]string{"28", "6", "32"},
			short: "Jaqueta leve com capuz embutido.", variations: axes("Tamanho", tamanhos, "", nil)},
		{name: "Bermuda Tactel com Bolsos", sku: "BER-TAC-008", price: "79.90", cost: "29.90", brand: "Ventania", ncm: "6203.43.00", weight: "0.250", dims: [3]string{"25", "4", "30"},
			short: "Bermuda de tactel com forro e bolsos laterais."},
		{name: "Vestido Midi Floral", sku: "VES-MID-009", price: "189.90", cost: "76.00", brand: "Flor de Lis", ncm: "6204.44.00", weight: "0.320", dims: [3]string{"28", "4", "35"},
			short: "Vestido midi em viscose estampada.", variations: axes("Tamanho", tamanhos, "", nil), onCazco: true},
		{name: "Mochila Urbana 20L", sku: "MOC-URB-010", price: "219.90", cost: "88.00", brand: "Rota Certa", ncm: "4202.92.00", weight: "0.850", dims: [3]string{"30", "15", "45"},
			short: "Mochila com compartimento acolchoado para notebook de 15\"."},
		{name: "Garrafa Térmica Inox 500ml", sku: "GAR-TER-011", price: "89.90", cost: "31.00", brand: "Rota Certa", ncm: "9617.00.10", weight: "0.350", dims: [3]string{"8", "26", "8"},
			short: "Mantém a bebida gelada por 24 h e quente por 12 h.", onCazco: true},
		{name: "Legging Fitness Cintura Alta", sku: "LEG-FIT-012", price: "119.90", cost: "41.00", brand: "Flor de Lis", ncm: "6104.63.00", weight: "0.220", dims: [3]string{"22", "3", "28"},
			short: "Legging em suplex com cós alto.", variations: axes("Tamanho", tamanhos, "", nil)},
		{name: "Top Esportivo Alta Sustentação", sku: "TOP-ESP-013", price: "99.90", cost: "35.00", brand: "Flor de Lis", ncm: "6212.10.00", weight: "0.120", dims: [3]string{"18", "3", "22"},
			short: "Top com bojo removível."},
		{name: "Chinelo Slide Acolchoado", sku: "CHI-SLI-014", price: "59.90", cost: "19.00", brand: "Passada", ncm: "6402.20.00", weight: "0.400", dims: [3]string{"14", "10", "30"},
			short: "Chinelo slide com palmilha macia.", stockOverride: stock(0, 0)},
		{name: "Óculos de Sol Polarizado", sku: "OCU-SOL-015", price: "249.90", cost: "90.00", brand: "Sol a Pino", ncm: "9004.10.00", weight: "0.080", dims: [3]string{"16", "6", "7"},
			short: "Lentes polarizadas com proteção UV400."},
		{name: "Relógio Digital Esportivo", sku: "REL-DIG-016", price: "139.90", cost: "52.00", brand: "Passada", ncm: "9102.12.10", weight: "0.090", dims: [3]string{"10", "8", "10"},
			short: "Cronômetro, alarme e resistência à água 5 ATM.", stockOverride: stock(-2, 0)},
		{name: "Camisa Polo Piquet", sku: "CAM-POL-017", price: "129.90", cost: "47.50", brand: "Trama Brasil", ncm: "6105.10.00", weight: "0.230", dims: [3]string{"25", "3", "30"},
			short: "Polo em malha piquet com botões de madrepérola."},
		{name: "Saia Jeans Evasê", sku: "SAI-JEA-018", price: "109.90", cost: "39.00", brand: "Flor de Lis", ncm: "6204.62.00", weight: "0.300", dims: [3]string{"25", "4", "30"},
			short: "Saia jeans com barra desfiada."},
		{name: "Pochete Esportiva Refletiva", sku: "POC-ESP-019", price: "49.90", cost: "15.00", brand: "Rota Certa", ncm: "4202.92.00", weight: "0.110", dims: [3]string{"25", "5", "12"},
			short: "Pochete com faixa refletiva para corrida noturna."},
		{name: "Cinto de Couro Legítimo", sku: "CIN-COU-020", price: "99.90", cost: "33.00", brand: "Trama Brasil", ncm: "4203.30.00", weight: "0.200", dims: [3]string{"12", "4", "20"},
			short: "Cinto em couro bovino com fivela niquelada."},
		{name: "Sandália Rasteira Tiras", sku: "SAN-RAS-021", price: "79.90", cost: "26.00", brand: "Passada", ncm: "6404.20.00", weight: "0.300", dims: [3]string{"12", "8", "28"},
			short: "Rasteira com tiras trançadas."},
		{name: "Regata Dry Fit", sku: "REG-DRY-022", price: "59.90", cost: "21.00", brand: "Ventania", ncm: "6109.90.00", weight: "0.120", dims: [3]string{"22", "2", "28"},
			short: "Regata de secagem rápida (coleção antiga).", inactive: true},
		{name: "Ajuste e Barra de Calça", sku: "SRV-AJU-023", price: "25.00", cost: "0.00", short: "Serviço de ajuste de barra feito na loja.", service: true},
		{name: "Carteira Slim Couro", sku: "CAR-SLI-024", price: "89.90", cost: "30.00", brand: "Trama Brasil", ncm: "4202.31.00", weight: "0.090", dims: [3]string{"10", "2", "12"},
			short: "Carteira fina com 6 divisórias para cartões."},
		{name: "Toalha Esportiva Microfibra", sku: "TOA-MIC-025", price: "44.90", cost: "14.50", brand: "Rota Certa", ncm: "6302.60.00", weight: "0.160", dims: [3]string{"15", "4", "20"},
			short: "Toalha compacta de secagem rápida com bolsa."},
	}
}

func joaoCatalogue() []seedProduct {
	voltagens := []string{"110V", "220V"}
	return []seedProduct{
		{name: "Cafeteira Elétrica 110V", sku: "CAF-ELE-001", price: "149.90", cost: "68.00", brand: "Aroma Brasil", ncm: "8516.71.00", weight: "1.800", dims: [3]string{"22", "32", "20"},
			short: "Cafeteira para 30 xícaras com jarra de vidro.", onCazco: true},
		{name: "Jogo de Panelas Antiaderente 5 Peças", sku: "PAN-ANT-002", price: "399.90", cost: "180.00", brand: "Cozinha Forte", ncm: "7323.94.00", weight: "4.200", dims: [3]string{"40", "25", "40"},
			short: "Revestimento cerâmico, cabos de baquelite.", onCazco: true},
		{name: "Liquidificador 3 Velocidades 2L", sku: "LIQ-3VE-003", price: "189.90", cost: "84.00", brand: "Aroma Brasil", ncm: "8509.40.10", weight: "2.600", dims: [3]string{"22", "40", "22"},
			short: "Copo de acrílico de 2 litros e função pulsar.", variations: axes("Voltagem", voltagens, "", nil), onCazco: true},
		{name: "Jogo de Cama Casal 200 Fios", sku: "JCA-CAS-004", price: "229.90", cost: "92.00", brand: "Sono Bom", ncm: "6302.31.00", weight: "1.500", dims: [3]string{"35", "10", "45"},
			short: "Lençol com elástico, lençol de cima e 2 fronhas.", variations: axes("Cor", []string{"Branco", "Azul", "Cinza"}, "", nil)},
		{name: "Toalha de Banho Felpuda", sku: "TOA-BAN-005", price: "59.90", cost: "21.00", brand: "Sono Bom", ncm: "6302.60.00", weight: "0.500", dims: [3]string{"30", "6", "40"},
			short: "Toalha 100% algodão, 70x140 cm.", variations: axes("Cor", []string{"Branco", "Areia"}, "", nil), onCazco: true},
		{name: "Faqueiro Inox 24 Peças", sku: "FAQ-INO-006", price: "169.90", cost: "62.00", brand: "Cozinha Forte", ncm: "8215.20.00", weight: "1.300", dims: [3]string{"30", "6", "35"},
			short: "Garfos, facas e colheres em aço inox 18/10."},
		{name: "Garrafa Térmica 1L Pressão", sku: "GAR-TER-007", price: "99.90", cost: "38.00", brand: "Aroma Brasil", ncm: "9617.00.10", weight: "0.900", dims: [3]string{"12", "32", "12"},
			short: "Garrafa com ampola de vidro e tampa de pressão."},
		{name: "Luminária de Mesa LED Articulada", sku: "LUM-LED-008", price: "129.90", cost: "47.00", brand: "Luz Certa", ncm: "9405.21.00", weight: "0.800", dims: [3]string{"15", "45", "15"},
			short: "Três temperaturas de cor e carregador USB.", onCazco: true},
		{name: "Travesseiro Viscoelástico", sku: "TRA-VIS-009", price: "139.90", cost: "51.00", brand: "Sono Bom", ncm: "9404.90.00", weight: "1.100", dims: [3]string{"40", "12", "60"},
			short: "Travesseiro que se adapta ao formato da cabeça."},
		{name: "Tábua de Corte em Bambu", sku: "TAB-BAM-010", price: "49.90", cost: "16.00", brand: "Cozinha Forte", ncm: "4419.11.00", weight: "0.700", dims: [3]string{"25", "2", "38"},
			short: "Tábua com canaleta para líquidos."},
		{name: "Conjunto de Potes Herméticos 10 Peças", sku: "POT-HER-011", price: "119.90", cost: "43.00", brand: "Cozinha Forte", ncm: "3924.10.00", weight: "1.200", dims: [3]string{"25", "20", "30"},
			short: "Potes com travas e vedação de silicone."},
		{name: "Ventilador de Mesa 40cm", sku: "VEN-MES-012", price: "219.90", cost: "97.00", brand: "Brisa", ncm: "8414.51.10", weight: "3.100", dims: [3]string{"45", "60", "25"},
			short: "Seis pás e três velocidades.", variations: axes("Voltagem", voltagens, "", nil)},
		{name: "Aspirador de Pó Vertical 1000W", sku: "ASP-VER-013", price: "349.90", cost: "160.00", brand: "Brisa", ncm: "8508.19.00", weight: "2.400", dims: [3]string{"25", "110", "20"},
			short: "Aspirador 2 em 1 com filtro HEPA.", stockOverride: stock(0, 0)},
		{name: "Ferro de Passar a Vapor", sku: "FER-VAP-014", price: "119.90", cost: "49.00", brand: "Aroma Brasil", ncm: "8516.40.00", weight: "1.200", dims: [3]string{"14", "15", "28"},
			short: "Base cerâmica e jato de vapor vertical.", variations: axes("Voltagem", voltagens, "", nil)},
		{name: "Cortina Blackout 2,80m x 1,80m", sku: "COR-BLA-015", price: "159.90", cost: "58.00", brand: "Casa Viva", ncm: "6303.92.00", weight: "1.600", dims: [3]string{"30", "8", "40"},
			short: "Bloqueia até 95% da luz, com ilhoses."},
		{name: "Tapete para Sala 2,00m x 1,40m", sku: "TAP-SAL-016", price: "279.90", cost: "120.00", brand: "Casa Viva", ncm: "5703.30.00", weight: "4.500", dims: [3]string{"20", "20", "145"},
			short: "Tapete de pelo baixo antiderrapante."},
		{name: "Espelho Redondo 60cm Moldura Metal", sku: "ESP-RED-017", price: "199.90", cost: "82.00", brand: "Casa Viva", ncm: "7009.92.00", weight: "3.800", dims: [3]string{"65", "5", "65"},
			short: "Espelho decorativo com moldura dourada."},
		{name: "Cesto Organizador de Palha", sku: "CES-ORG-018", price: "69.90", cost: "24.00", brand: "Casa Viva", ncm: "4602.19.00", weight: "0.400", dims: [3]string{"30", "25", "30"},
			short: "Cesto artesanal com alças."},
		{name: "Jarra de Vidro 1,5L com Tampa", sku: "JAR-VID-019", price: "45.90", cost: "15.00", brand: "Cozinha Forte", ncm: "7013.37.00", weight: "0.900", dims: [3]string{"12", "28", "15"},
			short: "Jarra de vidro borossilicato."},
		{name: "Chaleira Elétrica Inox 1,7L", sku: "CHA-ELE-020", price: "129.90", cost: "55.00", brand: "Aroma Brasil", ncm: "8516.79.90", weight: "1.000", dims: [3]string{"18", "25", "22"},
			short: "Desligamento automático e base giratória.", variations: axes("Voltagem", voltagens, "", nil), stockOverride: stock(-3, 1)},
		{name: "Panela de Pressão 4,5L", sku: "PAN-PRE-021", price: "149.90", cost: "61.00", brand: "Cozinha Forte", ncm: "7615.10.00", weight: "2.100", dims: [3]string{"25", "22", "40"},
			short: "Alumínio polido com válvula de segurança."},
		{name: "Escorredor de Louça Inox", sku: "ESC-LOU-022", price: "89.90", cost: "33.00", brand: "Cozinha Forte", ncm: "7323.93.00", weight: "1.100", dims: [3]string{"45", "15", "30"},
			short: "Escorredor para 16 pratos (fora de linha).", inactive: true},
		{name: "Instalação de Ventilador de Teto", sku: "SRV-INS-023", price: "120.00", cost: "0.00", short: "Serviço de instalação em domicílio (Grande SP).", service: true},
		{name: "Almofada Decorativa 45x45", sku: "ALM-DEC-024", price: "54.90", cost: "18.00", brand: "Casa Viva", ncm: "9404.90.00", weight: "0.450", dims: [3]string{"45", "12", "45"},
			short: "Capa em linho com zíper e enchimento de fibra."},
		{name: "Kit 6 Copos de Vidro 350ml", sku: "COP-VID-025", price: "64.90", cost: "22.00", brand: "Cozinha Forte", ncm: "7013.28.00", weight: "1.600", dims: [3]string{"25", "15", "18"},
			short: "Copos long drink de vidro temperado."},
	}
}

type seedTenant struct {
	DemoTenant
	company    string
	cnpjBody   string // 8 digits; branch 0001 and check digits are added
	gtinPrefix string // 4 digits after 789
	catalogue  []seedProduct
	customers  []seedCustomer
	rngSeed    uint64
}

type seedCustomer struct {
	name    string
	company bool // CNPJ buyer
}

func seedTenants() []seedTenant {
	t := DemoTenants()
	return []seedTenant{
		{DemoTenant: t[0], company: "Loja da Ana Moda e Esporte Ltda", cnpjBody: "34567890", gtinPrefix: "1234",
			catalogue: anaCatalogue(), rngSeed: 1001, customers: []seedCustomer{
				{name: "Mariana Costa Ribeiro"}, {name: "Pedro Henrique Alves"}, {name: "Juliana Ferreira Santos"},
				{name: "Academia Corpo em Movimento Ltda", company: true}, {name: "Rafael Oliveira Lima"},
				{name: "Camila Rocha Martins"}, {name: "Bruno Carvalho Souza"}, {name: "Letícia Gomes Barbosa"},
				{name: "Loja Esportiva Passo Firme Eireli", company: true}, {name: "Thiago Pereira Dias"},
				{name: "Fernanda Almeida Nunes"}, {name: "Gabriel Mendes Teixeira"},
			}},
		{DemoTenant: t[1], company: "Casa do João Utilidades Domésticas Ltda", cnpjBody: "45678901", gtinPrefix: "5678",
			catalogue: joaoCatalogue(), rngSeed: 2002, customers: []seedCustomer{
				{name: "Ana Paula Moreira"}, {name: "Carlos Eduardo Fonseca"}, {name: "Restaurante Sabor da Serra Ltda", company: true},
				{name: "Patrícia Lopes Cardoso"}, {name: "Lucas Azevedo Pinto"}, {name: "Beatriz Cunha Ramos"},
				{name: "Hotel Recanto Verde Ltda", company: true}, {name: "Rodrigo Batista Freitas"},
				{name: "Vanessa Correia Monteiro"}, {name: "Marcelo Tavares Araújo"}, {name: "Aline Castro Vieira"},
				{name: "Eduardo Nogueira Campos"},
			}},
	}
}

type seedAddress struct {
	street, number, complement, neighborhood, city, state, postcode string
}

func seedAddresses() []seedAddress {
	return []seedAddress{
		{"Avenida Paulista", "1578", "Conjunto 42", "Bela Vista", "São Paulo", "SP", "01310200"},
		{"Rua das Laranjeiras", "245", "Apto 701", "Laranjeiras", "Rio de Janeiro", "RJ", "22240003"},
		{"Rua da Bahia", "1148", "", "Centro", "Belo Horizonte", "MG", "30160011"},
		{"Avenida Sete de Setembro", "3165", "Casa 2", "Rebouças", "Curitiba", "PR", "80230010"},
		{"Rua dos Andradas", "1234", "Sala 305", "Centro Histórico", "Porto Alegre", "RS", "90020008"},
		{"Avenida Boa Viagem", "3722", "Apto 1202", "Boa Viagem", "Recife", "PE", "51020000"},
		{"Rua Chile", "22", "", "Centro", "Salvador", "BA", "40020000"},
		{"Avenida Beira Mar", "3980", "Bloco B", "Mucuripe", "Fortaleza", "CE", "60165121"},
		{"SQS 308 Bloco C", "S/N", "Apto 302", "Asa Sul", "Brasília", "DF", "70355030"},
		{"Rua XV de Novembro", "560", "", "Centro", "Blumenau", "SC", "89010001"},
		{"Avenida Goiás", "1805", "Loja 3", "Setor Central", "Goiânia", "GO", "74043010"},
		{"Rua Barão de Jaguara", "1001", "", "Centro", "Campinas", "SP", "13015001"},
	}
}
