package e2e

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/cazbling/cazbling/pkg/store/sqlite"
)

// migrationFiles are the store's migrations, read from the source tree, in order.
func migrationFiles(t *testing.T) []string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	names, err := filepath.Glob(filepath.Join(filepath.Dir(file), "..", "store", "sqlite", "migrations", "*.sql"))
	if err != nil || len(names) == 0 {
		t.Fatalf("migrations: %v (%d files)", err, len(names))
	}
	sort.Strings(names)
	return names
}

// userVersion reads PRAGMA user_version of a store file.
func userVersion(t *testing.T, path string) int {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var v int
	if err := db.QueryRow(`PRAGMA user_version`).Scan(&v); err != nil {
		t.Fatalf("user_version of %s: %v", path, err)
	}
	return v
}

// makeStore creates a SQLite file at path with the first n migrations applied and
// user_version n, as a cazbling that knew only those would have left it. n = 0 is an
// empty database.
func makeStore(t *testing.T, path string, n int) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite3", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for i, f := range migrationFiles(t)[:n] {
		text, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(string(text)); err != nil {
			t.Fatalf("apply %s: %v", filepath.Base(f), err)
		}
		if _, err := db.Exec(fmt.Sprintf("PRAGMA user_version = %d", i+1)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.Exec(`VACUUM`); err != nil { // make sure the file exists and is complete
		t.Fatal(err)
	}
}

// TestE2EOlderSchemaMigrates opens stores left at every older schema version (this
// binary knows sqlite.SchemaVersion() migrations; with only one, "older" is version 0:
// an empty file, or an empty SQLite database) and checks that the binary migrates each
// to the current version and works on it; and that a store from a newer cazbling is
// refused, untouched, with advice to upgrade.
func TestE2EOlderSchemaMigrates(t *testing.T) {
	sqliteOnly(t, "an older store is made from SQLite's migrations in the file")
	start := time.Now()
	current := sqlite.SchemaVersion()
	migrated := 0
	for v := -1; v < current; v++ {
		name := fmt.Sprintf("version %d", v)
		if v < 0 {
			name = "empty file"
		}
		t.Run(strings.ReplaceAll(name, " ", "-"), func(t *testing.T) {
			e := newEnv(t)
			db := relDBPath(e)
			if v < 0 {
				if err := os.MkdirAll(filepath.Dir(db), 0o700); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(db, nil, 0o600); err != nil {
					t.Fatal(err)
				}
			} else {
				makeStore(t, db, v)
			}
			if v >= 1 {
				// What an older cazbling left: a paused-off tenant with a link and a log row
				// (columns of the first migration only).
				h, err := sql.Open("sqlite3", "file:"+db)
				if err != nil {
					t.Fatal(err)
				}
				now := time.Now().Add(-time.Hour).UnixNano()
				_, err = h.Exec(`INSERT INTO tenants (id, status, created_at, updated_at) VALUES ('loja-velha', 'inactive', ?, ?);
					INSERT INTO product_links (tenant_id, sku, bling_id, cazco_id, updated_at) VALUES ('loja-velha', 'VELHO-1', 7, 'c7', ?);
					INSERT INTO log_rows (time, tenant_id, flow, entity, key, action, status, message) VALUES (?, 'loja-velha', 'products', 'product', 'VELHO-1', 'created', 'ok', 'created in CaZco')`,
					now, now, now, now)
				h.Close()
				if err != nil {
					t.Fatal(err)
				}
			}
			tn := e.addTenant("loja-antiga")
			e.seedCatalogue(tn, 5, func(i int) int64 { return 2 })
			e.mustRun(0, "tenants")
			if got := userVersion(t, db); got != current {
				t.Errorf("after opening a store at %s: schema version %d, want %d", name, got, current)
			}
			if v >= 1 {
				show := e.mustRun(0, "tenants", "show", "loja-velha", "-o", "json").stdout
				if !strings.Contains(show, `"status": "inactive"`) && !strings.Contains(show, `"status":"inactive"`) || !strings.Contains(show, `"product_links": 1`) && !strings.Contains(show, `"product_links":1`) {
					t.Errorf("the older store's tenant did not survive the migration:\n%s", show)
				}
				if rows := logRows(t, e, "--tenant", "loja-velha"); len(rows) != 1 || rows[0].Key != "VELHO-1" {
					t.Errorf("the older store's log rows did not survive the migration: %+v", rows)
				}
			}
			e.mustRun(0, e.activateArgs(tn)...)
			expectCatalogue(t, e, tn, nil)
			relIntegrity(t, e)
			migrated++
		})
	}

	// A store from a newer cazbling.
	e := newEnv(t)
	db := relDBPath(e)
	makeStore(t, db, current)
	h, err := sql.Open("sqlite3", "file:"+db)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.Exec(fmt.Sprintf("PRAGMA user_version = %d", current+1)); err != nil {
		t.Fatal(err)
	}
	h.Close()
	before := fileSum(t, db)
	r := e.run("tenants")
	relNoPanic(t, r)
	if r.code != 2 || !strings.Contains(r.stderr, "newer") || !strings.Contains(r.stderr, "upgrade cazbling") {
		t.Errorf("a store of a newer schema: want exit 2 and advice to upgrade:\n%s", r)
	}
	if fileSum(t, db) != before {
		t.Errorf("the newer store was changed")
	}
	t.Logf("schema versions known: %d; older stores migrated: %d (an empty file and versions 0..%d, data kept from version 1 on); newer store refused unchanged; took %s",
		current, migrated, current-1, time.Since(start).Round(time.Millisecond))
}

// corruptCase is a store file that is not a good cazbling store.
type corruptCase struct {
	name string
	make func(t *testing.T, e *env, path string) // writes the bad file at path
	says []string                                // the message contains each
	same bool                                    // the file must be left byte for byte
}

// TestE2ECorruptStoreRefused points the binary at bad store files: garbage, another
// program's SQLite database, a cazbling store whose header was overwritten, and one
// whose tenants table page is garbage. Each is refused with a message that says the
// store is not a cazbling database or is corrupted and what to do, never a panic; the
// first three are left byte for byte as they were.
func TestE2ECorruptStoreRefused(t *testing.T) {
	sqliteOnly(t, "the store file is corrupted on disk")
	start := time.Now()
	advice := "restore it from a backup or point --db elsewhere"
	cases := []corruptCase{
		{name: "garbage", same: true, says: []string{"not a cazbling database or is corrupted", advice},
			make: func(t *testing.T, e *env, path string) {
				b := make([]byte, 64<<10)
				for i := range b {
					b[i] = byte(i*131 + i/7)
				}
				writeFile(t, path, b)
			}},
		{name: "another program's database", same: true, says: []string{"not a cazbling database", "another program", advice},
			make: func(t *testing.T, e *env, path string) {
				db, err := sql.Open("sqlite3", "file:"+path)
				if err != nil {
					t.Fatal(err)
				}
				defer db.Close()
				if _, err := db.Exec(`CREATE TABLE clientes (id INTEGER PRIMARY KEY, nome TEXT); INSERT INTO clientes (nome) VALUES ('Ana')`); err != nil {
					t.Fatal(err)
				}
			}},
		{name: "overwritten header", same: true, says: []string{"not a cazbling database or is corrupted", advice},
			make: func(t *testing.T, e *env, path string) {
				activated(t, e)
				patchFile(t, path, 0, []byte("this is no longer a database header"))
			}},
		{name: "garbage tenants page", says: []string{"is corrupted", advice},
			make: func(t *testing.T, e *env, path string) {
				activated(t, e)
				db, err := sql.Open("sqlite3", "file:"+path+"?mode=ro")
				if err != nil {
					t.Fatal(err)
				}
				var root, size int64
				err = db.QueryRow(`SELECT rootpage FROM sqlite_master WHERE name = 'tenants'`).Scan(&root)
				if err == nil {
					err = db.QueryRow(`PRAGMA page_size`).Scan(&size)
				}
				db.Close()
				if err != nil {
					t.Fatal(err)
				}
				patchFile(t, path, (root-1)*size, []byte(strings.Repeat("\xde\xad\xbe\xef", int(size)/4)))
			}},
	}
	var refused []string
	for _, c := range cases {
		t.Run(strings.ReplaceAll(c.name, " ", "-"), func(t *testing.T) {
			e := newEnv(t)
			db := relDBPath(e)
			if err := os.MkdirAll(filepath.Dir(db), 0o700); err != nil {
				t.Fatal(err)
			}
			c.make(t, e, db)
			before := fileSum(t, db)
			for _, args := range [][]string{{"sync-products"}, {"tenants"}, {"logs"}} {
				r := e.run(args...)
				relNoPanic(t, r)
				if r.code == 0 {
					t.Errorf("%s on a %s store: exit 0:\n%s", args[0], c.name, r)
					continue
				}
				for _, s := range append([]string{db}, c.says...) {
					if !strings.Contains(r.stderr, s) {
						t.Errorf("%s on a %s store: the message does not say %q:\n%s", args[0], c.name, s, r)
					}
				}
				if c.same && r.code != 2 {
					t.Errorf("%s on a %s store: exit %d, want 2", args[0], c.name, r.code)
				}
			}
			if c.same && fileSum(t, db) != before {
				t.Errorf("the %s store was changed", c.name)
			}
			refused = append(refused, c.name)
		})
	}
	t.Logf("bad stores refused: %d (%s); took %s", len(refused), strings.Join(refused, ", "), time.Since(start).Round(time.Millisecond))
}

// activated registers a tenant with a small catalogue through the binary, so that the
// store file is a real, complete cazbling store (WAL checkpointed at exit).
func activated(t *testing.T, e *env) {
	t.Helper()
	tn := e.addTenant("loja-estragada")
	e.seedCatalogue(tn, 5, func(i int) int64 { return 1 })
	e.mustRun(0, e.activateArgs(tn)...)
	if _, err := os.Stat(relDBPath(e) + "-wal"); err == nil {
		t.Fatalf("the store's write-ahead log is still there after the binary exited")
	}
}

func writeFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// patchFile overwrites the bytes of path at offset with b.
func patchFile(t *testing.T, path string, offset int64, b []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt(b, offset); err != nil {
		t.Fatal(err)
	}
}

// TestE2EMissingKeyFile activates a tenant with the secrets key in the key file
// (no CAZBLING_KEY), then deletes the key file: the next runs exit 2 with a message
// about the key and leave the store as it was; once the original key file is back,
// everything works again and nothing was lost.
func TestE2EMissingKeyFile(t *testing.T) {
	sqliteOnly(t, "the key file beside the SQLite file (a PostgreSQL store takes CAZBLING_KEY)")
	start := time.Now()
	e := newRelEnv(t, relConfig{noKey: true})
	tn := e.addTenant("loja-chave")
	e.seedCatalogue(tn, 20, func(i int) int64 { return int64(i % 3) })
	e.mustRun(0, e.activateArgs(tn)...)
	db := relDBPath(e)
	keyFile := db + ".key"
	info, err := os.Stat(keyFile)
	if err != nil {
		t.Fatalf("no key file after activate: %v", err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %o, want 0600", info.Mode().Perm())
	}
	key, err := os.ReadFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	showBefore := e.mustRun(0, "tenants", "show", tn.ID, "-o", "json").stdout

	if err := os.Remove(keyFile); err != nil {
		t.Fatal(err)
	}
	before := fileSum(t, db)
	refusals := 0
	for _, args := range [][]string{{"sync-products"}, {"sync-orders"}, {"tenants"}} {
		r := e.run(args...)
		relNoPanic(t, r)
		if r.code != 2 || !strings.Contains(r.stderr, "key") || !strings.Contains(r.stderr, keyFile) {
			t.Errorf("%s without the key file: want exit 2 and a message about the key naming %s:\n%s", args[0], keyFile, r)
		}
		if strings.Contains(r.stdout+r.stderr, tn.ClientSecret) || strings.Contains(r.stdout+r.stderr, tn.CazcoKey) {
			t.Errorf("%s without the key file printed a secret", args[0])
		}
		refusals++
	}
	if fileSum(t, db) != before {
		t.Errorf("the store changed while it was refused")
	}
	_, err = os.Stat(keyFile)
	replaced := err == nil

	// The operator restores the key file from the backup.
	if err := os.WriteFile(keyFile, key, 0o600); err != nil {
		t.Fatal(err)
	}
	if got := e.mustRun(0, "tenants", "show", tn.ID, "-o", "json").stdout; !sameShow(t, showBefore, got) {
		t.Errorf("tenants show changed across the missing key:\nbefore %s\nafter %s", showBefore, got)
	}
	e.mustRun(0, "sync-products")
	e.mustRun(0, "sync-stock")
	e.mustRun(0, "sync-orders")
	expectCatalogue(t, e, tn, nil)
	relIntegrity(t, e)
	t.Logf("runs refused without the key file: %d (exit 2, store unchanged; a new key file was written meanwhile: %v); after restoring it: all flows exit 0, items compared: 20; took %s",
		refusals, replaced, time.Since(start).Round(time.Millisecond))
}

// sameShow compares two `tenants show -o json` outputs on what a lost key would
// lose: status, settings, cursors and link counts.
func sameShow(t *testing.T, a, b string) bool {
	t.Helper()
	pick := func(s string) string {
		var d map[string]any
		if err := json.Unmarshal([]byte(s), &d); err != nil {
			t.Fatalf("tenants show json: %v", err)
		}
		delete(d, "last_runs")
		delete(d, "updated_at")
		out, _ := json.Marshal(d)
		return string(out)
	}
	return pick(a) == pick(b)
}

// TestE2EReadOnlyStoreIsReadable puts an activated tenant's store on a read-only
// mount: `logs`, `tenants` and `tenants show` read it as it is, and the commands that
// write refuse with exit 2 and say what to do. It needs a private mount (root, unshare);
// elsewhere it is skipped.
func TestE2EReadOnlyStoreIsReadable(t *testing.T) {
	sqliteOnly(t, "the SQLite file on read-only media")
	e := newEnv(t)
	tn := e.addTenant("ro-shop")
	e.seedCatalogue(tn, 3, func(int) int64 { return 5 })
	e.mustRun(0, e.activateArgs(tn)...)
	dir := filepath.Join(e.dir, "store")
	ro := func(want int, args ...string) result {
		t.Helper()
		r, ok := runOnReadOnlyMount(t, e, dir, args...)
		if !ok {
			t.Skip("no private read-only mount on this system")
		}
		if r.code != want {
			t.Fatalf("cazbling %s on a read-only store: want exit %d, got:\n%s", strings.Join(args, " "), want, r)
		}
		return r
	}

	if r := ro(0, "tenants"); !strings.Contains(r.stdout, "ro-shop") {
		t.Errorf("tenants does not list ro-shop:\n%s", r)
	}
	if r := ro(0, "tenants", "show", "ro-shop"); !strings.Contains(r.stdout, "ro-shop") {
		t.Errorf("tenants show does not show ro-shop:\n%s", r)
	}
	r := ro(0, "logs", "--limit", "0", "-o", "json")
	var rows []map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &rows); err != nil || len(rows) < 3 {
		t.Errorf("logs: %d rows (%v), want the activation's rows:\n%s", len(rows), err, r)
	}
	for _, args := range [][]string{{"sync-stock"}, {"tenants", "deactivate", "ro-shop"}, {"logs", "prune", "--older-than", "1d"}} {
		r := ro(2, args...)
		if !strings.Contains(r.stderr, "read-only file system") || !strings.Contains(r.stderr, "run it where the store can be written") {
			t.Errorf("cazbling %s: stderr does not say the store cannot be written and what to do:\n%s", strings.Join(args, " "), r)
		}
	}
}

// TestE2ELimitsFolderUnusable: when the folder of the shared Bling limits cannot be
// made (a file has its name), a run keeps the limits for itself, says so, and syncs.
func TestE2ELimitsFolderUnusable(t *testing.T) {
	sqliteOnly(t, "the .limits folder beside the SQLite file")
	e := newRelEnv(t, relConfig{env: map[string]string{"CAZBLING_BLING_RATE": "50", "CAZBLING_BLING_IP_RATE": ""}})
	tn := e.addTenant("loja-sem-pasta")
	e.seedCatalogue(tn, 3, func(int) int64 { return 2 })
	db := relDBPath(e)
	if err := os.MkdirAll(filepath.Dir(db), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(db+".limits", []byte("not a folder\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := e.mustRun(0, e.activateArgs(tn)...)
	if !strings.Contains(r.stderr, "kept for this process only") {
		t.Errorf("the run does not say its limits are its own:\n%s", r)
	}
	expectCatalogue(t, e, tn, nil)
}
