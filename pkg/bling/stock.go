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

// maxStockIDs is the most ids GET /estoques/saldos takes in one call (idsProdutos[]).
const maxStockIDs = 100

// StockBalances reads, with one GET /estoques/saldos, the balances of ids that fall in
// class: filtroSaldoEstoque is always sent, as Bling's default (1) would silently read
// positive balances only, and no value means "all". Ids <= 0 and repeats are dropped;
// more than 100 remaining ids, or a class that is not set, is an error and nothing is
// sent. Balances come in the order of ids, one per id; an id whose balance is in
// another class, or that Bling does not know, is absent, and so is any answer for an
// id that was not asked.
func (c *Client) StockBalances(ctx context.Context, ids []int64, class cazbling.StockClass) ([]cazbling.StockBalance, error) {
	filter := class.Param()
	if filter == "" {
		return nil, fmt.Errorf("bling GET /estoques/saldos: stock class %d is not a filtroSaldoEstoque value", int(class))
	}
	asked := map[int64]bool{}
	var uniq []int64
	for _, id := range ids {
		if id > 0 && !asked[id] {
			asked[id] = true
			uniq = append(uniq, id)
		}
	}
	if len(uniq) > maxStockIDs {
		return nil, fmt.Errorf("bling GET /estoques/saldos: %d ids; at most %d a call", len(uniq), maxStockIDs)
	}
	if len(uniq) == 0 {
		return nil, nil
	}
	v := url.Values{}
	for _, id := range uniq {
		v.Add("idsProdutos[]", strconv.FormatInt(id, 10))
	}
	v.Set("filtroSaldoEstoque", filter)
	var env envelope[list[balanceJSON]]
	if _, err := c.do(ctx, get("/estoques/saldos", v), &env); err != nil {
		return nil, err
	}
	got := make(map[int64]cazbling.StockBalance, len(env.Data.V))
	for _, b := range env.Data.V {
		sb := b.balance()
		if _, dup := got[sb.ProductID]; asked[sb.ProductID] && !dup {
			got[sb.ProductID] = sb
		}
	}
	out := make([]cazbling.StockBalance, 0, len(got))
	for _, id := range uniq {
		if sb, ok := got[id]; ok {
			out = append(out, sb)
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
