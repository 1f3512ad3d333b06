// Package sandbox composes the stand-in Bling API v3 (blingsim) and CaZco seller API
// (cazcosim) into one loopback server with demo data, fault injection, request counters
// and a small admin API under /_sandbox/, for trying, demonstrating and smoke-testing
// cazbling without real accounts.
//
// The layout, at a glance:
//
//   - blingsim/: the stand-in Bling API v3, self-contained (its own doc maps its routes
//     to files).
//   - cazcosim/: the stand-in CaZco seller API v1.1, self-contained likewise.
//
// And here, the machinery the two share:
//
//   - sandbox.go: Options, New (composition of the two fakes, the seed and the routes:
//     /Api/v3/, /api/v1/seller/, /_sandbox/), Start and Close (loopback only).
//   - faults.go: fault injection (errors, latency, malformed bodies, 429 and 5xx bursts,
//     the delayed order answer), decided by a seeded random source, and withFaults, the
//     wrapper that applies it and counts every request.
//   - counters.go: request counters by API, method, route and status, and the 1 s and
//     10 s peaks.
//   - admin.go: the admin API under /_sandbox/ (tenants, OAuth codes, faults, counters,
//     state, Bling stock and price, CaZco order status); lifecycle_admin.go: its calls
//     for an order after it is filed (NF-e, tracking, statuses, cancels).
//   - seed.go: the demo seed (DemoTenants, seedDemo: Bling accounts, CaZco stores,
//     orders), from the data in seed_data.go.
//
// internal/simclock is the settable clock the tests of all three share.
//
// Nothing outside cmd and pkg/e2e imports this package or its two fakes
// (layers_test.go), though client tests may run against blingsim and cazcosim.
package sandbox
