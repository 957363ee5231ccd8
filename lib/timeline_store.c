/*
 * timeline_store.c - the SQL behind `stays-reconcile timeline`
 * (timeline_store.h).
 *
 * Everything is read inside one deferred BEGIN ... COMMIT: SQLite keeps
 * one snapshot of a WAL database for the whole read transaction, so a
 * run of stays-reconcile or pin-runner that commits meanwhile is seen
 * entirely or not at all.  Nothing is written (the database may be open
 * read-only); the credentials' PIN column is never selected.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "store.h"
#include "timeline_store.h"
#include "banned.h"

#define COPY(dst, st, col, what)                                              \
	do {                                                                  \
		if (xstrlcpy((dst), db_text((st), (col)), sizeof(dst)) != 0) { \
			e = ERRF(errbuf, ERR_DB, "database: %s too long", what); \
			goto out;                                             \
		}                                                             \
	} while (0)

/*
 * The reservations the range needs (?1, ?2: the first and last
 * listing-local dates that can matter), as a condition on r.
 */
#define RESV_WHERE                                                               \
	"((r.status = 'active' AND r.checkout_date >= ?1 AND r.checkin_date <= ?2) " \
	" OR EXISTS (SELECT 1 FROM credentials c WHERE c.reservation_id = r.id "      \
	"            AND c.state != 'revoked'))"

static const char resv_sql[] =
	"SELECT r.id, r.code, r.listing_id, r.checkin_date, coalesce(r.checkin_time, ''), "
	"r.checkout_date, coalesce(r.checkout_time, ''), r.type, r.guests, r.status "
	"FROM reservations r WHERE " RESV_WHERE " ORDER BY r.id";

static const char jobs_sql[] =
	"SELECT j.id, j.action, j.reservation_id, j.device_id, j.due_at, "
	"coalesce(j.valid_from, 0), coalesce(j.valid_until, 0), j.status, j.attempts, "
	"coalesce(j.last_error, '') FROM pin_jobs j WHERE j.reservation_id IN "
	"(SELECT r.id FROM reservations r WHERE " RESV_WHERE ") ORDER BY j.id";

static const char creds_sql[] =
	"SELECT c.id, c.reservation_id, c.device_id, c.valid_from, c.valid_until, c.state, "
	"c.password_id IS NOT NULL FROM credentials c WHERE c.reservation_id IN "
	"(SELECT r.id FROM reservations r WHERE " RESV_WHERE ") ORDER BY c.id";

static const char names_sql[] =
	"SELECT listing_id, name FROM listing_names WHERE name IS NOT NULL AND name != '' "
	"ORDER BY listing_id";

static enum err read_resv(sqlite3_stmt *st, struct timeline_rows *rows, char *errbuf)
{
	enum err e;

	rows->resv = xgrow(rows->resv, sizeof(*rows->resv), rows->nresv + 1, &rows->aresv);
	if ((e = store_read_resv(st, &rows->resv[rows->nresv], errbuf)) == ERR_OK)
		rows->nresv++;
	return e;
}

static enum err read_job(sqlite3_stmt *st, struct timeline_rows *rows, char *errbuf)
{
	struct tl_job *j;
	enum err e;

	rows->jobs = xgrow(rows->jobs, sizeof(*rows->jobs), rows->njobs + 1, &rows->ajobs);
	j = &rows->jobs[rows->njobs];
	memset(j, 0, sizeof(*j));
	if ((e = store_read_job(st, &j->j, errbuf)) != ERR_OK)
		return e;
	j->attempts = (long)sqlite3_column_int64(st, 8);
	xstrlcpy(j->last_error, db_text(st, 9), sizeof(j->last_error));
	rows->njobs++;
	return ERR_OK;
}

static enum err read_cred(sqlite3_stmt *st, struct timeline_rows *rows, char *errbuf)
{
	struct tl_cred *c;
	enum err e = ERR_OK;

	rows->creds = xgrow(rows->creds, sizeof(*rows->creds), rows->ncreds + 1, &rows->acreds);
	c = &rows->creds[rows->ncreds];
	memset(c, 0, sizeof(*c));
	c->id = (long long)sqlite3_column_int64(st, 0);
	COPY(c->c.resv, st, 1, "credential reservation");
	COPY(c->c.device, st, 2, "credential device");
	c->c.valid_from = (time_t)sqlite3_column_int64(st, 3);
	c->c.valid_until = (time_t)sqlite3_column_int64(st, 4);
	COPY(c->c.state, st, 5, "credential state");
	c->c.has_password = sqlite3_column_int(st, 6);
	rows->ncreds++;
out:
	return e;
}

/* Copy at most size - 1 bytes of s, cut before a UTF-8 character that
 * does not fit (a listing's name is for display: shortened, never
 * refused). */
static void copy_utf8(char *dst, const char *s, size_t size)
{
	size_t n = strlen(s);

	if (n >= size) {
		n = size - 1;
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	}
	memcpy(dst, s, n);
	dst[n] = '\0';
}

static enum err read_name(sqlite3_stmt *st, struct timeline_rows *rows, char *errbuf)
{
	struct tl_listing_name *n;
	enum err e = ERR_OK;

	rows->names = xgrow(rows->names, sizeof(*rows->names), rows->nnames + 1, &rows->anames);
	n = &rows->names[rows->nnames];
	memset(n, 0, sizeof(*n));
	COPY(n->listing, st, 0, "listing id");
	copy_utf8(n->name, db_text(st, 1), sizeof(n->name));
	rows->nnames++;
out:
	return e;
}

typedef enum err read_fn(sqlite3_stmt *st, struct timeline_rows *rows, char *errbuf);

/* Run sql with ?1 = first, ?2 = last and read each row with fn. */
static enum err select_rows(sqlite3 *db, const char *sql, const char *first,
			    const char *last, read_fn *fn, const char *what,
			    struct timeline_rows *rows, char *errbuf)
{
	sqlite3_stmt *st = NULL;
	enum err e;
	int rc;

	if ((e = db_prepare(db, sql, &st, errbuf)) != ERR_OK)
		return e;
	if (sqlite3_bind_parameter_count(st) >= 2) {
		sqlite3_bind_text(st, 1, first, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, last, -1, SQLITE_STATIC);
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if ((e = fn(st, rows, errbuf)) != ERR_OK)
			break;
	if (e == ERR_OK && rc != SQLITE_DONE)
		e = db_error(db, what, errbuf);
	sqlite3_finalize(st);
	return e;
}

enum err timeline_load(sqlite3 *db, const struct config *cfg, time_t now, time_t from,
		       time_t until, struct timeline_rows *rows, char *errbuf)
{
	const char *tz = cfg->pins.timezone;
	char first[11], last[11];
	enum err e;

	memset(rows, 0, sizeof(*rows));
	if (!db || db_version(db) <= 0)
		return ERR_OK;
	/* Listing-local dates: a lock's zone may be a day away from the
	 * default one, and the PIN window reaches past the stay. */
	if (plan_local_date(tz, from, -2 - cfg->pins.valid_after / 86400, first) != ERR_OK ||
	    plan_local_date(tz, until, 1 + cfg->pins.valid_before / 86400, last) != ERR_OK)
		return ERRF(errbuf, ERR_CONFIG, "cannot use time zone '%s'", tz);
	if ((e = db_exec(db, "BEGIN", errbuf)) != ERR_OK)
		return e;
	if ((e = select_rows(db, resv_sql, first, last, read_resv, "cannot read reservations",
			     rows, errbuf)) == ERR_OK &&
	    (e = select_rows(db, jobs_sql, first, last, read_job, "cannot read jobs",
			     rows, errbuf)) == ERR_OK &&
	    (e = select_rows(db, creds_sql, first, last, read_cred, "cannot read credentials",
			     rows, errbuf)) == ERR_OK &&
	    (e = select_rows(db, names_sql, first, last, read_name, "cannot read listing names",
			     rows, errbuf)) == ERR_OK &&
	    (e = store_lock_list(db, &rows->locks, &rows->nlocks, errbuf)) == ERR_OK)
		e = store_health(db, cfg, now, &rows->health, errbuf);
	if (e == ERR_OK)
		e = db_commit(db, errbuf);
	else
		db_rollback(db);
	return e;
}

void timeline_rows_release(struct timeline_rows *rows)
{
	free(rows->resv);
	free(rows->locks);
	free(rows->jobs);
	free(rows->creds);
	free(rows->names);
	health_release(&rows->health);
	memset(rows, 0, sizeof(*rows));
}

void timeline_rows_input(const struct timeline_rows *rows, const struct plan_policy *pol,
			 struct timeline_input *in)
{
	memset(in, 0, sizeof(*in));
	in->policy = pol;
	in->resv = rows->resv;
	in->nresv = rows->nresv;
	in->locks = rows->locks;
	in->nlocks = rows->nlocks;
	in->jobs = rows->jobs;
	in->njobs = rows->njobs;
	in->creds = rows->creds;
	in->ncreds = rows->ncreds;
	in->names = rows->names;
	in->nnames = rows->nnames;
	in->health = &rows->health;
}
