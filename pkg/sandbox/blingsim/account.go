// The account's own data: payment methods (GET /formas-pagamentos) and the company
// (GET /empresas/me/dados-basicos).

package blingsim

import (
	"net/http"
	"slices"
	"strings"
)

// PaymentMethods returns the account's formas de pagamento.
func (s *Sim) PaymentMethods(clientID string) []PaymentMethod {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a := s.accounts[clientID]; a != nil {
		return slices.Clone(a.payments)
	}
	return nil
}

func (s *Sim) listPaymentMethods(r *http.Request, a *account) reply {
	q := newQuery(r.URL.Query(), s.loc)
	pagina := q.int("pagina", 1, 1, maxPage)
	limite := q.int("limite", 100, 1, 100)
	situacao, hasSituacao := q.optInt("situacao", 0, 1)
	tipos := q.ids("tiposPagamentos[]")
	desc := strings.ToLower(q.v.Get("descricao"))
	if q.failed() {
		return q.reply()
	}
	out := []PaymentMethod{}
	for _, pm := range a.payments {
		if hasSituacao && pm.Situacao != situacao ||
			len(tipos) > 0 && !slices.Contains(tipos, int64(pm.TipoPagamento)) ||
			!strings.Contains(strings.ToLower(pm.Descricao), desc) {
			continue
		}
		out = append(out, pm)
	}
	return dataReply(http.StatusOK, page(out, pagina, limite))
}

func (s *Sim) getCompany(r *http.Request, a *account) reply {
	return dataReply(http.StatusOK, a.company)
}
