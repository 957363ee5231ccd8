/*
 * pinstore.h - the SQL of pin-runner: due jobs, the claim, job states,
 * credentials (what is or may be on each lock), the run log and the Tuya
 * token cache.
 *
 * Every function that writes runs its own short BEGIN IMMEDIATE ... COMMIT
 * (or one statement, which SQLite makes a transaction), so pin-runner never
 * holds the write lock across a network call and stays-reconcile can apply
 * its plan between two steps of a job.  That is also why every write to a
 * job says `AND status = 'running'`: stays-reconcile may have canceled the
 * job in between, and its decision wins.
 */
#ifndef STAYS_PINSTORE_H
#define STAYS_PINSTORE_H

#include <sqlite3.h>
#include <stdint.h>
#include <time.h>

#include "err.h"
#include "model.h"
#include "tuya.h"

#define PIN_MAX 12
#define CRED_NAME_MAX 20        /* Tuya's limit on a password name */

/* A job with what executing it needs, as read with it. */
struct due_job {
	struct job j;
	long attempts;
	int have_resv;                  /* the reservation row exists */
	char code[CODE_MAX + 1];
	char listing[ID_MAX + 1];
	char resv_status[9];
	int guests;
	int have_lock;                  /* the device is in the lock mapping */
	char lock_listing[ID_MAX + 1];
	char lock_name[65];
	int pin_length;                 /* 0: the configured default */
};

/*
 * A credentials row.
 *
 * The credential state machine (state).  Only pin-runner writes it, from
 * pinrun_job() through the functions below; stays-reconcile reads it
 * (R7) and answers with revoke jobs, never by writing a credential.
 *
 *            intent          create/adopt, id recorded      lock: phase 2
 *   (none) ---------> creating ---------------------> unconfirmed ----> active
 *                        |                               |  ^   ^          |
 *                        | create made nothing           |  |   +----------+
 *                        v                               |  |  window moved
 *                     revoked <----- gone, failed, ------+  |
 *                        ^           vanished               |
 *                        |  lock: gone               delete |
 *                     revoking <---------------------------(any but revoked)
 *
 *   none -> creating          pinstore_intent (new_intent), only while the
 *                             job is running; durable before the create (P3)
 *   creating -> unconfirmed   pinstore_cred_password: the created or adopted
 *                             password's id (record_password); a revoke
 *                             records the id it found by name
 *                             (revoke_targets) before deleting it
 *   creating -> revoked       pinstore_cred_state: the create answered a
 *                             Tuya code or never went out (create_password);
 *                             a revoke found nothing under the name
 *   unconfirmed -> active     pinstore_cred_state: the lock reports it
 *                             delivered with the recorded window (confirm)
 *   unconfirmed -> unconfirmed  still pending on the lock (confirm, phase)
 *   active -> unconfirmed     pinstore_cred_window: a new window sent
 *                             (move_window), or an adopted password's
 *                             window recorded (record_password)
 *   unconfirmed -> revoked    pinstore_cred_state in confirm: delivery
 *   active -> revoked         failed (phase 5/7, delivery_status 3-6; the
 *                             cloud's copy deleted), or the password
 *                             vanished from the cloud (made again)
 *   unconfirmed -> revoking   delete_now: the job was canceled during the
 *                or revoked   create (P2); revoked once the lock says gone
 *   creating, unconfirmed,    revoke_one (revoke job): deleted and read
 *   active, revoking ->       back, revoked when gone, else revoking
 *   revoking or revoked       (P3a); a failed read after a delete marks a
 *                             credential with a password id revoking
 *   revoked                   final
 *
 * creating, unconfirmed, active and revoking may all open the door; at
 * most one of creating/unconfirmed/active per (reservation, lock).
 */
struct cred_row {
	long long rowid;
	int64_t password_id;            /* 0 while creating */
	char name[65];
	char pin[PIN_MAX + 1];
	time_t valid_from, valid_until;
	char state[12];                 /* creating|unconfirmed|active|revoking|revoked */
	time_t notified_at;             /* 0: on_pin never succeeded */
};

/*
 * Jobs left 'running' by a pin-runner that died go back to 'pending'.
 * (The job state machine, and who moves each transition, is in model.h
 * above struct job.)
 */
enum err pinstore_recover(sqlite3 *db, int *n, char *errbuf);

/*
 * P1: pending jobs with due_at <= now and no retry time after now, oldest
 * first, at most max.  For listing them (--dry-run) and choosing what to
 * claim; never act on these copies: pinstore_claim() reads the job again.
 * *out is owned by the caller (free()).
 */
enum err pinstore_due(sqlite3 *db, time_t now, long max, struct due_job **out,
		      size_t *n, char *errbuf);

/*
 * P1: pending -> running, if job_id is still pending and due at now, in one
 * statement that returns the row as it is now (UPDATE ... RETURNING); the
 * reservation and lock it needs are read in the same transaction.  *out is
 * filled and *claimed = 1, or *claimed = 0 when the job is no longer
 * pending or no longer due (stays-reconcile changed it: skip it).
 */
enum err pinstore_claim(sqlite3 *db, const char *job_id, time_t now, struct due_job *out,
			int *claimed, char *errbuf);

/* running -> pending without counting an attempt (credentials or the
 * lock refused); reason, when not NULL, becomes its last_error so that
 * `jobs` and status say why it waits. */
enum err pinstore_unclaim(sqlite3 *db, const char *job_id, const char *reason,
			  char *errbuf);

/* A pending job held back this run (its lock refused an earlier job):
 * reason becomes its last_error.  Writes nothing when it already is. */
enum err pinstore_held(sqlite3 *db, const char *job_id, const char *reason, char *errbuf);

/* running -> done (attempts + 1). */
enum err pinstore_done(sqlite3 *db, const char *job_id, time_t now, char *errbuf);

/* running -> canceled with a reason in last_error (P1: the stay is over;
 * a stale update, P4a, is marked done instead). */
enum err pinstore_cancel(sqlite3 *db, const char *job_id, time_t now, const char *reason,
			 char *errbuf);

/* 1 in *running if job_id is still running (nobody canceled it). */
enum err pinstore_job_running(sqlite3 *db, const char *job_id, int *running, char *errbuf);

/*
 * A failed attempt (P5): attempts + 1 and last_error; then either pending
 * again with next_attempt_at = next, or, when permanent is set or
 * max_attempts (> 0) is reached, failed (*failed = 1).  max_attempts 0
 * never fails the job (a hook retried until the stay ends).  A job no
 * longer running (stays-reconcile canceled it) is left alone: *failed = -1.
 */
enum err pinstore_attempt_failed(sqlite3 *db, const char *job_id, time_t now,
				 time_t next, const char *error, long max_attempts,
				 int permanent, int *failed, char *errbuf);

/* The wanted credential (creating, unconfirmed or active) of (resv,
 * device); *found = 0 when there is none. */
enum err pinstore_cred(sqlite3 *db, const char *resv, const char *device,
		       struct cred_row *out, int *found, char *errbuf);

/* Every credential of (resv, device) that is not revoked, oldest first
 * (owned array: free()). */
enum err pinstore_creds(sqlite3 *db, const char *resv, const char *device,
			struct cred_row **out, size_t *n, char *errbuf);

/* A credential that is not revoked, with its reservation and its lock
 * (`stays-reconcile pins`). */
struct live_cred {
	struct cred_row c;
	char resv[ID_MAX + 1];
	char device[ID_MAX + 1];
	char code[CODE_MAX + 1];        /* "" when the reservation row is gone */
	char listing[ID_MAX + 1];       /* the reservation's listing, or "" */
	int guests;
	char lock_name[65];             /* "" when none, or the lock is unmapped */
	char tz[TZ_MAX + 1];            /* the lock's timezone; "": [pins] timezone */
};

/*
 * Every credential in state creating, unconfirmed, active or revoking,
 * joined with its reservation and lock, sorted by device, valid_from, id.
 * device and code (may be NULL: any) filter on the device id and the
 * reservation code.  Read-only.  *out is owned: pinstore_live_free(),
 * which wipes the PINs.
 */
enum err pinstore_live(sqlite3 *db, const char *device, const char *code,
		       struct live_cred **out, size_t *n, char *errbuf);
void pinstore_live_free(struct live_cred *v, size_t n);

/* A PIN this reservation has on another lock, not revoked (P2: one PIN for
 * all the locks of a reservation); *found = 0 when none. */
enum err pinstore_resv_pin(sqlite3 *db, const char *resv, const char *device,
			   char pin[PIN_MAX + 1], int *found, char *errbuf);

/* The PINs not revoked on a lock (owned array of owned strings:
 * pinstore_free_pins). */
enum err pinstore_lock_pins(sqlite3 *db, const char *device, char ***pins, size_t *n,
			    char *errbuf);
void pinstore_free_pins(char **pins, size_t n);

/* 1 in *held if a credential other than rowid, not revoked, holds
 * (device, password_id) (P3: never adopt it). */
enum err pinstore_password_held(sqlite3 *db, const char *device, int64_t password_id,
				long long rowid, int *held, char *errbuf);

enum intent_result {
	INTENT_RECORDED,        /* *rowid is the new credential */
	INTENT_JOB_GONE,        /* the job is no longer running: nothing recorded */
	INTENT_NAME_TAKEN       /* a credential on the lock has that name: pick another */
};

/*
 * P2/P3: record the intent (state creating) before the create call, only
 * while job_id is still running, in one transaction committed durably
 * (synchronous = FULL).
 */
enum err pinstore_intent(sqlite3 *db, const char *job_id, const char *resv,
			 const char *device, const char *name, const char *pin,
			 time_t vf, time_t vu, time_t now, enum intent_result *res,
			 long long *rowid, char *errbuf);

/*
 * The cloud gave the credential a password: creating -> unconfirmed with
 * password_id.  *job_running (may be NULL) tells whether job_id (may be
 * NULL) was still running, read in the same transaction: if not,
 * stays-reconcile canceled the job while the create was in flight.
 */
enum err pinstore_cred_password(sqlite3 *db, long long rowid, int64_t password_id,
				const char *job_id, int *job_running, char *errbuf);

/* The window the cloud now has for the credential (state unconfirmed
 * until the lock confirms it). */
enum err pinstore_cred_window(sqlite3 *db, long long rowid, time_t vf, time_t vu,
			      char *errbuf);

/*
 * P3a: what the lock reported.  state is unconfirmed, active (confirmed_at
 * = now), revoking, or revoked (revoked_at = now, the PIN erased: past
 * guests' PINs are not kept); phase is the phase read
 * (-1: none, e.g. the password is gone).
 */
enum err pinstore_cred_state(sqlite3 *db, long long rowid, const char *state, int phase,
			     time_t now, char *errbuf);

/* P2: on_pin succeeded (notified_at = now) and job_id (may be NULL) is
 * done, in one transaction. */
enum err pinstore_notified(sqlite3 *db, long long rowid, const char *job_id, time_t now,
			   char *errbuf);

/*
 * pin-runner's run, for status (SPEC §6 pinRunner): replaces the row - but
 * an idle run (due == 0) with the outcome already recorded by an idle run
 * less than PIN_LOG_REFRESH seconds before leaves it, writing nothing.
 * The row's last_success_at is completed_at when status is success, else
 * the one the row had (for the metrics file).
 */
#define PIN_LOG_REFRESH 120     /* under status's 3 minutes of grace */
struct pin_run_log {
	time_t started_at, completed_at;
	const char *status;             /* success|failed */
	long due, done, retried, failed;
	const char *message;            /* NULL when none */
	long duration_ms;               /* the run's own duration */
};
enum err pinstore_log_run(sqlite3 *db, const struct pin_run_log *run, char *errbuf);

/* The token cache (P6).  *found = 0 when empty. */
enum err pinstore_token_load(sqlite3 *db, struct tuya_token *tok, int *found, char *errbuf);
enum err pinstore_token_save(sqlite3 *db, const struct tuya_token *tok, time_t now,
			     char *errbuf);

#endif
