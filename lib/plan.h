/*
 * plan.h - the pure half of a reconciliation: what must change, and when.
 *
 * plan_build() is a function of plain data (stored state, fetched
 * reservations, lock mapping, configuration, `now`): no network, no
 * database, no clock.  `run --dry-run` prints its result; `run` applies it
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

#include "config.h"
#include "err.h"
#include "model.h"

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

struct action {
	enum plan_kind kind;
	const struct resv *r;   /* borrowed from the plan's input: the fetched
	                           or stored reservation concerned; NULL for a
	                           job whose reservation is unknown */
	char status[9];         /* reservation actions: the status to write */
	struct job job;         /* job actions: the full row to write */
	const char *reason;     /* static text, or NULL */
};

struct plan {
	struct action *a;       /* owned */
	size_t n, alloc;
	struct plan_stats stats;
	long held_back;         /* confirmed removals the R6 guard held back */
	char message[ERRBUF_SIZE];
};

struct plan_input {
	const struct config *cfg;
	const struct resv *fetched;     /* valid reservations, sorted by id, unique */
	size_t nfetched;
	const struct resv *stored;      /* stored rows, sorted by id, unique */
	size_t nstored;
	const struct lock_map *locks;
	size_t nlocks;
	const struct job *jobs;         /* stored jobs, sorted by id, unique */
	size_t njobs;
	const struct cred *creds;       /* credentials not revoked */
	size_t ncreds;
	const char *const *protect;     /* ids of malformed items of the PIN-type
	                                   query (R8): never suspects */
	size_t nprotect;
	const char *const *cancel;      /* ids of malformed items of the canceled
	                                   query (R8): canceled by their _id */
	size_t ncancel;
	const char *const *gone;        /* suspects Stays confirmed gone (R6) */
	size_t ngone;
	int skip_vanish;                /* a malformed item had no _id: no R6 this run */
	long errors;                    /* malformed items skipped (R8), for the stats */
	int force;                      /* --force: no mass-removal guard */
};

/*
 * R6: the stored reservations that are active, whose stay has not ended at
 * now, and that are neither fetched, nor protected, nor canceled by id:
 * pointers into in->stored, in id order, in *out (owned by the caller, free
 * it; NULL when none).  None when in->skip_vanish.  Returns ERR_OK, or
 * ERR_CONFIG when the configured zone cannot be used.
 */
enum err plan_suspects(const struct plan_input *in, time_t now,
		       const struct resv ***out, size_t *n);

/*
 * Compute the plan.  The actions borrow pointers into in->fetched and
 * in->stored, which must outlive p.  The caller releases p.  Returns ERR_OK
 * (also when the R6 guard held removals back: p->held_back > 0 and
 * p->message says why); ERR_CONFIG when a lock's time zone cannot be used
 * (p->a is then empty).
 */
enum err plan_build(const struct plan_input *in, time_t now, struct plan *p);

void plan_release(struct plan *p);

/* "create", "update", ... as in SPEC §6a. */
const char *plan_kind_name(enum plan_kind k);

/*
 * The check-in/check-out instants of r in zone tz (NULL/"": the configured
 * zone), with the configured default times where r has none.
 */
enum err plan_stay_instants(const struct config *cfg, const struct resv *r,
			    const char *tz, time_t *checkin, time_t *checkout);

/* Today's date (YYYY-MM-DD) in zone tz at instant now, shifted by days. */
enum err plan_local_date(const char *tz, time_t now, long days, char out[11]);

#endif
