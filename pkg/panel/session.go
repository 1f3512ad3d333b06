package panel

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"regexp"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/cazbling/cazbling/pkg/cazbling"
)

// TenantIDPattern is what a tenant id looks like (as `activate` accepts it).
var TenantIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// NewToken returns a random URL-safe token of 256 bits.
func NewToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand since Go 1.24)
	return base64.RawURLEncoding.EncodeToString(b)
}

// session is the signed-in seller of a request.
type session struct {
	token  string // the cookie's value (never stored: the store has its hash)
	tenant string
}

// csrf is the session's CSRF token: derived from the session's own secret, so that it
// is tied to the session, needs no storage, and tells nothing about the cookie.
func (ss session) csrf() string {
	m := hmac.New(sha256.New, []byte(ss.token))
	m.Write([]byte("cazbling panel csrf"))
	return hex.EncodeToString(m.Sum(nil))
}

type sessionHandler func(w http.ResponseWriter, r *http.Request, ss session)

// withSession runs h for a request with a live session; every POST must carry the
// session's csrf_token (403 and nothing changed otherwise). Without a session a page
// says how to get in.
func (s *Server) withSession(h sessionHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		c, err := r.Cookie(sessionCookie)
		if err != nil || c.Value == "" || len(c.Value) > 100 {
			s.page(w, r, http.StatusUnauthorized, msgNoSession)
			return
		}
		tenant, err := s.cfg.Store.Session(r.Context(), c.Value, SessionIdle)
		if errors.Is(err, cazbling.ErrNotFound) {
			s.clearCookie(w)
			s.page(w, r, http.StatusUnauthorized, msgNoSession)
			return
		}
		if err != nil {
			s.fail(w, r, "read session", err)
			return
		}
		ss := session{token: c.Value, tenant: tenant}
		setTenant(r, tenant)
		if r.Method == http.MethodPost {
			if err := r.ParseForm(); err != nil {
				s.formError(w, r, err)
				return
			}
			got := r.PostForm.Get(csrfField)
			if got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(ss.csrf())) != 1 {
				s.page(w, r, http.StatusForbidden, msgForbidden)
				return
			}
		}
		h(w, r, ss)
	}
}

// formError answers a form that could not be read: too big, or malformed.
func (s *Server) formError(w http.ResponseWriter, r *http.Request, err error) {
	var mb *http.MaxBytesError
	if errors.As(err, &mb) {
		s.page(w, r, http.StatusRequestEntityTooLarge, msgTooLarge)
		return
	}
	s.page(w, r, http.StatusBadRequest, msgBadRequest)
}

// startSession makes a session for tenant, sets its cookie and sends the browser home.
func (s *Server) startSession(w http.ResponseWriter, r *http.Request, tenant string) {
	token := NewToken()
	if err := s.cfg.Store.CreateSession(r.Context(), token, tenant, SessionIdle); err != nil {
		s.fail(w, r, "create session", err)
		return
	}
	setTenant(r, tenant)
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookie, Value: token, Path: "/", HttpOnly: true, Secure: s.secure,
		SameSite: http.SameSiteLaxMode, MaxAge: int(SessionIdle / time.Second),
	})
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

func (s *Server) clearCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", HttpOnly: true,
		Secure: s.secure, SameSite: http.SameSiteLaxMode, MaxAge: -1})
}

// invite redeems an invite link: once, before it expires.
func (s *Server) invite(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	if !s.limiter.allow(clientIP(r)) {
		s.page(w, r, http.StatusTooManyRequests, msgTooMany)
		return
	}
	token := r.PathValue("token")
	if len(token) < 20 || len(token) > 100 {
		s.page(w, r, http.StatusNotFound, msgInviteInvalid)
		return
	}
	tenant, err := s.cfg.Store.UseInvite(r.Context(), token)
	if errors.Is(err, cazbling.ErrNotFound) {
		s.page(w, r, http.StatusNotFound, msgInviteInvalid)
		return
	}
	if err != nil {
		s.fail(w, r, "use invite", err)
		return
	}
	s.startSession(w, r, tenant)
}

// sso signs a seller in with CaZco's HS256 token: sub is the tenant, exp at most
// MaxSSOAhead ahead, jti used once.
func (s *Server) sso(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	if len(s.cfg.SSOSecret) == 0 {
		s.page(w, r, http.StatusNotFound, msgNotFound)
		return
	}
	if !s.limiter.allow(clientIP(r)) {
		s.page(w, r, http.StatusTooManyRequests, msgTooMany)
		return
	}
	raw := r.URL.Query().Get("token")
	if raw == "" || len(raw) > 4096 {
		s.page(w, r, http.StatusUnauthorized, msgSSOInvalid)
		return
	}
	now := s.cfg.Now()
	claims := &jwt.RegisteredClaims{}
	_, err := jwt.ParseWithClaims(raw, claims, func(*jwt.Token) (any, error) { return s.cfg.SSOSecret, nil },
		jwt.WithValidMethods([]string{"HS256"}), jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(func() time.Time { return now }), jwt.WithLeeway(30*time.Second))
	if err != nil {
		s.cfg.Logger.Info("sign-in token refused", "reason", err)
		s.page(w, r, http.StatusUnauthorized, msgSSOInvalid)
		return
	}
	exp := claims.ExpiresAt.Time
	if exp.Sub(now) > MaxSSOAhead || claims.ID == "" || len(claims.ID) > 200 || !TenantIDPattern.MatchString(claims.Subject) {
		s.cfg.Logger.Info("sign-in token refused", "reason", "exp too far ahead, or no jti, or a bad sub")
		s.page(w, r, http.StatusUnauthorized, msgSSOInvalid)
		return
	}
	fresh, err := s.cfg.Store.UseJTI(r.Context(), claims.ID, exp.Add(time.Minute))
	if err != nil {
		s.fail(w, r, "record jti", err)
		return
	}
	if !fresh {
		s.cfg.Logger.Info("sign-in token refused", "reason", "jti used before")
		s.page(w, r, http.StatusUnauthorized, msgSSOInvalid)
		return
	}
	if _, err := s.cfg.Store.Tenant(r.Context(), claims.Subject); errors.Is(err, cazbling.ErrNotFound) {
		// A seller CaZco sends in for the first time is registered as invited.
		if _, err := s.cfg.Store.InviteTenant(r.Context(), claims.Subject, NewToken(), now); err != nil {
			s.fail(w, r, "register tenant", err)
			return
		}
	} else if err != nil {
		s.fail(w, r, "read tenant", err)
		return
	}
	s.startSession(w, r, claims.Subject)
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request, ss session) {
	if err := s.cfg.Store.DeleteSession(r.Context(), ss.token); err != nil {
		s.fail(w, r, "delete session", err)
		return
	}
	s.clearCookie(w)
	s.page(w, r, http.StatusOK, msgLoggedOut)
}
