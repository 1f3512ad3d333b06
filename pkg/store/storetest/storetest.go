// Package storetest is the behaviour every store backend must have, as one suite of
// tests over store.Store: a backend's own tests call Run with a Backend that makes
// empty stores of its kind. What only one backend has (file modes, WAL, old SQLite
// schemas) stays in that backend's tests.
package storetest

import (
	"bytes"
	"context"
	"sync"
	"testing"
	"time"

	"github.com/cazbling/cazbling/pkg/cazbling"
	"github.com/cazbling/cazbling/pkg/store"
)

// Backend makes stores of one kind for the suite.
type Backend struct {
	// New makes a fresh, empty store location (a file, a schema) for one test.
	New func(t *testing.T) Location
}

// Location is one store's place: the suite opens handles on it (several at once, as
// several processes would) and inspects it raw.
type Location interface {
	// Open opens a handle with key and clock; the suite closes it.
	Open(ctx context.Context, key []byte, now func() time.Time) (store.Store, error)
	// Name is how the backend's errors name the store (its path, or its database).
	Name() string
	// Exec runs SQL on the store without the store's code (for tampering); the
	// statements the suite uses are valid on SQLite and PostgreSQL alike.
	Exec(t *testing.T, query string)
	// Count runs a query returning one integer.
	Count(t *testing.T, query string) int
	// Contents returns everything the store holds, as the server or disk has it, for
	// checking that no secret is there in clear.
	Contents(t *testing.T) []byte
}

// Run runs the whole suite against b.
func Run(t *testing.T, b Backend) {
	tests := []struct {
		name string
		fn   func(t *testing.T, b Backend)
	}{
		{"TenantUpsertKeepsCreatedAtAndNeverDuplicates", testTenantUpsertKeepsCreatedAtAndNeverDuplicates},
		{"UnknownTenantIsNotFound", testUnknownTenantIsNotFound},
		{"UpdateTokenErrorSavesNothing", testUpdateTokenErrorSavesNothing},
		{"UpdateTokenSerializesAcrossHandles", testUpdateTokenSerializesAcrossHandles},
		{"SecretsNotStoredInClear", testSecretsNotStoredInClear},
		{"WrongKey", testWrongKey},
		{"NewKeyAcceptedWhileStoreHoldsNoSecrets", testNewKeyAcceptedWhileStoreHoldsNoSecrets},
		{"SecretBoundToRow", testSecretBoundToRow},
		{"Leases", testLeases},
		{"LeaseRaceHasOneWinner", testLeaseRaceHasOneWinner},
		{"FencedBatches", testFencedBatches},
		{"LeaseGenerationFences", testLeaseGenerationFences},
		{"ApplyWritesEverythingOrNothing", testApplyWritesEverythingOrNothing},
		{"ProductLinksPagingAndLookup", testProductLinksPagingAndLookup},
		{"OrderLinksByStateAndCounts", testOrderLinksByStateAndCounts},
		{"OrderLinksByNumber", testOrderLinksByNumber},
		{"LogsFilters", testLogsFilters},
		{"RunsAndSummaries", testRunsAndSummaries},
		{"PruneLogsKeepsFailingItems", testPruneLogsKeepsFailingItems},
		{"APILimitsBelongToTheKey", testAPILimitsBelongToTheKey},
		{"InviteIsSingleUseAndExpires", testInviteIsSingleUseAndExpires},
		{"SessionStateAndJTI", testSessionStateAndJTI},
		{"LogCodeParamsAndSearch", testLogCodeParamsAndSearch},
		{"LifecycleOpenedByCreatedLink", testLifecycleOpenedByCreatedLink},
		{"InactiveProductLinkRoundTrips", testInactiveProductLinkRoundTrips},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, b) })
	}
}

// clock is a settable clock safe for concurrent use.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock {
	return &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// TestKey is a secrets key made of one repeated byte.
func TestKey(b byte) []byte {
	return bytes.Repeat([]byte{b}, 32)
}

// openAt opens a handle on loc with key and clock (nil: the real clock), closing it at
// the end of the test.
func openAt(t *testing.T, loc Location, key []byte, clk *clock) store.Store {
	t.Helper()
	now := time.Now
	if clk != nil {
		now = clk.Now
	}
	s, err := loc.Open(context.Background(), key, now)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// openTest opens a handle on a new empty store with TestKey(1) and a settable clock.
func (b Backend) openTest(t *testing.T) (store.Store, *clock) {
	t.Helper()
	clk := newClock()
	return openAt(t, b.New(t), TestKey(1), clk), clk
}

func addTenant(t *testing.T, s store.Store, id string) {
	t.Helper()
	err := s.UpsertTenant(context.Background(), cazbling.Tenant{ID: id, BlingURL: "https://bling.test", CazcoURL: "https://cazco.test"}, nil)
	if err != nil {
		t.Fatalf("add tenant %s: %v", id, err)
	}
}
