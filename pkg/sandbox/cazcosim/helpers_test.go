package cazcosim

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cazbling/cazbling/pkg/sandbox/internal/simclock"
)

// The harness the tests of this package share: a sim behind httptest with a settable
// clock, requests by key, and checks of the Error body. The tests are split by what they
// test: products_test.go, stock_test.go, orders_test.go, ratelimit_test.go, and in
// cazcosim_test.go what holds for the whole API (auth, routing, isolation, seeding,
// concurrency). The harness has the shape of blingsim's and pkg/sandbox's; each
// package keeps its own, as they differ only in what they serve and decode.

const (
	keyA = "key-store-a"
	keyB = "key-store-b"
)

var t0 = time.Date(2025, 3, 10, 12, 0, 0, 0, time.UTC)

// clock is the settable clock the sandbox's tests share (simclock).
type clock = simclock.Clock

type harness struct {
	t          *testing.T
	sim        *Sim
	srv        *httptest.Server
	clock      *clock
	requestIDs map[string]bool
	lying      bool // the sim was told to advertise garbage rate-limit headers
}

func newHarness(t *testing.T, opts Options) *harness {
	t.Helper()
	c := simclock.New(t0)
	opts.Now = c.Now
	sim := New(opts)
	sim.AddStore(keyA)
	sim.AddStore(keyB)
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	return &harness{t: t, sim: sim, srv: srv, clock: c, requestIDs: map[string]bool{}}
}

type result struct {
	status int
	header http.Header
	body   []byte
}

func (r result) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

// do sends a request with key (none if empty) to a path under BasePath, or to an absolute URL.
func (h *harness) do(key, method, path, body string) result {
	h.t.Helper()
	target := path
	if !strings.HasPrefix(path, "http") {
		target = h.srv.URL + BasePath + path
	}
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, target, rd)
	if err != nil {
		h.t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	return h.send(req)
}

func (h *harness) send(req *http.Request) result {
	h.t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		h.t.Fatal(err)
	}
	for _, name := range []string{"X-RateLimit-Limit", "X-RateLimit-Remaining"} {
		if _, err := strconv.Atoi(resp.Header.Get(name)); err != nil && !h.lying {
			h.t.Errorf("%s %s: header %s = %q, want an integer", req.Method, req.URL.Path, name, resp.Header.Get(name))
		}
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		h.t.Errorf("Content-Type = %q", ct)
	}
	r := result{status: resp.StatusCode, header: resp.Header, body: data}
	if r.status >= 400 {
		h.checkErrorShape(r)
	}
	return r
}

// checkErrorShape asserts the Error body of every failure: code, message, errors object,
// a request id never seen before.
func (h *harness) checkErrorShape(r result) {
	h.t.Helper()
	var body map[string]json.RawMessage
	if err := json.Unmarshal(r.body, &body); err != nil {
		h.t.Fatalf("error body %s: %v", r.body, err)
	}
	for _, field := range []string{"code", "message", "request_id"} {
		v, present := decodeString(body[field])
		if !present || v == "" {
			h.t.Errorf("error body %s: %s missing or empty", r.body, field)
		}
	}
	var fields map[string][]string
	if raw, present := body["errors"]; !present || isNull(raw) || json.Unmarshal(raw, &fields) != nil {
		h.t.Errorf("error body %s: errors is not an object of string lists", r.body)
	}
	id, _ := decodeString(body["request_id"])
	if h.requestIDs[id] {
		h.t.Errorf("request_id %s repeated", id)
	}
	h.requestIDs[id] = true
}

func (h *harness) expectError(r result, status int, code string, fields ...string) ErrorBody {
	h.t.Helper()
	if r.status != status {
		h.t.Fatalf("status = %d, want %d; body %s", r.status, status, r.body)
	}
	var eb ErrorBody
	r.decode(h.t, &eb)
	if eb.Code != code {
		h.t.Errorf("code = %q, want %q", eb.Code, code)
	}
	for _, f := range fields {
		if len(eb.Errors[f]) == 0 {
			h.t.Errorf("errors[%s] missing in %s", f, r.body)
		}
	}
	return eb
}

func (h *harness) createProduct(key, body string) Product {
	h.t.Helper()
	r := h.do(key, http.MethodPost, "/products", body)
	if r.status != http.StatusCreated {
		h.t.Fatalf("create: %d %s", r.status, r.body)
	}
	var env struct{ Data Product }
	r.decode(h.t, &env)
	return env.Data
}
