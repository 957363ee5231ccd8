/*
 * db.c - open, create (mode 0600: the file holds PINs) and migrate.
 *
 * Migrations are versioned with PRAGMA user_version.  An empty database
 * gets schema.sql (the current schema, embedded at build time) and
 * DB_SCHEMA_VERSION at once; an older one runs migrations/N.sql for each
 * version N above its own, in order, in one transaction.  A migration only
 * ever adds, or copies a table into a new shape: it never drops data.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "db.h"
#include "fileown.h"
#include "schema.h"
#include "migrations.h"
#include "banned.h"

static const struct {
	int version;
	const char *sql;
} migrations[] = {
	{ 2, migration_2 },
	{ 3, migration_3 },
	{ 4, migration_4 },
	{ 5, migration_5 },
	{ 6, migration_6 },
	{ 7, migration_7 },
};

/* One step per version after 1: a new schema.sql needs its migration. */
_Static_assert(sizeof(migrations) / sizeof(migrations[0]) == DB_SCHEMA_VERSION - 1,
	       "migrations/N.sql missing from migrations[]");

enum err db_error(sqlite3 *db, const char *what, char *errbuf)
{
	return ERRF(errbuf, ERR_DB, "%s: %s", what, db ? sqlite3_errmsg(db) : "out of memory");
}

enum err db_step_done(sqlite3 *db, sqlite3_stmt *st, const char *what, char *errbuf)
{
	enum err e = ERR_OK;

	if (sqlite3_step(st) != SQLITE_DONE)
		e = db_error(db, what, errbuf);
	sqlite3_finalize(st);
	return e;
}

enum err db_exec(sqlite3 *db, const char *sql, char *errbuf)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		ERRF(errbuf, ERR_DB, "database error: %s", msg ? msg : sqlite3_errmsg(db));
		sqlite3_free(msg);
		return ERR_DB;
	}
	return ERR_OK;
}

enum err db_begin(sqlite3 *db, char *errbuf)
{
	return db_exec(db, "BEGIN IMMEDIATE", errbuf);
}

enum err db_durable(sqlite3 *db, int on, char *errbuf)
{
	return db_exec(db, on ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL",
		       errbuf);
}

enum err db_commit(sqlite3 *db, char *errbuf)
{
	return db_exec(db, "COMMIT", errbuf);
}

void db_rollback(sqlite3 *db)
{
	if (!sqlite3_get_autocommit(db))
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
}

enum err db_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **st, char *errbuf)
{
	if (sqlite3_prepare_v2(db, sql, -1, st, NULL) != SQLITE_OK)
		return db_error(db, "database error", errbuf);
	return ERR_OK;
}

const char *db_text(sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);

	return t ? (const char *)t : "";
}

int db_version(sqlite3 *db)
{
	sqlite3_stmt *st;
	int v = -1;

	if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return v;
}

static enum err migrate(sqlite3 *db, const char *path, char *errbuf)
{
	int v = db_version(db);
	enum err e;

	if (v < 0)
		return ERRF(errbuf, ERR_DB, "cannot open database '%s': %s", path,
			    sqlite3_errmsg(db));
	if (v > DB_SCHEMA_VERSION)
		return ERRF(errbuf, ERR_DB,
			    "database '%s' has schema version %d, newer than this program's %d",
			    path, v, DB_SCHEMA_VERSION);
	if (v == DB_SCHEMA_VERSION)
		return ERR_OK;
	e = db_begin(db, errbuf);
	if (e != ERR_OK)
		return ERRF(errbuf, ERR_DB, "cannot migrate database '%s': %s", path,
			    sqlite3_errmsg(db));
	/* Re-read inside the write transaction: another process may have won. */
	v = db_version(db);
	if (v == 0) {
		char pragma[64];

		snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d", DB_SCHEMA_VERSION);
		if (sqlite3_exec(db, schema_sql, NULL, NULL, NULL) != SQLITE_OK ||
		    sqlite3_exec(db, pragma, NULL, NULL, NULL) != SQLITE_OK)
			goto fail;
	}
	for (size_t i = 0; v > 0 && i < sizeof(migrations) / sizeof(*migrations); i++) {
		char pragma[64];

		if (migrations[i].version <= v)
			continue;
		if (sqlite3_exec(db, migrations[i].sql, NULL, NULL, NULL) != SQLITE_OK)
			goto fail;
		snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d",
			 migrations[i].version);
		if (sqlite3_exec(db, pragma, NULL, NULL, NULL) != SQLITE_OK)
			goto fail;
	}
	if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		goto fail;
	return ERR_OK;
fail:
	ERRF(errbuf, ERR_DB, "cannot migrate database '%s': %s", path, sqlite3_errmsg(db));
	db_rollback(db);
	return ERR_DB;
}

/*
 * Create the database file ourselves, so that it is 0600 from the first
 * byte (and an existing one open to others is closed to them); a new one
 * made by root takes the folder's owner (fileown.h).
 */
static enum err create_file(const char *path, char *errbuf)
{
	struct stat st;
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

	if (fd < 0) {
		int err = errno;
		char hint[ERRBUF_SIZE];

		fileown_hint(path, 1, hint, sizeof(hint));
		return ERRF(errbuf, ERR_DB, "cannot open database '%s': %s%s", path,
			    strerror(err), hint);
	}
	if (fstat(fd, &st) == 0 && (st.st_mode & 077) && st.st_uid == geteuid())
		(void)fchmod(fd, st.st_mode & 0700);
	if (fstat(fd, &st) == 0 && st.st_size == 0)
		fileown_as_folder(fd, path);
	close(fd);
	return ERR_OK;
}

enum err db_open(const char *path, enum db_mode mode, sqlite3 **out, char *errbuf)
{
	sqlite3 *db = NULL;
	struct stat st;
	int flags;
	enum err e;

	*out = NULL;
	if (mode == DB_READONLY) {
		if (stat(path, &st) != 0 && errno == ENOENT)
			return ERR_OK;
		flags = SQLITE_OPEN_READONLY;
	} else {
		if ((e = create_file(path, errbuf)) != ERR_OK)
			return e;
		flags = SQLITE_OPEN_READWRITE;
	}
	if (sqlite3_open_v2(path, &db, flags | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		e = ERRF(errbuf, ERR_DB, "cannot open database '%s': %s", path,
			 db ? sqlite3_errmsg(db) : "out of memory");
		goto fail;
	}
	sqlite3_busy_timeout(db, DB_BUSY_TIMEOUT_MS);
	sqlite3_extended_result_codes(db, 0);
	/* Touch the file: this is where "not a database" shows up. */
	if (db_version(db) < 0) {
		e = ERRF(errbuf, ERR_DB, "cannot open database '%s': %s", path,
			 sqlite3_errmsg(db));
		goto fail;
	}
	if (mode == DB_READWRITE) {
		if (sqlite3_exec(db, "PRAGMA journal_mode = WAL", NULL, NULL, NULL) != SQLITE_OK ||
		    sqlite3_exec(db, "PRAGMA synchronous = NORMAL", NULL, NULL, NULL) != SQLITE_OK) {
			e = ERRF(errbuf, ERR_DB, "cannot open database '%s': %s", path,
				 sqlite3_errmsg(db));
			goto fail;
		}
		e = migrate(db, path, errbuf);
		if (e != ERR_OK)
			goto fail;
	} else if (db_version(db) > DB_SCHEMA_VERSION) {
		e = ERRF(errbuf, ERR_DB,
			 "database '%s' has schema version %d, newer than this program's %d",
			 path, db_version(db), DB_SCHEMA_VERSION);
		goto fail;
	}
	if (sqlite3_exec(db, "PRAGMA foreign_keys = ON", NULL, NULL, NULL) != SQLITE_OK) {
		e = ERRF(errbuf, ERR_DB, "cannot open database '%s': %s", path,
			 sqlite3_errmsg(db));
		goto fail;
	}
	*out = db;
	return ERR_OK;
fail:
	sqlite3_close(db);
	if (mode == DB_READWRITE) {
		char hint[ERRBUF_SIZE];

		if (fileown_hint(path, 1, hint, sizeof(hint)))
			snprintf(errbuf + strlen(errbuf), ERRBUF_SIZE - strlen(errbuf), "%s", hint);
	}
	return e;
}

long long db_file_bytes(const char *path)
{
	char wal[4096];
	struct stat st;
	long long n = 0;

	if (stat(path, &st) == 0)
		n = (long long)st.st_size;
	snprintf(wal, sizeof(wal), "%s-wal", path);
	if (stat(wal, &st) == 0)
		n += (long long)st.st_size;
	return n;
}

void db_close(sqlite3 *db)
{
	if (db)
		sqlite3_close(db);
}
