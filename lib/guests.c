/*
 * guests.c - SQL for the guests and listing_names tables (see guests.h).
 */
#include <stdio.h>
#include <string.h>

#include "db.h"
#include "guests.h"
#include "banned.h"

/* Bind s as text, or NULL when it is "". */
static int bind_opt(sqlite3_stmt *st, int i, const char *s)
{
	return s && *s ? sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC) : sqlite3_bind_null(st, i);
}

enum err guests_need(sqlite3 *db, sqlite3_stmt **cache, const char *resv, const char *listing,
		     int *need, long *attempts, char *errbuf)
{
	sqlite3_stmt *st = *cache;
	enum err e = ERR_OK;
	int rc;

	*need = 1;
	*attempts = 0;
	if (!st && (e = db_prepare(db, "SELECT EXISTS (SELECT 1 FROM locks WHERE listing_id = ?2),"
				       "  (SELECT looked_up_at IS NULL FROM guests WHERE reservation_id = ?1),"
				       "  (SELECT attempts FROM guests WHERE reservation_id = ?1)",
				   &st, errbuf)) != ERR_OK)
		return e;
	*cache = st;
	sqlite3_bind_text(st, 1, resv, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, listing, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*need = sqlite3_column_int(st, 0) &&
			(sqlite3_column_type(st, 1) == SQLITE_NULL || sqlite3_column_int(st, 1));
		*attempts = (long)sqlite3_column_int64(st, 2);
	} else if (rc != SQLITE_DONE) {
		e = db_error(db, "reading a guest", errbuf);
	}
	/* Done with it until the next call: no read held, resv not kept. */
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return e;
}

enum err guests_save(sqlite3 *db, const char *resv, const struct stays_guest *g, int done,
		     const char *error, time_t now, char *errbuf)
{
	static const char sql[] =
		"INSERT INTO guests (reservation_id, name, phone, email, language, looked_up_at,"
		"  attempts, last_error, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
		" ON CONFLICT (reservation_id) DO UPDATE SET"
		"  name = COALESCE(excluded.name, name), phone = COALESCE(excluded.phone, phone),"
		"  email = COALESCE(excluded.email, email),"
		"  language = COALESCE(excluded.language, language),"
		"  looked_up_at = excluded.looked_up_at, attempts = attempts + excluded.attempts,"
		"  last_error = excluded.last_error, updated_at = excluded.updated_at";
	sqlite3_stmt *st;
	enum err e;

	if ((e = db_prepare(db, sql, &st, errbuf)) != ERR_OK)
		return e;
	sqlite3_bind_text(st, 1, resv, -1, SQLITE_STATIC);
	bind_opt(st, 2, g->name);
	bind_opt(st, 3, g->phone);
	bind_opt(st, 4, g->email);
	bind_opt(st, 5, g->language);
	if (done)
		sqlite3_bind_int64(st, 6, (sqlite3_int64)now);
	else
		sqlite3_bind_null(st, 6);
	sqlite3_bind_int(st, 7, done ? 0 : 1);
	bind_opt(st, 8, done ? g->problem : error);
	sqlite3_bind_int64(st, 9, (sqlite3_int64)now);
	return db_step_done(db, st, "saving a guest", errbuf);
}

enum err guests_forget(sqlite3 *db, const char *before, time_t now, long *n, char *errbuf)
{
	static const char sql[] =
		"DELETE FROM guests WHERE reservation_id IN"
		"  (SELECT id FROM reservations WHERE status != 'active' OR checkout_date < ?1)"
		" OR (updated_at < ?2 AND reservation_id NOT IN (SELECT id FROM reservations))";
	sqlite3_stmt *st;
	enum err e;

	*n = 0;
	if ((e = db_prepare(db, sql, &st, errbuf)) != ERR_OK)
		return e;
	sqlite3_bind_text(st, 1, before, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)(now - 2 * 86400L));
	if ((e = db_step_done(db, st, "forgetting past guests", errbuf)) == ERR_OK)
		*n = sqlite3_changes(db);
	return e;
}

enum err guests_listing_stale(sqlite3 *db, const char *listing, time_t now, int *stale,
			      char *errbuf)
{
	sqlite3_stmt *st;
	enum err e;
	int rc;

	*stale = 1;
	if ((e = db_prepare(db, "SELECT fetched_at FROM listing_names WHERE listing_id = ?1",
			    &st, errbuf)) != ERR_OK)
		return e;
	sqlite3_bind_text(st, 1, listing, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*stale = sqlite3_column_int64(st, 0) + LISTING_NAME_MAX_AGE <= (sqlite3_int64)now;
	else if (rc != SQLITE_DONE)
		e = db_error(db, "reading a listing name", errbuf);
	sqlite3_finalize(st);
	return e;
}

enum err guests_listing_save(sqlite3 *db, const struct stays_listing *l, time_t now,
			     char *errbuf)
{
	sqlite3_stmt *st;
	enum err e;

	if ((e = db_prepare(db, "INSERT OR REPLACE INTO listing_names (listing_id, code, name,"
				" fetched_at) VALUES (?1, ?2, ?3, ?4)", &st, errbuf)) != ERR_OK)
		return e;
	sqlite3_bind_text(st, 1, l->id, -1, SQLITE_STATIC);
	bind_opt(st, 2, l->code);
	bind_opt(st, 3, l->name);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)now);
	return db_step_done(db, st, "saving a listing name", errbuf);
}

/* Columns: the reservation, its lock on device, guest and listing name. */
static const char notice_sql[] =
	"SELECT r.code, r.listing_id, r.checkin_date, r.checkin_time, r.checkout_date,"
	"  r.checkout_time, r.guests, l.name, l.timezone, n.name, g.name, g.phone, g.email,"
	"  g.language"
	" FROM reservations r"
	" LEFT JOIN locks l ON l.device_id = ?2"
	" LEFT JOIN listing_names n ON n.listing_id = r.listing_id"
	" LEFT JOIN guests g ON g.reservation_id = r.id"
	" WHERE r.id = ?1";

#define COPY(dst, col, what)                                                     \
	do {                                                                     \
		if (xstrlcpy((dst), db_text(st, (col)), sizeof(dst)) != 0)       \
			return ERRF(errbuf, ERR_DB, "database: %s too long", what); \
	} while (0)

/* One row of notice_sql into n and the stay r. */
static enum err read_notice(sqlite3_stmt *st, struct hook_notice *n, struct resv *r,
			    char *errbuf)
{
	COPY(n->code, 0, "reservation code");
	COPY(n->listing, 1, "listing id");
	COPY(r->in_date, 2, "check-in date");
	COPY(r->in_time, 3, "check-in time");
	COPY(r->out_date, 4, "check-out date");
	COPY(r->out_time, 5, "check-out time");
	n->guests = sqlite3_column_int(st, 6);
	COPY(n->lock_name, 7, "lock name");
	COPY(n->tz, 8, "lock time zone");
	COPY(n->listing_name, 9, "listing name");
	COPY(n->guest.name, 10, "guest name");
	COPY(n->guest.phone, 11, "guest phone");
	COPY(n->guest.email, 12, "guest e-mail");
	COPY(n->guest.language, 13, "guest language");
	return ERR_OK;
}

enum err guests_notice(sqlite3 *db, const struct plan_policy *pol, const char *resv,
		       const char *device, struct hook_notice *n, int *found, char *errbuf)
{
	struct resv r;
	sqlite3_stmt *st;
	enum err e;
	int rc;

	memset(n, 0, sizeof(*n));
	memset(&r, 0, sizeof(r));
	*found = 0;
	if ((e = db_prepare(db, notice_sql, &st, errbuf)) != ERR_OK)
		return e;
	sqlite3_bind_text(st, 1, resv, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, device, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*found = 1;
		e = read_notice(st, n, &r, errbuf);
	} else if (rc != SQLITE_DONE) {
		e = db_error(db, "reading a stay for the on_pin hook", errbuf);
	}
	sqlite3_finalize(st);
	if (e != ERR_OK || !*found)
		return e;
	xstrlcpy(n->resv, resv, sizeof(n->resv));
	xstrlcpy(n->device, device, sizeof(n->device));
	if (!n->tz[0])
		xstrlcpy(n->tz, pol->timezone, sizeof(n->tz));
	if (plan_stay_instants(pol, &r, n->tz, &n->checkin, &n->checkout) != ERR_OK)
		n->checkin = n->checkout = 0;
	return ERR_OK;
}
