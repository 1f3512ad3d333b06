package cmd

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/cazbling/cazbling/pkg/bling"
	"github.com/cazbling/cazbling/pkg/cazbling"
	"github.com/cazbling/cazbling/pkg/flow"
	"github.com/cazbling/cazbling/pkg/httpx"
)

// DefaultBlingURL is Bling's API v3 base.
const DefaultBlingURL = "https://api.bling.com.br/Api/v3"

// ActivateOptions are activate's flags.
type ActivateOptions struct {
	TenantID           string
	BlingClientID      string
	BlingClientSecret  string
	BlingCode          string
	BlingRefreshToken  string
	BlingURL           string
	BlingDeposit       int64
	BlingStore         int64
	BlingPaymentMethod int64
	CazcoURL           string
	CazcoAPIKey        string
	ImportStatuses     []string
	NoInitialSync      bool
	set                func(name string) bool // whether a flag was given
}

var tenantIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// NewActivateCmd builds `cazbling activate`.
func NewActivateCmd(app *App) *cobra.Command {
	opts := &ActivateOptions{}
	c := &cobra.Command{
		Use:   "activate TENANT [flags]",
		Short: "Register or update a seller, check both credentials, run the first full sync",
		Long: `Registers a seller ("tenant") or updates one, checks the Bling and CaZco credentials
against the live APIs, then runs the initial full product and stock sync (unless
--no-initial-sync). Running it again with new credentials updates them; it never
duplicates a tenant. Flags not given keep the tenant's stored values.

Bling access: give an authorization code (--bling-code, valid 1 minute, single use) or a
refresh token you already hold (--bling-refresh-token). Without either, on a terminal,
cazbling prints the Bling authorize URL and waits for you to paste the code (or the
whole URL you were redirected to). Secrets may come from flags, the environment or the
prompt; they are never echoed or logged, and are stored encrypted.

TENANT is a short name you choose for the seller (letters, digits, '.', '_', '-').`,
		Example: `  cazbling activate loja-da-ana \
    --bling-client-id "$ID" --bling-client-secret "$SECRET" --bling-code "$CODE" \
    --cazco-url https://s623.cazco.link/api/v1/seller --cazco-api-key "$KEY"`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageErr("activate needs exactly one TENANT name, e.g. 'cazbling activate loja-da-ana ...'")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.TenantID = args[0]
			getenv := app.getenv()
			fl := cmd.Flags()
			opts.set = func(name string) bool { return fl.Changed(name) }
			opts.BlingClientID = envOr(fl, "bling-client-id", getenv, "CAZBLING_BLING_CLIENT_ID")
			opts.BlingClientSecret = envOr(fl, "bling-client-secret", getenv, "CAZBLING_BLING_CLIENT_SECRET")
			opts.BlingRefreshToken = envOr(fl, "bling-refresh-token", getenv, "CAZBLING_BLING_REFRESH_TOKEN")
			opts.CazcoAPIKey = envOr(fl, "cazco-api-key", getenv, "CAZBLING_CAZCO_API_KEY")
			return app.activate(cmd.Context(), opts)
		},
	}
	f := c.Flags()
	f.StringVar(&opts.BlingClientID, "bling-client-id", "", "Bling OAuth app client id (env CAZBLING_BLING_CLIENT_ID)")
	f.StringVar(&opts.BlingClientSecret, "bling-client-secret", "", "Bling OAuth app client secret (env CAZBLING_BLING_CLIENT_SECRET)")
	f.StringVar(&opts.BlingCode, "bling-code", "", "a Bling authorization code (valid 1 minute, single use), exchanged at once")
	f.StringVar(&opts.BlingRefreshToken, "bling-refresh-token", "", "or a Bling refresh token already held (env CAZBLING_BLING_REFRESH_TOKEN)")
	f.StringVar(&opts.BlingURL, "bling-url", DefaultBlingURL, "Bling API base (the token endpoint is <base>/oauth/token)")
	f.Int64Var(&opts.BlingDeposit, "bling-deposit", 0, "the Bling deposit whose balance is the stock (default: total over all deposits)")
	f.Int64Var(&opts.BlingStore, "bling-store", 0, "the Bling loja id that orders are filed under (optional)")
	f.Int64Var(&opts.BlingPaymentMethod, "bling-payment-method", 0, "Bling payment method id for orders whose CaZco payment method has no match by type (default: the account's default)")
	f.StringVar(&opts.CazcoURL, "cazco-url", "", "CaZco seller API base, e.g. https://s623.cazco.link/api/v1/seller (required for a new tenant)")
	f.StringVar(&opts.CazcoAPIKey, "cazco-api-key", "", "the seller's CaZco API key (env CAZBLING_CAZCO_API_KEY)")
	f.StringSliceVar(&opts.ImportStatuses, "import-statuses", nil, "CaZco order statuses filed in Bling, comma-separated (default: "+strings.Join(cazbling.DefaultImportStatuses, ",")+")")
	f.BoolVar(&opts.NoInitialSync, "no-initial-sync", false, "register and verify only")
	return c
}

func (app *App) getenv() func(string) string {
	if app.IO.Getenv != nil {
		return app.IO.Getenv
	}
	return os.Getenv
}

// activate registers or updates a tenant: merge with what is stored, verify both sides,
// save, then run the initial sync.
func (app *App) activate(ctx context.Context, o *ActivateOptions) error {
	if !tenantIDPattern.MatchString(o.TenantID) {
		return usageErr("tenant name %q is not valid: use up to 64 letters, digits, '.', '_' or '-', starting with a letter or digit", o.TenantID)
	}
	store, err := app.Store(ctx)
	if err != nil {
		return err
	}
	t, err := store.Tenant(ctx, o.TenantID)
	isNew := errors.Is(err, cazbling.ErrNotFound)
	if err != nil && !isNew {
		return &ExitError{Code: ExitFailed, Err: fmt.Errorf("read tenant %q: %w", o.TenantID, err)}
	}
	if isNew {
		t = cazbling.Tenant{ID: o.TenantID, BlingURL: DefaultBlingURL}
	}
	if err := o.merge(&t, isNew); err != nil {
		return err
	}
	if _, err := httpx.CheckBaseURL("--bling-url", t.BlingURL); err != nil {
		return usageErr("%v", err)
	}
	if _, err := httpx.CheckBaseURL("--cazco-url", t.CazcoURL); err != nil {
		return usageErr("%v", err)
	}
	if err := app.promptMissing(o, &t); err != nil {
		return err
	}

	cl := app.clients(store)
	// CaZco first: it has no side effects, while using a Bling code or refresh token
	// spends it.
	market, err := cl.Market(t)
	if err != nil {
		return usageErr("CaZco settings of tenant %q: %v", t.ID, err)
	}
	info, err := market.Info(ctx)
	if err != nil {
		return &ExitError{Code: ExitFailed, Err: fmt.Errorf("CaZco side of tenant %q: %w; check --cazco-url and --cazco-api-key. Nothing was saved", t.ID, err)}
	}

	tok, err := app.blingToken(ctx, cl, t, o)
	if err != nil {
		return err
	}
	company, deposits, tok, err := verifyBling(ctx, cl, t, tok)
	var ue *ExitError
	if errors.As(err, &ue) {
		return err
	}
	if err != nil {
		return &ExitError{Code: ExitFailed, Err: fmt.Errorf("Bling side of tenant %q: %w. Nothing was saved; authorize again with a new --bling-code", t.ID, err)}
	}
	if t.BlingDeposit != 0 && !slices.ContainsFunc(deposits, func(d cazbling.Deposit) bool { return d.ID == t.BlingDeposit }) {
		return usageErr("--bling-deposit %d is not a deposit of this Bling account; the deposits are listed below:\n%s", t.BlingDeposit, depositList(deposits))
	}

	t.Status, t.StatusReason = cazbling.TenantActive, ""
	if err := store.UpsertTenant(ctx, t, &tok); err != nil {
		return &ExitError{Code: ExitFailed, Err: fmt.Errorf("save tenant %q: %w", t.ID, err)}
	}
	cl.keepLimit(ctx, t)
	verb := "updated"
	if isNew {
		verb = "registered"
	}
	app.Logger.Info("tenant "+verb, "tenant", t.ID)
	if !app.Quiet {
		rows := [][]string{
			{"tenant", t.ID + " (" + verb + ")"},
			{"Bling company", ellipsize(company.Name+" "+company.Document, 56)},
			{"Bling deposits", ellipsize(depositSummary(deposits, t.BlingDeposit), 56)},
			{"CaZco store", ellipsize(fmt.Sprintf("%s (%d products)", t.CazcoURL, info.Products), 56)},
		}
		if err := renderTable(app.IO.Out, []string{"CHECK", "FOUND"}, rows); err != nil {
			return err
		}
	}
	if o.NoInitialSync {
		return nil
	}
	fopts := app.flowOptions()
	fopts.Tenants, fopts.Full = []string{t.ID}, true
	return app.runFlow(ctx, "activate", cazbling.FlowActivate, fopts, initialSync)
}

// verifyBling proves a token pair not yet saved: it reads the account's company and
// deposits with it. It returns the pair as the client left it (it may have refreshed
// it). activate and the panel both verify this way before saving anything.
func verifyBling(ctx context.Context, cl *clients, t cazbling.Tenant, tok cazbling.Token) (cazbling.Company, []cazbling.Deposit, cazbling.Token, error) {
	mem := &memoryTokens{tok: tok}
	erp, err := bling.New(cl.blingOptions(t, mem))
	if err != nil {
		return cazbling.Company{}, nil, tok, usageErr("Bling settings of tenant %q: %v", t.ID, err)
	}
	company, err := erp.Company(ctx)
	if err != nil {
		return company, nil, tok, fmt.Errorf("the token works but reading the company failed: %w", err)
	}
	deposits, err := erp.Deposits(ctx)
	if err != nil {
		return company, nil, tok, fmt.Errorf("list deposits: %w", err)
	}
	tok, _ = mem.Token(ctx)
	return company, deposits, tok, nil
}

// initialSync is activate's first sync: the whole catalogue, then every stock level.
func initialSync(ctx context.Context, j *flow.Job) error {
	if err := flow.SyncProducts(ctx, j); err != nil {
		return err
	}
	return flow.SweepStock(ctx, j)
}

// merge applies the given flags over the stored tenant.
func (o *ActivateOptions) merge(t *cazbling.Tenant, isNew bool) error {
	set := func(name string) bool { return o.set != nil && o.set(name) }
	if o.BlingClientID != "" {
		t.BlingClientID = o.BlingClientID
	}
	if o.BlingClientSecret != "" {
		t.BlingClientSecret = o.BlingClientSecret
	}
	if set("bling-url") || isNew {
		t.BlingURL = strings.TrimRight(o.BlingURL, "/")
	}
	if set("bling-deposit") {
		t.BlingDeposit = o.BlingDeposit
	}
	if set("bling-store") {
		t.BlingStore = o.BlingStore
	}
	if set("bling-payment-method") {
		t.BlingPaymentMethod = o.BlingPaymentMethod
	}
	if o.CazcoURL != "" {
		t.CazcoURL = strings.TrimRight(o.CazcoURL, "/")
	}
	if o.CazcoAPIKey != "" {
		t.CazcoAPIKey = o.CazcoAPIKey
	}
	if set("import-statuses") {
		var st []string
		for _, s := range o.ImportStatuses {
			if s = strings.TrimSpace(s); s != "" {
				st = append(st, s)
			}
		}
		if len(st) == 0 {
			return usageErr("--import-statuses needs at least one CaZco order status, e.g. paid,processing")
		}
		t.ImportStatuses = st
	}
	if t.CazcoURL == "" {
		return usageErr("--cazco-url is required for a new tenant (the seller API base, e.g. https://s623.cazco.link/api/v1/seller)")
	}
	if o.BlingCode != "" && o.BlingRefreshToken != "" {
		return usageErr("give --bling-code or --bling-refresh-token, not both")
	}
	return nil
}

// promptMissing asks, on a terminal, for the credentials not given.
func (app *App) promptMissing(o *ActivateOptions, t *cazbling.Tenant) error {
	need := func(v *string, label, flag string, secret bool) error {
		if *v != "" {
			return nil
		}
		if !app.IO.StdinTerminal {
			return usageErr("missing %s: give %s (or its environment variable)", label, flag)
		}
		s, err := app.prompt(label+": ", secret)
		if err != nil {
			return err
		}
		*v = s
		return nil
	}
	if err := need(&t.BlingClientID, "Bling client id", "--bling-client-id", false); err != nil {
		return err
	}
	if err := need(&t.BlingClientSecret, "Bling client secret", "--bling-client-secret", true); err != nil {
		return err
	}
	return need(&t.CazcoAPIKey, "CaZco API key", "--cazco-api-key", true)
}

// blingToken gets the tenant's first token pair: from the code, from the refresh
// token, or by asking for a code on a terminal.
func (app *App) blingToken(ctx context.Context, cl *clients, t cazbling.Tenant, o *ActivateOptions) (cazbling.Token, error) {
	bo := cl.blingOptions(t, nil)
	code := strings.TrimSpace(o.BlingCode)
	if code == "" && o.BlingRefreshToken == "" {
		if !app.IO.StdinTerminal {
			return cazbling.Token{}, usageErr("Bling access for tenant %q: give --bling-code or --bling-refresh-token (no terminal to ask on)", t.ID)
		}
		state := randomState()
		fmt.Fprintf(app.IO.Err, "Open this URL, log in to Bling as the seller and authorize the app:\n\n  %s\n\n",
			bling.AuthorizeURL(t.BlingURL, t.BlingClientID, state))
		answer, err := app.prompt("Paste the code (or the whole URL you were sent to): ", true)
		if err != nil {
			return cazbling.Token{}, err
		}
		if code, err = codeFromAnswer(answer, state); err != nil {
			return cazbling.Token{}, usageErr("%v", err)
		}
	}
	var tok cazbling.Token
	var err error
	if code != "" {
		tok, err = bling.ExchangeCode(ctx, bo, code)
	} else {
		tok, err = bling.RefreshToken(ctx, bo, strings.TrimSpace(o.BlingRefreshToken))
	}
	if err != nil {
		what := "the authorization code (codes live 1 minute and work once; get a new one)"
		if code == "" {
			what = "the refresh token (it may have been used already: refresh tokens work once)"
		}
		return cazbling.Token{}, &ExitError{Code: ExitFailed, Err: fmt.Errorf("Bling side of tenant %q: %w; check --bling-client-id, --bling-client-secret and %s. Nothing was saved", t.ID, err, what)}
	}
	return tok, nil
}

// codeFromAnswer takes a pasted code or redirect URL.
func codeFromAnswer(answer, state string) (string, error) {
	answer = strings.TrimSpace(answer)
	if answer == "" {
		return "", errors.New("no code given")
	}
	if !strings.Contains(answer, "code=") {
		return answer, nil
	}
	u, err := url.Parse(answer)
	if err != nil {
		return "", fmt.Errorf("cannot read the pasted URL: %v", err)
	}
	q := u.Query()
	if s := q.Get("state"); s != "" && s != state {
		return "", errors.New("the pasted URL is from another authorization (state does not match); start again")
	}
	if q.Get("code") == "" {
		return "", errors.New("the pasted URL has no code")
	}
	return q.Get("code"), nil
}

// prompt reads one line; secrets are not echoed on a terminal.
func (app *App) prompt(label string, secret bool) (string, error) {
	fmt.Fprint(app.IO.Err, label)
	if f, ok := app.IO.In.(*os.File); ok && secret && term.IsTerminal(int(f.Fd())) {
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(app.IO.Err)
		if err != nil {
			return "", fmt.Errorf("read %s: %w", strings.TrimSuffix(label, ": "), err)
		}
		return strings.TrimSpace(string(b)), nil
	}
	if app.stdin == nil {
		app.stdin = bufio.NewReader(app.IO.In)
	}
	line, err := app.stdin.ReadString('\n')
	if err != nil && !(errors.Is(err, io.EOF) && line != "") {
		return "", usageErr("no answer for %q on standard input", strings.TrimSuffix(label, ": "))
	}
	return strings.TrimSpace(line), nil
}

func randomState() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func depositSummary(ds []cazbling.Deposit, chosen int64) string {
	var parts []string
	for _, d := range ds {
		s := strconv.FormatInt(d.ID, 10) + " " + d.Description
		if d.Default {
			s += " (default)"
		}
		if d.ID == chosen {
			s += " [stock]"
		}
		parts = append(parts, s)
	}
	if chosen == 0 {
		parts = append(parts, "stock: total of all")
	}
	return strings.Join(parts, "; ")
}

func depositList(ds []cazbling.Deposit) string {
	var b strings.Builder
	for _, d := range ds {
		fmt.Fprintf(&b, "  %d  %s\n", d.ID, d.Description)
	}
	return b.String()
}
