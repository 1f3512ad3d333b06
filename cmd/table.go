package cmd

import (
	"io"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"
)

// renderTable prints rows under header as a plain ASCII table (it survives cron mail
// and log files). Cells are printed as given: callers cut long text with ellipsize so
// that tables fit an 80-column terminal.
func renderTable(w io.Writer, header []string, rows [][]string) error {
	t := tablewriter.NewTable(w,
		tablewriter.WithSymbols(tw.NewSymbols(tw.StyleASCII)),
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithRowAutoWrap(tw.WrapNone),
		tablewriter.WithHeaderAlignment(tw.AlignLeft),
		tablewriter.WithRowAlignment(tw.AlignLeft),
		tablewriter.WithTrimSpace(tw.Off),
	)
	t.Header(toAny(header)...)
	for _, r := range rows {
		if err := t.Append(toAny(r)...); err != nil {
			return err
		}
	}
	return t.Render()
}

func toAny(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

// ellipsize cuts s to at most n characters, marking the cut with "…".
func ellipsize(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// tableWidth is the terminal width every table fits in.
const tableWidth = 80

// shortTime is a table's time: month, day, hour and minute in UTC.
func shortTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("01-02 15:04")
}

// cell makes text safe for one table cell: control characters (newlines, tabs,
// terminal escapes) become spaces.
func cell(s string) string {
	if !strings.ContainsFunc(s, unicode.IsControl) {
		return s
	}
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
}

// shrink lets fitTable cut column col down to min characters.
type shrink struct {
	col, min int
}

// fitTable cuts cells so that the table renderTable draws is at most width characters
// wide, trying the rules in order: each cuts its column (marking cuts with "…") until
// the table fits or the column is down to its minimum.
func fitTable(header []string, rows [][]string, width int, rules ...shrink) {
	widths := make([]int, len(header))
	measure := func() int {
		total := 3*len(header) + 1 // "| " before each cell, " |" after the last
		for i := range header {
			widths[i] = utf8.RuneCountInString(header[i])
			for _, r := range rows {
				widths[i] = max(widths[i], utf8.RuneCountInString(r[i]))
			}
			total += widths[i]
		}
		return total
	}
	for _, rule := range rules {
		over := measure() - width
		if over <= 0 {
			return
		}
		limit := max(widths[rule.col]-over, rule.min, utf8.RuneCountInString(header[rule.col]), 2)
		for _, r := range rows {
			r[rule.col] = ellipsize(r[rule.col], limit)
		}
	}
}
