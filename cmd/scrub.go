package cmd

import (
	"context"
	"strings"

	"github.com/cazbling/cazbling/pkg/store"
)

// minScrubbed is the length from which a secret is scrubbed from output: shorter
// ones would hide ordinary words (and are not real credentials).
const minScrubbed = 8

// secretScrubber replaces every tenant's secrets (client secret, API key, tokens)
// with [REDACTED]. Messages never should carry one; this makes sure that, should a
// bug let one into the log, no output shows it.
func secretScrubber(ctx context.Context, store store.Store) (*strings.Replacer, error) {
	tenants, err := store.Tenants(ctx)
	if err != nil {
		return nil, err
	}
	var pairs []string
	for _, t := range tenants {
		tok, err := store.Token(ctx, t.ID)
		if err != nil {
			return nil, err
		}
		for _, secret := range []string{t.BlingClientSecret, t.CazcoAPIKey, tok.AccessToken, tok.RefreshToken} {
			if len(secret) >= minScrubbed {
				pairs = append(pairs, secret, "[REDACTED]")
			}
		}
	}
	return strings.NewReplacer(pairs...), nil
}
