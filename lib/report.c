/*
 * report.c - JSON and text renderings of plans, stats and run logs.
 * Field names are camelCase and times UTC ISO-8601 with 'Z' (SPEC §6a).
 */
#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "report.h"
#include "tz.h"
#include "banned.h"

void report_add_time(cJSON *obj, const char *name, time_t t, int null_if_zero)
{
	char buf[UTC_ISO_LEN + 1];

	if (!t && null_if_zero) {
		cJSON_AddNullToObject(obj, name);
		return;
	}
	util_fmt_utc(t, buf, sizeof(buf));
	cJSON_AddStringToObject(obj, name, buf);
}

int report_fmt_local(const char *zone, time_t t, char sep, char buf[LOCAL_LEN + 1])
{
	char iso[UTC_ISO_LEN + 1];
	time_t wall;

	if (!zone || !*zone || tz_instant_to_wall(zone, t, &wall) != 0)
		return -1;
	util_fmt_utc(wall, iso, sizeof(iso));
	iso[10] = sep;
	iso[LOCAL_LEN] = '\0';
	memcpy(buf, iso, LOCAL_LEN + 1);
	return 0;
}

void report_add_local(cJSON *obj, const char *name, const char *zone, time_t t)
{
	char buf[LOCAL_LEN + 1];

	if (t && report_fmt_local(zone, t, 'T', buf) == 0)
		cJSON_AddStringToObject(obj, name, buf);
	else
		cJSON_AddNullToObject(obj, name);
}

size_t report_text_width(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

void report_pad(struct strbuf *out, const char *s, size_t width)
{
	size_t w = report_text_width(s);

	strbuf_adds(out, s);
	do
		strbuf_add(out, " ", 1);
	while (++w <= width);
}

void report_add_str(cJSON *obj, const char *name, const char *s)
{
	if (s && *s)
		cJSON_AddStringToObject(obj, name, s);
	else
		cJSON_AddNullToObject(obj, name);
}

cJSON *report_stats_json(const struct plan_stats *s)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddNumberToObject(o, "fetched", (double)s->fetched);
	cJSON_AddNumberToObject(o, "created", (double)s->created);
	cJSON_AddNumberToObject(o, "updated", (double)s->updated);
	cJSON_AddNumberToObject(o, "unchanged", (double)s->unchanged);
	cJSON_AddNumberToObject(o, "canceled", (double)s->canceled);
	cJSON_AddNumberToObject(o, "removed", (double)s->removed);
	cJSON_AddNumberToObject(o, "orphaned", (double)s->orphaned);
	cJSON_AddNumberToObject(o, "errors", (double)s->errors);
	return o;
}

cJSON *report_log_json(const struct log_row *row)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "id", row->id);
	report_add_time(o, "startedAt", row->started_at, 0);
	if (strcmp(row->status, "pending") == 0 || row->duration_ms < 0) {
		cJSON_AddNullToObject(o, "completedAt");
		cJSON_AddNullToObject(o, "duration");
	} else {
		report_add_time(o, "completedAt", row->completed_at, 0);
		cJSON_AddNumberToObject(o, "duration", (double)row->duration_ms);
	}
	cJSON_AddStringToObject(o, "status", row->status);
	cJSON_AddItemToObject(o, "stats", report_stats_json(&row->stats));
	if (row->has_message)
		cJSON_AddStringToObject(o, "message", row->message);
	else
		cJSON_AddNullToObject(o, "message");
	return o;
}

static int is_job_action(enum plan_kind k)
{
	return k == ACT_SCHEDULE || k == ACT_RESCHEDULE || k == ACT_UNSCHEDULE;
}

cJSON *report_plan_json(const struct plan *p)
{
	cJSON *doc = cJSON_CreateObject();
	cJSON *arr;

	cJSON_AddTrueToObject(doc, "dryRun");
	cJSON_AddItemToObject(doc, "stats", report_stats_json(&p->stats));
	arr = cJSON_AddArrayToObject(doc, "actions");
	for (size_t i = 0; i < p->n; i++) {
		const struct action *a = &p->a[i];
		char id[JOB_ID_MAX + 1];
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "action", plan_kind_name(a->kind));
		if (is_job_action(a->kind)) {
			cJSON_AddStringToObject(o, "reservationId", a->job.resv);
			report_add_str(o, "reservationCode", a->r ? a->r->code : NULL);
			report_add_str(o, "listingId", a->r ? a->r->listing : NULL);
			cJSON_AddStringToObject(o, "job", a->job.action);
			plan_job_id(&a->job, id);
			cJSON_AddStringToObject(o, "jobId", id);
			cJSON_AddStringToObject(o, "deviceId", a->job.device);
			report_add_time(o, "dueAt", a->job.due, 1);
			report_add_time(o, "validFrom", a->job.valid_from, 1);
			report_add_time(o, "validUntil", a->job.valid_until, 1);
		} else {
			cJSON_AddStringToObject(o, "reservationId", a->r->id);
			cJSON_AddStringToObject(o, "reservationCode", a->r->code);
			cJSON_AddStringToObject(o, "listingId", a->r->listing);
			cJSON_AddStringToObject(o, "type", a->r->type);
			cJSON_AddStringToObject(o, "status", a->status);
			cJSON_AddStringToObject(o, "checkInDate", a->r->in_date);
			report_add_str(o, "checkInTime", a->r->in_time);
			cJSON_AddStringToObject(o, "checkOutDate", a->r->out_date);
			report_add_str(o, "checkOutTime", a->r->out_time);
			cJSON_AddNumberToObject(o, "guests", a->r->guests);
		}
		report_add_str(o, "reason", a->reason);
		cJSON_AddItemToArray(arr, o);
	}
	return doc;
}

void report_action_line(const struct action *a, struct strbuf *out)
{
	const char *code = a->r ? a->r->code : a->job.resv;
	char due[UTC_ISO_LEN + 1], vf[UTC_ISO_LEN + 1], vu[UTC_ISO_LEN + 1];

	if (is_job_action(a->kind)) {
		util_fmt_utc(a->job.due, due, sizeof(due));
		strbuf_addf(out, "%s %s %s lock %s", plan_kind_name(a->kind), a->job.action,
			    code, a->job.device);
		if (a->kind != ACT_UNSCHEDULE) {
			strbuf_addf(out, " due %s", due);
			if (a->job.valid_from) {
				util_fmt_utc(a->job.valid_from, vf, sizeof(vf));
				util_fmt_utc(a->job.valid_until, vu, sizeof(vu));
				strbuf_addf(out, " valid %s..%s", vf, vu);
			}
		}
	} else {
		assert(a->r);	/* reservation actions always carry their row */
		strbuf_addf(out, "%s %s (%s) listing %s %s %s -> %s %s, %s",
			    plan_kind_name(a->kind), a->r->code, a->r->id, a->r->listing,
			    a->r->in_date, a->r->in_time[0] ? a->r->in_time : "--:--",
			    a->r->out_date, a->r->out_time[0] ? a->r->out_time : "--:--",
			    a->r->type);
	}
	if (a->reason)
		strbuf_addf(out, ": %s", a->reason);
}

void report_stats_line(const struct plan_stats *s, struct strbuf *out)
{
	strbuf_addf(out,
		    "fetched %ld, created %ld, updated %ld, unchanged %ld, canceled %ld, removed %ld, orphaned %ld, errors %ld",
		    s->fetched, s->created, s->updated, s->unchanged, s->canceled,
		    s->removed, s->orphaned, s->errors);
}

void report_due_line(const struct due_job *d, struct strbuf *out)
{
	char due[UTC_ISO_LEN + 1];

	util_fmt_utc(d->j.due, due, sizeof(due));
	strbuf_addf(out, "would %s %s on lock %s (due %s, attempt %ld)", d->j.action,
		    d->have_resv ? d->code : d->j.resv, d->j.device, due, d->attempts + 1);
}

void report_actions_text(const struct plan *p, struct strbuf *out)
{
	for (size_t i = 0; i < p->n; i++) {
		report_action_line(&p->a[i], out);
		strbuf_adds(out, "\n");
	}
}

void report_dry_run_text(const struct plan *p, struct strbuf *out)
{
	strbuf_adds(out, "dry run: ");
	report_stats_line(&p->stats, out);
	strbuf_adds(out, "\n");
	report_actions_text(p, out);
}

void report_run_text(const struct plan *p, long requests, long connections,
		     long duration_ms, struct strbuf *out)
{
	strbuf_adds(out, "reconciled: ");
	report_stats_line(&p->stats, out);
	strbuf_addf(out, " (%ld request%s, %ld connection%s, %ld ms)\n", requests,
		    requests == 1 ? "" : "s", connections, connections == 1 ? "" : "s",
		    duration_ms);
	report_actions_text(p, out);
}

cJSON *report_pin_runner_json(const struct pin_run_row *row, int found, int stale)
{
	cJSON *o = cJSON_CreateObject();

	if (found) {
		cJSON *r = cJSON_AddObjectToObject(o, "lastRun");

		report_add_time(r, "startedAt", row->started_at, 0);
		report_add_time(r, "completedAt", row->completed_at, 0);
		cJSON_AddStringToObject(r, "status", row->status);
		cJSON_AddNumberToObject(r, "due", (double)row->due);
		cJSON_AddNumberToObject(r, "done", (double)row->done);
		cJSON_AddNumberToObject(r, "retried", (double)row->retried);
		cJSON_AddNumberToObject(r, "failed", (double)row->failed);
		if (row->has_message)
			cJSON_AddStringToObject(r, "message", row->message);
		else
			cJSON_AddNullToObject(r, "message");
	} else {
		cJSON_AddNullToObject(o, "lastRun");
	}
	cJSON_AddBoolToObject(o, "stale", stale);
	return o;
}

/* The fields every health item has. */
static cJSON *health_item_json(const struct health_item *it)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "reservationId", it->resv);
	report_add_str(o, "reservationCode", it->code);
	report_add_str(o, "listingId", it->listing);
	return o;
}

cJSON *report_health_json(const struct health *h)
{
	cJSON *doc = cJSON_CreateObject();
	cJSON *arr;
	size_t i;

	arr = cJSON_AddArrayToObject(doc, "unconfirmed");
	for (i = 0; i < h->unconfirmed.n; i++) {
		const struct health_item *it = &h->unconfirmed.v[i];
		cJSON *o = health_item_json(it);

		cJSON_AddStringToObject(o, "deviceId", it->device);
		cJSON_AddStringToObject(o, "state", it->state);
		report_add_time(o, "validFrom", it->from, 0);
		report_add_time(o, "validUntil", it->until, 0);
		cJSON_AddItemToArray(arr, o);
	}
	arr = cJSON_AddArrayToObject(doc, "unrevoked");
	for (i = 0; i < h->unrevoked.n; i++) {
		const struct health_item *it = &h->unrevoked.v[i];
		cJSON *o = health_item_json(it);

		cJSON_AddStringToObject(o, "deviceId", it->device);
		cJSON_AddStringToObject(o, "state", it->state);
		report_add_time(o, "validFrom", it->from, 0);
		report_add_time(o, "validUntil", it->until, 0);
		cJSON_AddItemToArray(arr, o);
	}
	arr = cJSON_AddArrayToObject(doc, "overdueJobs");
	for (i = 0; i < h->overdue.n; i++) {
		const struct health_item *it = &h->overdue.v[i];
		cJSON *o = health_item_json(it);

		cJSON_AddStringToObject(o, "deviceId", it->device);
		cJSON_AddStringToObject(o, "action", it->action);
		cJSON_AddStringToObject(o, "status", it->state);
		report_add_time(o, "dueAt", it->from, 0);
		cJSON_AddNumberToObject(o, "attempts", (double)it->attempts);
		report_add_str(o, "lastError", it->last_error);
		cJSON_AddItemToArray(arr, o);
	}
	arr = cJSON_AddArrayToObject(doc, "unmappedBookings");
	for (i = 0; i < h->unmapped.n; i++) {
		const struct health_item *it = &h->unmapped.v[i];
		cJSON *o = health_item_json(it);

		report_add_time(o, "checkIn", it->from, 0);
		report_add_time(o, "checkOut", it->until, 0);
		cJSON_AddItemToArray(arr, o);
	}
	return doc;
}

static const char *item_code(const struct health_item *it)
{
	return it->code[0] ? it->code : it->resv;
}

void report_health_lines(const struct health *h, struct strbuf *out)
{
	char a[UTC_ISO_LEN + 1], b[UTC_ISO_LEN + 1];
	size_t i;

	for (i = 0; i < h->unconfirmed.n; i++) {
		const struct health_item *it = &h->unconfirmed.v[i];

		util_fmt_utc(it->from, a, sizeof(a));
		strbuf_addf(out, "unconfirmed: PIN of %s on lock %s, valid from %s, not confirmed by the lock (%s)\n",
			    item_code(it), it->device, a, it->state);
	}
	for (i = 0; i < h->unrevoked.n; i++) {
		const struct health_item *it = &h->unrevoked.v[i];

		util_fmt_utc(it->until, a, sizeof(a));
		strbuf_addf(out, "unrevoked: PIN of %s on lock %s, valid until %s, not confirmed gone (%s)\n",
			    item_code(it), it->device, a, it->state);
	}
	for (i = 0; i < h->overdue.n; i++) {
		const struct health_item *it = &h->overdue.v[i];

		util_fmt_utc(it->from, a, sizeof(a));
		strbuf_addf(out, "overdue job: %s %s on lock %s, due %s, %s after %ld attempt%s%s%s\n",
			    it->action, item_code(it), it->device, a, it->state, it->attempts,
			    it->attempts == 1 ? "" : "s", it->last_error[0] ? ": " : "",
			    it->last_error);
	}
	for (i = 0; i < h->unmapped.n; i++) {
		const struct health_item *it = &h->unmapped.v[i];

		util_fmt_utc(it->from, a, sizeof(a));
		util_fmt_utc(it->until, b, sizeof(b));
		strbuf_addf(out, "unmapped booking: %s on listing %s (%s..%s) has no lock; map one with: stays-reconcile locks add %s DEVICE_ID\n",
			    item_code(it), it->listing, a, b, it->listing);
	}
}

/* ---- locks list and jobs ------------------------------------------------ */

cJSON *report_locks_json(const struct lock_map *locks, size_t n)
{
	cJSON *arr = cJSON_CreateArray();

	for (size_t i = 0; i < n; i++) {
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "listingId", locks[i].listing);
		cJSON_AddStringToObject(o, "deviceId", locks[i].device);
		report_add_str(o, "name", locks[i].name);
		if (locks[i].pin_length)
			cJSON_AddNumberToObject(o, "pinLength", locks[i].pin_length);
		else
			cJSON_AddNullToObject(o, "pinLength");
		report_add_str(o, "timezone", locks[i].tz);
		cJSON_AddItemToArray(arr, o);
	}
	return arr;
}

#define LOCKS_ROW "%-26s %-24s %-6s %-20s %s\n"

void report_locks_table(const struct lock_map *locks, size_t n, struct strbuf *out)
{
	if (n)
		strbuf_addf(out, LOCKS_ROW, "LISTING", "DEVICE", "DIGITS", "TIMEZONE", "NAME");
	for (size_t i = 0; i < n; i++) {
		char len[8];

		snprintf(len, sizeof(len), "%d", locks[i].pin_length);
		strbuf_addf(out, LOCKS_ROW, locks[i].listing, locks[i].device,
			    locks[i].pin_length ? len : "-", locks[i].tz[0] ? locks[i].tz : "-",
			    locks[i].name[0] ? locks[i].name : "-");
	}
}

cJSON *report_jobs_json(const struct job_row *rows, size_t n)
{
	cJSON *arr = cJSON_CreateArray();

	for (size_t i = 0; i < n; i++) {
		const struct job_row *r = &rows[i];
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "id", r->j.id);
		cJSON_AddStringToObject(o, "action", r->j.action);
		cJSON_AddStringToObject(o, "reservationId", r->j.resv);
		report_add_str(o, "reservationCode", r->code);
		report_add_str(o, "listingId", r->listing);
		cJSON_AddStringToObject(o, "deviceId", r->j.device);
		report_add_time(o, "dueAt", r->j.due, 0);
		cJSON_AddStringToObject(o, "status", r->j.status);
		cJSON_AddNumberToObject(o, "attempts", (double)r->attempts);
		report_add_time(o, "nextAttemptAt", r->next_attempt_at, 1);
		if (r->has_last_error)
			cJSON_AddStringToObject(o, "lastError", r->last_error);
		else
			cJSON_AddNullToObject(o, "lastError");
		cJSON_AddItemToArray(arr, o);
	}
	return arr;
}

void report_jobs_table(const struct job_row *rows, size_t n, struct strbuf *out)
{
	if (n)
		strbuf_addf(out, "%-20s  %-8s  %-8s  %-8s  %-24s  %3s  %s\n", "DUE", "ACTION",
			    "STATUS", "CODE", "LOCK", "TRY", "LAST ERROR");
	for (size_t i = 0; i < n; i++) {
		const struct job_row *r = &rows[i];
		char due[UTC_ISO_LEN + 1];

		util_fmt_utc(r->j.due, due, sizeof(due));
		strbuf_addf(out, "%-20s  %-8s  %-8s  %-8s  %-24s  %3ld  %s\n", due, r->j.action,
			    r->j.status, r->code[0] ? r->code : "?", r->j.device, r->attempts,
			    r->has_last_error ? r->last_error : "-");
	}
}

/* ---- status ------------------------------------------------------------- */

static cJSON *db_stats_json(const struct db_stats *d)
{
	cJSON *o = cJSON_CreateObject(), *rows;

	report_add_str(o, "path", d->path);
	if (!d->found) {
		cJSON_AddNullToObject(o, "sizeBytes");
		cJSON_AddNullToObject(o, "rows");
		return o;
	}
	cJSON_AddNumberToObject(o, "sizeBytes", (double)d->size);
	rows = cJSON_AddObjectToObject(o, "rows");
	cJSON_AddNumberToObject(rows, "reservations", (double)d->reservations);
	cJSON_AddNumberToObject(rows, "pinJobs", (double)d->jobs);
	cJSON_AddNumberToObject(rows, "credentials", (double)d->credentials);
	cJSON_AddNumberToObject(rows, "reconciliationLogs", (double)d->runs);
	cJSON_AddNumberToObject(rows, "guests", (double)d->guests);
	return o;
}

cJSON *report_status_json(const struct status_report *s)
{
	cJSON *doc = cJSON_CreateObject();
	cJSON *jobs;

	if (s->found)
		cJSON_AddItemToObject(doc, "lastRun", report_log_json(&s->last));
	else
		cJSON_AddNullToObject(doc, "lastRun");
	if (s->next_run != (time_t)-1)
		report_add_time(doc, "nextRun", s->next_run, 0);
	else
		cJSON_AddNullToObject(doc, "nextRun");
	cJSON_AddStringToObject(doc, "currentStatus", s->current);
	cJSON_AddStringToObject(doc, "schedule", s->schedule);
	jobs = cJSON_AddObjectToObject(doc, "pinJobs");
	cJSON_AddNumberToObject(jobs, "pending", (double)s->pending);
	cJSON_AddNumberToObject(jobs, "failed", (double)s->failed);
	report_add_time(jobs, "nextDue", s->next_due, 1);
	cJSON_AddItemToObject(doc, "pinRunner",
			      report_pin_runner_json(&s->pr, s->pr_found, s->pr_stale));
	cJSON_AddItemToObject(doc, "health", report_health_json(&s->health));
	cJSON_AddItemToObject(doc, "database", db_stats_json(&s->dbs));
	return doc;
}

/* "database:" line: 1536 -> "1.5 KiB". */
static void db_stats_line(const struct db_stats *d, struct strbuf *out)
{
	static const char *const units[] = { "bytes", "KiB", "MiB", "GiB", "TiB" };
	double size = (double)d->size;
	size_t u = 0;

	if (!d->found) {
		strbuf_addf(out, "database:  %s, not created yet\n", d->path ? d->path : "-");
		return;
	}
	while (size >= 1024 && u + 1 < sizeof(units) / sizeof(*units)) {
		size /= 1024;
		u++;
	}
	strbuf_addf(out, u ? "database:  %s, %.1f %s" : "database:  %s, %.0f %s", d->path, size,
		    units[u]);
	strbuf_addf(out, ", %ld reservations, %ld jobs, %ld credentials, %ld run logs, %ld guests\n",
		    d->reservations, d->jobs, d->credentials, d->runs, d->guests);
}

/* "last run:", "stats:" and "message:" lines. */
static void status_last_run(const struct status_report *s, struct strbuf *out)
{
	char t[UTC_ISO_LEN + 1];

	if (!s->found) {
		strbuf_adds(out, "last run:  never\n");
		return;
	}
	util_fmt_utc(s->last.started_at, t, sizeof(t));
	strbuf_addf(out, "last run:  %s, started %s", s->last.status, t);
	if (strcmp(s->last.status, "pending") != 0) {
		util_fmt_utc(s->last.completed_at, t, sizeof(t));
		strbuf_addf(out, ", completed %s (%ld ms)", t, s->last.duration_ms);
	}
	strbuf_adds(out, "\nstats:     ");
	report_stats_line(&s->last.stats, out);
	strbuf_adds(out, "\n");
	if (s->last.has_message)
		strbuf_addf(out, "message:   %s\n", s->last.message);
}

/* "pin jobs:" and "pin-runner:" lines. */
static void status_pin_runner(const struct status_report *s, struct strbuf *out)
{
	char t[UTC_ISO_LEN + 1];

	strbuf_addf(out, "pin jobs:  %ld pending, %ld failed", s->pending, s->failed);
	if (s->next_due) {
		util_fmt_utc(s->next_due, t, sizeof(t));
		strbuf_addf(out, ", next due %s", t);
	}
	strbuf_adds(out, "\n");
	if (!s->pr_found) {
		strbuf_addf(out, "pin-runner: never ran%s\n",
			    s->pr_stale ? " (stale: jobs are waiting)" : "");
		return;
	}
	util_fmt_utc(s->pr.started_at, t, sizeof(t));
	strbuf_addf(out, "pin-runner: %s, last run %s (%ld due, %ld done, %ld to retry, %ld failed)",
		    s->pr.status, t, s->pr.due, s->pr.done, s->pr.retried, s->pr.failed);
	if (s->pr_stale)
		strbuf_addf(out, " (stale: jobs are waiting and no run completed for %ld minutes)",
			    s->pr_stale_after / 60);
	strbuf_adds(out, "\n");
	if (s->pr.has_message)
		strbuf_addf(out, "            %s\n", s->pr.message);
}

void report_status_text(const struct status_report *s, struct strbuf *out)
{
	struct strbuf health = STRBUF_INIT;
	char t[UTC_ISO_LEN + 1];

	status_last_run(s, out);
	strbuf_addf(out, "status:    %s%s\n", s->current,
		    s->stale ? " (stale: no run finished within two schedule intervals)" : "");
	if (s->next_run != (time_t)-1) {
		util_fmt_utc(s->next_run, t, sizeof(t));
		strbuf_addf(out, "schedule:  %s, next run %s\n", s->schedule, t);
	} else {
		strbuf_addf(out, "schedule:  %s, never fires\n", s->schedule);
	}
	status_pin_runner(s, out);
	report_health_lines(&s->health, &health);
	strbuf_addf(out, "health:    %s\n", health.len ? "needs attention" : "ok");
	strbuf_adds(out, strbuf_str(&health));
	strbuf_release(&health);
	db_stats_line(&s->dbs, out);
}
