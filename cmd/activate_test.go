package cmd

import (
	"bytes"
	"context"
	"encoding/base64"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/cazbling/cazbling/pkg/cazbling"
	"github.com/cazbling/cazbling/pkg/sandbox"
	"github.com/cazbling/cazbling/pkg/sandbox/blingsim"
	"github.com/cazbling/cazbling/pkg/store/sqlite"
)

// activateWorld is a sandbox with one seller account and a store path.
type activateWorld struct {
	t    *testing.T
	sb   *sandbox.Sandbox
	base string
	db   string
	key  string
}

const (
	testClientID = "app-123"
	testSecret   = "segredo-do-app-9f8e7d"
	testCazcoKey = "czk-loja-teste-0123456789"
)

func newActivateWorld(t *testing.T) *activateWorld {
	t.Helper()
	sb, err := sandbox.New(sandbox.Options{Seed: sandbox.SeedEmpty, BlingRate: -1})
	if err != nil {
		t.Fatal(err)
	}
	base, err := sb.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sb.Close() })
	sb.Bling.AddAccount(blingsim.Account{ClientID: testClientID, ClientSecret: testSecret, CompanyName: "Loja Teste Ltda", CNPJ: "11222333000181"})
	sb.Cazco.AddStore(testCazcoKey)
	return &activateWorld{t: t, sb: sb, base: base,
		db:  filepath.Join(t.TempDir(), "store", "c.db"),
		key: base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{3}, 32))}
}

// exec runs the command line with stdin as given; terminal says whether stdin counts
// as a terminal (the prompt path).
func (w *activateWorld) exec(stdin string, terminal bool, args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	env := map[string]string{"CAZBLING_KEY": w.key, "CAZBLING_DB": w.db, "CAZBLING_BLING_RATE": "0", "CAZBLING_CAZCO_RPM": "0"}
	code = Execute(context.Background(), args, IO{
		In: strings.NewReader(stdin), Out: &out, Err: &errb,
		Getenv:        func(k string) string { return env[k] },
		StdinTerminal: terminal,
	})
	return code, out.String(), errb.String()
}

func (w *activateWorld) args(extra ...string) []string {
	return append([]string{"activate", "loja-teste", "--no-initial-sync",
		"--bling-url", w.base + "/Api/v3", "--bling-client-id", testClientID, "--bling-client-secret", testSecret,
		"--cazco-url", w.base + "/api/v1/seller", "--cazco-api-key", testCazcoKey}, extra...)
}

func (w *activateWorld) tenants() []cazbling.Tenant {
	w.t.Helper()
	key, _ := base64.StdEncoding.DecodeString(w.key)
	s, err := sqlite.Open(context.Background(), sqlite.Options{Path: w.db, Key: key})
	if err != nil {
		w.t.Fatal(err)
	}
	defer s.Close()
	ts, err := s.Tenants(context.Background())
	if err != nil {
		w.t.Fatal(err)
	}
	return ts
}

func TestActivateRegistersThenUpdates(t *testing.T) {
	w := newActivateWorld(t)
	code, out, errs := w.exec("", false, w.args("--bling-code", w.sb.Bling.IssueCode(testClientID))...)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
	for _, want := range []string{"loja-teste (registered)", "Loja Teste Ltda", "Geral", "0 products"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	ts := w.tenants()
	if len(ts) != 1 || ts[0].Status != cazbling.TenantActive || ts[0].BlingClientSecret != testSecret {
		t.Fatalf("tenants after activate: %+v", ts)
	}
	created := ts[0].CreatedAt
	deposit := w.sb.Bling.Deposits(testClientID)[1].ID

	// Again, with a new code and a deposit: updated in place, never duplicated.
	code, out, errs = w.exec("", false, w.args("--bling-code", w.sb.Bling.IssueCode(testClientID),
		"--bling-deposit", strconv.FormatInt(deposit, 10))...)
	if code != 0 {
		t.Fatalf("second activate: exit %d\n%s\n%s", code, out, errs)
	}
	if !strings.Contains(out, "(updated)") {
		t.Errorf("second activate should say updated:\n%s", out)
	}
	ts = w.tenants()
	if len(ts) != 1 || ts[0].BlingDeposit != deposit || !ts[0].CreatedAt.Equal(created) {
		t.Fatalf("tenants after re-activate: %+v", ts)
	}
	for _, s := range []string{out, errs} {
		if strings.Contains(s, testSecret) || strings.Contains(s, testCazcoKey) {
			t.Errorf("output shows a secret:\n%s", s)
		}
	}
}

func TestActivateBadCredentialsSaveNothing(t *testing.T) {
	w := newActivateWorld(t)
	// A wrong CaZco key is found before the Bling code is spent.
	code := w.sb.Bling.IssueCode(testClientID)
	exit, _, errs := w.exec("", false, append(w.args("--bling-code", code), "--cazco-api-key", "wrong-key")...)
	if exit != 1 || !strings.Contains(errs, "CaZco side") || !strings.Contains(errs, "--cazco-api-key") {
		t.Errorf("wrong CaZco key: exit %d, stderr:\n%s", exit, errs)
	}
	if strings.Contains(errs, "wrong-key") {
		t.Errorf("stderr shows the key:\n%s", errs)
	}
	if n := len(w.tenants()); n != 0 {
		t.Errorf("%d tenants saved after a failed activate", n)
	}
	// The code was not used: it still works.
	if exit, out, errs := w.exec("", false, w.args("--bling-code", code)...); exit != 0 {
		t.Fatalf("the unspent code should work: exit %d\n%s\n%s", exit, out, errs)
	}

	w2 := newActivateWorld(t)
	exit, _, errs = w2.exec("", false, append(w2.args("--bling-code", w2.sb.Bling.IssueCode(testClientID)), "--bling-client-secret", "not-the-secret")...)
	if exit != 1 || !strings.Contains(errs, "Bling side") || !strings.Contains(errs, "--bling-client-secret") {
		t.Errorf("wrong Bling secret: exit %d, stderr:\n%s", exit, errs)
	}
	if strings.Contains(errs, "not-the-secret") {
		t.Errorf("stderr shows the secret:\n%s", errs)
	}
	if n := len(w2.tenants()); n != 0 {
		t.Errorf("%d tenants saved after a failed activate", n)
	}
}

func TestActivatePromptsForTheCode(t *testing.T) {
	w := newActivateWorld(t)
	code := w.sb.Bling.IssueCode(testClientID)
	// The whole redirect URL may be pasted.
	pasted := "https://example.com/callback?code=" + code + "\n"
	exit, out, errs := w.exec(pasted, true, w.args()...)
	if exit != 0 {
		t.Fatalf("exit %d\n%s\n%s", exit, out, errs)
	}
	if !strings.Contains(errs, w.base+"/Api/v3/oauth/authorize?") || !strings.Contains(errs, "client_id="+testClientID) {
		t.Errorf("the authorize URL was not shown:\n%s", errs)
	}
	if strings.Contains(errs, code) {
		t.Errorf("the pasted code was echoed:\n%s", errs)
	}
	if len(w.tenants()) != 1 {
		t.Error("tenant not saved")
	}

	// Without a terminal there is nobody to ask: a usage error.
	w2 := newActivateWorld(t)
	exit, _, errs = w2.exec("", false, w2.args()...)
	if exit != 2 || !strings.Contains(errs, "--bling-code") {
		t.Errorf("no terminal, no code: exit %d\n%s", exit, errs)
	}
	// Missing client secret is asked for on a terminal too.
	w3 := newActivateWorld(t)
	args := []string{"activate", "loja-teste", "--no-initial-sync", "--bling-url", w3.base + "/Api/v3",
		"--bling-client-id", testClientID, "--cazco-url", w3.base + "/api/v1/seller", "--cazco-api-key", testCazcoKey}
	exit, out, errs = w3.exec(testSecret+"\n"+w3.sb.Bling.IssueCode(testClientID)+"\n", true, args...)
	if exit != 0 || !strings.Contains(errs, "Bling client secret: ") {
		t.Errorf("prompted secret: exit %d\n%s\n%s", exit, out, errs)
	}
}

func TestActivateWithRefreshToken(t *testing.T) {
	w := newActivateWorld(t)
	rt := w.sb.Bling.IssueRefreshToken(testClientID)
	if exit, out, errs := w.exec("", false, w.args("--bling-refresh-token", rt)...); exit != 0 {
		t.Fatalf("exit %d\n%s\n%s", exit, out, errs)
	}
	// Bling rotated it: the same refresh token no longer works.
	exit, _, errs := w.exec("", false, w.args("--bling-refresh-token", rt)...)
	if exit != 1 || !strings.Contains(errs, "refresh token") {
		t.Errorf("spent refresh token: exit %d\n%s", exit, errs)
	}
}

func TestActivateUsageErrors(t *testing.T) {
	w := newActivateWorld(t)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"plain http to a remote host", append(w.args("--bling-code", "x"), "--cazco-url", "http://cazco.example.com/api/v1/seller"), "plain http"},
		{"bad tenant name", []string{"activate", "loja teste!", "--cazco-url", w.base}, "not valid"},
		{"no tenant", []string{"activate"}, "exactly one TENANT"},
		{"code and refresh token", w.args("--bling-code", "x", "--bling-refresh-token", "y"), "not both"},
		{"new tenant without cazco url", []string{"activate", "nova", "--bling-code", "x"}, "--cazco-url is required"},
		{"unknown flag", w.args("--bling-cod", "x"), "unknown flag"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			exit, _, errs := w.exec("", false, tt.args...)
			if exit != 2 || !strings.Contains(errs, tt.want) {
				t.Errorf("exit %d, want 2 with %q:\n%s", exit, tt.want, errs)
			}
		})
	}
}

func TestSyncUnknownTenantIsAUsageError(t *testing.T) {
	w := newActivateWorld(t)
	for _, cmd := range []string{"sync-products", "sync-stock", "sync-orders"} {
		exit, _, errs := w.exec("", false, cmd, "--tenant", "nope")
		if exit != 2 || !strings.Contains(errs, `unknown tenant "nope"`) {
			t.Errorf("%s --tenant nope: exit %d\n%s", cmd, exit, errs)
		}
	}
}
