/*
 * backup.h - a copy of the database that is safe to take while cron runs
 * both programs, and rotation of the copies (`stays-reconcile backup`).
 *
 * SQLite's online backup API copies every page inside one read
 * transaction: in WAL mode writers go on meanwhile, and the copy is the
 * database as of one commit.  The copy is written to a temporary file
 * beside the target, created 0600 (it holds PINs), checked with
 * quick_check, switched out of WAL mode so that it is one self-contained
 * file, synced, and only then renamed over the target: a reader never
 * sees half a backup, a failed backup leaves the old ones as they were.
 */
#ifndef STAYS_BACKUP_H
#define STAYS_BACKUP_H

#include <sqlite3.h>

#include "err.h"

#define BACKUP_KEEP_MAX 1000

/*
 * Copy db to the file dest.  keep >= 1: how many backups to keep, the new
 * one included - before the rename dest becomes dest.1, dest.1 dest.2, ...
 * up to dest.<keep-1>; the oldest beyond that is deleted.  *bytes: the
 * size of the new backup.  Errors: ERR_USAGE (keep out of range),
 * ERR_DB (a file that cannot be made or renamed, SQLite, a copy that
 * fails its check: exit 73).
 */
enum err backup_db(sqlite3 *db, const char *dest, long keep, long long *bytes,
		   char *errbuf);

#endif
