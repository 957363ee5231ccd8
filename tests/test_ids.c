/*
 * test_ids.c - unit tests for lib/ids.c: each validator on its edges (empty,
 * longest, one too long, each allowed and a refused character; for password
 * ids zero, negative and the int64 extremes).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "ids.h"
#include "banned.h"

/* A string of n copies of ch, in buf (size > n). */
static const char *repeat(char *buf, size_t size, char ch, size_t n)
{
	assert_true(n < size);
	memset(buf, ch, n);
	buf[n] = '\0';
	return buf;
}

static void test_stays_ids(void **state)
{
	char buf[256];
	static const struct {
		const char *s;
		int listing, code;
	} cases[] = {
		{ "5f3a9c1e2b4d6a8c0e1f2a3b", 1, 1 },
		{ "RV02J", 1, 1 },
		{ "a_b-c.d", 1, 1 },
		{ "", 0, 0 },
		{ "a b", 0, 0 },
		{ "a/b", 0, 0 },
		{ "a?b", 0, 0 },
		{ "caf\xc3\xa9", 0, 0 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		assert_int_equal(ids_listing_valid(cases[i].s), cases[i].listing);
		assert_int_equal(ids_code_valid(cases[i].s), cases[i].code);
	}
	assert_false(ids_listing_valid(NULL));
	assert_false(ids_code_valid(NULL));
	assert_true(ids_listing_valid(repeat(buf, sizeof(buf), 'a', ID_MAX)));
	assert_false(ids_listing_valid(repeat(buf, sizeof(buf), 'a', ID_MAX + 1)));
	assert_true(ids_code_valid(repeat(buf, sizeof(buf), 'a', CODE_MAX)));
	assert_false(ids_code_valid(repeat(buf, sizeof(buf), 'a', CODE_MAX + 1)));
}

static void test_device_ids(void **state)
{
	char buf[256];
	static const struct {
		const char *s;
		int ok;
	} cases[] = {
		{ "bf0123456789abcdef", 1 },
		{ "A-z_09", 1 },
		{ "", 0 },
		{ "a.b", 0 },      /* a path segment: no '.' */
		{ "..", 0 },
		{ "a/b", 0 },
		{ "a b", 0 },
		{ "a%2f", 0 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++)
		assert_int_equal(ids_device_valid(cases[i].s), cases[i].ok);
	assert_false(ids_device_valid(NULL));
	assert_true(ids_device_valid(repeat(buf, sizeof(buf), 'x', TUYA_DEVICE_ID_MAX)));
	assert_false(ids_device_valid(repeat(buf, sizeof(buf), 'x', TUYA_DEVICE_ID_MAX + 1)));
}

static void test_password_ids(void **state)
{
	(void)state;
	assert_true(ids_password_valid(1));
	assert_true(ids_password_valid(9001));
	assert_true(ids_password_valid(INT64_MAX));
	assert_false(ids_password_valid(0));
	assert_false(ids_password_valid(-1));
	assert_false(ids_password_valid(INT64_MIN));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stays_ids),
		cmocka_unit_test(test_device_ids),
		cmocka_unit_test(test_password_ids),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
