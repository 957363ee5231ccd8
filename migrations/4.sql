-- migrations/4.sql - schema version 3 -> 4: the guest of each reservation
-- that needs a PIN, for the on_pin hook, and the names of listings.  Adds
-- only; no row is changed.
CREATE TABLE guests (
	reservation_id  TEXT PRIMARY KEY,        -- Stays _id
	name            TEXT,                    -- NULL: not known
	phone           TEXT,
	email           TEXT,
	language        TEXT,
	looked_up_at    INTEGER,                 -- NULL until a look-up succeeded
	attempts        INTEGER NOT NULL DEFAULT 0,
	last_error      TEXT,                    -- the last look-up's problem, if any
	updated_at      INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE listing_names (
	listing_id  TEXT PRIMARY KEY,            -- Stays _id
	code        TEXT,                        -- Stays short id
	name        TEXT,                        -- internalName; NULL: none
	fetched_at  INTEGER NOT NULL
) WITHOUT ROWID;
