package cmd

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/cazbling/cazbling/pkg/cazbling"
)

func TestTenantsDeactivateReactivate(t *testing.T) {
	s, db := openStore(t)
	seed(t, s)
	s.Close()
	status := func(id string) (cazbling.TenantStatus, string) {
		t.Helper()
		_, stdout, _ := cli(t, db, nil, "tenants", "show", id, "-o", "json")
		var d tenantDetail
		if err := json.Unmarshal([]byte(stdout), &d); err != nil {
			t.Fatalf("%v: %s", err, stdout)
		}
		return cazbling.TenantStatus(d.Status), d.Reason
	}
	for _, tc := range []struct {
		args       []string
		code       int
		say        string
		tenant     string
		wantStatus cazbling.TenantStatus
		wantReason string
	}{
		{[]string{"tenants", "deactivate", "loja-da-ana"}, ExitOK, "Deactivated loja-da-ana", "loja-da-ana", "inactive", "deactivated by an operator"},
		{[]string{"tenants", "deactivate", "loja-da-ana"}, ExitOK, "inactive already", "loja-da-ana", "inactive", "deactivated by an operator"},
		{[]string{"tenants", "reactivate", "loja-da-ana"}, ExitOK, "Reactivated loja-da-ana", "loja-da-ana", "active", ""},
		{[]string{"tenants", "reactivate", "loja-da-ana"}, ExitOK, "active already", "loja-da-ana", "active", ""},
		{[]string{"tenants", "reactivate", "bazar-do-beto"}, ExitOK, "it was paused", "bazar-do-beto", "active", ""},
		{[]string{"tenants", "reactivate", "casa-cris"}, ExitUsage, "cazbling activate casa-cris", "casa-cris", "needs_reauth", "Bling refused the refresh token (invalid_grant)"},
		{[]string{"tenants", "deactivate", "casa-cris"}, ExitOK, "Deactivated casa-cris", "casa-cris", "inactive", "deactivated by an operator"},
		{[]string{"tenants", "reactivate", "casa-cris"}, ExitOK, "Reactivated casa-cris", "casa-cris", "active", ""},
		{[]string{"tenants", "deactivate", "nobody"}, ExitUsage, `unknown tenant "nobody"; 'cazbling tenants' lists them`, "", "", ""},
		{[]string{"tenants", "reactivate", "nobody"}, ExitUsage, `unknown tenant "nobody"`, "", "", ""},
		{[]string{"tenants", "show", "nobody"}, ExitUsage, `unknown tenant "nobody"`, "", "", ""},
		{[]string{"tenants", "--tenant", "nobody"}, ExitUsage, `unknown tenant "nobody"`, "", "", ""},
		{[]string{"tenants", "show"}, ExitUsage, "needs one tenant ID", "", "", ""},
		{[]string{"tenants", "deactivate", "a", "b"}, ExitUsage, "needs one tenant ID", "", "", ""},
		{[]string{"tenants", "-o", "yaml"}, ExitUsage, "--output must be table or json", "", "", ""},
		{[]string{"tenants", "show", "loja-da-ana", "-o", "csv"}, ExitUsage, "--output must be table or json", "", "", ""},
		{[]string{"tenants", "list"}, ExitUsage, "unknown command", "", "", ""},
	} {
		code, stdout, stderr := cli(t, db, nil, tc.args...)
		if code != tc.code {
			t.Errorf("%q: exit %d, want %d\n%s%s", tc.args, code, tc.code, stdout, stderr)
		}
		if !strings.Contains(stdout+stderr, tc.say) {
			t.Errorf("%q: output %q does not say %q", tc.args, stdout+stderr, tc.say)
		}
		if tc.tenant != "" {
			if st, reason := status(tc.tenant); st != tc.wantStatus || reason != tc.wantReason {
				t.Errorf("%q: %s is %s (%q), want %s (%q)", tc.args, tc.tenant, st, reason, tc.wantStatus, tc.wantReason)
			}
		}
	}
}
