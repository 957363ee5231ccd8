/*
 * pinstore.c - SQL for pin-runner (see pinstore.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "pinstore.h"
#include "banned.h"

/* Run one prepared write alone or inside the caller's transaction. */
static enum err step_done(sqlite3 *db, sqlite3_stmt *st, const char *what, char *errbuf)
{
	enum err e = ERR_OK;

	if (sqlite3_step(st) != SQLITE_DONE)
		e = db_error(db, what, errbuf);
	sqlite3_finalize(st);
	return e;
}

enum err pinstore_recover(sqlite3 *db, int *n, char *errbuf)
{
	enum err e = db_exec(db, "UPDATE pin_jobs SET status = 'pending' WHERE status = 'running'",
			     errbuf);

	*n = e == ERR_OK ? sqlite3_changes(db) : 0;
	return e;
}

enum err pinstore_due(sqlite3 *db, time_t now, long max, struct due_job **out,
		      size_t *n, char *errbuf)
{
	static const char sql[] =
		"SELECT j.id, j.action, j.reservation_id, j.device_id, j.due_at, "
		"  j.valid_from, j.valid_until, j.status, j.attempts, "
		"  r.id IS NOT NULL, r.code, r.listing_id, r.status, r.guests, "
		"  l.device_id IS NOT NULL, l.listing_id, l.name, l.pin_length "
		"FROM pin_jobs j "
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
		struct due_job *d;

		arr = xgrow(arr, sizeof(*arr), len + 1, &alloc);
		d = &arr[len++];
		memset(d, 0, sizeof(*d));
		xstrlcpy(d->j.id, db_text(st, 0), sizeof(d->j.id));
		xstrlcpy(d->j.action, db_text(st, 1), sizeof(d->j.action));
		xstrlcpy(d->j.resv, db_text(st, 2), sizeof(d->j.resv));
		xstrlcpy(d->j.device, db_text(st, 3), sizeof(d->j.device));
		d->j.due = (time_t)sqlite3_column_int64(st, 4);
		d->j.valid_from = (time_t)sqlite3_column_int64(st, 5);
		d->j.valid_until = (time_t)sqlite3_column_int64(st, 6);
		xstrlcpy(d->j.status, db_text(st, 7), sizeof(d->j.status));
		d->attempts = (long)sqlite3_column_int64(st, 8);
		d->have_resv = sqlite3_column_int(st, 9);
		xstrlcpy(d->code, db_text(st, 10), sizeof(d->code));
		xstrlcpy(d->listing, db_text(st, 11), sizeof(d->listing));
		xstrlcpy(d->resv_status, db_text(st, 12), sizeof(d->resv_status));
		d->guests = sqlite3_column_int(st, 13);
		d->have_lock = sqlite3_column_int(st, 14);
		xstrlcpy(d->lock_listing, db_text(st, 15), sizeof(d->lock_listing));
		xstrlcpy(d->lock_name, db_text(st, 16), sizeof(d->lock_name));
		d->pin_length = sqlite3_column_int(st, 17);
	}
	if (rc != SQLITE_DONE)
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

enum err pinstore_claim(sqlite3 *db, const char *job_id, time_t now, int *claimed,
			char *errbuf)
{
	sqlite3_stmt *st = NULL;
	enum err e;

	*claimed = 0;
	if ((e = db_prepare(db, "UPDATE pin_jobs SET status = 'running', updated_at = ?2 "
			    "WHERE id = ?1 AND status = 'pending'", &st, errbuf)) != ERR_OK)
		return e;
	sqlite3_bind_text(st, 1, job_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)now);
	e = step_done(db, st, "cannot claim a job", errbuf);
	if (e == ERR_OK)
		*claimed = sqlite3_changes(db) == 1;
	return e;
}

enum err pinstore_unclaim(sqlite3 *db, const char *job_id, char *errbuf)
{
	sqlite3_stmt *st = NULL;
	enum err e;

	if ((e = db_prepare(db, "UPDATE pin_jobs SET status = 'pending' "
			    "WHERE id = ?1 AND status = 'running'", &st, errbuf)) != ERR_OK)
		return e;
	sqlite3_bind_text(st, 1, job_id, -1, SQLITE_STATIC);
	return step_done(db, st, "cannot release a job", errbuf);
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
	return step_done(db, st, "cannot finish a job", errbuf);
}

enum err pinstore_done(sqlite3 *db, const char *job_id, time_t now, char *errbuf)
{
	return job_done(db, job_id, now, errbuf);
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
			    "  status = CASE WHEN ?5 OR attempts + 1 >= ?4 THEN 'failed' ELSE 'pending' END, "
			    "  next_attempt_at = CASE WHEN ?5 OR attempts + 1 >= ?4 THEN NULL ELSE ?6 END "
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
	"id, password_id, name, pin, valid_from, valid_until, state";

static void read_cred(sqlite3_stmt *st, struct cred_row *c)
{
	memset(c, 0, sizeof(*c));
	c->rowid = sqlite3_column_int64(st, 0);
	c->password_id = sqlite3_column_int64(st, 1);
	xstrlcpy(c->name, db_text(st, 2), sizeof(c->name));
	xstrlcpy(c->pin, db_text(st, 3), sizeof(c->pin));
	c->valid_from = (time_t)sqlite3_column_int64(st, 4);
	c->valid_until = (time_t)sqlite3_column_int64(st, 5);
	xstrlcpy(c->state, db_text(st, 6), sizeof(c->state));
}

enum err pinstore_cred(sqlite3 *db, const char *resv, const char *device,
		       struct cred_row *out, int *found, char *errbuf)
{
	sqlite3_stmt *st = NULL;
	char sql[256];
	enum err e;
	int rc;

	*found = 0;
	snprintf(sql, sizeof(sql), "SELECT %s FROM credentials WHERE reservation_id = ?1 "
		 "AND device_id = ?2 AND state != 'revoked'", cred_cols);
	if ((e = db_prepare(db, sql, &st, errbuf)) != ERR_OK)
		return e;
	sqlite3_bind_text(st, 1, resv, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, device, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		read_cred(st, out);
		*found = 1;
	} else if (rc != SQLITE_DONE) {
		e = db_error(db, "cannot read credentials", errbuf);
	}
	sqlite3_finalize(st);
	return e;
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

enum err pinstore_intent(sqlite3 *db, const char *resv, const char *device,
			 const char *name, const char *pin, time_t vf, time_t vu,
			 time_t now, char *errbuf)
{
	sqlite3_stmt *st = NULL;
	enum err e;

	if ((e = db_prepare(db, "INSERT INTO credentials (reservation_id, device_id, name, pin, "
			    "valid_from, valid_until, state, created_at) "
			    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'creating', ?7)", &st, errbuf)) != ERR_OK)
		return e;
	sqlite3_bind_text(st, 1, resv, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, device, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, pin, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)vf);
	sqlite3_bind_int64(st, 6, (sqlite3_int64)vu);
	sqlite3_bind_int64(st, 7, (sqlite3_int64)now);
	return step_done(db, st, "cannot record the PIN intent", errbuf);
}

/* The statement that moves a credential's window, bound. */
static enum err window_stmt(sqlite3 *db, long long rowid, time_t vf, time_t vu,
			    sqlite3_stmt **st, char *errbuf)
{
	enum err e;

	if ((e = db_prepare(db, "UPDATE credentials SET valid_from = ?2, valid_until = ?3 "
			    "WHERE id = ?1", st, errbuf)) != ERR_OK)
		return e;
	sqlite3_bind_int64(*st, 1, rowid);
	sqlite3_bind_int64(*st, 2, (sqlite3_int64)vf);
	sqlite3_bind_int64(*st, 3, (sqlite3_int64)vu);
	return ERR_OK;
}

enum err pinstore_cred_window(sqlite3 *db, long long rowid, time_t vf, time_t vu,
			      char *errbuf)
{
	sqlite3_stmt *st = NULL;
	enum err e = window_stmt(db, rowid, vf, vu, &st, errbuf);

	return e != ERR_OK ? e : step_done(db, st, "cannot update a credential", errbuf);
}

/* Run stmt (already bound) and then finish the job, in one transaction. */
static enum err with_job_done(sqlite3 *db, sqlite3_stmt *st, const char *job_id,
			      time_t now, char *errbuf)
{
	enum err e;

	if ((e = db_begin(db, errbuf)) != ERR_OK) {
		sqlite3_finalize(st);
		return e;
	}
	if ((e = step_done(db, st, "cannot update a credential", errbuf)) != ERR_OK ||
	    (job_id && (e = job_done(db, job_id, now, errbuf)) != ERR_OK) ||
	    (e = db_commit(db, errbuf)) != ERR_OK) {
		db_rollback(db);
		return e;
	}
	return ERR_OK;
}

enum err pinstore_created(sqlite3 *db, long long rowid, int64_t password_id,
			  const char *job_id, time_t now, char *errbuf)
{
	sqlite3_stmt *st = NULL;
	enum err e;

	if ((e = db_prepare(db, "UPDATE credentials SET password_id = ?2, state = 'active' "
			    "WHERE id = ?1", &st, errbuf)) != ERR_OK)
		return e;
	sqlite3_bind_int64(st, 1, rowid);
	sqlite3_bind_int64(st, 2, password_id);
	return with_job_done(db, st, job_id, now, errbuf);
}

enum err pinstore_updated(sqlite3 *db, long long rowid, time_t vf, time_t vu,
			  const char *job_id, time_t now, char *errbuf)
{
	sqlite3_stmt *st = NULL;
	enum err e = window_stmt(db, rowid, vf, vu, &st, errbuf);

	return e != ERR_OK ? e : with_job_done(db, st, job_id, now, errbuf);
}

enum err pinstore_revoked(sqlite3 *db, long long rowid, const char *job_id, time_t now,
			  char *errbuf)
{
	sqlite3_stmt *st = NULL;
	enum err e;

	if ((e = db_prepare(db, "UPDATE credentials SET state = 'revoked', revoked_at = ?2 "
			    "WHERE id = ?1", &st, errbuf)) != ERR_OK)
		return e;
	sqlite3_bind_int64(st, 1, rowid);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)now);
	return with_job_done(db, st, job_id, now, errbuf);
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
	return step_done(db, st, "cannot save the token cache", errbuf);
}
