/*
 * run.h - one reconciliation run, `stays-reconcile run` (SPEC §4, R1-R9).
 *
 * Who owns what:
 *   - The caller (reconcile.c) parses the options, loads the
 *     configuration, takes the run lock (R10), opens the database, calls
 *     reconcile_run(), prints what it is told through struct run_io,
 *     renders the result (text or JSON) and maps it to an exit code.
 *   - reconcile_run() owns the run itself: R9's log row from its start
 *     (marking runs left pending as interrupted) to its end, the fetch of
 *     both queries (R1) with nothing changed when it fails (R2), the
 *     suspects and their look-up by id (R6, outside the transaction: it is
 *     network time), the guests of stays that need a PIN (guests.h, also
 *     outside, and before the transaction so that pin-runner never sees a
 *     new PIN's job before its guest was asked for), and one transaction
 *     around store_load(),
 *     plan_build(), store_apply() and the completed log row: all or
 *     nothing.
 *   - lib/plan.c decides, lib/store.c writes, the Stays transport is
 *     behind struct run_stays so a test can replace it.
 *
 * Nothing here prints, exits or reads the clock: messages go to the
 * run_io callbacks in the order they happen, the time is `now`, and the
 * run's duration comes from run_io.elapsed_ms.
 */
#ifndef STAYS_RUN_H
#define STAYS_RUN_H

#include <sqlite3.h>
#include <time.h>

#include "config.h"
#include "err.h"
#include "http.h"
#include "plan.h"
#include "stays.h"
#include "store.h"

enum run_flags {
	RUN_DRY = 1,    /* --dry-run: plan only; db is only read and may be NULL */
	RUN_FORCE = 2   /* --force: no mass-removal guard (R6) */
};

/* The Stays transport: the real client (struct run_http) or a stub. */
struct run_stays {
	/* One query, with stays_fetch()'s contract. */
	enum err (*fetch)(void *ctx, const char *from, const char *to,
			  const char *const *types, int ntypes, struct fetch_result *fr,
			  char *errbuf);
	/* One reservation by id, with stays_get_reservation()'s contract. */
	enum err (*get)(void *ctx, const char *id, struct resv *out, int *gone,
			char *errbuf);
	/* The guest of a reservation, with stays_get_guest()'s contract, and
	 * one listing, with stays_get_listing()'s.  Both NULL: no guests are
	 * looked up. */
	enum err (*guest)(void *ctx, const char *resv_id, struct stays_guest *g, int *gone,
			  char *errbuf);
	enum err (*listing)(void *ctx, const char *id, struct stays_listing *l, int *gone,
			    char *errbuf);
	void *ctx;
};

/*
 * How the run talks to its caller.  Each callback receives one line
 * without its newline; any may be NULL (the line is dropped).
 */
struct run_io {
	struct run_stays stays;
	void (*note)(void *ctx, const char *line);  /* progress, for -v */
	void (*warn)(void *ctx, const char *line);  /* a warning, unless -q */
	void (*error)(void *ctx, const char *line); /* an error, always shown */
	long (*elapsed_ms)(void *ctx);              /* since the run began (R9);
	                                               NULL: 0 */
	void *ctx;
};

/* What a run leaves; everything owned, released by run_result_release(). */
struct run_result {
	struct plan plan;       /* the plan (stats, held_back, actions to render);
	                           empty when the run failed before planning */
	struct log_row log;     /* R9: the row as last written (not with RUN_DRY) */
	int log_failed;         /* the run failed and its row says so */
	long kept;              /* R6: suspects Stays did not confirm, kept */
	long guests_found;      /* guests looked up this run */
	long guests_failed;     /* look-ups that failed (tried again next run) */
	long guests_forgotten;  /* guests of past or canceled stays deleted */
	struct retention retention;     /* [database] keep_days: deleted */
	/* What the plan's actions point into. */
	struct fetch_result fr;
	struct state st;
	char **gone;            /* R6: suspects Stays confirmed gone */
	size_t ngone, gonealloc;
};

/*
 * Run one reconciliation at instant now.  db: open for writing, or with
 * RUN_DRY opened read-only or NULL (no database yet).  cfg and io are
 * borrowed for the call.  out is always initialised; release it.
 *
 * Returns ERR_OK when the run was applied (or, with RUN_DRY, planned) -
 * also when the R6 guard held removals back (out->plan.held_back), when
 * items were skipped (out->plan.stats.errors) or suspects kept
 * (out->kept).  Otherwise the error of the step that failed (ERR_OS,
 * ERR_DB, ERR_CONFIG, ERR_UNAVAILABLE, ERR_PERM, ERR_PROTOCOL, ...): its
 * message was passed to io->error and is in errbuf, nothing of the run
 * is written but the failed log row (out->log_failed, R2/R9).
 */
enum err reconcile_run(sqlite3 *db, const struct config *cfg, time_t now, unsigned flags,
		       const struct run_io *io, struct run_result *out, char *errbuf);

void run_result_release(struct run_result *res);

/*
 * The real Stays transport: a stays_client over one libcurl connection
 * for the whole run (R1, reused by R6), opened at the first request.
 * cfg, sleep_ms, note and ctx are borrowed; note gets the client's
 * progress lines.  run_http_stays() gives the seam for struct run_io.
 */
struct run_http {
	const struct config *cfg;
	struct http *http;      /* owned; NULL until the first request */
	struct stays_client sc;
};

void run_http_init(struct run_http *h, const struct config *cfg,
		   void (*sleep_ms)(void *ctx, long ms),
		   void (*note)(void *ctx, const char *msg), void *ctx);
struct run_stays run_http_stays(struct run_http *h);
void run_http_release(struct run_http *h);

#endif
