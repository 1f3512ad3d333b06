package cmd

import (
	"bytes"
	"context"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/cazbling/cazbling/pkg/cazbling"
	"github.com/cazbling/cazbling/pkg/store"
	"github.com/cazbling/cazbling/pkg/store/storetest"
)

// --db postgres://... (or CAZBLING_DB) works on PostgreSQL with the key from
// CAZBLING_KEY, and without that key refuses with a message saying what to set.
func TestDBPostgres(t *testing.T) {
	dsn := storetest.NewPostgresSchema(t)
	ctx := context.Background()
	s, err := store.Open(ctx, store.Options{DB: dsn, Key: testKey, Now: func() time.Time { return fixedNow }})
	if err != nil {
		t.Fatal(err)
	}
	err = s.UpsertTenant(ctx, cazbling.Tenant{ID: "loja-pg", BlingURL: "https://bling.test", CazcoURL: "https://cazco.test", CazcoAPIKey: "czk-secret-1234"}, nil)
	s.Close()
	if err != nil {
		t.Fatal(err)
	}

	run := func(env map[string]string, args ...string) (int, string, string) {
		var out, errOut bytes.Buffer
		code := Execute(ctx, args, IO{In: strings.NewReader(""), Out: &out, Err: &errOut, Getenv: func(k string) string { return env[k] }})
		return code, out.String(), errOut.String()
	}
	key := base64.StdEncoding.EncodeToString(testKey)
	for name, c := range map[string]struct {
		env  map[string]string
		args []string
	}{
		"flag": {map[string]string{"CAZBLING_KEY": key}, []string{"--db", dsn, "tenants", "-o", "json"}},
		"env":  {map[string]string{"CAZBLING_KEY": key, "CAZBLING_DB": dsn}, []string{"tenants", "-o", "json"}},
	} {
		code, out, errOut := run(c.env, c.args...)
		if code != ExitOK || !strings.Contains(out, `"loja-pg"`) {
			t.Errorf("%s: exit %d, out %q, err %q", name, code, out, errOut)
		}
		if strings.Contains(out+errOut, "czk-secret-1234") {
			t.Errorf("%s: a secret in the output", name)
		}
	}

	code, out, errOut := run(nil, "--db", dsn, "tenants")
	if code != ExitUsage || !strings.Contains(errOut, "needs CAZBLING_KEY") || out != "" {
		t.Errorf("without CAZBLING_KEY: exit %d, out %q, err %q", code, out, errOut)
	}
	other := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{9}, 32))
	code, _, errOut = run(map[string]string{"CAZBLING_KEY": other}, "--db", dsn, "tenants")
	if code != ExitUsage || !strings.Contains(errOut, "does not match") {
		t.Errorf("another key: exit %d, err %q", code, errOut)
	}
}

// The shared rate-limit windows of a PostgreSQL store live in the user's state folder,
// one folder per database (whatever its password), never beside a URL.
func TestLimitsDir(t *testing.T) {
	env := func(k string) string { return map[string]string{"XDG_STATE_HOME": "/state", "HOME": "/home/u"}[k] }
	if got := store.LimitsDir("/data/cazbling.db", env); got != "/data/cazbling.db.limits" {
		t.Errorf("sqlite: %s", got)
	}
	a := store.LimitsDir("postgres://cz:pw1@db.example:5432/shop", env)
	b := store.LimitsDir("postgres://cz:pw2@db.example:5432/shop", env)
	c := store.LimitsDir("postgres://cz:pw1@db.example:5432/other", env)
	if !strings.HasPrefix(a, "/state/cazbling/limits/") || a != b || a == c {
		t.Errorf("postgres: %s %s %s", a, b, c)
	}
	if strings.Contains(a, "pw1") {
		t.Errorf("the folder names the password: %s", a)
	}
}
