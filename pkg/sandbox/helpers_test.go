package sandbox

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

// The harness the tests of this package share: a sandbox behind httptest with a settable
// clock, requests to its three APIs, and a Bling token got the way a script would. The
// tests are split like the code: seed_test.go, faults_test.go, counters_test.go,
// admin_test.go, lifecycle_admin_test.go, and in sandbox_test.go the composition end to
// end and Start. The harness has the shape of blingsim's and cazcosim's (a server
// behind httptest on the shared clock, an answer that decodes); each package keeps its
// own, as they differ only in what they serve and decode.

// clock is the settable clock the sandbox's tests share (simclock).
type clock = simclock.Clock

func newClock() *clock { return simclock.New(time.Date(2026, 3, 10, 15, 4, 5, 0, time.UTC)) }

type harness struct {
	t     *testing.T
	sb    *Sandbox
	srv   *httptest.Server
	clock *clock
}

func newHarness(t *testing.T, opts Options) *harness {
	t.Helper()
	c := newClock()
	if opts.Now == nil {
		opts.Now = c.Now
	}
	sb, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sb.Handler())
	t.Cleanup(srv.Close)
	return &harness{t: t, sb: sb, srv: srv, clock: c}
}

type answer struct {
	status int
	header http.Header
	raw    []byte
}

func (a answer) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(a.raw, v); err != nil {
		t.Fatalf("decode %s: %v", a.raw, err)
	}
}

func (h *harness) do(method, path string, header map[string]string, body string) answer {
	h.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, h.srv.URL+path, rd)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := h.srv.Client().Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	return answer{status: res.StatusCode, header: res.Header, raw: raw}
}

// blingToken gets an access token for a demo tenant the way a script would: a code from
// the admin API, exchanged at the token endpoint.
func (h *harness) blingToken(tn DemoTenant) string {
	h.t.Helper()
	a := h.do("POST", "/_sandbox/code?client_id="+tn.ClientID, nil, "")
	var code struct{ Code string }
	a.decode(h.t, &code)
	basic := base64.StdEncoding.EncodeToString([]byte(tn.ClientID + ":" + tn.ClientSecret))
	a = h.do("POST", "/Api/v3/oauth/token", map[string]string{
		"Authorization": "Basic " + basic, "Content-Type": "application/x-www-form-urlencoded", "enable-jwt": "1",
	}, url.Values{"grant_type": {"authorization_code"}, "code": {code.Code}}.Encode())
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	a.decode(h.t, &tok)
	if tok.AccessToken == "" {
		h.t.Fatalf("token: %d %s", a.status, a.raw)
	}
	return tok.AccessToken
}

func (h *harness) bling(method, path, token, body string) answer {
	h.t.Helper()
	hdr := map[string]string{"Authorization": "Bearer " + token, "enable-jwt": "1"}
	if body != "" {
		hdr["Content-Type"] = "application/json"
	}
	return h.do(method, "/Api/v3"+path, hdr, body)
}

func (h *harness) cazco(method, path, key string) answer {
	h.t.Helper()
	return h.do(method, "/api/v1/seller"+path, map[string]string{"Authorization": "Bearer " + key, "Accept": "application/json"}, "")
}
