package schema

import (
	"fmt"
	"time"

	"github.com/cazbling/cazbling/pkg/cazbling"
	"github.com/cazbling/cazbling/pkg/store/secrets"
)

// APILimitColumns are the columns of api_limits that APILimit reads.
const APILimitColumns = `per_window, window_ms, seen_at`

// APILimit is the allowance of a row of APILimitColumns.
func APILimit(n, windowMS, seen int64) cazbling.RateLimit {
	return cazbling.RateLimit{N: int(n), Window: time.Duration(windowMS) * time.Millisecond, SeenAt: Time(seen)}
}

// UpsertAPILimit is the statement APILimitValues are for (? placeholders, see Numbered).
const UpsertAPILimit = `INSERT INTO api_limits (tenant_id, api, per_window, window_ms, seen_at)
		VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (tenant_id, api) DO UPDATE SET per_window = excluded.per_window,
			window_ms = excluded.window_ms, seen_at = excluded.seen_at`

// APILimitValues checks l and returns its values for UpsertAPILimit; an allowance
// without a time was seen now.
func APILimitValues(tenantID, api string, l cazbling.RateLimit, now time.Time) ([]any, error) {
	if l.N <= 0 || l.Window < time.Millisecond {
		return nil, fmt.Errorf("save the %s rate limit of tenant %q: %s is not a limit", api, tenantID, l)
	}
	seen := l.SeenAt
	if seen.IsZero() {
		seen = now
	}
	return []any{tenantID, api, l.N, l.Window.Milliseconds(), Nanos(seen)}, nil
}

// KeyCheckOpens reports whether the stored key check (meta's secrets.KeyCheckName)
// opens with box, that is whether box has the key the secrets were sealed with.
func KeyCheckOpens(box *secrets.Box, stored []byte) bool {
	plain, ok := box.Open("meta", secrets.KeyCheckName, stored)
	return ok && plain == secrets.KeyCheckValue
}

// CountSecretHolders counts the tenants that keep a sealed secret: with any, a store
// whose key check does not open is opened with the wrong key.
const CountSecretHolders = `SELECT count(*) FROM tenants WHERE
				bling_client_secret_enc IS NOT NULL OR cazco_api_key_enc IS NOT NULL OR
				access_token_enc IS NOT NULL OR refresh_token_enc IS NOT NULL`
