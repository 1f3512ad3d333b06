package bling

import (
	"context"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/cazbling/cazbling/pkg/cazbling"
)

func TestStockBalances(t *testing.T) {
	for _, tc := range []struct {
		class  cazbling.StockClass
		filter string
	}{
		{cazbling.StockPositive, "1"},
		{cazbling.StockZero, "0"},
		{cazbling.StockNegative, "2"},
	} {
		t.Run(tc.class.String(), func(t *testing.T) {
			c, f, _, _ := newTestClient(t)
			f.handle("GET /estoques/saldos", func(w http.ResponseWriter, r recorded) {
				// Answers in reverse order, with an id that was not asked and a second
				// answer for id 1001, both to be ignored.
				ids := r.Query["idsProdutos[]"]
				items := []string{
					`{"produto":{"id":5},"saldoFisicoTotal":1,"saldoVirtualTotal":1}`,
					`{"produto":{"id":1001},"saldoFisicoTotal":99,"saldoVirtualTotal":99}`,
				}
				for i := len(ids) - 1; i >= 0; i-- {
					s := ids[i]
					items = append(items, fmt.Sprintf(`{"produto":{"id":%s,"codigo":"S%s"},"saldoFisicoTotal":10.5,"saldoVirtualTotal":0.1,"depositos":[{"id":77,"saldoFisico":10.5,"saldoVirtual":0.1}]}`, s, s))
				}
				items[1], items[len(items)-1] = items[len(items)-1], items[1] // 1001's real answer comes first
				writeJSON(w, 200, dataList(items...))
			})
			// A duplicate, a zero and a negative id are not asked.
			got, err := c.StockBalances(context.Background(), []int64{1000, 1001, 1002, 1000, 0, -4}, tc.class)
			if err != nil {
				t.Fatal(err)
			}
			reqs := f.requests("GET", "/estoques/saldos")
			if len(reqs) != 1 {
				t.Fatalf("%d calls, want 1", len(reqs))
			}
			if q := reqs[0].Query; !reflect.DeepEqual(q["idsProdutos[]"], []string{"1000", "1001", "1002"}) || !reflect.DeepEqual(q["filtroSaldoEstoque"], []string{tc.filter}) {
				t.Errorf("query = %v, want ids 1000,1001,1002 and filtroSaldoEstoque=%s", q, tc.filter)
			}
			var ids []int64
			for _, b := range got {
				ids = append(ids, b.ProductID)
			}
			if !reflect.DeepEqual(ids, []int64{1000, 1001, 1002}) {
				t.Fatalf("balances of %v, want 1000, 1001, 1002 in that order", ids)
			}
			for _, b := range got {
				if want := fmt.Sprintf("S%d", b.ProductID); b.SKU != want || b.PhysicalTotal.String() != "10.5" || b.VirtualTotal.String() != "0.1" ||
					len(b.Deposits) != 1 || b.Deposits[0].DepositID != 77 || b.Deposits[0].Physical.String() != "10.5" || b.Deposits[0].Virtual.String() != "0.1" {
					t.Errorf("balance = %+v", b)
				}
			}
		})
	}
}

func TestStockBalancesAbsentIDs(t *testing.T) {
	c, f, _, _ := newTestClient(t)
	balances := map[string]string{"1": "5", "2": "0", "3": "-3"}
	f.handle("GET /estoques/saldos", func(w http.ResponseWriter, r recorded) {
		// This server honours filtroSaldoEstoque: 0 zero, 1 positive, 2 negative.
		filter := r.Query.Get("filtroSaldoEstoque")
		var items []string
		for _, id := range r.Query["idsProdutos[]"] {
			v, ok := balances[id]
			if !ok {
				continue
			}
			d := decimal.RequireFromString(v)
			if (filter == "1" && d.IsPositive()) || (filter == "0" && d.IsZero()) || (filter == "2" && d.IsNegative()) {
				items = append(items, fmt.Sprintf(`{"produto":{"id":%s},"saldoFisicoTotal":%s,"saldoVirtualTotal":%s}`, id, v, v))
			}
		}
		writeJSON(w, 200, dataList(items...))
	})
	var summary []string
	for _, class := range cazbling.StockClasses() {
		got, err := c.StockBalances(context.Background(), []int64{1, 2, 3, 4}, class)
		if err != nil {
			t.Fatal(err)
		}
		var parts []string
		for _, b := range got {
			parts = append(parts, fmt.Sprintf("%d=%s", b.ProductID, b.VirtualTotal))
		}
		summary = append(summary, class.String()+":"+strings.Join(parts, ","))
	}
	// Id 4 is unknown: absent under every class.
	if want := []string{"positive:1=5", "zero:2=0", "negative:3=-3"}; !reflect.DeepEqual(summary, want) {
		t.Errorf("balances = %v, want %v", summary, want)
	}
	var asked []string
	for _, r := range f.requests("GET", "/estoques/saldos") {
		asked = append(asked, r.Query.Get("filtroSaldoEstoque")+":"+strings.Join(r.Query["idsProdutos[]"], ","))
	}
	if want := []string{"1:1,2,3,4", "0:1,2,3,4", "2:1,2,3,4"}; !reflect.DeepEqual(asked, want) {
		t.Errorf("calls = %v, want %v", asked, want)
	}
}

func TestStockBalancesRefusesWithoutCalling(t *testing.T) {
	many := func(n int) []int64 {
		var ids []int64
		for i := range n {
			ids = append(ids, int64(1000+i))
		}
		return ids
	}
	for _, tc := range []struct {
		name    string
		ids     []int64
		class   cazbling.StockClass
		wantErr string // "" when the call succeeds
		calls   int
	}{
		{"101 ids", many(101), cazbling.StockPositive, "at most 100", 0},
		{"no class", many(3), 0, "not a filtroSaldoEstoque value", 0},
		{"unknown class", many(3), cazbling.StockClass(9), "not a filtroSaldoEstoque value", 0},
		{"no usable id", []int64{0, -1}, cazbling.StockZero, "", 0},
		{"100 ids with repeats", append(many(100), many(50)...), cazbling.StockNegative, "", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, f, _, _ := newTestClient(t)
			f.handle("GET /estoques/saldos", func(w http.ResponseWriter, r recorded) {
				if n := len(r.Query["idsProdutos[]"]); n > 100 {
					t.Errorf("%d ids sent", n)
				}
				writeJSON(w, 200, dataList())
			})
			got, err := c.StockBalances(context.Background(), tc.ids, tc.class)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("error %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("error %v, want one saying %q", err, tc.wantErr)
			}
			if len(got) != 0 {
				t.Errorf("%d balances", len(got))
			}
			if n := len(f.requests("GET", "/estoques/saldos")); n != tc.calls {
				t.Errorf("%d calls, want %d", n, tc.calls)
			}
		})
	}
}

func TestDeposits(t *testing.T) {
	c, f, _, _ := newTestClient(t)
	f.handle("GET /depositos", func(w http.ResponseWriter, r recorded) {
		switch r.Query.Get("situacao") {
		case "1":
			writeJSON(w, 200, dataList(`{"id":14886873196,"descricao":"Geral","situacao":1,"padrao":true,"desconsiderarSaldo":false}`))
		case "0":
			writeJSON(w, 200, dataList(`{"id":2,"descricao":"Antigo","situacao":0,"padrao":false}`))
		default:
			t.Errorf("situacao = %q", r.Query.Get("situacao"))
		}
	})
	got, err := c.Deposits(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := []cazbling.Deposit{{ID: 14886873196, Description: "Geral", Status: 1, Default: true}, {ID: 2, Description: "Antigo", Status: 0}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("deposits = %+v", got)
	}
}

func TestPagingStopsWhenServerIgnoresPagina(t *testing.T) {
	c, f, _, _ := newTestClient(t)
	var full []string
	for i := range 100 {
		full = append(full, productItem(i+1, "DUP"))
	}
	f.handle("GET /produtos", func(w http.ResponseWriter, r recorded) { writeJSON(w, 200, dataList(full...)) })
	if _, err := c.ProductsBySKU(context.Background(), []string{"DUP"}); err == nil || !strings.Contains(err.Error(), "ignores pagina") {
		t.Errorf("err = %v", err)
	}
	var deps []string
	for i := range 100 {
		deps = append(deps, fmt.Sprintf(`{"id":%d,"descricao":"D","situacao":1}`, i+1))
	}
	f.handle("GET /depositos", func(w http.ResponseWriter, r recorded) { writeJSON(w, 200, dataList(deps...)) })
	if _, err := c.Deposits(context.Background()); err == nil || !strings.Contains(err.Error(), "ignores pagina") {
		t.Errorf("err = %v", err)
	}
	if n := len(f.requests("", "")); n != 4 {
		t.Errorf("%d requests, want 4", n)
	}
}
