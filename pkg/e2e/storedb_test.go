package e2e

import (
	"database/sql"
	"strconv"
	"strings"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib"
	_ "github.com/mattn/go-sqlite3"

	"github.com/cazbling/cazbling/pkg/store"
)

// storeDB is a direct handle on a scenario's store, whichever its backend: the SQLite
// file or the scenario's PostgreSQL schema. Queries are written with ? placeholders;
// on PostgreSQL they become $1, $2, ... (the tables and columns that the tests read are
// the same on both backends).
type storeDB struct {
	*sql.DB
	pg bool
}

// storeOf is the CAZBLING_DB value of the scenario (a file path or a postgres:// URL).
func storeOf(e *env) string {
	for _, v := range e.vars {
		if s, ok := strings.CutPrefix(v, "CAZBLING_DB="); ok {
			return s
		}
	}
	e.t.Fatal("the scenario has no CAZBLING_DB")
	return ""
}

// openStoreDB opens the scenario's store directly; sqliteParams are the SQLite URI's
// parameters (e.g. "mode=ro&_busy_timeout=5000"), unused on PostgreSQL.
func openStoreDB(t *testing.T, e *env, sqliteParams string) storeDB {
	t.Helper()
	db := storeOf(e)
	if store.IsPostgres(db) {
		h, err := sql.Open("pgx", db)
		if err != nil {
			t.Fatal(err)
		}
		return storeDB{DB: h, pg: true}
	}
	h, err := sql.Open("sqlite3", "file:"+db+"?"+sqliteParams)
	if err != nil {
		t.Fatal(err)
	}
	return storeDB{DB: h}
}

// rebind turns the ? placeholders of q into PostgreSQL's $n on PostgreSQL.
func (d storeDB) rebind(q string) string {
	if !d.pg {
		return q
	}
	var b strings.Builder
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func (d storeDB) Exec(q string, args ...any) (sql.Result, error) {
	return d.DB.Exec(d.rebind(q), args...)
}

func (d storeDB) Query(q string, args ...any) (*sql.Rows, error) {
	return d.DB.Query(d.rebind(q), args...)
}

func (d storeDB) QueryRow(q string, args ...any) *sql.Row {
	return d.DB.QueryRow(d.rebind(q), args...)
}
