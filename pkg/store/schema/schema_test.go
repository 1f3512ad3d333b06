package schema

import (
	"testing"

	"github.com/cazbling/cazbling/pkg/cazbling"
)

func TestNumbered(t *testing.T) {
	got := Numbered(`UPDATE t SET a = ?, b = ? WHERE id = ?`)
	if want := `UPDATE t SET a = $1, b = $2 WHERE id = $3`; got != want {
		t.Fatalf("Numbered = %q, want %q", got, want)
	}
}

func TestLogWherePlaceholders(t *testing.T) {
	f := cazbling.LogFilter{TenantID: "t1", Key: "k", Search: "42"}
	pg := LogWhere(f, Dollar)
	if want := ` WHERE tenant_id = $1 AND key = $2 AND (key = $3 OR '&' || params || '&' LIKE $4 ESCAPE '\')`; pg.String() != want {
		t.Errorf("PostgreSQL: %s\nwant        %s", pg, want)
	}
	lite := LogWhere(f, QuestionMark)
	if want := ` WHERE tenant_id = ? AND key = ? AND (key = ? OR '&' || params || '&' LIKE ? ESCAPE '\')`; lite.String() != want {
		t.Errorf("SQLite: %s\nwant    %s", lite, want)
	}
	if len(pg.Args) != 4 || len(lite.Args) != 4 {
		t.Errorf("args: %v, %v", pg.Args, lite.Args)
	}
	if (&Where{ph: Dollar}).String() != "" {
		t.Error("no filter must be no WHERE")
	}
}
