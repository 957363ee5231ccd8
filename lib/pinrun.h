/*
 * pinrun.h - execute one claimed PIN job against the lock (SPEC §5, P1-P5).
 *
 * A generate job, in the order that makes every step restartable (P3) and
 * safe against stays-reconcile changing the job at any moment (P2):
 *   1. choose the PIN and a name unique to the credential ("RV02J-k3f9");
 *   2. record the intent (credential 'creating'), only while the job is
 *      still running - committed durably;
 *   3. get a ticket and create the password (or, after a crash, adopt the
 *      one with our name: never one whose id another credential holds);
 *   4. record the password id (credential 'unconfirmed'), reading the job
 *      in the same transaction: if it was canceled meanwhile, delete the
 *      password at once and stop (no hook);
 *   5. read it back (P3a): 'active' once the lock reports it delivered;
 *      until then the job is retried with the backoff;
 *   6. run on_pin and record that it succeeded, the job done with it; a
 *      failing hook is retried until it succeeds or the stay ends.
 * A revoke deletes every credential of (reservation, lock) that is not
 * revoked - a 'creating' one by looking for its name - and is done when the
 * lock confirms each gone ('revoking' until then).  An update moves the
 * window of the password and reads it back.
 */
#ifndef STAYS_PINRUN_H
#define STAYS_PINRUN_H

#include <sqlite3.h>
#include <time.h>

#include "config.h"
#include "err.h"
#include "guests.h"
#include "pinstore.h"
#include "tuya.h"

enum pinrun_result {
	PR_DONE,        /* the job is done */
	PR_RETRY,       /* failed this time; retried later (P5) */
	PR_FAILED,      /* failed for good (max_attempts, or a permanent error) */
	PR_SKIPPED,     /* nothing to do now: the job was canceled (by
	                   stays-reconcile, or because the stay is over, or
	                   the lock already has the window) */
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
 * Execute job dj, as pinstore_claim() returned it (status running).
 * Records every outcome in the database before returning; the message of
 * a failure is in errbuf (it names the job and the cause, never the PIN).
 */
enum pinrun_result pinrun_job(struct pinrun *pr, const struct due_job *dj, char *errbuf);

/*
 * The on_pin hook's input, one line of JSON (pin-runner(8) documents it):
 * {"reservationId", "reservationCode", "listingId", "deviceId",
 * "lockName", "pin", "validFrom", "validUntil", "validFromLocal",
 * "validUntilLocal", "checkIn", "checkOut", "checkInLocal",
 * "checkOutLocal", "timezone", "guests", "guest": {"name", "phone",
 * "email", "language"}, "listing": {"id", "name"}, "lock": {"id",
 * "name"}}, every member present, null when not known; times UTC with Z,
 * *Local ones on the lock's wall clock.  pin-runner and `stays-reconcile
 * pins --resend` both send exactly this.  Returns an owned string (wipe
 * it, then cJSON_free()), or NULL when out of memory.
 */
char *pinrun_hook_input(const struct hook_notice *n, const struct cred_row *cred);

/* 1 if password p, as the cloud lists it, may open the door: neither
 * deleted (phase 0 or 4) nor failed to deliver (phase 5 or 7,
 * delivery_status 3-6).  A phase not known is taken as live (§5.4). */
int pinrun_password_live(const struct tuya_password *p);

/* P5: the retry delay after the n-th failed attempt: 1 min doubling, 1 h cap. */
long pinrun_backoff(long attempts);

#endif
