package cazcosim

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// BasePath is the path prefix every endpoint is served under.
const BasePath = "/api/v1/seller"

const (
	rateWindow     = time.Minute
	unlimitedLimit = 1_000_000 // advertised X-RateLimit-Limit when RatePerMinute is 0
	maxBodyBytes   = 1 << 20
	firstProductID = 81000
	firstOrderID   = 58000
	firstItemID    = 700
	firstCartID    = 100300
)

// Errors of the seeding helpers.
var (
	ErrUnknownStore = errors.New("unknown store")
	ErrNotFound     = errors.New("not found")
	ErrInvalid      = errors.New("invalid")
)

// Options configure a Sim.
type Options struct {
	Now           func() time.Time // nil: time.Now
	RatePerMinute int              // requests per key per window; 0 = unlimited
	// Window is the span RatePerMinute counts over; 0 is a minute, as the contract
	// says. Any other is advertised in a RateLimit-Policy header ("n;w=seconds").
	Window       time.Duration
	NoBatchStock bool         // PUT /stock answers 404, as a store without the batch endpoint
	Logger       *slog.Logger // nil: discard
}

// Sim is the stand-in CaZco seller API. It is an http.Handler and safe for concurrent use.
type Sim struct {
	now func() time.Time
	log *slog.Logger

	mu            sync.Mutex
	ratePerMinute int
	window        time.Duration
	advertised    http.Header // set on every answer over the true headers (SetAdvertised)
	noBatchStock  bool
	stores        map[string]*store
	nextProductID int64
	nextOrderID   int64
	nextItemID    int64
	nextCartID    int64
	nextRequestID int64
}

// store is the data of one seller store (one API key).
type store struct {
	products      map[string]*Product // by id
	productBySKU  map[string]string   // sku → id; a store never holds two products with one SKU
	orders        map[string]*Order   // by id
	orderSequence []string            // ids in the order they were added
	windowStart   time.Time
	windowUsed    int
	writes        []Write
	fulfillment   map[string]*Fulfillment // by order id (fulfillment.go)
}

// New returns an empty Sim with no stores.
func New(opts Options) *Sim {
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Sim{
		now:           now,
		log:           log,
		ratePerMinute: opts.RatePerMinute,
		window:        windowOrMinute(opts.Window),
		noBatchStock:  opts.NoBatchStock,
		stores:        map[string]*store{},
		nextProductID: firstProductID,
		nextOrderID:   firstOrderID,
		nextItemID:    firstItemID,
		nextCartID:    firstCartID,
	}
}

// AddStore creates an empty store reached with apiKey. Adding an existing key keeps its data.
func (s *Sim) AddStore(apiKey string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.stores[apiKey]; ok {
		return
	}
	s.stores[apiKey] = &store{
		products:     map[string]*Product{},
		productBySKU: map[string]string{},
		orders:       map[string]*Order{},
	}
}

// HasStore reports whether apiKey opens a store.
func (s *Sim) HasStore(apiKey string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.stores[apiKey]
	return ok
}

// SetRatePerMinute changes the per-key limit; 0 means unlimited. Current windows keep
// their counts.
func (s *Sim) SetRatePerMinute(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ratePerMinute = n
}

// SetRateLimit changes the per-key limit to n requests per window (0: a minute); n 0
// means unlimited. Current windows start afresh.
func (s *Sim) SetRateLimit(n int, window time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ratePerMinute, s.window = n, windowOrMinute(window)
	for _, st := range s.stores {
		st.windowStart, st.windowUsed = time.Time{}, 0
	}
}

// SetAdvertised makes every answer carry these rate-limit headers instead of the true
// ones (X-RateLimit-Limit, RateLimit-Policy: an empty value removes the header), while
// the true limit is still enforced: a server whose headers lie or are garbled. nil
// goes back to the truth.
func (s *Sim) SetAdvertised(h http.Header) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advertised = h.Clone()
}

func windowOrMinute(d time.Duration) time.Duration {
	if d <= 0 {
		return rateWindow
	}
	return d
}

// SetNoBatchStock makes PUT /stock answer 404 (true) or work (false).
func (s *Sim) SetNoBatchStock(off bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.noBatchStock = off
}

// Writes returns the write requests the store of apiKey answered, oldest first.
func (s *Sim) Writes(apiKey string) []Write {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.stores[apiKey]
	if !ok {
		return nil
	}
	return append([]Write(nil), st.writes...)
}

// stamp is the current sandbox time as stored in records: UTC, whole seconds.
func (s *Sim) stamp() time.Time { return normalizeTime(s.now()) }

func normalizeTime(t time.Time) time.Time { return t.UTC().Truncate(time.Second) }

func normalizeTimePtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	n := normalizeTime(*t)
	return &n
}

// response is what a handler answers; ServeHTTP writes it.
type response struct {
	status int
	body   any
	header http.Header
}

func ok(status int, body any) response { return response{status: status, body: body} }

func errorResponse(status int, code, message string, fields fieldErrors) response {
	if fields == nil {
		fields = fieldErrors{}
	}
	return response{status: status, body: &ErrorBody{Code: code, Message: message, Errors: fields}}
}

func notFound() response {
	return errorResponse(http.StatusNotFound, "not_found", "Resource not found.", nil)
}

func validationFailed(fields fieldErrors) response {
	return errorResponse(http.StatusUnprocessableEntity, "validation_failed", "The given data was invalid.", fields)
}

func badRequest(message string) response {
	return errorResponse(http.StatusBadRequest, "bad_request", message, nil)
}

// ServeHTTP serves the API under BasePath.
func (s *Sim) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// The body is read before taking the lock so a slow client does not stall the others.
	var body []byte
	var bodyErr error
	if r.Body != nil && (r.Method == http.MethodPost || r.Method == http.MethodPut) {
		body, bodyErr = io.ReadAll(io.LimitReader(r.Body, maxBodyBytes+1))
		if bodyErr == nil && len(body) > maxBodyBytes {
			bodyErr = errors.New("request body too large")
		}
	}

	s.mu.Lock()
	resp, requestID := s.serve(r, body, bodyErr)
	payload, err := marshal(resp.body)
	s.mu.Unlock()

	if err != nil {
		s.log.Error("cazco sandbox: encode response", "err", err)
		resp = errorResponse(http.StatusInternalServerError, "internal_error", "Server Error.", nil)
		resp.body.(*ErrorBody).RequestID = requestID
		payload, _ = marshal(resp.body)
	}
	h := w.Header()
	for k, v := range resp.header {
		h[k] = v
	}
	h.Set("Content-Type", "application/json")
	h.Set("X-Request-Id", requestID)
	w.WriteHeader(resp.status)
	_, _ = w.Write(payload)
	s.log.Debug("cazco sandbox request", "method", r.Method, "path", r.URL.Path,
		"status", resp.status, "request_id", requestID)
}

func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// serve runs one request under s.mu: authentication, rate limit, routing.
func (s *Sim) serve(r *http.Request, body []byte, bodyErr error) (response, string) {
	s.nextRequestID++
	requestID := fmt.Sprintf("req-%08d", s.nextRequestID)
	now := s.now()

	limit := s.ratePerMinute
	if limit <= 0 {
		limit = unlimitedLimit
	}
	key := bearerKey(r)
	st, known := s.stores[key]
	var resp response
	var remaining int
	switch {
	case !known:
		resp = errorResponse(http.StatusUnauthorized, "unauthenticated", "Unauthenticated.", nil)
		resp.header = http.Header{"Www-Authenticate": {`Bearer realm="cazco"`}}
		remaining = limit
	default:
		if st.windowStart.IsZero() || !now.Before(st.windowStart.Add(s.window)) {
			st.windowStart, st.windowUsed = now, 0
		}
		if s.ratePerMinute > 0 && st.windowUsed >= s.ratePerMinute {
			wait := st.windowStart.Add(s.window).Sub(now)
			resp = errorResponse(http.StatusTooManyRequests, "rate_limited", "Too Many Attempts.", nil)
			resp.header = http.Header{"Retry-After": {strconv.Itoa(max(1, int(math.Ceil(wait.Seconds()))))}}
			remaining = 0
			break
		}
		st.windowUsed++
		remaining = max(0, limit-st.windowUsed)
		if bodyErr != nil {
			resp = badRequest("The request body could not be read.")
		} else {
			resp = s.route(st, r, body)
		}
		if r.Method == http.MethodPost || r.Method == http.MethodPut {
			st.writes = append(st.writes, Write{Time: normalizeTime(now), Method: r.Method,
				Path: r.URL.Path, Status: resp.status, Body: string(body)})
		}
	}
	if resp.header == nil {
		resp.header = http.Header{}
	}
	resp.header.Set("X-RateLimit-Limit", strconv.Itoa(limit))
	resp.header.Set("X-RateLimit-Remaining", strconv.Itoa(remaining))
	if s.window != rateWindow && s.ratePerMinute > 0 {
		resp.header.Set("RateLimit-Policy", fmt.Sprintf("%d;w=%d", limit, int(s.window/time.Second)))
	}
	for name, values := range s.advertised {
		if len(values) == 0 || values[0] == "" {
			resp.header.Del(name)
		} else {
			resp.header[http.CanonicalHeaderKey(name)] = values
		}
	}
	if eb, isErr := resp.body.(*ErrorBody); isErr {
		eb.RequestID = requestID
	}
	return resp, requestID
}

// bearerKey returns the key of an "Authorization: Bearer <key>" header, or "".
func bearerKey(r *http.Request) string {
	scheme, key, found := strings.Cut(r.Header.Get("Authorization"), " ")
	if !found || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return key
}

// route dispatches an authenticated request of store st.
func (s *Sim) route(st *store, r *http.Request, body []byte) response {
	rest, found := strings.CutPrefix(r.URL.Path, BasePath+"/")
	if !found {
		return notFound()
	}
	seg := strings.Split(rest, "/")
	for _, p := range seg {
		if p == "" {
			return notFound()
		}
	}
	method := r.Method
	switch {
	case len(seg) == 1 && seg[0] == "products":
		switch method {
		case http.MethodGet:
			return s.listProducts(st, r)
		case http.MethodPost:
			return s.createProduct(st, r, body)
		}
		return methodNotAllowed("GET, POST")
	case len(seg) == 2 && seg[0] == "products":
		switch method {
		case http.MethodGet:
			return s.getProduct(st, seg[1])
		case http.MethodPut:
			return s.updateProduct(st, r, seg[1], body)
		}
		return methodNotAllowed("GET, PUT")
	case len(seg) == 3 && seg[0] == "products" && seg[2] == "stock":
		if method == http.MethodPut {
			return s.setProductStock(st, r, seg[1], body)
		}
		return methodNotAllowed("PUT")
	case len(seg) == 1 && seg[0] == "stock":
		if method == http.MethodPut {
			return s.setStockBatch(st, r, body)
		}
		return methodNotAllowed("PUT")
	case len(seg) == 1 && seg[0] == "orders":
		if method == http.MethodGet {
			return s.listOrders(st, r)
		}
		return methodNotAllowed("GET")
	case len(seg) == 2 && seg[0] == "orders":
		if method == http.MethodGet {
			return s.getOrder(st, seg[1])
		}
		return methodNotAllowed("GET")
	case len(seg) == 3 && seg[0] == "orders" && seg[2] == "invoice":
		if method == http.MethodPut {
			return s.putInvoice(st, r, seg[1], body)
		}
		return methodNotAllowed("PUT")
	case len(seg) == 3 && seg[0] == "orders" && seg[2] == "shipments":
		if method == http.MethodPost {
			return s.postShipment(st, r, seg[1], body)
		}
		return methodNotAllowed("POST")
	case len(seg) == 3 && seg[0] == "orders" && seg[2] == "cancel":
		if method == http.MethodPost {
			return s.postCancel(st, r, seg[1], body)
		}
		return methodNotAllowed("POST")
	}
	return notFound()
}

func methodNotAllowed(allow string) response {
	resp := errorResponse(http.StatusMethodNotAllowed, "method_not_allowed", "Method not allowed.", nil)
	resp.header = http.Header{"Allow": {allow}}
	return resp
}

// fieldErrors maps a field to its messages, as the Error body's errors member.
type fieldErrors map[string][]string

func (e fieldErrors) add(field, message string) { e[field] = append(e[field], message) }

// decodeObject checks the content type and parses a JSON object body into its members.
// Invalid JSON is a 400; valid JSON that is not an object breaks the schema: 422.
func decodeObject(r *http.Request, body []byte) (map[string]json.RawMessage, *response) {
	mediaType, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mediaType != "application/json" {
		resp := badRequest("Content-Type must be application/json.")
		return nil, &resp
	}
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 || !json.Valid(trimmed) {
		resp := badRequest("The request body is not valid JSON.")
		return nil, &resp
	}
	var obj map[string]json.RawMessage
	if trimmed[0] != '{' || json.Unmarshal(trimmed, &obj) != nil {
		resp := validationFailed(fieldErrors{"body": {"must be a JSON object"}})
		return nil, &resp
	}
	return obj, nil
}

func isNull(raw json.RawMessage) bool { return string(bytes.TrimSpace(raw)) == "null" }

// decodeString returns raw as a Go string; false if raw is not a JSON string (null included).
func decodeString(raw json.RawMessage) (string, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '"' {
		return "", false
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return "", false
	}
	return s, true
}

// decodeInteger returns raw as an integer; false if raw is not a JSON number without
// fraction or exponent that fits in int64.
func decodeInteger(raw json.RawMessage) (int64, bool) {
	n, err := strconv.ParseInt(string(bytes.TrimSpace(raw)), 10, 64)
	return n, err == nil
}
