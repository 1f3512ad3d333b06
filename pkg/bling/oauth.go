package bling

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/cazbling/cazbling/pkg/cazbling"
	"github.com/cazbling/cazbling/pkg/httpx"
)

// defaultTokenLifetime is assumed when a token answer has no usable expires_in (Bling
// documents 6 h); a token that dies earlier is refreshed on its first 401.
const defaultTokenLifetime = 6 * time.Hour

const tokenOp = "POST /oauth/token"

// AuthorizeURL returns the page where the seller authorizes the app. For Bling's real
// API (api.bling.com.br or bling.com.br) that is Bling's own authorize page; for any
// other base (the sandbox) it is <base>/oauth/authorize.
func AuthorizeURL(baseURL, clientID, state string) string {
	q := "response_type=code&client_id=" + url.QueryEscape(clientID) + "&state=" + url.QueryEscape(state)
	if u, err := url.Parse(baseURL); err == nil {
		switch strings.ToLower(u.Hostname()) {
		case "api.bling.com.br", "bling.com.br", "www.bling.com.br":
			return "https://www.bling.com.br/Api/v3/oauth/authorize?" + q
		}
	}
	return strings.TrimRight(baseURL, "/") + "/oauth/authorize?" + q
}

// ExchangeCode trades an authorization code for the first token pair. A code works
// once: it is never re-sent after a 5xx or a network error.
func ExchangeCode(ctx context.Context, o Options, code string) (cazbling.Token, error) {
	if strings.TrimSpace(code) == "" {
		return cazbling.Token{}, errors.New("bling: an authorization code is required")
	}
	form := url.Values{"grant_type": {"authorization_code"}, "code": {strings.TrimSpace(code)}}
	return tokenCall(ctx, o, form, codeRefusedMessage)
}

// RefreshToken trades a refresh token for a new pair. Bling rotates the refresh token:
// the old one dies, so the caller must save the new pair before using it (see
// TokenStore.UpdateToken). It is never re-sent after a 5xx or a network error.
func RefreshToken(ctx context.Context, o Options, refreshToken string) (cazbling.Token, error) {
	if refreshToken == "" {
		return cazbling.Token{}, &cazbling.APIError{API: "bling", Op: tokenOp, Kind: cazbling.KindInvalidGrant, Message: reauthorizeMessage}
	}
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refreshToken}}
	return tokenCall(ctx, o, form, reauthorizeMessage)
}

type tokenAnswer struct {
	AccessToken  string   `json:"access_token"`
	ExpiresIn    jsonID   `json:"expires_in"`
	TokenType    jsonText `json:"token_type"`
	Scope        jsonText `json:"scope"`
	RefreshToken string   `json:"refresh_token"`
}

// tokenCall POSTs form to <base>/oauth/token with the client's Basic credentials.
func tokenCall(ctx context.Context, o Options, form url.Values, invalidGrant string) (cazbling.Token, error) {
	base, err := checkOptions(o)
	if err != nil {
		return cazbling.Token{}, err
	}
	h := http.Header{}
	h.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(o.ClientID+":"+o.ClientSecret)))
	h.Set("enable-jwt", "1")
	h.Set("Accept", "application/json")
	h.Set("Content-Type", "application/x-www-form-urlencoded")
	h.Set("User-Agent", userAgent)
	hc := &httpx.Client{
		HTTP:            o.httpClient(),
		Limiters:        []httpx.Limiter{&httpx.Gate{Windows: []*httpx.Window{o.IPWindow, o.TokenWindow}}}, // the IP window first, as in New
		MaxAttempts:     o.MaxAttempts,
		InitialInterval: o.InitialInterval,
		MaxInterval:     o.MaxInterval,
		// Nothing is retried: Bling blocks an IP for an hour after 20 token calls in a
		// minute (a 429 here), and a refresh whose answer was lost may have rotated the
		// token already (a second try would only get invalid_grant).
		Classify: func(*httpx.Response) httpx.Verdict { return httpx.Verdict{} },
		Observe:  o.Observe,
		// No httpx logger: its debug line cuts bodies at 2 KiB before redacting, which can
		// leave part of a 3,000-character JWT unredacted. We log our own line below.
		Sleep: o.Sleep,
	}
	start := time.Now()
	resp, err := hc.Do(ctx, httpx.Request{Method: http.MethodPost, URL: base + "/oauth/token", Header: h, Body: []byte(form.Encode())})
	if err != nil {
		return cazbling.Token{}, networkError(tokenOp, err)
	}
	o.logger().Debug("http", "method", http.MethodPost, "url", base+"/oauth/token", "status", resp.Status,
		"took", time.Since(start).Round(time.Millisecond), "grant_type", form.Get("grant_type"))
	if resp.Status >= 400 {
		return cazbling.Token{}, tokenError(resp, invalidGrant, o.now())
	}
	var ans tokenAnswer
	if err := json.Unmarshal(resp.Body, &ans); err != nil || ans.AccessToken == "" || resp.Status >= 300 {
		// Never echo this body: it may hold tokens cut where redaction cannot see them.
		return cazbling.Token{}, &cazbling.APIError{API: "bling", Op: tokenOp, Status: resp.Status, Kind: cazbling.KindMalformed,
			Message: "the token answer is not the JSON expected (no access_token); if this was a refresh, the old refresh token may be spent"}
	}
	if tt := strings.TrimSpace(string(ans.TokenType)); tt != "" && !strings.EqualFold(tt, "bearer") {
		o.logger().Warn("bling token of an unexpected type", "token_type", httpx.RedactString(excerpt([]byte(tt), 40)))
	}
	life := time.Duration(ans.ExpiresIn) * time.Second
	if ans.ExpiresIn <= 0 || ans.ExpiresIn > 366*24*3600 {
		life = defaultTokenLifetime
	}
	t := cazbling.Token{AccessToken: ans.AccessToken, RefreshToken: ans.RefreshToken, Expiry: o.now().Add(life)}
	if t.RefreshToken == "" && form.Get("grant_type") == "refresh_token" {
		// Bling always rotates; if it did not send one, the old one is all we have.
		t.RefreshToken = form.Get("refresh_token")
	}
	return t, nil
}

// tokenError classifies an error answer of the token endpoint.
func tokenError(resp *httpx.Response, invalidGrant string, now time.Time) *cazbling.APIError {
	e := newAPIError(tokenOp, resp, now)
	e.Kind = tokenErrorKind(resp.Status, parseErrorBody(resp.Body))
	if e.Kind == cazbling.KindInvalidGrant {
		e.Message = invalidGrant
	}
	return e
}
