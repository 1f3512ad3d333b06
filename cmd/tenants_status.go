package cmd

import (
	"context"
	"fmt"
	"time"

	"github.com/cazbling/cazbling/pkg/cazbling"
)

// tenantStatusRun deactivates (to inactive) or reactivates (to active) a tenant.
func tenantStatusRun(ctx context.Context, o *TenantsOptions, to cazbling.TenantStatus) error {
	store, err := o.Store(ctx)
	if err != nil {
		return err
	}
	t, err := lookupTenant(ctx, store, o.ID)
	if err != nil {
		return err
	}
	var reason, done string
	switch to {
	case cazbling.TenantInactive:
		if t.Status == cazbling.TenantInactive {
			_, err := fmt.Fprintf(o.Out, "Tenant %s is inactive already.\n", t.ID)
			return err
		}
		reason = "deactivated by an operator"
		done = fmt.Sprintf("Deactivated %s: sync commands skip it until 'cazbling tenants reactivate %s'.", t.ID, t.ID)
	case cazbling.TenantActive:
		switch t.Status {
		case cazbling.TenantActive:
			_, err := fmt.Fprintf(o.Out, "Tenant %s is active already.\n", t.ID)
			return err
		case cazbling.TenantNeedsReauth:
			return usageErr("tenant %q needs to authorize Bling again (%s); reactivating cannot fix that: run 'cazbling activate %s' with a new --bling-code",
				t.ID, t.StatusReason, t.ID)
		case cazbling.TenantInvited:
			return usageErr("tenant %q is invited and has not connected yet; it becomes active when the seller connects in the panel (or with 'cazbling activate %s')",
				t.ID, t.ID)
		}
		done = fmt.Sprintf("Reactivated %s (it was %s): the next sync runs work it.", t.ID, t.Status)
	default:
		return fmt.Errorf("set status of tenant %q: unexpected status %q", t.ID, to)
	}
	if err := store.SetTenantStatus(ctx, t.ID, to, time.Time{}, reason); err != nil {
		return err
	}
	_, err = fmt.Fprintln(o.Out, done)
	return err
}
