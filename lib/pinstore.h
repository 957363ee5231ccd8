/*
 * pinstore.h - the SQL of pin-runner: due jobs, job states, credentials
 * (what is or may be on each lock), and the Tuya token cache.
 *
 * Every function that writes runs its own short BEGIN IMMEDIATE ... COMMIT,
 * so pin-runner never holds the write lock across a network call and
 * stays-reconcile can apply its plan between two jobs.  Where a credential
 * and its job change together (a PIN recorded and its job done) they change
 * in one transaction.
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

/* A due job with what executing it needs. */
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

/* A credentials row that is not revoked. */
struct cred_row {
	long long rowid;
	int64_t password_id;            /* 0 while creating */
	char name[65];
	char pin[PIN_MAX + 1];
	time_t valid_from, valid_until;
	char state[9];                  /* creating|active */
};

/* Jobs left 'running' by a pin-runner that died go back to 'pending'. */
enum err pinstore_recover(sqlite3 *db, int *n, char *errbuf);

/* P1: pending jobs with due_at <= now and no retry time after now, oldest
 * first, at most max.  *out is owned by the caller (free()). */
enum err pinstore_due(sqlite3 *db, time_t now, long max, struct due_job **out,
		      size_t *n, char *errbuf);

/* pending -> running; *claimed = 0 if the job changed meanwhile. */
enum err pinstore_claim(sqlite3 *db, const char *job_id, time_t now, int *claimed,
			char *errbuf);

/* running -> pending without counting an attempt (credentials refused). */
enum err pinstore_unclaim(sqlite3 *db, const char *job_id, char *errbuf);

/* running -> done (attempts + 1), when nothing else changes. */
enum err pinstore_done(sqlite3 *db, const char *job_id, time_t now, char *errbuf);

/*
 * A failed attempt (P5): attempts + 1 and last_error; then either pending
 * again with next_attempt_at = next, or, when attempts reached max_attempts
 * or permanent is set, failed (*failed = 1).
 */
enum err pinstore_attempt_failed(sqlite3 *db, const char *job_id, time_t now,
				 time_t next, const char *error, long max_attempts,
				 int permanent, int *failed, char *errbuf);

/* The live credential of (resv, device); *found = 0 when there is none. */
enum err pinstore_cred(sqlite3 *db, const char *resv, const char *device,
		       struct cred_row *out, int *found, char *errbuf);

/* A live PIN of this reservation on another lock (P2: one PIN for all the
 * locks of a reservation); *found = 0 when none. */
enum err pinstore_resv_pin(sqlite3 *db, const char *resv, const char *device,
			   char pin[PIN_MAX + 1], int *found, char *errbuf);

/* The PINs live on a lock (owned array of owned strings: pinstore_free_pins). */
enum err pinstore_lock_pins(sqlite3 *db, const char *device, char ***pins, size_t *n,
			    char *errbuf);
void pinstore_free_pins(char **pins, size_t n);

/* P3: record the intent (state creating) before the create call. */
enum err pinstore_intent(sqlite3 *db, const char *resv, const char *device,
			 const char *name, const char *pin, time_t vf, time_t vu,
			 time_t now, char *errbuf);

/* Change the window of the live credential (creating or active). */
enum err pinstore_cred_window(sqlite3 *db, long long rowid, time_t vf, time_t vu,
			      char *errbuf);

/* The password is on the lock: credential active with its id, job done. */
enum err pinstore_created(sqlite3 *db, long long rowid, int64_t password_id,
			  const char *job_id, time_t now, char *errbuf);

/* The window changed on the lock: credential updated, job done. */
enum err pinstore_updated(sqlite3 *db, long long rowid, time_t vf, time_t vu,
			  const char *job_id, time_t now, char *errbuf);

/* Revoked (or never created): credential revoked, job done (job_id may be NULL). */
enum err pinstore_revoked(sqlite3 *db, long long rowid, const char *job_id, time_t now,
			  char *errbuf);

/* The token cache (P6).  *found = 0 when empty. */
enum err pinstore_token_load(sqlite3 *db, struct tuya_token *tok, int *found, char *errbuf);
enum err pinstore_token_save(sqlite3 *db, const struct tuya_token *tok, time_t now,
			     char *errbuf);

#endif
