package schema

import (
	"errors"
	"strings"
	"time"

	"github.com/cazbling/cazbling/pkg/cazbling"
	"github.com/cazbling/cazbling/pkg/store/secrets"
)

// What both backends do around the tenants table's SQL: the upsert and its values,
// the sealing and opening of the secrets, and the listing. The backends keep the
// reads that lock (PostgreSQL's FOR NO KEY UPDATE; SQLite's IMMEDIATE transaction)
// and their own errors for "no row".

// UpsertTenant is the statement TenantValues are for (? placeholders, see Numbered).
// An update keeps created_at.
const UpsertTenant = `INSERT INTO tenants (id, status, paused_until, status_reason,
		bling_url, bling_client_id, bling_client_secret_enc, bling_deposit, bling_store,
		bling_payment_method, cazco_url, cazco_api_key_enc, import_statuses, created_at, updated_at)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
	ON CONFLICT (id) DO UPDATE SET
		status = excluded.status, paused_until = excluded.paused_until,
		status_reason = excluded.status_reason, bling_url = excluded.bling_url,
		bling_client_id = excluded.bling_client_id,
		bling_client_secret_enc = excluded.bling_client_secret_enc,
		bling_deposit = excluded.bling_deposit, bling_store = excluded.bling_store,
		bling_payment_method = excluded.bling_payment_method,
		cazco_url = excluded.cazco_url, cazco_api_key_enc = excluded.cazco_api_key_enc,
		import_statuses = excluded.import_statuses, updated_at = excluded.updated_at`

// CheckTenant is the validation of a tenant before it is saved.
func CheckTenant(t cazbling.Tenant) error {
	if t.ID == "" {
		return errors.New("save tenant: empty id")
	}
	return nil
}

// TenantValues are t's values for UpsertTenant, saved at now with its secrets sealed
// by box: an empty status is active, and a tenant without a creation time gets now.
func TenantValues(t cazbling.Tenant, box *secrets.Box, now time.Time) []any {
	created := t.CreatedAt
	if created.IsZero() {
		created = now
	}
	status := t.Status
	if status == "" {
		status = cazbling.TenantActive
	}
	return []any{t.ID, string(status), Nanos(t.PausedUntil), t.StatusReason,
		t.BlingURL, t.BlingClientID, box.Seal(t.ID, secrets.ColClientSecret, t.BlingClientSecret),
		t.BlingDeposit, t.BlingStore, t.BlingPaymentMethod,
		t.CazcoURL, box.Seal(t.ID, secrets.ColCazcoKey, t.CazcoAPIKey),
		strings.Join(t.ImportStatuses, ","), Nanos(created), Nanos(now)}
}

// CazcoKeyChanged reports whether saving t changes the CaZco store it talks to, from
// the stored URL and sealed key: the allowance learned for a CaZco key (api_limits)
// belongs to that key and is forgotten then.
func CazcoKeyChanged(t cazbling.Tenant, box *secrets.Box, oldURL string, oldKey []byte) bool {
	key, ok := box.Open(t.ID, secrets.ColCazcoKey, oldKey)
	return !ok || key != t.CazcoAPIKey || oldURL != t.CazcoURL
}

// ScanTenants reads all rows of TenantColumns as ScanTenant does. A tenant whose
// secrets do not open fails the whole list with wrongKey's error, which callers
// return as is; other errors are the driver's.
func ScanTenants(rows Rows, box *secrets.Box, wrongKey func(tenantID string) error) ([]cazbling.Tenant, error) {
	return ScanAll(rows, func(row Row) (cazbling.Tenant, error) { return ScanTenant(row, box, wrongKey) })
}

// SaveToken is the statement TokenValues are for (? placeholders).
const SaveToken = `UPDATE tenants SET access_token_enc = ?, refresh_token_enc = ?,
	token_expiry = ?, updated_at = ? WHERE id = ?`

// TokenValues are the values of SaveToken for the token pair of tenant tenantID,
// sealed by box, saved at now.
func TokenValues(tenantID string, tok cazbling.Token, box *secrets.Box, now time.Time) []any {
	return []any{box.Seal(tenantID, secrets.ColAccessToken, tok.AccessToken),
		box.Seal(tenantID, secrets.ColRefreshToken, tok.RefreshToken),
		Nanos(tok.Expiry), Nanos(now), tenantID}
}

// OpenToken opens a token pair read from the tenants table (access_token_enc,
// refresh_token_enc, token_expiry); a secret that does not open is wrongKey's error.
func OpenToken(tenantID string, access, refresh []byte, expiry int64, box *secrets.Box, wrongKey func(tenantID string) error) (cazbling.Token, error) {
	tok := cazbling.Token{Expiry: Time(expiry)}
	var ok1, ok2 bool
	tok.AccessToken, ok1 = box.Open(tenantID, secrets.ColAccessToken, access)
	tok.RefreshToken, ok2 = box.Open(tenantID, secrets.ColRefreshToken, refresh)
	if !ok1 || !ok2 {
		return cazbling.Token{}, wrongKey(tenantID)
	}
	return tok, nil
}
