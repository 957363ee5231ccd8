/*
 * test_metrics.c - the metrics file: rendering (table-driven, every case
 * also checked by `promtool check metrics`), label escaping, reading the
 * figures from a database in every state a run leaves, and the atomic
 * write.
 *
 * promtool (Debian package prometheus) is required: without it the test
 * fails, it does not skip - CI installs it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include <sqlite3.h>

#include "db.h"
#include "metrics.h"
#include "testutil.h"

#define P "stays_reconcile_"

/* Feed text to `promtool check metrics`; fail with its output if it
 * finds anything (promtool also lints: it prints what it dislikes). */
static void promtool_check(const char *text)
{
	char dir[] = "/tmp/test_metrics_prom.XXXXXX", file[64], out[64], cmd[256];
	struct strbuf said = STRBUF_INIT;
	char buf[512];
	FILE *f;
	int rc;

	assert_non_null(mkdtemp(dir));
	snprintf(file, sizeof(file), "%s/m.prom", dir);
	snprintf(out, sizeof(out), "%s/out", dir);
	test_write_file(file, text, 0644);
	if (system("command -v promtool > /dev/null 2>&1") != 0)
		fail_msg("promtool not found: install Debian's prometheus package (apt-get install prometheus)");
	snprintf(cmd, sizeof(cmd), "promtool check metrics < '%s' > '%s' 2>&1", file, out);
	rc = system(cmd);
	if ((f = fopen(out, "r"))) {
		size_t n;

		while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
			strbuf_add(&said, buf, n);
		fclose(f);
	}
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	if (rc != 0 || said.len)
		fail_msg("promtool check metrics (status %d): %s\n--- the text:\n%s", rc,
			 strbuf_str(&said), text);
	strbuf_release(&said);
}

/* The input of most cases: both programs ran, some of everything. */
static struct metrics busy(void)
{
	struct metrics m;

	memset(&m, 0, sizeof(m));
	m.run[METRICS_RECONCILE] = (struct metrics_run){ 1, 1796126400, 1796126402, 2113, 1,
							 1796126402 };
	m.run[METRICS_PIN_RUNNER] = (struct metrics_run){ 1, 1796126460, 1796126460, 5, 0,
							  1796126400 };
	m.stats = (struct plan_stats){ 45, 3, 12, 30, 1, 0, 2, 4 };
	m.jobs[0][0] = 7;       /* generate pending */
	m.jobs[2][3] = 1;       /* revoke failed */
	m.creds[2] = 9;         /* active */
	m.creds[4] = 120;       /* revoked */
	m.unconfirmed = 2;
	m.unrevoked = 1;
	m.overdue = 3;
	m.unmapped = 5;
	m.requests[METRICS_STAYS] = 1234567890123LL;
	m.request_errors[METRICS_STAYS] = 17;
	m.requests[METRICS_TUYA] = 88;
	return m;
}

static struct metrics never(void)
{
	struct metrics m;

	memset(&m, 0, sizeof(m));
	return m;
}

/* Only stays-reconcile ran, and failed (a run before schema 5 for
 * pin-runner would look like this too: no duration). */
static struct metrics failed_first(void)
{
	struct metrics m = never();

	m.run[METRICS_RECONCILE] = (struct metrics_run){ 1, 1796126400, 1796126400, 0, 0, 0 };
	m.run[METRICS_PIN_RUNNER] = (struct metrics_run){ 1, 1796126460, 1796126460, -1, 1,
							  1796126460 };
	return m;
}

static const struct {
	const char *name;
	struct metrics (*input)(void);
	const char *want[12];   /* whole lines that must be there */
	const char *absent[6];  /* substrings that must not */
} cases[] = {
	{ "busy", busy, {
		P "last_run_start_timestamp_seconds{program=\"stays-reconcile\"} 1796126400",
		P "last_run_end_timestamp_seconds{program=\"pin-runner\"} 1796126460",
		P "last_run_duration_seconds{program=\"stays-reconcile\"} 2.113",
		P "last_run_duration_seconds{program=\"pin-runner\"} 0.005",
		P "last_run_success{program=\"stays-reconcile\"} 1",
		P "last_run_success{program=\"pin-runner\"} 0",
		P "last_success_timestamp_seconds{program=\"pin-runner\"} 1796126400",
		P "last_reconciliation_items{kind=\"orphaned\"} 2",
		P "pin_jobs{action=\"revoke\",status=\"failed\"} 1",
		P "credentials{state=\"revoked\"} 120",
		P "requests_total{service=\"stays\"} 1234567890123",
		P "request_errors_total{service=\"tuya\"} 0",
	  }, { NULL } },
	{ "busy, the health lists", busy, {
		P "pins_unconfirmed 2", P "pins_unrevoked 1", P "pin_jobs_overdue 3",
		P "bookings_unmapped 5", P "last_reconciliation_items{kind=\"errors\"} 4",
		P "pin_jobs{action=\"generate\",status=\"pending\"} 7",
		P "pin_jobs{action=\"update\",status=\"running\"} 0",
		"# TYPE " P "requests_total counter",
		"# TYPE " P "pin_jobs gauge",
	  }, { NULL } },
	{ "never ran: no run samples, last success 0, every count 0", never, {
		P "last_success_timestamp_seconds{program=\"stays-reconcile\"} 0",
		P "last_success_timestamp_seconds{program=\"pin-runner\"} 0",
		P "pin_jobs{action=\"generate\",status=\"pending\"} 0",
		P "credentials{state=\"active\"} 0",
		P "pins_unconfirmed 0",
		P "requests_total{service=\"tuya\"} 0",
	  }, { P "last_run_start", P "last_run_end", P "last_run_duration", P "last_run_success",
	       P "last_reconciliation_items", NULL } },
	{ "failed first run; a run with no recorded duration", failed_first, {
		P "last_run_success{program=\"stays-reconcile\"} 0",
		P "last_success_timestamp_seconds{program=\"stays-reconcile\"} 0",
		P "last_run_duration_seconds{program=\"stays-reconcile\"} 0.000",
		P "last_reconciliation_items{kind=\"fetched\"} 0",
		P "last_run_success{program=\"pin-runner\"} 1",
	  }, { P "last_run_duration_seconds{program=\"pin-runner\"}", NULL } },
};

/* 1 if text has line as a whole line. */
static int has_line(const char *text, const char *line)
{
	size_t n = strlen(line);

	for (const char *p = text; (p = strstr(p, line)); p++)
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return 1;
	return 0;
}

/*
 * The conventions, checked on any output: every sample's family had its
 * # HELP and # TYPE first; a counter's name ends in _total and only a
 * counter's does; every name has the prefix.
 */
static void check_conventions(const char *text)
{
	char help[128] = "", type[128] = "", kind[16] = "";
	const char *line = text;

	while (*line) {
		const char *nl = strchr(line, '\n');
		char name[128];
		size_t len;

		assert_non_null(nl);
		len = (size_t)(nl - line);
		if (strncmp(line, "# HELP ", 7) == 0) {
			assert_int_equal(sscanf(line + 7, "%127s", help), 1);
		} else if (strncmp(line, "# TYPE ", 7) == 0) {
			assert_int_equal(sscanf(line + 7, "%127s %15s", type, kind), 2);
			assert_string_equal(type, help);
			len = strlen(type);
			assert_true(strncmp(type, P, strlen(P)) == 0);
			if (strcmp(kind, "counter") == 0)
				assert_string_equal(type + len - 6, "_total");
			else
				assert_false(len > 6 && strcmp(type + len - 6, "_total") == 0);
		} else {
			assert_int_equal(sscanf(line, "%127[a-z_]", name), 1);
			if (strcmp(name, type) != 0)
				fail_msg("sample before its # TYPE: %.*s", (int)len, line);
		}
		line = nl + 1;
	}
}

static void test_render(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		struct metrics m = cases[i].input();
		struct strbuf out = STRBUF_INIT;
		const char *text;

		metrics_render(&m, &out);
		text = strbuf_str(&out);
		for (size_t j = 0; j < sizeof(cases[i].want) / sizeof(*cases[i].want) &&
		     cases[i].want[j]; j++)
			if (!has_line(text, cases[i].want[j]))
				fail_msg("%s: no line '%s' in:\n%s", cases[i].name, cases[i].want[j],
					 text);
		for (size_t j = 0; cases[i].absent[j]; j++)
			if (strstr(text, cases[i].absent[j]))
				fail_msg("%s: '%s' should not be in:\n%s", cases[i].name,
					 cases[i].absent[j], text);
		check_conventions(text);
		promtool_check(text);
		strbuf_release(&out);
	}
}

/* The same data renders the same text. */
static void test_render_stable(void **state)
{
	struct metrics m = busy();
	struct strbuf a = STRBUF_INIT, b = STRBUF_INIT;

	(void)state;
	metrics_render(&m, &a);
	metrics_render(&m, &b);
	assert_string_equal(strbuf_str(&a), strbuf_str(&b));
	strbuf_release(&a);
	strbuf_release(&b);
}

static void test_escape(void **state)
{
	static const struct {
		const char *in, *out;
	} esc[] = {
		{ "stays-reconcile", "\"stays-reconcile\"" },
		{ "", "\"\"" },
		{ "a\"b", "\"a\\\"b\"" },
		{ "a\\b", "\"a\\\\b\"" },
		{ "a\nb", "\"a\\nb\"" },
		{ "\\\"\n", "\"\\\\\\\"\\n\"" },
		{ "São Paulo", "\"São Paulo\"" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(esc) / sizeof(*esc); i++) {
		struct strbuf out = STRBUF_INIT;

		metrics_escape_label(esc[i].in, &out);
		assert_string_equal(strbuf_str(&out), esc[i].out);
		strbuf_release(&out);
	}
}

/* ---- metrics_collect() and the counters, on a real database ----------- */

struct fx {
	char dir[64], path[128];
	struct config cfg;
	sqlite3 *db;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char eb[ERRBUF_SIZE];

	if (!f || test_tmp_setup("test_metrics", f->dir, f->path, &f->cfg) != 0)
		return -1;
	if (db_open(f->path, DB_READWRITE, &f->db, eb) != ERR_OK)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];

	db_close(f->db);
	config_release(&f->cfg);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	free(f);
	return system(cmd);
}

static void test_collect_empty(void **state)
{
	struct fx *f = *state;
	struct metrics m;
	char eb[ERRBUF_SIZE];

	assert_int_equal(metrics_collect(f->db, &f->cfg, 1796126400, &m, eb), ERR_OK);
	assert_false(m.run[METRICS_RECONCILE].found);
	assert_false(m.run[METRICS_PIN_RUNNER].found);
	assert_int_equal(m.jobs[0][0], 0);
	assert_int_equal(m.requests[METRICS_STAYS], 0);
	/* Not left in a transaction. */
	assert_true(sqlite3_get_autocommit(f->db));
}

static void test_collect(void **state)
{
	struct fx *f = *state;
	struct metrics m;
	char eb[ERRBUF_SIZE];
	const time_t now = 1796126400;

	test_sql(f->db, "INSERT INTO reconciliation_logs (id, started_at, completed_at, "
		 "duration_ms, status, fetched, created, updated, unchanged, canceled, removed, "
		 "orphaned, errors, created_at) VALUES "
		 "('a', 100, 102, 2000, 'success', 9, 9, 0, 0, 0, 0, 0, 0, 100), "
		 "('b', 200, 201, 1500, 'failed', 0, 0, 0, 0, 0, 0, 0, 0, 200), "
		 "('c', 300, 303, 3250, 'success', 10, 1, 2, 7, 1, 0, 1, 0, 300)");
	test_sql(f->db, "INSERT INTO pin_runner_log (id, started_at, completed_at, status, due, "
		 "duration_ms, last_success_at) VALUES (1, 400, 400, 'failed', 2, 40, 340)");
	test_sql(f->db, "INSERT INTO pin_jobs (id, action, reservation_id, device_id, due_at, "
		 "status, created_at, updated_at) VALUES "
		 "('g1', 'generate', 'R1', 'D1', %lld, 'pending', 1, 1), "
		 "('g2', 'generate', 'R2', 'D1', %lld, 'pending', 1, 1), "
		 "('r1', 'revoke', 'R1', 'D1', %lld, 'done', 1, 1), "
		 "('u1', 'update', 'R3', 'D1', %lld, 'failed', 1, 1)",
		 (long long)now + 86400, (long long)now + 86400, (long long)now - 86400,
		 (long long)now + 86400);
	test_sql(f->db, "INSERT INTO credentials (reservation_id, device_id, password_id, name, "
		 "pin, valid_from, valid_until, state, created_at) VALUES "
		 "('R1', 'D1', 1, 'RV1-a', '1357924', 1, 2, 'revoked', 1), "
		 "('R3', 'D1', 2, 'RV3-a', '2468013', %lld, %lld, 'active', 1), "
		 "('R4', 'D1', NULL, 'RV4-a', '3692581', %lld, %lld, 'creating', 1)",
		 (long long)now - 3600, (long long)now + 86400, (long long)now + 3600,
		 (long long)now + 2 * 86400);
	assert_int_equal(metrics_count_requests(f->db, METRICS_STAYS, 12, 3, now, eb), ERR_OK);
	assert_int_equal(metrics_count_requests(f->db, METRICS_STAYS, 5, 0, now, eb), ERR_OK);
	assert_int_equal(metrics_count_requests(f->db, METRICS_TUYA, 0, 0, now, eb), ERR_OK);

	assert_int_equal(metrics_collect(f->db, &f->cfg, now, &m, eb), ERR_OK);
	assert_true(m.run[METRICS_RECONCILE].found);
	assert_int_equal(m.run[METRICS_RECONCILE].started_at, 300);
	assert_int_equal(m.run[METRICS_RECONCILE].completed_at, 303);
	assert_int_equal(m.run[METRICS_RECONCILE].duration_ms, 3250);
	assert_true(m.run[METRICS_RECONCILE].success);
	assert_int_equal(m.run[METRICS_RECONCILE].last_success, 303);
	assert_int_equal(m.stats.fetched, 10);
	assert_int_equal(m.stats.unchanged, 7);
	assert_int_equal(m.stats.orphaned, 1);
	assert_true(m.run[METRICS_PIN_RUNNER].found);
	assert_false(m.run[METRICS_PIN_RUNNER].success);
	assert_int_equal(m.run[METRICS_PIN_RUNNER].duration_ms, 40);
	assert_int_equal(m.run[METRICS_PIN_RUNNER].last_success, 340);
	assert_int_equal(m.jobs[0][0], 2);      /* generate pending */
	assert_int_equal(m.jobs[2][2], 1);      /* revoke done */
	assert_int_equal(m.jobs[1][3], 1);      /* update failed */
	assert_int_equal(m.creds[4], 1);        /* revoked */
	assert_int_equal(m.creds[2], 1);        /* active */
	assert_int_equal(m.unconfirmed, 1);     /* R4: creating, window within 24 h */
	assert_int_equal(m.requests[METRICS_STAYS], 17);
	assert_int_equal(m.request_errors[METRICS_STAYS], 3);
	assert_int_equal(m.requests[METRICS_TUYA], 0);
	assert_string_equal(test_rows(f->db, "SELECT count(*) FROM service_requests"), "1\n");

	/* A pending row (a run in progress, or a killed one) is not the last
	 * run: the last completed one is. */
	test_sql(f->db, "INSERT INTO reconciliation_logs (id, started_at, status, created_at) "
		 "VALUES ('d', 500, 'pending', 500)");
	assert_int_equal(metrics_collect(f->db, &f->cfg, now, &m, eb), ERR_OK);
	assert_int_equal(m.run[METRICS_RECONCILE].started_at, 300);
	assert_true(m.run[METRICS_RECONCILE].success);
	assert_int_equal(m.stats.fetched, 10);
	/* Once the next run marks it failed, it is the last run. */
	test_sql(f->db, "UPDATE reconciliation_logs SET status = 'failed', completed_at = 500, "
		 "duration_ms = 0, message = 'interrupted' WHERE id = 'd'");
	assert_int_equal(metrics_collect(f->db, &f->cfg, now, &m, eb), ERR_OK);
	assert_int_equal(m.run[METRICS_RECONCILE].started_at, 500);
	assert_false(m.run[METRICS_RECONCILE].success);
	assert_int_equal(m.run[METRICS_RECONCILE].last_success, 303);
	assert_int_equal(m.stats.fetched, 0);
}

/* ---- metrics_write_file() --------------------------------------------- */

/* The names in dir, sorted, one per line. */
static const char *listing(const char *dir)
{
	static char out[512];
	char cmd[160];
	FILE *p;
	size_t n;

	snprintf(cmd, sizeof(cmd), "ls -A '%s' | sort", dir);
	p = popen(cmd, "r");
	assert_non_null(p);
	n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = '\0';
	pclose(p);
	return out;
}

static void test_write_file_atomic(void **state)
{
	struct fx *f = *state;
	char path[256], dir[160], eb[ERRBUF_SIZE];
	struct stat a, b;
	FILE *fp;
	char buf[64];
	size_t n;

	snprintf(dir, sizeof(dir), "%s/prom", f->dir);
	assert_int_equal(mkdir(dir, 0755), 0);
	snprintf(path, sizeof(path), "%s/stays.prom", dir);
	assert_int_equal(metrics_write_file(path, "one 1\n", 6, eb), ERR_OK);
	assert_int_equal(stat(path, &a), 0);
	assert_int_equal(a.st_mode & 07777, 0644);
	assert_int_equal(metrics_write_file(path, "two 2\n", 6, eb), ERR_OK);
	assert_int_equal(stat(path, &b), 0);
	assert_int_equal(b.st_mode & 07777, 0644);
	/* Replaced, not rewritten in place: a reader holding the old file
	 * keeps reading a whole file. */
	assert_true(a.st_ino != b.st_ino);
	fp = fopen(path, "r");
	assert_non_null(fp);
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	buf[n] = '\0';
	fclose(fp);
	assert_string_equal(buf, "two 2\n");
	assert_string_equal(listing(dir), "stays.prom\n");      /* no temporary left */
}

static void test_write_file_fails(void **state)
{
	struct fx *f = *state;
	char path[256], dir[160], eb[ERRBUF_SIZE];

	/* The folder does not exist. */
	snprintf(path, sizeof(path), "%s/nope/stays.prom", f->dir);
	assert_int_equal(metrics_write_file(path, "x 1\n", 4, eb), ERR_IO);
	assert_non_null(strstr(eb, "cannot write metrics file '"));
	assert_non_null(strstr(eb, "No such file or directory"));
	/* The path is a folder: the rename fails, the temporary goes. */
	snprintf(dir, sizeof(dir), "%s/prom2", f->dir);
	assert_int_equal(mkdir(dir, 0755), 0);
	snprintf(path, sizeof(path), "%s/stays.prom", dir);
	assert_int_equal(mkdir(path, 0755), 0);
	assert_int_equal(metrics_write_file(path, "x 1\n", 4, eb), ERR_IO);
	assert_non_null(strstr(eb, ": rename: "));
	assert_string_equal(listing(dir), "stays.prom\n");
}

/* The lock can be taken and given back, and a missing folder is no lock. */
static void test_lock(void **state)
{
	struct fx *f = *state;
	char path[160];
	int fd;

	snprintf(path, sizeof(path), "%s/stays.prom", f->dir);
	metrics_file_lock(path, &fd);
	assert_true(fd >= 0);
	metrics_file_unlock(fd);
	snprintf(path, sizeof(path), "%s/nope/stays.prom", f->dir);
	metrics_file_lock(path, &fd);
	assert_int_equal(fd, -1);
	metrics_file_unlock(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_render),
		cmocka_unit_test(test_render_stable),
		cmocka_unit_test(test_escape),
		cmocka_unit_test_setup_teardown(test_collect_empty, setup, teardown),
		cmocka_unit_test_setup_teardown(test_collect, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_file_atomic, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_file_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lock, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
