/*
 * plan.c - reconciliation decisions (SPEC §4, R3-R7) as a pure function.
 *
 * For every reservation and every lock it concerns, the code computes the
 * desired jobs (generate, update, revoke) and compares them with the stored
 * rows; only differences become actions.  Policies decided here:
 *   - A job due in the past is "due now": two due times that are both in
 *     the past are equal, so a late booking is not rescheduled every run.
 *   - A reservation whose PIN window has ended and that has no PIN gets no
 *     new one; its remaining generate/update jobs are unscheduled.
 *   - A finished job (done) whose due time is what we would plan again is
 *     left alone: it ran as planned.
 *   - A job that pin-runner is executing (running) is never rescheduled;
 *     it may be unscheduled, and the next run revokes whatever it created.
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan.h"
#include "tz.h"
#include "banned.h"

struct ctx {
	const struct plan_input *in;
	const struct config *cfg;
	time_t now;
	struct plan *p;
	const struct job **jobs_by_resv;   /* in->jobs sorted by (resv, device) */
	const struct cred **creds_by_resv; /* in->creds sorted by (resv, device) */
	const struct lock_map **locks_by_listing;
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

	return in->njobs ? bsearch(id, in->jobs, in->njobs, sizeof(*in->jobs),
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

/* First index in a pointer array sorted by resv whose resv is >= id. */
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

static const struct cred *find_cred(const struct ctx *c, const char *resv,
				    const char *device)
{
	size_t i, n = c->in->ncreds;

	LOWER_BOUND(c->creds_by_resv, n, resv, resv, i);
	for (; i < n && strcmp(c->creds_by_resv[i]->resv, resv) == 0; i++)
		if (strcmp(c->creds_by_resv[i]->device, device) == 0)
			return c->creds_by_resv[i];
	return NULL;
}

static const struct lock_map *mapped_lock(const struct ctx *c, const char *listing,
					  const char *device)
{
	size_t i, n = c->in->nlocks;

	LOWER_BOUND(c->locks_by_listing, n, listing, listing, i);
	for (; i < n && strcmp(c->locks_by_listing[i]->listing, listing) == 0; i++)
		if (strcmp(c->locks_by_listing[i]->device, device) == 0)
			return c->locks_by_listing[i];
	return NULL;
}

/* ---- time ------------------------------------------------------------- */

enum err plan_stay_instants(const struct config *cfg, const struct resv *r,
			    const char *tz, time_t *checkin, time_t *checkout)
{
	int y, m, d, hh, mm;

	if (!tz || !*tz)
		tz = cfg->pins.timezone;
	if (util_parse_date(r->in_date, &y, &m, &d) != 0)
		return ERR_DATA;
	if (r->in_time[0]) {
		if (util_parse_hhmm(r->in_time, &hh, &mm) != 0)
			return ERR_DATA;
	} else {
		hh = cfg->pins.checkin_min / 60;
		mm = cfg->pins.checkin_min % 60;
	}
	if (tz_wall_to_instant(tz, tz_wall(y, m, d, hh, mm), checkin) != 0)
		return ERR_CONFIG;
	if (util_parse_date(r->out_date, &y, &m, &d) != 0)
		return ERR_DATA;
	if (r->out_time[0]) {
		if (util_parse_hhmm(r->out_time, &hh, &mm) != 0)
			return ERR_DATA;
	} else {
		hh = cfg->pins.checkout_min / 60;
		mm = cfg->pins.checkout_min % 60;
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

	xstrlcpy(a->status, status, sizeof(a->status));
	a->reason = reason;
}

static void job_id(char *out, const char *action, const char *resv, const char *device)
{
	snprintf(out, JOB_ID_MAX + 1, "%s:%s:%s", action, resv, device);
}

/* r may be NULL for a job whose reservation no longer exists (R7). */
static void add_job(struct ctx *c, enum plan_kind kind, const struct resv *r,
		    const char *resv_id, const char *action, const char *device,
		    time_t due, time_t vf, time_t vu, const char *status,
		    const char *reason)
{
	struct action *a = add(c, kind, r);

	job_id(a->job.id, action, resv_id, device);
	xstrlcpy(a->job.action, action, sizeof(a->job.action));
	xstrlcpy(a->job.resv, resv_id, sizeof(a->job.resv));
	xstrlcpy(a->job.device, device, sizeof(a->job.device));
	a->job.due = due;
	a->job.valid_from = vf;
	a->job.valid_until = vu;
	xstrlcpy(a->job.status, status, sizeof(a->job.status));
	a->reason = reason;
}

static int is_live(const struct job *j)
{
	return j && (strcmp(j->status, "pending") == 0 ||
		     strcmp(j->status, "running") == 0 ||
		     strcmp(j->status, "failed") == 0);
}

static int is_status(const struct job *j, const char *s)
{
	return j && strcmp(j->status, s) == 0;
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

/*
 * Make job (action, r, device) pending with due/window, unless it already
 * is (or failed/ran with exactly that schedule).
 */
static void want_job(struct ctx *c, const struct resv *r, const char *action,
		     const char *device, time_t due, time_t vf, time_t vu,
		     int keep_done)
{
	char id[JOB_ID_MAX + 1];
	const struct job *j;

	job_id(id, action, r->id, device);
	j = find_job(c, id);
	if (is_status(j, "running"))
		return;
	if (j && (is_live(j) || (keep_done && is_status(j, "done"))) &&
	    same_due(j->due, due, c->now) && j->valid_from == vf &&
	    j->valid_until == vu)
		return;
	add_job(c, (is_status(j, "pending") || is_status(j, "failed")) ?
		ACT_RESCHEDULE : ACT_SCHEDULE, r, r->id, action, device,
		due_to_store(due, c->now), vf, vu, "pending", NULL);
}

static void drop_job(struct ctx *c, const struct resv *r, const char *action,
		     const char *device, const char *reason, int orphan)
{
	char id[JOB_ID_MAX + 1];
	const struct job *j;

	job_id(id, action, r->id, device);
	j = find_job(c, id);
	if (!is_live(j))
		return;
	add_job(c, ACT_UNSCHEDULE, r, r->id, action, device, j->due, j->valid_from,
		j->valid_until, "canceled", reason);
	if (orphan)
		c->p->stats.orphaned++;
}

/* ---- per (reservation, lock) decisions -------------------------------- */

static void lock_active(struct ctx *c, const struct resv *r, const struct lock_map *l,
			const struct cred *cred)
{
	const struct config *cfg = c->cfg;
	time_t cin, cout, vf, vu, gdue, rdue;
	char id[JOB_ID_MAX + 1];
	const struct job *gen;
	enum err e;

	e = plan_stay_instants(cfg, r, l->tz, &cin, &cout);
	if (e != ERR_OK) {
		if (c->err == ERR_OK) {
			c->err = e;
			snprintf(c->p->message, sizeof(c->p->message),
				 "cannot compute the stay of reservation '%s' on lock '%s'",
				 r->code, l->device);
		}
		return;
	}
	vf = cin - cfg->pins.valid_before;
	vu = cout + cfg->pins.valid_after;
	gdue = cin - cfg->pins.generate_before;
	rdue = cout + cfg->pins.revoke_after;

	if (!cred && vu <= c->now) {
		drop_job(c, r, "generate", l->device, "check-out has passed", 0);
		drop_job(c, r, "update", l->device, "check-out has passed", 0);
		return;
	}
	job_id(id, "generate", r->id, l->device);
	gen = find_job(c, id);
	if (is_live(gen) || !cred) {
		/* Not yet on the lock: the generate job carries the window. */
		want_job(c, r, "generate", l->device, gdue, vf, vu, 0);
	} else if (cred->valid_from != vf || cred->valid_until != vu) {
		/* On the lock with another window: change it there (R5). */
		want_job(c, r, "update", l->device, c->now, vf, vu, 0);
	}
	want_job(c, r, "revoke", l->device, rdue, 0, 0, 1);
}

static void lock_inactive(struct ctx *c, const struct resv *r, const char *device,
			  const struct cred *cred, const char *reason, int orphan)
{
	char id[JOB_ID_MAX + 1];
	const struct job *rev;

	drop_job(c, r, "generate", device, reason, orphan);
	drop_job(c, r, "update", device, reason, orphan);
	job_id(id, "revoke", r->id, device);
	rev = find_job(c, id);
	if (cred) {
		/* A PIN is (or may be) on the lock: revoke it at once. */
		if (is_status(rev, "running") ||
		    (is_status(rev, "pending") && rev->due <= c->now))
			return;
		add_job(c, is_status(rev, "pending") || is_status(rev, "failed") ?
			ACT_RESCHEDULE : ACT_SCHEDULE, r, r->id, "revoke", device, c->now,
			0, 0, "pending", reason);
	} else {
		drop_job(c, r, "revoke", device, reason, orphan);
	}
}

struct devset {
	const char *dev[64];
	size_t n;
	int overflow;
};

static void devset_add(struct devset *s, const char *d)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->dev[i], d) == 0)
			return;
	if (s->n == sizeof(s->dev) / sizeof(*s->dev)) {
		s->overflow = 1;
		return;
	}
	s->dev[s->n++] = d;
}

/*
 * All jobs of reservation r on every lock that concerns it: the locks of its
 * listing, and any lock that has a job or a PIN for it.
 */
static void plan_locks(struct ctx *c, const struct resv *r, int active,
		       const char *reason)
{
	const struct plan_input *in = c->in;
	struct devset ds = { .n = 0 };
	size_t i;

	LOWER_BOUND(c->locks_by_listing, in->nlocks, listing, r->listing, i);
	for (; i < in->nlocks && strcmp(c->locks_by_listing[i]->listing, r->listing) == 0; i++)
		devset_add(&ds, c->locks_by_listing[i]->device);
	LOWER_BOUND(c->jobs_by_resv, in->njobs, resv, r->id, i);
	for (; i < in->njobs && strcmp(c->jobs_by_resv[i]->resv, r->id) == 0; i++)
		devset_add(&ds, c->jobs_by_resv[i]->device);
	LOWER_BOUND(c->creds_by_resv, in->ncreds, resv, r->id, i);
	for (; i < in->ncreds && strcmp(c->creds_by_resv[i]->resv, r->id) == 0; i++)
		devset_add(&ds, c->creds_by_resv[i]->device);

	for (i = 0; i < ds.n; i++) {
		const struct lock_map *l = mapped_lock(c, r->listing, ds.dev[i]);
		const struct cred *cred = find_cred(c, r->id, ds.dev[i]);

		if (active && l)
			lock_active(c, r, l, cred);
		else if (active)
			lock_inactive(c, r, ds.dev[i], cred,
				      "lock no longer mapped to the listing", 1);
		else
			lock_inactive(c, r, ds.dev[i], cred, reason, 0);
	}
}

/* ---- the plan --------------------------------------------------------- */

static int tracked_differ(const struct resv *a, const struct resv *b)
{
	return strcmp(a->code, b->code) || strcmp(a->listing, b->listing) ||
	       strcmp(a->in_date, b->in_date) || strcmp(a->in_time, b->in_time) ||
	       strcmp(a->out_date, b->out_date) || strcmp(a->out_time, b->out_time) ||
	       strcmp(a->type, b->type) || a->guests != b->guests;
}

static int is_protected(const struct plan_input *in, const char *id)
{
	for (size_t i = 0; i < in->nprotect; i++)
		if (strcmp(in->protect[i], id) == 0)
			return 1;
	return 0;
}

static int vanished(const struct plan_input *in, const struct resv *s)
{
	return strcmp(s->status, "active") == 0 &&
	       !find_resv(in->fetched, in->nfetched, s->id) &&
	       !is_protected(in, s->id) &&
	       strcmp(s->out_date, in->window_from) >= 0 &&
	       strcmp(s->out_date, in->window_to) <= 0;
}

static void plan_fetched(struct ctx *c)
{
	const struct plan_input *in = c->in;
	struct plan_stats *st = &c->p->stats;

	for (size_t i = 0; i < in->nfetched; i++) {
		const struct resv *r = &in->fetched[i];
		const struct resv *s = find_resv(in->stored, in->nstored, r->id);
		int active = config_is_pin_type(c->cfg, r->type);
		const char *status = active ? "active" : "canceled";

		st->fetched++;
		if (!s) {
			add_resv(c, ACT_CREATE, r, status, NULL);
			st->created++;
		} else if (tracked_differ(s, r) || strcmp(s->status, status) != 0) {
			st->updated++;
			if (!active && strcmp(s->status, "active") == 0) {
				add_resv(c, ACT_CANCEL, r, status,
					 "reservation canceled");
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

/* R6: returns 0, or -1 when the mass-removal guard refuses. */
static int plan_vanished(struct ctx *c)
{
	const struct plan_input *in = c->in;
	long n = 0;

	if (in->skip_vanish)
		return 0;
	for (size_t i = 0; i < in->nstored; i++)
		n += vanished(in, &in->stored[i]);
	if (n > c->cfg->stays.max_removals && !in->force) {
		snprintf(c->p->message, sizeof(c->p->message),
			 "refusing to remove %ld reservations that are no longer in Stays (max_removals is %ld); check Stays, then run again with --force",
			 n, c->cfg->stays.max_removals);
		return -1;
	}
	for (size_t i = 0; i < in->nstored; i++) {
		const struct resv *s = &in->stored[i];

		if (!vanished(in, s))
			continue;
		add_resv(c, ACT_REMOVE, s, "removed", "reservation no longer in Stays");
		c->p->stats.removed++;
		plan_locks(c, s, 0, "reservation no longer in Stays");
	}
	return 0;
}

/* R7: live jobs of reservations that neither the fetch nor R6 covered. */
static void plan_orphans(struct ctx *c)
{
	const struct plan_input *in = c->in;
	size_t i = 0;

	while (i < in->njobs) {
		const char *rid = c->jobs_by_resv[i]->resv;
		const struct resv *s;
		size_t j, end = i;
		int live = 0;

		while (end < in->njobs && strcmp(c->jobs_by_resv[end]->resv, rid) == 0)
			live |= is_live(c->jobs_by_resv[end++]);
		if (!live || find_resv(in->fetched, in->nfetched, rid)) {
			i = end;
			continue;
		}
		s = find_resv(in->stored, in->nstored, rid);
		if (s) {
			if (!vanished(in, s) || in->skip_vanish)
				plan_locks(c, s, strcmp(s->status, "active") == 0,
					   strcmp(s->status, "removed") == 0 ?
					   "reservation no longer in Stays" :
					   "reservation canceled");
			i = end;
			continue;
		}
		/* No such reservation at all: cancel its jobs, revoke its PINs. */
		for (j = i; j < end; j++) {
			const struct job *jb = c->jobs_by_resv[j];

			if (!is_live(jb))
				continue;
			if (strcmp(jb->action, "revoke") == 0 &&
			    find_cred(c, jb->resv, jb->device)) {
				/* A PIN may be on the lock: keep the revoke, due now. */
				if (!is_status(jb, "running") && jb->due > c->now)
					add_job(c, ACT_RESCHEDULE, NULL, jb->resv, "revoke",
						jb->device, c->now, 0, 0, "pending",
						"reservation no longer exists");
				continue;
			}
			add_job(c, ACT_UNSCHEDULE, NULL, jb->resv, jb->action, jb->device,
				jb->due, jb->valid_from, jb->valid_until, "canceled",
				"reservation no longer exists");
			c->p->stats.orphaned++;
		}
		i = end;
	}
}

enum err plan_build(const struct plan_input *in, time_t now, struct plan *p)
{
	struct ctx c = { .in = in, .cfg = in->cfg, .now = now, .p = p, .err = ERR_OK };
	size_t i;

	assert(in->cfg);
	memset(p, 0, sizeof(*p));
	c.jobs_by_resv = xcalloc(in->njobs + 1, sizeof(*c.jobs_by_resv));
	c.creds_by_resv = xcalloc(in->ncreds + 1, sizeof(*c.creds_by_resv));
	c.locks_by_listing = xcalloc(in->nlocks + 1, sizeof(*c.locks_by_listing));
	for (i = 0; i < in->njobs; i++)
		c.jobs_by_resv[i] = &in->jobs[i];
	for (i = 0; i < in->ncreds; i++)
		c.creds_by_resv[i] = &in->creds[i];
	for (i = 0; i < in->nlocks; i++)
		c.locks_by_listing[i] = &in->locks[i];
	qsort(c.jobs_by_resv, in->njobs, sizeof(*c.jobs_by_resv), cmp_job_ptr);
	qsort(c.creds_by_resv, in->ncreds, sizeof(*c.creds_by_resv), cmp_cred_ptr);
	qsort(c.locks_by_listing, in->nlocks, sizeof(*c.locks_by_listing), cmp_lock_ptr);

	p->stats.errors = in->errors;
	plan_fetched(&c);
	if (c.err == ERR_OK && plan_vanished(&c) != 0) {
		struct plan_stats keep = p->stats;

		p->n = 0;
		p->refused = 1;
		p->stats = keep;
		c.err = ERR_DATA;
	}
	if (c.err == ERR_OK)
		plan_orphans(&c);

	free(c.jobs_by_resv);
	free(c.creds_by_resv);
	free(c.locks_by_listing);
	if (c.err != ERR_OK)
		p->n = 0;
	return c.err;
}

void plan_release(struct plan *p)
{
	free(p->a);
	memset(p, 0, sizeof(*p));
}
