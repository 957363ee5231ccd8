/*
 * db.h - opening, creating and migrating the SQLite file.
 *
 * Why one transaction per run: a reconciliation must leave reservations,
 * jobs and credentials either as they were or as after the run (R9), and
 * pin-runner, which writes the same tables every minute, must never see
 * half a plan.  So each run's changes go in one BEGIN IMMEDIATE ... COMMIT;
 * WAL mode lets status and pin-runner read meanwhile, and the busy timeout
 * makes writers wait for each other instead of failing.
 *
 * Durability: WAL with synchronous = NORMAL is always consistent, but
 * after a power loss the last transactions may be rolled back.  Every run
 * is idempotent, so that is harmless - except for the intent pin-runner
 * commits before a create call (SPEC P3): if it were lost after the
 * password was made, a retry would make a second one.  That transaction is
 * made durable with db_durable() (synchronous = FULL for its commit).
 * NORMAL elsewhere keeps the idle pin-runner free of fsync (P7).
 */
#ifndef STAYS_DB_H
#define STAYS_DB_H

#include <sqlite3.h>

#include "err.h"

#define DB_SCHEMA_VERSION 7
#define DB_BUSY_TIMEOUT_MS 10000

enum db_mode {
	DB_READWRITE,   /* create (mode 0600) and migrate as needed */
	DB_READONLY     /* never writes, never creates; *out = NULL if absent */
};

/*
 * Open the database at path.  DB_READWRITE creates the file (0600) and its
 * schema, migrates older versions, and turns on WAL.  DB_READONLY opens with
 * SQLITE_OPEN_READONLY so that not even a checkpoint touches the file; if
 * the file does not exist, *out is set to NULL and ERR_OK returned.
 * Errors (ERR_DB): cannot create/open, not a database, a schema newer than
 * this program.  The caller closes *out with db_close().
 */
enum err db_open(const char *path, enum db_mode mode, sqlite3 **out, char *errbuf);
void db_close(sqlite3 *db);

/* The schema version of an open database (0 = empty). */
int db_version(sqlite3 *db);

/* Run SQL without results.  Errors: ERR_DB with SQLite's message. */
enum err db_exec(sqlite3 *db, const char *sql, char *errbuf);

/* synchronous = FULL (on) or NORMAL (off) for the commits that follow:
 * FULL syncs the WAL at COMMIT, so the transaction survives power loss. */
enum err db_durable(sqlite3 *db, int on, char *errbuf);

/* BEGIN IMMEDIATE / COMMIT / ROLLBACK (rollback never fails loudly). */
enum err db_begin(sqlite3 *db, char *errbuf);
enum err db_commit(sqlite3 *db, char *errbuf);
void db_rollback(sqlite3 *db);

/* Prepare a statement; errors: ERR_DB (a bug or a damaged file). */
enum err db_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **st, char *errbuf);

/* Step a statement that returns no row and finalize it; errors: ERR_DB
 * "what: SQLite's message". */
enum err db_step_done(sqlite3 *db, sqlite3_stmt *st, const char *what, char *errbuf);

/* Column text, "" for NULL (valid until the next step/finalize). */
const char *db_text(sqlite3_stmt *st, int col);

/* The size in bytes of the database file at path and of its -wal file
 * (what the database takes on disk now); 0 for files that are not there. */
long long db_file_bytes(const char *path);

/* A message for the last error of db, prefixed by what failed. */
enum err db_error(sqlite3 *db, const char *what, char *errbuf);

#endif
