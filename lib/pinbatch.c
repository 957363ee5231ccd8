/*
 * pinbatch.c - the claim-execute loop of pin-runner (see pinbatch.h for
 * the order of a batch and its exit policy).
 *
 * Invariants kept here:
 *   - No network before something is due (P7): the HTTP handle and the
 *     Tuya client are made only after the due list is non-empty.
 *   - Every job is claimed again right before it runs (P1) and recorded by
 *     pinrun_job() before the next one starts.
 *   - A fetched token is saved after every job and at the end (P6), so a
 *     crash between jobs does not cost another token request.
 *   - A dry run writes nothing: no recover, no claim, no run log.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "pinbatch.h"
#include "pinrun.h"
#include "banned.h"

struct batch {
	sqlite3 *db;
	const struct pinbatch_opts *o;
	const struct pinbatch_io *io;
	struct pinbatch_result *res;
	struct due_job *due;            /* the due list (owned) */
	struct http *http;
	struct tuya_client *tuya;
	enum err outcome;               /* under the exit policy, so far */
	long long start_ms;             /* io->wall_ms at the start */
	char message[ERRBUF_SIZE];      /* the first problem: the log's message */
};

static void warn(const struct batch *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void warn(const struct batch *b, const char *fmt, ...)
{
	char msg[2 * ERRBUF_SIZE];
	va_list ap;

	if (!b->io->warn)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	b->io->warn(b->io->ctx, msg);
}

/* Keep the first problem of the run as its log message. */
static void remember(struct batch *b, const char *msg)
{
	if (!b->message[0])
		xstrlcpy(b->message, msg, sizeof(b->message));
}

/* A problem of one job: reported, remembered, and (e) the outcome so far. */
static void problem(struct batch *b, const char *msg, enum err e)
{
	warn(b, "%s", msg);
	remember(b, msg);
	if (e != ERR_OK)
		b->outcome = e;
}

static void step(const struct batch *b, const char *what)
{
	if (b->io->step)
		b->io->step(b->io->ctx, what);
}

/* 1 if an earlier job of this run found the lock refused (1106). */
static int held(const struct due_job *due, size_t upto, const int *hold, const char *device)
{
	for (size_t k = 0; k < upto; k++)
		if (hold[k] && strcmp(due[k].j.device, device) == 0)
			return 1;
	return 0;
}

/* P6: persist the token if this client fetched one. */
static void save_token(const struct batch *b)
{
	char eb[ERRBUF_SIZE];

	if (tuya_client_token_fetched(b->tuya) &&
	    pinstore_token_save(b->db, tuya_client_token(b->tuya), b->o->now, eb) != ERR_OK)
		warn(b, "%s", eb);
}

/*
 * Count the result r of job dj (index i) and decide what it means for the
 * batch.  Returns 1 when the batch must stop.
 */
static int tally(struct batch *b, enum pinrun_result r, const struct due_job *dj,
		 const char *eb, int *hold)
{
	struct pinbatch_result *t = b->res;

	switch (r) {
	case PR_DONE: t->done++; break;
	case PR_SKIPPED: t->skipped++; break;
	case PR_RETRY: t->retried++; problem(b, eb, ERR_OK); break;
	case PR_FAILED: t->failed++; problem(b, eb, ERR_OK); break;
	case PR_STOP_AUTH:
		t->skipped++;
		warn(b, "Tuya refused the credentials (job %s left pending): %s; check [tuya] client_id and client_secret",
		     dj->j.id, eb);
		remember(b, eb);
		b->outcome = ERR_PERM;
		return 1;
	case PR_HOLD_LOCK:
		*hold = 1;
		t->skipped++;
		problem(b, eb, ERR_PERM);
		break;
	case PR_STOP_NET:
		t->retried++;
		problem(b, eb, ERR_UNAVAILABLE);
		return 1;
	}
	return 0;
}

/*
 * P1: claim each due job again (it may have changed since the list was
 * read) and execute it, counting the outcomes.
 */
static void run_jobs(struct batch *b, struct pinrun *pr)
{
	size_t n = b->res->due;
	int *hold = xcalloc(n, sizeof(*hold));
	char eb[ERRBUF_SIZE];
	enum err e;

	for (size_t i = 0; i < n; i++) {
		struct due_job dj;
		enum pinrun_result r;
		int claimed;

		if (held(b->due, i, hold, b->due[i].j.device)) {
			char why[160];

			snprintf(why, sizeof(why),
				 "held back: Tuya denied access to lock %.64s earlier in this run",
				 b->due[i].j.device);
			if (pinstore_held(b->db, b->due[i].j.id, why, eb) != ERR_OK)
				warn(b, "%s", eb);
			b->res->skipped++;
			continue;
		}
		if ((e = pinstore_claim(b->db, b->due[i].j.id, b->o->now, &dj, &claimed,
					eb)) != ERR_OK) {
			problem(b, eb, e);
			break;
		}
		if (!claimed) {
			b->res->skipped++;
			continue;
		}
		step(b, "claimed");
		tuya_client_set_now(b->tuya, b->io->wall_ms(b->io->ctx));
		r = pinrun_job(pr, &dj, eb);
		save_token(b);
		if (tally(b, r, &dj, eb, &hold[i]))
			break;
	}
	free(hold);
}

/* One HTTP connection and one Tuya client, with the cached token (P6). */
static enum err connect_tuya(struct batch *b, char *errbuf)
{
	const struct config *cfg = b->o->cfg;
	struct tuya_token tok;
	int found;
	enum err e;

	b->http = http_new(&(struct http_opts){ .timeout = 30, .ca_file = cfg->tuya.ca_file },
			   errbuf);
	if (!b->http)
		return ERR_INTERNAL;
	if ((e = tuya_client_new(&b->tuya, cfg->tuya.url, cfg->tuya.client_id,
				 cfg->tuya.client_secret, b->http, b->io->wall_ms(b->io->ctx),
				 errbuf)) != ERR_OK)
		return e;
	if ((e = pinstore_token_load(b->db, &tok, &found, errbuf)) != ERR_OK)
		return e;
	if (found)
		tuya_client_set_token(b->tuya, &tok);
	explicit_bzero(&tok, sizeof(tok));
	if (b->io->step)
		tuya_client_set_step(b->tuya, b->io->step, b->io->ctx);
	return ERR_OK;
}

/* Connect, run the due jobs, save the token, note the summary. */
static enum err execute(struct batch *b, char *errbuf)
{
	const struct pinbatch_result *t = b->res;
	struct pinrun pr;
	enum err e;

	if ((e = connect_tuya(b, errbuf)) != ERR_OK)
		return e;
	step(b, "listed");      /* the due list is read; nothing claimed yet */
	memset(&pr, 0, sizeof(pr));
	pr.db = b->db;
	pr.cfg = b->o->cfg;
	pr.tuya = b->tuya;
	pr.now = b->o->now;
	pr.step = b->io->step;
	pr.note = b->io->note;
	pr.warn = b->io->warn;
	pr.ctx = b->io->ctx;
	run_jobs(b, &pr);
	save_token(b);
	b->res->token_requests = tuya_client_token_requests(b->tuya);
	b->res->protocol_errors = pr.protocol_errors;
	if (b->io->note) {
		char msg[256];

		snprintf(msg, sizeof(msg),
			 "pin-runner: %zu due, %ld done, %ld to retry, %ld failed, %ld skipped (%d token request%s)",
			 t->due, t->done, t->retried, t->failed, t->skipped, t->token_requests,
			 t->token_requests == 1 ? "" : "s");
		b->io->note(b->io->ctx, msg);
	}
	if (b->outcome == ERR_OK && t->protocol_errors)
		b->outcome = ERR_PROTOCOL;
	if (b->outcome == ERR_OK && (t->retried || t->failed))
		b->outcome = ERR_ITEMS;
	return ERR_OK;
}

/* The run log row (SPEC §6 pinRunner) with message ("" for none); a
 * failure to write it is reported.  Before any job ran the counts are 0. */
static void log_run(const struct batch *b, const char *message)
{
	const struct pinbatch_result *t = b->res;
	long long ms = b->io->wall_ms(b->io->ctx) - b->start_ms;
	struct pin_run_log lr = {
		.started_at = b->o->now, .completed_at = b->o->now,
		.status = b->outcome != ERR_OK ? "failed" : "success",
		.due = (long)t->due, .done = t->done, .retried = t->retried,
		.failed = t->failed, .message = message[0] ? message : NULL,
		.duration_ms = ms > 0 ? (long)ms : 0,
	};
	char eb[ERRBUF_SIZE];

	if (pinstore_log_run(b->db, &lr, eb) != ERR_OK)
		warn(b, "%s", eb);
}

/* Recover, read the due list, and run it (or list it: dry run). */
static enum err batch_run(struct batch *b, char *errbuf)
{
	enum err e;

	if (!b->o->dry_run && (e = pinstore_recover(b->db, &b->res->recovered, errbuf)) != ERR_OK)
		return e;
	if ((e = pinstore_due(b->db, b->o->now, b->o->max, &b->due, &b->res->due,
			      errbuf)) != ERR_OK)
		return e;
	if (b->o->dry_run) {
		for (size_t i = 0; i < b->res->due && b->io->would; i++)
			b->io->would(b->io->ctx, &b->due[i]);
		return ERR_OK;
	}
	if (b->res->due == 0) {
		log_run(b, "");    /* P7: idle, no network */
		return ERR_OK;
	}
	if ((e = execute(b, errbuf)) != ERR_OK)
		return e;
	log_run(b, b->message);
	return ERR_OK;
}

enum err pinrun_batch(sqlite3 *db, const struct pinbatch_opts *opts,
		      const struct pinbatch_io *io, struct pinbatch_result *out,
		      char *errbuf)
{
	struct batch b = { .db = db, .o = opts, .io = io, .res = out };
	enum err e;

	memset(out, 0, sizeof(*out));
	errbuf[0] = '\0';
	b.start_ms = io->wall_ms(io->ctx);
	if ((e = batch_run(&b, errbuf)) != ERR_OK) {
		/* Before any job ran: the run failed as a whole. */
		warn(&b, "%s", errbuf);
		b.outcome = e;
		if (!opts->dry_run)
			log_run(&b, errbuf);
	} else {
		xstrlcpy(errbuf, b.message, ERRBUF_SIZE);
	}
	if (b.tuya) {
		out->requests = tuya_client_requests(b.tuya);
		out->request_errors = tuya_client_errors(b.tuya);
	}
	free(b.due);
	tuya_client_free(b.tuya);
	http_free(b.http);
	return b.outcome;
}
