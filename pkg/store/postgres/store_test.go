package postgres_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cazbling/cazbling/pkg/cazbling"
	"github.com/cazbling/cazbling/pkg/store/postgres"
	"github.com/cazbling/cazbling/pkg/store/storetest"
)

func open(t *testing.T, dsn string, now func() time.Time) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(context.Background(), postgres.Options{DSN: dsn, Key: storetest.TestKey(1), Now: now})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// Hosts that open a new store at once queue on the migrations' lock: every Open
// succeeds and each migration is applied once.
func TestConcurrentOpensMigrateOnce(t *testing.T) {
	dsn := storetest.NewPostgresSchema(t)
	const hosts = 8
	var wg sync.WaitGroup
	errs := make([]error, hosts)
	stores := make([]*postgres.Store, hosts)
	for i := range hosts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			stores[i], errs[i] = postgres.Open(context.Background(), postgres.Options{DSN: dsn, Key: storetest.TestKey(1)})
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("open %d: %v", i, err)
		}
		defer stores[i].Close()
	}
	loc := location{dsn: dsn}
	if n := loc.Count(t, `SELECT count(*) FROM schema_version`); n != postgres.SchemaVersion() {
		t.Errorf("%d migrations recorded, want %d (each once)", n, postgres.SchemaVersion())
	}
	if n := loc.Count(t, `SELECT count(*) FROM meta`); n != 1 {
		t.Errorf("%d meta rows, want the one key check", n)
	}
}

// A schema another program made is not written into, and a newer cazbling's schema is
// refused with a message that says what to do.
func TestForeignAndNewerSchemasRefused(t *testing.T) {
	ctx := context.Background()
	foreign := storetest.NewPostgresSchema(t)
	location{dsn: foreign}.Exec(t, `CREATE TABLE invoices (id int)`)
	_, err := postgres.Open(ctx, postgres.Options{DSN: foreign, Key: storetest.TestKey(1)})
	if err == nil || !strings.Contains(err.Error(), "not a cazbling database") || !strings.Contains(err.Error(), "1 tables of another program") {
		t.Errorf("foreign schema: %v", err)
	}
	if n := (location{dsn: foreign}).Count(t, `SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema()`); n != 1 {
		t.Errorf("the foreign schema has %d tables after Open, want its 1", n)
	}

	newer := storetest.NewPostgresSchema(t)
	open(t, newer, nil).Close()
	location{dsn: newer}.Exec(t, `INSERT INTO schema_version VALUES (999, '0999_future.sql', 0)`)
	_, err = postgres.Open(ctx, postgres.Options{DSN: newer, Key: storetest.TestKey(1)})
	if err == nil || !strings.Contains(err.Error(), "newer than this cazbling knows") || !strings.Contains(err.Error(), "upgrade cazbling") {
		t.Errorf("newer schema: %v", err)
	}
}

// A server that cannot be reached is an error naming the database, never the password.
func TestUnreachableServerNamesDatabaseNotPassword(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := postgres.Open(ctx, postgres.Options{
		DSN: "postgres://cazbling:s3cret-pass-9f2@127.0.0.1:1/shop?connect_timeout=2&sslmode=disable",
		Key: storetest.TestKey(1),
	})
	if err == nil {
		t.Fatal("open of a closed port succeeded")
	}
	if strings.Contains(err.Error(), "s3cret-pass-9f2") {
		t.Errorf("the error quotes the password: %v", err)
	}
	if !strings.Contains(err.Error(), "postgres://cazbling@127.0.0.1:1/shop") || !strings.Contains(err.Error(), "check that the server runs") {
		t.Errorf("err = %v, want one naming the database and what to check", err)
	}
	_, err = postgres.Open(ctx, postgres.Options{DSN: "postgres://u:s3cret-pass-9f2@host:notaport/db", Key: storetest.TestKey(1)})
	if err == nil || strings.Contains(err.Error(), "s3cret-pass-9f2") {
		t.Errorf("bad URL: %v", err)
	}
	if _, err := postgres.Open(ctx, postgres.Options{DSN: "postgres://127.0.0.1:1/x", Key: []byte("short")}); err == nil || errors.Is(err, cazbling.ErrWrongKey) {
		t.Errorf("short key: %v", err)
	}
}

// While a tenant's token is being refreshed (fn waits, as on Bling's token endpoint),
// the tenant's flows keep writing (links and log rows: foreign-key checks do not wait
// for the refresher's row lock), and with every token slot of the pool busy the same
// handle still renews its leases.
func TestRefreshBlocksNeitherWritesNorLeases(t *testing.T) {
	ctx := context.Background()
	dsn := storetest.NewPostgresSchema(t)
	s, err := postgres.Open(ctx, postgres.Options{DSN: dsn, Key: storetest.TestKey(1), MaxConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ids := []string{"acme", "bolt", "cora", "dino", "eva"} // more refreshers than the pool's 4
	for _, id := range ids {
		if err := s.UpsertTenant(ctx, cazbling.Tenant{ID: id}, &cazbling.Token{RefreshToken: "r-" + id}); err != nil {
			t.Fatal(err)
		}
	}
	release := make(chan struct{})
	var once sync.Once
	free := func() { once.Do(func() { close(release) }) }
	defer free() // before s.Close, which waits for the refreshers' connections
	var wg sync.WaitGroup
	inside := make(chan string, len(ids))
	for _, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.UpdateToken(ctx, id, func(c cazbling.Token) (cazbling.Token, error) {
				inside <- id
				<-release
				return cazbling.Token{AccessToken: "a-" + id, RefreshToken: "r2-" + id}, nil
			})
			if err != nil {
				t.Errorf("refresh %s: %v", id, err)
			}
		}()
	}
	<-inside
	<-inside                           // both token slots (half the pool) are taken and their rows locked
	time.Sleep(100 * time.Millisecond) // the other refreshers are waiting now
	done := make(chan error, 1)
	go func() {
		err := s.Apply(ctx, cazbling.Batch{
			ProductLinks: []cazbling.ProductLink{{TenantID: "acme", SKU: "A1"}, {TenantID: "bolt", SKU: "B1"}, {TenantID: "cora", SKU: "C1"}},
			Logs:         []cazbling.LogEntry{{TenantID: "acme", Key: "A1", Status: "ok"}},
		})
		if err == nil {
			_, err = s.AcquireLease(ctx, "acme", cazbling.FlowStock, "me", time.Minute)
		}
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a batch or a lease waited for token refreshes of its tenants")
	}
	free()
	wg.Wait()
	for _, id := range ids {
		if tok, err := s.Token(ctx, id); err != nil || tok.RefreshToken != "r2-"+id {
			t.Errorf("%s: %+v %v", id, tok, err)
		}
	}
}

// A store made before a migration gets it at the next Open, keeping its data: here a
// store of schema 1 (before the order lifecycles) whose created order is then
// followed.
func TestOlderSchemaMigratesKeepingData(t *testing.T) {
	ctx := context.Background()
	dsn := storetest.NewPostgresSchema(t)
	s := open(t, dsn, nil)
	loc := location{dsn: dsn}
	if err := s.UpsertTenant(ctx, cazbling.Tenant{ID: "acme", CazcoAPIKey: "k-1"}, nil); err != nil {
		t.Fatal(err)
	}
	s.Close()
	for _, q := range []string{ // back to schema 1
		`DROP TABLE order_lifecycle`,
		`DROP TRIGGER order_links_created_insert ON order_links`,
		`DROP TRIGGER order_links_created_update ON order_links`,
		`DROP FUNCTION order_links_open_lifecycle`,
		`ALTER TABLE product_links DROP COLUMN inactive`,
		`DROP TABLE api_paces`,
		`ALTER TABLE runs DROP COLUMN host`,
		`DELETE FROM schema_version WHERE version > 1`,
		`INSERT INTO order_links (tenant_id, cazco_id, number, bling_id, state, updated_at)
			VALUES ('acme', '58001', '1001', 9, 'created', (extract(epoch FROM now())::bigint - 3600) * 1000000000)`,
	} {
		loc.Exec(t, q)
	}
	s = open(t, dsn, nil)
	if n := loc.Count(t, `SELECT max(version) FROM schema_version`); n != postgres.SchemaVersion() {
		t.Fatalf("schema version %d after open, want %d", n, postgres.SchemaVersion())
	}
	if tn, err := s.Tenant(ctx, "acme"); err != nil || tn.CazcoAPIKey != "k-1" {
		t.Fatalf("tenant after migration: %+v %v", tn, err)
	}
	if l, ok, err := s.Lifecycle(ctx, "acme", "58001"); err != nil || !ok || l.State != cazbling.LifecycleOpen || l.BlingID != 9 {
		t.Errorf("the recent filed order is not followed after migration: %+v %v %v", l, ok, err)
	}
}

// With ServerClockLeases, hosts whose clocks are hours apart agree on a lease: the one
// whose clock runs ahead does not see the other's lease as lapsed, and it lapses after
// its term by the server's clock.
func TestServerClockLeasesIgnoreHostClocks(t *testing.T) {
	ctx := context.Background()
	dsn := storetest.NewPostgresSchema(t)
	openAt := func(skew time.Duration) *postgres.Store {
		s, err := postgres.Open(ctx, postgres.Options{DSN: dsn, Key: storetest.TestKey(1),
			Now: func() time.Time { return time.Now().Add(skew) }, ServerClockLeases: true})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	behind, ahead := openAt(-2*time.Hour), openAt(2*time.Hour)
	if err := behind.UpsertTenant(ctx, cazbling.Tenant{ID: "acme"}, nil); err != nil {
		t.Fatal(err)
	}
	const ttl = 700 * time.Millisecond
	if ok, err := behind.AcquireLease(ctx, "acme", cazbling.FlowOrders, "host-behind", ttl); err != nil || !ok {
		t.Fatalf("take: %v %v", ok, err)
	}
	if ok, err := ahead.AcquireLease(ctx, "acme", cazbling.FlowOrders, "host-ahead", ttl); err != nil || ok {
		t.Fatalf("a host whose clock runs 4 hours ahead took a live lease: %v %v", ok, err)
	}
	time.Sleep(ttl + 200*time.Millisecond)
	if ok, err := ahead.AcquireLease(ctx, "acme", cazbling.FlowOrders, "host-ahead", ttl); err != nil || !ok {
		t.Fatalf("the lease did not lapse after its term: %v %v", ok, err)
	}
}
