package flow

import "strings"

// Digits returns the ASCII digits of s in order, dropping everything else
// ("123.456.789-09" → "12345678909", "ISENTO" → "").
func Digits(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= '0' && c <= '9' {
			b.WriteByte(c)
		}
	}
	return b.String()
}

// documentDigits reads a CPF or CNPJ as people write it: digits with optional dots,
// dashes, slashes and spaces. ok is false if anything else is in it (a letter, a
// stray symbol), so that junk is never turned into a plausible number.
func documentDigits(s string) (digits string, ok bool) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			b.WriteByte(c)
		case c == '.' || c == '-' || c == '/' || c == ' ':
		default:
			return "", false
		}
	}
	return b.String(), true
}

// ValidCPF reports whether s is exactly 11 ASCII digits whose last two are the CPF
// check digits of the first nine. Numbers made of one repeated digit
// ("111.111.111-11") pass the arithmetic but are refused, as the Receita Federal does.
func ValidCPF(s string) bool {
	if len(s) != 11 || !onlyDigits(s) || sameDigit(s) {
		return false
	}
	weights := []int{11, 10, 9, 8, 7, 6, 5, 4, 3, 2}
	return mod11Digit(s[:9], weights[1:]) == s[9]-'0' && mod11Digit(s[:10], weights) == s[10]-'0'
}

// ValidCNPJ reports whether s is exactly 14 ASCII digits whose last two are the CNPJ
// check digits of the first twelve. Repeated-digit numbers are refused.
func ValidCNPJ(s string) bool {
	if len(s) != 14 || !onlyDigits(s) || sameDigit(s) {
		return false
	}
	weights := []int{6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2}
	return mod11Digit(s[:12], weights[1:]) == s[12]-'0' && mod11Digit(s[:13], weights) == s[13]-'0'
}

// mod11Digit is the modulo-11 check digit of body with the given weights: 11 minus the
// remainder, or 0 when the remainder is 0 or 1. The first check digit of a CPF or CNPJ
// weighs the body with all but the first weight, the second weighs the body plus the
// first check digit with all of them.
func mod11Digit(body string, weights []int) byte {
	sum := 0
	for i := 0; i < len(body) && i < len(weights); i++ {
		sum += int(body[i]-'0') * weights[i]
	}
	r := sum % 11
	if r < 2 {
		return 0
	}
	return byte(11 - r)
}

func onlyDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

func sameDigit(s string) bool {
	for i := 1; i < len(s); i++ {
		if s[i] != s[0] {
			return false
		}
	}
	return true
}
