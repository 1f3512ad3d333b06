package httpx

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
)

// secretField matches JSON or form fields that carry secrets, and bearer/basic
// credentials wherever they appear.
var (
	secretJSON   = regexp.MustCompile(`(?i)"(access_token|refresh_token|client_secret|api_key|apikey|password|code|token)"\s*:\s*"[^"]*"`)
	secretForm   = regexp.MustCompile(`(?i)\b(access_token|refresh_token|client_secret|code|api_key|token)=[^&\s"]*`)
	secretScheme = regexp.MustCompile(`(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=\-]+`)
)

// Redacted is what replaces a secret.
const Redacted = "[REDACTED]"

// RedactString hides bearer/basic credentials and token-like fields in s.
func RedactString(s string) string {
	s = secretScheme.ReplaceAllString(s, "$1 "+Redacted)
	s = secretJSON.ReplaceAllString(s, `"$1":"`+Redacted+`"`)
	s = secretForm.ReplaceAllString(s, "$1="+Redacted)
	return s
}

// RedactBody is RedactString for a request or response body.
func RedactBody(b []byte) string {
	return RedactString(string(b))
}

// RedactURL hides secret query values of a URL.
func RedactURL(raw string) string {
	return RedactString(raw)
}

// RedactHeader returns a copy of h with credentials hidden, for logging.
func RedactHeader(h http.Header) http.Header {
	out := h.Clone()
	for k := range out {
		switch strings.ToLower(k) {
		case "authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key":
			out[k] = []string{Redacted}
		}
	}
	return out
}

// CheckBaseURL refuses a base URL that is not absolute https, except plain http to a
// loopback host (the sandbox, tests). name says which setting it is, for the message.
func CheckBaseURL(name, raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("%s %q is not an absolute http(s) URL; give the API base, e.g. https://api.bling.com.br/Api/v3", name, raw)
	}
	if u.User != nil {
		return nil, fmt.Errorf("%s must not carry credentials in the URL; pass them with their own flags", name)
	}
	if u.Scheme == "http" && !IsLoopback(u.Hostname()) {
		return nil, fmt.Errorf("%s %q uses plain http to a non-loopback host; use https (plain http is allowed only for 127.0.0.1/localhost, e.g. the sandbox)", name, raw)
	}
	return u, nil
}

// IsLoopback reports whether host is localhost or a loopback IP.
func IsLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
