package e2e

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// findBrowser returns a Chromium to drive: $CAZBLING_CHROMIUM, else chromium (Debian's
// package) or Chrome on PATH. With CI set a missing browser fails the test: the browser
// test must not skip silently there (.ci/run installs chromium).
func findBrowser(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("CAZBLING_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("no Chromium found (CI is set, so this is a failure): install Debian's chromium package, or set CAZBLING_CHROMIUM")
	}
	t.Skip("no Chromium found: install Debian's chromium package (or set CAZBLING_CHROMIUM) to run the browser test")
	return ""
}

// artifactsDir is where the browser test keeps its screenshot: $CAZBLING_ARTIFACTS, or
// pkg/e2e/testdata/artifacts (ignored by git).
func artifactsDir(t *testing.T) string {
	dir := os.Getenv("CAZBLING_ARTIFACTS")
	if dir == "" {
		_, file, _, _ := runtime.Caller(0)
		dir = filepath.Join(filepath.Dir(file), "testdata", "artifacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// syncBuffer collects a process's output while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// A seller, in a real headless Chromium, opens the invite link, enters the CaZco key,
// is sent to the (sandbox) Bling authorize page, authorizes, comes back to the panel,
// watches the initial sync finish and reads the log rows in Portuguese. The panel is
// the built binary; SIGTERM stops it with exit 0.
func TestE2EPanelInBrowser(t *testing.T) {
	browser := findBrowser(t)
	e := newEnv(t)
	tn := e.addTenant("loja-da-ana")
	e.seedCatalogue(tn, 6, func(i int) int64 { return int64(i) })
	addr := freePort(t)
	public := "http://" + addr
	e.sb.Bling.SetRedirectURI(public + "/oauth/bling/callback")

	r := e.mustRun(0, "tenants", "invite", tn.ID, "--public-url", public, "-o", "json")
	var inv struct{ Tenant, URL string }
	if err := json.Unmarshal([]byte(r.stdout), &inv); err != nil || !strings.HasPrefix(inv.URL, public+"/invite/") {
		t.Fatalf("invite: %v\n%s", err, r)
	}

	panel := e.command(context.Background(), "panel", "--listen", addr, "--public-url", public,
		"--bling-url", e.base+"/Api/v3", "--bling-client-id", tn.ClientID, "--bling-client-secret", tn.ClientSecret)
	stderr := &syncBuffer{}
	panel.Stderr = stderr
	if err := panel.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- panel.Wait() }()
	stopped := false
	defer func() {
		if !stopped {
			_ = syscall.Kill(-panel.Process.Pid, syscall.SIGKILL)
			<-exited
		}
	}()
	for {
		res, err := http.Get(public + "/healthz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				break
			}
		}
		select {
		case err := <-exited:
			stopped = true
			t.Fatalf("panel exited: %v\n%s", err, stderr.String())
		case <-time.After(50 * time.Millisecond):
		}
	}

	opts := append([]chromedp.ExecAllocatorOption{},
		chromedp.ExecPath(browser), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck, chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.WindowSize(1200, 1000))
	actx, acancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer acancel()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	// A guard against a hung browser, not a speed check.
	ctx, tcancel := context.WithTimeout(ctx, 3*time.Minute)
	defer tcancel()

	fail := func(step string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("browser, %s: %v\npanel log:\n%s", step, err, stderr.String())
		}
	}
	// shoot keeps a screenshot of the page as the seller sees it, for a person to look at.
	shoot := func(name string) {
		t.Helper()
		shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		fail("screenshot "+name, err)
		path := filepath.Join(artifactsDir(t), name+".png")
		if err := os.WriteFile(path, shot, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot: %s", path)
	}
	fail("invite link", chromedp.Do(ctx, chromedp.Navigate(inv.URL), chromedp.WaitVisible(`#cazco-form`)))
	shoot("panel-1-cazco")
	fail("CaZco step", chromedp.Do(ctx,
		chromedp.SendKeys(`input[name="cazco_url"]`, e.base+"/api/v1/seller"),
		chromedp.SendKeys(`input[name="cazco_api_key"]`, tn.CazcoKey),
		chromedp.Submit(`#cazco-form`),
		chromedp.WaitEnabled(`#bling-connect`),
	))
	shoot("panel-2-bling")
	fail("Bling and back", chromedp.Do(ctx,
		chromedp.Click(`#bling-connect`),
		chromedp.WaitVisible(`#allow`), // the sandbox's Bling consent page
		chromedp.Click(`#allow`),
		chromedp.WaitVisible(`#initial-sync`),
	))
	// The page follows the initial sync by itself (status.json), and reloads when it
	// is done. Its script marks the sync done just before that reload, so the label
	// and the text are read, in one go, from the page the reload brings: the one
	// without the progress bar. A poll that meets the reload asks again.
	var syncLabel, home string
	for {
		got, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(function () {
			var box = document.querySelector('#initial-sync');
			if (document.readyState !== 'complete' || !box || box.dataset.state !== 'done' || document.querySelector('#initial-sync-progress')) return '';
			return document.querySelector('#initial-sync-label').innerText + '\u0001' + document.body.innerText;
		})()`))
		if err == nil && got != "" {
			syncLabel, home, _ = strings.Cut(got, "\u0001")
			break
		}
		if ctx.Err() != nil {
			fail("initial sync progress", ctx.Err())
		}
		time.Sleep(200 * time.Millisecond)
	}
	shoot("panel-3-home")
	fail("log page", chromedp.Do(ctx, chromedp.Click(`#logs-link`), chromedp.WaitVisible(`#log-rows`)))
	logs, err := chromedp.Run(ctx, chromedp.Text(`#log-rows`))
	fail("log rows", err)
	shoot("panel-4-logs")

	if !strings.Contains(syncLabel, "Concluída") || !strings.Contains(home, "Ativa") {
		t.Errorf("home after connecting: %q\n%s", syncLabel, home)
	}
	for _, want := range []string{"Produto SKU-00000 criado na CaZco.", "Estoque de SKU-00005 definido em 5 na CaZco."} {
		if !strings.Contains(logs, want) {
			t.Errorf("log page lacks %q:\n%s", want, logs)
		}
	}
	if got := len(e.cazcoBySKU(tn)); got != 6 {
		t.Errorf("CaZco has %d products, want 6", got)
	}
	if strings.Contains(stderr.String(), tn.CazcoKey) || strings.Contains(stderr.String(), "/invite/"+strings.TrimPrefix(inv.URL, public+"/invite/")) {
		t.Error("the panel's log holds the CaZco key or the invite token")
	}
	// The flows see the tenant as active, with what the panel stored.
	e.mustRun(0, "sync-products")

	_ = syscall.Kill(panel.Process.Pid, syscall.SIGTERM)
	err = <-exited
	stopped = true
	if err != nil {
		t.Fatalf("panel after SIGTERM: %v\n%s", err, stderr.String())
	}
}
