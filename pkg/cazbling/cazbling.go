// Package cazbling holds the domain of the CaZco ⇄ Bling sync: tenants, products,
// stock, orders, runs and log rows, the interfaces the flows need (ERP, Marketplace,
// Store) and the error kinds every layer shares. It imports no HTTP or SQL package.
package cazbling

import (
	"net/url"
	"time"

	"github.com/shopspring/decimal"
)

// TenantStatus is the state of a tenant as the flows see it.
type TenantStatus string

// Tenant statuses (SYNC.md).
const (
	TenantActive      TenantStatus = "active"
	TenantNeedsReauth TenantStatus = "needs_reauth"
	TenantPaused      TenantStatus = "paused" // until Tenant.PausedUntil
	TenantInactive    TenantStatus = "inactive"
	// TenantInvited is a tenant registered by `tenants invite` that has not connected
	// through the panel yet: no flow works it until it is active.
	TenantInvited TenantStatus = "invited"
	// TenantPausedBySeller is a tenant whose seller stopped syncing in the panel.
	TenantPausedBySeller TenantStatus = "paused_by_seller"
)

// Flow names, as stored in runs, log rows and leases and accepted by `logs --flow`.
const (
	FlowActivate = "activate"
	FlowProducts = "products"
	FlowStock    = "stock"
	FlowOrders   = "orders"
)

// Cursor streams (SYNC.md).
const (
	StreamProductsCreated = "products.created"
	StreamProductsChanged = "products.changed"
	StreamOrders          = "orders"
	StreamFullSync        = "products.full" // progress of an unfinished full sync
)

// Tenant is one seller: a Bling account and a CaZco store kept in step.
// Secret fields hold clear text in memory only; the store encrypts them at rest.
type Tenant struct {
	ID           string
	Status       TenantStatus
	PausedUntil  time.Time // set when Status is TenantPaused
	StatusReason string    // why the tenant is not active, for `tenants`

	BlingURL           string
	BlingClientID      string
	BlingClientSecret  string // secret
	BlingDeposit       int64  // 0: total over all deposits
	BlingStore         int64  // 0: no loja
	BlingPaymentMethod int64  // 0: the account's default method

	CazcoURL    string
	CazcoAPIKey string // secret

	ImportStatuses []string // CaZco order statuses filed in Bling; nil: DefaultImportStatuses

	CreatedAt time.Time
	UpdatedAt time.Time
}

// DefaultImportStatuses are the CaZco order statuses filed in Bling unless a tenant
// says otherwise: paid, processing and later; not pending_payment, canceled or desisted.
var DefaultImportStatuses = []string{
	"awaiting_confirmation", "processing", "billed", "ready_to_delivery",
	"shipped", "transit", "delivered", "completed",
}

// Token is a Bling OAuth token pair. Both tokens are secrets.
type Token struct {
	AccessToken  string
	RefreshToken string
	Expiry       time.Time // of the access token
}

// Valid reports whether the access token can still be used at now, with margin to spare.
func (t Token) Valid(now time.Time, margin time.Duration) bool {
	return t.AccessToken != "" && now.Add(margin).Before(t.Expiry)
}

// ---------------------------------------------------------------- Bling side (ERP)

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

// ---------------------------------------------------------------- CaZco side (Marketplace)

// MarketProduct is a product as the marketplace holds it (one sellable SKU).
// Pointer fields are optional: nil leaves the field out of a write.
type MarketProduct struct {
	ID          string
	SKU         string
	ParentSKU   string
	Name        string
	Description string
	Status      string // active, inactive (open set)
	Price       decimal.Decimal
	GTIN        string
	Brand       string
	NCM         string
	WeightKg    string // decimal string
	Dimensions  *Dimensions
	Images      []string
	Attributes  map[string]string
	Stock       int64 // read only; writes go through SetStock
}

// Dimensions are package dimensions in centimetres, as decimal strings.
type Dimensions struct {
	Width  string
	Height string
	Length string
}

// StockItem is one absolute stock level to set, by SKU.
type StockItem struct {
	SKU      string
	Quantity int64
}

// StockResult is the marketplace's answer for one StockItem of a batch.
type StockResult struct {
	SKU     string
	Status  string // updated, not_found, invalid (open set)
	Message string
}

// Order is a marketplace order (the seller's part of a cart).
type Order struct {
	ID                    string
	Number                string
	Status                string // open set
	CreatedAt             time.Time
	UpdatedAt             time.Time
	PaidAt                time.Time
	Customer              Customer
	Billing               Address
	Shipping              Address
	Items                 []OrderItem
	ItemsTotal            decimal.Decimal
	Discount              decimal.Decimal
	ShippingPrice         decimal.Decimal
	Total                 decimal.Decimal
	Carrier               string
	ShippingService       string
	EstimatedDeliveryDays int
	PaymentMethod         string // pix, boleto, credit_card (open set)
	PaymentStatus         string
	Installments          int
	Notes                 string
}

// Customer is the buyer of an Order.
type Customer struct {
	Name              string
	Email             string
	Phone             string
	DocumentType      string // CPF or CNPJ
	Document          string // digits
	CompanyName       string
	StateRegistration string // IE digits or ISENTO
}

// OrderItem is one line of an Order.
type OrderItem struct {
	ID        string
	SKU       string
	Name      string
	Quantity  int64
	UnitPrice decimal.Decimal
	Discount  decimal.Decimal
	Total     decimal.Decimal
}

// OrderQuery selects marketplace orders changed in a window.
type OrderQuery struct {
	UpdatedSince time.Time // inclusive
	UpdatedUntil time.Time // exclusive; zero: open
	PerPage      int
	Statuses     []string // only orders in these statuses; nil: all
}

// MarketInfo is what a cheap marketplace call says about the store, shown by activate.
type MarketInfo struct {
	Products int // total products in the store
}

// ---------------------------------------------------------------- store records

// ProductLink binds one SKU of a tenant across both sides.
type ProductLink struct {
	TenantID   string
	SKU        string
	BlingID    int64
	CazcoID    string
	Hash       string // of the mapped data last sent to CaZco
	StockSent  int64  // quantity last sent; meaningful when StockKnown
	StockKnown bool
	UpdatedAt  time.Time
	// SeenAt is the start of the last run that listed the product in a window and knew
	// its CaZco data current; SummaryHash fingerprints its Bling list entry then.
	SeenAt      time.Time
	SummaryHash string
	// SKUShared says Bling had more than one product with this SKU when it was last
	// looked up: it is asked again whenever one of them is listed.
	SKUShared bool
}

// OrderLinkState is where an order stands on its way into Bling.
type OrderLinkState string

// Order link states (SYNC.md).
const (
	OrderCreating OrderLinkState = "creating"
	OrderCreated  OrderLinkState = "created"
	OrderFailed   OrderLinkState = "failed"
)

// OrderLink binds one CaZco order to the Bling order filed for it.
type OrderLink struct {
	TenantID    string
	CazcoID     string
	Number      string // CaZco order number, Bling's numeroLoja
	BlingID     int64
	State       OrderLinkState
	Attempts    int
	NextAttempt time.Time
	LastError   string
	UpdatedAt   time.Time
}

// Cursor is a stream position of a tenant. Value is RFC 3339 for time cursors, or
// a flow-defined text (e.g. the full sync's next page).
type Cursor struct {
	TenantID string
	Stream   string
	Value    string
}

// Log statuses.
const (
	StatusOK      = "ok"
	StatusWarning = "warning"
	StatusError   = "error"
	StatusSkipped = "skipped"
)

// Log entities.
const (
	EntityProduct = "product"
	EntityStock   = "stock"
	EntityOrder   = "order"
	EntityTenant  = "tenant"
)

// Log actions.
const (
	ActionCreated    = "created"
	ActionUpdated    = "updated"
	ActionUnchanged  = "unchanged"
	ActionStockSet   = "stock_set"
	ActionFailed     = "failed"
	ActionSkipped    = "skipped"
	ActionExisting   = "already_in_bling"
	ActionWouldWrite = "would_write" // --dry-run
)

// LogEntry is one item processed in a run.
type LogEntry struct {
	ID       int64
	Time     time.Time
	RunID    int64
	TenantID string
	Flow     string
	Entity   string
	Key      string // SKU or CaZco order id
	Action   string
	Status   string
	Message  string // in English, for the CLI; rows without a Code have only this
	BlingID  string
	CazcoID  string
	// Code names the message (e.g. "product.created") and Params are its parameters,
	// so that the panel can say it in Portuguese; both are optional.
	Code   string
	Params LogParams
}

// LogParams are the parameters of a log row's Code, kept as a query string
// ("qty=3&sku=A-1") so that a LogEntry stays comparable. Make them with Params.
type LogParams string

// Params builds LogParams from name, value pairs (a trailing name without a value is
// dropped).
func Params(pairs ...string) LogParams {
	v := url.Values{}
	for i := 0; i+1 < len(pairs); i += 2 {
		v.Set(pairs[i], pairs[i+1])
	}
	return LogParams(v.Encode())
}

// Get returns the parameter name, "" if absent.
func (p LogParams) Get(name string) string {
	v, _ := url.ParseQuery(string(p))
	return v.Get(name)
}

// With returns p with name set to value.
func (p LogParams) With(name, value string) LogParams {
	v, _ := url.ParseQuery(string(p))
	v.Set(name, value)
	return LogParams(v.Encode())
}

// Map returns the parameters as a map.
func (p LogParams) Map() map[string]string {
	v, _ := url.ParseQuery(string(p))
	m := make(map[string]string, len(v))
	for k := range v {
		m[k] = v.Get(k)
	}
	return m
}

// Run is one flow run for one tenant.
type Run struct {
	ID         int64
	TenantID   string
	Flow       string
	StartedAt  time.Time
	FinishedAt time.Time // zero while running
	Status     string    // running, ok, warning, error, skipped
	Message    string
	Counts     Counts
}

// Counts tallies the items of a run by outcome.
type Counts struct {
	Created   int
	Updated   int
	Unchanged int
	StockSet  int
	Skipped   int
	Warnings  int
	Failed    int
	Retry     int // recorded for retry on a later run
}

// Add returns the sum of c and o.
func (c Counts) Add(o Counts) Counts {
	return Counts{
		Created: c.Created + o.Created, Updated: c.Updated + o.Updated,
		Unchanged: c.Unchanged + o.Unchanged, StockSet: c.StockSet + o.StockSet,
		Skipped: c.Skipped + o.Skipped, Warnings: c.Warnings + o.Warnings,
		Failed: c.Failed + o.Failed, Retry: c.Retry + o.Retry,
	}
}

// LogFilter selects log rows; zero fields do not filter. Rows come newest first.
type LogFilter struct {
	TenantID string
	Flow     string
	Status   string
	Since    time.Time
	Key      string // SKU or order id
	Entity   string
	RunID    int64
	// Search matches a row's key (SKU or CaZco order id) or its order number exactly.
	Search string
	Limit  int // 0: all
	Offset int // rows to skip, for paging
}

// RunFilter selects runs; zero fields do not filter. Runs come newest first.
type RunFilter struct {
	TenantID string
	Flow     string
	Status   string
	Since    time.Time
	RunID    int64
	Limit    int
}

// Batch is a set of store writes applied in one transaction, so that a cursor moves
// together with the last records it covers (SYNC.md).
type Batch struct {
	// ProductLinks are created with all their fields, or updated in their product
	// fields (ids, hash, seen): never in their stock fields.
	ProductLinks []ProductLink
	// StockLevels update the stock fields (StockSent, StockKnown) of existing links,
	// by tenant and SKU, and nothing else.
	StockLevels []ProductLink
	OrderLinks  []OrderLink
	Logs        []LogEntry
	Cursors     []Cursor
	// Lifecycles are written whole (created or replaced), by tenant and CaZco id.
	Lifecycles []OrderLifecycle
}

// Empty reports whether b writes nothing.
func (b Batch) Empty() bool {
	return len(b.ProductLinks) == 0 && len(b.StockLevels) == 0 && len(b.OrderLinks) == 0 &&
		len(b.Logs) == 0 && len(b.Cursors) == 0 && len(b.Lifecycles) == 0
}
