/*
 * timeline.c - the access timeline as data (timeline.h).
 *
 * Pure: rows in, struct timeline out; the only outside state read is the
 * zoneinfo files (lib/tz), as plan.c does.  Invariants kept: every lane
 * of a mapped lock exists even when it has no stay; a stay's times are on
 * its lane's zone (a lock's own zone wins over the default, as in plan.c);
 * a flag is raised once per problem, and every health item becomes one.
 *
 * The state of a stay's PIN, decided once here in this order: a wanted
 * credential (creating, unconfirmed, active) says what it is; a revoking
 * one is on its way off the lock; without either, a generate job that
 * failed is "failed", one pending or running is "planned"; a credential
 * revoked means the PIN has been and gone; else there is none.
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "timeline.h"
#include "tz.h"
#include "util.h"
#include "banned.h"

const char *timeline_state_name(enum tl_state s)
{
	static const char *const names[TL_NSTATES] = {
		"creating", "unconfirmed", "active", "revoking", "failed", "planned",
		"revoked", "none"
	};

	return (unsigned)s < TL_NSTATES ? names[s] : "?";
}

const char *timeline_flag_name(enum tl_flag_kind k)
{
	static const char *const names[TL_NFLAGS] = {
		"overlap", "unmapped", "missing", "unconfirmed", "failed", "overdue", "unrevoked"
	};

	return (unsigned)k < TL_NFLAGS ? names[k] : "?";
}

enum err timeline_range(const char *zone, const char *date, time_t now, int days,
			time_t *from, time_t *until, char *errbuf)
{
	char today[11];
	int y, m, d;
	long day;

	if (days < 1 || days > TL_DAYS_MAX)
		return ERRF(errbuf, ERR_USAGE, "--days must be a number from 1 to %d", TL_DAYS_MAX);
	if (!date) {
		if (plan_local_date(zone, now, 0, today) != ERR_OK)
			return ERRF(errbuf, ERR_CONFIG, "cannot use time zone '%s'", zone);
		date = today;
	}
	if (util_parse_date(date, &y, &m, &d) != 0)
		return ERRF(errbuf, ERR_USAGE, "bad date '%s': YYYY-MM-DD", date);
	day = util_days_from_civil(y, m, d);
	if (tz_wall_to_instant(zone, tz_wall(y, m, d, 0, 0), from) != 0)
		return ERRF(errbuf, ERR_CONFIG, "cannot use time zone '%s'", zone);
	util_civil_from_days(day + days, &y, &m, &d);
	if (tz_wall_to_instant(zone, tz_wall(y, m, d, 0, 0), until) != 0)
		return ERRF(errbuf, ERR_CONFIG, "cannot use time zone '%s'", zone);
	return ERR_OK;
}

void timeline_release(struct timeline *tl)
{
	for (size_t i = 0; i < tl->nlanes; i++)
		free(tl->lanes[i].stays);
	free(tl->lanes);
	free(tl->flags);
	memset(tl, 0, sizeof(*tl));
}

/* ---- lanes -------------------------------------------------------------- */

struct ctx {
	const struct timeline_input *in;
	struct timeline *tl;
	time_t now;
};

static const char *listing_name(const struct timeline_input *in, const char *listing)
{
	for (size_t i = 0; i < in->nnames; i++)
		if (strcmp(in->names[i].listing, listing) == 0)
			return in->names[i].name;
	return "";
}

static struct tl_lane *find_lane(struct timeline *tl, const char *listing, const char *device)
{
	for (size_t i = 0; i < tl->nlanes; i++) {
		struct tl_lane *l = &tl->lanes[i];

		if (*device ? strcmp(l->device, device) == 0
			    : !l->device[0] && strcmp(l->listing, listing) == 0)
			return l;
	}
	return NULL;
}

/* The lane of device (of listing "" for a listing without a lock); made
 * when missing, with mapped and the lock's fields from l (may be NULL). */
static struct tl_lane *lane(struct ctx *c, const char *listing, const char *device,
			    const struct lock_map *l)
{
	struct timeline *tl = c->tl;
	struct tl_lane *ln = find_lane(tl, listing, device);

	if (ln)
		return ln;
	tl->lanes = xgrow(tl->lanes, sizeof(*tl->lanes), tl->nlanes + 1, &tl->alanes);
	ln = &tl->lanes[tl->nlanes++];
	memset(ln, 0, sizeof(*ln));
	xstrlcpy(ln->listing, l ? l->listing : listing, sizeof(ln->listing));
	xstrlcpy(ln->listing_name, listing_name(c->in, ln->listing), sizeof(ln->listing_name));
	xstrlcpy(ln->device, device, sizeof(ln->device));
	xstrlcpy(ln->tz, l && l->tz[0] ? l->tz : c->in->policy->timezone, sizeof(ln->tz));
	if (l) {
		xstrlcpy(ln->lock_name, l->name, sizeof(ln->lock_name));
		ln->mapped = 1;
	}
	return ln;
}

static const struct lock_map *lock_of(const struct timeline_input *in, const char *device)
{
	for (size_t i = 0; i < in->nlocks; i++)
		if (strcmp(in->locks[i].device, device) == 0)
			return &in->locks[i];
	return NULL;
}

/* --lock and --listing. */
static int wanted(const struct timeline_input *in, const char *listing, const char *device)
{
	return (!in->device || strcmp(in->device, device) == 0) &&
	       (!in->listing || strcmp(in->listing, listing) == 0);
}

/* ---- stays -------------------------------------------------------------- */

static const struct tl_job *job_of(const struct timeline_input *in, const char *action,
				   const char *resv, const char *device)
{
	for (size_t i = 0; i < in->njobs; i++) {
		const struct job *j = &in->jobs[i].j;

		if (strcmp(j->action, action) == 0 && strcmp(j->resv, resv) == 0 &&
		    strcmp(j->device, device) == 0)
			return &in->jobs[i];
	}
	return NULL;
}

/* Which credential speaks for (resv, device): a wanted one, else a
 * revoking one, else the last revoked one. */
static int cred_rank(const char *state)
{
	if (cred_state_wanted(state))
		return 3;
	return strcmp(state, "revoking") == 0 ? 2 : 1;
}

static const struct tl_cred *cred_of(const struct timeline_input *in, const char *resv,
				     const char *device)
{
	const struct tl_cred *best = NULL;

	for (size_t i = 0; i < in->ncreds; i++) {
		const struct tl_cred *c = &in->creds[i];

		if (strcmp(c->c.resv, resv) != 0 || strcmp(c->c.device, device) != 0)
			continue;
		if (!best || cred_rank(c->c.state) > cred_rank(best->c.state) ||
		    (cred_rank(c->c.state) == cred_rank(best->c.state) && c->id > best->id))
			best = c;
	}
	return best;
}

static enum tl_state cred_state(const char *state)
{
	if (strcmp(state, "creating") == 0)
		return TL_CREATING;
	if (strcmp(state, "unconfirmed") == 0)
		return TL_UNCONFIRMED;
	if (strcmp(state, "active") == 0)
		return TL_ACTIVE;
	if (strcmp(state, "revoking") == 0)
		return TL_REVOKING;
	return TL_REVOKED;
}

static enum tl_state stay_state(const struct tl_cred *cr, const struct tl_job *gen)
{
	if (cr && strcmp(cr->c.state, "revoked") != 0)
		return cred_state(cr->c.state);
	if (gen && strcmp(gen->j.status, "failed") == 0)
		return TL_FAILED;
	if (gen && (strcmp(gen->j.status, "pending") == 0 ||
		    strcmp(gen->j.status, "running") == 0))
		return TL_PLANNED;
	return cr ? TL_REVOKED : TL_NONE;
}

/* A PIN that is or will be on the lock for this stay. */
static int tl_state_on_lock(enum tl_state s)
{
	return s == TL_CREATING || s == TL_UNCONFIRMED || s == TL_ACTIVE;
}

static time_t tmin(time_t a, time_t b) { return a < b ? a : b; }
static time_t tmax(time_t a, time_t b) { return a > b ? a : b; }

/* Put r on lane ln (live: it holds a credential there that is not
 * revoked, which shows it whatever the range). */
static enum err add_stay(struct ctx *c, struct tl_lane *ln, const struct resv *r, int live,
			 char *errbuf)
{
	const struct timeline_input *in = c->in;
	const struct plan_policy *pol = in->policy;
	const struct tl_job *gen = NULL, *rev = NULL;
	const struct tl_cred *cr = NULL;
	struct tl_stay s;
	enum err e;

	memset(&s, 0, sizeof(s));
	e = plan_stay_instants(pol, r, ln->tz, &s.checkin, &s.checkout);
	if (e == ERR_CONFIG)
		return ERRF(errbuf, e, "cannot use time zone '%s'", ln->tz);
	if (e != ERR_OK)
		return ERR_OK;  /* a stored stay with bad dates: run reports those */
	xstrlcpy(s.resv, r->id, sizeof(s.resv));
	xstrlcpy(s.code, r->code, sizeof(s.code));
	s.active = strcmp(r->status, "active") == 0;
	s.valid_from = s.checkin - pol->valid_before;
	s.valid_until = s.checkout + pol->valid_after;
	if (ln->device[0]) {
		gen = job_of(in, "generate", r->id, ln->device);
		rev = job_of(in, "revoke", r->id, ln->device);
		cr = cred_of(in, r->id, ln->device);
	}
	if (gen) {
		s.gen_at = gen->j.due;
		xstrlcpy(s.gen_status, gen->j.status, sizeof(s.gen_status));
		if (gen->j.valid_from && gen->j.valid_until) {
			s.valid_from = gen->j.valid_from;
			s.valid_until = gen->j.valid_until;
		}
	}
	if (rev) {
		s.rev_at = rev->j.due;
		xstrlcpy(s.rev_status, rev->j.status, sizeof(s.rev_status));
	}
	if (cr && (cred_state_wanted(cr->c.state) || strcmp(cr->c.state, "revoking") == 0 ||
		   !gen || strcmp(gen->j.status, "done") == 0)) {
		s.valid_from = cr->c.valid_from;
		s.valid_until = cr->c.valid_until;
	}
	s.state = ln->device[0] ? stay_state(cr, gen) : TL_NONE;
	if (!live && (tmax(s.checkout, s.valid_until) <= c->tl->from ||
		      tmin(s.checkin, s.valid_from) >= c->tl->until))
		return ERR_OK;
	ln->stays = xgrow(ln->stays, sizeof(*ln->stays), ln->n + 1, &ln->alloc);
	ln->stays[ln->n++] = s;
	return ERR_OK;
}

static enum err add_resv(struct ctx *c, const struct resv *r, char *errbuf)
{
	const struct timeline_input *in = c->in;
	int pin = strcmp(r->status, "active") == 0 && plan_is_pin_type(in->policy, r->type);
	int locks = 0;
	enum err e;

	for (size_t i = 0; i < in->nlocks; i++) {
		const struct lock_map *l = &in->locks[i];
		const struct tl_cred *cr;

		if (strcmp(l->listing, r->listing) != 0)
			continue;
		locks++;
		cr = cred_of(in, r->id, l->device);
		if (!wanted(in, l->listing, l->device) ||
		    !(pin || (cr && strcmp(cr->c.state, "revoked") != 0)))
			continue;
		e = add_stay(c, lane(c, l->listing, l->device, l), r,
			     cr && strcmp(cr->c.state, "revoked") != 0, errbuf);
		if (e != ERR_OK)
			return e;
	}
	/* A PIN on a lock that left this listing still opens that door. */
	for (size_t i = 0; i < in->ncreds; i++) {
		const struct cred *cr = &in->creds[i].c;
		const struct lock_map *l = lock_of(in, cr->device);

		if (strcmp(cr->resv, r->id) != 0 || strcmp(cr->state, "revoked") == 0 ||
		    (l && strcmp(l->listing, r->listing) == 0) ||
		    !wanted(in, l ? l->listing : r->listing, cr->device))
			continue;
		e = add_stay(c, lane(c, r->listing, cr->device, l), r, 1, errbuf);
		if (e != ERR_OK)
			return e;
	}
	if (pin && !locks && wanted(in, r->listing, ""))
		return add_stay(c, lane(c, r->listing, "", NULL), r, 0, errbuf);
	return ERR_OK;
}

/* ---- flags -------------------------------------------------------------- */

static struct tl_flag *flag(struct ctx *c, enum tl_flag_kind kind, const char *resv,
			    const char *code, const char *listing, const char *device,
			    time_t at)
{
	struct timeline *tl = c->tl;
	struct tl_flag *f;

	tl->flags = xgrow(tl->flags, sizeof(*tl->flags), tl->nflags + 1, &tl->aflags);
	f = &tl->flags[tl->nflags++];
	memset(f, 0, sizeof(*f));
	f->kind = kind;
	f->state = TL_NONE;
	xstrlcpy(f->resv, resv, sizeof(f->resv));
	xstrlcpy(f->code, code, sizeof(f->code));
	xstrlcpy(f->listing, listing, sizeof(f->listing));
	xstrlcpy(f->device, device, sizeof(f->device));
	xstrlcpy(f->tz, c->in->policy->timezone, sizeof(f->tz));
	f->at = at;
	return f;
}

/* A flag about the stay s of lane ln: the stay carries its bit. */
static struct tl_flag *stay_flag(struct ctx *c, enum tl_flag_kind kind, struct tl_lane *ln,
				 struct tl_stay *s, time_t at)
{
	struct tl_flag *f = flag(c, kind, s->resv, s->code, ln->listing, ln->device, at);

	s->flags |= 1u << kind;
	f->state = s->state;
	xstrlcpy(f->tz, ln->tz, sizeof(f->tz));
	return f;
}

/* A stay whose PIN is, or is meant to be, on the lock. */
static int holds_door(const struct tl_stay *s)
{
	return s->state != TL_REVOKED && (s->state != TL_NONE || s->active);
}

/* Two PIN windows on one lock at the same time: both guests can open it. */
static void flag_overlaps(struct ctx *c, struct tl_lane *ln)
{
	for (size_t i = 0; i < ln->n; i++) {
		struct tl_stay *a = &ln->stays[i];

		if (!holds_door(a))
			continue;
		for (size_t j = i + 1; j < ln->n; j++) {
			struct tl_stay *b = &ln->stays[j];
			struct tl_flag *f;

			if (!holds_door(b) ||
			    !(a->valid_from < b->valid_until && b->valid_from < a->valid_until))
				continue;
			a->flags |= 1u << TL_OVERLAP;
			f = stay_flag(c, TL_OVERLAP, ln, b, tmax(a->valid_from, b->valid_from));
			f->until = tmin(a->valid_until, b->valid_until);
			xstrlcpy(f->other, a->code, sizeof(f->other));
		}
	}
}

static struct tl_stay *stay_at(struct timeline *tl, const char *resv, const char *device,
			       struct tl_lane **lnp)
{
	for (size_t i = 0; i < tl->nlanes; i++) {
		struct tl_lane *ln = &tl->lanes[i];

		if (!ln->device[0] || strcmp(ln->device, device) != 0)
			continue;
		for (size_t j = 0; j < ln->n; j++) {
			if (strcmp(ln->stays[j].resv, resv) == 0) {
				*lnp = ln;
				return &ln->stays[j];
			}
		}
	}
	return NULL;
}

/* One health item as a flag, on its stay when the timeline shows it. */
static struct tl_flag *health_flag(struct ctx *c, enum tl_flag_kind kind,
				   const struct health_item *it, time_t at,
				   enum tl_state unknown)
{
	const struct timeline_input *in = c->in;
	struct tl_lane *ln = NULL;
	struct tl_stay *s = stay_at(c->tl, it->resv, it->device, &ln);
	const struct lock_map *l;
	struct tl_flag *f;

	if (s)
		return stay_flag(c, kind, ln, s, at);
	l = lock_of(in, it->device);
	if (!wanted(in, l ? l->listing : it->listing, it->device))
		return NULL;
	f = flag(c, kind, it->resv, it->code, it->listing, it->device, at);
	f->state = unknown;
	if (l && l->tz[0])
		xstrlcpy(f->tz, l->tz, sizeof(f->tz));
	return f;
}

static void flag_health(struct ctx *c, const struct health *h)
{
	struct tl_flag *f;

	for (size_t i = 0; i < h->unconfirmed.n; i++) {
		const struct health_item *it = &h->unconfirmed.v[i];

		health_flag(c, TL_UNCONFIRMED_FLAG, it, it->from, cred_state(it->state));
	}
	for (size_t i = 0; i < h->unrevoked.n; i++) {
		const struct health_item *it = &h->unrevoked.v[i];

		health_flag(c, TL_UNREVOKED, it, it->until, cred_state(it->state));
	}
	for (size_t i = 0; i < h->overdue.n; i++) {
		const struct health_item *it = &h->overdue.v[i];
		int failed = strcmp(it->state, "failed") == 0;

		f = health_flag(c, failed ? TL_FAILED_JOB : TL_OVERDUE, it, it->from,
				failed ? TL_FAILED : TL_PLANNED);
		if (!f)
			continue;
		xstrlcpy(f->action, it->action, sizeof(f->action));
		f->attempts = it->attempts;
		xstrlcpy(f->last_error, it->last_error, sizeof(f->last_error));
	}
}

/*
 * Missing: an active stay of a PIN type on a mapped lock whose generate
 * time passed more than HEALTH_GRACE ago (pin-runner had its chance),
 * whose window is not over, and that has no wanted credential - unless a
 * failed or overdue generate job already says why.  Unmapped: a stay on a
 * listing without a lock that is not over (store_unmapped()'s rule).
 */
static void flag_stays(struct ctx *c, struct tl_lane *ln)
{
	const struct plan_policy *pol = c->in->policy;

	for (size_t i = 0; i < ln->n; i++) {
		struct tl_stay *s = &ln->stays[i];
		time_t due = s->gen_at ? s->gen_at : s->checkin - pol->generate_before;

		if (!ln->device[0]) {
			if (s->checkout > c->now)
				stay_flag(c, TL_UNMAPPED, ln, s, s->checkin)->until = s->checkout;
			continue;
		}
		if (!ln->mapped || !s->active || tl_state_on_lock(s->state) ||
		    s->valid_until <= c->now || due + HEALTH_GRACE > c->now ||
		    (s->flags & (1u << TL_FAILED_JOB | 1u << TL_OVERDUE)))
			continue;
		stay_flag(c, TL_MISSING, ln, s, due);
	}
}

/* ---- order -------------------------------------------------------------- */

static int cmp_stay(const void *a, const void *b)
{
	const struct tl_stay *x = a, *y = b;

	if (x->valid_from != y->valid_from)
		return x->valid_from < y->valid_from ? -1 : 1;
	return strcmp(x->code, y->code);
}

static const char *lane_title(const struct tl_lane *l)
{
	return l->listing_name[0] ? l->listing_name : l->listing;
}

static int cmp_lane(const void *a, const void *b)
{
	const struct tl_lane *x = a, *y = b;
	int d;

	if ((d = strcmp(lane_title(x), lane_title(y))) != 0 ||
	    (d = strcmp(x->listing, y->listing)) != 0)
		return d;
	if (!x->device[0] != !y->device[0])
		return x->device[0] ? -1 : 1;
	if ((d = strcmp(x->lock_name[0] ? x->lock_name : x->device,
			y->lock_name[0] ? y->lock_name : y->device)) != 0)
		return d;
	return strcmp(x->device, y->device);
}

static int cmp_flag(const void *a, const void *b)
{
	const struct tl_flag *x = a, *y = b;
	int d;

	if (x->at != y->at)
		return x->at < y->at ? -1 : 1;
	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	if ((d = strcmp(x->code, y->code)) != 0)
		return d;
	return strcmp(x->device, y->device);
}

enum err timeline_build(const struct timeline_input *in, time_t now, time_t from,
			time_t until, int days, struct timeline *tl, char *errbuf)
{
	struct ctx c = { in, tl, now };
	enum err e = ERR_OK;

	assert(in && in->policy && tl && from < until);
	memset(tl, 0, sizeof(*tl));
	tl->from = from;
	tl->until = until;
	tl->now = now;
	tl->days = days;
	xstrlcpy(tl->tz, in->policy->timezone, sizeof(tl->tz));
	for (size_t i = 0; i < in->nlocks; i++)
		if (wanted(in, in->locks[i].listing, in->locks[i].device))
			lane(&c, in->locks[i].listing, in->locks[i].device, &in->locks[i]);
	for (size_t i = 0; i < in->nresv && e == ERR_OK; i++)
		e = add_resv(&c, &in->resv[i], errbuf);
	if (e != ERR_OK)
		return e;
	if (tl->nlanes > 1)
		qsort(tl->lanes, tl->nlanes, sizeof(*tl->lanes), cmp_lane);
	for (size_t i = 0; i < tl->nlanes; i++) {
		struct tl_lane *ln = &tl->lanes[i];

		if (ln->n > 1)
			qsort(ln->stays, ln->n, sizeof(*ln->stays), cmp_stay);
		if (ln->device[0])
			flag_overlaps(&c, ln);
	}
	if (in->health)
		flag_health(&c, in->health);
	for (size_t i = 0; i < tl->nlanes; i++)
		flag_stays(&c, &tl->lanes[i]);
	if (tl->nflags > 1)
		qsort(tl->flags, tl->nflags, sizeof(*tl->flags), cmp_flag);
	return ERR_OK;
}
