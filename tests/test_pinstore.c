/*
 * test_pinstore.c - pin-runner's SQL on a real database file: the claim
 * (P1) and its guards, the intent only while the job runs (P2), one live
 * credential per (lock, password id) (P3), job outcomes, credential states
 * (P3a), the hook record (P2) and the idle run log (P7).
 *
 * Each test gets a fresh database created by db_open(), as the programs
 * do; rows are put in with SQL, the way stays-reconcile would have.
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
#include "pinstore.h"
#include "testutil.h"

#define NOW 1800000000L
#define JOB "generate:R1:D1"

struct fx {
	char dir[64];
	sqlite3 *db;
};

static long long one(sqlite3 *db, const char *q)
{
	sqlite3_stmt *st;
	long long v = -1;

	assert_int_equal(sqlite3_prepare_v2(db, q, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static const char *text(sqlite3 *db, const char *q)
{
	static char out[256];
	sqlite3_stmt *st;

	out[0] = '\0';
	assert_int_equal(sqlite3_prepare_v2(db, q, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
		xstrlcpy(out, (const char *)sqlite3_column_text(st, 0), sizeof(out));
	sqlite3_finalize(st);
	return out;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char path[128], eb[ERRBUF_SIZE];

	snprintf(f->dir, sizeof(f->dir), "/tmp/test_pinstore.XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(path, sizeof(path), "%s/s.db", f->dir);
	if (db_open(path, DB_READWRITE, &f->db, eb) != ERR_OK)
		return -1;
	test_sql(f->db, "INSERT INTO reservations (id, code, listing_id, checkin_date, checkout_date, "
		"type, guests, created_at, updated_at) VALUES "
		"('R1', 'RV001', 'L1', '2027-01-10', '2027-01-12', 'booked', 2, 0, 0)");
	test_sql(f->db, "INSERT INTO locks (device_id, listing_id, name, created_at) "
		"VALUES ('D1', 'L1', 'Front door', 0)");
	test_sql(f->db, "INSERT INTO pin_jobs (id, action, reservation_id, device_id, due_at, "
		"valid_from, valid_until, status, created_at, updated_at) VALUES "
		"('%s', 'generate', 'R1', 'D1', %ld, 1000, 2000, 'pending', 0, 0)", JOB, NOW - 60);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];

	db_close(f->db);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	free(f);
	return system(cmd);
}

static int claim(struct fx *f, struct due_job *dj)
{
	char eb[ERRBUF_SIZE];
	int claimed;

	assert_int_equal(pinstore_claim(f->db, JOB, NOW, dj, &claimed, eb), ERR_OK);
	return claimed;
}

/* P1: a pending, due job is claimed, and the claim returns the row as it is. */
static void test_claim(void **state)
{
	struct fx *f = *state;
	struct due_job dj;

	assert_int_equal(claim(f, &dj), 1);
	assert_string_equal(dj.j.id, JOB);
	assert_string_equal(dj.j.status, "running");
	assert_int_equal(dj.j.valid_until, 2000);
	assert_true(dj.have_resv);
	assert_string_equal(dj.code, "RV001");
	assert_true(dj.have_lock);
	assert_string_equal(dj.lock_name, "Front door");
	assert_string_equal(text(f->db, "SELECT status FROM pin_jobs"), "running");
	/* A second claim finds it running: not claimed again. */
	assert_int_equal(claim(f, &dj), 0);
}

/*
 * The guard `status = 'pending'`: a job stays-reconcile canceled, or that
 * is done, failed or running, is never claimed - even though pin-runner
 * read it as due a moment ago.
 */
static void test_claim_guard(void **state)
{
	static const char *const statuses[] = { "canceled", "done", "failed", "running" };
	struct fx *f = *state;
	struct due_job *due, dj;
	char eb[ERRBUF_SIZE];
	size_t n;

	for (size_t i = 0; i < sizeof(statuses) / sizeof(*statuses); i++) {
		test_sql(f->db, "UPDATE pin_jobs SET status = 'pending'");
		assert_int_equal(pinstore_due(f->db, NOW, 100, &due, &n, eb), ERR_OK);
		assert_int_equal(n, 1);
		free(due);
		test_sql(f->db, "UPDATE pin_jobs SET status = '%s'", statuses[i]);
		if (claim(f, &dj) != 0)
			fail_msg("a %s job was claimed", statuses[i]);
		assert_string_equal(text(f->db, "SELECT status FROM pin_jobs"), statuses[i]);
	}
}

/* P1: a job moved into the future, or waiting for its retry, is not due. */
static void test_claim_not_due(void **state)
{
	struct fx *f = *state;
	struct due_job dj;

	test_sql(f->db, "UPDATE pin_jobs SET due_at = %ld", NOW + 1);
	assert_int_equal(claim(f, &dj), 0);
	test_sql(f->db, "UPDATE pin_jobs SET due_at = %ld, next_attempt_at = %ld", NOW, NOW + 60);
	assert_int_equal(claim(f, &dj), 0);
	test_sql(f->db, "UPDATE pin_jobs SET next_attempt_at = %ld", NOW);
	assert_int_equal(claim(f, &dj), 1);
}

/* Defect 6: the window changed after the due list was read; the claim
 * returns the new one, never the copy. */
static void test_claim_current_row(void **state)
{
	struct fx *f = *state;
	struct due_job *due, dj;
	char eb[ERRBUF_SIZE];
	size_t n;

	assert_int_equal(pinstore_due(f->db, NOW, 100, &due, &n, eb), ERR_OK);
	assert_int_equal(n, 1);
	assert_int_equal(due[0].j.valid_until, 2000);
	test_sql(f->db, "UPDATE pin_jobs SET valid_until = 1500");
	assert_int_equal(claim(f, &dj), 1);
	assert_int_equal(dj.j.valid_until, 1500);
	free(due);
}

/* P2: the intent is recorded only while the job is still running. */
static void test_intent(void **state)
{
	struct fx *f = *state;
	struct due_job dj;
	enum intent_result res;
	long long rowid;
	char eb[ERRBUF_SIZE];

	/* Not claimed (pending): no intent. */
	assert_int_equal(pinstore_intent(f->db, JOB, "R1", "D1", "RV001-aaaa", "1357924", 1000,
					 2000, NOW, &res, &rowid, eb), ERR_OK);
	assert_int_equal(res, INTENT_JOB_GONE);
	assert_int_equal(one(f->db, "SELECT count(*) FROM credentials"), 0);
	assert_int_equal(claim(f, &dj), 1);
	/* stays-reconcile cancels it between the claim and the intent. */
	test_sql(f->db, "UPDATE pin_jobs SET status = 'canceled'");
	assert_int_equal(pinstore_intent(f->db, JOB, "R1", "D1", "RV001-aaaa", "1357924", 1000,
					 2000, NOW, &res, &rowid, eb), ERR_OK);
	assert_int_equal(res, INTENT_JOB_GONE);
	assert_int_equal(one(f->db, "SELECT count(*) FROM credentials"), 0);
	test_sql(f->db, "UPDATE pin_jobs SET status = 'running'");
	assert_int_equal(pinstore_intent(f->db, JOB, "R1", "D1", "RV001-aaaa", "1357924", 1000,
					 2000, NOW, &res, &rowid, eb), ERR_OK);
	assert_int_equal(res, INTENT_RECORDED);
	assert_true(rowid > 0);
	assert_string_equal(text(f->db, "SELECT state || ' ' || name FROM credentials"),
			    "creating RV001-aaaa");
	/* The intent's transaction leaves the connection at NORMAL again. */
	assert_int_equal(one(f->db, "PRAGMA synchronous"), 1);
}

/* P2: names are unique per lock, across every credential ever made. */
static void test_intent_name_taken(void **state)
{
	struct fx *f = *state;
	struct due_job dj;
	enum intent_result res;
	long long rowid;
	char eb[ERRBUF_SIZE];

	test_sql(f->db, "INSERT INTO credentials (reservation_id, device_id, name, pin, valid_from, "
		"valid_until, state, created_at) VALUES ('R0', 'D1', 'RV001-aaaa', '1', 1, 2, "
		"'revoked', 0)");
	assert_int_equal(claim(f, &dj), 1);
	assert_int_equal(pinstore_intent(f->db, JOB, "R1", "D1", "RV001-aaaa", "1357924", 1000,
					 2000, NOW, &res, &rowid, eb), ERR_OK);
	assert_int_equal(res, INTENT_NAME_TAKEN);
	assert_int_equal(one(f->db, "SELECT count(*) FROM credentials"), 1);
}

/* P3: a password id belongs to one credential that is not revoked. */
static void test_password_held(void **state)
{
	struct fx *f = *state;
	char eb[ERRBUF_SIZE];
	int held, running;

	test_sql(f->db, "INSERT INTO credentials (id, reservation_id, device_id, password_id, name, pin, "
		"valid_from, valid_until, state, created_at) VALUES "
		"(1, 'R0', 'D1', 77, 'RV000-bbbb', '1', 1, 2, 'active', 0), "
		"(2, 'R1', 'D1', NULL, 'RV001-aaaa', '2', 1, 2, 'creating', 0)");
	assert_int_equal(pinstore_password_held(f->db, "D1", 77, 2, &held, eb), ERR_OK);
	assert_true(held);
	assert_int_equal(pinstore_password_held(f->db, "D1", 77, 1, &held, eb), ERR_OK);
	assert_false(held);
	assert_int_equal(pinstore_password_held(f->db, "D2", 77, 2, &held, eb), ERR_OK);
	assert_false(held);
	/* The database refuses a second live holder. */
	assert_int_equal(pinstore_cred_password(f->db, 2, 77, NULL, &running, eb), ERR_DB);
	assert_string_equal(text(f->db, "SELECT state FROM credentials WHERE id = 2"), "creating");
	/* Once the first is revoked, the id is free. */
	test_sql(f->db, "UPDATE credentials SET state = 'revoked' WHERE id = 1");
	assert_int_equal(pinstore_password_held(f->db, "D1", 77, 2, &held, eb), ERR_OK);
	assert_false(held);
	assert_int_equal(pinstore_cred_password(f->db, 2, 77, NULL, &running, eb), ERR_OK);
	assert_string_equal(text(f->db, "SELECT state FROM credentials WHERE id = 2"), "unconfirmed");
}

/* P2: recording the password id tells whether the job is still running. */
static void test_cred_password_job(void **state)
{
	struct fx *f = *state;
	struct due_job dj;
	char eb[ERRBUF_SIZE];
	int running = -1;

	test_sql(f->db, "INSERT INTO credentials (id, reservation_id, device_id, name, pin, valid_from, "
		"valid_until, state, created_at) VALUES (5, 'R1', 'D1', 'RV001-aaaa', '2', 1, 2, "
		"'creating', 0)");
	assert_int_equal(claim(f, &dj), 1);
	assert_int_equal(pinstore_cred_password(f->db, 5, 9001, JOB, &running, eb), ERR_OK);
	assert_int_equal(running, 1);
	test_sql(f->db, "UPDATE credentials SET state = 'creating', password_id = NULL");
	test_sql(f->db, "UPDATE pin_jobs SET status = 'canceled'");
	assert_int_equal(pinstore_cred_password(f->db, 5, 9001, JOB, &running, eb), ERR_OK);
	assert_int_equal(running, 0);
	/* Recorded even so: the caller deletes it at once. */
	assert_int_equal(one(f->db, "SELECT password_id FROM credentials"), 9001);
}

/* P5 and the cancel-while-running case: no promise of a retry. */
static void test_attempt_failed(void **state)
{
	struct fx *f = *state;
	struct due_job dj;
	char eb[ERRBUF_SIZE];
	int failed;

	assert_int_equal(claim(f, &dj), 1);
	assert_int_equal(pinstore_attempt_failed(f->db, JOB, NOW, NOW + 60, "tuya code 1110",
						 2, 0, &failed, eb), ERR_OK);
	assert_int_equal(failed, 0);
	assert_string_equal(text(f->db, "SELECT status || ' ' || attempts || ' ' || next_attempt_at "
				 "|| ' ' || last_error FROM pin_jobs"),
			    "pending 1 1800000060 tuya code 1110");
	test_sql(f->db, "UPDATE pin_jobs SET status = 'running'");
	assert_int_equal(pinstore_attempt_failed(f->db, JOB, NOW, NOW + 120, "again", 2, 0,
						 &failed, eb), ERR_OK);
	assert_int_equal(failed, 1);
	assert_string_equal(text(f->db, "SELECT status FROM pin_jobs"), "failed");
	/* max_attempts 0: never failed (a hook retried until the stay ends). */
	test_sql(f->db, "UPDATE pin_jobs SET status = 'running'");
	assert_int_equal(pinstore_attempt_failed(f->db, JOB, NOW, NOW + 120, "hook", 0, 0,
						 &failed, eb), ERR_OK);
	assert_int_equal(failed, 0);
	/* Canceled meanwhile: left alone, and the caller is told. */
	test_sql(f->db, "UPDATE pin_jobs SET status = 'canceled'");
	assert_int_equal(pinstore_attempt_failed(f->db, JOB, NOW, NOW + 120, "late", 10, 0,
						 &failed, eb), ERR_OK);
	assert_int_equal(failed, -1);
	assert_string_equal(text(f->db, "SELECT status || ' ' || last_error FROM pin_jobs"),
			    "canceled hook");
}

/* P3a: states carry their times; the hook record and the job go together. */
static void test_states_and_hook(void **state)
{
	struct fx *f = *state;
	struct cred_row c, *all;
	struct due_job dj;
	char eb[ERRBUF_SIZE];
	size_t n;
	int found;

	test_sql(f->db, "INSERT INTO credentials (id, reservation_id, device_id, password_id, name, pin, "
		"valid_from, valid_until, state, created_at) VALUES "
		"(7, 'R1', 'D1', 42, 'RV001-aaaa', '2468013', 1000, 2000, 'unconfirmed', 0), "
		"(8, 'R1', 'D1', 41, 'RV001-cccc', '2468013', 1000, 2000, 'revoking', 0)");
	assert_int_equal(pinstore_cred(f->db, "R1", "D1", &c, &found, eb), ERR_OK);
	assert_true(found);
	assert_int_equal(c.rowid, 7);
	assert_int_equal(pinstore_creds(f->db, "R1", "D1", &all, &n, eb), ERR_OK);
	assert_int_equal(n, 2);
	free(all);
	assert_int_equal(pinstore_cred_state(f->db, 7, "active", 2, NOW, eb), ERR_OK);
	assert_string_equal(text(f->db, "SELECT state || ' ' || phase || ' ' || confirmed_at "
				 "FROM credentials WHERE id = 7"), "active 2 1800000000");
	/* A window change on the lock is unconfirmed again. */
	assert_int_equal(pinstore_cred_window(f->db, 7, 1000, 3000, eb), ERR_OK);
	assert_string_equal(text(f->db, "SELECT state || ' ' || valid_until FROM credentials "
				 "WHERE id = 7"), "unconfirmed 3000");
	assert_int_equal(pinstore_cred_state(f->db, 8, "revoked", -1, NOW, eb), ERR_OK);
	/* Confirmed gone: the PIN is erased, the row stays; the others keep theirs. */
	assert_string_equal(text(f->db, "SELECT state || ' ' || revoked_at || ' ' || "
				 "coalesce(phase, 'null') || ' ' || coalesce(pin, 'null') "
				 "FROM credentials WHERE id = 8"),
			    "revoked 1800000000 null null");
	assert_string_equal(text(f->db, "SELECT pin FROM credentials WHERE id = 7"), "2468013");
	assert_int_equal(claim(f, &dj), 1);
	assert_int_equal(pinstore_notified(f->db, 7, JOB, NOW, eb), ERR_OK);
	assert_string_equal(text(f->db, "SELECT notified_at FROM credentials WHERE id = 7"),
			    "1800000000");
	assert_string_equal(text(f->db, "SELECT status FROM pin_jobs"), "done");
}

/* P7: an idle run that changes nothing writes nothing. */
static void test_idle_log(void **state)
{
	struct fx *f = *state;
	struct pin_run_log lr = { NOW, NOW, "success", 0, 0, 0, 0, NULL, 7 };
	char eb[ERRBUF_SIZE];
	int before;

	assert_int_equal(pinstore_log_run(f->db, &lr, eb), ERR_OK);
	assert_int_equal(one(f->db, "SELECT completed_at FROM pin_runner_log"), NOW);
	before = sqlite3_total_changes(f->db);
	lr.started_at = lr.completed_at = NOW + 60;
	assert_int_equal(pinstore_log_run(f->db, &lr, eb), ERR_OK);
	assert_int_equal(sqlite3_total_changes(f->db), before);
	assert_int_equal(one(f->db, "SELECT completed_at FROM pin_runner_log"), NOW);
	/* Five minutes on, or another outcome, or work done: written. */
	lr.started_at = lr.completed_at = NOW + PIN_LOG_REFRESH;
	assert_int_equal(pinstore_log_run(f->db, &lr, eb), ERR_OK);
	assert_int_equal(one(f->db, "SELECT completed_at FROM pin_runner_log"), NOW + PIN_LOG_REFRESH);
	lr.status = "failed";
	lr.message = "tuya: unreachable";
	lr.duration_ms = 9;
	assert_int_equal(pinstore_log_run(f->db, &lr, eb), ERR_OK);
	assert_string_equal(text(f->db, "SELECT status FROM pin_runner_log"), "failed");
	/* The metrics file's figures: the duration of the run recorded, and
	 * the last success kept across a failed run. */
	assert_int_equal(one(f->db, "SELECT duration_ms FROM pin_runner_log"), 9);
	assert_int_equal(one(f->db, "SELECT last_success_at FROM pin_runner_log"),
			 NOW + PIN_LOG_REFRESH);
	lr.status = "success";
	lr.message = NULL;
	lr.due = lr.done = 1;
	lr.started_at = lr.completed_at = NOW + 2 * PIN_LOG_REFRESH;
	assert_int_equal(pinstore_log_run(f->db, &lr, eb), ERR_OK);
	assert_int_equal(one(f->db, "SELECT done FROM pin_runner_log"), 1);
	assert_int_equal(one(f->db, "SELECT last_success_at FROM pin_runner_log"),
			 NOW + 2 * PIN_LOG_REFRESH);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_claim, setup, teardown),
		cmocka_unit_test_setup_teardown(test_claim_guard, setup, teardown),
		cmocka_unit_test_setup_teardown(test_claim_not_due, setup, teardown),
		cmocka_unit_test_setup_teardown(test_claim_current_row, setup, teardown),
		cmocka_unit_test_setup_teardown(test_intent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_intent_name_taken, setup, teardown),
		cmocka_unit_test_setup_teardown(test_password_held, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cred_password_job, setup, teardown),
		cmocka_unit_test_setup_teardown(test_attempt_failed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_states_and_hook, setup, teardown),
		cmocka_unit_test_setup_teardown(test_idle_log, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
