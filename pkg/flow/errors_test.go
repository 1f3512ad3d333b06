package flow

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/cazbling/cazbling/pkg/cazbling"
)

// TestErrorClassifiers pins how every flow reads a client's error: what stops the
// tenant, what fails the item for good, what is tried again on a later run.
func TestErrorClassifiers(t *testing.T) {
	apiErr := func(k cazbling.ErrorKind) error {
		return fmt.Errorf("read Bling product 7: %w", &cazbling.APIError{API: "bling", Kind: k, Status: 400})
	}
	timeout := fmt.Errorf("GET /produtos/7: %w", context.DeadlineExceeded) // the client's own timeout
	headerTimeout := &cazbling.APIError{API: "bling", Kind: cazbling.KindNetwork, Err: timeoutErr{}}
	refused := &cazbling.APIError{API: "bling", Kind: cazbling.KindNetwork, Err: errors.New("connection refused")}
	tests := []struct {
		name                    string
		err                     error
		runEnded                bool
		stops, refused, passing bool
	}{
		{"unauthorized", apiErr(cazbling.KindUnauthorized), false, true, false, false},
		{"forbidden", apiErr(cazbling.KindForbidden), false, true, false, false},
		{"invalid grant", apiErr(cazbling.KindInvalidGrant), false, true, false, false},
		{"daily quota", apiErr(cazbling.KindDailyQuota), false, true, false, false},
		{"rate limited after retries", apiErr(cazbling.KindRateLimited), false, true, false, true},
		{"validation", apiErr(cazbling.KindValidation), false, false, true, false},
		{"not found", apiErr(cazbling.KindNotFound), false, false, true, false},
		{"server error", apiErr(cazbling.KindServer), false, false, false, true},
		{"malformed answer", apiErr(cazbling.KindMalformed), false, false, false, true},
		{"request timeout after the client's retries", timeout, false, true, false, true},
		{"no response headers in time", headerTimeout, false, true, false, true},
		{"connection refused after the client's retries", refused, false, false, false, true},
		{"any error once the run ended", errors.New("boom"), true, true, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tt.runEnded {
				cancel()
			}
			if got := stopsTenant(ctx, tt.err); got != tt.stops {
				t.Errorf("stopsTenant = %v, want %v", got, tt.stops)
			}
			if got := refusedForGood(tt.err); got != tt.refused {
				t.Errorf("refusedForGood = %v, want %v", got, tt.refused)
			}
			if got := retryable(tt.err); got != tt.passing {
				t.Errorf("retryable = %v, want %v", got, tt.passing)
			}
		})
	}
}

// timeoutErr is a transport error that says it timed out, as net/http's do.
type timeoutErr struct{}

func (timeoutErr) Error() string { return "timeout awaiting response headers" }
func (timeoutErr) Timeout() bool { return true }
