package sandbox

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"

	"github.com/cazbling/cazbling/pkg/sandbox/blingsim"
	"github.com/shopspring/decimal"
)

// admin serves /_sandbox/: JSON, loopback clients only, no auth.
func (sb *Sandbox) admin() http.Handler {
	m := http.NewServeMux()
	m.HandleFunc("GET "+AdminPrefix+"/tenants", sb.adminTenants)
	m.HandleFunc("POST "+AdminPrefix+"/code", sb.adminCode)
	m.HandleFunc("GET "+AdminPrefix+"/counters", func(w http.ResponseWriter, r *http.Request) {
		adminJSON(w, http.StatusOK, sb.Counters())
	})
	m.HandleFunc("POST "+AdminPrefix+"/counters/reset", func(w http.ResponseWriter, r *http.Request) {
		sb.ResetCounters()
		adminJSON(w, http.StatusOK, map[string]bool{"ok": true})
	})
	m.HandleFunc("GET "+AdminPrefix+"/faults", func(w http.ResponseWriter, r *http.Request) {
		adminJSON(w, http.StatusOK, map[string]Faults{APIBling: sb.Faults(APIBling), APICazco: sb.Faults(APICazco)})
	})
	m.HandleFunc("POST "+AdminPrefix+"/faults", sb.adminSetFaults)
	m.HandleFunc("GET "+AdminPrefix+"/state", sb.adminState)
	m.HandleFunc("POST "+AdminPrefix+"/bling/stock", sb.adminBlingStock)
	m.HandleFunc("POST "+AdminPrefix+"/bling/price", sb.adminBlingPrice)
	m.HandleFunc("POST "+AdminPrefix+"/cazco/order-status", sb.adminOrderStatus)
	sb.lifecycleAdmin(m)
	m.HandleFunc(AdminPrefix+"/", func(w http.ResponseWriter, r *http.Request) {
		adminError(w, http.StatusNotFound, "no such sandbox admin endpoint")
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host, _, err := net.SplitHostPort(r.RemoteAddr)
		if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
			adminError(w, http.StatusForbidden, "the sandbox admin API answers loopback clients only")
			return
		}
		m.ServeHTTP(w, r)
	})
}

func adminJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w) // compact: scripts grep it (e.g. "code":"...")
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

func adminError(w http.ResponseWriter, status int, msg string) {
	adminJSON(w, status, map[string]string{"error": msg})
}

// TenantInfo is a demo tenant with the base URLs to use for it.
type TenantInfo struct {
	DemoTenant
	BlingURL string `json:"bling_url"`
	CazcoURL string `json:"cazco_url"`
}

func (sb *Sandbox) adminTenants(w http.ResponseWriter, r *http.Request) {
	base := "http://" + r.Host
	out := []TenantInfo{}
	for _, t := range sb.tenants {
		out = append(out, TenantInfo{DemoTenant: t, BlingURL: base + BlingPrefix, CazcoURL: base + CazcoPrefix})
	}
	adminJSON(w, http.StatusOK, map[string]any{"tenants": out})
}

func (sb *Sandbox) adminCode(w http.ResponseWriter, r *http.Request) {
	code := sb.Bling.IssueCode(r.URL.Query().Get("client_id"))
	if code == "" {
		adminError(w, http.StatusNotFound, "unknown client_id")
		return
	}
	adminJSON(w, http.StatusOK, map[string]string{"code": code})
}

func (sb *Sandbox) adminSetFaults(w http.ResponseWriter, r *http.Request) {
	api := r.URL.Query().Get("api")
	var f Faults
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<16))
	if err == nil && len(body) > 0 {
		err = json.Unmarshal(body, &f)
	}
	if err != nil {
		adminError(w, http.StatusBadRequest, "faults body: "+err.Error())
		return
	}
	if err := sb.SetFaults(api, f); err != nil {
		adminError(w, http.StatusBadRequest, err.Error())
		return
	}
	adminJSON(w, http.StatusOK, map[string]any{"api": api, "faults": f})
}

// BlingState is what GET /_sandbox/state shows of a Bling account.
type BlingState struct {
	Products []blingsim.Product      `json:"products"`
	Stock    []blingsim.StockBalance `json:"stock"`
	Contacts []blingsim.Contact      `json:"contacts"`
	Orders   []blingsim.Order        `json:"orders"`
}

func (sb *Sandbox) adminState(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	switch {
	case q.Get("client_id") != "":
		id := q.Get("client_id")
		products := sb.Bling.Products(id)
		if products == nil {
			adminError(w, http.StatusNotFound, "unknown client_id")
			return
		}
		st := BlingState{Products: products, Stock: []blingsim.StockBalance{}, Contacts: sb.Bling.Contacts(id), Orders: sb.Bling.Orders(id)}
		for _, p := range products {
			if b, ok := sb.Bling.Stock(id, p.ID); ok {
				st.Stock = append(st.Stock, b)
			}
		}
		adminJSON(w, http.StatusOK, st)
	case q.Get("key") != "":
		key := q.Get("key")
		if !sb.Cazco.HasStore(key) {
			adminError(w, http.StatusNotFound, "unknown key")
			return
		}
		adminJSON(w, http.StatusOK, map[string]any{"products": sb.Cazco.Products(key), "orders": sb.Cazco.Orders(key)})
	default:
		adminError(w, http.StatusBadRequest, "give client_id (Bling) or key (CaZco)")
	}
}

// blingProductBySKU finds a product (or variation) of a Bling account by SKU.
func (sb *Sandbox) blingProductBySKU(clientID, sku string) (blingsim.Product, bool) {
	for _, p := range sb.Bling.Products(clientID) {
		if p.Codigo == sku {
			return p, true
		}
	}
	return blingsim.Product{}, false
}

// adminBlingProduct finds the Bling product of the query's client_id and sku, or
// answers 404 and returns false.
func (sb *Sandbox) adminBlingProduct(w http.ResponseWriter, q url.Values) (blingsim.Product, bool) {
	p, ok := sb.blingProductBySKU(q.Get("client_id"), q.Get("sku"))
	if !ok {
		adminError(w, http.StatusNotFound, "unknown client_id or sku")
	}
	return p, ok
}

// adminBlingStock sets a Bling product's physical stock:
// POST /_sandbox/bling/stock?client_id=&sku=&quantity=[&deposit=].
func (sb *Sandbox) adminBlingStock(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	p, ok := sb.adminBlingProduct(w, q)
	if !ok {
		return
	}
	qty, err := decimal.NewFromString(q.Get("quantity"))
	if err != nil {
		adminError(w, http.StatusBadRequest, "quantity: "+err.Error())
		return
	}
	var deposit int64
	if d := q.Get("deposit"); d != "" {
		if deposit, err = strconv.ParseInt(d, 10, 64); err != nil {
			adminError(w, http.StatusBadRequest, "deposit: "+err.Error())
			return
		}
	}
	if err := sb.Bling.SetStock(q.Get("client_id"), p.ID, deposit, qty); err != nil {
		adminError(w, http.StatusBadRequest, err.Error())
		return
	}
	b, _ := sb.Bling.Stock(q.Get("client_id"), p.ID)
	adminJSON(w, http.StatusOK, b)
}

// adminBlingPrice changes a Bling product's price (an edit: dataAlteracao moves):
// POST /_sandbox/bling/price?client_id=&sku=&price=.
func (sb *Sandbox) adminBlingPrice(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	p, ok := sb.adminBlingProduct(w, q)
	if !ok {
		return
	}
	price, err := decimal.NewFromString(q.Get("price"))
	if err != nil || price.IsNegative() {
		adminError(w, http.StatusBadRequest, "price must be a non-negative decimal")
		return
	}
	p.Preco = blingsim.NewNumber(price)
	p.Variacoes = nil // keep the variations as they are
	sb.Bling.PutProduct(q.Get("client_id"), p)
	updated, _ := sb.Bling.Product(q.Get("client_id"), p.ID)
	adminJSON(w, http.StatusOK, updated)
}

// adminOrderStatus moves a CaZco order: POST /_sandbox/cazco/order-status?key=&id=&status=.
func (sb *Sandbox) adminOrderStatus(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("status") == "" {
		adminError(w, http.StatusBadRequest, "status is required")
		return
	}
	if err := sb.Cazco.SetOrderStatus(q.Get("key"), q.Get("id"), q.Get("status")); err != nil {
		adminError(w, http.StatusNotFound, err.Error())
		return
	}
	o, _ := sb.Cazco.Order(q.Get("key"), q.Get("id"))
	adminJSON(w, http.StatusOK, o)
}
