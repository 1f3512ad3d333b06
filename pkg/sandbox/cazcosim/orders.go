package cazcosim

import (
	"net/http"
	"slices"
	"strings"
)

func (s *Sim) listOrders(st *store, r *http.Request) response {
	q := r.URL.Query()
	errs := fieldErrors{}
	page, perPage := parsePaging(q, errs)
	since := parseTimeParam(q, "updated_since", errs)
	until := parseTimeParam(q, "updated_until", errs)
	if q.Has("sort") && q.Get("sort") != "updated_at" {
		errs.add("sort", "must be updated_at")
	}
	descending := true
	if q.Has("order") {
		switch q.Get("order") {
		case "asc":
			descending = false
		case "desc":
		default:
			errs.add("order", "must be asc or desc")
		}
	}
	if len(errs) > 0 {
		return validationFailed(errs)
	}
	statuses := map[string]bool{}
	if q.Has("status") {
		for v := range strings.SplitSeq(q.Get("status"), ",") {
			if v = strings.TrimSpace(v); v != "" {
				statuses[v] = true
			}
		}
	}
	var matched []*Order
	for _, o := range st.orders {
		if !since.IsZero() && o.UpdatedAt.Before(since) {
			continue
		}
		if !until.IsZero() && !o.UpdatedAt.Before(until) {
			continue
		}
		if len(statuses) > 0 && !statuses[o.Status] {
			continue
		}
		matched = append(matched, o)
	}
	slices.SortFunc(matched, func(a, b *Order) int {
		c := a.UpdatedAt.Compare(b.UpdatedAt)
		if c == 0 {
			c = idCompare(a.ID, b.ID)
		}
		if descending {
			return -c
		}
		return c
	})
	return listResponse(r, matched, page, perPage)
}

func (s *Sim) getOrder(st *store, id string) response {
	o, found := st.orders[id]
	if !found {
		return notFound()
	}
	return ok(http.StatusOK, envelope{Data: o})
}
