/*
 * test_pinrun.c - pinrun_job() below the command line: one job at a time
 * against the fake Tuya cloud (build/fakeapi, started by the test), with a
 * real database.  The races of SPEC P2 are driven from pinrun's own step
 * callback, so they happen exactly between two steps: the job canceled
 * after the claim, during the create; crash recovery adopting only its own
 * name (P3); no PIN after the stay (P1); delivery not confirmed (P3a); the
 * hook retried until it succeeds (P2); a stale update (P4a).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <cjson/cJSON.h>

#include "db.h"
#include "pinrun.h"
#include "pinstore.h"
#include "testutil.h"

#define DEV "bf0123456789abcdefxyzq"
#define JOB "generate:R1:" DEV
#define VF 1796925600L          /* 2026-12-10T18:00:00Z */
#define VU 1797084000L          /* 2026-12-12T14:00:00Z */
#define GEN 1796918400L         /* 2026-12-10T16:00:00Z */

struct fx {
	char dir[64];
	char url[64];
	pid_t fake;
	sqlite3 *db;
	struct config cfg;
	struct http *http;
	struct tuya_client *tuya;
	struct pinrun pr;
	const char *cancel_at;  /* step at which the job is canceled, or NULL */
};

static long long wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const char *text(sqlite3 *db, const char *q)
{
	static char out[512];
	sqlite3_stmt *st;

	out[0] = '\0';
	assert_int_equal(sqlite3_prepare_v2(db, q, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
		xstrlcpy(out, (const char *)sqlite3_column_text(st, 0), sizeof(out));
	sqlite3_finalize(st);
	return out;
}

/* A control request to the fake; the parsed answer (caller frees). */
static cJSON *ctl(struct fx *f, const char *method, const char *path, const char *body)
{
	struct http_response resp = HTTP_RESPONSE_INIT;
	char url[256], eb[ERRBUF_SIZE];
	cJSON *j;

	snprintf(url, sizeof(url), "%s%s", f->url, path);
	if (http_request(f->http, method, url, NULL, body, body ? strlen(body) : 0, &resp,
			 eb) != ERR_OK || resp.status != 200)
		fail_msg("%s %s: %s (HTTP %ld)", method, path, eb, resp.status);
	j = cJSON_Parse(strbuf_str(&resp.body));
	http_response_release(&resp);
	assert_non_null(j);
	return j;
}

/* The passwords on DEV, from /_fake/tuya/state (caller frees the root). */
static const cJSON *passwords(struct fx *f, cJSON **root)
{
	const cJSON *dev, *devs;

	*root = ctl(f, "GET", "/_fake/tuya/state", NULL);
	devs = cJSON_GetObjectItem(*root, "devices");
	cJSON_ArrayForEach(dev, devs)
		if (strcmp(cJSON_GetObjectItem(dev, "id")->valuestring, DEV) == 0)
			return cJSON_GetObjectItem(dev, "passwords");
	fail_msg("no device " DEV);
	return NULL;
}

static int count_passwords(struct fx *f, const char *phase_filter)
{
	cJSON *root;
	const cJSON *p, *all = passwords(f, &root);
	int n = 0;

	/* (cJSON_ArrayForEach evaluates its array twice: not a call.) */
	cJSON_ArrayForEach(p, all) {
		int ph = cJSON_GetObjectItem(p, "phase")->valueint;

		if (!phase_filter || (strcmp(phase_filter, "live") == 0 && ph != 0 && ph != 4))
			n++;
	}
	cJSON_Delete(root);
	return n;
}

/* pinrun's step callback: cancel the job, as stays-reconcile would. */
static void step(void *ctx, const char *what)
{
	struct fx *f = ctx;

	if (f->cancel_at && strcmp(f->cancel_at, what) == 0)
		test_sql(f->db, "UPDATE pin_jobs SET status = 'canceled' WHERE id = '" JOB "'");
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char path[160], conf[160], buf[1024], eb[ERRBUF_SIZE];
	struct strbuf errs = STRBUF_INIT;

	snprintf(f->dir, sizeof(f->dir), "/tmp/test_pinrun.XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	f->fake = test_fake_start(f->dir, "{\"devices\":[{\"id\":\"" DEV "\",\"pin_length\":7}]}",
				  f->url, sizeof(f->url));
	if (f->fake < 0)
		return -1;

	snprintf(conf, sizeof(conf), "%s/c.conf", f->dir);
	snprintf(buf, sizeof(buf),
		 "[database]\npath = %s/s.db\n[tuya]\nurl = %s\nclient_id = fake4client6id8xyzw12\n"
		 "client_secret = 0f1e2d3c4b5a69788796a5b4c3d2e1f0\n[hooks]\non_pin = %s/on_pin\n",
		 f->dir, f->url, f->dir);
	test_write_file(conf, buf, 0600);
	snprintf(path, sizeof(path), "%s/on_pin", f->dir);
	snprintf(buf, sizeof(buf), "#!/bin/sh\ncat >> %s/hooked\necho >> %s/hooked\n", f->dir,
		 f->dir);
	test_write_file(path, buf, 0700);
	if (config_load(&f->cfg, conf, &errs) != ERR_OK)
		fail_msg("%s", strbuf_str(&errs));
	strbuf_release(&errs);
	if (db_open(f->cfg.db_path, DB_READWRITE, &f->db, eb) != ERR_OK)
		fail_msg("%s", eb);
	f->http = http_new(&(struct http_opts){ .timeout = 10 }, NULL);
	if (tuya_client_new(&f->tuya, f->url, f->cfg.tuya.client_id, f->cfg.tuya.client_secret,
			    f->http, wall_ms(), eb) != ERR_OK)
		fail_msg("%s", eb);
	f->pr.db = f->db;
	f->pr.cfg = &f->cfg;
	f->pr.tuya = f->tuya;
	f->pr.now = GEN;
	f->pr.step = step;
	f->pr.ctx = f;
	tuya_client_set_step(f->tuya, step, f);

	test_sql(f->db, "INSERT INTO reservations (id, code, listing_id, checkin_date, checkout_date, "
		"type, guests, created_at, updated_at) VALUES "
		"('R1', 'RVT', 'L1', '2026-12-10', '2026-12-12', 'booked', 2, 0, 0)");
	test_sql(f->db, "INSERT INTO locks (device_id, listing_id, created_at) VALUES ('" DEV "', 'L1', 0)");
	test_sql(f->db, "INSERT INTO pin_jobs (id, action, reservation_id, device_id, due_at, valid_from, "
		"valid_until, status, created_at, updated_at) VALUES "
		"('" JOB "', 'generate', 'R1', '" DEV "', %ld, %ld, %ld, 'pending', 0, 0)",
		GEN, VF, VU);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];

	tuya_client_free(f->tuya);
	http_free(f->http);
	db_close(f->db);
	config_release(&f->cfg);
	test_fake_stop(f->fake);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	free(f);
	return system(cmd);
}

/* Claim job id at f->pr.now and run it. */
static enum pinrun_result run(struct fx *f, const char *id, char *eb)
{
	struct due_job dj;
	int claimed;

	assert_int_equal(pinstore_claim(f->db, id, f->pr.now, &dj, &claimed, eb), ERR_OK);
	if (!claimed)
		fail_msg("job %s not claimed", id);
	tuya_client_set_now(f->tuya, wall_ms());
	{
		enum pinrun_result r = pinrun_job(&f->pr, &dj, eb);

		if (getenv("TEST_VERBOSE"))
			fprintf(stderr, "# %s: result %d: %s\n", id, r, eb);
		return r;
	}
}

static int hooked(struct fx *f)
{
	char path[128], line[512];
	FILE *fp;
	int n = 0;

	snprintf(path, sizeof(path), "%s/hooked", f->dir);
	if (!(fp = fopen(path, "r")))
		return 0;
	while (fgets(line, sizeof(line), fp))
		n += strstr(line, "\"pin\"") != NULL;
	fclose(fp);
	return n;
}

/* The whole generate: unique name, confirmed, the guest told, job done. */
static void test_generate(void **state)
{
	struct fx *f = *state;
	char eb[ERRBUF_SIZE];
	cJSON *root;
	const cJSON *p;

	assert_int_equal(run(f, JOB, eb), PR_DONE);
	assert_string_equal(text(f->db, "SELECT state FROM credentials"), "active");
	assert_string_equal(text(f->db, "SELECT status FROM pin_jobs"), "done");
	assert_string_equal(text(f->db, "SELECT notified_at IS NOT NULL FROM credentials"), "1");
	assert_int_equal(hooked(f), 1);
	p = cJSON_GetArrayItem(passwords(f, &root), 0);
	assert_non_null(p);
	assert_int_equal(strncmp(cJSON_GetObjectItem(p, "name")->valuestring, "RVT-", 4), 0);
	assert_int_equal(strlen(cJSON_GetObjectItem(p, "name")->valuestring), 8);
	assert_string_equal(cJSON_GetObjectItem(p, "name")->valuestring,
			    text(f->db, "SELECT name FROM credentials"));
	assert_int_equal(cJSON_GetObjectItem(p, "phase")->valueint, 2);
	cJSON_Delete(root);
}

/* P2: canceled after the claim, before the intent: nothing at all. */
static void test_canceled_before_intent(void **state)
{
	struct fx *f = *state;
	char eb[ERRBUF_SIZE];

	f->cancel_at = "pin";
	assert_int_equal(run(f, JOB, eb), PR_SKIPPED);
	assert_string_equal(text(f->db, "SELECT count(*) FROM credentials"), "0");
	assert_int_equal(count_passwords(f, NULL), 0);
	assert_string_equal(text(f->db, "SELECT status FROM pin_jobs"), "canceled");
	assert_int_equal(hooked(f), 0);
}

/* P2: canceled while the create is in flight: deleted at once, no hook. */
static void test_canceled_during_create(void **state)
{
	struct fx *f = *state;
	char eb[ERRBUF_SIZE];

	f->cancel_at = "ticket";
	assert_int_equal(run(f, JOB, eb), PR_SKIPPED);
	assert_int_equal(count_passwords(f, NULL), 1);
	assert_int_equal(count_passwords(f, "live"), 0);
	assert_string_equal(text(f->db, "SELECT state FROM credentials"), "revoked");
	assert_int_equal(hooked(f), 0);
}

/*
 * P3: after a crash between the create and its record, the retry adopts
 * the password with the credential's name - not the operator's password
 * named like the code - and fixes its window.
 */
static void test_adopt_own_name(void **state)
{
	struct fx *f = *state;
	char eb[ERRBUF_SIZE], body[256];
	cJSON *own, *stranger;
	long long own_id;

	test_sql(f->db, "INSERT INTO credentials (reservation_id, device_id, name, pin, valid_from, "
		"valid_until, state, created_at) VALUES ('R1', '" DEV "', 'RVT-ab12', '2468013', "
		"%ld, %ld, 'creating', 0)", VF, VU);
	snprintf(body, sizeof(body), "{\"device\":\"" DEV "\",\"name\":\"RVT\",\"pin\":\"1357902\","
		 "\"effective_time\":%ld,\"invalid_time\":%ld}", VF, VU);
	stranger = ctl(f, "POST", "/_fake/tuya/password", body);
	snprintf(body, sizeof(body), "{\"device\":\"" DEV "\",\"name\":\"RVT-ab12\",\"pin\":\"2468013\","
		 "\"effective_time\":%ld,\"invalid_time\":%ld}", VF, VU - 3600);
	own = ctl(f, "POST", "/_fake/tuya/password", body);
	own_id = (long long)cJSON_GetObjectItem(own, "id")->valuedouble;
	assert_int_equal(run(f, JOB, eb), PR_DONE);
	assert_int_equal(atoll(text(f->db, "SELECT password_id FROM credentials")), own_id);
	assert_int_equal(count_passwords(f, NULL), 2);
	{
		cJSON *root;
		const cJSON *p, *all = passwords(f, &root);

		cJSON_ArrayForEach(p, all) {
			if (strcmp(cJSON_GetObjectItem(p, "name")->valuestring, "RVT") == 0) {
				/* The stranger's password is untouched. */
				assert_string_equal(cJSON_GetObjectItem(p, "pin")->valuestring, "1357902");
				assert_int_equal((long)cJSON_GetObjectItem(p, "invalid_time")->valuedouble, VU);
			} else {
				/* Ours got the job's window. */
				assert_int_equal((long)cJSON_GetObjectItem(p, "invalid_time")->valuedouble, VU);
			}
		}
		cJSON_Delete(root);
	}
	cJSON_Delete(own);
	cJSON_Delete(stranger);
}

/* P1: a generate job whose stay ended creates nothing. */
static void test_stay_ended(void **state)
{
	struct fx *f = *state;
	char eb[ERRBUF_SIZE];

	f->pr.now = VU;
	assert_int_equal(run(f, JOB, eb), PR_SKIPPED);
	assert_int_equal(count_passwords(f, NULL), 0);
	assert_string_equal(text(f->db, "SELECT status || ': ' || last_error FROM pin_jobs"),
			    "canceled: the stay ended at 2026-12-12T14:00:00Z; no PIN");
	assert_int_equal(hooked(f), 0);
}

/* P3a: an offline lock leaves the PIN unconfirmed and the job waiting;
 * the hook runs only once the lock has the PIN. */
static void test_unconfirmed(void **state)
{
	struct fx *f = *state;
	char eb[ERRBUF_SIZE];

	cJSON_Delete(ctl(f, "POST", "/_fake/tuya/device", "{\"id\":\"" DEV "\",\"online\":false}"));
	assert_int_equal(run(f, JOB, eb), PR_RETRY);
	assert_non_null(strstr(eb, "has not confirmed"));
	assert_string_equal(text(f->db, "SELECT state || ' ' || phase FROM credentials"), "unconfirmed 1");
	assert_string_equal(text(f->db, "SELECT status || ' ' || next_attempt_at FROM pin_jobs"),
			    "pending 1796918460");
	assert_int_equal(hooked(f), 0);
	cJSON_Delete(ctl(f, "POST", "/_fake/tuya/device", "{\"id\":\"" DEV "\",\"online\":true}"));
	f->pr.now = GEN + 60;
	assert_int_equal(run(f, JOB, eb), PR_DONE);
	assert_string_equal(text(f->db, "SELECT state FROM credentials"), "active");
	assert_int_equal(count_passwords(f, NULL), 1);
	assert_int_equal(hooked(f), 1);
}

/* P2: a failing hook keeps the PIN and is run again until it succeeds. */
static void test_hook_retried(void **state)
{
	struct fx *f = *state;
	char eb[ERRBUF_SIZE], path[128];

	snprintf(path, sizeof(path), "%s/on_pin", f->dir);
	test_write_file(path, "#!/bin/sh\ncat > /dev/null\nexit 5\n", 0700);
	assert_int_equal(run(f, JOB, eb), PR_RETRY);
	assert_non_null(strstr(eb, "exited 5"));
	assert_string_equal(text(f->db, "SELECT state || ' ' || (notified_at IS NULL) FROM credentials"),
			    "active 1");
	/* Not failed for good however often it fails (max_attempts 10). */
	test_sql(f->db, "UPDATE pin_jobs SET attempts = 50");
	f->pr.now = GEN + 3600;
	assert_int_equal(run(f, JOB, eb), PR_RETRY);
	assert_string_equal(text(f->db, "SELECT status FROM pin_jobs"), "pending");
	test_write_file(path, "#!/bin/sh\ncat > /dev/null\n", 0700);
	f->pr.now = GEN + 7200;
	assert_int_equal(run(f, JOB, eb), PR_DONE);
	assert_string_equal(text(f->db, "SELECT notified_at FROM credentials"), "1796925600");
	assert_int_equal(count_passwords(f, NULL), 1);
}

/* P4: a revoke of an intent finds its password by name and deletes it;
 * P4a: an update whose window the lock has makes no call. */
static void test_revoke_and_stale_update(void **state)
{
	struct fx *f = *state;
	char eb[ERRBUF_SIZE], body[256];
	cJSON *own;

	test_sql(f->db, "INSERT INTO credentials (reservation_id, device_id, name, pin, valid_from, "
		"valid_until, state, created_at) VALUES ('R1', '" DEV "', 'RVT-cd34', '2468013', "
		"%ld, %ld, 'creating', 0)", VF, VU);
	snprintf(body, sizeof(body), "{\"device\":\"" DEV "\",\"name\":\"RVT-cd34\",\"pin\":\"2468013\","
		 "\"effective_time\":%ld,\"invalid_time\":%ld}", VF, VU);
	own = ctl(f, "POST", "/_fake/tuya/password", body);
	cJSON_Delete(own);
	test_sql(f->db, "INSERT INTO pin_jobs (id, action, reservation_id, device_id, due_at, status, "
		"created_at, updated_at) VALUES ('revoke:R1:" DEV "', 'revoke', 'R1', '" DEV "', %ld, "
		"'pending', 0, 0)", GEN);
	assert_int_equal(run(f, "revoke:R1:" DEV, eb), PR_DONE);
	assert_int_equal(count_passwords(f, "live"), 0);
	assert_string_equal(text(f->db, "SELECT state FROM credentials"), "revoked");

	/* A confirmed credential, and an update job with its very window. */
	test_sql(f->db, "INSERT INTO credentials (reservation_id, device_id, password_id, name, pin, "
		"valid_from, valid_until, state, created_at) VALUES ('R1', '" DEV "', 123, "
		"'RVT-ef56', '2468013', %ld, %ld, 'active', 0)", VF, VU);
	test_sql(f->db, "INSERT INTO pin_jobs (id, action, reservation_id, device_id, due_at, valid_from, "
		"valid_until, status, created_at, updated_at) VALUES ('update:R1:" DEV "', 'update', "
		"'R1', '" DEV "', %ld, %ld, %ld, 'pending', 0, 0)", GEN, VF, VU);
	cJSON_Delete(ctl(f, "POST", "/_fake/reset", NULL));
	assert_int_equal(run(f, "update:R1:" DEV, eb), PR_DONE);
	{
		struct http_response resp = HTTP_RESPONSE_INIT;
		char url[128];

		snprintf(url, sizeof(url), "%s/_fake/log", f->url);
		assert_int_equal(http_request(f->http, "GET", url, NULL, NULL, 0, &resp, eb), ERR_OK);
		assert_null(strstr(strbuf_str(&resp.body), "modify-password"));
		assert_null(strstr(strbuf_str(&resp.body), "temp-password/123"));
		http_response_release(&resp);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_generate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_canceled_before_intent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_canceled_during_create, setup, teardown),
		cmocka_unit_test_setup_teardown(test_adopt_own_name, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stay_ended, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unconfirmed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hook_retried, setup, teardown),
		cmocka_unit_test_setup_teardown(test_revoke_and_stale_update, setup, teardown),
	};

	/* libcurl is loaded and initialised by the first http_new(). */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
