package cazco

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"time"

	"github.com/shopspring/decimal"
)

// text is a JSON scalar read as text: a string as it is, a number as its literal
// digits, null as "". The contract promises strings for ids, money and decimals;
// taking a number too keeps one odd field from failing a whole order while still
// keeping the exact digits. Objects, arrays and booleans are errors.
type text string

func (t *text) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0:
		return errors.New("empty value")
	case string(b) == "null":
		*t = ""
	case b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*t = text(s)
	case b[0] == '-' || (b[0] >= '0' && b[0] <= '9'):
		*t = text(b)
	default:
		return fmt.Errorf("expected a string, got %s", kindOfJSON(b))
	}
	return nil
}

// optInt is an optional JSON integer; a numeric string or an integral float is taken too.
type optInt struct {
	n   int64
	set bool
}

func (o *optInt) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if string(b) == "null" {
		*o = optInt{}
		return nil
	}
	s := string(b)
	if len(b) > 0 && b[0] == '"' {
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		*o = optInt{n: n, set: true}
		return nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		return fmt.Errorf("expected an integer, got %s", quoteShort(s))
	}
	*o = optInt{n: int64(f), set: true}
	return nil
}

func kindOfJSON(b []byte) string {
	switch b[0] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case 't', 'f':
		return "a boolean"
	}
	return "something else"
}

// moneyPattern bounds what is read as money: plain decimal notation, no exponent (so a
// hostile "1e999999999" cannot make later arithmetic explode), a sane number of digits.
var moneyPattern = regexp.MustCompile(`^-?[0-9]{1,15}(\.[0-9]{1,6})?$`)

// parseMoney reads a money string exactly. An empty value is an error when required,
// else zero.
func parseMoney(field string, t text, required bool) (decimal.Decimal, error) {
	if t == "" {
		if required {
			return decimal.Decimal{}, fmt.Errorf("%s is missing", field)
		}
		return decimal.Decimal{}, nil
	}
	if !moneyPattern.MatchString(string(t)) {
		return decimal.Decimal{}, fmt.Errorf("%s: %s is not a decimal amount such as \"129.90\"", field, quoteShort(string(t)))
	}
	d, err := decimal.NewFromString(string(t))
	if err != nil {
		return decimal.Decimal{}, fmt.Errorf("%s: %s is not a decimal amount such as \"129.90\"", field, quoteShort(string(t)))
	}
	return d, nil
}

// parseTime reads an RFC 3339 timestamp. An empty value is an error when required,
// else the zero time.
func parseTime(field string, t text, required bool) (time.Time, error) {
	if t == "" {
		if required {
			return time.Time{}, fmt.Errorf("%s is missing", field)
		}
		return time.Time{}, nil
	}
	ts, err := time.Parse(time.RFC3339, string(t))
	if err != nil {
		return time.Time{}, fmt.Errorf("%s: %s is not an RFC 3339 timestamp", field, quoteShort(string(t)))
	}
	if required && ts.IsZero() {
		return time.Time{}, fmt.Errorf("%s is the zero time", field)
	}
	return ts, nil
}

// rawID reads the id of a JSON object that may fail to decode as a whole; "" if it
// has none that can be read.
func rawID(raw []byte) string {
	var v struct {
		ID text `json:"id"`
	}
	if json.Unmarshal(raw, &v) != nil {
		return ""
	}
	return string(v.ID)
}

// quoteShort quotes s for a message, cut to a readable length.
func quoteShort(s string) string {
	return strconv.Quote(cut(s, 64))
}
