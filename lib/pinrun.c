/*
 * pinrun.c - generate, update and revoke jobs (see pinrun.h for the order
 * of steps that makes them crash-safe).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "hook.h"
#include "pin.h"
#include "pinrun.h"
#include "report.h"
#include "banned.h"

long pinrun_backoff(long attempts)
{
	long d = 60;

	for (long i = 1; i < attempts && d < 3600; i++)
		d *= 2;
	return d < 3600 ? d : 3600;
}

static void step(struct pinrun *pr, const char *what)
{
	if (pr->step)
		pr->step(pr->ctx, what);
}

/* Format a message and hand it to fn (a note or a warning), if set. */
static void say(struct pinrun *pr, void (*fn)(void *ctx, const char *msg),
		const char *fmt, va_list ap)
{
	char msg[ERRBUF_SIZE + 128];

	if (!fn)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	fn(pr->ctx, msg);
}

static void note(struct pinrun *pr, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void note(struct pinrun *pr, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	say(pr, pr->note, fmt, ap);
	va_end(ap);
}

static void warn(struct pinrun *pr, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void warn(struct pinrun *pr, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	say(pr, pr->warn, fmt, ap);
	va_end(ap);
}

static const char *job_code(const struct due_job *dj)
{
	return dj->have_resv ? dj->code : dj->j.resv;
}

static void run_failure_hook(struct pinrun *pr, const struct due_job *dj, const char *error)
{
	cJSON *o;
	char *text, eb[ERRBUF_SIZE];

	if (!pr->cfg->hooks.on_failure)
		return;
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "jobId", dj->j.id);
	cJSON_AddStringToObject(o, "action", dj->j.action);
	cJSON_AddStringToObject(o, "reservationId", dj->j.resv);
	report_add_str(o, "reservationCode", dj->have_resv ? dj->code : NULL);
	report_add_str(o, "listingId", dj->have_resv ? dj->listing : NULL);
	cJSON_AddStringToObject(o, "deviceId", dj->j.device);
	cJSON_AddNumberToObject(o, "attempts", (double)dj->attempts + 1);
	cJSON_AddStringToObject(o, "error", error);
	text = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (text && hook_run(pr->cfg->hooks.on_failure, text, eb) != ERR_OK)
		warn(pr, "on_failure %s (for job %s)", eb, dj->j.id);
	cJSON_free(text);
}

/*
 * Record a failed attempt (P5) and decide what it means for the run.
 * cls is the Tuya class of the failure; e the lib error.
 */
static enum pinrun_result failed(struct pinrun *pr, const struct due_job *dj,
				 const struct tuya_status *st, enum err e, int permanent,
				 char *errbuf)
{
	char eb[ERRBUF_SIZE], msg[ERRBUF_SIZE];
	int is_failed = 0;
	time_t next = pr->now + pinrun_backoff(dj->attempts + 1);

	if (st && st->cls == TUYA_AUTH) {
		/* Refused credentials are not this job's fault: it stays pending. */
		if (pinstore_unclaim(pr->db, dj->j.id, eb) != ERR_OK)
			warn(pr, "%s", eb);
		if (st->code == 1106) {
			/* Only this lock: unlinked from the cloud project. */
			xstrlcpy(msg, errbuf, sizeof(msg));
			snprintf(errbuf, ERRBUF_SIZE,
				 "job %.100s left pending: Tuya denies access to lock %.64s (is it linked to the cloud project?): %.240s",
				 dj->j.id, dj->j.device, msg);
			return PR_HOLD_LOCK;
		}
		return PR_STOP_AUTH;
	}
	if (e == ERR_PROTOCOL) {
		/* A garbled answer says nothing about the job: try again later
		 * (a create that did land is adopted then, P3). */
		pr->protocol_errors++;
		permanent = 0;
	}
	xstrlcpy(msg, errbuf, sizeof(msg));
	if (pinstore_attempt_failed(pr->db, dj->j.id, pr->now, next, msg,
				    pr->cfg->pins.max_attempts, permanent, &is_failed,
				    eb) != ERR_OK) {
		snprintf(errbuf, ERRBUF_SIZE, "%.200s; and %.200s", msg, eb);
		return PR_FAILED;
	}
	if (is_failed) {
		snprintf(errbuf, ERRBUF_SIZE, "job %.100s failed for good after %ld attempt%s: %.340s",
			 dj->j.id, dj->attempts + 1, dj->attempts ? "s" : "", msg);
		run_failure_hook(pr, dj, msg);
		return PR_FAILED;
	}
	{
		char when[UTC_ISO_LEN + 1];

		util_fmt_utc(next, when, sizeof(when));
		snprintf(errbuf, ERRBUF_SIZE, "job %.100s: %.340s; retrying at %s", dj->j.id, msg,
			 when);
	}
	if (st && st->http_status == 0 && e == ERR_UNAVAILABLE)
		return PR_STOP_NET;
	return PR_RETRY;
}

/* A Tuya phase that means the password is (or will be) usable. */
static int phase_live(int phase)
{
	return phase == 1 || phase == 2;
}

static void run_pin_hook(struct pinrun *pr, const struct due_job *dj, const char *pin,
			 time_t vf, time_t vu)
{
	cJSON *o;
	char *text, eb[ERRBUF_SIZE];

	if (!pr->cfg->hooks.on_pin)
		return;
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "reservationId", dj->j.resv);
	cJSON_AddStringToObject(o, "reservationCode", dj->code);
	cJSON_AddStringToObject(o, "listingId", dj->listing);
	cJSON_AddStringToObject(o, "deviceId", dj->j.device);
	report_add_str(o, "lockName", dj->lock_name);
	cJSON_AddStringToObject(o, "pin", pin);
	report_add_time(o, "validFrom", vf, 0);
	report_add_time(o, "validUntil", vu, 0);
	cJSON_AddNumberToObject(o, "guests", dj->guests);
	text = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (text) {
		if (hook_run(pr->cfg->hooks.on_pin, text, eb) != ERR_OK)
			warn(pr, "on_pin %s (for %s on lock %s; the PIN stays)", eb, dj->code,
			     dj->j.device);
		explicit_bzero(text, strlen(text));
	}
	cJSON_free(text);
}

/* Look on the lock for a live password named name; *id = 0 if none. */
static enum err find_on_lock(struct pinrun *pr, const char *device, const char *name,
			     time_t vf, time_t vu, int64_t *id, int *same_window,
			     struct tuya_status *st, char *errbuf)
{
	struct tuya_password_list l = TUYA_PASSWORD_LIST_INIT;
	enum err e;

	*id = 0;
	*same_window = 0;
	e = tuya_list_temp_passwords(pr->tuya, device, &l, st, errbuf);
	if (e != ERR_OK)
		return e;
	for (size_t i = 0; i < l.n; i++) {
		const struct tuya_password *p = &l.v[i];

		if (!phase_live(p->phase) || strcmp(p->name, name) != 0)
			continue;
		if (!*id || (p->effective == vf && p->invalid == vu)) {
			*id = p->id;
			*same_window = p->effective == vf && p->invalid == vu;
		}
	}
	tuya_password_list_release(&l);
	return ERR_OK;
}

static enum pinrun_result do_generate(struct pinrun *pr, const struct due_job *dj,
				      char *errbuf)
{
	struct tuya_status st = { TUYA_OK, 0, 0, -1 };
	struct cred_row cred;
	char eb[ERRBUF_SIZE], pin[PIN_MAX + 1];
	time_t vf = dj->j.valid_from, vu = dj->j.valid_until;
	int found, length, same_window;
	int64_t id = 0;
	enum err e;

	if (!dj->have_resv) {
		snprintf(errbuf, ERRBUF_SIZE, "reservation %s no longer exists; no PIN", dj->j.resv);
		return failed(pr, dj, NULL, ERR_DATA, 1, errbuf);
	}
	if (!dj->have_lock || strcmp(dj->lock_listing, dj->listing) != 0) {
		snprintf(errbuf, ERRBUF_SIZE, "lock %s is not mapped to listing %s of %s; no PIN",
			 dj->j.device, dj->listing, dj->code);
		return failed(pr, dj, NULL, ERR_DATA, 1, errbuf);
	}
	if (!vf || !vu || vu <= vf) {
		snprintf(errbuf, ERRBUF_SIZE, "job has no valid PIN window");
		return failed(pr, dj, NULL, ERR_DATA, 1, errbuf);
	}
	length = dj->pin_length ? dj->pin_length : pr->cfg->pins.length;

	if ((e = pinstore_cred(pr->db, dj->j.resv, dj->j.device, &cred, &found, errbuf)) != ERR_OK)
		return failed(pr, dj, NULL, e, 0, errbuf);
	if (found && strcmp(cred.state, "active") == 0) {
		/* Already on the lock (a window change is an update job's work). */
		if ((e = pinstore_done(pr->db, dj->j.id, pr->now, errbuf)) != ERR_OK)
			return failed(pr, dj, NULL, e, 0, errbuf);
		note(pr, "generate %s on lock %s: already there", dj->code, dj->j.device);
		return PR_DONE;
	}
	if (found) {
		/* An earlier attempt recorded its intent: did its create land? */
		e = find_on_lock(pr, dj->j.device, cred.name, vf, vu, &id, &same_window, &st, errbuf);
		if (e != ERR_OK)
			return failed(pr, dj, &st, e, 0, errbuf);
		xstrlcpy(pin, cred.pin, sizeof(pin));
		if ((cred.valid_from != vf || cred.valid_until != vu) &&
		    (e = pinstore_cred_window(pr->db, cred.rowid, vf, vu, errbuf)) != ERR_OK)
			return failed(pr, dj, NULL, e, 0, errbuf);
		if (id && !same_window) {
			e = tuya_modify_temp_password(pr->tuya, dj->j.device, id, cred.name, pin,
						      vf, vu, &st, errbuf);
			if (e != ERR_OK)
				return failed(pr, dj, &st, e, st.cls == TUYA_PIN_REJECTED ||
					      st.cls == TUYA_PERMANENT, errbuf);
		}
		if (id)
			note(pr, "generate %s on lock %s: adopted password %lld left by an interrupted run",
			     dj->code, dj->j.device, (long long)id);
	} else {
		char **active = NULL;
		size_t nactive = 0;
		int reuse = 0;

		/* P2: the same PIN on every lock of a reservation, if it fits. */
		if ((e = pinstore_resv_pin(pr->db, dj->j.resv, dj->j.device, pin, &found,
					   errbuf)) != ERR_OK)
			return failed(pr, dj, NULL, e, 0, errbuf);
		if ((e = pinstore_lock_pins(pr->db, dj->j.device, &active, &nactive, errbuf)) != ERR_OK)
			return failed(pr, dj, NULL, e, 0, errbuf);
		if (found && (int)strlen(pin) == length) {
			reuse = 1;
			for (size_t i = 0; i < nactive; i++)
				reuse &= strcmp(active[i], pin) != 0;
		}
		if (!reuse)
			e = pin_choose(length, (const char *const *)active, nactive, pin,
				       sizeof(pin), errbuf);
		pinstore_free_pins(active, nactive);
		if (e != ERR_OK)
			return failed(pr, dj, NULL, e, 1, errbuf);
		e = pinstore_intent(pr->db, dj->j.resv, dj->j.device, dj->code, pin, vf, vu,
				    pr->now, errbuf);
		if (e == ERR_OK)
			e = pinstore_cred(pr->db, dj->j.resv, dj->j.device, &cred, &found, errbuf);
		if (e != ERR_OK || !found) {
			explicit_bzero(pin, sizeof(pin));
			return failed(pr, dj, NULL, e ? e : ERR_INTERNAL, 0, errbuf);
		}
		step(pr, "intent");
	}

	if (!id) {
		e = tuya_create_temp_password(pr->tuya, dj->j.device, cred.name, pin, vf, vu,
					      &id, &st, errbuf);
		if (e != ERR_OK) {
			int permanent = st.cls == TUYA_PIN_REJECTED || st.cls == TUYA_PERMANENT;

			if (st.cls == TUYA_PIN_REJECTED) {
				snprintf(eb, sizeof(eb),
					 "lock rejected the PIN for %.32s (Tuya 1109): wrong PIN length? it is set to %d digits; fix: stays-reconcile locks add %.64s %.64s --pin-length N (re-arms the job)",
					 dj->code, length, dj->listing, dj->j.device);
				xstrlcpy(errbuf, eb, ERRBUF_SIZE);
			}
			/*
			 * Tuya refused the call with a code (not a busy or token
			 * error, which are retried as they are): nothing was
			 * created, so forget the intent; a later revoke then has
			 * nothing to look for on a lock that may not even exist.
			 */
			if (st.code && st.cls != TUYA_RETRY && st.cls != TUYA_TOKEN &&
			    pinstore_revoked(pr->db, cred.rowid, NULL, pr->now, eb) != ERR_OK)
				warn(pr, "%s", eb);
			explicit_bzero(pin, sizeof(pin));
			return failed(pr, dj, &st, e, permanent, errbuf);
		}
	}
	if ((e = pinstore_created(pr->db, cred.rowid, id, dj->j.id, pr->now, errbuf)) != ERR_OK) {
		explicit_bzero(pin, sizeof(pin));
		return failed(pr, dj, NULL, e, 0, errbuf);
	}
	step(pr, "recorded");
	{
		char f[UTC_ISO_LEN + 1], u[UTC_ISO_LEN + 1];

		util_fmt_utc(vf, f, sizeof(f));
		util_fmt_utc(vu, u, sizeof(u));
		note(pr, "generate %s on lock %s: password %lld, valid %s..%s", dj->code,
		     dj->j.device, (long long)id, f, u);
	}
	run_pin_hook(pr, dj, pin, vf, vu);
	explicit_bzero(pin, sizeof(pin));
	step(pr, "hook");
	return PR_DONE;
}

static enum pinrun_result do_revoke(struct pinrun *pr, const struct due_job *dj,
				    char *errbuf)
{
	struct tuya_status st = { TUYA_OK, 0, 0, -1 };
	struct cred_row cred;
	int found, same_window;
	int64_t id;
	enum err e;

	if ((e = pinstore_cred(pr->db, dj->j.resv, dj->j.device, &cred, &found, errbuf)) != ERR_OK)
		return failed(pr, dj, NULL, e, 0, errbuf);
	if (!found) {
		if ((e = pinstore_done(pr->db, dj->j.id, pr->now, errbuf)) != ERR_OK)
			return failed(pr, dj, NULL, e, 0, errbuf);
		note(pr, "revoke %s on lock %s: no PIN there", job_code(dj), dj->j.device);
		return PR_DONE;
	}
	id = cred.password_id;
	if (!id) {
		/* Intent only: look for what an interrupted create left. */
		e = find_on_lock(pr, dj->j.device, cred.name, cred.valid_from, cred.valid_until,
				 &id, &same_window, &st, errbuf);
		if (e != ERR_OK)
			return failed(pr, dj, &st, e, 0, errbuf);
	}
	if (id) {
		e = tuya_delete_temp_password(pr->tuya, dj->j.device, id, &st, errbuf);
		if (e != ERR_OK)
			return failed(pr, dj, &st, e, st.cls == TUYA_PERMANENT && st.code != 2010,
				      errbuf);
	}
	step(pr, "deleted");
	if ((e = pinstore_revoked(pr->db, cred.rowid, dj->j.id, pr->now, errbuf)) != ERR_OK)
		return failed(pr, dj, NULL, e, 0, errbuf);
	note(pr, "revoke %s on lock %s: %s", job_code(dj), dj->j.device,
	     !id ? "never created" : st.cls == TUYA_GONE ? "already gone" : "deleted");
	return PR_DONE;
}

static enum pinrun_result do_update(struct pinrun *pr, const struct due_job *dj,
				    char *errbuf)
{
	struct tuya_status st = { TUYA_OK, 0, 0, -1 };
	struct cred_row cred;
	time_t vf = dj->j.valid_from, vu = dj->j.valid_until;
	int found;
	enum err e;

	if ((e = pinstore_cred(pr->db, dj->j.resv, dj->j.device, &cred, &found, errbuf)) != ERR_OK)
		return failed(pr, dj, NULL, e, 0, errbuf);
	if (!found || strcmp(cred.state, "active") != 0 || !cred.password_id ||
	    (cred.valid_from == vf && cred.valid_until == vu)) {
		/* Nothing on the lock to change, or already as wanted. */
		if ((e = pinstore_done(pr->db, dj->j.id, pr->now, errbuf)) != ERR_OK)
			return failed(pr, dj, NULL, e, 0, errbuf);
		note(pr, "update %s on lock %s: nothing to change", job_code(dj), dj->j.device);
		return PR_DONE;
	}
	if (!vf || !vu || vu <= vf) {
		snprintf(errbuf, ERRBUF_SIZE, "job has no valid PIN window");
		return failed(pr, dj, NULL, ERR_DATA, 1, errbuf);
	}
	e = tuya_modify_temp_password(pr->tuya, dj->j.device, cred.password_id, cred.name,
				      cred.pin, vf, vu, &st, errbuf);
	if (e != ERR_OK)
		return failed(pr, dj, &st, e, st.cls == TUYA_PIN_REJECTED ||
			      st.cls == TUYA_PERMANENT, errbuf);
	step(pr, "modified");
	if ((e = pinstore_updated(pr->db, cred.rowid, vf, vu, dj->j.id, pr->now, errbuf)) != ERR_OK)
		return failed(pr, dj, NULL, e, 0, errbuf);
	note(pr, "update %s on lock %s: new window", job_code(dj), dj->j.device);
	return PR_DONE;
}

enum pinrun_result pinrun_job(struct pinrun *pr, const struct due_job *dj, char *errbuf)
{
	errbuf[0] = '\0';
	if (strcmp(dj->j.action, "generate") == 0)
		return do_generate(pr, dj, errbuf);
	if (strcmp(dj->j.action, "revoke") == 0)
		return do_revoke(pr, dj, errbuf);
	if (strcmp(dj->j.action, "update") == 0)
		return do_update(pr, dj, errbuf);
	snprintf(errbuf, ERRBUF_SIZE, "unknown job action '%s'", dj->j.action);
	return failed(pr, dj, NULL, ERR_DATA, 1, errbuf);
}
