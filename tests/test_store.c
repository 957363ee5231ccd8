/*
 * test_store.c - stays-reconcile's SQL on a real database file: the
 * migration from schema 1 (every row kept), applying a plan (R9's writes,
 * a running job canceled), loading what planning needs (credentials in
 * every state), and the health lists of status (P3a, SPEC §6).
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
#include "store.h"

#define NOW 1796126400L  /* 2026-12-01T12:00:00Z */

struct fx {
	char dir[64];
	char path[128];
	sqlite3 *db;
	struct config cfg;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f || test_tmp_setup("test_store", f->dir, f->path, &f->cfg) != 0)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];

	db_close(f->db);
	config_release(&f->cfg);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	free(f);
	return system(cmd);
}

static void open_db(struct fx *f)
{
	char eb[ERRBUF_SIZE];

	if (db_open(f->path, DB_READWRITE, &f->db, eb) != ERR_OK)
		fail_msg("%s", eb);
}

static char *read_file(const char *path)
{
	FILE *fp = fopen(path, "r");
	char *buf;
	long n;

	assert_non_null(fp);
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	rewind(fp);
	buf = calloc(1, (size_t)n + 1);
	assert_int_equal(fread(buf, 1, (size_t)n, fp), (size_t)n);
	fclose(fp);
	return buf;
}

/* How many temporary b-trees the statement sql opens (EXPLAIN). */
static int ephemeral(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	char q[1024];
	int n = 0;

	snprintf(q, sizeof(q), "EXPLAIN %s", sql);
	assert_int_equal(sqlite3_prepare_v2(db, q, -1, &st, NULL), SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW)
		n += strcmp((const char *)sqlite3_column_text(st, 1), "OpenEphemeral") == 0;
	sqlite3_finalize(st);
	return n;
}

/* The shape of a schema: every column and index, in a stable order. */
static void shape(sqlite3 *db, struct strbuf *out)
{
	static const char q[] =
		"SELECT m.name, p.name, p.type, p.\"notnull\", coalesce(p.dflt_value, ''), p.pk "
		"FROM sqlite_master m, pragma_table_info(m.name) p WHERE m.type = 'table' "
		"ORDER BY m.name, p.cid";
	static const char qi[] =
		"SELECT name, tbl_name, replace(replace(sql, '\t', ' '), '\n', ' ') FROM sqlite_master "
		"WHERE type = 'index' AND sql IS NOT NULL ORDER BY name";

	static const char qt[] =
		"SELECT name, wr FROM pragma_table_list WHERE schema = 'main' ORDER BY name";
	static const char bad_resv[] =
		"INSERT INTO reservations (id, code, listing_id, checkin_date, checkout_date, type, "
		"status, created_at, updated_at) VALUES ('b', 'B', 'L', 'x', 'x', 'x', 'bogus', 0, 0)";
	static const char bad_job[] =
		"INSERT INTO pin_jobs (id, action, reservation_id, device_id, due_at, status, "
		"created_at, updated_at) VALUES ('b', '%s', 'r', 'd', 0, '%s', 0, 0)";
	char sql[256];

	strbuf_adds(out, test_rows(db, q));
	strbuf_adds(out, test_rows(db, qi));
	strbuf_adds(out, test_rows(db, qt));
	/* The writes of a run build no temporary index (schema 7: no IN list
	 * in a CHECK), and the CHECKs still refuse what they refused. */
	strbuf_addf(out, "ephemeral: %d %d\n", ephemeral(db, bad_resv),
		    ephemeral(db, "INSERT INTO pin_jobs (id, action, reservation_id, device_id, "
			      "due_at, created_at, updated_at) VALUES ('b', 'revoke', 'r', 'd', 0, "
			      "0, 0) ON CONFLICT (id) DO UPDATE SET status = 'done'"));
	strbuf_addf(out, "refused: %d", sqlite3_exec(db, bad_resv, NULL, NULL, NULL));
	snprintf(sql, sizeof(sql), bad_job, "bogus", "pending");
	strbuf_addf(out, " %d", sqlite3_exec(db, sql, NULL, NULL, NULL));
	snprintf(sql, sizeof(sql), bad_job, "revoke", "bogus");
	strbuf_addf(out, " %d\n", sqlite3_exec(db, sql, NULL, NULL, NULL));
	/* The CHECK on credentials.state takes the new states, and only them. */
	strbuf_addf(out, "check: %d %d\n",
		    sqlite3_exec(db, "INSERT INTO credentials (reservation_id, device_id, name, pin, "
				 "valid_from, valid_until, state, created_at) VALUES "
				 "('x', 'x', 'x', 'x', 0, 0, 'revoking', 0)", NULL, NULL, NULL),
		    sqlite3_exec(db, "INSERT INTO credentials (reservation_id, device_id, name, pin, "
				 "valid_from, valid_until, state, created_at) VALUES "
				 "('y', 'y', 'y', 'y', 0, 0, 'bogus', 0)", NULL, NULL, NULL));
	sqlite3_exec(db, "DELETE FROM credentials WHERE reservation_id = 'x'", NULL, NULL, NULL);
	/* Only a revoked credential may lose its PIN (schema 5). */
	strbuf_addf(out, "pin: %d %d\n",
		    sqlite3_exec(db, "INSERT INTO credentials (reservation_id, device_id, name, pin, "
				 "valid_from, valid_until, state, created_at) VALUES "
				 "('x', 'x', 'x', NULL, 0, 0, 'revoked', 0)", NULL, NULL, NULL),
		    sqlite3_exec(db, "INSERT INTO credentials (reservation_id, device_id, name, pin, "
				 "valid_from, valid_until, state, created_at) VALUES "
				 "('y', 'y', 'y', NULL, 0, 0, 'revoking', 0)", NULL, NULL, NULL));
	sqlite3_exec(db, "DELETE FROM credentials WHERE reservation_id = 'x'", NULL, NULL, NULL);
}

/* Schema 1 -> the current one keeps every row, and ends where a new
 * database starts. */
static void test_migrate_v1(void **state)
{
	struct fx *f = *state;
	struct strbuf want = STRBUF_INIT, got = STRBUF_INIT;
	char fresh[160], eb[ERRBUF_SIZE], *v1;
	sqlite3 *db;

	snprintf(fresh, sizeof(fresh), "%s/fresh.db", f->dir);
	assert_int_equal(db_open(fresh, DB_READWRITE, &db, eb), ERR_OK);
	assert_int_equal(db_version(db), DB_SCHEMA_VERSION);
	shape(db, &want);
	assert_non_null(strstr(strbuf_str(&want), "ephemeral: 0 0\nrefused: 19 19 19\n"));
	db_close(db);

	/* A version 1 database, as the first release made it, with rows. */
	{
		const char *top = getenv("TOP");
		char path[512];

		snprintf(path, sizeof(path), "%s/tests/fixtures/schema-v1.sql", top ? top : ".");
		v1 = read_file(path);
	}
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, v1, NULL, NULL, NULL), SQLITE_OK);
	free(v1);
	test_sql(db, "PRAGMA user_version = 1");
	test_sql(db, "INSERT INTO reservations (id, code, listing_id, checkin_date, checkout_date, type, "
		"guests, created_at, updated_at) VALUES ('R1', 'RV001', 'L1', '2026-12-10', "
		"'2026-12-12', 'booked', 2, 1, 1), ('R2', 'RV001', 'L1', '2026-12-14', '2026-12-16', "
		"'booked', 2, 1, 1)");
	test_sql(db, "INSERT INTO credentials (id, reservation_id, device_id, password_id, name, pin, "
		"valid_from, valid_until, state, created_at, revoked_at) VALUES "
		"(1, 'R1', 'D1', 7001, 'RV001', '1234560', 10, 20, 'active', 5, NULL), "
		"(2, 'R2', 'D1', 7001, 'RV001', '6543219', 30, 40, 'active', 6, NULL), "
		"(3, 'R1', 'D2', NULL, 'RV001', '1234560', 10, 20, 'creating', 7, NULL), "
		"(4, 'R1', 'D3', 7000, 'RV001', '1234560', 10, 20, 'revoked', 4, 9)");
	sqlite3_close(db);

	open_db(f);
	assert_int_equal(db_version(f->db), DB_SCHEMA_VERSION);
	shape(f->db, &got);
	assert_string_equal(strbuf_str(&got), strbuf_str(&want));
	assert_string_equal(test_rows(f->db, "SELECT count(*) FROM reservations"), "2\n");
	/* Every credential kept; one password id, one live holder: the
	 * younger of the two went back to creating (its revoke searches by
	 * name).  v1's active rows count as confirmed and notified. */
	assert_string_equal(test_rows(f->db, "SELECT id, reservation_id, device_id, password_id, name, pin, "
				 "valid_from, valid_until, state, created_at, confirmed_at, "
				 "notified_at, revoked_at FROM credentials ORDER BY id"),
			    "1|R1|D1|7001|RV001|1234560|10|20|active|5|5|5|NULL\n"
			    "2|R2|D1|NULL|RV001|6543219|30|40|creating|6|6|6|NULL\n"
			    "3|R1|D2|NULL|RV001|1234560|10|20|creating|7|NULL|NULL|NULL\n"
			    "4|R1|D3|7000|RV001|NULL|10|20|revoked|4|NULL|NULL|9\n");
	/* Opening again changes nothing. */
	db_close(f->db);
	open_db(f);
	assert_int_equal(db_version(f->db), DB_SCHEMA_VERSION);
	strbuf_release(&want);
	strbuf_release(&got);
}

/* A newer schema than the program's is refused, not touched. */
static void test_newer_schema(void **state)
{
	struct fx *f = *state;
	char eb[ERRBUF_SIZE], want[64];
	sqlite3 *db;

	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	test_sql(db, "CREATE TABLE x (a); PRAGMA user_version = 99");
	sqlite3_close(db);
	assert_int_equal(db_open(f->path, DB_READWRITE, &f->db, eb), ERR_DB);
	snprintf(want, sizeof(want), "schema version 99, newer than this program's %d",
		 DB_SCHEMA_VERSION);
	assert_non_null(strstr(eb, want));
}

static struct resv resv(const char *id, const char *listing, const char *in, const char *out)
{
	struct resv r;

	memset(&r, 0, sizeof(r));
	xstrlcpy(r.id, id, sizeof(r.id));
	snprintf(r.code, sizeof(r.code), "C%s", id);
	xstrlcpy(r.listing, listing, sizeof(r.listing));
	xstrlcpy(r.in_date, in, sizeof(r.in_date));
	xstrlcpy(r.out_date, out, sizeof(r.out_date));
	xstrlcpy(r.type, "booked", sizeof(r.type));
	xstrlcpy(r.status, "active", sizeof(r.status));
	return r;
}

/*
 * Applying a plan writes reservations and jobs; a running generate job it
 * unschedules becomes canceled (pin-runner's writes then find nothing
 * running).  store_load gives planning the credentials in every state but
 * revoked.
 */
static void test_apply_and_load(void **state)
{
	struct fx *f = *state;
	struct plan p;
	struct action a[3];
	struct resv r = resv("R1", "L1", "2026-12-10", "2026-12-12");
	struct state st;
	char eb[ERRBUF_SIZE];

	open_db(f);
	test_sql(f->db, "INSERT INTO pin_jobs (id, action, reservation_id, device_id, due_at, status, "
		"attempts, created_at, updated_at) VALUES ('generate:R1:D1', 'generate', 'R1', 'D1', "
		"100, 'running', 0, 0, 0)");
	test_sql(f->db, "INSERT INTO credentials (reservation_id, device_id, password_id, name, pin, "
		"valid_from, valid_until, state, created_at) VALUES "
		"('R1', 'D1', 5, 'CR1-aaaa', '1', 1, 2, 'revoking', 0), "
		"('R1', 'D1', NULL, 'CR1-bbbb', '1', 1, 2, 'creating', 0), "
		"('R1', 'D2', 6, 'CR1-cccc', '1', 1, 2, 'revoked', 0)");
	memset(&p, 0, sizeof(p));
	memset(a, 0, sizeof(a));
	a[0].kind = ACT_CREATE;
	a[0].r = &r;
	a[0].status = "active";
	a[1].kind = ACT_UNSCHEDULE;
	a[1].r = &r;
	a[1].job.action = "generate";
	a[1].job.resv = "R1";
	a[1].job.device = "D1";
	a[1].job.due = 100;
	a[1].job.status = "canceled";
	a[1].reason = "reservation canceled";
	a[2] = a[1];
	a[2].kind = ACT_SCHEDULE;
	a[2].job.action = "revoke";
	a[2].job.due = NOW;
	a[2].job.status = "pending";
	a[2].reason = NULL;
	p.a = a;
	p.n = 3;
	assert_int_equal(db_begin(f->db, eb), ERR_OK);
	assert_int_equal(store_apply(f->db, &p, NOW, eb), ERR_OK);
	assert_int_equal(db_commit(f->db, eb), ERR_OK);
	assert_string_equal(test_rows(f->db, "SELECT id, status, last_error FROM pin_jobs ORDER BY id"),
			    "generate:R1:D1|canceled|canceled: reservation canceled\n"
			    "revoke:R1:D1|pending|NULL\n");
	assert_string_equal(test_rows(f->db, "SELECT id, code, status FROM reservations"), "R1|CR1|active\n");

	assert_int_equal(store_load(f->db, "2026-11-29", NULL, 0, &st, eb), ERR_OK);
	assert_int_equal(st.nstored, 1);
	assert_int_equal(st.njobs, 2);
	assert_int_equal(st.ncreds, 2);
	assert_string_equal(st.creds[0].state, "revoking");
	assert_true(st.creds[0].has_password);
	assert_string_equal(st.creds[1].state, "creating");
	assert_false(st.creds[1].has_password);
	state_release(&st);
}

/*
 * A fetched reservation stored long ago (check-out before the window) is
 * loaded by its id; one in the window is loaded once, not again by id,
 * whatever the order of the ids (the rows loaded by id are not sorted
 * until the end).
 */
static void test_load_fetched_once(void **state)
{
	struct fx *f = *state;
	struct resv fetched[] = {
		resv("A", "L1", "2026-01-01", "2026-01-05"),
		resv("B", "L1", "2026-01-02", "2026-01-06"),
		resv("X", "L1", "2026-12-10", "2026-12-12"),
	};
	struct state st;
	char eb[ERRBUF_SIZE];

	open_db(f);
	test_sql(f->db, "INSERT INTO reservations (id, code, listing_id, checkin_date, checkout_date, type, "
		"status, created_at, updated_at) VALUES "
		"('A', 'CA', 'L1', '2026-01-01', '2026-01-05', 'booked', 'active', 0, 0), "
		"('B', 'CB', 'L1', '2026-01-02', '2026-01-06', 'booked', 'active', 0, 0), "
		"('X', 'CX', 'L1', '2026-12-10', '2026-12-12', 'booked', 'active', 0, 0)");
	test_sql(f->db, "INSERT INTO pin_jobs (id, action, reservation_id, device_id, due_at, status, "
		"attempts, created_at, updated_at) VALUES ('revoke:A:D1', 'revoke', 'A', 'D1', "
		"100, 'done', 0, 0, 0)");
	assert_int_equal(store_load(f->db, "2026-11-29", fetched, 3, &st, eb), ERR_OK);
	assert_int_equal(st.nstored, 3);
	assert_string_equal(st.stored[0].id, "A");
	assert_string_equal(st.stored[1].id, "B");
	assert_string_equal(st.stored[2].id, "X");
	assert_int_equal(st.njobs, 1);
	state_release(&st);

	/* R6's load: the related rows only (B gets a live job, so it is one),
	 * sorted, and nothing but reservations. */
	test_sql(f->db, "INSERT INTO pin_jobs (id, action, reservation_id, device_id, due_at, status, "
		"attempts, created_at, updated_at) VALUES ('revoke:B:D1', 'revoke', 'B', 'D1', "
		"100, 'pending', 0, 0, 0)");
	assert_int_equal(store_load_stored(f->db, "2026-11-29", &st, eb), ERR_OK);
	assert_int_equal(st.nstored, 2);
	assert_string_equal(st.stored[0].id, "B");
	assert_string_equal(st.stored[1].id, "X");
	assert_int_equal(st.njobs, 0);
	assert_int_equal(st.ncreds, 0);
	assert_int_equal(st.nlocks, 0);
	state_release(&st);
	assert_int_equal(store_load_stored(NULL, "2026-11-29", &st, eb), ERR_OK);
	assert_int_equal(st.nstored, 0);
}

/*
 * What store_load() reads, against the definition of "related" written
 * the plain way (the UNION queries of schema 6): a reservation with its
 * check-out in the window, a live job or a credential not revoked, every
 * live job, and every job of a related id, stored or not.  Random rows
 * (fixed seed) over few ids, so that every combination occurs: finished
 * jobs beside live ones, credentials and jobs of reservations never
 * stored, stays long past.
 */
static void test_load_related_oracle(void **state)
{
	static const char *const jst[] = { "pending", "running", "failed", "done", "canceled" };
	static const char *const cst[] = { "creating", "unconfirmed", "active", "revoking",
					   "revoked" };
	static const char related[] =
		"SELECT id FROM reservations WHERE checkout_date >= '2026-11-29' "
		"UNION SELECT reservation_id FROM pin_jobs "
		"  WHERE status IN ('pending', 'running', 'failed') "
		"UNION SELECT reservation_id FROM credentials WHERE state != 'revoked'";
	struct fx *f = *state;
	struct strbuf want = STRBUF_INIT, got = STRBUF_INIT, sql = STRBUF_INIT;
	struct state st;
	char eb[ERRBUF_SIZE];
	unsigned seed = 20261202;

	open_db(f);
	for (int i = 0; i < 60; i++) {
		seed = seed * 1103515245u + 12345u;
		test_sql(f->db, "INSERT INTO reservations (id, code, listing_id, checkin_date, "
			 "checkout_date, type, status, created_at, updated_at) VALUES ('R%02d', 'C', "
			 "'L1', '2026-01-01', '2026-%02u-%02u', 'booked', 'active', 0, 0)",
			 i, 10 + (seed >> 16) % 3, 1 + (seed >> 8) % 28);
	}
	for (int i = 0; i < 120; i++) {
		seed = seed * 1103515245u + 12345u;
		test_sql(f->db, "INSERT INTO pin_jobs (id, action, reservation_id, device_id, due_at, "
			 "status, attempts, created_at, updated_at) VALUES ('J%03d', 'revoke', 'R%02u', "
			 "'D1', 0, '%s', 0, 0, 0)", i, (seed >> 16) % 80, jst[(seed >> 8) % 5]);
		seed = seed * 1103515245u + 12345u;
		if (i < 40)
			test_sql(f->db, "INSERT INTO credentials (reservation_id, device_id, name, pin, "
				 "valid_from, valid_until, state, created_at) VALUES ('R%02u', 'D%d', "
				 "'N%d', '1', 0, 0, '%s', 0)", (seed >> 16) % 80, i, i,
				 cst[(seed >> 8) % 5]);
	}
	strbuf_addf(&sql, "SELECT id FROM reservations WHERE id IN (%s) ORDER BY id", related);
	strbuf_adds(&want, test_rows(f->db, sql.buf));
	strbuf_reset(&sql);
	strbuf_addf(&sql, "SELECT id FROM pin_jobs WHERE status IN ('pending', 'running', 'failed') "
		    "OR reservation_id IN (%s) ORDER BY id", related);
	strbuf_adds(&want, test_rows(f->db, sql.buf));

	assert_int_equal(store_load(f->db, "2026-11-29", NULL, 0, &st, eb), ERR_OK);
	for (size_t i = 0; i < st.nstored; i++)
		strbuf_addf(&got, "%s\n", st.stored[i].id);
	for (size_t i = 0; i < st.njobs; i++)
		strbuf_addf(&got, "%s\n", st.jobs[i].id);
	/* The data is rich enough to mean something. */
	assert_in_range(st.nstored, 20, 59);
	assert_in_range(st.njobs, 40, 119);
	assert_string_equal(strbuf_str(&got), strbuf_str(&want));
	state_release(&st);

	assert_int_equal(store_load_stored(f->db, "2026-11-29", &st, eb), ERR_OK);
	strbuf_reset(&got);
	for (size_t i = 0; i < st.nstored; i++)
		strbuf_addf(&got, "%s\n", st.stored[i].id);
	strbuf_reset(&sql);
	strbuf_addf(&sql, "SELECT id FROM reservations WHERE id IN (%s) ORDER BY id", related);
	assert_string_equal(strbuf_str(&got), test_rows(f->db, sql.buf));
	state_release(&st);
	strbuf_release(&want);
	strbuf_release(&got);
	strbuf_release(&sql);
}

/*
 * store_unmapped() reads from the listings without a lock; the old
 * definition read every stay in the window.  Random stays over six
 * listings, three with a lock, in every status: the same stays, in the
 * same order.  Dates are far past or days ahead, so the checks after the
 * query (the stay's instants against now) keep whatever the query gives.
 */
static void test_unmapped_oracle(void **state)
{
	static const char *const rst[] = { "active", "canceled", "removed" };
	struct fx *f = *state;
	struct health_list l;
	struct strbuf got = STRBUF_INIT;
	char eb[ERRBUF_SIZE];
	unsigned seed = 20261203;

	open_db(f);
	for (int i = 0; i < 3; i++)
		test_sql(f->db, "INSERT INTO locks (device_id, listing_id, created_at) "
			 "VALUES ('D%d', 'L%d', 0)", i, i);
	for (int i = 0; i < 200; i++) {
		unsigned day, month;

		seed = seed * 1103515245u + 12345u;
		day = 1 + (seed >> 8) % 26;
		month = (seed >> 20) % 2 ? 12 : 6;      /* ahead of NOW, or long over */
		if (month == 12 && day < 5)
			day += 5;
		test_sql(f->db, "INSERT INTO reservations (id, code, listing_id, checkin_date, "
			 "checkout_date, type, status, created_at, updated_at) VALUES ('R%03d', "
			 "'C%03d', 'L%u', '2026-%02u-%02u', '2026-%02u-%02u', 'booked', '%s', 0, 0)",
			 i, i, (seed >> 16) % 6, month, day, month, day + 1,
			 rst[(seed >> 4) % 3]);
	}
	memset(&l, 0, sizeof(l));
	assert_int_equal(store_unmapped(f->db, &f->cfg, NOW, 0, &l, eb), ERR_OK);
	for (size_t i = 0; i < l.n; i++)
		strbuf_addf(&got, "%s\n", l.v[i].resv);
	assert_in_range(l.n, 20, 80);   /* rich enough to mean something */
	assert_string_equal(strbuf_str(&got),
			    test_rows(f->db, "SELECT id FROM reservations r WHERE r.status = 'active' "
				      "AND r.checkout_date >= '2026-11-30' AND NOT EXISTS "
				      "(SELECT 1 FROM locks l WHERE l.listing_id = r.listing_id) "
				      "ORDER BY r.checkin_date, r.id"));
	free(l.v);
	strbuf_release(&got);
}

static int has(const struct health_list *l, const char *resv, const char *device)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i].resv, resv) == 0 && strcmp(l->v[i].device, device) == 0)
			return 1;
	return 0;
}

/* P3a and SPEC §6: what status must report, and what it must not. */
static void test_health(void **state)
{
	struct fx *f = *state;
	struct health h;
	char eb[ERRBUF_SIZE];
	long day = 86400;

	open_db(f);
	test_sql(f->db, "INSERT INTO locks (device_id, listing_id, created_at) VALUES ('D1', 'L1', 0)");
	test_sql(f->db, "INSERT INTO reservations (id, code, listing_id, checkin_date, checkout_date, type, "
		"status, created_at, updated_at) VALUES "
		"('U1', 'NOLCK', 'L9', '2026-12-03', '2026-12-05', 'booked', 'active', 0, 0), "
		"('U2', 'LATER', 'L9', '2026-12-20', '2026-12-22', 'booked', 'active', 0, 0), "
		"('U5', 'SOON', 'L9', '2026-12-14', '2026-12-16', 'booked', 'active', 0, 0), "
		"('U6', 'EDGE', 'L9', '2026-12-16', '2026-12-18', 'booked', 'active', 0, 0), "
		"('U3', 'CANCL', 'L9', '2026-12-03', '2026-12-05', 'canceled', 'canceled', 0, 0), "
		"('U4', 'MAPPD', 'L1', '2026-12-03', '2026-12-05', 'booked', 'active', 0, 0)");
	/* Credentials: window relative to NOW. */
	test_sql(f->db, "INSERT INTO credentials (reservation_id, device_id, password_id, name, pin, "
		"valid_from, valid_until, state, created_at) VALUES "
		"('C1', 'D1', 1, 'a', '1', %ld, %ld, 'unconfirmed', 0), "   /* starts in 12 h: report */
		"('C2', 'D1', 2, 'b', '1', %ld, %ld, 'unconfirmed', 0), "   /* starts in 2 days: not yet */
		"('C3', 'D1', NULL, 'c', '1', %ld, %ld, 'creating', 0), "   /* started, creating: report */
		"('C4', 'D1', 4, 'd', '1', %ld, %ld, 'active', 0), "        /* confirmed: fine */
		"('C5', 'D1', 5, 'e', '1', %ld, %ld, 'active', 0), "        /* ended 23 h ago: not yet */
		"('C6', 'D1', 6, 'f', '1', %ld, %ld, 'revoking', 0), "      /* ended 2 days ago: report */
		"('C7', 'D1', 7, 'g', '1', %ld, %ld, 'revoked', 0), "       /* gone: fine */
		"('C8', 'D1', 8, 'h', '1', %ld, %ld, 'revoking', 0), "      /* canceled, revoke due 1 h ago: report */
		"('C9', 'D1', 9, 'i', '1', %ld, %ld, 'active', 0)",         /* canceled, revoke due 1 min ago: not yet */
		NOW + day / 2, NOW + 3 * day, NOW + 2 * day, NOW + 4 * day,
		NOW - day, NOW + day, NOW - day, NOW + day,
		NOW - 3 * day, NOW - 23 * 3600, NOW - 4 * day, NOW - 2 * day,
		NOW - 4 * day, NOW - 2 * day,
		NOW + 3 * day, NOW + 4 * day, NOW + 3 * day, NOW + 4 * day);
	test_sql(f->db, "INSERT INTO pin_jobs (id, action, reservation_id, device_id, due_at, valid_from, "
		"valid_until, status, attempts, next_attempt_at, last_error, created_at, updated_at) VALUES "
		"('revoke:C6:D1', 'revoke', 'C6', 'D1', %ld, NULL, NULL, 'failed', 10, NULL, 'offline', 0, 0), "
		"('generate:J1:D1', 'generate', 'J1', 'D1', %ld, 1, %ld, 'pending', 0, NULL, NULL, 0, 0), "
		"('generate:J2:D1', 'generate', 'J2', 'D1', %ld, 1, %ld, 'pending', 0, NULL, NULL, 0, 0), "
		"('generate:J3:D1', 'generate', 'J3', 'D1', %ld, 1, %ld, 'pending', 3, %ld, 'x', 0, 0), "
		"('generate:J4:D1', 'generate', 'J4', 'D1', %ld, 1, %ld, 'failed', 10, NULL, 'x', 0, 0), "
		"('revoke:J5:D1', 'revoke', 'J5', 'D1', %ld, NULL, NULL, 'failed', 10, NULL, 'x', 0, 0), "
		"('revoke:C8:D1', 'revoke', 'C8', 'D1', %ld, NULL, NULL, 'pending', 2, %ld, 'phase 3', 0, 0), "
		"('revoke:C9:D1', 'revoke', 'C9', 'D1', %ld, NULL, NULL, 'pending', 0, NULL, NULL, 0, 0)",
		NOW - 2 * day,
		NOW - 3600, NOW + day,          /* overdue an hour: report */
		NOW - 60, NOW + day,            /* due a minute ago: pin-runner's turn */
		NOW - 3600, NOW + day, NOW + 600, /* waiting for its retry: fine */
		NOW - 3600, NOW - 60,           /* failed, stay over: moot */
		NOW - 3600,                     /* failed revoke, nothing on the lock: moot */
		NOW - 3600, NOW + 600,          /* a revoke waiting for an offline lock */
		NOW - 60);
	assert_int_equal(store_health(f->db, &f->cfg, NOW, &h, eb), ERR_OK);
	assert_int_equal(h.unconfirmed.n, 2);
	assert_true(has(&h.unconfirmed, "C1", "D1"));
	assert_true(has(&h.unconfirmed, "C3", "D1"));
	assert_int_equal(h.unrevoked.n, 2);
	assert_true(has(&h.unrevoked, "C6", "D1"));
	assert_true(has(&h.unrevoked, "C8", "D1"));
	assert_int_equal(h.overdue.n, 2);
	assert_true(has(&h.overdue, "C6", "D1"));
	assert_true(has(&h.overdue, "J1", "D1"));
	/* within 14 days: 12-03 and 12-14 (18:00Z); 12-16 is past the horizon */
	assert_int_equal(h.unmapped.n, 2);
	assert_string_equal(h.unmapped.v[0].code, "NOLCK");
	assert_string_equal(h.unmapped.v[1].code, "SOON");
	assert_true(health_any(&h));
	health_release(&h);
	test_sql(f->db, "DELETE FROM credentials; DELETE FROM pin_jobs; DELETE FROM reservations");
	assert_int_equal(store_health(f->db, &f->cfg, NOW, &h, eb), ERR_OK);
	assert_false(health_any(&h));
	health_release(&h);
}

/*
 * [database] keep_days: old run logs, done and canceled jobs and revoked
 * credentials go; pending rows, recent ones, failed jobs, live
 * credentials and the jobs of stays a run still loads stay.
 */
static void test_retention(void **state)
{
	struct fx *f = *state;
	struct retention r;
	struct db_stats d;
	char eb[ERRBUF_SIZE];
	const long cut = NOW - 90 * 86400L;

	open_db(f);
	test_sql(f->db, "INSERT INTO reservations (id, code, listing_id, checkin_date, checkout_date, "
		 "type, created_at, updated_at) VALUES "
		 "('OLD', 'C1', 'L1', '2026-06-01', '2026-06-03', 'booked', 0, 0), "
		 "('NOW', 'C2', 'L1', '2026-11-28', '2026-12-02', 'booked', 0, 0)");
	test_sql(f->db, "INSERT INTO reconciliation_logs (id, started_at, status, created_at) VALUES "
		 "('a', %ld, 'success', 0), ('b', %ld, 'pending', 0), ('c', %ld, 'failed', 0)",
		 cut - 1, cut - 1, cut);
	test_sql(f->db, "INSERT INTO pin_jobs (id, action, reservation_id, device_id, due_at, status, "
		 "created_at, updated_at) VALUES "
		 "('j1', 'generate', 'OLD', 'D1', 0, 'done', 0, %ld), "
		 "('j2', 'revoke', 'OLD', 'D1', 0, 'canceled', 0, %ld), "
		 "('j3', 'revoke', 'OLD', 'D1', 0, 'failed', 0, %ld), "
		 "('j4', 'generate', 'OLD', 'D2', 0, 'done', 0, %ld), "
		 "('j5', 'generate', 'NOW', 'D1', 0, 'done', 0, %ld), "
		 "('j6', 'generate', 'GONE', 'D1', 0, 'done', 0, %ld)",
		 cut - 1, cut - 1, cut - 1, cut, cut - 1, cut - 1);
	test_sql(f->db, "INSERT INTO credentials (id, reservation_id, device_id, name, pin, valid_from, "
		 "valid_until, state, created_at, revoked_at) VALUES "
		 "(1, 'OLD', 'D1', 'C1-a', NULL, 0, 1, 'revoked', 0, %ld), "
		 "(2, 'OLD', 'D2', 'C1-b', NULL, 0, 1, 'revoked', 0, %ld), "
		 "(3, 'OLD', 'D3', 'C1-c', '1234567', 0, 1, 'revoking', 0, NULL), "
		 "(4, 'NOW', 'D1', 'C2-a', NULL, 0, 1, 'revoked', 0, NULL)",
		 cut - 1, cut);
	assert_int_equal(store_retention(f->db, cut, "2026-11-29", &r, eb), ERR_OK);
	assert_int_equal(r.logs, 1);
	assert_int_equal(r.jobs, 3);
	assert_int_equal(r.credentials, 2);
	assert_string_equal(test_rows(f->db, "SELECT id FROM reconciliation_logs ORDER BY id"),
			    "b\nc\n");
	assert_string_equal(test_rows(f->db, "SELECT id FROM pin_jobs ORDER BY id"), "j3\nj4\nj5\n");
	assert_string_equal(test_rows(f->db, "SELECT id FROM credentials ORDER BY id"), "2\n3\n");

	assert_int_equal(store_db_stats(f->db, f->path, &d, eb), ERR_OK);
	assert_true(d.found);
	assert_true(d.size > 0);
	assert_int_equal(d.reservations, 2);
	assert_int_equal(d.jobs, 3);
	assert_int_equal(d.credentials, 2);
	assert_int_equal(d.runs, 2);
	assert_int_equal(d.guests, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_migrate_v1, setup, teardown),
		cmocka_unit_test_setup_teardown(test_newer_schema, setup, teardown),
		cmocka_unit_test_setup_teardown(test_load_related_oracle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_apply_and_load, setup, teardown),
		cmocka_unit_test_setup_teardown(test_load_fetched_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unmapped_oracle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_health, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retention, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
