/*
 * testutil.h - helpers the cmocka tests share: SQL on the test database,
 * a temporary folder with a default configuration, files in it, and the fake Stays + Tuya server
 * (build/fakeapi, found through $BIN) started and stopped by the test.
 *
 * Each test is one translation unit, so the helpers are static inline
 * here (no Makefile rule, no unused-function warning).  Include after
 * <cmocka.h> and sqlite3.h.
 */
#ifndef STAYS_TESTUTIL_H
#define STAYS_TESTUTIL_H

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"

static inline void test_sql(sqlite3 *db, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Run SQL (printf-style) on db; fail the test on an error. */
static inline void test_sql(sqlite3 *db, const char *fmt, ...)
{
	char buf[4096], *err = NULL;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (sqlite3_exec(db, buf, NULL, NULL, &err) != SQLITE_OK)
		fail_msg("%s: %s", buf, err);
}

/* The rows of query q: columns joined by '|', each row ending in '\n'
 * (a static buffer, overwritten by the next call). */
static inline const char *test_rows(sqlite3 *db, const char *q)
{
	static char out[8192];
	sqlite3_stmt *st;
	size_t len = 0;

	out[0] = '\0';
	assert_int_equal(sqlite3_prepare_v2(db, q, -1, &st, NULL), SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW) {
		for (int i = 0; i < sqlite3_column_count(st); i++) {
			const char *v = (const char *)sqlite3_column_text(st, i);

			len += (size_t)snprintf(out + len, sizeof(out) - len, "%s%s", i ? "|" : "",
						v ? v : "NULL");
		}
		len += (size_t)snprintf(out + len, sizeof(out) - len, "\n");
		assert_true(len < sizeof(out));
	}
	sqlite3_finalize(st);
	return out;
}

/* Write text to path with mode. */
static inline void test_write_file(const char *path, const char *text, mode_t mode)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
	assert_int_equal(chmod(path, mode), 0);
}

/*
 * Start $BIN/fakeapi with the Tuya data tuya_json (written to dir) and
 * wait until it listens; its base URL goes to url.  The pid, or -1.
 */
static inline pid_t test_fake_start(const char *dir, const char *tuya_json, char *url,
				    size_t size)
{
	const char *bin = getenv("BIN");
	char path[256], tuya[256], port[256], buf[64];
	FILE *fp;
	pid_t pid;

	if (!bin)
		return -1;
	snprintf(tuya, sizeof(tuya), "%s/tuya.json", dir);
	test_write_file(tuya, tuya_json, 0600);
	snprintf(port, sizeof(port), "%s/port", dir);
	snprintf(path, sizeof(path), "%s/fakeapi", bin);
	pid = fork();
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGTERM);      /* a crashed test takes it along */
		execl(path, path, "--port-file", port, "--tuya-data", tuya, (char *)NULL);
		_exit(127);
	}
	/* Wait for the server to listen (start-up only, not a race). */
	for (int i = 0; i < 400 && access(port, R_OK) != 0; i++)
		usleep(25000);
	if (!(fp = fopen(port, "r")))
		return -1;
	if (!fgets(buf, sizeof(buf), fp)) {
		fclose(fp);
		return -1;
	}
	fclose(fp);
	snprintf(url, size, "http://127.0.0.1:%d", atoi(buf));
	return pid;
}

/*
 * A fresh folder "/tmp/<name>.XXXXXX" in dir (at least 64 bytes), the
 * database path "<dir>/s.db" in path (128 bytes), and cfg loaded from an
 * empty configuration file there: every default.  0, or -1 on failure.
 */
static inline int test_tmp_setup(const char *name, char dir[64], char path[128],
				 struct config *cfg)
{
	struct strbuf errs = STRBUF_INIT;
	char conf[128];
	FILE *fp;
	enum err e;

	snprintf(dir, 64, "/tmp/%s.XXXXXX", name);
	if (!mkdtemp(dir))
		return -1;
	snprintf(path, 128, "%s/s.db", dir);
	snprintf(conf, sizeof(conf), "%s/c.conf", dir);
	if (!(fp = fopen(conf, "w")))
		return -1;
	fclose(fp);
	e = config_load(cfg, conf, &errs);
	strbuf_release(&errs);
	return e == ERR_OK ? 0 : -1;
}

static inline void test_fake_stop(pid_t pid)
{
	if (pid > 0) {
		kill(pid, SIGTERM);
		waitpid(pid, NULL, 0);
	}
}

#endif
