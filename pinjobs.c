/*
 * pinjobs.c - main() of pin-runner: run the PIN jobs that are due.
 *
 * Run by cron every minute, so the idle path is the hot path (P7): take the
 * lock, open the database, find nothing due, exit 0 - no DNS lookup, no
 * connection, no token request, and no write unless the run log needs one.
 * Otherwise: one Tuya client (one HTTP connection, the cached token, P6),
 * the due jobs oldest first (P1), each claimed again and executed by
 * lib/pinrun.c, and recorded before the next one starts.  Each run's
 * outcome goes to pin_runner_log for `stays-reconcile status`.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "cli.h"
#include "db.h"
#include "http.h"
#include "lock.h"
#include "pinrun.h"
#include "pinstore.h"
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

/* 1 if an earlier job of this run found the lock refused (1106). */
static int held(const struct due_job *due, size_t upto, const int *hold, const char *device)
{
	for (size_t k = 0; k < upto; k++)
		if (hold[k] && strcmp(due[k].j.device, device) == 0)
			return 1;
	return 0;
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

static void print_due(const struct due_job *d, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char due[UTC_ISO_LEN + 1];

		util_fmt_utc(d[i].j.due, due, sizeof(due));
		printf("would %s %s on lock %s (due %s, attempt %ld)\n", d[i].j.action,
		       d[i].have_resv ? d[i].code : d[i].j.resv, d[i].j.device, due,
		       d[i].attempts + 1);
	}
}

/* The counts of one run, for -v, the exit status and the run log. */
struct tally {
	size_t due;
	long done, retried, failed, skipped;
	int code;               /* the exit status so far */
	char message[ERRBUF_SIZE];
};

/* Keep the first problem of the run as its log message. */
static void remember(struct tally *t, const char *msg)
{
	if (!t->message[0])
		xstrlcpy(t->message, msg, sizeof(t->message));
}

/*
 * P1: claim each due job again (it may have changed since the list was
 * read) and execute it, counting the outcomes in t; t->code is set when
 * the run must stop (credentials refused, Tuya unreachable) or exit 77.
 */
static void run_jobs(struct global *g, struct pinrun *pr, const struct due_job *due,
		     size_t n, struct tally *t)
{
	int *hold = xcalloc(n, sizeof(*hold));
	char eb[ERRBUF_SIZE];
	enum err e;

	for (size_t i = 0; i < n; i++) {
		struct due_job dj;
		enum pinrun_result r;
		int claimed;

		if (held(due, i, hold, due[i].j.device)) {
			t->skipped++;
			continue;
		}
		if ((e = pinstore_claim(pr->db, due[i].j.id, g->now, &dj, &claimed, eb)) != ERR_OK) {
			cli_error(g, "%s", eb);
			remember(t, eb);
			t->code = err_exitcode(e);
			break;
		}
		if (!claimed) {
			t->skipped++;
			continue;
		}
		test_point(pr->ctx, "claimed");
		tuya_client_set_now(pr->tuya, wall_ms());
		r = pinrun_job(pr, &dj, eb);
		if (tuya_client_token_fetched(pr->tuya) &&
		    pinstore_token_save(pr->db, tuya_client_token(pr->tuya), g->now, eb) != ERR_OK)
			cli_error(g, "%s", eb);
		switch (r) {
		case PR_DONE: t->done++; break;
		case PR_SKIPPED: t->skipped++; break;
		case PR_RETRY: t->retried++; cli_error(g, "%s", eb); remember(t, eb); break;
		case PR_FAILED: t->failed++; cli_error(g, "%s", eb); remember(t, eb); break;
		case PR_STOP_AUTH:
			t->skipped++;
			cli_error(g, "Tuya refused the credentials (job %s left pending): %s; check [tuya] client_id and client_secret",
				  dj.j.id, eb);
			remember(t, eb);
			t->code = EX_NOPERM;
			goto out;
		case PR_HOLD_LOCK:
			hold[i] = 1;
			t->skipped++;
			cli_error(g, "%s", eb);
			remember(t, eb);
			t->code = EX_NOPERM;
			break;
		case PR_STOP_NET:
			t->retried++;
			cli_error(g, "%s", eb);
			remember(t, eb);
			t->code = EX_UNAVAILABLE;
			goto out;
		}
	}
out:
	free(hold);
}

static int run(struct global *g, int dry_run, long max)
{
	struct config cfg;
	struct ctx cx = { .g = g };
	struct due_job *due = NULL;
	struct http *http = NULL;
	struct tuya_client *tuya = NULL;
	struct tuya_token tok;
	struct pinrun pr;
	struct tally t;
	char eb[ERRBUF_SIZE], lockpath[4096];
	const char *crash = getenv("STAYS_PIN_CRASH_AT");
	sqlite3 *db = NULL;
	int lock_fd = -1, found, recovered;
	enum err e;

	memset(&t, 0, sizeof(t));
	if ((e = cli_load_config(g, &cfg, CONFIG_NEED_TUYA)) != ERR_OK) {
		config_release(&cfg);
		return err_exitcode(e);
	}
	cx.crash_at = crash ? atoi(crash) : 0;
	cx.pause_at = getenv("STAYS_PIN_PAUSE_AT");
	cx.pause_dir = getenv("STAYS_PIN_PAUSE_FIFO");

	if (!dry_run) {
		cli_lock_path(cfg.db_path, ".pin.lock", lockpath, sizeof(lockpath));
		if ((e = lock_acquire(lockpath, &lock_fd, eb)) != ERR_OK)
			goto fail;
	}
	if ((e = db_open(cfg.db_path, dry_run ? DB_READONLY : DB_READWRITE, &db, eb)) != ERR_OK)
		goto fail;
	if (!db || db_version(db) == 0)
		goto out;	/* no database yet: nothing is due */
	if (!dry_run && (e = pinstore_recover(db, &recovered, eb)) != ERR_OK)
		goto fail;
	if ((e = pinstore_due(db, g->now, max, &due, &t.due, eb)) != ERR_OK)
		goto fail;
	if (dry_run) {
		print_due(due, t.due);
		goto out;
	}
	if (t.due == 0)
		goto log;	/* P7: idle, no network */

	http = http_new(&(struct http_opts){ .timeout = 30, .ca_file = cfg.tuya.ca_file });
	if (!http) {
		e = ERRF(eb, ERR_INTERNAL, "cannot initialise libcurl");
		goto fail;
	}
	if ((e = tuya_client_new(&tuya, cfg.tuya.url, cfg.tuya.client_id, cfg.tuya.client_secret,
				 http, wall_ms(), eb)) != ERR_OK)
		goto fail;
	if ((e = pinstore_token_load(db, &tok, &found, eb)) != ERR_OK)
		goto fail;
	if (found)
		tuya_client_set_token(tuya, &tok);
	explicit_bzero(&tok, sizeof(tok));
	if (cx.crash_at || cx.pause_at)
		tuya_client_set_step(tuya, test_point, &cx);

	test_point(&cx, "listed");	/* the due list is read; nothing claimed yet */
	memset(&pr, 0, sizeof(pr));
	pr.db = db;
	pr.cfg = &cfg;
	pr.tuya = tuya;
	pr.now = g->now;
	pr.step = cx.crash_at || cx.pause_at ? test_point : NULL;
	pr.note = note;
	pr.warn = warn;
	pr.ctx = &cx;
	run_jobs(g, &pr, due, t.due, &t);

	if (tuya_client_token_fetched(tuya) &&
	    pinstore_token_save(db, tuya_client_token(tuya), g->now, eb) != ERR_OK)
		cli_error(g, "%s", eb);
	if (g->verbosity > 0)
		printf("pin-runner: %zu due, %ld done, %ld to retry, %ld failed, %ld skipped (%d token request%s)\n",
		       t.due, t.done, t.retried, t.failed, t.skipped, tuya_client_token_requests(tuya),
		       tuya_client_token_requests(tuya) == 1 ? "" : "s");
	if (!t.code && pr.protocol_errors)
		t.code = EX_PROTOCOL;
	if (!t.code && (t.retried || t.failed))
		t.code = 1;
log:
	{
		struct pin_run_log lr = {
			.started_at = g->now, .completed_at = g->now,
			.status = t.code ? "failed" : "success",
			.due = (long)t.due, .done = t.done, .retried = t.retried,
			.failed = t.failed, .message = t.message[0] ? t.message : NULL,
		};

		if (pinstore_log_run(db, &lr, eb) != ERR_OK)
			cli_error(g, "%s", eb);
	}
	goto out;
fail:
	cli_error(g, "%s", eb);
	t.code = err_exitcode(e);
	if (db && !dry_run && db_version(db) > 0) {
		struct pin_run_log lr = {
			.started_at = g->now, .completed_at = g->now, .status = "failed",
			.due = (long)t.due, .message = eb,
		};
		char eb2[ERRBUF_SIZE];

		if (pinstore_log_run(db, &lr, eb2) != ERR_OK)
			cli_error(g, "%s", eb2);
	}
out:
	free(due);
	tuya_client_free(tuya);
	http_free(http);
	db_close(db);
	lock_release(lock_fd);
	config_release(&cfg);
	return t.code;
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
	curl_global_init(CURL_GLOBAL_DEFAULT);
	code = run(&g, dry_run, max);
	curl_global_cleanup();
	return cli_finish(&g, code);
}
