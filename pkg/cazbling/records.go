package cazbling

import (
	"net/url"
	"time"
)

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
	// Inactive says the product was last sent to CaZco as inactive (inactive in Bling):
	// the stock sweep sends 0 for it whatever its Bling balance, so that it cannot be
	// sold with stock behind it.
	Inactive bool
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
	// Host is the process that ran it, as it named itself in the lease it held:
	// CAZBLING_HOST or the host name, then its pid and a random part.
	Host string
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
	// Fence, when set, makes the batch conditional on the lease: it is written only if
	// Fence.Holder still holds (Fence.TenantID, Fence.Flow), in the same transaction,
	// and otherwise nothing of it is, with an error wrapping ErrLeaseLost. A run whose
	// lease lapsed while it stalled (and another process took it) cannot write over
	// the new holder's records.
	Fence *Fence
}

// Fence names the lease a batch is written under.
type Fence struct {
	TenantID, Flow, Holder string
}

// Empty reports whether b writes nothing.
func (b Batch) Empty() bool {
	return len(b.ProductLinks) == 0 && len(b.StockLevels) == 0 && len(b.OrderLinks) == 0 &&
		len(b.Logs) == 0 && len(b.Cursors) == 0 && len(b.Lifecycles) == 0
}
