/*
 * timeline.h - who can open which door, when: the access timeline of
 * `stays-reconcile timeline` as plain data.
 *
 * timeline_build() is a pure function of the rows the database holds
 * (reservations, the lock mapping, jobs, credentials, listing names, the
 * health lists of store_health()), a struct plan_policy, `now` and the
 * range: no database, no clock, no output.  lib/timeline_store.c reads
 * the rows (one read transaction), lib/report_timeline.c renders the
 * result as text, JSON and HTML.  No PIN is ever part of the input or of
 * the output.
 *
 * A lane is one lock (grouped by listing, in the lock's zone), or, for a
 * listing that has none, one lane without a device that shows the stays
 * that get no PIN.  A stay is a reservation on one lane: its check-in and
 * check-out, the PIN window (the credential's, else the one its generate
 * job will send, else the one the policy gives), the state of its PIN and
 * its generate and revoke job times.  Flags are what needs a person.
 */
#ifndef STAYS_TIMELINE_H
#define STAYS_TIMELINE_H

#include <stddef.h>
#include <time.h>

#include "err.h"
#include "model.h"
#include "plan.h"
#include "store.h"

#define TL_DAYS_MAX 92          /* --days: a quarter at most */
#define TL_NAME_MAX 64          /* lock and listing names */

/* The state of a stay's PIN on its lock, decided in this order. */
enum tl_state {
	TL_CREATING,    /* a credential creating, unconfirmed or active: its state */
	TL_UNCONFIRMED,
	TL_ACTIVE,
	TL_REVOKING,    /* a credential on its way off the lock */
	TL_FAILED,      /* no PIN, the generate job failed */
	TL_PLANNED,     /* no PIN yet, the generate job pending (or running) */
	TL_REVOKED,     /* the PIN was on the lock and is gone */
	TL_NONE         /* no PIN and none planned (a listing without a lock, ...) */
};
#define TL_NSTATES (TL_NONE + 1)

/* What needs a person.  Each is also a bit of struct tl_stay's flags. */
enum tl_flag_kind {
	TL_OVERLAP,     /* two PIN windows on one lock overlap */
	TL_UNMAPPED,    /* a stay of a PIN type on a listing with no lock */
	TL_MISSING,     /* a stay that should have a PIN by now has none */
	TL_UNCONFIRMED_FLAG, /* P3a: not confirmed on the lock, window within 24 h */
	TL_FAILED_JOB,  /* a job failed while still needed */
	TL_OVERDUE,     /* a job due for longer than HEALTH_GRACE, not run */
	TL_UNREVOKED    /* P3a: past its revoke time, not confirmed gone */
};
#define TL_NFLAGS (TL_UNREVOKED + 1)

struct tl_stay {
	char resv[ID_MAX + 1];
	char code[CODE_MAX + 1];
	int active;                     /* the reservation is active (not canceled) */
	time_t checkin, checkout;
	time_t valid_from, valid_until; /* the PIN window */
	enum tl_state state;
	time_t gen_at, rev_at;          /* the jobs' due times; 0 when none */
	char gen_status[9], rev_status[9];      /* "" when none */
	unsigned flags;                 /* 1u << enum tl_flag_kind */
};

struct tl_lane {
	char listing[ID_MAX + 1];
	char listing_name[TL_NAME_MAX + 1];     /* "" when not known */
	char device[ID_MAX + 1];        /* "": the listing has no lock */
	char lock_name[TL_NAME_MAX + 1];
	char tz[TZ_MAX + 1];            /* the lane's zone (the lock's, else the default) */
	int mapped;                     /* 0: a lock that holds a PIN but left the mapping */
	struct tl_stay *stays;          /* owned, by valid_from */
	size_t n, alloc;
};

struct tl_flag {
	enum tl_flag_kind kind;
	enum tl_state state;            /* the stay's state (the colour), TL_NONE if unknown */
	char resv[ID_MAX + 1];
	char code[CODE_MAX + 1];        /* "" when the reservation is unknown */
	char listing[ID_MAX + 1];
	char device[ID_MAX + 1];        /* "" when none */
	char tz[TZ_MAX + 1];            /* the zone of at's local time */
	time_t at;                      /* when it matters: a window's start or end, a due time */
	time_t until;                   /* overlap: its end; unmapped: the check-out; else 0 */
	char other[CODE_MAX + 1];       /* overlap: the other stay's code */
	char action[9];                 /* failed, overdue: the job's action */
	long attempts;                  /* failed, overdue */
	char last_error[256];           /* failed, overdue: "" when none; never a PIN */
};

struct timeline {
	time_t from, until, now;        /* [from, until): the range */
	int days;
	char tz[TZ_MAX + 1];            /* the zone the days are counted in */
	struct tl_lane *lanes;          /* owned: by listing, then device ("" last) */
	size_t nlanes, alanes;
	struct tl_flag *flags;          /* owned: by at, then kind */
	size_t nflags, aflags;
};

/* A listing's name (listing_names). */
struct tl_listing_name {
	char listing[ID_MAX + 1];
	char name[TL_NAME_MAX + 1];
};

/* A pin_jobs row with what the timeline says of it. */
struct tl_job {
	struct job j;
	long attempts;
	char last_error[256];           /* "" when none */
};

/* A credentials row of any state (revoked ones too), without its PIN. */
struct tl_cred {
	struct cred c;
	long long id;                   /* later credentials win among equals */
};

/*
 * Everything borrowed.  resv: the reservations that may touch the range
 * (any order; canceled ones count only where a credential is not
 * revoked); jobs and creds of those reservations; health: store_health()
 * at now (may be NULL).
 */
struct timeline_input {
	const struct plan_policy *policy;
	const struct resv *resv;
	size_t nresv;
	const struct lock_map *locks;
	size_t nlocks;
	const struct tl_job *jobs;
	size_t njobs;
	const struct tl_cred *creds;
	size_t ncreds;
	const struct tl_listing_name *names;
	size_t nnames;
	const struct health *health;
	const char *device;             /* --lock: only this lock (NULL: all) */
	const char *listing;            /* --listing: only this listing (NULL: all) */
};

/*
 * The range: from the midnight of date ("YYYY-MM-DD", or NULL: the day
 * of now) on zone's wall clock, days days (1..TL_DAYS_MAX) of that wall
 * clock (so a DST day is 23 or 25 hours).  Errors: ERR_USAGE (a bad date
 * or day count), ERR_CONFIG (a zone that cannot be used).
 */
enum err timeline_range(const char *zone, const char *date, time_t now, int days,
			time_t *from, time_t *until, char *errbuf);

/*
 * Build tl from in for the range [from, until) at instant now (days: how
 * many days the range has, for the renderers).  A stay is on the
 * timeline when its stay or its PIN window touches the range, or it holds
 * a credential that is not revoked; every health item is a flag, on the
 * timeline or not.  Errors: ERR_CONFIG when a zone cannot be used.
 * Release tl with timeline_release() (also after an error).
 */
enum err timeline_build(const struct timeline_input *in, time_t now, time_t from,
			time_t until, int days, struct timeline *tl, char *errbuf);
void timeline_release(struct timeline *tl);

/* "creating", ..., "planned", "revoked", "none" (static). */
const char *timeline_state_name(enum tl_state s);

/* "overlap", "unmapped", "missing", "unconfirmed", "failed", "overdue",
 * "unrevoked" (static). */
const char *timeline_flag_name(enum tl_flag_kind k);

#endif
