/*
 * tz.c - wall-clock time in IANA zones, read from TZif files (RFC 8536)
 * by this module itself, without the C library's time zone state.
 *
 * Invariants:
 *  - Nothing here writes the environment or the C library's zone state
 *    (setenv, tzset, localtime, mktime are compile errors below).  TZ and
 *    TZDIR are only read, at call time.
 *  - A struct zone is immutable once built, and every zone passed all the
 *    checks of tzif_parse() or rule_parse(): transitions strictly
 *    ascending, every offset within RFC 8536's -89999..93599 s, no
 *    leap-second records, a footer that is a POSIX TZ string we can
 *    evaluate.  So the lookups have no error paths, and for every instant t
 *    z->min_off <= offset of z at t <= z->max_off.
 *  - Parsed zones live in cache[] for the life of the process, keyed by the
 *    file's path (named zones, files named by TZ) or by the TZ string (POSIX
 *    zones).  When it is full it is emptied at once; no zone pointer
 *    outlives a public call except the two memos (last named zone, machine
 *    zone), which are cleared with it.  The machine-zone memo is keyed by
 *    the exact TZ value, so a caller that changes TZ is obeyed at the next
 *    call.
 *  - Every instant and wall time handled is within +-TIME_LIMIT (about a
 *    billion years) and offsets are below 26 h, so int64_t arithmetic on
 *    them never overflows; transition times from a file (any int64_t) are
 *    only compared, never added to.
 */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tz.h"
#include "util.h"
#include "banned.h"

/* This module must not touch the process's time zone (see tz.h). */
#undef setenv
#define setenv(...) BANNED(setenv)
#undef unsetenv
#define unsetenv(...) BANNED(unsetenv)
#undef putenv
#define putenv(...) BANNED(putenv)
#undef tzset
#define tzset(...) BANNED(tzset)
#undef localtime_r
#define localtime_r(...) BANNED(localtime_r)
#undef mktime
#define mktime(...) BANNED(mktime)

#define DAY 86400L
#define ZONEINFO_DIR "/usr/share/zoneinfo"
#define LOCALTIME_FILE "/etc/localtime"
#define ZONE_NAME_MAX 255
#define PATH_LEN 4096
#define TZIF_MAX_SIZE (1L << 20)        /* real files are under 4 KiB */
#define TZIF_HEADER 44
#define TZIF_MAX_TYPES 256              /* a type index is one byte */
#define OFF_MIN (-89999)                /* RFC 8536 3.2, utoff */
#define OFF_MAX 93599
#define TIME_LIMIT ((int64_t)1 << 55)
#define CACHE_MAX 64

/* ---- POSIX TZ rules: std offset [dst [offset] [,start[/time],end[/time]]] */

enum rdate_kind { RDATE_J1, RDATE_J0, RDATE_MWD };

struct rdate {
	enum rdate_kind kind;
	int n;                  /* Jn: 1..365 (no Feb 29); n: 0..365 */
	int m, w, d;            /* Mm.w.d: month, week 1..5 (5 = last), weekday */
	int32_t time;           /* local time of day, -167 h .. 167 h */
};

struct rule {
	int32_t std_off, dst_off;       /* seconds east of UT */
	int has_dst;
	struct rdate start;             /* into DST, in standard time */
	struct rdate end;               /* out of DST, in DST */
};

struct zone {
	char *key;              /* path of the file, or the TZ string; owned */
	int is_file;
	size_t n;               /* number of transitions */
	int64_t *at;            /* n instants, strictly ascending; owned */
	int32_t *off;           /* offset from at[i] on; owned */
	int32_t before;         /* offset before at[0] */
	int has_rule;           /* rule governs from at[n - 1] on (always if n == 0) */
	struct rule rule;
	int32_t min_off, max_off;
};

static struct zone utc_zone;    /* all zero: offset 0 for ever */

static struct zone *cache[CACHE_MAX];
static size_t ncache;
static const struct zone *named_last;   /* memo: last named zone, */
static char named_name[ZONE_NAME_MAX + 1];  /* its name */
static char named_dir[PATH_LEN];        /* and the zone directory then */
static char *machine_tz;                /* memo: TZ it was resolved from */
static int machine_tz_set;              /* 0: resolved with TZ unset */
static const struct zone *machine_zone; /* NULL: memo empty */

/* ---- civil calendar on int64_t (H. Hinnant's algorithms) -------------- */

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static int64_t days_from_civil(int64_t y, int m, int d)
{
	int64_t era;
	int64_t yoe, doy;

	y -= m <= 2;
	era = floor_div(y, 400);
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	return era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
}

static int64_t year_from_days(int64_t days)
{
	int64_t z = days + 719468, era = floor_div(z, 146097);
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;

	return yoe + era * 400 + (mp >= 10);  /* months 11, 12 are Jan, Feb */
}

static int is_leap(int64_t y)
{
	return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
}

static int month_len(int64_t y, int m)
{
	static const int len[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	return len[m - 1] + (m == 2 && is_leap(y));
}

time_t tz_wall(int y, int mo, int d, int h, int mi)
{
	return (time_t)util_days_from_civil(y, mo, d) * DAY + h * 3600L +
	       mi * 60L;
}

/* ---- POSIX TZ strings ------------------------------------------------- */

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* A decimal number in [min, max] at *s; advances *s.  0 or -1. */
static int parse_num(const char **s, int min, int max, int *out)
{
	const char *p = *s;
	int v = 0;

	if (!is_digit(*p))
		return -1;
	for (; is_digit(*p); p++) {
		v = v * 10 + (*p - '0');
		if (v > max)
			return -1;
	}
	if (v < min)
		return -1;
	*out = v;
	*s = p;
	return 0;
}

/* A zone abbreviation: 3 or more letters, or <...> of [A-Za-z0-9+-]. */
static int parse_abbr(const char **s)
{
	const char *p = *s;
	size_t len = 0;

	if (*p == '<') {
		for (p++; *p != '>'; p++, len++)
			if (!is_alpha(*p) && !is_digit(*p) && *p != '+' && *p != '-')
				return -1;  /* also the end of the string */
		p++;
	} else {
		for (; is_alpha(*p); p++)
			len++;
	}
	if (len < 3)
		return -1;
	*s = p;
	return 0;
}

/* [+|-]hh[:mm[:ss]] with hh <= max_h, as signed seconds. */
static int parse_hms(const char **s, int max_h, int32_t *out)
{
	const char *p = *s;
	int sign = 1, h, m = 0, sec = 0;

	if (*p == '+' || *p == '-')
		sign = *p++ == '-' ? -1 : 1;
	if (parse_num(&p, 0, max_h, &h))
		return -1;
	if (*p == ':') {
		p++;
		if (parse_num(&p, 0, 59, &m))
			return -1;
		if (*p == ':') {
			p++;
			if (parse_num(&p, 0, 59, &sec))
				return -1;
		}
	}
	*out = sign * (h * 3600 + m * 60 + sec);
	*s = p;
	return 0;
}

/* Jn, n or Mm.w.d, then an optional /time (TZif v3: -167 h .. 167 h). */
static int parse_rdate(const char **s, struct rdate *rd)
{
	const char *p = *s;

	if (*p == 'J') {
		p++;
		rd->kind = RDATE_J1;
		if (parse_num(&p, 1, 365, &rd->n))
			return -1;
	} else if (*p == 'M') {
		p++;
		rd->kind = RDATE_MWD;
		if (parse_num(&p, 1, 12, &rd->m) || *p++ != '.' ||
		    parse_num(&p, 1, 5, &rd->w) || *p++ != '.' ||
		    parse_num(&p, 0, 6, &rd->d))
			return -1;
	} else {
		rd->kind = RDATE_J0;
		if (parse_num(&p, 0, 365, &rd->n))
			return -1;
	}
	rd->time = 2 * 3600;
	if (*p == '/') {
		p++;
		if (parse_hms(&p, 167, &rd->time))
			return -1;
	}
	*s = p;
	return 0;
}

/*
 * Parse a whole POSIX TZ string.  Offsets are written west-positive and
 * stored east-positive; a DST offset defaults to one hour ahead of
 * standard time.  Policy: "std offset dst" without a rule gets the current
 * US rule, M3.2.0,M11.1.0 (glibc would take it from the posixrules file,
 * which on Debian is America/New_York: the same rule since 2007).
 */
static int rule_parse(const char *s, struct rule *r)
{
	int32_t secs;

	memset(r, 0, sizeof(*r));
	if (parse_abbr(&s) || parse_hms(&s, 24, &secs))
		return -1;
	r->std_off = r->dst_off = -secs;
	if (*s == '\0')
		return 0;
	if (parse_abbr(&s))
		return -1;
	r->has_dst = 1;
	r->dst_off = r->std_off + 3600;
	if (*s != ',' && *s != '\0') {
		if (parse_hms(&s, 24, &secs))
			return -1;
		r->dst_off = -secs;
	}
	if (*s == '\0' || (s[0] == ',' && s[1] == '\0')) {  /* "," as glibc */
		r->start = (struct rdate){ RDATE_MWD, 0, 3, 2, 0, 2 * 3600 };
		r->end = (struct rdate){ RDATE_MWD, 0, 11, 1, 0, 2 * 3600 };
		return 0;
	}
	if (*s != ',')
		return -1;
	s++;
	if (parse_rdate(&s, &r->start) || *s != ',')
		return -1;
	s++;
	if (parse_rdate(&s, &r->end) || *s != '\0')
		return -1;
	return 0;
}

/* The instant rule date rd happens in year y, off_before in force. */
static int64_t rdate_instant(const struct rdate *rd, int64_t y,
			     int32_t off_before)
{
	int64_t day = days_from_civil(y, 1, 1);

	if (rd->kind == RDATE_J1) {
		day += rd->n - 1 + (is_leap(y) && rd->n >= 60);
	} else if (rd->kind == RDATE_J0) {
		day += rd->n;
	} else {
		int64_t first = days_from_civil(y, rd->m, 1);
		int wday = (int)(((first + 4) % 7 + 7) % 7);  /* day 0: Thursday */
		int mday = 1 + (rd->d - wday + 7) % 7 + (rd->w - 1) * 7;

		while (mday > month_len(y, rd->m))
			mday -= 7;
		day = first + mday - 1;
	}
	return day * DAY + rd->time - off_before;
}

struct change {
	int64_t at;
	int dst;        /* 1: into DST */
};

/*
 * The offset of rule r at t, and in *until the next instant after t at
 * which it may change.  The changes of the years y-2 .. y+1 around t's UTC
 * year y are sorted and searched: a change of year Y happens within about
 * 8 days (167 h + 26 h) of Y itself, so nothing from another year can fall
 * between them and t.  Changes at the same instant sort "out of DST"
 * first, so a rule that ends DST on Dec 31 at 24:00 and starts it again on
 * Jan 1 at 00:00 (DST all year) is in DST at that instant.
 */
static int32_t rule_offset(const struct rule *r, int64_t t, int64_t *until)
{
	struct change ch[8] = { { 0, 0 } };  /* all written before read */
	int64_t y;
	size_t n = 0, i;
	int dst;

	if (!r->has_dst) {
		*until = INT64_MAX;
		return r->std_off;
	}
	y = year_from_days(floor_div(t, DAY));
	for (int k = 0; k < 4; k++) {   /* years y-2 .. y+1 */
		struct change c[2] = {
			{ rdate_instant(&r->start, y - 2 + k, r->std_off), 1 },
			{ rdate_instant(&r->end, y - 2 + k, r->dst_off), 0 },
		};

		for (int e = 0; e < 2; e++) {  /* insertion sort */
			size_t j = n++;

			for (; j > 0 && (ch[j - 1].at > c[e].at ||
					 (ch[j - 1].at == c[e].at && ch[j - 1].dst > c[e].dst));
			     j--)
				ch[j] = ch[j - 1];
			ch[j] = c[e];
		}
	}
	dst = ch[0].dst;  /* nothing before year y-2 can come after t */
	for (i = 0; i < n && ch[i].at <= t; i++)
		dst = ch[i].dst;
	/* Changes of y+2 on come no earlier than 8 days before its Jan 1. */
	*until = i < n ? ch[i].at : (days_from_civil(y + 2, 1, 1) - 10) * DAY;
	return dst ? r->dst_off : r->std_off;
}

/* ---- the offset of a zone at an instant -------------------------------- */

/*
 * Policy, decided here once: before the first transition the offset is
 * that of the first standard-time type (type 0 if all are DST), as glibc
 * does; zic puts that type first anyway, as RFC 8536 asks.  From the last
 * transition on, the footer's rule if there is one, else the last type;
 * with no transitions at all, the footer's rule if any (RFC 8536).
 * *until receives the next instant after t at which the offset may change.
 */
static int32_t zone_offset(const struct zone *z, int64_t t, int64_t *until)
{
	size_t lo, hi;

	if (z->n == 0 || t >= z->at[z->n - 1]) {
		if (z->has_rule)
			return rule_offset(&z->rule, t, until);
		*until = INT64_MAX;
		return z->n ? z->off[z->n - 1] : z->before;
	}
	if (t < z->at[0]) {
		*until = z->at[0];
		return z->before;
	}
	lo = 0;                 /* at[lo] <= t < at[hi] */
	hi = z->n - 1;
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (z->at[mid] <= t)
			lo = mid;
		else
			hi = mid;
	}
	*until = z->at[hi];
	return z->off[lo];
}

/*
 * The instants (at most 2 kept, earlier first) at which z's clock shows
 * wall; returns how many.  An instant c shows wall iff c = wall - off(c),
 * so c lies in [wall - max_off, wall - min_off]: walking the stretches of
 * constant offset over that window (one stretch, usually) finds every
 * instant exactly, with no probing.  When there is none, wall is in a gap
 * and *gap_end receives the transition that jumps over it (the first
 * instant whose wall time is past wall), *has_gap 1.
 */
static int zone_instants(const struct zone *z, int64_t wall, int64_t out[2],
			 int64_t *gap_end, int *has_gap)
{
	int64_t lo, hi, t, until;
	int32_t prev = 0;
	int n = 0, first = 1;

	*has_gap = 0;
	if (wall < -TIME_LIMIT || wall > TIME_LIMIT)
		return 0;
	lo = wall - z->max_off;
	hi = wall - z->min_off;
	for (t = lo;; t = until) {
		int32_t off = zone_offset(z, t, &until);
		int64_t c = wall - off;

		if (c >= t && c < until && n < 2)
			out[n++] = c;
		/* t is a transition: walls [t + prev, t + off) are skipped */
		if (!first && !*has_gap && t + prev <= wall && wall < t + off) {
			*gap_end = t;
			*has_gap = 1;
		}
		if (until > hi || until <= t)  /* the second never happens */
			break;
		prev = off;
		first = 0;
	}
	return n;
}

/* ---- TZif files -------------------------------------------------------- */

struct tzif_header {
	int version;            /* 1 .. 4 */
	uint32_t isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt;
};

static uint32_t get_be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static int32_t get_s32(const unsigned char *p)
{
	uint32_t u = get_be32(p);

	return u <= INT32_MAX ? (int32_t)u : (int32_t)(u - INT32_MAX - 1) + INT32_MIN;
}

static int64_t get_s64(const unsigned char *p)
{
	uint64_t u = (uint64_t)get_be32(p) << 32 | get_be32(p + 4);

	return u <= INT64_MAX ? (int64_t)u : (int64_t)(u - INT64_MAX - 1) + INT64_MIN;
}

/* The 44-byte header at p (len bytes left) into h; 0 or -1. */
static int header_parse(const unsigned char *p, size_t len,
			struct tzif_header *h)
{
	if (len < TZIF_HEADER || memcmp(p, "TZif", 4) != 0)
		return -1;
	switch (p[4]) {
	case '\0': h->version = 1; break;
	case '2': h->version = 2; break;
	case '3': h->version = 3; break;
	case '4': h->version = 4; break;
	default: return -1;
	}
	h->isutcnt = get_be32(p + 20);
	h->isstdcnt = get_be32(p + 24);
	h->leapcnt = get_be32(p + 28);
	h->timecnt = get_be32(p + 32);
	h->typecnt = get_be32(p + 36);
	h->charcnt = get_be32(p + 40);
	return 0;
}

/*
 * The size of the data block h describes, with tsize-byte times, in
 * *size; -1 if it is larger than the avail bytes left in the file (counts
 * are below 2^32, so the sum cannot overflow 64 bits).
 */
static int block_size(const struct tzif_header *h, size_t tsize, size_t avail,
		      size_t *size)
{
	uint64_t need = (uint64_t)h->timecnt * (tsize + 1) +
			(uint64_t)h->typecnt * 6 + h->charcnt +
			(uint64_t)h->leapcnt * (tsize + 4) +
			h->isstdcnt + h->isutcnt;

	if (need > avail)
		return -1;
	*size = (size_t)need;
	return 0;
}

/* Parse the data block at p (its size checked) into z; 0 or -1. */
static int block_parse(const unsigned char *p, const struct tzif_header *h,
		       size_t tsize, struct zone *z)
{
	const unsigned char *times = p, *idx, *types, *chars, *isstd, *isut;
	int32_t type_off[TZIF_MAX_TYPES];
	unsigned char type_dst[TZIF_MAX_TYPES];
	size_t i;

	if (h->leapcnt != 0 || h->typecnt == 0 ||
	    h->typecnt > TZIF_MAX_TYPES || h->charcnt == 0 ||
	    (h->isstdcnt != 0 && h->isstdcnt != h->typecnt) ||
	    (h->isutcnt != 0 && h->isutcnt != h->typecnt))
		return -1;
	idx = times + (size_t)h->timecnt * tsize;
	types = idx + h->timecnt;
	chars = types + (size_t)h->typecnt * 6;
	isstd = chars + h->charcnt;     /* no leap-second records */
	isut = isstd + h->isstdcnt;
	if (chars[h->charcnt - 1] != '\0')
		return -1;      /* designations are NUL-terminated */
	for (i = 0; i < h->typecnt; i++) {
		const unsigned char *tt = types + i * 6;

		type_off[i] = get_s32(tt);
		type_dst[i] = tt[4];
		if (type_off[i] < OFF_MIN || type_off[i] > OFF_MAX ||
		    tt[4] > 1 || tt[5] >= h->charcnt)
			return -1;
		if (i == 0 || type_off[i] < z->min_off)
			z->min_off = type_off[i];
		if (i == 0 || type_off[i] > z->max_off)
			z->max_off = type_off[i];
		if (h->isstdcnt && isstd[i] > 1)
			return -1;
		if (h->isutcnt && (isut[i] > 1 || (isut[i] && !(h->isstdcnt && isstd[i]))))
			return -1;  /* a UT indicator implies a standard one */
	}
	z->before = type_off[0];
	for (i = 0; i < h->typecnt; i++)
		if (!type_dst[i]) {
			z->before = type_off[i];
			break;
		}
	z->n = h->timecnt;
	if (z->n == 0)
		return 0;
	z->at = xmalloc(z->n * sizeof(*z->at));
	z->off = xmalloc(z->n * sizeof(*z->off));
	for (i = 0; i < z->n; i++) {
		z->at[i] = tsize == 4 ? get_s32(times + i * 4) : get_s64(times + i * 8);
		if ((i > 0 && z->at[i] <= z->at[i - 1]) || idx[i] >= h->typecnt)
			return -1;
		z->off[i] = type_off[idx[i]];
	}
	return 0;
}

/*
 * Parse a whole TZif file into z (whose arrays the caller frees, also on
 * failure).  Version 1 files use their 32-bit block; later versions skip
 * it for the 64-bit block and its footer (RFC 8536 section 3.3), which
 * must end the file.  Files with leap-second records (the right/ zones,
 * whose time_t counts leap seconds) are refused in either block.
 */
static int tzif_parse(const unsigned char *buf, size_t len, struct zone *z)
{
	struct tzif_header h, h2;
	size_t pos = TZIF_HEADER, size;
	const unsigned char *foot, *nl;
	char *footer;
	int rc;

	if (header_parse(buf, len, &h) || h.leapcnt != 0 ||
	    block_size(&h, 4, len - pos, &size))
		return -1;
	if (h.version == 1)
		return pos + size == len ? block_parse(buf + pos, &h, 4, z) : -1;
	pos += size;
	if (header_parse(buf + pos, len - pos, &h2) || h2.version != h.version)
		return -1;
	pos += TZIF_HEADER;
	if (block_size(&h2, 8, len - pos, &size) ||
	    block_parse(buf + pos, &h2, 8, z))
		return -1;
	pos += size;
	foot = buf + pos;
	if (len - pos < 2 || foot[0] != '\n')
		return -1;
	nl = memchr(foot + 1, '\n', len - pos - 1);
	if (!nl || nl + 1 != buf + len || memchr(foot + 1, '\0', (size_t)(nl - foot - 1)))
		return -1;
	if (nl == foot + 1)
		return 0;       /* empty footer: the last type goes on for ever */
	footer = xstrndup((const char *)foot + 1, (size_t)(nl - foot - 1));
	rc = rule_parse(footer, &z->rule);
	free(footer);
	if (rc)
		return -1;
	z->has_rule = 1;
	if (z->rule.std_off < z->min_off)
		z->min_off = z->rule.std_off;
	if (z->rule.std_off > z->max_off)
		z->max_off = z->rule.std_off;
	if (z->rule.dst_off < z->min_off)
		z->min_off = z->rule.dst_off;
	if (z->rule.dst_off > z->max_off)
		z->max_off = z->rule.dst_off;
	return 0;
}

/* The contents of regular file path, at most TZIF_MAX_SIZE bytes, or NULL
 * (missing, not a regular file, too large, unreadable).  Owned by caller. */
static unsigned char *file_read(const char *path, size_t *len)
{
	unsigned char *buf = NULL;
	struct stat st;
	size_t cap, got = 0;
	int fd;

	/* O_NONBLOCK: a FIFO planted in the zone directory must not hang us */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size > TZIF_MAX_SIZE)
		goto out;
	cap = (size_t)st.st_size + 1;   /* one more, to see it grew */
	buf = xmalloc(cap);
	while (got < cap) {
		ssize_t r = read(fd, buf + got, cap - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			free(buf);
			buf = NULL;
			goto out;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	if (got == cap) {
		free(buf);
		buf = NULL;
		goto out;
	}
	*len = got;
out:
	close(fd);
	return buf;
}

/* ---- the cache --------------------------------------------------------- */

static void zone_free(struct zone *z)
{
	if (!z)
		return;
	free(z->key);
	free(z->at);
	free(z->off);
	free(z);
}

static const struct zone *cache_find(const char *key, int is_file)
{
	for (size_t i = 0; i < ncache; i++)
		if (cache[i]->is_file == is_file && strcmp(cache[i]->key, key) == 0)
			return cache[i];
	return NULL;
}

/* Keep z (now owned by the cache); empties the cache first if full. */
static const struct zone *cache_add(struct zone *z)
{
	if (ncache == CACHE_MAX) {
		for (size_t i = 0; i < ncache; i++)
			zone_free(cache[i]);
		ncache = 0;
		named_last = NULL;
		machine_zone = NULL;
		free(machine_tz);
		machine_tz = NULL;
	}
	cache[ncache++] = z;
	return z;
}

/* The zone in TZif file path, cached; NULL if unusable. */
static const struct zone *zone_file(const char *path)
{
	const struct zone *found = cache_find(path, 1);
	struct zone *z;
	unsigned char *buf;
	size_t len = 0;

	if (found)
		return found;
	buf = file_read(path, &len);
	if (!buf)
		return NULL;
	z = xcalloc(1, sizeof(*z));
	if (tzif_parse(buf, len, z)) {
		zone_free(z);
		free(buf);
		return NULL;
	}
	free(buf);
	z->key = xstrdup(path);
	z->is_file = 1;
	return cache_add(z);
}

/* The zone of POSIX TZ string s, cached; NULL if s does not parse. */
static const struct zone *zone_posix(const char *s)
{
	const struct zone *found = cache_find(s, 0);
	struct rule r;
	struct zone *z;

	if (found)
		return found;
	if (rule_parse(s, &r))
		return NULL;
	z = xcalloc(1, sizeof(*z));
	z->key = xstrdup(s);
	z->has_rule = 1;
	z->rule = r;
	z->min_off = r.std_off < r.dst_off ? r.std_off : r.dst_off;
	z->max_off = r.std_off < r.dst_off ? r.dst_off : r.std_off;
	z->before = r.std_off;
	return cache_add(z);
}

/* dir "/" name into buf; 0, or -1 if it does not fit. */
static int path_join(char buf[PATH_LEN], const char *dir, const char *name)
{
	size_t dlen = strlen(dir), nlen = strlen(name);

	if (dlen + 1 + nlen + 1 > PATH_LEN)
		return -1;
	memcpy(buf, dir, dlen + 1);
	buf[dlen] = '/';
	memcpy(buf + dlen + 1, name, nlen + 1);
	return 0;
}

static const char *zone_dir(void)
{
	const char *dir = getenv("TZDIR");

	return dir && *dir ? dir : ZONEINFO_DIR;
}

/* 1 if zone is a plausible IANA name: components of [A-Za-z0-9_+.-], none
 * empty or starting with '.', so no absolute path and no "..". */
static int name_ok(const char *zone)
{
	size_t len = 0;

	if (!zone || !*zone || strlen(zone) > ZONE_NAME_MAX)
		return 0;
	for (const char *p = zone;; p++) {
		char ch = *p;

		if (ch == '/' || ch == '\0') {
			if (len == 0)
				return 0;
			if (ch == '\0')
				return 1;
			len = 0;
			continue;
		}
		if (len == 0 && ch == '.')
			return 0;
		if (!(is_alpha(ch) || is_digit(ch) || ch == '_' || ch == '+' ||
		      ch == '-' || ch == '.'))
			return 0;
		len++;
	}
}

/*
 * A named zone: an IANA name under the zone directory; NULL if unusable.
 * The planner asks for the same zone thousands of times in a row: the
 * memo answers those with a getenv() (TZDIR may change) and two strcmp().
 */
static const struct zone *zone_named(const char *name)
{
	const char *dir = zone_dir();
	char path[PATH_LEN];

	if (!name)
		return NULL;
	if (named_last && strcmp(name, named_name) == 0 &&
	    strcmp(dir, named_dir) == 0)
		return named_last;
	if (!name_ok(name) || path_join(path, dir, name))
		return NULL;
	named_last = zone_file(path);
	/* both fit: name_ok() and path_join() checked their lengths */
	if (named_last && (xstrlcpy(named_name, name, sizeof(named_name)) ||
			   xstrlcpy(named_dir, dir, sizeof(named_dir))))
		named_last = NULL;
	return named_last;
}

/*
 * The machine zone for TZ value tz (NULL: unset), the way glibc reads it:
 * unset is /etc/localtime; a leading ':' is dropped; empty is UTC; else a
 * TZif file (absolute, or under the zone directory) and failing that a
 * POSIX TZ string.  Whatever cannot be used is UTC, as in glibc: the
 * machine zone never fails.
 */
static const struct zone *machine_resolve(const char *tz)
{
	const struct zone *z;
	char path[PATH_LEN];

	if (!tz) {
		z = zone_file(LOCALTIME_FILE);
		return z ? z : &utc_zone;
	}
	if (*tz == ':')
		tz++;
	if (*tz == '\0')
		return &utc_zone;
	if (*tz == '/')
		z = zone_file(tz);
	else
		z = path_join(path, zone_dir(), tz) ? NULL : zone_file(path);
	if (!z)
		z = zone_posix(tz);
	return z ? z : &utc_zone;
}

static const struct zone *zone_machine(void)
{
	const char *tz = getenv("TZ");
	const struct zone *z;

	if (machine_zone && (tz ? machine_tz_set && strcmp(tz, machine_tz) == 0
				: !machine_tz_set))
		return machine_zone;
	z = machine_resolve(tz);        /* may empty the cache and the memo */
	free(machine_tz);
	machine_tz = tz ? xstrdup(tz) : NULL;
	machine_tz_set = tz != NULL;
	machine_zone = z;
	return z;
}

static const struct zone *zone_get(const char *zone)
{
	return zone ? zone_named(zone) : zone_machine();
}

/* ---- the public functions ---------------------------------------------- */

int tz_valid(const char *zone)
{
	return zone_named(zone) != NULL;
}

/* v as a time_t in *out; -1 if it does not fit (a 32-bit time_t). */
static int put_time(int64_t v, time_t *out)
{
	if ((int64_t)(time_t)v != v)
		return -1;
	*out = (time_t)v;
	return 0;
}

int tz_instants(const char *zone, time_t wall, time_t out[2])
{
	const struct zone *z = zone_get(zone);
	int64_t found[2], gap_end;
	int n, has_gap;

	assert(out);
	if (!z)
		return -1;
	n = zone_instants(z, wall, found, &gap_end, &has_gap);
	for (int i = 0; i < n; i++)
		if (put_time(found[i], &out[i]))
			return i;
	return n;
}

int tz_wall_to_instant(const char *zone, time_t wall, time_t *out)
{
	const struct zone *z = zone_get(zone);
	int64_t found[2], gap_end;
	int has_gap;

	assert(out);
	if (!z)
		return -1;
	if (zone_instants(z, wall, found, &gap_end, &has_gap) > 0)
		return put_time(found[0], out);
	return has_gap ? put_time(gap_end, out) : -1;
}

int tz_instant_to_wall(const char *zone, time_t t, time_t *wall)
{
	const struct zone *z = zone_get(zone);
	int64_t until;

	assert(wall);
	if (!z || t < -TIME_LIMIT || t > TIME_LIMIT)
		return -1;
	return put_time((int64_t)t + zone_offset(z, t, &until), wall);
}
