/*
 * test_pin.c - PIN choice (SPEC P2): the trivial-PIN table, the unbiased
 * digit mapping, uniqueness against active PINs, lengths and a distribution
 * check over real draws from getrandom(2).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pin.h"
#include "banned.h"

static const struct {
	const char *pin;
	int trivial;
} trivial_table[] = {
	/* one repeated digit */
	{ "0000", 1 }, { "0000000", 1 }, { "999999999999", 1 }, { "5", 1 },
	/* ascending and descending runs, without and with wrapping */
	{ "1234567", 1 }, { "0123456", 1 }, { "3456789", 1 }, { "1234", 1 },
	{ "7654321", 1 }, { "9876543", 1 }, { "6543210", 1 }, { "4321", 1 },
	{ "8901234", 1 }, { "7890123", 1 }, { "901234", 1 },
	{ "2109876", 1 }, { "1098765", 1 }, { "0987", 1 },
	{ "890123456789", 1 }, { "210987654321", 1 }, { "123456789012", 1 },
	/* a run of 4 or more equal digits anywhere */
	{ "1000023", 1 }, { "5555123", 1 }, { "1235555", 1 }, { "77778", 1 },
	/* not a PIN at all */
	{ "", 1 }, { "12a4567", 1 }, { " 123456", 1 }, { "123456-", 1 },
	/* acceptable */
	{ "1234568", 0 }, { "1357924", 0 }, { "0001000", 0 },
	{ "1112111", 0 }, { "1212121", 0 }, { "9081726", 0 }, { "8402", 0 },
	{ "1243", 0 }, { "2345676", 0 }, { "0987656", 0 }, { "5550555", 0 },
	{ "123456789013", 0 }, { "0192", 0 }, { "0002", 0 },
};

static void test_trivial_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(trivial_table) / sizeof(trivial_table[0]); i++) {
		int got = pin_is_trivial(trivial_table[i].pin);

		if (got != trivial_table[i].trivial)
			fail_msg("pin_is_trivial(\"%s\") = %d, want %d",
				 trivial_table[i].pin, got,
				 trivial_table[i].trivial);
	}
}

/* Every 4-digit run in either direction, with wrap, is trivial: 10 starts
 * times 2 directions, plus 10 repeated digits. */
static void test_trivial_count_4(void **state)
{
	int n = 0;

	(void)state;
	for (int v = 0; v < 10000; v++) {
		char pin[5];

		snprintf(pin, sizeof(pin), "%04u", (unsigned)v % 10000u);
		n += pin_is_trivial(pin);
	}
	assert_int_equal(n, 30);
}

/* Feeding each byte value once yields each digit exactly 25 times: bytes
 * 250-255 are discarded, so there is no modulo bias. */
static void test_digit_mapping_unbiased(void **state)
{
	unsigned char bytes[256];
	char digits[256];
	int count[10] = { 0 };
	size_t n;

	(void)state;
	for (int i = 0; i < 256; i++)
		bytes[i] = (unsigned char)i;
	n = pin_digits_from_bytes(bytes, sizeof(bytes), digits, 0, sizeof(digits));
	assert_int_equal(n, 250);
	for (size_t i = 0; i < n; i++) {
		assert_true(digits[i] >= '0' && digits[i] <= '9');
		count[digits[i] - '0']++;
	}
	for (int d = 0; d < 10; d++)
		assert_int_equal(count[d], 25);
}

static void test_digit_mapping_rejects_high_bytes(void **state)
{
	const unsigned char bytes[] = { 250, 251, 7, 255, 249, 0, 252, 13 };
	char digits[8];
	size_t n;

	(void)state;
	n = pin_digits_from_bytes(bytes, sizeof(bytes), digits, 0, 3);
	assert_int_equal(n, 3);
	assert_memory_equal(digits, "790", 3);
	/* continuing where it stopped appends, up to want */
	n = pin_digits_from_bytes(bytes + 6, 2, digits, 3, 8);
	assert_int_equal(n, 4);
	assert_memory_equal(digits, "7903", 4);
	/* only high bytes: nothing */
	n = pin_digits_from_bytes((const unsigned char *)"\xff\xfa", 2, digits, 0, 8);
	assert_int_equal(n, 0);
}

static void test_lengths(void **state)
{
	char out[PIN_MAX_LEN + 1], err[ERRBUF_SIZE];

	(void)state;
	for (int len = PIN_MIN_LEN; len <= PIN_MAX_LEN; len++) {
		assert_int_equal(pin_choose(len, NULL, 0, out, sizeof(out), err),
				 ERR_OK);
		assert_int_equal(strlen(out), (size_t)len);
		assert_int_equal(strspn(out, "0123456789"), (size_t)len);
		assert_false(pin_is_trivial(out));
	}
	assert_int_equal(pin_choose(3, NULL, 0, out, sizeof(out), err), ERR_CONFIG);
	assert_string_equal(out, "");
	assert_non_null(strstr(err, "out of range"));
	assert_int_equal(pin_choose(13, NULL, 0, out, sizeof(out), err), ERR_CONFIG);
	assert_int_equal(pin_choose(0, NULL, 0, out, sizeof(out), err), ERR_CONFIG);
	assert_int_equal(pin_choose(-7, NULL, 0, out, sizeof(out), err), ERR_CONFIG);
	/* out too small for the NUL */
	assert_int_equal(pin_choose(7, NULL, 0, out, 7, err), ERR_INTERNAL);
	assert_int_equal(pin_choose(7, NULL, 0, out, 8, NULL), ERR_OK);
}

/* Half of all 4-digit PINs are active: 200 draws must avoid every one
 * (a missing check would collide about 100 times). */
static void test_avoids_active(void **state)
{
	char (*all)[5] = malloc(10000 * sizeof(*all));
	const char **active = malloc(5000 * sizeof(*active));
	char out[8], err[ERRBUF_SIZE];
	size_t n = 0;

	(void)state;
	assert_non_null(all);
	assert_non_null(active);
	for (int v = 0; v < 10000; v++) {
		snprintf(all[v], sizeof(all[v]), "%04u", (unsigned)v % 10000u);
		if (v % 2 == 0)
			active[n++] = all[v];
	}
	for (int i = 0; i < 200; i++) {
		assert_int_equal(pin_choose(4, active, n, out, sizeof(out), err),
				 ERR_OK);
		assert_true((out[3] - '0') % 2 == 1);
	}
	free(active);
	free(all);
}

/* Every 4-digit PIN active: bounded attempts, then ERR_DATA; NULL entries
 * in the list are skipped. */
static void test_exhausted(void **state)
{
	char (*all)[5] = malloc(10000 * sizeof(*all));
	const char **active = malloc(10001 * sizeof(*active));
	char out[8], err[ERRBUF_SIZE];

	(void)state;
	assert_non_null(all);
	assert_non_null(active);
	active[0] = NULL;
	for (int v = 0; v < 10000; v++) {
		snprintf(all[v], sizeof(all[v]), "%04u", (unsigned)v % 10000u);
		active[v + 1] = all[v];
	}
	assert_int_equal(pin_choose(4, active, 10001, out, sizeof(out), err),
			 ERR_DATA);
	assert_string_equal(out, "");
	assert_non_null(strstr(err, "attempts"));
	free(active);
	free(all);
}

/* 1000 draws of 7 digits: every digit appears in every position, and the
 * leading digit is not biased (chi-square, 9 degrees of freedom, bound
 * 33.7 = p 0.0001; a PIN generator that never starts with 0, or a modulo
 * of a small range, fails it). */
static void test_distribution(void **state)
{
	int pos[7][10] = { { 0 } };
	int total[10] = { 0 };
	char out[8], err[ERRBUF_SIZE], prev[8] = "";
	int repeats = 0;
	double chi = 0;

	(void)state;
	for (int i = 0; i < 1000; i++) {
		assert_int_equal(pin_choose(7, NULL, 0, out, sizeof(out), err),
				 ERR_OK);
		for (int j = 0; j < 7; j++) {
			pos[j][out[j] - '0']++;
			total[out[j] - '0']++;
		}
		repeats += strcmp(out, prev) == 0;
		memcpy(prev, out, sizeof(prev));
	}
	assert_true(repeats < 2);
	for (int j = 0; j < 7; j++)
		for (int d = 0; d < 10; d++)
			if (pos[j][d] == 0)
				fail_msg("digit %d never drawn at position %d", d, j);
	for (int d = 0; d < 10; d++) {
		double x = pos[0][d] - 100.0;

		chi += x * x / 100.0;
		assert_in_range(total[d], 550, 850);
	}
	if (chi > 33.7)
		fail_msg("leading digit chi-square %.1f > 33.7", chi);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_trivial_table),
		cmocka_unit_test(test_trivial_count_4),
		cmocka_unit_test(test_digit_mapping_unbiased),
		cmocka_unit_test(test_digit_mapping_rejects_high_bytes),
		cmocka_unit_test(test_lengths),
		cmocka_unit_test(test_avoids_active),
		cmocka_unit_test(test_exhausted),
		cmocka_unit_test(test_distribution),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
