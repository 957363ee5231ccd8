/*
 * test_stays.c - parsing pages of Stays reservations (fixtures in
 * tests/fixtures/page-*.json): good items with extra fields, every kind of
 * malformed item (R8: skipped, the rest kept), malformed pages (protocol
 * errors), empty and oversized pages, and de-duplication by _id.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "stays.h"

static char *read_fixture(const char *name, size_t *len)
{
	const char *top = getenv("TOP");
	char path[512];
	struct strbuf sb = STRBUF_INIT;
	char buf[4096];
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "%s/tests/fixtures/%s", top ? top : ".", name);
	f = fopen(path, "r");
	if (!f)
		fail_msg("cannot open fixture %s", path);
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		strbuf_add(&sb, buf, n);
	fclose(f);
	*len = sb.len;
	return sb.buf;
}

static enum err parse(const char *body, size_t len, struct fetch_result *fr, size_t *count,
		      char *eb)
{
	return stays_parse_page(body, len, STAYS_PAGE_LIMIT, "page 1", 0, fr, count, eb);
}

static void test_good_page(void **state)
{
	struct fetch_result fr;
	size_t len, count;
	char eb[ERRBUF_SIZE];
	char *body = read_fixture("page-good.json", &len);

	(void)state;
	memset(&fr, 0, sizeof(fr));
	assert_int_equal(parse(body, len, &fr, &count, eb), ERR_OK);
	assert_int_equal(count, 2);
	assert_int_equal(fr.n, 2);
	assert_int_equal(fr.nerrors, 0);
	assert_string_equal(fr.items[0].id, "6650f1a2c3d4e5f6a7b8c9d0");
	assert_string_equal(fr.items[0].code, "RV02J");
	assert_string_equal(fr.items[0].listing, "63dd7e20333d8b60be510f9c");
	assert_string_equal(fr.items[0].in_date, "2025-06-14");
	assert_string_equal(fr.items[0].in_time, "15:00");
	assert_string_equal(fr.items[0].out_date, "2025-06-17");
	assert_string_equal(fr.items[0].out_time, "11:00");
	assert_string_equal(fr.items[0].type, "booked");
	assert_int_equal(fr.items[0].guests, 3);
	/* Dates with a time part; absent and null times; no guests. */
	assert_string_equal(fr.items[1].in_date, "2025-06-17");
	assert_string_equal(fr.items[1].in_time, "");
	assert_string_equal(fr.items[1].out_time, "");
	assert_int_equal(fr.items[1].guests, 0);
	fetch_result_release(&fr);
	free(body);
}

static void test_bad_items(void **state)
{
	struct fetch_result fr;
	size_t len, count;
	char eb[ERRBUF_SIZE];
	char *body = read_fixture("page-bad-items.json", &len);
	const char *errs;

	(void)state;
	memset(&fr, 0, sizeof(fr));
	assert_int_equal(parse(body, len, &fr, &count, eb), ERR_OK);
	assert_int_equal(count, 13);
	assert_int_equal(fr.n, 2);
	assert_string_equal(fr.items[0].code, "OK001");
	assert_string_equal(fr.items[1].code, "OK002");
	assert_string_equal(fr.items[1].out_time, "18:00");
	assert_int_equal(fr.nerrors, 11);
	errs = strbuf_str(&fr.errors);
	assert_non_null(strstr(errs, "reservation NOOUT (a0000000000000000000000b): missing field 'checkOutDate'; skipped"));
	assert_non_null(strstr(errs, "BADGU (a0000000000000000000000c): field 'guests' is not a whole number"));
	assert_non_null(strstr(errs, "BACKW (a0000000000000000000000d): checkOutDate 2026-01-03 is before checkInDate 2026-01-05"));
	assert_non_null(strstr(errs, "BADDT (a0000000000000000000000e): field 'checkInDate' is not a date (YYYY-MM-DD): '2026-02-30'"));
	assert_non_null(strstr(errs, "BADTM (a0000000000000000000000f): field 'checkInTime' is not a time (HH:MM): '3pm'"));
	assert_non_null(strstr(errs, "BADTY (a00000000000000000000010): unknown reservation type 'tentative'"));
	assert_non_null(strstr(errs, "NUMLS (a00000000000000000000011): field '_idlisting' is not a string"));
	assert_non_null(strstr(errs, "SAMED (a00000000000000000000012): check-out on 2026-01-01 is not after check-in"));
	assert_non_null(strstr(errs, "page 1, item 10: field '_id' is not a valid id: 'a0000000000000000000:013'"));
	assert_non_null(strstr(errs, "page 1, item 11: missing field '_id'"));
	assert_non_null(strstr(errs, "page 1, item 12: not a JSON object"));
	/* Malformed items with a readable _id protect it from R6. */
	assert_int_equal(fr.nbad, 8);
	assert_true(fr.bad_without_id);
	fetch_result_release(&fr);
	free(body);
}

/* R8: in the canceled query, a readable _id is all a cancellation needs. */
static void test_bad_items_canceled(void **state)
{
	struct fetch_result fr;
	size_t len, count;
	char eb[ERRBUF_SIZE];
	char *body = read_fixture("page-bad-items.json", &len);

	(void)state;
	memset(&fr, 0, sizeof(fr));
	assert_int_equal(stays_parse_page(body, len, STAYS_PAGE_LIMIT, "page 1", 1, &fr, &count,
					  eb), ERR_OK);
	assert_int_equal(fr.n, 2);
	assert_int_equal(fr.ncancel, 8);
	assert_string_equal(fr.cancel_ids[0], "a0000000000000000000000b");
	assert_int_equal(fr.nbad, 0);
	/* Only the items without a usable _id are errors. */
	assert_int_equal(fr.nerrors, 3);
	assert_true(fr.bad_without_id);
	assert_non_null(strstr(strbuf_str(&fr.notes),
			       "reservation BADGU (a0000000000000000000000c) in the canceled query: field 'guests' is not a whole number"));
	fetch_result_release(&fr);
	free(body);
}

/* Times and dates: exactly the forms Stays uses, nothing after them. */
static void test_field_forms(void **state)
{
	static const struct {
		const char *in_date, *in_time;
		const char *err;        /* NULL: valid */
	} cases[] = {
		{ "2026-01-01", "15:00", NULL },
		{ "2026-01-01", "15:00:59", NULL },
		{ "2026-01-01T15:00:00Z", "15:00", NULL },
		{ "2026-01-01T15:00:00.123-03:00", "15:00", NULL },
		{ "2026-01-01T15:00", "15:00", NULL },
		{ "2026-01-01", "11:00:zz", "field 'checkInTime' is not a time" },
		{ "2026-01-01", "11:00:60", "field 'checkInTime' is not a time" },
		{ "2026-01-01", "11:0", "field 'checkInTime' is not a time" },
		{ "2026-01-01Tgarbage", "15:00", "field 'checkInDate' is not a date" },
		{ "2026-01-01T", "15:00", "field 'checkInDate' is not a date" },
		{ "2026-01-01T25:00:00Z", "15:00", "field 'checkInDate' is not a date" },
		{ "2026-01-01T15:00:00Zjunk", "15:00", "field 'checkInDate' is not a date" },
		{ "2026-01-01 15:00", "15:00", "field 'checkInDate' is not a date" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		struct fetch_result fr;
		struct strbuf body = STRBUF_INIT;
		char eb[ERRBUF_SIZE];
		size_t count;

		memset(&fr, 0, sizeof(fr));
		strbuf_addf(&body, "[{\"_id\":\"a1\",\"id\":\"C1\",\"_idlisting\":\"L1\","
			    "\"checkInDate\":\"%s\",\"checkInTime\":\"%s\",\"checkOutDate\":\"2026-01-03\","
			    "\"type\":\"booked\"}]", cases[i].in_date, cases[i].in_time);
		assert_int_equal(parse(body.buf, body.len, &fr, &count, eb), ERR_OK);
		if (!cases[i].err) {
			if (fr.n != 1)
				fail_msg("case %zu (%s %s): %s", i, cases[i].in_date,
					 cases[i].in_time, strbuf_str(&fr.errors));
			assert_string_equal(fr.items[0].in_date, "2026-01-01");
			assert_int_equal(strlen(fr.items[0].in_time), 5);
		} else if (fr.n != 0 || !strstr(strbuf_str(&fr.errors), cases[i].err)) {
			fail_msg("case %zu (%s %s): want '%s', got '%s'", i, cases[i].in_date,
				 cases[i].in_time, cases[i].err, strbuf_str(&fr.errors));
		}
		fetch_result_release(&fr);
		strbuf_release(&body);
	}
}

/* R6: the single-reservation answer. */
static void test_parse_reservation(void **state)
{
	static const char good[] =
		"{\"_id\":\"a1\",\"id\":\"C1\",\"_idlisting\":\"L1\",\"checkInDate\":\"2026-01-01\","
		"\"checkOutDate\":\"2026-01-03\",\"type\":\"canceled\"}";
	struct resv r;
	char eb[ERRBUF_SIZE];

	(void)state;
	assert_int_equal(stays_parse_reservation(good, sizeof(good) - 1, &r, eb), ERR_OK);
	assert_string_equal(r.id, "a1");
	assert_string_equal(r.type, "canceled");
	assert_int_equal(stays_parse_reservation("[]", 2, &r, eb), ERR_PROTOCOL);
	assert_non_null(strstr(eb, "not a JSON object"));
	assert_int_equal(stays_parse_reservation("<html>", 6, &r, eb), ERR_PROTOCOL);
	assert_non_null(strstr(eb, "HTML"));
	assert_int_equal(stays_parse_reservation("{\"_id\":\"a1\"}", 12, &r, eb), ERR_PROTOCOL);
	assert_non_null(strstr(eb, "missing field 'id'"));
}

static const struct {
	const char *body;
	const char *msg;
} bad_pages[] = {
	{ "", "malformed JSON" },
	{ "[{\"_id\": \"x\",", "malformed JSON" },
	{ "<html><body>Login</body></html>", "HTML instead of JSON" },
	{ "{\"message\": \"hi\"}", "a JSON object for page 1, expected an array" },
	{ "42", "a JSON value for page 1, expected an array" },
	{ "[] []", "trailing data" },
	{ "null", "expected an array" },
};

static void test_bad_pages(void **state)
{
	struct fetch_result fr;
	size_t count;
	char eb[ERRBUF_SIZE];

	(void)state;
	for (size_t i = 0; i < sizeof(bad_pages) / sizeof(*bad_pages); i++) {
		memset(&fr, 0, sizeof(fr));
		eb[0] = '\0';
		assert_int_equal(parse(bad_pages[i].body, strlen(bad_pages[i].body), &fr,
				       &count, eb), ERR_PROTOCOL);
		if (!strstr(eb, bad_pages[i].msg))
			fail_msg("page %zu: '%s' lacks '%s'", i, eb, bad_pages[i].msg);
		assert_int_equal(fr.n, 0);
		fetch_result_release(&fr);
	}
}

static void test_empty_page(void **state)
{
	struct fetch_result fr;
	size_t len, count = 99;
	char eb[ERRBUF_SIZE];
	char *body = read_fixture("page-empty.json", &len);

	(void)state;
	memset(&fr, 0, sizeof(fr));
	assert_int_equal(parse(body, len, &fr, &count, eb), ERR_OK);
	assert_int_equal(count, 0);
	assert_int_equal(fr.n, 0);
	fetch_result_release(&fr);
	free(body);
}

/* A page of 10,000 items (the server ignored limit=20): protocol error. */
static void test_huge_page(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	struct fetch_result fr;
	size_t count;
	char eb[ERRBUF_SIZE];

	(void)state;
	strbuf_adds(&sb, "[");
	for (int i = 0; i < 10000; i++)
		strbuf_addf(&sb, "%s{\"_id\":\"r%05d\",\"id\":\"C%05d\",\"_idlisting\":\"L1\","
			    "\"checkInDate\":\"2026-01-01\",\"checkOutDate\":\"2026-01-03\","
			    "\"type\":\"booked\"}", i ? "," : "", i, i);
	strbuf_adds(&sb, "]");
	memset(&fr, 0, sizeof(fr));
	assert_int_equal(parse(sb.buf, sb.len, &fr, &count, eb), ERR_PROTOCOL);
	assert_non_null(strstr(eb, "Stays sent 10000 reservations for page 1, more than the page limit of 20"));
	assert_int_equal(fr.n, 0);
	fetch_result_release(&fr);
	/* The same items are fine when the limit allows them. */
	memset(&fr, 0, sizeof(fr));
	assert_int_equal(stays_parse_page(sb.buf, sb.len, 10000, "all", 0, &fr, &count, eb), ERR_OK);
	assert_int_equal(fr.n, 10000);
	fetch_result_release(&fr);
	strbuf_release(&sb);
}

static void test_dedup(void **state)
{
	static const char p1[] =
		"[{\"_id\":\"b\",\"id\":\"B1\",\"_idlisting\":\"L\",\"checkInDate\":\"2026-01-01\",\"checkOutDate\":\"2026-01-02\",\"type\":\"booked\"},"
		" {\"_id\":\"a\",\"id\":\"A1\",\"_idlisting\":\"L\",\"checkInDate\":\"2026-01-01\",\"checkOutDate\":\"2026-01-02\",\"type\":\"booked\"}]";
	static const char p2[] =
		"[{\"_id\":\"b\",\"id\":\"B1\",\"_idlisting\":\"L\",\"checkInDate\":\"2026-01-01\",\"checkOutDate\":\"2026-01-02\",\"type\":\"canceled\"}]";
	struct fetch_result fr;
	size_t count;
	char eb[ERRBUF_SIZE];

	(void)state;
	memset(&fr, 0, sizeof(fr));
	assert_int_equal(parse(p1, sizeof(p1) - 1, &fr, &count, eb), ERR_OK);
	assert_int_equal(parse(p2, sizeof(p2) - 1, &fr, &count, eb), ERR_OK);
	assert_int_equal(fr.n, 3);
	fetch_result_finish(&fr);
	assert_int_equal(fr.n, 2);
	assert_string_equal(fr.items[0].id, "a");
	assert_string_equal(fr.items[1].id, "b");
	/* The canceled query comes second and wins. */
	assert_string_equal(fr.items[1].type, "canceled");
	fetch_result_release(&fr);
}


/* ---- listings ------------------------------------------------------------ */

static enum err parse_listings(const char *body, struct stays_listing_list *l, size_t *count,
			       char *eb)
{
	return stays_parse_listings_page(body, strlen(body), STAYS_PAGE_LIMIT, "page 1 of the listings",
					 l, count, eb);
}

static void test_listings_good(void **state)
{
	static const char body[] =
		"[{\"_id\":\"63dd7e20333d8b60be510f9c\",\"id\":\"PY02H\",\"internalName\":\"Celso AP 1\","
		"\"status\":\"active\",\"address\":{\"countryCode\":\"BR\",\"city\":\"Volta Redonda\","
		"\"street\":\"Rua A\",\"streetNumber\":313,\"additional\":\"AP1\"},\"_mstitle\":{}},"
		" {\"_id\":\"63dd7e20333d8b60be510fa0\",\"id\":\"IP11G\",\"internalName\":\"Ipanema \\u00e9 11\","
		"\"address\":{\"city\":\"Rio\",\"streetNumber\":\"12B\"}},"
		" {\"_id\":\"63dd7e20333d8b60be510fa1\"}]";
	struct stays_listing_list l = STAYS_LISTING_LIST_INIT;
	size_t count = 0;
	char eb[ERRBUF_SIZE];

	(void)state;
	assert_int_equal(parse_listings(body, &l, &count, eb), ERR_OK);
	assert_int_equal(count, 3);
	assert_int_equal(l.n, 3);
	assert_int_equal(l.nerrors, 0);
	assert_string_equal(l.v[0].id, "63dd7e20333d8b60be510f9c");
	assert_string_equal(l.v[0].code, "PY02H");
	assert_string_equal(l.v[0].name, "Celso AP 1");
	assert_string_equal(l.v[0].city, "Volta Redonda");
	assert_string_equal(l.v[0].address, "Rua A 313, AP1");
	assert_string_equal(l.v[1].name, "Ipanema \xc3\xa9 11");
	assert_string_equal(l.v[1].address, "12B");
	assert_string_equal(l.v[2].code, "");
	assert_string_equal(l.v[2].name, "");
	assert_string_equal(l.v[2].city, "");
	stays_listing_list_release(&l);
}

/* Malformed listings are reported and skipped; the rest is kept. */
static void test_listings_bad_items(void **state)
{
	static const char body[] =
		"[1, {\"id\":\"NOID\"}, {\"_id\":42}, {\"_id\":\"bad/id\"},"
		" {\"_id\":\"L2\",\"id\":7}, {\"_id\":\"L3\",\"internalName\":[]},"
		" {\"_id\":\"L4\",\"address\":\"Rua A\"}, {\"_id\":\"L5\",\"address\":{\"city\":1}},"
		" {\"_id\":\"L6\",\"id\":\"has space\"},"
		" {\"_id\":\"L7\",\"internalName\":\"ok\\u0007bell\"}]";
	struct stays_listing_list l = STAYS_LISTING_LIST_INIT;
	size_t count = 0;
	char eb[ERRBUF_SIZE];

	(void)state;
	assert_int_equal(parse_listings(body, &l, &count, eb), ERR_OK);
	assert_int_equal(count, 10);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.nerrors, 9);
	assert_string_equal(l.v[0].id, "L7");
	assert_string_equal(l.v[0].name, "ok?bell");
	assert_non_null(strstr(strbuf_str(&l.errors), "item 1: not an object"));
	assert_non_null(strstr(strbuf_str(&l.errors), "missing field '_id'"));
	assert_non_null(strstr(strbuf_str(&l.errors), "listing L4: field 'address' is not an object"));
	assert_non_null(strstr(strbuf_str(&l.errors), "listing L5: field 'address.city'"));
	stays_listing_list_release(&l);
}

/* Pages that are not an array of at most 20 items are protocol errors. */
static void test_listings_bad_pages(void **state)
{
	static const char *const bodies[] = {
		"", "{}", "{\"message\":\"x\"}", "[", "[] x", "<html>", "null", "\"a\"",
	};
	struct stays_listing_list l = STAYS_LISTING_LIST_INIT;
	struct strbuf big = STRBUF_INIT;
	size_t count;
	char eb[ERRBUF_SIZE];

	(void)state;
	for (size_t i = 0; i < sizeof(bodies) / sizeof(*bodies); i++)
		assert_int_equal(parse_listings(bodies[i], &l, &count, eb), ERR_PROTOCOL);
	strbuf_adds(&big, "[");
	for (int i = 0; i < 21; i++)
		strbuf_addf(&big, "%s{\"_id\":\"L%d\"}", i ? "," : "", i);
	strbuf_adds(&big, "]");
	assert_int_equal(parse_listings(strbuf_str(&big), &l, &count, eb), ERR_PROTOCOL);
	assert_non_null(strstr(eb, "more than the page limit"));
	assert_int_equal(l.n, 0);
	assert_int_equal(parse_listings("[]", &l, &count, eb), ERR_OK);
	assert_int_equal(count, 0);
	strbuf_release(&big);
	stays_listing_list_release(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_page),
		cmocka_unit_test(test_bad_items),
		cmocka_unit_test(test_bad_items_canceled),
		cmocka_unit_test(test_field_forms),
		cmocka_unit_test(test_parse_reservation),
		cmocka_unit_test(test_bad_pages),
		cmocka_unit_test(test_empty_page),
		cmocka_unit_test(test_huge_page),
		cmocka_unit_test(test_dedup),
		cmocka_unit_test(test_listings_good),
		cmocka_unit_test(test_listings_bad_items),
		cmocka_unit_test(test_listings_bad_pages),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
