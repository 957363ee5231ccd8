/*
 * metrics.h - the metrics file ([metrics] textfile): node_exporter's
 * textfile-collector format (the Prometheus text exposition format), for
 * the monitoring an operator already runs.
 *
 * Three parts, one file each:
 *   - metrics.c renders: plain data (struct metrics) in, text out; no I/O,
 *     no clock.  Every family has # HELP and # TYPE; the names follow the
 *     Prometheus conventions (stays_reconcile_ prefix, base units, _total
 *     only on counters); label values are escaped.
 *   - metrics_store.c reads struct metrics from the database, all of it in
 *     one read transaction (one consistent snapshot), and keeps the
 *     request counters (table service_requests).
 *   - metrics_file.c writes the text atomically: a temporary file in the
 *     same folder, written, fsync'ed, chmod 0644, renamed over the old one.
 *
 * Why from the database: stays-reconcile and pin-runner both write the file
 * at the end of each of their runs, and may run at the same time.  Each
 * writes the whole file from the database - not only its own figures - so
 * whichever writes last leaves a complete, consistent file.  The callers
 * hold metrics_file_lock() from before the read until after the rename,
 * so the last file written is also the one read last.
 */
#ifndef STAYS_METRICS_H
#define STAYS_METRICS_H

#include <sqlite3.h>
#include <time.h>

#include "config.h"
#include "err.h"
#include "plan.h"
#include "util.h"

enum metrics_program { METRICS_RECONCILE, METRICS_PIN_RUNNER, METRICS_NPROGRAMS };
enum metrics_service { METRICS_STAYS, METRICS_TUYA, METRICS_NSERVICES };

#define METRICS_NACTIONS 3      /* pin_jobs.action */
#define METRICS_NJOB_STATUSES 5 /* pin_jobs.status */
#define METRICS_NCRED_STATES 5  /* credentials.state */

/* The label values, in the order of the arrays of struct metrics. */
extern const char *const metrics_programs[METRICS_NPROGRAMS];  /* "stays-reconcile", ... */
extern const char *const metrics_services[METRICS_NSERVICES];  /* "stays", "tuya" */
extern const char *const metrics_actions[METRICS_NACTIONS];    /* "generate", ... */
extern const char *const metrics_job_statuses[METRICS_NJOB_STATUSES];
extern const char *const metrics_cred_states[METRICS_NCRED_STATES];

/* The last completed run of one program. */
struct metrics_run {
	int found;                      /* 0: none recorded (no samples) */
	time_t started_at, completed_at;
	long duration_ms;               /* -1: not recorded (no sample) */
	int success;                    /* 1: success, 0: failed */
	time_t last_success;            /* completed_at of the last success; 0: never */
};

/* Everything the file says, as plain numbers. */
struct metrics {
	struct metrics_run run[METRICS_NPROGRAMS];
	struct plan_stats stats;        /* of run[METRICS_RECONCILE], when found */
	long jobs[METRICS_NACTIONS][METRICS_NJOB_STATUSES];
	long creds[METRICS_NCRED_STATES];
	/* The health lists of `status` (store.h), counted. */
	long unconfirmed, unrevoked, overdue, unmapped;
	/* Counters since the database was created. */
	long long requests[METRICS_NSERVICES];
	long long request_errors[METRICS_NSERVICES];
};

/*
 * The whole file for m, appended to out: every family in a fixed order,
 * each with its # HELP and # TYPE lines.  A program with no recorded run
 * has no run samples; a family with no sample at all is left out.
 */
void metrics_render(const struct metrics *m, struct strbuf *out);

/* v as a label value between double quotes: '\' -> "\\", '"' -> "\"",
 * newline -> "\n" (the exposition format's escapes). */
void metrics_escape_label(const char *v, struct strbuf *out);

/* The index of s in names[n], or -1. */
int metrics_index(const char *const *names, int n, const char *s);

/*
 * Read m from db at instant now, in one read transaction (BEGIN ...
 * COMMIT: the caller must not be in a transaction).  cfg: the windows of
 * the health lists (store_health()).  A pending reconciliation_logs row
 * is skipped: the last completed run is reported.  It is a run in
 * progress, or a killed one that the next run records as failed.  (Telling
 * the two apart as `status` does, by testing the run lock, is not done
 * here: pin-runner would hold stays-reconcile's lock for an instant and
 * could make a run that starts just then exit 75.)  Errors: ERR_DB.
 */
enum err metrics_collect(sqlite3 *db, const struct config *cfg, time_t now,
			 struct metrics *m, char *errbuf);

/*
 * Add a run's requests and failed requests to service's counters (one
 * statement; nothing is written when requests is 0, so an idle pin-runner
 * writes nothing).  Errors: ERR_DB.
 */
enum err metrics_count_requests(sqlite3 *db, enum metrics_service service, long requests,
				long errors, time_t now, char *errbuf);

/*
 * Serialise the writers of the file at path: an exclusive flock(2) on its
 * folder, waited for (a writer holds it for milliseconds).  *fd receives
 * the lock, or -1 when the folder cannot be opened (the write goes on
 * unlocked; it will fail on its own if the folder is missing).  Release
 * with metrics_file_unlock().
 */
void metrics_file_lock(const char *path, int *fd);
void metrics_file_unlock(int fd);

/*
 * Replace the file at path with text (len bytes), atomically: mkstemp()
 * in the same folder under a hidden name that does not end in .prom
 * (".NAME.XXXXXX", which the collector never reads), write, fsync, fchmod
 * 0644, close, rename.  On failure the temporary file is removed and the
 * old file is left as it was.  Errors: ERR_IO ("cannot write metrics file
 * '/x.prom': Permission denied").
 */
enum err metrics_write_file(const char *path, const char *text, size_t len, char *errbuf);

#endif
