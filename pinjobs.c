/*
 * pinjobs.c - main() of pin-runner: run the PIN jobs that are due.
 *
 * What this file still owns: the options (--dry-run, --max and the global
 * ones), loading the configuration, the process lock (".pin.lock" beside
 * the database, exit 75 when held; none for a dry run), opening the
 * database (read-only for a dry run; no database yet means nothing is
 * due), the test-only crash and pause points (STAYS_PIN_CRASH_AT,
 * STAYS_PIN_PAUSE_AT), printing (-v notes and the dry run's lines on
 * stdout, errors on stderr) and the exit status, through err_exitcode().
 *
 * The batch itself - recover, the due list, the idle path (P7), one Tuya
 * client with the cached token (P6), the claim-execute loop (P1), the
 * per-lock holds, the run log and the exit policy - is lib/pinbatch.c;
 * one job is lib/pinrun.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>


#include "cli.h"
#include "db.h"
#include "lock.h"
#include "metrics.h"
#include "pinbatch.h"
#include "report.h"
#include "banned.h"

static void usage(FILE *f)
{
	fputs("usage: pin-runner [-c FILE] [-v | -q] [--now TIME] [--dry-run] [--max N]\n", f);
}

/* Wall-clock milliseconds for Tuya's t header (always the real time). */
static long long wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct ctx {
	struct global *g;
	int crash_at;           /* STAYS_PIN_CRASH_AT: a test-only crash point */
	int steps;
	const char *pause_at;   /* STAYS_PIN_PAUSE_AT: a test-only pause point */
	const char *pause_dir;  /* STAYS_PIN_PAUSE_FIFO */
};

static void note(void *p, const char *msg)
{
	struct ctx *c = p;

	if (c->g->verbosity > 0)
		printf("%s\n", msg);
}

static void warn(void *p, const char *msg)
{
	struct ctx *c = p;

	cli_error(c->g, "%s", msg);
}

/*
 * Test points (isync's way).  With STAYS_PIN_CRASH_AT=N the program
 * _exit()s right after the N-th step of the run, as if killed.  With
 * STAYS_PIN_PAUSE_AT=STEP and STAYS_PIN_PAUSE_FIFO=DIR it stops at the
 * first step named STEP until the test lets it go, without timing: it
 * writes the step name to the FIFO DIR/paused (blocking until the test
 * reads it) and then reads DIR/resume until the test closes it.  Never set
 * outside the tests.
 */
static void pause_here(struct ctx *c, const char *what)
{
	char path[4096], buf[64];
	FILE *f;

	snprintf(path, sizeof(path), "%s/paused", c->pause_dir);
	if ((f = fopen(path, "w"))) {
		fprintf(f, "%s\n", what);
		fclose(f);
	}
	snprintf(path, sizeof(path), "%s/resume", c->pause_dir);
	if ((f = fopen(path, "r"))) {
		while (fgets(buf, sizeof(buf), f))
			;
		fclose(f);
	}
}

static void test_point(void *p, const char *what)
{
	struct ctx *c = p;

	if (c->pause_at && c->pause_dir && strcmp(c->pause_at, what) == 0) {
		c->pause_at = NULL;
		fflush(stdout);
		pause_here(c, what);
	}
	if (c->crash_at && ++c->steps == c->crash_at) {
		fflush(stdout);
		_exit(99);
	}
}

/* --dry-run: one line per job that would run now. */
static void would(void *p, const struct due_job *d)
{
	struct strbuf line = STRBUF_INIT;

	(void)p;
	report_due_line(d, &line);
	printf("%s\n", strbuf_str(&line));
	strbuf_release(&line);
}

static long long wall_ms_cb(void *p)
{
	(void)p;
	return wall_ms();
}

/* Run the batch on an open database; the exit status. */
static int batch(struct global *g, struct ctx *cx, sqlite3 *db, const struct config *cfg,
		 int dry_run, long max)
{
	const struct pinbatch_opts o = {
		.now = g->now, .max = max, .dry_run = dry_run, .cfg = cfg,
	};
	const struct pinbatch_io io = {
		.note = note, .warn = warn, .would = would,
		.step = cx->crash_at || cx->pause_at ? test_point : NULL,
		.wall_ms = wall_ms_cb, .ctx = cx,
	};
	struct pinbatch_result res;
	char eb[ERRBUF_SIZE], cb[ERRBUF_SIZE];
	enum err e = pinrun_batch(db, &o, &io, &res, eb);

	/* The end of every run that wrote, failed or not: the Tuya requests
	 * join the counters (an idle run sent none and writes nothing), and
	 * the metrics file is written.  Neither changes the exit status. */
	if (!dry_run) {
		if (metrics_count_requests(db, METRICS_TUYA, res.requests, res.request_errors,
					   g->now, cb) != ERR_OK && g->verbosity >= 0)
			cli_error(g, "warning: %s", cb);
		cli_write_metrics(g, cfg, db);
	}
	return err_exitcode(e);
}

static int run(struct global *g, int dry_run, long max)
{
	struct config cfg;
	struct ctx cx = { .g = g };
	char eb[ERRBUF_SIZE], lockpath[4096];
	const char *crash = getenv("STAYS_PIN_CRASH_AT");
	sqlite3 *db = NULL;
	int lock_fd = -1, code = 0;
	enum err e = ERR_OK;

	if ((e = cli_load_config(g, &cfg, CONFIG_NEED_TUYA)) != ERR_OK) {
		config_release(&cfg);
		return err_exitcode(e);
	}
	cx.crash_at = crash ? atoi(crash) : 0;
	cx.pause_at = getenv("STAYS_PIN_PAUSE_AT");
	cx.pause_dir = getenv("STAYS_PIN_PAUSE_FIFO");

	if (!dry_run) {
		cli_lock_path(cfg.db_path, ".pin.lock", lockpath, sizeof(lockpath));
		e = lock_acquire(lockpath, &lock_fd, eb);
	}
	if (e == ERR_OK)
		e = db_open(cfg.db_path, dry_run ? DB_READONLY : DB_READWRITE, &db, eb);
	if (e != ERR_OK) {
		cli_error(g, "%s", eb);
		code = err_exitcode(e);
	} else if (db && db_version(db) > 0) {
		code = batch(g, &cx, db, &cfg, dry_run, max);
	}	/* else no database yet: nothing is due */
	db_close(db);
	lock_release(lock_fd);
	config_release(&cfg);
	return code;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		GLOBAL_LONGOPTS,
		{ "dry-run", no_argument, NULL, OPT_DRY_RUN },
		{ "max", required_argument, NULL, OPT_MAX },
		{ NULL, 0, NULL, 0 }
	};
	struct global g = { .prog = "pin-runner", .usage = usage };
	int c, dry_run = 0, code;
	long max = 100;

	umask(077);
	g.now = time(NULL);
	while ((c = getopt_long(argc, argv, "c:vqh", opts, NULL)) != -1) {
		if (cli_global_opt(&g, c, optarg))
			continue;
		switch (c) {
		case OPT_DRY_RUN:
			dry_run = 1;
			break;
		case OPT_MAX: {
			char *end;

			errno = 0;
			max = strtol(optarg, &end, 10);
			if (errno || *end || end == optarg || max < 1 || max > 100000)
				return cli_usage_error(&g, "--max must be a number from 1 to 100000");
			break;
		}
		default:
			return cli_usage_error(&g, "unknown option");
		}
	}
	if (optind < argc)
		return cli_usage_error(&g, "unexpected argument '%s'", argv[optind]);
	code = run(&g, dry_run, max);
	return cli_finish(&g, code);
}
