package sandbox

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/cazbling/cazbling/pkg/sandbox/blingsim"
)

// API names used by faults and counters.
const (
	APIBling = "bling"
	APICazco = "cazco"
)

// Faults are failures injected in front of one API, decided with a seeded random
// source so that a run can be repeated. They are applied before the real handler, so a
// faulted request changes nothing, except OrderPostDelay, which delays the answer to a
// Bling order POST that was stored.
type Faults struct {
	ErrorRate      float64       // fraction of requests answered 500 with the API's error body
	Latency        time.Duration // added to every request
	LatencyJitter  time.Duration // up to this much more, at random
	MalformedRate  float64       // fraction answered 200 with a truncated JSON or an HTML body
	Burst429       int           // the next N requests get 429 with the API's body
	Burst5xx       int           // the next N requests (after any Burst429) get 503
	OrderPostDelay time.Duration // after a Bling order POST is stored, wait this long before replying
	Seed           int64         // of the random source
}

// faultsJSON is the wire form of Faults: snake_case, durations as Go duration text
// ("250ms") or integer nanoseconds.
type faultsJSON struct {
	ErrorRate      float64         `json:"error_rate"`
	Latency        json.RawMessage `json:"latency,omitempty"`
	LatencyJitter  json.RawMessage `json:"latency_jitter,omitempty"`
	MalformedRate  float64         `json:"malformed_rate"`
	Burst429       int             `json:"burst_429"`
	Burst5xx       int             `json:"burst_5xx"`
	OrderPostDelay json.RawMessage `json:"order_post_delay,omitempty"`
	Seed           int64           `json:"seed"`
}

// MarshalJSON writes f with durations as text.
func (f Faults) MarshalJSON() ([]byte, error) {
	dur := func(d time.Duration) json.RawMessage { return json.RawMessage(strconv.Quote(d.String())) }
	return json.Marshal(faultsJSON{ErrorRate: f.ErrorRate, Latency: dur(f.Latency), LatencyJitter: dur(f.LatencyJitter),
		MalformedRate: f.MalformedRate, Burst429: f.Burst429, Burst5xx: f.Burst5xx,
		OrderPostDelay: dur(f.OrderPostDelay), Seed: f.Seed})
}

// UnmarshalJSON reads f; durations may be text ("1.5s") or integer nanoseconds.
func (f *Faults) UnmarshalJSON(b []byte) error {
	var w faultsJSON
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	out := Faults{ErrorRate: w.ErrorRate, MalformedRate: w.MalformedRate, Burst429: w.Burst429, Burst5xx: w.Burst5xx, Seed: w.Seed}
	for _, d := range []struct {
		name string
		raw  json.RawMessage
		dst  *time.Duration
	}{{"latency", w.Latency, &out.Latency}, {"latency_jitter", w.LatencyJitter, &out.LatencyJitter}, {"order_post_delay", w.OrderPostDelay, &out.OrderPostDelay}} {
		v, err := parseDuration(d.raw)
		if err != nil {
			return fmt.Errorf("%s: %w", d.name, err)
		}
		*d.dst = v
	}
	if out.ErrorRate < 0 || out.ErrorRate > 1 || out.MalformedRate < 0 || out.MalformedRate > 1 {
		return fmt.Errorf("rates must be between 0 and 1")
	}
	if out.Burst429 < 0 || out.Burst5xx < 0 || out.Latency < 0 || out.LatencyJitter < 0 || out.OrderPostDelay < 0 {
		return fmt.Errorf("bursts and durations must not be negative")
	}
	*f = out
	return nil
}

func parseDuration(raw json.RawMessage) (time.Duration, error) {
	s := strings.TrimSpace(string(raw))
	if s == "" || s == "null" {
		return 0, nil
	}
	if s[0] == '"' {
		var text string
		if err := json.Unmarshal(raw, &text); err != nil {
			return 0, err
		}
		return time.ParseDuration(text)
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("want a duration like \"250ms\" or nanoseconds: %w", err)
	}
	return time.Duration(n), nil
}

// faultState is the live fault configuration of one API.
type faultState struct {
	faults    Faults
	rng       *rand.Rand
	burst429  int
	burst5xx  int
	requestID int64
}

// SetFaults replaces the faults of api ("bling" or "cazco") and reseeds its random
// source. The zero Faults turns injection off.
func (sb *Sandbox) SetFaults(api string, f Faults) error {
	sb.mu.Lock()
	defer sb.mu.Unlock()
	st, ok := sb.faults[api]
	if !ok {
		return fmt.Errorf("unknown api %q: want bling or cazco", api)
	}
	st.faults = f
	st.rng = rand.New(rand.NewPCG(uint64(f.Seed), uint64(f.Seed)^0x9e3779b97f4a7c15))
	st.burst429, st.burst5xx = f.Burst429, f.Burst5xx
	return nil
}

// Faults returns the faults of api as last set (bursts show their configured size).
func (sb *Sandbox) Faults(api string) Faults {
	sb.mu.Lock()
	defer sb.mu.Unlock()
	if st, ok := sb.faults[api]; ok {
		return st.faults
	}
	return Faults{}
}

type faultKind int

const (
	faultNone faultKind = iota
	fault429
	fault503
	fault500
	faultTruncated
	faultHTML
)

// decide picks the fate of one request of api.
func (sb *Sandbox) decide(api string) (delay time.Duration, kind faultKind, requestID string) {
	sb.mu.Lock()
	defer sb.mu.Unlock()
	st := sb.faults[api]
	f := st.faults
	delay = f.Latency
	if f.LatencyJitter > 0 {
		delay += time.Duration(st.rng.Int64N(int64(f.LatencyJitter) + 1))
	}
	switch {
	case st.burst429 > 0:
		st.burst429--
		kind = fault429
	case st.burst5xx > 0:
		st.burst5xx--
		kind = fault503
	case f.ErrorRate > 0 && st.rng.Float64() < f.ErrorRate:
		kind = fault500
	case f.MalformedRate > 0 && st.rng.Float64() < f.MalformedRate:
		kind = faultTruncated
		if st.rng.IntN(2) == 1 {
			kind = faultHTML
		}
	}
	if kind != faultNone {
		st.requestID++
		requestID = fmt.Sprintf("sandbox-fault-%06d", st.requestID)
	}
	return delay, kind, requestID
}

// writeFault answers a request with an injected failure in the API's own shape.
func writeFault(w http.ResponseWriter, api string, kind faultKind, requestID string) {
	h := w.Header()
	switch kind {
	case faultTruncated:
		h.Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte(`{"data":[{"id":16000001234,"nome":"Camiseta Alg`))
		return
	case faultHTML:
		h.Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte("<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1><p>The upstream server is temporarily unavailable.</p></body></html>"))
		return
	}
	h.Set("Content-Type", "application/json")
	status := map[faultKind]int{fault429: http.StatusTooManyRequests, fault503: http.StatusServiceUnavailable, fault500: http.StatusInternalServerError}[kind]
	var body []byte
	if api == APIBling {
		switch kind {
		case fault429:
			body = blingsim.TooManyRequestsBody(3, "second")
		case fault503:
			body = blingsim.ErrorBody(blingsim.TypeServerError, "Serviço indisponível", "O serviço está temporariamente indisponível, tente novamente.")
		default:
			body = blingsim.ErrorBody(blingsim.TypeServerError, "Erro interno", "Ocorreu um erro inesperado no servidor.")
		}
	} else {
		code, msg := "internal_error", "Server Error."
		switch kind {
		case fault429:
			code, msg = "rate_limited", "Too Many Attempts."
			h.Set("Retry-After", "1")
			h.Set("X-RateLimit-Remaining", "0")
		case fault503:
			code, msg = "unavailable", "Service temporarily unavailable."
			h.Set("Retry-After", "1")
		}
		h.Set("X-Request-Id", requestID)
		body, _ = json.Marshal(map[string]any{"code": code, "message": msg, "errors": map[string]any{}, "request_id": requestID})
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// withFaults wraps the handler of api with fault injection and counting.
func (sb *Sandbox) withFaults(api string, routes routeMatcher, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		method, route := routes.route(r)
		sb.noteArrival(api, sb.now())
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		defer func() {
			sb.count(api, method, route, rec.status)
			sb.opts.Logger.Debug("sandbox request", "api", api, "method", method, "route", route, "status", rec.status)
		}()

		delay, kind, requestID := sb.decide(api)
		if delay > 0 {
			t := time.NewTimer(delay)
			select {
			case <-t.C:
			case <-r.Context().Done():
				t.Stop()
				rec.status = 499 // client went away; nothing written
				return
			}
		}
		if kind != faultNone {
			writeFault(rec, api, kind, requestID)
			return
		}
		h.ServeHTTP(rec, r)
	})
}

// orderCommitted is Bling's OrderCommitted hook: it applies OrderPostDelay.
func (sb *Sandbox) orderCommitted(clientID string, id int64) {
	sb.mu.Lock()
	d := sb.faults[APIBling].faults.OrderPostDelay
	sb.mu.Unlock()
	if d > 0 {
		sb.opts.Logger.Debug("sandbox: delaying the answer to a stored order", "client_id", clientID, "id", id, "delay", d)
		time.Sleep(d)
	}
}
