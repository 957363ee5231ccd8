/*
 * test_tz.c - unit tests for lib/tz.c: zone name validation, wall <-> instant
 * conversion to the second, the gap/overlap policy, and that TZ is restored.
 *
 * Expected instants are written as ISO-8601 UTC strings and converted with
 * util_parse_time(), which does not depend on any time zone.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "tz.h"
#include "util.h"
#include "banned.h"

static time_t iso(const char *s)
{
	time_t t;

	if (util_parse_time(s, &t) != 0)
		fail_msg("bad time literal in test: %s", s);
	return t;
}

/* A wall time written as an ISO string with 'Z': same fields, timegm scale. */
static time_t wall(const char *s)
{
	return iso(s);
}

static void test_valid(void **state)
{
	static const struct {
		const char *zone;
		int ok;
	} cases[] = {
		{ "UTC", 1 },
		{ "Etc/UTC", 1 },
		{ "America/New_York", 1 },
		{ "Europe/Lisbon", 1 },
		{ "America/Sao_Paulo", 1 },
		{ "America/Port-au-Prince", 1 },
		{ "Etc/GMT+3", 1 },
		{ "", 0 },
		{ "Nowhere/City", 0 },
		{ "america/new_york", 0 },     /* names are case-sensitive files */
		{ "/usr/share/zoneinfo/UTC", 0 },
		{ "/etc/localtime", 0 },
		{ "../zoneinfo/UTC", 0 },
		{ "America/../UTC", 0 },
		{ "./UTC", 0 },
		{ "America//New_York", 0 },
		{ "America/New_York/", 0 },
		{ "America", 0 },              /* a directory */
		{ "zone.tab", 0 },             /* a file, but not TZif */
		{ "UTC+3", 0 },                /* POSIX TZ string */
		{ "EST+5EDT,M3.2.0/2,M11.1.0/2", 0 },
		{ ":America/New_York", 0 },
		{ "America/New York", 0 },
	};
	(void)state;
	unsetenv("TZDIR");
	assert_int_equal(tz_valid(NULL), 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (tz_valid(cases[i].zone) != cases[i].ok)
			fail_msg("tz_valid(\"%s\") != %d", cases[i].zone,
				 cases[i].ok);
	}
}

/* $TZDIR is honoured: a private directory with one TZif file and one fake. */
static void test_valid_tzdir(void **state)
{
	char dir[] = "/tmp/test_tz.XXXXXX";
	char path[256], sub[256];
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(sub, sizeof(sub), "%s/Test", dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	snprintf(path, sizeof(path), "%s/Test/Zone", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("TZif2 rest does not matter for tz_valid", f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/Test/Fake", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("not a zone file", f);
	fclose(f);

	setenv("TZDIR", dir, 1);
	assert_int_equal(tz_valid("Test/Zone"), 1);
	assert_int_equal(tz_valid("Test/Fake"), 0);
	assert_int_equal(tz_valid("America/New_York"), 0);
	unsetenv("TZDIR");
	assert_int_equal(tz_valid("Test/Zone"), 0);
	assert_int_equal(tz_valid("America/New_York"), 1);

	snprintf(path, sizeof(path), "%s/Test/Zone", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/Test/Fake", dir);
	unlink(path);
	rmdir(sub);
	rmdir(dir);
}

static void test_tz_wall(void **state)
{
	(void)state;
	assert_int_equal(tz_wall(1970, 1, 1, 0, 0), 0);
	assert_int_equal(tz_wall(2026, 3, 8, 2, 30), wall("2026-03-08T02:30:00Z"));
	assert_int_equal(tz_wall(2028, 2, 29, 23, 59), wall("2028-02-29T23:59:00Z"));
	assert_int_equal(tz_wall(1969, 12, 31, 23, 0), -3600);
}

/* tz_instants: wall -> every instant, table-driven. */
static void test_instants(void **state)
{
	static const struct {
		const char *zone;
		const char *wall;
		int n;
		const char *t0, *t1;
	} cases[] = {
		/* ordinary times */
		{ "UTC", "2026-06-01T12:34:56Z", 1, "2026-06-01T12:34:56Z", NULL },
		{ "America/New_York", "2026-01-15T09:00:00Z", 1,
		  "2026-01-15T14:00:00Z", NULL },
		{ "America/New_York", "2026-07-15T09:00:00Z", 1,
		  "2026-07-15T13:00:00Z", NULL },
		{ "Asia/Kolkata", "2026-07-15T09:00:00Z", 1,
		  "2026-07-15T03:30:00Z", NULL },
		/* New York spring forward 2026-03-08 02:00 -> 03:00 */
		{ "America/New_York", "2026-03-08T01:59:59Z", 1,
		  "2026-03-08T06:59:59Z", NULL },
		{ "America/New_York", "2026-03-08T02:00:00Z", 0, NULL, NULL },
		{ "America/New_York", "2026-03-08T02:30:00Z", 0, NULL, NULL },
		{ "America/New_York", "2026-03-08T02:59:59Z", 0, NULL, NULL },
		{ "America/New_York", "2026-03-08T03:00:00Z", 1,
		  "2026-03-08T07:00:00Z", NULL },
		/* New York fall back 2026-11-01 02:00 -> 01:00 */
		{ "America/New_York", "2026-11-01T00:59:59Z", 1,
		  "2026-11-01T04:59:59Z", NULL },
		{ "America/New_York", "2026-11-01T01:00:00Z", 2,
		  "2026-11-01T05:00:00Z", "2026-11-01T06:00:00Z" },
		{ "America/New_York", "2026-11-01T01:30:17Z", 2,
		  "2026-11-01T05:30:17Z", "2026-11-01T06:30:17Z" },
		{ "America/New_York", "2026-11-01T01:59:59Z", 2,
		  "2026-11-01T05:59:59Z", "2026-11-01T06:59:59Z" },
		{ "America/New_York", "2026-11-01T02:00:00Z", 1,
		  "2026-11-01T07:00:00Z", NULL },
		/* Lisbon 2026-03-29 01:00 -> 02:00, 2026-10-25 02:00 -> 01:00 */
		{ "Europe/Lisbon", "2026-03-29T00:59:00Z", 1,
		  "2026-03-29T00:59:00Z", NULL },
		{ "Europe/Lisbon", "2026-03-29T01:30:00Z", 0, NULL, NULL },
		{ "Europe/Lisbon", "2026-03-29T02:00:00Z", 1,
		  "2026-03-29T01:00:00Z", NULL },
		{ "Europe/Lisbon", "2026-10-25T01:30:00Z", 2,
		  "2026-10-25T00:30:00Z", "2026-10-25T01:30:00Z" },
		{ "Europe/Lisbon", "2026-10-25T02:00:00Z", 1,
		  "2026-10-25T02:00:00Z", NULL },
		/* Lord Howe: half-hour DST, 2026-10-04 02:00 -> 02:30 */
		{ "Australia/Lord_Howe", "2026-10-04T02:15:00Z", 0, NULL, NULL },
		{ "Australia/Lord_Howe", "2026-04-05T01:45:00Z", 2,
		  "2026-04-04T14:45:00Z", "2026-04-04T15:15:00Z" },
		/* Moscow 2014: an overlap that is not a DST change (isdst 0 both) */
		{ "Europe/Moscow", "2014-10-26T01:30:00Z", 2,
		  "2014-10-25T21:30:00Z", "2014-10-25T22:30:00Z" },
		/* Samoa skipped 2011-12-30 entirely */
		{ "Pacific/Apia", "2011-12-30T12:00:00Z", 0, NULL, NULL },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		time_t out[2] = { 0, 0 };
		int n = tz_instants(cases[i].zone, wall(cases[i].wall), out);

		if (n != cases[i].n)
			fail_msg("%s %s: %d instants, want %d", cases[i].zone,
				 cases[i].wall, n, cases[i].n);
		if (n > 0 && out[0] != iso(cases[i].t0))
			fail_msg("%s %s: first instant wrong", cases[i].zone,
				 cases[i].wall);
		if (n > 1 && out[1] != iso(cases[i].t1))
			fail_msg("%s %s: second instant wrong", cases[i].zone,
				 cases[i].wall);
	}
}

/* tz_wall_to_instant: the check-in policy (gap: end of gap; overlap: first). */
static void test_wall_to_instant(void **state)
{
	static const struct {
		const char *zone;
		const char *wall;
		const char *want;
	} cases[] = {
		{ "America/New_York", "2026-06-01T15:00:00Z", "2026-06-01T19:00:00Z" },
		{ "America/New_York", "2026-03-08T02:00:00Z", "2026-03-08T07:00:00Z" },
		{ "America/New_York", "2026-03-08T02:30:00Z", "2026-03-08T07:00:00Z" },
		{ "America/New_York", "2026-03-08T02:59:59Z", "2026-03-08T07:00:00Z" },
		{ "America/New_York", "2026-11-01T01:30:00Z", "2026-11-01T05:30:00Z" },
		{ "Europe/Lisbon", "2026-03-29T01:30:00Z", "2026-03-29T01:00:00Z" },
		{ "Europe/Lisbon", "2026-10-25T01:30:00Z", "2026-10-25T00:30:00Z" },
		{ "America/Sao_Paulo", "2018-11-04T00:00:00Z", "2018-11-04T03:00:00Z" },
		{ "Australia/Lord_Howe", "2026-10-04T02:10:00Z", "2026-10-03T15:30:00Z" },
		{ "Europe/Moscow", "2014-10-26T01:30:00Z", "2014-10-25T21:30:00Z" },
		{ "Pacific/Apia", "2011-12-30T12:00:00Z", "2011-12-30T10:00:00Z" },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		time_t t = 0;

		if (tz_wall_to_instant(cases[i].zone, wall(cases[i].wall), &t))
			fail_msg("%s %s: error", cases[i].zone, cases[i].wall);
		if (t != iso(cases[i].want)) {
			char got[UTC_ISO_LEN + 1];

			util_fmt_utc(t, got, sizeof(got));
			fail_msg("%s %s: got %s, want %s", cases[i].zone,
				 cases[i].wall, got, cases[i].want);
		}
	}
}

static void test_instant_to_wall(void **state)
{
	static const struct {
		const char *zone;
		const char *t;
		const char *wall;
	} cases[] = {
		{ "UTC", "2026-06-01T12:34:56Z", "2026-06-01T12:34:56Z" },
		{ "America/New_York", "2026-03-08T06:59:59Z", "2026-03-08T01:59:59Z" },
		{ "America/New_York", "2026-03-08T07:00:00Z", "2026-03-08T03:00:00Z" },
		{ "America/New_York", "2026-11-01T05:30:00Z", "2026-11-01T01:30:00Z" },
		{ "America/New_York", "2026-11-01T06:30:00Z", "2026-11-01T01:30:00Z" },
		{ "Europe/Lisbon", "2026-10-25T00:59:59Z", "2026-10-25T01:59:59Z" },
		{ "Europe/Lisbon", "2026-10-25T01:00:00Z", "2026-10-25T01:00:00Z" },
		{ "Asia/Kathmandu", "2026-01-01T00:00:00Z", "2026-01-01T05:45:00Z" },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		time_t w = 0;

		assert_int_equal(tz_instant_to_wall(cases[i].zone,
						    iso(cases[i].t), &w), 0);
		if (w != wall(cases[i].wall))
			fail_msg("%s %s: wrong wall", cases[i].zone, cases[i].t);
	}
}

/* Every instant maps to a wall time whose instants include it again. */
static void test_round_trip(void **state)
{
	static const struct {
		const char *zone;
		const char *from, *to;
	} spans[] = {
		{ "America/New_York", "2026-03-07T00:00:00Z", "2026-03-10T00:00:00Z" },
		{ "America/New_York", "2026-10-31T00:00:00Z", "2026-11-03T00:00:00Z" },
		{ "Europe/Lisbon", "2026-03-28T00:00:00Z", "2026-03-31T00:00:00Z" },
		{ "Europe/Lisbon", "2026-10-24T00:00:00Z", "2026-10-27T00:00:00Z" },
		{ "Australia/Lord_Howe", "2026-04-04T00:00:00Z", "2026-04-06T00:00:00Z" },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(spans) / sizeof(spans[0]); i++) {
		for (time_t t = iso(spans[i].from); t < iso(spans[i].to);
		     t += 7 * 60 + 13) {
			time_t w, out[2];
			int n;

			assert_int_equal(tz_instant_to_wall(spans[i].zone, t, &w), 0);
			n = tz_instants(spans[i].zone, w, out);
			if (!(n >= 1 && (out[0] == t || (n == 2 && out[1] == t))))
				fail_msg("%s: %lld does not round-trip",
					 spans[i].zone, (long long)t);
		}
	}
}

static void test_bad_zone(void **state)
{
	time_t out[2], t;

	(void)state;
	assert_int_equal(tz_instants("Nowhere/City", 0, out), -1);
	assert_int_equal(tz_instants("../etc/passwd", 0, out), -1);
	assert_int_equal(tz_wall_to_instant("UTC+3", 0, &t), -1);
	assert_int_equal(tz_instant_to_wall("", 0, &t), -1);
}

/* zone == NULL is the machine zone: TZ as the process has it, restored
 * exactly (including unset) after named zones were used. */
static void test_machine_zone(void **state)
{
	time_t w, out[2];

	(void)state;
	setenv("TZ", "Europe/Lisbon", 1);
	assert_int_equal(tz_instant_to_wall(NULL, iso("2026-07-01T12:00:00Z"), &w), 0);
	assert_int_equal(w, wall("2026-07-01T13:00:00Z"));
	assert_int_equal(tz_instants("Asia/Tokyo", wall("2026-07-01T12:00:00Z"), out), 1);
	assert_int_equal(out[0], iso("2026-07-01T03:00:00Z"));
	assert_int_equal(tz_instant_to_wall(NULL, iso("2026-07-01T12:00:00Z"), &w), 0);
	assert_int_equal(w, wall("2026-07-01T13:00:00Z"));
	assert_string_equal(getenv("TZ"), "Europe/Lisbon");

	/* The caller changes TZ while a named zone is loaded: theirs wins. */
	assert_int_equal(tz_instants("Asia/Tokyo", 0, out), 1);
	setenv("TZ", "America/New_York", 1);
	assert_int_equal(tz_instant_to_wall(NULL, iso("2026-07-01T12:00:00Z"), &w), 0);
	assert_int_equal(w, wall("2026-07-01T08:00:00Z"));
	assert_string_equal(getenv("TZ"), "America/New_York");

	unsetenv("TZ");
	assert_int_equal(tz_instants("America/New_York", 0, out), 1);
	assert_non_null(getenv("TZ"));
	assert_int_equal(tz_instant_to_wall(NULL, 0, &w), 0);
	assert_null(getenv("TZ"));

	/* Switching between named zones, back and forth. */
	for (int i = 0; i < 3; i++) {
		assert_int_equal(tz_instant_to_wall("Asia/Tokyo", 0, &w), 0);
		assert_int_equal(w, 9 * 3600);
		assert_int_equal(tz_instant_to_wall("America/New_York", 0, &w), 0);
		assert_int_equal(w, -5 * 3600);
	}
	setenv("TZ", "UTC", 1);
	assert_int_equal(tz_instant_to_wall(NULL, 0, &w), 0);
	assert_int_equal(w, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_valid_tzdir),
		cmocka_unit_test(test_tz_wall),
		cmocka_unit_test(test_instants),
		cmocka_unit_test(test_wall_to_instant),
		cmocka_unit_test(test_instant_to_wall),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_bad_zone),
		cmocka_unit_test(test_machine_zone),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
