package bling

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cazbling/cazbling/pkg/cazbling"
)

func TestExchangeCode(t *testing.T) {
	f := newFake(t, "unused", "unused")
	sl := &sleeps{}
	o := testOptions(f, nil, sl)
	tok, err := ExchangeCode(context.Background(), o, "good-code")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(tok.AccessToken, "access-1-") || tok.RefreshToken != "refresh-1-rotated" {
		t.Errorf("token = %q / %q", tok.AccessToken[:12], tok.RefreshToken)
	}
	if want := testNow.Add(21600 * time.Second); !tok.Expiry.Equal(want) {
		t.Errorf("expiry = %v, want %v", tok.Expiry, want)
	}
	reqs := f.requests("POST", "/oauth/token")
	if len(reqs) != 1 {
		t.Fatalf("%d token requests", len(reqs))
	}
	r := reqs[0]
	form, err := url.ParseQuery(string(r.Body))
	if err != nil {
		t.Fatal(err)
	}
	if form.Get("grant_type") != "authorization_code" || form.Get("code") != "good-code" {
		t.Errorf("form = %v", form)
	}
	if strings.Contains(string(r.Body), testClientSecret) || form.Has("client_secret") {
		t.Errorf("client secret in the body: %s", r.Body)
	}
	if got := r.Header.Get("Authorization"); !strings.HasPrefix(got, "Basic ") {
		t.Errorf("Authorization = %q", got)
	}

	// A spent or bad code.
	_, err = ExchangeCode(context.Background(), o, "used-code")
	if cazbling.KindOf(err) != cazbling.KindInvalidGrant {
		t.Errorf("bad code: kind %q (%v)", cazbling.KindOf(err), err)
	}
	// Wrong client secret: invalid_client → unauthorized.
	o.ClientSecret = "wrong"
	_, err = ExchangeCode(context.Background(), o, "good-code")
	if cazbling.KindOf(err) != cazbling.KindUnauthorized {
		t.Errorf("bad client: kind %q (%v)", cazbling.KindOf(err), err)
	}
}

func TestTokenCallNotRepeatedAfter5xx(t *testing.T) {
	f := newFake(t, "unused", "refresh-0")
	f.tokenHook = func(w http.ResponseWriter, r recorded) { writeJSON(w, 503, `{"error":{"type":"SERVER_ERROR"}}`) }
	_, err := RefreshToken(context.Background(), testOptions(f, nil, &sleeps{}), "refresh-0")
	if cazbling.KindOf(err) != cazbling.KindServer {
		t.Errorf("kind %q (%v)", cazbling.KindOf(err), err)
	}
	if n := len(f.requests("POST", "/oauth/token")); n != 1 {
		t.Errorf("%d token requests, want 1 (a refresh rotates the token: never repeat it blindly)", n)
	}
}

func TestRefreshWhenExpired(t *testing.T) {
	c, f, store, _ := newTestClient(t)
	serveCompany(f)
	store.tok.Expiry = testNow.Add(2 * time.Minute) // inside the 5-minute margin
	if _, err := c.Company(context.Background()); err != nil {
		t.Fatal(err)
	}
	tokReqs := f.requests("POST", "/oauth/token")
	if len(tokReqs) != 1 {
		t.Fatalf("%d token requests, want 1", len(tokReqs))
	}
	form, _ := url.ParseQuery(string(tokReqs[0].Body))
	if form.Get("grant_type") != "refresh_token" || form.Get("refresh_token") != "refresh-0" {
		t.Errorf("refresh form = %v", form)
	}
	saved := store.current()
	if saved.RefreshToken != "refresh-1-rotated" || !strings.HasPrefix(saved.AccessToken, "access-1-") {
		t.Errorf("store not updated: %q", saved.RefreshToken)
	}
	api := f.requests("GET", "/empresas/me/dados-basicos")
	if len(api) != 1 || api[0].Header.Get("Authorization") != "Bearer "+saved.AccessToken {
		t.Errorf("API call did not use the new token")
	}
	// The next call uses the token in memory: no store read, no refresh.
	reads := 0
	store.afterRead = func() { reads++ }
	if _, err := c.Company(context.Background()); err != nil {
		t.Fatal(err)
	}
	if reads != 0 || f.tokensIssued() != 1 {
		t.Errorf("second call: %d store reads, %d tokens issued", reads, f.tokensIssued())
	}
}

func TestRefreshOn401ThenSuccess(t *testing.T) {
	c, f, store, _ := newTestClient(t)
	serveCompany(f)
	// The stored token looks valid but Bling revoked it.
	f.mu.Lock()
	delete(f.validAccess, "access-0")
	f.mu.Unlock()
	if _, err := c.Company(context.Background()); err != nil {
		t.Fatal(err)
	}
	api := f.requests("GET", "/empresas/me/dados-basicos")
	if len(api) != 2 {
		t.Fatalf("%d API requests, want 2", len(api))
	}
	if api[0].Header.Get("Authorization") != "Bearer access-0" || api[1].Header.Get("Authorization") != "Bearer "+store.current().AccessToken {
		t.Errorf("retry did not use the refreshed token")
	}
	if f.tokensIssued() != 1 {
		t.Errorf("%d refreshes, want 1", f.tokensIssued())
	}
}

func TestRefreshOn401OnlyOnce(t *testing.T) {
	c, f, _, _ := newTestClient(t)
	// Bling refuses every token, even fresh ones.
	f.handle("GET /empresas/me/dados-basicos", func(w http.ResponseWriter, r recorded) {
		writeJSON(w, 401, `{"error":{"type":"invalid_token","message":"invalid_token","description":"The access token provided is invalid"}}`)
	})
	_, err := c.Company(context.Background())
	if cazbling.KindOf(err) != cazbling.KindUnauthorized {
		t.Fatalf("kind %q (%v)", cazbling.KindOf(err), err)
	}
	if n := len(f.requests("GET", "/empresas/me/dados-basicos")); n != 2 {
		t.Errorf("%d API requests, want 2", n)
	}
	if f.tokensIssued() != 1 {
		t.Errorf("%d refreshes, want 1", f.tokensIssued())
	}
}

func TestTwoClientsShareOneRefresh(t *testing.T) {
	f := newFake(t, "access-0", "refresh-0")
	serveCompany(f)
	store := &memStore{tok: cazbling.Token{AccessToken: "access-0", RefreshToken: "refresh-0", Expiry: testNow.Add(-time.Minute)}}
	// Both clients must read the expired pair before either refreshes.
	var arrived sync.WaitGroup
	arrived.Add(2)
	var once sync.Once
	release := make(chan struct{})
	store.afterRead = func() {
		arrived.Done()
		once.Do(func() {
			go func() { arrived.Wait(); close(release) }()
		})
		select {
		case <-release:
		case <-time.After(5 * time.Second):
			t.Error("the second client never read the store")
		}
	}
	var clients []*Client
	for range 2 {
		c, err := New(testOptions(f, store, &sleeps{}))
		if err != nil {
			t.Fatal(err)
		}
		clients = append(clients, c)
	}
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = c.Company(context.Background())
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if f.tokensIssued() != 1 {
		t.Errorf("%d refreshes, want exactly 1", f.tokensIssued())
	}
	if store.updates != 2 || store.saves != 2 {
		t.Errorf("store: %d updates, %d saves", store.updates, store.saves)
	}
	api := f.requests("GET", "/empresas/me/dados-basicos")
	if len(api) != 2 || api[0].Header.Get("Authorization") != api[1].Header.Get("Authorization") {
		t.Errorf("both clients should use the one new token")
	}
}

func TestInvalidGrant(t *testing.T) {
	c, f, store, _ := newTestClient(t)
	serveCompany(f)
	store.tok.Expiry = testNow.Add(-time.Hour)
	f.mu.Lock()
	f.refresh = "someone-else-rotated-it"
	f.mu.Unlock()
	_, err := c.Company(context.Background())
	var ae *cazbling.APIError
	if !errors.As(err, &ae) || ae.Kind != cazbling.KindInvalidGrant {
		t.Fatalf("err = %v", err)
	}
	if ae.Message != reauthorizeMessage {
		t.Errorf("message = %q", ae.Message)
	}
	if !strings.Contains(err.Error(), "cazbling activate") {
		t.Errorf("error does not say how to fix it: %v", err)
	}
	if strings.Contains(err.Error(), "refresh-0") || strings.Contains(err.Error(), testClientSecret) {
		t.Errorf("secret in error: %v", err)
	}
	if store.current().RefreshToken != "refresh-0" || store.saves != 0 {
		t.Errorf("a failed refresh must not change the store")
	}
	if n := len(f.requests("GET", "/empresas/me/dados-basicos")); n != 0 {
		t.Errorf("%d API calls without a token", n)
	}
}

func TestAuthorizeURL(t *testing.T) {
	tests := []struct{ base, want string }{
		{"https://api.bling.com.br/Api/v3", "https://www.bling.com.br/Api/v3/oauth/authorize?response_type=code&client_id=cid&state=s+1%2F2"},
		{"https://bling.com.br/Api/v3", "https://www.bling.com.br/Api/v3/oauth/authorize?response_type=code&client_id=cid&state=s+1%2F2"},
		{"http://127.0.0.1:8080/Api/v3/", "http://127.0.0.1:8080/Api/v3/oauth/authorize?response_type=code&client_id=cid&state=s+1%2F2"},
	}
	for _, tt := range tests {
		if got := AuthorizeURL(tt.base, "cid", "s 1/2"); got != tt.want {
			t.Errorf("AuthorizeURL(%q) = %q, want %q", tt.base, got, tt.want)
		}
	}
}
