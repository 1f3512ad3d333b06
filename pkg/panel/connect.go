package panel

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/cazbling/cazbling/pkg/cazbling"
)

// syncProgress is an initial sync running in this process.
type syncProgress struct {
	done, total int
}

// postCazco checks the CaZco URL and key live and stores them (the key encrypted).
func (s *Server) postCazco(w http.ResponseWriter, r *http.Request, ss session) {
	t, ok := s.tenant(w, r, ss)
	if !ok {
		return
	}
	rawURL := strings.TrimRight(strings.TrimSpace(r.PostForm.Get("cazco_url")), "/")
	key := strings.TrimSpace(r.PostForm.Get("cazco_api_key"))
	form := cazcoForm{URL: rawURL}
	switch {
	case rawURL == "" || key == "":
		form.Error = msgCazcoMissing
	case len(rawURL) > 300 || len(key) > 500:
		form.Error = msgCazcoTooLong
	case !validBaseURL(rawURL):
		form.Error = msgCazcoURL
	}
	if form.Error == "" {
		products, err := s.cfg.Connector.CheckCazco(r.Context(), t.ID, rawURL, key)
		if err != nil {
			s.cfg.Logger.Info("CaZco refused the seller's settings", "tenant", t.ID, "err", err)
			form.Error, form.Reason = msgCazcoRefused, redactKey(err.Error(), key)
		} else {
			t.CazcoURL, t.CazcoAPIKey = rawURL, key
			if t.Status == "" {
				t.Status = cazbling.TenantInvited
			}
			if err := s.cfg.Store.UpsertTenant(r.Context(), t, nil); err != nil {
				s.fail(w, r, "save CaZco settings", err)
				return
			}
			s.cfg.Logger.Info("CaZco connected in the panel", "tenant", t.ID, "products", products)
			http.Redirect(w, r, "/", http.StatusSeeOther)
			return
		}
	}
	s.renderHome(w, r, ss, t, http.StatusUnprocessableEntity, &form, "")
}

// connect sends the browser to Bling's authorize page with a fresh state bound to
// this session.
func (s *Server) connect(w http.ResponseWriter, r *http.Request, ss session) {
	t, ok := s.tenant(w, r, ss)
	if !ok {
		return
	}
	if t.CazcoURL == "" || t.CazcoAPIKey == "" {
		s.renderHome(w, r, ss, t, http.StatusConflict, nil, msgCazcoFirst)
		return
	}
	state := NewToken()
	if err := s.cfg.Store.SaveOAuthState(r.Context(), state, ss.token, s.cfg.Now().Add(StateTTL)); err != nil {
		s.fail(w, r, "save oauth state", err)
		return
	}
	http.Redirect(w, r, s.cfg.Connector.AuthorizeURL(state), http.StatusSeeOther)
}

// callback is the Bling app's redirect URI: the state must be this session's (once,
// within StateTTL); the code is exchanged at once, the tenant made active and its
// initial sync started.
func (s *Server) callback(w http.ResponseWriter, r *http.Request, ss session) {
	q := r.URL.Query()
	t, ok := s.tenant(w, r, ss)
	if !ok {
		return
	}
	if e := q.Get("error"); e != "" {
		// The seller refused, or Bling failed: nothing to store. The state is spent
		// if it is this session's, so that it cannot be replayed.
		_ = s.cfg.Store.UseOAuthState(r.Context(), q.Get("state"), ss.token)
		msg := msgBlingFailed
		if e == "access_denied" {
			msg = msgBlingDenied
		}
		s.renderHome(w, r, ss, t, http.StatusBadRequest, nil, msg)
		return
	}
	state, code := q.Get("state"), q.Get("code")
	if state == "" || len(state) > 100 {
		s.renderHome(w, r, ss, t, http.StatusBadRequest, nil, msgStateInvalid)
		return
	}
	if err := s.cfg.Store.UseOAuthState(r.Context(), state, ss.token); err != nil {
		if errors.Is(err, cazbling.ErrNotFound) {
			s.renderHome(w, r, ss, t, http.StatusBadRequest, nil, msgStateInvalid)
			return
		}
		s.fail(w, r, "use oauth state", err)
		return
	}
	if code == "" || len(code) > 2000 {
		s.renderHome(w, r, ss, t, http.StatusBadRequest, nil, msgCodeRefused)
		return
	}
	if t.CazcoURL == "" {
		s.renderHome(w, r, ss, t, http.StatusConflict, nil, msgCazcoFirst)
		return
	}
	initial, err := s.needsInitialSync(r.Context(), t)
	if err != nil {
		s.fail(w, r, "read cursors", err)
		return
	}
	company, err := s.cfg.Connector.ConnectBling(r.Context(), t.ID, code)
	if err != nil {
		s.cfg.Logger.Info("Bling connection failed in the panel", "tenant", t.ID, "err", err)
		msg := msgBlingVerify
		if errors.Is(err, ErrCodeRefused) {
			msg = msgCodeRefused
		}
		s.renderHome(w, r, ss, t, http.StatusBadGateway, nil, msg)
		return
	}
	s.cfg.Logger.Info("Bling connected in the panel", "tenant", t.ID, "company", company, "initial_sync", initial)
	if initial {
		s.startInitialSync(t.ID)
	}
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// needsInitialSync: a tenant whose catalogue was never walked to the end (new, or an
// interrupted walk) gets the full sync; a re-connected one keeps its cursors.
func (s *Server) needsInitialSync(ctx context.Context, t cazbling.Tenant) (bool, error) {
	_, found, err := s.cfg.Store.Cursor(ctx, t.ID, cazbling.StreamProductsCreated)
	return !found, err
}

// startInitialSync runs the tenant's initial sync in the background, unless one runs.
func (s *Server) startInitialSync(tenant string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, running := s.prog[tenant]; running || s.base.Err() != nil {
		return
	}
	p := &syncProgress{}
	s.prog[tenant] = p
	s.syncs.Add(1)
	go func() {
		defer s.syncs.Done()
		err := s.cfg.Connector.InitialSync(s.base, tenant, func(done, total int) {
			s.mu.Lock()
			p.done, p.total = done, total
			s.mu.Unlock()
		})
		if err != nil {
			s.cfg.Logger.Warn("initial sync ended early; the next sync-products resumes it", "tenant", tenant, "err", err)
		}
		s.mu.Lock()
		delete(s.prog, tenant)
		s.mu.Unlock()
	}()
}

// initialSync says where the tenant's initial sync stands.
func (s *Server) initialSync(ctx context.Context, t cazbling.Tenant, runs map[string]cazbling.Run) (state string, done, total int, err error) {
	s.mu.Lock()
	p, running := s.prog[t.ID]
	if running {
		done, total = p.done, p.total
	}
	s.mu.Unlock()
	if running {
		return "running", done, total, nil
	}
	if t.Status == cazbling.TenantInvited || t.Status == "" {
		return "not_started", 0, 0, nil
	}
	_, found, err := s.cfg.Store.Cursor(ctx, t.ID, cazbling.StreamProductsCreated)
	if err != nil {
		return "", 0, 0, err
	}
	if found {
		return "done", 0, 0, nil
	}
	if r, ok := runs[cazbling.FlowActivate]; ok && r.FinishedAt.IsZero() && s.cfg.Now().Sub(r.StartedAt) < time.Hour {
		return "running", 0, 0, nil // another process (activate) is at it
	}
	return "pending", 0, 0, nil // interrupted: the next sync-products finishes it
}

// tenant reads the session's tenant.
func (s *Server) tenant(w http.ResponseWriter, r *http.Request, ss session) (cazbling.Tenant, bool) {
	t, err := s.cfg.Store.Tenant(r.Context(), ss.tenant)
	if err != nil {
		s.fail(w, r, "read tenant", err)
		return t, false
	}
	return t, true
}

// validBaseURL: an absolute https URL, or http on loopback, without query or
// credentials.
func validBaseURL(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return false
	}
	return u.Scheme == "https" || u.Scheme == "http" && isLoopbackHost(u.Hostname())
}

// redactKey keeps a secret out of a reason shown on a page.
func redactKey(msg, key string) string {
	if key != "" {
		msg = strings.ReplaceAll(msg, key, "••••")
	}
	if len(msg) > 300 {
		msg = msg[:300] + "…"
	}
	return msg
}

func (s *Server) pause(w http.ResponseWriter, r *http.Request, ss session) {
	s.setStatus(w, r, ss, cazbling.TenantActive, cazbling.TenantPausedBySeller, "pausado pelo vendedor no painel")
}

func (s *Server) resume(w http.ResponseWriter, r *http.Request, ss session) {
	s.setStatus(w, r, ss, cazbling.TenantPausedBySeller, cazbling.TenantActive, "")
}

// setStatus moves the tenant from one status to another; from any other status it
// changes nothing and says why.
func (s *Server) setStatus(w http.ResponseWriter, r *http.Request, ss session, from, to cazbling.TenantStatus, reason string) {
	t, ok := s.tenant(w, r, ss)
	if !ok {
		return
	}
	if t.Status != from {
		s.renderHome(w, r, ss, t, http.StatusConflict, nil, msgStatusConflict)
		return
	}
	if err := s.cfg.Store.SetTenantStatus(r.Context(), t.ID, to, time.Time{}, reason); err != nil {
		s.fail(w, r, "set status", err)
		return
	}
	http.Redirect(w, r, "/", http.StatusSeeOther)
}
