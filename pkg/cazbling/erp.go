package cazbling

import (
	"time"

	"github.com/shopspring/decimal"
)

// ERPProductSummary is a product as Bling's list endpoint returns it.
type ERPProductSummary struct {
	ID           int64
	ParentID     int64 // idProdutoPai, 0 if none
	Name         string
	SKU          string // codigo
	Price        decimal.Decimal
	Type         string // tipo: P product, S service, ...
	Status       string // situacao: A, I (open set)
	Format       string // formato: S simple, V with variations, E composition
	ShortDesc    string
	ImageURL     string
	StockVirtual decimal.Decimal // estoque.saldoVirtualTotal
}

// ERPProduct is Bling's full product (GET /produtos/{id}).
type ERPProduct struct {
	ERPProductSummary
	GTIN          string
	Brand         string
	Unit          string
	NetWeight     decimal.Decimal
	GrossWeight   decimal.Decimal
	Width         decimal.Decimal
	Height        decimal.Decimal
	Depth         decimal.Decimal
	DimensionUnit int    // dimensoes.unidadeMedida: 0 metres, 1 centimetres, 2 millimetres
	NCM           string // tributacao.ncm
	Images        []string
	Variations    []ERPProduct // each with VariationName set
	VariationName string       // "Cor:Azul;Tamanho:G"
}

// ProductQuery filters Bling's product list. Zero values are left out.
type ProductQuery struct {
	Criterion   int    // criterio: 1 latest, 2 active, 3 inactive, 4 deleted, 5 all
	Type        string // tipo
	CreatedFrom time.Time
	CreatedTo   time.Time
	ChangedFrom time.Time
	ChangedTo   time.Time
	SKUs        []string
	IDs         []int64
	Limit       int // page size, at most 100; 0 means 100
	// Stock is the filtroSaldoEstoque to list. It must be set: Bling's default (1,
	// positive balances only) would hide products at zero or below, and there is no
	// value meaning "all", so a complete listing asks each of StockClasses in turn.
	Stock StockClass
}

// StockClass is a value of Bling's filtroSaldoEstoque: which balances a product or
// stock listing shows.
type StockClass int

// The stock classes. The zero value is "not chosen".
const (
	StockPositive StockClass = iota + 1 // filtroSaldoEstoque=1, balance above 0
	StockZero                           // filtroSaldoEstoque=0, balance 0
	StockNegative                       // filtroSaldoEstoque=2, balance below 0
)

// StockClasses returns every class, in the order complete listings ask them: together
// they cover every product, each product in exactly one.
func StockClasses() []StockClass {
	return []StockClass{StockPositive, StockZero, StockNegative}
}

// Param is the value of filtroSaldoEstoque for c, "" when c is not a class.
func (c StockClass) Param() string {
	switch c {
	case StockPositive:
		return "1"
	case StockZero:
		return "0"
	case StockNegative:
		return "2"
	}
	return ""
}

// String names the class for logs.
func (c StockClass) String() string {
	switch c {
	case StockPositive:
		return "positive"
	case StockZero:
		return "zero"
	case StockNegative:
		return "negative"
	}
	return "unset"
}

// StockBalance is one product's balance in Bling.
type StockBalance struct {
	ProductID     int64
	SKU           string
	PhysicalTotal decimal.Decimal
	VirtualTotal  decimal.Decimal
	Deposits      []DepositBalance
}

// DepositBalance is one deposit's share of a StockBalance.
type DepositBalance struct {
	DepositID int64
	Physical  decimal.Decimal
	Virtual   decimal.Decimal
}

// Deposit is a Bling stock deposit.
type Deposit struct {
	ID          int64
	Description string
	Status      int // situacao: 1 active, 0 inactive
	Default     bool
}

// Company is what Bling says about the account's company, shown by activate.
type Company struct {
	ID       string
	Name     string
	Document string
	Email    string
}

// PaymentMethod is a Bling forma de pagamento.
type PaymentMethod struct {
	ID          int64
	Description string
	Type        int // tipoPagamento: Bling's code (e.g. 15 boleto, 3/4 card, 17 PIX)
	Status      int // 1 active
	Default     bool
}

// Contact is a Bling contact (the buyer of an order).
type Contact struct {
	ID          int64
	Name        string
	Type        string // F person, J company, E foreign
	Document    string // digits only
	Email       string
	Phone       string
	IE          string
	IEIndicator int // 1 taxpayer, 2 exempt, 9 non-taxpayer
	Address     Address
}

// Address is a postal address in Brazil.
type Address struct {
	Recipient    string
	Street       string
	Number       string
	Complement   string
	Neighborhood string
	City         string
	State        string // UF
	Postcode     string // CEP, 8 digits
	Country      string
}

// ERPOrderRef is an existing Bling sales order found by store number.
type ERPOrderRef struct {
	ID          int64
	Number      string // numero
	StoreNumber string // numeroLoja
	StoreID     int64  // loja.id
}

// SalesOrder is the Bling sales order cazbling files for a CaZco order.
type SalesOrder struct {
	StoreNumber  string // numeroLoja
	Date         time.Time
	ShipDate     time.Time // dataSaida
	ExpectedDate time.Time // dataPrevista
	ContactID    int64
	StoreID      int64 // loja.id, 0: none
	Items        []SalesOrderItem
	Discount     decimal.Decimal
	Freight      decimal.Decimal
	Carrier      string
	ShipTo       Address
	Installments []Installment
	Notes        string // observacoes
}

// SalesOrderItem is one line of a SalesOrder.
type SalesOrderItem struct {
	ProductID   int64
	SKU         string
	Description string
	Unit        string
	Quantity    decimal.Decimal
	UnitPrice   decimal.Decimal
	Discount    decimal.Decimal
}

// Installment is one parcela of a SalesOrder.
type Installment struct {
	DueDate         time.Time
	Amount          decimal.Decimal
	PaymentMethodID int64
}
