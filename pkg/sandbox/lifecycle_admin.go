package sandbox

import (
	"net/http"
	"strconv"
)

// Admin calls for the life of an order after it is filed (issue 17), so that tests
// and `make demo` can show it: the Bling order is named by its store number (the
// CaZco order number), as the seller would find it.
//
//	POST /_sandbox/bling/nfe?client_id=&number=            issue and authorize an NF-e
//	POST /_sandbox/bling/nfe/cancel?client_id=&number=     cancel the order's NF-e
//	POST /_sandbox/bling/tracking?client_id=&number=&code=[&service=]
//	POST /_sandbox/bling/order-status?client_id=&number=&status=Cancelado
//	POST /_sandbox/bling/product/delete?client_id=&sku=    delete a product (kept for restore)
//	POST /_sandbox/bling/product/restore?client_id=&id=    bring a deleted product back
//	POST /_sandbox/cazco/cancel?key=&id=                   cancel a CaZco order (as the buyer)
func (sb *Sandbox) lifecycleAdmin(m *http.ServeMux) {
	m.HandleFunc("POST "+AdminPrefix+"/bling/nfe", func(w http.ResponseWriter, r *http.Request) {
		sb.withBlingOrder(w, r, func(client string, id int64) (any, error) { return sb.Bling.IssueNFe(client, id) })
	})
	m.HandleFunc("POST "+AdminPrefix+"/bling/nfe/cancel", func(w http.ResponseWriter, r *http.Request) {
		sb.withBlingOrder(w, r, func(client string, id int64) (any, error) { return sb.Bling.CancelNFe(client, id) })
	})
	m.HandleFunc("POST "+AdminPrefix+"/bling/tracking", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		sb.withBlingOrder(w, r, func(client string, id int64) (any, error) {
			return sb.Bling.AddTracking(client, id, q.Get("code"), q.Get("service"))
		})
	})
	m.HandleFunc("POST "+AdminPrefix+"/bling/order-status", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		sb.withBlingOrder(w, r, func(client string, id int64) (any, error) {
			if err := sb.Bling.SetOrderStatusName(client, id, q.Get("status")); err != nil {
				return nil, err
			}
			status, canceled, _, err := sb.Bling.OrderState(client, id)
			return map[string]any{"id": id, "status": status, "canceled": canceled}, err
		})
	})
	m.HandleFunc("POST "+AdminPrefix+"/bling/product/delete", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		p, ok := sb.blingProductBySKU(q.Get("client_id"), q.Get("sku"))
		if !ok {
			adminError(w, http.StatusNotFound, "unknown client_id or sku")
			return
		}
		if err := sb.Bling.TrashProduct(q.Get("client_id"), p.ID); err != nil {
			adminError(w, http.StatusBadRequest, err.Error())
			return
		}
		adminJSON(w, http.StatusOK, map[string]any{"id": p.ID, "sku": p.Codigo, "deleted": true})
	})
	m.HandleFunc("POST "+AdminPrefix+"/bling/product/restore", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		id, err := strconv.ParseInt(q.Get("id"), 10, 64)
		if err != nil {
			adminError(w, http.StatusBadRequest, "id must be a Bling product id")
			return
		}
		if err := sb.Bling.RestoreProduct(q.Get("client_id"), id); err != nil {
			adminError(w, http.StatusNotFound, err.Error())
			return
		}
		adminJSON(w, http.StatusOK, map[string]any{"id": id, "restored": true})
	})
	m.HandleFunc("POST "+AdminPrefix+"/cazco/cancel", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if err := sb.Cazco.SetOrderStatus(q.Get("key"), q.Get("id"), "canceled"); err != nil {
			adminError(w, http.StatusNotFound, err.Error())
			return
		}
		o, _ := sb.Cazco.Order(q.Get("key"), q.Get("id"))
		adminJSON(w, http.StatusOK, o)
	})
}

// withBlingOrder finds the Bling order of client_id with store number `number` and
// answers with what f returns.
func (sb *Sandbox) withBlingOrder(w http.ResponseWriter, r *http.Request, f func(clientID string, id int64) (any, error)) {
	q := r.URL.Query()
	client := q.Get("client_id")
	id, ok := sb.Bling.OrderByStoreNumber(client, q.Get("number"))
	if !ok {
		adminError(w, http.StatusNotFound, "unknown client_id, or no Bling order with that store number")
		return
	}
	out, err := f(client, id)
	if err != nil {
		adminError(w, http.StatusBadRequest, err.Error())
		return
	}
	adminJSON(w, http.StatusOK, out)
}
