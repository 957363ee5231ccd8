/*
 * test_cron.c - unit tests for lib/cron.c: every syntax form and parse error,
 * day-of-month/day-of-week combination, calendar edges, and the Vixie DST
 * policy in America/New_York, Europe/Lisbon and zones with odd transitions.
 *
 * cron_next works in the machine zone, so each case sets TZ first.  Expected
 * instants are ISO-8601 UTC strings converted with util_parse_time().  The
 * last test compares cron_next with an independent minute-by-minute
 * simulation of Vixie cron's main loop across DST transitions.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cron.h"
#include "tz.h"
#include "util.h"
#include "banned.h"

#define B(n) ((uint64_t)1 << (n))
#define R(a, b) ((((uint64_t)2 << (b)) - 1) & ~(((uint64_t)1 << (a)) - 1))
#define ALL_MIN R(0, 59)
#define ALL_HOUR R(0, 23)
#define ALL_DOM R(1, 31)
#define ALL_MON R(1, 12)
#define ALL_DOW R(0, 6)
/* star flags: minute, hour, day-of-month, day-of-week */
#define S_MIN 1
#define S_HOUR 2
#define S_DOM 4
#define S_DOW 8
#define S_ALL (S_MIN | S_HOUR | S_DOM | S_DOW)

static time_t iso(const char *s)
{
	time_t t;

	if (util_parse_time(s, &t) != 0)
		fail_msg("bad time literal in test: %s", s);
	return t;
}

static const char *fmt(time_t t, char buf[UTC_ISO_LEN + 1])
{
	if (t == (time_t)-1)
		return "-1";
	util_fmt_utc(t, buf, UTC_ISO_LEN + 1);
	return buf;
}

static struct cron_expr parse(const char *s)
{
	struct cron_expr c;
	char eb[ERRBUF_SIZE];

	if (cron_parse(s, &c, eb) != ERR_OK)
		fail_msg("cron_parse(\"%s\"): %s", s, eb);
	return c;
}

static void test_parse_ok(void **state)
{
	static const struct {
		const char *s;
		uint64_t minute, hour, dom, month, dow;
		int stars;
	} cases[] = {
		{ "* * * * *", ALL_MIN, ALL_HOUR, ALL_DOM, ALL_MON, ALL_DOW, S_ALL },
		{ "*/30 * * * *", B(0) | B(30), ALL_HOUR, ALL_DOM, ALL_MON,
		  ALL_DOW, S_ALL },
		{ "*/15 * * * *", B(0) | B(15) | B(30) | B(45), ALL_HOUR, ALL_DOM,
		  ALL_MON, ALL_DOW, S_ALL },
		{ "*/59 * * * *", B(0) | B(59), ALL_HOUR, ALL_DOM, ALL_MON,
		  ALL_DOW, S_ALL },
		{ "1-30/5 * * * *", B(1) | B(6) | B(11) | B(16) | B(21) | B(26),
		  ALL_HOUR, ALL_DOM, ALL_MON, ALL_DOW, S_HOUR | S_DOM | S_DOW },
		{ "5/10 * * * *", B(5) | B(15) | B(25) | B(35) | B(45) | B(55),
		  ALL_HOUR, ALL_DOM, ALL_MON, ALL_DOW, S_HOUR | S_DOM | S_DOW },
		{ "1-1 * * * *", B(1), ALL_HOUR, ALL_DOM, ALL_MON, ALL_DOW,
		  S_HOUR | S_DOM | S_DOW },
		{ "0 0 1 1 0", B(0), B(0), B(1), B(1), B(0), 0 },
		{ "59 23 31 12 6", B(59), B(23), B(31), B(12), B(6), 0 },
		{ "00 05 07 08 01", B(0), B(5), B(7), B(8), B(1), 0 },
		{ "0,15,45 9-17 * * mon-fri", B(0) | B(15) | B(45), R(9, 17),
		  ALL_DOM, ALL_MON, R(1, 5), S_DOM },
		{ "0,5-7,58 * * * *", B(0) | R(5, 7) | B(58), ALL_HOUR, ALL_DOM,
		  ALL_MON, ALL_DOW, S_HOUR | S_DOM | S_DOW },
		{ "0 */6 */2 * *", B(0), B(0) | B(6) | B(12) | B(18),
		  0x2AAAAAAAu /* 1,3,...,29 */ | B(31), ALL_MON, ALL_DOW,
		  S_HOUR | S_DOM | S_DOW },
		{ "0 0 */31 * *", B(0), B(0), B(1), ALL_MON, ALL_DOW,
		  S_DOM | S_DOW },
		{ "0 0 1,15 * *", B(0), B(0), B(1) | B(15), ALL_MON, ALL_DOW, S_DOW },
		{ "0 0 * jan,JUL,Dec *", B(0), B(0), ALL_DOM,
		  B(1) | B(7) | B(12), ALL_DOW, S_DOM | S_DOW },
		{ "0 0 * feb-apr *", B(0), B(0), ALL_DOM, R(2, 4), ALL_DOW,
		  S_DOM | S_DOW },
		{ "0 0 * Feb-Jun/2 *", B(0), B(0), ALL_DOM, B(2) | B(4) | B(6),
		  ALL_DOW, S_DOM | S_DOW },
		{ "0 0 * 11/1 *", B(0), B(0), ALL_DOM, B(11) | B(12), ALL_DOW,
		  S_DOM | S_DOW },
		/* Sunday is 0, 7 and sun */
		{ "0 0 * * 0", B(0), B(0), ALL_DOM, ALL_MON, B(0), S_DOM },
		{ "0 0 * * 7", B(0), B(0), ALL_DOM, ALL_MON, B(0), S_DOM },
		{ "0 0 * * sun", B(0), B(0), ALL_DOM, ALL_MON, B(0), S_DOM },
		{ "0 0 * * SUN", B(0), B(0), ALL_DOM, ALL_MON, B(0), S_DOM },
		{ "0 0 * * 0,7", B(0), B(0), ALL_DOM, ALL_MON, B(0), S_DOM },
		{ "0 0 * * 5-7", B(0), B(0), ALL_DOM, ALL_MON,
		  B(5) | B(6) | B(0), S_DOM },
		{ "0 0 * * fri-7", B(0), B(0), ALL_DOM, ALL_MON,
		  B(5) | B(6) | B(0), S_DOM },
		{ "0 0 * * Sat,sUn", B(0), B(0), ALL_DOM, ALL_MON, B(6) | B(0),
		  S_DOM },
		{ "0 0 * * */2", B(0), B(0), ALL_DOM, ALL_MON,
		  B(0) | B(2) | B(4) | B(6), S_DOM | S_DOW },
		{ "0 0 * * 1-7/2", B(0), B(0), ALL_DOM, ALL_MON,
		  B(1) | B(3) | B(5) | B(0), S_DOM },
		{ "0 0 * * 3/2", B(0), B(0), ALL_DOM, ALL_MON,
		  B(3) | B(5) | B(0), S_DOM },
		{ "0 0 * * */7", B(0), B(0), ALL_DOM, ALL_MON, B(0),
		  S_DOM | S_DOW },
		/* blanks: tabs, runs, leading and trailing */
		{ "  0\t0   1 * *\n", B(0), B(0), B(1), ALL_MON, ALL_DOW, S_DOW },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cron_expr c = parse(cases[i].s);
		int stars = (c.min_star ? S_MIN : 0) | (c.hour_star ? S_HOUR : 0) |
			    (c.dom_star ? S_DOM : 0) | (c.dow_star ? S_DOW : 0);

		if (c.minute != cases[i].minute || c.hour != cases[i].hour ||
		    c.dom != cases[i].dom || c.month != cases[i].month ||
		    c.dow != cases[i].dow || stars != cases[i].stars)
			fail_msg("\"%s\": minute %llx hour %x dom %x month %x "
				 "dow %x stars %d", cases[i].s,
				 (unsigned long long)c.minute, (unsigned)c.hour,
				 (unsigned)c.dom, (unsigned)c.month,
				 (unsigned)c.dow, stars);
	}
}

static void test_parse_errors(void **state)
{
	static const struct {
		const char *s;
		const char *msg; /* after "bad cron expression '<s>': " */
	} cases[] = {
		{ "", "expected 5 fields, got 0" },
		{ "   ", "expected 5 fields, got 0" },
		{ "* * * *", "expected 5 fields, got 4" },
		{ "* * * * * *", "expected 5 fields, got 6" },
		{ "0 0 * * * /bin/true", "expected 5 fields, got 6" },
		{ "@hourly", "expected 5 fields, got 1" },
		/* out of range */
		{ "60 * * * *", "minute field: value 60 out of range 0-59" },
		{ "99999999999 * * * *",
		  "minute field: value 99999999999 out of range 0-59" },
		{ "* 24 * * *", "hour field: value 24 out of range 0-23" },
		{ "* * 0 * *", "day-of-month field: value 0 out of range 1-31" },
		{ "* * 32 * *", "day-of-month field: value 32 out of range 1-31" },
		{ "* * * 0 *", "month field: value 0 out of range 1-12" },
		{ "* * * 13 *", "month field: value 13 out of range 1-12" },
		{ "* * * * 8", "day-of-week field: value 8 out of range 0-7" },
		{ "0-60 * * * *", "minute field: value 60 out of range 0-59" },
		{ "* 1,2,25 * * *", "hour field: value 25 out of range 0-23" },
		/* steps */
		{ "*/0 * * * *", "minute field: step must be at least 1" },
		{ "1-30/00 * * * *", "minute field: step must be at least 1" },
		{ "*/60 * * * *", "minute field: step 60 is larger than 59" },
		{ "* * * * */8", "day-of-week field: step 8 is larger than 7" },
		{ "*/ * * * *", "minute field: invalid step ''" },
		{ "*/x * * * *", "minute field: invalid step 'x'" },
		{ "*/5/2 * * * *", "minute field: invalid step '5/2'" },
		{ "1-5/-1 * * * *", "minute field: invalid step '-1'" },
		/* names */
		{ "* * * foo *", "month field: unknown name 'foo'" },
		{ "* * * january *", "month field: unknown name 'january'" },
		{ "* * * mon *", "month field: unknown name 'mon'" },
		{ "* * * * monday", "day-of-week field: unknown name 'monday'" },
		{ "* * * * jan", "day-of-week field: unknown name 'jan'" },
		{ "jan * * * *", "minute field: unknown name 'jan'" },
		{ "* * x * *", "day-of-month field: unknown name 'x'" },
		/* reversed ranges */
		{ "5-1 * * * *", "minute field: range 5-1 is reversed" },
		{ "* * * dec-jan *", "month field: range dec-jan is reversed" },
		{ "* * * * fri-mon", "day-of-week field: range fri-mon is reversed" },
		{ "* * * * 1-0", "day-of-week field: range 1-0 is reversed" },
		/* garbage */
		{ "1,,2 * * * *", "minute field: empty list element" },
		{ "1, * * * *", "minute field: empty list element" },
		{ ",1 * * * *", "minute field: empty list element" },
		{ "5x * * * *", "minute field: invalid value '5x'" },
		{ "1.5 * * * *", "minute field: invalid value '1.5'" },
		{ "** * * * *", "minute field: invalid value '**'" },
		{ "*-5 * * * *", "minute field: invalid value '*'" },
		{ "-5 * * * *", "minute field: invalid range '-5'" },
		{ "5- * * * *", "minute field: invalid range '5-'" },
		{ "1-2-3 * * * *", "minute field: invalid range '1-2-3'" },
		{ "? * * * *", "minute field: invalid value '?'" },
		{ "* * L * *", "day-of-month field: unknown name 'L'" },
		{ "* * 15W * *", "day-of-month field: invalid value '15W'" },
		{ "* * * * 5#3", "day-of-week field: invalid value '5#3'" },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cron_expr c, before;
		char eb[ERRBUF_SIZE], want[ERRBUF_SIZE];

		memset(&c, 0x5a, sizeof(c));
		before = c;
		snprintf(want, sizeof(want), "bad cron expression '%s': %s",
			 cases[i].s, cases[i].msg);
		assert_int_equal(cron_parse(cases[i].s, &c, eb), ERR_CONFIG);
		assert_string_equal(eb, want);
		/* out is untouched on error */
		assert_memory_equal(&c, &before, sizeof(c));
		/* errbuf may be NULL */
		assert_int_equal(cron_parse(cases[i].s, &c, NULL), ERR_CONFIG);
	}
}

/* Single cron_next results; want NULL means (time_t)-1. */
static void test_next(void **state)
{
	static const struct {
		const char *tz, *expr, *after, *want;
	} cases[] = {
		/* the schedule of SPEC.md, strictly after */
		{ "UTC", "*/30 * * * *", "2026-12-01T10:29:00Z", "2026-12-01T10:30:00Z" },
		{ "UTC", "*/30 * * * *", "2026-12-01T10:29:59Z", "2026-12-01T10:30:00Z" },
		{ "UTC", "*/30 * * * *", "2026-12-01T10:30:00Z", "2026-12-01T11:00:00Z" },
		{ "UTC", "*/30 * * * *", "2026-12-01T10:30:01Z", "2026-12-01T11:00:00Z" },
		{ "UTC", "*/30 * * * *", "2026-12-31T23:45:00Z", "2027-01-01T00:00:00Z" },
		{ "America/New_York", "*/30 * * * *", "2026-12-01T10:30:00Z",
		  "2026-12-01T11:00:00Z" },
		{ "Asia/Kathmandu", "0 * * * *", "2026-12-01T10:00:00Z",
		  "2026-12-01T10:15:00Z" },
		{ "Asia/Kolkata", "0 9 * * *", "2026-12-01T00:00:00Z",
		  "2026-12-01T03:30:00Z" },
		/* calendar */
		{ "UTC", "0 0 1 1 *", "2026-12-31T23:59:00Z", "2027-01-01T00:00:00Z" },
		{ "UTC", "59 23 31 12 *", "2026-01-01T00:00:00Z", "2026-12-31T23:59:00Z" },
		{ "UTC", "0 0 31 * *", "2026-04-01T00:00:00Z", "2026-05-31T00:00:00Z" },
		{ "America/New_York", "0 0 29 2 *", "2026-01-01T00:00:00Z",
		  "2028-02-29T05:00:00Z" },
		{ "UTC", "0 0 29 2 *", "2028-02-29T00:00:00Z", "2032-02-29T00:00:00Z" },
		{ "America/New_York", "0 0 30 2 *", "2026-01-01T00:00:00Z", NULL },
		{ "UTC", "0 0 31 4,6,9,11 *", "2026-01-01T00:00:00Z", NULL },
		{ "UTC", "0 0 31 2 mon", "2026-01-01T00:00:00Z", "2026-02-02T00:00:00Z" },
		{ "UTC", "0 0 31 2 */1", "2026-01-01T00:00:00Z", NULL },
		/* fall back in New York: fixed-time job, second pass */
		{ "America/New_York", "30 1 * * *", "2026-11-01T05:30:00Z",
		  "2026-11-02T06:30:00Z" },
		{ "America/New_York", "30 1 * * *", "2026-11-01T06:00:00Z",
		  "2026-11-02T06:30:00Z" },
		/* wildcard job from inside the second pass */
		{ "America/New_York", "*/30 * * * *", "2026-11-01T06:10:00Z",
		  "2026-11-01T06:30:00Z" },
		{ "America/New_York", "45 * * * *", "2026-11-01T05:50:00Z",
		  "2026-11-01T06:45:00Z" },
		/* spring forward: fixed-time in the gap fires when the clock is
		 * valid again, even from just before */
		{ "America/New_York", "30 2 * * *", "2026-03-08T06:59:59Z",
		  "2026-03-08T07:00:00Z" },
		{ "America/New_York", "30 2 * * *", "2026-03-08T07:00:00Z",
		  "2026-03-09T06:30:00Z" },
		{ "America/New_York", "59 2 8 3 *", "2026-01-01T00:00:00Z",
		  "2026-03-08T07:00:00Z" },
		{ "America/New_York", "30 2 * * *", "2026-03-08T07:00:00Z",
		  "2026-03-09T06:30:00Z" },
		{ "Europe/Lisbon", "0 1 * * *", "2026-03-29T00:00:00Z",
		  "2026-03-29T01:00:00Z" },
		/* Sao Paulo 2018: the gap was at midnight */
		{ "America/Sao_Paulo", "0 0 * * *", "2018-11-03T12:00:00Z",
		  "2018-11-04T03:00:00Z" },
		{ "America/Sao_Paulo", "0 0 4 11 *", "2018-01-01T00:00:00Z",
		  "2018-11-04T03:00:00Z" },
		/* Lord Howe: a half-hour gap, 02:00 -> 02:30 */
		{ "Australia/Lord_Howe", "15 2 * * *", "2026-10-03T12:00:00Z",
		  "2026-10-03T15:30:00Z" },
		{ "Australia/Lord_Howe", "*/15 * * * *", "2026-10-03T15:29:00Z",
		  "2026-10-03T15:30:00Z" },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cron_expr c = parse(cases[i].expr);
		time_t want = cases[i].want ? iso(cases[i].want) : (time_t)-1;
		time_t got;

		setenv("TZ", cases[i].tz, 1);
		got = cron_next(&c, iso(cases[i].after));
		if (got != want) {
			char b1[UTC_ISO_LEN + 1], b2[UTC_ISO_LEN + 1];

			fail_msg("TZ=%s \"%s\" after %s: got %s, want %s",
				 cases[i].tz, cases[i].expr, cases[i].after,
				 fmt(got, b1), fmt(want, b2));
		}
	}
}

#define MAX_SEQ 12

/* Chains: each expected instant is cron_next of the previous one. */
static void test_sequences(void **state)
{
	static const struct {
		const char *tz, *expr, *start;
		const char *want[MAX_SEQ];
	} cases[] = {
		{ "UTC", "*/30 * * * *", "2026-12-01T10:00:00Z",
		  { "2026-12-01T10:30:00Z", "2026-12-01T11:00:00Z",
		    "2026-12-01T11:30:00Z" } },
		{ "UTC", "1-30/5 9 * * *", "2026-12-01T00:00:00Z",
		  { "2026-12-01T09:01:00Z", "2026-12-01T09:06:00Z",
		    "2026-12-01T09:11:00Z", "2026-12-01T09:16:00Z",
		    "2026-12-01T09:21:00Z", "2026-12-01T09:26:00Z",
		    "2026-12-02T09:01:00Z" } },
		{ "UTC", "5/20 23 * * *", "2026-12-31T23:30:00Z",
		  { "2026-12-31T23:45:00Z", "2027-01-01T23:05:00Z" } },
		/* day-of-month OR day-of-week: the 13th, or any Friday */
		{ "UTC", "0 0 13 * fri", "2026-01-01T00:00:00Z",
		  { "2026-01-02T00:00:00Z", "2026-01-09T00:00:00Z",
		    "2026-01-13T00:00:00Z", "2026-01-16T00:00:00Z",
		    "2026-01-23T00:00:00Z", "2026-01-30T00:00:00Z",
		    "2026-02-06T00:00:00Z", "2026-02-13T00:00:00Z",
		    "2026-02-20T00:00:00Z", "2026-02-27T00:00:00Z",
		    "2026-03-06T00:00:00Z" } },
		/* only Fridays */
		{ "UTC", "0 0 * * fri", "2026-01-01T00:00:00Z",
		  { "2026-01-02T00:00:00Z", "2026-01-09T00:00:00Z",
		    "2026-01-16T00:00:00Z", "2026-01-23T00:00:00Z" } },
		/* only the 13th */
		{ "UTC", "0 0 13 * *", "2026-01-01T00:00:00Z",
		  { "2026-01-13T00:00:00Z", "2026-02-13T00:00:00Z",
		    "2026-03-13T00:00:00Z" } },
		/* a starred day-of-week field, even restricted, means AND */
		{ "UTC", "0 0 13 * */1", "2026-01-01T00:00:00Z",
		  { "2026-01-13T00:00:00Z", "2026-02-13T00:00:00Z" } },
		/* a starred day-of-month field: Fridays on odd days */
		{ "UTC", "0 0 */2 * fri", "2026-01-01T00:00:00Z",
		  { "2026-01-09T00:00:00Z", "2026-01-23T00:00:00Z",
		    "2026-02-13T00:00:00Z", "2026-02-27T00:00:00Z" } },
		/* Sunday as 0, 7 and sun */
		{ "UTC", "0 12 * * 0", "2026-01-01T00:00:00Z",
		  { "2026-01-04T12:00:00Z", "2026-01-11T12:00:00Z" } },
		{ "UTC", "0 12 * * 7", "2026-01-01T00:00:00Z",
		  { "2026-01-04T12:00:00Z", "2026-01-11T12:00:00Z" } },
		{ "UTC", "0 12 * * Sun", "2026-01-01T00:00:00Z",
		  { "2026-01-04T12:00:00Z", "2026-01-11T12:00:00Z" } },
		{ "UTC", "0 12 * * 5-7", "2026-01-01T00:00:00Z",
		  { "2026-01-02T12:00:00Z", "2026-01-03T12:00:00Z",
		    "2026-01-04T12:00:00Z", "2026-01-09T12:00:00Z" } },
		{ "UTC", "0 0 1 jan,jul *", "2026-01-01T00:00:00Z",
		  { "2026-07-01T00:00:00Z", "2027-01-01T00:00:00Z" } },
		{ "UTC", "0 0 29 2 *", "2026-01-01T00:00:00Z",
		  { "2028-02-29T00:00:00Z", "2032-02-29T00:00:00Z" } },

		/* New York, spring forward 2026-03-08 02:00 EST -> 03:00 EDT */
		{ "America/New_York", "30 2 * * *", "2026-03-07T00:00:00Z",
		  { "2026-03-07T07:30:00Z", "2026-03-08T07:00:00Z",
		    "2026-03-09T06:30:00Z" } },
		{ "America/New_York", "0,30 2 * * *", "2026-03-08T00:00:00Z",
		  { "2026-03-08T07:00:00Z", "2026-03-09T06:00:00Z",
		    "2026-03-09T06:30:00Z" } },
		{ "America/New_York", "*/30 * * * *", "2026-03-08T06:00:00Z",
		  { "2026-03-08T06:30:00Z", "2026-03-08T07:00:00Z",
		    "2026-03-08T07:30:00Z" } },
		{ "America/New_York", "30 * * * *", "2026-03-08T05:00:00Z",
		  { "2026-03-08T05:30:00Z", "2026-03-08T06:30:00Z",
		    "2026-03-08T07:30:00Z" } },
		{ "America/New_York", "* * * * *", "2026-03-08T06:58:30Z",
		  { "2026-03-08T06:59:00Z", "2026-03-08T07:00:00Z",
		    "2026-03-08T07:01:00Z" } },
		/* New York, fall back 2026-11-01 02:00 EDT -> 01:00 EST */
		{ "America/New_York", "*/30 * * * *", "2026-11-01T04:30:00Z",
		  { "2026-11-01T05:00:00Z", "2026-11-01T05:30:00Z",
		    "2026-11-01T06:00:00Z", "2026-11-01T06:30:00Z",
		    "2026-11-01T07:00:00Z", "2026-11-01T07:30:00Z" } },
		{ "America/New_York", "30 1 * * *", "2026-10-31T12:00:00Z",
		  { "2026-11-01T05:30:00Z", "2026-11-02T06:30:00Z" } },
		{ "America/New_York", "0 1,2 * * *", "2026-10-31T12:00:00Z",
		  { "2026-11-01T05:00:00Z", "2026-11-01T07:00:00Z",
		    "2026-11-02T06:00:00Z" } },
		{ "America/New_York", "30 * * * *", "2026-11-01T04:00:00Z",
		  { "2026-11-01T04:30:00Z", "2026-11-01T05:30:00Z",
		    "2026-11-01T06:30:00Z", "2026-11-01T07:30:00Z" } },
		{ "America/New_York", "0 * * * *", "2026-11-01T04:00:00Z",
		  { "2026-11-01T05:00:00Z", "2026-11-01T06:00:00Z",
		    "2026-11-01T07:00:00Z" } },

		/* Lisbon, spring forward 2026-03-29 01:00 WET -> 02:00 WEST */
		{ "Europe/Lisbon", "30 1 * * *", "2026-03-28T12:00:00Z",
		  { "2026-03-29T01:00:00Z", "2026-03-30T00:30:00Z" } },
		{ "Europe/Lisbon", "*/30 * * * *", "2026-03-29T00:00:00Z",
		  { "2026-03-29T00:30:00Z", "2026-03-29T01:00:00Z",
		    "2026-03-29T01:30:00Z" } },
		/* Lisbon, fall back 2026-10-25 02:00 WEST -> 01:00 WET */
		{ "Europe/Lisbon", "*/30 * * * *", "2026-10-24T23:30:00Z",
		  { "2026-10-25T00:00:00Z", "2026-10-25T00:30:00Z",
		    "2026-10-25T01:00:00Z", "2026-10-25T01:30:00Z",
		    "2026-10-25T02:00:00Z" } },
		{ "Europe/Lisbon", "30 1 * * *", "2026-10-24T12:00:00Z",
		  { "2026-10-25T00:30:00Z", "2026-10-26T01:30:00Z" } },

		/* Sao Paulo 2018-11-04: midnight did not exist */
		{ "America/Sao_Paulo", "0 0 * * *", "2018-11-03T12:00:00Z",
		  { "2018-11-04T03:00:00Z", "2018-11-05T02:00:00Z" } },
		/* Lord Howe: half-hour gap 2026-10-04 02:00 -> 02:30, and
		 * half-hour overlap 2026-04-05 02:00 -> 01:30 */
		{ "Australia/Lord_Howe", "15 2 * * *", "2026-10-02T00:00:00Z",
		  { "2026-10-02T15:45:00Z", "2026-10-03T15:30:00Z",
		    "2026-10-04T15:15:00Z" } },
		{ "Australia/Lord_Howe", "*/20 1 * * *", "2026-04-04T14:00:00Z",
		  { "2026-04-04T14:20:00Z", "2026-04-04T14:40:00Z",
		    "2026-04-04T15:10:00Z", "2026-04-05T14:30:00Z" } },
		{ "Australia/Lord_Howe", "45 1 * * *", "2026-04-04T00:00:00Z",
		  { "2026-04-04T14:45:00Z", "2026-04-05T15:15:00Z" } },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cron_expr c = parse(cases[i].expr);
		time_t t = iso(cases[i].start);

		setenv("TZ", cases[i].tz, 1);
		for (int k = 0; k < MAX_SEQ && cases[i].want[k]; k++) {
			time_t got = cron_next(&c, t), want = iso(cases[i].want[k]);

			if (got != want) {
				char b1[UTC_ISO_LEN + 1], b2[UTC_ISO_LEN + 1];

				fail_msg("TZ=%s \"%s\" from %s, fire %d: got %s, "
					 "want %s", cases[i].tz, cases[i].expr,
					 cases[i].start, k + 1, fmt(got, b1),
					 fmt(want, b2));
			}
			t = got;
		}
	}
}

/* ---- an independent model: Vixie cron's minute loop ---- */

static time_t fdiv(time_t a, time_t b)
{
	time_t q = a / b;

	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* Does wall minute w match c?  (Written apart from cron.c on purpose.) */
static int wall_matches(const struct cron_expr *c, time_t w)
{
	time_t days = fdiv(w, 86400);
	int sod = (int)(w - days * 86400), y, m, d;
	int wday = (int)(((days + 4) % 7 + 7) % 7);
	int dom, dow;

	util_civil_from_days((long)days, &y, &m, &d);
	dom = (c->dom >> d) & 1;
	dow = (c->dow >> wday) & 1;
	if (!((c->month >> m) & 1) || !((c->hour >> (sod / 3600)) & 1) ||
	    !((c->minute >> (sod / 60 % 60)) & 1))
		return 0;
	return (c->dom_star || c->dow_star) ? dom && dow : dom || dow;
}

/*
 * Walk real time minute by minute as cron's main loop does.  The clock
 * moving forward past wall minutes makes fixed-time jobs of any skipped
 * minute run now and wildcard jobs run only for the current minute; while
 * the clock repeats wall minutes already seen, only wildcard jobs run.
 * Writes the fire instants in (from, to] into out; returns how many.
 */
static size_t vixie_fires(const struct cron_expr *c, time_t from, time_t to,
			  time_t *out, size_t max)
{
	int fixed = !c->min_star && !c->hour_star;
	time_t t = fdiv(from, 60) * 60 - 6 * 3600, seen, cur;
	size_t n = 0;

	assert_int_equal(tz_instant_to_wall(NULL, t, &seen), 0);
	for (t += 60; t <= to; t += 60) {
		int fire = 0;

		assert_int_equal(tz_instant_to_wall(NULL, t, &cur), 0);
		if (cur > seen && fixed) {
			for (time_t w = seen + 60; w <= cur; w += 60)
				fire |= wall_matches(c, w);
		} else if (!fixed) {
			fire = wall_matches(c, cur);
		}
		if (cur > seen)
			seen = cur;
		if (fire && t > from) {
			assert_true(n < max);
			out[n++] = t;
		}
	}
	return n;
}

static void test_vixie_model(void **state)
{
	static const char *const exprs[] = {
		"*/30 * * * *", "*/7 * * * *", "0 * * * *", "30 * * * *",
		"45 */2 * * *", "30 2 * * *", "30 1 * * *", "0 2 * * *",
		"0 0 * * *", "0,15,30,45 1-3 * * *", "59 1 * * *", "0 3 * * *",
		"10 0-4 * * *", "5 * * * sun", "0 1 1,8,15 * sun", "* 2 * * *",
		"*/20 1-2 * * *",
	};
	static const struct {
		const char *tz, *from, *to;
	} spans[] = {
		{ "America/New_York", "2026-03-07T18:00:00Z", "2026-03-08T18:00:00Z" },
		{ "America/New_York", "2026-10-31T18:00:00Z", "2026-11-01T18:00:00Z" },
		{ "Europe/Lisbon", "2026-03-28T18:00:00Z", "2026-03-29T18:00:00Z" },
		{ "Europe/Lisbon", "2026-10-24T18:00:00Z", "2026-10-25T18:00:00Z" },
		{ "America/Sao_Paulo", "2018-11-03T12:00:00Z", "2018-11-04T12:00:00Z" },
		{ "America/Sao_Paulo", "2018-02-17T12:00:00Z", "2018-02-18T12:00:00Z" },
		{ "Australia/Lord_Howe", "2026-10-03T06:00:00Z", "2026-10-04T06:00:00Z" },
		{ "Australia/Lord_Howe", "2026-04-04T06:00:00Z", "2026-04-05T06:00:00Z" },
		{ "Europe/Moscow", "2014-10-25T12:00:00Z", "2014-10-26T12:00:00Z" },
		{ "UTC", "2026-02-27T12:00:00Z", "2026-02-28T12:00:00Z" },
	};
	static time_t model[2000];
	(void)state;
	for (size_t s = 0; s < sizeof(spans) / sizeof(spans[0]); s++) {
		time_t from = iso(spans[s].from), to = iso(spans[s].to);

		setenv("TZ", spans[s].tz, 1);
		for (size_t e = 0; e < sizeof(exprs) / sizeof(exprs[0]); e++) {
			struct cron_expr c = parse(exprs[e]);
			size_t n = vixie_fires(&c, from, to, model, 2000), k = 0;
			char b1[UTC_ISO_LEN + 1], b2[UTC_ISO_LEN + 1];

			for (time_t t = cron_next(&c, from); t <= to;
			     t = cron_next(&c, t), k++) {
				if (t == (time_t)-1 || k >= n || t != model[k])
					fail_msg("TZ=%s \"%s\" fire %zu: cron_next "
						 "%s, model %s", spans[s].tz,
						 exprs[e], k + 1, fmt(t, b1),
						 k < n ? fmt(model[k], b2) : "none");
			}
			if (k != n)
				fail_msg("TZ=%s \"%s\": cron_next stops after %zu "
					 "fires, model has %zu (next %s)",
					 spans[s].tz, exprs[e], k, n,
					 fmt(model[k], b2));
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_ok),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_next),
		cmocka_unit_test(test_sequences),
		cmocka_unit_test(test_vixie_model),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
