package blingsim

import (
	"encoding/json"
	"net/http"
)

// Error types Bling puts in error.type.
const (
	TypeValidation      = "VALIDATION_ERROR"
	TypeMissingField    = "MISSING_REQUIRED_FIELD_ERROR"
	TypeInvalidBody     = "INVALID_REQUEST_BODY"
	TypeEmptyBody       = "EMPTY_REQUEST_BODY"
	TypeNotFound        = "RESOURCE_NOT_FOUND"
	TypeTooManyRequests = "TOO_MANY_REQUESTS"
	TypeServerError     = "SERVER_ERROR"
	TypeInvalidToken    = "invalid_token"
	TypeInvalidGrant    = "invalid_grant"
	TypeInvalidClient   = "invalid_client"
)

// ErrorField is one field complaint of a Bling validation error.
type ErrorField struct {
	Code       int              `json:"code"`
	Msg        string           `json:"msg"`
	Element    string           `json:"element,omitempty"`
	Namespace  string           `json:"namespace,omitempty"`
	Collection []ErrorFieldItem `json:"collection"`
}

// ErrorFieldItem is a complaint about one element of a list (an item, a parcela).
type ErrorFieldItem struct {
	Index     int    `json:"index"`
	Code      int    `json:"code"`
	Msg       string `json:"msg"`
	Element   string `json:"element,omitempty"`
	Namespace string `json:"namespace,omitempty"`
}

// apiError is the `error` member of every Bling error body.
type apiError struct {
	Type        string       `json:"type"`
	Message     string       `json:"message"`
	Description string       `json:"description"`
	Fields      []ErrorField `json:"fields,omitempty"`
	Limit       int          `json:"limit,omitempty"`
	Period      string       `json:"period,omitempty"`
}

// ErrorBody returns a Bling error body `{"error":{"type","message","description"}}`.
func ErrorBody(typ, message, description string) []byte {
	return mustJSON(map[string]any{"error": apiError{Type: typ, Message: message, Description: description}})
}

// TooManyRequestsBody returns the 429 body Bling sends when an account is over its
// limit: period "second" (limit 3) or "day" (limit 120000).
func TooManyRequestsBody(limit int, period string) []byte {
	return mustJSON(map[string]any{"error": tooMany(limit, period)})
}

func tooMany(limit int, period string) apiError {
	desc := "Limite de requisições por segundo atingido, tente novamente mais tarde."
	if period == "day" {
		desc = "Limite de requisições diárias atingido, tente novamente amanhã."
	}
	return apiError{Type: TypeTooManyRequests, Message: "Limite de requisições atingido.",
		Description: desc, Limit: limit, Period: period}
}

func writeError(w http.ResponseWriter, status int, e apiError) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(mustJSON(map[string]any{"error": e}))
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		// Every value marshalled here is built from plain structs; this cannot happen.
		return []byte(`{"error":{"type":"SERVER_ERROR","message":"internal","description":"encode"}}`)
	}
	return b
}
