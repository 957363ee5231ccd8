/*
 * dbtest.h - helpers the database tests share (header only: each test is
 * one binary built from one file).  Failures end the test with fail_msg(),
 * so include it after <cmocka.h>.
 */
#ifndef STAYS_TESTS_DBTEST_H
#define STAYS_TESTS_DBTEST_H

#include <stdarg.h>
#include <stdio.h>

#include <sqlite3.h>

#include "config.h"

/* Run the SQL fmt formats (at most 4 KiB), or fail the test. */
static inline void sql(sqlite3 *db, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static inline void sql(sqlite3 *db, const char *fmt, ...)
{
	char buf[4096], *err = NULL;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (sqlite3_exec(db, buf, NULL, NULL, &err) != SQLITE_OK)
		fail_msg("%s: %s", buf, err);
}

/* Every row of query q as "a|b\n" (NULL as NULL), in a static buffer. */
static inline const char *rows(sqlite3 *db, const char *q)
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
	}
	sqlite3_finalize(st);
	return out;
}

/*
 * A fresh folder "/tmp/<name>.XXXXXX" in dir (at least 64 bytes), the
 * database path "<dir>/s.db" in path (128 bytes), and cfg loaded from an
 * empty configuration file there: every default.  0, or -1 on failure.
 */
static inline int tmp_setup(const char *name, char dir[64], char path[128],
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

#endif
