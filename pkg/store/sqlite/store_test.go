package sqlite

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cazbling/cazbling/pkg/cazbling"
)

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

func testKey(b byte) []byte {
	return bytes.Repeat([]byte{b}, KeySize)
}

// openAt opens (or reopens) the store at path with key and clock, closing it at the
// end of the test.
func openAt(t *testing.T, path string, key []byte, clk *clock) *Store {
	t.Helper()
	opts := Options{Path: path, Key: key}
	if clk != nil {
		opts.Now = clk.Now
	}
	s, err := Open(context.Background(), opts)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func openTest(t *testing.T) (*Store, *clock) {
	t.Helper()
	clk := newClock()
	return openAt(t, filepath.Join(t.TempDir(), "cazbling.db"), testKey(1), clk), clk
}

func addTenant(t *testing.T, s *Store, id string) {
	t.Helper()
	err := s.UpsertTenant(context.Background(), cazbling.Tenant{ID: id, BlingURL: "https://bling.test", CazcoURL: "https://cazco.test"}, nil)
	if err != nil {
		t.Fatalf("add tenant %s: %v", id, err)
	}
}

// rawDB opens the file without the store, for inspecting and tampering.
func rawDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite3", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestOpenCreatesFolderAndFileOwnerOnly(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data dir?#%20", "cazbling") // characters a URI must escape
	path := filepath.Join(dir, "store.db")
	s := openAt(t, path, testKey(1), nil)
	if s.Path() != path {
		t.Errorf("Path() = %q, want %q", s.Path(), path)
	}
	for name, want := range map[string]os.FileMode{dir: 0o700, path: 0o600} {
		info, err := os.Stat(name)
		if err != nil {
			t.Fatal(err)
		}
		if got := info.Mode().Perm(); got != want {
			t.Errorf("%s mode = %o, want %o", name, got, want)
		}
	}
	// SQLite must have used that very file, not a mis-decoded name.
	addTenant(t, s, "acme")
	s.Close()
	entries, _ := os.ReadDir(dir)
	if info, err := os.Stat(path); err != nil || info.Size() == 0 || len(entries) != 1 {
		t.Errorf("after a write: %v, %d entries in the folder, want only a non-empty store.db", err, len(entries))
	}
}

func TestOpenTightensLooseFileMode(t *testing.T) {
	path := filepath.Join(t.TempDir(), "store.db")
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	openAt(t, path, testKey(1), nil)
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := info.Mode().Perm(); got != 0o600 {
		t.Errorf("mode = %o, want 600", got)
	}
}

func TestOpenBadFolderNamesPath(t *testing.T) {
	blocker := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(blocker, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(blocker, "store.db") // parent is a file
	_, err := Open(context.Background(), Options{Path: path, Key: testKey(1)})
	if err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("err = %v, want one naming %s", err, path)
	}
}

func TestOpenRejectsBadKeyLength(t *testing.T) {
	_, err := Open(context.Background(), Options{Path: filepath.Join(t.TempDir(), "s.db"), Key: []byte("short")})
	if err == nil || !strings.Contains(err.Error(), "32 bytes") {
		t.Fatalf("err = %v", err)
	}
}

// schemaOf returns the schema version and every schema object's SQL.
func schemaOf(t *testing.T, path string) (int, string) {
	t.Helper()
	db := rawDB(t, path)
	var version int
	if err := db.QueryRow("PRAGMA user_version").Scan(&version); err != nil {
		t.Fatal(err)
	}
	rows, err := db.Query("SELECT type, name, coalesce(sql, '') FROM sqlite_master ORDER BY type, name")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var typ, name, text string
		if err := rows.Scan(&typ, &name, &text); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%s %s: %s\n", typ, name, text)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	return version, b.String()
}

func fileSum(t *testing.T, path string) [32]byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(data)
}

func TestMigrateFromEmptyThenReopenChangesNothing(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "store.db")
	s, err := Open(ctx, Options{Path: path, Key: testKey(1)})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	version, schema := schemaOf(t, path)
	if version != SchemaVersion() || version < 1 {
		t.Fatalf("schema version = %d, want %d", version, SchemaVersion())
	}
	for _, table := range []string{"tenants", "cursors", "product_links", "order_links", "runs", "log_rows", "leases", "meta"} {
		if !strings.Contains(schema, "table "+table+":") {
			t.Errorf("table %s missing from schema:\n%s", table, schema)
		}
	}
	sum := fileSum(t, path)
	info, _ := os.Stat(path)

	s, err = Open(ctx, Options{Path: path, Key: testKey(1)})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	version2, schema2 := schemaOf(t, path)
	if version2 != version || schema2 != schema {
		t.Errorf("reopen changed the schema: version %d → %d", version, version2)
	}
	if fileSum(t, path) != sum {
		t.Error("reopen rewrote the database file")
	}
	if info2, _ := os.Stat(path); !info2.ModTime().Equal(info.ModTime()) {
		t.Error("reopen changed the file's modification time")
	}
}

func TestNewerSchemaRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "store.db")
	s := openAt(t, path, testKey(1), nil)
	s.Close()
	db := rawDB(t, path)
	if _, err := db.Exec(fmt.Sprintf("PRAGMA user_version = %d", SchemaVersion()+1)); err != nil {
		t.Fatal(err)
	}
	db.Close()
	_, err := Open(context.Background(), Options{Path: path, Key: testKey(1)})
	if err == nil || !strings.Contains(err.Error(), "newer than this cazbling knows") || !strings.Contains(err.Error(), path) {
		t.Fatalf("err = %v", err)
	}
}

func TestNotADatabaseRefused(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, path string)
	}{
		{"garbage", func(t *testing.T, path string) {
			garbage := bytes.Repeat([]byte("this is not sqlite at all\n"), 400)
			if err := os.WriteFile(path, garbage, 0o600); err != nil {
				t.Fatal(err)
			}
		}},
		{"damaged header", func(t *testing.T, path string) {
			s := openAt(t, path, testKey(1), nil)
			addTenant(t, s, "acme")
			s.Close()
			f, err := os.OpenFile(path, os.O_RDWR, 0)
			if err != nil {
				t.Fatal(err)
			}
			f.WriteAt([]byte("SQLite format 9\x00"), 0)
			f.Close()
		}},
		{"another program's database", func(t *testing.T, path string) {
			db := rawDB(t, path)
			if _, err := db.Exec("CREATE TABLE photos (id INTEGER)"); err != nil {
				t.Fatal(err)
			}
			db.Close()
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "store.db")
			tt.setup(t, path)
			before := fileSum(t, path)
			_, err := Open(context.Background(), Options{Path: path, Key: testKey(1)})
			want := "store " + path + " is not a cazbling database or is corrupted"
			if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "point --db elsewhere") {
				t.Fatalf("err = %v, want it to say %q", err, want)
			}
			if fileSum(t, path) != before {
				t.Error("the refused file was modified")
			}
		})
	}
}

func TestTenantUpsertKeepsCreatedAtAndNeverDuplicates(t *testing.T) {
	ctx := context.Background()
	s, clk := openTest(t)
	created := clk.Now()
	in := cazbling.Tenant{
		ID: "acme", BlingURL: "https://bling.test", BlingClientID: "cid", BlingClientSecret: "s1",
		BlingDeposit: 7, BlingStore: 8, BlingPaymentMethod: 9,
		CazcoURL: "https://cazco.test", CazcoAPIKey: "k1", ImportStatuses: []string{"processing", "shipped"},
	}
	tok := &cazbling.Token{AccessToken: "a1", RefreshToken: "r1", Expiry: created.Add(6 * time.Hour)}
	if err := s.UpsertTenant(ctx, in, tok); err != nil {
		t.Fatal(err)
	}
	clk.Add(time.Hour)
	in.BlingClientSecret, in.CazcoAPIKey, in.ImportStatuses = "s2", "k2", nil
	if err := s.UpsertTenant(ctx, in, nil); err != nil {
		t.Fatal(err)
	}
	ts, err := s.Tenants(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(ts) != 1 {
		t.Fatalf("%d tenants after two upserts, want 1", len(ts))
	}
	got := ts[0]
	if !got.CreatedAt.Equal(created) || !got.UpdatedAt.Equal(created.Add(time.Hour)) {
		t.Errorf("created %v updated %v, want %v and an hour later", got.CreatedAt, got.UpdatedAt, created)
	}
	if got.Status != cazbling.TenantActive || got.BlingClientSecret != "s2" || got.CazcoAPIKey != "k2" ||
		got.BlingDeposit != 7 || got.BlingStore != 8 || got.BlingPaymentMethod != 9 || got.ImportStatuses != nil {
		t.Errorf("tenant = %+v", got)
	}
	// The token survives an upsert without one.
	gotTok, err := s.Token(ctx, "acme")
	if err != nil || gotTok.AccessToken != "a1" || gotTok.RefreshToken != "r1" || !gotTok.Expiry.Equal(tok.Expiry) {
		t.Errorf("token = %+v, %v", gotTok, err)
	}

	until := clk.Now().Add(3 * time.Hour)
	if err := s.SetTenantStatus(ctx, "acme", cazbling.TenantPaused, until, "daily quota"); err != nil {
		t.Fatal(err)
	}
	got, err = s.Tenant(ctx, "acme")
	if err != nil || got.Status != cazbling.TenantPaused || !got.PausedUntil.Equal(until) || got.StatusReason != "daily quota" {
		t.Errorf("after pause: %+v, %v", got, err)
	}

	in.ImportStatuses = []string{"billed"}
	if err := s.UpsertTenant(ctx, in, nil); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Tenant(ctx, "acme"); len(got.ImportStatuses) != 1 || got.ImportStatuses[0] != "billed" {
		t.Errorf("import statuses = %q", got.ImportStatuses)
	}
}

func TestUnknownTenantIsNotFound(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	checks := map[string]error{}
	_, checks["Tenant"] = s.Tenant(ctx, "ghost")
	_, checks["Token"] = s.Token(ctx, "ghost")
	checks["SetTenantStatus"] = s.SetTenantStatus(ctx, "ghost", cazbling.TenantInactive, time.Time{}, "")
	_, checks["UpdateToken"] = s.UpdateToken(ctx, "ghost", func(c cazbling.Token) (cazbling.Token, error) { return c, nil })
	for name, err := range checks {
		if !errors.Is(err, cazbling.ErrNotFound) || !strings.Contains(err.Error(), `"ghost"`) {
			t.Errorf("%s: err = %v, want ErrNotFound naming the tenant", name, err)
		}
	}
}

func TestUpdateTokenErrorSavesNothing(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	addTenant(t, s, "acme")
	boom := errors.New("invalid_grant")
	_, err := s.UpdateToken(ctx, "acme", func(c cazbling.Token) (cazbling.Token, error) {
		return cazbling.Token{AccessToken: "x", RefreshToken: "y"}, boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v", err)
	}
	if tok, _ := s.Token(ctx, "acme"); tok.AccessToken != "" || tok.RefreshToken != "" {
		t.Errorf("token saved despite error: %+v", tok)
	}
}

// TestUpdateTokenSerializesAcrossHandles runs refreshes through separate Stores on one
// file (separate connections lock as separate processes do): the refresh must happen
// once, and everyone must end with the new pair.
func TestUpdateTokenSerializesAcrossHandles(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "store.db")
	first := openAt(t, path, testKey(1), nil)
	err := first.UpsertTenant(ctx, cazbling.Tenant{ID: "acme"}, &cazbling.Token{AccessToken: "access-old", RefreshToken: "refresh-old"})
	if err != nil {
		t.Fatal(err)
	}
	const workers = 4
	stores := []*Store{first}
	for range workers - 1 {
		stores = append(stores, openAt(t, path, testKey(1), nil))
	}
	var (
		mu        sync.Mutex
		refreshes int
		wg        sync.WaitGroup
		results   = make([]cazbling.Token, workers)
		errs      = make([]error, workers)
		start     = make(chan struct{})
	)
	for i, s := range stores {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			results[i], errs[i] = s.UpdateToken(ctx, "acme", func(cur cazbling.Token) (cazbling.Token, error) {
				if cur.RefreshToken != "refresh-old" {
					return cur, nil // someone refreshed already
				}
				mu.Lock()
				refreshes++
				mu.Unlock()
				time.Sleep(50 * time.Millisecond) // the token call, while others wait
				return cazbling.Token{AccessToken: "access-new", RefreshToken: "refresh-new"}, nil
			})
		}()
	}
	close(start)
	wg.Wait()
	if refreshes != 1 {
		t.Errorf("%d refreshes, want 1", refreshes)
	}
	for i := range workers {
		if errs[i] != nil || results[i].RefreshToken != "refresh-new" || results[i].AccessToken != "access-new" {
			t.Errorf("worker %d: %+v, %v", i, results[i], errs[i])
		}
	}
}

func TestLeases(t *testing.T) {
	ctx := context.Background()
	s, clk := openTest(t)
	addTenant(t, s, "acme")
	acquire := func(holder string) bool {
		t.Helper()
		ok, err := s.AcquireLease(ctx, "acme", cazbling.FlowOrders, holder, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	release := func(holder string) {
		t.Helper()
		if err := s.ReleaseLease(ctx, "acme", cazbling.FlowOrders, holder); err != nil {
			t.Fatal(err)
		}
	}
	if !acquire("a") {
		t.Fatal("a could not take a free lease")
	}
	if acquire("b") {
		t.Fatal("b took a lease a holds")
	}
	ok, err := s.AcquireLease(ctx, "acme", cazbling.FlowStock, "b", time.Minute)
	if err != nil || !ok {
		t.Fatalf("b could not take another flow's lease: %v", err)
	}
	clk.Add(50 * time.Second)
	if !acquire("a") {
		t.Fatal("a could not renew")
	}
	clk.Add(50 * time.Second) // within the renewed term
	if acquire("b") {
		t.Fatal("b took a renewed lease")
	}
	clk.Add(10 * time.Second) // expired now
	if !acquire("b") {
		t.Fatal("b could not take an expired lease")
	}
	release("a") // not the holder: no-op
	if acquire("c") {
		t.Fatal("release by a non-holder freed the lease")
	}
	release("b")
	if !acquire("c") {
		t.Fatal("c could not take a released lease")
	}
}

func TestApplyWritesEverythingOrNothing(t *testing.T) {
	ctx := context.Background()
	s, clk := openTest(t)
	addTenant(t, s, "acme")

	bad := cazbling.Batch{
		ProductLinks: []cazbling.ProductLink{{TenantID: "acme", SKU: "A1", BlingID: 1, CazcoID: "c1"}},
		OrderLinks:   []cazbling.OrderLink{{TenantID: "acme", CazcoID: "o1", State: cazbling.OrderCreating}},
		Logs:         []cazbling.LogEntry{{TenantID: "ghost", Flow: cazbling.FlowProducts, Key: "A1"}}, // no such tenant
		Cursors:      []cazbling.Cursor{{TenantID: "acme", Stream: cazbling.StreamProductsCreated, Value: "2026-03-01T00:00:00Z"}},
	}
	if err := s.Apply(ctx, bad); err == nil {
		t.Fatal("batch with a constraint violation was accepted")
	}
	if _, found, _ := s.ProductLink(ctx, "acme", "A1"); found {
		t.Error("product link of a failed batch was saved")
	}
	if _, found, _ := s.OrderLink(ctx, "acme", "o1"); found {
		t.Error("order link of a failed batch was saved")
	}
	if _, found, _ := s.Cursor(ctx, "acme", cazbling.StreamProductsCreated); found {
		t.Error("cursor of a failed batch moved")
	}

	good := bad
	good.Logs = []cazbling.LogEntry{{TenantID: "acme", Flow: cazbling.FlowProducts, Key: "A1", Status: cazbling.StatusOK}}
	good.OrderLinks = []cazbling.OrderLink{{TenantID: "acme", CazcoID: "o1", Number: "1001", BlingID: 55,
		State: cazbling.OrderFailed, Attempts: 2, NextAttempt: clk.Now().Add(time.Hour), LastError: "unknown SKU"}}
	if err := s.Apply(ctx, good); err != nil {
		t.Fatal(err)
	}
	pl, found, err := s.ProductLink(ctx, "acme", "A1")
	if err != nil || !found || pl.BlingID != 1 || pl.CazcoID != "c1" || !pl.UpdatedAt.Equal(clk.Now()) {
		t.Errorf("product link = %+v, %v, %v", pl, found, err)
	}
	ol, found, err := s.OrderLink(ctx, "acme", "o1")
	want := good.OrderLinks[0]
	want.UpdatedAt = clk.Now()
	if err != nil || !found || ol != want {
		t.Errorf("order link = %+v, want %+v (%v)", ol, want, err)
	}
	if v, found, _ := s.Cursor(ctx, "acme", cazbling.StreamProductsCreated); !found || v != "2026-03-01T00:00:00Z" {
		t.Errorf("cursor = %q, %v", v, found)
	}
	logs, _ := s.Logs(ctx, cazbling.LogFilter{})
	if len(logs) != 1 || !logs[0].Time.Equal(clk.Now()) {
		t.Errorf("logs = %+v, want one row at now", logs)
	}

	// Upserts replace, each in its own columns: a product link upsert leaves the stock
	// last sent alone, a stock level touches nothing else.
	clk.Add(time.Minute)
	before, _, _ := s.ProductLink(ctx, "acme", "A1")
	err = s.Apply(ctx, cazbling.Batch{
		ProductLinks: []cazbling.ProductLink{{TenantID: "acme", SKU: "A1", BlingID: 1, CazcoID: "c1", Hash: "h2", StockSent: 99, StockKnown: !before.StockKnown}},
		Cursors:      []cazbling.Cursor{{TenantID: "acme", Stream: cazbling.StreamProductsCreated, Value: "later"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	pl, _, _ = s.ProductLink(ctx, "acme", "A1")
	if pl.Hash != "h2" || pl.StockSent != before.StockSent || pl.StockKnown != before.StockKnown || !pl.UpdatedAt.Equal(clk.Now()) {
		t.Errorf("updated link = %+v (before %+v)", pl, before)
	}
	err = s.Apply(ctx, cazbling.Batch{StockLevels: []cazbling.ProductLink{
		{TenantID: "acme", SKU: "A1", StockSent: 5, StockKnown: true, Hash: "ignored", CazcoID: "ignored"},
		{TenantID: "acme", SKU: "NO-SUCH-SKU", StockSent: 1, StockKnown: true},
	}})
	if err != nil {
		t.Fatal(err)
	}
	pl, _, _ = s.ProductLink(ctx, "acme", "A1")
	if pl.Hash != "h2" || pl.CazcoID != "c1" || pl.StockSent != 5 || !pl.StockKnown {
		t.Errorf("link after a stock level = %+v", pl)
	}
	if _, found, _ := s.ProductLink(ctx, "acme", "NO-SUCH-SKU"); found {
		t.Error("a stock level created a link")
	}
	cs, err := s.Cursors(ctx, "acme")
	if err != nil || len(cs) != 1 || cs[0].Value != "later" {
		t.Errorf("cursors = %+v, %v", cs, err)
	}
	if err := s.Apply(ctx, cazbling.Batch{}); err != nil {
		t.Errorf("empty batch: %v", err)
	}
}

func TestProductLinksPagingAndLookup(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	addTenant(t, s, "acme")
	addTenant(t, s, "other")
	var b cazbling.Batch
	const n = 1201
	for i := range n {
		b.ProductLinks = append(b.ProductLinks, cazbling.ProductLink{TenantID: "acme", SKU: fmt.Sprintf("SKU-%04d", i), BlingID: int64(i + 1)})
	}
	b.ProductLinks = append(b.ProductLinks, cazbling.ProductLink{TenantID: "other", SKU: "SKU-0000", BlingID: 999})
	if err := s.Apply(ctx, b); err != nil {
		t.Fatal(err)
	}
	if got, err := s.CountProductLinks(ctx, "acme"); err != nil || got != n {
		t.Errorf("count = %d, %v", got, err)
	}
	var all []string
	after := ""
	for {
		page, err := s.ProductLinks(ctx, "acme", after, 500)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		for _, l := range page {
			all = append(all, l.SKU)
		}
		after = page[len(page)-1].SKU
	}
	if len(all) != n || all[0] != "SKU-0000" || all[n-1] != fmt.Sprintf("SKU-%04d", n-1) {
		t.Errorf("paged %d links, first %v", len(all), all[:1])
	}
	for i := 1; i < len(all); i++ {
		if all[i-1] >= all[i] {
			t.Fatalf("pages out of order at %d: %s, %s", i, all[i-1], all[i])
		}
	}

	skus := []string{"missing"}
	for i := 0; i < n; i += 2 {
		skus = append(skus, fmt.Sprintf("SKU-%04d", i))
	}
	got, err := s.ProductLinksBySKU(ctx, "acme", skus)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(skus)-1 {
		t.Errorf("found %d links, want %d", len(got), len(skus)-1)
	}
	if l := got["SKU-0000"]; l.BlingID != 1 || l.TenantID != "acme" {
		t.Errorf("SKU-0000 = %+v (another tenant's link?)", l)
	}
	if _, ok := got["missing"]; ok {
		t.Error("missing SKU found")
	}
}

func TestOrderLinksByStateAndCounts(t *testing.T) {
	ctx := context.Background()
	s, clk := openTest(t)
	addTenant(t, s, "acme")
	now := clk.Now()
	err := s.Apply(ctx, cazbling.Batch{OrderLinks: []cazbling.OrderLink{
		{TenantID: "acme", CazcoID: "o3", State: cazbling.OrderFailed, NextAttempt: now.Add(2 * time.Hour)},
		{TenantID: "acme", CazcoID: "o1", State: cazbling.OrderFailed, NextAttempt: now.Add(time.Hour)},
		{TenantID: "acme", CazcoID: "o2", State: cazbling.OrderCreated, BlingID: 7},
		{TenantID: "acme", CazcoID: "o4", State: cazbling.OrderCreating},
	}})
	if err != nil {
		t.Fatal(err)
	}
	failed, err := s.OrderLinksByState(ctx, "acme", cazbling.OrderFailed)
	if err != nil || len(failed) != 2 || failed[0].CazcoID != "o1" || failed[1].CazcoID != "o3" {
		t.Errorf("failed = %+v, %v", failed, err)
	}
	counts, err := s.CountOrderLinks(ctx, "acme")
	want := map[cazbling.OrderLinkState]int{cazbling.OrderFailed: 2, cazbling.OrderCreated: 1, cazbling.OrderCreating: 1}
	if err != nil || fmt.Sprint(counts) != fmt.Sprint(want) {
		t.Errorf("counts = %v, want %v (%v)", counts, want, err)
	}
}

// TestFullDiskNamesPath fills the database to a page limit, the way a full disk
// fails a write, and expects the error to name the file.
func TestFullDiskNamesPath(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	addTenant(t, s, "acme")
	s.db.SetMaxOpenConns(1) // so the per-connection limit below applies to Apply
	var pages int
	if err := s.db.QueryRowContext(ctx, "PRAGMA page_count").Scan(&pages); err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.ExecContext(ctx, fmt.Sprintf("PRAGMA max_page_count = %d", pages)); err != nil {
		t.Fatal(err)
	}
	var b cazbling.Batch
	for i := range 2000 {
		b.Logs = append(b.Logs, cazbling.LogEntry{TenantID: "acme", Key: fmt.Sprintf("SKU-%d", i), Message: strings.Repeat("x", 200)})
	}
	err := s.Apply(ctx, b)
	if err == nil || !strings.Contains(err.Error(), s.Path()) || !strings.Contains(err.Error(), "save batch") {
		t.Fatalf("err = %v, want one naming %s", err, s.Path())
	}
	if logs, _ := s.Logs(ctx, cazbling.LogFilter{}); len(logs) != 0 {
		t.Errorf("%d rows of a failed batch were saved", len(logs))
	}
}

// TestReadOnlyOpen opens a store with Options.ReadOnly: it reads what is there and
// writes nothing; a missing file, an older schema or a wrong key is refused.
func TestReadOnlyOpen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "store.db")
	s := openAt(t, path, testKey(1), nil)
	addTenant(t, s, "loja-ro")
	s.Close()
	sum := func() [32]byte {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return sha256.Sum256(b)
	}
	before := sum()

	ro, err := Open(ctx, Options{Path: path, Key: testKey(1), ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ro.Tenant(ctx, "loja-ro"); err != nil {
		t.Errorf("read a tenant: %v", err)
	}
	err = ro.UpsertTenant(ctx, cazbling.Tenant{ID: "other", BlingURL: "https://bling.test", CazcoURL: "https://cazco.test"}, nil)
	if err == nil || !NotWritable(err) {
		t.Errorf("write through a read-only store: err = %v, want one NotWritable reports", err)
	}
	ro.Close()
	if sum() != before {
		t.Error("the read-only open changed the file")
	}

	tests := []struct {
		name string
		prep func(t *testing.T) string // returns the path to open
		key  []byte
		says string
	}{
		{"missing file", func(t *testing.T) string { return filepath.Join(t.TempDir(), "none.db") }, testKey(1), "no such file"},
		{"wrong key", func(*testing.T) string { return path }, testKey(2), "does not match"},
		{"older schema", func(t *testing.T) string {
			old := filepath.Join(t.TempDir(), "old.db")
			openAt(t, old, testKey(1), nil).Close()
			db := rawDB(t, old)
			if _, err := db.Exec(fmt.Sprintf("PRAGMA user_version = %d", SchemaVersion()-1)); err != nil {
				t.Fatal(err)
			}
			db.Close()
			return old
		}, testKey(1), "older than this cazbling's"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := tt.prep(t)
			_, err := Open(ctx, Options{Path: p, Key: tt.key, ReadOnly: true})
			if err == nil || !strings.Contains(err.Error(), tt.says) {
				t.Fatalf("err = %v, want one saying %q", err, tt.says)
			}
			if tt.name == "missing file" {
				if _, err := os.Stat(p); !errors.Is(err, fs.ErrNotExist) {
					t.Errorf("a read-only open created %s", p)
				}
			}
		})
	}
}
