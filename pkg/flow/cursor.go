package flow

import (
	"context"
	"fmt"
	"time"

	"github.com/cazbling/cazbling/pkg/cazbling"
)

// Default window shaping (SYNC.md): each run reads [cursor − overlap, start − margin].
const (
	DefaultOverlap = 10 * time.Minute
	DefaultMargin  = time.Minute
)

// Window is the time range a run reads for one stream.
type Window struct {
	Stream string
	From   time.Time // zero when the stream has no cursor yet
	To     time.Time
	Found  bool      // the stream had a cursor
	Prev   time.Time // the cursor's value: [From, Prev) is the overlap with the last run
}

// Window computes the job's read window for a time stream.
func (j *Job) Window(ctx context.Context, stream string) (Window, error) {
	overlap, margin := j.Opts.Overlap, j.Opts.Margin
	if overlap <= 0 {
		overlap = DefaultOverlap
	}
	if margin <= 0 {
		margin = DefaultMargin
	}
	w := Window{Stream: stream, To: j.Now().Add(-margin)}
	v, found, err := j.Store().Cursor(ctx, j.Tenant.ID, stream)
	if err != nil {
		return w, fmt.Errorf("read cursor %s: %w", stream, err)
	}
	if !found || v == "" {
		return w, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return w, fmt.Errorf("cursor %s of tenant %q holds %q, not a time; run `cazbling sync-products --full --tenant %s` to rebuild it", stream, j.Tenant.ID, v, j.Tenant.ID)
	}
	w.Found, w.Prev = true, t
	w.From = t.Add(-overlap)
	if w.From.After(w.To) {
		w.From = w.To
	}
	return w, nil
}

// Cursor is the record that moves the window's stream to its end.
func (w Window) Cursor(tenantID string) cazbling.Cursor {
	return TimeCursor(tenantID, w.Stream, w.To)
}

// TimeCursor is a cursor record holding t.
func TimeCursor(tenantID, stream string, t time.Time) cazbling.Cursor {
	return cazbling.Cursor{TenantID: tenantID, Stream: stream, Value: t.UTC().Format(time.RFC3339Nano)}
}

// SplitYears cuts [from, to] into pieces no longer than Bling's one-year limit.
func SplitYears(from, to time.Time) [][2]time.Time {
	var out [][2]time.Time
	for from.Before(to) {
		end := from.AddDate(1, 0, -1)
		if end.After(to) {
			end = to
		}
		out = append(out, [2]time.Time{from, end})
		from = end
	}
	if len(out) == 0 {
		out = append(out, [2]time.Time{from, to})
	}
	return out
}
