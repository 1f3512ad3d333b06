// Package cmd wires cazbling's command line: cobra commands, flags and environment,
// the store, the API clients, logging, and the exit status. Only this package maps
// errors to exit codes.
package cmd

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	charmlog "github.com/charmbracelet/log"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/cazbling/cazbling/pkg/flow"
	"github.com/cazbling/cazbling/pkg/store"
)

// Version is set at build time (-ldflags "-X github.com/cazbling/cazbling/cmd.Version=...").
var Version = "dev"

// Exit statuses (CLI.md).
const (
	ExitOK     = 0
	ExitFailed = 1 // an item or tenant failed
	ExitUsage  = 2 // usage or configuration error
)

// ExitError carries the exit status a command chose.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit status %d", e.Code)
	}
	return e.Err.Error()
}

func (e *ExitError) Unwrap() error { return e.Err }

// usageErr marks a configuration mistake: exit 2.
func usageErr(format string, a ...any) error {
	return &ExitError{Code: ExitUsage, Err: fmt.Errorf(format, a...)}
}

// IO is where a command reads and writes; tests replace it.
type IO struct {
	In     io.Reader
	Out    io.Writer
	Err    io.Writer
	Getenv func(string) string
	// IsTerminal reports whether stdin/stderr are terminals (prompts, progress bars).
	StdinTerminal  bool
	StderrTerminal bool
}

// App holds the global flags and what every subcommand shares.
type App struct {
	IO  IO
	Now func() time.Time

	DB          string
	LogFormat   string
	LogLevel    string
	Quiet       bool
	Tenants     []string
	Timeout     time.Duration
	Concurrency int
	MetricsFile string
	PingURL     string

	// Tuning knobs, from the environment (README: "Tuning"); the defaults are the real
	// APIs' limits.
	BlingRate     float64       // requests/s per Bling account
	BlingIPRate   float64       // requests/s to Bling for the whole process, counted over any 10 s
	BlingTokenRPM int           // Bling token calls a minute from this host (Bling refuses over 20)
	CazcoRPM      int           // requests/min per CaZco key
	RetryBase     time.Duration // first backoff interval
	Overlap       time.Duration
	Margin        time.Duration
	LeaseTTL      time.Duration // how long a killed run's lease blocks the next run

	Logger *slog.Logger
	store  store.Store
	cl     *clients      // the API clients and limiters of this process
	stdin  *bufio.Reader // prompts share one reader so piped answers are not lost
}

// Execute runs the command line and returns the exit status.
func Execute(ctx context.Context, args []string, io IO) int {
	app := &App{IO: io, Now: time.Now}
	root := NewRootCmd(app)
	root.SetArgs(args)
	root.SetIn(io.In)
	root.SetOut(io.Out)
	root.SetErr(io.Err)
	err := root.ExecuteContext(ctx)
	if app.store != nil {
		_ = app.store.Close()
	}
	if err == nil {
		return ExitOK
	}
	var ee *ExitError
	code := ExitUsage // cobra's own errors are flag and argument mistakes
	if errors.As(err, &ee) {
		code = ee.Code
	}
	if ee == nil || ee.Err != nil {
		fmt.Fprintf(io.Err, "cazbling: %v\n", err)
		if code == ExitUsage && ee == nil {
			fmt.Fprintln(io.Err, "Run 'cazbling --help' for usage.")
		}
	}
	return code
}

// NewRootCmd builds the whole command tree.
func NewRootCmd(app *App) *cobra.Command {
	root := &cobra.Command{
		Use:   "cazbling",
		Short: "Keep CaZco marketplace stores and Bling ERP accounts in step",
		Long: `cazbling keeps a seller's CaZco marketplace store and Bling ERP account in step,
for many sellers ("tenants") at once. Bling is the master of the catalogue and of stock;
CaZco is where orders are born. Each subcommand runs one flow to completion for every
active tenant (or those named with --tenant), against its store (a local SQLite file, or
a PostgreSQL database that several hosts share), then exits.

Start with 'cazbling activate' to register a seller, then run the sync commands from
cron. 'cazbling logs' shows what happened to every item.

Exit status: 0 all went well; 1 an item or tenant failed (the log says which);
2 usage or configuration error.`,
		Version:       Version,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			return app.setup(cmd)
		},
	}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageErr("%v", err)
	})
	f := root.PersistentFlags()
	f.StringVar(&app.DB, "db", "", "the store: a SQLite file, or a postgres:// URL shared by several hosts (env CAZBLING_DB; default $XDG_DATA_HOME/cazbling/cazbling.db)")
	f.StringVar(&app.LogFormat, "log-format", "text", "log lines on stderr: text or json (env CAZBLING_LOG_FORMAT)")
	f.StringVar(&app.LogLevel, "log-level", "info", "debug, info, warn or error (env CAZBLING_LOG_LEVEL)")
	f.BoolVarP(&app.Quiet, "quiet", "q", false, "only warnings and errors on stderr, no summary table")
	f.StringArrayVar(&app.Tenants, "tenant", nil, "work only this tenant (repeatable for sync flows; default all active tenants); logs: one tenant")
	f.DurationVar(&app.Timeout, "timeout", 50*time.Minute, "the whole run's deadline; work not done is left for the next run")
	f.IntVar(&app.Concurrency, "concurrency", 0, "tenants worked at once by a sync flow; 0: every selected tenant, up to what the host's memory and file handles allow (128 at most; env CAZBLING_CONCURRENCY)")
	f.StringVar(&app.MetricsFile, "metrics-file", "", "after a sync run, write Prometheus text-format metrics here (env CAZBLING_METRICS_FILE)")
	f.StringVar(&app.PingURL, "ping-url", "", "dead-man's-switch pings: URL/start, then URL or URL/fail (env CAZBLING_PING_URL)")

	root.AddCommand(
		NewActivateCmd(app),
		NewSyncCmd(app, syncProducts),
		NewSyncCmd(app, syncStock),
		NewSyncCmd(app, syncOrders),
		NewLogsCmd(app),
		NewTenantsCmd(app),
		NewSandboxCmd(app),
		newGenDocsCmd(),
		NewPanelCmd(app),
		NewMigrateStoreCmd(app),
	)
	return root
}

// setup applies the environment to flags not given, and builds the logger.
func (app *App) setup(cmd *cobra.Command) error {
	env := app.IO.Getenv
	if env == nil {
		env = os.Getenv
	}
	flags := cmd.Flags()
	fromEnv := func(name, key string) error {
		fl := flags.Lookup(name)
		if fl == nil || fl.Changed {
			return nil
		}
		if v := env(key); v != "" {
			if err := fl.Value.Set(v); err != nil {
				return usageErr("%s=%q: %v", key, v, err)
			}
		}
		return nil
	}
	for name, key := range map[string]string{
		"db": "CAZBLING_DB", "log-format": "CAZBLING_LOG_FORMAT", "log-level": "CAZBLING_LOG_LEVEL",
		"concurrency": "CAZBLING_CONCURRENCY", "metrics-file": "CAZBLING_METRICS_FILE", "ping-url": "CAZBLING_PING_URL",
	} {
		if err := fromEnv(name, key); err != nil {
			return err
		}
	}
	if err := app.tuning(env); err != nil {
		return err
	}
	if app.Concurrency < 0 {
		return usageErr("--concurrency must be 0 (from the limits) or at least 1, not %d", app.Concurrency)
	}
	if app.Concurrency == 0 {
		app.Concurrency = autoConcurrency(openFileLimit())
	}
	if app.Timeout <= 0 {
		return usageErr("--timeout must be positive, not %s", app.Timeout)
	}
	logger, err := newLogger(app.IO.Err, app.LogFormat, app.LogLevel, app.Quiet)
	if err != nil {
		return err
	}
	app.Logger = logger
	return nil
}

// tuning reads the knobs that tests, benchmarks and unusual accounts set.
func (app *App) tuning(env func(string) string) error {
	app.BlingRate, app.BlingIPRate, app.CazcoRPM, app.BlingTokenRPM = 2.8, 50, 60, 18
	app.RetryBase, app.Overlap, app.Margin = 0, flow.DefaultOverlap, flow.DefaultMargin
	for _, k := range []struct {
		key string
		set func(string) error
	}{
		{"CAZBLING_BLING_RATE", floatSetter(&app.BlingRate)},
		{"CAZBLING_BLING_IP_RATE", floatSetter(&app.BlingIPRate)},
		{"CAZBLING_CAZCO_RPM", func(v string) (err error) { app.CazcoRPM, err = strconv.Atoi(v); return }},
		{"CAZBLING_BLING_TOKEN_RPM", func(v string) (err error) { app.BlingTokenRPM, err = strconv.Atoi(v); return }},
		{"CAZBLING_RETRY_BASE", durationSetter(&app.RetryBase)},
		{"CAZBLING_OVERLAP", durationSetter(&app.Overlap)},
		{"CAZBLING_MARGIN", durationSetter(&app.Margin)},
		{"CAZBLING_LEASE_TTL", durationSetter(&app.LeaseTTL)},
	} {
		if v := env(k.key); v != "" {
			if err := k.set(v); err != nil {
				return usageErr("%s=%q: %v", k.key, v, err)
			}
		}
	}
	return nil
}

func floatSetter(p *float64) func(string) error {
	return func(v string) (err error) { *p, err = strconv.ParseFloat(v, 64); return }
}

func durationSetter(p *time.Duration) func(string) error {
	return func(v string) (err error) { *p, err = time.ParseDuration(v); return }
}

// newLogger builds the stderr logger: charmbracelet/log as an slog handler.
func newLogger(w io.Writer, format, level string, quiet bool) (*slog.Logger, error) {
	opts := charmlog.Options{ReportTimestamp: true, TimeFormat: time.RFC3339}
	switch strings.ToLower(format) {
	case "text", "":
		opts.Formatter = charmlog.TextFormatter
	case "json":
		opts.Formatter = charmlog.JSONFormatter
	default:
		return nil, usageErr("--log-format must be text or json, not %q", format)
	}
	lvl, err := charmlog.ParseLevel(strings.ToLower(level))
	if err != nil || lvl > charmlog.ErrorLevel {
		return nil, usageErr("--log-level must be debug, info, warn or error, not %q", level)
	}
	if quiet && lvl < charmlog.WarnLevel {
		lvl = charmlog.WarnLevel
	}
	opts.Level = lvl
	return slog.New(charmlog.NewWithOptions(w, opts)), nil
}

// Store opens the store once per command.
func (app *App) Store(ctx context.Context) (store.Store, error) {
	return app.openStore(ctx, false)
}

// StoreForReading opens the store for a command that only reads (logs, tenants,
// tenants show): as Store does, or, when the file cannot be written (read-only
// media, another user's file), read-only, so that it can still be inspected.
func (app *App) StoreForReading(ctx context.Context) (store.Store, error) {
	return app.openStore(ctx, true)
}

func (app *App) openStore(ctx context.Context, readOnlyFallback bool) (store.Store, error) {
	if app.store != nil {
		return app.store, nil
	}
	db := app.dbPath()
	env := app.IO.Getenv
	if env == nil {
		env = os.Getenv
	}
	key, err := store.LoadKey(db, env("CAZBLING_KEY"))
	if err != nil {
		return nil, usageErr("secrets key: %v", err)
	}
	s, err := store.Open(ctx, store.Options{DB: db, Key: key, Now: app.Now})
	if err != nil && readOnlyFallback && store.NotWritable(err) {
		var roErr error
		if s, roErr = store.Open(ctx, store.Options{DB: db, Key: key, Now: app.Now, ReadOnly: true}); roErr == nil {
			if app.Logger != nil {
				app.Logger.Debug("the store cannot be written; opened it read-only", "db", db, "err", err)
			}
			err = nil
		} else {
			err = roErr
		}
	}
	if err != nil && !readOnlyFallback && store.NotWritable(err) {
		return nil, usageErr("%v; this command writes to the store: run it where the store can be written (check the mount and the file's owner); `logs` and `tenants` can read it as it is", err)
	}
	if err != nil {
		return nil, usageErr("open store: %v", err)
	}
	app.store = s
	return s, nil
}

// dbPath is the store: --db (a SQLite path or a postgres:// URL), else the default
// SQLite path.
func (app *App) dbPath() string {
	if app.DB != "" {
		return app.DB
	}
	return defaultDBPath(app.IO.Getenv)
}

// defaultDBPath is $XDG_DATA_HOME/cazbling/cazbling.db, or ~/.local/share/....
func defaultDBPath(getenv func(string) string) string {
	if getenv == nil {
		getenv = os.Getenv
	}
	if d := getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "cazbling", "cazbling.db")
	}
	home := getenv("HOME")
	if home == "" {
		home, _ = os.UserHomeDir()
	}
	return filepath.Join(home, ".local", "share", "cazbling", "cazbling.db")
}

// holderID names this process in leases: CAZBLING_HOST (for hosts that share a host
// name, as containers may) or the host name, the pid and a random suffix.
func (app *App) holderID() string {
	host := app.IO.Getenv("CAZBLING_HOST")
	if host == "" {
		host, _ = os.Hostname()
	}
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%s:%d:%s", host, os.Getpid(), hex.EncodeToString(b))
}

// envOr returns the flag's value, or the environment's when the flag was not given.
func envOr(flags *pflag.FlagSet, name string, getenv func(string) string, key string) string {
	fl := flags.Lookup(name)
	if fl != nil && fl.Changed {
		return fl.Value.String()
	}
	if getenv == nil {
		getenv = os.Getenv
	}
	if v := getenv(key); v != "" {
		return v
	}
	if fl != nil {
		return fl.Value.String()
	}
	return ""
}
