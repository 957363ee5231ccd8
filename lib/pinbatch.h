/*
 * pinbatch.h - one run of pin-runner over the due PIN jobs (SPEC §5).
 *
 * The batch, in order:
 *   1. jobs a killed run left 'running' go back to 'pending';
 *   2. the due list is read (P1: oldest first, at most max);
 *      a dry run hands each to io->would and stops there, writing nothing;
 *      an idle run (nothing due) touches no network (P7) and only records
 *      the run log row when pinstore_log_run() says it is stale;
 *   3. one HTTP connection and one Tuya client for the whole batch, with the
 *      token cached in the database (P6);
 *   4. each due job is claimed again and executed by pinrun_job(), one at a
 *      time, in order; a lock whose access Tuya refused (1106) is held for
 *      the rest of the batch (its later jobs are skipped, left pending);
 *      refused credentials or an unreachable Tuya end the batch;
 *   5. the token is saved if it was fetched, and the run log row written.
 *
 * Exit policy, decided once here (the caller maps it with err_exitcode()):
 *   - a claim error: that error, and the batch stops;
 *   - credentials refused (stop) or a lock refused (hold): ERR_PERM;
 *   - Tuya unreachable: ERR_UNAVAILABLE, and the batch stops;
 *   - the last of these wins; without any: ERR_PROTOCOL when an answer
 *     broke the protocol, else ERR_ITEMS when a job failed or is retried,
 *     else ERR_OK;
 *   - a failure before the jobs run (recover, due list, libcurl, Tuya
 *     client, token cache): that error, reported and logged as failed.
 * The run log row says 'failed' exactly when the outcome is not ERR_OK.
 *
 * Nothing here prints or reads the clock: messages go through io, the
 * batch's time is opts->now, and Tuya's real time and the run's duration
 * (in the run log row) come from io->wall_ms.
 */
#ifndef STAYS_PINBATCH_H
#define STAYS_PINBATCH_H

#include <sqlite3.h>
#include <stddef.h>
#include <time.h>

#include "config.h"
#include "err.h"
#include "pinstore.h"

struct pinbatch_opts {
	time_t now;                     /* the run's time (--now) */
	long max;                       /* at most this many jobs (--max, >= 1) */
	int dry_run;                    /* list what is due; write nothing */
	const struct config *cfg;       /* [tuya] (url: the seam for a fake
	                                   cloud), [pins], [hooks]; borrowed */
};

/* Callbacks; ctx is handed back to each.  Only wall_ms is required. */
struct pinbatch_io {
	/* -v lines, including the run's summary; never a PIN or a secret. */
	void (*note)(void *ctx, const char *msg);
	/* Errors and problems, each a whole line without the program name. */
	void (*warn)(void *ctx, const char *msg);
	/* A dry run: one call per due job, oldest first (dj is borrowed). */
	void (*would)(void *ctx, const struct due_job *dj);
	/* Test points (crash, pause): step `what` has happened.  NULL outside
	 * the tests; when set it is also given to the Tuya client. */
	void (*step)(void *ctx, const char *what);
	/* The real wall clock in Unix milliseconds, for Tuya's signed t
	 * header (always the real time, even with --now). */
	long long (*wall_ms)(void *ctx);
	void *ctx;
};

/* The counts of one batch (SPEC §6 pinRunner). */
struct pinbatch_result {
	size_t due;                     /* jobs in the due list */
	long done, retried, failed, skipped;
	int recovered;                  /* jobs a killed run left running */
	int token_requests;             /* Tuya token requests made */
	int protocol_errors;            /* answers that broke the protocol */
	long requests;                  /* every Tuya request, and those that */
	long request_errors;            /* failed (tuya_client_errors()) */
};

/*
 * Run the due jobs of db (open read-write, migrated; read-only is enough
 * for a dry run) at opts->now.  *out receives the counts.  Returns the
 * run's outcome under the exit policy above; every message has already
 * gone to io->warn, and errbuf holds the first one ("" when none), which
 * is also the run log's message.
 */
enum err pinrun_batch(sqlite3 *db, const struct pinbatch_opts *opts,
		      const struct pinbatch_io *io, struct pinbatch_result *out,
		      char *errbuf);

#endif
