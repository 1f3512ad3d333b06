package sandbox

import (
	"testing"
	"time"
)

func TestPeaks(t *testing.T) {
	h := newHarness(t, Options{Seed: SeedEmpty})
	for i := 0; i < 4; i++ {
		h.do("GET", "/Api/v3/depositos", nil, "")
	}
	h.clock.Add(1500 * time.Millisecond)
	for i := 0; i < 3; i++ {
		h.do("GET", "/Api/v3/depositos", nil, "")
	}
	h.clock.Add(10 * time.Second)
	h.do("GET", "/Api/v3/depositos", nil, "")
	p := h.sb.Counters().Peaks["bling"]
	if p.PerSecond != 4 || p.Per10Secs != 7 || p.TotalCalls != 8 {
		t.Fatalf("peaks %+v", p)
	}
}
