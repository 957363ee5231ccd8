/*
 * test_pinbatch.c - pinrun_batch(), a whole pin-runner batch below the
 * command line: a real database in a temporary folder and the fake Tuya
 * cloud (build/fakeapi, started by the test, as test_pinrun.c does).
 * Nothing due touches no network and writes nothing (P7); due jobs run in
 * order and are counted; a lock refused by Tuya (1106) is held for the
 * rest of the batch; --max; a dry run changes nothing; a refused token
 * ends the batch with ERR_PERM and leaves the jobs due.
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
#include "http.h"
#include "pinbatch.h"
#include "testutil.h"

#define DEV "bf0123456789abcdefxyzq"
#define DEV2 "eb9876543210fedcbazyxw"
#define VF 1796925600L          /* 2026-12-10T18:00:00Z */
#define VU 1797084000L          /* 2026-12-12T14:00:00Z */
#define GEN 1796918400L         /* 2026-12-10T16:00:00Z */

struct fx {
	char dir[64];
	char url[64];
	pid_t fake;
	sqlite3 *db;
	struct config cfg;
	struct http *http;      /* for the fake's control endpoints */
	char notes[4096];       /* the note lines, each ending in \n */
	char warns[4096];
	char woulds[1024];
};

/* A request to the fake; the body of its answer in buf. */
static void ctl(struct fx *f, const char *method, const char *path, const char *body,
		char *buf, size_t size)
{
	struct http_response resp = HTTP_RESPONSE_INIT;
	char url[256], eb[ERRBUF_SIZE];

	snprintf(url, sizeof(url), "%s%s", f->url, path);
	if (http_request(f->http, method, url, NULL, body, body ? strlen(body) : 0, &resp,
			 eb) != ERR_OK || resp.status != 200)
		fail_msg("%s %s: %s (HTTP %ld)", method, path, eb, resp.status);
	if (buf)
		xstrlcpy(buf, strbuf_str(&resp.body), size);
	http_response_release(&resp);
}

/* The number of requests the fake logged that contain what. */
static int requests(struct fx *f, const char *what)
{
	static char log[65536];
	int n = 0;

	ctl(f, "GET", "/_fake/log", NULL, log, sizeof(log));
	for (const char *p = log; (p = strstr(p, what)); p++)
		n++;
	return n;
}

/* Live passwords (phase 1 or 2) on device dev, by the fake's state. */
static int live(struct fx *f, const char *dev)
{
	static char state[65536];
	cJSON *root, *d, *p;
	int n = 0;

	ctl(f, "GET", "/_fake/tuya/state", NULL, state, sizeof(state));
	root = cJSON_Parse(state);
	assert_non_null(root);
	cJSON_ArrayForEach(d, cJSON_GetObjectItem(root, "devices")) {
		if (strcmp(cJSON_GetObjectItem(d, "id")->valuestring, dev) != 0)
			continue;
		cJSON_ArrayForEach(p, cJSON_GetObjectItem(d, "passwords")) {
			int ph = cJSON_GetObjectItem(p, "phase")->valueint;

			n += ph == 1 || ph == 2;
		}
	}
	cJSON_Delete(root);
	return n;
}

static void append(char *buf, size_t size, const char *msg)
{
	size_t len = strlen(buf);

	snprintf(buf + len, size - len, "%s\n", msg);
}

static void note(void *ctx, const char *msg)
{
	struct fx *f = ctx;

	append(f->notes, sizeof(f->notes), msg);
}

static void warn(void *ctx, const char *msg)
{
	struct fx *f = ctx;

	append(f->warns, sizeof(f->warns), msg);
}

static void would(void *ctx, const struct due_job *dj)
{
	struct fx *f = ctx;

	append(f->woulds, sizeof(f->woulds), dj->j.id);
}

static long long wall_ms(void *ctx)
{
	struct timespec ts;

	(void)ctx;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void add_job(struct fx *f, const char *action, const char *resv, const char *dev,
		    long due)
{
	test_sql(f->db, "INSERT INTO pin_jobs (id, action, reservation_id, device_id, due_at, "
		"valid_from, valid_until, status, created_at, updated_at) VALUES "
		"('%s:%s:%s', '%s', '%s', '%s', %ld, %ld, %ld, 'pending', 0, 0)",
		action, resv, dev, action, resv, dev, due, VF, VU);
}

/* Due oldest first: R1 on DEV, R3 on DEV2, R2 on DEV. */
static void three_jobs(struct fx *f)
{
	add_job(f, "generate", "R1", DEV, GEN - 120);
	add_job(f, "generate", "R3", DEV2, GEN - 60);
	add_job(f, "generate", "R2", DEV, GEN);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char conf[160], buf[1024], eb[ERRBUF_SIZE];
	struct strbuf errs = STRBUF_INIT;

	snprintf(f->dir, sizeof(f->dir), "/tmp/test_pinbatch.XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	f->fake = test_fake_start(f->dir, "{\"devices\":[{\"id\":\"" DEV "\",\"pin_length\":7},"
				  "{\"id\":\"" DEV2 "\",\"pin_length\":7}]}", f->url,
				  sizeof(f->url));
	if (f->fake < 0)
		return -1;
	snprintf(conf, sizeof(conf), "%s/c.conf", f->dir);
	snprintf(buf, sizeof(buf),
		 "[database]\npath = %s/s.db\n[tuya]\nurl = %s\nclient_id = fake4client6id8xyzw12\n"
		 "client_secret = 0f1e2d3c4b5a69788796a5b4c3d2e1f0\n", f->dir, f->url);
	test_write_file(conf, buf, 0600);
	if (config_load(&f->cfg, conf, &errs) != ERR_OK)
		fail_msg("%s", strbuf_str(&errs));
	strbuf_release(&errs);
	if (db_open(f->cfg.db_path, DB_READWRITE, &f->db, eb) != ERR_OK)
		fail_msg("%s", eb);
	f->http = http_new(&(struct http_opts){ .timeout = 10 }, NULL);
	test_sql(f->db, "INSERT INTO reservations (id, code, listing_id, checkin_date, checkout_date, "
		"type, guests, created_at, updated_at) VALUES "
		"('R1', 'RVA', 'L1', '2026-12-10', '2026-12-12', 'booked', 2, 0, 0), "
		"('R2', 'RVB', 'L1', '2026-12-10', '2026-12-12', 'booked', 2, 0, 0), "
		"('R3', 'RVC', 'L2', '2026-12-10', '2026-12-12', 'booked', 2, 0, 0)");
	test_sql(f->db, "INSERT INTO locks (device_id, listing_id, created_at) VALUES "
		"('" DEV "', 'L1', 0), ('" DEV2 "', 'L2', 0)");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];

	http_free(f->http);
	db_close(f->db);
	config_release(&f->cfg);
	test_fake_stop(f->fake);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	free(f);
	return system(cmd);
}

/* Run one batch at now with at most max jobs. */
static enum err batch(struct fx *f, time_t now, long max, int dry_run,
		      struct pinbatch_result *res, char *eb)
{
	const struct pinbatch_opts o = { .now = now, .max = max, .dry_run = dry_run,
					 .cfg = &f->cfg };
	const struct pinbatch_io io = { .note = note, .warn = warn, .would = would,
					.wall_ms = wall_ms, .ctx = f };

	return pinrun_batch(f->db, &o, &io, res, eb);
}

/* P7: nothing due - no request, no row written (an idle log row less
 * than PIN_LOG_REFRESH old is left as it is). */
static void test_idle(void **state)
{
	struct fx *f = *state;
	struct pinbatch_result res;
	char eb[ERRBUF_SIZE];

	add_job(f, "generate", "R1", DEV, GEN + 3600);  /* not due yet */
	assert_int_equal(batch(f, GEN, 100, 0, &res, eb), ERR_OK);
	assert_int_equal(res.due, 0);
	assert_string_equal(test_rows(f->db, "SELECT status, due, done, message FROM pin_runner_log"),
			    "success|0|0|NULL\n");
	{
		int before = sqlite3_total_changes(f->db);

		assert_int_equal(batch(f, GEN + 60, 100, 0, &res, eb), ERR_OK);
		assert_int_equal(sqlite3_total_changes(f->db), before);
	}
	assert_int_equal(requests(f, "/v1.0/"), 0);
	assert_string_equal(test_rows(f->db, "SELECT status, attempts FROM pin_jobs"), "pending|0\n");
	assert_string_equal(test_rows(f->db, "SELECT started_at FROM pin_runner_log"), "1796918400\n");
	assert_string_equal(eb, "");
	assert_string_equal(f->notes, "");
	assert_string_equal(f->warns, "");
}

/* Two due jobs on one lock: run oldest first, counted, one token. */
static void test_two_jobs_in_order(void **state)
{
	struct fx *f = *state;
	struct pinbatch_result res;
	char eb[ERRBUF_SIZE];

	add_job(f, "generate", "R2", DEV, GEN);
	add_job(f, "generate", "R1", DEV, GEN - 60);
	assert_int_equal(batch(f, GEN, 100, 0, &res, eb), ERR_OK);
	assert_int_equal(res.due, 2);
	assert_int_equal(res.done, 2);
	assert_int_equal(res.retried + res.failed + res.skipped, 0);
	assert_int_equal(res.token_requests, 1);
	assert_string_equal(test_rows(f->db, "SELECT reservation_id, state FROM credentials ORDER BY id"),
			    "R1|active\nR2|active\n");
	assert_string_equal(test_rows(f->db, "SELECT status FROM pin_jobs ORDER BY id"), "done\ndone\n");
	assert_string_equal(test_rows(f->db, "SELECT status, due, done, retried, failed, message "
				 "FROM pin_runner_log"), "success|2|2|0|0|NULL\n");
	assert_string_equal(test_rows(f->db, "SELECT count(*) FROM tuya_token"), "1\n");
	assert_int_equal(live(f, DEV), 2);
	assert_non_null(strstr(f->notes, "pin-runner: 2 due, 2 done, 0 to retry, 0 failed, "
			       "0 skipped (1 token request)\n"));
	assert_true(strstr(f->notes, "generate RVA") < strstr(f->notes, "generate RVB"));
	assert_string_equal(f->warns, "");
}

/* A lock Tuya refuses (1106): its first job is left pending, its later
 * jobs are not even claimed, other locks go on; the outcome is ERR_PERM. */
static void test_lock_held(void **state)
{
	struct fx *f = *state;
	struct pinbatch_result res;
	char eb[ERRBUF_SIZE];

	ctl(f, "POST", "/_fake/tuya/device", "{\"id\":\"" DEV "\",\"linked\":false}", NULL, 0);
	three_jobs(f);
	assert_int_equal(batch(f, GEN, 100, 0, &res, eb), ERR_PERM);
	assert_int_equal(res.due, 3);
	assert_int_equal(res.done, 1);
	assert_int_equal(res.skipped, 2);
	assert_string_equal(test_rows(f->db, "SELECT id, status, attempts, next_attempt_at FROM pin_jobs "
				 "ORDER BY due_at"),
			    "generate:R1:" DEV "|pending|0|NULL\ngenerate:R3:" DEV2 "|done|1|NULL\n"
			    "generate:R2:" DEV "|pending|0|NULL\n");
	assert_non_null(strstr(eb, "Tuya denies access to lock " DEV));
	assert_string_equal(test_rows(f->db, "SELECT status FROM pin_runner_log"), "failed\n");
	assert_int_equal(live(f, DEV2), 1);
	/* The second job on the refused lock never reached the cloud. */
	assert_string_equal(test_rows(f->db, "SELECT count(*) FROM credentials WHERE reservation_id = 'R2'"),
			    "0\n");
	assert_int_equal(strstr(f->warns, "job generate:R1:") == f->warns, 1);
	/* Both jobs on the refused lock say why they wait (jobs, status). */
	assert_string_equal(test_rows(f->db, "SELECT CASE WHEN last_error LIKE 'Tuya denies access to lock "
				 DEV " (is it linked to the cloud project?): %' THEN 'denied' "
				 "WHEN last_error = 'held back: Tuya denied access to lock " DEV
				 " earlier in this run' THEN 'held' ELSE last_error END "
				 "FROM pin_jobs WHERE device_id = '" DEV "' ORDER BY due_at"),
			    "denied\nheld\n");
}

/* --max: at most max jobs, the oldest; the others stay due. */
static void test_max(void **state)
{
	struct fx *f = *state;
	struct pinbatch_result res;
	char eb[ERRBUF_SIZE];

	three_jobs(f);
	assert_int_equal(batch(f, GEN, 2, 0, &res, eb), ERR_OK);
	assert_int_equal(res.due, 2);
	assert_int_equal(res.done, 2);
	assert_string_equal(test_rows(f->db, "SELECT reservation_id, status FROM pin_jobs ORDER BY due_at"),
			    "R1|done\nR3|done\nR2|pending\n");
	assert_int_equal(live(f, DEV), 1);
}

/* A dry run lists the due jobs and changes nothing, here or on the lock. */
static void test_dry_run(void **state)
{
	struct fx *f = *state;
	struct pinbatch_result res;
	char eb[ERRBUF_SIZE];
	int before;

	add_job(f, "generate", "R1", DEV, GEN - 60);
	add_job(f, "generate", "R2", DEV, GEN + 60);     /* not due */
	test_sql(f->db, "UPDATE pin_jobs SET status = 'running' WHERE id = 'generate:R2:" DEV "'");
	before = sqlite3_total_changes(f->db);
	assert_int_equal(batch(f, GEN, 100, 1, &res, eb), ERR_OK);
	assert_int_equal(sqlite3_total_changes(f->db), before);
	assert_int_equal(res.due, 1);
	assert_string_equal(f->woulds, "generate:R1:" DEV "\n");
	assert_string_equal(test_rows(f->db, "SELECT status FROM pin_jobs ORDER BY due_at"),
			    "pending\nrunning\n");
	assert_string_equal(test_rows(f->db, "SELECT count(*) FROM pin_runner_log"), "0\n");
	assert_string_equal(test_rows(f->db, "SELECT count(*) FROM credentials"), "0\n");
	assert_int_equal(requests(f, "/v1.0/"), 0);
}

/* The token request refused (1004): the batch ends with ERR_PERM at the
 * first job; every job is still due, no attempt counted. */
static void test_token_refused(void **state)
{
	struct fx *f = *state;
	struct pinbatch_result res;
	char eb[ERRBUF_SIZE];

	ctl(f, "POST", "/_fake/fault", "{\"service\":\"tuya\",\"match\":\"/v1.0/token\","
	    "\"code\":1004,\"times\":-1}", NULL, 0);
	add_job(f, "generate", "R1", DEV, GEN - 60);
	add_job(f, "generate", "R3", DEV2, GEN);
	assert_int_equal(batch(f, GEN, 100, 0, &res, eb), ERR_PERM);
	assert_int_equal(res.due, 2);
	assert_int_equal(res.done + res.retried + res.failed, 0);
	assert_int_equal(res.skipped, 1);
	assert_int_equal(requests(f, "/v1.0/token"), 1);
	assert_int_equal(requests(f, "password-ticket"), 0);
	assert_string_equal(test_rows(f->db, "SELECT status, attempts, next_attempt_at FROM pin_jobs"),
			    "pending|0|NULL\npending|0|NULL\n");
	/* The job that met the refusal says why it waits. */
	assert_string_equal(test_rows(f->db, "SELECT substr(last_error, 1, 29) FROM pin_jobs "
				 "WHERE reservation_id = 'R1'"), "Tuya refused the credentials:\n");
	assert_string_equal(test_rows(f->db, "SELECT count(*) FROM tuya_token"), "0\n");
	assert_string_equal(test_rows(f->db, "SELECT status FROM pin_runner_log"), "failed\n");
	assert_non_null(strstr(f->warns, "Tuya refused the credentials (job generate:R1:" DEV
			       " left pending): "));
	assert_non_null(strstr(f->notes, "pin-runner: 2 due, 0 done, 0 to retry, 0 failed, "
			       "1 skipped (1 token request)\n"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_idle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_two_jobs_in_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lock_held, setup, teardown),
		cmocka_unit_test_setup_teardown(test_max, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dry_run, setup, teardown),
		cmocka_unit_test_setup_teardown(test_token_refused, setup, teardown),
	};

	/* libcurl is loaded and initialised by the first http_new(). */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
