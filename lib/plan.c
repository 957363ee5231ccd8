/*
 * plan.c - reconciliation decisions (SPEC §4, R3-R8) as a pure function.
 *
 * Every reservation that concerns the run - fetched, canceled by id (R8),
 * confirmed gone (R6), or with a live job or a credential (R7) - is decided
 * once: for every lock it concerns, the desired jobs (generate, update,
 * revoke) are compared with the stored rows, and only differences become
 * actions.  Policies decided here:
 *   - A job due in the past is "due now": two due times that are both in
 *     the past are equal, so a late booking is not rescheduled every run.
 *   - A reservation whose PIN window has ended and that has no PIN gets no
 *     new one; its remaining generate/update jobs are unscheduled.
 *   - A finished job (done) whose due time is what we would plan again is
 *     left alone: it ran as planned.  A revoke is the exception when a
 *     credential is still on the lock after its due time: it runs again.
 *   - A job that pin-runner is executing (running) is never rescheduled.
 *     When it must go it is unscheduled, and if it is a generate job a
 *     revoke is due at once for its reservation and lock, because
 *     pin-runner may be creating the password at this very moment (R7).
 *   - Desired against actual (R7): the credentials are checked every run,
 *     not only the jobs.  One whose reservation is not active, whose lock
 *     left the listing, or whose reservation is unknown gets a revoke due
 *     at once.
 *   - Until the generate job has finished, it carries the window; after,
 *     a window change is an update job.  An update whose window the lock
 *     already has is dropped, and a failed update or revoke is re-armed
 *     every run while it is still needed (P4a).
 *   - A credential being revoked (revoking) is on its way out: it keeps
 *     its revoke alive but does not count as the guest's PIN.
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan.h"
#include "stays.h"
#include "store.h"
#include "tz.h"
#include "banned.h"

/* A sorted array of borrowed id strings, for membership tests. */
struct idset {
	const char **v;
	size_t n;
};

struct ctx {
	const struct plan_input *in;
	const struct plan_policy *pol;
	time_t now;
	struct plan *p;
	const struct job **jobs_by_resv;   /* in->st->jobs sorted by (resv, device) */
	const struct cred **creds_by_resv; /* in->st->creds sorted by (resv, device) */
	const struct lock_map **locks_by_listing;
	struct idset protect, cancel, gone;
	enum err err;
};

const char *plan_kind_name(enum plan_kind k)
{
	static const char *const names[] = {
		"create", "update", "cancel", "remove", "schedule", "reschedule",
		"unschedule"
	};

	return names[k];
}

/* ---- lookups ---------------------------------------------------------- */

static int cmp_str_ptr(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void idset_init(struct idset *s, const char *const *ids, size_t n)
{
	s->v = xcalloc(n + 1, sizeof(*s->v));
	for (size_t i = 0; i < n; i++)
		s->v[i] = ids[i];
	s->n = n;
	qsort(s->v, n, sizeof(*s->v), cmp_str_ptr);
}

static int idset_has(const struct idset *s, const char *id)
{
	return s->n && bsearch(&id, s->v, s->n, sizeof(*s->v), cmp_str_ptr) != NULL;
}

/*
 * plan_input's contract, which find_resv() and find_job() rely on: the
 * fetched and stored reservations and the stored jobs sorted by id, each
 * id once.
 */
static int input_sorted(const struct plan_input *in)
{
	return resv_sorted_unique(in->fr->items, in->fr->n) &&
	       resv_sorted_unique(in->st->stored, in->st->nstored) &&
	       jobs_sorted_unique(in->st->jobs, in->st->njobs);
}

static int cmp_resv_id(const void *key, const void *elem)
{
	return strcmp(key, ((const struct resv *)elem)->id);
}

static const struct resv *find_resv(const struct resv *arr, size_t n, const char *id)
{
	return n ? bsearch(id, arr, n, sizeof(*arr), cmp_resv_id) : NULL;
}

static int cmp_job_id(const void *key, const void *elem)
{
	return strcmp(key, ((const struct job *)elem)->id);
}

static const struct job *find_job(const struct ctx *c, const char *id)
{
	const struct plan_input *in = c->in;

	return in->st->njobs ? bsearch(id, in->st->jobs, in->st->njobs, sizeof(*in->st->jobs),
				   cmp_job_id) : NULL;
}

static int cmp_job_ptr(const void *a, const void *b)
{
	const struct job *x = *(const struct job *const *)a;
	const struct job *y = *(const struct job *const *)b;
	int r = strcmp(x->resv, y->resv);

	return r ? r : strcmp(x->device, y->device);
}

static int cmp_cred_ptr(const void *a, const void *b)
{
	const struct cred *x = *(const struct cred *const *)a;
	const struct cred *y = *(const struct cred *const *)b;
	int r = strcmp(x->resv, y->resv);

	return r ? r : strcmp(x->device, y->device);
}

static int cmp_lock_ptr(const void *a, const void *b)
{
	const struct lock_map *x = *(const struct lock_map *const *)a;
	const struct lock_map *y = *(const struct lock_map *const *)b;
	int r = strcmp(x->listing, y->listing);

	return r ? r : strcmp(x->device, y->device);
}

/* First index in a pointer array sorted by field whose field is >= id. */
#define LOWER_BOUND(arr, n, field, id, out)                              \
	do {                                                             \
		size_t lo_ = 0, hi_ = (n);                               \
		while (lo_ < hi_) {                                      \
			size_t mid_ = lo_ + (hi_ - lo_) / 2;             \
			if (strcmp((arr)[mid_]->field, (id)) < 0)        \
				lo_ = mid_ + 1;                          \
			else                                             \
				hi_ = mid_;                              \
		}                                                        \
		(out) = lo_;                                             \
	} while (0)

/*
 * The credentials of (resv, device): the wanted one (creating, unconfirmed
 * or active; at most one, the database enforces it) in *wanted, and
 * whether one is being revoked.
 */
static void find_creds(const struct ctx *c, const char *resv, const char *device,
		       const struct cred **wanted, int *revoking)
{
	size_t i, n = c->in->st->ncreds;

	*wanted = NULL;
	*revoking = 0;
	LOWER_BOUND(c->creds_by_resv, n, resv, resv, i);
	for (; i < n && strcmp(c->creds_by_resv[i]->resv, resv) == 0; i++) {
		const struct cred *cr = c->creds_by_resv[i];

		if (strcmp(cr->device, device) != 0)
			continue;
		if (cred_state_wanted(cr->state))
			*wanted = cr;
		else if (strcmp(cr->state, "revoking") == 0)
			*revoking = 1;
	}
}

static const struct lock_map *mapped_lock(const struct ctx *c, const char *listing,
					  const char *device)
{
	size_t i, n = c->in->st->nlocks;

	LOWER_BOUND(c->locks_by_listing, n, listing, listing, i);
	for (; i < n && strcmp(c->locks_by_listing[i]->listing, listing) == 0; i++)
		if (strcmp(c->locks_by_listing[i]->device, device) == 0)
			return c->locks_by_listing[i];
	return NULL;
}

/* ---- time ------------------------------------------------------------- */

enum err plan_stay_instants(const struct plan_policy *pol, const struct resv *r,
			    const char *tz, time_t *checkin, time_t *checkout)
{
	int y, m, d, hh, mm;

	if (!tz || !*tz)
		tz = pol->timezone;
	if (util_parse_date(r->in_date, &y, &m, &d) != 0)
		return ERR_DATA;
	if (r->in_time[0]) {
		if (util_parse_hhmm(r->in_time, &hh, &mm) != 0)
			return ERR_DATA;
	} else {
		hh = pol->checkin_min / 60;
		mm = pol->checkin_min % 60;
	}
	if (tz_wall_to_instant(tz, tz_wall(y, m, d, hh, mm), checkin) != 0)
		return ERR_CONFIG;
	if (util_parse_date(r->out_date, &y, &m, &d) != 0)
		return ERR_DATA;
	if (r->out_time[0]) {
		if (util_parse_hhmm(r->out_time, &hh, &mm) != 0)
			return ERR_DATA;
	} else {
		hh = pol->checkout_min / 60;
		mm = pol->checkout_min % 60;
	}
	if (tz_wall_to_instant(tz, tz_wall(y, m, d, hh, mm), checkout) != 0)
		return ERR_CONFIG;
	return ERR_OK;
}

enum err plan_local_date(const char *tz, time_t now, long days, char out[11])
{
	time_t wall;
	int y, m, d;

	if (tz_instant_to_wall(tz, now, &wall) != 0)
		return ERR_CONFIG;
	util_civil_from_days((long)(wall / 86400) - (wall % 86400 < 0) + days, &y, &m, &d);
	snprintf(out, 11, "%04d-%02d-%02d", y, m, d);
	return ERR_OK;
}

/* ---- emitting actions ------------------------------------------------- */

static struct action *add(struct ctx *c, enum plan_kind kind, const struct resv *r)
{
	struct plan *p = c->p;
	struct action *a;

	p->a = xgrow(p->a, sizeof(*p->a), p->n + 1, &p->alloc);
	a = &p->a[p->n++];
	memset(a, 0, sizeof(*a));
	a->kind = kind;
	a->r = r;
	return a;
}

static void add_resv(struct ctx *c, enum plan_kind kind, const struct resv *r,
		     const char *status, const char *reason)
{
	struct action *a = add(c, kind, r);

	a->status = status;
	a->reason = reason;
}

/* "<action>:<resv>:<device>" into out (JOB_ID_MAX + 1 bytes).  Built for
 * every job looked up, 40,000 times in a run of 10,000 stays: copies, not
 * snprintf.  model.h's bounds make it fit; longer input is cut, as
 * snprintf would. */
static void job_id(char *out, const char *action, const char *resv, const char *device)
{
	const char *part[3] = { action, resv, device };
	size_t n = 0;

	for (int i = 0; i < 3; i++) {
		size_t len = strlen(part[i]);

		if (i && n < JOB_ID_MAX)
			out[n++] = ':';
		if (len > JOB_ID_MAX - n)
			len = JOB_ID_MAX - n;
		memcpy(out + n, part[i], len);
		n += len;
	}
	out[n] = '\0';
}

void plan_job_id(const struct plan_job *j, char *out)
{
	job_id(out, j->action, j->resv, j->device);
}

/*
 * r may be NULL for a job whose reservation no longer exists (R7).  The
 * strings are kept, not copied (struct plan_job): action and status are
 * static, resv_id and device the plan's input.
 */
static void add_job(struct ctx *c, enum plan_kind kind, const struct resv *r,
		    const char *resv_id, const char *action, const char *device,
		    time_t due, time_t vf, time_t vu, const char *status,
		    const char *reason)
{
	struct action *a = add(c, kind, r);

	a->job.action = action;
	a->job.resv = resv_id;
	a->job.device = device;
	a->job.status = status;
	a->job.due = due;
	a->job.valid_from = vf;
	a->job.valid_until = vu;
	a->reason = reason;
}

static int is_status(const struct job *j, const char *s)
{
	return j && strcmp(j->status, s) == 0;
}

/* A job that still has work to do, or failed and may be re-armed. */
static int is_live(const struct job *j)
{
	return is_status(j, "pending") || is_status(j, "running") || is_status(j, "failed");
}

/* Due times in the past all mean "now" (see the policy at the top). */
static int same_due(time_t stored, time_t desired, time_t now)
{
	return stored == desired || (stored <= now && desired <= now);
}

static time_t due_to_store(time_t desired, time_t now)
{
	return desired < now ? now : desired;
}

static const struct job *job_of(const struct ctx *c, const char *action, const char *resv,
				const char *device)
{
	char id[JOB_ID_MAX + 1];

	job_id(id, action, resv, device);
	return find_job(c, id);
}

/*
 * Make job (action, r, device) pending with due/window, unless it already
 * is: pending or failed with exactly that schedule, or (keep_done) done
 * with it.  rearm: a failed job with that schedule goes back to pending
 * (P4a: its reason still holds).  A running job is never touched.
 */
static void want_job(struct ctx *c, const struct resv *r, const char *action,
		     const char *device, time_t due, time_t vf, time_t vu,
		     int keep_done, int rearm)
{
	const struct job *j = job_of(c, action, r->id, device);

	if (is_status(j, "running"))
		return;
	if (j && (is_live(j) || (keep_done && is_status(j, "done"))) &&
	    same_due(j->due, due, c->now) && j->valid_from == vf &&
	    j->valid_until == vu) {
		if (rearm && is_status(j, "failed"))
			add_job(c, ACT_RESCHEDULE, r, r->id, action, device,
				due_to_store(due, c->now), vf, vu, "pending",
				"failed job re-armed: still needed");
		return;
	}
	add_job(c, (is_status(j, "pending") || is_status(j, "failed")) ?
		ACT_RESCHEDULE : ACT_SCHEDULE, r, r->id, action, device,
		due_to_store(due, c->now), vf, vu, "pending", NULL);
}

/* A revoke of (resv_id, device) due at once, unless one already is. */
static void revoke_now(struct ctx *c, const struct resv *r, const char *resv_id,
		       const char *device, const char *reason, int orphan)
{
	const struct job *rev = job_of(c, "revoke", resv_id, device);

	if (is_status(rev, "running") || (is_status(rev, "pending") && rev->due <= c->now))
		return;
	add_job(c, is_status(rev, "pending") || is_status(rev, "failed") ?
		ACT_RESCHEDULE : ACT_SCHEDULE, r, resv_id, "revoke", device, c->now,
		0, 0, "pending", reason);
	if (orphan)
		c->p->stats.orphaned++;
}

/*
 * Unschedule job (action, resv_id, device) if it has work left.  The
 * caller of a running generate job's drop must put a revoke behind it
 * (revoke_now): pin-runner may be creating the password right now (R7).
 */
static void drop_job(struct ctx *c, const struct resv *r, const char *resv_id,
		     const char *action, const char *device, const char *reason,
		     int orphan)
{
	const struct job *j = job_of(c, action, resv_id, device);

	if (!is_live(j))
		return;
	add_job(c, ACT_UNSCHEDULE, r, resv_id, action, device, j->due, j->valid_from,
		j->valid_until, "canceled", reason);
	if (orphan)
		c->p->stats.orphaned++;
}

/* ---- per (reservation, lock) decisions -------------------------------- */

static void lock_active(struct ctx *c, const struct resv *r, const struct lock_map *l,
			const struct cred *cred, int revoking)
{
	const struct plan_policy *pol = c->pol;
	time_t cin, cout, vf, vu, gdue, rdue;
	const struct job *gen;
	enum err e;

	e = plan_stay_instants(pol, r, l->tz, &cin, &cout);
	if (e != ERR_OK) {
		if (c->err == ERR_OK) {
			c->err = e;
			snprintf(c->p->message, sizeof(c->p->message),
				 "cannot compute the stay of reservation '%s' on lock '%s'",
				 r->code, l->device);
		}
		return;
	}
	vf = cin - pol->valid_before;
	vu = cout + pol->valid_after;
	gdue = cin - pol->generate_before;
	rdue = cout + pol->revoke_after;
	gen = job_of(c, "generate", r->id, l->device);

	if (!cred && vu <= c->now) {
		/* The stay is over and no PIN is there: none is made (R4). */
		int creating_now = is_status(gen, "running");

		drop_job(c, r, r->id, "generate", l->device, "check-out has passed", 0);
		drop_job(c, r, r->id, "update", l->device, "check-out has passed", 0);
		if (creating_now) {
			revoke_now(c, r, r->id, l->device, "check-out has passed", 0);
			return;
		}
		if (!revoking)
			return;
	} else if (!cred || strcmp(cred->state, "creating") == 0 ||
		   is_status(gen, "pending") || is_status(gen, "running")) {
		/*
		 * Not yet confirmed on the lock: the generate job carries the
		 * window.  If a password may already be there with another
		 * window (an intent, an unconfirmed create, a create retried),
		 * the job is due at once: it moves the window (R5), so the old
		 * one does not open the door meanwhile.
		 */
		int moved = cred && (cred->valid_from != vf || cred->valid_until != vu);

		want_job(c, r, "generate", l->device, moved ? c->now : gdue, vf, vu, 0, 0);
		drop_job(c, r, r->id, "update", l->device,
			 "the generate job carries the window", 0);
	} else if (cred->valid_from != vf || cred->valid_until != vu) {
		/* On the lock with another window: change it there (R5). */
		want_job(c, r, "update", l->device, c->now, vf, vu, 0, 1);
	} else if (strcmp(cred->state, "active") == 0) {
		/* The lock has this window: a pending update is stale (P4a). */
		drop_job(c, r, r->id, "update", l->device,
			 "the lock already has this window", 0);
	}
	/*
	 * The revoke at check-out + revoke_after.  A done revoke counts only
	 * while its time has not come again with a credential still there.
	 */
	want_job(c, r, "revoke", l->device, rdue, 0, 0,
		 !(cred || revoking) || rdue > c->now, cred || revoking);
}

/*
 * r (NULL when unknown) is not wanted on device: its jobs go, and whatever
 * is or may be on the lock is revoked at once.
 */
static void lock_inactive(struct ctx *c, const struct resv *r, const char *resv_id,
			  const char *device, int has_cred, const char *reason, int orphan)
{
	const struct job *gen = job_of(c, "generate", resv_id, device);
	int creating_now = is_status(gen, "running");

	drop_job(c, r, resv_id, "generate", device, reason, orphan);
	drop_job(c, r, resv_id, "update", device, reason, orphan);
	if (has_cred || creating_now)
		revoke_now(c, r, resv_id, device, reason, orphan);
	else
		drop_job(c, r, resv_id, "revoke", device, reason, orphan);
}

/* A growable set of borrowed device ids. */
struct devset {
	const char **dev;
	size_t n, alloc;
};

static void devset_add(struct devset *s, const char *d)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->dev[i], d) == 0)
			return;
	s->dev = xgrow(s->dev, sizeof(*s->dev), s->n + 1, &s->alloc);
	s->dev[s->n++] = d;
}

/*
 * All jobs of reservation r on every lock that concerns it: the locks of
 * its listing, and any lock that has a job or a credential for it.
 */
static void plan_locks(struct ctx *c, const struct resv *r, int active,
		       const char *reason)
{
	const struct plan_input *in = c->in;
	struct devset ds = { NULL, 0, 0 };
	size_t i;

	LOWER_BOUND(c->locks_by_listing, in->st->nlocks, listing, r->listing, i);
	for (; i < in->st->nlocks && strcmp(c->locks_by_listing[i]->listing, r->listing) == 0; i++)
		devset_add(&ds, c->locks_by_listing[i]->device);
	LOWER_BOUND(c->jobs_by_resv, in->st->njobs, resv, r->id, i);
	for (; i < in->st->njobs && strcmp(c->jobs_by_resv[i]->resv, r->id) == 0; i++)
		devset_add(&ds, c->jobs_by_resv[i]->device);
	LOWER_BOUND(c->creds_by_resv, in->st->ncreds, resv, r->id, i);
	for (; i < in->st->ncreds && strcmp(c->creds_by_resv[i]->resv, r->id) == 0; i++)
		devset_add(&ds, c->creds_by_resv[i]->device);

	for (i = 0; i < ds.n; i++) {
		const struct lock_map *l = mapped_lock(c, r->listing, ds.dev[i]);
		const struct cred *cred;
		int revoking;

		find_creds(c, r->id, ds.dev[i], &cred, &revoking);
		if (active && l)
			lock_active(c, r, l, cred, revoking);
		else if (active)
			lock_inactive(c, r, r->id, ds.dev[i], cred || revoking,
				      "lock no longer mapped to the listing", 1);
		else
			lock_inactive(c, r, r->id, ds.dev[i], cred || revoking, reason, 0);
	}
	free(ds.dev);
}

/* ---- the plan --------------------------------------------------------- */

static int tracked_differ(const struct resv *a, const struct resv *b)
{
	return strcmp(a->code, b->code) || strcmp(a->listing, b->listing) ||
	       strcmp(a->in_date, b->in_date) || strcmp(a->in_time, b->in_time) ||
	       strcmp(a->out_date, b->out_date) || strcmp(a->out_time, b->out_time) ||
	       strcmp(a->type, b->type) || a->guests != b->guests;
}

static int is_active(const struct resv *s)
{
	return strcmp(s->status, "active") == 0;
}

/* R6: a stored reservation Stays confirmed gone, to be removed. */
static int vanished(const struct ctx *c, const struct resv *s)
{
	const struct plan_input *in = c->in;

	return !in->fr->bad_without_id && is_active(s) && idset_has(&c->gone, s->id) &&
	       !find_resv(in->fr->items, in->fr->n, s->id) &&
	       !idset_has(&c->cancel, s->id);
}

/* Whether plan_fetched, plan_canceled or plan_vanished decided id. */
static int decided(const struct ctx *c, const char *id)
{
	const struct plan_input *in = c->in;
	const struct resv *s = find_resv(in->st->stored, in->st->nstored, id);

	if (idset_has(&c->cancel, id))
		return s != NULL;
	if (find_resv(in->fr->items, in->fr->n, id))
		return 1;
	return s && vanished(c, s) && c->p->held_back == 0;
}

static void plan_fetched(struct ctx *c)
{
	const struct plan_input *in = c->in;
	struct plan_stats *st = &c->p->stats;

	for (size_t i = 0; i < in->fr->n; i++) {
		const struct resv *r = &in->fr->items[i];
		const struct resv *s = find_resv(in->st->stored, in->st->nstored, r->id);
		int active = plan_is_pin_type(c->pol, r->type);
		const char *status = active ? "active" : "canceled";

		st->fetched++;
		if (idset_has(&c->cancel, r->id)) {
			/* The canceled query, read later, says otherwise (R8). */
			continue;
		}
		if (!s) {
			add_resv(c, ACT_CREATE, r, status, NULL);
			st->created++;
		} else if (tracked_differ(s, r) || strcmp(s->status, status) != 0) {
			st->updated++;
			if (!active && is_active(s)) {
				add_resv(c, ACT_CANCEL, r, status, "reservation canceled");
				st->canceled++;
			} else {
				add_resv(c, ACT_UPDATE, r, status, NULL);
			}
		} else {
			st->unchanged++;
		}
		plan_locks(c, r, active, "reservation canceled");
	}
}

/* R8: items of the canceled query that were malformed but had an _id. */
static void plan_canceled(struct ctx *c)
{
	const struct plan_input *in = c->in;

	for (size_t i = 0; i < c->cancel.n; i++) {
		const struct resv *s;

		if (i > 0 && strcmp(c->cancel.v[i], c->cancel.v[i - 1]) == 0)
			continue;
		s = find_resv(in->st->stored, in->st->nstored, c->cancel.v[i]);
		if (!s)
			continue;
		if (is_active(s)) {
			add_resv(c, ACT_CANCEL, s, "canceled", "reservation canceled");
			c->p->stats.canceled++;
			c->p->stats.updated++;
		}
		plan_locks(c, s, 0, "reservation canceled");
	}
}

/* R6: confirmed removals, unless the mass-removal guard holds them back. */
static void plan_vanished(struct ctx *c)
{
	const struct plan_input *in = c->in;
	long n = 0;

	for (size_t i = 0; i < in->st->nstored; i++)
		n += vanished(c, &in->st->stored[i]);
	if (n > c->pol->max_removals && !in->force) {
		c->p->held_back = n;
		snprintf(c->p->message, sizeof(c->p->message),
			 "held back the removal of %ld reservations that Stays no longer has (max_removals is %ld); everything else was applied; check Stays, then run again with --force",
			 n, c->pol->max_removals);
		return;
	}
	for (size_t i = 0; i < in->st->nstored; i++) {
		const struct resv *s = &in->st->stored[i];

		if (!vanished(c, s))
			continue;
		add_resv(c, ACT_REMOVE, s, "removed", "reservation no longer in Stays");
		c->p->stats.removed++;
		plan_locks(c, s, 0, "reservation no longer in Stays");
	}
}

/*
 * R7 for one reservation id that nothing above decided, with live jobs
 * [j0, j1) and credentials [k0, k1) in the by-reservation orders.
 */
static void plan_rest_one(struct ctx *c, const char *rid, size_t j0, size_t j1,
			  size_t k0, size_t k1)
{
	const struct plan_input *in = c->in;
	const struct resv *s = find_resv(in->st->stored, in->st->nstored, rid);
	struct devset ds = { NULL, 0, 0 };
	size_t i;

	if (s) {
		plan_locks(c, s, is_active(s),
			   strcmp(s->status, "removed") == 0 ?
			   "reservation no longer in Stays" : "reservation canceled");
		return;
	}
	/* No such reservation at all: cancel its jobs, revoke its PINs. */
	for (i = j0; i < j1; i++)
		devset_add(&ds, c->jobs_by_resv[i]->device);
	for (i = k0; i < k1; i++)
		devset_add(&ds, c->creds_by_resv[i]->device);
	for (i = 0; i < ds.n; i++) {
		const struct cred *cred;
		int revoking;

		find_creds(c, rid, ds.dev[i], &cred, &revoking);
		lock_inactive(c, NULL, rid, ds.dev[i], cred || revoking,
			      "reservation no longer exists", 1);
	}
	free(ds.dev);
}

/* R7: every reservation with a live job or a credential, not decided yet. */
static void plan_rest(struct ctx *c)
{
	const struct plan_input *in = c->in;
	size_t i = 0, k = 0;

	while (i < in->st->njobs || k < in->st->ncreds) {
		const char *rid;
		size_t j0 = i, k0 = k;
		int live = 0;

		if (k >= in->st->ncreds || (i < in->st->njobs &&
					strcmp(c->jobs_by_resv[i]->resv,
					       c->creds_by_resv[k]->resv) <= 0))
			rid = c->jobs_by_resv[i]->resv;
		else
			rid = c->creds_by_resv[k]->resv;
		while (i < in->st->njobs && strcmp(c->jobs_by_resv[i]->resv, rid) == 0)
			live |= is_live(c->jobs_by_resv[i++]);
		while (k < in->st->ncreds && strcmp(c->creds_by_resv[k]->resv, rid) == 0)
			k++;
		if ((live || k > k0) && !decided(c, rid))
			plan_rest_one(c, rid, j0, i, k0, k);
	}
}

enum err plan_suspects(const struct plan_input *in, time_t now,
		       const struct resv ***out, size_t *n)
{
	const struct resv **v = NULL;
	size_t len = 0, alloc = 0;
	struct idset protect, cancel;
	enum err e = ERR_OK;

	assert(in->policy && in->st && in->fr);
	assert(input_sorted(in));
	*out = NULL;
	*n = 0;
	if (in->fr->bad_without_id)
		return ERR_OK;
	idset_init(&protect, (const char *const *)in->fr->bad_ids, in->fr->nbad);
	idset_init(&cancel, (const char *const *)in->fr->cancel_ids, in->fr->ncancel);
	for (size_t i = 0; i < in->st->nstored; i++) {
		const struct resv *s = &in->st->stored[i];
		time_t cin, cout;
		enum err ie;

		if (!is_active(s) || find_resv(in->fr->items, in->fr->n, s->id) ||
		    idset_has(&protect, s->id) || idset_has(&cancel, s->id))
			continue;
		ie = plan_stay_instants(in->policy, s, NULL, &cin, &cout);
		if (ie == ERR_CONFIG) {
			e = ie;
			break;
		}
		/* A stay that has ended is not a suspect: its jobs run out. */
		if (ie == ERR_OK && cout + in->policy->valid_after <= now)
			continue;
		v = xgrow(v, sizeof(*v), len + 1, &alloc);
		v[len++] = s;
	}
	free(protect.v);
	free(cancel.v);
	if (e != ERR_OK) {
		free(v);
		return e;
	}
	*out = v;
	*n = len;
	return ERR_OK;
}

enum err plan_build(const struct plan_input *in, time_t now, struct plan *p)
{
	struct ctx c = { .in = in, .pol = in->policy, .now = now, .p = p, .err = ERR_OK };
	size_t i;

	assert(in->policy && in->st && in->fr);
	assert(input_sorted(in));
	memset(p, 0, sizeof(*p));
	c.jobs_by_resv = xcalloc(in->st->njobs + 1, sizeof(*c.jobs_by_resv));
	c.creds_by_resv = xcalloc(in->st->ncreds + 1, sizeof(*c.creds_by_resv));
	c.locks_by_listing = xcalloc(in->st->nlocks + 1, sizeof(*c.locks_by_listing));
	for (i = 0; i < in->st->njobs; i++)
		c.jobs_by_resv[i] = &in->st->jobs[i];
	for (i = 0; i < in->st->ncreds; i++)
		c.creds_by_resv[i] = &in->st->creds[i];
	for (i = 0; i < in->st->nlocks; i++)
		c.locks_by_listing[i] = &in->st->locks[i];
	qsort(c.jobs_by_resv, in->st->njobs, sizeof(*c.jobs_by_resv), cmp_job_ptr);
	qsort(c.creds_by_resv, in->st->ncreds, sizeof(*c.creds_by_resv), cmp_cred_ptr);
	qsort(c.locks_by_listing, in->st->nlocks, sizeof(*c.locks_by_listing), cmp_lock_ptr);
	idset_init(&c.protect, (const char *const *)in->fr->bad_ids, in->fr->nbad);
	idset_init(&c.cancel, (const char *const *)in->fr->cancel_ids, in->fr->ncancel);
	idset_init(&c.gone, in->gone, in->ngone);

	p->stats.errors = in->fr->nerrors;
	plan_fetched(&c);
	if (c.err == ERR_OK)
		plan_canceled(&c);
	if (c.err == ERR_OK)
		plan_vanished(&c);
	if (c.err == ERR_OK)
		plan_rest(&c);

	free(c.jobs_by_resv);
	free(c.creds_by_resv);
	free(c.locks_by_listing);
	free(c.protect.v);
	free(c.cancel.v);
	free(c.gone.v);
	if (c.err != ERR_OK)
		p->n = 0;
	return c.err;
}

void plan_release(struct plan *p)
{
	free(p->a);
	memset(p, 0, sizeof(*p));
}
