package flow

import (
	"context"
	"time"

	"github.com/cazbling/cazbling/pkg/cazbling"
)

// SyncProducts is the products flow: new Bling products (by inclusion date since the
// tenant's cursor) are created in CaZco or updated there. With Options.Full, or when
// the tenant has no cursor yet, it walks the whole catalogue instead, resuming an
// interrupted walk from its last finished page.
func SyncProducts(ctx context.Context, j *Job) error {
	if !j.Opts.Full {
		w, err := j.Window(ctx, cazbling.StreamProductsCreated)
		if err != nil {
			return err
		}
		if w.Found {
			return syncWindow(ctx, j, w, func(q *cazbling.ProductQuery, from, to time.Time) {
				q.CreatedFrom, q.CreatedTo = from, to
			}, nil, nil)
		}
		j.Logger().Info("no products cursor yet: walking the whole catalogue")
	}
	return syncFull(ctx, j)
}
