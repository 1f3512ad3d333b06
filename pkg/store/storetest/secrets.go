package storetest

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/cazbling/cazbling/pkg/cazbling"
)

func testSecretsNotStoredInClear(t *testing.T, b Backend) {
	ctx := context.Background()
	loc := b.New(t)
	s := openAt(t, loc, TestKey(1), nil)
	secrets := []string{
		"client-secret-2f9d8a7e", "cazco-key-61b0c3d4", "access-token-" + strings.Repeat("J", 3000), "refresh-token-a8c1e5f0",
	}
	tn := cazbling.Tenant{ID: "acme", BlingClientID: "public-client-id", BlingClientSecret: secrets[0], CazcoAPIKey: secrets[1]}
	if err := s.UpsertTenant(ctx, tn, &cazbling.Token{AccessToken: secrets[2], RefreshToken: secrets[3]}); err != nil {
		t.Fatal(err)
	}
	check := func(when string) {
		t.Helper()
		data := loc.Contents(t)
		if !bytes.Contains(data, []byte("public-client-id")) {
			t.Errorf("%s: the tenant row is not in the store's contents; the check proves nothing", when)
		}
		for _, secret := range secrets {
			if bytes.Contains(data, []byte(secret[:min(len(secret), 24)])) {
				t.Errorf("%s: the store holds a secret in clear", when)
			}
		}
	}
	check("open")
	got, err := s.Tenant(ctx, "acme")
	if err != nil || got.BlingClientSecret != secrets[0] || got.CazcoAPIKey != secrets[1] {
		t.Errorf("decrypted tenant = %+v, %v", got, err)
	}
	tok, err := s.Token(ctx, "acme")
	if err != nil || tok.AccessToken != secrets[2] || tok.RefreshToken != secrets[3] {
		t.Errorf("decrypted token wrong: %v", err)
	}
	s.Close()
	check("closed")
}

func testWrongKey(t *testing.T, b Backend) {
	ctx := context.Background()
	loc := b.New(t)
	s := openAt(t, loc, TestKey(1), nil)
	err := s.UpsertTenant(ctx, cazbling.Tenant{ID: "acme", CazcoAPIKey: "key"}, &cazbling.Token{RefreshToken: "r"})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()

	other, err := loc.Open(ctx, TestKey(2), nil)
	if err == nil {
		other.Close()
	}
	if !errors.Is(err, cazbling.ErrWrongKey) || !strings.Contains(err.Error(), loc.Name()) || !strings.Contains(err.Error(), "does not match") {
		t.Fatalf("open with another key: %v", err)
	}
	openAt(t, loc, TestKey(1), nil).Close() // the right key still opens it
}

func testNewKeyAcceptedWhileStoreHoldsNoSecrets(t *testing.T, b Backend) {
	ctx := context.Background()
	loc := b.New(t)
	openAt(t, loc, TestKey(1), nil).Close()
	s := openAt(t, loc, TestKey(2), nil)
	if err := s.UpsertTenant(ctx, cazbling.Tenant{ID: "acme", CazcoAPIKey: "k"}, nil); err != nil {
		t.Fatal(err)
	}
	s.Close()
	openAt(t, loc, TestKey(2), nil).Close()
	old, err := loc.Open(ctx, TestKey(1), nil)
	if err == nil {
		old.Close()
	}
	if !errors.Is(err, cazbling.ErrWrongKey) {
		t.Errorf("old key after re-key: %v", err)
	}
}

// testSecretBoundToRow moves a sealed value to another tenant's row; it must not open
// there, and the error must name the tenant.
func testSecretBoundToRow(t *testing.T, b Backend) {
	ctx := context.Background()
	loc := b.New(t)
	s := openAt(t, loc, TestKey(1), nil)
	for _, id := range []string{"acme", "bolt"} {
		if err := s.UpsertTenant(ctx, cazbling.Tenant{ID: id, CazcoAPIKey: "key-of-" + id}, &cazbling.Token{AccessToken: "a-" + id}); err != nil {
			t.Fatal(err)
		}
	}
	loc.Exec(t, `UPDATE tenants SET cazco_api_key_enc = (SELECT cazco_api_key_enc FROM tenants WHERE id = 'bolt') WHERE id = 'acme'`)
	loc.Exec(t, `UPDATE tenants SET refresh_token_enc = access_token_enc WHERE id = 'bolt'`)
	_, err := s.Tenant(ctx, "acme")
	want := `tenant "acme": secrets cannot be decrypted with this key`
	if !errors.Is(err, cazbling.ErrWrongKey) || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "run activate again") {
		t.Errorf("Tenant: %v", err)
	}
	if _, err := s.Tenants(ctx); !errors.Is(err, cazbling.ErrWrongKey) || !strings.Contains(err.Error(), `"acme"`) {
		t.Errorf("Tenants: %v", err)
	}
	if _, err := s.Token(ctx, "bolt"); !errors.Is(err, cazbling.ErrWrongKey) || !strings.Contains(err.Error(), `"bolt"`) {
		t.Errorf("Token: %v", err)
	}
	called := false
	_, err = s.UpdateToken(ctx, "bolt", func(c cazbling.Token) (cazbling.Token, error) { called = true; return c, nil })
	if !errors.Is(err, cazbling.ErrWrongKey) || called {
		t.Errorf("UpdateToken: %v (fn called: %v)", err, called)
	}
}
