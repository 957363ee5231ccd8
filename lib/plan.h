/*
 * plan.h - the pure half of a reconciliation: what must change, and when.
 *
 * plan_build() is a function of plain data (stored state, fetched
 * reservations, lock mapping, a struct plan_policy, `now`): no network, no
 * database, no clock, no configuration file (plan_policy_from_config() in
 * lib/plan_policy.c turns the configuration into a policy).  `run --dry-run` prints its result; `run` applies it
 * in one transaction (lib/store.c).  Applying a plan and planning again with
 * the same inputs yields an empty plan: every action is computed by
 * comparing a desired state with the stored one, so unchanged things cost
 * no write.
 *
 * A run plans in two steps because of R6: plan_suspects() names the stored
 * reservations that vanished from a complete fetch; the caller asks Stays
 * about each one by id and passes the answers back (alive ones among the
 * fetched reservations, confirmed ones as `gone`); plan_build() then
 * decides everything at once.
 */
#ifndef STAYS_PLAN_H
#define STAYS_PLAN_H

#include <stddef.h>
#include <time.h>

#include "err.h"
#include "model.h"

struct config;          /* config.h */
struct fetch_result;    /* stays.h */
struct state;           /* store.h */

enum plan_kind {
	ACT_CREATE,     /* new reservation row */
	ACT_UPDATE,     /* tracked fields or status changed */
	ACT_CANCEL,     /* reservation canceled (R5, R8) */
	ACT_REMOVE,     /* reservation vanished from Stays, confirmed (R6) */
	ACT_SCHEDULE,   /* job created, or revived from done/canceled */
	ACT_RESCHEDULE, /* job's due time or window changed, or a failed job re-armed */
	ACT_UNSCHEDULE  /* job canceled */
};

struct plan_stats {
	long fetched, created, updated, unchanged, canceled, removed, orphaned, errors;
};

/*
 * A pin_jobs row as a job action writes it.  Its strings are borrowed, like
 * action.r: static text or the plan's input (the lock map, a stored job or
 * credential, a reservation), so that an action is a few pointers, not a
 * copy of every id: a first run of 10,000 stays plans 30,000 actions.
 * The row's id is plan_job_id()'s.
 */
struct plan_job {
	const char *action;     /* generate|revoke|update */
	const char *resv;       /* reservation id */
	const char *device;
	const char *status;     /* pending|canceled */
	time_t due;
	time_t valid_from;      /* 0 when NULL */
	time_t valid_until;
};

struct action {
	enum plan_kind kind;
	const struct resv *r;   /* borrowed from the plan's input: the fetched
	                           or stored reservation concerned; NULL for a
	                           job whose reservation is unknown */
	const char *status;     /* reservation actions: the status to write
	                           (static text); NULL for job actions */
	struct plan_job job;    /* job actions: the row to write */
	const char *reason;     /* static text, or NULL */
};

/* The id of j's row, "<action>:<reservation>:<device>", into out
 * (JOB_ID_MAX + 1 bytes). */
void plan_job_id(const struct plan_job *j, char *out);

struct plan {
	struct action *a;       /* owned */
	size_t n, alloc;
	struct plan_stats stats;
	long held_back;         /* confirmed removals the R6 guard held back */
	char message[ERRBUF_SIZE];
};

/*
 * What plan.c reads of the configuration ([pins] and [stays]).  Strings
 * are borrowed from whoever filled the policy (plan_policy_from_config():
 * the struct config) and must outlive every use of the policy.
 */
struct plan_policy {
	const char *timezone;           /* the default zone of stays and locks */
	int checkin_min, checkout_min;  /* default times, minutes after midnight */
	long generate_before;           /* seconds before check-in (R4) */
	long revoke_after;              /* seconds after check-out (R4) */
	long valid_before, valid_after; /* the PIN window around the stay */
	const char *const *pin_types;   /* reservation types that get a PIN */
	int npin_types;
	long max_removals;              /* R6 mass-removal guard */
};

/* Fill pol from cfg; pol borrows cfg's strings (lib/plan_policy.c). */
void plan_policy_from_config(const struct config *cfg, struct plan_policy *pol);

/* 1 if type is one of pol's PIN types. */
int plan_is_pin_type(const struct plan_policy *pol, const char *type);

/*
 * The plan's input, all borrowed, none modified.  st: the stored state
 * (store_load(): reservations and jobs sorted by id, unique).  fr: a
 * finished fetch (fetch_result_finish(): items sorted by id, unique; its
 * bad_ids are malformed items of the PIN-type query, never suspects; its
 * cancel_ids malformed items of the canceled query, canceled by their _id
 * (R8); bad_without_id: no R6 this run; nerrors: skipped items, for the
 * stats).
 */
struct plan_input {
	const struct plan_policy *policy;
	const struct state *st;
	const struct fetch_result *fr;
	const char *const *gone;        /* suspects Stays confirmed gone (R6) */
	size_t ngone;
	int force;                      /* --force: no mass-removal guard */
};

/*
 * R6: the stored reservations that are active, whose stay has not ended at
 * now, and that are neither fetched, nor protected, nor canceled by id:
 * pointers into in->st->stored, in id order, in *out (owned by the caller, free
 * it; NULL when none).  None when in->fr->bad_without_id.  Returns ERR_OK, or
 * ERR_CONFIG when the configured zone cannot be used.
 */
enum err plan_suspects(const struct plan_input *in, time_t now,
		       const struct resv ***out, size_t *n);

/*
 * Compute the plan.  The actions borrow pointers into in->fr->items and
 * in->st->stored, which must outlive p.  The caller releases p.  Returns ERR_OK
 * (also when the R6 guard held removals back: p->held_back > 0 and
 * p->message says why); ERR_CONFIG when a lock's time zone cannot be used
 * (p->a is then empty).
 */
enum err plan_build(const struct plan_input *in, time_t now, struct plan *p);

void plan_release(struct plan *p);

/* "create", "update", ... as in SPEC §6a. */
const char *plan_kind_name(enum plan_kind k);

/*
 * The check-in/check-out instants of r in zone tz (NULL/"": the policy's
 * zone), with the policy's default times where r has none.
 */
enum err plan_stay_instants(const struct plan_policy *pol, const struct resv *r,
			    const char *tz, time_t *checkin, time_t *checkout);

/* Today's date (YYYY-MM-DD) in zone tz at instant now, shifted by days. */
enum err plan_local_date(const char *tz, time_t now, long days, char out[11]);

#endif
