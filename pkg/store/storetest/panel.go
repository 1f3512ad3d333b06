package storetest

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/cazbling/cazbling/pkg/cazbling"
)

func testInviteIsSingleUseAndExpires(t *testing.T, b Backend) {
	ctx := context.Background()
	clk := newClock()
	loc := b.New(t)
	s := openAt(t, loc, TestKey(1), clk)
	created, err := s.InviteTenant(ctx, "ana", "tok-1", clk.Now().Add(time.Hour))
	if err != nil || !created {
		t.Fatalf("invite: created=%v err=%v", created, err)
	}
	tn, err := s.Tenant(ctx, "ana")
	if err != nil || tn.Status != cazbling.TenantInvited {
		t.Fatalf("invited tenant: %+v %v", tn, err)
	}
	if created, err := s.InviteTenant(ctx, "ana", "tok-2", clk.Now().Add(time.Minute)); err != nil || created {
		t.Fatalf("second invite: created=%v err=%v", created, err)
	}
	if id, err := s.UseInvite(ctx, "tok-1"); err != nil || id != "ana" {
		t.Fatalf("use: %q %v", id, err)
	}
	if _, err := s.UseInvite(ctx, "tok-1"); !errors.Is(err, cazbling.ErrNotFound) {
		t.Fatalf("reuse: %v", err)
	}
	clk.Add(2 * time.Minute)
	if _, err := s.UseInvite(ctx, "tok-2"); !errors.Is(err, cazbling.ErrNotFound) {
		t.Fatalf("expired: %v", err)
	}
	if _, err := s.UseInvite(ctx, "nope"); !errors.Is(err, cazbling.ErrNotFound) {
		t.Fatalf("unknown: %v", err)
	}
	// Only hashes are stored.
	if n := loc.Count(t, `SELECT count(*) FROM panel_invites`); n != 2 {
		t.Fatalf("%d invites stored, want 2: the check below proves nothing", n)
	}
	if data := loc.Contents(t); bytes.Contains(data, []byte("tok-1")) || bytes.Contains(data, []byte("tok-2")) {
		t.Fatal("an invite token is stored in clear")
	}
}

func testSessionStateAndJTI(t *testing.T, b Backend) {
	ctx := context.Background()
	clk := newClock()
	loc := b.New(t)
	s := openAt(t, loc, TestKey(1), clk)
	addTenant(t, s, "ana")
	if err := s.CreateSession(ctx, "sess-a", "ana", time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateSession(ctx, "sess-b", "ana", time.Hour); err != nil {
		t.Fatal(err)
	}
	if id, err := s.Session(ctx, "sess-a", time.Hour); err != nil || id != "ana" {
		t.Fatalf("session: %q %v", id, err)
	}
	// Idle expiry is extended by use.
	clk.Add(50 * time.Minute)
	if _, err := s.Session(ctx, "sess-a", time.Hour); err != nil {
		t.Fatal(err)
	}
	clk.Add(50 * time.Minute)
	if _, err := s.Session(ctx, "sess-a", time.Hour); err != nil {
		t.Fatalf("extended session lapsed: %v", err)
	}
	if _, err := s.Session(ctx, "sess-b", time.Hour); !errors.Is(err, cazbling.ErrNotFound) {
		t.Fatalf("idle session: %v", err)
	}

	if err := s.SaveOAuthState(ctx, "st-1", "sess-a", clk.Now().Add(10*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := s.UseOAuthState(ctx, "st-1", "sess-b"); !errors.Is(err, cazbling.ErrNotFound) {
		t.Fatalf("other session's state: %v", err)
	}
	if err := s.UseOAuthState(ctx, "st-1", "sess-a"); err != nil {
		t.Fatalf("own state: %v", err)
	}
	if err := s.UseOAuthState(ctx, "st-1", "sess-a"); !errors.Is(err, cazbling.ErrNotFound) {
		t.Fatalf("reused state: %v", err)
	}
	_ = s.SaveOAuthState(ctx, "st-2", "sess-a", clk.Now().Add(10*time.Minute))
	clk.Add(11 * time.Minute)
	if err := s.UseOAuthState(ctx, "st-2", "sess-a"); !errors.Is(err, cazbling.ErrNotFound) {
		t.Fatalf("expired state: %v", err)
	}

	if fresh, err := s.UseJTI(ctx, "j1", clk.Now().Add(time.Minute)); err != nil || !fresh {
		t.Fatalf("jti: %v %v", fresh, err)
	}
	if fresh, err := s.UseJTI(ctx, "j1", clk.Now().Add(time.Minute)); err != nil || fresh {
		t.Fatalf("reused jti: %v %v", fresh, err)
	}
	if err := s.DeleteSession(ctx, "sess-a"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Session(ctx, "sess-a", time.Hour); !errors.Is(err, cazbling.ErrNotFound) {
		t.Fatalf("deleted session: %v", err)
	}
	if err := s.PrunePanel(ctx); err != nil {
		t.Fatal(err)
	}
}

func testLogCodeParamsAndSearch(t *testing.T, b Backend) {
	ctx := context.Background()
	s := openAt(t, b.New(t), TestKey(1), newClock())
	addTenant(t, s, "ana")
	rows := []cazbling.LogEntry{
		{TenantID: "ana", Entity: "product", Key: "A-1", Action: "created", Status: "ok", Message: "created in CaZco",
			Code: "product.created", Params: cazbling.Params("sku", "A-1")},
		{TenantID: "ana", Entity: "order", Key: "ord-9", Action: "created", Status: "ok", Message: "order #1042 filed",
			Code: "order.created", Params: cazbling.Params("number", "1042", "bling_id", "7")},
		{TenantID: "ana", Entity: "product", Key: "B-2", Action: "updated", Status: "ok", Message: "old row"},
	}
	if err := s.Apply(ctx, cazbling.Batch{Logs: rows}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Logs(ctx, cazbling.LogFilter{TenantID: "ana", Search: "1042"})
	if err != nil || len(got) != 1 || got[0].Key != "ord-9" || got[0].Params.Get("bling_id") != "7" || got[0].Code != "order.created" {
		t.Fatalf("search by order number: %+v %v", got, err)
	}
	got, _ = s.Logs(ctx, cazbling.LogFilter{TenantID: "ana", Search: "A-1"})
	if len(got) != 1 || got[0].Code != "product.created" {
		t.Fatalf("search by SKU: %+v", got)
	}
	got, _ = s.Logs(ctx, cazbling.LogFilter{TenantID: "ana", Search: "10%"})
	if len(got) != 0 {
		t.Fatalf("wildcards must not match: %+v", got)
	}
	all, _ := s.Logs(ctx, cazbling.LogFilter{TenantID: "ana"})
	page, _ := s.Logs(ctx, cazbling.LogFilter{TenantID: "ana", Limit: 1, Offset: 1})
	if len(all) != 3 || len(page) != 1 || page[0].ID != all[1].ID {
		t.Fatalf("paging: %+v / %+v", all, page)
	}
	if all[0].Code != "" || all[0].Params != "" {
		t.Fatalf("a row without code: %+v", all[0])
	}
}
