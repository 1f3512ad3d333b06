package sandbox

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cazbling/cazbling/pkg/sandbox/blingsim"
)

// CounterRow is the number of requests of one API, method, route and status.
type CounterRow struct {
	API    string `json:"api"`
	Method string `json:"method"`
	Route  string `json:"route"` // e.g. "/produtos/{id}", "/products/{id}/stock"; "other" if unknown
	Status int    `json:"status"`
	Count  int    `json:"count"`
}

// Peak is the most requests one API saw in any 1 s and any 10 s window.
type Peak struct {
	PerSecond  int `json:"per_second"`
	Per10Secs  int `json:"per_10s"`
	TotalCalls int `json:"total"`
}

// Counters is a snapshot of what the sandbox served since the last reset.
type Counters struct {
	Requests []CounterRow    `json:"requests"` // sorted by api, route, method, status
	Peaks    map[string]Peak `json:"peaks"`    // by api
	Bling    blingsim.Stats  `json:"bling"`    // how clients behaved towards Bling
}

// Count sums the requests of api with method and route (each "" for any) and status
// (0 for any).
func (c Counters) Count(api, method, route string, status int) int {
	n := 0
	for _, r := range c.Requests {
		if (api == "" || r.API == api) && (method == "" || r.Method == method) &&
			(route == "" || r.Route == route) && (status == 0 || r.Status == status) {
			n += r.Count
		}
	}
	return n
}

type counterKey struct {
	api, method, route string
	status             int
}

// noteArrival records a request of api at now for the peak windows.
func (sb *Sandbox) noteArrival(api string, now time.Time) {
	sb.mu.Lock()
	defer sb.mu.Unlock()
	times := slices.DeleteFunc(sb.arrivals[api], func(t time.Time) bool { return now.Sub(t) >= 10*time.Second })
	times = append(times, now)
	sb.arrivals[api] = times
	inSecond := 0
	for _, t := range times {
		if now.Sub(t) < time.Second {
			inSecond++
		}
	}
	p := sb.peaks[api]
	p.PerSecond = max(p.PerSecond, inSecond)
	p.Per10Secs = max(p.Per10Secs, len(times))
	p.TotalCalls++
	sb.peaks[api] = p
}

func (sb *Sandbox) count(api, method, route string, status int) {
	sb.mu.Lock()
	defer sb.mu.Unlock()
	sb.counts[counterKey{api, method, route, status}]++
}

// Counters returns a snapshot of the request counters.
func (sb *Sandbox) Counters() Counters {
	stats := sb.Bling.Stats()
	sb.mu.Lock()
	defer sb.mu.Unlock()
	c := Counters{Requests: []CounterRow{}, Peaks: map[string]Peak{}, Bling: stats}
	for k, n := range sb.counts {
		c.Requests = append(c.Requests, CounterRow{API: k.api, Method: k.method, Route: k.route, Status: k.status, Count: n})
	}
	slices.SortFunc(c.Requests, func(x, y CounterRow) int {
		return strings.Compare(x.API+" "+x.Route+" "+x.Method+" "+strconv.Itoa(x.Status),
			y.API+" "+y.Route+" "+y.Method+" "+strconv.Itoa(y.Status))
	})
	for api, p := range sb.peaks {
		c.Peaks[api] = p
	}
	return c
}

// ResetCounters zeroes the request counters, the peaks and Bling's behaviour stats.
func (sb *Sandbox) ResetCounters() {
	sb.Bling.ResetStats()
	sb.mu.Lock()
	defer sb.mu.Unlock()
	sb.counts = map[counterKey]int{}
	sb.arrivals = map[string][]time.Time{}
	sb.peaks = map[string]Peak{}
}

// statusRecorder remembers the status a handler wrote.
type statusRecorder struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (r *statusRecorder) WriteHeader(code int) {
	if !r.wrote {
		r.status, r.wrote = code, true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if !r.wrote {
		r.status, r.wrote = http.StatusOK, true
	}
	return r.ResponseWriter.Write(b)
}

// routeMatcher names the route pattern of a request, for the counters.
type routeMatcher struct {
	mux    *http.ServeMux
	prefix string
}

func newRouteMatcher(prefix string, patterns []string) routeMatcher {
	m := http.NewServeMux()
	noop := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	for _, p := range patterns {
		m.Handle(p, noop)
	}
	return routeMatcher{mux: m, prefix: prefix}
}

// route returns the method and the route pattern below the API's prefix, or "other".
func (m routeMatcher) route(r *http.Request) (method, route string) {
	_, pattern := m.mux.Handler(r)
	method, path, found := strings.Cut(pattern, " ")
	if !found || pattern == "" {
		return r.Method, "other"
	}
	if method == http.MethodGet && r.Method == http.MethodHead {
		method = http.MethodHead
	}
	return method, strings.TrimPrefix(path, m.prefix)
}
