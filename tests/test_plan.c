/*
 * test_plan.c - the reconciliation rules R3-R7 as table-driven cases
 * against plan_build(), a pure function: stored state + fetched
 * reservations + lock mapping + policy + now -> actions and stats.  The
 * policy is the configuration's defaults, written here: no config file.
 *
 * Times: the default zone America/Sao_Paulo is UTC-3 all year, so a
 * check-in on 2026-12-10 at 15:00 is 18:00Z, the generate job (2h before)
 * is due 16:00Z, check-out 2026-12-12 11:00 is 14:00Z and the revoke job
 * (24h after) is due 2026-12-13 14:00Z.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "plan.h"
#include "stays.h"
#include "store.h"

static const char *const pin_types[] = { "reserved", "booked", "contract" };

/* The defaults of SPEC §3, as plan_policy_from_config() would give them. */
static const struct plan_policy policy = {
	.timezone = "America/Sao_Paulo",
	.checkin_min = 15 * 60,
	.checkout_min = 11 * 60,
	.generate_before = 2 * 3600,
	.revoke_after = 24 * 3600,
	.valid_before = 0,
	.valid_after = 0,
	.pin_types = pin_types,
	.npin_types = 3,
	.max_removals = 10,
};

static time_t T(const char *iso)
{
	time_t t;

	if (util_parse_time(iso, &t) != 0)
		fail_msg("bad time %s", iso);
	return t;
}

static struct resv R(const char *id, const char *listing, const char *in,
		     const char *out, const char *type, const char *status)
{
	struct resv r;

	memset(&r, 0, sizeof(r));
	xstrlcpy(r.id, id, sizeof(r.id));
	snprintf(r.code, sizeof(r.code), "C%s", id);
	xstrlcpy(r.listing, listing, sizeof(r.listing));
	xstrlcpy(r.in_date, in, sizeof(r.in_date));
	xstrlcpy(r.out_date, out, sizeof(r.out_date));
	xstrlcpy(r.type, type, sizeof(r.type));
	xstrlcpy(r.status, status, sizeof(r.status));
	r.guests = 2;
	return r;
}

static struct lock_map L(const char *listing, const char *device)
{
	struct lock_map l;

	memset(&l, 0, sizeof(l));
	xstrlcpy(l.listing, listing, sizeof(l.listing));
	xstrlcpy(l.device, device, sizeof(l.device));
	return l;
}

static struct job J(const char *action, const char *resv, const char *device,
		    const char *due, const char *vf, const char *vu, const char *status)
{
	struct job j;

	memset(&j, 0, sizeof(j));
	snprintf(j.id, sizeof(j.id), "%s:%s:%s", action, resv, device);
	xstrlcpy(j.action, action, sizeof(j.action));
	xstrlcpy(j.resv, resv, sizeof(j.resv));
	xstrlcpy(j.device, device, sizeof(j.device));
	j.due = T(due);
	j.valid_from = vf ? T(vf) : 0;
	j.valid_until = vu ? T(vu) : 0;
	xstrlcpy(j.status, status, sizeof(j.status));
	return j;
}

static struct cred C(const char *resv, const char *device, const char *vf, const char *vu)
{
	struct cred c;

	memset(&c, 0, sizeof(c));
	xstrlcpy(c.resv, resv, sizeof(c.resv));
	xstrlcpy(c.device, device, sizeof(c.device));
	c.valid_from = T(vf);
	c.valid_until = T(vu);
	xstrlcpy(c.state, "active", sizeof(c.state));
	return c;
}

#define MAXN 16

struct tcase {
	const char *name;
	const char *now;
	struct resv fetched[MAXN]; size_t nf;
	struct resv stored[MAXN]; size_t ns;
	struct lock_map locks[MAXN]; size_t nl;
	struct job jobs[MAXN]; size_t nj;
	struct cred creds[MAXN]; size_t nc;
	const char *gone[MAXN]; size_t ng;      /* R6: confirmed gone by id */
	const char *cancel[MAXN]; size_t ncx;   /* R8: canceled by id */
	int force;
	enum err want_err;
	const char *want;       /* one action per line, see fmt_action */
	struct plan_stats want_stats;
};

/* "schedule generate:1:D1 due=... vf=... vu=... pending" or "create 1 active" */
static void fmt_plan(const struct plan *p, struct strbuf *out)
{
	for (size_t i = 0; i < p->n; i++) {
		const struct action *a = &p->a[i];
		char d[UTC_ISO_LEN + 1];

		strbuf_adds(out, plan_kind_name(a->kind));
		if (a->kind >= ACT_SCHEDULE) {
			char id[JOB_ID_MAX + 1];

			plan_job_id(&a->job, id);
			util_fmt_utc(a->job.due, d, sizeof(d));
			strbuf_addf(out, " %s due=%s", id, d);
			if (a->job.valid_from) {
				util_fmt_utc(a->job.valid_from, d, sizeof(d));
				strbuf_addf(out, " vf=%s", d);
				util_fmt_utc(a->job.valid_until, d, sizeof(d));
				strbuf_addf(out, " vu=%s", d);
			}
			strbuf_addf(out, " %s", a->job.status);
		} else {
			strbuf_addf(out, " %s %s", a->r->id, a->status);
		}
		strbuf_adds(out, "\n");
	}
}

static void sort_resv(struct resv *r, size_t n)
{
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && strcmp(r[j - 1].id, r[j].id) > 0; j--) {
			struct resv t = r[j];

			r[j] = r[j - 1];
			r[j - 1] = t;
		}
}

static void sort_jobs(struct job *r, size_t n)
{
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && strcmp(r[j - 1].id, r[j].id) > 0; j--) {
			struct job t = r[j];

			r[j] = r[j - 1];
			r[j - 1] = t;
		}
}

static enum err run_plan(struct tcase *tc, struct plan *p)
{
	struct plan_input in;
	struct state st;
	struct fetch_result fr;

	sort_resv(tc->fetched, tc->nf);
	sort_resv(tc->stored, tc->ns);
	sort_jobs(tc->jobs, tc->nj);
	memset(&st, 0, sizeof(st));
	st.stored = tc->stored;
	st.nstored = tc->ns;
	st.locks = tc->locks;
	st.nlocks = tc->nl;
	st.jobs = tc->jobs;
	st.njobs = tc->nj;
	st.creds = tc->creds;
	st.ncreds = tc->nc;
	memset(&fr, 0, sizeof(fr));
	fr.items = tc->fetched;
	fr.n = tc->nf;
	fr.cancel_ids = (char **)tc->cancel;
	fr.ncancel = tc->ncx;
	memset(&in, 0, sizeof(in));
	in.policy = &policy;
	in.st = &st;
	in.fr = &fr;
	in.force = tc->force;
	in.gone = tc->gone;
	in.ngone = tc->ng;
	return plan_build(&in, T(tc->now), p);
}

static void check_case(struct tcase *tc)
{
	struct plan p;
	struct strbuf got = STRBUF_INIT;
	enum err e = run_plan(tc, &p);

	fmt_plan(&p, &got);
	if (e != tc->want_err || strcmp(strbuf_str(&got), tc->want) != 0)
		fail_msg("case '%s': err %d (want %d)\n--- got:\n%s--- want:\n%s", tc->name,
			 e, tc->want_err, strbuf_str(&got), tc->want);
	if (memcmp(&p.stats, &tc->want_stats, sizeof(p.stats)) != 0)
		fail_msg("case '%s': stats fetched %ld created %ld updated %ld unchanged %ld canceled %ld removed %ld orphaned %ld",
			 tc->name, p.stats.fetched, p.stats.created, p.stats.updated,
			 p.stats.unchanged, p.stats.canceled, p.stats.removed, p.stats.orphaned);
	plan_release(&p);
	strbuf_release(&got);
}

#define NOW "2026-12-01T12:00:00Z"
#define IN "2026-12-10"
#define OUT "2026-12-12"
#define GDUE "2026-12-10T16:00:00Z"
#define VF "2026-12-10T18:00:00Z"
#define VU "2026-12-12T14:00:00Z"
#define RDUE "2026-12-13T14:00:00Z"

static void test_new(void **state)
{
	struct tcase tc = {
		.name = "new reservation", .now = NOW,
		.fetched = { R("1", "L1", IN, OUT, "booked", "") }, .nf = 1,
		.locks = { L("L1", "D1"), L("L1", "D2"), L("L9", "D9") }, .nl = 3,
		.want = "create 1 active\n"
			"schedule generate:1:D1 due=" GDUE " vf=" VF " vu=" VU " pending\n"
			"schedule revoke:1:D1 due=" RDUE " pending\n"
			"schedule generate:1:D2 due=" GDUE " vf=" VF " vu=" VU " pending\n"
			"schedule revoke:1:D2 due=" RDUE " pending\n",
		.want_stats = { .fetched = 1, .created = 1 },
	};

	(void)state;
	check_case(&tc);
}

static void test_unchanged(void **state)
{
	struct tcase tc = {
		.name = "unchanged", .now = NOW,
		.fetched = { R("1", "L1", IN, OUT, "booked", "") }, .nf = 1,
		.stored = { R("1", "L1", IN, OUT, "booked", "active") }, .ns = 1,
		.locks = { L("L1", "D1") }, .nl = 1,
		.jobs = { J("generate", "1", "D1", GDUE, VF, VU, "pending"),
			  J("revoke", "1", "D1", RDUE, NULL, NULL, "pending") }, .nj = 2,
		.want = "",
		.want_stats = { .fetched = 1, .unchanged = 1 },
	};

	(void)state;
	check_case(&tc);
}

static void test_changed_guests(void **state)
{
	struct tcase tc = {
		.name = "guest count changed", .now = NOW,
		.fetched = { R("1", "L1", IN, OUT, "booked", "") }, .nf = 1,
		.stored = { R("1", "L1", IN, OUT, "booked", "active") }, .ns = 1,
		.locks = { L("L1", "D1") }, .nl = 1,
		.jobs = { J("generate", "1", "D1", GDUE, VF, VU, "pending"),
			  J("revoke", "1", "D1", RDUE, NULL, NULL, "pending") }, .nj = 2,
		.want = "update 1 active\n",
		.want_stats = { .fetched = 1, .updated = 1 },
	};

	(void)state;
	tc.fetched[0].guests = 5;
	check_case(&tc);
}

static void test_date_moved_pending(void **state)
{
	struct tcase tc = {
		.name = "date moved, PIN not yet created", .now = NOW,
		.fetched = { R("1", "L1", "2026-12-11", "2026-12-14", "booked", "") }, .nf = 1,
		.stored = { R("1", "L1", IN, OUT, "booked", "active") }, .ns = 1,
		.locks = { L("L1", "D1") }, .nl = 1,
		.jobs = { J("generate", "1", "D1", GDUE, VF, VU, "pending"),
			  J("revoke", "1", "D1", RDUE, NULL, NULL, "pending") }, .nj = 2,
		.want = "update 1 active\n"
			"reschedule generate:1:D1 due=2026-12-11T16:00:00Z vf=2026-12-11T18:00:00Z vu=2026-12-14T14:00:00Z pending\n"
			"reschedule revoke:1:D1 due=2026-12-15T14:00:00Z pending\n",
		.want_stats = { .fetched = 1, .updated = 1 },
	};

	(void)state;
	check_case(&tc);
}

static void test_date_moved_pin_on_lock(void **state)
{
	struct tcase tc = {
		.name = "date moved, PIN on the lock", .now = "2026-12-10T20:00:00Z",
		.fetched = { R("1", "L1", IN, "2026-12-13", "booked", "") }, .nf = 1,
		.stored = { R("1", "L1", IN, OUT, "booked", "active") }, .ns = 1,
		.locks = { L("L1", "D1") }, .nl = 1,
		.jobs = { J("generate", "1", "D1", GDUE, VF, VU, "done"),
			  J("revoke", "1", "D1", RDUE, NULL, NULL, "pending") }, .nj = 2,
		.creds = { C("1", "D1", VF, VU) }, .nc = 1,
		.want = "update 1 active\n"
			"schedule update:1:D1 due=2026-12-10T20:00:00Z vf=" VF " vu=2026-12-13T14:00:00Z pending\n"
			"reschedule revoke:1:D1 due=2026-12-14T14:00:00Z pending\n",
		.want_stats = { .fetched = 1, .updated = 1 },
	};

	(void)state;
	check_case(&tc);
}

static void test_canceled_no_pin(void **state)
{
	struct tcase tc = {
		.name = "canceled before the PIN", .now = NOW,
		.fetched = { R("1", "L1", IN, OUT, "canceled", "") }, .nf = 1,
		.stored = { R("1", "L1", IN, OUT, "booked", "active") }, .ns = 1,
		.locks = { L("L1", "D1") }, .nl = 1,
		.jobs = { J("generate", "1", "D1", GDUE, VF, VU, "pending"),
			  J("revoke", "1", "D1", RDUE, NULL, NULL, "pending") }, .nj = 2,
		.want = "cancel 1 canceled\n"
			"unschedule generate:1:D1 due=" GDUE " vf=" VF " vu=" VU " canceled\n"
			"unschedule revoke:1:D1 due=" RDUE " canceled\n",
		.want_stats = { .fetched = 1, .updated = 1, .canceled = 1 },
	};

	(void)state;
	check_case(&tc);
}

static void test_canceled_with_pin(void **state)
{
	struct tcase tc = {
		.name = "canceled with a PIN on the lock", .now = "2026-12-10T17:00:00Z",
		.fetched = { R("1", "L1", IN, OUT, "canceled", "") }, .nf = 1,
		.stored = { R("1", "L1", IN, OUT, "booked", "active") }, .ns = 1,
		.locks = { L("L1", "D1") }, .nl = 1,
		.jobs = { J("generate", "1", "D1", GDUE, VF, VU, "done"),
			  J("revoke", "1", "D1", RDUE, NULL, NULL, "pending") }, .nj = 2,
		.creds = { C("1", "D1", VF, VU) }, .nc = 1,
		.want = "cancel 1 canceled\n"
			"reschedule revoke:1:D1 due=2026-12-10T17:00:00Z pending\n",
		.want_stats = { .fetched = 1, .updated = 1, .canceled = 1 },
	};

	(void)state;
	check_case(&tc);
}

static void test_type_left_pin_types(void **state)
{
	struct tcase tc = {
		.name = "type became blocked", .now = NOW,
		.fetched = { R("1", "L1", IN, OUT, "blocked", "") }, .nf = 1,
		.stored = { R("1", "L1", IN, OUT, "booked", "active") }, .ns = 1,
		.locks = { L("L1", "D1") }, .nl = 1,
		.jobs = { J("generate", "1", "D1", GDUE, VF, VU, "pending") }, .nj = 1,
		.want = "cancel 1 canceled\n"
			"unschedule generate:1:D1 due=" GDUE " vf=" VF " vu=" VU " canceled\n",
		.want_stats = { .fetched = 1, .updated = 1, .canceled = 1 },
	};

	(void)state;
	check_case(&tc);
}

static void test_vanished(void **state)
{
	struct tcase tc = {
		.name = "vanished", .now = NOW,
		.stored = { R("1", "L1", IN, OUT, "booked", "active"),
			    R("2", "L1", "2026-11-01", "2026-11-05", "booked", "active") }, .ns = 2,
		.locks = { L("L1", "D1") }, .nl = 1,
		.jobs = { J("generate", "1", "D1", GDUE, VF, VU, "pending"),
			  J("revoke", "1", "D1", RDUE, NULL, NULL, "pending") }, .nj = 2,
		.gone = { "1" }, .ng = 1,
		.want = "remove 1 removed\n"
			"unschedule generate:1:D1 due=" GDUE " vf=" VF " vu=" VU " canceled\n"
			"unschedule revoke:1:D1 due=" RDUE " canceled\n",
		.want_stats = { .removed = 1 },
	};

	(void)state;
	/* "2" checked out long ago: it is not expected back. */
	check_case(&tc);
	/* Not confirmed gone by id (R6): a suspect is kept as it is. */
	tc.ng = 0;
	tc.want = "";
	tc.want_stats.removed = 0;
	check_case(&tc);
}

static void test_mass_removal_guard(void **state)
{
	struct tcase tc = {
		.name = "more than max_removals confirmed gone", .now = NOW,
		.fetched = { R("keep", "L1", IN, OUT, "booked", ""),
			     R("new", "L1", IN, OUT, "booked", ""),
			     R("x", "L1", IN, OUT, "canceled", "") }, .nf = 3,
		.stored = { R("keep", "L1", IN, OUT, "booked", "active"),
			    R("x", "L1", IN, OUT, "booked", "active") }, .ns = 13,
		.locks = { L("L1", "D1") }, .nl = 1,
		.creds = { C("x", "D1", VF, VU) }, .nc = 1,
		.jobs = { J("generate", "keep", "D1", GDUE, VF, VU, "pending"),
			  J("revoke", "keep", "D1", RDUE, NULL, NULL, "pending"),
			  J("revoke", "x", "D1", RDUE, NULL, NULL, "pending"),
			  J("generate", "v01", "D1", GDUE, VF, VU, "pending"),
			  J("revoke", "v01", "D1", RDUE, NULL, NULL, "pending") }, .nj = 5,
		.ng = 11,
		/* The removals wait; the new booking and the cancellation do not. */
		.want = "create new active\n"
			"schedule generate:new:D1 due=" GDUE " vf=" VF " vu=" VU " pending\n"
			"schedule revoke:new:D1 due=" RDUE " pending\n"
			"cancel x canceled\n"
			"reschedule revoke:x:D1 due=" NOW " pending\n",
		.want_stats = { .fetched = 3, .created = 1, .updated = 1, .unchanged = 1,
				.canceled = 1 },
	};
	static char ids[11][8];
	struct plan p;

	(void)state;
	for (int i = 1; i <= 11; i++) {
		snprintf(ids[i - 1], sizeof(ids[i - 1]), "v%02u", (unsigned)i % 100u);
		tc.stored[i + 1] = R(ids[i - 1], "L1", IN, OUT, "booked", "active");
		tc.gone[i - 1] = ids[i - 1];
	}
	check_case(&tc);
	assert_int_equal(run_plan(&tc, &p), ERR_OK);
	assert_int_equal(p.held_back, 11);
	assert_non_null(strstr(p.message, "held back the removal of 11 reservations"));
	assert_non_null(strstr(p.message, "--force"));
	plan_release(&p);

	/* --force removes them all. */
	tc.force = 1;
	assert_int_equal(run_plan(&tc, &p), ERR_OK);
	assert_int_equal(p.held_back, 0);
	assert_int_equal(p.stats.removed, 11);
	plan_release(&p);

	/* Exactly max_removals is allowed. */
	tc.force = 0;
	tc.ng = 10;
	assert_int_equal(run_plan(&tc, &p), ERR_OK);
	assert_int_equal(p.held_back, 0);
	assert_int_equal(p.stats.removed, 10);
	plan_release(&p);
}

static void test_mapping_removed(void **state)
{
	struct tcase tc = {
		.name = "lock unmapped", .now = "2026-12-10T17:00:00Z",
		.fetched = { R("1", "L1", IN, OUT, "booked", ""),
			     R("2", "L1", IN, OUT, "booked", "") }, .nf = 2,
		.stored = { R("1", "L1", IN, OUT, "booked", "active"),
			    R("2", "L1", IN, OUT, "booked", "active") }, .ns = 2,
		.jobs = { J("generate", "1", "D1", GDUE, VF, VU, "pending"),
			  J("revoke", "1", "D1", RDUE, NULL, NULL, "pending"),
			  J("generate", "2", "D1", GDUE, VF, VU, "done"),
			  J("revoke", "2", "D1", RDUE, NULL, NULL, "pending") }, .nj = 4,
		.creds = { C("2", "D1", VF, VU) }, .nc = 1,
		.want = "unschedule generate:1:D1 due=" GDUE " vf=" VF " vu=" VU " canceled\n"
			"unschedule revoke:1:D1 due=" RDUE " canceled\n"
			"reschedule revoke:2:D1 due=2026-12-10T17:00:00Z pending\n",
		/* R7: two jobs dropped and one credential's revoke brought forward. */
		.want_stats = { .fetched = 2, .unchanged = 2, .orphaned = 3 },
	};

	(void)state;
	check_case(&tc);
}

static void test_listing_changed(void **state)
{
	struct tcase tc = {
		.name = "moved to another listing", .now = "2026-12-10T17:00:00Z",
		.fetched = { R("1", "L2", IN, OUT, "booked", "") }, .nf = 1,
		.stored = { R("1", "L1", IN, OUT, "booked", "active") }, .ns = 1,
		.locks = { L("L1", "D1"), L("L2", "D2") }, .nl = 2,
		.jobs = { J("generate", "1", "D1", GDUE, VF, VU, "done"),
			  J("revoke", "1", "D1", RDUE, NULL, NULL, "pending") }, .nj = 2,
		.creds = { C("1", "D1", VF, VU) }, .nc = 1,
		.want = "update 1 active\n"
			"schedule generate:1:D2 due=2026-12-10T17:00:00Z vf=" VF " vu=" VU " pending\n"
			"schedule revoke:1:D2 due=" RDUE " pending\n"
			"reschedule revoke:1:D1 due=2026-12-10T17:00:00Z pending\n",
		.want_stats = { .fetched = 1, .updated = 1, .orphaned = 1 },
	};

	(void)state;
	check_case(&tc);
}

static void test_late_booking(void **state)
{
	struct tcase tc = {
		.name = "booked after its generate time", .now = "2026-12-10T17:30:00Z",
		.fetched = { R("1", "L1", IN, OUT, "booked", "") }, .nf = 1,
		.locks = { L("L1", "D1") }, .nl = 1,
		.want = "create 1 active\n"
			"schedule generate:1:D1 due=2026-12-10T17:30:00Z vf=" VF " vu=" VU " pending\n"
			"schedule revoke:1:D1 due=" RDUE " pending\n",
		.want_stats = { .fetched = 1, .created = 1 },
	};

	(void)state;
	check_case(&tc);
	/* The next run, 30 minutes later, leaves the job (due "now") alone. */
	tc.now = "2026-12-10T18:00:00Z";
	tc.stored[0] = R("1", "L1", IN, OUT, "booked", "active");
	tc.ns = 1;
	tc.jobs[0] = J("generate", "1", "D1", "2026-12-10T17:30:00Z", VF, VU, "pending");
	tc.jobs[1] = J("revoke", "1", "D1", RDUE, NULL, NULL, "pending");
	tc.nj = 2;
	tc.want = "";
	tc.want_stats.created = 0;
	tc.want_stats.unchanged = 1;
	check_case(&tc);
}

static void test_past_reservation(void **state)
{
	struct tcase tc = {
		.name = "check-out has passed", .now = "2026-12-12T15:00:00Z",
		.fetched = { R("1", "L1", IN, OUT, "booked", "") }, .nf = 1,
		.locks = { L("L1", "D1") }, .nl = 1,
		.want = "create 1 active\n",
		.want_stats = { .fetched = 1, .created = 1 },
	};

	(void)state;
	check_case(&tc);
}

static void test_revoked_after_checkout_stays_done(void **state)
{
	struct tcase tc = {
		.name = "finished stay is left alone", .now = "2026-12-13T15:00:00Z",
		.fetched = { R("1", "L1", IN, OUT, "booked", "") }, .nf = 1,
		.stored = { R("1", "L1", IN, OUT, "booked", "active") }, .ns = 1,
		.locks = { L("L1", "D1") }, .nl = 1,
		.jobs = { J("generate", "1", "D1", GDUE, VF, VU, "done"),
			  J("revoke", "1", "D1", RDUE, NULL, NULL, "done") }, .nj = 2,
		.want = "",
		.want_stats = { .fetched = 1, .unchanged = 1 },
	};

	(void)state;
	check_case(&tc);
}

static void test_orphan_jobs(void **state)
{
	struct tcase tc = {
		.name = "jobs of a reservation that does not exist", .now = NOW,
		.locks = { L("L1", "D1") }, .nl = 1,
		.jobs = { J("generate", "ghost", "D1", GDUE, VF, VU, "pending"),
			  J("revoke", "ghost", "D1", RDUE, NULL, NULL, "pending"),
			  J("generate", "gone", "D1", GDUE, VF, VU, "done"),
			  J("revoke", "gone", "D1", RDUE, NULL, NULL, "pending") }, .nj = 4,
		.creds = { C("gone", "D1", VF, VU) }, .nc = 1,
		.want = "unschedule generate:ghost:D1 due=" GDUE " vf=" VF " vu=" VU " canceled\n"
			"unschedule revoke:ghost:D1 due=" RDUE " canceled\n"
			"reschedule revoke:gone:D1 due=" NOW " pending\n",
		.want_stats = { .orphaned = 3 },
	};

	(void)state;
	check_case(&tc);
}

/* R6 suspects: active, not fetched, not protected, stay not over. */
static void test_suspects(void **state)
{
	struct resv stored[] = {
		R("a", "L1", IN, OUT, "booked", "active"),          /* suspect */
		R("b", "L1", "2026-11-20", "2026-11-30", "booked", "active"), /* stay over */
		R("c", "L1", IN, OUT, "booked", "canceled"),        /* not active */
		R("d", "L1", IN, OUT, "booked", "active"),          /* fetched */
		R("e", "L1", IN, OUT, "booked", "active"),          /* malformed (R8) */
		R("f", "L1", IN, OUT, "booked", "active"),          /* canceled by id */
		R("g", "L1", "2026-11-28", "2026-12-01", "booked", "active"), /* leaves at 14:00Z */
	};
	struct resv fetched[] = { R("d", "L1", IN, OUT, "booked", "") };
	char protect_e[] = "e", cancel_f[] = "f";
	char *protect[] = { protect_e };
	char *cancel[] = { cancel_f };
	const struct resv **sus;
	struct plan_input in;
	struct state st;
	struct fetch_result fr;
	size_t n;

	(void)state;
	memset(&st, 0, sizeof(st));
	st.stored = stored;
	st.nstored = sizeof(stored) / sizeof(*stored);
	memset(&fr, 0, sizeof(fr));
	fr.items = fetched;
	fr.n = 1;
	fr.bad_ids = protect;
	fr.nbad = 1;
	fr.cancel_ids = cancel;
	fr.ncancel = 1;
	memset(&in, 0, sizeof(in));
	in.policy = &policy;
	in.st = &st;
	in.fr = &fr;
	assert_int_equal(plan_suspects(&in, T(NOW), &sus, &n), ERR_OK);
	assert_int_equal(n, 2);
	assert_string_equal(sus[0]->id, "a");
	assert_string_equal(sus[1]->id, "g");
	free(sus);
	/* After g's check-out, only a. */
	assert_int_equal(plan_suspects(&in, T("2026-12-01T14:00:00Z"), &sus, &n), ERR_OK);
	assert_int_equal(n, 1);
	free(sus);
	/* A malformed item without an _id: no suspects at all this run. */
	fr.bad_without_id = 1;
	assert_int_equal(plan_suspects(&in, T(NOW), &sus, &n), ERR_OK);
	assert_int_equal(n, 0);
	assert_null(sus);
}

static void test_malformed_protects(void **state)
{
	struct tcase tc = {
		.name = "malformed, with a PIN", .now = NOW,
		.stored = { R("1", "L1", IN, OUT, "booked", "active") }, .ns = 1,
		.locks = { L("L1", "D1") }, .nl = 1,
		.creds = { C("1", "D1", VF, VU) }, .nc = 1,
		.jobs = { J("generate", "1", "D1", GDUE, VF, VU, "done"),
			  J("revoke", "1", "D1", RDUE, NULL, NULL, "pending") }, .nj = 2,
		.want = "",
	};

	(void)state;
	/* Not fetched (malformed), not confirmed gone: its PIN and jobs stay. */
	check_case(&tc);
}

/* R8: an item of the canceled query needs only its _id to cancel. */
static void test_cancel_by_id(void **state)
{
	struct tcase tc = {
		.name = "canceled by id", .now = NOW,
		.fetched = { R("1", "L1", IN, OUT, "booked", "") }, .nf = 1,
		.stored = { R("1", "L1", IN, OUT, "booked", "active") }, .ns = 1,
		.locks = { L("L1", "D1") }, .nl = 1,
		.creds = { C("1", "D1", VF, VU) }, .nc = 1,
		.jobs = { J("generate", "1", "D1", GDUE, VF, VU, "done"),
			  J("revoke", "1", "D1", RDUE, NULL, NULL, "pending") }, .nj = 2,
		.cancel = { "1", "unknown" }, .ncx = 2,
		/* The canceled query (read second) wins over the reservations query. */
		.want = "cancel 1 canceled\n"
			"reschedule revoke:1:D1 due=" NOW " pending\n",
		.want_stats = { .fetched = 1, .updated = 1, .canceled = 1 },
	};

	(void)state;
	check_case(&tc);
}

/*
 * Defect 1 (R7): the generate job pin-runner is running is canceled - the
 * booking vanished - and there is no credential yet: pin-runner may be
 * creating the password right now, so a revoke is due at once.
 */
static void test_running_generate_canceled(void **state)
{
	struct tcase tc = {
		.name = "running generate, booking gone", .now = "2026-12-10T16:00:30Z",
		.stored = { R("1", "L1", IN, OUT, "booked", "active") }, .ns = 1,
		.locks = { L("L1", "D1") }, .nl = 1,
		.jobs = { J("generate", "1", "D1", GDUE, VF, VU, "running"),
			  J("revoke", "1", "D1", RDUE, NULL, NULL, "pending") }, .nj = 2,
		.gone = { "1" }, .ng = 1,
		.want = "remove 1 removed\n"
			"unschedule generate:1:D1 due=" GDUE " vf=" VF " vu=" VU " canceled\n"
			"reschedule revoke:1:D1 due=2026-12-10T16:00:30Z pending\n",
		.want_stats = { .removed = 1 },
	};

	(void)state;
	check_case(&tc);
	/* The same through the canceled query. */
	tc.fetched[0] = R("1", "L1", IN, OUT, "canceled", "");
	tc.nf = 1;
	tc.ng = 0;
	tc.want = "cancel 1 canceled\n"
		  "unschedule generate:1:D1 due=" GDUE " vf=" VF " vu=" VU " canceled\n"
		  "reschedule revoke:1:D1 due=2026-12-10T16:00:30Z pending\n";
	tc.want_stats = (struct plan_stats){ .fetched = 1, .updated = 1, .canceled = 1 };
	check_case(&tc);
}

/* The guard "a running job is never rescheduled": dates moved meanwhile. */
static void test_running_not_rescheduled(void **state)
{
	struct tcase tc = {
		.name = "running generate, dates moved", .now = "2026-12-10T16:00:30Z",
		.fetched = { R("1", "L1", IN, "2026-12-13", "booked", "") }, .nf = 1,
		.stored = { R("1", "L1", IN, OUT, "booked", "active") }, .ns = 1,
		.locks = { L("L1", "D1") }, .nl = 1,
		.jobs = { J("generate", "1", "D1", GDUE, VF, VU, "running"),
			  J("revoke", "1", "D1", RDUE, NULL, NULL, "pending") }, .nj = 2,
		.want = "update 1 active\n"
			"reschedule revoke:1:D1 due=2026-12-14T14:00:00Z pending\n",
		.want_stats = { .fetched = 1, .updated = 1 },
	};

	(void)state;
	check_case(&tc);
}

/*
 * R7, desired against actual: credentials are checked even when no job is
 * live - a removed reservation, an unknown one, a stay that ended with its
 * revoke long done.
 */
static void test_credential_sweep(void **state)
{
	struct tcase tc = {
		.name = "credentials without live jobs", .now = NOW,
		.stored = { R("rm", "L1", IN, OUT, "booked", "removed"),
			    R("cx", "L1", IN, OUT, "canceled", "canceled"),
			    R("old", "L1", "2026-11-20", "2026-11-25", "booked", "active") }, .ns = 3,
		.locks = { L("L1", "D1") }, .nl = 1,
		.jobs = { J("generate", "rm", "D1", GDUE, VF, VU, "canceled"),
			  J("revoke", "rm", "D1", RDUE, NULL, NULL, "canceled"),
			  J("revoke", "cx", "D1", NOW, NULL, NULL, "done"),
			  J("revoke", "old", "D1", "2026-11-26T14:00:00Z", NULL, NULL, "done") },
		.nj = 4,
		.creds = { C("rm", "D1", VF, VU), C("cx", "D1", VF, VU), C("ghost", "D1", VF, VU),
			   C("old", "D1", "2026-11-20T18:00:00Z", "2026-11-25T14:00:00Z") },
		.nc = 4,
		.want = "schedule revoke:cx:D1 due=" NOW " pending\n"
			"schedule revoke:ghost:D1 due=" NOW " pending\n"
			"schedule revoke:old:D1 due=" NOW " pending\n"
			"schedule revoke:rm:D1 due=" NOW " pending\n",
		.want_stats = { .orphaned = 1 },
	};

	(void)state;
	check_case(&tc);
}

/*
 * P4a (defect 7): stay extended, the update failed once and is pending
 * again, then the extension was undone: the lock already has the window,
 * the update is dropped.  A failed update that is still needed, and a
 * failed revoke of a credential still there, are re-armed.
 */
static void test_stale_update(void **state)
{
	struct tcase tc = {
		.name = "stale update", .now = "2026-12-10T19:00:00Z",
		.fetched = { R("1", "L1", IN, OUT, "booked", "") }, .nf = 1,
		.stored = { R("1", "L1", IN, "2026-12-14", "booked", "active") }, .ns = 1,
		.locks = { L("L1", "D1") }, .nl = 1,
		.jobs = { J("generate", "1", "D1", GDUE, VF, VU, "done"),
			  J("update", "1", "D1", "2026-12-10T18:30:00Z", VF,
			    "2026-12-14T14:00:00Z", "pending"),
			  J("revoke", "1", "D1", "2026-12-15T14:00:00Z", NULL, NULL, "pending") },
		.nj = 3,
		.creds = { C("1", "D1", VF, VU) }, .nc = 1,
		.want = "update 1 active\n"
			"unschedule update:1:D1 due=2026-12-10T18:30:00Z vf=" VF
			" vu=2026-12-14T14:00:00Z canceled\n"
			"reschedule revoke:1:D1 due=" RDUE " pending\n",
		.want_stats = { .fetched = 1, .updated = 1 },
	};

	(void)state;
	check_case(&tc);

	/* Still extended, the update failed for good: re-armed. */
	tc.fetched[0] = R("1", "L1", IN, "2026-12-14", "booked", "");
	tc.jobs[0] = J("generate", "1", "D1", GDUE, VF, VU, "done");
	tc.jobs[1] = J("update", "1", "D1", "2026-12-10T18:30:00Z", VF, "2026-12-14T14:00:00Z",
		       "failed");
	tc.jobs[2] = J("revoke", "1", "D1", "2026-12-15T14:00:00Z", NULL, NULL, "pending");
	tc.want = "reschedule update:1:D1 due=2026-12-10T19:00:00Z vf=" VF
		  " vu=2026-12-14T14:00:00Z pending\n";
	tc.want_stats = (struct plan_stats){ .fetched = 1, .unchanged = 1 };
	check_case(&tc);

	/* Canceled, its revoke failed for good: re-armed. */
	tc.fetched[0] = R("1", "L1", IN, "2026-12-14", "canceled", "");
	tc.stored[0] = R("1", "L1", IN, "2026-12-14", "canceled", "canceled");
	tc.jobs[1] = J("update", "1", "D1", "2026-12-10T18:30:00Z", VF, VU, "canceled");
	tc.jobs[2] = J("revoke", "1", "D1", "2026-12-10T18:00:00Z", NULL, NULL, "failed");
	tc.want = "reschedule revoke:1:D1 due=2026-12-10T19:00:00Z pending\n";
	check_case(&tc);
}

/*
 * While the generate job has not finished (waiting for the lock to
 * confirm), it carries the window; an unconfirmed update is not dropped.
 */
static void test_window_while_unconfirmed(void **state)
{
	struct tcase tc = {
		.name = "window changes before confirmation", .now = "2026-12-10T16:30:00Z",
		.fetched = { R("1", "L1", IN, "2026-12-13", "booked", "") }, .nf = 1,
		.stored = { R("1", "L1", IN, OUT, "booked", "active") }, .ns = 1,
		.locks = { L("L1", "D1") }, .nl = 1,
		.jobs = { J("generate", "1", "D1", GDUE, VF, VU, "pending"),
			  J("revoke", "1", "D1", RDUE, NULL, NULL, "pending") }, .nj = 2,
		.creds = { C("1", "D1", VF, VU) }, .nc = 1,
		.want = "update 1 active\n"
			"reschedule generate:1:D1 due=2026-12-10T16:30:00Z vf=" VF
			" vu=2026-12-13T14:00:00Z pending\n"
			"reschedule revoke:1:D1 due=2026-12-14T14:00:00Z pending\n",
		.want_stats = { .fetched = 1, .updated = 1 },
	};

	(void)state;
	xstrlcpy(tc.creds[0].state, "unconfirmed", sizeof(tc.creds[0].state));
	check_case(&tc);

	/* An update sent, the lock not yet confirming: the update stays. */
	tc.fetched[0] = R("1", "L1", IN, OUT, "booked", "");
	tc.jobs[0] = J("generate", "1", "D1", GDUE, VF, VU, "done");
	tc.jobs[2] = J("update", "1", "D1", "2026-12-10T16:00:00Z", VF, VU, "pending");
	tc.nj = 3;
	tc.want = "";
	tc.want_stats = (struct plan_stats){ .fetched = 1, .unchanged = 1 };
	check_case(&tc);

	/*
	 * The stay moves a day later while the create waits for the lock
	 * (found by tests/history.c): the password already sent has the old
	 * window, which would open the door a day early.  The generate job
	 * is due at once, to move it, not at the new generate time.
	 */
	tc.fetched[0] = R("1", "L1", "2026-12-11", "2026-12-13", "booked", "");
	tc.jobs[0] = J("generate", "1", "D1", "2026-12-10T16:01:00Z", VF, VU, "pending");
	tc.jobs[1] = J("revoke", "1", "D1", RDUE, NULL, NULL, "pending");
	tc.nj = 2;
	tc.want = "update 1 active\n"
		"reschedule generate:1:D1 due=2026-12-10T16:30:00Z"
		" vf=2026-12-11T18:00:00Z vu=2026-12-13T14:00:00Z pending\n"
		"reschedule revoke:1:D1 due=2026-12-14T14:00:00Z pending\n";
	tc.want_stats = (struct plan_stats){ .fetched = 1, .updated = 1 };
	check_case(&tc);
}

/*
 * A credential still there when its revoke time comes again (a new PIN
 * after the first revoke ran): the done revoke runs again.  A credential
 * being revoked keeps its revoke.
 */
static void test_revoke_again(void **state)
{
	struct tcase tc = {
		.name = "revoke done, credential back", .now = "2026-12-13T15:00:00Z",
		.stored = { R("1", "L1", IN, OUT, "booked", "active") }, .ns = 1,
		.locks = { L("L1", "D1") }, .nl = 1,
		.jobs = { J("generate", "1", "D1", GDUE, VF, VU, "done"),
			  J("revoke", "1", "D1", "2026-12-13T14:30:00Z", NULL, NULL, "done") },
		.nj = 2,
		.creds = { C("1", "D1", VF, VU) }, .nc = 1,
		.want = "schedule revoke:1:D1 due=2026-12-13T15:00:00Z pending\n",
	};

	(void)state;
	check_case(&tc);
	xstrlcpy(tc.creds[0].state, "revoking", sizeof(tc.creds[0].state));
	check_case(&tc);
	tc.nc = 0;
	tc.want = "";
	check_case(&tc);
}

/* Defect 10: a listing with more locks than any fixed bound. */
static void test_many_locks(void **state)
{
	enum { NL = 70 };
	struct lock_map locks[NL];
	struct resv fetched = R("1", "L1", IN, OUT, "booked", "");
	struct plan_input in;
	struct state st;
	struct fetch_result fr;
	struct plan p;
	size_t gen = 0, rev = 0;

	(void)state;
	for (int i = 0; i < NL; i++) {
		char dev[16];

		snprintf(dev, sizeof(dev), "D%03d", i);
		locks[i] = L("L1", dev);
	}
	memset(&st, 0, sizeof(st));
	st.locks = locks;
	st.nlocks = NL;
	memset(&fr, 0, sizeof(fr));
	fr.items = &fetched;
	fr.n = 1;
	memset(&in, 0, sizeof(in));
	in.policy = &policy;
	in.st = &st;
	in.fr = &fr;
	assert_int_equal(plan_build(&in, T(NOW), &p), ERR_OK);
	for (size_t i = 0; i < p.n; i++) {
		gen += p.a[i].kind == ACT_SCHEDULE && strcmp(p.a[i].job.action, "generate") == 0;
		rev += p.a[i].kind == ACT_SCHEDULE && strcmp(p.a[i].job.action, "revoke") == 0;
	}
	assert_int_equal(gen, NL);
	assert_int_equal(rev, NL);
	plan_release(&p);
}

/*
 * Idempotence: apply a plan to the inputs (as the database would) and plan
 * again with the same fetch: nothing to do, nothing to write.
 */
static void apply_to_case(struct tcase *tc, const struct plan *p)
{
	for (size_t i = 0; i < p->n; i++) {
		const struct action *a = &p->a[i];

		if (a->kind < ACT_SCHEDULE) {
			size_t k;

			for (k = 0; k < tc->ns && strcmp(tc->stored[k].id, a->r->id); k++)
				;
			tc->stored[k] = *a->r;
			xstrlcpy(tc->stored[k].status, a->status, sizeof(tc->stored[k].status));
			if (k == tc->ns)
				tc->ns++;
		} else {
			struct job j;
			size_t k;

			/* The row store_apply() writes. */
			memset(&j, 0, sizeof(j));
			plan_job_id(&a->job, j.id);
			xstrlcpy(j.action, a->job.action, sizeof(j.action));
			xstrlcpy(j.resv, a->job.resv, sizeof(j.resv));
			xstrlcpy(j.device, a->job.device, sizeof(j.device));
			xstrlcpy(j.status, a->job.status, sizeof(j.status));
			j.due = a->job.due;
			j.valid_from = a->job.valid_from;
			j.valid_until = a->job.valid_until;
			for (k = 0; k < tc->nj && strcmp(tc->jobs[k].id, j.id); k++)
				;
			tc->jobs[k] = j;
			if (k == tc->nj)
				tc->nj++;
		}
	}
}

static void test_idempotent(void **state)
{
	struct tcase tc = {
		.name = "second identical run", .now = NOW,
		.fetched = { R("1", "L1", IN, OUT, "booked", ""),
			     R("2", "L1", "2026-12-20", "2026-12-22", "canceled", ""),
			     R("3", "L2", "2026-11-30", "2026-12-02", "contract", "") }, .nf = 3,
		.stored = { R("4", "L1", IN, OUT, "booked", "active") }, .ns = 1,
		.locks = { L("L1", "D1"), L("L2", "D2") }, .nl = 2,
		.jobs = { J("generate", "4", "D1", GDUE, VF, VU, "pending") }, .nj = 1,
	};
	struct plan p;

	(void)state;
	assert_int_equal(run_plan(&tc, &p), ERR_OK);
	assert_true(p.n > 0);
	apply_to_case(&tc, &p);
	plan_release(&p);
	assert_int_equal(run_plan(&tc, &p), ERR_OK);
	if (p.n) {
		struct strbuf s = STRBUF_INIT;

		fmt_plan(&p, &s);
		fail_msg("second run planned:\n%s", strbuf_str(&s));
	}
	assert_int_equal(p.stats.unchanged, 3);
	plan_release(&p);
}

static void test_lock_timezone(void **state)
{
	struct tcase tc = {
		.name = "lock in another zone", .now = NOW,
		.fetched = { R("1", "L1", IN, OUT, "booked", "") }, .nf = 1,
		.locks = { L("L1", "D1") }, .nl = 1,
		.want = "create 1 active\n"
			"schedule generate:1:D1 due=2026-12-10T18:00:00Z vf=2026-12-10T20:00:00Z vu=2026-12-12T16:00:00Z pending\n"
			"schedule revoke:1:D1 due=2026-12-13T16:00:00Z pending\n",
		.want_stats = { .fetched = 1, .created = 1 },
	};

	(void)state;
	xstrlcpy(tc.locks[0].tz, "America/New_York", sizeof(tc.locks[0].tz));
	xstrlcpy(tc.fetched[0].in_time, "15:00", sizeof(tc.fetched[0].in_time));
	check_case(&tc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_new),
		cmocka_unit_test(test_unchanged),
		cmocka_unit_test(test_changed_guests),
		cmocka_unit_test(test_date_moved_pending),
		cmocka_unit_test(test_date_moved_pin_on_lock),
		cmocka_unit_test(test_canceled_no_pin),
		cmocka_unit_test(test_canceled_with_pin),
		cmocka_unit_test(test_type_left_pin_types),
		cmocka_unit_test(test_vanished),
		cmocka_unit_test(test_mass_removal_guard),
		cmocka_unit_test(test_mapping_removed),
		cmocka_unit_test(test_listing_changed),
		cmocka_unit_test(test_late_booking),
		cmocka_unit_test(test_past_reservation),
		cmocka_unit_test(test_revoked_after_checkout_stays_done),
		cmocka_unit_test(test_orphan_jobs),
		cmocka_unit_test(test_suspects),
		cmocka_unit_test(test_malformed_protects),
		cmocka_unit_test(test_cancel_by_id),
		cmocka_unit_test(test_running_generate_canceled),
		cmocka_unit_test(test_running_not_rescheduled),
		cmocka_unit_test(test_credential_sweep),
		cmocka_unit_test(test_stale_update),
		cmocka_unit_test(test_window_while_unconfirmed),
		cmocka_unit_test(test_revoke_again),
		cmocka_unit_test(test_many_locks),
		cmocka_unit_test(test_idempotent),
		cmocka_unit_test(test_lock_timezone),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
