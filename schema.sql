-- schema.sql - the whole state of stays-reconcile and pin-runner.
--
-- Applied by the programs (lib/db.c), never by hand: a new database gets
-- this file and PRAGMA user_version = DB_SCHEMA_VERSION (lib/db.h); an older one
-- is brought here by the files in migrations/, step by step.  All times are
-- Unix seconds (UTC) unless the column name ends in _ms.  The file holds
-- PINs: the programs create it mode 0600.
--
-- The CHECKs of the two tables every run writes thousands of rows to
-- (reservations, pin_jobs) are OR chains, not IN lists: SQLite evaluates
-- an IN list of three or more constants by building a temporary index on
-- every row written (migrations/7.sql).

-- Reservations as last fetched from Stays (R3).  status: active (a PIN
-- type), canceled (in the canceled query or its type left the PIN types),
-- removed (vanished from Stays, R6).
CREATE TABLE reservations (
	id            TEXT PRIMARY KEY,          -- Stays _id
	code          TEXT NOT NULL,             -- Stays short id ("RV02J")
	listing_id    TEXT NOT NULL,             -- Stays _idlisting
	checkin_date  TEXT NOT NULL,             -- YYYY-MM-DD, listing-local
	checkin_time  TEXT,                      -- HH:MM or NULL (config default)
	checkout_date TEXT NOT NULL,
	checkout_time TEXT,
	type          TEXT NOT NULL,             -- Stays type
	guests        INTEGER NOT NULL DEFAULT 0,
	status        TEXT NOT NULL DEFAULT 'active'
	              CHECK (status = 'active' OR status = 'canceled' OR status = 'removed'),
	created_at    INTEGER NOT NULL,
	updated_at    INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX reservations_listing ON reservations (listing_id);
CREATE INDEX reservations_checkout ON reservations (checkout_date);

-- The listing -> lock mapping.  A lock belongs to one listing.
CREATE TABLE locks (
	device_id   TEXT PRIMARY KEY,            -- Tuya device id
	listing_id  TEXT NOT NULL,               -- Stays _idlisting
	name        TEXT,
	pin_length  INTEGER CHECK (pin_length IS NULL OR pin_length BETWEEN 4 AND 12),
	timezone    TEXT,                        -- NULL: [pins] timezone
	created_at  INTEGER NOT NULL
);
CREATE INDEX locks_listing ON locks (listing_id);

-- The at-style schedule.  Ids are deterministic
-- ("generate:<reservation>:<device>") so re-planning is idempotent.
-- valid_from/valid_until: the window the PIN must have on the lock
-- (generate and update jobs).
CREATE TABLE pin_jobs (
	id              TEXT PRIMARY KEY,
	action          TEXT NOT NULL
	                CHECK (action = 'generate' OR action = 'revoke' OR action = 'update'),
	reservation_id  TEXT NOT NULL,
	device_id       TEXT NOT NULL,
	due_at          INTEGER NOT NULL,
	valid_from      INTEGER,
	valid_until     INTEGER,
	status          TEXT NOT NULL DEFAULT 'pending'
	                CHECK (status = 'pending' OR status = 'running' OR status = 'done' OR
	                       status = 'failed' OR status = 'canceled'),
	attempts        INTEGER NOT NULL DEFAULT 0,
	next_attempt_at INTEGER,
	last_error      TEXT,
	created_at      INTEGER NOT NULL,
	updated_at      INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX pin_jobs_due ON pin_jobs (status, due_at);
CREATE INDEX pin_jobs_reservation ON pin_jobs (reservation_id, device_id);

-- What is (or may be) on each lock (SPEC P2-P4, P3a).  state:
--   creating     intent recorded before the create call (P3): the password
--                may or may not exist; found again by its unique name
--   unconfirmed  the cloud has it (password_id), the lock has not yet
--                reported it delivered with this window (phase 2)
--   active       the lock confirmed it (phase 2, Zigbee delivery 2)
--   revoking     deleted in the cloud, the lock has not confirmed it gone
--   revoked      confirmed gone, or never created
-- creating, unconfirmed, active and revoking may all open the door.  At
-- most one wanted credential (creating/unconfirmed/active) per
-- (reservation, lock); a password id belongs to one credential that is
-- not revoked.  name is unique to the credential ("RV02J-k3f9"), so a
-- crash-safe retry adopts its own password and never a stranger's.  A
-- revoked credential's PIN is erased (past guests' PINs are not kept); the
-- row stays for audit until [database] keep_days.
CREATE TABLE credentials (
	id              INTEGER PRIMARY KEY,
	reservation_id  TEXT NOT NULL,
	device_id       TEXT NOT NULL,
	password_id     INTEGER,                 -- Tuya temp password id; NULL while creating
	name            TEXT NOT NULL,           -- name on the lock, unique to this credential
	pin             TEXT CHECK (pin IS NOT NULL OR state = 'revoked'),
	                                         -- NULL once revoked: erased
	valid_from      INTEGER NOT NULL,        -- the window the cloud was given
	valid_until     INTEGER NOT NULL,
	state           TEXT NOT NULL DEFAULT 'creating'
	                CHECK (state IN ('creating', 'unconfirmed', 'active', 'revoking',
	                                 'revoked')),
	phase           INTEGER,                 -- phase the lock last reported, NULL if never read
	created_at      INTEGER NOT NULL,
	confirmed_at    INTEGER,                 -- when the lock last confirmed the window
	notified_at     INTEGER,                 -- when the on_pin hook last succeeded
	revoked_at      INTEGER
);
CREATE UNIQUE INDEX credentials_live ON credentials (reservation_id, device_id)
	WHERE state IN ('creating', 'unconfirmed', 'active');
CREATE UNIQUE INDEX credentials_password ON credentials (device_id, password_id)
	WHERE state != 'revoked' AND password_id IS NOT NULL;
CREATE INDEX credentials_device ON credentials (device_id, state);
CREATE INDEX credentials_reservation ON credentials (reservation_id, device_id);

-- One row per run of stays-reconcile (R9).
CREATE TABLE reconciliation_logs (
	id           TEXT PRIMARY KEY,           -- UUID
	started_at   INTEGER NOT NULL,
	completed_at INTEGER,
	duration_ms  INTEGER,
	status       TEXT NOT NULL CHECK (status IN ('pending', 'success', 'failed')),
	fetched      INTEGER NOT NULL DEFAULT 0,
	created      INTEGER NOT NULL DEFAULT 0,
	updated      INTEGER NOT NULL DEFAULT 0,
	unchanged    INTEGER NOT NULL DEFAULT 0,
	canceled     INTEGER NOT NULL DEFAULT 0,
	removed      INTEGER NOT NULL DEFAULT 0,
	orphaned     INTEGER NOT NULL DEFAULT 0,
	errors       INTEGER NOT NULL DEFAULT 0,
	message      TEXT,
	created_at   INTEGER NOT NULL
);
CREATE INDEX reconciliation_logs_started ON reconciliation_logs (started_at);
CREATE INDEX reconciliation_logs_status ON reconciliation_logs (status);
CREATE INDEX reconciliation_logs_created ON reconciliation_logs (created_at);
CREATE INDEX reconciliation_logs_pending ON reconciliation_logs (started_at)
	WHERE status = 'pending';

-- pin-runner's last run (SPEC, status pinRunner): one row, replaced by every
-- run that is not a dry run.  status: success (every due job done or
-- nothing due), failed (a job failed or is retried, or the run stopped).
-- last_success_at: completed_at of the last run that succeeded, kept
-- across failed runs (for the metrics file).
CREATE TABLE pin_runner_log (
	id           INTEGER PRIMARY KEY CHECK (id = 1),
	started_at   INTEGER NOT NULL,
	completed_at INTEGER NOT NULL,
	status       TEXT NOT NULL CHECK (status IN ('success', 'failed')),
	due          INTEGER NOT NULL DEFAULT 0,
	done         INTEGER NOT NULL DEFAULT 0,
	retried      INTEGER NOT NULL DEFAULT 0,
	failed       INTEGER NOT NULL DEFAULT 0,
	message      TEXT,
	duration_ms  INTEGER,                    -- NULL: recorded before schema 5
	last_success_at INTEGER                  -- NULL: never
);

-- Requests each program sent to a service (stays, tuya) and how many
-- failed, since the database was created: counters for the metrics file,
-- added to at the end of every run that sent any.
CREATE TABLE service_requests (
	service     TEXT PRIMARY KEY CHECK (service IN ('stays', 'tuya')),
	requests    INTEGER NOT NULL DEFAULT 0,
	errors      INTEGER NOT NULL DEFAULT 0,
	updated_at  INTEGER NOT NULL
) WITHOUT ROWID;

-- The Tuya access token cache (P6): one row.
CREATE TABLE tuya_token (
	id            INTEGER PRIMARY KEY CHECK (id = 1),
	access_token  TEXT NOT NULL,
	refresh_token TEXT,
	expires_at    INTEGER NOT NULL,          -- Unix seconds
	updated_at    INTEGER NOT NULL
);

-- Bookings of a PIN type on a listing with no lock: the day stays-reconcile
-- last warned about each (once per day, not every run).  Rows of bookings
-- that got a lock or ended are removed by the run.
CREATE TABLE unmapped_warnings (
	reservation_id TEXT PRIMARY KEY,
	warned_on      TEXT NOT NULL             -- YYYY-MM-DD, [pins] timezone
) WITHOUT ROWID;

-- The guest of a reservation that needs a PIN, looked up once in Stays by
-- stays-reconcile for the on_pin hook (single reservation, then its
-- client).  A failed look-up leaves looked_up_at NULL and is tried again
-- by the next run until the stay ends.  Personal data: forgotten once the
-- stay is over or the booking is canceled or gone.
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

-- The names of listings, fetched with their guests' look-ups, refreshed
-- weekly, for the on_pin hook.
CREATE TABLE listing_names (
	listing_id  TEXT PRIMARY KEY,            -- Stays _id
	code        TEXT,                        -- Stays short id
	name        TEXT,                        -- internalName; NULL: none
	fetched_at  INTEGER NOT NULL
) WITHOUT ROWID;
