/*
 * status.c - cmd_status(): gathers the last reconciliation, pin-runner's
 * last run and what needs a person, decides the exit code, and hands the
 * rendering (text, or --json for scripts and monitoring, SPEC §6) to
 * report.c.
 *
 * Reads the database read-only and never takes a lock, so it can be
 * called at any time.  Exit: 3 when there has never been a run; else 0
 * when the last run succeeded and is not stale (finished within two
 * intervals of the [schedule] cron expression), pin-runner's last run
 * succeeded and is not stale, and every health list is empty; else 1.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cron.h"
#include "db.h"
#include "lock.h"
#include "report.h"
#include "store.h"
#include "banned.h"

#define EXIT_NEVER 3

/* pin-runner is stale when jobs wait and no run completed within its
 * interval ([schedule] pin_runner_every) plus this much. */
#define PIN_RUNNER_GRACE 180

/*
 * pin-runner runs every pin_runner_every seconds; when jobs are waiting
 * and no run completed within that plus PIN_RUNNER_GRACE (or none ever
 * did), its cron line or timer is broken.  An idle run refreshes its row
 * at least every PIN_LOG_REFRESH (< PIN_RUNNER_GRACE) seconds.
 */
static int pin_runner_stale(const struct status_report *s, time_t now)
{
	return s->pending > 0 &&
	       (!s->pr_found || s->pr.completed_at + s->pr_stale_after < now);
}

/*
 * Stale: no run has finished within two schedule intervals, i.e. the cron
 * expression has fired twice since the last run finished.  A run in
 * progress is never stale.
 */
static int is_stale(const struct config *cfg, const struct log_row *row, time_t now)
{
	time_t n1 = cron_next(&cfg->cron_expr, row->completed_at);
	time_t n2 = n1 == (time_t)-1 ? n1 : cron_next(&cfg->cron_expr, n1);

	return n2 != (time_t)-1 && now > n2;
}

static void print(const struct global *g, const struct status_report *s, int json)
{
	struct strbuf out = STRBUF_INIT;

	if (json) {
		cli_print_json(report_status_json(s));
	} else if (g->verbosity >= 0) {
		report_status_text(s, &out);
		fputs(strbuf_str(&out), stdout);
	}
	strbuf_release(&out);
}

/*
 * What the last run's row means now, and the exit code: a pending row is
 * "running" while the run lock is held, else a killed run.
 */
static int status_decide(const struct config *cfg, time_t now, struct status_report *s)
{
	char lockpath[4096];
	int code;

	s->pr_stale = pin_runner_stale(s, now);
	s->next_run = cron_next(&cfg->cron_expr, now);
	if (!s->found) {
		s->current = "never";
		return EXIT_NEVER;
	}
	if (strcmp(s->last.status, "pending") == 0) {
		cli_lock_path(cfg->db_path, ".lock", lockpath, sizeof(lockpath));
		if (lock_held(lockpath)) {
			s->current = "running";
			code = 0;
		} else {
			/* Killed mid-run; the next run will record it as such. */
			xstrlcpy(s->last.status, "failed", sizeof(s->last.status));
			xstrlcpy(s->last.message, "interrupted", sizeof(s->last.message));
			s->last.has_message = 1;
			s->last.completed_at = s->last.started_at;
			s->last.duration_ms = 0;
			s->current = "failed";
			code = 1;
		}
	} else {
		s->current = s->last.status;
		s->stale = is_stale(cfg, &s->last, now);
		code = strcmp(s->last.status, "success") == 0 && !s->stale ? 0 : 1;
	}
	if (code == 0 && (s->pr_stale || health_any(&s->health) ||
			  (s->pr_found && strcmp(s->pr.status, "success") != 0)))
		code = 1;
	return code;
}

int cmd_status(struct global *g, int argc, char **argv)
{
	static const struct option opts[] = {
		GLOBAL_LONGOPTS,
		{ "json", no_argument, NULL, OPT_JSON },
		{ NULL, 0, NULL, 0 }
	};
	struct status_report s;
	struct config cfg;
	char eb[ERRBUF_SIZE];
	sqlite3 *db = NULL;
	int json = 0, c, code;
	enum err e;

	optind = 0;
	while ((c = getopt_long(argc, argv, GLOBAL_SHORTOPTS, opts, NULL)) != -1) {
		if (cli_global_opt(g, c, optarg))
			continue;
		if (c == OPT_JSON)
			json = 1;
		else
			return cli_usage_error(g, "bad option for status");
	}
	if (optind < argc)
		return cli_usage_error(g, "unexpected argument '%s'", argv[optind]);
	if ((e = cli_load_config(g, &cfg, 0)) != ERR_OK) {
		config_release(&cfg);
		return err_exitcode(e);
	}

	memset(&s, 0, sizeof(s));
	s.schedule = cfg.cron;
	s.dbs.path = cfg.db_path;
	s.pr_stale_after = cfg.pin_runner_every + PIN_RUNNER_GRACE;
	if ((e = db_open(cfg.db_path, DB_READONLY, &db, eb)) != ERR_OK)
		goto fail;
	if (db && db_version(db) > 0) {
		if ((e = store_last_log(db, &s.last, &s.found, eb)) != ERR_OK ||
		    (e = store_job_counts(db, &s.pending, &s.failed, &s.next_due, eb)) != ERR_OK ||
		    (e = store_pin_run(db, &s.pr, &s.pr_found, eb)) != ERR_OK ||
		    (e = store_health(db, &cfg, g->now, &s.health, eb)) != ERR_OK ||
		    (e = store_db_stats(db, cfg.db_path, &s.dbs, eb)) != ERR_OK)
			goto fail;
	}
	code = status_decide(&cfg, g->now, &s);
	print(g, &s, json);
	health_release(&s.health);
	db_close(db);
	config_release(&cfg);
	return code;
fail:
	cli_error(g, "%s", eb);
	health_release(&s.health);
	db_close(db);
	config_release(&cfg);
	return err_exitcode(e);
}
