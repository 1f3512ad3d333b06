package cazco

import (
	"encoding/json"
	"strings"
	"testing"
)

// FuzzDecodeOrder feeds arbitrary bytes to the order decoder: it must never panic, and
// whatever it accepts must carry what the flows rely on (an id, an updated_at).
func FuzzDecodeOrder(f *testing.F) {
	for _, name := range []string{"order_cpf.json", "order_cnpj.json", "order_canceled.json"} {
		var env struct{ Data json.RawMessage }
		if err := json.Unmarshal([]byte(fixture(f, name)), &env); err != nil {
			f.Fatal(err)
		}
		f.Add([]byte(env.Data))
	}
	base := orderJSON("58231", "processing", "pix")
	for _, seed := range []string{
		base,
		orderJSON("1", "status_novo", "crypto"),
		strings.Replace(base, `"id":"58231"`, `"id":58231`, 1),
		strings.Replace(base, `"total":"15.00"`, `"total":"1e999999999"`, 1),
		strings.Replace(base, `"total":"15.00"`, `"total":null`, 1),
		strings.Replace(base, `"quantity":1`, `"quantity":1.5`, 1),
		strings.Replace(base, `"quantity":1`, `"quantity":"99999999999999999999"`, 1),
		strings.Replace(base, `"updated_at":"2025-03-10T15:01:44Z"`, `"updated_at":"ontem"`, 1),
		strings.Replace(base, `"items":[`, `"items":[null,`, 1),
		strings.Replace(base, `"customer":{`, `"customer":[],"x":{`, 1),
		`{"id":"1"}`,
		`{"id":{"nested":true}}`,
		`null`, `[]`, `""`, `{`, `{"id":"\ud800"}`, ``,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		o, err := decodeOrder(data)
		if err != nil {
			if err.Error() == "" {
				t.Error("empty error message")
			}
			return
		}
		if o.ID == "" {
			t.Error("accepted an order without id")
		}
		if o.UpdatedAt.IsZero() || o.CreatedAt.IsZero() {
			t.Error("accepted an order without timestamps")
		}
		// Accepted money must survive the round trip the flows make through strings.
		_ = o.Total.StringFixed(2)
		for _, it := range o.Items {
			_ = it.Total.StringFixed(2)
		}
	})
}
