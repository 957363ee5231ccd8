/*
 * pinstore.c - SQL for pin-runner (see pinstore.h).
 *
 * Text columns are copied into fixed-size fields before the next step;
 * a value too long for its field is a damaged database, reported as such
 * and never truncated (a truncated id would name another job).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "pinstore.h"
#include "banned.h"

/* Run one prepared write alone or inside the caller's transaction. */
enum err pinstore_recover(sqlite3 *db, int *n, char *errbuf)
{
	enum err e = db_exec(db, "UPDATE pin_jobs SET status = 'pending' WHERE status = 'running'",
			     errbuf);

	*n = e == ERR_OK ? sqlite3_changes(db) : 0;
	return e;
}

/* Columns of a due_job, j. (pin_jobs) then r. and l. (LEFT JOINed). */
#define DUE_COLS \
	"j.id, j.action, j.reservation_id, j.device_id, j.due_at, j.valid_from, " \
	"j.valid_until, j.status, j.attempts, r.id IS NOT NULL, r.code, r.listing_id, " \
	"r.status, r.guests, l.device_id IS NOT NULL, l.listing_id, l.name, l.pin_length"

#define COPY(dst, st, col, what)                                                 \
	do {                                                                     \
		if (xstrlcpy((dst), db_text((st), (col)), sizeof(dst)) != 0)     \
			return ERRF(errbuf, ERR_DB, "database: %s too long", what); \
	} while (0)

static enum err read_due(sqlite3_stmt *st, struct due_job *d, char *errbuf)
{
	memset(d, 0, sizeof(*d));
	COPY(d->j.id, st, 0, "job id");
	COPY(d->j.action, st, 1, "job action");
	COPY(d->j.resv, st, 2, "job reservation");
	COPY(d->j.device, st, 3, "job device");
	d->j.due = (time_t)sqlite3_column_int64(st, 4);
	d->j.valid_from = (time_t)sqlite3_column_int64(st, 5);
	d->j.valid_until = (time_t)sqlite3_column_int64(st, 6);
	COPY(d->j.status, st, 7, "job status");
	d->attempts = (long)sqlite3_column_int64(st, 8);
	d->have_resv = sqlite3_column_int(st, 9);
	COPY(d->code, st, 10, "reservation code");
	COPY(d->listing, st, 11, "listing id");
	COPY(d->resv_status, st, 12, "reservation status");
	d->guests = sqlite3_column_int(st, 13);
	d->have_lock = sqlite3_column_int(st, 14);
	COPY(d->lock_listing, st, 15, "lock listing id");
	COPY(d->lock_name, st, 16, "lock name");
	d->pin_length = sqlite3_column_int(st, 17);
	return ERR_OK;
}

enum err pinstore_due(sqlite3 *db, time_t now, long max, struct due_job **out,
		      size_t *n, char *errbuf)
{
	static const char sql[] =
		"SELECT " DUE_COLS " FROM pin_jobs j "
		"LEFT JOIN reservations r ON r.id = j.reservation_id "
		"LEFT JOIN locks l ON l.device_id = j.device_id "
		"WHERE j.status = 'pending' AND j.due_at <= ?1 "
		"  AND (j.next_attempt_at IS NULL OR j.next_attempt_at <= ?1) "
		"ORDER BY j.due_at, j.id LIMIT ?2";
	sqlite3_stmt *st = NULL;
	struct due_job *arr = NULL;
	size_t len = 0, alloc = 0;
	enum err e;
	int rc;

	*out = NULL;
	*n = 0;
	if ((e = db_prepare(db, sql, &st, errbuf)) != ERR_OK)
		return e;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)now);
	sqlite3_bind_int64(st, 2, max);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		arr = xgrow(arr, sizeof(*arr), len + 1, &alloc);
		if ((e = read_due(st, &arr[len], errbuf)) != ERR_OK)
			break;
		len++;
	}
	if (e == ERR_OK && rc != SQLITE_DONE)
		e = db_error(db, "cannot read due jobs", errbuf);
	sqlite3_finalize(st);
	if (e != ERR_OK) {
		free(arr);
		return e;
	}
	*out = arr;
	*n = len;
	return ERR_OK;
}

enum err pinstore_claim(sqlite3 *db, const char *job_id, time_t now, struct due_job *out,
			int *claimed, char *errbuf)
{
	/*
	 * The guard `status = 'pending'` and the due test are what make a
	 * claim safe against stays-reconcile: a job it canceled, moved or
	 * re-armed since the due list was read is not run from a stale copy.
	 */
	static const char claim[] =
		"UPDATE pin_jobs SET status = 'running', updated_at = ?2 "
		"WHERE id = ?1 AND status = 'pending' AND due_at <= ?2 "
		"  AND (next_attempt_at IS NULL OR next_attempt_at <= ?2) "
		"RETURNING id";
	static const char row[] =
		"SELECT " DUE_COLS " FROM pin_jobs j "
		"LEFT JOIN reservations r ON r.id = j.reservation_id "
		"LEFT JOIN locks l ON l.device_id = j.device_id WHERE j.id = ?1";
	sqlite3_stmt *st = NULL;
	enum err e;
	int rc;

	*claimed = 0;
	if ((e = db_begin(db, errbuf)) != ERR_OK)
		return e;
	if ((e = db_prepare(db, claim, &st, errbuf)) != ERR_OK)
		goto fail;
	sqlite3_bind_text(st, 1, job_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)now);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_ROW : SQLITE_ERROR;
	sqlite3_finalize(st);
	st = NULL;
	if (rc == SQLITE_DONE) {
		/* Not pending or not due any more: nothing to do. */
		return db_commit(db, errbuf);
	}
	if (rc != SQLITE_ROW) {
		e = db_error(db, "cannot claim a job", errbuf);
		goto fail;
	}
	if ((e = db_prepare(db, row, &st, errbuf)) != ERR_OK)
		goto fail;
	sqlite3_bind_text(st, 1, job_id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_ROW) {
		e = db_error(db, "cannot read a claimed job", errbuf);
		goto fail;
	}
	if ((e = read_due(st, out, errbuf)) != ERR_OK)
		goto fail;
	sqlite3_finalize(st);
	st = NULL;
	if ((e = db_commit(db, errbuf)) != ERR_OK)
		goto fail;
	*claimed = 1;
	return ERR_OK;
fail:
	sqlite3_finalize(st);
	db_rollback(db);
	return e;
}

enum err pinstore_unclaim(sqlite3 *db, const char *job_id, const char *reason,
			  char *errbuf)
{
	sqlite3_stmt *st = NULL;
	enum err e;

	if ((e = db_prepare(db, "UPDATE pin_jobs SET status = 'pending', "
			    "last_error = coalesce(?2, last_error) "
			    "WHERE id = ?1 AND status = 'running'", &st, errbuf)) != ERR_OK)
		return e;
	sqlite3_bind_text(st, 1, job_id, -1, SQLITE_STATIC);
	if (reason)
		sqlite3_bind_text(st, 2, reason, -1, SQLITE_STATIC);
	return db_step_done(db, st, "cannot release a job", errbuf);
}

enum err pinstore_held(sqlite3 *db, const char *job_id, const char *reason, char *errbuf)
{
	sqlite3_stmt *st = NULL;
	enum err e;

	if ((e = db_prepare(db, "UPDATE pin_jobs SET last_error = ?2 "
			    "WHERE id = ?1 AND status = 'pending' AND last_error IS NOT ?2",
			    &st, errbuf)) != ERR_OK)
		return e;
	sqlite3_bind_text(st, 1, job_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, reason, -1, SQLITE_STATIC);
	return db_step_done(db, st, "cannot note why a job waits", errbuf);
}

static enum err job_done(sqlite3 *db, const char *job_id, time_t now, char *errbuf)
{
	sqlite3_stmt *st = NULL;
	enum err e;

	if ((e = db_prepare(db, "UPDATE pin_jobs SET status = 'done', attempts = attempts + 1, "
			    "last_error = NULL, next_attempt_at = NULL, updated_at = ?2 "
			    "WHERE id = ?1 AND status = 'running'", &st, errbuf)) != ERR_OK)
		return e;
	sqlite3_bind_text(st, 1, job_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)now);
	return db_step_done(db, st, "cannot finish a job", errbuf);
}

enum err pinstore_done(sqlite3 *db, const char *job_id, time_t now, char *errbuf)
{
	return job_done(db, job_id, now, errbuf);
}

enum err pinstore_cancel(sqlite3 *db, const char *job_id, time_t now, const char *reason,
			 char *errbuf)
{
	sqlite3_stmt *st = NULL;
	enum err e;

	if ((e = db_prepare(db, "UPDATE pin_jobs SET status = 'canceled', last_error = ?3, "
			    "next_attempt_at = NULL, updated_at = ?2 "
			    "WHERE id = ?1 AND status = 'running'", &st, errbuf)) != ERR_OK)
		return e;
	sqlite3_bind_text(st, 1, job_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)now);
	sqlite3_bind_text(st, 3, reason, -1, SQLITE_STATIC);
	return db_step_done(db, st, "cannot cancel a job", errbuf);
}

/* *running: job_id is still running (read inside the caller's transaction). */
static enum err job_running(sqlite3 *db, const char *job_id, int *running, char *errbuf)
{
	sqlite3_stmt *st = NULL;
	enum err e;
	int rc;

	*running = 0;
	if ((e = db_prepare(db, "SELECT status = 'running' FROM pin_jobs WHERE id = ?1", &st,
			    errbuf)) != ERR_OK)
		return e;
	sqlite3_bind_text(st, 1, job_id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*running = sqlite3_column_int(st, 0);
	else if (rc != SQLITE_DONE)
		e = db_error(db, "cannot read a job", errbuf);
	sqlite3_finalize(st);
	return e;
}

enum err pinstore_job_running(sqlite3 *db, const char *job_id, int *running, char *errbuf)
{
	return job_running(db, job_id, running, errbuf);
}

enum err pinstore_attempt_failed(sqlite3 *db, const char *job_id, time_t now,
				 time_t next, const char *error, long max_attempts,
				 int permanent, int *failed, char *errbuf)
{
	sqlite3_stmt *st = NULL;
	enum err e;
	int rc;

	*failed = 0;
	if ((e = db_prepare(db,
			    "UPDATE pin_jobs SET attempts = attempts + 1, last_error = ?3, "
			    "  updated_at = ?2, "
			    "  status = CASE WHEN ?5 OR (?4 > 0 AND attempts + 1 >= ?4) "
			    "    THEN 'failed' ELSE 'pending' END, "
			    "  next_attempt_at = CASE WHEN ?5 OR (?4 > 0 AND attempts + 1 >= ?4) "
			    "    THEN NULL ELSE ?6 END "
			    "WHERE id = ?1 AND status = 'running' RETURNING status",
			    &st, errbuf)) != ERR_OK)
		return e;
	sqlite3_bind_text(st, 1, job_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)now);
	sqlite3_bind_text(st, 3, error, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, max_attempts);
	sqlite3_bind_int(st, 5, permanent != 0);
	sqlite3_bind_int64(st, 6, (sqlite3_int64)next);
	rc = sqlite3_step(st);
	*failed = -1;	/* no row: the job is no longer running */
	if (rc == SQLITE_ROW) {
		*failed = strcmp(db_text(st, 0), "failed") == 0;
		rc = sqlite3_step(st);
	}
	if (rc != SQLITE_DONE)
		e = db_error(db, "cannot record a failed job", errbuf);
	sqlite3_finalize(st);
	return e;
}

static const char cred_cols[] =
	"id, password_id, name, pin, valid_from, valid_until, state, notified_at";

static enum err read_cred(sqlite3_stmt *st, struct cred_row *c, char *errbuf)
{
	memset(c, 0, sizeof(*c));
	c->rowid = sqlite3_column_int64(st, 0);
	c->password_id = sqlite3_column_int64(st, 1);
	COPY(c->name, st, 2, "credential name");
	COPY(c->pin, st, 3, "credential PIN");
	c->valid_from = (time_t)sqlite3_column_int64(st, 4);
	c->valid_until = (time_t)sqlite3_column_int64(st, 5);
	COPY(c->state, st, 6, "credential state");
	c->notified_at = (time_t)sqlite3_column_int64(st, 7);
	return ERR_OK;
}

/* Rows of `SELECT cred_cols ... WHERE reservation_id = ?1 AND device_id = ?2 <where>`. */
static enum err select_creds(sqlite3 *db, const char *resv, const char *device,
			     const char *where, struct cred_row **out, size_t *n,
			     char *errbuf)
{
	sqlite3_stmt *st = NULL;
	struct cred_row *arr = NULL;
	size_t len = 0, alloc = 0;
	char sql[512];
	enum err e;
	int rc;

	*out = NULL;
	*n = 0;
	snprintf(sql, sizeof(sql), "SELECT %s FROM credentials WHERE reservation_id = ?1 "
		 "AND device_id = ?2 AND %s ORDER BY id", cred_cols, where);
	if ((e = db_prepare(db, sql, &st, errbuf)) != ERR_OK)
		return e;
	sqlite3_bind_text(st, 1, resv, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, device, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		arr = xgrow(arr, sizeof(*arr), len + 1, &alloc);
		if ((e = read_cred(st, &arr[len], errbuf)) != ERR_OK)
			break;
		len++;
	}
	if (e == ERR_OK && rc != SQLITE_DONE)
		e = db_error(db, "cannot read credentials", errbuf);
	sqlite3_finalize(st);
	if (e != ERR_OK) {
		free(arr);
		return e;
	}
	*out = arr;
	*n = len;
	return ERR_OK;
}

enum err pinstore_cred(sqlite3 *db, const char *resv, const char *device,
		       struct cred_row *out, int *found, char *errbuf)
{
	struct cred_row *arr;
	size_t n;
	enum err e = select_creds(db, resv, device,
				  "state IN ('creating', 'unconfirmed', 'active')", &arr, &n,
				  errbuf);

	*found = 0;
	if (e != ERR_OK)
		return e;
	if (n) {
		*out = arr[0];
		*found = 1;
	}
	free(arr);
	return ERR_OK;
}

enum err pinstore_creds(sqlite3 *db, const char *resv, const char *device,
			struct cred_row **out, size_t *n, char *errbuf)
{
	return select_creds(db, resv, device, "state != 'revoked'", out, n, errbuf);
}

static enum err read_live(sqlite3_stmt *st, struct live_cred *l, char *errbuf)
{
	enum err e = read_cred(st, &l->c, errbuf);

	if (e != ERR_OK)
		return e;
	COPY(l->resv, st, 8, "reservation id");
	COPY(l->device, st, 9, "device id");
	COPY(l->code, st, 10, "reservation code");
	COPY(l->listing, st, 11, "listing id");
	l->guests = sqlite3_column_int(st, 12);
	COPY(l->lock_name, st, 13, "lock name");
	COPY(l->tz, st, 14, "lock timezone");
	return ERR_OK;
}

enum err pinstore_live(sqlite3 *db, const char *device, const char *code,
		       struct live_cred **out, size_t *n, char *errbuf)
{
	sqlite3_stmt *st = NULL;
	struct live_cred *arr = NULL;
	size_t len = 0, alloc = 0;
	enum err e;
	int rc;

	*out = NULL;
	*n = 0;
	if ((e = db_prepare(db, "SELECT c.id, c.password_id, c.name, c.pin, c.valid_from, "
			    "c.valid_until, c.state, c.notified_at, c.reservation_id, c.device_id, "
			    "r.code, r.listing_id, r.guests, l.name, l.timezone "
			    "FROM credentials c "
			    "LEFT JOIN reservations r ON r.id = c.reservation_id "
			    "LEFT JOIN locks l ON l.device_id = c.device_id "
			    "WHERE c.state != 'revoked' AND (?1 IS NULL OR c.device_id = ?1) "
			    "AND (?2 IS NULL OR r.code = ?2) "
			    "ORDER BY c.device_id, c.valid_from, c.id", &st, errbuf)) != ERR_OK)
		return e;
	sqlite3_bind_text(st, 1, device, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, code, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		arr = xgrow(arr, sizeof(*arr), len + 1, &alloc);
		if ((e = read_live(st, &arr[len], errbuf)) != ERR_OK)
			break;
		len++;
	}
	if (e == ERR_OK && rc != SQLITE_DONE)
		e = db_error(db, "cannot read credentials", errbuf);
	sqlite3_finalize(st);
	if (e != ERR_OK) {
		pinstore_live_free(arr, len + (arr != NULL));
		return e;
	}
	*out = arr;
	*n = len;
	return ERR_OK;
}

void pinstore_live_free(struct live_cred *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		explicit_bzero(v[i].c.pin, sizeof(v[i].c.pin));
	free(v);
}

enum err pinstore_resv_pin(sqlite3 *db, const char *resv, const char *device,
			   char pin[PIN_MAX + 1], int *found, char *errbuf)
{
	sqlite3_stmt *st = NULL;
	enum err e;
	int rc;

	*found = 0;
	if ((e = db_prepare(db, "SELECT pin FROM credentials WHERE reservation_id = ?1 "
			    "AND device_id != ?2 AND state != 'revoked' ORDER BY id LIMIT 1",
			    &st, errbuf)) != ERR_OK)
		return e;
	sqlite3_bind_text(st, 1, resv, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, device, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*found = xstrlcpy(pin, db_text(st, 0), PIN_MAX + 1) == 0;
	} else if (rc != SQLITE_DONE) {
		e = db_error(db, "cannot read credentials", errbuf);
	}
	sqlite3_finalize(st);
	return e;
}

void pinstore_free_pins(char **pins, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		explicit_bzero(pins[i], strlen(pins[i]));
		free(pins[i]);
	}
	free(pins);
}

enum err pinstore_lock_pins(sqlite3 *db, const char *device, char ***pins, size_t *n,
			    char *errbuf)
{
	sqlite3_stmt *st = NULL;
	char **arr = NULL;
	size_t len = 0, alloc = 0;
	enum err e;
	int rc;

	*pins = NULL;
	*n = 0;
	if ((e = db_prepare(db, "SELECT pin FROM credentials WHERE device_id = ?1 "
			    "AND state != 'revoked'", &st, errbuf)) != ERR_OK)
		return e;
	sqlite3_bind_text(st, 1, device, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		arr = xgrow(arr, sizeof(*arr), len + 1, &alloc);
		arr[len++] = xstrdup(db_text(st, 0));
	}
	if (rc != SQLITE_DONE)
		e = db_error(db, "cannot read credentials", errbuf);
	sqlite3_finalize(st);
	if (e != ERR_OK) {
		pinstore_free_pins(arr, len);
		return e;
	}
	*pins = arr;
	*n = len;
	return ERR_OK;
}

enum err pinstore_password_held(sqlite3 *db, const char *device, int64_t password_id,
				long long rowid, int *held, char *errbuf)
{
	sqlite3_stmt *st = NULL;
	enum err e;
	int rc;

	*held = 0;
	if ((e = db_prepare(db, "SELECT 1 FROM credentials WHERE device_id = ?1 AND "
			    "password_id = ?2 AND state != 'revoked' AND id != ?3", &st,
			    errbuf)) != ERR_OK)
		return e;
	sqlite3_bind_text(st, 1, device, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, password_id);
	sqlite3_bind_int64(st, 3, rowid);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*held = 1;
	else if (rc != SQLITE_DONE)
		e = db_error(db, "cannot read credentials", errbuf);
	sqlite3_finalize(st);
	return e;
}

static enum err intent_txn(sqlite3 *db, const char *job_id, const char *resv,
			   const char *device, const char *name, const char *pin,
			   time_t vf, time_t vu, time_t now, enum intent_result *res,
			   long long *rowid, char *errbuf);

enum err pinstore_intent(sqlite3 *db, const char *job_id, const char *resv,
			 const char *device, const char *name, const char *pin,
			 time_t vf, time_t vu, time_t now, enum intent_result *res,
			 long long *rowid, char *errbuf)
{
	char eb[ERRBUF_SIZE];
	enum err e;

	*res = INTENT_JOB_GONE;
	*rowid = 0;
	if ((e = db_durable(db, 1, errbuf)) != ERR_OK)
		return e;
	e = intent_txn(db, job_id, resv, device, name, pin, vf, vu, now, res, rowid, errbuf);
	if (db_durable(db, 0, eb) != ERR_OK && e == ERR_OK)
		e = ERRF(errbuf, ERR_DB, "%s", eb);
	return e;
}

/* pinstore_intent's transaction; committed under synchronous = FULL. */
static enum err intent_txn(sqlite3 *db, const char *job_id, const char *resv,
			   const char *device, const char *name, const char *pin,
			   time_t vf, time_t vu, time_t now, enum intent_result *res,
			   long long *rowid, char *errbuf)
{
	sqlite3_stmt *st = NULL;
	enum err e;
	int running, rc;

	if ((e = db_begin(db, errbuf)) != ERR_OK)
		return e;
	if ((e = job_running(db, job_id, &running, errbuf)) != ERR_OK)
		goto fail;
	if (!running) {
		/* stays-reconcile canceled the job: no intent, no password. */
		return db_commit(db, errbuf);
	}
	if ((e = db_prepare(db, "SELECT 1 FROM credentials WHERE device_id = ?1 AND name = ?2",
			    &st, errbuf)) != ERR_OK)
		goto fail;
	sqlite3_bind_text(st, 1, device, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	st = NULL;
	if (rc == SQLITE_ROW) {
		*res = INTENT_NAME_TAKEN;
		return db_commit(db, errbuf);
	}
	if (rc != SQLITE_DONE) {
		e = db_error(db, "cannot read credentials", errbuf);
		goto fail;
	}
	if ((e = db_prepare(db, "INSERT INTO credentials (reservation_id, device_id, name, pin, "
			    "valid_from, valid_until, state, created_at) "
			    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'creating', ?7)", &st, errbuf)) != ERR_OK)
		goto fail;
	sqlite3_bind_text(st, 1, resv, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, device, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, pin, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)vf);
	sqlite3_bind_int64(st, 6, (sqlite3_int64)vu);
	sqlite3_bind_int64(st, 7, (sqlite3_int64)now);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	st = NULL;
	if (rc != SQLITE_DONE) {
		e = db_error(db, "cannot record the PIN intent", errbuf);
		goto fail;
	}
	*rowid = sqlite3_last_insert_rowid(db);
	/* COMMIT under synchronous = FULL: durable before the create call. */
	if ((e = db_commit(db, errbuf)) != ERR_OK)
		goto fail;
	*res = INTENT_RECORDED;
	return ERR_OK;
fail:
	sqlite3_finalize(st);
	db_rollback(db);
	*rowid = 0;
	*res = INTENT_JOB_GONE;
	return e;
}

enum err pinstore_cred_password(sqlite3 *db, long long rowid, int64_t password_id,
				const char *job_id, int *still_running, char *errbuf)
{
	sqlite3_stmt *st = NULL;
	int running = 1;
	enum err e;

	if ((e = db_begin(db, errbuf)) != ERR_OK)
		return e;
	if (job_id && (e = job_running(db, job_id, &running, errbuf)) != ERR_OK)
		goto fail;
	if ((e = db_prepare(db, "UPDATE credentials SET password_id = ?2, state = 'unconfirmed' "
			    "WHERE id = ?1", &st, errbuf)) != ERR_OK)
		goto fail;
	sqlite3_bind_int64(st, 1, rowid);
	sqlite3_bind_int64(st, 2, password_id);
	if ((e = db_step_done(db, st, "cannot record a password id", errbuf)) != ERR_OK ||
	    (e = db_commit(db, errbuf)) != ERR_OK)
		goto fail;
	if (still_running)
		*still_running = running;
	return ERR_OK;
fail:
	db_rollback(db);
	return e;
}

enum err pinstore_cred_window(sqlite3 *db, long long rowid, time_t vf, time_t vu,
			      char *errbuf)
{
	sqlite3_stmt *st = NULL;
	enum err e;

	if ((e = db_prepare(db, "UPDATE credentials SET valid_from = ?2, valid_until = ?3, "
			    "state = CASE WHEN state = 'active' THEN 'unconfirmed' ELSE state END "
			    "WHERE id = ?1", &st, errbuf)) != ERR_OK)
		return e;
	sqlite3_bind_int64(st, 1, rowid);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)vf);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)vu);
	return db_step_done(db, st, "cannot update a credential", errbuf);
}

enum err pinstore_cred_state(sqlite3 *db, long long rowid, const char *state, int phase,
			     time_t now, char *errbuf)
{
	sqlite3_stmt *st = NULL;
	enum err e;

	if ((e = db_prepare(db, "UPDATE credentials SET state = ?2, phase = ?3, "
			    "confirmed_at = CASE WHEN ?2 = 'active' THEN ?4 ELSE confirmed_at END, "
			    "revoked_at = CASE WHEN ?2 = 'revoked' THEN ?4 ELSE revoked_at END, "
			    "pin = CASE WHEN ?2 = 'revoked' THEN NULL ELSE pin END "
			    "WHERE id = ?1", &st, errbuf)) != ERR_OK)
		return e;
	sqlite3_bind_int64(st, 1, rowid);
	sqlite3_bind_text(st, 2, state, -1, SQLITE_STATIC);
	if (phase >= 0)
		sqlite3_bind_int(st, 3, phase);
	else
		sqlite3_bind_null(st, 3);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)now);
	return db_step_done(db, st, "cannot update a credential", errbuf);
}

enum err pinstore_notified(sqlite3 *db, long long rowid, const char *job_id, time_t now,
			   char *errbuf)
{
	sqlite3_stmt *st = NULL;
	enum err e;

	if ((e = db_begin(db, errbuf)) != ERR_OK)
		return e;
	if ((e = db_prepare(db, "UPDATE credentials SET notified_at = ?2 WHERE id = ?1", &st,
			    errbuf)) != ERR_OK)
		goto fail;
	sqlite3_bind_int64(st, 1, rowid);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)now);
	if ((e = db_step_done(db, st, "cannot update a credential", errbuf)) != ERR_OK ||
	    (job_id && (e = job_done(db, job_id, now, errbuf)) != ERR_OK) ||
	    (e = db_commit(db, errbuf)) != ERR_OK)
		goto fail;
	return ERR_OK;
fail:
	db_rollback(db);
	return e;
}

enum err pinstore_log_run(sqlite3 *db, const struct pin_run_log *run, char *errbuf)
{
	sqlite3_stmt *st = NULL;
	enum err e;

	/*
	 * An idle run that finds the same outcome recorded less than
	 * PIN_LOG_REFRESH seconds ago writes nothing: most runs stay
	 * read-only, so the idle path costs no fsync (P7).
	 */
	if ((e = db_prepare(db, "INSERT OR REPLACE INTO pin_runner_log (id, started_at, "
			    "completed_at, status, due, done, retried, failed, message, "
			    "duration_ms, last_success_at) "
			    "SELECT 1, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?10, "
			    "CASE WHEN ?3 = 'success' THEN ?2 ELSE "
			    "(SELECT last_success_at FROM pin_runner_log WHERE id = 1) END "
			    "WHERE ?4 > 0 OR NOT EXISTS "
			    "(SELECT 1 FROM pin_runner_log WHERE id = 1 AND status = ?3 "
			    " AND due = 0 AND message IS ?8 AND completed_at <= ?2 "
			    " AND completed_at > ?2 - ?9)", &st, errbuf)) != ERR_OK)
		return e;
	sqlite3_bind_int(st, 9, PIN_LOG_REFRESH);
	sqlite3_bind_int64(st, 10, run->duration_ms);
	sqlite3_bind_int64(st, 1, (sqlite3_int64)run->started_at);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)run->completed_at);
	sqlite3_bind_text(st, 3, run->status, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, run->due);
	sqlite3_bind_int64(st, 5, run->done);
	sqlite3_bind_int64(st, 6, run->retried);
	sqlite3_bind_int64(st, 7, run->failed);
	if (run->message)
		sqlite3_bind_text(st, 8, run->message, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 8);
	return db_step_done(db, st, "cannot write the pin-runner log", errbuf);
}

enum err pinstore_token_load(sqlite3 *db, struct tuya_token *tok, int *found, char *errbuf)
{
	sqlite3_stmt *st = NULL;
	enum err e;
	int rc;

	*found = 0;
	memset(tok, 0, sizeof(*tok));
	if ((e = db_prepare(db, "SELECT access_token, refresh_token, expires_at FROM tuya_token "
			    "WHERE id = 1", &st, errbuf)) != ERR_OK)
		return e;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*found = xstrlcpy(tok->access, db_text(st, 0), sizeof(tok->access)) == 0 &&
			 xstrlcpy(tok->refresh, db_text(st, 1), sizeof(tok->refresh)) == 0;
		/* Stored in seconds; the client counts milliseconds. */
		tok->expires_at = (long long)sqlite3_column_int64(st, 2) * 1000;
	} else if (rc != SQLITE_DONE) {
		e = db_error(db, "cannot read the token cache", errbuf);
	}
	sqlite3_finalize(st);
	return e;
}

enum err pinstore_token_save(sqlite3 *db, const struct tuya_token *tok, time_t now,
			     char *errbuf)
{
	sqlite3_stmt *st = NULL;
	enum err e;

	if ((e = db_prepare(db, "INSERT INTO tuya_token (id, access_token, refresh_token, "
			    "expires_at, updated_at) VALUES (1, ?1, ?2, ?3, ?4) "
			    "ON CONFLICT(id) DO UPDATE SET access_token = excluded.access_token, "
			    "refresh_token = excluded.refresh_token, expires_at = excluded.expires_at, "
			    "updated_at = excluded.updated_at", &st, errbuf)) != ERR_OK)
		return e;
	sqlite3_bind_text(st, 1, tok->access, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, tok->refresh, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, tok->expires_at / 1000);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)now);
	return db_step_done(db, st, "cannot save the token cache", errbuf);
}
