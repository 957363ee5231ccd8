/*
 * tz.c - wall-clock time in named IANA zones through the C library.
 *
 * Invariants: only use_zone() writes TZ.  While a named zone is loaded,
 * loaded_zone names it, loaded_value is the exact TZ string we set, and
 * saved_tz holds the TZ the process had before (NULL if it was unset);
 * zone == NULL puts exactly that back, so the machine zone is whatever TZ
 * (or /etc/localtime) says.  TZ is switched only when the wanted zone
 * differs from the loaded one.  If someone else changed TZ meanwhile (a
 * test's setenv), their value wins and becomes the machine zone.
 * Wall times are linear seconds on the timegm() scale, computed with
 * util's civil-date arithmetic; every conversion is exact to the second
 * and every instant returned has been verified by a round trip through
 * localtime_r().
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tz.h"
#include "util.h"
#include "banned.h"

#define DAY 86400L
#define ZONEINFO_DIR "/usr/share/zoneinfo"
#define ZONE_NAME_MAX 255
/*
 * Offsets are probed at instants wall + k * PROBE_STEP, k in
 * [-PROBE_N, PROBE_N]: a day either side, which covers every UTC offset
 * (at most 14 h) before and after a transition near wall.
 */
#define PROBE_STEP (6 * 3600L)
#define PROBE_N 4
#define MAX_CANDS (2 * PROBE_N + 1)

static char *loaded_zone;  /* named zone in TZ now, NULL = machine zone */
static char *loaded_value; /* ":" loaded_zone, the TZ string we set */
static char *saved_tz;     /* TZ before we switched, NULL if it was unset */

static time_t tm_to_wall(const struct tm *tm)
{
	return (time_t)util_days_from_civil(tm->tm_year + 1900, tm->tm_mon + 1,
					    tm->tm_mday) * DAY +
	       tm->tm_hour * 3600L + tm->tm_min * 60L + tm->tm_sec;
}

time_t tz_wall(int y, int mo, int d, int h, int mi)
{
	return (time_t)util_days_from_civil(y, mo, d) * DAY + h * 3600L +
	       mi * 60L;
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
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '_' || ch == '+' ||
		      ch == '-' || ch == '.'))
			return 0;
		len++;
	}
}

int tz_valid(const char *zone)
{
	const char *dir = getenv("TZDIR");
	char path[4096];
	char magic[4];
	size_t got;
	int n;
	FILE *f;

	if (!name_ok(zone))
		return 0;
	if (!dir || !*dir)
		dir = ZONEINFO_DIR;
	n = snprintf(path, sizeof(path), "%s/%s", dir, zone);
	if (n < 0 || (size_t)n >= sizeof(path))
		return 0;
	f = fopen(path, "rbe");
	if (!f)
		return 0;
	got = fread(magic, 1, sizeof(magic), f);  /* 0 for a directory */
	fclose(f);
	return got == sizeof(magic) && memcmp(magic, "TZif", 4) == 0;
}

/* 1 if TZ still holds the value use_zone() set. */
static int ours_in_place(void)
{
	const char *cur = getenv("TZ");

	return loaded_value && cur && strcmp(cur, loaded_value) == 0;
}

static void forget_loaded(void)
{
	free(loaded_zone);
	free(loaded_value);
	loaded_zone = NULL;
	loaded_value = NULL;
}

static int use_machine_zone(void)
{
	if (loaded_zone) {
		if (ours_in_place()) {
			if (saved_tz) {
				if (setenv("TZ", saved_tz, 1))
					return -1;
			} else {
				unsetenv("TZ");
			}
		}
		free(saved_tz);
		saved_tz = NULL;
		forget_loaded();
	}
	/* Cheap when TZ is unchanged (glibc compares with the loaded value),
	 * and picks up a TZ changed by the caller. */
	tzset();
	return 0;
}

/* Make the C library's local time that of zone (NULL = machine zone). */
static int use_zone(const char *zone)
{
	char *value;
	size_t n;

	if (!zone)
		return use_machine_zone();
	if (loaded_zone && ours_in_place() && strcmp(loaded_zone, zone) == 0)
		return 0;
	if (!tz_valid(zone))
		return -1;
	if (!loaded_zone || !ours_in_place()) {
		/* TZ holds the machine zone now: remember it. */
		const char *cur = getenv("TZ");

		free(saved_tz);
		saved_tz = cur ? xstrdup(cur) : NULL;
	}
	n = strlen(zone) + 2;
	value = xmalloc(n);
	snprintf(value, n, ":%s", zone);
	if (setenv("TZ", value, 1)) {
		free(value);
		return -1;
	}
	forget_loaded();
	loaded_zone = xstrdup(zone);
	loaded_value = value;
	tzset();
	return 0;
}

/* Wall time of instant t in the loaded zone; 0 or -1. */
static int wall_at(time_t t, time_t *wall, long *gmtoff)
{
	struct tm tm;

	if (!localtime_r(&t, &tm))
		return -1;
	*wall = tm_to_wall(&tm);
	if (gmtoff)
		*gmtoff = tm.tm_gmtoff;
	return 0;
}

static void add_unique(time_t *arr, int *n, time_t t)
{
	for (int i = 0; i < *n; i++)
		if (arr[i] == t)
			return;
	arr[(*n)++] = t;
}

/*
 * All instants (at most 2, earlier first) whose wall time in the loaded
 * zone is wall.  Candidates are wall minus each UTC offset seen within a
 * day of wall (which also finds overlaps that are not DST changes); each is
 * kept only if localtime_r() gives wall back.  mktime() is not used: it
 * finds nothing the probes miss and costs a hundred times more.  *min_off
 * and *max_off receive the smallest and largest offset seen, for the gap
 * search.
 */
static int instants_loaded(time_t wall, time_t out[2], long *min_off,
			   long *max_off)
{
	time_t cand[MAX_CANDS] = { 0 }, found[MAX_CANDS] = { 0 };
	int ncand = 0, nfound = 0;

	*min_off = 0;
	*max_off = 0;
	for (int k = -PROBE_N; k <= PROBE_N; k++) {
		time_t probe = wall + k * PROBE_STEP, w;
		long off;

		if (wall_at(probe, &w, &off))
			continue;
		if (k == -PROBE_N || off < *min_off)
			*min_off = off;
		if (k == -PROBE_N || off > *max_off)
			*max_off = off;
		add_unique(cand, &ncand, wall - off);
	}
	for (int i = 0; i < ncand; i++) {
		time_t w;

		if (wall_at(cand[i], &w, NULL) == 0 && w == wall)
			add_unique(found, &nfound, cand[i]);
	}
	for (int i = 1; i < nfound; i++)  /* insertion sort, n <= 2 in practice */
		for (int j = i; j > 0 && found[j - 1] > found[j]; j--) {
			time_t tmp = found[j];

			found[j] = found[j - 1];
			found[j - 1] = tmp;
		}
	if (nfound > 2)
		nfound = 2;
	for (int i = 0; i < nfound; i++)
		out[i] = found[i];
	return nfound;
}

/*
 * A memo of instants_loaded(), keyed by the TZ value in force and the wall
 * time: a reconciliation converts the same few hundred check-in and
 * check-out times again and again (every lock of every reservation), and
 * each conversion costs a dozen localtime_r() calls.  Direct-mapped; an
 * entry is only used when its TZ string matches exactly, so a caller that
 * changes TZ never gets a stale answer.
 */
#define MEMO_SIZE 4093  /* a prime */

struct memo {
	time_t wall;
	int n;                  /* -1: empty slot */
	time_t out[2];
	long min_off, max_off;
	char tz[72];            /* the TZ value; longer ones are not memoised */
};

static struct memo memo[MEMO_SIZE];

/* splitmix64's finalizer: times a whole number of days or hours apart
 * must not share slots. */
static unsigned long long mix64(unsigned long long x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}
static int memo_ready;

static int instants_memo(time_t wall, time_t out[2], long *min_off, long *max_off)
{
	const char *tz = getenv("TZ");
	struct memo *m;
	size_t h;

	if (!tz)
		tz = "";
	if (!memo_ready) {
		for (size_t i = 0; i < MEMO_SIZE; i++)
			memo[i].n = -1;
		memo_ready = 1;
	}
	h = (size_t)(mix64((unsigned long long)wall) % MEMO_SIZE);
	m = &memo[h];
	if (m->n >= 0 && m->wall == wall && strcmp(m->tz, tz) == 0) {
		out[0] = m->out[0];
		out[1] = m->out[1];
		*min_off = m->min_off;
		*max_off = m->max_off;
		return m->n;
	}
	m->n = instants_loaded(wall, m->out, &m->min_off, &m->max_off);
	m->wall = wall;
	if (xstrlcpy(m->tz, tz, sizeof(m->tz)) != 0)
		m->n = -1;	/* too long to key on: do not keep it */
	out[0] = m->out[0];
	out[1] = m->out[1];
	*min_off = m->min_off;
	*max_off = m->max_off;
	return m->n < 0 ? instants_loaded(wall, out, min_off, max_off) : m->n;
}

int tz_instants(const char *zone, time_t wall, time_t out[2])
{
	long min_off, max_off;

	assert(out);
	if (use_zone(zone))
		return -1;
	return instants_memo(wall, out, &min_off, &max_off);
}

/*
 * wall lies in a gap: the transition instant, i.e. the first instant whose
 * wall time is past wall.  Between lo = wall - max_off (still before the
 * gap) and hi = wall - min_off (already after it) the wall time increases,
 * so a binary search to the second finds it.
 */
static int gap_end(time_t wall, long min_off, long max_off, time_t *out)
{
	time_t lo = wall - max_off, hi = wall - min_off, w;

	if (wall_at(lo, &w, NULL) || w >= wall ||
	    wall_at(hi, &w, NULL) || w <= wall)
		return -1;
	while (hi - lo > 1) {
		time_t mid = lo + (hi - lo) / 2;

		if (wall_at(mid, &w, NULL))
			return -1;
		if (w > wall)
			hi = mid;
		else
			lo = mid;
	}
	*out = hi;
	return 0;
}

int tz_wall_to_instant(const char *zone, time_t wall, time_t *out)
{
	time_t inst[2];
	long min_off, max_off;
	int n;

	assert(out);
	if (use_zone(zone))
		return -1;
	n = instants_memo(wall, inst, &min_off, &max_off);
	if (n > 0) {
		*out = inst[0];
		return 0;
	}
	return gap_end(wall, min_off, max_off, out);
}

int tz_instant_to_wall(const char *zone, time_t t, time_t *wall)
{
	assert(wall);
	if (use_zone(zone))
		return -1;
	return wall_at(t, wall, NULL);
}
