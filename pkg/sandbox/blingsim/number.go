package blingsim

import (
	"bytes"
	"fmt"

	"github.com/shopspring/decimal"
)

// Number is a decimal that travels as a bare JSON number, as Bling's money, quantity and
// measure fields do. It never goes through a float: it is read and written as text.
type Number struct {
	decimal.Decimal
}

// NewNumber wraps d.
func NewNumber(d decimal.Decimal) Number { return Number{d} }

// MustNumber parses a decimal literal such as "129.90". It is meant for constants in
// seeds and tests and panics on a malformed literal.
func MustNumber(s string) Number { return Number{decimal.RequireFromString(s)} }

// MarshalJSON writes the decimal as a bare JSON number.
func (n Number) MarshalJSON() ([]byte, error) {
	return []byte(n.Decimal.String()), nil
}

// UnmarshalJSON reads a bare JSON number. Strings are refused: Bling's spec types these
// fields as numbers, and a client that quotes them is wrong about the wire format.
func (n *Number) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if bytes.Equal(b, []byte("null")) {
		n.Decimal = decimal.Zero
		return nil
	}
	if len(b) == 0 || b[0] == '"' {
		return fmt.Errorf("must be a JSON number, not %s", truncateBytes(b, 40))
	}
	d, err := decimal.NewFromString(string(b))
	if err != nil {
		return fmt.Errorf("must be a JSON number: %w", err)
	}
	n.Decimal = d
	return nil
}

func truncateBytes(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "..."
	}
	return string(b)
}
