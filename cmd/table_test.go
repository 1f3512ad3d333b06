package cmd

import (
	"bytes"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/cazbling/cazbling/pkg/cazbling"
)

func TestFitTableKeepsEveryLineWithinWidth(t *testing.T) {
	long := strings.Repeat("x", 200)
	var out, errOut bytes.Buffer
	entries := []cazbling.LogEntry{{Time: fixedNow, TenantID: strings.Repeat("t", 64), Key: long, Action: "already_in_bling", Status: "ok", Message: long}}
	if err := printLogs(&out, "table", entries, true); err != nil {
		t.Fatal(err)
	}
	runs := []cazbling.Run{{ID: 9999999, TenantID: strings.Repeat("t", 64), Flow: "products", StartedAt: fixedNow, FinishedAt: fixedNow.Add(5 * time.Hour),
		Status: "warning", Counts: cazbling.Counts{Created: 999999, Updated: 999999, Unchanged: 9999999, StockSet: 999999, Failed: 999999, Retry: 999999}}}
	if err := printRuns(&out, "table", runs, true); err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(out.String(), "\n") {
		if n := utf8.RuneCountInString(line); n > tableWidth {
			t.Errorf("line of %d characters:\n%s", n, line)
		}
	}
	_ = errOut
}
