package blingsim

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html"
	"mime"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// tokenScope is what Bling puts in `scope`: the ids of the scopes the app was given.
const tokenScope = "98308 98309 98310 98313 98314 318257556 318257565 318257570 318257583 5990556 106168710"

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// IssueCode returns a fresh authorization code for clientID (valid 1 minute of sandbox
// time, single use), as if the seller had just authorized the app. It returns "" for an
// unknown client.
func (s *Sim) IssueCode(clientID string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.issueCodeLocked(clientID)
}

func (s *Sim) issueCodeLocked(clientID string) string {
	if s.accounts[clientID] == nil {
		return ""
	}
	code := randomHex(20)
	s.codes[code] = &grant{clientID: clientID, expires: s.now().Add(AuthorizationCodeTTL)}
	return code
}

// IssueRefreshToken returns a fresh refresh token for clientID (valid 30 days), or ""
// for an unknown client.
func (s *Sim) IssueRefreshToken(clientID string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.accounts[clientID] == nil {
		return ""
	}
	rt := randomHex(20)
	s.refresh[rt] = &grant{clientID: clientID, expires: s.now().Add(RefreshTokenTTL)}
	return rt
}

// handleAuthorize stands in for Bling's consent page: it approves at once and sends the
// browser to the redirect URI with a code and the state.
func (s *Sim) handleAuthorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("response_type") != "code" {
		writeError(w, http.StatusBadRequest, apiError{Type: "invalid_request", Message: "invalid_request",
			Description: "response_type deve ser code."})
		return
	}
	state := q.Get("state")
	if state == "" {
		writeError(w, http.StatusBadRequest, apiError{Type: "invalid_request", Message: "invalid_request",
			Description: "O parâmetro state é obrigatório."})
		return
	}
	s.mu.Lock()
	known := s.accounts[q.Get("client_id")] != nil
	target, consent := s.opts.RedirectURI, s.consent
	s.mu.Unlock()
	if !known {
		writeError(w, http.StatusBadRequest, apiError{Type: TypeInvalidClient, Message: "invalid_client",
			Description: "Aplicativo não encontrado."})
		return
	}
	decision := q.Get("decision")
	if consent && decision == "" {
		s.consentPage(w, q)
		return
	}
	if target == "" {
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		target = scheme + "://" + r.Host + "/Api/v3/oauth/callback"
	}
	u, err := url.Parse(target)
	if err != nil {
		writeError(w, http.StatusInternalServerError, apiError{Type: TypeServerError, Message: "redirect",
			Description: "URL de redirecionamento inválida."})
		return
	}
	v := u.Query()
	if decision == "deny" {
		// The seller refused: Bling sends the browser back with error=access_denied.
		v.Set("error", "access_denied")
		v.Set("error_description", "O usuário negou o acesso.")
	} else {
		s.mu.Lock()
		code := s.issueCodeLocked(q.Get("client_id"))
		s.mu.Unlock()
		v.Set("code", code)
	}
	v.Set("state", state)
	u.RawQuery = v.Encode()
	http.Redirect(w, r, u.String(), http.StatusFound)
}

// SetRedirectURI makes /oauth/authorize show a consent page (Autorizar / Negar) and
// then send the browser to uri, as Bling does with an app's registered redirect URI;
// "" goes back to approving at once and showing the code as text.
func (s *Sim) SetRedirectURI(uri string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.opts.RedirectURI, s.consent = uri, uri != ""
}

// consentPage stands in for Bling's "authorize this app?" page.
func (s *Sim) consentPage(w http.ResponseWriter, q url.Values) {
	link := func(decision string) string {
		v := url.Values{}
		for k, vs := range q {
			v[k] = vs
		}
		v.Set("decision", decision)
		return "?" + v.Encode()
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	fmt.Fprintf(w, `<!doctype html><html lang="pt-BR"><head><meta charset="utf-8"><title>Bling (sandbox): autorizar aplicativo</title></head>
<body><h1>Bling (sandbox)</h1><p>O aplicativo <strong>%s</strong> quer acessar a sua conta do Bling.</p>
<p><a id="allow" href="%s">Autorizar</a> &nbsp; <a id="deny" href="%s">Negar</a></p></body></html>`,
		html.EscapeString(q.Get("client_id")), html.EscapeString(link("allow")), html.EscapeString(link("deny")))
}

// handleCallback is the default redirect target: it shows the code for a person to paste.
func (s *Sim) handleCallback(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintf(w, "Bling sandbox: authorization code (valid 1 minute, single use):\n\n%s\n\nstate: %s\n",
		q.Get("code"), q.Get("state"))
}

type tokenReply struct {
	AccessToken  string `json:"access_token"`
	ExpiresIn    int    `json:"expires_in"`
	TokenType    string `json:"token_type"`
	Scope        string `json:"scope"`
	RefreshToken string `json:"refresh_token"`
}

func (s *Sim) handleToken(w http.ResponseWriter, r *http.Request) {
	jwt := r.Header.Get("enable-jwt") == "1"
	ip, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		ip = r.RemoteAddr
	}
	// Read the form before taking the lock: the body may be slow to arrive.
	formErr := parseTokenForm(r)

	s.mu.Lock()
	rep := s.token(r, ip, jwt, formErr)
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(rep.status)
	_, _ = w.Write(rep.body)
}

func parseTokenForm(r *http.Request) error {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct != "application/x-www-form-urlencoded" {
		return fmt.Errorf("Content-Type deve ser application/x-www-form-urlencoded")
	}
	r.Body = http.MaxBytesReader(nil, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		return fmt.Errorf("corpo da requisição inválido")
	}
	return nil
}

func oauthErr(status int, typ, desc string) reply {
	return errReply(status, apiError{Type: typ, Message: typ, Description: desc})
}

func (s *Sim) token(r *http.Request, ip string, jwt bool, formErr error) reply {
	s.stats.TokenCalls++
	if !jwt {
		s.stats.MissingJWTHeader++
	}
	now := s.now()
	if limit := s.tokenCallsPerMinute; limit > 0 {
		calls := slices.DeleteFunc(s.tokenCalls[ip], func(t time.Time) bool { return now.Sub(t) >= time.Minute })
		if len(calls) >= limit {
			s.tokenCalls[ip] = calls
			s.stats.TokenRateLimited++
			return errReply(http.StatusTooManyRequests, apiError{Type: TypeTooManyRequests,
				Message: "Limite de requisições atingido.", Description: "Limite de requisições ao endpoint de token atingido.",
				Limit: limit, Period: "minute"})
		}
		s.tokenCalls[ip] = append(calls, now)
	}

	id, secret, ok := r.BasicAuth()
	if !ok {
		return oauthErr(http.StatusUnauthorized, TypeInvalidClient, "Credenciais do aplicativo devem ser enviadas no cabeçalho Authorization (Basic).")
	}
	if formErr == nil && (r.PostForm.Has("client_secret") || r.PostForm.Has("client_id")) {
		return oauthErr(http.StatusUnauthorized, TypeInvalidClient, "Credenciais do aplicativo não devem ser enviadas no corpo da requisição.")
	}
	a := s.accounts[id]
	if a == nil || a.ClientSecret != secret {
		return oauthErr(http.StatusUnauthorized, TypeInvalidClient, "Credenciais do aplicativo inválidas.")
	}
	if formErr != nil {
		return oauthErr(http.StatusBadRequest, "invalid_request", formErr.Error())
	}
	invalidGrant := func(desc string) reply {
		s.stats.InvalidGrant++
		return oauthErr(http.StatusBadRequest, TypeInvalidGrant, desc)
	}
	switch gt := r.PostForm.Get("grant_type"); gt {
	case "authorization_code":
		code := r.PostForm.Get("code")
		g := s.codes[code]
		switch {
		case code == "" || g == nil || g.clientID != id:
			return invalidGrant("Código de autorização inválido.")
		case g.used:
			// Reusing a code revokes what it granted, as OAuth 2 and Bling do.
			s.revokeLocked(id)
			return invalidGrant("Código de autorização já utilizado.")
		case !now.Before(g.expires):
			return invalidGrant("Código de autorização expirado.")
		}
		g.used = true
	case "refresh_token":
		rt := r.PostForm.Get("refresh_token")
		g := s.refresh[rt]
		if rt == "" || g == nil || g.clientID != id {
			return invalidGrant("Refresh token inválido.")
		}
		delete(s.refresh, rt) // rotation: the old refresh token dies now
		if !now.Before(g.expires) {
			return invalidGrant("Refresh token expirado.")
		}
	case "":
		return oauthErr(http.StatusBadRequest, "invalid_request", "O parâmetro grant_type é obrigatório.")
	default:
		return oauthErr(http.StatusBadRequest, "unsupported_grant_type", "grant_type não suportado: "+gt)
	}
	access := randomHex(20)
	if jwt {
		access = fakeJWT(id, now, s.opts.TokenTTL)
	}
	refresh := randomHex(20)
	s.access[access] = &grant{clientID: id, expires: now.Add(s.opts.TokenTTL)}
	s.refresh[refresh] = &grant{clientID: id, expires: now.Add(RefreshTokenTTL)}
	return reply{status: http.StatusOK, body: mustJSON(tokenReply{
		AccessToken: access, ExpiresIn: int(s.opts.TokenTTL / time.Second), TokenType: "Bearer",
		Scope: tokenScope, RefreshToken: refresh,
	})}
}

// fakeJWT builds a JWT-shaped access token of about 3,000 characters, as Bling issues
// under `enable-jwt: 1`. It is not signed; the Sim looks it up like any other token.
func fakeJWT(clientID string, now time.Time, ttl time.Duration) string {
	enc := base64.RawURLEncoding
	header := enc.EncodeToString([]byte(`{"alg":"RS256","typ":"JWT"}`))
	scopes := strings.Fields(tokenScope)
	for len(scopes) < 180 {
		scopes = append(scopes, fmt.Sprintf("%d", 318257000+len(scopes)*7))
	}
	payload, _ := json.Marshal(map[string]any{
		"iss": "https://www.bling.com.br", "aud": clientID, "jti": randomHex(16),
		"iat": now.Unix(), "exp": now.Add(ttl).Unix(), "scopes": scopes,
	})
	sig := make([]byte, 256)
	_, _ = rand.Read(sig)
	return header + "." + enc.EncodeToString(payload) + "." + enc.EncodeToString(sig)
}
