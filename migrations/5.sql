-- migrations/5.sql - schema version 4 -> 5: past guests' PINs are not
-- kept.  credentials.pin becomes NULL once the credential is revoked (its
-- row stays for audit), and only then: a credential that may open a door
-- always has its PIN.  SQLite cannot drop a NOT NULL in place, so the table
-- is copied into its new shape; every row is kept, the PINs of revoked
-- ones are erased.
CREATE TABLE credentials_v5 (
	id              INTEGER PRIMARY KEY,
	reservation_id  TEXT NOT NULL,
	device_id       TEXT NOT NULL,
	password_id     INTEGER,
	name            TEXT NOT NULL,
	pin             TEXT CHECK (pin IS NOT NULL OR state = 'revoked'),
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
INSERT INTO credentials_v5 (id, reservation_id, device_id, password_id, name, pin,
	valid_from, valid_until, state, phase, created_at, confirmed_at, notified_at,
	revoked_at)
SELECT id, reservation_id, device_id, password_id, name,
	CASE WHEN state = 'revoked' THEN NULL ELSE pin END,
	valid_from, valid_until, state, phase, created_at, confirmed_at, notified_at,
	revoked_at
FROM credentials;
DROP TABLE credentials;
ALTER TABLE credentials_v5 RENAME TO credentials;
CREATE UNIQUE INDEX credentials_live ON credentials (reservation_id, device_id)
	WHERE state IN ('creating', 'unconfirmed', 'active');
CREATE UNIQUE INDEX credentials_password ON credentials (device_id, password_id)
	WHERE state != 'revoked' AND password_id IS NOT NULL;
CREATE INDEX credentials_device ON credentials (device_id, state);
CREATE INDEX credentials_reservation ON credentials (reservation_id, device_id);
