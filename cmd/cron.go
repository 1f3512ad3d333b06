package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/cazbling/cazbling/pkg/cazbling"
	"github.com/cazbling/cazbling/pkg/flow"
	"github.com/cazbling/cazbling/pkg/httpx"
	"github.com/cazbling/cazbling/pkg/store"
)

// pinger sends dead-man's-switch pings (healthchecks.io style). A ping never fails
// the run: errors are logged and forgotten.
type pinger struct {
	url    string
	client *http.Client
	logger *slog.Logger
}

func newPinger(url string, logger *slog.Logger) *pinger {
	return &pinger{url: strings.TrimRight(url, "/"), client: &http.Client{Timeout: 10 * time.Second}, logger: logger}
}

// send pings url+suffix ("/start", "" for success, "/fail").
func (p *pinger) send(ctx context.Context, suffix string) {
	if p.url == "" {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.url+suffix, nil)
	if err == nil {
		var resp *http.Response
		if resp, err = p.client.Do(req); err == nil {
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
			resp.Body.Close()
			if resp.StatusCode >= 400 {
				err = fmt.Errorf("HTTP %d", resp.StatusCode)
			}
		}
	}
	if err != nil {
		// The URL's path is the check's key at most ping services: name the host only.
		host := "?"
		if u, perr := url.Parse(p.url); perr == nil {
			host = u.Host
		}
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // its text repeats the URL
		}
		p.logger.Warn("ping failed (the run goes on)", "host", host, "ping", suffix, "error", httpx.RedactString(err.Error()))
	}
}

// progress draws a one-line progress indicator on a terminal; never under cron.
type progress struct {
	mu   sync.Mutex
	w    io.Writer
	last time.Time
	seen map[string]int
}

func newProgress(w io.Writer) *progress { return &progress{w: w, seen: map[string]int{}} }

func (p *progress) update(tenant, flowName string, done, total int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.seen[tenant+" "+flowName] = done
	if time.Since(p.last) < 200*time.Millisecond {
		return
	}
	p.last = time.Now()
	keys := make([]string, 0, len(p.seen))
	for k := range p.seen {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s: %d", k, p.seen[k]))
	}
	line := ellipsize(strings.Join(parts, " | "), 78)
	fmt.Fprintf(p.w, "\r\033[K%s", line)
	_ = total
}

func (p *progress) done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.last.IsZero() {
		fmt.Fprint(p.w, "\r\033[K")
	}
}

// writeMetrics writes Prometheus text-format metrics atomically: a temporary file in
// the same folder, then a rename over the old one.
func writeMetrics(ctx context.Context, path string, store store.Store, results []flow.Result, stats *apiStats, now time.Time) error {
	var b strings.Builder
	gauge := func(name, help string) {
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name)
	}
	counter := func(name, help string) {
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s counter\n", name, help, name)
	}
	gauge("cazbling_last_success_timestamp_seconds", "When the flow last finished without failed items, per tenant (unix seconds).")
	for _, r := range results {
		last := lastSuccess(ctx, store, r.TenantID, r.Flow)
		if !last.IsZero() {
			fmt.Fprintf(&b, "cazbling_last_success_timestamp_seconds{tenant=%q,flow=%q} %d\n", r.TenantID, r.Flow, last.Unix())
		}
	}
	gauge("cazbling_last_run_failed", "1 when the tenant's last run of the flow failed, else 0.")
	for _, r := range results {
		v := 0
		if r.Failed() {
			v = 1
		}
		fmt.Fprintf(&b, "cazbling_last_run_failed{tenant=%q,flow=%q} %d\n", r.TenantID, r.Flow, v)
	}
	gauge("cazbling_last_run_items", "Items of the tenant's last run, by outcome.")
	for _, r := range results {
		c := r.Counts
		for _, o := range []struct {
			name string
			n    int
		}{{"created", c.Created}, {"updated", c.Updated}, {"unchanged", c.Unchanged}, {"stock_set", c.StockSet},
			{"skipped", c.Skipped}, {"warning", c.Warnings}, {"failed", c.Failed}, {"retry_later", c.Retry}} {
			fmt.Fprintf(&b, "cazbling_last_run_items{tenant=%q,flow=%q,outcome=%q} %d\n", r.TenantID, r.Flow, o.name, o.n)
		}
	}
	gauge("cazbling_last_run_duration_seconds", "How long the tenant's last run took.")
	for _, r := range results {
		fmt.Fprintf(&b, "cazbling_last_run_duration_seconds{tenant=%q,flow=%q} %g\n", r.TenantID, r.Flow, r.Duration.Seconds())
	}
	stats.mu.Lock()
	counter("cazbling_api_requests_total", "API requests sent by the last run, by API.")
	for _, api := range []string{"bling", "cazco"} {
		fmt.Fprintf(&b, "cazbling_api_requests_total{api=%q} %d\n", api, stats.requests[api])
	}
	counter("cazbling_api_rate_limited_total", "429 answers received by the last run, by API.")
	for _, api := range []string{"bling", "cazco"} {
		fmt.Fprintf(&b, "cazbling_api_rate_limited_total{api=%q} %d\n", api, stats.limited[api])
	}
	counter("cazbling_api_errors_total", "5xx answers and network errors met by the last run, by API.")
	for _, api := range []string{"bling", "cazco"} {
		fmt.Fprintf(&b, "cazbling_api_errors_total{api=%q} %d\n", api, stats.errors[api])
	}
	stats.mu.Unlock()
	gauge("cazbling_metrics_written_timestamp_seconds", "When this file was written (unix seconds).")
	fmt.Fprintf(&b, "cazbling_metrics_written_timestamp_seconds %d\n", now.Unix())
	return writeFileAtomic(path, []byte(b.String()))
}

func lastSuccess(ctx context.Context, store store.Store, tenant, flowName string) time.Time {
	var last time.Time
	for _, st := range []string{cazbling.StatusOK, cazbling.StatusWarning} {
		runs, err := store.Runs(ctx, cazbling.RunFilter{TenantID: tenant, Flow: flowName, Status: st, Limit: 1})
		if err == nil && len(runs) > 0 && runs[0].FinishedAt.After(last) {
			last = runs[0].FinishedAt
		}
	}
	return last
}

// writeFileAtomic replaces path with data so that readers see the old or the new
// file, never a half-written one.
func writeFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
