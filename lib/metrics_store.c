/*
 * metrics_store.c - the SQL of the metrics file: read struct metrics in one
 * read transaction, and add a run's requests to the counters of table
 * service_requests (see metrics.h).
 *
 * Invariant: metrics_collect() sees one snapshot of the database (a
 * deferred BEGIN; in WAL mode the first read fixes what the transaction
 * sees), so the counts of one file never mix two runs' writes.
 */
#include <string.h>

#include "db.h"
#include "metrics.h"
#include "store.h"
#include "banned.h"

/* Run the query, hand each row to fn. */
static enum err each_row(sqlite3 *db, const char *sql, struct metrics *m,
			 void (*fn)(struct metrics *m, sqlite3_stmt *st), char *errbuf)
{
	sqlite3_stmt *st = NULL;
	enum err e;
	int rc;

	if ((e = db_prepare(db, sql, &st, errbuf)) != ERR_OK)
		return e;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		fn(m, st);
	if (rc != SQLITE_DONE)
		e = db_error(db, "cannot read the metrics", errbuf);
	sqlite3_finalize(st);
	return e;
}

/* The last completed reconciliation_logs row: started_at, completed_at,
 * duration_ms, status, the 8 stats, and the last success of any row. */
static void recon_row(struct metrics *m, sqlite3_stmt *st)
{
	struct metrics_run *r = &m->run[METRICS_RECONCILE];

	r->found = 1;
	r->started_at = (time_t)sqlite3_column_int64(st, 0);
	r->completed_at = (time_t)sqlite3_column_int64(st, 1);
	r->duration_ms = sqlite3_column_type(st, 2) == SQLITE_NULL
		? -1 : (long)sqlite3_column_int64(st, 2);
	r->success = strcmp(db_text(st, 3), "success") == 0;
	store_read_stats(st, 4, &m->stats);
	r->last_success = (time_t)sqlite3_column_int64(st, 12);
}

static void pin_run_row(struct metrics *m, sqlite3_stmt *st)
{
	struct metrics_run *r = &m->run[METRICS_PIN_RUNNER];

	r->found = 1;
	r->started_at = (time_t)sqlite3_column_int64(st, 0);
	r->completed_at = (time_t)sqlite3_column_int64(st, 1);
	r->duration_ms = sqlite3_column_type(st, 2) == SQLITE_NULL
		? -1 : (long)sqlite3_column_int64(st, 2);
	r->success = strcmp(db_text(st, 3), "success") == 0;
	r->last_success = (time_t)sqlite3_column_int64(st, 4);
}

static void job_row(struct metrics *m, sqlite3_stmt *st)
{
	int a = metrics_index(metrics_actions, METRICS_NACTIONS, db_text(st, 0));
	int s = metrics_index(metrics_job_statuses, METRICS_NJOB_STATUSES, db_text(st, 1));

	if (a >= 0 && s >= 0)
		m->jobs[a][s] = (long)sqlite3_column_int64(st, 2);
}

static void cred_row(struct metrics *m, sqlite3_stmt *st)
{
	int s = metrics_index(metrics_cred_states, METRICS_NCRED_STATES, db_text(st, 0));

	if (s >= 0)
		m->creds[s] = (long)sqlite3_column_int64(st, 1);
}

static void request_row(struct metrics *m, sqlite3_stmt *st)
{
	int s = metrics_index(metrics_services, METRICS_NSERVICES, db_text(st, 0));

	if (s >= 0) {
		m->requests[s] = sqlite3_column_int64(st, 1);
		m->request_errors[s] = sqlite3_column_int64(st, 2);
	}
}

static enum err collect(sqlite3 *db, const struct config *cfg, time_t now,
			struct metrics *m, char *errbuf)
{
	struct health h;
	enum err e;

	if ((e = each_row(db, "SELECT started_at, completed_at, duration_ms, status, "
			  "fetched, created, updated, unchanged, canceled, removed, orphaned, "
			  "errors, (SELECT coalesce(max(completed_at), 0) FROM reconciliation_logs "
			  " WHERE status = 'success') FROM reconciliation_logs "
			  "WHERE status != 'pending' ORDER BY started_at DESC, rowid DESC LIMIT 1",
			  m, recon_row, errbuf)) != ERR_OK ||
	    (e = each_row(db, "SELECT started_at, completed_at, duration_ms, status, "
			  "coalesce(last_success_at, 0) FROM pin_runner_log WHERE id = 1",
			  m, pin_run_row, errbuf)) != ERR_OK ||
	    (e = each_row(db, "SELECT action, status, count(*) FROM pin_jobs "
			  "GROUP BY action, status", m, job_row, errbuf)) != ERR_OK ||
	    (e = each_row(db, "SELECT state, count(*) FROM credentials GROUP BY state",
			  m, cred_row, errbuf)) != ERR_OK ||
	    (e = each_row(db, "SELECT service, requests, errors FROM service_requests",
			  m, request_row, errbuf)) != ERR_OK)
		return e;
	if ((e = store_health(db, cfg, now, &h, errbuf)) != ERR_OK)
		return e;
	m->unconfirmed = (long)h.unconfirmed.n;
	m->unrevoked = (long)h.unrevoked.n;
	m->overdue = (long)h.overdue.n;
	m->unmapped = (long)h.unmapped.n;
	health_release(&h);
	return ERR_OK;
}

enum err metrics_collect(sqlite3 *db, const struct config *cfg, time_t now,
			 struct metrics *m, char *errbuf)
{
	enum err e;

	memset(m, 0, sizeof(*m));
	if ((e = db_exec(db, "BEGIN", errbuf)) != ERR_OK)
		return e;
	e = collect(db, cfg, now, m, errbuf);
	if (e == ERR_OK)
		e = db_commit(db, errbuf);
	db_rollback(db);
	return e;
}

enum err metrics_count_requests(sqlite3 *db, enum metrics_service service, long requests,
				long errors, time_t now, char *errbuf)
{
	sqlite3_stmt *st = NULL;
	enum err e;

	if (requests <= 0)
		return ERR_OK;
	if ((e = db_prepare(db, "INSERT INTO service_requests (service, requests, errors, "
			    "updated_at) VALUES (?1, ?2, ?3, ?4) ON CONFLICT (service) DO UPDATE "
			    "SET requests = requests + ?2, errors = errors + ?3, updated_at = ?4",
			    &st, errbuf)) != ERR_OK)
		return e;
	sqlite3_bind_text(st, 1, metrics_services[service], -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, requests);
	sqlite3_bind_int64(st, 3, errors);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)now);
	return db_step_done(db, st, "cannot count the requests", errbuf);
}
