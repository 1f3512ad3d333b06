// Package cazbling holds the domain of the CaZco ⇄ Bling sync: tenants, products,
// stock, orders, runs and log rows, the interfaces the flows need (ERP, Marketplace,
// Store) and the error kinds every layer shares. It imports no HTTP or SQL package.
package cazbling

import (
	"fmt"
	"time"
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

// RateLimit is an API's allowance for one key as its answers advertise it: at most N
// requests in any Window. The zero value means none is known.
type RateLimit struct {
	N      int
	Window time.Duration
	SeenAt time.Time // when an answer last advertised it
}

// String says the limit, e.g. "600 per minute" or "10 per 5s".
func (l RateLimit) String() string {
	switch {
	case l.N <= 0 || l.Window <= 0:
		return "unknown"
	case l.Window == time.Minute:
		return fmt.Sprintf("%d per minute", l.N)
	}
	return fmt.Sprintf("%d per %v", l.N, l.Window)
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
