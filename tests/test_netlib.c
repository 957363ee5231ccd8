/*
 * test_netlib.c - unit tests for lib/netlib.c: a library that does not
 * exist and one that lacks the functions are each refused with a message
 * naming the library, dlerror()'s text and the package; the real libcurl
 * and libcrypto load, fill every member, and a second call gives the same
 * table; a failed load leaves the table zeroed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "netlib.h"
#include "banned.h"

/* 1 when every byte of p[0..n) is 0. */
static int all_zero(const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i])
			return 0;
	return 1;
}

/* 1 when no pointer-sized slot of p[0..n) is NULL (tables of pointers). */
static int all_set(const void *p, size_t n)
{
	for (size_t i = 0; i < n; i += sizeof(void *)) {
		void *v;

		memcpy(&v, (const char *)p + i, sizeof(v));
		if (!v)
			return 0;
	}
	return 1;
}

static void test_missing(void **state)
{
	struct netlib_curl cu;
	struct netlib_crypto cr;
	char err[ERRBUF_SIZE] = "";

	(void)state;
	memset(&cu, 0xff, sizeof(cu));
	assert_int_equal(netlib_curl_open("libnosuchcurl.so.4", "libcurl4", &cu, err),
			 ERR_INTERNAL);
	assert_true(strncmp(err, "cannot load libnosuchcurl.so.4 (", 32) == 0);
	/* dlerror()'s text names the file and why */
	assert_non_null(strstr(err, "libnosuchcurl.so.4: cannot open shared object file"));
	assert_non_null(strstr(err, "): install the package libcurl4"));
	assert_true(all_zero(&cu, sizeof(cu)));

	memset(&cr, 0xff, sizeof(cr));
	assert_int_equal(netlib_crypto_open("libnosuchcrypto.so.3", "libssl3", &cr, err),
			 ERR_INTERNAL);
	assert_true(strncmp(err, "cannot load libnosuchcrypto.so.3 (", 34) == 0);
	assert_non_null(strstr(err, "): install the package libssl3"));
	assert_true(all_zero(&cr, sizeof(cr)));

	/* errbuf may be NULL */
	assert_int_equal(netlib_curl_open("libnosuchcurl.so.4", "libcurl4", &cu, NULL),
			 ERR_INTERNAL);
}

/* A library that loads but lacks a function: incomplete, refused whole. */
static void test_incomplete(void **state)
{
	struct netlib_curl cu;
	struct netlib_crypto cr;
	char err[ERRBUF_SIZE] = "";

	(void)state;
	memset(&cu, 0xff, sizeof(cu));
	assert_int_equal(netlib_curl_open("libc.so.6", "libcurl4", &cu, err), ERR_INTERNAL);
	assert_true(strncmp(err, "cannot load libc.so.6 (", 23) == 0);
	assert_non_null(strstr(err, "curl_global_init"));
	assert_non_null(strstr(err, "): install the package libcurl4"));
	assert_true(all_zero(&cu, sizeof(cu)));

	memset(&cr, 0xff, sizeof(cr));
	assert_int_equal(netlib_crypto_open("libc.so.6", "libssl3", &cr, err), ERR_INTERNAL);
	assert_non_null(strstr(err, "EVP_Digest"));
	assert_true(all_zero(&cr, sizeof(cr)));
}

static void test_real(void **state)
{
	const struct netlib_curl *cu, *cu2;
	const struct netlib_crypto *cr, *cr2;
	char err[ERRBUF_SIZE] = "";
	unsigned char md[64];
	unsigned int n = 0;

	(void)state;
	cu = netlib_curl(err);
	assert_non_null(cu);
	assert_string_equal(err, "");
	assert_true(all_set(cu, sizeof(*cu)));
	cu2 = netlib_curl(err);
	assert_ptr_equal(cu, cu2);
	assert_string_equal(cu->easy_strerror(CURLE_OK), "No error");

	cr = netlib_crypto(NULL);
	assert_non_null(cr);
	assert_true(all_set(cr, sizeof(*cr)));
	cr2 = netlib_crypto(err);
	assert_ptr_equal(cr, cr2);
	assert_string_equal(err, "");
	/* SHA-256 of "" through the table */
	assert_true(cr->digest("", 0, md, &n, cr->sha256(), NULL));
	assert_int_equal(n, 32);
	assert_int_equal(md[0], 0xe3);
	assert_int_equal(md[31], 0x55);

	/* Another load of a soname already in the process: its own table, the
	 * same functions. */
	{
		struct netlib_curl again;

		assert_int_equal(netlib_curl_open("libcurl.so.4", "libcurl4", &again, err),
				 ERR_OK);
		assert_true(memcmp(&again, cu, sizeof(again)) == 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_missing),
		cmocka_unit_test(test_incomplete),
		cmocka_unit_test(test_real),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
