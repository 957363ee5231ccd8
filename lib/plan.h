/*
 * plan.h - the pure half of a reconciliation: what must change, and when.
 *
 * plan_build() is a function of plain data (stored state, fetched
 * reservations, lock mapping, configuration, `now`): no I/O, no clock.
 * `run --dry-run` prints its result; `run` applies it in one transaction
 * (lib/store.c).  Applying a plan and planning again with the same inputs
 * yields an empty plan: every action is computed by comparing a desired
 * state with the stored one, so unchanged things cost no write.
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
	ACT_CANCEL,     /* reservation canceled (R5) */
	ACT_REMOVE,     /* reservation vanished from Stays (R6) */
	ACT_SCHEDULE,   /* job created, or revived from done/canceled */
	ACT_RESCHEDULE, /* pending job's due time or window changed */
	ACT_UNSCHEDULE  /* job canceled */
};

struct plan_stats {
	long fetched, created, updated, unchanged, canceled, removed, orphaned, errors;
};

struct action {
	enum plan_kind kind;
	const struct resv *r;   /* borrowed from the plan's input: the fetched
	                           or stored reservation concerned */
	char status[9];         /* reservation actions: the status to write */
	struct job job;         /* job actions: the full row to write */
	const char *reason;     /* static text, or NULL */
};

struct plan {
	struct action *a;       /* owned */
	size_t n, alloc;
	struct plan_stats stats;
	int refused;            /* the R6 guard stopped the run */
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
	const struct cred *creds;       /* live credentials (creating/active) */
	size_t ncreds;
	const char *const *protect;     /* ids of malformed fetched items (R8): never vanished */
	size_t nprotect;
	int skip_vanish;                /* a malformed item had no _id: no R6 this run */
	long errors;                    /* malformed items skipped (R8), for the stats */
	char window_from[11];           /* the fetch window, YYYY-MM-DD */
	char window_to[11];
	int force;                      /* --force: bypass the R6 guard */
};

/*
 * Compute the plan.  The actions borrow pointers into in->fetched and
 * in->stored, which must outlive p.  p must be zeroed (or plan_release'd); the caller
 * releases it.  Returns ERR_OK; ERR_DATA when the mass-removal guard refused
 * (then p->refused is set, p->message says why and p->a is empty);
 * ERR_CONFIG when a lock's time zone cannot be used.
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
