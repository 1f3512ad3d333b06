package panel

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/cazbling/cazbling/pkg/cazbling"
)

func TestCazcoStep(t *testing.T) {
	e := newTestEnv(t)
	c := e.login("ana")
	if home := e.do("GET", "/", c, nil).Body.String(); !strings.Contains(home, "Informe o endereço da API e a chave da sua loja CaZco") || strings.Contains(home, "Nada a fazer") {
		t.Errorf("home before the CaZco step does not say to enter the store: %s", home)
	}
	for name, tc := range map[string]struct {
		url, key, says string
		checked        bool
	}{
		"plain http":     {"http://s1.cazco.test/api/v1/seller", goodKey, "https://", false},
		"not a URL":      {"javascript:alert(1)", goodKey, "https://", false},
		"missing key":    {"https://s1.cazco.test/api/v1/seller", "", "Informe", false},
		"CaZco refuses":  {"https://s1.cazco.test/api/v1/seller", "czk-wrong-5555", "A CaZco recusou", true},
		"with user info": {"https://u:p@s1.cazco.test/api", goodKey, "https://", false},
	} {
		before, _, _ := e.conn.counts()
		res := e.post("/cazco", c, url.Values{"cazco_url": {tc.url}, "cazco_api_key": {tc.key}})
		body := res.Body.String()
		after, _, _ := e.conn.counts()
		if res.Code != http.StatusUnprocessableEntity || !strings.Contains(body, tc.says) || (after > before) != tc.checked {
			t.Errorf("%s: %d checked=%v %s", name, res.Code, after > before, body)
		}
		if tc.key != "" && strings.Contains(body, tc.key) {
			t.Errorf("%s: the key is on the page", name)
		}
		if tn := e.tenant("ana"); tn.CazcoURL != "" || tn.CazcoAPIKey != "" {
			t.Fatalf("%s: stored %+v", name, tn)
		}
	}
	e.setUpCazco(c)
	tn := e.tenant("ana")
	if tn.CazcoAPIKey != goodKey || tn.Status != cazbling.TenantInvited {
		t.Fatalf("stored: %+v", tn)
	}
	home := e.do("GET", "/", c, nil).Body.String()
	if strings.Contains(home, goodKey) || !strings.Contains(home, "••••9876") {
		t.Errorf("home shows the key or no mask: %s", home)
	}
	if !strings.Contains(home, "Conecte sua conta no Bling (passo 2") || strings.Contains(home, "Nada a fazer") {
		t.Errorf("home after the CaZco step does not say to connect Bling: %s", home)
	}
	// At rest the key is encrypted.
	if raw := rawFile(t, e.path); bytes.Contains(raw, []byte(goodKey)) {
		t.Error("the CaZco key is in the store file in clear")
	}
}

// rawFile reads the store's file and WAL.
func rawFile(t *testing.T, path string) []byte {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var out bytes.Buffer
	rows, err := db.Query(`SELECT coalesce(cazco_api_key_enc, x''), coalesce(access_token_enc, x''), coalesce(refresh_token_enc, x'') FROM tenants`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var a, b, c []byte
		_ = rows.Scan(&a, &b, &c)
		out.Write(a)
		out.Write(b)
		out.Write(c)
	}
	return out.Bytes()
}

func TestBlingConnectNeedsCazcoFirst(t *testing.T) {
	e := newTestEnv(t)
	c := e.login("ana")
	if res := e.post("/bling/connect", c, nil); res.Code != http.StatusConflict || !strings.Contains(res.Body.String(), "primeiro") {
		t.Fatalf("connect before CaZco: %d", res.Code)
	}
}

func TestOAuthCallback(t *testing.T) {
	e := newTestEnv(t)
	e.conn.started = make(chan string, 1)
	a, b := e.login("ana"), e.login("bia")
	e.setUpCazco(a)
	e.setUpCazco(b)

	st := e.state(a)
	stB := e.state(b)
	refusals := []struct {
		name, query, says string
	}{
		{"no state", "code=" + goodCode, "não corresponde"},
		{"wrong state", "code=" + goodCode + "&state=" + NewToken(), "não corresponde"},
		{"another session's state", "code=" + goodCode + "&state=" + stB, "não corresponde"},
		{"access denied", "error=access_denied&state=" + st, "não autorizou"},
		{"bling error", "error=server_error&state=" + NewToken(), "não concluiu"},
	}
	for _, r := range refusals {
		res := e.do("GET", "/oauth/bling/callback?"+r.query, a, nil)
		if res.Code != http.StatusBadRequest || !strings.Contains(res.Body.String(), r.says) {
			t.Errorf("%s: %d %s", r.name, res.Code, res.Body)
		}
	}
	if _, connects, _ := e.conn.counts(); connects != 0 {
		t.Fatalf("refused callbacks reached Bling %d times", connects)
	}
	if e.tenant("ana").Status != cazbling.TenantInvited {
		t.Fatal("a refused callback changed the tenant")
	}
	// The denied callback spent its state.
	if res := e.do("GET", "/oauth/bling/callback?code="+goodCode+"&state="+st, a, nil); res.Code != http.StatusBadRequest {
		t.Errorf("state reused after access_denied: %d", res.Code)
	}

	// A code Bling refuses (expired, used, another app's): nothing stored.
	st = e.state(a)
	res := e.do("GET", "/oauth/bling/callback?code=expired-code&state="+st, a, nil)
	if res.Code != http.StatusBadGateway || !strings.Contains(res.Body.String(), "não aceitou o código") {
		t.Fatalf("refused code: %d %s", res.Code, res.Body)
	}
	if tok, _ := e.store.Token(context.Background(), "ana"); tok.RefreshToken != "" || e.tenant("ana").Status != cazbling.TenantInvited {
		t.Fatal("a refused code stored something")
	}

	// The right state, once, within 10 minutes: connected, initial sync started.
	st = e.state(a)
	res = e.do("GET", "/oauth/bling/callback?code="+goodCode+"&state="+st, a, nil)
	if res.Code != http.StatusSeeOther || res.Header().Get("Location") != "/" {
		t.Fatalf("good callback: %d %s", res.Code, res.Body)
	}
	if got := <-e.conn.started; got != "ana" {
		t.Fatalf("initial sync of %q", got)
	}
	if e.tenant("ana").Status != cazbling.TenantActive {
		t.Fatal("not active after connecting")
	}
	if res := e.do("GET", "/oauth/bling/callback?code="+goodCode+"&state="+st, a, nil); res.Code != http.StatusBadRequest {
		t.Errorf("state used twice: %d", res.Code)
	}
	late := e.state(a)
	e.advance(StateTTL + time.Second)
	if res := e.do("GET", "/oauth/bling/callback?code="+goodCode+"&state="+late, a, nil); res.Code != http.StatusBadRequest {
		t.Errorf("state after 10 minutes: %d", res.Code)
	}

	// Progress while it runs, from status.json.
	var s struct {
		Tenant      string      `json:"tenant"`
		Status      string      `json:"status"`
		InitialSync initialView `json:"initial_sync"`
		Flows       []flowStatus
	}
	res = e.do("GET", "/status.json", a, nil)
	if err := json.Unmarshal(res.Body.Bytes(), &s); err != nil {
		t.Fatal(err)
	}
	if s.Tenant != "ana" || s.Status != "active" || s.InitialSync != (initialView{"running", 3, 10}) || len(s.Flows) != 4 {
		t.Fatalf("status.json: %s", res.Body)
	}
	home := e.do("GET", "/", a, nil).Body.String()
	if !strings.Contains(home, "3 de 10 produtos") || !strings.Contains(home, `http-equiv="refresh"`) {
		t.Errorf("home while syncing: %s", home)
	}
	// Nothing secret in the log lines: no code, no state, no token.
	logs := e.logs.String()
	for _, secret := range []string{goodCode + "&", st, "access-xyz", "refresh-xyz", goodKey} {
		if strings.Contains(logs, secret) {
			t.Errorf("log holds a secret %q", secret)
		}
	}
	// Shutdown: the running sync stops at its safe point and StopSyncs returns.
	if err := e.srv.StopSyncs(context.Background()); err != nil {
		t.Fatal(err)
	}
	res = e.do("GET", "/status.json", a, nil)
	_ = json.Unmarshal(res.Body.Bytes(), &s)
	if s.InitialSync.State != "pending" {
		t.Errorf("after an interrupted sync: %s", res.Body)
	}
}

func TestReconnectKeepsCursors(t *testing.T) {
	e := newTestEnv(t)
	c := e.login("ana")
	e.setUpCazco(c)
	ctx := context.Background()
	cur := cazbling.Cursor{TenantID: "ana", Stream: cazbling.StreamProductsCreated, Value: "2026-10-01T00:00:00Z"}
	link := cazbling.ProductLink{TenantID: "ana", SKU: "A-1", BlingID: 5, CazcoID: "c5"}
	if err := e.store.Apply(ctx, cazbling.Batch{Cursors: []cazbling.Cursor{cur}, ProductLinks: []cazbling.ProductLink{link}}); err != nil {
		t.Fatal(err)
	}
	if err := e.store.SetTenantStatus(ctx, "ana", cazbling.TenantNeedsReauth, time.Time{}, "invalid_grant"); err != nil {
		t.Fatal(err)
	}
	home := e.do("GET", "/", c, nil).Body.String()
	if !strings.Contains(home, "Conectar com o Bling") || !strings.Contains(home, "revogada") {
		t.Fatalf("needs_reauth home: %s", home)
	}
	st := e.state(c)
	if res := e.do("GET", "/oauth/bling/callback?code="+goodCode+"&state="+st, c, nil); res.Code != http.StatusSeeOther {
		t.Fatalf("reconnect: %d %s", res.Code, res.Body)
	}
	if _, _, syncs := e.conn.counts(); syncs != 0 {
		t.Error("a re-connected tenant got a new full sync")
	}
	if v, ok, _ := e.store.Cursor(ctx, "ana", cazbling.StreamProductsCreated); !ok || v != cur.Value {
		t.Errorf("cursor after reconnect: %q %v", v, ok)
	}
	if l, ok, _ := e.store.ProductLink(ctx, "ana", "A-1"); !ok || l.CazcoID != "c5" {
		t.Errorf("link after reconnect: %+v", l)
	}
	if e.tenant("ana").Status != cazbling.TenantActive {
		t.Error("not active after reconnect")
	}
}

func seedLogs(t *testing.T, e *testEnv) {
	t.Helper()
	rows := []cazbling.LogEntry{
		{TenantID: "ana", Flow: "products", Entity: "product", Key: "ANA-1", Action: "created", Status: "ok",
			Message: "created in CaZco", Code: "product.created"},
		{TenantID: "ana", Flow: "stock", Entity: "stock", Key: "ANA-1", Action: "stock_set", Status: "warning",
			Message: "stock set to 0 (was 4); Bling balance is -2 (negative); sent as 0", Code: "stock.stock_set",
			Params: cazbling.Params("qty", "0", "was", "4", "negative", "1")},
		{TenantID: "ana", Flow: "products", Entity: "product", Key: "bling:77", Action: "failed", Status: "error",
			Message: "Bling product 77 \"Caneca\" has no SKU", Code: "product.no_sku", Params: cazbling.Params("bling_id", "77")},
		{TenantID: "ana", Flow: "orders", Entity: "order", Key: "ord-1", Action: "created", Status: "ok",
			Message: "order #1042 filed in Bling as 9", Code: "order.created", Params: cazbling.Params("number", "1042")},
		{TenantID: "ana", Flow: "products", Entity: "product", Key: "=cmd|' /C calc'!A0", Action: "updated", Status: "ok",
			Message: "an old row, written before codes"},
		{TenantID: "bia", Flow: "products", Entity: "product", Key: "BIA-SECRET-SKU", Action: "created", Status: "ok",
			Message: "created in CaZco", Code: "product.created"},
	}
	for i := range rows {
		rows[i].Time = e.clock().Add(time.Duration(i) * time.Second)
	}
	if _, err := e.store.InviteTenant(context.Background(), "bia", NewToken(), e.clock()); err != nil {
		t.Fatal(err)
	}
	if err := e.store.Apply(context.Background(), cazbling.Batch{Logs: rows}); err != nil {
		t.Fatal(err)
	}
}

func TestLogsInPortugueseWithFilters(t *testing.T) {
	e := newTestEnv(t)
	c := e.login("ana")
	seedLogs(t, e)
	body := e.do("GET", "/logs", c, nil).Body.String()
	for _, want := range []string{
		"Produto ANA-1 criado na CaZco.",
		"Estoque de ANA-1 definido em 0 na CaZco (antes 4). O saldo no Bling estava negativo e foi enviado como 0.",
		"O produto 77 do Bling não tem código (SKU)", "Cadastre um código (SKU)",
		"Pedido #1042 registrado no Bling.",
		"an old row, written before codes", // no code: its own text
		"03/11/2026 12:00",                 // São Paulo time (UTC−3)
	} {
		if !strings.Contains(body, want) {
			t.Errorf("logs page lacks %q", want)
		}
	}
	if strings.Contains(body, "created in CaZco") {
		t.Error("a coded row shows its English text")
	}
	for q, want := range map[string][]string{
		"status=error":            {"não tem código"},
		"flow=orders":             {"Pedido #1042"},
		"q=1042":                  {"Pedido #1042"},
		"q=ANA-1&flow=stock":      {"Estoque de ANA-1"},
		"status=bogus&flow=bogus": {"Pedido #1042", "Produto ANA-1 criado"}, // unknown filters are ignored
	} {
		page := e.do("GET", "/logs?"+q, c, nil).Body.String()
		for _, w := range want {
			if !strings.Contains(page, w) {
				t.Errorf("%s: lacks %q", q, w)
			}
		}
	}
	if page := e.do("GET", "/logs?status=error", c, nil).Body.String(); strings.Contains(page, "Pedido #1042") {
		t.Error("status filter lets other rows through")
	}
}

func TestTenantIsolation(t *testing.T) {
	e := newTestEnv(t)
	c := e.login("ana")
	seedLogs(t, e)
	for _, p := range []string{"/logs", "/logs?tenant=bia", "/logs.csv?tenant=bia", "/logs.csv?q=BIA-SECRET-SKU", "/status.json?tenant=bia", "/?tenant=bia"} {
		res := e.do("GET", p, c, nil)
		if strings.Contains(res.Body.String(), "BIA-SECRET-SKU") || strings.Contains(res.Body.String(), `"tenant":"bia"`) {
			t.Errorf("%s shows bia's data", p)
		}
	}
	// Searching for the other tenant's SKU finds nothing (the search box echoes it).
	if page := e.do("GET", "/logs?q=BIA-SECRET-SKU", c, nil).Body.String(); !strings.Contains(page, `id="no-rows"`) {
		t.Error("a search for bia's SKU found rows")
	}
	// A POST naming the other tenant changes only the session's own.
	_ = e.store.SetTenantStatus(context.Background(), "bia", cazbling.TenantActive, time.Time{}, "")
	_ = e.store.SetTenantStatus(context.Background(), "ana", cazbling.TenantActive, time.Time{}, "")
	e.post("/pause?tenant=bia", c, url.Values{"tenant": {"bia"}})
	if e.tenant("bia").Status != cazbling.TenantActive || e.tenant("ana").Status != cazbling.TenantPausedBySeller {
		t.Error("pause reached the other tenant")
	}
}

func TestLogsCSV(t *testing.T) {
	e := newTestEnv(t)
	c := e.login("ana")
	seedLogs(t, e)
	res := e.do("GET", "/logs.csv", c, nil)
	if ct := res.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") || !strings.Contains(res.Header().Get("Content-Disposition"), "attachment") {
		t.Fatalf("csv headers: %v", res.Header())
	}
	recs, err := csv.NewReader(res.Body).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(recs[0], ",") != "id,time,run_id,tenant,flow,entity,key,action,status,message,bling_id,cazco_id" || len(recs) != 6 {
		t.Fatalf("csv: %v", recs)
	}
	var sawFormula, sawPT bool
	for _, r := range recs[1:] {
		if r[3] != "ana" {
			t.Errorf("row of %s", r[3])
		}
		sawFormula = sawFormula || strings.HasPrefix(r[6], "'=")
		sawPT = sawPT || r[9] == "Pedido #1042 registrado no Bling."
	}
	if !sawFormula || !sawPT {
		t.Errorf("csv cells: formula guarded %v, pt-BR message %v", sawFormula, sawPT)
	}
	filtered, _ := csv.NewReader(e.do("GET", "/logs.csv?flow=orders", c, nil).Body).ReadAll()
	if len(filtered) != 2 {
		t.Errorf("filtered csv: %v", filtered)
	}
}

func TestLogsPaging(t *testing.T) {
	e := newTestEnv(t)
	c := e.login("ana")
	var rows []cazbling.LogEntry
	for i := range logsPerPage + 5 {
		rows = append(rows, cazbling.LogEntry{TenantID: "ana", Flow: "products", Entity: "product",
			Key: "P-" + string(rune('A'+i%26)) + time.Duration(i).String(), Action: "created", Status: "ok", Code: "product.created",
			Time: e.clock().Add(time.Duration(i) * time.Second)})
	}
	if err := e.store.Apply(context.Background(), cazbling.Batch{Logs: rows}); err != nil {
		t.Fatal(err)
	}
	first := e.do("GET", "/logs", c, nil).Body.String()
	second := e.do("GET", "/logs?page=2", c, nil).Body.String()
	if strings.Count(first, "criado na CaZco") != logsPerPage || strings.Count(second, "criado na CaZco") != 5 ||
		!strings.Contains(first, "page=2") || !strings.Contains(second, "page=1") {
		t.Errorf("paging: %d then %d rows", strings.Count(first, "criado na CaZco"), strings.Count(second, "criado na CaZco"))
	}
}

func TestFormats(t *testing.T) {
	for in, want := range map[string]string{"1234.56": "R$ 1.234,56", "0.5": "R$ 0,50", "-1234567.891": "-R$ 1.234.567,89", "100": "R$ 100,00"} {
		if got := FormatBRL(decimal.RequireFromString(in)); got != want {
			t.Errorf("FormatBRL(%s) = %q, want %q", in, got, want)
		}
	}
	if got := maskKey("czk-abcdef1234"); got != "••••1234" {
		t.Errorf("maskKey = %q", got)
	}
	if got := maskKey("abc"); got != "••••" {
		t.Errorf("maskKey short = %q", got)
	}
}
