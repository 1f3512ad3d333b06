package cazbling

import (
	"context"
	"time"

	"github.com/shopspring/decimal"
)

// StreamOrdersCanceled is the cursor of the walks over CaZco orders canceled since
// (GET /orders?status=canceled&updated_since=, and status=desisted).
const StreamOrdersCanceled = "orders.canceled"

// NF-e situations in Bling (GET /nfe/{id}, situacao) that matter to the lifecycle.
const (
	NFeCanceled   = 2 // Cancelada: never sent to CaZco
	NFeAuthorized = 5 // Autorizada
	NFeDanfe      = 6 // Emitida DANFE (authorized, DANFE printed)
)

// ERPOrderState is what Bling says of a sales order now (GET /pedidos/vendas/{id}).
type ERPOrderState struct {
	ID        int64
	StatusID  int64 // situacao.id, per account: compare with SalesStatuses
	InvoiceID int64 // notaFiscal.id; 0: no NF-e
	Carrier   string
	Volumes   []ERPVolume // transporte.volumes
}

// ERPVolume is a package of a sales order (transporte.volumes[]); its id is the
// logistics object id (GET /logisticas/objetos/{id}).
type ERPVolume struct {
	ID           int64
	Service      string // servico
	TrackingCode string // codigoRastreamento, "" until the package is posted
}

// ERPInvoice is a Bling NF-e (GET /nfe/{id}).
type ERPInvoice struct {
	ID        int64
	Status    int // situacao: 2 cancelled, 5 authorized, 6 DANFE issued, ...
	Number    string
	Series    string
	AccessKey string // chaveAcesso, 44 digits
	IssuedAt  time.Time
	Amount    decimal.Decimal
	DanfeURL  string
	XMLURL    string
}

// Authorized reports whether the NF-e is authorized (situacao 5 or 6): only then is
// it sent to the marketplace.
func (i ERPInvoice) Authorized() bool { return i.Status == NFeAuthorized || i.Status == NFeDanfe }

// ERPTracking is a logistics object's tracking (GET /logisticas/objetos/{id}).
type ERPTracking struct {
	Code string
	URL  string
}

// ERPStatus is a status (situação) of Bling's sales module (GET /situacoes/modulos/{id}).
// InheritedID is idHerdado: a custom status behaves as the one it inherits from.
type ERPStatus struct {
	ID          int64
	Name        string
	InheritedID int64
}

// LifecycleERP is what the order lifecycle needs of Bling; ERP includes it.
type LifecycleERP interface {
	// SalesOrder reads one sales order's status, NF-e and volumes; an unknown id is
	// an *APIError of Kind KindNotFound.
	SalesOrder(ctx context.Context, id int64) (ERPOrderState, error)
	Invoice(ctx context.Context, id int64) (ERPInvoice, error)
	Tracking(ctx context.Context, objectID int64) (ERPTracking, error)
	// SalesStatuses lists the statuses of the sales module ("Vendas").
	SalesStatuses(ctx context.Context) ([]ERPStatus, error)
	// SetOrderStatus moves a sales order to a status (PATCH, idempotent).
	SetOrderStatus(ctx context.Context, orderID, statusID int64) error
}

// MarketInvoice is the NF-e as the marketplace takes it (PUT /orders/{id}/invoice).
type MarketInvoice struct {
	Number    string
	Series    string
	AccessKey string
	IssuedAt  time.Time
	Amount    decimal.Decimal
	DanfeURL  string
	XMLURL    string
	Replaces  string // the key of the invoice this one corrects, "" if none
}

// MarketShipment is a shipment as the marketplace takes it (POST /orders/{id}/shipments).
type MarketShipment struct {
	Carrier      string
	TrackingCode string
	Service      string
	TrackingURL  string
	ShippedAt    time.Time
}

// LifecycleMarket is what the order lifecycle needs of the marketplace; Marketplace
// includes it. Each write is idempotent as the contract says (CAZCO.md v1.1).
type LifecycleMarket interface {
	// SetInvoice sets the order's invoice. The same key again succeeds. Another key
	// while one is set is an *APIError of Kind KindConflict with ExistingID the key
	// already there (unless inv.Replaces names it).
	SetInvoice(ctx context.Context, orderID string, inv MarketInvoice) error
	// AddShipment adds a shipment; already is true when the marketplace had one with
	// this tracking code (409 existing_id), which is success. An order without an
	// invoice is an *APIError of Kind KindValidation with Type "invoice_required".
	AddShipment(ctx context.Context, orderID string, s MarketShipment) (id string, already bool, err error)
	// CancelOrder cancels the order; already canceled succeeds. An order shipped or
	// later is an *APIError of Kind KindConflict with Type "not_cancelable".
	CancelOrder(ctx context.Context, orderID, reason string) error
	// SetProductStatus sets only a product's status (active, inactive), leaving its
	// other fields as they are: a product deleted in Bling is made inactive.
	SetProductStatus(ctx context.Context, id, status string) error
}

// LifecycleState says whether an order's life is still followed.
type LifecycleState string

// Lifecycle states.
const (
	LifecycleOpen   LifecycleState = "open"
	LifecycleClosed LifecycleState = "closed"
)

// OrderLifecycle is what cazbling has carried of one filed order's life, and what it
// still follows. A field records a remote write only after it succeeded (a kill in
// between re-sends it, which the contract makes harmless), and never goes back.
type OrderLifecycle struct {
	TenantID string
	CazcoID  string
	Number   string
	BlingID  int64
	State    LifecycleState
	// InvoiceKey is the NF-e access key set on the CaZco order, InvoiceID its NF-e in Bling.
	InvoiceKey string
	InvoiceID  int64
	// Tracking are the tracking codes sent to CaZco as shipments.
	Tracking []string
	// CazcoCanceled: the CaZco order is canceled (seen there, or canceled by cazbling).
	CazcoCanceled bool
	// BlingCanceled: the Bling order is canceled (seen there, or moved by cazbling).
	BlingCanceled bool
	BlingStatus   int64 // situacao.id last read
	LastError     string
	CreatedAt     time.Time // when the order was filed in Bling
	UpdatedAt     time.Time
}

// LifecycleStore is what the store keeps of order lifecycles; Store includes it. A
// lifecycle row is made open by the store itself, in the transaction that records an
// order link as created.
type LifecycleStore interface {
	// OpenLifecycles lists a tenant's open lifecycles, oldest first.
	OpenLifecycles(ctx context.Context, tenantID string) ([]OrderLifecycle, error)
	Lifecycle(ctx context.Context, tenantID, cazcoID string) (OrderLifecycle, bool, error)
}
