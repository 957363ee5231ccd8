/*
 * store.h - the SQL of stays-reconcile: load what planning needs, apply a
 * plan, write the run log, and the queries behind status, jobs and locks.
 *
 * All statements are prepared with bound parameters.  Functions that write
 * expect the caller to hold a transaction where the contract says so.
 */
#ifndef STAYS_STORE_H
#define STAYS_STORE_H

#include <sqlite3.h>
#include <time.h>

#include "config.h"
#include "err.h"
#include "model.h"
#include "plan.h"

/* The stored state a plan is computed from.  Arrays are owned. */
struct state {
	struct resv *stored;    /* sorted by id */
	size_t nstored, astored;
	struct lock_map *locks;
	size_t nlocks, alocks;
	struct job *jobs;       /* sorted by id */
	size_t njobs, ajobs;
	struct cred *creds;     /* state creating or active */
	size_t ncreds, acreds;
};

/*
 * Load the reservations that can matter to this run (check-out on or after
 * window_from, or with live jobs or credentials, or among the fetched ids),
 * their jobs, all live jobs, live credentials and the lock mapping.
 * db may be NULL (no database yet): st is then empty.
 */
enum err store_load(sqlite3 *db, const char *window_from, const struct resv *fetched,
		    size_t nfetched, struct state *st, char *errbuf);

/*
 * What plan_suspects() reads of store_load()'s state, for R6 before the
 * run's transaction: the same related reservations (check-out on or after
 * window_from, or with live jobs or credentials), sorted by id, and
 * nothing else (no jobs, credentials or locks; no fetched reservations
 * stored long ago, which are fetched and so never suspects).  Loading the
 * jobs twice per run was a third of the CPU of a run with nothing
 * changed.  db may be NULL: st is then empty.
 */
enum err store_load_stored(sqlite3 *db, const char *window_from, struct state *st,
			   char *errbuf);
void state_release(struct state *st);

/* Write every action of p.  The caller holds the run's transaction. */
enum err store_apply(sqlite3 *db, const struct plan *p, time_t now, char *errbuf);

/* A reconciliation_logs row. */
struct log_row {
	char id[37];
	time_t started_at;
	time_t completed_at;    /* 0 while pending */
	long duration_ms;       /* -1 while pending */
	char status[8];         /* pending|success|failed */
	struct plan_stats stats;
	char message[ERRBUF_SIZE];
	int has_message;
};

/*
 * R9, at the start of a run, in its own transaction: mark rows left pending
 * by a killed run as failed ("interrupted") and insert this run's pending
 * row.  Returns the number of interrupted rows in *interrupted.
 */
enum err store_log_begin(sqlite3 *db, const char *id, time_t now, int *interrupted,
			 char *errbuf);

/* Complete the run's row (inside the run's transaction, or alone). */
enum err store_log_end(sqlite3 *db, const struct log_row *row, char *errbuf);

/* The most recent row (*found = 0 when there is none). */
enum err store_last_log(sqlite3 *db, struct log_row *row, int *found, char *errbuf);

/* pin_jobs counters for status: pending, failed, earliest pending due. */
enum err store_job_counts(sqlite3 *db, long *pending, long *failed, time_t *next_due,
			  char *errbuf);

/*
 * The mapping.  add: insert, or update the name, PIN length and zone of a
 * lock already mapped to that listing (an empty field keeps the stored
 * value); ERR_DATA if the device belongs to another listing.  Adding a lock
 * re-arms its jobs that failed for good (the operator fixed its settings);
 * *rearmed (may be NULL) receives how many.
 */
enum err store_lock_add(sqlite3 *db, const struct lock_map *l, time_t now, int *rearmed,
			char *errbuf);
enum err store_lock_rm(sqlite3 *db, const char *listing, const char *device, char *errbuf);
enum err store_lock_list(sqlite3 *db, struct lock_map **out, size_t *n, char *errbuf);

/* *known = 1 when a live credential (not revoked) of device has Tuya
 * password id, else 0: `check` counts the passwords on a lock that the
 * database does not know. */
enum err store_password_known(sqlite3 *db, const char *device, long long id, int *known,
			      char *errbuf);

/* A pin_jobs row for `jobs` output. */
struct job_row {
	struct job j;
	char code[CODE_MAX + 1];        /* "" when the reservation is unknown */
	char listing[ID_MAX + 1];
	long attempts;
	time_t next_attempt_at;         /* 0 when NULL */
	char last_error[256];           /* "" when NULL */
	int has_last_error;
};

/* Jobs soonest first: pending and failed, or all with all != 0. */
enum err store_jobs(sqlite3 *db, int all, struct job_row **out, size_t *n, char *errbuf);

/* pin-runner's last run (pin_runner_log), for status. */
struct pin_run_row {
	time_t started_at, completed_at;
	char status[8];                 /* success|failed */
	long due, done, retried, failed;
	char message[ERRBUF_SIZE];
	int has_message;
};
enum err store_pin_run(sqlite3 *db, struct pin_run_row *row, int *found, char *errbuf);

/*
 * What needs a person (SPEC §6 health), each list soonest first.  A
 * problem is reported once it is certain, not while pin-runner is about to
 * act: HEALTH_GRACE seconds after the moment it should have acted.
 */
#define HEALTH_GRACE 600                    /* pin-runner runs every minute */
#define HEALTH_GRACE_STR "600"
#define HEALTH_UNCONFIRMED_AHEAD 86400      /* P3a: windows starting within 24 h */
#define HEALTH_UNMAPPED_AHEAD (14 * 86400L) /* bookings checking in within 14 days */

struct health_item {
	char resv[ID_MAX + 1];
	char code[CODE_MAX + 1];        /* "" when the reservation is unknown */
	char listing[ID_MAX + 1];       /* "" when the reservation is unknown */
	char device[ID_MAX + 1];        /* "" for an unmapped booking */
	char state[12];                 /* credential state, or job status */
	char action[9];                 /* overdue jobs: generate|update|revoke */
	time_t from, until;             /* credentials: the window; bookings: the stay;
	                                   jobs: due time in from */
	long attempts;                  /* overdue jobs */
	char last_error[256];           /* overdue jobs, "" when none */
};

struct health_list {
	struct health_item *v;          /* owned */
	size_t n, alloc;
};

struct health {
	struct health_list unconfirmed; /* P3a: not confirmed on the lock, window within 24 h */
	struct health_list unrevoked;   /* P3a: past the revoke time, not confirmed gone */
	struct health_list overdue;     /* due and not run, or failed while still needed */
	struct health_list unmapped;    /* PIN-type bookings of a listing with no lock */
};

/* Active bookings of a PIN type on listings with no lock, not over at
 * now, checking in within ahead seconds (0: any time), soonest first. */
enum err store_unmapped(sqlite3 *db, const struct config *cfg, time_t now, long ahead,
			struct health_list *l, char *errbuf);

/* Once per day: *first = 1 the first time resv_id is recorded for day
 * (YYYY-MM-DD), 0 after.  store_unmapped_forget() drops the other days. */
enum err store_unmapped_warned(sqlite3 *db, const char *resv_id, const char *day, int *first,
			       char *errbuf);
enum err store_unmapped_forget(sqlite3 *db, const char *day, char *errbuf);

/* The database's size and rows (status). */
struct db_stats {
	int found;              /* the database exists */
	const char *path;       /* borrowed */
	long long size;         /* bytes: the file and its -wal */
	long reservations, jobs, credentials, runs, guests;
};

/* d: the rows of db, and the size of the file at path and its -wal. */
enum err store_db_stats(sqlite3 *db, const char *path, struct db_stats *d, char *errbuf);

/*
 * One row of a SELECT whose first columns are, in this order, id, code,
 * listing_id, checkin_date, checkin_time, checkout_date, checkout_time,
 * type, guests, status (a reservation), or id, action, reservation_id,
 * device_id, due_at, valid_from, valid_until, status (a job), into *r or
 * *j.  ERR_DB when a text is too long for its field (a damaged database).
 */
enum err store_read_resv(sqlite3_stmt *st, struct resv *r, char *errbuf);
enum err store_read_job(sqlite3_stmt *st, struct job *j, char *errbuf);

/* The 8 stats of a reconciliation_logs row (fetched, created, updated,
 * unchanged, canceled, removed, orphaned, errors), from column col on. */
void store_read_stats(sqlite3_stmt *st, int col, struct plan_stats *s);

/* What store_retention() deleted. */
struct retention {
	long logs;              /* reconciliation_logs rows */
	long jobs;              /* done and canceled pin_jobs */
	long credentials;       /* revoked credentials */
};

/*
 * [database] keep_days: delete the reconciliation log rows that started,
 * the done and canceled jobs last changed, and the credentials revoked
 * (their PINs are already erased) before cutoff.  A job is kept while its
 * reservation checks out on or after `from` (YYYY-MM-DD, the first day a
 * run loads): planning still sees it, and a deleted done job would be
 * planned again.  Runs in the caller's transaction.
 */
enum err store_retention(sqlite3 *db, time_t cutoff, const char *from, struct retention *r,
			 char *errbuf);

/* Fill h at instant now (cfg: the windows and zone).  Release with
 * health_release(). */
enum err store_health(sqlite3 *db, const struct config *cfg, time_t now, struct health *h,
		      char *errbuf);
void health_release(struct health *h);

/* 1 if any list of h is not empty. */
int health_any(const struct health *h);

#endif
