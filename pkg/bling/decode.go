package bling

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/shopspring/decimal"
)

// The JSON types below read Bling's answers defensively: Bling documents numbers that
// sometimes arrive as strings, enums with undocumented values and fields that are null
// or empty. Each accepts every shape a value has been seen in and never panics.

// jsonText is a string field that also accepts a number or a boolean (kept as written) and
// reads null, objects and arrays as "".
type jsonText string

func (s *jsonText) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0:
		*s = ""
	case b[0] == '"':
		var v string
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		*s = jsonText(v)
	case b[0] == '{' || b[0] == '[' || string(b) == "null":
		*s = ""
	default:
		*s = jsonText(b)
	}
	return nil
}

// jsonID is an integer identifier: a JSON integer or a string holding one; null and ""
// read as 0. Anything else is an error (a wrong id must not be used).
type jsonID int64

func (v *jsonID) UnmarshalJSON(b []byte) error {
	s, ok := scalar(b)
	if !ok {
		return fmt.Errorf("id: want an integer, got %s", excerpt(b, 40))
	}
	if s == "" {
		*v = 0
		return nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		// 12345.0 and 1.2345e4 are still integers.
		d, derr := parseDecimal(s)
		if derr != nil || !d.IsInteger() || !d.BigInt().IsInt64() {
			return fmt.Errorf("id: want an integer, got %s", excerpt(b, 40))
		}
		n = d.IntPart()
	}
	*v = jsonID(n)
	return nil
}

// jsonCode is an enum-like integer (situacao, tipoPagamento, unidadeMedida). Values that are
// not integers read as -1, so that they never pass for a meaningful code.
type jsonCode int

func (v *jsonCode) UnmarshalJSON(b []byte) error {
	s, ok := scalar(b)
	switch {
	case !ok:
		*v = -1
	case s == "":
		*v = 0
	default:
		n, err := strconv.Atoi(s)
		if err != nil {
			*v = -1
			return nil
		}
		*v = jsonCode(n)
	}
	return nil
}

// jsonFlag is a boolean that also accepts 0/1 and "S"/"N" style strings; anything else is
// false.
type jsonFlag bool

func (v *jsonFlag) UnmarshalJSON(b []byte) error {
	s, _ := scalar(b)
	switch strings.ToLower(s) {
	case "true", "1", "s", "sim", "y", "yes":
		*v = true
	default:
		*v = false
	}
	return nil
}

// jsonAmount is an exact decimal (money, quantities, weights): a JSON number or a string
// holding one; null and "" read as zero. It is never read through float64.
type jsonAmount decimal.Decimal

func (v *jsonAmount) UnmarshalJSON(b []byte) error {
	s, ok := scalar(b)
	if !ok {
		return fmt.Errorf("number: want a decimal, got %s", excerpt(b, 40))
	}
	if s == "" {
		*v = jsonAmount(decimal.Zero)
		return nil
	}
	d, err := parseDecimal(s)
	if err != nil {
		return err
	}
	*v = jsonAmount(d)
	return nil
}

// Dec returns v as a decimal.Decimal.
func (v jsonAmount) Dec() decimal.Decimal { return decimal.Decimal(v) }

// parseDecimal reads a decimal number, refusing absurd sizes and exponents that would
// make later formatting allocate without bound.
func parseDecimal(s string) (decimal.Decimal, error) {
	if len(s) > 64 {
		return decimal.Zero, fmt.Errorf("number: %q is too long", s[:40]+"...")
	}
	d, err := decimal.NewFromString(s)
	if err != nil {
		return decimal.Zero, fmt.Errorf("number: %q is not a decimal", s)
	}
	if e := d.Exponent(); e > 30 || e < -30 {
		return decimal.Zero, fmt.Errorf("number: %q is out of range", s)
	}
	return d, nil
}

// scalar returns the text of a JSON number, string, boolean or null (null as ""), and
// false for objects, arrays and invalid input.
func scalar(b []byte) (string, bool) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return "", false
	}
	switch b[0] {
	case '{', '[':
		return "", false
	case '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return "", false
		}
		return strings.TrimSpace(s), true
	}
	if string(b) == "null" {
		return "", true
	}
	return string(b), true
}

// excerpt returns at most n bytes of b as a string, marked when cut.
func excerpt(b []byte, n int) string {
	s := strings.ToValidUTF8(string(b), "?")
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !isRuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}

func isRuneStart(c byte) bool { return c&0xC0 != 0x80 }

// digits keeps only the ASCII digits of s.
func digits(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}
