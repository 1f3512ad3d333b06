package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// TakePace admits one request of the pace named key, whose requests are spaced every
// apart, for every process on every host that uses this store: 0 when the request may
// leave now (the pace then admits the next one every later), else how long until it
// may try again. The instant is the server's clock (the store's with
// ServerClockLeases off, as in tests), so hosts need not agree on the time.
//
// One statement admits: the row's free_at moves only if it has passed, under the
// row's lock, so two hosts asking at once cannot both be admitted. Only a refusal
// reads the row again, for how long to wait.
func (s *Store) TakePace(ctx context.Context, key string, every time.Duration) (time.Duration, error) {
	if every <= 0 {
		return 0, nil
	}
	var now *int64
	if !s.serverClockLeases {
		n := toNanos(s.now())
		now = &n
	}
	var free int64
	err := s.pool.QueryRow(ctx, `INSERT INTO api_paces (pace_key, free_at)
		VALUES ($1, coalesce($2::bigint, (extract(epoch FROM clock_timestamp()) * 1000000)::bigint * 1000) + $3::bigint)
		ON CONFLICT (pace_key) DO UPDATE SET free_at = excluded.free_at
		WHERE api_paces.free_at <= excluded.free_at - $3::bigint
		RETURNING free_at`, key, now, every.Nanoseconds()).Scan(&free)
	if err == nil {
		return 0, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return 0, s.fail(fmt.Sprintf("take a request slot of pace %s", key), err)
	}
	var wait int64
	err = s.pool.QueryRow(ctx, `SELECT free_at - coalesce($2::bigint, (extract(epoch FROM clock_timestamp()) * 1000000)::bigint * 1000)
		FROM api_paces WHERE pace_key = $1`, key, now).Scan(&wait)
	if err != nil {
		return 0, s.fail(fmt.Sprintf("read pace %s", key), err)
	}
	// Between the two statements the slot may have freed (try at once) or been taken
	// by another host again; either way the next try says.
	return min(max(time.Duration(wait), time.Millisecond), every), nil
}
