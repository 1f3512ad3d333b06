package flow

import (
	"context"
	"strings"

	"github.com/cazbling/cazbling/pkg/cazbling"
)

// paymentMethod picks the Bling payment method for a CaZco payment method, reading
// the account's methods once per run, when first needed. 0: the account has none.
func (s *orderSync) paymentMethod(ctx context.Context, cazcoMethod string) (int64, error) {
	if !s.methodsOK {
		methods, err := s.j.ERP.PaymentMethods(ctx)
		if err != nil {
			return 0, err
		}
		s.methods, s.methodsOK = methods, true
	}
	return ChoosePaymentMethod(s.methods, cazcoMethod, s.j.Tenant.BlingPaymentMethod), nil
}

// blingPaymentTypes maps a CaZco payment method to the Bling tipoPagamento codes that
// fit it, best first: pix → 17 (PIX dinâmico), 20 (PIX estático); boleto → 15 (boleto
// bancário); credit_card → 3 (cartão de crédito); debit_card → 4 (cartão de débito).
func blingPaymentTypes(cazcoMethod string) []int {
	switch strings.ToLower(strings.TrimSpace(cazcoMethod)) {
	case "pix":
		return []int{17, 20}
	case "boleto":
		return []int{15}
	case "credit_card":
		return []int{3}
	case "debit_card":
		return []int{4}
	}
	return nil
}

// ChoosePaymentMethod picks the Bling payment method (forma de pagamento) id for an
// order paid with cazcoMethod: the account's active method whose type fits it (the
// account's default among several), else the tenant's configured method (configured,
// when not 0), else the account's active default, else its first active method. It
// returns 0 when the account has no active method and none is configured.
func ChoosePaymentMethod(methods []cazbling.PaymentMethod, cazcoMethod string, configured int64) int64 {
	active := func(m cazbling.PaymentMethod) bool { return m.Status == 1 && m.ID != 0 }
	for _, typ := range blingPaymentTypes(cazcoMethod) {
		var first int64
		for _, m := range methods {
			if !active(m) || m.Type != typ {
				continue
			}
			if m.Default {
				return m.ID
			}
			if first == 0 {
				first = m.ID
			}
		}
		if first != 0 {
			return first
		}
	}
	if configured != 0 {
		return configured
	}
	var first int64
	for _, m := range methods {
		if !active(m) {
			continue
		}
		if m.Default {
			return m.ID
		}
		if first == 0 {
			first = m.ID
		}
	}
	return first
}
