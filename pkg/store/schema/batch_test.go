package schema

import "testing"

func TestNumbered(t *testing.T) {
	got := Numbered(`UPDATE t SET a = ?, b = ? WHERE id = ?`)
	if want := `UPDATE t SET a = $1, b = $2 WHERE id = $3`; got != want {
		t.Fatalf("Numbered = %q, want %q", got, want)
	}
}
