/*
 * test_tz.c - unit tests for lib/tz.c: zone name validation, TZif parsing
 * (hand-built minimal files, corrupt and mutated ones, the right/ zones
 * with leap seconds), wall <-> instant conversion to the second, the
 * gap/overlap policy, POSIX TZ rules past the transition tables, the
 * machine zone following TZ while tz.c never touches the environment, and
 * a cross-check of every installed zone against glibc.
 *
 * Expected instants are written as ISO-8601 UTC strings and converted with
 * util_parse_time(), which does not depend on any time zone.  Only this
 * file (never tz.c) sets TZ and calls localtime_r(), as the oracle.
 * TZ_CROSSCHECK_SAMPLES sets the random instants per zone of the
 * cross-check (default 300, or 10 when CHECK_WRAP is set: under valgrind
 * the transitions are then checked in only one zone in 25).
 */
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "tz.h"
#include "util.h"
#include "banned.h"

#define ZONEINFO "/usr/share/zoneinfo"

extern char **environ;

static time_t iso(const char *s)
{
	int y, mo, d, h, mi, sec, end = 0;
	time_t t;

	if (util_parse_time(s, &t) == 0)
		return t;
	/* util_parse_time() stops at 1970; tz_wall() is the same scale */
	if (sscanf(s, "%d-%d-%dT%d:%d:%dZ%n", &y, &mo, &d, &h, &mi, &sec, &end) != 6 ||
	    end == 0 || s[end] != '\0' || y < 1800 || mo < 1 || mo > 12 ||
	    d < 1 || d > 31)
		fail_msg("bad time literal in test: %s", s);
	return tz_wall(y, mo, d, h, mi) + sec;
}

/* A wall time written as an ISO string with 'Z': same fields, timegm scale. */
static time_t wall(const char *s)
{
	return iso(s);
}

static int unset_tzdir(void **state)
{
	(void)state;
	unsetenv("TZDIR");
	return 0;
}

/* ---- the environment, to show that tz.c never changes it ------------ */

struct env_snap {
	char **env;             /* environ itself: setenv may move it */
	const char *tz;         /* getenv("TZ"), the pointer */
	char tz_val[128];
	const char *tzdir;
};

static void env_take(struct env_snap *s)
{
	s->env = environ;
	s->tz = getenv("TZ");
	s->tzdir = getenv("TZDIR");
	s->tz_val[0] = '\0';
	if (s->tz)
		assert_int_equal(xstrlcpy(s->tz_val, s->tz, sizeof(s->tz_val)), 0);
}

static void env_same(const struct env_snap *s)
{
	assert_ptr_equal(environ, s->env);
	assert_ptr_equal(getenv("TZ"), s->tz);
	assert_ptr_equal(getenv("TZDIR"), s->tzdir);
	if (s->tz)
		assert_string_equal(getenv("TZ"), s->tz_val);
}

/* ---- TZif files built by hand ---------------------------------------- */

/*
 * A small TZif file: types +01 (0) and +02 (1), two transitions, the
 * footer, and for version 2+ the stub version-1 block of zic -b slim.
 * Each field can be spoiled for the corrupt cases.
 */
struct zspec {
	char version;           /* '2', '3', ...; '\0': a version-1 file */
	int64_t at[2];          /* transition times, to types idx[] */
	unsigned char idx[2];
	int32_t utoff[2];
	unsigned char isdst[2], desig[2];
	uint32_t leapcnt;       /* leap-second records, as in right/ */
	uint32_t typecnt;       /* 2 in a good file */
	uint32_t charcnt;       /* 8 in a good file */
	const char *footer;     /* between the newlines; NULL: none */
	const char *trailer;    /* after everything; NULL: none */
};

/* 2000-01-01 and 2010-01-01; the second changes nothing, as zic's may. */
#define GOOD_ZONE { '2', { 946684800, 1262304000 }, { 1, 1 }, { 3600, 7200 }, \
		    { 0, 0 }, { 0, 4 }, 0, 2, 8, "<+02>-2", NULL }

struct buf {
	unsigned char b[1024];
	size_t n;
};

static void put(struct buf *f, const void *p, size_t n)
{
	assert_true(f->n + n <= sizeof(f->b));
	memcpy(f->b + f->n, p, n);
	f->n += n;
}

static void put_be(struct buf *f, uint64_t v, int bytes)
{
	for (int i = bytes - 1; i >= 0; i--) {
		unsigned char c = (unsigned char)(v >> (8 * i));

		put(f, &c, 1);
	}
}

static void put_header(struct buf *f, char version, uint32_t leapcnt,
		       uint32_t timecnt, uint32_t typecnt, uint32_t charcnt)
{
	static const unsigned char zeros[15];

	put(f, "TZif", 4);
	put(f, &version, 1);
	put(f, zeros, sizeof(zeros));
	put_be(f, 0, 4);        /* isutcnt */
	put_be(f, 0, 4);        /* isstdcnt */
	put_be(f, leapcnt, 4);
	put_be(f, timecnt, 4);
	put_be(f, typecnt, 4);
	put_be(f, charcnt, 4);
}

static void put_block(struct buf *f, const struct zspec *z, int tsize)
{
	put_header(f, z->version, z->leapcnt, 2, z->typecnt, z->charcnt);
	for (int i = 0; i < 2; i++)
		put_be(f, (uint64_t)z->at[i], tsize);
	put(f, z->idx, 2);
	for (int i = 0; i < 2; i++) {
		put_be(f, (uint32_t)z->utoff[i], 4);
		put(f, &z->isdst[i], 1);
		put(f, &z->desig[i], 1);
	}
	put(f, "+01\0+02", 8);
	for (uint32_t i = 0; i < z->leapcnt; i++) {
		put_be(f, 78796800 + 31536000ULL * i, tsize);
		put_be(f, i + 1, 4);
	}
}

static void tzif_build(const struct zspec *z, struct buf *f)
{
	f->n = 0;
	if (z->version == '\0') {
		put_block(f, z, 4);
	} else {
		/* the version-1 stub: no transitions, one type, "" */
		put_header(f, z->version, z->leapcnt, 0, 1, 1);
		put(f, "\0\0\0\0\0\0", 6);
		put(f, "", 1);
		for (uint32_t i = 0; i < z->leapcnt; i++)
			put(f, "\4\260\103\0\0\0\0\1", 8);
		put_block(f, z, 8);
		if (z->footer) {
			put(f, "\n", 1);
			put(f, z->footer, strlen(z->footer));
			put(f, "\n", 1);
		}
	}
	if (z->trailer)
		put(f, z->trailer, strlen(z->trailer));
}

static void write_file(const char *dir, const char *name, const void *data,
		       size_t len)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static int rm_one(const char *path, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void rm_tree(const char *dir)
{
	assert_int_equal(nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS), 0);
}

/* A private TZDIR with a Test/ subdirectory; the caller frees it. */
static void make_tzdir(char dir[32])
{
	char sub[64];

	snprintf(dir, 32, "/tmp/test_tz.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(sub, sizeof(sub), "%s/Test", dir);
	assert_int_equal(mkdir(sub, 0700), 0);
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
		{ "leapseconds", 0 },
		{ "UTC+3", 0 },                /* POSIX TZ string */
		{ "EST+5EDT,M3.2.0/2,M11.1.0/2", 0 },
		{ ":America/New_York", 0 },
		{ "America/New York", 0 },
	};
	(void)state;
	assert_int_equal(tz_valid(NULL), 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (tz_valid(cases[i].zone) != cases[i].ok)
			fail_msg("tz_valid(\"%s\") != %d", cases[i].zone,
				 cases[i].ok);
	}
}

/*
 * $TZDIR is honoured: a private directory with a real minimal TZif file,
 * which converts as built, and a file that only starts like one.
 */
static void test_valid_tzdir(void **state)
{
	static const struct zspec good = GOOD_ZONE;
	struct buf f;
	char dir[32];
	time_t w, t, out[2];

	(void)state;
	make_tzdir(dir);
	tzif_build(&good, &f);
	write_file(dir, "Test/Zone", f.b, f.n);
	write_file(dir, "Test/Fake", "TZif2 rest does not matter", 26);
	write_file(dir, "Test/Text", "not a zone file", 15);

	setenv("TZDIR", dir, 1);
	assert_int_equal(tz_valid("Test/Zone"), 1);
	assert_int_equal(tz_valid("Test/Fake"), 0);
	assert_int_equal(tz_valid("Test/Text"), 0);
	assert_int_equal(tz_valid("America/New_York"), 0);

	/* before the first transition: type 0, +01 */
	assert_int_equal(tz_instant_to_wall("Test/Zone", iso("1999-12-31T22:59:59Z"), &w), 0);
	assert_int_equal(w, wall("1999-12-31T23:59:59Z"));
	/* from it on +02: walls [01:00, 02:00) on 2000-01-01 are skipped */
	assert_int_equal(tz_instant_to_wall("Test/Zone", iso("2000-01-01T00:00:00Z"), &w), 0);
	assert_int_equal(w, wall("2000-01-01T02:00:00Z"));
	assert_int_equal(tz_instants("Test/Zone", wall("2000-01-01T01:30:00Z"), out), 0);
	assert_int_equal(tz_wall_to_instant("Test/Zone", wall("2000-01-01T01:30:00Z"), &t), 0);
	assert_int_equal(t, iso("2000-01-01T00:00:00Z"));
	/* and past the table, the footer "<+02>-2" */
	assert_int_equal(tz_instant_to_wall("Test/Zone", iso("2090-07-01T00:00:00Z"), &w), 0);
	assert_int_equal(w, wall("2090-07-01T02:00:00Z"));

	unsetenv("TZDIR");
	assert_int_equal(tz_valid("Test/Zone"), 0);
	assert_int_equal(tz_valid("America/New_York"), 1);
	rm_tree(dir);
}

/* Valid variants of the format: version 1, 3, 4, an empty footer, a
 * version-3 footer with DST all year. */
static void test_tzif_variants(void **state)
{
	static const struct {
		const char *name;
		struct zspec z;
		const char *t, *want;   /* instant and its wall time */
	} cases[] = {
		{ "Test/V1", { '\0', { 946684800, 1262304000 }, { 1, 1 }, { 3600, 7200 },
			       { 0, 0 }, { 0, 4 }, 0, 2, 8, NULL, NULL },
		  "2030-01-01T00:00:00Z", "2030-01-01T02:00:00Z" },
		{ "Test/V1a", { '\0', { 946684800, 1262304000 }, { 1, 1 }, { 3600, 7200 },
				{ 0, 0 }, { 0, 4 }, 0, 2, 8, NULL, NULL },
		  "1999-12-31T12:00:00Z", "1999-12-31T13:00:00Z" },
		{ "Test/V3", { '3', { 946684800, 1262304000 }, { 1, 1 }, { 3600, 7200 },
			       { 0, 0 }, { 0, 4 }, 0, 2, 8, "<+02>-2", NULL },
		  "2030-01-01T00:00:00Z", "2030-01-01T02:00:00Z" },
		{ "Test/V4", { '4', { 946684800, 1262304000 }, { 1, 1 }, { 3600, 7200 },
			       { 0, 0 }, { 0, 4 }, 0, 2, 8, "<+02>-2", NULL },
		  "2030-01-01T00:00:00Z", "2030-01-01T02:00:00Z" },
		{ "Test/NoFooter", { '2', { 946684800, 1262304000 }, { 1, 1 }, { 3600, 7200 },
				     { 0, 0 }, { 0, 4 }, 0, 2, 8, "", NULL },
		  "2090-01-01T00:00:00Z", "2090-01-01T02:00:00Z" },
		/* tzfile(5): DST all year, -03 then, even across New Year */
		{ "Test/AllDst", { '3', { 946684800, 1262304000 }, { 1, 1 }, { 3600, 7200 },
				   { 0, 0 }, { 0, 4 }, 0, 2, 8, "<-04>4<-03>,0/0,J365/25", NULL },
		  "2030-12-31T23:30:00Z", "2030-12-31T20:30:00Z" },
		{ "Test/AllDst2", { '3', { 946684800, 1262304000 }, { 1, 1 }, { 3600, 7200 },
				    { 0, 0 }, { 0, 4 }, 0, 2, 8, "<-04>4<-03>,0/0,J365/25", NULL },
		  "2031-01-01T03:00:00Z", "2031-01-01T00:00:00Z" },
	};
	char dir[32];
	(void)state;
	make_tzdir(dir);
	setenv("TZDIR", dir, 1);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct buf f;
		time_t w = 0;

		tzif_build(&cases[i].z, &f);
		write_file(dir, cases[i].name, f.b, f.n);
		if (!tz_valid(cases[i].name))
			fail_msg("%s: refused", cases[i].name);
		assert_int_equal(tz_instant_to_wall(cases[i].name, iso(cases[i].t), &w), 0);
		if (w != wall(cases[i].want))
			fail_msg("%s: wrong wall at %s", cases[i].name, cases[i].t);
	}
	unsetenv("TZDIR");
	rm_tree(dir);
}

/* Every kind of damage is refused, and nothing crashes. */
static void test_tzif_corrupt(void **state)
{
	static const struct {
		const char *name;
		struct zspec z;
	} cases[] = {
		{ "version 5", { '5', { 946684800, 1262304000 }, { 1, 1 }, { 3600, 7200 },
				 { 0, 0 }, { 0, 4 }, 0, 2, 8, "<+02>-2", NULL } },
		{ "leap seconds", { '2', { 946684800, 1262304000 }, { 1, 1 }, { 3600, 7200 },
				    { 0, 0 }, { 0, 4 }, 1, 2, 8, "<+02>-2", NULL } },
		{ "leap seconds v1", { '\0', { 946684800, 1262304000 }, { 1, 1 }, { 3600, 7200 },
				       { 0, 0 }, { 0, 4 }, 2, 2, 8, NULL, NULL } },
		{ "type index", { '2', { 946684800, 1262304000 }, { 1, 2 }, { 3600, 7200 },
				  { 0, 0 }, { 0, 4 }, 0, 2, 8, "<+02>-2", NULL } },
		{ "descending", { '2', { 1262304000, 946684800 }, { 1, 1 }, { 3600, 7200 },
				  { 0, 0 }, { 0, 4 }, 0, 2, 8, "<+02>-2", NULL } },
		{ "equal times", { '2', { 946684800, 946684800 }, { 1, 1 }, { 3600, 7200 },
				   { 0, 0 }, { 0, 4 }, 0, 2, 8, "<+02>-2", NULL } },
		{ "utoff 26 h", { '2', { 946684800, 1262304000 }, { 1, 1 }, { 3600, 93600 },
				  { 0, 0 }, { 0, 4 }, 0, 2, 8, "<+02>-2", NULL } },
		{ "utoff min", { '2', { 946684800, 1262304000 }, { 1, 1 }, { INT32_MIN, 7200 },
				 { 0, 0 }, { 0, 4 }, 0, 2, 8, "<+02>-2", NULL } },
		{ "isdst 2", { '2', { 946684800, 1262304000 }, { 1, 1 }, { 3600, 7200 },
			       { 0, 2 }, { 0, 4 }, 0, 2, 8, "<+02>-2", NULL } },
		{ "designation", { '2', { 946684800, 1262304000 }, { 1, 1 }, { 3600, 7200 },
				   { 0, 0 }, { 0, 8 }, 0, 2, 8, "<+02>-2", NULL } },
		{ "no types", { '2', { 946684800, 1262304000 }, { 0, 0 }, { 3600, 7200 },
				{ 0, 0 }, { 0, 4 }, 0, 0, 8, "<+02>-2", NULL } },
		{ "types huge", { '2', { 946684800, 1262304000 }, { 1, 1 }, { 3600, 7200 },
				  { 0, 0 }, { 0, 4 }, 0, 0xffffffff, 8, "<+02>-2", NULL } },
		{ "no chars", { '2', { 946684800, 1262304000 }, { 1, 1 }, { 3600, 7200 },
				{ 0, 0 }, { 0, 0 }, 0, 2, 0, "<+02>-2", NULL } },
		{ "charcnt + 1", { '2', { 946684800, 1262304000 }, { 1, 1 }, { 3600, 7200 },
				   { 0, 0 }, { 0, 4 }, 0, 2, 9, "<+02>-2", NULL } },
		{ "charcnt huge", { '2', { 946684800, 1262304000 }, { 1, 1 }, { 3600, 7200 },
				    { 0, 0 }, { 0, 4 }, 0, 2, 0xfffffff0, "<+02>-2", NULL } },
		{ "no footer", { '2', { 946684800, 1262304000 }, { 1, 1 }, { 3600, 7200 },
				 { 0, 0 }, { 0, 4 }, 0, 2, 8, NULL, NULL } },
		{ "bad footer", { '2', { 946684800, 1262304000 }, { 1, 1 }, { 3600, 7200 },
				  { 0, 0 }, { 0, 4 }, 0, 2, 8, "<+02>-2x", NULL } },
		{ "junk footer", { '2', { 946684800, 1262304000 }, { 1, 1 }, { 3600, 7200 },
				   { 0, 0 }, { 0, 4 }, 0, 2, 8, "junk", NULL } },
		{ "footer no rule end", { '2', { 946684800, 1262304000 }, { 1, 1 }, { 3600, 7200 },
					  { 0, 0 }, { 0, 4 }, 0, 2, 8, "EST5EDT,M3.2.0", NULL } },
		{ "footer bad date", { '2', { 946684800, 1262304000 }, { 1, 1 }, { 3600, 7200 },
				       { 0, 0 }, { 0, 4 }, 0, 2, 8, "EST5EDT,M13.2.0,M11.1.0", NULL } },
		{ "footer time 168 h", { '3', { 946684800, 1262304000 }, { 1, 1 }, { 3600, 7200 },
					 { 0, 0 }, { 0, 4 }, 0, 2, 8, "EST5EDT,M3.2.0/168,M11.1.0", NULL } },
		{ "footer offset 25 h", { '2', { 946684800, 1262304000 }, { 1, 1 }, { 3600, 7200 },
					  { 0, 0 }, { 0, 4 }, 0, 2, 8, "<+25>-25", NULL } },
		{ "footer newline", { '2', { 946684800, 1262304000 }, { 1, 1 }, { 3600, 7200 },
				      { 0, 0 }, { 0, 4 }, 0, 2, 8, "UTC0\nUTC0", NULL } },
		{ "trailing byte", { '2', { 946684800, 1262304000 }, { 1, 1 }, { 3600, 7200 },
				     { 0, 0 }, { 0, 4 }, 0, 2, 8, "<+02>-2", "x" } },
		{ "trailing v1", { '\0', { 946684800, 1262304000 }, { 1, 1 }, { 3600, 7200 },
				   { 0, 0 }, { 0, 4 }, 0, 2, 8, NULL, "\n" } },
	};
	static const struct zspec good = GOOD_ZONE;
	char dir[32], name[64];
	struct buf f;
	time_t out[2], t, w;

	(void)state;
	make_tzdir(dir);
	setenv("TZDIR", dir, 1);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(name, sizeof(name), "Test/Bad%02zu", i);
		tzif_build(&cases[i].z, &f);
		write_file(dir, name, f.b, f.n);
		if (tz_valid(name))
			fail_msg("%s: accepted", cases[i].name);
		assert_int_equal(tz_instants(name, 0, out), -1);
		assert_int_equal(tz_wall_to_instant(name, 0, &t), -1);
		assert_int_equal(tz_instant_to_wall(name, 0, &w), -1);
	}
	/* every proper prefix of a good file */
	tzif_build(&good, &f);
	for (size_t len = 0; len < f.n; len++) {
		snprintf(name, sizeof(name), "Test/Cut%03zu", len);
		write_file(dir, name, f.b, len);
		if (tz_valid(name))
			fail_msg("%zu of %zu bytes: accepted", len, f.n);
	}
	/* not regular files: a directory, a FIFO (must not hang) */
	assert_int_equal(tz_valid("Test"), 0);
	snprintf(name, sizeof(name), "%s/Test/Fifo", dir);
	assert_int_equal(mkfifo(name, 0600), 0);
	assert_int_equal(tz_valid("Test/Fifo"), 0);
	/* larger than the 1 MiB cap, though it starts right */
	{
		char path[128];
		int fd;

		snprintf(path, sizeof(path), "%s/Test/Big", dir);
		write_file(dir, "Test/Big", f.b, f.n);
		fd = open(path, O_WRONLY);
		assert_true(fd >= 0);
		assert_int_equal(ftruncate(fd, 2 << 20), 0);
		close(fd);
		assert_int_equal(tz_valid("Test/Big"), 0);
	}
	unsetenv("TZDIR");
	rm_tree(dir);
}

static uint64_t splitmix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/*
 * Mutations of a good file (every byte flipped three ways, then random
 * multi-byte damage): whatever tz_valid() says, nothing crashes (the
 * sanitizer and valgrind runs watch), and a zone it accepts keeps the
 * round trip wall -> instants -> instant.
 */
static void test_tzif_mutants(void **state)
{
	static const struct zspec good = GOOD_ZONE;
	static const unsigned char masks[] = { 0x01, 0x80, 0xff };
	const char *wrap = getenv("CHECK_WRAP");
	int nrandom = wrap && *wrap ? 100 : 1000, accepted = 0, total = 0;
	uint64_t seed = 42;
	struct buf f, m;
	char dir[32], name[64];

	(void)state;
	make_tzdir(dir);
	setenv("TZDIR", dir, 1);
	tzif_build(&good, &f);
	for (int k = 0; k < (int)(f.n * sizeof(masks)) + nrandom; k++) {
		m = f;
		if (k < (int)(f.n * sizeof(masks))) {
			m.b[k / (int)sizeof(masks)] ^= masks[k % (int)sizeof(masks)];
		} else {
			int nbytes = 1 + (int)(splitmix(&seed) % 4);

			for (int j = 0; j < nbytes; j++)
				m.b[splitmix(&seed) % m.n] = (unsigned char)splitmix(&seed);
		}
		snprintf(name, sizeof(name), "Test/M%05d", k);
		write_file(dir, name, m.b, m.n);
		total++;
		if (!tz_valid(name))
			continue;
		accepted++;
		for (int j = 0; j < 8; j++) {
			time_t t = (time_t)(splitmix(&seed) % 8000000000ULL) - 2000000000, w, out[2], x;
			int n;

			assert_int_equal(tz_instant_to_wall(name, t, &w), 0);
			n = tz_instants(name, w, out);
			if (!(n >= 1 && (out[0] == t || (n == 2 && out[1] == t))))
				fail_msg("%s: %lld does not round-trip", name, (long long)t);
			assert_int_equal(tz_wall_to_instant(name, w, &x), 0);
			assert_true(x == out[0]);
		}
		snprintf(name, sizeof(name), "%s/Test/M%05d", dir, k);
		unlink(name);
	}
	print_message("mutants: %d files, %d accepted\n", total, accepted);
	assert_true(accepted > 0 && accepted < total);
	unsetenv("TZDIR");
	rm_tree(dir);
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

/* glibc's UTC offset at t for the TZ in force (this test's oracle). */
static long glibc_off(time_t t)
{
	struct tm tm;

	if (!localtime_r(&t, &tm))
		fail_msg("localtime_r(%lld) failed", (long long)t);
	return tm.tm_gmtoff;
}

/*
 * zone == NULL is the machine zone: TZ as the caller has it at the time of
 * each call, which tz.c reads and never writes (the old module switched TZ
 * and "restored" it, wrongly when it matched its own ":zone" value).
 */
static void test_machine_zone(void **state)
{
	struct env_snap snap;
	time_t w, out[2];

	(void)state;
	setenv("TZ", "Europe/Lisbon", 1);
	env_take(&snap);
	assert_int_equal(tz_instant_to_wall(NULL, iso("2026-07-01T12:00:00Z"), &w), 0);
	assert_int_equal(w, wall("2026-07-01T13:00:00Z"));
	assert_int_equal(tz_instants("Asia/Tokyo", wall("2026-07-01T12:00:00Z"), out), 1);
	assert_int_equal(out[0], iso("2026-07-01T03:00:00Z"));
	assert_int_equal(tz_instant_to_wall(NULL, iso("2026-07-01T12:00:00Z"), &w), 0);
	assert_int_equal(w, wall("2026-07-01T13:00:00Z"));
	env_same(&snap);

	/* The caller changes TZ right after a named zone was used: NULL
	 * follows, whatever the syntax. */
	assert_int_equal(tz_instants("Asia/Tokyo", 0, out), 1);
	setenv("TZ", ":America/New_York", 1);
	env_take(&snap);
	assert_int_equal(tz_instant_to_wall(NULL, iso("2026-07-01T12:00:00Z"), &w), 0);
	assert_int_equal(w, wall("2026-07-01T08:00:00Z"));
	assert_int_equal(tz_instant_to_wall("America/New_York", 0, &w), 0);
	assert_int_equal(tz_instant_to_wall(NULL, iso("2026-01-01T12:00:00Z"), &w), 0);
	assert_int_equal(w, wall("2026-01-01T07:00:00Z"));
	env_same(&snap);

	/* A TZ equal to what the old module set for a named zone stays. */
	setenv("TZ", ":Asia/Tokyo", 1);
	env_take(&snap);
	assert_int_equal(tz_instant_to_wall("Asia/Tokyo", 0, &w), 0);
	assert_int_equal(tz_instant_to_wall("Europe/Lisbon", 0, &w), 0);
	assert_int_equal(tz_instant_to_wall(NULL, 0, &w), 0);
	assert_int_equal(w, 9 * 3600);
	env_same(&snap);

	/* Unset stays unset: /etc/localtime, as glibc sees it. */
	unsetenv("TZ");
	env_take(&snap);
	assert_int_equal(tz_instants("America/New_York", 0, out), 1);
	assert_null(getenv("TZ"));
	tzset();
	for (time_t t = iso("2026-01-01T00:00:00Z"); t < iso("2027-01-01T00:00:00Z");
	     t += 7 * 86400 + 3607) {
		assert_int_equal(tz_instant_to_wall(NULL, t, &w), 0);
		assert_int_equal(w - t, glibc_off(t));
	}
	env_same(&snap);

	/* Switching between named zones, back and forth. */
	for (int i = 0; i < 3; i++) {
		assert_int_equal(tz_instant_to_wall("Asia/Tokyo", 0, &w), 0);
		assert_int_equal(w, 9 * 3600);
		assert_int_equal(tz_instant_to_wall("America/New_York", 0, &w), 0);
		assert_int_equal(w, -5 * 3600);
		assert_int_equal(tz_instant_to_wall(NULL, 0, &w), 0);
	}
	env_same(&snap);
	setenv("TZ", "UTC", 1);
	assert_int_equal(tz_instant_to_wall(NULL, 0, &w), 0);
	assert_int_equal(w, 0);
}

/*
 * Every syntax of TZ for the machine zone agrees with glibc: files by name
 * (with and without ':'), absolute paths, POSIX strings, and values glibc
 * falls back to UTC for.
 */
static void test_machine_syntax(void **state)
{
	static const char *const values[] = {
		"Europe/Lisbon", ":America/New_York", "Asia/Kolkata", "EST5EDT",
		":/usr/share/zoneinfo/Asia/Tokyo", "/usr/share/zoneinfo/Australia/Sydney",
		"", ":", "UTC", "UTC0", "EST5EDT,M3.2.0,M11.1.0", "EST5EDT4,M3.2.0/2,M11.1.0/2",
		"CET-1CEST,M3.5.0,M10.5.0/3", "<-03>3", "<+0530>-5:30", "<-04>4<-03>,M9.1.6/24,M4.1.6/24",
		"AEST-10AEDT,M10.1.0,M4.1.0/3", "IST-1GMT0,M10.5.0,M3.5.0/1", "NZST-12NZDT,M9.5.0,M4.1.0/3",
		"<+1245>-12:45<+1345>,M9.5.0/2:45,M4.1.0/3:45", "JST-9", "WET0WEST,J60/1,J300/2",
		"XXX3YYY,59/2,299/2", "Nowhere/City", "garbage", "EST", "EST5EDT,",
	};
	const char *saved = getenv("TZ");
	char *keep = saved ? xstrdup(saved) : NULL;
	long checked = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		struct env_snap snap;

		setenv("TZ", values[i], 1);
		tzset();
		env_take(&snap);
		for (time_t t = iso("2025-01-01T00:00:00Z"); t < iso("2028-01-01T00:00:00Z");
		     t += 86400 * 3 + 3593) {
			time_t w, out[2];
			int n;

			assert_int_equal(tz_instant_to_wall(NULL, t, &w), 0);
			if (w - t != glibc_off(t))
				fail_msg("TZ=\"%s\" at %lld: offset %lld, glibc %ld",
					 values[i], (long long)t, (long long)(w - t),
					 glibc_off(t));
			n = tz_instants(NULL, w, out);
			if (!(n >= 1 && (out[0] == t || (n == 2 && out[1] == t))))
				fail_msg("TZ=\"%s\": %lld does not round-trip",
					 values[i], (long long)t);
			checked++;
		}
		env_same(&snap);
	}
	/* A POSIX string that does not parse is UTC (glibc salvages what it
	 * can of "EST5EDT,M3.2.0"; we do not guess). */
	setenv("TZ", "EST5EDT,M3.2.0", 1);
	{
		time_t w;

		assert_int_equal(tz_instant_to_wall(NULL, iso("2026-07-01T00:00:00Z"), &w), 0);
		assert_int_equal(w, iso("2026-07-01T00:00:00Z"));
	}
	if (keep)
		setenv("TZ", keep, 1);
	else
		unsetenv("TZ");
	free(keep);
	print_message("machine zone: %zu TZ values, %ld instants agree with glibc\n",
		      sizeof(values) / sizeof(values[0]), checked);
}

/*
 * Past the transition tables (they end in 2037), the POSIX TZ rule of
 * the footer: northern and southern hemisphere, transitions at 24:00, and
 * the machine zone given as a POSIX string.
 */
static void test_posix_rules(void **state)
{
	static const struct {
		const char *zone;       /* NULL: TZ set to the string tz */
		const char *tz;
		const char *wall;
		int n;
		const char *t0, *t1;    /* instants; for n == 0 the gap's end */
	} cases[] = {
		{ "America/New_York", NULL, "2090-03-12T01:59:59Z", 1, "2090-03-12T06:59:59Z", NULL },
		{ "America/New_York", NULL, "2090-03-12T02:30:00Z", 0, "2090-03-12T07:00:00Z", NULL },
		{ "America/New_York", NULL, "2090-03-12T03:00:00Z", 1, "2090-03-12T07:00:00Z", NULL },
		{ "America/New_York", NULL, "2090-11-05T01:30:00Z", 2,
		  "2090-11-05T05:30:00Z", "2090-11-05T06:30:00Z" },
		{ "America/New_York", NULL, "2090-11-05T02:00:00Z", 1, "2090-11-05T07:00:00Z", NULL },
		{ "America/New_York", NULL, "2090-07-04T12:00:00Z", 1, "2090-07-04T16:00:00Z", NULL },
		/* Santiago: Saturday 24:00 becomes Sunday 01:00 in September,
		 * Saturday 24:00 becomes 23:00 in April */
		{ "America/Santiago", NULL, "2090-09-03T00:30:00Z", 0, "2090-09-03T04:00:00Z", NULL },
		{ "America/Santiago", NULL, "2090-09-03T01:00:00Z", 1, "2090-09-03T04:00:00Z", NULL },
		{ "America/Santiago", NULL, "2090-04-01T23:30:00Z", 2,
		  "2090-04-02T02:30:00Z", "2090-04-02T03:30:00Z" },
		{ "America/Santiago", NULL, "2090-01-15T12:00:00Z", 1, "2090-01-15T15:00:00Z", NULL },
		{ "America/Santiago", NULL, "2090-07-15T12:00:00Z", 1, "2090-07-15T16:00:00Z", NULL },
		/* Sydney: DST from October to April */
		{ "Australia/Sydney", NULL, "2090-10-01T02:30:00Z", 0, "2090-09-30T16:00:00Z", NULL },
		{ "Australia/Sydney", NULL, "2090-04-02T02:30:00Z", 2,
		  "2090-04-01T15:30:00Z", "2090-04-01T16:30:00Z" },
		{ "Australia/Sydney", NULL, "2090-01-01T00:00:00Z", 1, "2089-12-31T13:00:00Z", NULL },
		{ "Australia/Sydney", NULL, "2090-07-01T00:00:00Z", 1, "2090-06-30T14:00:00Z", NULL },
		/* Lisbon: transitions at 01:00 UT */
		{ "Europe/Lisbon", NULL, "2090-03-26T01:30:00Z", 0, "2090-03-26T01:00:00Z", NULL },
		{ "Europe/Lisbon", NULL, "2090-10-29T01:30:00Z", 2,
		  "2090-10-29T00:30:00Z", "2090-10-29T01:30:00Z" },
		{ "Europe/Lisbon", NULL, "2090-08-01T12:00:00Z", 1, "2090-08-01T11:00:00Z", NULL },
		/* the machine zone as a POSIX string */
		{ NULL, "EST5EDT,M3.2.0,M11.1.0", "2026-03-08T02:30:00Z", 0, "2026-03-08T07:00:00Z", NULL },
		{ NULL, "EST5EDT,M3.2.0,M11.1.0", "2026-11-01T01:30:00Z", 2,
		  "2026-11-01T05:30:00Z", "2026-11-01T06:30:00Z" },
		{ NULL, "EST5EDT,M3.2.0,M11.1.0", "2090-11-05T01:30:00Z", 2,
		  "2090-11-05T05:30:00Z", "2090-11-05T06:30:00Z" },
		{ NULL, "EST5EDT,M3.2.0,M11.1.0", "1950-07-01T12:00:00Z", 1, "1950-07-01T16:00:00Z", NULL },
		{ NULL, "<+0530>-5:30", "2026-07-15T09:00:00Z", 1, "2026-07-15T03:30:00Z", NULL },
		{ NULL, "<-03>3", "2026-07-15T09:00:00Z", 1, "2026-07-15T12:00:00Z", NULL },
	};
	const char *saved = getenv("TZ");
	char *keep = saved ? xstrdup(saved) : NULL;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *label = cases[i].zone ? cases[i].zone : cases[i].tz;
		time_t out[2] = { 0, 0 }, t = 0, w = 0;
		int n;

		if (cases[i].tz)
			setenv("TZ", cases[i].tz, 1);
		n = tz_instants(cases[i].zone, wall(cases[i].wall), out);
		if (n != cases[i].n)
			fail_msg("%s %s: %d instants, want %d", label,
				 cases[i].wall, n, cases[i].n);
		if ((n > 0 && out[0] != iso(cases[i].t0)) ||
		    (n > 1 && out[1] != iso(cases[i].t1)))
			fail_msg("%s %s: wrong instant", label, cases[i].wall);
		assert_int_equal(tz_wall_to_instant(cases[i].zone, wall(cases[i].wall), &t), 0);
		if (t != iso(cases[i].t0))
			fail_msg("%s %s: tz_wall_to_instant wrong", label, cases[i].wall);
		if (n > 0) {
			assert_int_equal(tz_instant_to_wall(cases[i].zone, t, &w), 0);
			assert_int_equal(w, wall(cases[i].wall));
		}
	}
	if (keep)
		setenv("TZ", keep, 1);
	else
		unsetenv("TZ");
	free(keep);
}

/* ---- every installed zone, against glibc ---------------------------- */

struct names {
	char **v;
	size_t n, alloc;
};

/* TZif regular files under ZONEINFO/rel, skipping skip1 and skip2 at the
 * top (symbolic links are aliases of files that are listed). */
static void collect_zones(const char *rel, const char *skip1, const char *skip2,
			  struct names *out)
{
	char path[1024];
	struct dirent *de;
	DIR *d;

	snprintf(path, sizeof(path), "%s%s%s", ZONEINFO, *rel ? "/" : "", rel);
	d = opendir(path);
	if (!d)
		return;
	while ((de = readdir(d))) {
		char sub[512], full[1024], magic[4];
		struct stat st;
		FILE *f;

		if (de->d_name[0] == '.' || (!*rel && ((skip1 && !strcmp(de->d_name, skip1)) ||
						      (skip2 && !strcmp(de->d_name, skip2)))))
			continue;
		snprintf(sub, sizeof(sub), "%s%s%s", rel, *rel ? "/" : "", de->d_name);
		snprintf(full, sizeof(full), "%s/%s", ZONEINFO, sub);
		if (lstat(full, &st))
			continue;
		if (S_ISDIR(st.st_mode)) {
			collect_zones(sub, NULL, NULL, out);
			continue;
		}
		if (!S_ISREG(st.st_mode) || !(f = fopen(full, "rb")))
			continue;
		if (fread(magic, 1, 4, f) == 4 && memcmp(magic, "TZif", 4) == 0) {
			out->v = xgrow(out->v, sizeof(*out->v), out->n + 1, &out->alloc);
			out->v[out->n++] = xstrdup(sub);
		}
		fclose(f);
	}
	closedir(d);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void names_release(struct names *nm)
{
	for (size_t i = 0; i < nm->n; i++)
		free(nm->v[i]);
	free(nm->v);
}

/* The right/ zones count leap seconds in time_t: refused, all of them. */
static void test_right_zones(void **state)
{
	struct names nm = { NULL, 0, 0 };
	struct stat st;
	time_t out[2], w;

	(void)state;
	if (stat(ZONEINFO "/right", &st) != 0) {
		print_message("note: " ZONEINFO "/right is absent, right/ zones not checked\n");
		return;
	}
	assert_int_equal(tz_valid("right/UTC"), 0);
	assert_int_equal(tz_valid("right/America/New_York"), 0);
	assert_int_equal(tz_instants("right/America/New_York", 0, out), -1);
	assert_int_equal(tz_instant_to_wall("right/UTC", 0, &w), -1);
	collect_zones("right", NULL, NULL, &nm);
	for (size_t i = 0; i < nm.n; i++) {
		char name[512];

		snprintf(name, sizeof(name), "right/%s", nm.v[i]);
		if (tz_valid(name))
			fail_msg("%s: accepted", name);
	}
	print_message("right/: %zu zones, all refused\n", nm.n);
	assert_true(nm.n > 0);
	names_release(&nm);
}

/* The transition times of the file's data block that governs (64-bit for
 * version 2+); the file is the system's, trusted here. */
static size_t file_transitions(const char *path, int64_t **at)
{
	unsigned char *b;
	long size;
	size_t pos = 0, tsize = 4, n;
	FILE *f = fopen(path, "rb");
	uint32_t c[6];

	*at = NULL;
	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	size = ftell(f);
	rewind(f);
	b = xmalloc((size_t)size);
	assert_int_equal(fread(b, 1, (size_t)size, f), (size_t)size);
	fclose(f);
	for (int pass = 0;; pass++) {
		for (int i = 0; i < 6; i++)
			c[i] = (uint32_t)b[pos + 20 + 4 * i] << 24 | (uint32_t)b[pos + 21 + 4 * i] << 16 |
			       (uint32_t)b[pos + 22 + 4 * i] << 8 | b[pos + 23 + 4 * i];
		if (pass == 1 || b[4] == '\0')
			break;
		pos += 44 + c[3] * 5 + c[4] * 6 + c[5] + c[2] * 8 + c[1] + c[0];
		tsize = 8;
	}
	pos += 44;
	n = c[3];
	*at = xmalloc((n ? n : 1) * sizeof(**at));
	for (size_t i = 0; i < n; i++) {
		uint64_t u = 0;

		for (size_t k = 0; k < tsize; k++)
			u = u << 8 | b[pos + i * tsize + k];
		(*at)[i] = tsize == 4 ? (int32_t)(uint32_t)u : (int64_t)u;
	}
	free(b);
	return n;
}

struct xstats {
	long instants, bad;
};

static void check_at(const char *zone, time_t t, struct xstats *xs)
{
	long g = glibc_off(t);
	time_t w = 0, x = 0, out[2] = { 0, 0 };
	int n;

	xs->instants++;
	if (tz_instant_to_wall(zone, t, &w) || w - t != g) {
		if (xs->bad++ < 10)
			print_message("%s at %lld: offset %lld, glibc %ld\n", zone,
				      (long long)t, (long long)(w - t), g);
		return;
	}
	n = tz_instants(zone, w, out);
	if (!(n >= 1 && (out[0] == t || (n == 2 && out[1] == t))) ||
	    tz_wall_to_instant(zone, w, &x) || x != out[0]) {
		if (xs->bad++ < 10)
			print_message("%s at %lld: does not round-trip (%d instants)\n",
				      zone, (long long)t, n);
	}
}

/*
 * For every installed zone (right/ and its posix/ copies aside): the UTC
 * offset of tz_instant_to_wall() equals glibc's tm_gmtoff with TZ=":zone",
 * at deterministic pseudo-random instants from 1900 to 2100 and around
 * every transition in that range (those of the file, and those of the
 * footer's rule, found with glibc on a 30-day grid and bisection); and
 * every wall time found maps back to its instant.
 */
static void test_crosscheck_glibc(void **state)
{
	const char *wrap = getenv("CHECK_WRAP"), *env = getenv("TZ_CROSSCHECK_SAMPLES");
	int under_wrap = wrap && *wrap;
	long samples = under_wrap ? 10 : 300;
	size_t every = under_wrap ? 25 : 1;
	const char *saved = getenv("TZ");
	char *keep = saved ? xstrdup(saved) : NULL;
	const time_t from = iso("1900-01-01T00:00:00Z"), to = iso("2100-01-01T00:00:00Z");
	struct names nm = { NULL, 0, 0 };
	struct xstats xs = { 0, 0 };
	size_t full = 0;

	(void)state;
	if (env && *env)
		samples = strtol(env, NULL, 10);
	collect_zones("", "right", "posix", &nm);
	if (nm.n == 0) {
		print_message("note: no zones under " ZONEINFO ", cross-check skipped\n");
		free(keep);
		return;
	}
	qsort(nm.v, nm.n, sizeof(*nm.v), cmp_str);
	for (size_t z = 0; z < nm.n; z++) {
		const char *zone = nm.v[z];
		char tzval[512], path[1024];
		uint64_t seed = 0x5eed;

		if (!tz_valid(zone))
			fail_msg("%s: refused, but it is a TZif file", zone);
		snprintf(tzval, sizeof(tzval), ":%s", zone);
		setenv("TZ", tzval, 1);
		tzset();
		for (const char *p = zone; *p; p++)
			seed = seed * 131 + (unsigned char)*p;
		for (long i = 0; i < samples; i++)
			check_at(zone, from + (time_t)(splitmix(&seed) % (uint64_t)(to - from)), &xs);
		if (z % every != 0)
			continue;
		full++;
		{
			int64_t *at, last;
			size_t n;

			snprintf(path, sizeof(path), "%s/%s", ZONEINFO, zone);
			n = file_transitions(path, &at);
			for (size_t i = 0; i < n; i++)
				if (at[i] > from && at[i] < to)
					for (int d = -1; d <= 1; d++)
						check_at(zone, (time_t)at[i] + d, &xs);
			last = n ? at[n - 1] : from;
			free(at);
			/* after the table: the footer's transitions, per glibc */
			for (time_t t = last > from ? (time_t)last : from, prev_t = t; t < to;
			     prev_t = t, t += 30 * 86400) {
				time_t lo = prev_t, hi = t;

				if (glibc_off(lo) == glibc_off(hi))
					continue;
				while (hi - lo > 1) {
					time_t mid = lo + (hi - lo) / 2;

					if (glibc_off(mid) == glibc_off(lo))
						lo = mid;
					else
						hi = mid;
				}
				for (int d = -1; d <= 1; d++)
					check_at(zone, hi + d, &xs);
			}
		}
	}
	if (keep)
		setenv("TZ", keep, 1);
	else
		unsetenv("TZ");
	free(keep);
	print_message("cross-check: %zu zones (%zu with all transitions), %ld instants, "
		      "%ld samples per zone, %ld disagree with glibc\n",
		      nm.n, full, xs.instants, samples, xs.bad);
	names_release(&nm);
	assert_int_equal(xs.bad, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_valid, unset_tzdir),
		cmocka_unit_test_setup(test_valid_tzdir, unset_tzdir),
		cmocka_unit_test_setup(test_tzif_variants, unset_tzdir),
		cmocka_unit_test_setup(test_tzif_corrupt, unset_tzdir),
		cmocka_unit_test_setup(test_tzif_mutants, unset_tzdir),
		cmocka_unit_test_setup(test_tz_wall, unset_tzdir),
		cmocka_unit_test_setup(test_instants, unset_tzdir),
		cmocka_unit_test_setup(test_wall_to_instant, unset_tzdir),
		cmocka_unit_test_setup(test_instant_to_wall, unset_tzdir),
		cmocka_unit_test_setup(test_round_trip, unset_tzdir),
		cmocka_unit_test_setup(test_bad_zone, unset_tzdir),
		cmocka_unit_test_setup(test_right_zones, unset_tzdir),
		cmocka_unit_test_setup(test_machine_zone, unset_tzdir),
		cmocka_unit_test_setup(test_machine_syntax, unset_tzdir),
		cmocka_unit_test_setup(test_posix_rules, unset_tzdir),
		cmocka_unit_test_setup(test_crosscheck_glibc, unset_tzdir),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
