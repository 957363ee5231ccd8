/*
 * cron.h - parse a 5-field crontab time specification and compute the next
 * time it fires, as Vixie cron (Debian's cron) would, in the machine's local
 * time zone.  No cron library.
 */
#ifndef STAYS_CRON_H
#define STAYS_CRON_H

#include <stdint.h>
#include <time.h>

#include "err.h"

struct cron_expr {
	uint64_t minute;   /* bit n set: minute n (0-59) */
	uint32_t hour;     /* 0-23 */
	uint32_t dom;      /* 1-31 */
	uint16_t month;    /* 1-12 */
	uint8_t dow;       /* 0-6, Sunday = 0 (7 is folded into 0) */
	unsigned dom_star : 1;  /* day-of-month field starts with '*' */
	unsigned dow_star : 1;  /* day-of-week field starts with '*' */
	unsigned min_star : 1;  /* minute field starts with '*' (wildcard job) */
	unsigned hour_star : 1; /* hour field starts with '*' (wildcard job) */
};

/*
 * Parse s ("*\/30 * * * *"): exactly 5 whitespace-separated fields; each a
 * comma list of '*', N, N-M, with optional /STEP; month names jan-dec and
 * day names sun-sat (case-insensitive); 0 and 7 are Sunday.  Returns ERR_OK
 * or ERR_CONFIG with a message naming the bad field in errbuf.
 */
enum err cron_parse(const char *s, struct cron_expr *out, char *errbuf);

/*
 * The first time strictly after `after` at which the expression fires, in
 * the machine's local zone (TZ).  Day-of-month and day-of-week are ORed when
 * both are restricted, ANDed when either starts with '*', as Vixie cron does.
 * DST, as Vixie cron: in a spring-forward gap, fixed-time jobs (minute and
 * hour fields not starting with '*') fire at the first minute after the gap
 * and wildcard jobs skip it; in a fall-back overlap, fixed-time jobs fire on
 * the first pass only and wildcard jobs on both.
 * Returns (time_t)-1 when it never fires within 5 years (e.g. "0 0 30 2 *").
 */
time_t cron_next(const struct cron_expr *c, time_t after);

#endif
