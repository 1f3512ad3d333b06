package blingsim

import "strings"

// ValidCPF reports whether s is 11 digits with correct CPF check digits. Repeated
// digits (000.000.000-00 and the like) are refused, as the Receita Federal does.
func ValidCPF(s string) bool {
	if len(s) != 11 || !allDigits(s) || allSame(s) {
		return false
	}
	return checkDigitMod11(s[:9], 10) == s[9]-'0' && checkDigitMod11(s[:10], 11) == s[10]-'0'
}

// ValidCNPJ reports whether s is 14 digits with correct CNPJ check digits.
func ValidCNPJ(s string) bool {
	if len(s) != 14 || !allDigits(s) || allSame(s) {
		return false
	}
	w1 := []int{5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2}
	w2 := []int{6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2}
	return cnpjDigit(s[:12], w1) == s[12]-'0' && cnpjDigit(s[:13], w2) == s[13]-'0'
}

// ValidGTIN reports whether s is a GTIN-8, -12, -13 or -14 with a correct check digit.
func ValidGTIN(s string) bool {
	switch len(s) {
	case 8, 12, 13, 14:
	default:
		return false
	}
	if !allDigits(s) {
		return false
	}
	return GTINCheckDigit(s[:len(s)-1]) == s[len(s)-1]-'0'
}

// GTINCheckDigit returns the check digit for the GTIN body (all digits but the last).
func GTINCheckDigit(body string) byte {
	sum := 0
	for i := 0; i < len(body); i++ {
		d := int(body[len(body)-1-i] - '0')
		if i%2 == 0 {
			d *= 3
		}
		sum += d
	}
	return byte((10 - sum%10) % 10)
}

// CPFCheckDigits returns the two check digits for a 9-digit CPF body.
func CPFCheckDigits(body string) string {
	d1 := checkDigitMod11(body, 10)
	d2 := checkDigitMod11(body+string('0'+d1), 11)
	return string([]byte{'0' + d1, '0' + d2})
}

// CNPJCheckDigits returns the two check digits for a 12-digit CNPJ body.
func CNPJCheckDigits(body string) string {
	d1 := cnpjDigit(body, []int{5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2})
	d2 := cnpjDigit(body+string('0'+d1), []int{6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2})
	return string([]byte{'0' + d1, '0' + d2})
}

func checkDigitMod11(body string, firstWeight int) byte {
	sum := 0
	for i := 0; i < len(body); i++ {
		sum += int(body[i]-'0') * (firstWeight - i)
	}
	r := (sum * 10) % 11
	if r == 10 {
		r = 0
	}
	return byte(r)
}

func cnpjDigit(body string, weights []int) byte {
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

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func allSame(s string) bool {
	for i := 1; i < len(s); i++ {
		if s[i] != s[0] {
			return false
		}
	}
	return true
}

// digitsOnly drops the punctuation people write documents with (dots, dashes, slashes,
// spaces). ok is false if anything else is left.
func digitsOnly(s string) (digits string, ok bool) {
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			b = append(b, c)
		case c == '.' || c == '-' || c == '/' || c == ' ':
		default:
			return "", false
		}
	}
	return string(b), true
}

// formatDocument writes CPF and CNPJ digits the way Bling shows them.
func formatDocument(d string) string {
	switch len(d) {
	case 11:
		return d[0:3] + "." + d[3:6] + "." + d[6:9] + "-" + d[9:11]
	case 14:
		return d[0:2] + "." + d[2:5] + "." + d[5:8] + "/" + d[8:12] + "-" + d[12:14]
	}
	return d
}

// ValidUF reports whether s is a Brazilian state code (or EX, abroad).
func ValidUF(s string) bool {
	return len(s) == 2 && strings.Contains(" AC AL AP AM BA CE DF ES GO MA MT MS MG PA PB PR PE PI RJ RN RS RO RR SC SP SE TO EX ", " "+s+" ")
}
