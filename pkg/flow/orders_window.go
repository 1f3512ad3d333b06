package flow

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/cazbling/cazbling/pkg/cazbling"
)

// openLinks loads what earlier runs left open. `creating` links whose store number is
// already in Bling become `created`; the rest, with the `failed` links, are returned
// to be filed again this run.
func (s *orderSync) openLinks(ctx context.Context) ([]cazbling.OrderLink, error) {
	st, tenant := s.j.Store(), s.j.Tenant.ID
	failed, err := st.OrderLinksByState(ctx, tenant, cazbling.OrderFailed)
	if err != nil {
		return nil, fmt.Errorf("read failed order links: %w", err)
	}
	creating, err := st.OrderLinksByState(ctx, tenant, cazbling.OrderCreating)
	if err != nil {
		return nil, fmt.Errorf("read unfinished order links: %w", err)
	}
	if len(creating) > 0 {
		numbers := make([]string, 0, len(creating))
		for _, l := range creating {
			numbers = append(numbers, l.Number)
		}
		found, err := s.lookup(ctx, numbers)
		if err != nil {
			return nil, fmt.Errorf("look up in Bling the %d orders an earlier run left unfinished: %w", len(creating), err)
		}
		open := creating[:0]
		for _, l := range creating {
			ids := found[l.Number]
			if len(ids) == 0 || l.Number == "" {
				open = append(open, l)
				continue
			}
			t := &orderTask{link: l, hasLink: true}
			s.found(t, ids, "an earlier run was stopped before it recorded this")
		}
		creating = open
		if err := s.flush(ctx); err != nil {
			return nil, err
		}
	}
	return append(creating, failed...), nil
}

// walk reads the orders updated since from, newest first, keeping the first (newest)
// copy of each. On a failed page it returns what it read and the error.
func (s *orderSync) walk(ctx context.Context, from time.Time) ([]cazbling.Order, error) {
	seen := make(map[string]bool)
	var orders []cazbling.Order
	for o, err := range s.j.Market.Orders(ctx, cazbling.OrderQuery{UpdatedSince: from, PerPage: 100}) {
		if err != nil {
			return orders, err
		}
		if o.ID == "" {
			s.pending.Logs = append(s.pending.Logs, cazbling.LogEntry{
				Entity: cazbling.EntityOrder, Key: o.Number, Action: cazbling.ActionFailed, Status: cazbling.StatusError,
				Message: fmt.Sprintf("CaZco listed an order without an id (number %q); it cannot be filed exactly once without one; ask CaZco support", o.Number),
			})
			continue
		}
		if seen[o.ID] {
			continue
		}
		seen[o.ID] = true
		orders = append(orders, o)
	}
	return orders, nil
}

// assemble lists the orders to work: those of open links first (read from CaZco
// when the window did not bring them), then the window's, oldest first so that
// Bling numbers them in the order they were placed.
func (s *orderSync) assemble(ctx context.Context, retries []cazbling.OrderLink, window []cazbling.Order) ([]*orderTask, error) {
	byID := make(map[string]cazbling.Order, len(window))
	for _, o := range window {
		byID[o.ID] = o
	}
	var tasks []*orderTask
	queued := make(map[string]bool)
	for _, l := range retries {
		if queued[l.CazcoID] {
			continue
		}
		queued[l.CazcoID] = true
		t := &orderTask{link: l, hasLink: true}
		if o, ok := byID[l.CazcoID]; ok {
			t.order = o
			tasks = append(tasks, t)
			continue
		}
		o, err := s.j.Market.Order(ctx, l.CazcoID)
		switch {
		case err == nil:
			t.order = o
			tasks = append(tasks, t)
		case stopsTenant(ctx, err):
			return nil, fmt.Errorf("read CaZco order %s: %w", l.CazcoID, err)
		case cazbling.KindOf(err) == cazbling.KindNotFound:
			s.pending.Logs = append(s.pending.Logs, s.row(t, cazbling.ActionFailed, cazbling.StatusError, 0,
				fmt.Sprintf("order #%s is waiting to be filed in Bling (%s) but CaZco no longer finds it (404); check the order in CaZco: %v", l.Number, l.LastError, err)))
		default:
			s.pending.Logs = append(s.pending.Logs, s.row(t, ActionRetryLater, cazbling.StatusError, 0,
				fmt.Sprintf("order #%s is waiting to be filed in Bling but could not be read from CaZco; tried again on the next run: %v", l.Number, err)))
		}
	}
	slices.SortStableFunc(window, func(a, b cazbling.Order) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ID, b.ID))
	})
	for _, o := range window {
		if queued[o.ID] {
			continue
		}
		queued[o.ID] = true
		t := &orderTask{order: o}
		l, found, err := s.j.Store().OrderLink(ctx, s.j.Tenant.ID, o.ID)
		if err != nil {
			return nil, fmt.Errorf("read the link of order %s: %w", o.ID, err)
		}
		t.link, t.hasLink = l, found
		tasks = append(tasks, t)
	}
	return tasks, nil
}
