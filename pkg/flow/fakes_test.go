package flow

// In-memory stand-ins for Bling (fakeERP, fakes_erp_test.go) and CaZco (fakeMarket,
// fakes_market_test.go), and here a settable clock and a real SQLite store in
// t.TempDir(), shared by the flow tests. The fakes behave like the real services where
// the flows depend on it (Bling takes a repeated numeroLoja, CaZco lists orders newest
// first) and can be told to fail in the ways that matter.

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/cazbling/cazbling/pkg/cazbling"
	"github.com/cazbling/cazbling/pkg/store/sqlite"
)

// testClock is a clock the test moves by hand; safe for concurrent use.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func newTestClock(t time.Time) *testClock { return &testClock{t: t} }

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// testKey is the secrets key of the test stores.
func testKey() []byte {
	key := make([]byte, sqlite.KeySize)
	for i := range key {
		key[i] = byte(i + 1)
	}
	return key
}

// openTestStore opens a real SQLite store in a temporary folder, on clock, and
// returns it with its path (another handle on the same file stands for another
// process).
func openTestStore(t *testing.T, clock func() time.Time) (*sqlite.Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "cazbling.db")
	st, err := sqlite.Open(context.Background(), sqlite.Options{Path: path, Key: testKey(), Now: clock})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	return st, path
}

// blingError is an *APIError from Bling of the given kind.
func blingError(op string, kind cazbling.ErrorKind, fields ...cazbling.FieldError) error {
	return &cazbling.APIError{API: "bling", Op: op, Kind: kind, Message: string(kind), Fields: fields}
}
