/*
 * pinjobs.c - main() of pin-runner: run the PIN jobs that are due.
 *
 * Run by cron every minute, so the idle path is the hot path (P7): take the
 * lock, open the database, find nothing due, exit 0 - no DNS lookup, no
 * connection, no token request.  Otherwise: one Tuya client (one HTTP
 * connection, the cached token, P6), the due jobs oldest first (P1), each
 * executed by lib/pinrun.c and recorded before the next one starts.
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
 * Crash points for the P3 test (isync's way): with STAYS_PIN_CRASH_AT=N the
 * program _exit()s right after the N-th step of the run, as if killed.
 */
static void crash_point(void *p, const char *what)
{
	struct ctx *c = p;

	(void)what;
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

static int run(struct global *g, int dry_run, long max)
{
	struct config cfg;
	struct ctx cx = { .g = g };
	struct due_job *due = NULL;
	int *hold = NULL;
	struct http *http = NULL;
	struct tuya_client *tuya = NULL;
	struct tuya_token tok;
	struct pinrun pr;
	char eb[ERRBUF_SIZE], lockpath[4096];
	const char *crash = getenv("STAYS_PIN_CRASH_AT");
	sqlite3 *db = NULL;
	size_t n = 0;
	long done = 0, retried = 0, nfailed = 0, skipped = 0;
	int lock_fd = -1, code = 0, found, recovered;
	enum err e;

	if ((e = cli_load_config(g, &cfg, CONFIG_NEED_TUYA)) != ERR_OK) {
		config_release(&cfg);
		return err_exitcode(e);
	}
	cx.crash_at = crash ? atoi(crash) : 0;

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
	if ((e = pinstore_due(db, g->now, max, &due, &n, eb)) != ERR_OK)
		goto fail;
	if (n == 0)
		goto out;	/* P7: idle, no network */
	if (dry_run) {
		print_due(due, n);
		goto out;
	}

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
	if (cx.crash_at)
		tuya_client_set_step(tuya, crash_point, &cx);

	memset(&pr, 0, sizeof(pr));
	pr.db = db;
	pr.cfg = &cfg;
	pr.tuya = tuya;
	pr.now = g->now;
	pr.step = cx.crash_at ? crash_point : NULL;
	pr.note = note;
	pr.warn = warn;
	pr.ctx = &cx;
	hold = xcalloc(n, sizeof(*hold));

	for (size_t i = 0; i < n; i++) {
		enum pinrun_result r;
		int claimed;

		if (held(due, i, hold, due[i].j.device)) {
			skipped++;
			continue;
		}
		if ((e = pinstore_claim(db, due[i].j.id, g->now, &claimed, eb)) != ERR_OK)
			goto fail;
		if (!claimed) {
			skipped++;
			continue;
		}
		tuya_client_set_now(tuya, wall_ms());
		r = pinrun_job(&pr, &due[i], eb);
		if (tuya_client_token_fetched(tuya) &&
		    pinstore_token_save(db, tuya_client_token(tuya), g->now, eb) != ERR_OK)
			cli_error(g, "%s", eb);
		switch (r) {
		case PR_DONE: done++; break;
		case PR_SKIPPED: skipped++; break;
		case PR_RETRY: retried++; cli_error(g, "%s", eb); break;
		case PR_FAILED: nfailed++; cli_error(g, "%s", eb); break;
		case PR_STOP_AUTH:
			skipped++;
			cli_error(g, "Tuya refused the credentials (job %s left pending): %s; check [tuya] client_id and client_secret",
				  due[i].j.id, eb);
			code = EX_NOPERM;
			goto summary;
		case PR_HOLD_LOCK:
			hold[i] = 1;
			skipped++;
			cli_error(g, "%s", eb);
			code = EX_NOPERM;
			break;
		case PR_STOP_NET:
			retried++;
			cli_error(g, "%s", eb);
			code = EX_UNAVAILABLE;
			goto summary;
		}
	}
summary:
	if (tuya_client_token_fetched(tuya) &&
	    pinstore_token_save(db, tuya_client_token(tuya), g->now, eb) != ERR_OK)
		cli_error(g, "%s", eb);
	if (g->verbosity > 0)
		printf("pin-runner: %zu due, %ld done, %ld to retry, %ld failed, %ld skipped (%d token request%s)\n",
		       n, done, retried, nfailed, skipped, tuya_client_token_requests(tuya),
		       tuya_client_token_requests(tuya) == 1 ? "" : "s");
	if (!code && pr.protocol_errors)
		code = EX_PROTOCOL;
	if (!code && (retried || nfailed))
		code = 1;
	goto out;
fail:
	cli_error(g, "%s", eb);
	code = err_exitcode(e);
out:
	free(due);
	free(hold);
	tuya_client_free(tuya);
	http_free(http);
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
	curl_global_init(CURL_GLOBAL_DEFAULT);
	code = run(&g, dry_run, max);
	curl_global_cleanup();
	return cli_finish(&g, code);
}
