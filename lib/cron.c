/*
 * cron.c - crontab time specifications: parsing, and the next fire time as
 * Vixie cron computes it.
 *
 * Invariants: a parsed cron_expr has at least one bit set in every field
 * (every element of a list sets at least one), bits outside a field's
 * range are clear, and bit 7 of dow is never set (7 is folded into 0).
 * cron_next never reads the clock: time comes in as `after`.  It walks
 * the wall-clock minutes that match (linear timegm-scale seconds, see
 * tz.h) in ascending order with pure calendar arithmetic, maps each to
 * instants in the machine's zone, and keeps the earliest instant after
 * `after`.  The DST policy is decided in one place, fire_instants().
 */
#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "cron.h"
#include "tz.h"
#include "util.h"
#include "banned.h"

#define DAY 86400L
#define HOUR 3600L
/* The largest change of UTC offset handled as DST (Vixie cron's limit for
 * treating a clock change as DST is 3 hours too). */
#define DST_REACH (3 * HOUR)
#define YEARS_AHEAD 5

struct field_spec {
	const char *name;
	int lo, hi;
	const char *const *names; /* 3-letter names for lo.., or NULL */
};

static const char *const month_names[] = {
	"jan", "feb", "mar", "apr", "may", "jun",
	"jul", "aug", "sep", "oct", "nov", "dec", NULL
};
static const char *const dow_names[] = {
	"sun", "mon", "tue", "wed", "thu", "fri", "sat", NULL
};

enum { F_MINUTE, F_HOUR, F_DOM, F_MONTH, F_DOW, NFIELDS };

static const struct field_spec fields[NFIELDS] = {
	{ "minute", 0, 59, NULL },
	{ "hour", 0, 23, NULL },
	{ "day-of-month", 1, 31, NULL },
	{ "month", 1, 12, month_names },
	{ "day-of-week", 0, 7, dow_names },
};

/* Elements longer than this are shown shortened in messages. */
#define SHOW 40

static int is_blank(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' ||
	       ch == '\v' || ch == '\f';
}

static int all_digits(const char *p, size_t len)
{
	if (!len)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (p[i] < '0' || p[i] > '9')
			return 0;
	return 1;
}

static int all_alpha(const char *p, size_t len)
{
	if (!len)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (!((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= 'A' && p[i] <= 'Z')))
			return 0;
	return 1;
}

static int lower(char ch)
{
	return (ch >= 'A' && ch <= 'Z') ? ch - 'A' + 'a' : ch;
}

/* Digits to int, saturating at 100000 (out of every range anyway). */
static int number(const char *p, size_t len)
{
	int v = 0;

	for (size_t i = 0; i < len && v < 100000; i++)
		v = v * 10 + (p[i] - '0');
	return v;
}

/* One value (number or name) of field f into *v, or a message into msg. */
static int parse_value(const struct field_spec *f, const char *p, size_t len,
		       int *v, char *msg, size_t msgsize)
{
	if (all_digits(p, len)) {
		*v = number(p, len);
		if (*v < f->lo || *v > f->hi) {
			snprintf(msg, msgsize, "value %.*s out of range %d-%d",
				 (int)(len > SHOW ? SHOW : len), p, f->lo, f->hi);
			return -1;
		}
		return 0;
	}
	if (all_alpha(p, len)) {
		for (int i = 0; f->names && f->names[i]; i++) {
			const char *n = f->names[i];

			if (len == 3 && lower(p[0]) == n[0] &&
			    lower(p[1]) == n[1] && lower(p[2]) == n[2]) {
				*v = f->lo + i;
				return 0;
			}
		}
		snprintf(msg, msgsize, "unknown name '%.*s'",
			 (int)(len > SHOW ? SHOW : len), p);
		return -1;
	}
	snprintf(msg, msgsize, "invalid value '%.*s'",
		 (int)(len > SHOW ? SHOW : len), p);
	return -1;
}

/*
 * One list element: '*', N, N-M, each with an optional /STEP, where N/STEP
 * means N-max/STEP.  Sets its bits in *bits.
 */
static int parse_element(const struct field_spec *f, const char *p,
			 size_t len, uint64_t *bits, char *msg, size_t msgsize)
{
	const char *slash = memchr(p, '/', len);
	size_t rlen = slash ? (size_t)(slash - p) : len;
	const char *dash = memchr(p, '-', rlen);
	int first, last, step = 1;

	if (!len) {
		snprintf(msg, msgsize, "empty list element");
		return -1;
	}
	if (rlen == 1 && p[0] == '*') {
		first = f->lo;
		last = f->hi;
	} else if (dash) {
		if (dash == p || dash + 1 == p + rlen ||
		    memchr(dash + 1, '-', rlen - (size_t)(dash - p) - 1)) {
			snprintf(msg, msgsize, "invalid range '%.*s'",
				 (int)(rlen > SHOW ? SHOW : rlen), p);
			return -1;
		}
		if (parse_value(f, p, (size_t)(dash - p), &first, msg, msgsize) ||
		    parse_value(f, dash + 1, rlen - (size_t)(dash - p) - 1,
				&last, msg, msgsize))
			return -1;
		if (first > last) {
			snprintf(msg, msgsize, "range %.*s is reversed",
				 (int)(rlen > SHOW ? SHOW : rlen), p);
			return -1;
		}
	} else {
		if (parse_value(f, p, rlen, &first, msg, msgsize))
			return -1;
		last = slash ? f->hi : first;
	}
	if (slash) {
		const char *s = slash + 1;
		size_t slen = len - rlen - 1;

		if (!all_digits(s, slen)) {
			snprintf(msg, msgsize, "invalid step '%.*s'",
				 (int)(slen > SHOW ? SHOW : slen), s);
			return -1;
		}
		step = number(s, slen);
		if (step < 1) {
			snprintf(msg, msgsize, "step must be at least 1");
			return -1;
		}
		if (step > f->hi) {
			snprintf(msg, msgsize, "step %.*s is larger than %d",
				 (int)(slen > SHOW ? SHOW : slen), s, f->hi);
			return -1;
		}
	}
	for (int v = first; v <= last; v += step)
		*bits |= (uint64_t)1 << v;
	return 0;
}

/* A comma list of elements. */
static int parse_field(const struct field_spec *f, const char *p, size_t len,
		       uint64_t *bits, char *msg, size_t msgsize)
{
	const char *end = p + len;

	*bits = 0;
	for (;;) {
		const char *comma = memchr(p, ',', (size_t)(end - p));
		const char *e = comma ? comma : end;

		if (parse_element(f, p, (size_t)(e - p), bits, msg, msgsize))
			return -1;
		if (!comma)
			return 0;
		p = comma + 1;
	}
}

enum err cron_parse(const char *s, struct cron_expr *out, char *errbuf)
{
	const char *start[NFIELDS];
	size_t len[NFIELDS];
	uint64_t bits[NFIELDS];
	struct cron_expr c;
	char msg[160];
	int n = 0;

	assert(s && out);
	for (const char *p = s; *p;) {
		const char *b;

		while (is_blank(*p))
			p++;
		if (!*p)
			break;
		b = p;
		while (*p && !is_blank(*p))
			p++;
		if (n < NFIELDS) {
			start[n] = b;
			len[n] = (size_t)(p - b);
		}
		n++;
	}
	if (n != NFIELDS)
		return ERRF(errbuf, ERR_CONFIG,
			    "bad cron expression '%s': expected 5 fields, got %d",
			    s, n);
	for (int i = 0; i < NFIELDS; i++)
		if (parse_field(&fields[i], start[i], len[i], &bits[i], msg,
				sizeof(msg)))
			return ERRF(errbuf, ERR_CONFIG,
				    "bad cron expression '%s': %s field: %s",
				    s, fields[i].name, msg);
	memset(&c, 0, sizeof(c));
	c.minute = bits[F_MINUTE];
	c.hour = (uint32_t)bits[F_HOUR];
	c.dom = (uint32_t)bits[F_DOM];
	c.month = (uint16_t)bits[F_MONTH];
	c.dow = (uint8_t)((bits[F_DOW] | bits[F_DOW] >> 7) & 0x7f);
	c.min_star = start[F_MINUTE][0] == '*';
	c.hour_star = start[F_HOUR][0] == '*';
	c.dom_star = start[F_DOM][0] == '*';
	c.dow_star = start[F_DOW][0] == '*';
	*out = c;
	return ERR_OK;
}

static time_t floor_div(time_t a, time_t b)
{
	time_t q = a / b;

	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* Vixie cron: day-of-month and day-of-week are ANDed when either field
 * starts with '*', else ORed. */
static int day_matches(const struct cron_expr *c, int d, time_t days)
{
	int wday = (int)((days % 7 + 11) % 7);  /* 1970-01-01 was a Thursday */
	int dom_ok = (c->dom >> d) & 1;
	int dow_ok = (c->dow >> wday) & 1;

	if (c->dom_star || c->dow_star)
		return dom_ok && dow_ok;
	return dom_ok || dow_ok;
}

/* Smallest set bit >= from in bits (below 64), or -1. */
static int next_bit(uint64_t bits, int from)
{
	for (int i = from; i < 64; i++)
		if ((bits >> i) & 1)
			return i;
	return -1;
}

/*
 * The first wall minute >= w (w on a minute boundary) that the expression
 * matches, or -1 if there is none up to limit.  Skips whole months, days
 * and hours that cannot match.
 */
static time_t next_match(const struct cron_expr *c, time_t w, time_t limit)
{
	while (w <= limit) {
		time_t days = floor_div(w, DAY);
		time_t sod = w - days * DAY;
		int y, m, d, h = (int)(sod / HOUR), mi = (int)(sod / 60 % 60);

		util_civil_from_days((long)days, &y, &m, &d);
		if (!((c->month >> m) & 1)) {
			if (m == 12) {
				y++;
				m = 1;
			} else {
				m++;
			}
			w = (time_t)util_days_from_civil(y, m, 1) * DAY;
			continue;
		}
		if (!day_matches(c, d, days)) {
			w = (days + 1) * DAY;
			continue;
		}
		if (!((c->hour >> h) & 1)) {
			w = days * DAY + (h + 1) * HOUR;
			continue;
		}
		mi = next_bit(c->minute, mi);
		if (mi < 0 || mi > 59) {
			w = days * DAY + (h + 1) * HOUR;
			continue;
		}
		return days * DAY + h * HOUR + mi * 60L;
	}
	return -1;
}

/*
 * The DST policy, decided here once, is Vixie cron's (see the comment on
 * clock changes in its cron.c).  A job is "fixed-time" when neither its
 * minute nor its hour field starts with '*', else "wildcard".
 *   - Spring forward (wall minute in a gap, 0 instants): a fixed-time job
 *     still runs that day, at the first valid wall minute after the gap
 *     (02:30 on a 02:00->03:00 day runs at 03:00); a wildcard job simply
 *     skips the minutes that did not exist.
 *   - Fall back (wall minute in an overlap, 2 instants): a fixed-time job
 *     runs on the first pass only, so it runs once that day; a wildcard job
 *     follows the clock and runs on both passes.
 * Writes the instants for wall minute `wall` into out and returns how many.
 */
static int fire_instants(time_t wall, int fixed, time_t out[2])
{
	time_t t, tw;
	int n = tz_instants(NULL, wall, out);

	if (n < 0)
		return 0;
	if (n == 0) {
		if (!fixed || tz_wall_to_instant(NULL, wall, &t) ||
		    tz_instant_to_wall(NULL, t, &tw))
			return 0;
		if (tw % 60 != 0)  /* gap ending off a minute boundary */
			t += 60 - (tw - floor_div(tw, 60) * 60);
		out[0] = t;
		return 1;
	}
	if (n == 2 && fixed)
		return 1;
	return n;
}

/* UTC offset (wall minus instant) at t in the machine zone. */
static int offset_at(time_t t, time_t *off)
{
	time_t w;

	if (tz_instant_to_wall(NULL, t, &w))
		return -1;
	*off = w - t;
	return 0;
}

/*
 * Smallest and largest UTC offset over [from, to], sampled every
 * OFFSET_SAMPLE seconds and at both ends (transitions are months apart, so
 * a sample grid finds every offset in force within a few hours).
 */
#define OFFSET_SAMPLE (30 * 60L)
static int offset_range(time_t from, time_t to, time_t *lo, time_t *hi)
{
	time_t off;

	if (offset_at(to, &off))
		return -1;
	*lo = *hi = off;
	for (time_t t = from; t < to; t += OFFSET_SAMPLE) {
		if (offset_at(t, &off))
			return -1;
		if (off < *lo)
			*lo = off;
		if (off > *hi)
			*hi = off;
	}
	return 0;
}

/*
 * Candidate wall minutes are scanned in ascending order, but instants are
 * not monotonic in wall time across a fall-back, so the scan has two
 * windows, both derived from the UTC offsets in force and bounded by the
 * largest offset change we handle (DST_REACH):
 *   - it starts `back` before wall(after), where back is how far the
 *     offset drops within DST_REACH after `after`: an instant s in that
 *     span has wall(s) > after + min offset = wall(after) - back, and
 *     later instants have walls past wall(after);
 *   - once an instant `best` is found, a later wall minute w can still map
 *     to an earlier instant only if the offset just before best was larger,
 *     so the scan stops past wall(best) + (max offset in the DST_REACH
 *     before best - offset at best).
 * Without a transition nearby both are 0 and the scan stops at the first
 * match.
 */
time_t cron_next(const struct cron_expr *c, time_t after)
{
	time_t w0, w, limit, best = 0, stop = 0, lo, hi, back;
	int fixed, found = 0, y, m, d;

	assert(c);
	fixed = !c->min_star && !c->hour_star;
	if (tz_instant_to_wall(NULL, after, &w0) ||
	    offset_range(after, after + DST_REACH, &lo, &hi))
		return (time_t)-1;
	util_civil_from_days((long)floor_div(w0, DAY), &y, &m, &d);
	if (m == 2 && d == 29)
		d = 28;
	limit = (time_t)util_days_from_civil(y + YEARS_AHEAD, m, d) * DAY +
		(w0 - floor_div(w0, DAY) * DAY);
	back = (w0 - after) - lo;
	for (w = next_match(c, floor_div(w0 - back, 60) * 60, limit); w != -1;
	     w = next_match(c, w + 60, limit)) {
		time_t inst[2];
		int n;

		if (found && w > stop)
			break;
		n = fire_instants(w, fixed, inst);
		for (int i = 0; i < n; i++) {
			time_t bw;

			if (inst[i] <= after || (found && inst[i] >= best))
				continue;
			best = inst[i];
			found = 1;
			if (tz_instant_to_wall(NULL, best, &bw) ||
			    offset_range(best - DST_REACH, best, &lo, &hi))
				stop = w + 2 * DST_REACH;  /* be generous */
			else
				stop = bw + (hi - (bw - best));
		}
	}
	return found ? best : (time_t)-1;
}
