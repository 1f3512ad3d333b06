package cmd

import "math"

// How many tenants a sync flow works at once when --concurrency is not given.
//
// A tenant's run waits almost always on its own accounts' limits: Bling's pace per
// account (2.8/s) and CaZco's per key (57 a minute by default). The one limit the
// tenants share is Bling's per-IP window (500 in any 10 s). Working IP ÷ account (18) tenants
// at once keeps that window full only while every one of them is reading Bling; a
// tenant writing to CaZco, or waiting on its key, reads Bling far less than its pace.
// So the default works every selected tenant at once, and the shared window (which
// admits requests in the order they wait) is what spreads the IP's allowance. What
// bounds it is the host: each tenant in flight holds about 1 MB and a few file
// handles (its account's window file, its CaZco connections), so at most
// maxAutoConcurrency, and no more than the file-handle limit allows with room to spare.
const (
	maxAutoConcurrency = 128
	filesPerTenant     = 8  // account window, connections to CaZco and Bling, with margin
	filesReserved      = 64 // the store, its WAL and journal, stdio, the shared windows
)

// autoConcurrency returns the default concurrency for a host whose soft file-handle
// limit is nofile (0: unknown).
func autoConcurrency(nofile uint64) int {
	n := maxAutoConcurrency
	if nofile > 0 {
		room := (int64(min(nofile, math.MaxInt32)) - filesReserved) / filesPerTenant
		n = int(max(1, min(int64(n), room)))
	}
	return n
}
