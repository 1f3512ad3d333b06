package cmd

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

var (
	ageSyntax  = regexp.MustCompile(`^(?:(\d+)d)?(.*)$`)
	dateSyntax = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)
)

// maxAgeDays bounds the days of an age so that it fits a time.Duration.
const maxAgeDays = 36500

// parseAge reads a non-negative age: a Go duration (90m, 720h, 1h30m) that may start
// with a number of days (7d, 1d12h).
func parseAge(s string) (time.Duration, error) {
	m := ageSyntax.FindStringSubmatch(s)
	if s == "" || m == nil {
		return 0, fmt.Errorf("%q is not a duration like 24h, 90m or 7d", s)
	}
	var age time.Duration
	if m[1] != "" {
		days, err := strconv.Atoi(m[1])
		if err != nil || days > maxAgeDays {
			return 0, fmt.Errorf("%q: at most %d days", s, maxAgeDays)
		}
		age = time.Duration(days) * 24 * time.Hour
	}
	if rest := m[2]; rest != "" {
		d, err := time.ParseDuration(rest)
		if err != nil || d < 0 || strings.HasPrefix(rest, "+") {
			return 0, fmt.Errorf("%q is not a duration like 24h, 90m or 7d", s)
		}
		if d > time.Duration(1<<63-1)-age {
			return 0, fmt.Errorf("%q is too long", s)
		}
		age += d
	}
	return age, nil
}

// ParseSince reads a --since value: an age back from now (24h, 90m, 7d, 1d12h), a date
// (2026-11-01, meaning its midnight in UTC) or an RFC 3339 time
// (2026-11-01T09:00:00-03:00).
func ParseSince(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if dateSyntax.MatchString(s) {
		t, err := time.Parse(time.DateOnly, s)
		if err != nil {
			return time.Time{}, fmt.Errorf("%q is not a date: %v", s, err)
		}
		return t, nil
	}
	if strings.Contains(s, "T") || strings.Contains(s, "t") {
		t, err := time.Parse(time.RFC3339, strings.ToUpper(s))
		if err != nil {
			return time.Time{}, fmt.Errorf("%q is not an RFC 3339 time like 2026-11-01T09:00:00-03:00", s)
		}
		return t.UTC(), nil
	}
	age, err := parseAge(s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q: want a duration (24h, 7d), a date (2026-11-01) or an RFC 3339 time (2026-11-01T09:00:00-03:00)", s)
	}
	return now.Add(-age), nil
}
