package flow

import (
	"context"
	"errors"

	"github.com/cazbling/cazbling/pkg/cazbling"
)

// How the flows read an error from an API client (after the client's own retries).
// Every flow asks the same questions in the same order: does it stop the tenant
// (stopsTenant), else was the item refused for good (refusedForGood: fix the data),
// else is it a passing fault (retryable: try the item again on a later run).

// stopsTenant reports whether err ends the tenant's run rather than failing one item:
// the run's context ended (deadline, signal, lost lease), the credentials were refused
// or need re-authorization, a rate or daily limit still holds after the client's own
// retries (going on would only draw more refusals), or a request got no answer in
// time even after those retries (the API is down or overloaded: going on would spend
// the run waiting, up to a minute a request). What the run has not done is left for
// the next run.
func stopsTenant(ctx context.Context, err error) bool {
	if ctx.Err() != nil || timedOut(err) {
		return true
	}
	switch cazbling.KindOf(err) {
	case cazbling.KindUnauthorized, cazbling.KindForbidden, cazbling.KindInvalidGrant,
		cazbling.KindDailyQuota, cazbling.KindRateLimited:
		return true
	}
	return false
}

// timedOut reports whether a request got no answer in time: an error in the chain
// says so (the transport's NetworkError, the net errors it wraps).
func timedOut(err error) bool {
	var t interface{ Timeout() bool }
	return errors.Is(err, context.DeadlineExceeded) || errors.As(err, &t) && t.Timeout()
}

// refusedForGood reports whether the API definitely refused a request (so a write
// created nothing), as opposed to a failure whose outcome is unknown.
func refusedForGood(err error) bool {
	switch cazbling.KindOf(err) {
	case cazbling.KindValidation, cazbling.KindNotFound:
		return true
	}
	return false
}

// retryable reports whether an error is a passing fault worth trying on a later run,
// rather than a refusal that needs someone to fix the data.
func retryable(err error) bool {
	if cazbling.IsRetryable(err) || errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	return cazbling.KindOf(err) == cazbling.KindMalformed
}
