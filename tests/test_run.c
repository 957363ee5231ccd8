/*
 * test_run.c - reconcile_run() (lib/run.c) on a real database file with a
 * stub Stays transport: no network, canned answers, failures on demand.
 * What it checks is SPEC §4's shape of a run: one transaction for the
 * run's changes (R9), nothing but a failed log row after a failed fetch
 * (R2) or a failure inside the transaction, nothing at all in a dry run,
 * the suspects of R6 and the mass-removal guard.
 *
 * Times: NOW is 2026-12-01T12:00:00Z; the stays are in December, so every
 * stored reservation here is still to come (a suspect when it vanishes).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "db.h"
#include "testutil.h"
#include "run.h"

#define NOW 1796126400L  /* 2026-12-01T12:00:00Z */
#define MAXN 32

/* What the stub Stays answers. */
struct stub {
	struct resv pin[MAXN];          /* the PIN-type query */
	size_t npin;
	struct resv canceled[MAXN];     /* the canceled query */
	size_t ncanceled;
	enum err fail_canceled;         /* the canceled query fails with this */
	struct {                        /* R6 look-ups by id */
		const char *id;
		enum err e;             /* ERR_OK: answered */
		int gone;               /* 404 */
		struct resv alive;      /* the answer when not gone */
	} ids[MAXN];
	size_t nids;
	int fetches, gets;
	struct strbuf said;             /* every line of io, "error: ..." */
	/* Guest look-ups: a guest "Guest <id>" unless guest_e; retry and
	 * problem as stays_get_guest() sets them. */
	enum err guest_e;
	int guest_retry, guest_gone;
	const char *guest_problem;
	struct strbuf guests_asked;     /* "R1 R2 " */
	int listings;
	sqlite3 *db;                    /* to see what pin-runner could see */
};

struct fx {
	char dir[64];
	char path[128];
	sqlite3 *db;
	struct config cfg;
	struct stub stub;
	struct run_io io;
	struct run_result res;
	char eb[ERRBUF_SIZE];
};

static long count(sqlite3 *db, const char *q)
{
	return strtol(test_rows(db, q), NULL, 10);
}

static struct resv resv(const char *id, const char *in, const char *out)
{
	struct resv r;

	memset(&r, 0, sizeof(r));
	xstrlcpy(r.id, id, sizeof(r.id));
	snprintf(r.code, sizeof(r.code), "C%s", id);
	xstrlcpy(r.listing, "L1", sizeof(r.listing));
	xstrlcpy(r.in_date, in, sizeof(r.in_date));
	xstrlcpy(r.out_date, out, sizeof(r.out_date));
	xstrlcpy(r.type, "booked", sizeof(r.type));
	r.guests = 2;
	return r;
}

/* A stored active reservation of L1, as an earlier run left it. */
static void store_resv(sqlite3 *db, const char *id)
{
	test_sql(db, "INSERT INTO reservations (id, code, listing_id, checkin_date, checkout_date, "
	    "type, guests, status, created_at, updated_at) VALUES ('%s', 'C%s', 'L1', "
	    "'2026-12-10', '2026-12-12', 'booked', 2, 'active', 0, 0)", id, id);
}

/* ---- the stub transport and the io callbacks -------------------------- */

static void append(struct fetch_result *fr, const struct resv *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		fr->items = xgrow(fr->items, sizeof(*fr->items), fr->n + 1, &fr->alloc);
		fr->items[fr->n++] = v[i];
	}
}

static enum err stub_fetch(void *ctx, const char *from, const char *to,
			   const char *const *types, int ntypes, struct fetch_result *fr,
			   char *errbuf)
{
	struct stub *s = ctx;

	assert_string_equal(from, "2026-11-29");
	assert_string_equal(to, "2027-12-01");
	s->fetches++;
	if (ntypes == 1 && strcmp(types[0], "canceled") == 0) {
		if (s->fail_canceled != ERR_OK)
			return ERRF(errbuf, s->fail_canceled, "stays is unavailable");
		append(fr, s->canceled, s->ncanceled);
	} else {
		append(fr, s->pin, s->npin);
	}
	return ERR_OK;
}

static enum err stub_get(void *ctx, const char *id, struct resv *out, int *gone,
			 char *errbuf)
{
	struct stub *s = ctx;

	s->gets++;
	for (size_t i = 0; i < s->nids; i++) {
		if (strcmp(s->ids[i].id, id) != 0)
			continue;
		if (s->ids[i].e != ERR_OK)
			return ERRF(errbuf, s->ids[i].e, "no answer");
		*gone = s->ids[i].gone;
		*out = s->ids[i].alive;
		return ERR_OK;
	}
	fail_msg("unexpected look-up of %s", id);
	return ERR_INTERNAL;
}

static enum err stub_guest(void *ctx, const char *id, struct stays_guest *g, int *gone,
			   char *errbuf)
{
	struct stub *s = ctx;
	char q[128];

	strbuf_addf(&s->guests_asked, "%s ", id);
	/* Asked before the transaction: no job of it is visible yet. */
	snprintf(q, sizeof(q), "SELECT count(*) FROM pin_jobs WHERE reservation_id = '%s'", id);
	if (strcmp(test_rows(s->db, "SELECT count(*) FROM guests WHERE looked_up_at IS NOT NULL "
			     "OR attempts > 0"), "0\n") == 0)
		assert_string_equal(test_rows(s->db, q), "0\n");
	memset(g, 0, sizeof(*g));
	*gone = s->guest_gone;
	if (s->guest_e != ERR_OK)
		return ERRF(errbuf, s->guest_e, "stays is unavailable");
	snprintf(g->name, sizeof(g->name), "Guest %s", id);
	if (!s->guest_retry) {
		xstrlcpy(g->email, "guest@example.com", sizeof(g->email));
		xstrlcpy(g->language, "pt_BR", sizeof(g->language));
	}
	xstrlcpy(g->phone, "+5521999990000", sizeof(g->phone));
	g->retry = s->guest_retry;
	if (s->guest_problem)
		xstrlcpy(g->problem, s->guest_problem, sizeof(g->problem));
	return ERR_OK;
}

static enum err stub_listing(void *ctx, const char *id, struct stays_listing *l, int *gone,
			     char *errbuf)
{
	struct stub *s = ctx;

	(void)errbuf;
	s->listings++;
	*gone = 0;
	memset(l, 0, sizeof(*l));
	xstrlcpy(l->id, id, sizeof(l->id));
	xstrlcpy(l->code, "LC1", sizeof(l->code));
	xstrlcpy(l->name, "Copacabana 302", sizeof(l->name));
	return ERR_OK;
}

static void say(struct stub *s, const char *kind, const char *line)
{
	strbuf_addf(&s->said, "%s: %s\n", kind, line);
}

static void on_note(void *ctx, const char *line) { say(ctx, "note", line); }
static void on_warn(void *ctx, const char *line) { say(ctx, "warn", line); }
static void on_error(void *ctx, const char *line) { say(ctx, "error", line); }
static long on_elapsed(void *ctx) { (void)ctx; return 1234; }

/* ---- fixture ---------------------------------------------------------- */

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f || test_tmp_setup("test_run", f->dir, f->path, &f->cfg) != 0)
		return -1;
	if (db_open(f->path, DB_READWRITE, &f->db, f->eb) != ERR_OK)
		return -1;
	test_sql(f->db, "INSERT INTO locks (device_id, listing_id, created_at) VALUES ('D1', 'L1', 0)");
	f->io.stays.fetch = stub_fetch;
	f->io.stays.get = stub_get;
	f->io.stays.ctx = &f->stub;
	f->io.note = on_note;
	f->io.warn = on_warn;
	f->io.error = on_error;
	f->io.elapsed_ms = on_elapsed;
	f->io.ctx = &f->stub;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];

	run_result_release(&f->res);
	strbuf_release(&f->stub.said);
	strbuf_release(&f->stub.guests_asked);
	db_close(f->db);
	config_release(&f->cfg);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	free(f);
	return system(cmd);
}

static enum err run(struct fx *f, sqlite3 *db, unsigned flags)
{
	run_result_release(&f->res);
	strbuf_reset(&f->stub.said);
	strbuf_reset(&f->stub.guests_asked);
	f->stub.fetches = f->stub.gets = f->stub.listings = 0;
	return reconcile_run(db, &f->cfg, NOW, flags, &f->io, &f->res, f->eb);
}

static int on_commit(void *arg)
{
	(*(int *)arg)++;
	return 0;
}

static const char *last_log(sqlite3 *db)
{
	return test_rows(db, "SELECT status, fetched, created, removed, duration_ms, message "
		    "FROM reconciliation_logs ORDER BY rowid DESC LIMIT 1");
}

/* The state a failed run must leave alone. */
static char *snapshot(sqlite3 *db)
{
	struct strbuf sb = STRBUF_INIT;

	strbuf_adds(&sb, test_rows(db, "SELECT * FROM reservations ORDER BY id"));
	strbuf_adds(&sb, test_rows(db, "SELECT * FROM pin_jobs ORDER BY id"));
	strbuf_adds(&sb, test_rows(db, "SELECT * FROM credentials ORDER BY id"));
	return sb.buf;  /* the caller frees it */
}

/* ---- tests ------------------------------------------------------------ */

/* (a) Two new bookings: rows, jobs and a success log row, in one transaction. */
static void test_success(void **state)
{
	struct fx *f = *state;
	int commits = 0;

	f->stub.pin[f->stub.npin++] = resv("R1", "2026-12-10", "2026-12-12");
	f->stub.pin[f->stub.npin++] = resv("R2", "2026-12-20", "2026-12-22");
	sqlite3_commit_hook(f->db, on_commit, &commits);
	assert_int_equal(run(f, f->db, 0), ERR_OK);
	sqlite3_commit_hook(f->db, NULL, NULL);
	/* The pending log row alone, then everything else at once (R9). */
	assert_int_equal(commits, 2);
	assert_int_equal(f->stub.fetches, 2);
	assert_int_equal(f->stub.gets, 0);
	assert_string_equal(test_rows(f->db, "SELECT id, status FROM reservations ORDER BY id"),
			    "R1|active\nR2|active\n");
	assert_string_equal(test_rows(f->db, "SELECT id, status FROM pin_jobs ORDER BY id"),
			    "generate:R1:D1|pending\ngenerate:R2:D1|pending\n"
			    "revoke:R1:D1|pending\nrevoke:R2:D1|pending\n");
	assert_string_equal(last_log(f->db), "success|2|2|0|1234|NULL\n");
	assert_int_equal(count(f->db, "SELECT count(*) FROM reconciliation_logs"), 1);
	assert_int_equal(f->res.plan.stats.created, 2);
	assert_int_equal(f->res.plan.n, 6);
	assert_false(f->res.log_failed);
	assert_string_equal(f->res.log.status, "success");
	assert_int_equal(f->res.log.completed_at, NOW + 1);
	assert_string_equal(strbuf_str(&f->stub.said), "");

	/* A run left pending by a killed run is marked failed, with a note. */
	test_sql(f->db, "INSERT INTO reconciliation_logs (id, started_at, status, created_at) "
	    "VALUES ('x', %ld, 'pending', 1)", NOW - 3600);
	assert_int_equal(run(f, f->db, 0), ERR_OK);
	assert_string_equal(strbuf_str(&f->stub.said), "note: marked 1 interrupted run as failed\n");
	assert_string_equal(test_rows(f->db, "SELECT status, message FROM reconciliation_logs WHERE id = 'x'"),
			    "failed|interrupted\n");
	assert_int_equal(f->res.plan.stats.unchanged, 2);
	assert_int_equal(f->res.plan.n, 0);

	/* [database] keep_days (90): an older run's row goes, in the run. */
	test_sql(f->db, "INSERT INTO reconciliation_logs (id, started_at, status, created_at) "
	    "VALUES ('old', %ld, 'success', 1)", NOW - 91 * 86400L);
	assert_int_equal(run(f, f->db, 0), ERR_OK);
	assert_int_equal(f->res.retention.logs, 1);
	assert_string_equal(strbuf_str(&f->stub.said), "note: deleted what is older than 90 days: "
			    "1 run logs, 0 jobs, 0 revoked credentials\n");
	assert_int_equal(count(f->db, "SELECT count(*) FROM reconciliation_logs"), 4);
}

/* (b) R2: a failed query changes nothing but the log row, which says why. */
static void test_fetch_failure(void **state)
{
	struct fx *f = *state;
	char *before, *after;

	f->stub.pin[f->stub.npin++] = resv("R1", "2026-12-10", "2026-12-12");
	assert_int_equal(run(f, f->db, 0), ERR_OK);
	before = snapshot(f->db);
	f->stub.pin[0].in_date[9] = '1';        /* R1 moved: 2026-12-11 */
	f->stub.pin[f->stub.npin++] = resv("R2", "2026-12-20", "2026-12-22");
	f->stub.fail_canceled = ERR_UNAVAILABLE;
	assert_int_equal(run(f, f->db, 0), ERR_UNAVAILABLE);
	assert_int_equal(f->stub.fetches, 2);
	assert_int_equal(f->stub.gets, 0);
	after = snapshot(f->db);
	assert_string_equal(after, before);
	free(after);
	assert_string_equal(last_log(f->db), "failed|0|0|0|1234|stays is unavailable\n");
	assert_int_equal(count(f->db, "SELECT count(*) FROM reconciliation_logs"), 2);
	assert_true(f->res.log_failed);
	assert_string_equal(f->eb, "stays is unavailable");
	assert_string_equal(strbuf_str(&f->stub.said), "error: stays is unavailable\n");
	assert_int_equal(f->res.plan.n, 0);
	free(before);
}

/* (c) A failure inside the transaction rolls everything back but the log row. */
static void test_transaction_failure(void **state)
{
	struct fx *f = *state;

	f->stub.pin[f->stub.npin++] = resv("R1", "2026-12-10", "2026-12-12");
	/* store_apply fails on its first job, after the reservation row. */
	test_sql(f->db, "CREATE TRIGGER boom BEFORE INSERT ON pin_jobs BEGIN "
	    "SELECT RAISE(ABORT, 'boom'); END");
	assert_int_equal(run(f, f->db, 0), ERR_DB);
	assert_int_equal(count(f->db, "SELECT count(*) FROM reservations"), 0);
	assert_int_equal(count(f->db, "SELECT count(*) FROM pin_jobs"), 0);
	assert_string_equal(last_log(f->db), "failed|1|1|0|1234|cannot write the plan: boom\n");
	assert_true(f->res.log_failed);
	assert_string_equal(strbuf_str(&f->stub.said), "error: cannot write the plan: boom\n");

	/* A plan error (a lock's zone that cannot be used): the same. */
	test_sql(f->db, "DROP TRIGGER boom");
	test_sql(f->db, "UPDATE locks SET timezone = 'Nowhere/Atlantis'");
	assert_int_equal(run(f, f->db, 0), ERR_CONFIG);
	assert_int_equal(count(f->db, "SELECT count(*) FROM reservations"), 0);
	assert_int_equal(count(f->db, "SELECT count(*) FROM pin_jobs"), 0);
	assert_string_equal(last_log(f->db),
			    "failed|1|1|0|1234|cannot compute the stay of reservation 'CR1' on lock 'D1'\n");
	assert_int_equal(count(f->db, "SELECT count(*) FROM reconciliation_logs "
			       "WHERE status != 'failed'"), 0);
}

/* (d) A dry run plans and writes nothing, with or without a database. */
static void test_dry_run(void **state)
{
	struct fx *f = *state;
	int changes;

	f->stub.pin[f->stub.npin++] = resv("R1", "2026-12-10", "2026-12-12");
	assert_int_equal(run(f, NULL, RUN_DRY), ERR_OK);
	assert_int_equal(f->res.plan.stats.created, 1);
	assert_int_equal(f->res.plan.n, 1);     /* no lock known: no jobs */

	store_resv(f->db, "S1");
	f->stub.ids[f->stub.nids].id = "S1";
	f->stub.ids[f->stub.nids++].gone = 1;
	changes = sqlite3_total_changes(f->db);
	assert_int_equal(run(f, f->db, RUN_DRY), ERR_OK);
	assert_int_equal(sqlite3_total_changes(f->db), changes);
	assert_int_equal(count(f->db, "SELECT count(*) FROM reconciliation_logs"), 0);
	assert_int_equal(count(f->db, "SELECT count(*) FROM pin_jobs"), 0);
	assert_string_equal(test_rows(f->db, "SELECT id, status FROM reservations"), "S1|active\n");
	assert_int_equal(f->stub.gets, 1);
	assert_int_equal(f->res.plan.stats.created, 1);
	assert_int_equal(f->res.plan.stats.removed, 1);
	assert_true(f->res.plan.n > 2);
	assert_false(f->res.log_failed);
}

/* (e) R6: gone is removed, no answer is kept (and counted), alive is updated. */
static void test_suspects(void **state)
{
	struct fx *f = *state;

	store_resv(f->db, "S1");
	store_resv(f->db, "S2");
	store_resv(f->db, "S3");
	f->stub.ids[0].id = "S1";
	f->stub.ids[0].gone = 1;
	f->stub.ids[1].id = "S2";
	f->stub.ids[1].e = ERR_UNAVAILABLE;
	f->stub.ids[2].id = "S3";
	f->stub.ids[2].alive = resv("S3", "2026-12-10", "2026-12-14");
	f->stub.nids = 3;
	assert_int_equal(run(f, f->db, 0), ERR_OK);
	assert_int_equal(f->stub.gets, 3);
	assert_string_equal(test_rows(f->db, "SELECT id, status, checkout_date FROM reservations ORDER BY id"),
			    "S1|removed|2026-12-12\nS2|active|2026-12-12\nS3|active|2026-12-14\n");
	assert_int_equal(f->res.kept, 1);
	assert_int_equal(f->res.plan.stats.removed, 1);
	assert_int_equal(f->res.plan.stats.updated, 1);
	assert_string_equal(strbuf_str(&f->stub.said),
			    "error: reservation CS2 (S2) is no longer in the Stays lists and could not "
			    "be confirmed by id: no answer; kept as it is this run\n");
	assert_string_equal(last_log(f->db),
			    "success|1|0|1|1234|1 vanished reservation kept: Stays did not confirm it\n");
}

/* (f) R6 guard: only the removals wait for --force; the new guest gets a PIN. */
static void test_guard(void **state)
{
	struct fx *f = *state;

	f->cfg.stays.max_removals = 1;
	store_resv(f->db, "G1");
	store_resv(f->db, "G2");
	f->stub.ids[0].id = "G1";
	f->stub.ids[0].gone = 1;
	f->stub.ids[1].id = "G2";
	f->stub.ids[1].gone = 1;
	f->stub.nids = 2;
	f->stub.pin[f->stub.npin++] = resv("N1", "2026-12-10", "2026-12-12");
	assert_int_equal(run(f, f->db, 0), ERR_OK);
	assert_int_equal(f->res.plan.held_back, 2);
	assert_string_equal(test_rows(f->db, "SELECT id, status FROM reservations ORDER BY id"),
			    "G1|active\nG2|active\nN1|active\n");
	assert_int_equal(count(f->db, "SELECT count(*) FROM pin_jobs WHERE reservation_id = 'N1'"), 2);
	assert_string_equal(test_rows(f->db, "SELECT status FROM reconciliation_logs"), "failed\n");
	assert_non_null(strstr(last_log(f->db), "held back the removal of 2 reservations"));
	assert_non_null(strstr(strbuf_str(&f->stub.said), "error: held back the removal of 2"));

	assert_int_equal(run(f, f->db, RUN_FORCE), ERR_OK);
	assert_int_equal(f->res.plan.held_back, 0);
	assert_string_equal(test_rows(f->db, "SELECT id, status FROM reservations ORDER BY id"),
			    "G1|removed\nG2|removed\nN1|active\n");
	assert_string_equal(last_log(f->db), "success|1|0|2|1234|NULL\n");
	assert_string_equal(strbuf_str(&f->stub.said), "");
}

/* Turn the guest look-ups on. */
static void guests_on(struct fx *f)
{
	f->io.stays.guest = stub_guest;
	f->io.stays.listing = stub_listing;
	f->stub.db = f->db;
}

/*
 * (g) Guests are asked for before the transaction (pin-runner never sees
 * a new PIN's job without them), earliest check-in first, at most
 * GUEST_LOOKUPS_PER_RUN a run, once each; only stays of a PIN type on a
 * mapped listing, not over, checking in within the horizon; never in a
 * dry run.  The listing's name comes with the first guest.
 */
static void test_guests(void **state)
{
	struct fx *f = *state;
	struct resv other;
	char day[32];

	guests_on(f);
	for (int i = 0; i < 24; i++) {
		char id[32];

		snprintf(id, sizeof(id), "R%02d", 23 - i);
		snprintf(day, sizeof(day), "2026-12-%02d", 2 + (23 - i) / 4);
		f->stub.pin[f->stub.npin++] = resv(id, day, "2026-12-20");
	}
	f->stub.pin[f->stub.npin++] = resv("FAR", "2026-12-30", "2027-01-02");
	other = resv("UNMAPPED", "2026-12-03", "2026-12-05");
	xstrlcpy(other.listing, "L2", sizeof(other.listing));
	f->stub.pin[f->stub.npin++] = other;
	f->stub.canceled[f->stub.ncanceled++] = resv("CAN", "2026-12-03", "2026-12-05");
	xstrlcpy(f->stub.canceled[0].type, "canceled", sizeof(f->stub.canceled[0].type));

	assert_int_equal(run(f, f->db, RUN_DRY), ERR_OK);
	assert_string_equal(strbuf_str(&f->stub.guests_asked), "");

	assert_int_equal(run(f, f->db, 0), ERR_OK);
	assert_string_equal(strbuf_str(&f->stub.guests_asked),
			    "R00 R01 R02 R03 R04 R05 R06 R07 R08 R09 R10 R11 R12 R13 R14 R15 R16 "
			    "R17 R18 R19 ");
	assert_int_equal(f->res.guests_found, 20);
	assert_int_equal(f->stub.listings, 1);
	assert_string_equal(test_rows(f->db, "SELECT name, phone, email, language, attempts, "
				      "last_error, looked_up_at FROM guests WHERE reservation_id = 'R00'"),
			    "Guest R00|+5521999990000|guest@example.com|pt_BR|0|NULL|1796126400\n");
	assert_string_equal(test_rows(f->db, "SELECT * FROM listing_names"),
			    "L1|LC1|Copacabana 302|1796126400\n");
	assert_non_null(strstr(strbuf_str(&f->stub.said),
			       "note: guest of CR00: looked up (name, phone, e-mail, language)\n"));

	/* The next run asks for the rest, and for nobody twice. */
	assert_int_equal(run(f, f->db, 0), ERR_OK);
	assert_string_equal(strbuf_str(&f->stub.guests_asked), "R20 R21 R22 R23 ");
	assert_int_equal(f->stub.listings, 0);
	assert_int_equal(run(f, f->db, 0), ERR_OK);
	assert_string_equal(strbuf_str(&f->stub.guests_asked), "");
	assert_int_equal(count(f->db, "SELECT count(*) FROM guests"), 24);

	/* A canceled stay's guest is forgotten by the run that sees it. */
	f->stub.canceled[f->stub.ncanceled] = f->stub.pin[0];
	xstrlcpy(f->stub.canceled[f->stub.ncanceled++].type, "canceled", 9);
	f->stub.npin--;
	memmove(f->stub.pin, f->stub.pin + 1, f->stub.npin * sizeof(*f->stub.pin));
	assert_int_equal(run(f, f->db, 0), ERR_OK);
	assert_int_equal(f->res.guests_forgotten, 1);
	assert_int_equal(count(f->db, "SELECT count(*) FROM guests WHERE reservation_id = 'R23'"), 0);
	assert_int_equal(count(f->db, "SELECT count(*) FROM guests"), 23);
}

/*
 * (h) A failed look-up never fails the run: it is recorded, the step stops
 * (Stays is not answering), the next run tries again, a warning comes at
 * the GUEST_WARN_ATTEMPTS-th failure only.  A client call that may work
 * later keeps what the reservation gave and is tried again; a client that
 * cannot be read (Stays' invalid stored data) is final.
 */
static void test_guest_failures(void **state)
{
	struct fx *f = *state;

	guests_on(f);
	f->stub.pin[f->stub.npin++] = resv("R1", "2026-12-02", "2026-12-04");
	f->stub.pin[f->stub.npin++] = resv("R2", "2026-12-03", "2026-12-05");
	f->stub.guest_e = ERR_UNAVAILABLE;
	for (int i = 1; i <= 4; i++) {
		assert_int_equal(run(f, f->db, 0), ERR_OK);
		assert_string_equal(strbuf_str(&f->stub.guests_asked), "R1 ");
		assert_int_equal(f->res.guests_failed, 1);
		assert_string_equal(f->res.log.status, "success");
		assert_int_equal(strstr(strbuf_str(&f->stub.said), "warn: the guest of reservation CR1 "
					"could not be looked up 3 times (stays is unavailable)") != NULL,
				 i == 3);
	}
	assert_string_equal(test_rows(f->db, "SELECT reservation_id, name, attempts, last_error, "
				      "looked_up_at FROM guests"),
			    "R1|NULL|4|stays is unavailable|NULL\n");
	assert_int_equal(count(f->db, "SELECT count(*) FROM pin_jobs WHERE action = 'generate'"), 2);

	/* The reservation answers, its client is unavailable: kept, asked again. */
	f->stub.guest_e = ERR_OK;
	f->stub.guest_retry = 1;
	f->stub.guest_problem = "Stays is unavailable: HTTP 503 for client X";
	assert_int_equal(run(f, f->db, 0), ERR_OK);
	assert_string_equal(strbuf_str(&f->stub.guests_asked), "R1 ");
	assert_string_equal(test_rows(f->db, "SELECT name, phone, email, attempts, looked_up_at "
				      "FROM guests WHERE reservation_id = 'R1'"),
			    "Guest R1|+5521999990000|NULL|5|NULL\n");
	/* A client Stays cannot read is final; what is known is kept. */
	f->stub.guest_retry = 0;
	f->stub.guest_problem = "Stays answered HTTP 400 for client X: 'contactEmails/0/adr must...'";
	assert_int_equal(run(f, f->db, 0), ERR_OK);
	assert_string_equal(strbuf_str(&f->stub.guests_asked), "R1 R2 ");
	assert_string_equal(test_rows(f->db, "SELECT name, email, attempts, looked_up_at IS NOT NULL, "
				      "last_error FROM guests WHERE reservation_id = 'R1'"),
			    "Guest R1|guest@example.com|5|1|Stays answered HTTP 400 for client X: "
			    "'contactEmails/0/adr must...'\n");
	/* 404: recorded as failed, tried again. */
	f->stub.guest_gone = 1;
	f->stub.pin[f->stub.npin++] = resv("R3", "2026-12-03", "2026-12-05");
	assert_int_equal(run(f, f->db, 0), ERR_OK);
	assert_string_equal(strbuf_str(&f->stub.guests_asked), "R3 ");
	assert_string_equal(test_rows(f->db, "SELECT attempts, last_error FROM guests "
				      "WHERE reservation_id = 'R3'"),
			    "1|Stays has no reservation R3\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_success, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fetch_failure, setup, teardown),
		cmocka_unit_test_setup_teardown(test_transaction_failure, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dry_run, setup, teardown),
		cmocka_unit_test_setup_teardown(test_suspects, setup, teardown),
		cmocka_unit_test_setup_teardown(test_guard, setup, teardown),
		cmocka_unit_test_setup_teardown(test_guests, setup, teardown),
		cmocka_unit_test_setup_teardown(test_guest_failures, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
