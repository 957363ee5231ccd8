/*
 * timeline_store.h - the rows `stays-reconcile timeline` is drawn from,
 * read from the database in one read transaction (one snapshot: the
 * reservations, jobs, credentials and health lists agree with each other
 * even while stays-reconcile or pin-runner write).  Read-only; never a PIN
 * (the credentials' pin column is not read).
 */
#ifndef STAYS_TIMELINE_STORE_H
#define STAYS_TIMELINE_STORE_H

#include <sqlite3.h>
#include <time.h>

#include "config.h"
#include "err.h"
#include "timeline.h"

/* What timeline_load() read; every array owned. */
struct timeline_rows {
	struct resv *resv;
	size_t nresv, aresv;
	struct lock_map *locks;
	size_t nlocks;
	struct tl_job *jobs;
	size_t njobs, ajobs;
	struct tl_cred *creds;
	size_t ncreds, acreds;
	struct tl_listing_name *names;
	size_t nnames, anames;
	struct health health;
};

/*
 * Read what the range [from, until) needs: the active reservations whose
 * dates (listing-local, widened by the PIN window margins and a day for
 * the zones) touch it, every reservation with a credential that is not
 * revoked, their jobs and credentials (all states), the lock mapping, the
 * listing names, and store_health() at now.  db may be NULL or empty (no
 * database yet): rows is then empty.  Release with timeline_rows_release()
 * (also after an error).
 */
enum err timeline_load(sqlite3 *db, const struct config *cfg, time_t now, time_t from,
		       time_t until, struct timeline_rows *rows, char *errbuf);
void timeline_rows_release(struct timeline_rows *rows);

/* The rows as timeline_build()'s input (borrowing rows and pol). */
void timeline_rows_input(const struct timeline_rows *rows, const struct plan_policy *pol,
			 struct timeline_input *in);

#endif
