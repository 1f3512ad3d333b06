package blingsim

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/cazbling/cazbling/pkg/sandbox/internal/simclock"
)

// The harness the tests of this package share: a sim behind httptest with a settable
// clock, two accounts, calls with a token, token calls, and readers of Bling's bodies.
// The tests are split by what they test: oauth_test.go, ratelimit_test.go,
// catalog_test.go, index_test.go, orders_test.go, and in sim_test.go routing, numbers
// and validators. The harness has the shape of cazcosim's and pkg/sandbox's; each
// package keeps its own, as they differ only in what they serve and decode.

// clock is the settable clock the sandbox's tests share (simclock).
type clock = simclock.Clock

const (
	clientA = "client-a"
	secretA = "secret-a"
	clientB = "client-b"
	secretB = "secret-b"
)

type env struct {
	t     *testing.T
	sim   *Sim
	srv   *httptest.Server
	clock *clock
}

func newEnv(t *testing.T, opts Options) *env {
	t.Helper()
	c := simclock.New(time.Date(2026, 3, 10, 15, 0, 0, 0, time.UTC))
	if opts.Now == nil {
		opts.Now = c.Now
	}
	if opts.RatePerSecond == 0 {
		opts.RatePerSecond = -1 // most tests are not about limits
	}
	s := New(opts)
	s.AddAccount(Account{ClientID: clientA, ClientSecret: secretA, CompanyName: "Loja A Ltda", CNPJ: "11222333000181"})
	s.AddAccount(Account{ClientID: clientB, ClientSecret: secretB, CompanyName: "Loja B Ltda", CNPJ: "11444777000161"})
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return &env{t: t, sim: s, srv: srv, clock: c}
}

type resp struct {
	status int
	header http.Header
	raw    []byte
	body   map[string]any
}

func (r resp) errType() string {
	e, _ := r.body["error"].(map[string]any)
	s, _ := e["type"].(string)
	return s
}

func (r resp) errField() map[string]any {
	e, _ := r.body["error"].(map[string]any)
	return e
}

func (r resp) data() []any {
	d, _ := r.body["data"].([]any)
	return d
}

func (r resp) item() map[string]any {
	d, _ := r.body["data"].(map[string]any)
	return d
}

// fieldElements lists error.fields[].element.
func (r resp) fieldElements() []string {
	var out []string
	fs, _ := r.errField()["fields"].([]any)
	for _, f := range fs {
		m, _ := f.(map[string]any)
		el, _ := m["element"].(string)
		out = append(out, el)
	}
	return out
}

func (e *env) send(req *http.Request) resp {
	e.t.Helper()
	res, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	out := resp{status: res.StatusCode, header: res.Header, raw: raw}
	_ = json.Unmarshal(raw, &out.body)
	return out
}

// call sends an API request with a bearer token and enable-jwt.
func (e *env) call(method, path, token string, body any) resp {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		switch b := body.(type) {
		case string:
			rd = strings.NewReader(b)
		default:
			raw, _ := json.Marshal(b)
			rd = strings.NewReader(string(raw))
		}
	}
	req, _ := http.NewRequest(method, e.srv.URL+"/Api/v3"+path, rd)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("enable-jwt", "1")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return e.send(req)
}

func (e *env) tokenCall(id, secret string, form url.Values, jwt bool) resp {
	e.t.Helper()
	req, _ := http.NewRequest("POST", e.srv.URL+"/Api/v3/oauth/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if id != "" {
		req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(id+":"+secret)))
	}
	if jwt {
		req.Header.Set("enable-jwt", "1")
	}
	return e.send(req)
}

// login exchanges a fresh code and returns the access and refresh tokens.
func (e *env) login(id, secret string) (access, refresh string) {
	e.t.Helper()
	r := e.tokenCall(id, secret, url.Values{"grant_type": {"authorization_code"}, "code": {e.sim.IssueCode(id)}}, true)
	if r.status != 200 {
		e.t.Fatalf("login: %d %s", r.status, r.raw)
	}
	return r.body["access_token"].(string), r.body["refresh_token"].(string)
}
