/*
 * pinrun.c - generate, update and revoke jobs (see pinrun.h for the order
 * of steps that makes them crash-safe and race-safe).
 *
 * Invariants kept here:
 *   - A password is only ever created under a credential recorded first,
 *     with a name unique to that credential; a retry finds it by that name
 *     and never takes an id another credential holds (P3).
 *   - Nothing is recorded as on the lock, or as gone, before the lock says
 *     so (P3a): every create, modify and delete is read back.
 *   - Every job write is conditional on the job still running; when
 *     stays-reconcile canceled it meanwhile, what was created is deleted at
 *     once and no hook runs (P2).
 *   - No message contains a PIN.
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
 * Record a failed attempt (P5) and decide what it means for the run.  st
 * is the Tuya outcome (may be NULL), e the lib error; max_attempts 0 means
 * retry until the job is canceled (the on_pin hook, P2).
 */
static enum pinrun_result failed_max(struct pinrun *pr, const struct due_job *dj,
				     const struct tuya_status *st, enum err e,
				     int permanent, long max_attempts, char *errbuf)
{
	char eb[ERRBUF_SIZE], msg[ERRBUF_SIZE];
	int is_failed = 0;
	time_t next = pr->now + pinrun_backoff(dj->attempts + 1);

	if (st && st->cls == TUYA_AUTH) {
		/* Refused credentials are not this job's fault: it stays pending,
		 * with the reason as its last error. */
		char reason[ERRBUF_SIZE];

		xstrlcpy(msg, errbuf, sizeof(msg));
		if (st->code == 1106)	/* only this lock: unlinked from the project */
			snprintf(reason, sizeof(reason),
				 "Tuya denies access to lock %.64s (is it linked to the cloud project?): %.300s",
				 dj->j.device, msg);
		else
			snprintf(reason, sizeof(reason), "Tuya refused the credentials: %.400s", msg);
		if (pinstore_unclaim(pr->db, dj->j.id, reason, eb) != ERR_OK)
			warn(pr, "%s", eb);
		if (st->code != 1106)
			return PR_STOP_AUTH;
		snprintf(errbuf, ERRBUF_SIZE, "job %.80s left pending: %.400s", dj->j.id, reason);
		return PR_HOLD_LOCK;
	}
	if (e == ERR_PROTOCOL) {
		/* A garbled answer says nothing about the job: try again later
		 * (a create that did land is adopted then, P3). */
		pr->protocol_errors++;
		permanent = 0;
	}
	xstrlcpy(msg, errbuf, sizeof(msg));
	if (pinstore_attempt_failed(pr->db, dj->j.id, pr->now, next, msg, max_attempts,
				    permanent, &is_failed, eb) != ERR_OK) {
		snprintf(errbuf, ERRBUF_SIZE, "%.200s; and %.200s", msg, eb);
		return PR_FAILED;
	}
	if (is_failed < 0) {
		/* stays-reconcile canceled the job meanwhile: no retry comes. */
		snprintf(errbuf, ERRBUF_SIZE, "job %.100s: %.300s; the job was canceled meanwhile",
			 dj->j.id, msg);
		return PR_SKIPPED;
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
	if (st && st->http_status == 0 && e == ERR_UNAVAILABLE && st->cls == TUYA_RETRY)
		return PR_STOP_NET;
	return PR_RETRY;
}

static enum pinrun_result failed(struct pinrun *pr, const struct due_job *dj,
				 const struct tuya_status *st, enum err e, int permanent,
				 char *errbuf)
{
	return failed_max(pr, dj, st, e, permanent, pr->cfg->pins.max_attempts, errbuf);
}

/* A database error in the middle of a job: retried like any failure. */
static enum pinrun_result db_failed(struct pinrun *pr, const struct due_job *dj, enum err e,
				    char *errbuf)
{
	return failed(pr, dj, NULL, e, 0, errbuf);
}

/* ---- what the lock says (P3a) ------------------------------------------ */

/*
 * Phases per tuya-api.md §5.4.  Wi-Fi: 0 deleted, 1 to be sent, 2 sent, 3
 * to be deleted; Zigbee: 1 to be created, 2 normal, 3 frozen, 4 deleted, 5
 * creation failed; Bluetooth: 7 send failed.  A phase we do not know (12,
 * 17, 19 seen on one keypad) is neither confirmed nor gone: it may still
 * open the door.
 */
enum lock_view {
	LV_ACTIVE,      /* phase 2 (Zigbee: delivery_status 2 or absent) */
	LV_PENDING,     /* not confirmed either way: waiting for the lock */
	LV_FAILED,      /* delivery failed: phase 5 or 7, delivery_status 3-6 */
	LV_GONE         /* deleted (phase 0 or 4), or unknown to the cloud */
};

static enum lock_view lock_view_of(const struct tuya_password *p)
{
	if (p->phase == 0 || p->phase == 4)
		return LV_GONE;
	if (p->phase == 5 || p->phase == 7 ||
	    (p->delivery_status >= 3 && p->delivery_status <= 6))
		return LV_FAILED;
	if (p->phase == 2 && (p->delivery_status < 0 || p->delivery_status == 2))
		return LV_ACTIVE;
	return LV_PENDING;
}

int pinrun_password_live(const struct tuya_password *p)
{
	enum lock_view v = lock_view_of(p);

	return v != LV_GONE && v != LV_FAILED;
}

/* Read password id back.  *v, and *phase (-1 when gone), *vf and *vu (may be NULL). */
static enum err read_back(struct pinrun *pr, const char *device, int64_t id,
			  enum lock_view *v, int *phase, time_t *vf, time_t *vu,
			  struct tuya_status *st, char *errbuf)
{
	struct tuya_password p;
	enum err e = tuya_get_temp_password(pr->tuya, device, id, &p, st, errbuf);

	*phase = -1;
	if (e != ERR_OK) {
		if (st->cls != TUYA_GONE)
			return e;
		*v = LV_GONE;
		errbuf[0] = '\0';
		return ERR_OK;
	}
	*v = lock_view_of(&p);
	*phase = p.phase;
	if (vf)
		*vf = (time_t)p.effective;
	if (vu)
		*vu = (time_t)p.invalid;
	tuya_password_release(&p);
	return ERR_OK;
}

/*
 * P3: the ids of the passwords on the lock that may be cred's own: its
 * exact name, a phase that may open the door, and an id no other
 * credential holds.  *ids is owned (free()); window (may be NULL) receives
 * the first one's window.
 */
static enum err find_own(struct pinrun *pr, const char *device, const struct cred_row *cred,
			 int64_t **ids, size_t *n, time_t window[2], struct tuya_status *st,
			 char *errbuf)
{
	struct tuya_password_list l = TUYA_PASSWORD_LIST_INIT;
	size_t alloc = 0;
	enum err e;

	*ids = NULL;
	*n = 0;
	e = tuya_list_temp_passwords(pr->tuya, device, &l, st, errbuf);
	if (e != ERR_OK)
		return e;
	for (size_t i = 0; i < l.n; i++) {
		const struct tuya_password *p = &l.v[i];
		enum lock_view v = lock_view_of(p);
		int held;

		if (strcmp(p->name, cred->name) != 0 || v == LV_GONE || v == LV_FAILED)
			continue;
		if ((e = pinstore_password_held(pr->db, device, p->id, cred->rowid, &held,
						errbuf)) != ERR_OK)
			break;
		if (held)
			continue;
		if (*n == 0 && window) {
			window[0] = (time_t)p->effective;
			window[1] = (time_t)p->invalid;
		}
		*ids = xgrow(*ids, sizeof(**ids), *n + 1, &alloc);
		(*ids)[(*n)++] = p->id;
	}
	tuya_password_list_release(&l);
	if (e != ERR_OK) {
		free(*ids);
		*ids = NULL;
		*n = 0;
	}
	return e;
}

/* ---- generate ------------------------------------------------------------ */

char *pinrun_hook_input(const struct hook_notice *n, const struct cred_row *cred)
{
	cJSON *o = cJSON_CreateObject(), *g, *l, *k;
	char *text;

	cJSON_AddStringToObject(o, "reservationId", n->resv);
	cJSON_AddStringToObject(o, "reservationCode", n->code);
	cJSON_AddStringToObject(o, "listingId", n->listing);
	cJSON_AddStringToObject(o, "deviceId", n->device);
	report_add_str(o, "lockName", n->lock_name);
	cJSON_AddStringToObject(o, "pin", cred->pin);
	report_add_time(o, "validFrom", cred->valid_from, 0);
	report_add_time(o, "validUntil", cred->valid_until, 0);
	report_add_local(o, "validFromLocal", n->tz, cred->valid_from);
	report_add_local(o, "validUntilLocal", n->tz, cred->valid_until);
	report_add_time(o, "checkIn", n->checkin, 1);
	report_add_time(o, "checkOut", n->checkout, 1);
	report_add_local(o, "checkInLocal", n->tz, n->checkin);
	report_add_local(o, "checkOutLocal", n->tz, n->checkout);
	report_add_str(o, "timezone", n->tz);
	cJSON_AddNumberToObject(o, "guests", n->guests);
	cJSON_AddItemToObject(o, "guest", g = cJSON_CreateObject());
	report_add_str(g, "name", n->guest.name);
	report_add_str(g, "phone", n->guest.phone);
	report_add_str(g, "email", n->guest.email);
	report_add_str(g, "language", n->guest.language);
	cJSON_AddItemToObject(o, "listing", l = cJSON_CreateObject());
	report_add_str(l, "id", n->listing);
	report_add_str(l, "name", n->listing_name);
	cJSON_AddItemToObject(o, "lock", k = cJSON_CreateObject());
	report_add_str(k, "id", n->device);
	report_add_str(k, "name", n->lock_name);
	text = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return text;
}

/*
 * A new credential: the PIN (P2: the reservation's PIN on its other locks
 * if it fits this one), a unique name, and the intent, recorded only while
 * the job is still running.  PR_DONE with *cred filled, or another result.
 */
static enum pinrun_result new_intent(struct pinrun *pr, const struct due_job *dj,
				     struct cred_row *cred, char *errbuf)
{
	char pin[PIN_MAX + 1], name[PIN_NAME_MAX + 1];
	char **active = NULL;
	size_t nactive = 0;
	int length = dj->pin_length ? dj->pin_length : pr->cfg->pins.length;
	int found, reuse = 0, tries;
	enum intent_result res = INTENT_JOB_GONE;
	long long rowid = 0;
	enum err e;

	if ((e = pinstore_resv_pin(pr->db, dj->j.resv, dj->j.device, pin, &found,
				   errbuf)) != ERR_OK)
		return db_failed(pr, dj, e, errbuf);
	if ((e = pinstore_lock_pins(pr->db, dj->j.device, &active, &nactive, errbuf)) != ERR_OK)
		return db_failed(pr, dj, e, errbuf);
	if (found && (int)strlen(pin) == length) {
		reuse = 1;
		for (size_t i = 0; i < nactive; i++)
			reuse &= strcmp(active[i], pin) != 0;
	}
	if (!reuse)
		e = pin_choose(length, (const char *const *)active, nactive, pin, sizeof(pin),
			       errbuf);
	pinstore_free_pins(active, nactive);
	if (e != ERR_OK)
		return failed(pr, dj, NULL, e, 1, errbuf);
	step(pr, "pin");
	for (tries = 0; tries < 8; tries++) {
		if ((e = pin_name(dj->code, name, sizeof(name), errbuf)) != ERR_OK)
			break;
		e = pinstore_intent(pr->db, dj->j.id, dj->j.resv, dj->j.device, name, pin,
				    dj->j.valid_from, dj->j.valid_until, pr->now, &res, &rowid,
				    errbuf);
		if (e != ERR_OK || res != INTENT_NAME_TAKEN)
			break;
	}
	explicit_bzero(pin, sizeof(pin));
	if (e == ERR_OK && res == INTENT_NAME_TAKEN)
		e = ERRF(errbuf, ERR_INTERNAL, "no unused password name for %s", dj->code);
	if (e != ERR_OK)
		return db_failed(pr, dj, e, errbuf);
	if (res == INTENT_JOB_GONE) {
		note(pr, "generate %s on lock %s: canceled by stays-reconcile; nothing created",
		     dj->code, dj->j.device);
		return PR_SKIPPED;
	}
	step(pr, "intent");
	if ((e = pinstore_cred(pr->db, dj->j.resv, dj->j.device, cred, &found, errbuf)) != ERR_OK)
		return db_failed(pr, dj, e, errbuf);
	if (!found || cred->rowid != rowid) {
		ERRF(errbuf, ERR_INTERNAL, "the PIN intent for %s vanished", dj->code);
		return db_failed(pr, dj, ERR_INTERNAL, errbuf);
	}
	return PR_DONE;
}

/* Delete password id at once and record what the lock says (no hook). */
static void delete_now(struct pinrun *pr, const char *device, long long rowid, int64_t id)
{
	struct tuya_status st = TUYA_STATUS_INIT;
	char eb[ERRBUF_SIZE];
	enum lock_view v = LV_PENDING;
	int phase = -1;
	enum err e;

	e = tuya_delete_temp_password(pr->tuya, device, id, &st, eb);
	if (e == ERR_OK)
		e = read_back(pr, device, id, &v, &phase, NULL, NULL, &st, eb);
	if (e != ERR_OK) {
		/* Left unconfirmed: stays-reconcile's next run revokes it (R7). */
		warn(pr, "cannot delete password id %lld on lock %s at once: %s", (long long)id,
		     device, eb);
		return;
	}
	if (pinstore_cred_state(pr->db, rowid, v == LV_GONE ? "revoked" : "revoking", phase,
				pr->now, eb) != ERR_OK)
		warn(pr, "%s", eb);
}

/*
 * P3: an earlier attempt at cred (state creating) may have died after its
 * create call: adopt the password with cred's name, if there is one (*id,
 * and its window in window[]; *id = 0 when none), and delete any
 * duplicate.  PR_DONE, or the failure.
 */
static enum pinrun_result adopt_own(struct pinrun *pr, const struct due_job *dj,
				    const struct cred_row *cred, int64_t *id, time_t window[2],
				    char *errbuf)
{
	struct tuya_status st = TUYA_STATUS_INIT;
	int64_t *ids = NULL;
	size_t n = 0;
	char eb[ERRBUF_SIZE];
	enum err e;

	*id = 0;
	if ((e = find_own(pr, dj->j.device, cred, &ids, &n, window, &st, errbuf)) != ERR_OK)
		return failed(pr, dj, &st, e, 0, errbuf);
	if (n)
		*id = ids[0];
	for (size_t i = 1; i < n; i++) {
		/* At most one password per (reservation, lock). */
		if (tuya_delete_temp_password(pr->tuya, dj->j.device, ids[i], &st, eb) != ERR_OK)
			warn(pr, "cannot delete duplicate password id %lld: %s",
			     (long long)ids[i], eb);
	}
	free(ids);
	if (*id)
		note(pr, "generate %s on lock %s: adopted password id %lld left by an interrupted run",
		     dj->code, dj->j.device, (long long)*id);
	return PR_DONE;
}

/*
 * P2: create cred's password on the lock with the job's window (recorded
 * first if it changed).  PR_DONE with *id, or the failure; a create that
 * surely made nothing forgets the intent (revoked).
 */
static enum pinrun_result create_password(struct pinrun *pr, const struct due_job *dj,
					  struct cred_row *cred, int64_t *id, char *errbuf)
{
	struct tuya_status st = TUYA_STATUS_INIT;
	int length = dj->pin_length ? dj->pin_length : pr->cfg->pins.length;
	char eb[ERRBUF_SIZE];
	enum err e;

	if ((cred->valid_from != dj->j.valid_from || cred->valid_until != dj->j.valid_until) &&
	    (e = pinstore_cred_window(pr->db, cred->rowid, dj->j.valid_from,
				      dj->j.valid_until, errbuf)) != ERR_OK)
		return db_failed(pr, dj, e, errbuf);
	cred->valid_from = dj->j.valid_from;
	cred->valid_until = dj->j.valid_until;
	e = tuya_create_temp_password(pr->tuya, dj->j.device, cred->name, cred->pin,
				      cred->valid_from, cred->valid_until, id, &st, errbuf);
	if (e == ERR_OK)
		return PR_DONE;
	if (st.cls == TUYA_PIN_REJECTED) {
		snprintf(eb, sizeof(eb),
			 "lock rejected the PIN for %.32s (Tuya 1109): wrong PIN length? it is set to %d digits; fix: stays-reconcile locks add %.64s %.64s --pin-length N (re-arms the job)",
			 dj->code, length, dj->listing, dj->j.device);
		xstrlcpy(errbuf, eb, ERRBUF_SIZE);
	}
	/*
	 * An answer with a Tuya code, or a request that never went out,
	 * created nothing: forget the intent.  Otherwise the password may
	 * exist; the intent stays, and the retry (or the revoke) looks for
	 * it by its name.
	 */
	if ((st.code || !st.sent) &&
	    pinstore_cred_state(pr->db, cred->rowid, "revoked", -1, pr->now, eb) != ERR_OK)
		warn(pr, "%s", eb);
	return failed(pr, dj, &st, e, st.cls == TUYA_PIN_REJECTED || st.cls == TUYA_PERMANENT,
		      errbuf);
}

/*
 * Record password id of cred (creating -> unconfirmed) - unless
 * stays-reconcile canceled the job meanwhile: then delete it at once (P2).
 * window (0 0 for a fresh create) is the adopted password's window,
 * recorded so that the caller moves it to the job's.
 */
static enum pinrun_result record_password(struct pinrun *pr, const struct due_job *dj,
					  struct cred_row *cred, int64_t id,
					  const time_t window[2], char *errbuf)
{
	int running = 0;
	enum err e;

	if ((e = pinstore_cred_password(pr->db, cred->rowid, id, dj->j.id, &running,
					errbuf)) != ERR_OK)
		return db_failed(pr, dj, e, errbuf);
	step(pr, "recorded");
	if (!running) {
		/* P2: canceled while the create was in flight: no PIN, no hook. */
		delete_now(pr, dj->j.device, cred->rowid, id);
		note(pr, "generate %s on lock %s: canceled by stays-reconcile during the create; password id %lld deleted at once",
		     dj->code, dj->j.device, (long long)id);
		return PR_SKIPPED;
	}
	cred->password_id = id;
	xstrlcpy(cred->state, "unconfirmed", sizeof(cred->state));
	if (window[0] && (window[0] != cred->valid_from || window[1] != cred->valid_until) &&
	    (e = pinstore_cred_window(pr->db, cred->rowid, window[0], window[1], errbuf)) != ERR_OK)
		return db_failed(pr, dj, e, errbuf);
	return PR_DONE;
}

/* P2, the fresh create: a new intent, its password, the id recorded. */
static enum pinrun_result generate_fresh(struct pinrun *pr, const struct due_job *dj,
					 struct cred_row *cred, char *errbuf)
{
	static const time_t none[2] = { 0, 0 };
	enum pinrun_result r;
	int64_t id = 0;

	if ((r = new_intent(pr, dj, cred, errbuf)) != PR_DONE ||
	    (r = create_password(pr, dj, cred, &id, errbuf)) != PR_DONE)
		return r;
	return record_password(pr, dj, cred, id, none, errbuf);
}

/* P3, crash recovery: cred is an intent an earlier attempt left; adopt
 * the password it may have made, or create it now. */
static enum pinrun_result generate_adopt(struct pinrun *pr, const struct due_job *dj,
					 struct cred_row *cred, char *errbuf)
{
	time_t window[2] = { 0, 0 };
	enum pinrun_result r;
	int64_t id = 0;

	if ((r = adopt_own(pr, dj, cred, &id, window, errbuf)) != PR_DONE)
		return r;
	if (!id && (r = create_password(pr, dj, cred, &id, errbuf)) != PR_DONE)
		return r;
	return record_password(pr, dj, cred, id, window, errbuf);
}

/* Change the window of cred's password on the lock to vf..vu. */
static enum pinrun_result move_window(struct pinrun *pr, const struct due_job *dj,
				      struct cred_row *cred, time_t vf, time_t vu, char *errbuf)
{
	struct tuya_status st = TUYA_STATUS_INIT;
	enum err e;

	e = tuya_modify_temp_password(pr->tuya, dj->j.device, cred->password_id, cred->name,
				      cred->pin, vf, vu, &st, errbuf);
	if (e != ERR_OK)
		return failed(pr, dj, &st, e, st.cls == TUYA_PIN_REJECTED ||
			      st.cls == TUYA_PERMANENT, errbuf);
	step(pr, "modified");
	if ((e = pinstore_cred_window(pr->db, cred->rowid, vf, vu, errbuf)) != ERR_OK)
		return db_failed(pr, dj, e, errbuf);
	cred->valid_from = vf;
	cred->valid_until = vu;
	if (strcmp(cred->state, "active") == 0)
		xstrlcpy(cred->state, "unconfirmed", sizeof(cred->state));
	return PR_DONE;
}

/*
 * P3a: read cred's password back.  PR_DONE when the lock confirmed it with
 * cred's window (cred is then active); otherwise the outcome of the job.
 */
static enum pinrun_result confirm(struct pinrun *pr, const struct due_job *dj,
				  struct cred_row *cred, char *errbuf)
{
	struct tuya_status st = TUYA_STATUS_INIT;
	char eb[ERRBUF_SIZE];
	enum lock_view v;
	time_t vf = 0, vu = 0;
	int phase;
	enum err e;

	e = read_back(pr, dj->j.device, cred->password_id, &v, &phase, &vf, &vu, &st, errbuf);
	if (e != ERR_OK)
		return failed(pr, dj, &st, e, 0, errbuf);
	if (v == LV_ACTIVE && (vf != cred->valid_from || vu != cred->valid_until))
		v = LV_PENDING;         /* the cloud has not taken the new window yet */
	switch (v) {
	case LV_ACTIVE:
		if ((e = pinstore_cred_state(pr->db, cred->rowid, "active", phase, pr->now,
					     errbuf)) != ERR_OK)
			return db_failed(pr, dj, e, errbuf);
		xstrlcpy(cred->state, "active", sizeof(cred->state));
		step(pr, "confirmed");
		return PR_DONE;
	case LV_PENDING:
		if ((e = pinstore_cred_state(pr->db, cred->rowid, "unconfirmed", phase, pr->now,
					     errbuf)) != ERR_OK)
			return db_failed(pr, dj, e, errbuf);
		snprintf(errbuf, ERRBUF_SIZE,
			 "lock %s has not confirmed password id %lld of %s yet (phase %d)",
			 dj->j.device, (long long)cred->password_id, job_code(dj), phase);
		return failed(pr, dj, NULL, ERR_UNAVAILABLE, 0, errbuf);
	case LV_FAILED:
		/* Nothing usable is on the lock: clear the cloud's record. */
		if (tuya_delete_temp_password(pr->tuya, dj->j.device, cred->password_id, &st,
					      eb) != ERR_OK)
			warn(pr, "cannot delete the undelivered password id %lld: %s",
			     (long long)cred->password_id, eb);
		if ((e = pinstore_cred_state(pr->db, cred->rowid, "revoked", phase, pr->now,
					     errbuf)) != ERR_OK)
			return db_failed(pr, dj, e, errbuf);
		snprintf(errbuf, ERRBUF_SIZE,
			 "lock %s failed to take the PIN of %s (phase %d): is its password storage full, or is the PIN a duplicate?",
			 dj->j.device, job_code(dj), phase);
		return failed(pr, dj, NULL, ERR_DATA, 1, errbuf);
	case LV_GONE:
		break;
	}
	/* The cloud dropped it before the lock took it: make it again. */
	if ((e = pinstore_cred_state(pr->db, cred->rowid, "revoked", -1, pr->now,
				     errbuf)) != ERR_OK)
		return db_failed(pr, dj, e, errbuf);
	snprintf(errbuf, ERRBUF_SIZE,
		 "password id %lld of %s vanished from lock %s before the lock confirmed it; it is made again",
		 (long long)cred->password_id, job_code(dj), dj->j.device);
	return failed(pr, dj, NULL, ERR_UNAVAILABLE, 0, errbuf);
}

/* P2: tell the guest (on_pin) at least once, then the job is done. */
static enum pinrun_result notify(struct pinrun *pr, const struct due_job *dj,
				 const struct cred_row *cred, char *errbuf)
{
	char *text = NULL, eb[ERRBUF_SIZE];
	struct plan_policy pol;
	struct hook_notice n;
	int running, found;
	enum err e;

	if (!pr->cfg->hooks.on_pin || cred->notified_at) {
		if ((e = pinstore_done(pr->db, dj->j.id, pr->now, errbuf)) != ERR_OK)
			return db_failed(pr, dj, e, errbuf);
		return PR_DONE;
	}
	if ((e = pinstore_job_running(pr->db, dj->j.id, &running, errbuf)) != ERR_OK)
		return db_failed(pr, dj, e, errbuf);
	if (!running) {
		note(pr, "generate %s on lock %s: canceled by stays-reconcile; the guest is not told",
		     dj->code, dj->j.device);
		return PR_SKIPPED;
	}
	plan_policy_from_config(pr->cfg, &pol);
	if ((e = guests_notice(pr->db, &pol, dj->j.resv, dj->j.device, &n, &found,
			       errbuf)) != ERR_OK)
		return db_failed(pr, dj, e, errbuf);
	text = found ? pinrun_hook_input(&n, cred) : NULL;
	if (!text) {
		xstrlcpy(eb, found ? "cannot build the hook's input" : "its reservation is gone",
			 sizeof(eb));
		e = ERR_INTERNAL;
	} else {
		e = hook_run(pr->cfg->hooks.on_pin, text, eb);
		explicit_bzero(text, strlen(text));
		cJSON_free(text);
	}
	if (e != ERR_OK) {
		snprintf(errbuf, ERRBUF_SIZE, "on_pin %.300s (for %s on lock %s; the PIN stays, the hook is run again)",
			 eb, dj->code, dj->j.device);
		return failed_max(pr, dj, NULL, ERR_ITEMS, 0, 0, errbuf);
	}
	step(pr, "hook");
	if ((e = pinstore_notified(pr->db, cred->rowid, dj->j.id, pr->now, errbuf)) != ERR_OK)
		return db_failed(pr, dj, e, errbuf);
	return PR_DONE;
}

/*
 * Whether generate job dj may make a PIN: its reservation and lock mapping
 * exist and its window is valid (else it fails for good), and the stay is
 * not over (P1: else it is canceled).  PR_DONE when it may.
 */
static enum pinrun_result generate_check(struct pinrun *pr, const struct due_job *dj,
					 char *errbuf)
{
	time_t vf = dj->j.valid_from, vu = dj->j.valid_until;
	char when[UTC_ISO_LEN + 1], why[160];
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
	if (vu > pr->now)
		return PR_DONE;
	/* P1: the stay is over (cron was down, the machine was off). */
	util_fmt_utc(vu, when, sizeof(when));
	snprintf(why, sizeof(why), "the stay ended at %s; no PIN", when);
	if ((e = pinstore_cancel(pr->db, dj->j.id, pr->now, why, errbuf)) != ERR_OK)
		return db_failed(pr, dj, e, errbuf);
	note(pr, "generate %s on lock %s: %s", dj->code, dj->j.device, why);
	return PR_SKIPPED;
}

/*
 * cred's password is on the lock (unconfirmed or active): move its window
 * to the job's if it differs (R5: the guest keeps the PIN), confirm it
 * (P3a), then tell the guest (on_pin) and finish the job.
 */
static enum pinrun_result generate_on_lock(struct pinrun *pr, const struct due_job *dj,
					   struct cred_row *cred, char *errbuf)
{
	time_t vf = dj->j.valid_from, vu = dj->j.valid_until;
	char f[UTC_ISO_LEN + 1], u[UTC_ISO_LEN + 1];
	enum pinrun_result r;

	if ((cred->valid_from != vf || cred->valid_until != vu) &&
	    (r = move_window(pr, dj, cred, vf, vu, errbuf)) != PR_DONE)
		return r;
	if ((r = confirm(pr, dj, cred, errbuf)) != PR_DONE)
		return r;
	util_fmt_utc(cred->valid_from, f, sizeof(f));
	util_fmt_utc(cred->valid_until, u, sizeof(u));
	note(pr, "generate %s on lock %s: password id %lld confirmed, valid %s..%s", dj->code,
	     dj->j.device, (long long)cred->password_id, f, u);
	return notify(pr, dj, cred, errbuf);
}

/*
 * A generate job takes one of three paths, by the credential of its
 * reservation and lock: none (the fresh create, P2), an intent left by an
 * interrupted attempt (adopt, P3), or a password already on the lock
 * (move its window if needed).  The first two end on the third.
 */
static enum pinrun_result do_generate(struct pinrun *pr, const struct due_job *dj,
				      char *errbuf)
{
	struct cred_row cred;
	enum pinrun_result r = PR_DONE;
	int found, placed = 1;
	enum err e;

	if ((r = generate_check(pr, dj, errbuf)) != PR_DONE)
		return r;
	if ((e = pinstore_cred(pr->db, dj->j.resv, dj->j.device, &cred, &found, errbuf)) != ERR_OK)
		return db_failed(pr, dj, e, errbuf);
	if (!found)
		r = generate_fresh(pr, dj, &cred, errbuf);
	else if (strcmp(cred.state, "creating") == 0)
		r = generate_adopt(pr, dj, &cred, errbuf);
	else
		placed = 0;
	if (placed) {
		explicit_bzero(cred.pin, sizeof(cred.pin));
		if (r != PR_DONE)
			return r;
		if ((e = pinstore_cred(pr->db, dj->j.resv, dj->j.device, &cred, &found,
				       errbuf)) != ERR_OK || !found)
			return db_failed(pr, dj, e ? e : ERR_INTERNAL, errbuf);
	}
	r = generate_on_lock(pr, dj, &cred, errbuf);
	explicit_bzero(cred.pin, sizeof(cred.pin));
	return r;
}

/* ---- revoke ---------------------------------------------------------------- */

/*
 * The password ids to delete for cred (*ids owned): its own, or for an
 * intent, what an interrupted create left under its name (the first one
 * recorded as cred's).  PR_DONE, or the failure.
 */
static enum pinrun_result revoke_targets(struct pinrun *pr, const struct due_job *dj,
					 const struct cred_row *cred, int64_t **ids, size_t *n,
					 char *errbuf)
{
	struct tuya_status st = TUYA_STATUS_INIT;
	enum err e;

	if (cred->password_id) {
		*ids = xmalloc(sizeof(**ids));
		(*ids)[0] = cred->password_id;
		*n = 1;
		return PR_DONE;
	}
	/* Intent only: look for what an interrupted create left, by name. */
	if ((e = find_own(pr, dj->j.device, cred, ids, n, NULL, &st, errbuf)) != ERR_OK)
		return failed(pr, dj, &st, e, 0, errbuf);
	if (*n && (e = pinstore_cred_password(pr->db, cred->rowid, (*ids)[0], NULL, NULL,
					      errbuf)) != ERR_OK) {
		free(*ids);
		*ids = NULL;
		*n = 0;
		return db_failed(pr, dj, e, errbuf);
	}
	return PR_DONE;
}

/* Reading the lock failed after a delete may have gone out: cred is
 * revoking, and the lock is asked again next time. */
static enum pinrun_result read_failed(struct pinrun *pr, const struct due_job *dj,
				      const struct cred_row *cred, const struct tuya_status *st,
				      enum err e, char *errbuf)
{
	if (strcmp(cred->state, "revoking") != 0 && cred->password_id)
		(void)pinstore_cred_state(pr->db, cred->rowid, "revoking", -1, pr->now, NULL);
	return failed(pr, dj, st, e, 0, errbuf);
}

/*
 * P4, P3a: delete password id of cred and read it back (a credential
 * already revoking asks the lock first).  PR_DONE with *waiting set while
 * the lock has not confirmed it gone and *phase the phase last read (-1:
 * gone); or the failure.
 */
static enum pinrun_result revoke_id(struct pinrun *pr, const struct due_job *dj,
				    const struct cred_row *cred, int64_t id, int *waiting,
				    int *phase, char *errbuf)
{
	struct tuya_status st = TUYA_STATUS_INIT;
	enum lock_view v;
	enum err e;

	*waiting = 0;
	if (strcmp(cred->state, "revoking") == 0) {
		/* Deleted before: ask the lock first. */
		e = read_back(pr, dj->j.device, id, &v, phase, NULL, NULL, &st, errbuf);
		if (e != ERR_OK)
			return read_failed(pr, dj, cred, &st, e, errbuf);
		if (v == LV_GONE || v == LV_FAILED)
			return PR_DONE;
		if (*phase == 3) {
			*waiting = 1;
			return PR_DONE;
		}
	}
	e = tuya_delete_temp_password(pr->tuya, dj->j.device, id, &st, errbuf);
	if (e != ERR_OK)
		return failed(pr, dj, &st, e, st.cls == TUYA_PERMANENT && st.code != 2010, errbuf);
	step(pr, "deleted");
	e = read_back(pr, dj->j.device, id, &v, phase, NULL, NULL, &st, errbuf);
	if (e != ERR_OK)
		return read_failed(pr, dj, cred, &st, e, errbuf);
	*waiting = v != LV_GONE && v != LV_FAILED;
	return PR_DONE;
}

/*
 * P4: take one credential off the lock.  *waiting is set when the cloud
 * accepted the delete but the lock has not confirmed it (revoking).
 */
static enum pinrun_result revoke_one(struct pinrun *pr, const struct due_job *dj,
				     struct cred_row *cred, int *waiting, char *errbuf)
{
	int64_t *ids = NULL;
	size_t n = 0;
	int phase = -1, last_phase = -1;
	enum pinrun_result r;
	enum err e;

	*waiting = 0;
	if ((r = revoke_targets(pr, dj, cred, &ids, &n, errbuf)) != PR_DONE)
		return r;
	for (size_t i = 0; i < n; i++) {
		int w;

		if ((r = revoke_id(pr, dj, cred, ids[i], &w, &phase, errbuf)) != PR_DONE) {
			free(ids);
			return r;
		}
		if (w) {
			*waiting = 1;
			last_phase = phase;
		}
	}
	free(ids);
	if ((e = pinstore_cred_state(pr->db, cred->rowid, *waiting ? "revoking" : "revoked",
				     *waiting ? last_phase : phase, pr->now, errbuf)) != ERR_OK)
		return db_failed(pr, dj, e, errbuf);
	note(pr, "revoke %s on lock %s: %s", job_code(dj), dj->j.device,
	     n == 0 ? "never created" : *waiting ? "deleted, waiting for the lock to confirm" :
	     "gone");
	return PR_DONE;
}

static enum pinrun_result do_revoke(struct pinrun *pr, const struct due_job *dj,
				    char *errbuf)
{
	struct cred_row *creds = NULL;
	size_t n = 0, waiting = 0;
	enum pinrun_result r = PR_DONE;
	enum err e;

	if ((e = pinstore_creds(pr->db, dj->j.resv, dj->j.device, &creds, &n, errbuf)) != ERR_OK)
		return db_failed(pr, dj, e, errbuf);
	for (size_t i = 0; i < n && r == PR_DONE; i++) {
		int w;

		r = revoke_one(pr, dj, &creds[i], &w, errbuf);
		waiting += w;
		explicit_bzero(creds[i].pin, sizeof(creds[i].pin));
	}
	free(creds);
	if (r != PR_DONE)
		return r;
	if (waiting) {
		snprintf(errbuf, ERRBUF_SIZE,
			 "lock %s has not confirmed that the PIN of %s is gone",
			 dj->j.device, job_code(dj));
		return failed(pr, dj, NULL, ERR_UNAVAILABLE, 0, errbuf);
	}
	if ((e = pinstore_done(pr->db, dj->j.id, pr->now, errbuf)) != ERR_OK)
		return db_failed(pr, dj, e, errbuf);
	if (n == 0)
		note(pr, "revoke %s on lock %s: no PIN there", job_code(dj), dj->j.device);
	return PR_DONE;
}

/* ---- update ------------------------------------------------------------------ */

static enum pinrun_result do_update(struct pinrun *pr, const struct due_job *dj,
				    char *errbuf)
{
	struct cred_row cred;
	time_t vf = dj->j.valid_from, vu = dj->j.valid_until;
	enum pinrun_result r;
	int found;
	enum err e;

	if ((e = pinstore_cred(pr->db, dj->j.resv, dj->j.device, &cred, &found, errbuf)) != ERR_OK)
		return db_failed(pr, dj, e, errbuf);
	if (!found || !cred.password_id) {
		/* Nothing on the lock yet: the generate job carries the window. */
		if ((e = pinstore_done(pr->db, dj->j.id, pr->now, errbuf)) != ERR_OK)
			return db_failed(pr, dj, e, errbuf);
		note(pr, "update %s on lock %s: nothing on the lock to change", job_code(dj),
		     dj->j.device);
		return PR_DONE;
	}
	r = PR_DONE;
	if (!vf || !vu || vu <= vf) {
		snprintf(errbuf, ERRBUF_SIZE, "job has no valid PIN window");
		r = failed(pr, dj, NULL, ERR_DATA, 1, errbuf);
		goto out;
	}
	if (cred.valid_from == vf && cred.valid_until == vu &&
	    strcmp(cred.state, "active") == 0) {
		/* P4a: the lock already has this window: nothing to send. */
		if ((e = pinstore_done(pr->db, dj->j.id, pr->now, errbuf)) != ERR_OK)
			r = db_failed(pr, dj, e, errbuf);
		else
			note(pr, "update %s on lock %s: the lock already has this window",
			     job_code(dj), dj->j.device);
		goto out;
	}
	if ((cred.valid_from != vf || cred.valid_until != vu) &&
	    (r = move_window(pr, dj, &cred, vf, vu, errbuf)) != PR_DONE)
		goto out;
	if ((r = confirm(pr, dj, &cred, errbuf)) != PR_DONE)
		goto out;
	if ((e = pinstore_done(pr->db, dj->j.id, pr->now, errbuf)) != ERR_OK) {
		r = db_failed(pr, dj, e, errbuf);
		goto out;
	}
	note(pr, "update %s on lock %s: new window confirmed", job_code(dj), dj->j.device);
out:
	explicit_bzero(cred.pin, sizeof(cred.pin));
	return r;
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
