/*
 * test_report.c - the renderers of report.c as pure functions of plain
 * data: the locks list, the jobs list and status, as tables and as JSON
 * (SPEC §6, §6a: camelCase, UTC with Z, null for what is absent).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "report.h"
#include "report_onboard.h"

#define NOW 1796126400L  /* 2026-12-01T12:00:00Z */

static char *json_of(cJSON *doc)
{
	char *s = cJSON_PrintUnformatted(doc);

	cJSON_Delete(doc);
	return s;
}

static void test_locks(void **state)
{
	struct lock_map l[2];
	struct strbuf out = STRBUF_INIT;
	char *s;

	(void)state;
	memset(l, 0, sizeof(l));
	strcpy(l[0].listing, "5f1a2b3c4d5e6f7a8b9c0d1e");
	strcpy(l[0].device, "ac01lock0123456789abcd");
	strcpy(l[0].name, "front door");
	l[0].pin_length = 7;
	strcpy(l[0].tz, "America/Sao_Paulo");
	strcpy(l[1].listing, "L2");
	strcpy(l[1].device, "ac02lock0123456789abcd");

	s = json_of(report_locks_json(l, 2));
	assert_string_equal(s,
		"[{\"listingId\":\"5f1a2b3c4d5e6f7a8b9c0d1e\",\"deviceId\":\"ac01lock0123456789abcd\","
		"\"name\":\"front door\",\"pinLength\":7,\"timezone\":\"America/Sao_Paulo\"},"
		"{\"listingId\":\"L2\",\"deviceId\":\"ac02lock0123456789abcd\",\"name\":null,"
		"\"pinLength\":null,\"timezone\":null}]");
	free(s);

	report_locks_table(l, 2, &out);
	assert_string_equal(strbuf_str(&out),
		"LISTING                    DEVICE                   DIGITS TIMEZONE             NAME\n"
		"5f1a2b3c4d5e6f7a8b9c0d1e   ac01lock0123456789abcd   7      America/Sao_Paulo    front door\n"
		"L2                         ac02lock0123456789abcd   -      -                    -\n");
	strbuf_reset(&out);
	report_locks_table(l, 0, &out);
	assert_int_equal(out.len, 0);	/* no header without rows */
	strbuf_release(&out);
}

static void test_jobs(void **state)
{
	struct job_row r;
	struct strbuf out = STRBUF_INIT;
	char *s;

	(void)state;
	memset(&r, 0, sizeof(r));
	strcpy(r.j.id, "job1");
	strcpy(r.j.action, "generate");
	strcpy(r.j.resv, "r1");
	strcpy(r.j.device, "ac01lock0123456789abcd");
	strcpy(r.j.status, "failed");
	r.j.due = NOW;
	r.attempts = 3;
	strcpy(r.last_error, "tuya 1106: permission deny");
	r.has_last_error = 1;

	s = json_of(report_jobs_json(&r, 1));
	assert_string_equal(s,
		"[{\"id\":\"job1\",\"action\":\"generate\",\"reservationId\":\"r1\","
		"\"reservationCode\":null,\"listingId\":null,\"deviceId\":\"ac01lock0123456789abcd\","
		"\"dueAt\":\"2026-12-01T12:00:00Z\",\"status\":\"failed\",\"attempts\":3,"
		"\"nextAttemptAt\":null,\"lastError\":\"tuya 1106: permission deny\"}]");
	free(s);

	report_jobs_table(&r, 1, &out);
	assert_non_null(strstr(strbuf_str(&out), "DUE"));
	assert_non_null(strstr(strbuf_str(&out),
		"2026-12-01T12:00:00Z  generate  failed    ?         ac01lock0123456789abcd      3  tuya 1106: permission deny\n"));
	strbuf_release(&out);
}

static void test_status(void **state)
{
	struct status_report s;
	struct strbuf out = STRBUF_INIT;
	char *j;

	(void)state;
	memset(&s, 0, sizeof(s));
	s.current = "never";
	s.schedule = "*/30 * * * *";
	s.next_run = NOW + 1800;
	s.pending = 2;
	s.pr_stale = 1;

	j = json_of(report_status_json(&s));
	assert_non_null(strstr(j, "\"lastRun\":null,\"nextRun\":\"2026-12-01T12:30:00Z\","
				  "\"currentStatus\":\"never\",\"schedule\":\"*/30 * * * *\","
				  "\"pinJobs\":{\"pending\":2,\"failed\":0,\"nextDue\":null}"));
	assert_non_null(strstr(j, "\"stale\":true"));
	free(j);

	report_status_text(&s, &out);
	assert_string_equal(strbuf_str(&out),
		"last run:  never\n"
		"status:    never\n"
		"schedule:  */30 * * * *, next run 2026-12-01T12:30:00Z\n"
		"pin jobs:  2 pending, 0 failed\n"
		"pin-runner: never ran (stale: jobs are waiting)\n"
		"health:    ok\n"
		"database:  -, not created yet\n");
	strbuf_release(&out);

	/* the database's size in the largest unit under 1024, and its rows */
	s.dbs = (struct db_stats){ 1, "/var/lib/stays-reconcile/stays.db", 1536 * 1024, 46, 90,
				   12, 30, 5 };
	report_status_text(&s, &out);
	assert_non_null(strstr(strbuf_str(&out),
		"database:  /var/lib/stays-reconcile/stays.db, 1.5 MiB, 46 reservations, 90 jobs, "
		"12 credentials, 30 run logs, 5 guests\n"));
	strbuf_reset(&out);
	s.dbs.size = 800;
	report_status_text(&s, &out);
	assert_non_null(strstr(strbuf_str(&out), "stays.db, 800 bytes, 46 reservations"));
	j = json_of(report_status_json(&s));
	assert_non_null(strstr(j, "\"database\":{\"path\":\"/var/lib/stays-reconcile/stays.db\","
				  "\"sizeBytes\":800,\"rows\":{\"reservations\":46,\"pinJobs\":90,"
				  "\"credentials\":12,\"reconciliationLogs\":30,\"guests\":5}}"));
	free(j);
	strbuf_reset(&out);
	memset(&s.dbs, 0, sizeof(s.dbs));

	/* a finished run with a message; a schedule that never fires */
	s.found = 1;
	strcpy(s.last.id, "run1");
	strcpy(s.last.status, "failed");
	s.last.started_at = NOW - 60;
	s.last.completed_at = NOW - 59;
	s.last.duration_ms = 1200;
	strcpy(s.last.message, "Stays answered 401");
	s.last.has_message = 1;
	s.current = "failed";
	s.next_run = (time_t)-1;
	report_status_text(&s, &out);
	assert_non_null(strstr(strbuf_str(&out),
		"last run:  failed, started 2026-12-01T11:59:00Z, completed 2026-12-01T11:59:01Z (1200 ms)\n"
		"stats:     fetched 0, created 0,"));
	assert_non_null(strstr(strbuf_str(&out), "message:   Stays answered 401\n"));
	assert_non_null(strstr(strbuf_str(&out), "schedule:  */30 * * * *, never fires\n"));
	strbuf_release(&out);
	j = json_of(report_status_json(&s));
	assert_non_null(strstr(j, "\"nextRun\":null"));
	assert_null(strstr(j, "\"pin\""));
	free(j);
}

/* The name columns fit the longest name, counted in characters (an
 * accented name lines up with the others). */
static void test_onboard_tables(void **state)
{
	struct tuya_device d[2];
	struct stays_listing l[2];
	struct lock_map m;
	struct strbuf out = STRBUF_INIT;

	(void)state;
	memset(d, 0, sizeof(d));
	memset(l, 0, sizeof(l));
	memset(&m, 0, sizeof(m));
	strcpy(d[0].id, "bf0123456789abcdefxyzq");
	strcpy(d[0].name, "Copacabana 302 service door");
	strcpy(d[0].category, "ms");
	strcpy(d[0].product, "Smart Lock");
	d[0].online = 1;
	strcpy(d[1].id, "eb9876543210fedcbazyxw");
	strcpy(d[1].name, "Porta S\xc3\xa3o Jo\xc3\xa3o");
	strcpy(d[1].category, "wk");
	d[1].online = -1;
	strcpy(m.device, "eb9876543210fedcbazyxw");
	strcpy(m.listing, "63dd7e20333d8b60be510fa0");
	report_devices_table(d, 2, &m, 1, &out);
	assert_string_equal(strbuf_str(&out),
		"DEVICE                   NAME                        CATEGORY  PRODUCT    ONLINE  LOCK LISTING\n"
		"bf0123456789abcdefxyzq   Copacabana 302 service door ms        Smart Lock yes     yes  -\n"
		"eb9876543210fedcbazyxw   Porta S\xc3\xa3o Jo\xc3\xa3o              wk        -          -       no   63dd7e20333d8b60be510fa0\n");
	strbuf_reset(&out);

	strcpy(l[0].id, "63dd7e20333d8b60be510f9c");
	strcpy(l[0].code, "CP302");
	strcpy(l[0].name, "Apartamento Copacabana 302");
	strcpy(l[1].id, "63dd7e20333d8b60be510fa0");
	strcpy(l[1].name, "S\xc3\xa3o Conrado");
	strcpy(l[1].city, "Rio de Janeiro");
	report_listings_table(l, 2, &m, 1, &out);
	assert_string_equal(strbuf_str(&out),
		"LISTING                    SHORT    NAME                       CITY           DEVICES\n"
		"63dd7e20333d8b60be510f9c   CP302    Apartamento Copacabana 302 -              -\n"
		"63dd7e20333d8b60be510fa0   -        S\xc3\xa3o Conrado                Rio de Janeiro eb9876543210fedcbazyxw\n");
	strbuf_release(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_locks),
		cmocka_unit_test(test_jobs),
		cmocka_unit_test(test_status),
		cmocka_unit_test(test_onboard_tables),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
