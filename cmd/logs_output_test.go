package cmd

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestLogsTablesMatchGoldenFiles(t *testing.T) {
	s, _ := openStore(t)
	seed(t, s)
	for _, tc := range []struct {
		golden string
		set    func(o *LogsOptions)
	}{
		{"logs.golden", func(o *LogsOptions) {}},
		{"logs_tenant.golden", func(o *LogsOptions) { o.Tenants = []string{"loja-da-ana"} }},
		{"logs_runs.golden", func(o *LogsOptions) { o.Runs = true }},
		{"logs_runs_tenant.golden", func(o *LogsOptions) { o.Runs, o.Tenants = true, []string{"bazar-do-beto"} }},
	} {
		t.Run(tc.golden, func(t *testing.T) {
			var out, errOut bytes.Buffer
			o := logsOpts(s, &out, &errOut)
			tc.set(o)
			if err := logsRun(context.Background(), o); err != nil {
				t.Fatal(err)
			}
			golden(t, tc.golden, out.String())
			if errOut.Len() != 0 {
				t.Errorf("stderr: %q, want nothing (every row fits the limit)", errOut.String())
			}
		})
	}
}

func TestLogsTableCutsMessagesButKeepsThemClean(t *testing.T) {
	s, _ := openStore(t)
	seed(t, s)
	var out, errOut bytes.Buffer
	o := logsOpts(s, &out, &errOut)
	if err := logsRun(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	if strings.Contains(text, longMessage) {
		t.Error("the table shows the long message whole; it should be cut to fit")
	}
	if !strings.Contains(text, "…") {
		t.Error("no cell was marked as cut")
	}
	if strings.ContainsAny(text, "\t\x1b") || strings.Contains(text, "503):\n") {
		t.Errorf("control characters of a message reached the table:\n%s", text)
	}
}

func TestLogsEmptyResult(t *testing.T) {
	s, _ := openStore(t)
	seed(t, s)
	for output, want := range map[string]string{"table": "No log rows match.\n", "json": "[]\n", "csv": strings.Join(logColumns, ",") + "\n"} {
		var out, errOut bytes.Buffer
		o := logsOpts(s, &out, &errOut)
		o.Output, o.Since = output, "2026-12-01"
		if err := logsRun(context.Background(), o); err != nil {
			t.Fatal(err)
		}
		if out.String() != want {
			t.Errorf("-o %s: got %q, want %q", output, out.String(), want)
		}
		out.Reset()
		o.Runs = true
		if err := logsRun(context.Background(), o); err != nil {
			t.Fatal(err)
		}
		if output == "json" && out.String() != "[]\n" {
			t.Errorf("--runs -o json: got %q, want []", out.String())
		}
	}
}

func TestLogsJSONAndCSVCarryEveryFieldWhole(t *testing.T) {
	s, _ := openStore(t)
	f := seed(t, s)
	for _, runs := range []bool{false, true} {
		columns := logColumns
		if runs {
			columns = runColumns
		}
		var jsonOut, csvOut, errOut bytes.Buffer
		o := logsOpts(s, &jsonOut, &errOut)
		o.Output, o.Limit, o.Runs = "json", 0, runs
		if err := logsRun(context.Background(), o); err != nil {
			t.Fatal(err)
		}
		o = logsOpts(s, &csvOut, &errOut)
		o.Output, o.Limit, o.Runs = "csv", 0, runs
		if err := logsRun(context.Background(), o); err != nil {
			t.Fatal(err)
		}
		var objs []map[string]any
		if err := json.Unmarshal(jsonOut.Bytes(), &objs); err != nil {
			t.Fatalf("--runs=%v: JSON does not parse: %v", runs, err)
		}
		csvText := csvOut.String()
		records, err := csv.NewReader(strings.NewReader(csvText)).ReadAll()
		if err != nil {
			t.Fatalf("--runs=%v: CSV does not parse: %v", runs, err)
		}
		if !slices.Equal(records[0], columns) {
			t.Errorf("CSV header %q, want %q", records[0], columns)
		}
		wantRows := 18
		if runs {
			wantRows = len(f.runs)
		}
		if len(objs) != wantRows || len(records) != wantRows+1 {
			t.Fatalf("--runs=%v: %d JSON rows and %d CSV rows, want %d", runs, len(objs), len(records)-1, wantRows)
		}
		for i, obj := range objs {
			if len(obj) != len(columns) {
				t.Errorf("JSON row %d has %d fields, want %d: %v", i, len(obj), len(columns), obj)
			}
			for j, col := range columns {
				v, ok := obj[col]
				if !ok || v == nil {
					t.Errorf("JSON row %d: field %q missing or null", i, col)
					continue
				}
				// The CSV row says the same as the JSON row, field by field.
				var text string
				switch v := v.(type) {
				case string:
					text = v
				case float64:
					text = fmt.Sprint(int64(v))
				default:
					t.Errorf("JSON row %d field %q has type %T", i, col, v)
				}
				if records[i+1][j] != text {
					t.Errorf("row %d field %q: CSV %q, JSON %q", i, col, records[i+1][j], text)
				}
			}
		}
		if runs {
			// A run still going has no finish time: an empty string, not null.
			var running map[string]any
			for _, obj := range objs {
				if obj["status"] == "running" {
					running = obj
				}
			}
			if running == nil || running["finished_at"] != "" {
				t.Errorf("running run: %v, want finished_at \"\"", running)
			}
			if running["host"] != "host-a:4242:9f3c1b2e" {
				t.Errorf("running run: host %v, want the holder it started with", running["host"])
			}
			continue
		}
		var found bool
		for _, obj := range objs {
			if obj["key"] == "CANECA-BRANCA" && obj["entity"] == "product" {
				found = obj["message"] == longMessage
				if tm, err := time.Parse(time.RFC3339, obj["time"].(string)); err != nil || !tm.Equal(at("2026-11-01T09:00:30Z")) {
					t.Errorf("time %v: %v", obj["time"], err)
				}
			}
			if obj["key"] == "ord_5b3e10" && obj["message"] != "Bling did not answer (HTTP 503):\n<html>\tService Unavailable\x1b[31m</html>" {
				t.Errorf("JSON changed a message: %q", obj["message"])
			}
		}
		if !found || !strings.Contains(csvText, longMessage) {
			t.Error("the long message is not whole in JSON and CSV")
		}
	}
}
