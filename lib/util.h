/*
 * util.h - allocation, growable strings, and the time formats of SPEC.md.
 *
 * The x-allocators never return NULL: running out of memory in a cron job
 * has no useful recovery, so they print one line and abort() (git's
 * wrapper.c).  Time helpers are pure: they convert, they never read the
 * clock.
 */
#ifndef STAYS_UTIL_H
#define STAYS_UTIL_H

#include <stddef.h>
#include <time.h>

void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

/* Grow *arr (of *alloc elements of size elsize) to hold at least need. */
void *xgrow(void *arr, size_t elsize, size_t need, size_t *alloc);

/* A growable NUL-terminated byte buffer.  Initialise with STRBUF_INIT. */
struct strbuf {
	char *buf;      /* owned; NULL until first append */
	size_t len;
	size_t alloc;
};
#define STRBUF_INIT { NULL, 0, 0 }

void strbuf_add(struct strbuf *sb, const void *data, size_t len);
void strbuf_adds(struct strbuf *sb, const char *s);
void strbuf_addf(struct strbuf *sb, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void strbuf_reset(struct strbuf *sb);
void strbuf_release(struct strbuf *sb);
/* Always a valid C string, "" when empty. */
const char *strbuf_str(const struct strbuf *sb);

/* Bounded copy: returns -1 (and writes a truncated string) if src does not fit. */
int xstrlcpy(char *dst, const char *src, size_t size);

/* "2026-12-01T10:30:00Z" into buf (at least UTC_ISO_LEN + 1 bytes). */
#define UTC_ISO_LEN 20
void util_fmt_utc(time_t t, char *buf, size_t size);

/*
 * Parse a --now argument: Unix seconds ("1764583200"), or ISO-8601
 * "YYYY-MM-DDTHH:MM[:SS](Z|+HH:MM|-HH:MM)".  A time without zone is
 * rejected (ambiguous).  Returns 0, or -1 if malformed.
 */
int util_parse_time(const char *s, time_t *out);

/* Parse "YYYY-MM-DD" (a real calendar date).  Returns 0 or -1. */
int util_parse_date(const char *s, int *y, int *m, int *d);

/* Parse "HH:MM" (00:00-23:59).  Returns 0 or -1. */
int util_parse_hhmm(const char *s, int *h, int *m);

/* Parse "HH:MM" or "HH:MM:SS" (seconds 00-59, then ignored).  0 or -1. */
int util_parse_hhmm_ss(const char *s, int *h, int *m);

/*
 * 1 if s is what may follow a date in an ISO-8601 date-time: "" or
 * "T" HH:MM[:SS[.digits]] [Z | +HH:MM | -HH:MM | +HHMM | -HHMM], each field
 * in range; else 0.
 */
int util_valid_time_suffix(const char *s);

/*
 * Check an http:// or https:// URL: a host of letters, digits, '-' and
 * '.' (or an [IPv6] literal), an optional :port (1-65535), and an
 * optional path of printable characters without spaces.  Returns NULL if
 * valid, else a static message saying what is wrong.
 */
const char *util_url_problem(const char *s);

/*
 * Parse a duration: digits followed by s, m, h or d ("90m", "2h", "0m").
 * A bare number is seconds.  Returns 0 or -1 (malformed or overflow).
 */
int util_parse_duration(const char *s, long *seconds);

/* Days from civil date (proleptic Gregorian), and back; no time zones. */
long util_days_from_civil(int y, int m, int d);
void util_civil_from_days(long days, int *y, int *m, int *d);

/* 1 if y-m-d is a real date. */
int util_valid_date(int y, int m, int d);

/* The value of hex digit c (either case), or -1. */
int util_hex_value(int c);

/* A random RFC 4122 version 4 UUID (36 chars + NUL) from getrandom(2). */
int util_uuid(char out[37]);

#endif
