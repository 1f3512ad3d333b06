package cmd

import (
	"strings"
	"testing"
	"time"
)

func TestParseSince(t *testing.T) {
	now := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		want time.Time
	}{
		{"24h", now.Add(-24 * time.Hour)},
		{"90m", now.Add(-90 * time.Minute)},
		{"7d", now.Add(-7 * 24 * time.Hour)},
		{"1d12h", now.Add(-36 * time.Hour)},
		{"0d", now},
		{" 2h ", now.Add(-2 * time.Hour)},
		{"2026-10-15", time.Date(2026, 10, 15, 0, 0, 0, 0, time.UTC)},
		{"2026-11-01T09:00:00-03:00", time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)},
		{"2026-11-01t09:00:00z", time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)},
		{"2026-11-01T09:00:00.5Z", time.Date(2026, 11, 1, 9, 0, 0, 5e8, time.UTC)},
	} {
		got, err := ParseSince(tc.in, now)
		if err != nil || !got.Equal(tc.want) {
			t.Errorf("ParseSince(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "yesterday", "d", "7", "-2h", "+2h", "7d-1h", "1.5d", "2h7d", "2026-13-01",
		"2026-11-01T09:00:00", "01/11/2026", "99999999999999999999d", "36501d", "36500d2562047h"} {
		if got, err := ParseSince(bad, now); err == nil {
			t.Errorf("ParseSince(%q) = %v, want an error", bad, got)
		}
	}
}

func FuzzParseSince(f *testing.F) {
	for _, s := range []string{"24h", "7d", "1d12h", "90m", "0d", "2026-11-01", "2026-11-01T09:00:00-03:00",
		"2026-11-01t09:00:00z", "", "d", "-1h", "7d-1h", "99999999999d", "36500d2562047h", "1.5h", "T", "2026-02-30"} {
		f.Add(s)
	}
	now := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseSince(s, now)
		if err != nil {
			return
		}
		if got.IsZero() {
			t.Fatalf("ParseSince(%q) = the zero time", s)
		}
		if age, err := parseAge(strings.TrimSpace(s)); err == nil {
			if age < 0 || !got.Equal(now.Add(-age)) || got.After(now) {
				t.Fatalf("ParseSince(%q) = %v, age %v: not now minus the age", s, got, age)
			}
		}
	})
}
