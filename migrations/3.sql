-- migrations/3.sql - schema version 2 -> 3: stays-reconcile warns about a
-- booking on a listing with no lock once per day, not every run.
CREATE TABLE unmapped_warnings (
	reservation_id TEXT PRIMARY KEY,
	warned_on      TEXT NOT NULL             -- YYYY-MM-DD, [pins] timezone
) WITHOUT ROWID;
