package cmd

import (
	"runtime"
	"testing"
)

func TestAutoConcurrency(t *testing.T) {
	for _, tt := range []struct {
		nofile uint64
		want   int
	}{
		{0, maxAutoConcurrency},            // unknown: the memory bound
		{1 << 20, maxAutoConcurrency},      // plenty of handles
		{1024, (1024 - filesReserved) / 8}, // 120
		{256, 24},
		{64, 1}, // nothing to spare: one at a time, never none
		{10, 1},
	} {
		if got := autoConcurrency(tt.nofile); got != tt.want {
			t.Errorf("autoConcurrency(%d) = %d, want %d", tt.nofile, got, tt.want)
		}
	}
	if runtime.GOOS != "windows" && openFileLimit() == 0 {
		t.Error("the open-file limit cannot be read on this host")
	}
}
