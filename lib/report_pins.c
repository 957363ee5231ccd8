/*
 * report_pins.c - the view and the drift of `stays-reconcile pins`
 * (report_pins.h).  Times are UTC ISO-8601 with 'Z', plus the lock's wall
 * clock as "YYYY-MM-DDTHH:MM"; field names camelCase (SPEC §6a).  A PIN
 * appears only with show_pin; otherwise as many '*' as it has digits.
 */
#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "pinrun.h"
#include "report.h"
#include "report_pins.h"
#include "tz.h"
#include "banned.h"


/* The zone a credential's lock keeps time in. */
static const char *cred_zone(const struct pins_view *pv, const struct live_cred *l)
{
	return l->tz[0] ? l->tz : pv->default_tz;
}

/* The PIN, or as many '*' as it has digits. */
static void fmt_pin(const struct pins_view *pv, const char *pin, char buf[PIN_MAX + 1])
{
	size_t len = strnlen(pin, PIN_MAX);

	if (pv->show_pin) {
		memcpy(buf, pin, len);
	} else {
		memset(buf, '*', len);
	}
	buf[len] = '\0';
}

static void add_id(cJSON *o, const char *name, int64_t id)
{
	if (id > 0)
		cJSON_AddNumberToObject(o, name, (double)id);
	else
		cJSON_AddNullToObject(o, name);
}

static cJSON *pin_json(const struct pins_view *pv, const struct live_cred *l)
{
	cJSON *o = cJSON_CreateObject();
	const char *zone = cred_zone(pv, l);
	char pin[PIN_MAX + 1];

	cJSON_AddStringToObject(o, "reservationId", l->resv);
	report_add_str(o, "reservationCode", l->code);
	report_add_str(o, "listingId", l->listing);
	cJSON_AddStringToObject(o, "deviceId", l->device);
	report_add_str(o, "lockName", l->lock_name);
	add_id(o, "passwordId", l->c.password_id);
	cJSON_AddStringToObject(o, "state", l->c.state);
	report_add_time(o, "validFrom", l->c.valid_from, 0);
	report_add_time(o, "validUntil", l->c.valid_until, 0);
	report_add_local(o, "validFromLocal", zone, l->c.valid_from);
	report_add_local(o, "validUntilLocal", zone, l->c.valid_until);
	report_add_str(o, "timezone", zone);
	cJSON_AddBoolToObject(o, "notified", l->c.notified_at != 0);
	report_add_time(o, "notifiedAt", l->c.notified_at, 1);
	fmt_pin(pv, l->c.pin, pin);
	cJSON_AddStringToObject(o, "pin", pin);
	explicit_bzero(pin, sizeof(pin));
	return o;
}

cJSON *report_pins_json(const struct pins_view *pv)
{
	cJSON *arr = cJSON_CreateArray();

	for (size_t i = 0; i < pv->n; i++)
		cJSON_AddItemToArray(arr, pin_json(pv, &pv->v[i]));
	return arr;
}

#define PINS_ROW "  %-10s %-11s %-16s %-16s %-20s %-20s %-12s %-6s %-12s %s\n"

static void pin_row(const struct pins_view *pv, const struct live_cred *l, struct strbuf *out)
{
	const char *zone = cred_zone(pv, l);
	char lf[LOCAL_LEN + 1] = "?", lu[LOCAL_LEN + 1] = "?";
	char uf[UTC_ISO_LEN + 1], uu[UTC_ISO_LEN + 1], id[24] = "-", pin[PIN_MAX + 1];

	report_fmt_local(zone, l->c.valid_from, ' ', lf);
	report_fmt_local(zone, l->c.valid_until, ' ', lu);
	util_fmt_utc(l->c.valid_from, uf, sizeof(uf));
	util_fmt_utc(l->c.valid_until, uu, sizeof(uu));
	if (l->c.password_id > 0)
		snprintf(id, sizeof(id), "%lld", (long long)l->c.password_id);
	fmt_pin(pv, l->c.pin, pin);
	strbuf_addf(out, PINS_ROW, l->code[0] ? l->code : "?", l->c.state, lf, lu, uf, uu,
		    id, l->c.notified_at ? "yes" : "no", pin, l->listing[0] ? l->listing : "?");
	explicit_bzero(pin, sizeof(pin));
}

void report_pins_table(const struct pins_view *pv, struct strbuf *out)
{
	for (size_t i = 0; i < pv->n; i++) {
		const struct live_cred *l = &pv->v[i];
		const char *zone = cred_zone(pv, l);

		if (i == 0 || strcmp(l->device, pv->v[i - 1].device) != 0) {
			strbuf_addf(out, "%slock %s%s%s%s, %s\n", i ? "\n" : "", l->device,
				    l->lock_name[0] ? " (" : "", l->lock_name,
				    l->lock_name[0] ? ")" : "", zone && *zone ? zone : "?");
			strbuf_addf(out, PINS_ROW, "CODE", "STATE", "FROM (LOCAL)", "UNTIL (LOCAL)",
				    "FROM (UTC)", "UNTIL (UTC)", "PASSWORD ID", "HOOK", "PIN",
				    "LISTING");
		}
		pin_row(pv, l, out);
	}
}

/* ---- drift ------------------------------------------------------------------ */

const char *pins_drift_kind_name(enum pin_drift_kind k)
{
	switch (k) {
	case DRIFT_UNKNOWN: return "unknown";
	case DRIFT_MISSING: return "missing";
	case DRIFT_WINDOW: return "window";
	}
	return "?";
}

/* 1 if a credential of device holds password p: its id, or the name of
 * one still creating. */
static int known(const char *device, const struct tuya_password *p,
		 const struct live_cred *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (strcmp(v[i].device, device) != 0)
			continue;
		if (v[i].c.password_id == p->id)
			return 1;
		if (strcmp(v[i].c.state, "creating") == 0 && strcmp(v[i].c.name, p->name) == 0)
			return 1;
	}
	return 0;
}

static const struct tuya_password *find_pw(const struct tuya_password *pw, size_t n, int64_t id)
{
	for (size_t i = 0; i < n; i++)
		if (pw[i].id == id)
			return &pw[i];
	return NULL;
}

static size_t push(struct pin_drift **out, size_t count, size_t *alloc, struct pin_drift d)
{
	*out = xgrow(*out, sizeof(**out), count + 1, alloc);
	(*out)[count] = d;
	return count + 1;
}

size_t pins_drift(const char *device, const struct tuya_password *pw, size_t n_pw,
		  const struct live_cred *v, size_t n, struct pin_drift **out,
		  size_t count, size_t *alloc)
{
	assert(device && out && alloc);
	for (size_t i = 0; i < n_pw; i++) {
		const struct tuya_password *p = &pw[i];

		if (pinrun_password_live(p) && !known(device, p, v, n))
			count = push(out, count, alloc, (struct pin_drift){
				DRIFT_UNKNOWN, device, p->id, p->name, NULL, p->phase,
				p->effective, p->invalid });
	}
	for (size_t i = 0; i < n; i++) {
		const struct live_cred *l = &v[i];
		const struct tuya_password *p;

		if (strcmp(l->device, device) != 0 || (strcmp(l->c.state, "unconfirmed") != 0 &&
							strcmp(l->c.state, "active") != 0))
			continue;
		p = find_pw(pw, n_pw, l->c.password_id);
		if (!p || !pinrun_password_live(p))
			count = push(out, count, alloc, (struct pin_drift){
				DRIFT_MISSING, device, l->c.password_id, l->c.name, l,
				p ? p->phase : -1, 0, 0 });
		else if (p->effective != (long long)l->c.valid_from ||
			 p->invalid != (long long)l->c.valid_until)
			count = push(out, count, alloc, (struct pin_drift){
				DRIFT_WINDOW, device, p->id, p->name, l, p->phase,
				p->effective, p->invalid });
	}
	return count;
}

static cJSON *drift_json(const struct pin_drift *d)
{
	cJSON *o = cJSON_CreateObject();
	const struct live_cred *l = d->cred;

	cJSON_AddStringToObject(o, "deviceId", d->device);
	cJSON_AddStringToObject(o, "kind", pins_drift_kind_name(d->kind));
	add_id(o, "passwordId", d->password_id);
	report_add_str(o, "name", d->name);
	if (d->phase >= 0)
		cJSON_AddNumberToObject(o, "phase", d->phase);
	else
		cJSON_AddNullToObject(o, "phase");
	report_add_time(o, "lockValidFrom", (time_t)d->effective, 1);
	report_add_time(o, "lockValidUntil", (time_t)d->invalid, 1);
	report_add_str(o, "reservationId", l ? l->resv : NULL);
	report_add_str(o, "reservationCode", l ? l->code : NULL);
	report_add_str(o, "state", l ? l->c.state : NULL);
	report_add_time(o, "validFrom", l ? l->c.valid_from : 0, 1);
	report_add_time(o, "validUntil", l ? l->c.valid_until : 0, 1);
	return o;
}

cJSON *report_drift_json(const struct pin_drift *d, size_t n)
{
	cJSON *arr = cJSON_CreateArray();

	for (size_t i = 0; i < n; i++)
		cJSON_AddItemToArray(arr, drift_json(&d[i]));
	return arr;
}

static void drift_line(const struct pin_drift *d, struct strbuf *out)
{
	char f[UTC_ISO_LEN + 1], u[UTC_ISO_LEN + 1], cf[UTC_ISO_LEN + 1], cu[UTC_ISO_LEN + 1];
	const struct live_cred *l = d->cred;

	util_fmt_utc((time_t)d->effective, f, sizeof(f));
	util_fmt_utc((time_t)d->invalid, u, sizeof(u));
	strbuf_addf(out, "drift: lock %s: password id %lld ", d->device, (long long)d->password_id);
	switch (d->kind) {
	case DRIFT_UNKNOWN:
		strbuf_addf(out, "'%s' (phase %d, valid %s..%s) is not in the database\n",
			    d->name, d->phase, f, u);
		return;
	case DRIFT_MISSING:
		strbuf_addf(out, "of %s (%s) is not live on the lock", l->code[0] ? l->code : l->resv,
			    l->c.state);
		if (d->phase >= 0)
			strbuf_addf(out, " (phase %d)", d->phase);
		strbuf_adds(out, "\n");
		return;
	case DRIFT_WINDOW:
		util_fmt_utc(l->c.valid_from, cf, sizeof(cf));
		util_fmt_utc(l->c.valid_until, cu, sizeof(cu));
		strbuf_addf(out, "of %s: the lock has %s..%s, the database %s..%s\n",
			    l->code[0] ? l->code : l->resv, f, u, cf, cu);
		return;
	}
}

void report_drift_text(const struct pin_drift *d, size_t n, struct strbuf *out)
{
	for (size_t i = 0; i < n; i++)
		drift_line(&d[i], out);
}
