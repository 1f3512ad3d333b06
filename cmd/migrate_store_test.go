package cmd

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cazbling/cazbling/pkg/cazbling"
	"github.com/cazbling/cazbling/pkg/store"
	"github.com/cazbling/cazbling/pkg/store/storetest"
)

// migrate-store moves a whole SQLite store into PostgreSQL: the same tenants with
// secrets that decrypt, tokens, links, lifecycles, cursors, runs and log rows (with
// their ids), learned limits and panel sessions; new ids follow the copied ones; and a
// second move into the now non-empty store is refused, writing nothing.
func TestMigrateStore(t *testing.T) {
	ctx := context.Background()
	src, path := openStore(t)
	seed(t, src)
	if err := src.CreateSession(ctx, "session-token-1", "loja-da-ana", time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := src.Apply(ctx, cazbling.Batch{ProductLinks: []cazbling.ProductLink{{TenantID: "loja-da-ana", SKU: "OFF-1", Inactive: true, StockKnown: true}}}); err != nil {
		t.Fatal(err)
	}
	src.Close()
	dsn := storetest.NewPostgresSchema(t)

	run := func(env map[string]string, args ...string) (int, string, string) {
		var out, errOut bytes.Buffer
		code := Execute(ctx, args, IO{In: strings.NewReader(""), Out: &out, Err: &errOut, Getenv: func(k string) string { return env[k] }})
		return code, out.String(), errOut.String()
	}
	key := map[string]string{"CAZBLING_KEY": base64.StdEncoding.EncodeToString(testKey)}
	code, out, errOut := run(key, "migrate-store", "--from", "sqlite:"+path, "--to", dsn)
	if code != ExitOK || !strings.Contains(out, "secrets of 4 tenants decrypted") || !strings.Contains(out, "| log_rows") {
		t.Fatalf("migrate-store: exit %d\n%s\n%s", code, out, errOut)
	}
	for _, secret := range []string{secretClient, secretAPIKey, secretAccess, secretRefresh} {
		if strings.Contains(out+errOut, secret) {
			t.Error("a secret in migrate-store's output")
		}
	}

	now := func() time.Time { return fixedNow }
	a, err := store.Open(ctx, store.Options{DB: path, Key: testKey, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := store.Open(ctx, store.Options{DB: dsn, Key: testKey, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	same := func(what string, get func(s store.Store) (any, error)) {
		t.Helper()
		x, err1 := get(a)
		y, err2 := get(b)
		if err1 != nil || err2 != nil || !reflect.DeepEqual(x, y) {
			t.Errorf("%s differ:\nsqlite   %+v (%v)\npostgres %+v (%v)", what, x, err1, y, err2)
		}
	}
	same("tenants", func(s store.Store) (any, error) { return s.Tenants(ctx) })
	same("logs", func(s store.Store) (any, error) { return s.Logs(ctx, cazbling.LogFilter{}) })
	same("runs", func(s store.Store) (any, error) { return s.Runs(ctx, cazbling.RunFilter{}) })
	for _, id := range []string{"loja-da-ana", "bazar-do-beto", "casa-cris", "dani-modas-e-acessorios"} {
		same(id+" token", func(s store.Store) (any, error) { return s.Token(ctx, id) })
		same(id+" cursors", func(s store.Store) (any, error) { return s.Cursors(ctx, id) })
		same(id+" product links", func(s store.Store) (any, error) { return s.ProductLinks(ctx, id, "", 0) })
		same(id+" order links", func(s store.Store) (any, error) { return s.CountOrderLinks(ctx, id) })
		same(id+" failed orders", func(s store.Store) (any, error) { return s.OrderLinksByState(ctx, id, cazbling.OrderFailed) })
		same(id+" lifecycles", func(s store.Store) (any, error) { return s.OpenLifecycles(ctx, id) })
		same(id+" last runs", func(s store.Store) (any, error) { return s.LastRuns(ctx, id) })
		same(id+" failing items", func(s store.Store) (any, error) { return s.FailingItems(ctx, id) })
		same(id+" cazco limit", func(s store.Store) (any, error) {
			l, found, err := s.APILimit(ctx, id, "cazco")
			return fmt.Sprint(l, found), err
		})
	}
	if open, _ := b.OpenLifecycles(ctx, "loja-da-ana"); len(open) == 0 {
		t.Error("no lifecycles moved: the comparison above proves nothing for them")
	}
	if id, err := b.Session(ctx, "session-token-1", time.Hour); err != nil || id != "loja-da-ana" {
		t.Errorf("the panel session did not move: %q %v", id, err)
	}
	runs, _ := a.Runs(ctx, cazbling.RunFilter{})
	next, err := b.StartRun(ctx, cazbling.Run{TenantID: "loja-da-ana", Flow: cazbling.FlowOrders})
	if err != nil || next <= runs[0].ID {
		t.Errorf("a new run's id %d (%v) is not after the copied ones (up to %d)", next, err, runs[0].ID)
	}

	code, out, errOut = run(key, "migrate-store", "--from", "sqlite:"+path, "--to", dsn)
	if code != ExitFailed || !strings.Contains(errOut, "already holds 4 tenants") {
		t.Errorf("a second move: exit %d\n%s\n%s", code, out, errOut)
	}
	if n, _ := b.Runs(ctx, cazbling.RunFilter{}); len(n) != len(runs)+1 {
		t.Errorf("the refused move changed the target: %d runs", len(n))
	}

	for name, args := range map[string][]string{
		"no sqlite: prefix":   {"migrate-store", "--from", path, "--to", dsn},
		"target not postgres": {"migrate-store", "--from", "sqlite:" + path, "--to", "/tmp/x.db"},
		"missing source":      {"migrate-store", "--from", "sqlite:/nonexistent/c.db", "--to", dsn},
	} {
		if code, _, errOut := run(key, args...); code != ExitUsage || errOut == "" {
			t.Errorf("%s: exit %d, %q", name, code, errOut)
		}
	}
}
