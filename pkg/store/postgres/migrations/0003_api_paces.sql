-- Request paces that every host working the store shares (issue 18): Bling counts
-- each account's requests wherever they come from, so the hosts that work a tenant
-- pace it in one row here. free_at is when the pace admits its next request, in unix
-- nanoseconds of the server's clock. No SQLite twin: a SQLite store's processes share
-- one host, and the files beside the store pace them.
CREATE TABLE api_paces (
	pace_key TEXT COLLATE "C" PRIMARY KEY,
	free_at  BIGINT NOT NULL
);
