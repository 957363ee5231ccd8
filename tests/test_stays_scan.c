/*
 * test_stays_scan.c - the fast path of a reservations page
 * (stays_scan_page()) against the cJSON path (stays_parse_page_tree()).
 *
 * The contract: when the fast path accepts a page, the cJSON path accepts
 * it too, with the same count, no error, and the same reservations field
 * for field; when it declines, fr is untouched.  Checked on a table of
 * pages either side of the line (forms cJSON reads differently, or that we
 * chose not to read), and on 40,000 mutations of realistic pages from a
 * fixed seed, half of them at a token's edge, of which both many are
 * accepted and many declined.  tests/fuzz/fuzz_stays_scan.c checks the
 * same contract on whatever libFuzzer makes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "stays_int.h"

/* The members of a valid item, then extra ones; ITEM() is the object. */
#define MEMBERS(extra)                                                                \
	"\"_id\":\"6650f1a2c3d4e5f6a7b8c9d0\",\"id\":\"RV02J\","                        \
	"\"checkInDate\":\"2025-06-14\",\"checkInTime\":\"15:00\","                     \
	"\"checkOutDate\":\"2025-06-17\",\"checkOutTime\":\"11:00\","                   \
	"\"_idlisting\":\"63dd7e20333d8b60be510f9c\",\"type\":\"booked\",\"guests\":3" \
	extra
#define ITEM(extra) "{" MEMBERS(extra) "}"

/* Realistic pages: the seeds of the mutations, each accepted as it is. */
static const char *const seeds[] = {
	"[" ITEM("") "]",
	"[\n  " ITEM(",\"price\":{\"currency\":\"BRL\",\"_f_expected\":900,\"_f_total\":1020.5,"
		     "\"fees\":[{\"name\":\"Taxa de Limpeza\",\"_f_val\":-1.5e+2}],\"d\":[]}") ",\n  "
	"{\"_id\":\"6651a0b1c2d3e4f5a6b7c8d9\",\"id\":\"KQ11B\",\"creationDate\":"
	"\"2025-05-28T10:00:00.000Z\",\"checkInDate\":\"2025-06-17T00:00:00.000Z\","
	"\"checkOutDate\":\"2025-06-20\",\"checkOutTime\":null,\"_idlisting\":\"L1\","
	"\"type\":\"reserved\",\"partnerCode\":5557741735,\"x\":{\"n\":[1,2,3,true,false,null]},"
	"\"guestName\":\"Jos\\u00e9 \\\"Z\\\" \\/ \\\\ \\b\\f\\n\\r\\t\xc3\xa9\"}\r\n]\t",
	"[" ITEM(",\"guests\":99,\"_id\":\"second\"") "," ITEM(",\"extra\":[[[[{}]]]]") "]",
	"[" ITEM(",\"checkInTime\":\"\"") "," ITEM(",\"guests\":null") "," ITEM(",\"guests\":0") "]",
	/* a second type or guests that would be refused: the first counts */
	"[" ITEM(",\"type\":\"nope\"") "," ITEM(",\"guests\":2.5,\"checkInDate\":7") "]",
	"[]",
};

/* Pages the fast path must decline, each paired with whether cJSON
 * accepts the page (every item valid). */
static const struct {
	const char *body;
	int tree_ok;
} declined[] = {
	{ "[" ITEM(",\"n\":01") "]", 1 },                 /* cJSON reads 01 */
	{ "[" ITEM(",\"n\":1.") "]", 1 },                 /* and 1. */
	{ "[" ITEM(",\"n\":1234567890123456789012345678901234") "]", 1 },
	{ "[" ITEM(",\"n\":12345678901234567890123456789012345678901234567890123456789012345") "]",
	  1 },
	{ "[\x0b" ITEM("") "]", 1 },                      /* cJSON: any byte <= 32 */
	{ "[" ITEM(",\"s\":\"a\x01\"") "]", 1 },          /* raw control character */
	{ "[" ITEM(",\"s\":\"\\uZZZZ\"") "]", 1 },        /* cJSON reads it as \u0000 */
	{ "[" ITEM(",\"s\":\"\\ud83d\\ude00\"") "]", 1 },  /* a surrogate pair */
	{ "[" ITEM(",\"s\":\"\\ude00\"") "]", 0 },         /* a lone low surrogate */
	{ "[" ITEM(",\"s\":\"\\q\"") "]", 0 },
	{ "[" ITEM(",\"\\u005fid\":\"x\"") "]", 1 },      /* an escaped key */
	{ "[{\"\\u005fid\":\"6650f1a2c3d4e5f6a7b8c9d0\",\"id\":\"RV02J\",\"checkInDate\":"
	  "\"2025-06-14\",\"checkOutDate\":\"2025-06-17\",\"_idlisting\":\"L\",\"type\":\"booked\"}]",
	  1 },                                            /* cJSON decodes it to _id */
	{ "[{\"_id\":\"6650f1a2c3d4e5f6a7b8c9d\\u0030\",\"id\":\"RV02J\",\"checkInDate\":"
	  "\"2025-06-14\",\"checkOutDate\":\"2025-06-17\",\"_idlisting\":\"L\",\"type\":\"booked\"}]",
	  1 },                                            /* an escape in a checked value */
	{ "[" ITEM(",\"d\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]") "]",
	  1 },                                            /* deeper than SCAN_DEPTH */
	{ "\xef\xbb\xbf[" ITEM("") "]", 1 },              /* cJSON skips a BOM */
	{ "[" ITEM("") ",]", 0 },
	{ "[" ITEM("") "] x", 0 },
	{ "[" ITEM("") "", 0 },
	{ "{}", 0 },
	{ "", 0 },
	{ "[1]", 0 },
	{ "[{\"type\":\"nope\"," MEMBERS("") "}]", 0 },   /* an unknown type first */
	{ "[{\"guests\":2.5," MEMBERS("") "}]", 0 },
	{ "[{\"_id\":5," MEMBERS("") "}]", 0 },
	{ "[{\"checkInTime\":true," MEMBERS("") "}]", 0 },
	{ "[{\"checkOutDate\":\"2025-06-13\"," MEMBERS("") "}]", 0 },
};

/* The same reservation, field by field (a struct's padding is not). */
static int resv_same(const struct resv *a, const struct resv *b)
{
	return strcmp(a->id, b->id) == 0 && strcmp(a->code, b->code) == 0 &&
	       strcmp(a->listing, b->listing) == 0 && strcmp(a->in_date, b->in_date) == 0 &&
	       strcmp(a->in_time, b->in_time) == 0 && strcmp(a->out_date, b->out_date) == 0 &&
	       strcmp(a->out_time, b->out_time) == 0 && strcmp(a->type, b->type) == 0 &&
	       a->guests == b->guests && strcmp(a->status, b->status) == 0;
}

static void release(struct fetch_result *fr)
{
	fetch_result_release(fr);
}

/*
 * Run both parsers on body.  Returns 1 if the fast path accepted it (and
 * checks the cJSON path agrees), 0 if it declined (and checks fr is as it
 * was); *tree_ok is 1 if the cJSON path accepted every item.
 */
static int compare(const char *body, size_t len, int canceled, int *tree_ok)
{
	struct fetch_result fast, tree;
	size_t nfast = 777, ntree = 0;
	char eb[ERRBUF_SIZE] = "";
	enum err e;
	int accepted;

	memset(&fast, 0, sizeof(fast));
	memset(&tree, 0, sizeof(tree));
	accepted = stays_scan_page(body, len, STAYS_PAGE_LIMIT, &fast, &nfast);
	e = stays_parse_page_tree(body, len, STAYS_PAGE_LIMIT, "page 1", canceled, &tree, &ntree,
				  eb);
	*tree_ok = e == ERR_OK && tree.nerrors == 0 && tree.ncancel == 0;
	if (accepted) {
		if (!*tree_ok)
			fail_msg("fast path accepted what cJSON refuses (%s): %.*s", eb, (int)len,
				 body);
		assert_int_equal(nfast, ntree);
		assert_int_equal(fast.n, tree.n);
		assert_int_equal(fast.n, ntree);
		for (size_t i = 0; i < fast.n; i++)
			assert_true(resv_same(&fast.items[i], &tree.items[i]));
	} else {
		assert_int_equal(nfast, 777);
		assert_int_equal(fast.n, 0);
		assert_int_equal(fast.nerrors, 0);
	}
	release(&fast);
	release(&tree);
	return accepted;
}

static void test_seeds_accepted(void **state)
{
	static const char *const fixtures[] = { "page-good.json", "page-empty.json" };

	(void)state;
	for (size_t i = 0; i < sizeof(seeds) / sizeof(*seeds); i++) {
		int tree_ok;

		if (!compare(seeds[i], strlen(seeds[i]), 0, &tree_ok))
			fail_msg("seed %zu declined", i);
	}
	/* The documented example page takes the fast path too. */
	for (size_t i = 0; i < sizeof(fixtures) / sizeof(*fixtures); i++) {
		const char *top = getenv("TOP");
		char path[512];
		struct strbuf sb = STRBUF_INIT;
		char buf[4096];
		size_t n;
		int tree_ok;
		FILE *f;

		snprintf(path, sizeof(path), "%s/tests/fixtures/%s", top ? top : ".", fixtures[i]);
		f = fopen(path, "r");
		if (!f)
			fail_msg("cannot open fixture %s", path);
		while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
			strbuf_add(&sb, buf, n);
		fclose(f);
		if (!compare(sb.buf, sb.len, 0, &tree_ok))
			fail_msg("%s declined", fixtures[i]);
		strbuf_release(&sb);
	}
}

/* The first of a member given twice counts, on both paths. */
static void test_first_member_counts(void **state)
{
	struct fetch_result fr;
	size_t n = 0;
	int tree_ok;

	(void)state;
	memset(&fr, 0, sizeof(fr));
	assert_true(stays_scan_page(seeds[2], strlen(seeds[2]), STAYS_PAGE_LIMIT, &fr, &n));
	assert_int_equal(n, 2);
	assert_string_equal(fr.items[0].id, "6650f1a2c3d4e5f6a7b8c9d0");
	assert_int_equal(fr.items[0].guests, 3);
	release(&fr);
	assert_int_equal(compare(seeds[2], strlen(seeds[2]), 1, &tree_ok), 1);
}

static void test_declined(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(declined) / sizeof(*declined); i++) {
		const char *b = declined[i].body;
		struct fetch_result fr;
		size_t n = 0, nd = 0;
		char eb[ERRBUF_SIZE];
		enum err e, ed;
		int tree_ok;

		if (compare(b, strlen(b), 0, &tree_ok))
			fail_msg("case %zu accepted: %s", i, b);
		if (tree_ok != declined[i].tree_ok)
			fail_msg("case %zu: cJSON %s it", i, tree_ok ? "accepts" : "refuses");
		/* stays_parse_page() then gives what the cJSON path gives. */
		memset(&fr, 0, sizeof(fr));
		e = stays_parse_page(b, strlen(b), STAYS_PAGE_LIMIT, "page 1", 0, &fr, &n, eb);
		{
			struct fetch_result t;

			memset(&t, 0, sizeof(t));
			ed = stays_parse_page_tree(b, strlen(b), STAYS_PAGE_LIMIT, "page 1", 0, &t,
						   &nd, eb);
			assert_int_equal(e, ed);
			assert_int_equal(n, nd);
			assert_int_equal(fr.n, t.n);
			assert_int_equal(fr.nerrors, t.nerrors);
			release(&t);
		}
		release(&fr);
	}
}

/* More items than the limit: declined, and the cJSON path refuses. */
static void test_over_limit(void **state)
{
	struct fetch_result fr;
	struct strbuf sb = STRBUF_INIT;
	size_t n = 0;

	(void)state;
	strbuf_adds(&sb, "[");
	for (int i = 0; i <= STAYS_PAGE_LIMIT; i++)
		strbuf_addf(&sb, "%s" ITEM(""), i ? "," : "");
	strbuf_adds(&sb, "]");
	memset(&fr, 0, sizeof(fr));
	assert_false(stays_scan_page(sb.buf, sb.len, STAYS_PAGE_LIMIT, &fr, &n));
	assert_int_equal(fr.n, 0);
	assert_true(stays_scan_page(sb.buf, sb.len, STAYS_PAGE_LIMIT + 1, &fr, &n));
	assert_int_equal(n, STAYS_PAGE_LIMIT + 1);
	release(&fr);
	strbuf_release(&sb);
}

/* Appends after what fr already holds, and a decline keeps it. */
static void test_appends(void **state)
{
	struct fetch_result fr;
	size_t n = 0;
	const char *bad = declined[0].body;

	(void)state;
	memset(&fr, 0, sizeof(fr));
	assert_true(stays_scan_page(seeds[0], strlen(seeds[0]), STAYS_PAGE_LIMIT, &fr, &n));
	assert_false(stays_scan_page(bad, strlen(bad), STAYS_PAGE_LIMIT, &fr, &n));
	assert_int_equal(fr.n, 1);
	assert_int_equal(n, 1);
	assert_true(stays_scan_page(seeds[3], strlen(seeds[3]), STAYS_PAGE_LIMIT, &fr, &n));
	assert_int_equal(fr.n, 4);
	assert_int_equal(n, 3);
	release(&fr);
}

static uint64_t rng_state = 0x5eed5eed12345678ull;

static uint32_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state >> 16);
}

/* Mutations of the seeds: bytes replaced, inserted, deleted, from an
 * alphabet that makes JSON and breaks it. */
static void test_mutations(void **state)
{
	static const char alphabet[] = "{}[]\",:\\ \t\n\r\x0b\x01" "0123456789.eE+-"
				       "truefalsnu_idLcheckInDatOy\xc3\xa9";
	size_t accepted = 0, declined_n = 0, agree_bad = 0;
	char buf[4096];

	(void)state;
	for (int round = 0; round < 40000; round++) {
		const char *seed = seeds[rnd() % (sizeof(seeds) / sizeof(*seeds))];
		size_t len = strlen(seed);
		int edits = 1 + (int)(rnd() % 3), tree_ok;

		memcpy(buf, seed, len);
		for (int k = 0; k < edits; k++) {
			size_t at = len ? rnd() % len : 0;
			char c = alphabet[rnd() % (sizeof(alphabet) - 1)];

			/* Half the edits at a token's edge, where grammar bugs are. */
			if (len && rnd() % 2)
				for (size_t tries = 0; tries < len && !strchr("{}[],:\"", buf[at]);
				     tries++)
					at = (at + 1) % len;

			switch (rnd() % 3) {
			case 0:
				if (len)
					buf[at] = c;
				break;
			case 1:
				if (len + 1 < sizeof(buf)) {
					memmove(buf + at + 1, buf + at, len - at);
					buf[at] = c;
					len++;
				}
				break;
			default:
				if (len) {
					memmove(buf + at, buf + at + 1, len - at - 1);
					len--;
				}
				break;
			}
		}
		if (compare(buf, len, round & 1, &tree_ok))
			accepted++;
		else if (tree_ok)
			agree_bad++;    /* declined, cJSON took it: only slower */
		else
			declined_n++;
	}
	print_message("mutations: %zu accepted, %zu declined and refused by cJSON, "
		      "%zu declined and accepted by cJSON\n", accepted, declined_n, agree_bad);
	/* Both sides of the line were exercised. */
	assert_true(accepted > 2000);
	assert_true(declined_n > 4000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seeds_accepted),
		cmocka_unit_test(test_first_member_counts),
		cmocka_unit_test(test_declined),
		cmocka_unit_test(test_over_limit),
		cmocka_unit_test(test_appends),
		cmocka_unit_test(test_mutations),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
