/*
 * fuzz_cron.c - libFuzzer target: the bytes, NUL-terminated, are a
 * [schedule] cron expression for cron_parse(); when it parses, cron_next()
 * runs from fixed instants (some just before DST transitions) in two fixed
 * machine zones, and is chained from its own answers.
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

/* Zones with DST: whole-hour shifts, and Lord Howe's half-hour one. */
static const char *const zones[] = {
	":America/New_York", ":Australia/Lord_Howe"
};

static const time_t instants[] = {
	0,                      /* the epoch */
	1764583200,             /* 2025-12-01T10:00:00Z */
	1772951400,             /* New York, 30 min before spring forward */
	1793511000,             /* New York, 30 min before fall back */
	1775313000,             /* Lord Howe, 30 min before its fall back */
	1791039600,             /* Lord Howe, 30 min before its spring forward */
	1798761599,             /* 2026-12-31T23:59:59Z, off a minute */
	1835438400,             /* 2028-02-29T12:00:00Z, a leap day */
	2147483647              /* past 32-bit time_t */
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
	for (size_t z = 0; z < sizeof(zones) / sizeof(*zones); z++) {
		if (setenv("TZ", zones[z], 1) != 0)
			abort();
		tzset();
		for (size_t i = 0; i < sizeof(instants) / sizeof(*instants); i++) {
			time_t t = instants[i];

			for (int k = 0; k < CHAIN; k++) {
				time_t next = cron_next(&c, t);

				if (next == (time_t)-1)
					break;
				CHECK(next > t);
				CHECK(next - t <= SEARCH_LIMIT);
				t = next;
			}
		}
	}
	return 0;
}
