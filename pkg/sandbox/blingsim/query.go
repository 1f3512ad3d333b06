package blingsim

import (
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Date layouts of Bling's filters.
const (
	dateTimeLayout = "2006-01-02 15:04:05"
	dateLayout     = "2006-01-02"
)

// query reads and checks query parameters; the first problem is kept and reported.
type query struct {
	v       url.Values
	loc     *time.Location
	errName string
	errMsg  string
}

func newQuery(v url.Values, loc *time.Location) *query { return &query{v: v, loc: loc} }

func (q *query) fail(name, msg string) {
	if q.errName == "" {
		q.errName, q.errMsg = name, msg
	}
}

func (q *query) failed() bool { return q.errName != "" }

func (q *query) reply() reply { return paramReply(q.errName, q.errMsg) }

// int reads an integer parameter in [lo, hi], def when absent.
func (q *query) int(name string, def, lo, hi int) int {
	if !q.v.Has(name) {
		return def
	}
	s := q.v.Get(name)
	n, err := strconv.Atoi(s)
	if err != nil {
		q.fail(name, "deve ser um número inteiro")
		return def
	}
	if n < lo || n > hi {
		if hi >= math.MaxInt32 {
			q.fail(name, "deve ser maior ou igual a "+strconv.Itoa(lo))
		} else {
			q.fail(name, "deve estar entre "+strconv.Itoa(lo)+" e "+strconv.Itoa(hi))
		}
		return def
	}
	return n
}

// optInt reads an optional integer parameter in [lo, hi]; ok is false when absent.
func (q *query) optInt(name string, lo, hi int) (n int, ok bool) {
	if !q.v.Has(name) {
		return 0, false
	}
	n = q.int(name, 0, lo, hi)
	return n, !q.failed()
}

func (q *query) id(name string) int64 {
	if !q.v.Has(name) {
		return 0
	}
	n, err := strconv.ParseInt(q.v.Get(name), 10, 64)
	if err != nil || n < 0 {
		q.fail(name, "deve ser um número inteiro")
	}
	return n
}

// ids reads a repeatable integer parameter such as idsProdutos[].
func (q *query) ids(name string) []int64 {
	var out []int64
	for _, s := range q.v[name] {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n <= 0 {
			q.fail(name, "deve conter apenas números inteiros positivos: "+strconv.Quote(s))
			return nil
		}
		out = append(out, n)
	}
	return out
}

func (q *query) str(name, def string, allowed ...string) string {
	if !q.v.Has(name) {
		return def
	}
	s := q.v.Get(name)
	if len(allowed) > 0 && !slices.Contains(allowed, s) {
		q.fail(name, "deve ser um dos valores "+strings.Join(allowed, ", "))
		return def
	}
	return s
}

// dateTimeRange reads a pair of `YYYY-MM-DD HH:MM:SS` filters in São Paulo time. The
// end is inclusive to the second; a range over one year is refused, like Bling does.
func (q *query) dateTimeRange(fromName, toName string) (from, to time.Time) {
	from = q.timeParam(fromName, "AAAA-MM-DD HH:MM:SS", "dddd-dd-dd dd:dd:dd", dateTimeLayout)
	to = q.timeParam(toName, "AAAA-MM-DD HH:MM:SS", "dddd-dd-dd dd:dd:dd", dateTimeLayout)
	q.checkRange(fromName, toName, from, to)
	return from, to
}

// dateRange reads a pair of `YYYY-MM-DD` filters.
func (q *query) dateRange(fromName, toName string) (from, to time.Time) {
	from = q.timeParam(fromName, "AAAA-MM-DD", "dddd-dd-dd", dateLayout)
	to = q.timeParam(toName, "AAAA-MM-DD", "dddd-dd-dd", dateLayout)
	q.checkRange(fromName, toName, from, to)
	return from, to
}

func (q *query) checkRange(fromName, toName string, from, to time.Time) {
	if from.IsZero() || to.IsZero() || q.failed() {
		return
	}
	if to.Before(from) {
		q.fail(toName, "deve ser posterior a "+fromName)
	} else if to.After(from.AddDate(1, 0, 0)) {
		q.fail(toName, "o intervalo entre "+fromName+" e "+toName+" não pode ser superior a 1 ano")
	}
}

func (q *query) timeParam(name, human, shape, layout string) time.Time {
	if !q.v.Has(name) {
		return time.Time{}
	}
	s := q.v.Get(name)
	if !hasShape(s, shape) {
		q.fail(name, "formato de data inválido, use "+human)
		return time.Time{}
	}
	t, err := time.ParseInLocation(layout, s, q.loc)
	if err != nil {
		q.fail(name, "data inválida, use "+human)
		return time.Time{}
	}
	return t
}

// hasShape reports whether s matches shape, where 'd' stands for one digit.
func hasShape(s, shape string) bool {
	if len(s) != len(shape) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if shape[i] == 'd' {
			if s[i] < '0' || s[i] > '9' {
				return false
			}
		} else if s[i] != shape[i] {
			return false
		}
	}
	return true
}

// inRange reports whether t is within [from, to] at one-second resolution; zero bounds
// are open.
func inRange(t, from, to time.Time) bool {
	t = t.Truncate(time.Second)
	if !from.IsZero() && t.Before(from) {
		return false
	}
	if !to.IsZero() && t.After(to) {
		return false
	}
	return true
}

// page returns the items of one page.
func page[T any](items []T, pagina, limite int) []T {
	start := (pagina - 1) * limite
	if start >= len(items) || start < 0 {
		return []T{}
	}
	end := min(start+limite, len(items))
	return items[start:end]
}
