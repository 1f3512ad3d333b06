package blingsim

import "time"

// Account is one Bling company and the OAuth app a seller registered for it.
type Account struct {
	ClientID     string
	ClientSecret string
	CompanyName  string
	CNPJ         string // digits or formatted
	Email        string // optional; derived from the client id when empty
}

// IDRef is Bling's `{"id":N}` reference to another record.
type IDRef struct {
	ID int64 `json:"id"`
}

// Product is a Bling product in the wire format of GET /produtos/{id}
// (ProdutosDadosDTO). A variation is a Product with IDProdutoPai and Variacao set.
type Product struct {
	ID                    int64          `json:"id"`
	IDProdutoPai          int64          `json:"idProdutoPai,omitempty"`
	Nome                  string         `json:"nome"`
	Codigo                string         `json:"codigo"`
	Preco                 Number         `json:"preco"`
	PrecoCusto            Number         `json:"precoCusto"`
	Estoque               *ProductStock  `json:"estoque,omitempty"` // computed on read
	Tipo                  string         `json:"tipo"`              // P product, S service
	Situacao              string         `json:"situacao"`          // A active, I inactive
	Formato               string         `json:"formato"`           // S simple, V with variations, E composition
	DescricaoCurta        string         `json:"descricaoCurta"`
	ImagemURL             string         `json:"imagemURL"` // computed on read: the first image
	Unidade               string         `json:"unidade"`
	GTIN                  string         `json:"gtin"`
	Marca                 string         `json:"marca"`
	PesoLiquido           Number         `json:"pesoLiquido"`
	PesoBruto             Number         `json:"pesoBruto"`
	Dimensoes             Dimensoes      `json:"dimensoes"`
	Tributacao            Tributacao     `json:"tributacao"`
	Midia                 Midia          `json:"midia"`
	DescricaoComplementar string         `json:"descricaoComplementar"`
	Variacao              *VariationInfo `json:"variacao,omitempty"`
	Variacoes             []Product      `json:"variacoes"`

	// DataInclusao and DataAlteracao drive the list's date filters; Bling's product
	// payload does not carry them. PutProduct keeps a non-zero DataInclusao given on
	// create (for seeds) and sets DataAlteracao on every edit.
	DataInclusao  time.Time `json:"-"`
	DataAlteracao time.Time `json:"-"`
}

// ProductStock is the product's `estoque` member (only the computed balance).
type ProductStock struct {
	SaldoVirtualTotal Number `json:"saldoVirtualTotal"`
}

// Dimensoes are a product's package dimensions. UnidadeMedida: 0 metres, 1 centimetres,
// 2 millimetres.
type Dimensoes struct {
	Largura       Number `json:"largura"`
	Altura        Number `json:"altura"`
	Profundidade  Number `json:"profundidade"`
	UnidadeMedida int    `json:"unidadeMedida"`
}

// Tributacao holds a product's fiscal codes.
type Tributacao struct {
	Origem int    `json:"origem"`
	NCM    string `json:"ncm"`
	CEST   string `json:"cest"`
}

// Midia holds a product's images.
type Midia struct {
	Video   MidiaVideo   `json:"video"`
	Imagens MidiaImagens `json:"imagens"`
}

// MidiaVideo is a product's video link.
type MidiaVideo struct {
	URL string `json:"url"`
}

// MidiaImagens lists image links: ImagensURL and Externas hold external URLs,
// Internas images uploaded to Bling.
type MidiaImagens struct {
	ImagensURL []Link `json:"imagensURL"`
	Externas   []Link `json:"externas"`
	Internas   []Link `json:"internas"`
}

// Link is one image link.
type Link struct {
	Link string `json:"link"`
}

// VariationInfo is the `variacao` member of a variation.
type VariationInfo struct {
	Nome       string     `json:"nome"` // e.g. "Cor:Azul;Tamanho:G"
	Ordem      int        `json:"ordem"`
	ProdutoPai ParentInfo `json:"produtoPai"`
}

// ParentInfo points a variation at its parent.
type ParentInfo struct {
	ID        int64 `json:"id"`
	CloneInfo bool  `json:"cloneInfo"`
}

// ProductSummary is an item of GET /produtos.
type ProductSummary struct {
	ID             int64        `json:"id"`
	IDProdutoPai   int64        `json:"idProdutoPai,omitempty"`
	Nome           string       `json:"nome"`
	Codigo         string       `json:"codigo"`
	Preco          Number       `json:"preco"`
	PrecoCusto     Number       `json:"precoCusto"`
	Estoque        ProductStock `json:"estoque"`
	Tipo           string       `json:"tipo"`
	Situacao       string       `json:"situacao"`
	Formato        string       `json:"formato"`
	DescricaoCurta string       `json:"descricaoCurta"`
	ImagemURL      string       `json:"imagemURL"`
}

// StockBalance is an item of GET /estoques/saldos.
type StockBalance struct {
	Produto           StockProduct     `json:"produto"`
	SaldoFisicoTotal  Number           `json:"saldoFisicoTotal"`
	SaldoVirtualTotal Number           `json:"saldoVirtualTotal"`
	Depositos         []DepositBalance `json:"depositos"`
}

// StockProduct identifies the product of a StockBalance.
type StockProduct struct {
	ID     int64  `json:"id"`
	Codigo string `json:"codigo"`
}

// DepositBalance is one deposit's share of a StockBalance.
type DepositBalance struct {
	ID           int64  `json:"id"`
	SaldoFisico  Number `json:"saldoFisico"`
	SaldoVirtual Number `json:"saldoVirtual"`
}

// Deposit is an item of GET /depositos.
type Deposit struct {
	ID                 int64  `json:"id"`
	Descricao          string `json:"descricao"`
	Situacao           int    `json:"situacao"` // 1 active, 0 inactive
	Padrao             bool   `json:"padrao"`
	DesconsiderarSaldo bool   `json:"desconsiderarSaldo"`
}

// PaymentMethod is an item of GET /formas-pagamentos.
type PaymentMethod struct {
	ID            int64  `json:"id"`
	Descricao     string `json:"descricao"`
	TipoPagamento int    `json:"tipoPagamento"` // 1 cash, 3 credit card, 15 boleto, 17 PIX...
	Situacao      int    `json:"situacao"`      // 1 active
	Fixa          bool   `json:"fixa"`
	Padrao        int    `json:"padrao"`     // 0 no, 1 default, 2 default for refunds
	Finalidade    int    `json:"finalidade"` // 1 payments, 2 receipts, 3 both
	Juros         Number `json:"juros"`
	Multa         Number `json:"multa"`
}

// Company is the body of GET /empresas/me/dados-basicos.
type Company struct {
	ID           string `json:"id"`
	Nome         string `json:"nome"`
	CNPJ         string `json:"cnpj"` // formatted, as Bling shows it
	Email        string `json:"email"`
	DataContrato string `json:"dataContrato"`
}

// Contact is a Bling contact (GET /contatos/{id}). NumeroDocumento is stored as digits
// and served formatted (123.456.789-09), as Bling's examples show it.
type Contact struct {
	ID              int64          `json:"id"`
	Nome            string         `json:"nome"`
	Codigo          string         `json:"codigo"`
	Situacao        string         `json:"situacao"`
	NumeroDocumento string         `json:"numeroDocumento"`
	Telefone        string         `json:"telefone"`
	Celular         string         `json:"celular"`
	Fantasia        string         `json:"fantasia"`
	Tipo            string         `json:"tipo"` // F, J, E
	IndicadorIE     int            `json:"indicadorIe"`
	IE              string         `json:"ie"`
	Email           string         `json:"email"`
	Endereco        ContactAddress `json:"endereco"`

	CreatedAt time.Time `json:"-"` // sandbox time of creation, for the date filters
}

// ContactSummary is an item of GET /contatos.
type ContactSummary struct {
	ID              int64  `json:"id"`
	Nome            string `json:"nome"`
	Codigo          string `json:"codigo"`
	Situacao        string `json:"situacao"`
	NumeroDocumento string `json:"numeroDocumento"`
	Telefone        string `json:"telefone"`
	Celular         string `json:"celular"`
}

// ContactAddress holds a contact's addresses.
type ContactAddress struct {
	Geral    PostalAddress `json:"geral"`
	Cobranca PostalAddress `json:"cobranca"`
}

// PostalAddress is a Brazilian address as Bling writes it.
type PostalAddress struct {
	Endereco    string `json:"endereco"`
	CEP         string `json:"cep"`
	Bairro      string `json:"bairro"`
	Municipio   string `json:"municipio"`
	UF          string `json:"uf"`
	Numero      string `json:"numero"`
	Complemento string `json:"complemento"`
}

// Order is a Bling sales order (GET /pedidos/vendas/{id}).
type Order struct {
	ID                  int64         `json:"id"`
	Numero              int64         `json:"numero"`
	NumeroLoja          string        `json:"numeroLoja"`
	Data                string        `json:"data"`         // YYYY-MM-DD
	DataSaida           string        `json:"dataSaida"`    // YYYY-MM-DD
	DataPrevista        string        `json:"dataPrevista"` // YYYY-MM-DD
	TotalProdutos       Number        `json:"totalProdutos"`
	Total               Number        `json:"total"`
	Contato             OrderContact  `json:"contato"`
	Situacao            OrderStatus   `json:"situacao"`
	Loja                IDRef         `json:"loja"`
	NumeroPedidoCompra  string        `json:"numeroPedidoCompra"`
	OutrasDespesas      Number        `json:"outrasDespesas"`
	Observacoes         string        `json:"observacoes"`
	ObservacoesInternas string        `json:"observacoesInternas"`
	Desconto            OrderDiscount `json:"desconto"`
	Itens               []OrderItem   `json:"itens"`
	Parcelas            []Installment `json:"parcelas"`
	Transporte          Transport     `json:"transporte"`
	NotaFiscal          IDRef         `json:"notaFiscal"` // the order's NF-e; id 0 until one is issued

	CreatedAt time.Time `json:"-"` // sandbox time of the POST
}

// OrderSummary is an item of GET /pedidos/vendas.
type OrderSummary struct {
	ID            int64        `json:"id"`
	Numero        int64        `json:"numero"`
	NumeroLoja    string       `json:"numeroLoja"`
	Data          string       `json:"data"`
	DataSaida     string       `json:"dataSaida"`
	DataPrevista  string       `json:"dataPrevista"`
	TotalProdutos Number       `json:"totalProdutos"`
	Total         Number       `json:"total"`
	Contato       OrderContact `json:"contato"`
	Situacao      OrderStatus  `json:"situacao"`
	Loja          IDRef        `json:"loja"`
}

// OrderContact is the buyer of an Order.
type OrderContact struct {
	ID              int64  `json:"id"`
	Nome            string `json:"nome"`
	TipoPessoa      string `json:"tipoPessoa"`
	NumeroDocumento string `json:"numeroDocumento"`
}

// OrderStatus is an order's situacao; Valor 0 is "Em aberto".
type OrderStatus struct {
	ID    int64 `json:"id"`
	Valor int   `json:"valor"`
}

// OrderDiscount is the order-level discount; Unidade is REAL or PERCENTUAL.
type OrderDiscount struct {
	Valor   Number `json:"valor"`
	Unidade string `json:"unidade"`
}

// OrderItem is one line of an Order. Valor is the unit price actually charged;
// Desconto is a percentage, informational (list price = Valor + Desconto%).
type OrderItem struct {
	ID                 int64  `json:"id"`
	Codigo             string `json:"codigo"`
	Unidade            string `json:"unidade"`
	Quantidade         Number `json:"quantidade"`
	Desconto           Number `json:"desconto"`
	Valor              Number `json:"valor"`
	AliquotaIPI        Number `json:"aliquotaIPI"`
	Descricao          string `json:"descricao"`
	DescricaoDetalhada string `json:"descricaoDetalhada"`
	Produto            IDRef  `json:"produto"`
}

// Installment is one parcela of an Order.
type Installment struct {
	ID             int64  `json:"id"`
	DataVencimento string `json:"dataVencimento"`
	Valor          Number `json:"valor"`
	Observacoes    string `json:"observacoes"`
	Caut           string `json:"caut"`
	FormaPagamento IDRef  `json:"formaPagamento"`
}

// Transport is an order's transporte member.
type Transport struct {
	FretePorConta     int           `json:"fretePorConta"`
	Frete             Number        `json:"frete"`
	QuantidadeVolumes int           `json:"quantidadeVolumes"`
	PesoBruto         Number        `json:"pesoBruto"`
	PrazoEntrega      int           `json:"prazoEntrega"`
	Contato           Carrier       `json:"contato"`
	Etiqueta          ShippingLabel `json:"etiqueta"`
	Volumes           []Volume      `json:"volumes,omitempty"`
}

// Volume is a package of an order (transporte.volumes[]); its id is a logistics object.
type Volume struct {
	ID                 int64  `json:"id"`
	Servico            string `json:"servico"`
	CodigoRastreamento string `json:"codigoRastreamento"`
}

// Carrier is the transport contact (the carrier).
type Carrier struct {
	ID   int64  `json:"id"`
	Nome string `json:"nome"`
}

// ShippingLabel is the delivery address of an order (transporte.etiqueta).
type ShippingLabel struct {
	Nome        string `json:"nome"`
	Endereco    string `json:"endereco"`
	Numero      string `json:"numero"`
	Complemento string `json:"complemento"`
	Municipio   string `json:"municipio"`
	UF          string `json:"uf"`
	CEP         string `json:"cep"`
	Bairro      string `json:"bairro"`
	NomePais    string `json:"nomePais"`
}

// Stats counts how clients behaved, so tests can assert on it.
type Stats struct {
	Requests          int `json:"requests"`            // every request served, token calls included
	MissingJWTHeader  int `json:"missing_jwt_header"`  // token and API calls without `enable-jwt: 1`
	TokenCalls        int `json:"token_calls"`         // POST /oauth/token
	TokenRateLimited  int `json:"token_rate_limited"`  // token calls refused: over 20 a minute from one IP
	InvalidGrant      int `json:"invalid_grant"`       // token calls refused with invalid_grant
	Unauthorized      int `json:"unauthorized"`        // API calls refused with invalid_token
	RateLimitedSecond int `json:"rate_limited_second"` // 429 period second
	RateLimitedDay    int `json:"rate_limited_day"`    // 429 period day
}
