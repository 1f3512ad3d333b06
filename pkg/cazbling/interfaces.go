package cazbling

import (
	"context"
	"iter"
	"time"
)

// ERP is the Bling side as the flows need it. Implementations pace and retry on their
// own; every error they return is, or wraps, an *APIError when the API answered.
type ERP interface {
	// Company is a cheap call that proves the credentials work.
	Company(ctx context.Context) (Company, error)
	// ProductsPage returns one page (1-based) of the product list and whether more
	// pages may follow (false on a short or empty page).
	ProductsPage(ctx context.Context, q ProductQuery, page int) (items []ERPProductSummary, more bool, err error)
	// Product returns the full product with its variations.
	Product(ctx context.Context, id int64) (ERPProduct, error)
	// ProductsBySKU looks SKUs up in batches, under every stock class; SKUs not found
	// are absent from the result. Only exact matches of codigo are returned.
	ProductsBySKU(ctx context.Context, skus []string) ([]ERPProductSummary, error)
	// StockBalances reads, in one call, the balances of at most 100 ids that fall in
	// class (filtroSaldoEstoque). An id whose balance is in another class, or that
	// Bling does not know, is absent from the answer.
	StockBalances(ctx context.Context, ids []int64, class StockClass) ([]StockBalance, error)
	Deposits(ctx context.Context) ([]Deposit, error)
	PaymentMethods(ctx context.Context) ([]PaymentMethod, error)
	// ContactByDocument finds a contact by CPF/CNPJ digits; found is false if none.
	ContactByDocument(ctx context.Context, document string) (c Contact, found bool, err error)
	CreateContact(ctx context.Context, c Contact) (id int64, err error)
	// OrdersByStoreNumbers finds sales orders whose numeroLoja is exactly one of numbers
	// (and, when storeID is not 0, whose loja is storeID), batched.
	OrdersByStoreNumbers(ctx context.Context, numbers []string, storeID int64) ([]ERPOrderRef, error)
	// CreateOrder files a sales order. It is never retried blindly: on an error that
	// leaves the outcome unknown (timeout, 5xx) the caller must look the order up.
	CreateOrder(ctx context.Context, o SalesOrder) (id int64, err error)
	LifecycleERP
}

// Marketplace is the CaZco side as the flows need it.
type Marketplace interface {
	// Info is a cheap call that proves the key works.
	Info(ctx context.Context) (MarketInfo, error)
	// ProductBySKU finds a product by exact SKU; found is false if none. More than one
	// match is an error of Kind KindData.
	ProductBySKU(ctx context.Context, sku string) (p MarketProduct, found bool, err error)
	Product(ctx context.Context, id string) (MarketProduct, error)
	// Products walks the whole store's products (GET /products, 100 a page, following
	// the server's next links). A page that fails ends the walk with the error.
	Products(ctx context.Context) iter.Seq2[MarketProduct, error]
	// CreateProduct creates p and returns its id. A duplicate SKU is an *APIError of
	// Kind KindConflict with ExistingID set when the server gave it.
	CreateProduct(ctx context.Context, p MarketProduct) (id string, err error)
	// UpdateProduct writes the catalogue fields of p (not stock) to product id.
	UpdateProduct(ctx context.Context, id string, p MarketProduct) error
	SetStock(ctx context.Context, id string, quantity int64) error
	// SetStockBatch sets up to 100 levels at once. ErrBatchUnsupported when the store
	// has no batch endpoint; the caller then falls back to SetStock.
	SetStockBatch(ctx context.Context, items []StockItem) ([]StockResult, error)
	// Orders walks the orders changed in the window, newest first, following the
	// server's next links. A page that fails ends the walk with the error.
	Orders(ctx context.Context, q OrderQuery) iter.Seq2[Order, error]
	Order(ctx context.Context, id string) (Order, error)
	LifecycleMarket
}

// Store is the local state. Write methods run in IMMEDIATE transactions.
type Store interface {
	// UpsertTenant creates or updates a tenant (settings and secrets; not its token
	// unless tok is not nil) in one transaction.
	UpsertTenant(ctx context.Context, t Tenant, tok *Token) error
	// Tenant returns one tenant with its secrets decrypted; ErrNotFound if unknown.
	Tenant(ctx context.Context, id string) (Tenant, error)
	// Tenants lists all tenants, ordered by id.
	Tenants(ctx context.Context) ([]Tenant, error)
	SetTenantStatus(ctx context.Context, id string, status TenantStatus, until time.Time, reason string) error

	// Token returns the tenant's stored token pair.
	Token(ctx context.Context, tenantID string) (Token, error)
	// UpdateToken serializes token refresh across processes: inside an IMMEDIATE
	// transaction it reads the stored pair, calls fn with it, and saves what fn
	// returns before committing. If fn returns an error nothing is saved.
	UpdateToken(ctx context.Context, tenantID string, fn func(current Token) (Token, error)) (Token, error)

	// APILimit is the allowance last learned for the tenant's key on an API ("cazco");
	// SetAPILimit records a new one. UpsertTenant forgets CaZco's when the key or URL
	// changes.
	APILimit(ctx context.Context, tenantID, api string) (RateLimit, bool, error)
	SetAPILimit(ctx context.Context, tenantID, api string, l RateLimit) error

	Cursor(ctx context.Context, tenantID, stream string) (value string, found bool, err error)
	Cursors(ctx context.Context, tenantID string) ([]Cursor, error)

	// AcquireLease takes (tenant, flow) for holder until now+ttl, if it is free, expired
	// or already the holder's. It returns false if another holder has it.
	AcquireLease(ctx context.Context, tenantID, flow, holder string, ttl time.Duration) (bool, error)
	ReleaseLease(ctx context.Context, tenantID, flow, holder string) error

	ProductLink(ctx context.Context, tenantID, sku string) (ProductLink, bool, error)
	// ProductLinksBySKU returns the links of the SKUs that have one, by SKU.
	ProductLinksBySKU(ctx context.Context, tenantID string, skus []string) (map[string]ProductLink, error)
	// ProductLinks pages through a tenant's links ordered by SKU, after afterSKU.
	ProductLinks(ctx context.Context, tenantID, afterSKU string, limit int) ([]ProductLink, error)
	CountProductLinks(ctx context.Context, tenantID string) (int, error)

	OrderLink(ctx context.Context, tenantID, cazcoID string) (OrderLink, bool, error)
	// OrderLinksByNumber returns a tenant's order links of these CaZco order numbers.
	OrderLinksByNumber(ctx context.Context, tenantID string, numbers []string) ([]OrderLink, error)
	// OrderLinksByState lists a tenant's order links in one state.
	OrderLinksByState(ctx context.Context, tenantID string, state OrderLinkState) ([]OrderLink, error)

	// Apply writes a batch in one transaction.
	Apply(ctx context.Context, b Batch) error

	StartRun(ctx context.Context, r Run) (int64, error)
	FinishRun(ctx context.Context, r Run) error
	Logs(ctx context.Context, f LogFilter) ([]LogEntry, error)
	Runs(ctx context.Context, f RunFilter) ([]Run, error)
	// PruneLogs deletes log rows older than before, except those of items still failing.
	PruneLogs(ctx context.Context, before time.Time) (int64, error)

	LifecycleStore

	Close() error
}
