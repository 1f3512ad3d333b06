package cazcosim

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Query parsing and list answers shared by GET /products and GET /orders: page and
// per_page, time parameters, and the list body with its meta and absolute links.

// parsePaging reads page (default 1) and per_page (default 50, 1..100).
func parsePaging(q url.Values, errs fieldErrors) (page, perPage int) {
	page, perPage = 1, 50
	if q.Has("page") {
		n, err := strconv.Atoi(q.Get("page"))
		if err != nil || n < 1 {
			errs.add("page", "must be an integer greater than or equal to 1")
		} else {
			page = n
		}
	}
	if q.Has("per_page") {
		n, err := strconv.Atoi(q.Get("per_page"))
		if err != nil || n < 1 || n > 100 {
			errs.add("per_page", "must be between 1 and 100")
		} else {
			perPage = n
		}
	}
	return page, perPage
}

// parseTimeParam reads an RFC 3339 query parameter; zero if absent.
func parseTimeParam(q url.Values, name string, errs fieldErrors) time.Time {
	if !q.Has(name) {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339, q.Get(name))
	if err != nil {
		errs.add(name, msgDateTime+" (URL-encode + as %2B)")
		return time.Time{}
	}
	return t
}

// listResponse answers one page of all with the {data, meta, links} envelope, absolute
// next/prev links built from the request, Link and X-Total-Count headers.
func listResponse[T any](r *http.Request, all []T, page, perPage int) response {
	total := len(all)
	lastPage := max(1, (total+perPage-1)/perPage)
	start := min(total, (page-1)*perPage)
	end := min(total, start+perPage)
	data := append(make([]T, 0, end-start), all[start:end]...)

	links := ListLinks{}
	var linkHeader []string
	if page < lastPage {
		next := pageURL(r, page+1, perPage)
		links.Next = &next
		linkHeader = append(linkHeader, fmt.Sprintf(`<%s>; rel="next"`, next))
	}
	if page > 1 {
		prev := pageURL(r, min(page-1, lastPage), perPage)
		links.Prev = &prev
		linkHeader = append(linkHeader, fmt.Sprintf(`<%s>; rel="prev"`, prev))
	}
	resp := ok(http.StatusOK, struct {
		Data  []T       `json:"data"`
		Meta  ListMeta  `json:"meta"`
		Links ListLinks `json:"links"`
	}{data, ListMeta{Page: page, PerPage: perPage, Total: total, LastPage: lastPage}, links})
	resp.header = http.Header{"X-Total-Count": {strconv.Itoa(total)}}
	if len(linkHeader) > 0 {
		resp.header.Set("Link", strings.Join(linkHeader, ", "))
	}
	return resp
}

// pageURL is the absolute URL of another page of the same list, keeping every other
// query parameter.
func pageURL(r *http.Request, page, perPage int) string {
	q := r.URL.Query()
	q.Set("page", strconv.Itoa(page))
	q.Set("per_page", strconv.Itoa(perPage))
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	u := url.URL{Scheme: scheme, Host: r.Host, Path: r.URL.Path, RawQuery: q.Encode()}
	return u.String()
}
