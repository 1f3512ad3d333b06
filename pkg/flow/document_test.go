package flow

import (
	"strings"
	"testing"
)

func TestValidCPF(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want bool
	}{
		{"52998224725", true},
		{"11144477735", true},
		{"12345678909", true},
		{"00000000191", true}, // leading zeros are digits like any other
		{"52998224724", false},
		{"52998224715", false},
		{"11111111111", false}, // passes the arithmetic, refused anyway
		{"00000000000", false},
		{"5299822472", false},
		{"529982247250", false},
		{"529.982.247-25", false}, // punctuation is the caller's to strip
		{"5299822472a", false},
		{"", false},
		{"١١١٤٤٤٧٧٧٣٥", false}, // Arabic-Indic digits are not ASCII digits
	} {
		if got := ValidCPF(tc.in); got != tc.want {
			t.Errorf("ValidCPF(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestValidCNPJ(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want bool
	}{
		{"11222333000181", true},
		{"11444777000161", true},
		{"04252011000110", true},
		{"11222333000182", false},
		{"11222333000191", false},
		{"22222222222222", false},
		{"1122233300018", false},
		{"112223330001811", false},
		{"11.222.333/0001-81", false},
		{"52998224725", false}, // a CPF
		{"", false},
	} {
		if got := ValidCNPJ(tc.in); got != tc.want {
			t.Errorf("ValidCNPJ(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestDigits(t *testing.T) {
	for in, want := range map[string]string{
		"529.982.247-25":      "52998224725",
		"11.222.333/0001-81":  "11222333000181",
		"ISENTO":              "",
		"":                    "",
		"+55 (11) 99999-8888": "5511999998888",
		"1٢3":                 "13",
	} {
		if got := Digits(in); got != want {
			t.Errorf("Digits(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestDocumentDigits(t *testing.T) {
	for _, tc := range []struct {
		in     string
		want   string
		wantOK bool
	}{
		{"529.982.247-25", "52998224725", true},
		{"11.222.333/0001-81", "11222333000181", true},
		{" 52998224725 ", "52998224725", true},
		{"52998224725x", "", false},
		{"529_982_247_25", "", false},
	} {
		got, ok := documentDigits(tc.in)
		if got != tc.want || ok != tc.wantOK {
			t.Errorf("documentDigits(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.wantOK)
		}
	}
}

// FuzzDocument checks the document functions against a second, textbook
// implementation of the check digits, and that nothing panics.
func FuzzDocument(f *testing.F) {
	for _, s := range []string{
		"52998224725", "11144477735", "11111111111", "52998224724", "11222333000181",
		"11222333000182", "529.982.247-25", "11.222.333/0001-81", "", "0", "ISENTO",
		"00000000191", "99999999999999", "\xff\xfe", "١١١٤٤٤٧٧٧٣٥",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d := Digits(s)
		if !onlyDigits(d) && d != "" {
			t.Fatalf("Digits(%q) = %q has a non-digit", s, d)
		}
		if Digits(d) != d || len(d) > len(s) {
			t.Fatalf("Digits(%q) = %q is not a subsequence of digits", s, d)
		}

		if got, want := ValidCPF(s), referenceValid(s, 11); got != want {
			t.Fatalf("ValidCPF(%q) = %v, reference says %v", s, got, want)
		}
		if got, want := ValidCNPJ(s), referenceValid(s, 14); got != want {
			t.Fatalf("ValidCNPJ(%q) = %v, reference says %v", s, got, want)
		}
		if ValidCPF(d) != referenceValid(d, 11) || ValidCNPJ(d) != referenceValid(d, 14) {
			t.Fatalf("validity of the digits %q of %q disagrees with the reference", d, s)
		}

		if dd, ok := documentDigits(s); ok {
			if dd != d {
				t.Fatalf("documentDigits(%q) = %q, Digits = %q", s, dd, d)
			}
		} else if strings.Trim(s, "0123456789.-/ ") == "" {
			t.Fatalf("documentDigits(%q) refused a string of digits and punctuation", s)
		}
	})
}

// referenceValid is the textbook check: for a CPF, weights 10..2 then 11..2 and a
// digit of (sum × 10 mod 11) mod 10; for a CNPJ, weights cycling 2..9 from the right
// and a digit of 11 − (sum mod 11), or 0 below 2. Repeated digits are invalid.
func referenceValid(s string, n int) bool {
	if len(s) != n {
		return false
	}
	same := true
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
		if s[i] != s[0] {
			same = false
		}
	}
	if same {
		return false
	}
	for k := n - 2; k < n; k++ {
		sum := 0
		for i := range k {
			d := int(s[k-1-i] - '0')
			if n == 11 {
				sum += d * (i + 2)
			} else {
				sum += d * (i%8 + 2)
			}
		}
		var dv int
		if n == 11 {
			dv = sum * 10 % 11 % 10
		} else if r := sum % 11; r >= 2 {
			dv = 11 - r
		}
		if int(s[k]-'0') != dv {
			return false
		}
	}
	return true
}
