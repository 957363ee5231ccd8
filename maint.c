/*
 * maint.c - `stays-reconcile vacuum` and `stays-reconcile backup FILE
 * [--keep N]`: looking after the database file (lib/backup.h).
 *
 * vacuum rewrites the file, so it takes both programs' locks (R10): a
 * reconciliation or a pin-runner batch that is running makes it exit 75,
 * and neither starts while it works.  backup takes no lock: SQLite's
 * online backup reads one consistent snapshot while the others write.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backup.h"
#include "cli.h"
#include "db.h"
#include "lock.h"
#include "maint.h"
#include "banned.h"

/* Parse the options of a command that takes only the global ones (plus
 * --keep for backup: *keep, when keep is not NULL). */
static int parse(struct global *g, int argc, char **argv, const char *cmd, long *keep)
{
	static const struct option opts[] = {
		GLOBAL_LONGOPTS,
		{ "keep", required_argument, NULL, OPT_KEEP },
		{ NULL, 0, NULL, 0 }
	};
	char *end;
	int c;

	optind = 0;	/* full getopt reset: options may follow FILE */
	while ((c = getopt_long(argc, argv, "c:vqh", opts, NULL)) != -1) {
		if (cli_global_opt(g, c, optarg))
			continue;
		if (c != OPT_KEEP || !keep)
			return cli_usage_error(g, "bad option for %s", cmd);
		*keep = strtol(optarg, &end, 10);
		if (*end || end == optarg || *keep < 1 || *keep > BACKUP_KEEP_MAX)
			return cli_usage_error(g, "--keep wants a number from 1 to %d",
					       BACKUP_KEEP_MAX);
	}
	return -1;
}

int cmd_vacuum(struct global *g, int argc, char **argv)
{
	char eb[ERRBUF_SIZE], lock1[4096], lock2[4096];
	int fd1 = -1, fd2 = -1, code;
	long long before;
	struct config cfg;
	sqlite3 *db = NULL;
	enum err e;

	if ((code = parse(g, argc, argv, "vacuum", NULL)) >= 0)
		return code;
	if (optind < argc)
		return cli_usage_error(g, "unexpected argument '%s'", argv[optind]);
	if ((e = cli_load_config(g, &cfg, 0)) != ERR_OK)
		goto out;
	cli_lock_path(cfg.db_path, ".lock", lock1, sizeof(lock1));
	cli_lock_path(cfg.db_path, ".pin.lock", lock2, sizeof(lock2));
	if ((e = lock_acquire(lock1, &fd1, eb)) != ERR_OK ||
	    (e = lock_acquire(lock2, &fd2, eb)) != ERR_OK ||
	    (e = db_open(cfg.db_path, DB_READWRITE, &db, eb)) != ERR_OK) {
		cli_error(g, "%s", eb);
		goto out;
	}
	before = db_file_bytes(cfg.db_path);
	if ((e = db_exec(db, "VACUUM", eb)) != ERR_OK ||
	    (e = db_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)", eb)) != ERR_OK) {
		cli_error(g, "%s", eb);
		goto out;
	}
	if (g->verbosity > 0)
		printf("vacuumed '%s': %lld bytes, now %lld\n", cfg.db_path, before,
		       db_file_bytes(cfg.db_path));
out:
	db_close(db);
	lock_release(fd2);
	lock_release(fd1);
	config_release(&cfg);
	return cli_finish(g, err_exitcode(e));
}

int cmd_backup(struct global *g, int argc, char **argv)
{
	char eb[ERRBUF_SIZE];
	long keep = 1;
	long long bytes;
	struct config cfg;
	sqlite3 *db = NULL;
	enum err e;
	int code;

	if ((code = parse(g, argc, argv, "backup", &keep)) >= 0)
		return code;
	if (optind == argc)
		return cli_usage_error(g, "backup wants the FILE to write");
	if (optind + 1 < argc)
		return cli_usage_error(g, "unexpected argument '%s'", argv[optind + 1]);
	if ((e = cli_load_config(g, &cfg, 0)) != ERR_OK)
		goto out;
	if ((e = db_open(cfg.db_path, DB_READONLY, &db, eb)) == ERR_OK && !db)
		e = ERRF(eb, ERR_DB, "no database at '%s' to back up", cfg.db_path);
	if (e == ERR_OK)
		e = backup_db(db, argv[optind], keep, &bytes, eb);
	if (e != ERR_OK) {
		cli_error(g, "%s", eb);
		goto out;
	}
	if (g->verbosity > 0)
		printf("backed up '%s' to '%s' (%lld bytes, %ld kept)\n", cfg.db_path,
		       argv[optind], bytes, keep);
out:
	db_close(db);
	config_release(&cfg);
	return cli_finish(g, err_exitcode(e));
}
