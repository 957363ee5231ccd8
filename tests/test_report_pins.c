/*
 * test_report_pins.c - report_pins.c as pure functions of plain data: the
 * live PINs as a table and as JSON (masked unless show_pin, local times of
 * the lock's zone or the default one, DST), and the drift between a lock's
 * password list and the credentials (unknown, missing, window; what is
 * not drift: gone or failed strangers, creating and revoking credentials).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "report_pins.h"

#define T0 1796925600L  /* 2026-12-10T18:00:00Z */
#define T1 1797084000L  /* 2026-12-12T14:00:00Z */

static char *json_of(cJSON *doc)
{
	char *s = cJSON_PrintUnformatted(doc);

	cJSON_Delete(doc);
	return s;
}

static void cred(struct live_cred *l, const char *device, const char *code, int64_t id,
		 const char *state, const char *tz)
{
	memset(l, 0, sizeof(*l));
	strcpy(l->device, device);
	strcpy(l->resv, "R-");
	strcat(l->resv, code);
	strcpy(l->code, code);
	strcpy(l->listing, "L1");
	strcpy(l->tz, tz);
	strcpy(l->c.pin, "4815162");
	snprintf(l->c.name, sizeof(l->c.name), "%s-abcd", code);
	strcpy(l->c.state, state);
	l->c.password_id = id;
	l->c.valid_from = T0;
	l->c.valid_until = T1;
}

static void test_json(void **state)
{
	struct live_cred v[2];
	struct pins_view pv = { v, 2, "America/Sao_Paulo", 0 };
	char *s;

	(void)state;
	cred(&v[0], "D1", "RV001", 7, "active", "");
	strcpy(v[0].lock_name, "Front door");
	v[0].c.notified_at = T0 - 3600;
	cred(&v[1], "D2", "RV001", 0, "creating", "America/New_York");
	s = json_of(report_pins_json(&pv));
	assert_string_equal(s,
		"[{\"reservationId\":\"R-RV001\",\"reservationCode\":\"RV001\",\"listingId\":\"L1\","
		"\"deviceId\":\"D1\",\"lockName\":\"Front door\",\"passwordId\":7,\"state\":\"active\","
		"\"validFrom\":\"2026-12-10T18:00:00Z\",\"validUntil\":\"2026-12-12T14:00:00Z\","
		"\"validFromLocal\":\"2026-12-10T15:00\",\"validUntilLocal\":\"2026-12-12T11:00\","
		"\"timezone\":\"America/Sao_Paulo\",\"notified\":true,"
		"\"notifiedAt\":\"2026-12-10T17:00:00Z\",\"pin\":\"*******\"},"
		"{\"reservationId\":\"R-RV001\",\"reservationCode\":\"RV001\",\"listingId\":\"L1\","
		"\"deviceId\":\"D2\",\"lockName\":null,\"passwordId\":null,\"state\":\"creating\","
		"\"validFrom\":\"2026-12-10T18:00:00Z\",\"validUntil\":\"2026-12-12T14:00:00Z\","
		"\"validFromLocal\":\"2026-12-10T13:00\",\"validUntilLocal\":\"2026-12-12T09:00\","
		"\"timezone\":\"America/New_York\",\"notified\":false,\"notifiedAt\":null,"
		"\"pin\":\"*******\"}]");
	free(s);
	pv.show_pin = 1;
	s = json_of(report_pins_json(&pv));
	assert_non_null(strstr(s, "\"pin\":\"4815162\""));
	free(s);
}

static void test_table(void **state)
{
	struct live_cred v[2];
	struct pins_view pv = { v, 2, "America/Sao_Paulo", 0 };
	struct strbuf out = STRBUF_INIT;

	(void)state;
	cred(&v[0], "D1", "RV001", 7, "active", "");
	cred(&v[1], "D1", "RV002", 9, "revoking", "");
	/* New York in summer (EDT, UTC-4) */
	v[1].c.valid_from = 1782921600L;  /* 2026-07-01T16:00:00Z */
	strcpy(v[1].tz, "America/New_York");
	report_pins_table(&pv, &out);
	assert_non_null(strstr(strbuf_str(&out), "lock D1, America/Sao_Paulo\n  CODE "));
	assert_non_null(strstr(strbuf_str(&out),
		"  RV001      active      2026-12-10 15:00 2026-12-12 11:00 2026-12-10T18:00:00Z "
		"2026-12-12T14:00:00Z 7            no     *******      L1\n"));
	assert_non_null(strstr(strbuf_str(&out), "  RV002      revoking    2026-07-01 12:00 "));
	assert_null(strstr(strbuf_str(&out), "4815162"));
	strbuf_release(&out);
	pv.n = 0;
	report_pins_table(&pv, &out);
	assert_string_equal(strbuf_str(&out), "");
	strbuf_release(&out);
}

static struct tuya_password pw(int64_t id, const char *name, int phase, long long eff,
			       long long inv)
{
	return (struct tuya_password){ id, (char *)name, phase, eff, inv, -1 };
}

static void test_drift(void **state)
{
	struct live_cred v[5];
	struct tuya_password p[6];
	struct pin_drift *d = NULL;
	struct strbuf out = STRBUF_INIT;
	size_t n, alloc = 0;
	char *s;

	(void)state;
	cred(&v[0], "D1", "RV001", 1, "active", "");          /* agrees */
	cred(&v[1], "D1", "RV002", 2, "unconfirmed", "");     /* window differs */
	cred(&v[2], "D1", "RV003", 3, "active", "");          /* gone from the lock */
	cred(&v[3], "D1", "RV004", 0, "creating", "");        /* its password adopted later */
	cred(&v[4], "D1", "RV005", 5, "revoking", "");        /* gone: expected */
	p[0] = pw(1, "RV001-abcd", 2, T0, T1);
	p[1] = pw(2, "RV002-abcd", 1, T0, T1 + 3600);
	p[2] = pw(3, "RV003-abcd", 0, T0, T1);
	p[3] = pw(4, "RV004-abcd", 2, T0, T1);
	p[4] = pw(8, "cleaner", 2, T0 - 86400, T1);           /* made by hand */
	p[5] = pw(9, "old", 4, T0, T1);                       /* deleted: not drift */
	n = pins_drift("D1", p, 6, v, 5, &d, 0, &alloc);
	assert_int_equal(n, 3);
	assert_int_equal(d[0].kind, DRIFT_UNKNOWN);
	assert_int_equal(d[0].password_id, 8);
	assert_int_equal(d[1].kind, DRIFT_WINDOW);
	assert_ptr_equal(d[1].cred, &v[1]);
	assert_int_equal(d[2].kind, DRIFT_MISSING);
	assert_int_equal(d[2].phase, 0);
	/* Another device's credentials are not compared. */
	assert_int_equal(pins_drift("D2", p, 1, v, 5, &d, n, &alloc), n + 1);
	n++;
	report_drift_text(d, n, &out);
	assert_string_equal(strbuf_str(&out),
		"drift: lock D1: password id 8 'cleaner' (phase 2, valid 2026-12-09T18:00:00Z..2026-12-12T14:00:00Z) is not in the database\n"
		"drift: lock D1: password id 2 of RV002: the lock has 2026-12-10T18:00:00Z..2026-12-12T15:00:00Z, the database 2026-12-10T18:00:00Z..2026-12-12T14:00:00Z\n"
		"drift: lock D1: password id 3 of RV003 (active) is not live on the lock (phase 0)\n"
		"drift: lock D2: password id 1 'RV001-abcd' (phase 2, valid 2026-12-10T18:00:00Z..2026-12-12T14:00:00Z) is not in the database\n");
	strbuf_release(&out);
	s = json_of(report_drift_json(d + 2, 1));
	assert_string_equal(s,
		"[{\"deviceId\":\"D1\",\"kind\":\"missing\",\"passwordId\":3,\"name\":\"RV003-abcd\","
		"\"phase\":0,\"lockValidFrom\":null,\"lockValidUntil\":null,\"reservationId\":\"R-RV003\","
		"\"reservationCode\":\"RV003\",\"state\":\"active\",\"validFrom\":\"2026-12-10T18:00:00Z\","
		"\"validUntil\":\"2026-12-12T14:00:00Z\"}]");
	free(s);
	free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_drift),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
