package storetest

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cazbling/cazbling/pkg/cazbling"
	"github.com/cazbling/cazbling/pkg/store"
)

func testTenantUpsertKeepsCreatedAtAndNeverDuplicates(t *testing.T, b Backend) {
	ctx := context.Background()
	s, clk := b.openTest(t)
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

func testUnknownTenantIsNotFound(t *testing.T, b Backend) {
	ctx := context.Background()
	s, _ := b.openTest(t)
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

func testUpdateTokenErrorSavesNothing(t *testing.T, b Backend) {
	ctx := context.Background()
	s, _ := b.openTest(t)
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

// testUpdateTokenSerializesAcrossHandles runs refreshes through separate Stores on one
// store (separate connections lock as separate processes do): the refresh must happen
// once, and everyone must end with the new pair.
func testUpdateTokenSerializesAcrossHandles(t *testing.T, b Backend) {
	ctx := context.Background()
	loc := b.New(t)
	first := openAt(t, loc, TestKey(1), nil)
	err := first.UpsertTenant(ctx, cazbling.Tenant{ID: "acme"}, &cazbling.Token{AccessToken: "access-old", RefreshToken: "refresh-old"})
	if err != nil {
		t.Fatal(err)
	}
	const workers = 4
	stores := []store.Store{first}
	for range workers - 1 {
		stores = append(stores, openAt(t, loc, TestKey(1), nil))
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
