/*
 * report_check.c - `check` items and their text and JSON renderings
 * (report_check.h).  Pure formatting of what check.c gathered.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report_check.h"
#include "banned.h"

void check_add(struct check_list *l, enum check_status status, int code, const char *item,
	       const char *fix, const char *fmt, ...)
{
	struct check_item *it;
	va_list ap;

	l->v = xgrow(l->v, sizeof(*l->v), l->n + 1, &l->alloc);
	it = &l->v[l->n++];
	memset(it, 0, sizeof(*it));
	it->status = status;
	it->code = status == CHECK_FAIL ? code : 0;
	xstrlcpy(it->item, item, sizeof(it->item));
	xstrlcpy(it->fix, fix && status != CHECK_OK ? fix : "", sizeof(it->fix));
	va_start(ap, fmt);
	vsnprintf(it->detail, sizeof(it->detail), fmt, ap);   /* truncation is fine */
	va_end(ap);
	if (status == CHECK_FAIL && l->exit_code == 0)
		l->exit_code = code ? code : 1;
}

void check_list_release(struct check_list *l)
{
	free(l->v);
	memset(l, 0, sizeof(*l));
}

static const char *status_text(enum check_status s)
{
	return s == CHECK_OK ? "ok" : s == CHECK_WARN ? "warn" : "FAIL";
}

static const char *status_json(enum check_status s)
{
	return s == CHECK_OK ? "ok" : s == CHECK_WARN ? "warn" : "fail";
}

void report_check_text(const struct check_list *l, struct strbuf *out)
{
	for (size_t i = 0; i < l->n; i++) {
		const struct check_item *it = &l->v[i];

		strbuf_addf(out, "%-4s  %-8s  %s", status_text(it->status), it->item, it->detail);
		if (it->fix[0])
			strbuf_addf(out, "; fix: %s", it->fix);
		strbuf_adds(out, "\n");
	}
}

cJSON *report_check_json(const struct check_list *l)
{
	cJSON *doc = cJSON_CreateObject(), *items = cJSON_CreateArray();

	cJSON_AddBoolToObject(doc, "ok", l->exit_code == 0);
	cJSON_AddNumberToObject(doc, "exitCode", l->exit_code);
	for (size_t i = 0; i < l->n; i++) {
		const struct check_item *it = &l->v[i];
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "item", it->item);
		cJSON_AddStringToObject(o, "status", status_json(it->status));
		cJSON_AddStringToObject(o, "detail", it->detail);
		if (it->fix[0])
			cJSON_AddStringToObject(o, "fix", it->fix);
		else
			cJSON_AddNullToObject(o, "fix");
		cJSON_AddItemToArray(items, o);
	}
	cJSON_AddItemToObject(doc, "items", items);
	return doc;
}
