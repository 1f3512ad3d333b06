// Package cazcosim is a stateful stand-in for the CaZco seller API v1
// (shared/api/cazco-seller-v1.yaml). It keeps several independent stores, one per API
// key, and is strict about the contract so that a client that works against it is right:
// bearer auth, per-key fixed-window rate limits with their headers, the Error body on
// every failure, strict body and query validation, absolute next links and the
// documented stock and order semantics.
//
// Timestamps are kept in UTC and truncated to whole seconds, as a database would store
// them; the clock is injected (Options.Now), so rate-limit windows and updated_at move
// with sandbox time.
//
// Its routes, under BasePath, and where they are served:
//
//   - products.go: GET and POST /products, GET and PUT /products/{id}.
//   - stock.go: PUT /products/{id}/stock, PUT /stock (batch).
//   - orders.go: GET /orders, GET /orders/{id}.
//   - fulfillment.go (v1.1): PUT /orders/{id}/invoice, POST /orders/{id}/shipments,
//     POST /orders/{id}/cancel.
//
// Beside them: cazcosim.go (stores, auth, rate limits, routing, body decoding),
// paging.go (paging and list answers), types.go (the wire types), and the Go API that
// seeds and inspects stores directly: seed.go (products) and seed_orders.go (orders).
package cazcosim
