/*
 * test_match.c - unit tests for lib/match.c: the normalisation table
 * (accents, "Nº", punctuation, spaces, case, leading zeros, "302-B",
 * fillers, invalid UTF-8, bounded output), one listing against one lock
 * (positives, near misses, each with its exact score and reason), the
 * assignment (competition, next best, deterministic ties), empty and NULL
 * inputs, very long names, and a fixed-seed random loop over both entry
 * points checking their invariants.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "match.h"
#include "banned.h"

#define NELEM(a) (sizeof(a) / sizeof(*(a)))

static const struct {
	const char *in, *out;
} norm_cases[] = {
	{ "S\xc3\xa3o Conrado", "sao conrado" },
	{ "\xc3\x81\xc3\x80\xc3\x82\xc3\x83\xc3\x84 \xc3\x87\xc3\x89\xc3\x8a\xc3\x88 "
	  "\xc3\x8d\xc3\x93\xc3\x94\xc3\x95\xc3\x96 \xc3\x9a\xc3\x9c\xc3\x91",
	  "aaaaa ceee ioooo uun" },
	{ "\xc3\xa1\xc3\xa0\xc3\xa2\xc3\xa3\xc3\xa4 \xc3\xa7\xc3\xa9\xc3\xaa\xc3\xa8 "
	  "\xc3\xad\xc3\xb3\xc3\xb4\xc3\xb5\xc3\xb6 \xc3\xba\xc3\xbc\xc3\xb1",
	  "aaaaa ceee ioooo uun" },
	{ "Stra\xc3\x9f" "e \xc5\x92uvre \xc5\x81\xc3\xb3\x64\xc5\xba \xc3\x86gir",
	  "strasse oeuvre lodz aegir" },
	{ "Ipanema N\xc2\xba 7", "ipanema 7" },         /* Nº */
	{ "N\xc3\xbamero 7", "7" },
	{ "3\xc2\xba andar", "3 andar" },                /* 3º */
	{ "Apto. 302 - Copacabana!!", "302 copacabana" },
	{ "  Leblon    Studio\t\n ", "leblon studio" },
	{ "LEBLON STUDIO", "leblon studio" },
	{ "0302", "302" },
	{ "000", "0" },
	{ "007b", "7b" },
	{ "302-B", "302b" },
	{ "0302-b Leme", "302b leme" },
	{ "302 B", "302 b" },
	{ "302- B", "302 b" },
	{ "302-BC", "302 bc" },
	{ "A-302", "a 302" },
	{ "kx01 apto302", "kx01 apto302" },
	{ "Rua da Praia", "praia" },
	{ "The Flat of Dreams", "dreams" },
	{ "Av. Atl\xc3\xa2ntica, n\xc2\xba 1702 (fechadura smart)", "atlantica 1702" },
	{ "Copacabana \xe2\x80\x93 302", "copacabana 302" },  /* en dash */
	{ "Copa\xff\xfe" "302", "copa 302" },              /* invalid bytes */
	{ "ab\xc3", "ab" },                                 /* cut sequence */
	{ "\xc3(x", "x" },
	{ "\xc0\xaf" "ab", "ab" },                          /* overlong '/' */
	{ "\xc3\x97\xc3\xb7", "" },                         /* × ÷ */
	{ "\xe6\x9d\xb1\xe4\xba\xac 101", "101" },          /* other scripts */
	{ "", "" },
	{ "-- ,.;", "" },
};

static void test_normalize(void **state)
{
	char buf[MATCH_NORM_MAX];

	(void)state;
	for (size_t i = 0; i < NELEM(norm_cases); i++) {
		size_t n = match_normalize(norm_cases[i].in, buf, sizeof(buf));

		if (strcmp(buf, norm_cases[i].out) != 0)
			fail_msg("row %zu: '%s' -> '%s', want '%s'", i, norm_cases[i].in,
				 buf, norm_cases[i].out);
		assert_int_equal(n, strlen(buf));
	}
	assert_int_equal(match_normalize(NULL, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "");
}

/* A short buffer cuts between tokens, never inside one. */
static void test_normalize_bounded(void **state)
{
	static const struct {
		size_t size;
		const char *out;
	} cases[] = {
		{ 1, "" }, { 2, "" }, { 10, "" }, { 11, "copacabana" },
		{ 14, "copacabana" }, { 15, "copacabana 302" }, { 64, "copacabana 302" },
	};
	char buf[64], in[600];

	(void)state;
	for (size_t i = 0; i < NELEM(cases); i++) {
		memset(buf, 'X', sizeof(buf));
		assert_int_equal(match_normalize("Copacabana 302", buf, cases[i].size),
				 strlen(cases[i].out));
		assert_string_equal(buf, cases[i].out);
	}
	/* a token longer than MATCH_TOKEN_MAX is dropped, not cut */
	memset(in, 'a', MATCH_TOKEN_MAX + 1);
	memcpy(in + MATCH_TOKEN_MAX + 1, " 302", 5);
	assert_int_equal(match_normalize(in, buf, sizeof(buf)), 3);
	assert_string_equal(buf, "302");
	in[MATCH_TOKEN_MAX] = ' ';
	match_normalize(in, buf, sizeof(buf));
	assert_int_equal(strlen(buf), MATCH_TOKEN_MAX + 4);
	/* a long digit run is dropped too: no "30" out of a cut "302" */
	memset(in, '3', sizeof(in) - 1);
	in[sizeof(in) - 1] = '\0';
	assert_int_equal(match_normalize(in, buf, sizeof(buf)), 0);
}

/* ---- one listing against one lock ---------------------------------------- */

struct pair_case {
	const char *lname, *place, *sid, *dname;
	int score;              /* 0: no suggestion */
	const char *reason;
};

static const struct pair_case pair_cases[] = {
	/* positives */
	{ "Copacabana 302", NULL, NULL, "Fechadura Apto 302 Copacabana",
	  100, "unit 302 and 'copacabana' in both names" },
	{ "Ipanema Vista Mar 1204", NULL, NULL, "Ipanema 1204 porta",
	  70, "unit 1204 and 'ipanema' in both names" },
	{ "Leblon Studio", NULL, NULL, "Studio Leblon - front door",
	  60, "'studio' and 'leblon' in both names" },
	{ "S\xc3\xa3o Conrado 15", NULL, NULL, "Sao Conrado 15",
	  100, "unit 15, 'sao' and 'conrado' in both names" },
	{ "Rua Barata Ribeiro 502", NULL, NULL, "barata ribeiro 502 lock",
	  100, "unit 502, 'barata' and 'ribeiro' in both names" },
	{ "Copacabana 302", NULL, "KX01", "Smart Lock KX01",
	  60, "short id 'kx01' in the device name" },
	{ "Copacabana 302", NULL, "KX01", "KX01 Copacabana 302",
	  100, "unit 302 and 'copacabana' in both names; short id 'kx01' in the device name" },
	{ "Apto 302 Copacabana", NULL, NULL, "Fechadura Copa 302",
	  70, "unit 302 and 'copa' ~ 'copacabana' in both names" },
	{ "Flamengo 302-B", NULL, NULL, "Fechadura 302b Flamengo",
	  100, "unit 302b and 'flamengo' in both names" },
	{ "Leme 0302", NULL, NULL, "LEME 302",
	  100, "unit 302 and 'leme' in both names" },
	{ "Ed. Atl\xc3\xa2ntico 1001", NULL, NULL, "atlantico 1001",
	  100, "unit 1001 and 'atlantico' in both names" },
	{ "Ipanema N\xc2\xba 7", NULL, NULL, "ipanema n 7",
	  100, "unit 7 and 'ipanema' in both names" },
	{ "Barata Ribeiro 502 apto 1001", NULL, NULL, "Fechadura 1001 Barata",
	  80, "unit 1001 and 'barata' in both names" },
	{ "Downtown Loft 4B", NULL, NULL, "Loft 4b front door",
	  80, "unit 4b and 'loft' in both names" },
	{ "Apartment 12, Ocean View", NULL, NULL, "Ocean View Apt 12 - Smart Lock",
	  100, "unit 12, 'ocean' and 'view' in both names" },
	{ "Studio 302", "Copacabana, Rio de Janeiro", NULL, "Copacabana 302",
	  60, "unit 302 in both names; 'copacabana' in the listing's place" },
	{ "Lagoa 5", NULL, NULL, "Lagoa",                  /* number on one side */
	  60, "'lagoa' in both names" },
	/* near misses */
	{ "Copacabana 302", NULL, NULL, "Copacabana 320", 0, NULL },
	{ "Botafogo 12", NULL, NULL, "Botafogo 120", 0, NULL },
	{ "Ipanema 101", NULL, NULL, "Ipanema 1010", 0, NULL },
	{ "Ocean View 12", NULL, NULL, "Ocean View 21", 0, NULL },
	{ "Copacabana 302", NULL, NULL, "Copacabana 302B", 0, NULL },
	{ "Ipanema 101", NULL, NULL, "Leblon 101", 0, NULL },       /* 40 */
	{ "Copacabana 101", NULL, NULL, "Apto 101", 0, NULL },      /* 40 */
	{ "Copacabana 302", NULL, NULL, "Cop 302", 0, NULL },       /* prefix < 4 */
	{ "Barra Vista Mar", NULL, NULL, "Barra", 0, NULL },        /* 30 */
	{ "Leblon Studio", NULL, NULL, "Leblon Loft", 0, NULL },    /* 30 */
	{ "Copacabana 302", NULL, "KX01", "KX01 305", 0, NULL },    /* veto wins */
	{ "Leblon Studio", NULL, "1234", "Lock 1234", 0, NULL },    /* numeric sid */
	{ "Leblon Studio", NULL, "KX", "Lock KX", 0, NULL },        /* sid too short */
	{ "Copacabana 302", NULL, "KX01", "KX02 Lock", 0, NULL },
	{ "Studio 302", "Copacabana", NULL, "Leblon 302", 0, NULL },
	{ "", NULL, NULL, "Copacabana 302", 0, NULL },
	{ NULL, NULL, NULL, NULL, 0, NULL },
	{ "Fechadura Apto", NULL, NULL, "Smart Lock", 0, NULL },    /* fillers only */
};

static void test_pairs(void **state)
{
	(void)state;
	assert_true(NELEM(pair_cases) >= 25);
	for (size_t i = 0; i < NELEM(pair_cases); i++) {
		const struct pair_case *c = &pair_cases[i];
		struct match_listing l = { "L1", c->sid, c->lname, c->place };
		struct match_device d = { "D1", c->dname, 0 };
		struct match_pair *p = NULL;
		size_t n = match_suggest(&l, 1, &d, 1, &p);

		if (n != (c->score > 0))
			fail_msg("row %zu: '%s' / '%s': %zu suggestions (score %d)", i,
				 c->lname, c->dname, n, n ? p[0].score : 0);
		if (n && (p[0].score != c->score || strcmp(p[0].reason, c->reason) != 0))
			fail_msg("row %zu: '%s' / '%s': %d \"%s\", want %d \"%s\"", i,
				 c->lname, c->dname, p[0].score, p[0].reason, c->score,
				 c->reason);
		if (n)
			assert_true(p[0].listing == 0 && p[0].device == 0);
		else
			assert_null(p);
		free(p);
	}
}

/* ---- assignment -------------------------------------------------------------- */

/* The suggestions of l x d as "listing id/device id/score ..." */
static void suggest_str(const struct match_listing *l, size_t nl,
			const struct match_device *d, size_t nd, char *buf, size_t size)
{
	struct match_pair *p = NULL;
	size_t n = match_suggest(l, nl, d, nd, &p), len = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		int w = snprintf(buf + len, size - len, "%s%s/%s/%d", i ? " " : "",
				 l[p[i].listing].id, d[p[i].device].id, p[i].score);

		assert_true(w > 0 && (size_t)w < size - len);
		len += (size_t)w;
	}
	free(p);
}

static void test_assign(void **state)
{
	/* L2's best lock is D1, but L1 fits it better: L2 gets its next best */
	static const struct match_listing l[] = {
		{ "L1", NULL, "Copacabana 302", NULL },
		{ "L2", NULL, "Copacabana Vista Mar 302", NULL },
	};
	static const struct match_device d[] = {
		{ "D1", "Copacabana 302", 6 },
		{ "D2", "Cpb Mar 302", 0 },
	};
	static const struct match_device d1[] = { { "D1", "Copacabana 302", 6 } };
	char buf[256];

	(void)state;
	suggest_str(l, 2, d, 2, buf, sizeof(buf));
	assert_string_equal(buf, "L1/D1/100 L2/D2/64");
	suggest_str(l + 1, 1, d, 2, buf, sizeof(buf));
	assert_string_equal(buf, "L2/D1/70");
	/* one lock for two: the better wins, the other gets nothing */
	suggest_str(l, 2, d1, 1, buf, sizeof(buf));
	assert_string_equal(buf, "L1/D1/100");
	suggest_str(l + 1, 1, d1, 1, buf, sizeof(buf));
	assert_string_equal(buf, "L2/D1/70");
}

/* Equal scores: by listing id, then device id, whatever the array order. */
static void test_ties(void **state)
{
	static const struct match_listing l[] = {
		{ "c", NULL, "Leblon Studio", NULL },
		{ "a", NULL, "Studio Leblon", NULL },
		{ "b", NULL, "leblon studio", NULL },
	};
	static const struct match_listing lrev[] = {
		{ "b", NULL, "leblon studio", NULL },
		{ "a", NULL, "Studio Leblon", NULL },
		{ "c", NULL, "Leblon Studio", NULL },
	};
	static const struct match_device d[] = {
		{ "z", "Studio Leblon", 0 },
		{ "x", "Leblon Studio", 0 },
		{ "y", "STUDIO LEBLON", 0 },
	};
	char buf[256];

	(void)state;
	suggest_str(l, 3, d, 3, buf, sizeof(buf));
	assert_string_equal(buf, "a/x/60 b/y/60 c/z/60");
	suggest_str(lrev, 3, d, 3, buf, sizeof(buf));
	assert_string_equal(buf, "a/x/60 b/y/60 c/z/60");
	suggest_str(l, 3, d, 1, buf, sizeof(buf));
	assert_string_equal(buf, "a/z/60");
	suggest_str(l, 1, d, 3, buf, sizeof(buf));
	assert_string_equal(buf, "c/x/60");
}

/* Best first across listings, and the indexes point into the arrays. */
static void test_order(void **state)
{
	static const struct match_listing l[] = {
		{ "L1", NULL, "Leblon Studio", NULL },
		{ "L2", NULL, "Ipanema Vista Mar 1204", NULL },
		{ "L3", NULL, "Copacabana 302", NULL },
		{ "L4", NULL, "Botafogo 12", NULL },
	};
	static const struct match_device d[] = {
		{ "D1", "Botafogo 120", 0 },
		{ "D2", "Fechadura Copa 302", 0 },
		{ "D3", "Studio Leblon - front door", 0 },
		{ "D4", "Ipanema 1204 porta", 0 },
	};
	char buf[256];

	(void)state;
	suggest_str(l, 4, d, 4, buf, sizeof(buf));
	assert_string_equal(buf, "L2/D4/70 L3/D2/70 L1/D3/60");
}

static void test_empty(void **state)
{
	static const struct match_listing l[] = { { "L1", NULL, "Leme 1", NULL } };
	static const struct match_device d[] = { { "D1", "Leme 1", 0 } };
	static const struct match_listing lnull[] = { { NULL, NULL, NULL, NULL } };
	static const struct match_device dnull[] = { { NULL, NULL, 0 } };
	struct match_pair *p = (struct match_pair *)&p;

	(void)state;
	assert_int_equal(match_suggest(NULL, 0, NULL, 0, &p), 0);
	assert_null(p);
	assert_int_equal(match_suggest(l, 1, NULL, 0, &p), 0);
	assert_null(p);
	assert_int_equal(match_suggest(NULL, 0, d, 1, &p), 0);
	assert_null(p);
	assert_int_equal(match_suggest(lnull, 1, dnull, 1, &p), 0);
	assert_null(p);
	assert_int_equal(match_suggest(l, 1, dnull, 1, &p), 0);
	assert_int_equal(match_suggest(lnull, 1, d, 1, &p), 0);
	assert_int_equal(match_suggest(l, 1, d, 1, &p), 1);
	assert_int_equal(p[0].score, 100);
	free(p);
}

/* Names far longer than any buffer: bounded, and still matched on what fits. */
static void test_long_names(void **state)
{
	static const char *const words[] = { "alpha", "bravo", "charlie", "delta",
		"echo", "foxtrot", "golf", "hotel", "india", "juliet", "kilo", "lima" };
	char lname[8192], dname[8192];
	struct match_listing l = { "L1", "KX01", lname, lname };
	struct match_device d = { "D1", dname, 0 };
	struct match_pair *p = NULL;
	size_t len = 0;

	(void)state;
	/* a huge token after the useful part: dropped */
	memset(lname, 'x', sizeof(lname) - 1);
	lname[sizeof(lname) - 1] = '\0';
	memcpy(lname, "Copacabana 302 ", 15);
	memcpy(dname, "Copacabana 302", 15);
	assert_int_equal(match_suggest(&l, 1, &d, 1, &p), 1);
	assert_int_equal(p[0].score, 100);
	free(p);
	/* many words in both: the reason is cut with "..." */
	for (size_t i = 0; len + 40 < sizeof(lname); i++) {
		int w = snprintf(lname + len, sizeof(lname) - len, "%s%zu ",
				 words[i % NELEM(words)], i);

		assert_true(w > 0);
		len += (size_t)w;
	}
	memcpy(dname, lname, len + 1);
	assert_int_equal(match_suggest(&l, 1, &d, 1, &p), 1);
	assert_int_equal(p[0].score, 60);
	assert_int_equal(strlen(p[0].reason), MATCH_REASON_MAX - 1);
	assert_string_equal(p[0].reason + MATCH_REASON_MAX - 4, "...");
	assert_memory_equal(p[0].reason, "'alpha0', 'bravo1', 'charlie2'", 30);
	free(p);
}

/* ---- random inputs ------------------------------------------------------------ */

static uint32_t rnd(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/* Random bytes, biased towards what the matcher looks at. */
static void rnd_name(uint32_t *s, char *buf, size_t size)
{
	static const char *const frag[] = { "Copa", "copacabana", " 302", "302-B",
		" apto ", "\xc3\xa3", "\xc3\x89", "\xc3", "\xff", "-", " ", "0", "KX01",
		"Leblon", "N\xc2\xba", "\xe2\x80\x93", "b", "7" };
	size_t n = rnd(s) % 40, len = 0;

	for (size_t i = 0; i < n; i++) {
		const char *f = frag[rnd(s) % NELEM(frag)];
		char one[2] = { (char)(1 + rnd(s) % 255), '\0' };

		if (rnd(s) % 3 == 0)
			f = one;
		if (len + strlen(f) >= size)
			break;
		memcpy(buf + len, f, strlen(f));
		len += strlen(f);
	}
	buf[len] = '\0';
}

/* out: lowercase ASCII letters, digits, single inner spaces; no fillers. */
static void check_normal(const char *out, size_t n, size_t size)
{
	char again[MATCH_NORM_MAX];

	assert_true(n < size);
	assert_int_equal(strlen(out), n);
	assert_true(n == 0 || (out[0] != ' ' && out[n - 1] != ' '));
	assert_null(strstr(out, "  "));
	assert_int_equal(strspn(out, "abcdefghijklmnopqrstuvwxyz0123456789 "), n);
	assert_null(strstr(out, " apto "));
	if (size == MATCH_NORM_MAX) {   /* idempotent */
		match_normalize(out, again, sizeof(again));
		assert_string_equal(again, out);
	}
}

static void check_pairs(const struct match_pair *p, size_t n, size_t nl, size_t nd)
{
	unsigned lused = 0, dused = 0;

	for (size_t i = 0; i < n; i++) {
		assert_true(p[i].listing < nl && p[i].device < nd);
		assert_false(lused & (1u << p[i].listing));
		assert_false(dused & (1u << p[i].device));
		lused |= 1u << p[i].listing;
		dused |= 1u << p[i].device;
		assert_in_range(p[i].score, MATCH_THRESHOLD, 100);
		assert_true(i == 0 || p[i - 1].score >= p[i].score);
		assert_true(strlen(p[i].reason) > 0 && strlen(p[i].reason) < MATCH_REASON_MAX);
	}
}

static void test_random(void **state)
{
	static const char *const ids[] = { "a", "b", "c", "d", "e" };
	char names[10][512], out[MATCH_NORM_MAX];
	uint32_t seed = 20240611;
	size_t total = 0;

	(void)state;
	for (int it = 0; it < 4000; it++) {
		size_t size = 1 + rnd(&seed) % MATCH_NORM_MAX;
		struct match_listing l[4];
		struct match_device d[5];
		struct match_pair *p = NULL;
		size_t n;

		rnd_name(&seed, names[0], sizeof(names[0]));
		check_normal(out, match_normalize(names[0], out, size), size);
		for (size_t k = 1; k < 10; k++)
			rnd_name(&seed, names[k], sizeof(names[k]));
		for (size_t k = 0; k < 4; k++)
			l[k] = (struct match_listing){ ids[k], names[9 - k], names[k],
						       names[(k + 5) % 10] };
		for (size_t k = 0; k < 5; k++)
			d[k] = (struct match_device){ ids[4 - k], names[k + 4], 0 };
		n = match_suggest(l, 4, d, 5, &p);
		check_pairs(p, n, 4, 5);
		total += n;
		free(p);
	}
	print_message("random: %zu suggestions\n", total);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_normalize),
		cmocka_unit_test(test_normalize_bounded),
		cmocka_unit_test(test_pairs),
		cmocka_unit_test(test_assign),
		cmocka_unit_test(test_ties),
		cmocka_unit_test(test_order),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_long_names),
		cmocka_unit_test(test_random),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
