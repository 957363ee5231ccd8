/*
 * report.c - JSON and text renderings of plans, stats and run logs.
 * Field names are camelCase and times UTC ISO-8601 with 'Z' (SPEC §6a).
 */
#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "report.h"
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
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "action", plan_kind_name(a->kind));
		if (is_job_action(a->kind)) {
			cJSON_AddStringToObject(o, "reservationId", a->job.resv);
			report_add_str(o, "reservationCode", a->r ? a->r->code : NULL);
			report_add_str(o, "listingId", a->r ? a->r->listing : NULL);
			cJSON_AddStringToObject(o, "job", a->job.action);
			cJSON_AddStringToObject(o, "jobId", a->job.id);
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
