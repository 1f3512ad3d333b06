-- When a product was last listed by a products window and known to be current in
-- CaZco, and a fingerprint of its Bling list entry then: products in a window's overlap
-- that were seen since the previous cursor, unchanged, need no detail read.
ALTER TABLE product_links ADD COLUMN seen_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE product_links ADD COLUMN summary_hash TEXT NOT NULL DEFAULT '';
