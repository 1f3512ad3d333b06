package bling

import (
	"net/http"
	"testing"
	"time"

	"github.com/cazbling/cazbling/pkg/httpx"
)

// FuzzDecodeError checks that any error body is classified without panicking.
func FuzzDecodeError(f *testing.F) {
	seeds := []string{
		`{"error":{"type":"VALIDATION_ERROR","message":"Não foi possível salvar","description":"x","fields":[{"code":49,"msg":"Informe a data","element":"data","namespace":"VENDAS","collection":[{"index":0,"code":1,"msg":"m","element":"valor"}]}]}}`,
		`{"error":{"type":"TOO_MANY_REQUESTS","message":"limite","description":"d","limit":120000,"period":"day"}}`,
		`{"error":"invalid_grant","error_description":"Invalid refresh token"}`,
		`{"error":{"type":1,"fields":{"code":"x"}}}`,
		`{"error":{"fields":[1,"a",null,{"collection":"x"}]}}`,
		`<html><body>502 Bad Gateway</body></html>`,
		``, `null`, `[]`, `{"error":null}`, `{"error":{"type":"invalid_token"`,
	}
	for _, s := range seeds {
		for _, status := range []int{400, 401, 429, 500} {
			f.Add(status, []byte(s))
		}
	}
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		if status < 400 || status > 599 {
			status = 400 + (status%200+200)%200
		}
		resp := &httpx.Response{Status: status, Header: http.Header{}, Body: body}
		e := newAPIError("GET /produtos", resp, testNow)
		if e.Kind == "" || e.Status != status || e.Message == "" {
			t.Fatalf("unclassified: %+v", e)
		}
		_ = e.Error()
		_ = classify(resp)
		te := tokenError(resp, reauthorizeMessage, time.Now())
		if te.Kind == "" {
			t.Fatalf("token error unclassified: %+v", te)
		}
	})
}

// FuzzDecodeProduct checks that any product answer decodes or fails without panicking.
func FuzzDecodeProduct(f *testing.F) {
	f.Add([]byte(fullProductJSON))
	f.Add([]byte(`{"data":{"id":"12","preco":"1e5","dimensoes":[],"midia":"x","variacoes":{"a":1}}}`))
	f.Add([]byte(`{"data":{"id":1.5}}`))
	f.Add([]byte(`{"data":{"id":1,"preco":1e999999999}}`))
	f.Add([]byte(`{"data":{"id":1,"variacoes":[{"variacao":{"produtoPai":{"id":"x"}}}]}}`))
	f.Add([]byte(`{"data":null}`))
	f.Add([]byte(`not json`))
	f.Fuzz(func(t *testing.T, body []byte) {
		p, err := decodeProduct(body)
		if err != nil {
			return
		}
		if p.ID == 0 {
			t.Fatal("decoded a product without id")
		}
		_ = p.Price.String()
		for _, v := range p.Variations {
			_ = v.NetWeight.String()
		}
	})
}
