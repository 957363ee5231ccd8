/*
 * backup.c - online backup to a temporary file, then rotation and rename
 * (see backup.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "backup.h"
#include "fileown.h"
#include "util.h"
#include "banned.h"

#define BUSY_TRIES 50           /* the source is busy: 50 x 100 ms */

/* Copy src into the file at tmp (already created 0600), check it, make it
 * a rollback-journal database, sync it. */
static enum err copy_to(sqlite3 *src, const char *tmp, char *errbuf)
{
	sqlite3 *dst = NULL;
	sqlite3_backup *b;
	sqlite3_stmt *st = NULL;
	const char *check;
	enum err e = ERR_DB;
	int rc, tries = 0;

	if (sqlite3_open_v2(tmp, &dst, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
		ERRF(errbuf, ERR_DB, "cannot open '%s': %s", tmp,
		     dst ? sqlite3_errmsg(dst) : "out of memory");
		goto out;
	}
	if (!(b = sqlite3_backup_init(dst, "main", src, "main"))) {
		ERRF(errbuf, ERR_DB, "cannot start the backup: %s", sqlite3_errmsg(dst));
		goto out;
	}
	while ((rc = sqlite3_backup_step(b, -1)) == SQLITE_BUSY || rc == SQLITE_LOCKED) {
		struct timespec ts = { 0, 100 * 1000000L };

		if (++tries >= BUSY_TRIES)
			break;
		nanosleep(&ts, NULL);
	}
	sqlite3_backup_finish(b);
	if (rc != SQLITE_DONE) {
		ERRF(errbuf, ERR_DB, "the backup did not complete: %s", sqlite3_errstr(rc));
		goto out;
	}
	if (sqlite3_exec(dst, "PRAGMA journal_mode = DELETE", NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(dst, "PRAGMA quick_check", -1, &st, NULL) != SQLITE_OK) {
		ERRF(errbuf, ERR_DB, "cannot check the backup: %s", sqlite3_errmsg(dst));
		goto out;
	}
	check = sqlite3_step(st) == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 0) : NULL;
	if (!check || strcmp(check, "ok") != 0) {
		ERRF(errbuf, ERR_DB, "the backup fails its check: %s", check ? check : "no answer");
		goto out;
	}
	e = ERR_OK;
out:
	sqlite3_finalize(st);
	sqlite3_close(dst);
	if (e == ERR_OK) {
		int fd = open(tmp, O_RDONLY | O_CLOEXEC);

		if (fd < 0 || fsync(fd) != 0)
			e = ERRF(errbuf, ERR_DB, "cannot sync '%s': %s", tmp, strerror(errno));
		if (fd >= 0)
			close(fd);
	}
	return e;
}

/* dest.<keep-1> goes, dest.<k> becomes dest.<k+1>, dest becomes dest.1. */
static enum err rotate(const char *dest, long keep, char *errbuf)
{
	char from[4096], to[4096];

	if (keep < 2)
		return ERR_OK;
	snprintf(to, sizeof(to), "%s.%ld", dest, keep - 1);
	if (unlink(to) != 0 && errno != ENOENT)
		return ERRF(errbuf, ERR_DB, "cannot remove '%s': %s", to, strerror(errno));
	for (long k = keep - 2; k >= 0; k--) {
		if (k)
			snprintf(from, sizeof(from), "%s.%ld", dest, k);
		else
			snprintf(from, sizeof(from), "%s", dest);
		snprintf(to, sizeof(to), "%s.%ld", dest, k + 1);
		if (rename(from, to) != 0 && errno != ENOENT)
			return ERRF(errbuf, ERR_DB, "cannot rename '%s' to '%s': %s", from, to,
				    strerror(errno));
	}
	return ERR_OK;
}

/* The folder of path, synced so that the renames survive a crash. */
static void sync_folder(const char *path)
{
	char dir[4096];
	int fd;

	if (xstrlcpy(dir, path, sizeof(dir)) != 0)
		return;
	if ((fd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		(void)fsync(fd);
		close(fd);
	}
}

enum err backup_db(sqlite3 *db, const char *dest, long keep, long long *bytes,
		   char *errbuf)
{
	char tmp[4096];
	struct stat st;
	enum err e;
	int fd;

	*bytes = 0;
	if (keep < 1 || keep > BACKUP_KEEP_MAX)
		return ERRF(errbuf, ERR_USAGE, "--keep must be between 1 and %d", BACKUP_KEEP_MAX);
	if (snprintf(tmp, sizeof(tmp), "%s.tmp-XXXXXX", dest) >= (int)sizeof(tmp))
		return ERRF(errbuf, ERR_DB, "backup path too long");
	if ((fd = mkstemp(tmp)) < 0)
		return ERRF(errbuf, ERR_DB, "cannot create a file beside '%s': %s", dest,
			    strerror(errno));
	fileown_as_folder(fd, tmp);
	close(fd);
	if ((e = copy_to(db, tmp, errbuf)) == ERR_OK && (e = rotate(dest, keep, errbuf)) == ERR_OK &&
	    rename(tmp, dest) != 0)
		e = ERRF(errbuf, ERR_DB, "cannot rename '%s' to '%s': %s", tmp, dest,
			 strerror(errno));
	if (e != ERR_OK) {
		unlink(tmp);
		return e;
	}
	sync_folder(dest);
	if (stat(dest, &st) == 0)
		*bytes = (long long)st.st_size;
	return ERR_OK;
}
