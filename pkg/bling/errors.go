package bling

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/cazbling/cazbling/pkg/cazbling"
	"github.com/cazbling/cazbling/pkg/httpx"
)

// ErrWindowTooLong is returned, without calling Bling, for a date window longer than
// one year: Bling refuses those, so the caller must split the window.
var ErrWindowTooLong = errors.New("date window longer than one year; split it")

// reauthorizeMessage is the message of a refused refresh token.
const reauthorizeMessage = "the Bling refresh token was refused (invalid_grant); the seller must authorize again: run `cazbling activate TENANT` with a new --bling-code"

// codeRefusedMessage is the message of a refused authorization code.
const codeRefusedMessage = "the Bling authorization code was refused (invalid_grant); codes live one minute and work once: authorize again for a new code"

// errorEnvelope is Bling's error body. Only "error" is documented; the rest are the
// shapes seen elsewhere (plain OAuth errors, a top-level period).
type errorEnvelope struct {
	Error            json.RawMessage `json:"error"`
	ErrorDescription jsonText        `json:"error_description"`
	Message          jsonText        `json:"message"`
	Period           jsonText        `json:"period"`
}

type errorObject struct {
	Type        jsonText        `json:"type"`
	Message     jsonText        `json:"message"`
	Description jsonText        `json:"description"`
	Fields      json.RawMessage `json:"fields"`
	Period      jsonText        `json:"period"`
}

type errorField struct {
	Code       jsonText        `json:"code"`
	Msg        jsonText        `json:"msg"`
	Element    jsonText        `json:"element"`
	Namespace  jsonText        `json:"namespace"`
	Collection json.RawMessage `json:"collection"`
}

type errorFieldItem struct {
	Index     jsonCode `json:"index"`
	Msg       jsonText `json:"msg"`
	Element   jsonText `json:"element"`
	Namespace jsonText `json:"namespace"`
}

// parsedError is what could be read from an error body; every part may be empty.
type parsedError struct {
	Type    string
	Message string
	Period  string
	Fields  []cazbling.FieldError
	JSON    bool // the body was a JSON object
}

// parseErrorBody reads an error body of any shape without failing.
func parseErrorBody(body []byte) parsedError {
	var p parsedError
	var env errorEnvelope
	if err := json.Unmarshal(body, &env); err != nil {
		return p
	}
	p.JSON = true
	p.Period = string(env.Period)
	var obj errorObject
	switch raw := strings.TrimSpace(string(env.Error)); {
	case raw == "" || raw == "null":
	case raw[0] == '"': // {"error":"invalid_grant","error_description":"..."}
		var s string
		_ = json.Unmarshal(env.Error, &s)
		p.Type = s
	case raw[0] == '{':
		_ = json.Unmarshal(env.Error, &obj)
	}
	if obj.Type != "" {
		p.Type = string(obj.Type)
	}
	if obj.Period != "" {
		p.Period = string(obj.Period)
	}
	p.Message = joinMessage(string(obj.Message), string(obj.Description), string(env.ErrorDescription), string(env.Message))
	p.Fields = parseFields(obj.Fields)
	p.Type = httpx.RedactString(strings.TrimSpace(p.Type))
	p.Message = httpx.RedactString(p.Message)
	return p
}

// joinMessage joins the distinct non-empty parts with ": ".
func joinMessage(parts ...string) string {
	var out []string
	for _, s := range parts {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		dup := false
		for _, o := range out {
			if o == s {
				dup = true
			}
		}
		if !dup {
			out = append(out, s)
		}
	}
	return strings.Join(out, ": ")
}

// parseFields reads "fields" as a list (or a single object); anything else yields none.
func parseFields(raw json.RawMessage) []cazbling.FieldError {
	s := strings.TrimSpace(string(raw))
	if s == "" || s == "null" {
		return nil
	}
	var list []errorField
	if s[0] == '{' {
		var one errorField
		if json.Unmarshal(raw, &one) != nil {
			return nil
		}
		list = []errorField{one}
	} else if json.Unmarshal(raw, &list) != nil {
		return nil
	}
	var out []cazbling.FieldError
	for _, f := range list {
		name := fieldName(string(f.Namespace), string(f.Element))
		if msg := strings.TrimSpace(string(f.Msg)); msg != "" || name != "" {
			out = append(out, cazbling.FieldError{Field: httpx.RedactString(name), Message: httpx.RedactString(msg)})
		}
		var items []errorFieldItem
		if json.Unmarshal(f.Collection, &items) != nil {
			continue
		}
		for _, it := range items {
			sub := fieldName(string(it.Namespace), string(it.Element))
			full := fmt.Sprintf("%s[%d]", name, int(it.Index))
			if sub != "" {
				full += "." + sub
			}
			out = append(out, cazbling.FieldError{Field: httpx.RedactString(full), Message: httpx.RedactString(strings.TrimSpace(string(it.Msg)))})
		}
		if len(out) >= 50 { // enough for a support person; keep messages bounded
			break
		}
	}
	return out
}

func fieldName(namespace, element string) string {
	namespace, element = strings.TrimSpace(namespace), strings.TrimSpace(element)
	switch {
	case namespace == "":
		return element
	case element == "" || strings.HasSuffix(namespace, element):
		return namespace
	}
	return namespace + "." + element
}

// decodeAPIError turns an HTTP error answer of an API call into an *APIError.
func (c *Client) decodeAPIError(op string, resp *httpx.Response) *cazbling.APIError {
	return newAPIError(op, resp, c.now())
}

// newAPIError classifies an error answer of an API call. It never fails: an
// unreadable body falls back to the HTTP status.
func newAPIError(op string, resp *httpx.Response, now time.Time) *cazbling.APIError {
	p := parseErrorBody(resp.Body)
	e := &cazbling.APIError{
		API:       "bling",
		Op:        op,
		Status:    resp.Status,
		Type:      p.Type,
		Message:   p.Message,
		Fields:    p.Fields,
		RequestID: httpx.RedactString(firstHeader(resp.Header, "X-Request-Id", "X-Request-ID", "X-Amzn-Trace-Id")),
	}
	if e.Message == "" && !p.JSON && len(strings.TrimSpace(string(resp.Body))) > 0 {
		e.Message = "unexpected answer: " + excerpt([]byte(httpx.RedactString(strings.TrimSpace(string(resp.Body)))), 200)
	}
	if e.Message == "" {
		e.Message = http.StatusText(resp.Status)
	}
	if e.Message == "" {
		e.Message = "no error details"
	}
	e.Kind = kindOf(resp.Status, p)
	switch e.Kind {
	case cazbling.KindRateLimited:
		e.RetryAfter = max(httpx.RetryAfter(resp.Header), time.Second)
	case cazbling.KindDailyQuota:
		e.RetryAfter = untilMidnightSaoPaulo(now)
	case cazbling.KindServer:
		e.RetryAfter = httpx.RetryAfter(resp.Header)
	}
	return e
}

// kindOf classifies an API error answer by its status and, for 429, its period.
func kindOf(status int, p parsedError) cazbling.ErrorKind {
	if status == http.StatusTooManyRequests && isDaily(p.Period) {
		return cazbling.KindDailyQuota
	}
	return cazbling.KindForStatus(status)
}

// tokenErrorKind classifies an error answer of the token endpoint: the OAuth error
// type decides, whatever the status (Bling's status for these is not documented).
func tokenErrorKind(status int, p parsedError) cazbling.ErrorKind {
	switch strings.ToLower(p.Type) {
	case "invalid_grant":
		return cazbling.KindInvalidGrant
	case "invalid_client", "unauthorized_client", "unauthorized_error", "unauthorized", "unauthenticated":
		return cazbling.KindUnauthorized
	}
	return kindOf(status, p)
}

func isDaily(period string) bool {
	switch strings.ToLower(strings.TrimSpace(period)) {
	case "day", "daily", "dia":
		return true
	}
	return false
}

// isInvalidToken reports whether a 401 says the access token is no good (expired or
// revoked), which a refresh can cure.
func isInvalidToken(e *cazbling.APIError) bool {
	if e.Status != http.StatusUnauthorized {
		return false
	}
	return strings.EqualFold(e.Type, "invalid_token") || strings.HasPrefix(strings.ToLower(e.Message), "invalid_token")
}

// classify is the httpx retry policy for Bling: a 429 per second (or of unknown period)
// is retried after at least a second; a 429 per day is not (it lasts until midnight);
// 5xx is retried (httpx repeats only idempotent requests on 5xx); other 4xx never.
func classify(resp *httpx.Response) httpx.Verdict {
	switch {
	case resp.Status == http.StatusTooManyRequests:
		if isDaily(parseErrorBody(resp.Body).Period) {
			return httpx.Verdict{}
		}
		return httpx.Verdict{Retry: true, Wait: max(httpx.RetryAfter(resp.Header), time.Second)}
	case resp.Status >= 500:
		return httpx.Verdict{Retry: true, Wait: httpx.RetryAfter(resp.Header)}
	}
	return httpx.Verdict{}
}

// networkError wraps a failed exchange (no answer) into an *APIError of KindNetwork, and
// passes context errors and others through with the operation for context.
func networkError(op string, err error) error {
	var ne *httpx.NetworkError
	if errors.As(err, &ne) {
		return &cazbling.APIError{API: "bling", Op: op, Kind: cazbling.KindNetwork, Message: "no answer; the outcome is unknown", Err: err}
	}
	return fmt.Errorf("bling %s: %w", op, err)
}

// malformed is the error of a 2xx answer that is not the JSON expected.
func malformed(op string, resp *httpx.Response, cause error) *cazbling.APIError {
	msg := "unexpected answer"
	if body := strings.TrimSpace(string(resp.Body)); body != "" {
		msg += ": " + excerpt([]byte(httpx.RedactString(body)), 200)
	} else {
		msg += ": empty body"
	}
	var err error
	if cause != nil {
		err = errors.New(httpx.RedactString(cause.Error()))
	}
	return &cazbling.APIError{API: "bling", Op: op, Status: resp.Status, Kind: cazbling.KindMalformed, Message: msg, Err: err}
}

func firstHeader(h http.Header, names ...string) string {
	for _, n := range names {
		if v := h.Get(n); v != "" {
			return excerpt([]byte(v), 100)
		}
	}
	return ""
}

// untilMidnightSaoPaulo is how long until the next midnight in São Paulo, when
// Bling's daily quota resets.
func untilMidnightSaoPaulo(now time.Time) time.Duration {
	t := now.In(saoPaulo)
	next := time.Date(t.Year(), t.Month(), t.Day()+1, 0, 0, 0, 0, saoPaulo)
	return next.Sub(now)
}
