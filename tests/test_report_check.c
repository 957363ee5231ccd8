/*
 * test_report_check.c - the items of `check` and their renderings
 * (lib/report_check.c) as pure functions: the exit code is the first
 * failure's, the text has one line per item with the fix only for warn
 * and fail, the JSON has ok, exitCode and items with fix null for ok.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "report_check.h"

static void test_exit_code(void **state)
{
	struct check_list l = CHECK_LIST_INIT;

	(void)state;
	check_add(&l, CHECK_OK, 0, "config", "ignored", "loaded");
	check_add(&l, CHECK_WARN, 0, "database", "init", "not created yet");
	assert_int_equal(l.exit_code, 0);
	check_add(&l, CHECK_FAIL, 77, "stays", "check [stays]", "refused");
	check_add(&l, CHECK_FAIL, 65, "lock x", "locks rm", "a plug");
	assert_int_equal(l.exit_code, 77);
	assert_int_equal(l.n, 4);
	assert_string_equal(l.v[0].fix, "");    /* no fix on an ok item */
	assert_int_equal(l.v[1].code, 0);       /* a warning has no code */
	check_list_release(&l);
	assert_null(l.v);
}

static void test_text(void **state)
{
	struct check_list l = CHECK_LIST_INIT;
	struct strbuf out = STRBUF_INIT;

	(void)state;
	check_add(&l, CHECK_OK, 0, "config", NULL, "'%s' loaded, mode %04o", "/etc/x.conf", 0600u);
	check_add(&l, CHECK_WARN, 0, "database", "`stays-reconcile init`", "not created yet");
	check_add(&l, CHECK_FAIL, 77, "tuya", "check [tuya]", "tuya code %d", 1004);
	report_check_text(&l, &out);
	assert_string_equal(strbuf_str(&out),
			    "ok    config    '/etc/x.conf' loaded, mode 0600\n"
			    "warn  database  not created yet; fix: `stays-reconcile init`\n"
			    "FAIL  tuya      tuya code 1004; fix: check [tuya]\n");
	strbuf_release(&out);
	check_list_release(&l);
}

static void test_json(void **state)
{
	struct check_list l = CHECK_LIST_INIT;
	char *s;
	cJSON *doc;

	(void)state;
	doc = report_check_json(&l);
	s = cJSON_PrintUnformatted(doc);
	assert_string_equal(s, "{\"ok\":true,\"exitCode\":0,\"items\":[]}");
	cJSON_free(s);
	cJSON_Delete(doc);
	check_add(&l, CHECK_OK, 0, "stays", NULL, "2 reservations");
	check_add(&l, CHECK_FAIL, 65, "lock d1", "locks rm", "a plug");
	doc = report_check_json(&l);
	s = cJSON_PrintUnformatted(doc);
	assert_string_equal(s, "{\"ok\":false,\"exitCode\":65,\"items\":["
			    "{\"item\":\"stays\",\"status\":\"ok\",\"detail\":\"2 reservations\",\"fix\":null},"
			    "{\"item\":\"lock d1\",\"status\":\"fail\",\"detail\":\"a plug\",\"fix\":\"locks rm\"}]}");
	cJSON_free(s);
	cJSON_Delete(doc);
	check_list_release(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exit_code),
		cmocka_unit_test(test_text),
		cmocka_unit_test(test_json),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
