package e2e

import (
	"bytes"
	"encoding/json"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/cazbling/cazbling/pkg/sandbox"
)

// secretRecorder sits in front of the sandbox and keeps every secret that crosses
// it: the codes and refresh tokens sent to Bling's token endpoint, the access and
// refresh tokens it answers, and the bearer credentials of API calls.
type secretRecorder struct {
	mu      sync.Mutex
	secrets map[string]bool
}

func (s *secretRecorder) add(v string) {
	if len(v) < 8 {
		return
	}
	s.mu.Lock()
	s.secrets[v] = true
	s.mu.Unlock()
}

func (s *secretRecorder) list() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.secrets))
	for v := range s.secrets {
		out = append(out, v)
	}
	slices.Sort(out)
	return out
}

func (s *secretRecorder) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if auth, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
			s.add(auth)
		}
		if !strings.HasSuffix(r.URL.Path, "/oauth/token") {
			h.ServeHTTP(w, r)
			return
		}
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		if form, err := url.ParseQuery(string(body)); err == nil {
			s.add(form.Get("code"))
			s.add(form.Get("refresh_token"))
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		var ans struct {
			AccessToken  string `json:"access_token"`
			RefreshToken string `json:"refresh_token"`
		}
		if json.Unmarshal(rec.Body.Bytes(), &ans) == nil {
			s.add(ans.AccessToken)
			s.add(ans.RefreshToken)
		}
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
	})
}

// leaks reports which secrets (whole, or their last 16 characters: a token's
// signature part) text contains.
func leaks(text string, secrets []string) []string {
	var out []string
	for _, s := range secrets {
		if strings.Contains(text, s) || len(s) > 24 && strings.Contains(text, s[len(s)-16:]) {
			out = append(out, s)
		}
	}
	return out
}

// TestE2ESecretsNeverInClear activates a tenant (secrets key in the key file) and runs
// every flow at debug level with JSON and text logs, one run killed mid-way so that
// its write-ahead log stays on disk, and failing activations with wrong credentials;
// then checks that no secret that crossed the wire (client secrets, CaZco keys, the
// authorization code, every access and refresh token Bling issued) appears in the
// store, its WAL and shared memory, any stdout or stderr, `tenants`, `tenants show` or
// `logs` in any format. The store and key files are 0600 in a 0700 folder; plain http
// is refused except to loopback, and a server whose certificate is not trusted is
// refused.
func TestE2ESecretsNeverInClear(t *testing.T) {
	sqliteOnly(t, "it scans the SQLite file, its WAL and the key file made beside it (no CAZBLING_KEY), and their modes")
	start := time.Now()
	rec := &secretRecorder{secrets: map[string]bool{}}
	e := newRelEnv(t, relConfig{
		noKey:   true,
		wrap:    rec.wrap,
		sandbox: func(o *sandbox.Options) { o.TokenTTL = 5*time.Minute + time.Second }, // refreshed (rotated) after 1 s
	})
	tn := e.addTenant("loja-segredos")
	e.seedCatalogue(tn, 60, func(i int) int64 { return int64(i % 4) })
	for i := range 4 {
		relAddOrder(t, e, tn, relOrder(300+i, 60, "processing"))
	}
	wrongSecret, wrongKey := "wrong-client-secret-Qx81", "czk-wrong-key-Zt55"
	rec.add(tn.ClientSecret)
	rec.add(tn.CazcoKey)
	rec.add(wrongSecret)
	rec.add(wrongKey)

	var outputs []result
	runAll := func(want int, args ...string) result {
		t.Helper()
		r := e.run(args...)
		relNoPanic(t, r)
		if want >= 0 && r.code != want {
			t.Errorf("cazbling %s: exit %d, want %d:\n%s", strings.Join(args, " "), r.code, want, r)
		}
		outputs = append(outputs, r)
		return r
	}
	debugJSON := []string{"--log-level", "debug", "--log-format", "json"}
	debugText := []string{"--log-level", "debug", "--log-format", "text"}

	// Plain http is refused except to loopback; an untrusted certificate is refused.
	r := runAll(2, slices.Concat(e.activateArgs(tn), []string{"--bling-url", "http://example.com/Api/v3"}, debugJSON)...)
	if !strings.Contains(r.stderr, "http://") {
		t.Errorf("plain http Bling URL: the message does not say why:\n%s", r)
	}
	r = runAll(2, slices.Concat(e.activateArgs(tn), []string{"--cazco-url", "http://example.com/api/v1/seller"}, debugJSON)...)
	tlsSrv := httptest.NewUnstartedServer(e.sb.Handler())
	tlsSrv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes are the point
	tlsSrv.StartTLS()
	defer tlsSrv.Close()
	r = runAll(-1, slices.Concat(e.activateArgs(tn), []string{"--bling-url", tlsSrv.URL + "/Api/v3", "--cazco-url", tlsSrv.URL + "/api/v1/seller"}, debugJSON)...)
	if r.code == 0 || !strings.Contains(r.stderr, "certificate") {
		t.Errorf("a server with an untrusted certificate: want a failure naming the certificate:\n%s", r)
	}
	// Wrong credentials: the errors do not echo them.
	args := e.activateArgs(tn, debugText...)
	args[slices.Index(args, "--bling-client-secret")+1] = wrongSecret
	runAll(-1, args...)
	args = e.activateArgs(tn, debugJSON...)
	args[slices.Index(args, "--cazco-api-key")+1] = wrongKey
	runAll(-1, args...)

	// The real activation, then every flow at debug level, a token refresh on the way.
	runAll(0, append(e.activateArgs(tn), debugJSON...)...)
	time.Sleep(1100 * time.Millisecond)
	runAll(0, append([]string{"sync-products", "--full"}, debugText...)...)
	if err := e.sb.Bling.SetStock(tn.ClientID, e.sb.Bling.Products(tn.ClientID)[3].ID, 0, decimal.NewFromInt(44)); err != nil {
		t.Fatal(err)
	}
	runAll(0, append([]string{"sync-stock"}, debugJSON...)...)
	runAll(0, append([]string{"sync-orders"}, debugText...)...)
	runAll(0, append([]string{"sync-orders", "--dry-run"}, debugJSON...)...)
	for _, a := range [][]string{
		{"tenants"}, {"tenants", "-o", "json"}, {"tenants", "show", tn.ID}, {"tenants", "show", tn.ID, "-o", "json"},
		{"logs", "--limit", "0"}, {"logs", "--limit", "0", "-o", "json"}, {"logs", "--limit", "0", "-o", "csv"},
		{"logs", "--runs", "-o", "json"}, {"logs", "--runs", "-o", "csv"},
	} {
		runAll(0, append(a, debugJSON...)...)
	}

	// A run killed mid-way leaves its write-ahead log behind; it is scanned too.
	if err := e.sb.SetFaults(sandbox.APIBling, sandbox.Faults{Latency: 10 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1100 * time.Millisecond) // the token is due for a refresh again
	db := relDBPath(e)
	p := relStart(t, e, append([]string{"sync-products", "--full"}, debugJSON...)...)
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if info, err := os.Stat(db + "-wal"); err == nil && info.Size() > 8<<10 {
			break
		}
	}
	killed := p.killAt(0)
	files := map[string][]byte{}
	for _, f := range []string{db, db + "-wal", db + "-shm", db + ".key"} {
		if b, err := os.ReadFile(f); err == nil {
			files[filepath.Base(f)] = b
		}
	}
	if _, ok := files[filepath.Base(db)+"-wal"]; !ok || !killed {
		t.Errorf("no write-ahead log left by a killed run (killed: %v)", killed)
	}

	// The scan reads what the store holds: the client id, not a secret, is there in
	// clear.
	if all := string(files[filepath.Base(db)]) + string(files[filepath.Base(db)+"-wal"]); !strings.Contains(all, tn.ClientID) {
		t.Errorf("the store files do not show the client id; the scan below proves nothing")
	}
	secrets := rec.list()
	tokens := 0
	for _, s := range secrets {
		if !slices.Contains([]string{tn.ClientSecret, tn.CazcoKey, wrongSecret, wrongKey}, s) {
			tokens++
		}
	}
	if tokens < 4 {
		t.Errorf("only %d tokens and codes recorded; the check is weaker than it says", tokens)
	}
	scanned := 0
	for name, b := range files {
		if l := leaks(string(b), secrets); len(l) > 0 {
			t.Errorf("%s holds %d secrets in clear", name, len(l))
		}
		scanned++
	}
	for i, r := range outputs {
		for what, text := range map[string]string{"stdout": r.stdout, "stderr": r.stderr} {
			if l := leaks(text, secrets); len(l) > 0 {
				t.Errorf("run %d %s shows %d secrets in clear", i+1, what, len(l))
			}
			scanned++
		}
	}

	// Modes: store, WAL (when there is one) and key file 0600 in a 0700 folder.
	modes := 0
	for _, f := range []string{db, db + "-wal", db + ".key"} {
		info, err := os.Stat(f)
		if os.IsNotExist(err) && strings.HasSuffix(f, "-wal") {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if info.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %o, want 0600", filepath.Base(f), info.Mode().Perm())
		}
		modes++
	}
	if info, err := os.Stat(filepath.Dir(db)); err != nil || info.Mode().Perm() != 0o700 {
		t.Errorf("store folder mode: %v %v, want 0700", info.Mode().Perm(), err)
	}
	t.Logf("Bling token calls: %d; secrets watched: %d (%d tokens and codes that crossed the wire); outputs and files scanned: %d (%d runs, %d store files, killed run: %v); leaks: 0 expected; modes checked: %d; took %s",
		e.sb.Counters().Bling.TokenCalls, len(secrets), tokens, scanned, len(outputs), len(files), killed, modes, time.Since(start).Round(time.Millisecond))
}
