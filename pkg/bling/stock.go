package bling

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"strconv"

	"github.com/cazbling/cazbling/pkg/cazbling"
)

// maxPages stops a walk whose server keeps answering full pages.
const maxPages = 1000

// collect walks route page by page (limite=100) until a short or empty page and returns
// every item. q holds the other filters; it is not modified.
func collect[T any](ctx context.Context, c *Client, route string, q url.Values) ([]T, error) {
	var out []T
	var previous []byte
	for page := 1; ; page++ {
		if page > maxPages {
			return nil, fmt.Errorf("bling GET %s: more than %d pages; giving up", route, maxPages)
		}
		v := url.Values{}
		for k, vs := range q {
			v[k] = append([]string(nil), vs...)
		}
		v.Set("pagina", strconv.Itoa(page))
		v.Set("limite", strconv.Itoa(maxPage))
		var env envelope[list[T]]
		resp, err := c.do(ctx, get(route, v), &env)
		if err != nil {
			return nil, err
		}
		if len(env.Data.V) < maxPage {
			return append(out, env.Data.V...), nil
		}
		if bytes.Equal(resp.Body, previous) {
			return nil, fmt.Errorf("bling GET %s: page %d repeats page %d; the server ignores pagina", route, page, page-1)
		}
		previous = resp.Body
		out = append(out, env.Data.V...)
	}
}

type balanceJSON struct {
	Produto obj[struct {
		ID     jsonID   `json:"id"`
		Codigo jsonText `json:"codigo"`
	}] `json:"produto"`
	SaldoFisicoTotal  jsonAmount `json:"saldoFisicoTotal"`
	SaldoVirtualTotal jsonAmount `json:"saldoVirtualTotal"`
	Depositos         list[struct {
		ID           jsonID     `json:"id"`
		SaldoFisico  jsonAmount `json:"saldoFisico"`
		SaldoVirtual jsonAmount `json:"saldoVirtual"`
	}] `json:"depositos"`
}

func (b balanceJSON) balance() cazbling.StockBalance {
	out := cazbling.StockBalance{
		ProductID:     int64(b.Produto.V.ID),
		SKU:           string(b.Produto.V.Codigo),
		PhysicalTotal: b.SaldoFisicoTotal.Dec(),
		VirtualTotal:  b.SaldoVirtualTotal.Dec(),
	}
	for _, d := range b.Depositos.V {
		out.Deposits = append(out.Deposits, cazbling.DepositBalance{
			DepositID: int64(d.ID), Physical: d.SaldoFisico.Dec(), Virtual: d.SaldoVirtual.Dec(),
		})
	}
	return out
}

// StockBalances reads the balances of ids with GET /estoques/saldos, 100 ids a call
// (idsProdutos[]). Balances come in the order of ids; an id Bling does not answer for
// under any filter is absent (the caller treats it as unknown).
func (c *Client) StockBalances(ctx context.Context, ids []int64) ([]cazbling.StockBalance, error) {
	seen := map[int64]bool{}
	var uniq []int64
	for _, id := range ids {
		if id > 0 && !seen[id] {
			seen[id] = true
			uniq = append(uniq, id)
		}
	}
	var out []cazbling.StockBalance
	for start := 0; start < len(uniq); start += maxPage {
		batch := uniq[start:min(start+maxPage, len(uniq))]
		got := map[int64]cazbling.StockBalance{}
		pending := batch
		// filtroSaldoEstoque: the spec (components/parameters/filtroSaldoEstoque) offers
		// 0 zero, 1 positive, 2 negative, with default 1 and no value meaning "all", so
		// leaving it out, or passing any single value, may hide zero or negative balances.
		// We pass each value explicitly: first 1, then 0 and then 2 only for the ids the
		// previous answers left out. If Bling ignores the filter on this endpoint, every
		// id comes back on the first call and nothing more is sent.
		for _, filter := range [...]string{"1", "0", "2"} {
			if len(pending) == 0 {
				break
			}
			want := map[int64]bool{}
			v := url.Values{}
			for _, id := range pending {
				want[id] = true
				v.Add("idsProdutos[]", strconv.FormatInt(id, 10))
			}
			v.Set("filtroSaldoEstoque", filter)
			var env envelope[list[balanceJSON]]
			if _, err := c.do(ctx, get("/estoques/saldos", v), &env); err != nil {
				return nil, err
			}
			for _, b := range env.Data.V {
				sb := b.balance()
				if _, dup := got[sb.ProductID]; want[sb.ProductID] && !dup {
					got[sb.ProductID] = sb
				}
			}
			var still []int64
			for _, id := range pending {
				if _, ok := got[id]; !ok {
					still = append(still, id)
				}
			}
			pending = still
		}
		for _, id := range batch {
			if sb, ok := got[id]; ok {
				out = append(out, sb)
			}
		}
	}
	return out, nil
}

type depositJSON struct {
	ID        jsonID   `json:"id"`
	Descricao jsonText `json:"descricao"`
	Situacao  jsonCode `json:"situacao"`
	Padrao    jsonFlag `json:"padrao"`
}

// Deposits lists the account's deposits, active and inactive (GET /depositos defaults
// to situacao=1, so both values are asked).
func (c *Client) Deposits(ctx context.Context) ([]cazbling.Deposit, error) {
	var out []cazbling.Deposit
	seen := map[int64]bool{}
	for _, situacao := range []string{"1", "0"} {
		items, err := collect[depositJSON](ctx, c, "/depositos", url.Values{"situacao": {situacao}})
		if err != nil {
			return nil, err
		}
		for _, d := range items {
			if seen[int64(d.ID)] {
				continue
			}
			seen[int64(d.ID)] = true
			out = append(out, cazbling.Deposit{ID: int64(d.ID), Description: string(d.Descricao), Status: int(d.Situacao), Default: bool(d.Padrao)})
		}
	}
	return out, nil
}
