package panel

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/cazbling/cazbling/pkg/cazbling"
)

// cazcoForm is the CaZco step's form as shown again after a refusal.
type cazcoForm struct {
	URL    string
	Error  string // pt-BR
	Reason string // CaZco's own words
}

// flowStatus is one flow's last run as the home page and status.json show it.
type flowStatus struct {
	Flow      string `json:"flow"`
	LastRunAt string `json:"last_run_at"`
	Outcome   string `json:"outcome"`
	Label     string `json:"-"`
	When      string `json:"-"`
	Result    string `json:"-"`
}

// statusView is what / and /status.json show.
type statusView struct {
	Tenant      string       `json:"tenant"`
	Status      string       `json:"status"`
	InitialSync initialView  `json:"initial_sync"`
	Flows       []flowStatus `json:"flows"`
}

type initialView struct {
	State string `json:"state"`
	Done  int    `json:"done"`
	Total int    `json:"total"`
}

// homeView is the home page's data.
type homeView struct {
	statusView
	CSRF         string
	StatusLabel  string
	Notice       string // pt-BR message above everything (an error, a refusal)
	CazcoDone    bool
	CazcoURL     string
	CazcoKey     string // masked
	Form         *cazcoForm
	Active       bool
	PausedSeller bool
	NeedsReauth  bool
	Failing      int
	WhatToDo     string
	SyncLabel    string
	Company      string
}

var flowOrder = []string{cazbling.FlowActivate, cazbling.FlowProducts, cazbling.FlowStock, cazbling.FlowOrders}

func (s *Server) status(r *http.Request, t cazbling.Tenant) (statusView, map[string]cazbling.Run, error) {
	runs, err := s.lastRuns(r, t.ID)
	if err != nil {
		return statusView{}, nil, err
	}
	v := statusView{Tenant: t.ID, Status: string(t.Status), Flows: []flowStatus{}}
	st, done, total, err := s.initialSync(r.Context(), t, runs)
	if err != nil {
		return v, nil, err
	}
	v.InitialSync = initialView{State: st, Done: done, Total: total}
	for _, f := range flowOrder {
		fs := flowStatus{Flow: f, Label: flowLabel(f), When: "—", Result: "nunca executado"}
		if run, ok := runs[f]; ok {
			fs.LastRunAt = run.StartedAt.UTC().Format(time.RFC3339)
			fs.Outcome = run.Status
			fs.When = formatTime(run.StartedAt)
			fs.Result = outcomeLabel(run.Status)
		}
		v.Flows = append(v.Flows, fs)
	}
	return v, runs, nil
}

func (s *Server) lastRuns(r *http.Request, tenant string) (map[string]cazbling.Run, error) {
	return s.cfg.Store.LastRuns(r.Context(), tenant)
}

func (s *Server) home(w http.ResponseWriter, r *http.Request, ss session) {
	t, ok := s.tenant(w, r, ss)
	if !ok {
		return
	}
	s.renderHome(w, r, ss, t, http.StatusOK, nil, "")
}

// renderHome renders the home page: the set-up steps until the tenant is active, then
// its status; notice is a message to show first.
func (s *Server) renderHome(w http.ResponseWriter, r *http.Request, ss session, t cazbling.Tenant, code int, form *cazcoForm, notice string) {
	sv, _, err := s.status(r, t)
	if err != nil {
		s.fail(w, r, "read status", err)
		return
	}
	failing, err := s.cfg.Store.FailingItems(r.Context(), t.ID)
	if err != nil {
		s.fail(w, r, "count failing items", err)
		return
	}
	v := homeView{
		statusView: sv, CSRF: ss.csrf(), StatusLabel: statusLabel(t.Status), Notice: notice,
		CazcoDone: t.CazcoURL != "" && t.CazcoAPIKey != "", CazcoURL: t.CazcoURL, CazcoKey: maskKey(t.CazcoAPIKey),
		Form: form, Active: t.Status == cazbling.TenantActive, PausedSeller: t.Status == cazbling.TenantPausedBySeller,
		NeedsReauth: t.Status == cazbling.TenantNeedsReauth, Failing: failing,
		WhatToDo: whatToDo(t, failing), SyncLabel: initialLabel(sv.InitialSync),
	}
	if v.Form == nil {
		v.Form = &cazcoForm{URL: t.CazcoURL}
	}
	s.render(w, code, "home.html", v)
}

func (s *Server) statusJSON(w http.ResponseWriter, r *http.Request, ss session) {
	t, ok := s.tenant(w, r, ss)
	if !ok {
		return
	}
	v, _, err := s.status(r, t)
	if err != nil {
		s.fail(w, r, "read status", err)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_ = json.NewEncoder(w).Encode(struct {
		statusView
		SyncLabel string `json:"initial_sync_label"`
	}{v, initialLabel(v.InitialSync)})
}

// logFilter reads the log page's filters; the tenant is always the session's.
func logFilter(q url.Values, tenant string) (cazbling.LogFilter, int, url.Values) {
	f := cazbling.LogFilter{TenantID: tenant}
	keep := url.Values{}
	if v := q.Get("flow"); flowLabels[v] != "" {
		f.Flow = v
		keep.Set("flow", v)
	}
	if v := q.Get("status"); statusFilterLabels[v] != "" {
		f.Status = v
		keep.Set("status", v)
	}
	if v := strings.TrimSpace(q.Get("q")); v != "" && len(v) <= 200 {
		f.Search = v
		keep.Set("q", v)
	}
	page, _ := strconv.Atoi(q.Get("page"))
	if page < 1 || page > 100000 {
		page = 1
	}
	return f, page, keep
}

// logRowView is one log row on the page.
type logRowView struct {
	When, Flow, Key, Result, Status, Message, Hint, Detail string
}

type logsView struct {
	CSRF                     string
	Rows                     []logRowView
	Flow, Status, Q          string
	Flows, Statuses          []option
	Page                     int
	PrevURL, NextURL, CSVURL string
}

type option struct{ Value, Label string }

func (s *Server) logs(w http.ResponseWriter, r *http.Request, ss session) {
	f, page, keep := logFilter(r.URL.Query(), ss.tenant)
	f.Limit, f.Offset = logsPerPage+1, (page-1)*logsPerPage
	entries, err := s.cfg.Store.Logs(r.Context(), f)
	if err != nil {
		s.fail(w, r, "read logs", err)
		return
	}
	v := logsView{CSRF: ss.csrf(), Flow: f.Flow, Status: f.Status, Q: f.Search, Page: page,
		Flows:    options(flowLabels, []string{"products", "stock", "orders", "activate"}),
		Statuses: options(statusFilterLabels, []string{"ok", "warning", "error", "skipped"}),
		CSVURL:   "/logs.csv?" + keep.Encode()}
	if len(entries) > logsPerPage {
		entries = entries[:logsPerPage]
		v.NextURL = pageURL(keep, page+1)
	}
	if page > 1 {
		v.PrevURL = pageURL(keep, page-1)
	}
	for _, e := range entries {
		row := logRowView{When: formatTime(e.Time), Flow: flowLabel(e.Flow), Key: e.Key,
			Result: outcomeLabel(e.Status), Status: e.Status, Message: Message(e), Hint: Hint(e)}
		if e.Code != "" && (e.Status == cazbling.StatusError || e.Status == cazbling.StatusWarning) {
			row.Detail = e.Message
		}
		v.Rows = append(v.Rows, row)
	}
	s.render(w, http.StatusOK, "logs.html", v)
}

func pageURL(keep url.Values, page int) string {
	q := url.Values{}
	for k, v := range keep {
		q[k] = v
	}
	q.Set("page", strconv.Itoa(page))
	return "/logs?" + q.Encode()
}

func options(labels map[string]string, order []string) []option {
	out := make([]option, 0, len(order))
	for _, k := range order {
		out = append(out, option{k, labels[k]})
	}
	return out
}

// logColumns are `cazbling logs -o csv`'s columns.
var logColumns = []string{"id", "time", "run_id", "tenant", "flow", "entity", "key", "action", "status", "message", "bling_id", "cazco_id"}

// logsCSV is the log page's rows (all pages) as CSV, messages in Portuguese.
func (s *Server) logsCSV(w http.ResponseWriter, r *http.Request, ss session) {
	f, _, _ := logFilter(r.URL.Query(), ss.tenant)
	f.Limit = maxLogsCSVRows
	entries, err := s.cfg.Store.Logs(r.Context(), f)
	if err != nil {
		s.fail(w, r, "read logs", err)
		return
	}
	var buf bytes.Buffer
	cw := csv.NewWriter(&buf)
	_ = cw.Write(logColumns)
	for _, e := range entries {
		t := ""
		if !e.Time.IsZero() {
			t = e.Time.UTC().Format(time.RFC3339Nano)
		}
		rec := []string{strconv.FormatInt(e.ID, 10), t, strconv.FormatInt(e.RunID, 10), e.TenantID, e.Flow,
			e.Entity, e.Key, e.Action, e.Status, Message(e), e.BlingID, e.CazcoID}
		for i := range rec {
			rec[i] = csvSafe(rec[i])
		}
		_ = cw.Write(rec)
	}
	cw.Flush()
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="cazbling-log.csv"`)
	_, _ = w.Write(buf.Bytes())
}

// csvSafe keeps a spreadsheet from reading a cell as a formula.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		if _, err := strconv.ParseFloat(s, 64); err != nil {
			return "'" + s
		}
	}
	return s
}

// pageView is a message page.
type pageView struct {
	Title, Text string
	Home        bool // offer a link home
}

// page renders a message page with status code.
func (s *Server) page(w http.ResponseWriter, r *http.Request, code int, m message) {
	w.Header().Set("Cache-Control", "no-store")
	s.render(w, code, "message.html", pageView{Title: m.title, Text: m.text, Home: m.home})
}

// fail logs an internal error (never shown: it may hold paths or SQL) and says
// something went wrong.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, op string, err error) {
	s.cfg.Logger.Error("panel: "+op, "path", logPath(r), "err", err)
	s.page(w, r, http.StatusInternalServerError, msgInternal)
}

func (s *Server) render(w http.ResponseWriter, code int, name string, data any) {
	var buf bytes.Buffer
	if err := s.tmpl[name].ExecuteTemplate(&buf, name, data); err != nil {
		s.cfg.Logger.Error("panel: render "+name, "err", err)
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write([]byte("Erro interno."))
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(code)
	_, _ = w.Write(buf.Bytes())
}

func parseTemplates() (map[string]*template.Template, error) {
	funcs := template.FuncMap{"brl": FormatBRL}
	out := map[string]*template.Template{}
	for _, name := range []string{"home.html", "logs.html", "message.html"} {
		t, err := template.New(name).Funcs(funcs).ParseFS(templateFiles, "templates/layout.html", "templates/"+name)
		if err != nil {
			return nil, err
		}
		out[name] = t
	}
	return out, nil
}
