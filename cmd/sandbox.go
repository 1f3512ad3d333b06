package cmd

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/cazbling/cazbling/pkg/sandbox"
)

// SandboxOptions are the sandbox's flags.
type SandboxOptions struct {
	Addr      string
	Seed      string
	BlingRate int
	CazcoRPM  int
	CazcoSpan time.Duration
	TokenTTL  time.Duration
	Redirect  string
}

// NewSandboxCmd builds `cazbling sandbox`.
func NewSandboxCmd(app *App) *cobra.Command {
	opts := SandboxOptions{}
	c := &cobra.Command{
		Use:   "sandbox [--addr 127.0.0.1:8080] [--seed demo]",
		Short: "Serve stand-in Bling and CaZco APIs on loopback, with demo data",
		Long: `Serves a stand-in Bling API v3 and CaZco seller API on loopback, with demo data, the
real APIs' rate limits, token rotation and error shapes, so that cazbling can be tried,
demonstrated and smoke-tested without real accounts. It prints the base URLs and the
demo credentials to use with 'cazbling activate', and runs until interrupted.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			sb, err := sandbox.New(sandbox.Options{
				Seed: opts.Seed, BlingRate: opts.BlingRate, CazcoRatePerMinute: opts.CazcoRPM,
				CazcoWindow: opts.CazcoSpan,
				TokenTTL:    opts.TokenTTL, Logger: app.Logger,
			})
			if err != nil {
				return usageErr("sandbox: %v", err)
			}
			base, err := sb.Start(opts.Addr)
			if err != nil {
				return usageErr("sandbox: %v", err)
			}
			defer sb.Close()
			if opts.Redirect != "" {
				sb.Bling.SetRedirectURI(opts.Redirect)
			}
			out := app.IO.Out
			fmt.Fprintf(out, "Bling API:  %s/Api/v3\nCaZco API:  %s/api/v1/seller\nAdmin:      %s/_sandbox/\n\n", base, base, base)
			for _, d := range sb.DemoTenants() {
				fmt.Fprintf(out, "tenant %s:\n  code=$(curl -s -X POST '%s/_sandbox/code?client_id=%s' | sed 's/.*\"code\":\"\\([^\"]*\\)\".*/\\1/')\n", d.Tenant, base, d.ClientID)
				fmt.Fprintf(out, "  cazbling activate %s --bling-url %s/Api/v3 --bling-client-id %s --bling-client-secret %s --bling-code \"$code\" --cazco-url %s/api/v1/seller --cazco-api-key %s\n\n",
					d.Tenant, base, d.ClientID, d.ClientSecret, base, d.CazcoKey)
			}
			fmt.Fprintln(out, "Serving until interrupted (Ctrl-C).")
			<-cmd.Context().Done()
			return nil
		},
	}
	f := c.Flags()
	f.StringVar(&opts.Addr, "addr", "127.0.0.1:8080", "loopback address to listen on")
	f.StringVar(&opts.Seed, "seed", "demo", "data to start with: demo or empty")
	f.IntVar(&opts.BlingRate, "bling-rate", 3, "Bling requests per second per account (negative: unlimited)")
	f.IntVar(&opts.CazcoRPM, "cazco-rate", 60, "CaZco requests per key per --cazco-window, advertised in X-RateLimit-Limit (0: unlimited)")
	f.DurationVar(&opts.CazcoSpan, "cazco-window", time.Minute, "the span CaZco's limit counts over; any other than 1m is also advertised in a RateLimit-Policy header")
	f.DurationVar(&opts.TokenTTL, "token-ttl", 6*time.Hour, "lifetime of Bling access tokens")
	f.StringVar(&opts.Redirect, "bling-redirect-uri", "", "the Bling app's redirect URI, e.g. the panel's <public-url>/oauth/bling/callback: the authorize page then asks Autorizar/Negar and sends the browser there with code and state (or error=access_denied)")
	return c
}
