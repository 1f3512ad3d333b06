// Package blingsim is a stateful stand-in for Bling's API v3: OAuth with rotating
// refresh tokens, per-account rate limits and daily quota, and the product, stock,
// deposit, payment method, company, contact and sales order endpoints cazbling uses.
// It is strict where the real service is (parameter formats, required fields, error
// shapes), so that a client which passes against it is right about Bling.
//
// It serves full paths under /Api/v3 whatever it is mounted on.
//
// Its routes and where they are served:
//
//   - oauth.go: GET /oauth/authorize, GET /oauth/callback, POST /oauth/token.
//   - products.go: GET /produtos, GET /produtos/{id}.
//   - stock.go: GET /estoques/saldos, GET /depositos.
//   - account.go: GET /formas-pagamentos, GET /empresas/me/dados-basicos.
//   - contacts.go: GET and POST /contatos, GET /contatos/{id}.
//   - orders.go: GET and POST /pedidos/vendas, GET /pedidos/vendas/{id}.
//   - nfe.go: after the order: GET /nfe/{id}, GET /logisticas/objetos/{id},
//     GET /situacoes/modulos[/{id}], PATCH /pedidos/vendas/{id}/situacoes/{idSituacao}.
//
// Beside them: sim.go (accounts, the route table, rate limits and quota, admission),
// types.go (the wire types), errors.go (error bodies), query.go (query parameters and
// paging), validate.go (CPF, CNPJ, GTIN and UF checks), number.go (decimal JSON numbers).
package blingsim
