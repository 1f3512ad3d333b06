-- The process that ran each run (issue 18): with several hosts on one store, support
-- staff see which host worked a tenant, and which run a killed host left unfinished.
-- Runs recorded before this migration have none ('').
ALTER TABLE runs ADD COLUMN host TEXT NOT NULL DEFAULT '';
