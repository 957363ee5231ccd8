/*
 * history.c - randomized histories against the real programs and the fake
 * services: the access-safety oracle of SPEC (R6-R8, P1-P4a) checked after
 * every step of thousands of interleavings no one would script by hand.
 *
 * One history is a seed.  From it a world of bookings on four listings
 * (three mapped to a lock: two Wi-Fi, one Zigbee; one unmapped, the filler
 * that makes Stays answer in several pages) changes step by step while the
 * clock moves: bookings are added (some with a code another booking has),
 * moved, shortened, cancelled, reinstated, deleted one by one or several at
 * once, switched to a type without a PIN; locks go offline and come back.
 * Between the changes the two programs run, as cron would run them and as
 * it would never mean to: pin-runner killed after its N-th step; pin-runner
 * paused at a named step (STAYS_PIN_PAUSE_AT) while Stays changes,
 * stays-reconcile runs and a second pin-runner tries; a Stays page parked
 * by the fake while a booking on it disappears, so the next page shifts;
 * stays-reconcile killed while its fetch is parked.
 *
 * After every step, whatever is in flight:
 *   - every password that can open a door is one the database tracks, by
 *     its own name on that lock (never a stranger's, never untracked);
 *   - a password id belongs to one live credential;
 *   - every PIN the on_pin hook handed out is the PIN of a password that
 *     credential of that reservation put on that lock;
 *   - no program crashed, and each exited with a code SPEC allows.
 * Every twelve steps and at the end the world heals (locks online, nothing
 * parked) and cron catches up: stays-reconcile --force and pin-runner at s,
 * then both again at s + 1 h (a retry waits at most an hour).  Then the
 * locks hold exactly what the bookings want at that time:
 *   - a booking that wants a PIN now (generate time <= now < check-out)
 *     has exactly one password, active, with its stay's window, and its
 *     guest was handed that PIN;
 *   - before the generate time and after check-out, at most that one;
 *   - nothing else on any lock can open a door now or later: no
 *     cancelled, deleted or moved-away booking keeps a working code (a
 *     password whose window has ended no longer opens; it must be gone
 *     by its revoke time);
 *   - no job failed.
 *
 * Usage: history [--seeds N] [--seed S] [--steps K] [-v]
 * BIN (the build folder) must be set; CHECK_WRAP prefixes the programs.
 * A failing history prints its seed and the command that replays it.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <sqlite3.h>

#include "util.h"

#define MAXB 96                 /* bookings in one world */
#define NLIST 4                 /* listings; the last one has no lock */
#define NLOCK 3
#define SYNC_EVERY 12
#define GEN_BEFORE 7200         /* [pins] generate_before = 2h */
#define REVOKE_AFTER 86400      /* [pins] revoke_after = 24h */
#define T0 1796212800L          /* 2026-12-02T12:00:00Z */

static const char *const listing[NLIST] = {
	"63dd7e20333d8b60be51a001", "63dd7e20333d8b60be51a002",
	"63dd7e20333d8b60be51a003", "63dd7e20333d8b60be51a004",
};
static const char *const device[NLOCK] = {
	"ac01lock0123456789abcd", "ac02lock0123456789abcd", "ac04lock0123456789abcd",
};
static const bool zigbee[NLOCK] = { false, false, true };

static const char *const pause_steps[] = {
	"listed", "claimed", "pin", "intent", "ticket", "sent", "recorded",
	"confirmed", "hook", "deleted", "modified",
};
#define NPAUSE (sizeof(pause_steps) / sizeof(pause_steps[0]))

struct booking {
	char id[25], code[16];
	int listing;            /* index into listing[] */
	long ci;                /* check-in, days since 1970 */
	int nights;
	const char *type;       /* "booked", "canceled", "blocked" */
	bool deleted;
	int changed;            /* the step that last changed it in Stays */
	char seen[32];          /* its password last seen working, or "" */
	int seen_step;
};

struct world {
	uint64_t rng;
	unsigned seed;
	int step;
	time_t now;
	struct booking b[MAXB];
	int nb;
	bool online[NLOCK];
	unsigned idseq;
};

static const char *bin, *wrap;
static char dir[64], url[64];
static pid_t fake_pid;
static bool verbose;
static struct world W;
static char why[1024];          /* the violation, when a check fails */

/* ---- small things ------------------------------------------------------ */

static uint32_t rnd(void)
{
	uint64_t x = W.rng;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	W.rng = x;
	return (uint32_t)(x >> 32);
}

static int pick(int n)
{
	return n > 0 ? (int)(rnd() % (unsigned)n) : 0;
}

static void trace(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void trace(const char *fmt, ...)
{
	va_list ap;

	if (!verbose)
		return;
	fprintf(stderr, "  [%d] ", W.step);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static bool violation(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static bool violation(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	return false;
}

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "history: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (fake_pid > 0)
		kill(fake_pid, SIGTERM);
	exit(2);
}

static void path(char *buf, size_t n, const char *name)
{
	snprintf(buf, n, "%s/%s", dir, name);
}

static void write_file(const char *name, const char *text, mode_t mode)
{
	char p[256], tmp[300];
	FILE *f;

	path(p, sizeof(p), name);
	snprintf(tmp, sizeof(tmp), "%s.tmp", p);
	if (!(f = fopen(tmp, "w")) || fputs(text, f) == EOF || fclose(f) != 0 ||
	    chmod(tmp, mode) != 0 || rename(tmp, p) != 0)
		die("cannot write %s: %s", p, strerror(errno));
}

static void date_of(long days, char out[11])
{
	int y, m, d;

	util_civil_from_days(days, &y, &m, &d);
	snprintf(out, 11, "%04d-%02d-%02d", y, m, d);
}

/* The stay in UTC: check-in 15:00 and check-out 11:00 in Sao Paulo (UTC-3). */
static time_t stay_start(const struct booking *b)
{
	return (time_t)b->ci * 86400 + 18 * 3600;
}

static time_t stay_end(const struct booking *b)
{
	return (time_t)(b->ci + b->nights) * 86400 + 14 * 3600;
}

/* It wants a PIN on lock listing's lock. */
static bool wanted(const struct booking *b)
{
	return !b->deleted && !strcmp(b->type, "booked") && b->listing < NLOCK;
}

static struct booking *by_id(const char *id)
{
	for (int i = 0; i < W.nb; i++)
		if (!strcmp(W.b[i].id, id))
			return &W.b[i];
	return NULL;
}

static int lock_index(const char *dev)
{
	for (int i = 0; i < NLOCK; i++)
		if (!strcmp(device[i], dev))
			return i;
	return -1;
}

/* ---- the fake's control endpoints ---------------------------------------- */

static size_t collect(char *p, size_t sz, size_t n, void *ud)
{
	strbuf_add(ud, p, sz * n);
	return sz * n;
}

/* method path [body]: the answer's body; dies unless HTTP 200. */
static char *ctl(const char *method, const char *p, const char *body)
{
	CURL *c = curl_easy_init();
	struct strbuf sb = STRBUF_INIT;
	char u[256];
	long code = 0;
	CURLcode rc;

	snprintf(u, sizeof(u), "%s%s", url, p);
	curl_easy_setopt(c, CURLOPT_URL, u);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	if (body)
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &sb);
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_cleanup(c);
	if (rc != CURLE_OK || code != 200)
		die("%s %s: %s (HTTP %ld) %s", method, p, curl_easy_strerror(rc), code,
		    strbuf_str(&sb));
	return sb.buf ? sb.buf : xstrdup("");
}

static void ctl_void(const char *method, const char *p, const char *body)
{
	free(ctl(method, p, body));
}

/* A hold on Stays' reservation list; returns its id. */
static long hold_list(const char *when)
{
	char body[200], *r;
	cJSON *j;
	long id;

	snprintf(body, sizeof(body),
		 "{\"service\":\"stays\",\"match\":\"/booking/reservations?\",\"when\":\"%s\"}",
		 when);
	r = ctl("POST", "/_fake/hold", body);
	j = cJSON_Parse(r);
	id = j && cJSON_IsNumber(cJSON_GetObjectItem(j, "id")) ?
	     (long)cJSON_GetObjectItem(j, "id")->valuedouble : -1;
	cJSON_Delete(j);
	free(r);
	if (id < 0)
		die("no hold id");
	return id;
}

/* Blocks until a request is parked on hold id; false if none came in time. */
static bool hold_wait(long id)
{
	char p[96];
	CURL *c = curl_easy_init();
	struct strbuf sb = STRBUF_INIT;
	char u[256];
	long code = 0;

	snprintf(p, sizeof(p), "/_fake/hold/%ld/wait?timeout_ms=120000", id);
	snprintf(u, sizeof(u), "%s%s", url, p);
	curl_easy_setopt(c, CURLOPT_URL, u);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &sb);
	curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_cleanup(c);
	strbuf_release(&sb);
	return code == 200;
}

static void hold_release(long id)
{
	char p[64];

	snprintf(p, sizeof(p), "/_fake/hold/%ld/release", id);
	ctl_void("POST", p, NULL);
}

static void set_online(int lock, bool on)
{
	char body[128];

	snprintf(body, sizeof(body), "{\"id\":\"%s\",\"online\":%s}", device[lock],
		 on ? "true" : "false");
	ctl_void("POST", "/_fake/tuya/device", body);
	W.online[lock] = on;
}

/* ---- the Stays data file -------------------------------------------------- */

static void write_stays(void)
{
	struct strbuf sb = STRBUF_INIT;
	const char *sep = "";

	strbuf_adds(&sb, "[");
	for (int i = 0; i < W.nb; i++) {
		const struct booking *b = &W.b[i];
		char in[11], out[11];

		if (b->deleted)
			continue;
		date_of(b->ci, in);
		date_of(b->ci + b->nights, out);
		strbuf_addf(&sb,
			    "%s\n{\"_id\":\"%s\",\"id\":\"%s\",\"creationDate\":\"2026-11-01\","
			    "\"checkInDate\":\"%s\",\"checkInTime\":\"15:00\","
			    "\"checkOutDate\":\"%s\",\"checkOutTime\":\"11:00\","
			    "\"_idlisting\":\"%s\",\"_idclient\":\"6650f1a0c3d4e5f6a7b8c9aa\","
			    "\"type\":\"%s\",\"guests\":2,\"guestsDetails\":{\"adults\":2,"
			    "\"children\":0,\"infants\":0},\"partner\":{\"_id\":"
			    "\"5d1b5c5ec62b271c78796473\",\"name\":\"API airbnb\"}}",
			    sep, b->id, b->code, in, out, listing[b->listing], b->type);
		sep = ",";
	}
	strbuf_adds(&sb, "\n]\n");
	write_file("stays.json", strbuf_str(&sb), 0600);
	strbuf_release(&sb);
}

/* ---- running the programs ------------------------------------------------- */

struct proc {
	pid_t pid;
	const char *name;
	bool killed;
};

/* Starts BIN/prog -c conf --now NOW args... with extra environment. */
static struct proc start(const char *prog, const char *const *env, const char *const *args)
{
	struct proc p = { .name = prog };
	char exe[256], conf[256], now[32], log[256];
	char *argv[32];
	int n = 0;

	snprintf(exe, sizeof(exe), "%s/%s", bin, prog);
	path(conf, sizeof(conf), "stays.conf");
	snprintf(now, sizeof(now), "%lld", (long long)W.now);
	path(log, sizeof(log), "programs.log");

	char *wcopy = xstrdup(wrap ? wrap : "");
	for (char *save = NULL, *t = strtok_r(wcopy, " ", &save); t && n < 16;
	     t = strtok_r(NULL, " ", &save))
		argv[n++] = t;
	argv[n++] = exe;
	argv[n++] = (char *)"-c";
	argv[n++] = conf;
	argv[n++] = (char *)"--now";
	argv[n++] = now;
	for (int i = 0; args && args[i] && n < 30; i++)
		argv[n++] = (char *)args[i];
	argv[n] = NULL;

	fflush(NULL);
	if ((p.pid = fork()) < 0)
		die("fork: %s", strerror(errno));
	if (p.pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);

		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
			close(fd);
		}
		for (int i = 0; env && env[i]; i += 2)
			setenv(env[i], env[i + 1], 1);
		execvp(argv[0], argv);
		_exit(127);
	}
	free(wcopy);
	return p;
}

/* Waits for p; true if it exited with one of the codes in ok (-1 ends). */
static bool finish(struct proc *p, const int *ok, int *code)
{
	int st;

	while (waitpid(p->pid, &st, 0) < 0)
		if (errno != EINTR)
			die("waitpid: %s", strerror(errno));
	if (WIFSIGNALED(st)) {
		*code = 128 + WTERMSIG(st);
		if (p->killed && WTERMSIG(st) == SIGKILL)
			return true;
		return violation("%s died of signal %d", p->name, WTERMSIG(st));
	}
	*code = WEXITSTATUS(st);
	for (int i = 0; ok[i] >= 0; i++)
		if (ok[i] == *code)
			return true;
	return violation("%s exited %d (see %s/programs.log)", p->name, *code, dir);
}

/* stays-reconcile: 0, 1 (a suspect not confirmed), 65 (removals held
 * back), 69 (Stays unavailable), 75 (another run holds the lock).
 * pin-runner: 0, 1 (a job failed or retried), 69, 75. */
static const int sr_ok[] = { 0, 1, 65, 69, 75, -1 };
static const int pr_ok[] = { 0, 1, 69, 75, -1 };
static const int clean_ok[] = { 0, -1 };

static bool run(const char *prog, const char *const *env, const char *const *args,
		const int *ok)
{
	struct proc p = start(prog, env, args);
	int code;
	bool r = finish(&p, ok, &code);

	trace("%s %s -> %d", prog, args && args[0] ? args[0] : "", code);
	return r;
}

/* ---- the oracle --------------------------------------------------------- */

struct cred {
	char resv[32], dev[32], name[32], pin[16], state[16];
	long long pwid;         /* -1: NULL */
	long long from, until;
};

static struct cred *load_creds(int *n)
{
	char p[256];
	sqlite3 *db;
	sqlite3_stmt *st;
	struct cred *c = NULL;
	size_t alloc = 0;

	*n = 0;
	path(p, sizeof(p), "stays.db");
	if (sqlite3_open_v2(p, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
		die("cannot open %s", p);
	sqlite3_busy_timeout(db, 60000);
	if (sqlite3_prepare_v2(db,
			       "SELECT reservation_id, device_id, name, coalesce(pin, ''), state, "
			       "coalesce(password_id, -1), valid_from, valid_until "
			       "FROM credentials", -1, &st, NULL) != SQLITE_OK)
		die("credentials: %s", sqlite3_errmsg(db));
	while (sqlite3_step(st) == SQLITE_ROW) {
		struct cred *x;

		c = xgrow(c, sizeof(*c), (size_t)*n + 1, &alloc);
		x = &c[(*n)++];
		xstrlcpy(x->resv, (const char *)sqlite3_column_text(st, 0), sizeof(x->resv));
		xstrlcpy(x->dev, (const char *)sqlite3_column_text(st, 1), sizeof(x->dev));
		xstrlcpy(x->name, (const char *)sqlite3_column_text(st, 2), sizeof(x->name));
		xstrlcpy(x->pin, (const char *)sqlite3_column_text(st, 3), sizeof(x->pin));
		xstrlcpy(x->state, (const char *)sqlite3_column_text(st, 4), sizeof(x->state));
		x->pwid = sqlite3_column_int64(st, 5);
		x->from = sqlite3_column_int64(st, 6);
		x->until = sqlite3_column_int64(st, 7);
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
	return c;
}

static long long num(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItem(o, k);

	return cJSON_IsNumber(v) ? (long long)v->valuedouble : -1;
}

static const char *str(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItem(o, k);

	return cJSON_IsString(v) ? v->valuestring : "";
}

/* It may open the door (tuya-api.md §5.4, the fake's phases). */
static bool opens(int lock, const cJSON *pw)
{
	long long ph = num(pw, "phase");

	return zigbee[lock] ? ph == 1 || ph == 2 : ph == 1 || ph == 2 || ph == 3;
}

static const struct cred *cred_named(const struct cred *c, int n, const char *dev,
				     const char *name)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(c[i].dev, dev) && !strcmp(c[i].name, name) &&
		    strcmp(c[i].state, "revoked") != 0)
			return &c[i];
	return NULL;
}

/* The on_pin hook's inputs, one JSON object after another. */
static cJSON *load_hooked(void)
{
	char p[256];
	char *text = NULL;
	size_t len = 0;
	FILE *f;
	cJSON *all = cJSON_CreateArray();

	path(p, sizeof(p), "on_pin.out");
	if (!(f = fopen(p, "r")))
		return all;
	if (getdelim(&text, &len, '\0', f) < 0) {
		fclose(f);
		free(text);
		return all;
	}
	fclose(f);
	for (const char *s = text; *s;) {
		const char *end = NULL;
		cJSON *o = cJSON_ParseWithOpts(s, &end, false);

		if (!o) {
			break;	/* a hook killed mid-write: the rest is partial */
		}
		cJSON_AddItemToArray(all, o);
		s = end;
		while (*s == '\n' || *s == ' ')
			s++;
	}
	free(text);
	return all;
}

/* The password named name on lock, if it opens the door, else NULL. */
static const cJSON *working(const cJSON *devs, int lock, const char *name)
{
	const cJSON *d, *pw;

	cJSON_ArrayForEach(d, devs) {
		if (strcmp(str(d, "id"), device[lock]) != 0)
			continue;
		cJSON_ArrayForEach(pw, cJSON_GetObjectItem(d, "passwords"))
			if (!strcmp(str(pw, "name"), name) && opens(lock, pw))
				return pw;
	}
	return NULL;
}

/*
 * No guest locked out: a password that worked for its stay (phase 2, the
 * stay's window) keeps working while the booking, unchanged in Stays since,
 * still wants it and the stay has not ended.  A shifted page, a racing
 * pin-runner or a crash is no reason to take it away.
 */
static bool check_lockout(const cJSON *devs, const struct cred *c, int n)
{
	for (int i = 0; i < W.nb; i++) {
		struct booking *b = &W.b[i];

		if (b->seen[0] && wanted(b) && b->changed < b->seen_step &&
		    W.now < stay_end(b) && !working(devs, b->listing, b->seen))
			return violation("the guest of %s (%s) was locked out: '%s' stopped "
					 "working mid-stay, and the booking has not changed "
					 "since step %d", b->id, b->code, b->seen, b->seen_step);
		b->seen[0] = '\0';
		if (!wanted(b))
			continue;
		for (int k = 0; k < n; k++) {
			const cJSON *pw;

			if (strcmp(c[k].resv, b->id) || strcmp(c[k].dev, device[b->listing]) ||
			    !strcmp(c[k].state, "revoked") ||
			    !(pw = working(devs, b->listing, c[k].name)))
				continue;
			if (num(pw, "phase") == 2 &&
			    num(pw, "effective_time") == (long long)stay_start(b) &&
			    num(pw, "invalid_time") == (long long)stay_end(b)) {
				xstrlcpy(b->seen, c[k].name, sizeof(b->seen));
				b->seen_step = W.step;
			}
		}
	}
	return true;
}

/* Safety: true always, whatever runs at the moment. */
static bool check_safety(void)
{
	char *st = ctl("GET", "/_fake/tuya/state", NULL);
	cJSON *state = cJSON_Parse(st), *devs, *d, *hooked, *h;
	int n;
	struct cred *c = load_creds(&n);
	bool ok = true;

	free(st);
	devs = cJSON_GetObjectItem(state, "devices");
	for (int i = 0; ok && i < n; i++)
		for (int k = i + 1; ok && k < n; k++)
			if (c[i].pwid >= 0 && c[i].pwid == c[k].pwid &&
			    !strcmp(c[i].dev, c[k].dev) && strcmp(c[i].state, "revoked") &&
			    strcmp(c[k].state, "revoked"))
				ok = violation("password %lld on %s held by two credentials",
					       c[i].pwid, c[i].dev);
	cJSON_ArrayForEach(d, devs) {
		int lock = lock_index(str(d, "id"));
		const cJSON *pw;

		if (lock < 0 || !ok)
			continue;
		cJSON_ArrayForEach(pw, cJSON_GetObjectItem(d, "passwords")) {
			const struct cred *x;

			if (!opens(lock, pw))
				continue;
			x = cred_named(c, n, device[lock], str(pw, "name"));
			if (!x) {
				ok = violation("password %lld '%s' (phase %lld) opens %s and no "
					       "live credential of that lock has that name",
					       num(pw, "id"), str(pw, "name"), num(pw, "phase"),
					       device[lock]);
				break;
			}
			if (x->pwid >= 0 && x->pwid != num(pw, "id")) {
				ok = violation("password %lld '%s' opens %s but its credential "
					       "says id %lld", num(pw, "id"), str(pw, "name"),
					       device[lock], x->pwid);
				break;
			}
			if (strcmp(x->pin, str(pw, "pin")) != 0) {
				ok = violation("password '%s' on %s: the lock's PIN is not the "
					       "database's", str(pw, "name"), device[lock]);
				break;
			}
		}
	}
	/* Every PIN handed to a guest is that guest's, on that lock. */
	hooked = load_hooked();
	cJSON_ArrayForEach(h, hooked) {
		int lock = lock_index(str(h, "deviceId"));
		bool found = false;

		if (!ok)
			break;
		cJSON_ArrayForEach(d, devs) {
			const cJSON *pw;

			if (lock < 0 || strcmp(str(d, "id"), device[lock]) != 0)
				continue;
			cJSON_ArrayForEach(pw, cJSON_GetObjectItem(d, "passwords")) {
				for (int i = 0; i < n && !found; i++)
					found = !strcmp(c[i].dev, device[lock]) &&
						!strcmp(c[i].name, str(pw, "name")) &&
						!strcmp(c[i].resv, str(h, "reservationId")) &&
						!strcmp(str(pw, "pin"), str(h, "pin"));
			}
		}
		if (!found)
			ok = violation("the guest of %s was handed a PIN that no password of "
				       "theirs on %s has", str(h, "reservationId"),
				       str(h, "deviceId"));
	}
	cJSON_Delete(hooked);
	if (ok)
		ok = check_lockout(devs, c, n);
	cJSON_Delete(state);
	free(c);
	return ok;
}

/* The last PIN handed to the guest of resv on dev, or "". */
static const char *last_hooked(const cJSON *hooked, const char *resv, const char *dev)
{
	const cJSON *h;
	const char *pin = "";

	cJSON_ArrayForEach(h, hooked)
		if (!strcmp(str(h, "reservationId"), resv) && !strcmp(str(h, "deviceId"), dev))
			pin = str(h, "pin");
	return pin;
}

/* Convergence, after the world healed and cron caught up. */
static bool check_converged(void)
{
	char *st = ctl("GET", "/_fake/tuya/state", NULL);
	cJSON *state = cJSON_Parse(st), *d, *hooked = load_hooked();
	int n, live[MAXB] = { 0 };
	struct cred *c = load_creds(&n);
	bool ok = true;
	char p[256];
	sqlite3 *db;
	sqlite3_stmt *q;

	free(st);
	cJSON_ArrayForEach(d, cJSON_GetObjectItem(state, "devices")) {
		int lock = lock_index(str(d, "id"));
		const cJSON *pw;

		if (lock < 0)
			continue;
		cJSON_ArrayForEach(pw, cJSON_GetObjectItem(d, "passwords")) {
			const struct cred *x;
			struct booking *b;

			if (!ok || !opens(lock, pw))
				continue;
			x = cred_named(c, n, device[lock], str(pw, "name"));
			b = x ? by_id(x->resv) : NULL;
			if (num(pw, "invalid_time") <= (long long)W.now) {
				/* expired: the lock no longer lets it in; it goes at
				 * the revoke time */
				if (W.now >= num(pw, "invalid_time") + REVOKE_AFTER)
					ok = violation("'%s' is still on %s after its revoke "
						       "time", str(pw, "name"), device[lock]);
			} else if (!b || !wanted(b) || b->listing != lock) {
				ok = violation("'%s' still opens %s: its booking %s does not want "
					       "a PIN there", str(pw, "name"), device[lock],
					       b ? b->id : "(unknown)");
			} else if (W.now >= stay_end(b) + REVOKE_AFTER) {
				ok = violation("'%s' of %s still opens %s after its revoke time",
					       str(pw, "name"), b->id, device[lock]);
			} else if (num(pw, "effective_time") != (long long)stay_start(b) ||
				   num(pw, "invalid_time") != (long long)stay_end(b)) {
				ok = violation("'%s' of %s on %s has window %lld-%lld, the stay "
					       "is %lld-%lld", str(pw, "name"), b->id, device[lock],
					       num(pw, "effective_time"), num(pw, "invalid_time"),
					       (long long)stay_start(b), (long long)stay_end(b));
			} else if (++live[b - W.b] > 1) {
				ok = violation("%s has two working codes on %s", b->id,
					       device[lock]);
			} else if (W.now >= stay_start(b) - GEN_BEFORE && W.now < stay_end(b) &&
				   (num(pw, "phase") != 2 ||
				    strcmp(last_hooked(hooked, b->id, device[lock]),
					   str(pw, "pin")) != 0)) {
				ok = violation("%s on %s: phase %lld, the guest was %s", b->id,
					       device[lock], num(pw, "phase"),
					       *last_hooked(hooked, b->id, device[lock]) ?
					       "handed another PIN" : "never handed the PIN");
			}
		}
	}
	for (int i = 0; ok && i < W.nb; i++) {
		const struct booking *b = &W.b[i];

		if (wanted(b) && !live[i] && W.now >= stay_start(b) - GEN_BEFORE &&
		    W.now < stay_end(b))
			ok = violation("%s (%s) wants a PIN on %s now and has none", b->id,
				       b->code, device[b->listing]);
	}
	path(p, sizeof(p), "stays.db");
	if (ok && sqlite3_open_v2(p, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
		if (sqlite3_prepare_v2(db, "SELECT id, coalesce(last_error, '') FROM pin_jobs "
				       "WHERE status = 'failed'", -1, &q, NULL) == SQLITE_OK) {
			if (sqlite3_step(q) == SQLITE_ROW)
				ok = violation("job %s failed: %s", sqlite3_column_text(q, 0),
					       sqlite3_column_text(q, 1));
			sqlite3_finalize(q);
		}
		sqlite3_close(db);
	}
	cJSON_Delete(hooked);
	cJSON_Delete(state);
	free(c);
	return ok;
}

/* ---- the steps ------------------------------------------------------------ */

static void new_id(char out[25])
{
	/* random high bits: a new booking lands on any page, not the last */
	snprintf(out, 25, "%08x%08x%08x", rnd(), rnd(), ++W.idseq);
}

static void add_booking(int list, bool quiet)
{
	struct booking *b;

	if (W.nb == MAXB)
		return;
	b = &W.b[W.nb++];
	memset(b, 0, sizeof(*b));
	new_id(b->id);
	if (W.nb > 1 && pick(6) == 0)	/* a code another booking has */
		xstrlcpy(b->code, W.b[pick(W.nb - 1)].code, sizeof(b->code));
	else
		snprintf(b->code, sizeof(b->code), "HM%c%c%04u", 'A' + pick(26),
			 'A' + pick(26), rnd() % 10000);
	b->listing = list;
	b->ci = W.now / 86400 + pick(7) - 1;
	b->nights = 1 + pick(4);
	b->type = pick(10) ? "booked" : "blocked";
	b->changed = W.step;
	if (!quiet)
		trace("add %s %s on listing %d, %ld+%d", b->id, b->code, list, b->ci,
		      b->nights);
}

static struct booking *some_booking(void)
{
	int live = 0;

	for (int i = 0; i < W.nb; i++)
		live += !W.b[i].deleted;
	if (!live)
		return NULL;
	for (int k = pick(live), i = 0; i < W.nb; i++)
		if (!W.b[i].deleted && k-- == 0)
			return &W.b[i];
	return NULL;
}

/* One change in Stays (or on a lock); a description for the trace. */
static void change_world(void)
{
	struct booking *b = some_booking();
	int r = pick(20);

	if (r < 6 || !b) {
		add_booking(pick(NLIST), false);
	} else if (r < 9) {
		b->ci += pick(5) - 2;
		b->nights = 1 + pick(4);
		b->changed = W.step;
		trace("move %s to %ld+%d", b->id, b->ci, b->nights);
	} else if (r < 11) {
		b->type = "canceled";
		b->changed = W.step;
		trace("cancel %s", b->id);
	} else if (r < 12) {
		b->type = "booked";
		b->changed = W.step;
		trace("reinstate %s", b->id);
	} else if (r < 14) {
		b->deleted = true;
		b->changed = W.step;
		trace("delete %s", b->id);
	} else if (r < 15) {
		for (int k = 0; k < 4 && (b = some_booking()); k++) {
			b->deleted = true;
			b->changed = W.step;
			trace("delete %s (one of several)", b->id);
		}
	} else if (r < 16) {
		b->type = strcmp(b->type, "blocked") ? "blocked" : "booked";
		b->changed = W.step;
		trace("%s is now %s", b->id, b->type);
	} else {
		int l = pick(NLOCK);

		set_online(l, !W.online[l]);
		trace("lock %d %s", l, W.online[l] ? "online" : "offline");
	}
	write_stays();
}

static char fifo_paused[256], fifo_resume[256];

/* pin-runner stopped at a step while the world and reconcile move on. */
static bool paused_run(void)
{
	const char *stepname = pause_steps[pick(NPAUSE)];
	char pdir[256];
	const char *env[] = { "STAYS_PIN_PAUSE_AT", stepname, "STAYS_PIN_PAUSE_FIFO", pdir,
			      NULL };
	struct proc p;
	int fd, code;
	bool ok = true, stopped = false;

	path(pdir, sizeof(pdir), "pause");
	unlink(fifo_paused);
	unlink(fifo_resume);
	if (mkfifo(fifo_paused, 0600) || mkfifo(fifo_resume, 0600))
		die("mkfifo: %s", strerror(errno));
	if ((fd = open(fifo_paused, O_RDONLY | O_NONBLOCK)) < 0)
		die("open %s: %s", fifo_paused, strerror(errno));
	p = start("pin-runner", env, NULL);
	/* Until it writes the step name, or ends without reaching the step. */
	for (;;) {
		struct pollfd pf = { .fd = fd, .events = POLLIN };
		char buf[64];
		int st;

		if (poll(&pf, 1, 20) > 0 && read(fd, buf, sizeof(buf)) > 0) {
			stopped = true;
			break;
		}
		if (waitpid(p.pid, &st, WNOHANG) == p.pid) {
			close(fd);
			trace("pin-runner never reached %s", stepname);
			if (WIFSIGNALED(st))
				return violation("pin-runner died of signal %d", WTERMSIG(st));
			for (int i = 0; pr_ok[i] >= 0; i++)
				if (pr_ok[i] == WEXITSTATUS(st))
					return true;
			return violation("pin-runner exited %d", WEXITSTATUS(st));
		}
	}
	close(fd);
	trace("pin-runner paused at %s", stepname);
	ok = check_safety();
	for (int k = 1 + pick(3); ok && k > 0; k--)
		change_world();
	if (ok && pick(3))
		ok = run("stays-reconcile", NULL, NULL, sr_ok);
	if (ok && pick(2))
		ok = run("pin-runner", NULL, NULL, pr_ok);	/* 75: the first holds it */
	if (ok)
		ok = check_safety();
	/* let it go: open the resume FIFO and close it */
	if (stopped && (fd = open(fifo_resume, O_WRONLY)) >= 0)
		close(fd);
	if (!finish(&p, pr_ok, &code))
		return false;
	trace("paused pin-runner -> %d", code);
	return ok;
}

/* stays-reconcile reads page 1, then a booking leaves it before page 2. */
static bool shifted_run(void)
{
	long h = hold_list("after");
	struct proc p = start("stays-reconcile", NULL, NULL);
	struct booking *b;
	int code;

	if (!hold_wait(h))
		die("stays-reconcile never asked for a page");
	if ((b = some_booking())) {
		if (pick(2))
			b->type = "canceled";
		else
			b->deleted = true;
		b->changed = W.step;
		trace("%s %s while page 1 is read", b->deleted ? "delete" : "cancel", b->id);
		write_stays();
	}
	hold_release(h);
	return finish(&p, sr_ok, &code);
}

/* stays-reconcile killed while a page is on its way. */
static bool killed_reconcile(void)
{
	long h = hold_list("before");
	struct proc p = start("stays-reconcile", NULL, NULL);
	int code;

	if (!hold_wait(h))
		die("stays-reconcile never asked for a page");
	kill(p.pid, SIGKILL);
	p.killed = true;
	trace("stays-reconcile killed during its fetch");
	if (!finish(&p, sr_ok, &code))
		return false;
	hold_release(h);
	return true;
}

static bool crashed_pin_runner(void)
{
	char n[8];
	const char *env[] = { "STAYS_PIN_CRASH_AT", n, NULL };
	struct proc p;
	int st;

	snprintf(n, sizeof(n), "%d", 1 + pick(14));
	p = start("pin-runner", env, NULL);
	while (waitpid(p.pid, &st, 0) < 0)
		if (errno != EINTR)
			die("waitpid: %s", strerror(errno));
	trace("pin-runner crashed after step %s", n);
	if (WIFSIGNALED(st))
		return violation("pin-runner died of signal %d", WTERMSIG(st));
	return true;
}

/* The world heals and cron catches up at s and s + 1 h. */
static bool sync_point(void)
{
	static const char *const force[] = { "--force", NULL };

	for (int l = 0; l < NLOCK; l++)
		if (!W.online[l])
			set_online(l, true);
	trace("sync at %lld", (long long)W.now);
	for (int round = 0; round < 2; round++) {
		if (!run("stays-reconcile", NULL, force, clean_ok) ||
		    !run("pin-runner", NULL, NULL, pr_ok) ||
		    !run("pin-runner", NULL, NULL, clean_ok) || !check_safety())
			return false;
		if (round == 0)
			W.now += 3600;
	}
	return check_converged();
}

static bool one_step(void)
{
	int r = pick(40);

	if (r < 8) {
		change_world();
	} else if (r < 16) {
		W.now += 600 + pick(6) * 1800;
		if (!pick(4))
			W.now += 86400 / 2;
		trace("now %lld", (long long)W.now);
	} else if (r < 22) {
		return run("stays-reconcile", NULL, NULL, sr_ok);
	} else if (r < 30) {
		return run("pin-runner", NULL, NULL, pr_ok);
	} else if (r < 33) {
		return crashed_pin_runner();
	} else if (r < 37) {
		return paused_run();
	} else if (r < 39) {
		return shifted_run();
	} else {
		return killed_reconcile();
	}
	return true;
}

/* ---- one history -------------------------------------------------------- */

static void fresh(unsigned seed)
{
	char p[256], conf[4096];
	static const char *const hook =
		"#!/bin/sh\ncat >> \"$(dirname \"$0\")/on_pin.out\"\n"
		"echo >> \"$(dirname \"$0\")/on_pin.out\"\n";

	memset(&W, 0, sizeof(W));
	W.seed = seed;
	W.rng = 0x9e3779b97f4a7c15ULL ^ ((uint64_t)seed * 0x2545f4914f6cdd1dULL);
	if (!W.rng)
		W.rng = 1;
	W.now = T0;
	for (int l = 0; l < NLOCK; l++)
		W.online[l] = true;
	for (const char *f = "stays.db\0stays.db-wal\0stays.db-shm\0on_pin.out\0"
			     "programs.log\0"; *f; f += strlen(f) + 1) {
		path(p, sizeof(p), f);
		unlink(p);
	}
	ctl_void("POST", "/_fake/reset", NULL);
	ctl_void("POST", "/_fake/tuya/reset", NULL);
	snprintf(conf, sizeof(conf),
		 "[database]\npath = %s/stays.db\n[schedule]\ncron = */30 * * * *\n"
		 "[stays]\nurl = %s\nclient_id = fake-stays-id\n"
		 "client_secret = fake-stays-secret\ntimeout = 60\nretries = 1\n"
		 "max_removals = 3\n"
		 "[tuya]\nurl = %s\nclient_id = fake4client6id8xyzw12\n"
		 "client_secret = 0f1e2d3c4b5a69788796a5b4c3d2e1f0\n"
		 "[pins]\ngenerate_before = 2h\nrevoke_after = 24h\nmax_attempts = 1000\n"
		 "[hooks]\non_pin = %s/on_pin\n", dir, url, url, dir);
	write_file("stays.conf", conf, 0600);
	write_file("on_pin", hook, 0700);
	for (int k = pick(30); k > 0; k--)
		add_booking(NLIST - 1, true);	/* filler: more than one page */
	for (int k = 3 + pick(6); k > 0; k--)
		add_booking(pick(NLOCK), true);
	write_stays();
}

static bool history(unsigned seed, int steps)
{
	static const int zero[] = { 0, -1 };

	fresh(seed);
	for (int l = 0; l < NLOCK; l++) {
		const char *args[] = { "locks", "add", "--no-check", listing[l], device[l], NULL };

		if (!run("stays-reconcile", NULL, args, zero))
			return false;
	}
	for (W.step = 1; W.step <= steps; W.step++) {
		if (!one_step() || !check_safety())
			return false;
		if ((W.step % SYNC_EVERY == 0 || W.step == steps) && !sync_point())
			return false;
	}
	return true;
}

/* ---- main: the fake server and the seeds ------------------------------- */

static void start_fake(void)
{
	char portfile[256], tuya[256], stays[256], log[256], exe[256];
	static const char *const devices =
		"{\"client_id\":\"fake4client6id8xyzw12\","
		"\"secret\":\"0f1e2d3c4b5a69788796a5b4c3d2e1f0\",\"devices\":["
		"{\"id\":\"ac01lock0123456789abcd\",\"name\":\"front door\",\"pin_length\":7},"
		"{\"id\":\"ac02lock0123456789abcd\",\"name\":\"sleepy keypad\",\"pin_length\":7},"
		"{\"id\":\"ac04lock0123456789abcd\",\"name\":\"zigbee door\",\"pin_length\":7,"
		"\"protocol\":\"zigbee\"}]}";
	FILE *f;
	int port = 0;

	write_file("tuya.json", devices, 0600);
	write_file("stays.json", "[]", 0600);
	path(portfile, sizeof(portfile), "port");
	path(tuya, sizeof(tuya), "tuya.json");
	path(stays, sizeof(stays), "stays.json");
	path(log, sizeof(log), "requests.log");
	snprintf(exe, sizeof(exe), "%s/fakeapi", bin);
	if ((fake_pid = fork()) == 0) {
		/* A history that crashes takes its fake with it. */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		execl(exe, exe, "--port-file", portfile, "--log", log, "--stays-data", stays,
		      "--tuya-data", tuya, (char *)NULL);
		_exit(127);
	}
	/* the fake writes the port file once it listens */
	for (int i = 0; i < 2000 && !port; i++) {
		struct timespec ts = { 0, 10 * 1000 * 1000 };

		if ((f = fopen(portfile, "r"))) {
			if (fscanf(f, "%d", &port) != 1)
				port = 0;
			fclose(f);
		}
		if (!port)
			nanosleep(&ts, NULL);
	}
	if (!port)
		die("fakeapi did not start");
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", port);
}

static void cleanup(void)
{
	char cmd[128];

	if (fake_pid > 0) {
		kill(fake_pid, SIGTERM);
		waitpid(fake_pid, NULL, 0);
	}
	if (!getenv("HISTORY_KEEP")) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			fprintf(stderr, "history: cannot remove %s\n", dir);
	}
}

/*
 * One worker: its own folder and fake server, the seeds first, first +
 * stride, ... below end.  Stops at its first violation; returns 1 then.
 */
static int worker(unsigned first, unsigned end, unsigned stride, int steps)
{
	int failed = 0;

	snprintf(dir, sizeof(dir), "%s/history.XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (strlen(dir) > 40 || !mkdtemp(dir))
		die("cannot make a folder in TMPDIR");
	path(fifo_paused, sizeof(fifo_paused), "pause/paused");
	path(fifo_resume, sizeof(fifo_resume), "pause/resume");
	{
		char p[256];

		path(p, sizeof(p), "pause");
		mkdir(p, 0700);
	}
	signal(SIGPIPE, SIG_IGN);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	atexit(cleanup);
	start_fake();
	for (unsigned s = first; s < end; s += stride) {
		if (history(s, steps)) {
			if (verbose)
				fprintf(stderr, "history %u: ok\n", s);
			continue;
		}
		failed++;
		fprintf(stderr, "history %u: step %d: %s\n"
			"  replay: BIN=%s %s/tests/history --seed %u --steps %d -v\n",
			s, W.step, why, bin, bin, s, W.step);
		if (getenv("HISTORY_KEEP"))
			fprintf(stderr, "  kept: %s\n", dir);
		break;
	}
	curl_global_cleanup();
	return failed ? 1 : 0;
}

int main(int argc, char **argv)
{
	unsigned first = 1, nseeds = 1, jobs = 1;
	int steps = 36, failed = 0;
	bool one = false;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--seeds") && i + 1 < argc)
			nseeds = (unsigned)strtoul(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--seed") && i + 1 < argc)
			first = (unsigned)strtoul(argv[++i], NULL, 10), one = true;
		else if (!strcmp(argv[i], "--first") && i + 1 < argc)
			first = (unsigned)strtoul(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--steps") && i + 1 < argc)
			steps = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--jobs") && i + 1 < argc)
			jobs = (unsigned)strtoul(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "-v"))
			verbose = true;
		else {
			fprintf(stderr, "usage: history [--seeds N [--first S] | --seed S] "
				"[--steps K] [--jobs J] [-v]\n");
			return 2;
		}
	}
	if (one)
		nseeds = 1;
	if (jobs < 1 || jobs > 16)
		jobs = 1;
	if (jobs > nseeds)
		jobs = nseeds ? nseeds : 1;
	if (!(bin = getenv("BIN")))
		die("BIN must name the build folder");
	wrap = getenv("CHECK_WRAP");
	fflush(NULL);
	if (jobs == 1)
		failed = worker(first, first + nseeds, 1, steps);
	else {
		pid_t pids[16];
		int st;

		for (unsigned k = 0; k < jobs; k++) {
			if ((pids[k] = fork()) < 0)
				die("fork: %s", strerror(errno));
			if (pids[k] == 0)
				exit(worker(first + k, first + nseeds, jobs, steps));
		}
		for (unsigned k = 0; k < jobs; k++)
			if (waitpid(pids[k], &st, 0) < 0 || !WIFEXITED(st) ||
			    WEXITSTATUS(st) != 0)
				failed++;
	}
	printf("history: %u seeds from %u, %d steps each: %s\n", nseeds, first, steps,
	       failed ? "FAILED" : "no violation");
	return failed ? 1 : 0;
}
