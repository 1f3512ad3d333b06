package bling

import (
	"context"
	"net/http"
	"testing"

	"github.com/cazbling/cazbling/pkg/cazbling"
)

// PATCH of an order's status answers 204 with no content. A 2xx that brings a body
// which is not JSON (a proxy's page, a cut answer) does not show that Bling moved the
// order: it is malformed, so the caller reads the order again instead of taking the
// cancel as done.
func TestNoContentAnswerWithForeignBodyIsMalformed(t *testing.T) {
	const path = "/pedidos/vendas/77/situacoes/9"
	for _, tc := range []struct {
		name, contentType, body string
		status                  int
		want                    cazbling.ErrorKind // "" is success
	}{
		{"204 no content", "", "", http.StatusNoContent, ""},
		{"200 with JSON", "application/json", `{"data":{}}`, http.StatusOK, ""},
		{"200 with an HTML page", "text/html", "<html><body>Bad Gateway</body></html>", http.StatusOK, cazbling.KindMalformed},
		{"200 with cut JSON", "application/json", `{"data":[{"id":1,"nome":"Cam`, http.StatusOK, cazbling.KindMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t, "access-0", "refresh-0")
			f.handle("PATCH "+path, func(w http.ResponseWriter, r recorded) {
				if tc.contentType != "" {
					w.Header().Set("Content-Type", tc.contentType)
				}
				w.WriteHeader(tc.status)
				_, _ = w.Write([]byte(tc.body))
			})
			store := &memStore{tok: cazbling.Token{AccessToken: "access-0", RefreshToken: "refresh-0", Expiry: testNow.Add(3600e9)}}
			c, err := New(testOptions(f, store, &sleeps{}))
			if err != nil {
				t.Fatal(err)
			}
			err = c.SetOrderStatus(context.Background(), 77, 9)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("SetOrderStatus: %v", err)
				}
				return
			}
			if cazbling.KindOf(err) != tc.want {
				t.Fatalf("SetOrderStatus: %v (kind %q), want kind %q", err, cazbling.KindOf(err), tc.want)
			}
		})
	}
}
