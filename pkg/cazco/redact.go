package cazco

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"unicode/utf8"

	"github.com/cazbling/cazbling/pkg/httpx"
)

// clean makes server-provided text fit for an error message or a log: secrets removed
// (the API key itself, should the server echo it, and anything httpx recognises), on
// one line, valid UTF-8 and at most n bytes.
func (c *Client) clean(s string, n int) string {
	s = strings.ToValidUTF8(s, "?")
	s = httpx.RedactString(scrub(s, c.apiKey))
	s = strings.Join(strings.Fields(s), " ")
	return cut(s, n)
}

// excerpt is a short, redacted view of a body that could not be read.
func (c *Client) excerpt(body []byte) string {
	const peek = 4096
	if len(body) > peek {
		body = body[:peek]
	}
	return fmt.Sprintf("%q", c.clean(string(body), 160))
}

// cut shortens s to at most n bytes on a rune boundary, marking the cut.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i := n
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + "…"
}

func scrub(s, secret string) string {
	if secret == "" {
		return s
	}
	return strings.ReplaceAll(s, secret, httpx.Redacted)
}

// scrubHandler removes the API key from every log record before it reaches the
// caller's handler, whatever attribute it hides in (a response body echoing it, an
// error message).
type scrubHandler struct {
	next   slog.Handler
	secret string
}

func (h scrubHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.next.Enabled(ctx, l)
}

func (h scrubHandler) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, scrub(r.Message, h.secret), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(h.attr(a))
		return true
	})
	return h.next.Handle(ctx, out)
}

func (h scrubHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	clean := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		clean[i] = h.attr(a)
	}
	return scrubHandler{next: h.next.WithAttrs(clean), secret: h.secret}
}

func (h scrubHandler) WithGroup(name string) slog.Handler {
	return scrubHandler{next: h.next.WithGroup(name), secret: h.secret}
}

func (h scrubHandler) attr(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return slog.String(a.Key, scrub(v.String(), h.secret))
	case slog.KindGroup:
		group := v.Group()
		clean := make([]any, len(group))
		for i, g := range group {
			clean[i] = h.attr(g)
		}
		return slog.Group(a.Key, clean...)
	case slog.KindAny:
		if s := fmt.Sprint(v.Any()); h.secret != "" && strings.Contains(s, h.secret) {
			return slog.String(a.Key, scrub(s, h.secret))
		}
	}
	return slog.Attr{Key: a.Key, Value: v}
}
