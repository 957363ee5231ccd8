/*
 * report.h - the outputs of SPEC §6/§6a as data: JSON documents (cJSON
 * trees the caller prints and frees) and one-line texts.  Nothing here
 * writes to a stream; PINs are never part of any report.
 */
#ifndef STAYS_REPORT_H
#define STAYS_REPORT_H

#include <cjson/cJSON.h>

#include "pinstore.h"
#include "plan.h"
#include "store.h"
#include "util.h"

/* {"fetched": .., "created": .., ...} */
cJSON *report_stats_json(const struct plan_stats *s);

/* The lastRun object of status --json (also run --json). */
cJSON *report_log_json(const struct log_row *row);

/* {"dryRun": true, "stats": {...}, "actions": [...]} */
cJSON *report_plan_json(const struct plan *p);

/* One line (no newline) describing an action, for --dry-run and -v. */
void report_action_line(const struct action *a, struct strbuf *out);

/* One report_action_line() per action of p, each ending in a newline. */
void report_actions_text(const struct plan *p, struct strbuf *out);

/* --dry-run without --json: "dry run: <stats>" and the actions. */
void report_dry_run_text(const struct plan *p, struct strbuf *out);

/* A run with -v: "reconciled: <stats> (N requests, N connections, N ms)"
 * and the actions. */
void report_run_text(const struct plan *p, long requests, long connections,
		     long duration_ms, struct strbuf *out);

/* pin-runner --dry-run: "would ACTION CODE on lock DEVICE (due T, attempt N)",
 * no newline. */
void report_due_line(const struct due_job *d, struct strbuf *out);

/* "fetched 45, created 3, ..." */
void report_stats_line(const struct plan_stats *s, struct strbuf *out);

/* {"lastRun": {...} | null, "stale": bool} of status --json. */
cJSON *report_pin_runner_json(const struct pin_run_row *row, int found, int stale);

/* {"unconfirmed": [...], "unrevoked": [...], "overdueJobs": [...],
 * "unmappedBookings": [...]} of status --json.  Never a PIN. */
cJSON *report_health_json(const struct health *h);

/* One line (no newline) per problem of h, for status without --json. */
void report_health_lines(const struct health *h, struct strbuf *out);

/* locks list: [{"listingId", "deviceId", "name", "pinLength", "timezone"}]
 * and the aligned table (a header line when there are rows). */
cJSON *report_locks_json(const struct lock_map *locks, size_t n);
void report_locks_table(const struct lock_map *locks, size_t n, struct strbuf *out);

/* jobs: [{"id", "action", "reservationId", ...}] and the aligned table. */
cJSON *report_jobs_json(const struct job_row *rows, size_t n);
void report_jobs_table(const struct job_row *rows, size_t n, struct strbuf *out);

/* What status shows (SPEC §6), gathered by status.c. */
struct status_report {
	int found;              /* a reconciliation has been logged */
	struct log_row last;
	const char *current;    /* running|success|failed|never */
	const char *schedule;   /* the [schedule] cron expression */
	time_t next_run;        /* (time_t)-1 if the expression never fires */
	int stale;
	long pending, failed;
	time_t next_due;
	int pr_found, pr_stale;
	long pr_stale_after;    /* seconds without a completed pin-runner run */
	struct pin_run_row pr;
	struct health health;
	struct db_stats dbs;
};

/* status --json, and the text of status. */
cJSON *report_status_json(const struct status_report *s);
void report_status_text(const struct status_report *s, struct strbuf *out);

/* Add a UTC ISO-8601 string, or null when t == 0 and null_if_zero. */
void report_add_time(cJSON *obj, const char *name, time_t t, int null_if_zero);

#define LOCAL_LEN 16    /* "YYYY-MM-DDTHH:MM" */

/* t on zone's wall clock as "YYYY-MM-DDTHH:MM" (sep between date and
 * time); 0, or -1 when the zone cannot be used. */
int report_fmt_local(const char *zone, time_t t, char sep, char buf[LOCAL_LEN + 1]);

/* Add t on zone's wall clock ("YYYY-MM-DDTHH:MM"), or null when t == 0
 * or the zone cannot be used. */
void report_add_local(cJSON *obj, const char *name, const char *zone, time_t t);

/* Columns s takes on a terminal: its UTF-8 characters. */
size_t report_text_width(const char *s);

/* Append s, then spaces up to width columns and one more. */
void report_pad(struct strbuf *out, const char *s, size_t width);

/* Add a string, or null when s is NULL or empty. */
void report_add_str(cJSON *obj, const char *name, const char *s);

#endif
