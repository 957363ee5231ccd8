/*
 * test_timeline.c - timeline_build() and timeline_range() as pure
 * functions: rows in (reservations, locks, jobs, credentials, health
 * items), lanes, stays and flags out, as table-driven cases (back-to-back
 * stays, an overlap, a stay across a DST change in America/New_York, an
 * unmapped listing, an unconfirmed PIN, a failed job, a PIN missing, a
 * PIN left on a lock that left the listing, a canceled booking); then the
 * renderers: text within 80 columns, the JSON fields, and the HTML's
 * escaping of what comes from the database.
 *
 * Times: the default zone America/Sao_Paulo is UTC-3 all year, so a
 * check-in on 2026-12-10 at 15:00 is 18:00Z and the generate job (2 h
 * before) is due 16:00Z.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "report.h"
#include "report_timeline.h"
#include "timeline.h"

static const char *const pin_types[] = { "reserved", "booked", "contract" };

/* The defaults of SPEC §3, as plan_policy_from_config() would give them. */
static const struct plan_policy policy = {
	.timezone = "America/Sao_Paulo",
	.checkin_min = 15 * 60,
	.checkout_min = 11 * 60,
	.generate_before = 2 * 3600,
	.revoke_after = 24 * 3600,
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

/*
 * One case.  Rows are written as words:
 *   resv   "ID LISTING IN_DATE IN_TIME OUT_DATE OUT_TIME TYPE STATUS" (code = ID)
 *   locks  "DEVICE LISTING ZONE" (ZONE "-": the default)
 *   jobs   "ACTION RESV DEVICE DUE STATUS"
 *   creds  "RESV DEVICE FROM UNTIL STATE"
 *   health "LIST RESV DEVICE STATE ACTION AT" (LIST unconfirmed|unrevoked|overdue)
 * want: every lane as DEVICE[CODE:state ...] ("-LISTING" for a listing
 * without a lock), then " !" and each flag as kind:code, in order.
 */
struct tcase {
	const char *name;
	const char *now, *from;
	int days;
	const char *resv[6], *locks[4], *jobs[6], *creds[4], *health[4];
	const char *want;
	const char *window;     /* "CODE FROM..UNTIL" of the first stay, or NULL */
	long hours;             /* the range's length in hours, or 0 */
};

static const struct tcase cases[] = {
	{ "back-to-back stays share the day, never the hour",
	  "2026-12-01T12:00:00Z", "2026-12-01", 14,
	  { "A L1 2026-12-03 15:00 2026-12-05 11:00 booked active",
	    "B L1 2026-12-05 11:00 2026-12-07 11:00 booked active" },
	  { "D1 L1 -" },
	  { "generate A D1 2026-12-03T16:00:00Z pending", "generate B D1 2026-12-05T12:00:00Z pending" },
	  { NULL }, { NULL },
	  "D1[A:planned B:planned]", NULL, 14 * 24 },
	{ "two windows on one lock overlap: both guests can open the door",
	  "2026-12-01T12:00:00Z", "2026-12-01", 14,
	  { "A L1 2026-12-03 15:00 2026-12-05 12:00 booked active",
	    "B L1 2026-12-05 11:00 2026-12-07 11:00 booked active" },
	  { "D1 L1 -", "D2 L1 -" },
	  { NULL }, { NULL }, { NULL },
	  "D1[A:none B:none] D2[A:none B:none] !overlap:B overlap:B", NULL, 0 },
	{ "a stay across the end of DST in New York: a 25-hour day",
	  "2026-10-30T12:00:00Z", "2026-10-31", 3,
	  { "A L1 2026-10-31 15:00 2026-11-02 11:00 booked active" },
	  { "D1 L1 America/New_York" },
	  { "generate A D1 2026-10-31T17:00:00Z pending" },
	  { NULL }, { NULL },
	  "D1[A:planned]", "A 2026-10-31T19:00:00Z..2026-11-02T16:00:00Z", 3 * 24 + 1 },
	{ "a booking on a listing with no lock gets no PIN: unmapped",
	  "2026-12-01T12:00:00Z", NULL, 14,
	  { "A L9 2026-12-03 15:00 2026-12-05 11:00 booked active",
	    "B L9 2026-12-03 15:00 2026-12-05 11:00 blocked active" },
	  { "D1 L1 -" }, { NULL }, { NULL }, { NULL },
	  "D1[] -L9[A:none] !unmapped:A", NULL, 0 },
	{ "a PIN not confirmed on its lock within 24 h of its start",
	  "2026-12-10T10:00:00Z", NULL, 7,
	  { "A L1 2026-12-10 15:00 2026-12-12 11:00 booked active" },
	  { "D1 L1 -" },
	  { "generate A D1 2026-12-10T16:00:00Z running" },
	  { "A D1 2026-12-10T18:00:00Z 2026-12-12T14:00:00Z unconfirmed" },
	  { "unconfirmed A D1 unconfirmed - 2026-12-10T18:00:00Z" },
	  "D1[A:unconfirmed] !unconfirmed:A", NULL, 0 },
	{ "a failed generate job: the stay's state is failed, one flag",
	  "2026-12-10T19:00:00Z", NULL, 7,
	  { "A L1 2026-12-10 15:00 2026-12-12 11:00 booked active" },
	  { "D1 L1 -" },
	  { "generate A D1 2026-12-10T16:00:00Z failed", "revoke A D1 2026-12-13T14:00:00Z pending" },
	  { NULL },
	  { "overdue A D1 failed generate 2026-12-10T16:00:00Z" },
	  "D1[A:failed] !failed:A", NULL, 0 },
	{ "a stay past its generate time with no PIN and no job: missing",
	  "2026-12-10T17:00:00Z", NULL, 7,
	  { "A L1 2026-12-10 15:00 2026-12-12 11:00 booked active" },
	  { "D1 L1 -" }, { NULL }, { NULL }, { NULL },
	  "D1[A:none] !missing:A", NULL, 0 },
	{ "within the grace after the generate time nothing is flagged yet",
	  "2026-12-10T16:05:00Z", NULL, 7,
	  { "A L1 2026-12-10 15:00 2026-12-12 11:00 booked active" },
	  { "D1 L1 -" }, { "generate A D1 2026-12-10T16:00:00Z pending" }, { NULL }, { NULL },
	  "D1[A:planned]", NULL, 0 },
	{ "a PIN still on a lock that left the listing shows on that lock",
	  "2026-12-11T12:00:00Z", NULL, 7,
	  { "A L1 2026-12-10 15:00 2026-12-12 11:00 booked active" },
	  { "D1 L1 -" },
	  { "generate A D1 2026-12-11T12:00:00Z pending" },
	  { "A D9 2026-12-10T18:00:00Z 2026-12-12T14:00:00Z active",
	    "A D1 2026-12-10T18:00:00Z 2026-12-12T14:00:00Z revoked" },
	  { NULL },
	  "D1[A:planned] D9[A:active]", NULL, 0 },
	{ "a canceled booking: gone unless its PIN is still on the lock",
	  "2026-12-11T12:00:00Z", NULL, 7,
	  { "A L1 2026-12-10 15:00 2026-12-12 11:00 booked canceled",
	    "B L1 2026-12-10 15:00 2026-12-12 11:00 booked canceled" },
	  { "D1 L1 -" },
	  { "revoke B D1 2026-12-11T11:00:00Z pending" },
	  { "A D1 2026-12-10T18:00:00Z 2026-12-12T14:00:00Z revoked",
	    "B D1 2026-12-10T18:00:00Z 2026-12-12T14:00:00Z revoking" },
	  { "unrevoked B D1 revoking - 2026-12-12T14:00:00Z" },
	  "D1[B:revoking] !unrevoked:B", NULL, 0 },
};

/* ---- building the input from the words ----------------------------------- */

struct rows {
	struct resv resv[6];
	struct lock_map locks[4];
	struct tl_job jobs[6];
	struct tl_cred creds[4];
	struct health_item items[3][4];
	struct health health;
	struct timeline_input in;
};

static void build(const struct tcase *c, struct rows *r)
{
	char a[6][32], b[6][32], d[8][32];
	size_t n;

	memset(r, 0, sizeof(*r));
	for (n = 0; n < 6 && c->resv[n]; n++) {
		struct resv *x = &r->resv[n];

		assert_int_equal(sscanf(c->resv[n], "%64s %64s %10s %5s %10s %5s %16s %8s", x->id,
					x->listing, x->in_date, x->in_time, x->out_date, x->out_time,
					x->type, x->status), 8);
		xstrlcpy(x->code, x->id, sizeof(x->code));
	}
	r->in.nresv = n;
	for (n = 0; n < 4 && c->locks[n]; n++) {
		struct lock_map *l = &r->locks[n];

		assert_int_equal(sscanf(c->locks[n], "%64s %64s %64s", l->device, l->listing,
					l->tz), 3);
		if (strcmp(l->tz, "-") == 0)
			l->tz[0] = '\0';
	}
	r->in.nlocks = n;
	for (n = 0; n < 6 && c->jobs[n]; n++) {
		struct tl_job *j = &r->jobs[n];

		assert_int_equal(sscanf(c->jobs[n], "%8s %64s %64s %31s %8s", j->j.action,
					j->j.resv, j->j.device, a[n], j->j.status), 5);
		j->j.due = T(a[n]);
		snprintf(j->j.id, sizeof(j->j.id), "%s:%s:%s", j->j.action, j->j.resv, j->j.device);
	}
	r->in.njobs = n;
	for (n = 0; n < 4 && c->creds[n]; n++) {
		struct tl_cred *cr = &r->creds[n];

		assert_int_equal(sscanf(c->creds[n], "%64s %64s %31s %31s %11s", cr->c.resv,
					cr->c.device, a[n], b[n], cr->c.state), 5);
		cr->c.valid_from = T(a[n]);
		cr->c.valid_until = T(b[n]);
		cr->id = (long long)n + 1;
	}
	r->in.ncreds = n;
	for (n = 0; n < 4 && c->health[n]; n++) {
		struct health_list *l;
		struct health_item *it;
		int k;

		assert_int_equal(sscanf(c->health[n], "%31s %31s %31s %31s %31s %31s", d[0], d[1],
					d[2], d[3], d[4], d[5]), 6);
		k = strcmp(d[0], "unconfirmed") == 0 ? 0 : strcmp(d[0], "unrevoked") == 0 ? 1 : 2;
		l = k == 0 ? &r->health.unconfirmed : k == 1 ? &r->health.unrevoked
			   : &r->health.overdue;
		it = &r->items[k][l->n];
		l->v = r->items[k];
		l->n++;
		xstrlcpy(it->resv, d[1], sizeof(it->resv));
		xstrlcpy(it->code, d[1], sizeof(it->code));
		xstrlcpy(it->listing, "L1", sizeof(it->listing));
		xstrlcpy(it->device, d[2], sizeof(it->device));
		xstrlcpy(it->state, d[3], sizeof(it->state));
		xstrlcpy(it->action, strcmp(d[4], "-") ? d[4] : "", sizeof(it->action));
		it->attempts = 10;
		xstrlcpy(it->last_error, "lock offline", sizeof(it->last_error));
		if (k == 1)
			it->until = T(d[5]);
		else
			it->from = T(d[5]);
	}
	r->in.policy = &policy;
	r->in.resv = r->resv;
	r->in.locks = r->locks;
	r->in.jobs = r->jobs;
	r->in.creds = r->creds;
	r->in.health = &r->health;
}

/* The want string of a timeline. */
static void summary(const struct timeline *tl, struct strbuf *out)
{
	for (size_t i = 0; i < tl->nlanes; i++) {
		const struct tl_lane *l = &tl->lanes[i];

		if (i)
			strbuf_adds(out, " ");
		if (l->device[0])
			strbuf_addf(out, "%s[", l->device);
		else
			strbuf_addf(out, "-%s[", l->listing);
		for (size_t j = 0; j < l->n; j++)
			strbuf_addf(out, "%s%s:%s", j ? " " : "", l->stays[j].code,
				    timeline_state_name(l->stays[j].state));
		strbuf_adds(out, "]");
	}
	for (size_t i = 0; i < tl->nflags; i++)
		strbuf_addf(out, "%s%s:%s", i ? " " : " !", timeline_flag_name(tl->flags[i].kind),
			    tl->flags[i].code);
}

static void run_case(const struct tcase *c, struct timeline *tl)
{
	struct rows *r = malloc(sizeof(*r));
	char eb[ERRBUF_SIZE];
	time_t from, until;
	const char *zone = policy.timezone;

	assert_non_null(r);
	build(c, r);
	if (r->in.nlocks && r->locks[0].tz[0])
		zone = r->locks[0].tz;
	assert_int_equal(timeline_range(zone, c->from, T(c->now), c->days, &from, &until, eb),
			 ERR_OK);
	if (c->hours)
		assert_int_equal((long)(until - from), c->hours * 3600);
	assert_int_equal(timeline_build(&r->in, T(c->now), from, until, c->days, tl, eb),
			 ERR_OK);
	free(r);
}

static void test_cases(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		const struct tcase *c = &cases[i];
		struct strbuf got = STRBUF_INIT;
		struct timeline tl;

		run_case(c, &tl);
		summary(&tl, &got);
		if (strcmp(strbuf_str(&got), c->want) != 0)
			fail_msg("%s:\n  want %s\n  got  %s", c->name, c->want, strbuf_str(&got));
		if (c->window) {
			char f[UTC_ISO_LEN + 1], u[UTC_ISO_LEN + 1], w[128];
			const struct tl_stay *s = &tl.lanes[0].stays[0];

			util_fmt_utc(s->valid_from, f, sizeof(f));
			util_fmt_utc(s->valid_until, u, sizeof(u));
			snprintf(w, sizeof(w), "%s %s..%s", s->code, f, u);
			assert_string_equal(w, c->window);
		}
		strbuf_release(&got);
		timeline_release(&tl);
	}
}

/* The overlap flag says with whom and when; both stays carry the bit. */
static void test_overlap_detail(void **state)
{
	struct timeline tl;
	const struct tl_flag *f;

	(void)state;
	run_case(&cases[1], &tl);
	f = &tl.flags[0];
	assert_string_equal(f->other, "A");
	assert_string_equal(f->device, "D1");
	assert_int_equal(f->at, T("2026-12-05T14:00:00Z"));
	assert_int_equal(f->until, T("2026-12-05T15:00:00Z"));
	assert_true(tl.lanes[0].stays[0].flags & (1u << TL_OVERLAP));
	assert_true(tl.lanes[0].stays[1].flags & (1u << TL_OVERLAP));
	timeline_release(&tl);
}

static void test_range(void **state)
{
	char eb[ERRBUF_SIZE];
	time_t from, until;

	(void)state;
	/* Today in Sao Paulo at 01:00Z on Dec 2 is still Dec 1. */
	assert_int_equal(timeline_range("America/Sao_Paulo", NULL, T("2026-12-02T01:00:00Z"), 14,
					&from, &until, eb), ERR_OK);
	assert_int_equal(from, T("2026-12-01T03:00:00Z"));
	assert_int_equal(until, T("2026-12-15T03:00:00Z"));
	/* Spring forward in New York: a 23-hour day. */
	assert_int_equal(timeline_range("America/New_York", "2026-03-08", 0, 1, &from, &until, eb),
			 ERR_OK);
	assert_int_equal(until - from, 23 * 3600);
	assert_int_equal(timeline_range("America/Sao_Paulo", "2026-02-30", 0, 1, &from, &until, eb),
			 ERR_USAGE);
	assert_int_equal(timeline_range("America/Sao_Paulo", NULL, 0, 0, &from, &until, eb),
			 ERR_USAGE);
	assert_int_equal(timeline_range("America/Sao_Paulo", NULL, 0, TL_DAYS_MAX + 1, &from,
					&until, eb), ERR_USAGE);
	assert_int_equal(timeline_range("Nowhere/Atlantis", NULL, 0, 1, &from, &until, eb),
			 ERR_CONFIG);
}

/* --lock and --listing keep their lanes and their flags only. */
static void test_filter(void **state)
{
	struct rows *r = malloc(sizeof(*r));
	struct strbuf got = STRBUF_INIT;
	struct timeline tl;
	char eb[ERRBUF_SIZE];

	(void)state;
	assert_non_null(r);
	build(&cases[1], r);
	r->in.device = "D2";
	assert_int_equal(timeline_build(&r->in, T(cases[1].now), T("2026-12-01T03:00:00Z"),
					T("2026-12-15T03:00:00Z"), 14, &tl, eb), ERR_OK);
	summary(&tl, &got);
	assert_string_equal(strbuf_str(&got), "D2[A:none B:none] !overlap:B");
	timeline_release(&tl);
	strbuf_release(&got);
	build(&cases[3], r);
	r->in.listing = "L1";
	assert_int_equal(timeline_build(&r->in, T(cases[3].now), T("2026-12-01T03:00:00Z"),
					T("2026-12-15T03:00:00Z"), 14, &tl, eb), ERR_OK);
	summary(&tl, &got);
	assert_string_equal(strbuf_str(&got), "D1[]");
	timeline_release(&tl);
	strbuf_release(&got);
	free(r);
}

/* ---- renderers -------------------------------------------------------------- */

/* A timeline of every case at once, with names from outside. */
static void hostile(struct timeline *tl)
{
	struct tl_lane *l;

	run_case(&cases[1], tl);
	l = &tl->lanes[0];
	xstrlcpy(l->lock_name, "<script>alert(1)</script> & \"door\" \x01 \xff and a very long name",
		 sizeof(l->lock_name));
	xstrlcpy(l->listing_name, "Copacabana 302 \xe2\x80\x93 vista mar", sizeof(l->listing_name));
	xstrlcpy(tl->flags[0].code, "<b>", sizeof(tl->flags[0].code));
}

static void test_text(void **state)
{
	struct strbuf out = STRBUF_INIT;
	struct timeline tl;
	const char *p;

	(void)state;
	hostile(&tl);
	report_timeline_text(&tl, &out);
	for (p = strbuf_str(&out); *p;) {
		const char *nl = strchr(p, '\n');
		char line[512];
		size_t len = nl ? (size_t)(nl - p) : strlen(p);

		assert_true(len < sizeof(line));
		memcpy(line, p, len);
		line[len] = '\0';
		if (report_text_width(line) > 80)
			fail_msg("longer than 80 columns: '%s'", line);
		p += len + (nl != NULL);
	}
	assert_non_null(strstr(strbuf_str(&out),
			       "    CODE     PIN FROM     PIN UNTIL    STATE        GENERATE     REVOKE\n"
			       "    A !      12-03 15:00  12-05 12:00  none         -            -\n"));
	assert_non_null(strstr(strbuf_str(&out), "needs a person (2):\n  overlap"));
	assert_non_null(strstr(strbuf_str(&out), "\"door\" ? \xff and a very ... (D1), America/Sao_Paulo\n"));
	assert_non_null(strstr(strbuf_str(&out), "the\n                PIN windows of A and <b> overlap "
			       "from 12-05 11:00 to 12-05 12:00\n"));
	strbuf_release(&out);
	timeline_release(&tl);
}

static void test_json(void **state)
{
	struct timeline tl;
	cJSON *doc;
	char *s;

	(void)state;
	run_case(&cases[2], &tl);
	doc = report_timeline_json(&tl);
	s = cJSON_PrintUnformatted(doc);
	cJSON_Delete(doc);
	assert_non_null(strstr(s, "\"from\":\"2026-10-31T04:00:00Z\",\"until\":\"2026-11-03T05:00:00Z\","));
	assert_non_null(strstr(s, "\"deviceId\":\"D1\",\"lockName\":null,\"timezone\":\"America/New_York\",\"mapped\":true"));
	assert_non_null(strstr(s, "\"checkIn\":\"2026-10-31T19:00:00Z\",\"checkOut\":\"2026-11-02T16:00:00Z\","
			       "\"checkInLocal\":\"2026-10-31T15:00\",\"checkOutLocal\":\"2026-11-02T11:00\""));
	assert_non_null(strstr(s, "\"state\":\"planned\",\"generateAt\":\"2026-10-31T17:00:00Z\","
			       "\"generateAtLocal\":\"2026-10-31T13:00\",\"generateStatus\":\"pending\","
			       "\"revokeAt\":null,\"revokeAtLocal\":null,\"revokeStatus\":null,\"flags\":[]"));
	assert_non_null(strstr(s, "\"flags\":[]}"));
	cJSON_free(s);
	timeline_release(&tl);

	run_case(&cases[5], &tl);
	doc = report_timeline_json(&tl);
	s = cJSON_PrintUnformatted(doc);
	cJSON_Delete(doc);
	assert_non_null(strstr(s, "\"flags\":[{\"kind\":\"failed\",\"state\":\"failed\",\"reservationId\":\"A\","
			       "\"reservationCode\":\"A\",\"listingId\":\"L1\",\"deviceId\":\"D1\","
			       "\"at\":\"2026-12-10T16:00:00Z\",\"atLocal\":\"2026-12-10T13:00\","
			       "\"until\":null,\"untilLocal\":null,\"other\":null,\"action\":\"generate\","
			       "\"attempts\":10,\"lastError\":\"lock offline\",\"message\":"
			       "\"the generate job of A failed after 10 attempts: lock offline\"}]"));
	cJSON_free(s);
	timeline_release(&tl);
}

static void test_html(void **state)
{
	struct strbuf out = STRBUF_INIT;
	struct timeline tl;
	const char *s;

	(void)state;
	hostile(&tl);
	report_timeline_html(&tl, &out);
	s = strbuf_str(&out);
	assert_null(strstr(s, "<script"));
	assert_null(strstr(s, "<b>"));
	assert_null(strstr(s, "\x01"));
	assert_null(strstr(s, "\xff"));
	assert_non_null(strstr(s, "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;door&quot; ?"));
	assert_non_null(strstr(s, "Copacabana 302 \xe2\x80\x93 vista mar"));
	assert_non_null(strstr(s, "&lt;b&gt;"));
	assert_non_null(strstr(s, "<h2>Needs a person (2)</h2>"));
	assert_non_null(strstr(s, "class=\"stay s-none flagged\""));
	/* Self-contained: no script, no link, no resource from elsewhere. */
	assert_null(strstr(s, "<link"));
	assert_null(strstr(s, "src="));
	assert_null(strstr(s, "href"));
	assert_null(strstr(s, "@import"));
	strbuf_release(&out);
	timeline_release(&tl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),
		cmocka_unit_test(test_overlap_detail),
		cmocka_unit_test(test_range),
		cmocka_unit_test(test_filter),
		cmocka_unit_test(test_text),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_html),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
