-- migrations/2.sql - schema version 1 -> 2 (access safety, SPEC P2-P3a).
--
-- credentials gains the states unconfirmed and revoking, the last phase
-- read from the lock, confirmed_at and notified_at, and one live
-- credential per (lock, password id).  SQLite cannot change a CHECK
-- constraint in place, so the table is copied into its new shape; every
-- row and column is kept.  Version 1 named passwords by the reservation
-- code alone, so one password could be recorded for two credentials:
-- before the new unique index, all but the oldest of such credentials
-- lose the id and go back to 'creating' (what they are: not known to be
-- on the lock); their revoke still searches the lock by name.  Version 1
-- kept no record of delivery or of the on_pin hook: its active
-- credentials count as confirmed and notified, so an upgrade sends no
-- guest a PIN twice.
CREATE TABLE credentials_v2 (
	id              INTEGER PRIMARY KEY,
	reservation_id  TEXT NOT NULL,
	device_id       TEXT NOT NULL,
	password_id     INTEGER,
	name            TEXT NOT NULL,
	pin             TEXT NOT NULL,
	valid_from      INTEGER NOT NULL,
	valid_until     INTEGER NOT NULL,
	state           TEXT NOT NULL DEFAULT 'creating'
	                CHECK (state IN ('creating', 'unconfirmed', 'active', 'revoking',
	                                 'revoked')),
	phase           INTEGER,
	created_at      INTEGER NOT NULL,
	confirmed_at    INTEGER,
	notified_at     INTEGER,
	revoked_at      INTEGER
);
INSERT INTO credentials_v2 (id, reservation_id, device_id, password_id, name, pin,
	valid_from, valid_until, state, created_at, confirmed_at, notified_at, revoked_at)
SELECT id, reservation_id, device_id, password_id, name, pin, valid_from, valid_until,
	state, created_at,
	CASE WHEN state = 'active' THEN created_at END,
	CASE WHEN state = 'active' THEN created_at END,
	revoked_at
FROM credentials;
DROP TABLE credentials;
ALTER TABLE credentials_v2 RENAME TO credentials;
UPDATE credentials SET state = 'creating', password_id = NULL
WHERE state != 'revoked' AND password_id IS NOT NULL
  AND id NOT IN (SELECT min(id) FROM credentials
                 WHERE state != 'revoked' AND password_id IS NOT NULL
                 GROUP BY device_id, password_id);
CREATE UNIQUE INDEX credentials_live ON credentials (reservation_id, device_id)
	WHERE state IN ('creating', 'unconfirmed', 'active');
CREATE UNIQUE INDEX credentials_password ON credentials (device_id, password_id)
	WHERE state != 'revoked' AND password_id IS NOT NULL;
CREATE INDEX credentials_device ON credentials (device_id, state);
CREATE INDEX credentials_reservation ON credentials (reservation_id, device_id);

CREATE TABLE pin_runner_log (
	id           INTEGER PRIMARY KEY CHECK (id = 1),
	started_at   INTEGER NOT NULL,
	completed_at INTEGER NOT NULL,
	status       TEXT NOT NULL CHECK (status IN ('success', 'failed')),
	due          INTEGER NOT NULL DEFAULT 0,
	done         INTEGER NOT NULL DEFAULT 0,
	retried      INTEGER NOT NULL DEFAULT 0,
	failed       INTEGER NOT NULL DEFAULT 0,
	message      TEXT
);
