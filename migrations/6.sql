-- migrations/6.sql - schema version 5 -> 6: what the metrics file
-- ([metrics] textfile) needs that the runs did not keep.  Adds only.
--
-- service_requests: every request each program sent to Stays or Tuya, and
-- how many of them failed, since the database was created (counters).
-- pin_runner_log keeps the duration of the run it records and when
-- pin-runner last succeeded, which the one replaced row forgot.
CREATE TABLE service_requests (
	service     TEXT PRIMARY KEY CHECK (service IN ('stays', 'tuya')),
	requests    INTEGER NOT NULL DEFAULT 0,
	errors      INTEGER NOT NULL DEFAULT 0,
	updated_at  INTEGER NOT NULL
) WITHOUT ROWID;

ALTER TABLE pin_runner_log ADD COLUMN duration_ms INTEGER;
ALTER TABLE pin_runner_log ADD COLUMN last_success_at INTEGER;
UPDATE pin_runner_log SET last_success_at = completed_at WHERE status = 'success';
