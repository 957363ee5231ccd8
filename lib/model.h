/*
 * model.h - the plain data the reconciliation works on.
 *
 * Fixed-size fields: Stays ids are 24 hex characters and codes about 6, so
 * the bounds below are generous; the Stays parser rejects longer values as
 * malformed (R8) instead of truncating them, so no field is ever cut.
 */
#ifndef STAYS_MODEL_H
#define STAYS_MODEL_H

#include <stddef.h>
#include <string.h>
#include <time.h>

#define ID_MAX 64       /* Stays _id, _idlisting, Tuya device id */
#define CODE_MAX 32     /* Stays short id */
#define TYPE_MAX 16
#define TZ_MAX 64
#define JOB_ID_MAX (16 + 2 * ID_MAX)

/* A reservation as fetched from Stays or as stored (R3's tracked fields). */
struct resv {
	char id[ID_MAX + 1];
	char code[CODE_MAX + 1];
	char listing[ID_MAX + 1];
	char in_date[11];       /* YYYY-MM-DD */
	char in_time[6];        /* HH:MM, "" when Stays gave none */
	char out_date[11];
	char out_time[6];
	char type[TYPE_MAX + 1];
	int guests;
	char status[9];         /* stored rows: active|canceled|removed */
};

/* One row of the listing -> lock mapping. */
struct lock_map {
	char device[ID_MAX + 1];
	char listing[ID_MAX + 1];
	char name[65];          /* "" when none */
	int pin_length;         /* 0: [pins] length */
	char tz[TZ_MAX + 1];    /* "": [pins] timezone */
};

/*
 * One pin_jobs row, as far as planning needs it.
 *
 * The job state machine (status).  Two programs write it: stays-reconcile
 * in one transaction per run (plan.c decides, store_apply() writes, as an
 * upsert of the planned row), and pin-runner one job at a time
 * (pinstore.c, called from pinbatch.c and pinrun.c).  Every pin-runner
 * write after the claim says `AND status = 'running'`, so a job
 * stays-reconcile canceled meanwhile stays canceled (its decision wins).
 *
 *   (none) --R schedule--> pending --P claim--> running --P--> done
 *                           ^  |                  | | |
 *                           |  |                  | | +--P--> failed
 *                           |  +--R--> canceled <-+ |  (R cancel; P stay over)
 *                           |                       |
 *                           +----P retry, unclaim, recover
 *   failed, done, canceled --R reschedule, re-arm; L--> pending
 *
 *   none -> pending       R  store_apply, ACT_SCHEDULE (plan want_job,
 *                            revoke_now)
 *   pending -> pending    R  ACT_RESCHEDULE: new due time or window;
 *                            attempts and next_attempt_at reset
 *   failed -> pending     R  ACT_RESCHEDULE: re-armed while still needed
 *                            (P4a) or the schedule changed
 *                         L  `locks add` (store_lock_add): every failed job
 *                            of the lock, attempts reset
 *   done -> pending       R  ACT_SCHEDULE: planned again (a revoke whose
 *   canceled -> pending      time came with a credential still there, a
 *                            job wanted again)
 *   pending -> canceled   R  ACT_UNSCHEDULE (plan drop_job), last_error
 *   failed -> canceled       "canceled: <reason>"
 *   running -> canceled   R  the same, while pin-runner runs it; a running
 *                            generate's cancel always comes with a revoke
 *                            due at once (R7)
 *   pending -> running    P  pinstore_claim (pinrun_batch): only if still
 *                            pending and due, re-read in the same statement
 *   running -> done       P  pinstore_done, or pinstore_notified with the
 *                            on_pin hook's success (pinrun_job); a stale
 *                            update (P4a) is done too
 *   running -> canceled   P  pinstore_cancel: a generate whose stay is over
 *                            (P1)
 *   running -> pending    P  pinstore_attempt_failed: retried at
 *                            next_attempt_at, attempts + 1 (P5)
 *                         P  pinstore_unclaim: credentials or the lock
 *                            refused (77), no attempt counted
 *                         P  pinstore_recover at the start of the next
 *                            batch: a killed pin-runner's jobs
 *   running -> failed     P  pinstore_attempt_failed: permanent error or
 *                            max_attempts (on_failure runs)
 *
 * R: stays-reconcile run; L: stays-reconcile locks add; P: pin-runner.
 * stays-reconcile never moves a job to running or done, never touches a
 * running job except to cancel it, and pin-runner never creates a job.
 */
struct job {
	char id[JOB_ID_MAX + 1];
	char action[9];         /* generate|revoke|update */
	char resv[ID_MAX + 1];
	char device[ID_MAX + 1];
	time_t due;
	time_t valid_from;      /* 0 when NULL */
	time_t valid_until;
	char status[9];         /* pending|running|done|failed|canceled */
};

/*
 * A credential that is (or may be) on a lock: every state but revoked
 * (creating, unconfirmed, active, revoking; the state machine is in
 * pinstore.h, above struct cred_row).  stays-reconcile only reads
 * credentials (R7: desired against actual); pin-runner writes them.
 */
struct cred {
	char resv[ID_MAX + 1];
	char device[ID_MAX + 1];
	time_t valid_from;
	time_t valid_until;
	char state[12];
	int has_password;       /* the cloud gave it a password id */
};

/* 1 if state is one of a credential that is wanted on the lock (creating,
 * unconfirmed, active), as opposed to revoking or revoked. */
static inline int cred_state_wanted(const char *state)
{
	return strcmp(state, "creating") == 0 || strcmp(state, "unconfirmed") == 0 ||
	       strcmp(state, "active") == 0;
}

/*
 * 1 if the n rows of v are sorted by id with each id once: the contract of
 * the arrays plan.c and store.c search with bsearch().  One linear pass,
 * cheap enough for an assert() on every run.
 */
static inline int resv_sorted_unique(const struct resv *v, size_t n)
{
	for (size_t i = 1; i < n; i++)
		if (strcmp(v[i - 1].id, v[i].id) >= 0)
			return 0;
	return 1;
}

static inline int jobs_sorted_unique(const struct job *v, size_t n)
{
	for (size_t i = 1; i < n; i++)
		if (strcmp(v[i - 1].id, v[i].id) >= 0)
			return 0;
	return 1;
}

#endif
