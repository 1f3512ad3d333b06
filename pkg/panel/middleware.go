package panel

import (
	"context"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

type ctxKey int

const requestInfoKey ctxKey = 1

// requestInfo is what the access log line needs that handlers learn (the tenant).
type requestInfo struct{ tenant string }

// statusWriter remembers the status a handler wrote.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// middleware adds the security headers, caps bodies, checks Origin on POSTs and
// logs each request (method, path without secrets, status, duration, tenant).
func (s *Server) middleware(next http.Handler) http.Handler {
	csp := "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors " + s.frameAncestors()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := s.cfg.Now()
		info := &requestInfo{}
		r = r.WithContext(context.WithValue(r.Context(), requestInfoKey, info))
		sw := &statusWriter{ResponseWriter: w}
		h := sw.Header()
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		if len(s.cfg.FrameAncestors) == 0 {
			h.Set("X-Frame-Options", "DENY")
		}
		if s.secure {
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		r.Body = http.MaxBytesReader(sw, r.Body, MaxBodyBytes)
		defer func() {
			if p := recover(); p != nil {
				s.cfg.Logger.Error("panel handler panicked", "path", logPath(r), "panic", p)
				if sw.status == 0 {
					s.page(sw, r, http.StatusInternalServerError, msgInternal)
				}
			}
			status := sw.status
			if status == 0 {
				status = http.StatusOK
			}
			s.cfg.Logger.Info("request", "method", r.Method, "path", logPath(r), "status", status,
				"duration", s.cfg.Now().Sub(start).Round(time.Microsecond), "tenant", info.tenant)
		}()
		if r.Method == http.MethodPost && !s.sameOrigin(r) {
			s.page(sw, r, http.StatusForbidden, msgForbidden)
			return
		}
		next.ServeHTTP(sw, r)
	})
}

// frameAncestors is the CSP frame-ancestors source list.
func (s *Server) frameAncestors() string {
	if len(s.cfg.FrameAncestors) == 0 {
		return "'none'"
	}
	return strings.Join(s.cfg.FrameAncestors, " ")
}

// sameOrigin refuses a POST whose Origin header names another site; a POST without
// Origin (old browsers, curl) is left to the CSRF token.
func (s *Server) sameOrigin(r *http.Request) bool {
	o := r.Header.Get("Origin")
	return o == "" || strings.EqualFold(o, s.public.Scheme+"://"+s.public.Host)
}

// logPath is the request path as logged: an invite token is a secret, and queries
// (codes, states, sign-in tokens) are never logged.
func logPath(r *http.Request) string {
	p := r.URL.Path
	if strings.HasPrefix(p, "/invite/") {
		return "/invite/…"
	}
	if len(p) > 200 {
		p = p[:200] + "…"
	}
	return p
}

func setTenant(r *http.Request, tenant string) {
	if info, ok := r.Context().Value(requestInfoKey).(*requestInfo); ok {
		info.tenant = tenant
	}
}

// ipLimiter rate-limits sign-in attempts per client IP.
type ipLimiter struct {
	mu     sync.Mutex
	perMin int
	ips    map[string]*rate.Limiter
}

func newIPLimiter(perMin int) *ipLimiter {
	return &ipLimiter{perMin: perMin, ips: map[string]*rate.Limiter{}}
}

func (l *ipLimiter) allow(ip string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.ips) > 10000 { // forget everyone rather than grow without bound
		l.ips = map[string]*rate.Limiter{}
	}
	lim, ok := l.ips[ip]
	if !ok {
		lim = rate.NewLimiter(rate.Every(time.Minute/time.Duration(l.perMin)), l.perMin)
		l.ips[ip] = lim
	}
	return lim.Allow()
}

// clientIP is the request's peer, or, when the peer is the reverse proxy on loopback,
// the last address it put in X-Forwarded-For.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		if xff := r.Header.Get("X-Forwarded-For"); xff != "" {
			parts := strings.Split(xff, ",")
			if last := strings.TrimSpace(parts[len(parts)-1]); net.ParseIP(last) != nil {
				return last
			}
		}
	}
	return host
}
