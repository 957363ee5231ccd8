/*
 * guests.h - the guest of each reservation that needs a PIN, and the
 * names of listings, as stays-reconcile looked them up in Stays; and what
 * the on_pin hook is told about a stay (tables guests, listing_names).
 *
 * Who writes what: stays-reconcile looks guests up (run.c, before its
 * transaction, so that a generate job pin-runner can see already has its
 * guest) and forgets them once the stay is over or the booking is gone
 * (inside its transaction).  pin-runner and `pins --resend` only read,
 * through guests_notice().  A guest not looked up, or whose look-up
 * failed, is simply unknown: the hook gets nulls.
 */
#ifndef STAYS_GUESTS_H
#define STAYS_GUESTS_H

#include <sqlite3.h>
#include <time.h>

#include "err.h"
#include "model.h"
#include "plan.h"
#include "stays.h"

/* At most this many guests are looked up per run (two requests each);
 * the rest wait for the next run, earliest check-in first. */
#define GUEST_LOOKUPS_PER_RUN 20
/* A look-up that failed this many times is warned about (once). */
#define GUEST_WARN_ATTEMPTS 3
/* Listing names older than this are fetched again with the next guest. */
#define LISTING_NAME_MAX_AGE (7 * 86400L)

/*
 * Whether reservation resv, on listing, needs its guest looked up: *need
 * = 1 when a lock is mapped to the listing and no look-up of the guest
 * has succeeded yet.  *attempts: the failed ones so far.  *cache keeps
 * the statement from one call to the next on the same db (a run asks for
 * thousands of stays): NULL before the first call, the caller's to
 * sqlite3_finalize() after the last; between calls it holds nothing.
 */
enum err guests_need(sqlite3 *db, sqlite3_stmt **cache, const char *resv, const char *listing,
		     int *need, long *attempts, char *errbuf);

/*
 * Record a look-up of resv's guest at now.  done: it succeeded (what g
 * holds is all Stays has; g->problem, if any, is kept as last_error);
 * otherwise error says why it failed and it is tried again by the next
 * run (g may hold a part: kept, never overwritten by less).
 */
enum err guests_save(sqlite3 *db, const char *resv, const struct stays_guest *g, int done,
		     const char *error, time_t now, char *errbuf);

/*
 * Forget the guests of reservations that are no longer active or whose
 * check-out date is before `before` (YYYY-MM-DD), and of reservations
 * never stored that were looked up more than two days before now.  *n:
 * rows deleted.
 */
enum err guests_forget(sqlite3 *db, const char *before, time_t now, long *n, char *errbuf);

/* Whether listing's name is missing or older than LISTING_NAME_MAX_AGE. */
enum err guests_listing_stale(sqlite3 *db, const char *listing, time_t now, int *stale,
			      char *errbuf);

/* Record a listing's short id and name (l->name "" = none) at now. */
enum err guests_listing_save(sqlite3 *db, const struct stays_listing *l, time_t now,
			     char *errbuf);

/* What the on_pin hook is told about a stay, besides the credential. */
struct hook_notice {
	char resv[ID_MAX + 1];
	char code[CODE_MAX + 1];
	char listing[ID_MAX + 1];
	char listing_name[STAYS_TEXT_MAX];      /* "": not known */
	char device[ID_MAX + 1];
	char lock_name[65];                     /* "": none */
	char tz[TZ_MAX + 1];                    /* the lock's zone, else [pins] */
	int guests;
	time_t checkin, checkout;               /* 0: cannot be computed */
	struct stays_guest guest;               /* "": not known */
};

/*
 * Load the notice of reservation resv on lock device.  pol gives the
 * default zone and check-in/out times.  *found = 0 when the reservation
 * is not stored (nothing filled).
 */
enum err guests_notice(sqlite3 *db, const struct plan_policy *pol, const char *resv,
		       const char *device, struct hook_notice *n, int *found, char *errbuf);

#endif
