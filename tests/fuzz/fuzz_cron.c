/*
 * fuzz_cron.c - libFuzzer target: the bytes, NUL-terminated, are a
 * [schedule] cron expression for cron_parse(); when it parses, cron_next()
 * runs from fixed instants (some just before DST transitions) in three
 * fixed machine zones, and is chained from its own answers.
 *
 * Checked beyond ASan/UBSan/LSan (abort() on violation): a parsed
 * expression has a bit in every field and none outside its range (cron.c's
 * invariant); cron_next(after) is strictly after `after`, or (time_t)-1;
 * and no later than the 5 years it searches (plus a day of slack).
 * Deterministic: TZ is set here, never taken from the environment.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cron.h"
#include "err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond) do { if (!(cond)) abort(); } while (0)

/*
 * Where each chain of cron_next() calls starts: a machine zone and an
 * instant.  New York has whole-hour DST shifts, Lord Howe half-hour ones,
 * and Monrovia's 1972 change from -0:44:30 to GMT leaves a gap that ends
 * off a minute boundary.
 */
static const struct {
	const char *tz;
	time_t after;
} starts[] = {
	{ ":America/New_York", 0 },             /* the epoch */
	{ ":America/New_York", 1764583200 },    /* 2025-12-01T10:00:00Z */
	{ ":America/New_York", 1772951400 },    /* 30 min before spring forward */
	{ ":America/New_York", 1793511000 },    /* 30 min before fall back */
	{ ":America/New_York", 1798761599 },    /* 2026-12-31T23:59:59Z */
	{ ":America/New_York", 1835438400 },    /* 2028-02-29T12:00:00Z, leap day */
	{ ":America/New_York", 2147483647 },    /* past 32-bit time_t */
	{ ":Australia/Lord_Howe", 1764583200 },
	{ ":Australia/Lord_Howe", 1775313000 }, /* 30 min before fall back */
	{ ":Australia/Lord_Howe", 1791039600 }, /* 30 min before spring forward */
	{ ":Africa/Monrovia", 63588600 },       /* 1972-01-06T23:30:00Z */
};

#define CHAIN 3
#define SEARCH_LIMIT ((time_t)(5 * 366 + 1) * 86400)

static void check_expr(const struct cron_expr *c)
{
	CHECK(c->minute && !(c->minute >> 60));
	CHECK(c->hour && !(c->hour >> 24));
	CHECK(c->dom && !(c->dom & 1));
	CHECK(c->month && !(c->month & 1) && !(c->month >> 13));
	CHECK(c->dow && !(c->dow >> 7));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char errbuf[ERRBUF_SIZE] = "";
	struct cron_expr c;
	char *s = malloc(size + 1);
	enum err e;

	if (!s)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	e = cron_parse(s, &c, errbuf);
	free(s);
	if (e != ERR_OK) {
		CHECK(e == ERR_CONFIG && errbuf[0]);
		return 0;
	}
	check_expr(&c);
	for (size_t i = 0; i < sizeof(starts) / sizeof(*starts); i++) {
		time_t t = starts[i].after;

		if (setenv("TZ", starts[i].tz, 1) != 0)
			abort();
		tzset();
		for (int k = 0; k < CHAIN; k++) {
			time_t next = cron_next(&c, t);

			if (next == (time_t)-1)
				break;
			CHECK(next > t);
			CHECK(next - t <= SEARCH_LIMIT);
			t = next;
		}
	}
	return 0;
}
