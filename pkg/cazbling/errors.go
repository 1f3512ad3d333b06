package cazbling

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// ErrNotFound is returned by the store for an unknown tenant or record.
var ErrNotFound = errors.New("not found")

// ErrBatchUnsupported is returned by Marketplace.SetStockBatch when the store has no
// batch stock endpoint (a 404 on PUT /stock).
var ErrBatchUnsupported = errors.New("batch stock endpoint not offered")

// ErrLeaseLost is returned by the store for a fenced batch whose lease another
// process holds now: nothing of the batch was written.
var ErrLeaseLost = errors.New("the lease is held by another process now")

// ErrWrongKey is returned by the store when a secret cannot be decrypted with the
// configured key.
var ErrWrongKey = errors.New("secrets cannot be decrypted with this key")

// ErrorKind classifies an API failure so the flows can decide what to do.
type ErrorKind string

// Error kinds.
const (
	KindValidation   ErrorKind = "validation"    // 400/422: do not retry unchanged
	KindNotFound     ErrorKind = "not_found"     // 404
	KindUnauthorized ErrorKind = "unauthorized"  // 401: bad or revoked credentials
	KindForbidden    ErrorKind = "forbidden"     // 403
	KindInvalidGrant ErrorKind = "invalid_grant" // refresh token dead: re-authorize
	KindConflict     ErrorKind = "conflict"      // 409: duplicate
	KindRateLimited  ErrorKind = "rate_limited"  // 429 per second/minute: retried
	KindDailyQuota   ErrorKind = "daily_quota"   // 429 per day: pause the tenant
	KindServer       ErrorKind = "server"        // 5xx: retried
	KindNetwork      ErrorKind = "network"       // no answer: outcome unknown
	KindMalformed    ErrorKind = "malformed"     // an answer we cannot decode
	KindData         ErrorKind = "data"          // the server's data is inconsistent
	KindOther        ErrorKind = "other"
)

// FieldError is one field-level complaint of a validation error.
type FieldError struct {
	Field   string
	Message string
}

// APIError is a failed call to Bling or CaZco, already classified. Its message never
// carries secrets.
type APIError struct {
	API        string // "bling" or "cazco"
	Op         string // e.g. "GET /produtos"
	Status     int    // HTTP status, 0 if none
	Kind       ErrorKind
	Type       string // the API's own error type or code
	Message    string
	Fields     []FieldError
	RequestID  string
	ExistingID string        // CaZco 409
	RetryAfter time.Duration // server hint, if any
	Err        error         // underlying cause (network, decode)
}

func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s", e.API, e.Op)
	if e.Status != 0 {
		fmt.Fprintf(&b, ": HTTP %d", e.Status)
	}
	if e.Type != "" {
		fmt.Fprintf(&b, " %s", e.Type)
	}
	if e.Message != "" {
		fmt.Fprintf(&b, ": %s", e.Message)
	}
	for i, f := range e.Fields {
		if i == 0 {
			b.WriteString(" (")
		} else {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "%s: %s", f.Field, f.Message)
		if i == len(e.Fields)-1 {
			b.WriteString(")")
		}
	}
	if e.RequestID != "" {
		fmt.Fprintf(&b, " [request_id %s]", e.RequestID)
	}
	if e.Err != nil {
		fmt.Fprintf(&b, ": %v", e.Err)
	}
	return b.String()
}

func (e *APIError) Unwrap() error { return e.Err }

// Retryable reports whether repeating the same call may succeed.
func (e *APIError) Retryable() bool {
	switch e.Kind {
	case KindRateLimited, KindServer, KindNetwork:
		return true
	}
	return false
}

// KindForStatus classifies an HTTP error status the way both APIs use them: 400/422
// validation, 401, 403, 404, 409, 429 rate limited, 5xx server; any other status is
// KindOther (not retried). APIs refine it where their body says more (Bling's daily
// quota).
func KindForStatus(status int) ErrorKind {
	switch {
	case status == 400 || status == 422:
		return KindValidation
	case status == 401:
		return KindUnauthorized
	case status == 403:
		return KindForbidden
	case status == 404:
		return KindNotFound
	case status == 409:
		return KindConflict
	case status == 429:
		return KindRateLimited
	case status >= 500:
		return KindServer
	}
	return KindOther
}

// KindOf returns the kind of err's *APIError, or "" if it has none.
func KindOf(err error) ErrorKind {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.Kind
	}
	return ""
}

// IsRetryable reports whether err is an API failure worth trying again later.
func IsRetryable(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Retryable()
}
