/*
 * run.c - one reconciliation run (see run.h), SPEC §4:
 *   1. R9: mark runs left pending as interrupted, insert this run's
 *      pending row (its own small transaction);
 *   2. R1: fetch both queries; any failure ends the run here (R2);
 *   3. R6: ask Stays about each suspect by id (outside the transaction);
 *   3a. look up the guests of stays that will need a PIN (guests.h);
 *   4. BEGIN IMMEDIATE, load the stored state, plan, write the plan and
 *      complete the log row, COMMIT: all or nothing.
 * A failure at any step rolls back and completes the log row as failed,
 * in its own statement.  RUN_DRY does 2-4 without writing anything.
 */
#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "guests.h"
#include "run.h"
#include "banned.h"

struct run {
	sqlite3 *db;
	const struct config *cfg;
	struct plan_policy policy;
	time_t now;
	unsigned flags;
	const struct run_io *io;
	struct run_result *out;
	char *eb;
	char from[11], to[11];  /* the fetch window, local dates (R1) */
};

/* ---- messages --------------------------------------------------------- */

static void say(void (*fn)(void *, const char *), void *ctx, const char *line)
{
	if (fn)
		fn(ctx, line);
}

/* Each line of text, as cli_error_lines() splits it. */
static void say_lines(void (*fn)(void *, const char *), void *ctx, const char *text)
{
	struct strbuf line = STRBUF_INIT;

	while (text && *text) {
		size_t n = strcspn(text, "\n");

		strbuf_reset(&line);
		strbuf_addf(&line, "%.*s", (int)n, text);
		say(fn, ctx, strbuf_str(&line));
		text += n;
		if (*text == '\n')
			text++;
	}
	strbuf_release(&line);
}

static void note(const struct run *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void note(const struct run *r, const char *fmt, ...)
{
	char line[ERRBUF_SIZE];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	say(r->io->note, r->io->ctx, line);
}

static void warn(const struct run *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void warn(const struct run *r, const char *fmt, ...)
{
	char line[ERRBUF_SIZE];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	say(r->io->warn, r->io->ctx, line);
}

static long elapsed_ms(const struct run *r)
{
	return r->io->elapsed_ms ? r->io->elapsed_ms(r->io->ctx) : 0;
}

/* ---- R9: the log row -------------------------------------------------- */

static enum err log_begin(struct run *r)
{
	struct log_row *log = &r->out->log;
	int interrupted = 0;
	enum err e;

	if (util_uuid(log->id) != 0)
		e = ERRF(r->eb, ERR_OS, "cannot read the system random source");
	else
		e = store_log_begin(r->db, log->id, r->now, &interrupted, r->eb);
	if (e != ERR_OK) {
		say(r->io->error, r->io->ctx, r->eb);
		return e;
	}
	log->started_at = r->now;
	if (interrupted)
		note(r, "marked %d interrupted run%s as failed", interrupted,
		     interrupted == 1 ? "" : "s");
	return ERR_OK;
}

/*
 * The run failed: show why, roll back whatever the run's transaction
 * wrote, and record the failure in the log row, alone.  shown goes to
 * io->error (and errbuf), logged to the row.  Returns e.
 */
static enum err fail(struct run *r, enum err e, const char *shown, const char *logged)
{
	struct log_row *log = &r->out->log;
	char eb[ERRBUF_SIZE];
	long ms;

	if (shown != r->eb)
		xstrlcpy(r->eb, shown, ERRBUF_SIZE);
	say(r->io->error, r->io->ctx, shown);
	if ((r->flags & RUN_DRY) || !r->db)
		return e;
	db_rollback(r->db);
	ms = elapsed_ms(r);
	log->completed_at = r->now + ms / 1000;
	log->duration_ms = ms;
	xstrlcpy(log->status, "failed", sizeof(log->status));
	xstrlcpy(log->message, logged, sizeof(log->message));
	log->has_message = 1;
	if (store_log_end(r->db, log, eb) != ERR_OK)
		say(r->io->error, r->io->ctx, eb);
	else
		r->out->log_failed = 1;
	return e;
}

/* The message of a run that succeeded with something to say, if any. */
static void log_message(struct run *r)
{
	const struct plan *p = &r->out->plan;
	struct log_row *log = &r->out->log;
	long kept = r->out->kept;
	struct strbuf m = STRBUF_INIT;

	if (p->held_back) {
		xstrlcpy(log->message, p->message, sizeof(log->message));
		log->has_message = 1;
		return;
	}
	if (!p->stats.errors && !kept)
		return;
	if (p->stats.errors)
		strbuf_addf(&m, "%ld malformed reservation%s skipped", p->stats.errors,
			    p->stats.errors == 1 ? "" : "s");
	if (kept)
		strbuf_addf(&m, "%s%ld vanished reservation%s kept: Stays did not confirm %s",
			    m.len ? "; " : "", kept, kept == 1 ? "" : "s",
			    kept == 1 ? "it" : "them");
	xstrlcpy(log->message, strbuf_str(&m), sizeof(log->message));
	log->has_message = 1;
	strbuf_release(&m);
}

/* ---- R1, R2: fetch ---------------------------------------------------- */

static enum err fetch(struct run *r)
{
	static const char *const canceled[] = { "canceled" };
	const struct run_stays *s = &r->io->stays;
	struct fetch_result *fr = &r->out->fr;
	enum err e;

	if ((e = plan_local_date(r->cfg->pins.timezone, r->now, -r->cfg->stays.past_days,
				 r->from)) != ERR_OK ||
	    (e = plan_local_date(r->cfg->pins.timezone, r->now, r->cfg->stays.future_days,
				 r->to)) != ERR_OK) {
		char shown[ERRBUF_SIZE];

		snprintf(shown, sizeof(shown), "cannot use time zone '%s'", r->cfg->pins.timezone);
		return fail(r, e, shown, "cannot use the configured time zone");
	}
	e = s->fetch(s->ctx, r->from, r->to, (const char *const *)r->cfg->stays.types,
		     r->cfg->stays.ntypes, fr, r->eb);
	if (e == ERR_OK)
		e = s->fetch(s->ctx, r->from, r->to, canceled, 1, fr, r->eb);
	if (e != ERR_OK)
		return fail(r, e, r->eb, r->eb);
	fetch_result_finish(fr);
	if (fr->nerrors)
		say_lines(r->io->error, r->io->ctx, strbuf_str(&fr->errors));
	if (fr->ncancel)
		say_lines(r->io->note, r->io->ctx, strbuf_str(&fr->notes));
	if (fr->bad_without_id)
		say(r->io->warn, r->io->ctx,
		    "a malformed reservation had no usable _id: vanished reservations were not looked for this run");
	return ERR_OK;
}

/* ---- R6: suspects ----------------------------------------------------- */

static void make_input(const struct run *r, const struct state *st, struct plan_input *in)
{
	memset(in, 0, sizeof(*in));
	in->policy = &r->policy;
	in->st = st;
	in->fr = &r->out->fr;
	in->gone = (const char *const *)r->out->gone;
	in->ngone = r->out->ngone;
	in->force = (r->flags & RUN_FORCE) != 0;
}

/* Ask Stays about one suspect: gone, alive (fetched like the others) or kept. */
static int confirm_one(struct run *r, const struct resv *s)
{
	const struct run_stays *stays = &r->io->stays;
	struct run_result *out = r->out;
	char why[ERRBUF_SIZE], line[ERRBUF_SIZE * 2];
	struct resv got;
	int gone;

	if (stays->get(stays->ctx, s->id, &got, &gone, why) != ERR_OK) {
		snprintf(line, sizeof(line),
			 "reservation %s (%s) is no longer in the Stays lists and could not be confirmed by id: %s; kept as it is this run",
			 s->code, s->id, why);
		say(r->io->error, r->io->ctx, line);
		out->kept++;
	} else if (gone || !plan_is_pin_type(&r->policy, got.type)) {
		out->gone = xgrow(out->gone, sizeof(*out->gone), out->ngone + 1, &out->gonealloc);
		out->gone[out->ngone++] = xstrdup(s->id);
	} else {
		out->fr.items = xgrow(out->fr.items, sizeof(*out->fr.items), out->fr.n + 1,
				      &out->fr.alloc);
		out->fr.items[out->fr.n++] = got;
		return 1;
	}
	return 0;
}

/*
 * R6: a stored reservation missing from a complete fetch is only a
 * suspect - a page that shifted while it was read, a stay extended past
 * the window, an answer cut short.  Ask Stays about each one by id: gone
 * (404, or a type that gets no PIN) is a removal; alive is fetched like
 * the others; no answer keeps it as it is this run.  Runs outside the
 * write transaction: it is network time.
 */
static enum err confirm_suspects(struct run *r)
{
	const struct resv **sus = NULL;
	struct plan_input in;
	struct state st;
	size_t nsus = 0, alive = 0;
	enum err e;

	e = store_load_stored(r->db, r->from, &st, r->eb);
	if (e != ERR_OK)
		return fail(r, e, r->eb, r->eb);
	make_input(r, &st, &in);
	if ((e = plan_suspects(&in, r->now, &sus, &nsus)) != ERR_OK) {
		ERRF(r->eb, e, "cannot use time zone '%s'", r->cfg->pins.timezone);
		fail(r, e, r->eb, r->eb);
		goto out;
	}
	for (size_t i = 0; i < nsus; i++)
		alive += (size_t)confirm_one(r, sus[i]);
	if (alive)
		fetch_result_finish(&r->out->fr);
out:
	free(sus);
	state_release(&st);
	return e;
}

/* ---- guests ----------------------------------------------------------- */

static int cmp_checkin(const void *a, const void *b)
{
	const struct resv *x = *(const struct resv *const *)a, *y = *(const struct resv *const *)b;
	int c = strcmp(x->in_date, y->in_date);

	return c ? c : strcmp(x->id, y->id);
}

/* The listing's name, if not known or old; a failure is only a note. */
static void lookup_listing(struct run *r, const char *listing)
{
	const struct run_stays *s = &r->io->stays;
	struct stays_listing l;
	char why[ERRBUF_SIZE];
	int stale, gone;

	if (guests_listing_stale(r->db, listing, r->now, &stale, why) != ERR_OK || !stale)
		return;
	if (s->listing(s->ctx, listing, &l, &gone, why) != ERR_OK) {
		note(r, "listing %s: its name could not be read: %s", listing, why);
		return;
	}
	if (gone) {
		memset(&l, 0, sizeof(l));
		xstrlcpy(l.id, listing, sizeof(l.id));
	}
	if (guests_listing_save(r->db, &l, r->now, why) != ERR_OK)
		note(r, "listing %s: %s", listing, why);
}

/*
 * One guest.  Returns ERR_OK, or the error that should end the step
 * (Stays unavailable or refusing: the rest waits for the next run).
 */
static enum err lookup_one(struct run *r, const struct resv *v, long attempts)
{
	const struct run_stays *s = &r->io->stays;
	struct stays_guest g;
	char why[ERRBUF_SIZE];
	int gone, done;
	enum err e, stop = ERR_OK;

	e = s->guest(s->ctx, v->id, &g, &gone, why);
	done = e == ERR_OK && !gone && !g.retry;
	if (e == ERR_OK && gone)
		snprintf(why, sizeof(why), "Stays has no reservation %s", v->id);
	else if (e == ERR_OK && g.retry)
		snprintf(why, sizeof(why), "%s", g.problem);
	if (e == ERR_UNAVAILABLE || e == ERR_PERM || g.retry)
		stop = e != ERR_OK ? e : ERR_UNAVAILABLE;
	if (e != ERR_OK)
		memset(&g, 0, sizeof(g));
	if ((e = guests_save(r->db, v->id, &g, done, why, r->now, r->eb)) != ERR_OK)
		return e;
	if (!done) {
		r->out->guests_failed++;
		note(r, "guest of %s: look-up failed (%s); tried again next run", v->code, why);
		if (attempts + 1 == GUEST_WARN_ATTEMPTS)
			warn(r, "the guest of reservation %s could not be looked up %d times (%s); the on_pin hook gets no guest details until it can",
			     v->code, GUEST_WARN_ATTEMPTS, why);
		return stop;
	}
	r->out->guests_found++;
	note(r, "guest of %s: looked up (%s%s%s%s)%s%s", v->code, g.name[0] ? "name" : "no name",
	     g.phone[0] ? ", phone" : "", g.email[0] ? ", e-mail" : "",
	     g.language[0] ? ", language" : "", g.problem[0] ? "; " : "", g.problem);
	lookup_listing(r, v->listing);
	return ERR_OK;
}

/*
 * Look up the guests of fetched stays of a PIN type on a mapped listing,
 * not over and checking in within the horizon, whose look-up has not
 * succeeded yet; earliest check-in first, at most GUEST_LOOKUPS_PER_RUN.
 * Nothing here fails the run: a database error ends the step with a
 * warning, Stays' errors are recorded per guest.
 */
static void lookup_guests(struct run *r)
{
	const struct fetch_result *fr = &r->out->fr;
	const struct resv **c;
	sqlite3_stmt *need_st = NULL;
	char today[11], until[11];
	long days = HEALTH_UNMAPPED_AHEAD / 86400, attempts, tried = 0;
	size_t n = 0;
	enum err e = ERR_OK;
	int need;

	if (!r->io->stays.guest || !r->io->stays.listing || fr->n == 0)
		return;
	if (r->policy.generate_before / 86400 + 2 > days)
		days = r->policy.generate_before / 86400 + 2;
	if (plan_local_date(r->cfg->pins.timezone, r->now, 0, today) != ERR_OK ||
	    plan_local_date(r->cfg->pins.timezone, r->now, days, until) != ERR_OK)
		return;
	c = xcalloc(fr->n, sizeof(*c));
	for (size_t i = 0; i < fr->n; i++) {
		const struct resv *v = &fr->items[i];

		if (plan_is_pin_type(&r->policy, v->type) && strcmp(v->out_date, today) >= 0 &&
		    strcmp(v->in_date, until) <= 0)
			c[n++] = v;
	}
	qsort(c, n, sizeof(*c), cmp_checkin);
	for (size_t i = 0; i < n && tried < GUEST_LOOKUPS_PER_RUN && e == ERR_OK; i++) {
		if ((e = guests_need(r->db, &need_st, c[i]->id, c[i]->listing, &need, &attempts,
				     r->eb)) != ERR_OK || !need)
			continue;
		tried++;
		e = lookup_one(r, c[i], attempts);
	}
	if (e == ERR_DB)
		warn(r, "guests were not looked up: %s", r->eb);
	else if (e != ERR_OK)
		note(r, "no more guests looked up this run: Stays did not answer, or refused");
	sqlite3_finalize(need_st);
	free(c);
}

/* ---- the transaction -------------------------------------------------- */

/* BEGIN (unless dry), load, plan. */
static enum err plan_run(struct run *r)
{
	struct run_result *out = r->out;
	struct plan_input in;
	enum err e;

	if (!(r->flags & RUN_DRY) && (e = db_begin(r->db, r->eb)) != ERR_OK)
		return fail(r, e, r->eb, r->eb);
	if ((e = store_load(r->db, r->from, out->fr.items, out->fr.n, &out->st, r->eb)) != ERR_OK)
		return fail(r, e, r->eb, r->eb);
	make_input(r, &out->st, &in);
	e = plan_build(&in, r->now, &out->plan);
	out->log.stats = out->plan.stats;
	if (e != ERR_OK)
		return fail(r, e, out->plan.message, out->plan.message);
	if (out->plan.held_back)
		say(r->io->error, r->io->ctx, out->plan.message);
	return ERR_OK;
}

/* Write the plan and complete the log row, COMMIT. */
/*
 * Bookings stored on listings with no lock get no PIN: -v lists them all;
 * those checking in within HEALTH_UNMAPPED_AHEAD get one warning a day
 * (cron mails stderr), remembered in unmapped_warnings.  Inside the run's
 * transaction.
 */
static enum err unmapped_notice(struct run *r)
{
	struct health_list l = { 0 };
	char day[11], in[UTC_ISO_LEN + 1];
	enum err e;
	int first;

	if (plan_local_date(r->cfg->pins.timezone, r->now, 0, day) != ERR_OK)
		return ERRF(r->eb, ERR_CONFIG, "cannot use time zone '%s'", r->cfg->pins.timezone);
	if ((e = store_unmapped_forget(r->db, day, r->eb)) != ERR_OK ||
	    (e = store_unmapped(r->db, r->cfg, r->now, 0, &l, r->eb)) != ERR_OK)
		goto out;
	for (size_t i = 0; i < l.n; i++) {
		const struct health_item *it = &l.v[i];

		util_fmt_utc(it->from, in, sizeof(in));
		note(r, "no lock: reservation %s (%s) on listing %s checks in %s", it->code,
		     it->resv, it->listing, in);
		if (it->from > r->now + HEALTH_UNMAPPED_AHEAD)
			continue;
		if ((e = store_unmapped_warned(r->db, it->resv, day, &first, r->eb)) != ERR_OK)
			goto out;
		if (first)
			warn(r, "reservation %s checks in %s on listing %s, which has no lock: its guest gets no PIN; map one with `stays-reconcile locks add %s DEVICE_ID`",
			     it->code, in, it->listing, it->listing);
	}
out:
	free(l.v);
	return e;
}

/* Guests of stays that ended before yesterday or are no longer active. */
static enum err forget_guests(struct run *r)
{
	char before[11];
	enum err e;

	if (plan_local_date(r->cfg->pins.timezone, r->now, -1, before) != ERR_OK)
		return ERRF(r->eb, ERR_CONFIG, "cannot use time zone '%s'", r->cfg->pins.timezone);
	e = guests_forget(r->db, before, r->now, &r->out->guests_forgotten, r->eb);
	if (e == ERR_OK && r->out->guests_forgotten)
		note(r, "forgot the guests of %ld past or canceled stays",
		     r->out->guests_forgotten);
	return e;
}

/* [database] keep_days: old history goes, in the run's transaction. */
static enum err retention(struct run *r)
{
	struct retention *rt = &r->out->retention;
	enum err e;

	e = store_retention(r->db, r->now - r->cfg->keep_days * 86400L, r->from, rt, r->eb);
	if (e == ERR_OK && (rt->logs || rt->jobs || rt->credentials))
		note(r, "deleted what is older than %ld days: %ld run logs, %ld jobs, %ld revoked credentials",
		     r->cfg->keep_days, rt->logs, rt->jobs, rt->credentials);
	return e;
}

static enum err apply_run(struct run *r)
{
	struct run_result *out = r->out;
	struct log_row *log = &out->log;
	enum err e;

	if ((e = store_apply(r->db, &out->plan, r->now, r->eb)) != ERR_OK ||
	    (e = unmapped_notice(r)) != ERR_OK || (e = forget_guests(r)) != ERR_OK ||
	    (e = retention(r)) != ERR_OK)
		return fail(r, e, r->eb, r->eb);
	log->duration_ms = elapsed_ms(r);
	log->completed_at = r->now + log->duration_ms / 1000;
	xstrlcpy(log->status, out->plan.held_back ? "failed" : "success", sizeof(log->status));
	log_message(r);
	if ((e = store_log_end(r->db, log, r->eb)) != ERR_OK ||
	    (e = db_commit(r->db, r->eb)) != ERR_OK)
		return fail(r, e, r->eb, r->eb);
	return ERR_OK;
}

enum err reconcile_run(sqlite3 *db, const struct config *cfg, time_t now, unsigned flags,
		       const struct run_io *io, struct run_result *out, char *errbuf)
{
	struct run r = {
		.db = db, .cfg = cfg, .now = now, .flags = flags, .io = io, .out = out,
		.eb = errbuf,
	};
	enum err e;

	assert(cfg && io && io->stays.fetch && io->stays.get && out && errbuf);
	assert(db || (flags & RUN_DRY));
	memset(out, 0, sizeof(*out));
	plan_policy_from_config(cfg, &r.policy);
	if (!(flags & RUN_DRY) && (e = log_begin(&r)) != ERR_OK)
		return e;
	if ((e = fetch(&r)) != ERR_OK || (e = confirm_suspects(&r)) != ERR_OK)
		return e;
	if (!(flags & RUN_DRY))
		lookup_guests(&r);
	if ((e = plan_run(&r)) != ERR_OK)
		return e;
	if (flags & RUN_DRY)
		return ERR_OK;
	return apply_run(&r);
}

void run_result_release(struct run_result *res)
{
	plan_release(&res->plan);
	state_release(&res->st);
	fetch_result_release(&res->fr);
	for (size_t i = 0; i < res->ngone; i++)
		free(res->gone[i]);
	free(res->gone);
	memset(res, 0, sizeof(*res));
}

/* ---- the real transport ----------------------------------------------- */

void run_http_init(struct run_http *h, const struct config *cfg,
		   void (*sleep_ms)(void *ctx, long ms),
		   void (*note_fn)(void *ctx, const char *msg), void *ctx)
{
	memset(h, 0, sizeof(*h));
	h->cfg = cfg;
	h->sc.base_url = cfg->stays.url;
	h->sc.attempts = cfg->stays.retries;
	h->sc.sleep_ms = sleep_ms;
	h->sc.note = note_fn;
	h->sc.ctx = ctx;
}

/* The connection, opened at the first request of the run. */
static enum err http_open(struct run_http *h, char *errbuf)
{
	struct http_opts ho = {
		.timeout = h->cfg->stays.timeout,
		.ca_file = h->cfg->stays.ca_file,
		.basic_user = h->cfg->stays.client_id,
		.basic_pass = h->cfg->stays.client_secret,
	};

	if (h->http)
		return ERR_OK;
	if (!(h->http = http_new(&ho, errbuf)))
		return ERR_INTERNAL;
	h->sc.http = h->http;
	return ERR_OK;
}

static enum err http_fetch(void *ctx, const char *from, const char *to,
			   const char *const *types, int ntypes, struct fetch_result *fr,
			   char *errbuf)
{
	struct run_http *h = ctx;
	enum err e = http_open(h, errbuf);

	return e != ERR_OK ? e : stays_fetch(&h->sc, from, to, types, ntypes, fr, errbuf);
}

static enum err http_get(void *ctx, const char *id, struct resv *out, int *gone,
			 char *errbuf)
{
	struct run_http *h = ctx;
	enum err e = http_open(h, errbuf);

	return e != ERR_OK ? e : stays_get_reservation(&h->sc, id, out, gone, errbuf);
}

static enum err http_guest(void *ctx, const char *id, struct stays_guest *g, int *gone,
			   char *errbuf)
{
	struct run_http *h = ctx;
	enum err e = http_open(h, errbuf);

	return e != ERR_OK ? e : stays_get_guest(&h->sc, id, g, gone, errbuf);
}

static enum err http_listing(void *ctx, const char *id, struct stays_listing *l, int *gone,
			     char *errbuf)
{
	struct run_http *h = ctx;
	enum err e = http_open(h, errbuf);

	return e != ERR_OK ? e : stays_get_listing(&h->sc, id, l, gone, errbuf);
}

struct run_stays run_http_stays(struct run_http *h)
{
	struct run_stays s = { http_fetch, http_get, http_guest, http_listing, h };

	return s;
}

void run_http_release(struct run_http *h)
{
	http_free(h->http);
	memset(h, 0, sizeof(*h));
}
