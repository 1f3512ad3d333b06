package bling

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/cazbling/cazbling/pkg/cazbling"
)

// The order lifecycle's reads and one write (issue 17): a sales order's status, NF-e
// and volumes, the NF-e itself, a logistics object's tracking, the sales module's
// statuses, and PATCH of an order's status.

type salesOrderJSON struct {
	ID       jsonID `json:"id"`
	Situacao obj[struct {
		ID    jsonID   `json:"id"`
		Valor jsonCode `json:"valor"`
	}] `json:"situacao"`
	NotaFiscal obj[struct {
		ID jsonID `json:"id"`
	}] `json:"notaFiscal"`
	Transporte obj[struct {
		Contato obj[struct {
			Nome jsonText `json:"nome"`
		}] `json:"contato"`
		Volumes list[struct {
			ID                 jsonID   `json:"id"`
			Servico            jsonText `json:"servico"`
			CodigoRastreamento jsonText `json:"codigoRastreamento"`
		}] `json:"volumes"`
	}] `json:"transporte"`
}

// SalesOrder reads one sales order (GET /pedidos/vendas/{id}): its status, NF-e id
// and volumes with their tracking codes.
func (c *Client) SalesOrder(ctx context.Context, id int64) (cazbling.ERPOrderState, error) {
	const route = "/pedidos/vendas/{idPedidoVenda}"
	cl := get(route, nil)
	cl.path = "/pedidos/vendas/" + strconv.FormatInt(id, 10)
	var env envelope[obj[salesOrderJSON]]
	resp, err := c.do(ctx, cl, &env)
	if err != nil {
		return cazbling.ERPOrderState{}, err
	}
	d := env.Data.V
	if int64(d.ID) != id {
		return cazbling.ERPOrderState{}, malformed("GET "+route, resp, errors.New("the answer is not the order asked for"))
	}
	st := cazbling.ERPOrderState{
		ID: int64(d.ID), StatusID: int64(d.Situacao.V.ID), InvoiceID: int64(d.NotaFiscal.V.ID),
		Carrier: strings.TrimSpace(string(d.Transporte.V.Contato.V.Nome)),
	}
	for _, v := range d.Transporte.V.Volumes.V {
		st.Volumes = append(st.Volumes, cazbling.ERPVolume{
			ID: int64(v.ID), Service: strings.TrimSpace(string(v.Servico)),
			TrackingCode: strings.TrimSpace(string(v.CodigoRastreamento)),
		})
	}
	return st, nil
}

type invoiceJSON struct {
	ID          jsonID     `json:"id"`
	Situacao    jsonCode   `json:"situacao"`
	Numero      jsonText   `json:"numero"`
	Serie       jsonText   `json:"serie"`
	ChaveAcesso jsonText   `json:"chaveAcesso"`
	DataEmissao jsonText   `json:"dataEmissao"`
	ValorNota   jsonAmount `json:"valorNota"`
	LinkDanfe   jsonText   `json:"linkDanfe"`
	XML         jsonText   `json:"xml"`
}

// Invoice reads one NF-e (GET /nfe/{idNotaFiscal}). dataEmissao is São Paulo time.
func (c *Client) Invoice(ctx context.Context, id int64) (cazbling.ERPInvoice, error) {
	const route = "/nfe/{idNotaFiscal}"
	cl := get(route, nil)
	cl.path = "/nfe/" + strconv.FormatInt(id, 10)
	var env envelope[obj[invoiceJSON]]
	resp, err := c.do(ctx, cl, &env)
	if err != nil {
		return cazbling.ERPInvoice{}, err
	}
	d := env.Data.V
	if int64(d.ID) != id {
		return cazbling.ERPInvoice{}, malformed("GET "+route, resp, errors.New("the answer is not the NF-e asked for"))
	}
	inv := cazbling.ERPInvoice{
		ID: int64(d.ID), Status: int(d.Situacao), Number: strings.TrimSpace(string(d.Numero)),
		Series: strings.TrimSpace(string(d.Serie)), AccessKey: digits(string(d.ChaveAcesso)),
		Amount: d.ValorNota.Dec(), DanfeURL: strings.TrimSpace(string(d.LinkDanfe)), XMLURL: strings.TrimSpace(string(d.XML)),
	}
	if s := strings.TrimSpace(string(d.DataEmissao)); s != "" {
		for _, layout := range []string{blingDateTime, blingDate, time.RFC3339} {
			if t, err := time.ParseInLocation(layout, s, saoPaulo); err == nil {
				inv.IssuedAt = t
				break
			}
		}
	}
	return inv, nil
}

// Tracking reads a logistics object's tracking (GET /logisticas/objetos/{idObjeto}).
func (c *Client) Tracking(ctx context.Context, objectID int64) (cazbling.ERPTracking, error) {
	const route = "/logisticas/objetos/{idObjeto}"
	cl := get(route, nil)
	cl.path = "/logisticas/objetos/" + strconv.FormatInt(objectID, 10)
	var env envelope[obj[struct {
		Rastreamento obj[struct {
			Codigo jsonText `json:"codigo"`
			URL    jsonText `json:"url"`
		}] `json:"rastreamento"`
	}]]
	if _, err := c.do(ctx, cl, &env); err != nil {
		return cazbling.ERPTracking{}, err
	}
	r := env.Data.V.Rastreamento.V
	return cazbling.ERPTracking{Code: strings.TrimSpace(string(r.Codigo)), URL: strings.TrimSpace(string(r.URL))}, nil
}

// SalesStatuses lists the statuses of the sales module: GET /situacoes/modulos, the
// module named "Vendas", then GET /situacoes/modulos/{idModuloSistema}.
func (c *Client) SalesStatuses(ctx context.Context) ([]cazbling.ERPStatus, error) {
	var mods envelope[list[struct {
		ID        jsonID   `json:"id"`
		Nome      jsonText `json:"nome"`
		Descricao jsonText `json:"descricao"`
	}]]
	resp, err := c.do(ctx, get("/situacoes/modulos", nil), &mods)
	if err != nil {
		return nil, err
	}
	var module int64
	for _, m := range mods.Data.V {
		if fold(string(m.Nome)) == "vendas" || (module == 0 && fold(string(m.Descricao)) == "pedidos de venda") {
			module = int64(m.ID)
		}
	}
	if module == 0 {
		return nil, &cazbling.APIError{API: "bling", Op: "GET /situacoes/modulos", Status: resp.Status, Kind: cazbling.KindData,
			Message: "Bling lists no module named Vendas; the sales order statuses cannot be read"}
	}
	const route = "/situacoes/modulos/{idModuloSistema}"
	cl := get(route, nil)
	cl.path = "/situacoes/modulos/" + strconv.FormatInt(module, 10)
	var sits envelope[list[struct {
		ID        jsonID   `json:"id"`
		Nome      jsonText `json:"nome"`
		IDHerdado jsonID   `json:"idHerdado"`
	}]]
	if _, err := c.do(ctx, cl, &sits); err != nil {
		return nil, err
	}
	out := make([]cazbling.ERPStatus, 0, len(sits.Data.V))
	for _, s := range sits.Data.V {
		out = append(out, cazbling.ERPStatus{ID: int64(s.ID), Name: strings.TrimSpace(string(s.Nome)), InheritedID: int64(s.IDHerdado)})
	}
	return out, nil
}

// SetOrderStatus moves a sales order to a status (PATCH
// /pedidos/vendas/{idPedidoVenda}/situacoes/{idSituacao}). Setting the status an order
// already has changes nothing, so the call may be repeated.
func (c *Client) SetOrderStatus(ctx context.Context, orderID, statusID int64) error {
	route := "/pedidos/vendas/{idPedidoVenda}/situacoes/{idSituacao}"
	_, err := c.do(ctx, call{
		method: http.MethodPatch, route: route, idempotent: true,
		path: "/pedidos/vendas/" + strconv.FormatInt(orderID, 10) + "/situacoes/" + strconv.FormatInt(statusID, 10),
	}, nil)
	return err
}

// fold lowercases s and drops the accents of Portuguese letters and the surrounding
// spaces, for matching names ("Cancelado", "cancelado ", "Cancelâdo").
func fold(s string) string {
	r := strings.NewReplacer("á", "a", "à", "a", "â", "a", "ã", "a", "é", "e", "ê", "e", "í", "i",
		"ó", "o", "ô", "o", "õ", "o", "ú", "u", "ü", "u", "ç", "c")
	return r.Replace(strings.ToLower(strings.TrimSpace(s)))
}
