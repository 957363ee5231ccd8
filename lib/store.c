/*
 * store.c - SQL for stays-reconcile (see store.h).
 *
 * Reading copies every column into fixed-size model structs (SQLite's text
 * is only valid until the next step); a stored value too long for its field
 * is a damaged database and is reported, never truncated silently.
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "store.h"
#include "banned.h"

#define COPY(dst, st, col, what)                                              \
	do {                                                                  \
		if (xstrlcpy((dst), db_text((st), (col)), sizeof(dst)) != 0) { \
			e = ERRF(errbuf, ERR_DB, "database: %s too long", what); \
			goto out;                                             \
		}                                                             \
	} while (0)

static const char resv_cols[] =
	"id, code, listing_id, checkin_date, checkin_time, checkout_date, "
	"checkout_time, type, guests, status";

void store_read_stats(sqlite3_stmt *st, int col, struct plan_stats *s)
{
	long *v[] = { &s->fetched, &s->created, &s->updated, &s->unchanged, &s->canceled,
		      &s->removed, &s->orphaned, &s->errors };

	for (size_t i = 0; i < sizeof(v) / sizeof(*v); i++)
		*v[i] = (long)sqlite3_column_int64(st, col + (int)i);
}

enum err store_read_resv(sqlite3_stmt *st, struct resv *r, char *errbuf)
{
	enum err e = ERR_OK;

	memset(r, 0, sizeof(*r));
	COPY(r->id, st, 0, "reservation id");
	COPY(r->code, st, 1, "reservation code");
	COPY(r->listing, st, 2, "listing id");
	COPY(r->in_date, st, 3, "check-in date");
	COPY(r->in_time, st, 4, "check-in time");
	COPY(r->out_date, st, 5, "check-out date");
	COPY(r->out_time, st, 6, "check-out time");
	COPY(r->type, st, 7, "reservation type");
	r->guests = sqlite3_column_int(st, 8);
	COPY(r->status, st, 9, "reservation status");
out:
	return e;
}

static const char job_cols[] =
	"id, action, reservation_id, device_id, due_at, valid_from, valid_until, status";

enum err store_read_job(sqlite3_stmt *st, struct job *j, char *errbuf)
{
	enum err e = ERR_OK;

	memset(j, 0, sizeof(*j));
	COPY(j->id, st, 0, "job id");
	COPY(j->action, st, 1, "job action");
	COPY(j->resv, st, 2, "job reservation");
	COPY(j->device, st, 3, "job device");
	j->due = (time_t)sqlite3_column_int64(st, 4);
	j->valid_from = (time_t)sqlite3_column_int64(st, 5);
	j->valid_until = (time_t)sqlite3_column_int64(st, 6);
	COPY(j->status, st, 7, "job status");
out:
	return e;
}

static int cmp_resv(const void *a, const void *b)
{
	return strcmp(((const struct resv *)a)->id, ((const struct resv *)b)->id);
}

static int cmp_job(const void *a, const void *b)
{
	return strcmp(((const struct job *)a)->id, ((const struct job *)b)->id);
}

/* Whether id is among the first n rows of st->stored, which are sorted. */
static int has_resv(const struct state *st, size_t n, const char *id)
{
	struct resv key;

	assert(n <= st->nstored);
	memset(&key, 0, sizeof(key));
	xstrlcpy(key.id, id, sizeof(key.id));
	return n && bsearch(&key, st->stored, n, sizeof(key), cmp_resv) != NULL;
}

/* Step a SELECT of resv_cols, appending rows to st->stored. */
static enum err collect_resv(sqlite3 *db, sqlite3_stmt *q, struct state *st, char *errbuf)
{
	int rc;
	enum err e;

	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		st->stored = xgrow(st->stored, sizeof(*st->stored), st->nstored + 1,
				   &st->astored);
		e = store_read_resv(q, &st->stored[st->nstored], errbuf);
		if (e != ERR_OK)
			return e;
		st->nstored++;
	}
	return rc == SQLITE_DONE ? ERR_OK : db_error(db, "cannot read reservations", errbuf);
}

static enum err collect_jobs(sqlite3 *db, sqlite3_stmt *q, struct state *st, char *errbuf)
{
	int rc;
	enum err e;

	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		st->jobs = xgrow(st->jobs, sizeof(*st->jobs), st->njobs + 1, &st->ajobs);
		e = store_read_job(q, &st->jobs[st->njobs], errbuf);
		if (e != ERR_OK)
			return e;
		st->njobs++;
	}
	return rc == SQLITE_DONE ? ERR_OK : db_error(db, "cannot read jobs", errbuf);
}

typedef enum err collect_fn(sqlite3 *db, sqlite3_stmt *q, struct state *st, char *errbuf);

/* Run sql (?1 = window_from) and collect its rows into st. */
static enum err load_select(sqlite3 *db, const char *sql, const char *window_from,
			    collect_fn *collect, struct state *st, char *errbuf)
{
	sqlite3_stmt *q = NULL;
	enum err e;

	if ((e = db_prepare(db, sql, &q, errbuf)) != ERR_OK)
		return e;
	sqlite3_bind_text(q, 1, window_from, -1, SQLITE_STATIC);
	e = collect(db, q, st, errbuf);
	sqlite3_finalize(q);
	return e;
}

/*
 * The reservations that can matter to a run (?1 = the window's first
 * date): check-out in the window, a live job, or a credential not revoked.
 * One pass over reservations in id order (the table is keyed by id), the
 * two EXISTS probed through their indexes only for stays before the
 * window: no temporary b-tree of ids, no sort (migrations/7.sql).
 */
#define LIVE_JOB "(status = 'pending' OR status = 'running' OR status = 'failed')"
#define LIVE_BY(id)                                                             \
	"EXISTS (SELECT 1 FROM pin_jobs l WHERE l.reservation_id = " id " AND "   \
	LIVE_JOB ") OR EXISTS (SELECT 1 FROM credentials c "                      \
	"WHERE c.reservation_id = " id " AND c.state != 'revoked')"
#define RELATED(r) "(" r ".checkout_date >= ?1 OR " LIVE_BY(r ".id") ")"

/* The related reservations (%s: their columns), sorted by id. */
#define RELATED_RESV_SQL \
	"SELECT %s FROM reservations r WHERE " RELATED("r") " ORDER BY r.id"

/*
 * The related reservations, sorted by id; then all live jobs and every job
 * of a related reservation, sorted by id: one pass over pin_jobs in id
 * order; a finished job's reservation and siblings probed by key.
 */
static enum err load_related(sqlite3 *db, const char *window_from, struct state *st,
			     char *errbuf)
{
	struct strbuf sql = STRBUF_INIT;
	enum err e;

	strbuf_addf(&sql, RELATED_RESV_SQL, resv_cols);
	e = load_select(db, sql.buf, window_from, collect_resv, st, errbuf);
	strbuf_reset(&sql);
	strbuf_addf(&sql, "SELECT %s FROM pin_jobs j WHERE " LIVE_JOB " OR EXISTS "
		    "(SELECT 1 FROM reservations r WHERE r.id = j.reservation_id AND "
		    "r.checkout_date >= ?1) OR " LIVE_BY("j.reservation_id") " ORDER BY j.id",
		    job_cols);
	if (e == ERR_OK)
		e = load_select(db, sql.buf, window_from, collect_jobs, st, errbuf);
	strbuf_release(&sql);
	return e;
}

/*
 * Fetched reservations stored long ago (out of the window of
 * load_related()), with their finished jobs (the live ones are loaded
 * already); st->stored and st->jobs sorted again after.
 */
static enum err load_fetched(sqlite3 *db, const struct resv *fetched, size_t nfetched,
			     struct state *st, char *errbuf)
{
	sqlite3_stmt *one = NULL, *onejobs = NULL;
	struct strbuf sql = STRBUF_INIT;
	size_t base = st->nstored;
	enum err e;

	strbuf_addf(&sql, "SELECT %s FROM reservations WHERE id = ?1", resv_cols);
	e = db_prepare(db, sql.buf, &one, errbuf);
	strbuf_reset(&sql);
	strbuf_addf(&sql, "SELECT %s FROM pin_jobs WHERE reservation_id = ?1 "
		    "AND status NOT IN ('pending', 'running', 'failed')", job_cols);
	if (e == ERR_OK)
		e = db_prepare(db, sql.buf, &onejobs, errbuf);
	for (size_t i = 0; e == ERR_OK && i < nfetched; i++) {
		size_t before = st->nstored;

		/* Only the sorted rows of load_related(): the tail is not. */
		if (has_resv(st, base, fetched[i].id))
			continue;
		sqlite3_reset(one);
		sqlite3_bind_text(one, 1, fetched[i].id, -1, SQLITE_STATIC);
		if ((e = collect_resv(db, one, st, errbuf)) != ERR_OK || st->nstored == before)
			continue;
		sqlite3_reset(onejobs);
		sqlite3_bind_text(onejobs, 1, fetched[i].id, -1, SQLITE_STATIC);
		e = collect_jobs(db, onejobs, st, errbuf);
	}
	if (e == ERR_OK && st->nstored != base) {
		qsort(st->stored, st->nstored, sizeof(*st->stored), cmp_resv);
		qsort(st->jobs, st->njobs, sizeof(*st->jobs), cmp_job);
	}
	sqlite3_finalize(one);
	sqlite3_finalize(onejobs);
	strbuf_release(&sql);
	return e;
}

/* Every credential that is (or may be) on a lock. */
static enum err load_creds(sqlite3 *db, struct state *st, char *errbuf)
{
	sqlite3_stmt *q = NULL;
	enum err e;
	int rc;

	if ((e = db_prepare(db, "SELECT reservation_id, device_id, valid_from, valid_until, state, "
			    "password_id IS NOT NULL FROM credentials WHERE state != 'revoked'",
			    &q, errbuf)) != ERR_OK)
		return e;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		struct cred *c;

		st->creds = xgrow(st->creds, sizeof(*st->creds), st->ncreds + 1, &st->acreds);
		c = &st->creds[st->ncreds];
		memset(c, 0, sizeof(*c));
		COPY(c->resv, q, 0, "credential reservation");
		COPY(c->device, q, 1, "credential device");
		c->valid_from = (time_t)sqlite3_column_int64(q, 2);
		c->valid_until = (time_t)sqlite3_column_int64(q, 3);
		COPY(c->state, q, 4, "credential state");
		c->has_password = sqlite3_column_int(q, 5);
		st->ncreds++;
	}
	if (rc != SQLITE_DONE)
		e = db_error(db, "cannot read credentials", errbuf);
out:
	sqlite3_finalize(q);
	return e;
}

enum err store_load(sqlite3 *db, const char *window_from, const struct resv *fetched,
		    size_t nfetched, struct state *st, char *errbuf)
{
	enum err e;

	memset(st, 0, sizeof(*st));
	if (!db || db_version(db) == 0)
		return ERR_OK;
	if ((e = load_related(db, window_from, st, errbuf)) == ERR_OK &&
	    (e = load_fetched(db, fetched, nfetched, st, errbuf)) == ERR_OK &&
	    (e = load_creds(db, st, errbuf)) == ERR_OK) {
		e = store_lock_list(db, &st->locks, &st->nlocks, errbuf);
		st->alocks = st->nlocks;
	}
	if (e != ERR_OK) {
		state_release(st);
		return e;
	}
	/* plan.c's contract: bsearch on both. */
	assert(resv_sorted_unique(st->stored, st->nstored));
	assert(jobs_sorted_unique(st->jobs, st->njobs));
	return ERR_OK;
}

enum err store_load_stored(sqlite3 *db, const char *window_from, struct state *st,
			   char *errbuf)
{
	struct strbuf sql = STRBUF_INIT;
	enum err e;

	memset(st, 0, sizeof(*st));
	if (!db || db_version(db) == 0)
		return ERR_OK;
	strbuf_addf(&sql, RELATED_RESV_SQL, resv_cols);
	e = load_select(db, sql.buf, window_from, collect_resv, st, errbuf);
	strbuf_release(&sql);
	if (e != ERR_OK) {
		state_release(st);
		return e;
	}
	assert(resv_sorted_unique(st->stored, st->nstored));
	return ERR_OK;
}

void state_release(struct state *st)
{
	free(st->stored);
	free(st->locks);
	free(st->jobs);
	free(st->creds);
	memset(st, 0, sizeof(*st));
}

static void bind_time_or_null(sqlite3_stmt *st, int col, time_t t)
{
	if (t)
		sqlite3_bind_int64(st, col, (sqlite3_int64)t);
	else
		sqlite3_bind_null(st, col);
}

/* s must stay as it is until the statement is stepped (SQLITE_STATIC). */
static void bind_text_or_null(sqlite3_stmt *st, int col, const char *s)
{
	if (s && *s)
		sqlite3_bind_text(st, col, s, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, col);
}

/* R3: a reservation row as the action says, created or updated. */
static void bind_resv_action(sqlite3_stmt *st, const struct action *a, time_t now)
{
	sqlite3_reset(st);
	sqlite3_bind_text(st, 1, a->r->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, a->r->code, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, a->r->listing, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, a->r->in_date, -1, SQLITE_STATIC);
	bind_text_or_null(st, 5, a->r->in_time);
	sqlite3_bind_text(st, 6, a->r->out_date, -1, SQLITE_STATIC);
	bind_text_or_null(st, 7, a->r->out_time);
	sqlite3_bind_text(st, 8, a->r->type, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 9, a->r->guests);
	sqlite3_bind_text(st, 10, a->status, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 11, (sqlite3_int64)now);
}

/*
 * R4, R5, R7: a job row as the action says; an unscheduled job keeps why.
 * id is the caller's buffer for the row id, bound without a copy: it must
 * stay as it is until the statement is stepped.
 */
static void bind_job_action(sqlite3_stmt *st, const struct action *a, time_t now,
			    char id[JOB_ID_MAX + 1])
{
	sqlite3_reset(st);
	plan_job_id(&a->job, id);
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, a->job.action, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, a->job.resv, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, a->job.device, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)a->job.due);
	bind_time_or_null(st, 6, a->job.valid_from);
	bind_time_or_null(st, 7, a->job.valid_until);
	sqlite3_bind_text(st, 8, a->job.status, -1, SQLITE_STATIC);
	if (a->kind == ACT_UNSCHEDULE && a->reason) {
		char why[160];

		snprintf(why, sizeof(why), "canceled: %s", a->reason);
		sqlite3_bind_text(st, 9, why, -1, SQLITE_TRANSIENT);
	} else {
		sqlite3_bind_null(st, 9);
	}
	sqlite3_bind_int64(st, 10, (sqlite3_int64)now);
}

static const char apply_resv_sql[] =
	"INSERT INTO reservations (id, code, listing_id, checkin_date, checkin_time, "
	"  checkout_date, checkout_time, type, guests, status, created_at, updated_at) "
	"VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?11) "
	"ON CONFLICT(id) DO UPDATE SET code = excluded.code, "
	"  listing_id = excluded.listing_id, checkin_date = excluded.checkin_date, "
	"  checkin_time = excluded.checkin_time, checkout_date = excluded.checkout_date, "
	"  checkout_time = excluded.checkout_time, type = excluded.type, "
	"  guests = excluded.guests, status = excluded.status, "
	"  updated_at = excluded.updated_at";

/* A job written again starts over: attempts and retry time reset when pending. */
static const char apply_job_sql[] =
	"INSERT INTO pin_jobs (id, action, reservation_id, device_id, due_at, "
	"  valid_from, valid_until, status, attempts, next_attempt_at, last_error, "
	"  created_at, updated_at) "
	"VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 0, NULL, ?9, ?10, ?10) "
	"ON CONFLICT(id) DO UPDATE SET due_at = excluded.due_at, "
	"  valid_from = excluded.valid_from, valid_until = excluded.valid_until, "
	"  status = excluded.status, "
	"  attempts = CASE WHEN excluded.status = 'pending' THEN 0 ELSE attempts END, "
	"  next_attempt_at = CASE WHEN excluded.status = 'pending' THEN NULL "
	"    ELSE next_attempt_at END, "
	"  last_error = excluded.last_error, updated_at = excluded.updated_at";

enum err store_apply(sqlite3 *db, const struct plan *p, time_t now, char *errbuf)
{
	sqlite3_stmt *rs = NULL, *js = NULL;
	char job_id[JOB_ID_MAX + 1];    /* bound to js until it is finalized */
	enum err e = ERR_OK;

	if ((e = db_prepare(db, apply_resv_sql, &rs, errbuf)) != ERR_OK ||
	    (e = db_prepare(db, apply_job_sql, &js, errbuf)) != ERR_OK)
		goto out;
	for (size_t i = 0; i < p->n; i++) {
		const struct action *a = &p->a[i];
		sqlite3_stmt *st;

		switch (a->kind) {
		case ACT_CREATE:
		case ACT_UPDATE:
		case ACT_CANCEL:
		case ACT_REMOVE:
			st = rs;
			bind_resv_action(st, a, now);
			break;
		case ACT_SCHEDULE:
		case ACT_RESCHEDULE:
		case ACT_UNSCHEDULE:
			st = js;
			bind_job_action(st, a, now, job_id);
			break;
		default:
			continue;
		}
		if (sqlite3_step(st) != SQLITE_DONE) {
			e = db_error(db, "cannot write the plan", errbuf);
			goto out;
		}
	}
out:
	sqlite3_finalize(rs);
	sqlite3_finalize(js);
	return e;
}

enum err store_log_begin(sqlite3 *db, const char *id, time_t now, int *interrupted,
			 char *errbuf)
{
	sqlite3_stmt *st = NULL;
	enum err e;

	*interrupted = 0;
	if ((e = db_begin(db, errbuf)) != ERR_OK)
		return e;
	if ((e = db_prepare(db, "UPDATE reconciliation_logs SET status = 'failed', "
			    "message = 'interrupted' WHERE status = 'pending'", &st,
			    errbuf)) != ERR_OK)
		goto fail;
	if (sqlite3_step(st) != SQLITE_DONE) {
		e = db_error(db, "cannot write the run log", errbuf);
		goto fail;
	}
	*interrupted = sqlite3_changes(db);
	sqlite3_finalize(st);
	st = NULL;
	if ((e = db_prepare(db, "INSERT INTO reconciliation_logs (id, started_at, status, created_at) "
			    "VALUES (?1, ?2, 'pending', ?2)", &st, errbuf)) != ERR_OK)
		goto fail;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)now);
	if (sqlite3_step(st) != SQLITE_DONE) {
		e = db_error(db, "cannot write the run log", errbuf);
		goto fail;
	}
	sqlite3_finalize(st);
	return db_commit(db, errbuf);
fail:
	sqlite3_finalize(st);
	db_rollback(db);
	return e;
}

enum err store_log_end(sqlite3 *db, const struct log_row *row, char *errbuf)
{
	sqlite3_stmt *st = NULL;
	const struct plan_stats *s = &row->stats;
	enum err e;

	if ((e = db_prepare(db, "UPDATE reconciliation_logs SET completed_at = ?2, "
			    "duration_ms = ?3, status = ?4, fetched = ?5, created = ?6, "
			    "updated = ?7, unchanged = ?8, canceled = ?9, removed = ?10, "
			    "orphaned = ?11, errors = ?12, message = ?13 WHERE id = ?1",
			    &st, errbuf)) != ERR_OK)
		return e;
	sqlite3_bind_text(st, 1, row->id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)row->completed_at);
	sqlite3_bind_int64(st, 3, row->duration_ms);
	sqlite3_bind_text(st, 4, row->status, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, s->fetched);
	sqlite3_bind_int64(st, 6, s->created);
	sqlite3_bind_int64(st, 7, s->updated);
	sqlite3_bind_int64(st, 8, s->unchanged);
	sqlite3_bind_int64(st, 9, s->canceled);
	sqlite3_bind_int64(st, 10, s->removed);
	sqlite3_bind_int64(st, 11, s->orphaned);
	sqlite3_bind_int64(st, 12, s->errors);
	if (row->has_message)
		sqlite3_bind_text(st, 13, row->message, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 13);
	if (sqlite3_step(st) != SQLITE_DONE)
		e = db_error(db, "cannot write the run log", errbuf);
	sqlite3_finalize(st);
	return e;
}

enum err store_last_log(sqlite3 *db, struct log_row *row, int *found, char *errbuf)
{
	sqlite3_stmt *st = NULL;
	enum err e;
	int rc;

	*found = 0;
	memset(row, 0, sizeof(*row));
	if ((e = db_prepare(db, "SELECT id, started_at, completed_at, duration_ms, status, "
			    "fetched, created, updated, unchanged, canceled, removed, "
			    "orphaned, errors, message FROM reconciliation_logs "
			    "ORDER BY started_at DESC, rowid DESC LIMIT 1", &st, errbuf)) != ERR_OK)
		return e;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*found = 1;
		xstrlcpy(row->id, db_text(st, 0), sizeof(row->id));
		row->started_at = (time_t)sqlite3_column_int64(st, 1);
		row->completed_at = (time_t)sqlite3_column_int64(st, 2);
		row->duration_ms = sqlite3_column_type(st, 3) == SQLITE_NULL ? -1 :
				   (long)sqlite3_column_int64(st, 3);
		xstrlcpy(row->status, db_text(st, 4), sizeof(row->status));
		store_read_stats(st, 5, &row->stats);
		row->has_message = sqlite3_column_type(st, 13) != SQLITE_NULL;
		xstrlcpy(row->message, db_text(st, 13), sizeof(row->message));
	} else if (rc != SQLITE_DONE) {
		e = db_error(db, "cannot read the run log", errbuf);
	}
	sqlite3_finalize(st);
	return e;
}

enum err store_job_counts(sqlite3 *db, long *pending, long *failed, time_t *next_due,
			  char *errbuf)
{
	sqlite3_stmt *st = NULL;
	enum err e;

	*pending = *failed = 0;
	*next_due = 0;
	if ((e = db_prepare(db, "SELECT (SELECT count(*) FROM pin_jobs WHERE status = 'pending'), "
			    "(SELECT count(*) FROM pin_jobs WHERE status = 'failed'), "
			    "(SELECT min(due_at) FROM pin_jobs WHERE status = 'pending')",
			    &st, errbuf)) != ERR_OK)
		return e;
	if (sqlite3_step(st) == SQLITE_ROW) {
		*pending = (long)sqlite3_column_int64(st, 0);
		*failed = (long)sqlite3_column_int64(st, 1);
		*next_due = (time_t)sqlite3_column_int64(st, 2);
	} else {
		e = db_error(db, "cannot read jobs", errbuf);
	}
	sqlite3_finalize(st);
	return e;
}

enum err store_lock_add(sqlite3 *db, const struct lock_map *l, time_t now, int *rearmed,
			char *errbuf)
{
	sqlite3_stmt *st = NULL;
	enum err e;
	int rc;

	if (rearmed)
		*rearmed = 0;
	if ((e = db_prepare(db, "SELECT listing_id FROM locks WHERE device_id = ?1", &st,
			    errbuf)) != ERR_OK)
		return e;
	sqlite3_bind_text(st, 1, l->device, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && strcmp(db_text(st, 0), l->listing) != 0) {
		e = ERRF(errbuf, ERR_DATA,
			 "lock '%s' already belongs to listing '%s'; remove it first with: locks rm %s %s",
			 l->device, db_text(st, 0), db_text(st, 0), l->device);
		sqlite3_finalize(st);
		return e;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_error(db, "cannot read locks", errbuf);
	if ((e = db_prepare(db, "INSERT INTO locks (device_id, listing_id, name, pin_length, "
			    "timezone, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6) "
			    "ON CONFLICT(device_id) DO UPDATE SET "
			    "name = coalesce(excluded.name, name), "
			    "pin_length = coalesce(excluded.pin_length, pin_length), "
			    "timezone = coalesce(excluded.timezone, timezone)",
			    &st, errbuf)) != ERR_OK)
		return e;
	sqlite3_bind_text(st, 1, l->device, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, l->listing, -1, SQLITE_STATIC);
	bind_text_or_null(st, 3, l->name);
	if (l->pin_length)
		sqlite3_bind_int(st, 4, l->pin_length);
	else
		sqlite3_bind_null(st, 4);
	bind_text_or_null(st, 5, l->tz);
	sqlite3_bind_int64(st, 6, (sqlite3_int64)now);
	if (sqlite3_step(st) != SQLITE_DONE)
		e = db_error(db, "cannot write locks", errbuf);
	sqlite3_finalize(st);
	if (e != ERR_OK)
		return e;
	/*
	 * The operator changed the lock's settings (typically --pin-length
	 * after a 1109): its jobs that failed for good get another chance.
	 */
	if ((e = db_prepare(db, "UPDATE pin_jobs SET status = 'pending', attempts = 0, "
			    "next_attempt_at = NULL, last_error = NULL, updated_at = ?2 "
			    "WHERE device_id = ?1 AND status = 'failed'", &st, errbuf)) != ERR_OK)
		return e;
	sqlite3_bind_text(st, 1, l->device, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)now);
	if (sqlite3_step(st) != SQLITE_DONE)
		e = db_error(db, "cannot write jobs", errbuf);
	else if (rearmed)
		*rearmed = sqlite3_changes(db);
	sqlite3_finalize(st);
	return e;
}

enum err store_lock_rm(sqlite3 *db, const char *listing, const char *device, char *errbuf)
{
	sqlite3_stmt *st = NULL;
	enum err e;

	if ((e = db_prepare(db, "DELETE FROM locks WHERE listing_id = ?1 AND device_id = ?2",
			    &st, errbuf)) != ERR_OK)
		return e;
	sqlite3_bind_text(st, 1, listing, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, device, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		e = db_error(db, "cannot write locks", errbuf);
	else if (sqlite3_changes(db) == 0)
		e = ERRF(errbuf, ERR_DATA, "no lock '%s' mapped to listing '%s'", device, listing);
	sqlite3_finalize(st);
	return e;
}

enum err store_lock_list(sqlite3 *db, struct lock_map **out, size_t *n, char *errbuf)
{
	sqlite3_stmt *st = NULL;
	struct lock_map *arr = NULL;
	size_t len = 0, alloc = 0;
	enum err e;
	int rc;

	*out = NULL;
	*n = 0;
	if ((e = db_prepare(db, "SELECT device_id, listing_id, name, pin_length, timezone "
			    "FROM locks ORDER BY listing_id, device_id", &st, errbuf)) != ERR_OK)
		return e;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct lock_map *l;

		arr = xgrow(arr, sizeof(*arr), len + 1, &alloc);
		l = &arr[len++];
		memset(l, 0, sizeof(*l));
		COPY(l->device, st, 0, "lock device id");
		COPY(l->listing, st, 1, "lock listing id");
		COPY(l->name, st, 2, "lock name");
		l->pin_length = sqlite3_column_int(st, 3);
		COPY(l->tz, st, 4, "lock time zone");
	}
	if (rc != SQLITE_DONE)
		e = db_error(db, "cannot read locks", errbuf);
out:
	sqlite3_finalize(st);
	if (e != ERR_OK) {
		free(arr);
		return e;
	}
	*out = arr;
	*n = len;
	return ERR_OK;
}

enum err store_password_known(sqlite3 *db, const char *device, long long id, int *known,
			      char *errbuf)
{
	sqlite3_stmt *st = NULL;
	enum err e;
	int rc;

	*known = 0;
	if ((e = db_prepare(db, "SELECT 1 FROM credentials WHERE device_id = ?1 AND "
			    "password_id = ?2 AND state != 'revoked'", &st, errbuf)) != ERR_OK)
		return e;
	sqlite3_bind_text(st, 1, device, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*known = 1;
	else if (rc != SQLITE_DONE)
		e = db_error(db, "cannot read credentials", errbuf);
	sqlite3_finalize(st);
	return e;
}

enum err store_jobs(sqlite3 *db, int all, struct job_row **out, size_t *n, char *errbuf)
{
	sqlite3_stmt *st = NULL;
	struct job_row *arr = NULL;
	size_t len = 0, alloc = 0;
	struct strbuf sql = STRBUF_INIT;
	enum err e;
	int rc;

	*out = NULL;
	*n = 0;
	strbuf_addf(&sql, "SELECT j.id, j.action, j.reservation_id, j.device_id, j.due_at, "
		    "j.valid_from, j.valid_until, j.status, r.code, r.listing_id, j.attempts, "
		    "j.next_attempt_at, j.last_error FROM pin_jobs j "
		    "LEFT JOIN reservations r ON r.id = j.reservation_id %s "
		    "ORDER BY j.due_at, j.id",
		    all ? "" : "WHERE j.status IN ('pending', 'running', 'failed')");
	e = db_prepare(db, sql.buf, &st, errbuf);
	strbuf_release(&sql);
	if (e != ERR_OK)
		return e;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct job_row *r;

		arr = xgrow(arr, sizeof(*arr), len + 1, &alloc);
		r = &arr[len];
		memset(r, 0, sizeof(*r));
		if ((e = store_read_job(st, &r->j, errbuf)) != ERR_OK)
			goto out;
		len++;
		COPY(r->code, st, 8, "reservation code");
		COPY(r->listing, st, 9, "listing id");
		r->attempts = (long)sqlite3_column_int64(st, 10);
		r->next_attempt_at = (time_t)sqlite3_column_int64(st, 11);
		r->has_last_error = sqlite3_column_type(st, 12) != SQLITE_NULL;
		xstrlcpy(r->last_error, db_text(st, 12), sizeof(r->last_error));
	}
	if (rc != SQLITE_DONE)
		e = db_error(db, "cannot read jobs", errbuf);
out:
	sqlite3_finalize(st);
	if (e != ERR_OK) {
		free(arr);
		return e;
	}
	*out = arr;
	*n = len;
	return ERR_OK;
}

enum err store_pin_run(sqlite3 *db, struct pin_run_row *row, int *found, char *errbuf)
{
	sqlite3_stmt *st = NULL;
	enum err e;
	int rc;

	*found = 0;
	memset(row, 0, sizeof(*row));
	if ((e = db_prepare(db, "SELECT started_at, completed_at, status, due, done, retried, "
			    "failed, message FROM pin_runner_log WHERE id = 1", &st, errbuf)) != ERR_OK)
		return e;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*found = 1;
		row->started_at = (time_t)sqlite3_column_int64(st, 0);
		row->completed_at = (time_t)sqlite3_column_int64(st, 1);
		COPY(row->status, st, 2, "pin-runner status");
		row->due = (long)sqlite3_column_int64(st, 3);
		row->done = (long)sqlite3_column_int64(st, 4);
		row->retried = (long)sqlite3_column_int64(st, 5);
		row->failed = (long)sqlite3_column_int64(st, 6);
		row->has_message = sqlite3_column_type(st, 7) != SQLITE_NULL;
		xstrlcpy(row->message, db_text(st, 7), sizeof(row->message));
	} else if (rc != SQLITE_DONE) {
		e = db_error(db, "cannot read the pin-runner log", errbuf);
	}
out:
	sqlite3_finalize(st);
	return e;
}

void health_release(struct health *h)
{
	free(h->unconfirmed.v);
	free(h->unrevoked.v);
	free(h->overdue.v);
	free(h->unmapped.v);
	memset(h, 0, sizeof(*h));
}

int health_any(const struct health *h)
{
	return h->unconfirmed.n || h->unrevoked.n || h->overdue.n || h->unmapped.n;
}

static struct health_item *health_add(struct health_list *l)
{
	struct health_item *it;

	l->v = xgrow(l->v, sizeof(*l->v), l->n + 1, &l->alloc);
	it = &l->v[l->n++];
	memset(it, 0, sizeof(*it));
	return it;
}

/*
 * Credentials: columns reservation_id, code, listing_id, device_id, state,
 * valid_from, valid_until, with ?1 = now and ?2 = the query's own value.
 */
static enum err health_creds(sqlite3 *db, const char *where, time_t now, sqlite3_int64 v2,
			     struct health_list *l, char *errbuf)
{
	struct strbuf sql = STRBUF_INIT;
	sqlite3_stmt *st = NULL;
	enum err e;
	int rc;

	strbuf_addf(&sql, "SELECT c.reservation_id, r.code, r.listing_id, c.device_id, c.state, "
		    "c.valid_from, c.valid_until FROM credentials c "
		    "LEFT JOIN reservations r ON r.id = c.reservation_id WHERE %s "
		    "ORDER BY c.valid_from, c.id", where);
	e = db_prepare(db, sql.buf, &st, errbuf);
	strbuf_release(&sql);
	if (e != ERR_OK)
		return e;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)now);
	sqlite3_bind_int64(st, 2, v2);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct health_item *it = health_add(l);

		COPY(it->resv, st, 0, "credential reservation");
		COPY(it->code, st, 1, "reservation code");
		COPY(it->listing, st, 2, "listing id");
		COPY(it->device, st, 3, "credential device");
		COPY(it->state, st, 4, "credential state");
		it->from = (time_t)sqlite3_column_int64(st, 5);
		it->until = (time_t)sqlite3_column_int64(st, 6);
	}
	if (rc != SQLITE_DONE)
		e = db_error(db, "cannot read credentials", errbuf);
out:
	sqlite3_finalize(st);
	return e;
}

static enum err health_jobs(sqlite3 *db, time_t now, struct health_list *l, char *errbuf)
{
	/*
	 * Overdue: pending and due (also after its retry time) for longer
	 * than the grace - pin-runner is not running them; or failed while
	 * still needed: a generate whose stay is not over, an update or a
	 * revoke whose credential is still there (a wrong window, or a PIN
	 * that should be gone, is an open door).
	 */
	static const char sql[] =
		"SELECT j.reservation_id, r.code, r.listing_id, j.device_id, j.status, j.action, "
		"  j.due_at, j.attempts, j.last_error FROM pin_jobs j "
		"LEFT JOIN reservations r ON r.id = j.reservation_id "
		"WHERE (j.status = 'pending' AND j.due_at <= ?1 - ?2 "
		"       AND coalesce(j.next_attempt_at, 0) <= ?1 - ?2) "
		"   OR (j.status = 'failed' AND ((j.action = 'generate' AND j.valid_until > ?1) "
		"       OR (j.action IN ('update', 'revoke') AND EXISTS (SELECT 1 FROM credentials c "
		"           WHERE c.reservation_id = j.reservation_id AND c.device_id = j.device_id "
		"             AND c.state != 'revoked')))) "
		"ORDER BY j.due_at, j.id";
	sqlite3_stmt *st = NULL;
	enum err e;
	int rc;

	if ((e = db_prepare(db, sql, &st, errbuf)) != ERR_OK)
		return e;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)now);
	sqlite3_bind_int64(st, 2, HEALTH_GRACE);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct health_item *it = health_add(l);

		COPY(it->resv, st, 0, "job reservation");
		COPY(it->code, st, 1, "reservation code");
		COPY(it->listing, st, 2, "listing id");
		COPY(it->device, st, 3, "job device");
		COPY(it->state, st, 4, "job status");
		COPY(it->action, st, 5, "job action");
		it->from = (time_t)sqlite3_column_int64(st, 6);
		it->attempts = (long)sqlite3_column_int64(st, 7);
		xstrlcpy(it->last_error, db_text(st, 8), sizeof(it->last_error));
	}
	if (rc != SQLITE_DONE)
		e = db_error(db, "cannot read jobs", errbuf);
out:
	sqlite3_finalize(st);
	return e;
}

/* Active bookings of a listing without a lock whose stay is near. */
enum err store_unmapped(sqlite3 *db, const struct config *cfg, time_t now, long ahead,
			struct health_list *l, char *errbuf)
{
	struct strbuf sql = STRBUF_INIT;
	sqlite3_stmt *st = NULL;
	struct plan_policy pol;
	char from[11], to[11];
	enum err e;
	int rc;

	plan_policy_from_config(cfg, &pol);
	if (plan_local_date(cfg->pins.timezone, now, -1, from) != ERR_OK ||
	    plan_local_date(cfg->pins.timezone, now, ahead ? ahead / 86400 + 1 : 3650, to) != ERR_OK)
		return ERRF(errbuf, ERR_CONFIG, "cannot use time zone '%s'", cfg->pins.timezone);
	/*
	 * From the listings, not the stays: the distinct listings come from
	 * reservations_listing alone, and only those without a lock (usually
	 * none) have their reservations read.  Starting from the stays went
	 * through every row in the window to find none: 10,000 in a big
	 * account.
	 */
	strbuf_addf(&sql, "SELECT %s FROM (SELECT DISTINCT listing_id AS lid FROM reservations) u "
		    "CROSS JOIN reservations r ON r.listing_id = u.lid "
		    "WHERE NOT EXISTS (SELECT 1 FROM locks l WHERE l.listing_id = u.lid) "
		    "AND r.status = 'active' AND r.checkout_date >= ?1 AND r.checkin_date <= ?2 "
		    "ORDER BY r.checkin_date, r.id", resv_cols);
	e = db_prepare(db, sql.buf, &st, errbuf);
	strbuf_release(&sql);
	if (e != ERR_OK)
		return e;
	sqlite3_bind_text(st, 1, from, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, to, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct health_item *it;
		struct resv r;
		time_t cin, cout;

		if ((e = store_read_resv(st, &r, errbuf)) != ERR_OK)
			goto out;
		if (!config_is_pin_type(cfg, r.type) ||
		    plan_stay_instants(&pol, &r, NULL, &cin, &cout) != ERR_OK ||
		    cout <= now || (ahead && cin > now + ahead))
			continue;
		it = health_add(l);
		xstrlcpy(it->resv, r.id, sizeof(it->resv));
		xstrlcpy(it->code, r.code, sizeof(it->code));
		xstrlcpy(it->listing, r.listing, sizeof(it->listing));
		xstrlcpy(it->state, r.status, sizeof(it->state));
		it->from = cin;
		it->until = cout;
	}
	if (rc != SQLITE_DONE)
		e = db_error(db, "cannot read reservations", errbuf);
out:
	sqlite3_finalize(st);
	return e;
}

enum err store_health(sqlite3 *db, const struct config *cfg, time_t now, struct health *h,
		      char *errbuf)
{
	enum err e;

	memset(h, 0, sizeof(*h));
	/* P3a: a PIN whose window starts within 24 h, not confirmed on the lock. */
	e = health_creds(db, "c.state IN ('creating', 'unconfirmed') AND c.valid_until > ?1 "
			 "AND c.valid_from <= ?1 + ?2", now, HEALTH_UNCONFIRMED_AHEAD,
			 &h->unconfirmed, errbuf);
	/*
	 * P3a: a PIN that should be gone by now and is not confirmed gone:
	 * past its revoke time (check-out + revoke_after; ?2 turns the
	 * window's end into it), or with a revoke due for longer than the
	 * grace (a cancellation, a lock that left the listing) - typically a
	 * lock that is offline and still opens the door with it.
	 */
	if (e == ERR_OK)
		e = health_creds(db, "c.state != 'revoked' AND (c.valid_until + ?2 <= ?1 "
				 "OR EXISTS (SELECT 1 FROM pin_jobs j WHERE j.action = 'revoke' "
				 "  AND j.reservation_id = c.reservation_id AND j.device_id = c.device_id "
				 "  AND j.status IN ('pending', 'running', 'failed') "
				 "  AND j.due_at + " HEALTH_GRACE_STR " <= ?1))",
				 now, (sqlite3_int64)cfg->pins.revoke_after -
				 (sqlite3_int64)cfg->pins.valid_after + HEALTH_GRACE,
				 &h->unrevoked, errbuf);
	if (e == ERR_OK)
		e = health_jobs(db, now, &h->overdue, errbuf);
	if (e == ERR_OK)
		e = store_unmapped(db, cfg, now, HEALTH_UNMAPPED_AHEAD, &h->unmapped, errbuf);
	if (e != ERR_OK)
		health_release(h);
	return e;
}

enum err store_unmapped_warned(sqlite3 *db, const char *resv_id, const char *day, int *first,
			       char *errbuf)
{
	sqlite3_stmt *st = NULL;
	enum err e;

	*first = 0;
	if ((e = db_prepare(db, "INSERT OR IGNORE INTO unmapped_warnings (reservation_id, warned_on) "
			    "VALUES (?1, ?2)", &st, errbuf)) != ERR_OK)
		return e;
	sqlite3_bind_text(st, 1, resv_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, day, -1, SQLITE_STATIC);
	if ((e = db_step_done(db, st, "cannot record a warning", errbuf)) == ERR_OK)
		*first = sqlite3_changes(db) == 1;
	return e;
}

enum err store_unmapped_forget(sqlite3 *db, const char *day, char *errbuf)
{
	sqlite3_stmt *st = NULL;
	enum err e;

	if ((e = db_prepare(db, "DELETE FROM unmapped_warnings WHERE warned_on <> ?1", &st,
			    errbuf)) != ERR_OK)
		return e;
	sqlite3_bind_text(st, 1, day, -1, SQLITE_STATIC);
	return db_step_done(db, st, "cannot forget old warnings", errbuf);
}

enum err store_retention(sqlite3 *db, time_t cutoff, const char *from, struct retention *r,
			 char *errbuf)
{
	static const struct {
		const char *sql, *what;
	} steps[] = {
		{ "DELETE FROM reconciliation_logs WHERE started_at < ?1 AND status != 'pending'",
		  "old run logs" },
		{ "DELETE FROM pin_jobs WHERE status IN ('done', 'canceled') AND updated_at < ?1"
		  " AND reservation_id NOT IN"
		  "  (SELECT id FROM reservations WHERE checkout_date >= ?2)",
		  "old jobs" },
		{ "DELETE FROM credentials WHERE state = 'revoked'"
		  " AND coalesce(revoked_at, created_at) < ?1",
		  "old revoked credentials" },
	};
	long *counts[] = { &r->logs, &r->jobs, &r->credentials };
	sqlite3_stmt *st;
	char what[64];
	enum err e;

	memset(r, 0, sizeof(*r));
	assert(sizeof(steps) / sizeof(*steps) == sizeof(counts) / sizeof(*counts));
	for (size_t i = 0; i < sizeof(steps) / sizeof(*steps); i++) {
		if ((e = db_prepare(db, steps[i].sql, &st, errbuf)) != ERR_OK)
			return e;
		sqlite3_bind_int64(st, 1, (sqlite3_int64)cutoff);
		if (sqlite3_bind_parameter_count(st) > 1)
			sqlite3_bind_text(st, 2, from, -1, SQLITE_STATIC);
		snprintf(what, sizeof(what), "cannot delete %s", steps[i].what);
		if ((e = db_step_done(db, st, what, errbuf)) != ERR_OK)
			return e;
		*counts[i] = sqlite3_changes(db);
	}
	return ERR_OK;
}

enum err store_db_stats(sqlite3 *db, const char *path, struct db_stats *d, char *errbuf)
{
	static const char sql[] =
		"SELECT (SELECT count(*) FROM reservations), (SELECT count(*) FROM pin_jobs),"
		" (SELECT count(*) FROM credentials), (SELECT count(*) FROM reconciliation_logs),"
		" (SELECT count(*) FROM guests)";
	sqlite3_stmt *q;
	enum err e;

	d->found = 1;
	d->path = path;
	d->size = db_file_bytes(path);
	if ((e = db_prepare(db, sql, &q, errbuf)) != ERR_OK)
		return e;
	if (sqlite3_step(q) == SQLITE_ROW) {
		d->reservations = (long)sqlite3_column_int64(q, 0);
		d->jobs = (long)sqlite3_column_int64(q, 1);
		d->credentials = (long)sqlite3_column_int64(q, 2);
		d->runs = (long)sqlite3_column_int64(q, 3);
		d->guests = (long)sqlite3_column_int64(q, 4);
	} else {
		e = db_error(db, "cannot count the rows", errbuf);
	}
	sqlite3_finalize(q);
	return e;
}
