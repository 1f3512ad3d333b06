-- A lease's generation, its fencing number (issue 18): one more on every change of
-- holder, the same while its holder renews. A lease is no longer deleted on release,
-- only emptied (holder '', expires_at 0), so that its generation only grows.
ALTER TABLE leases ADD COLUMN generation INTEGER NOT NULL DEFAULT 1;
