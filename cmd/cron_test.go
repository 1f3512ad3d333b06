package cmd

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cazbling/cazbling/pkg/cazbling"
	"github.com/cazbling/cazbling/pkg/flow"
)

// promSample is one sample of a Prometheus text-format file.
type promSample struct {
	name   string
	labels map[string]string
	value  float64
}

// promFile is a parsed Prometheus text-format file.
type promFile struct {
	types   map[string]string // metric family name → type
	samples []promSample
}

// value returns the value of the series name{labels}, and whether it exists.
func (f promFile) value(name string, labels map[string]string) (float64, bool) {
	for _, s := range f.samples {
		if s.name == name && mapsEqual(s.labels, labels) {
			return s.value, true
		}
	}
	return 0, false
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

var (
	promName      = regexp.MustCompile(`^[a-zA-Z_:][a-zA-Z0-9_:]*$`)
	promLabelName = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)
)

// parseProm parses the Prometheus text exposition format strictly: HELP and TYPE
// lines at most once per family and before its samples, a family's samples together,
// every sample's family typed, well-formed label sets with only the format's escapes,
// values that parse as floats, no series twice, a final newline.
func parseProm(text string) (promFile, error) {
	f := promFile{types: map[string]string{}}
	if !strings.HasSuffix(text, "\n") {
		return f, fmt.Errorf("no final newline")
	}
	helped := map[string]bool{}
	finished := map[string]bool{} // families whose samples are over
	seen := map[string]bool{}
	current := ""
	for i, line := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		fail := func(format string, a ...any) (promFile, error) {
			return f, fmt.Errorf("line %d %q: %s", i+1, line, fmt.Sprintf(format, a...))
		}
		switch {
		case line == "":
			return fail("empty line")
		case strings.HasPrefix(line, "# HELP ") || strings.HasPrefix(line, "# TYPE "):
			parts := strings.SplitN(line[len("# HELP "):], " ", 2)
			name := parts[0]
			if !promName.MatchString(name) {
				return fail("bad metric name")
			}
			if finished[name] || name == current && len(f.samples) > 0 && f.samples[len(f.samples)-1].name == name {
				return fail("comes after the family's samples")
			}
			if strings.HasPrefix(line, "# HELP ") {
				if helped[name] {
					return fail("second HELP")
				}
				helped[name] = true
				if len(parts) != 2 || strings.Contains(strings.ReplaceAll(strings.ReplaceAll(parts[1], `\\`, ""), `\n`, ""), `\`) {
					return fail("bad HELP text")
				}
			} else {
				if _, ok := f.types[name]; ok {
					return fail("second TYPE")
				}
				if len(parts) != 2 || !slices.Contains([]string{"counter", "gauge", "histogram", "summary", "untyped"}, parts[1]) {
					return fail("bad TYPE")
				}
				f.types[name] = parts[1]
			}
			if current != "" && current != name {
				finished[current] = true
			}
			current = name
		case strings.HasPrefix(line, "#"):
			// A comment.
		default:
			s, rest, err := parseSampleHead(line)
			if err != nil {
				return fail("%v", err)
			}
			fields := strings.Fields(rest)
			if len(fields) < 1 || len(fields) > 2 || !strings.HasPrefix(rest, " ") {
				return fail("want ' value [timestamp]' after the series")
			}
			if s.value, err = strconv.ParseFloat(fields[0], 64); err != nil {
				return fail("value: %v", err)
			}
			if len(fields) == 2 {
				if _, err := strconv.ParseInt(fields[1], 10, 64); err != nil {
					return fail("timestamp: %v", err)
				}
			}
			typ, ok := f.types[s.name]
			if !ok {
				return fail("no TYPE for %s", s.name)
			}
			if finished[s.name] || current != s.name {
				return fail("%s's samples are not together under its TYPE", s.name)
			}
			if typ == "counter" && s.value < 0 {
				return fail("negative counter")
			}
			series := s.name + fmt.Sprint(s.labels)
			if seen[series] {
				return fail("series twice")
			}
			seen[series] = true
			f.samples = append(f.samples, s)
		}
	}
	return f, nil
}

// parseSampleHead reads `name{label="value",...}` and returns the rest of the line.
func parseSampleHead(line string) (promSample, string, error) {
	s := promSample{labels: map[string]string{}}
	end := strings.IndexAny(line, "{ ")
	if end < 0 {
		return s, "", fmt.Errorf("no value")
	}
	s.name = line[:end]
	if !promName.MatchString(s.name) {
		return s, "", fmt.Errorf("bad metric name %q", s.name)
	}
	rest := line[end:]
	if !strings.HasPrefix(rest, "{") {
		return s, rest, nil
	}
	rest = rest[1:]
	for !strings.HasPrefix(rest, "}") {
		eq := strings.Index(rest, `="`)
		if eq < 0 {
			return s, "", fmt.Errorf("bad label set")
		}
		name := rest[:eq]
		if !promLabelName.MatchString(name) {
			return s, "", fmt.Errorf("bad label name %q", name)
		}
		if _, dup := s.labels[name]; dup {
			return s, "", fmt.Errorf("label %q twice", name)
		}
		rest = rest[eq+2:]
		var value strings.Builder
		for {
			if rest == "" {
				return s, "", fmt.Errorf("unterminated label value")
			}
			c := rest[0]
			if c == '"' {
				rest = rest[1:]
				break
			}
			if c == '\\' {
				if len(rest) < 2 {
					return s, "", fmt.Errorf("bad escape")
				}
				switch rest[1] {
				case '\\':
					value.WriteByte('\\')
				case '"':
					value.WriteByte('"')
				case 'n':
					value.WriteByte('\n')
				default:
					return s, "", fmt.Errorf("escape \\%c is not allowed in a label value", rest[1])
				}
				rest = rest[2:]
				continue
			}
			value.WriteByte(c)
			rest = rest[1:]
		}
		s.labels[name] = value.String()
		if strings.HasPrefix(rest, ",") {
			rest = rest[1:]
		} else if !strings.HasPrefix(rest, "}") {
			return s, "", fmt.Errorf("want , or } after a label")
		}
	}
	return s, rest[1:], nil
}

func TestPromParserRejectsBrokenFiles(t *testing.T) {
	good := "# HELP a_total A.\n# TYPE a_total counter\na_total{api=\"bling\"} 3\n"
	if _, err := parseProm(good); err != nil {
		t.Fatalf("good file refused: %v", err)
	}
	for name, bad := range map[string]string{
		"no newline":      strings.TrimSuffix(good, "\n"),
		"no type":         "a 1\n",
		"bad value":       "# TYPE a gauge\na one\n",
		"bad escape":      "# TYPE a gauge\na{t=\"x\\ty\"} 1\n",
		"unquoted label":  "# TYPE a gauge\na{t=x} 1\n",
		"twice":           "# TYPE a gauge\na 1\na 2\n",
		"split family":    "# TYPE a gauge\n# TYPE b gauge\na 1\n",
		"type after data": "# TYPE a gauge\na 1\n# TYPE a gauge\n",
		"negative count":  "# TYPE a counter\na -1\n",
		"bad name":        "# TYPE 1a gauge\n1a 1\n",
		"empty line":      "# TYPE a gauge\n\na 1\n",
	} {
		if _, err := parseProm(bad); err == nil {
			t.Errorf("%s: accepted %q", name, bad)
		}
	}
}

func TestWriteMetricsIsPrometheusTextAndAtomic(t *testing.T) {
	s, _ := openStore(t)
	f := seed(t, s)
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "metrics") // created by writeMetrics
	path := filepath.Join(dir, "cazbling.prom")
	results := []flow.Result{
		{TenantID: "bazar-do-beto", Flow: "products", RunID: f.runs["beto-products"], Status: "ok",
			Counts: cazbling.Counts{Created: 1}, Duration: 2 * time.Minute},
		{TenantID: "loja-da-ana", Flow: "orders", RunID: f.runs["ana-orders"], Status: "error",
			Counts: cazbling.Counts{Created: 2, Failed: 1, Retry: 1}, Duration: 20500 * time.Millisecond},
	}
	stats := newAPIStats()
	for _, status := range []int{200, 200, 429, 503, 0} {
		stats.observer("bling")("GET", "https://api.bling.com.br/Api/v3/produtos", status)
	}
	stats.observer("cazco")("GET", "https://x/orders", 200)

	if err := writeMetrics(ctx, path, s, results, stats, fixedNow); err != nil {
		t.Fatal(err)
	}
	first, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m, err := parseProm(string(first))
	if err != nil {
		t.Fatalf("not Prometheus text format: %v\n%s", err, first)
	}
	for _, want := range []struct {
		name   string
		labels map[string]string
		value  float64
	}{
		{"cazbling_last_success_timestamp_seconds", map[string]string{"tenant": "bazar-do-beto", "flow": "products"}, float64(at("2026-10-31T23:02:00Z").Unix())},
		{"cazbling_last_run_failed", map[string]string{"tenant": "loja-da-ana", "flow": "orders"}, 1},
		{"cazbling_last_run_failed", map[string]string{"tenant": "bazar-do-beto", "flow": "products"}, 0},
		{"cazbling_last_run_items", map[string]string{"tenant": "loja-da-ana", "flow": "orders", "outcome": "failed"}, 1},
		{"cazbling_last_run_items", map[string]string{"tenant": "loja-da-ana", "flow": "orders", "outcome": "retry_later"}, 1},
		{"cazbling_last_run_items", map[string]string{"tenant": "loja-da-ana", "flow": "orders", "outcome": "created"}, 2},
		{"cazbling_last_run_duration_seconds", map[string]string{"tenant": "loja-da-ana", "flow": "orders"}, 20.5},
		{"cazbling_api_requests_total", map[string]string{"api": "bling"}, 5},
		{"cazbling_api_requests_total", map[string]string{"api": "cazco"}, 1},
		{"cazbling_api_rate_limited_total", map[string]string{"api": "bling"}, 1},
		{"cazbling_api_errors_total", map[string]string{"api": "bling"}, 2},
		{"cazbling_metrics_written_timestamp_seconds", map[string]string{}, float64(fixedNow.Unix())},
	} {
		if got, ok := m.value(want.name, want.labels); !ok || got != want.value {
			t.Errorf("%s%v = %v (present: %v), want %v", want.name, want.labels, got, ok, want.value)
		}
	}
	// loja-da-ana's orders never succeeded: no success time rather than a zero.
	if v, ok := m.value("cazbling_last_success_timestamp_seconds", map[string]string{"tenant": "loja-da-ana", "flow": "orders"}); ok {
		t.Errorf("last success of a flow that never succeeded: %v", v)
	}

	// A second run replaces the file whole, and leaves no temporary file behind.
	later := fixedNow.Add(15 * time.Minute)
	if err := writeMetrics(ctx, path, s, results[:1], newAPIStats(), later); err != nil {
		t.Fatal(err)
	}
	second, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m, err = parseProm(string(second))
	if err != nil {
		t.Fatalf("second file: %v\n%s", err, second)
	}
	if v, _ := m.value("cazbling_metrics_written_timestamp_seconds", map[string]string{}); v != float64(later.Unix()) {
		t.Errorf("second file written at %v, want %v", v, later.Unix())
	}
	if _, ok := m.value("cazbling_last_run_failed", map[string]string{"tenant": "loja-da-ana", "flow": "orders"}); ok {
		t.Error("the second file still has a series of the first")
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != "cazbling.prom" {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("folder holds %q, want only cazbling.prom", names)
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, want 0644 (readable by the node exporter)", info.Mode().Perm())
	}

	// A write that cannot land leaves the old file alone and no temporary file.
	blocked := filepath.Join(dir, "blocked")
	if err := os.Mkdir(blocked, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(blocked, "keep"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := writeMetrics(ctx, blocked, s, results, stats, fixedNow); err == nil {
		t.Error("writing over a non-empty folder succeeded")
	}
	entries, _ = os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("folder holds %d entries after a failed write, want 2 (file and folder)", len(entries))
	}
}

// pingRecorder is a dead-man's-switch service that records the paths it is sent.
type pingRecorder struct {
	mu    sync.Mutex
	paths []string
}

func (p *pingRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.paths = append(p.paths, r.Method+" "+r.URL.Path)
}

func (p *pingRecorder) seen() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.paths)
}

// cronStore makes a store whose tenants need no API: one inactive (a run skips it, a
// success) and one that needs re-authorization (a run fails it at once).
func cronStore(t *testing.T) string {
	t.Helper()
	s, db := openStore(t)
	ctx := context.Background()
	for _, tn := range []cazbling.Tenant{
		{ID: "dani", Status: cazbling.TenantInactive, StatusReason: "deactivated by an operator"},
		{ID: "casa-cris", Status: cazbling.TenantNeedsReauth, StatusReason: "Bling refused the refresh token (invalid_grant)"},
	} {
		if err := s.UpsertTenant(ctx, tn, nil); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	return db
}

func TestSyncPingsAndWritesMetrics(t *testing.T) {
	db := cronStore(t)
	for _, tc := range []struct {
		name  string
		args  []string
		code  int
		pings []string
	}{
		{"success", []string{"sync-orders", "--tenant", "dani"}, ExitOK, []string{"GET /hc/uuid-1/start", "GET /hc/uuid-1"}},
		{"a tenant fails", []string{"sync-orders"}, ExitFailed, []string{"GET /hc/uuid-1/start", "GET /hc/uuid-1/fail"}},
		{"usage error", []string{"sync-orders", "--tenant", "nobody"}, ExitUsage, []string{"GET /hc/uuid-1/start", "GET /hc/uuid-1/fail"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := &pingRecorder{}
			srv := httptest.NewServer(rec)
			defer srv.Close()
			metrics := filepath.Join(t.TempDir(), "cazbling.prom")
			env := map[string]string{"CAZBLING_PING_URL": srv.URL + "/hc/uuid-1/", "CAZBLING_METRICS_FILE": metrics}
			code, stdout, stderr := cli(t, db, env, tc.args...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\n%s%s", code, tc.code, stdout, stderr)
			}
			if got := rec.seen(); !slices.Equal(got, tc.pings) {
				t.Errorf("pings %q, want %q", got, tc.pings)
			}
			if tc.code == ExitUsage {
				return
			}
			text, err := os.ReadFile(metrics)
			if err != nil {
				t.Fatalf("no metrics file: %v", err)
			}
			m, err := parseProm(string(text))
			if err != nil {
				t.Fatalf("metrics: %v\n%s", err, text)
			}
			want := 0.0
			if tc.code == ExitFailed {
				want = 1
			}
			tenant := map[bool]string{true: "casa-cris", false: "dani"}[tc.code == ExitFailed]
			if v, ok := m.value("cazbling_last_run_failed", map[string]string{"tenant": tenant, "flow": "orders"}); !ok || v != want {
				t.Errorf("%s last_run_failed = %v (%v), want %v\n%s", tenant, v, ok, want, text)
			}
		})
	}
}

func TestDeadPingURLDoesNotFailTheRun(t *testing.T) {
	db := cronStore(t)
	srv := httptest.NewServer(http.NotFoundHandler())
	dead := srv.URL + "/hc/uuid-2"
	srv.Close()
	code, stdout, stderr := cli(t, db, nil, "--ping-url", dead, "sync-products", "--tenant", "dani")
	if code != ExitOK {
		t.Fatalf("exit %d with a dead ping URL\n%s%s", code, stdout, stderr)
	}
	if n := strings.Count(stderr, "ping failed"); n != 2 {
		t.Errorf("stderr tells of %d failed pings, want 2 (start, success):\n%s", n, stderr)
	}
}

func TestPingerSendsPathsAndSurvivesErrors(t *testing.T) {
	rec := &pingRecorder{}
	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec.ServeHTTP(w, r)
		http.Error(w, "no", http.StatusInternalServerError)
	}))
	defer failing.Close()
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	p := newPinger(failing.URL+"/ping/key/", logger)
	ctx := context.Background()
	p.send(ctx, "/start")
	p.send(ctx, "/fail")
	p.send(ctx, "")
	if want := []string{"GET /ping/key/start", "GET /ping/key/fail", "GET /ping/key"}; !slices.Equal(rec.seen(), want) {
		t.Errorf("paths %q, want %q", rec.seen(), want)
	}
	if n := strings.Count(logs.String(), "ping failed"); n != 3 {
		t.Errorf("%d warnings for 3 failed pings:\n%s", n, logs.String())
	}
	// No URL, no pings, no noise.
	logs.Reset()
	newPinger("", logger).send(ctx, "/start")
	if logs.Len() != 0 {
		t.Errorf("pinger without a URL logged %q", logs.String())
	}
}
