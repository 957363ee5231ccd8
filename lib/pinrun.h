/*
 * pinrun.h - execute one due PIN job against the lock (SPEC §5, P2-P5).
 *
 * Crash safety (P3), the order that makes every step restartable:
 *   1. record the intent (credential 'creating': PIN, name, window) - commit;
 *   2. get a ticket and create the password on the lock;
 *   3. record the password id (credential 'active') and the job done - commit;
 *   4. run the on_pin hook.
 * A run that dies after 2 and before 3 leaves a 'creating' credential; the
 * next attempt lists the lock's passwords and adopts the one with our name
 * instead of creating a second: at most one live password per
 * (reservation, lock), ever.  Revokes and window changes are idempotent
 * calls, recorded after they succeed.
 */
#ifndef STAYS_PINRUN_H
#define STAYS_PINRUN_H

#include <sqlite3.h>
#include <time.h>

#include "config.h"
#include "err.h"
#include "pinstore.h"
#include "tuya.h"

enum pinrun_result {
	PR_DONE,        /* the job is done */
	PR_RETRY,       /* failed this time; retried later (P5) */
	PR_FAILED,      /* failed for good (max_attempts, or a permanent error) */
	PR_SKIPPED,     /* the job changed under us (reconcile got there first) */
	PR_STOP_AUTH,   /* credentials refused: stop the run, exit 77 */
	PR_HOLD_LOCK,   /* access to this lock refused (1106): the job stays
	                   pending, other locks go on, exit 77 */
	PR_STOP_NET     /* Tuya unreachable: the job is retried; stop the run */
};

struct pinrun {
	sqlite3 *db;
	const struct config *cfg;
	struct tuya_client *tuya;
	time_t now;                     /* the run's time (--now) */
	/* Crash points for the tests (may be NULL): step n has happened. */
	void (*step)(void *ctx, const char *what);
	/* -v lines (may be NULL); never given a PIN or a secret. */
	void (*note)(void *ctx, const char *msg);
	/* Problems that do not fail the job, e.g. a failing hook (may be NULL). */
	void (*warn)(void *ctx, const char *msg);
	void *ctx;
	int protocol_errors;            /* answers that broke the protocol */
};

/*
 * Execute job dj (already claimed: status running).  Records every outcome
 * in the database before returning; the message of a failure is in errbuf
 * (it names the job and the cause, never the PIN).
 */
enum pinrun_result pinrun_job(struct pinrun *pr, const struct due_job *dj, char *errbuf);

/* P5: the retry delay after the n-th failed attempt: 1 min doubling, 1 h cap. */
long pinrun_backoff(long attempts);

#endif
