package bling

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cazbling/cazbling/pkg/cazbling"
)

// A 429 from the token endpoint means the IP is blocked for an hour: it is not retried.
func TestTokenCallIsNeverRetried(t *testing.T) {
	for _, status := range []int{http.StatusTooManyRequests, http.StatusBadGateway} {
		var calls atomic.Int32
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			calls.Add(1)
			w.WriteHeader(status)
			_, _ = w.Write([]byte(`{"error":{"type":"TOO_MANY_REQUESTS","message":"Limite de requisições atingido.","limit":20,"period":"minute"}}`))
		}))
		o := Options{BaseURL: srv.URL, ClientID: "id", ClientSecret: "secret", MaxAttempts: 5,
			Sleep: func(context.Context, time.Duration) error { return nil }}
		_, err := RefreshToken(context.Background(), o, "rt")
		srv.Close()
		if err == nil || cazbling.KindOf(err) == "" {
			t.Fatalf("status %d: error %v, want a typed error", status, err)
		}
		if n := calls.Load(); n != 1 {
			t.Errorf("status %d: %d token calls, want exactly 1", status, n)
		}
	}
}
