// Package store chooses the store a command works on: SQLite (a file, the default) or
// PostgreSQL (a server several hosts share), from the --db value. Nothing outside it
// and the backends knows which one it has.
package store

import (
	"context"
	"time"

	"github.com/cazbling/cazbling/pkg/cazbling"
)

// Store is everything cmd and the panel ask of a store: the flows' cazbling.Store, the
// summaries that tenants and the panel show, and the panel's records. Both backends
// implement it, and pkg/store/storetest checks that they behave the same.
type Store interface {
	cazbling.Store

	// LeaseGeneration takes a lease as AcquireLease does and also returns its
	// generation, the fencing number: the same while holder renews, one more on every
	// change of holder. (The flows do not check their writes against it yet.)
	LeaseGeneration(ctx context.Context, tenantID, flow, holder string, ttl time.Duration) (generation int64, taken bool, err error)

	// CountOrderLinks returns how many order links a tenant has in each state.
	CountOrderLinks(ctx context.Context, tenantID string) (map[cazbling.OrderLinkState]int, error)
	// LastRuns returns a tenant's latest run of each flow, by flow.
	LastRuns(ctx context.Context, tenantID string) (map[string]cazbling.Run, error)
	// FailingItems returns how many of a tenant's items are failing now.
	FailingItems(ctx context.Context, tenantID string) (int, error)

	// The panel's records (PANEL.md): tokens are kept only as their SHA-256. An
	// unknown, used or expired token is an error wrapping cazbling.ErrNotFound.
	InviteTenant(ctx context.Context, tenantID, token string, expires time.Time) (created bool, err error)
	UseInvite(ctx context.Context, token string) (tenantID string, err error)
	CreateSession(ctx context.Context, token, tenantID string, idle time.Duration) error
	Session(ctx context.Context, token string, idle time.Duration) (tenantID string, err error)
	DeleteSession(ctx context.Context, token string) error
	SaveOAuthState(ctx context.Context, state, session string, expires time.Time) error
	UseOAuthState(ctx context.Context, state, session string) error
	UseJTI(ctx context.Context, jti string, expires time.Time) (fresh bool, err error)
	PrunePanel(ctx context.Context) error
	// Ping checks that the store answers a query.
	Ping(ctx context.Context) error
}

// Paces are request paces kept in a store that several hosts share, so that every
// process on every host paces one account together (Bling counts an account's
// requests wherever they come from). TakePace admits one request of the pace key,
// whose requests are spaced every apart: 0 when it may leave now, else how long until
// it may try again.
type Paces interface {
	TakePace(ctx context.Context, key string, every time.Duration) (wait time.Duration, err error)
}

// SharedPaces returns the paces of st when it keeps them (PostgreSQL), else nil: the
// processes of a SQLite store share one host, and the files beside it
// (LimitsDir) pace them.
func SharedPaces(st any) Paces {
	p, _ := st.(Paces)
	return p
}
