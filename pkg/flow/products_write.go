package flow

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/cazbling/cazbling/pkg/cazbling"
)

// write sends the page's products to CaZco and returns the batch that records them,
// how many were left for a later run, the links of products newly linked to a CaZco
// product, and an error that stops the tenant (the batch still records what was done
// before it).
func (wk *walker) write(ctx context.Context, items []item) (b cazbling.Batch, retry int, fresh []cazbling.ProductLink, err error) {
	if err := wk.forgetHashes(ctx, items); err != nil {
		return b, retry, nil, err
	}
	for _, it := range items {
		entry := cazbling.LogEntry{Entity: cazbling.EntityProduct, Key: it.key, BlingID: idString(it.blingID)}
		switch {
		case it.current:
			l := it.link
			l.SeenAt = wk.j.Started
			b.ProductLinks = append(b.ProductLinks, l)
			continue // not touched: no row
		case it.skipMsg != "":
			entry.Action, entry.Status, entry.Message = cazbling.ActionSkipped, cazbling.StatusSkipped, it.skipMsg
		case it.errMsg != "":
			entry.Action, entry.Status, entry.Message = cazbling.ActionFailed, cazbling.StatusError, it.errMsg
			entry.Code, entry.Params = splitCode(it.errCode)
			if it.shared != nil {
				b.ProductLinks = append(b.ProductLinks, *it.shared)
			}
		case it.retry != nil:
			retry++
			entry.Action, entry.Status = ActionRetryLater, cazbling.StatusError
			entry.Message = fmt.Sprintf("Bling or CaZco did not answer well enough now (%v); left for the next run", it.retry)
			b.ProductLinks = append(b.ProductLinks, untrusted(it)...)
		default:
			link, e, err := wk.upsert(ctx, it)
			entry = e
			if err != nil {
				if stopsTenant(ctx, err) {
					return b, retry, fresh, err
				}
				if retryable(err) {
					retry++
					entry.Action, entry.Status = ActionRetryLater, cazbling.StatusError
					entry.Message = fmt.Sprintf("CaZco did not take product %s now (%v); left for the next run", it.key, err)
					b.ProductLinks = append(b.ProductLinks, untrusted(it)...)
				} else {
					entry.Action, entry.Status = cazbling.ActionFailed, cazbling.StatusError
					entry.Message = fmt.Sprintf("CaZco refused product %s: %v", it.key, err)
				}
			} else {
				b.ProductLinks = append(b.ProductLinks, link)
				if !it.linked || it.link.CazcoID != link.CazcoID {
					fresh = append(fresh, link)
				}
			}
		}
		b.Logs = append(b.Logs, entry)
	}
	return b, retry, fresh, nil
}

// untrusted is the link of a linked product left for retry, made one that no run
// trusts as current (not seen, no hash): whichever flow lists it next reads and
// writes it, and that row, not the retry, is then its newest. Without it a product
// another flow wrote meanwhile would be trusted by this flow's next run, which would
// write no row, and the log would show it failing for ever. The link's stock columns
// are not written by a link upsert, so a level the stock part recorded meanwhile stays.
func untrusted(it item) []cazbling.ProductLink {
	if !it.linked || it.link.SKU == "" {
		return nil
	}
	l := it.link
	l.SeenAt, l.Hash = time.Time{}, ""
	return []cazbling.ProductLink{l}
}

// forgetHashes clears, before any write, the stored hash of the linked products about
// to be written: if the run is killed after CaZco took a write but before the new hash
// is recorded, the next run must not compare Bling's data with a hash CaZco no longer
// matches (it would skip a product whose Bling data went back to the old values).
func (wk *walker) forgetHashes(ctx context.Context, items []item) error {
	if wk.j.Opts.DryRun {
		return nil
	}
	var b cazbling.Batch
	for _, it := range items {
		if it.sendable() && it.linked && it.link.Hash != "" && it.link.Hash != Hash(it.mapped.Product) {
			l := it.link
			l.Hash = ""
			b.ProductLinks = append(b.ProductLinks, l)
		}
	}
	return wk.j.Commit(ctx, b)
}

// upsert creates or updates one product in CaZco (SYNC.md): by the link's CaZco id,
// else by SKU; a create that finds the SKU taken turns into an update. Nothing is
// written when the data's hash equals the last one sent.
func (wk *walker) upsert(ctx context.Context, it item) (cazbling.ProductLink, cazbling.LogEntry, error) {
	j := wk.j
	p := it.mapped.Product
	hash := Hash(p)
	link := it.link
	link.TenantID, link.SKU, link.BlingID = j.Tenant.ID, p.SKU, it.blingID
	entry := cazbling.LogEntry{Entity: cazbling.EntityProduct, Key: p.SKU, BlingID: idString(it.blingID)}
	status, note := cazbling.StatusOK, ""
	if len(it.mapped.Warnings) > 0 {
		status, note = cazbling.StatusWarning, "; "+strings.Join(it.mapped.Warnings, "; ")
	}
	done := func(action, msg string) (cazbling.ProductLink, cazbling.LogEntry, error) {
		entry.Action, entry.Status, entry.Message, entry.CazcoID = action, status, msg+note, link.CazcoID
		link.Hash, link.SeenAt, link.SummaryHash, link.SKUShared = hash, j.Started, it.summary, false
		link.Inactive = p.Status == "inactive" // the stock sweep sends 0 for it
		return link, entry, nil
	}
	fail := func(err error) (cazbling.ProductLink, cazbling.LogEntry, error) {
		entry.CazcoID = link.CazcoID
		return link, entry, err
	}
	if it.linked && link.CazcoID != "" && link.Hash == hash {
		return done(cazbling.ActionUnchanged, "already up to date in CaZco")
	}
	if j.Opts.DryRun {
		return done(cazbling.ActionWouldWrite, "dry run: would create or update in CaZco")
	}
	// By the linked id first; a 404 means the id is stale: re-resolve by SKU, asking
	// CaZco (the store's index may hold the same stale id).
	find := wk.findInMarket
	if link.CazcoID != "" {
		err := j.Market.UpdateProduct(ctx, link.CazcoID, p)
		if err == nil {
			return done(cazbling.ActionUpdated, "updated in CaZco")
		}
		if cazbling.KindOf(err) != cazbling.KindNotFound {
			return fail(fmt.Errorf("update CaZco product %s: %w", link.CazcoID, err))
		}
		link.CazcoID = ""
		find = j.Market.ProductBySKU
	}
	existing, found, err := find(ctx, p.SKU)
	if err != nil {
		return fail(fmt.Errorf("look up SKU in CaZco: %w", err))
	}
	if !found {
		id, err := j.Market.CreateProduct(ctx, p)
		if err == nil {
			link.CazcoID = id
			return done(cazbling.ActionCreated, "created in CaZco")
		}
		var ae *cazbling.APIError
		if !errors.As(err, &ae) || ae.Kind != cazbling.KindConflict {
			return fail(fmt.Errorf("create in CaZco: %w", err))
		}
		existing.ID = ae.ExistingID
		if existing.ID == "" {
			if existing, found, err = j.Market.ProductBySKU(ctx, p.SKU); err != nil || !found {
				return fail(fmt.Errorf("CaZco says SKU %s exists but does not find it: %w", p.SKU, errors.Join(err, ae)))
			}
		}
	}
	link.CazcoID = existing.ID
	if err := j.Market.UpdateProduct(ctx, existing.ID, p); err != nil {
		if cazbling.KindOf(err) == cazbling.KindNotFound && found && wk.market[p.SKU] == existing.ID {
			// Deleted in CaZco since the store was listed: the index forgets it, and
			// the product is created again.
			delete(wk.market, p.SKU)
			return wk.upsert(ctx, it)
		}
		return fail(fmt.Errorf("update CaZco product %s: %w", existing.ID, err))
	}
	return done(cazbling.ActionUpdated, "updated in CaZco (it was there already)")
}

func idString(id int64) string {
	if id == 0 {
		return ""
	}
	return strconv.FormatInt(id, 10)
}
