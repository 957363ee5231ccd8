/*
 * fakeapi.c - main() of tests/fakeapi: a fake Stays + Tuya Cloud server on
 * 127.0.0.1 for the end-to-end tests and the demo.
 *
 * This file owns the process: options, the libmicrohttpd daemon, the request
 * log, fault injection, holds and the /_fake/ control endpoints.  The two
 * services live in fakeapi_stays.c and fakeapi_tuya.c.  A third, tiny one
 * lives here: the hook listener (POST /_fake/hook keeps each body it gets,
 * GET /_fake/hook shows them), a local web hook for contrib/hooks/pin-to-url.
 *
 * Invariants:
 *  - One mutex (srv.lock) guards all shared state: faults, holds, both logs,
 *    the connection counter and both services.  A request holds it from
 *    hold and fault matching until its log line is written, except while it
 *    waits: for a "delay_ms" fault, parked on a hold, or (a control request)
 *    in GET /_fake/hold/N/wait.  Every wait is a condition wait on srv.wake,
 *    which releases the lock, so other connections go on meanwhile.
 *  - srv.wake is broadcast at shutdown and whenever a request parks on a
 *    hold or is released from one; every waiter re-checks its own
 *    condition, so a wake-up meant for someone else is harmless.
 *  - The daemon runs one thread per connection, so a delayed or held answer
 *    stalls only its own connection.  Shutdown wakes every sleeper and
 *    releases every held request at once, so the server always stops.
 *  - Each request gets exactly one log line, written as soon as its answer
 *    is known: a request held "before" is logged after it is released and
 *    handled, one held "after" is logged before it parks.  The line names
 *    the TCP connection ("conn=N", numbered in MHD_OPTION_NOTIFY_CONNECTION),
 *    so tests can prove connection reuse.  Tuya refresh tokens in paths are
 *    replaced by "REDACTED"; headers (and so every credential) are never
 *    logged.
 *  - Faults and holds match their "match" substring against the target as
 *    logged after the method: "path[?query]", escaped and redacted as in
 *    the log (log_target()).  The method is not part of it; a hold can ask
 *    for one with its "method" key.
 *  - Holds are looked up by id, never kept by pointer across a wait: a
 *    reset frees them while requests sleep.
 *  - POST /_fake/hook is the one control request that meets holds and
 *    faults (service "hook"), so a test can make the listener slow or fail;
 *    a body is kept only when the handler runs (a "status" fault keeps
 *    nothing, "truncated" keeps it and cuts the answer).  At most HOOK_MAX
 *    bodies are kept until /_fake/reset.
 */
#include <assert.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cjson/cJSON.h>
#include <microhttpd.h>
#include <openssl/rand.h>

#include "fakeapi.h"
#include "../lib/banned.h"

/* The in-memory copy of the log keeps at most this much, dropping the
 * oldest half when it overflows (a long bench run must not eat memory). */
#define MEMLOG_MAX (32u * 1024 * 1024)

/* POST /_fake/hook keeps at most this many bodies (503 after that). */
#define HOOK_MAX 1000

/* ---- allocation, buffers, small helpers ------------------------------ */

static void oom(size_t n)
{
	fprintf(stderr, "fakeapi: out of memory allocating %zu bytes\n", n);
	abort();
}

void *fake_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		oom(n);
	return p;
}

void *fake_xcalloc(size_t nmemb, size_t size)
{
	void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);

	if (!p)
		oom(nmemb * size);
	return p;
}

void *fake_xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (!q)
		oom(n);
	return q;
}

char *fake_xstrdup(const char *s)
{
	return fake_xmemdup0(s, strlen(s));
}

char *fake_xmemdup0(const void *p, size_t n)
{
	char *s;

	if (n == SIZE_MAX)
		oom(n);
	s = fake_xmalloc(n + 1);
	if (n)
		memcpy(s, p, n);
	s[n] = '\0';
	return s;
}

void fake_die(const char *fmt, ...)
{
	va_list ap;

	fputs("fakeapi: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

static void buf_grow(struct fake_buf *b, size_t extra)
{
	size_t need;

	if (extra > SIZE_MAX - b->len - 1)
		oom(SIZE_MAX);
	need = b->len + extra + 1;
	if (need <= b->alloc)
		return;
	if (b->alloc > SIZE_MAX / 2)
		oom(SIZE_MAX);
	b->alloc = b->alloc ? b->alloc * 2 : 64;
	if (b->alloc < need)
		b->alloc = need;
	b->buf = fake_xrealloc(b->buf, b->alloc);
}

void fake_buf_add(struct fake_buf *b, const void *data, size_t len)
{
	buf_grow(b, len);
	if (len)
		memcpy(b->buf + b->len, data, len);
	b->len += len;
	b->buf[b->len] = '\0';
}

void fake_buf_adds(struct fake_buf *b, const char *s)
{
	fake_buf_add(b, s, strlen(s));
}

void fake_buf_addf(struct fake_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		fake_die("vsnprintf failed for '%s'", fmt);
	buf_grow(b, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(b->buf + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

const char *fake_buf_str(const struct fake_buf *b)
{
	return b->buf ? b->buf : "";
}

void fake_buf_reset(struct fake_buf *b)
{
	b->len = 0;
	if (b->buf)
		b->buf[0] = '\0';
}

void fake_buf_release(struct fake_buf *b)
{
	free(b->buf);
	b->buf = NULL;
	b->len = b->alloc = 0;
}

void fake_respond(struct fake_response *resp, unsigned int status,
                  const char *content_type, const char *body)
{
	resp->status = status;
	resp->content_type = content_type;
	fake_buf_reset(&resp->body);
	fake_buf_adds(&resp->body, body);
}

void fake_respond_json(struct fake_response *resp, unsigned int status,
                       cJSON *root)
{
	char *s = cJSON_PrintUnformatted(root);

	if (!s)
		fake_die("cannot print JSON response");
	fake_respond(resp, status, "application/json", s);
	cJSON_free(s);
	cJSON_Delete(root);
}

void fake_respond_message(struct fake_response *resp, unsigned int status,
                          const char *msg)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "message", msg);
	fake_respond_json(resp, status, o);
}

int64_t fake_now_ms(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
		fake_die("clock_gettime: %s", strerror(errno));
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* n random characters drawn uniformly from set (of setlen <= 256). */
static void random_from(char *out, size_t n, const char *set, size_t setlen)
{
	unsigned char pool[64];
	size_t used = sizeof(pool), i = 0;
	unsigned int limit = 256 - 256 % (unsigned int)setlen;

	while (i < n) {
		if (used == sizeof(pool)) {
			if (RAND_bytes(pool, (int)sizeof(pool)) != 1)
				fake_die("RAND_bytes failed");
			used = 0;
		}
		if (pool[used] < limit)
			out[i++] = set[pool[used] % setlen];
		used++;
	}
	out[n] = '\0';
}

void fake_random_alnum(char *out, size_t n)
{
	static const char set[] = "0123456789"
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

	random_from(out, n, set, sizeof(set) - 1);
}

void fake_random_hex(char *out, size_t n)
{
	random_from(out, n, "0123456789abcdef", 16);
}

/* Howard Hinnant's days_from_civil / civil_from_days (proleptic Gregorian). */
static long days_from_civil(long y, unsigned m, unsigned d)
{
	long era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (long)doe - 719468;
}

bool fake_parse_date(const char *s, size_t len, long *days)
{
	static const unsigned char mdays[] = {
		31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
	};
	long y;
	unsigned m, d, dim;
	size_t i;

	if (len != 10 || s[4] != '-' || s[7] != '-')
		return false;
	for (i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
			return false;
	y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 +
	    (s[3] - '0');
	m = (unsigned)((s[5] - '0') * 10 + (s[6] - '0'));
	d = (unsigned)((s[8] - '0') * 10 + (s[9] - '0'));
	if (y < 1 || m < 1 || m > 12 || d < 1)
		return false;
	dim = mdays[m - 1];
	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		dim = 29;
	if (d > dim)
		return false;
	*days = days_from_civil(y, m, d);
	return true;
}

void fake_format_date(long days, char out[11])
{
	long z = days + 719468, era, y;
	unsigned doe, yoe, doy, mp, d, m;

	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = (long)yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d = doy - (153 * mp + 2) / 5 + 1;
	m = mp < 10 ? mp + 3 : mp - 9;
	y += m <= 2;
	if (y < 0 || y > 9999)
		y = 0;
	snprintf(out, 11, "%04ld-%02u-%02u", y, m % 100, d % 100);
}

cJSON *fake_json_parse(const char *text, size_t len, size_t *errpos)
{
	const char *end = NULL;
	cJSON *root;

	assert(text[len] == '\0');
	/* cJSON skips a NUL between tokens as if it were a space */
	if (memchr(text, '\0', len)) {
		if (errpos)
			*errpos = (size_t)((const char *)memchr(text, '\0', len) - text);
		return NULL;
	}
	/* the length cJSON wants includes the terminating NUL */
	root = cJSON_ParseWithLengthOpts(text, len + 1, &end, 1);
	if (!root && errpos)
		*errpos = end && end >= text && end <= text + len
			? (size_t)(end - text) : 0;
	return root;
}

bool fake_json_int(const cJSON *item, int64_t min, int64_t max, int64_t *out)
{
	double v;

	if (!cJSON_IsNumber(item))
		return false;
	v = item->valuedouble;
	/* 2^53: beyond it a double no longer holds every integer. */
	if (!(v >= -9007199254740992.0 && v <= 9007199254740992.0))
		return false;
	if (v != (double)(int64_t)v)
		return false;
	if ((int64_t)v < min || (int64_t)v > max)
		return false;
	*out = (int64_t)v;
	return true;
}

/* ---- server state ---------------------------------------------------- */

enum service { SVC_STAYS, SVC_TUYA, SVC_HOOK, SVC_CONTROL };

enum fault_body {
	FB_NONE, FB_MALFORMED, FB_HTML, FB_TRUNCATED, FB_HUGE
};

struct fault {
	enum service service;
	char *match;            /* substring of "path?query", or NULL */
	int64_t skip;           /* stays: required skip value, -1 = any */
	int64_t after;          /* matching requests let through first */
	int64_t times;          /* firings left to allow, -1 = forever */
	unsigned int status;    /* 0 = none */
	int64_t retry_after;    /* -1 = none */
	enum fault_body body;
	int64_t delay_ms;
	bool has_code;
	int64_t code;
	int64_t seen;           /* matching requests so far */
	int64_t fired;
	struct fault *next;
};

enum hold_when { HOLD_BEFORE, HOLD_AFTER };

/* A hold: parks matching requests until a test releases them (usage()). */
struct hold {
	unsigned long id;       /* 1, 2, ... for the life of the server */
	enum service service;
	char *match;            /* substring of "path?query", or NULL */
	char *method;           /* exact method, or NULL = any */
	int64_t after;          /* matching requests let through first */
	int64_t times;          /* requests to catch, -1 = every later one */
	enum hold_when when;
	int64_t seen;           /* matching requests so far */
	int64_t caught, released;
	int64_t waiting;        /* caught requests parked on it now */
	struct hold *next;
};

/* One parked request; lives on its own thread's stack while it waits. */
struct waiter {
	unsigned long hold;     /* id of the hold that caught it */
	char *what;             /* "METHOD path?query", owned */
	bool released;          /* set (and unlinked) by whoever releases it */
	struct waiter *next;
};

static struct {
	pthread_mutex_t lock;
	pthread_cond_t wake;            /* see the file comment */
	bool stopping;
	unsigned long next_conn;
	FILE *log;                      /* --log, or NULL */
	char *log_path;
	struct fake_buf memlog;         /* what GET /_fake/log returns */
	struct fault *faults;           /* in the order they were added */
	struct hold *holds;             /* in the order they were added */
	unsigned long last_hold;        /* id of the newest hold ever made */
	struct waiter *waiters;         /* parked requests, oldest first */
	struct fake_stays *stays;
	struct fake_tuya *tuya;
	struct fake_buf *hooks;         /* bodies POSTed to /_fake/hook */
	size_t nhooks;
} srv = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
};

/* The "service" of a fault or hold: "stays", "tuya" or "hook". */
static bool parse_service(const cJSON *it, enum service *svc)
{
	static const char *const names[] = {
		[SVC_STAYS] = "stays", [SVC_TUYA] = "tuya", [SVC_HOOK] = "hook",
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(*names); i++) {
		if (cJSON_IsString(it) && !strcmp(it->valuestring, names[i])) {
			*svc = (enum service)i;
			return true;
		}
	}
	return false;
}

static void fault_free_all(struct fault *f)
{
	while (f) {
		struct fault *next = f->next;

		free(f->match);
		free(f);
		f = next;
	}
}

static void fault_append(struct fault *f)
{
	struct fault **pp = &srv.faults;

	while (*pp)
		pp = &(*pp)->next;
	*pp = f;
}

/*
 * Parse one fault object (see usage()).  Unknown keys and wrong types are
 * errors, so a typo in a test fails loudly instead of injecting nothing.
 */
static struct fault *fault_parse(const char *text, size_t len, char *err,
                                 size_t errlen)
{
	static const char *const bodies[] = {
		[FB_MALFORMED] = "malformed", [FB_HTML] = "html",
		[FB_TRUNCATED] = "truncated", [FB_HUGE] = "huge",
	};
	cJSON *root = fake_json_parse(text, len, NULL);
	const cJSON *it;
	struct fault *f = fake_xcalloc(1, sizeof(*f));
	bool has_service = false;
	int effects = 0;
	int64_t v;

	f->skip = -1;
	f->times = 1;
	f->retry_after = -1;
	if (!cJSON_IsObject(root)) {
		snprintf(err, errlen, "fault is not a JSON object");
		goto fail;
	}
	cJSON_ArrayForEach(it, root) {
		const char *k = it->string;

		if (!strcmp(k, "service")) {
			if (!parse_service(it, &f->service)) {
				snprintf(err, errlen, "fault 'service' must be "
				         "\"stays\", \"tuya\" or \"hook\"");
				goto fail;
			}
			has_service = true;
		} else if (!strcmp(k, "match")) {
			if (!cJSON_IsString(it) || f->match) {
				snprintf(err, errlen, "fault 'match' must be one string");
				goto fail;
			}
			f->match = fake_xstrdup(it->valuestring);
		} else if (!strcmp(k, "skip")) {
			if (!fake_json_int(it, 0, INT64_MAX, &f->skip))
				goto badint;
		} else if (!strcmp(k, "after")) {
			if (!fake_json_int(it, 0, INT64_MAX, &f->after))
				goto badint;
		} else if (!strcmp(k, "times")) {
			if (!fake_json_int(it, -1, INT64_MAX, &f->times))
				goto badint;
		} else if (!strcmp(k, "status")) {
			if (!fake_json_int(it, 100, 599, &v))
				goto badint;
			f->status = (unsigned int)v;
			effects++;
		} else if (!strcmp(k, "retry_after")) {
			if (!fake_json_int(it, 0, 86400, &f->retry_after))
				goto badint;
		} else if (!strcmp(k, "delay_ms")) {
			if (!fake_json_int(it, 0, 600000, &f->delay_ms))
				goto badint;
		} else if (!strcmp(k, "code")) {
			if (!fake_json_int(it, 1, INT32_MAX, &f->code))
				goto badint;
			f->has_code = true;
			effects++;
		} else if (!strcmp(k, "body")) {
			size_t i;

			for (i = 1; i < sizeof(bodies) / sizeof(*bodies); i++)
				if (cJSON_IsString(it) &&
				    !strcmp(it->valuestring, bodies[i]))
					f->body = (enum fault_body)i;
			if (f->body == FB_NONE) {
				snprintf(err, errlen, "fault 'body' must be one of "
				         "malformed, html, truncated, huge");
				goto fail;
			}
			effects++;
		} else {
			snprintf(err, errlen, "unknown fault key '%s'", k);
			goto fail;
		}
		continue;
badint:
		snprintf(err, errlen, "fault '%s' is not an integer in range", k);
		goto fail;
	}
	if (!has_service) {
		snprintf(err, errlen, "fault needs 'service'");
		goto fail;
	}
	if (f->retry_after >= 0 && f->status == 0) {
		f->status = 429;        /* Retry-After alone means "throttled" */
		effects++;
	}
	if (effects > 1) {
		snprintf(err, errlen,
		         "fault may have only one of 'status', 'body', 'code'");
		goto fail;
	}
	if (effects == 0 && f->delay_ms == 0) {
		snprintf(err, errlen, "fault has no effect");
		goto fail;
	}
	if (f->service != SVC_STAYS && f->skip >= 0) {
		snprintf(err, errlen, "fault 'skip' is for service \"stays\" only");
		goto fail;
	}
	if (f->service != SVC_STAYS && f->body == FB_HUGE) {
		snprintf(err, errlen, "fault body \"huge\" is for service \"stays\" only");
		goto fail;
	}
	if (f->service != SVC_TUYA && f->has_code) {
		snprintf(err, errlen, "fault 'code' is for service \"tuya\" only");
		goto fail;
	}
	cJSON_Delete(root);
	return f;
fail:
	cJSON_Delete(root);
	fault_free_all(f);
	return NULL;
}

/* Parse s[0..n) as 1 to 18 decimal digits in [min, max] into *out. */
static bool parse_decimal(const char *s, size_t n, int64_t min, int64_t max,
                          int64_t *out)
{
	int64_t v = 0;
	size_t i;

	if (n == 0 || n > 18)
		return false;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	if (v < min || v > max)
		return false;
	*out = v;
	return true;
}

/* Value of the request's skip parameter: 0 when absent, -1 when invalid. */
static int64_t request_skip(const struct fake_request *req)
{
	const struct fake_param *p = fake_param(req, "skip");
	int64_t v;

	if (!p)
		return 0;
	return parse_decimal(p->value, p->value_len, 0, INT64_MAX, &v) ? v : -1;
}

/*
 * Count this request against every fault that matches it and return the
 * first one that fires, or NULL.  A fault counts a matching request even if
 * an earlier fault fires for it, so "after" always means "the first K
 * matching requests".
 */
static const struct fault *fault_check(enum service svc,
                                       const struct fake_request *req,
                                       const char *target)
{
	const struct fault *hit = NULL;
	struct fault *f;

	for (f = srv.faults; f; f = f->next) {
		if (f->service != svc)
			continue;
		if (f->match && !strstr(target, f->match))
			continue;
		if (f->skip >= 0 && request_skip(req) != f->skip)
			continue;
		f->seen++;
		if (hit || f->seen <= f->after)
			continue;
		if (f->times >= 0 && f->fired >= f->times)
			continue;
		f->fired++;
		hit = f;
	}
	return hit;
}

/* The CLOCK_MONOTONIC time (srv.wake's clock) ms from now. */
static struct timespec deadline_in(int64_t ms)
{
	struct timespec dl;

	if (clock_gettime(CLOCK_MONOTONIC, &dl) != 0)
		fake_die("clock_gettime: %s", strerror(errno));
	dl.tv_sec += (time_t)(ms / 1000);
	dl.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (dl.tv_nsec >= 1000000000L) {
		dl.tv_sec++;
		dl.tv_nsec -= 1000000000L;
	}
	return dl;
}

/* Sleep ms with srv.lock held; the wait releases it.  Shutdown cuts it. */
static void sleep_locked(int64_t ms)
{
	struct timespec dl = deadline_in(ms);

	while (!srv.stopping)
		if (pthread_cond_timedwait(&srv.wake, &srv.lock, &dl) == ETIMEDOUT)
			break;
}

/* ---- holds ------------------------------------------------------------ */

static void hold_free_all(struct hold *h)
{
	while (h) {
		struct hold *next = h->next;

		free(h->match);
		free(h->method);
		free(h);
		h = next;
	}
}

/* Give h the next id and add it after the others. */
static void hold_append(struct hold *h)
{
	struct hold **pp = &srv.holds;

	while (*pp)
		pp = &(*pp)->next;
	h->id = ++srv.last_hold;
	*pp = h;
}

static struct hold *hold_find(unsigned long id)
{
	struct hold *h;

	for (h = srv.holds; h; h = h->next)
		if (h->id == id)
			return h;
	return NULL;
}

/*
 * Parse one hold object (see usage()); the id is given when it is added.
 * As strict as fault_parse(): unknown keys and wrong types are errors.
 */
static struct hold *hold_parse(const char *text, size_t len, char *err,
                               size_t errlen)
{
	cJSON *root = fake_json_parse(text, len, NULL);
	const cJSON *it;
	struct hold *h = fake_xcalloc(1, sizeof(*h));
	bool has_service = false;

	h->times = 1;
	if (!cJSON_IsObject(root)) {
		snprintf(err, errlen, "hold is not a JSON object");
		goto fail;
	}
	cJSON_ArrayForEach(it, root) {
		const char *k = it->string;

		if (!strcmp(k, "service")) {
			if (!parse_service(it, &h->service)) {
				snprintf(err, errlen, "hold 'service' must be "
				         "\"stays\", \"tuya\" or \"hook\"");
				goto fail;
			}
			has_service = true;
		} else if (!strcmp(k, "match")) {
			if (!cJSON_IsString(it) || h->match) {
				snprintf(err, errlen, "hold 'match' must be one string");
				goto fail;
			}
			h->match = fake_xstrdup(it->valuestring);
		} else if (!strcmp(k, "method")) {
			const char *c;

			if (!cJSON_IsString(it) || h->method ||
			    !*it->valuestring || strlen(it->valuestring) > 16)
				goto badmethod;
			for (c = it->valuestring; *c; c++)
				if (*c < 'A' || *c > 'Z')
					goto badmethod;
			h->method = fake_xstrdup(it->valuestring);
		} else if (!strcmp(k, "after")) {
			if (!fake_json_int(it, 0, INT64_MAX, &h->after))
				goto badint;
		} else if (!strcmp(k, "times")) {
			if (!fake_json_int(it, -1, INT64_MAX, &h->times) ||
			    h->times == 0) {
				snprintf(err, errlen, "hold 'times' must be -1 or a "
				         "positive integer");
				goto fail;
			}
		} else if (!strcmp(k, "when")) {
			if (cJSON_IsString(it) &&
			    !strcmp(it->valuestring, "before"))
				h->when = HOLD_BEFORE;
			else if (cJSON_IsString(it) &&
			         !strcmp(it->valuestring, "after"))
				h->when = HOLD_AFTER;
			else {
				snprintf(err, errlen,
				         "hold 'when' must be \"before\" or \"after\"");
				goto fail;
			}
		} else {
			snprintf(err, errlen, "unknown hold key '%s'", k);
			goto fail;
		}
		continue;
badint:
		snprintf(err, errlen, "hold '%s' is not an integer in range", k);
		goto fail;
badmethod:
		snprintf(err, errlen, "hold 'method' must be one upper-case "
		         "method name such as \"POST\"");
		goto fail;
	}
	if (!has_service) {
		snprintf(err, errlen, "hold needs 'service'");
		goto fail;
	}
	cJSON_Delete(root);
	return h;
fail:
	cJSON_Delete(root);
	hold_free_all(h);
	return NULL;
}

/*
 * Count this request against every hold that matches it and return the
 * first one that catches it, or NULL.  Counting works as in fault_check():
 * "after" always means "the first K matching requests".
 */
static struct hold *hold_check(enum service svc, const char *method,
                               const char *target)
{
	struct hold *hit = NULL, *h;

	for (h = srv.holds; h; h = h->next) {
		if (h->service != svc)
			continue;
		if (h->match && !strstr(target, h->match))
			continue;
		if (h->method && strcmp(method, h->method))
			continue;
		h->seen++;
		if (hit || h->seen <= h->after)
			continue;
		if (h->times >= 0 && h->caught >= h->times)
			continue;
		h->caught++;
		hit = h;
	}
	return hit;
}

/* Release w (counted against its hold, if that still exists); lock held. */
static void waiter_release(struct waiter *w)
{
	struct hold *h = hold_find(w->hold);

	if (h) {
		h->waiting--;
		h->released++;
	}
	w->released = true;
}

/* Release every request parked on hold id; returns how many. */
static int64_t hold_release(unsigned long id)
{
	struct waiter **pp = &srv.waiters;
	int64_t n = 0;

	while (*pp) {
		struct waiter *w = *pp;

		if (w->hold == id) {
			*pp = w->next;
			waiter_release(w);
			n++;
		} else {
			pp = &w->next;
		}
	}
	pthread_cond_broadcast(&srv.wake);
	return n;
}

/* Release every parked request (reset and shutdown). */
static void hold_release_all(void)
{
	while (srv.waiters) {
		struct waiter *w = srv.waiters;

		srv.waiters = w->next;
		waiter_release(w);
	}
	pthread_cond_broadcast(&srv.wake);
}

/*
 * Park the calling request on hold h until it is released: by
 * POST /_fake/hold/N/release, /_fake/reset or shutdown.  srv.lock held; the
 * wait releases it.  After shutdown has begun nothing parks any more.
 */
static void hold_park(struct hold *h, const char *method, const char *target)
{
	struct waiter w = { 0 }, **pp = &srv.waiters;
	struct fake_buf what = FAKE_BUF_INIT;

	if (srv.stopping)
		return;
	fake_buf_addf(&what, "%s %s", method, target);
	w.hold = h->id;
	w.what = what.buf;
	while (*pp)
		pp = &(*pp)->next;
	*pp = &w;
	h->waiting++;
	pthread_cond_broadcast(&srv.wake);
	while (!w.released)
		pthread_cond_wait(&srv.wake, &srv.lock);
	fake_buf_release(&what);
}

/* ---- request log ----------------------------------------------------- */

/*
 * "path[?query]" as logged and as faults see it: bytes outside printable
 * ASCII become %XX (one line per request, always), and the refresh token
 * in /v1.0/token/{refresh} is hidden.
 */
static char *log_target(const struct fake_request *req)
{
	static const char refresh[] = "/v1.0/token/";
	struct fake_buf b = FAKE_BUF_INIT;
	const char *s;

	if (!strncmp(req->path, refresh, sizeof(refresh) - 1) &&
	    req->path[sizeof(refresh) - 1] != '\0')
		fake_buf_adds(&b, "/v1.0/token/REDACTED");
	else
		fake_buf_adds(&b, req->path);
	if (req->query) {
		fake_buf_adds(&b, "?");
		fake_buf_adds(&b, req->query);
	}
	for (s = fake_buf_str(&b); *s; s++)
		if ((unsigned char)*s <= ' ' || (unsigned char)*s >= 0x7f)
			break;
	if (*s) {
		struct fake_buf e = FAKE_BUF_INIT;

		for (s = fake_buf_str(&b); *s; s++) {
			unsigned char c = (unsigned char)*s;

			if (c <= ' ' || c >= 0x7f)
				fake_buf_addf(&e, "%%%02X", c);
			else
				fake_buf_add(&e, s, 1);
		}
		fake_buf_release(&b);
		b = e;
	}
	if (!b.buf)
		fake_buf_adds(&b, "");
	return b.buf;
}

/* Append one line to both logs; srv.lock held. */
static void log_request(const struct fake_request *req, const char *target,
                        const struct fake_response *resp)
{
	struct fake_buf line = FAKE_BUF_INIT;
	const char *method = req->method ? req->method : "-";
	size_t i;

	fake_buf_addf(&line, "conn=%lu ", req->conn_id);
	for (i = 0; i < 32 && method[i]; i++) {
		unsigned char c = (unsigned char)method[i];

		if (c > ' ' && c < 0x7f)
			fake_buf_add(&line, &method[i], 1);
		else
			fake_buf_addf(&line, "%%%02X", c);
	}
	fake_buf_addf(&line, " %s %u", target, resp->status);
	if (resp->has_code)
		fake_buf_addf(&line, " code=%ld", resp->code);
	fake_buf_adds(&line, "\n");
	if (srv.log) {
		if (fputs(line.buf, srv.log) == EOF || fflush(srv.log) == EOF)
			fprintf(stderr, "fakeapi: cannot write log '%s': %s\n",
			        srv.log_path, strerror(errno));
	}
	if (srv.memlog.len + line.len > MEMLOG_MAX) {
		const char *cut = memchr(srv.memlog.buf + srv.memlog.len / 2, '\n',
		                         srv.memlog.len - srv.memlog.len / 2);
		size_t drop = cut ? (size_t)(cut - srv.memlog.buf) + 1
		                  : srv.memlog.len;

		memmove(srv.memlog.buf, srv.memlog.buf + drop,
		        srv.memlog.len - drop + 1);
		srv.memlog.len -= drop;
	}
	fake_buf_add(&srv.memlog, line.buf, line.len);
	fake_buf_release(&line);
}

/* ---- requests -------------------------------------------------------- */

const char *fake_header(const struct fake_request *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

const struct fake_param *fake_param(const struct fake_request *req,
                                    const char *key)
{
	size_t i, n = strlen(key);

	for (i = 0; i < req->nparams; i++)
		if (req->params[i].key_len == n &&
		    !memcmp(req->params[i].key, key, n))
			return &req->params[i];
	return NULL;
}

int fake_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Percent-decode s[0..n) the way form decoders do ('+' is a space); a '%'
 * not followed by two hex digits stays literal.
 */
static char *url_decode(const char *s, size_t n, size_t *outlen)
{
	char *out = fake_xmalloc(n + 1);
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		if (s[i] == '+') {
			out[o++] = ' ';
		} else if (s[i] == '%' && i + 2 < n && fake_hexval(s[i + 1]) >= 0 &&
		           fake_hexval(s[i + 2]) >= 0) {
			out[o++] = (char)(fake_hexval(s[i + 1]) * 16 + fake_hexval(s[i + 2]));
			i += 2;
		} else {
			out[o++] = s[i];
		}
	}
	out[o] = '\0';
	*outlen = o;
	return out;
}

static void parse_query(struct fake_request *req)
{
	const char *s = req->query;
	size_t alloc = 0;

	while (s && *s) {
		const char *amp = strchr(s, '&');
		size_t n = amp ? (size_t)(amp - s) : strlen(s);
		const char *eq = memchr(s, '=', n);
		struct fake_param *p;

		if (n > 0) {
			if (req->nparams == alloc) {
				alloc = alloc ? alloc * 2 : 8;
				req->params = fake_xrealloc(req->params,
				                            alloc * sizeof(*req->params));
			}
			p = &req->params[req->nparams++];
			if (eq) {
				p->key = url_decode(s, (size_t)(eq - s), &p->key_len);
				p->value = url_decode(eq + 1, n - (size_t)(eq - s) - 1,
				                      &p->value_len);
			} else {
				p->key = url_decode(s, n, &p->key_len);
				p->value = fake_xstrdup("");
				p->value_len = 0;
			}
		}
		s = amp ? amp + 1 : NULL;
	}
}

static void request_free(struct fake_request *req)
{
	size_t i;

	if (!req)
		return;
	for (i = 0; i < req->nparams; i++) {
		free(req->params[i].key);
		free(req->params[i].value);
	}
	free(req->params);
	free(req->path);
	free(req->query);
	fake_buf_release(&req->body);
	free(req);
}

/*
 * MHD_OPTION_URI_LOG_CALLBACK: the only place the raw, undecoded request
 * target is visible.  The returned request becomes the per-request context
 * and is freed in on_completed (MHD calls it for every request it logged).
 */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
	struct fake_request *req = fake_xcalloc(1, sizeof(*req));
	const union MHD_ConnectionInfo *ci;
	const char *q, *hash;
	size_t n;

	(void)cls;
	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	req->conn_id = ci ? (unsigned long)(uintptr_t)ci->socket_context : 0;
	req->conn = conn;
	if (!uri)
		uri = "";
	/* absolute-form "http://host:port/path": keep only the path */
	if (!strncasecmp(uri, "http://", 7)) {
		const char *slash = strchr(uri + 7, '/');

		uri = slash ? slash : "/";
	}
	hash = strchr(uri, '#');
	n = hash ? (size_t)(hash - uri) : strlen(uri);
	q = memchr(uri, '?', n);
	if (q) {
		req->path = fake_xmemdup0(uri, (size_t)(q - uri));
		req->query = fake_xmemdup0(q + 1, n - (size_t)(q - uri) - 1);
	} else {
		req->path = fake_xmemdup0(uri, n);
	}
	parse_query(req);
	return req;
}

static void on_completed(void *cls, struct MHD_Connection *conn,
                         void **req_cls, enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)conn;
	(void)toe;
	request_free(*req_cls);
	*req_cls = NULL;
}

static void on_connection(void *cls, struct MHD_Connection *conn,
                          void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
	(void)cls;
	(void)conn;
	if (code != MHD_CONNECTION_NOTIFY_STARTED)
		return;
	pthread_mutex_lock(&srv.lock);
	*socket_context = (void *)(uintptr_t)++srv.next_conn;
	pthread_mutex_unlock(&srv.lock);
}

static enum service classify(const char *path)
{
	if (!strncmp(path, "/_fake/", 7))
		return SVC_CONTROL;
	if (path[0] == '/' && path[1] == 'v' && path[2] >= '0' && path[2] <= '9')
		return SVC_TUYA;
	return SVC_STAYS;
}

/*
 * GET /_fake/hold/N/wait[?timeout_ms=M][&waiting=K]: block until hold N has
 * at least K (default 1) requests parked, at most M ms (default 30000).
 * srv.lock held; the wait releases it.
 */
static void hold_wait(unsigned long id, const struct fake_request *req,
                      struct fake_response *resp)
{
	int64_t timeout = 30000, want = 1;
	struct timespec dl;
	bool timed_out = false;
	char msg[160];
	size_t i;

	for (i = 0; i < req->nparams; i++) {
		const struct fake_param *p = &req->params[i];

		if (p->key_len == 10 && !memcmp(p->key, "timeout_ms", 10) &&
		    parse_decimal(p->value, p->value_len, 0, 600000, &timeout))
			continue;
		if (p->key_len == 7 && !memcmp(p->key, "waiting", 7) &&
		    parse_decimal(p->value, p->value_len, 1, 1000000, &want))
			continue;
		fake_respond_message(resp, 400, "want ?timeout_ms=M (0 to 600000) "
		                     "and/or waiting=K (K >= 1), nothing else");
		return;
	}
	dl = deadline_in(timeout);
	for (;;) {
		const struct hold *h = hold_find(id);
		const struct waiter *w;
		cJSON *o;

		if (!h) {
			fake_respond_message(resp, 404, "hold dropped by a reset "
			                     "while waiting");
			return;
		}
		if (h->waiting >= want) {
			for (w = srv.waiters; w && w->hold != id; w = w->next)
				;
			assert(w);
			o = cJSON_CreateObject();
			cJSON_AddNumberToObject(o, "id", (double)id);
			cJSON_AddNumberToObject(o, "waiting", (double)h->waiting);
			cJSON_AddStringToObject(o, "target", w->what);
			fake_respond_json(resp, 200, o);
			return;
		}
		if (srv.stopping) {
			fake_respond_message(resp, 503, "shutting down");
			return;
		}
		if (timed_out) {
			snprintf(msg, sizeof(msg), "hold %lu has %lld of %lld "
			         "requests waiting after %lld ms", id,
			         (long long)h->waiting, (long long)want,
			         (long long)timeout);
			fake_respond_message(resp, 504, msg);
			return;
		}
		if (pthread_cond_timedwait(&srv.wake, &srv.lock, &dl) == ETIMEDOUT)
			timed_out = true;       /* look once more, then give up */
	}
}

/* /_fake/hold and /_fake/hold/N[/wait|/release]; srv.lock held. */
static void control_hold(const struct fake_request *req,
                         struct fake_response *resp)
{
	static const char prefix[] = "/_fake/hold/";
	const char *m = req->method, *rest;
	const struct hold *h;
	struct hold *nh;
	char err[256];
	int64_t id;
	size_t n;
	cJSON *o;

	if (!strcmp(req->path, "/_fake/hold")) {
		if (strcmp(m, "POST")) {
			fake_respond_message(resp, 405, "Method not allowed");
			return;
		}
		nh = hold_parse(fake_buf_str(&req->body), req->body.len, err,
		                sizeof(err));
		if (!nh) {
			fake_respond_message(resp, 400, err);
			return;
		}
		hold_append(nh);
		o = cJSON_CreateObject();
		cJSON_AddNumberToObject(o, "id", (double)nh->id);
		fake_respond_json(resp, 200, o);
		return;
	}
	rest = req->path + sizeof(prefix) - 1;
	n = strspn(rest, "0123456789");
	if (!parse_decimal(rest, n, 1, INT64_MAX, &id) ||
	    (rest[n] && strcmp(rest + n, "/wait") &&
	     strcmp(rest + n, "/release"))) {
		fake_respond_message(resp, 404, "Not found");
		return;
	}
	rest += n;
	if (strcmp(m, !strcmp(rest, "/release") ? "POST" : "GET")) {
		fake_respond_message(resp, 405, "Method not allowed");
		return;
	}
	h = hold_find((unsigned long)id);
	if (!h) {
		fake_respond_message(resp, 404, "no such hold");
		return;
	}
	if (!strcmp(rest, "/wait")) {
		hold_wait(h->id, req, resp);
	} else if (!strcmp(rest, "/release")) {
		o = cJSON_CreateObject();
		cJSON_AddNumberToObject(o, "released",
		                        (double)hold_release(h->id));
		fake_respond_json(resp, 200, o);
	} else {
		o = cJSON_CreateObject();
		cJSON_AddNumberToObject(o, "id", (double)h->id);
		cJSON_AddNumberToObject(o, "caught", (double)h->caught);
		cJSON_AddNumberToObject(o, "waiting", (double)h->waiting);
		cJSON_AddNumberToObject(o, "released", (double)h->released);
		fake_respond_json(resp, 200, o);
	}
}

static void hooks_clear(void)
{
	size_t i;

	for (i = 0; i < srv.nhooks; i++)
		fake_buf_release(&srv.hooks[i]);
	free(srv.hooks);
	srv.hooks = NULL;
	srv.nhooks = 0;
}

/* POST /_fake/hook: keep the body, whatever it is; srv.lock held. */
static void hook_receive(const struct fake_request *req,
                         struct fake_response *resp)
{
	struct fake_buf *b;

	if (srv.nhooks >= HOOK_MAX) {
		fake_respond_message(resp, 503, "hook listener full; "
		                     "POST /_fake/reset");
		return;
	}
	srv.hooks = fake_xrealloc(srv.hooks,
	                          (srv.nhooks + 1) * sizeof(*srv.hooks));
	b = &srv.hooks[srv.nhooks++];
	memset(b, 0, sizeof(*b));
	fake_buf_add(b, fake_buf_str(&req->body), req->body.len);
	fake_respond(resp, 200, "application/json", "{\"ok\":true}");
}

/*
 * GET /_fake/hook: the bodies so far, oldest first, as a JSON array; each
 * is its JSON value if it is exactly one, else a string of its bytes (as
 * cJSON sees them: up to a NUL, if one was sent).
 */
static void hook_show(struct fake_response *resp)
{
	cJSON *arr = cJSON_CreateArray();
	size_t i;

	for (i = 0; i < srv.nhooks; i++) {
		const struct fake_buf *b = &srv.hooks[i];
		cJSON *v = fake_json_parse(fake_buf_str(b), b->len, NULL);

		if (!v)
			v = cJSON_CreateString(fake_buf_str(b));
		if (!v)
			fake_die("cannot keep a hook body");
		cJSON_AddItemToArray(arr, v);
	}
	fake_respond_json(resp, 200, arr);
}

/* /_fake/...: no authentication, srv.lock held. */
static void control(const struct fake_request *req, struct fake_response *resp)
{
	const char *m = req->method;
	char err[256];

	if (!strncmp(req->path, "/_fake/tuya/", 12)) {
		fake_tuya_control(srv.tuya, req, resp);
	} else if (!strcmp(req->path, "/_fake/hold") ||
	           !strncmp(req->path, "/_fake/hold/", 12)) {
		control_hold(req, resp);
	} else if (!strcmp(req->path, "/_fake/fault")) {
		struct fault *f;

		if (strcmp(m, "POST")) {
			fake_respond_message(resp, 405, "Method not allowed");
			return;
		}
		f = fault_parse(fake_buf_str(&req->body), req->body.len, err,
		                sizeof(err));
		if (!f) {
			fake_respond_message(resp, 400, err);
			return;
		}
		fault_append(f);
		fake_respond(resp, 200, "application/json", "{\"ok\":true}");
	} else if (!strcmp(req->path, "/_fake/hook")) {
		/* POST comes here only from dispatch(), past holds and faults */
		if (!strcmp(m, "POST"))
			hook_receive(req, resp);
		else if (!strcmp(m, "GET"))
			hook_show(resp);
		else
			fake_respond_message(resp, 405, "Method not allowed");
	} else if (!strcmp(req->path, "/_fake/reset")) {
		if (strcmp(m, "POST")) {
			fake_respond_message(resp, 405, "Method not allowed");
			return;
		}
		fault_free_all(srv.faults);
		srv.faults = NULL;
		hold_release_all();
		hold_free_all(srv.holds);
		srv.holds = NULL;
		hooks_clear();
		fake_respond(resp, 200, "application/json", "{\"ok\":true}");
	} else if (!strcmp(req->path, "/_fake/log")) {
		if (strcmp(m, "GET")) {
			fake_respond_message(resp, 405, "Method not allowed");
			return;
		}
		fake_respond(resp, 200, "text/plain; charset=utf-8",
		             fake_buf_str(&srv.memlog));
	} else {
		fake_respond_message(resp, 404, "Not found");
	}
}

static const char html_page[] =
	"<!DOCTYPE html>\n<html lang=\"pt-BR\">\n<head>\n"
	"<meta charset=\"utf-8\">\n<title>Stays - Login</title>\n</head>\n"
	"<body>\n<form method=\"post\" action=\"/login\">\n"
	"<input name=\"username\" placeholder=\"Login\">\n"
	"<input name=\"password\" type=\"password\" placeholder=\"Senha\">\n"
	"<button type=\"submit\">Entrar</button>\n</form>\n</body>\n</html>\n";

/*
 * Build the answer for req; srv.lock held (released while a hold or a
 * delay waits).  Holds come first: a "before" hold parks req here, and
 * once released it goes on to the faults and the service, which then see
 * the data as it is at that moment.  Returns the id of an "after" hold that
 * caught req, for the caller to park on once the answer is logged, or 0.
 */
static unsigned long dispatch(struct fake_request *req,
                              struct fake_response *resp, const char *target)
{
	enum service svc = classify(req->path);
	const struct fault *hit = NULL;
	struct fault f = { 0 };
	struct hold *h;
	unsigned long late = 0;

	if (req->body_too_large) {
		fake_respond_message(resp, 413, "Payload too large");
		return 0;
	}
	if (svc == SVC_CONTROL && !strcmp(req->path, "/_fake/hook") &&
	    !strcmp(req->method, "POST"))
		svc = SVC_HOOK;         /* a service of its own: faults apply */
	if (svc == SVC_CONTROL) {
		control(req, resp);
		return 0;
	}
	h = hold_check(svc, req->method, target);
	if (h && h->when == HOLD_BEFORE)
		hold_park(h, req->method, target);
	else if (h)
		late = h->id;
	hit = fault_check(svc, req, target);
	if (hit) {
		f = *hit;       /* copy: reset may free it while we sleep */
		f.match = NULL;
		f.next = NULL;
	}
	if (f.delay_ms > 0)
		sleep_locked(f.delay_ms);
	if (f.status) {
		fake_respond_message(resp, f.status, "fault");
		resp->retry_after = f.retry_after;
	} else if (f.has_code) {
		fake_tuya_error(srv.tuya, resp, (long)f.code, fake_tuya_msg((long)f.code));
	} else if (f.body == FB_MALFORMED) {
		fake_respond(resp, 200, "application/json", svc == SVC_STAYS
		             ? "[{\"_id\": \"x\","
		             : svc == SVC_HOOK ? "{\"ok\":"
		             : "{\"success\":true,\"result\":{\"id\":");
	} else if (f.body == FB_HTML) {
		fake_respond(resp, 200, "text/html; charset=utf-8", html_page);
	} else if (f.body == FB_HUGE) {
		fake_stays_huge(req, resp);
	} else {
		/* truncated runs the real handler, side effects included: the
		 * server did the work, only the answer is lost on the way */
		if (svc == SVC_STAYS)
			fake_stays_handle(srv.stays, req, resp);
		else if (svc == SVC_HOOK)
			control(req, resp);
		else
			fake_tuya_handle(srv.tuya, req, resp);
		resp->truncate = f.body == FB_TRUNCATED;
	}
	return late;
}

/* A body cut after half its bytes, under a Content-Length of the whole. */
struct cut_body {
	char *data;
	size_t sent;            /* bytes we send before failing */
};

static ssize_t cut_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct cut_body *c = cls;
	size_t n;

	if (pos >= c->sent)
		return MHD_CONTENT_READER_END_WITH_ERROR;
	n = c->sent - (size_t)pos;
	if (n > max)
		n = max;
	memcpy(buf, c->data + pos, n);
	return (ssize_t)n;
}

static void cut_free(void *cls)
{
	struct cut_body *c = cls;

	free(c->data);
	free(c);
}

static enum MHD_Result queue(struct MHD_Connection *conn,
                             struct fake_response *resp)
{
	struct MHD_Response *r;
	enum MHD_Result ret;
	char num[32];

	if (resp->truncate) {
		struct cut_body *c = fake_xcalloc(1, sizeof(*c));

		c->data = resp->body.buf ? resp->body.buf : fake_xstrdup("");
		c->sent = resp->body.len / 2;
		resp->body.buf = NULL;
		resp->body.len = resp->body.alloc = 0;
		r = MHD_create_response_from_callback(c->sent * 2 + 64, 4096,
		                                      cut_read, c, cut_free);
		if (!r) {
			cut_free(c);
			return MHD_NO;
		}
	} else {
		r = MHD_create_response_from_buffer(resp->body.len,
		                                    (void *)fake_buf_str(&resp->body),
		                                    MHD_RESPMEM_MUST_COPY);
		if (!r)
			return MHD_NO;
	}
	if (resp->content_type)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
		                        resp->content_type);
	if (resp->retry_after >= 0) {
		snprintf(num, sizeof(num), "%ld", resp->retry_after);
		MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, num);
	}
	ret = MHD_queue_response(conn, resp->status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn,
                                  const char *url, const char *method,
                                  const char *version, const char *upload,
                                  size_t *upload_size, void **req_cls)
{
	struct fake_request *req = *req_cls;
	struct fake_response resp = { 0 };
	enum MHD_Result ret;
	unsigned long late;
	struct hold *h;
	char *target;

	(void)cls;
	(void)url;
	(void)version;
	if (!req)
		return MHD_NO;  /* cannot happen: on_uri always runs first */
	if (!req->started) {
		req->started = true;
		req->method = method;
		req->conn = conn;
		return MHD_YES;
	}
	if (*upload_size) {
		size_t room = FAKE_MAX_BODY - req->body.len;

		if (*upload_size > room) {
			req->body_too_large = true;
			fake_buf_add(&req->body, upload, room);
		} else {
			fake_buf_add(&req->body, upload, *upload_size);
		}
		*upload_size = 0;
		return MHD_YES;
	}

	resp.retry_after = -1;
	target = log_target(req);
	pthread_mutex_lock(&srv.lock);
	late = dispatch(req, &resp, target);
	if (resp.status == 0)
		fake_respond_message(&resp, 500, "fake: no answer");
	log_request(req, target, &resp);
	/* a late answer: done and logged, held back from the client (unless
	 * a reset dropped the hold during a delay fault) */
	if (late && (h = hold_find(late)))
		hold_park(h, req->method, target);
	pthread_mutex_unlock(&srv.lock);
	ret = queue(conn, &resp);
	fake_buf_release(&resp.body);
	free(target);
	return ret;
}

/* ---- main ------------------------------------------------------------ */

static void usage(FILE *fp)
{
	fputs(
"usage: fakeapi --port-file FILE [--port N] [--log FILE]\n"
"               [--stays-data FILE] [--stays-user U] [--stays-pass P]\n"
"               [--tuya-data FILE] [--fault JSON]...\n"
"\n"
"Fake Stays + Tuya Cloud API on 127.0.0.1 for tests.  Writes the port to\n"
"FILE (atomically) once listening; runs until SIGTERM or SIGINT.\n"
"\n"
"fault JSON: {\"service\":\"stays\"|\"tuya\"|\"hook\", \"match\":SUBSTR, \"skip\":N,\n"
"  \"after\":K, \"times\":T (-1 forever), \"delay_ms\":D, and one of\n"
"  \"status\":S [\"retry_after\":SEC] | \"body\":\"malformed\"|\"html\"|\n"
"  \"truncated\"|\"huge\" | \"code\":TUYA_CODE}  (skip, huge: stays only;\n"
"  code: tuya only; hook: POST /_fake/hook)\n"
"hold JSON (POST /_fake/hold -> {\"id\":N}): {\"service\":\"stays\"|\"tuya\"|\"hook\",\n"
"  \"match\":SUBSTR, \"method\":\"POST\"..., \"after\":K, \"times\":T (default 1,\n"
"  -1 every later match), \"when\":\"before\" (default: park, then handle with\n"
"  the data as it is when released) | \"after\" (handle, then park the answer)}\n"
"faults and holds match SUBSTR against \"path?query\" as logged (no method)\n"
"control: POST /_fake/fault, POST /_fake/hold, GET /_fake/hold/N,\n"
"  GET /_fake/hold/N/wait[?timeout_ms=M&waiting=K], POST /_fake/hold/N/release,\n"
"  POST /_fake/reset (faults, holds, hook bodies; releases held requests),\n"
"  GET /_fake/log, POST /_fake/hook (keeps the body: a local web hook),\n"
"  GET /_fake/hook (the bodies kept, a JSON array: each as JSON if it parses,\n"
"  else as a string),\n"
"  GET /_fake/tuya/state, POST /_fake/tuya/device, POST /_fake/tuya/password,\n"
"  POST /_fake/tuya/reset, POST /_fake/tuya/expire-tokens,\n"
"  POST /_fake/tuya/expire-tickets, POST /_fake/tuya/clock\n", fp);
}

static int parse_port(const char *s, unsigned int *port)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 0 || v > 65535)
		return -1;
	*port = (unsigned int)v;
	return 0;
}

static int write_port_file(const char *path, unsigned int port)
{
	char tmp[PATH_MAX];
	FILE *fp;
	int n;

	n = snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		fprintf(stderr, "fakeapi: port file name too long '%s'\n", path);
		return -1;
	}
	fp = fopen(tmp, "w");
	if (!fp) {
		fprintf(stderr, "fakeapi: cannot create '%s': %s\n", tmp,
		        strerror(errno));
		return -1;
	}
	fprintf(fp, "%u\n", port);
	if (fflush(fp) == EOF || ferror(fp) || fsync(fileno(fp)) != 0) {
		fprintf(stderr, "fakeapi: cannot write '%s': %s\n", tmp,
		        strerror(errno));
		fclose(fp);
		unlink(tmp);
		return -1;
	}
	if (fclose(fp) == EOF || rename(tmp, path) != 0) {
		fprintf(stderr, "fakeapi: cannot write '%s': %s\n", path,
		        strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

/* libmicrohttpd's own complaints, marked as ours on stderr. */
static void mhd_log(void *cls, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	fputs("fakeapi: libmicrohttpd: ", stderr);
	vfprintf(stderr, fmt, ap);
	if (!*fmt || fmt[strlen(fmt) - 1] != '\n')
		fputc('\n', stderr);
}

static void *cjson_malloc(size_t n)
{
	return fake_xmalloc(n);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "port-file", required_argument, NULL, 'P' },
		{ "port", required_argument, NULL, 'p' },
		{ "log", required_argument, NULL, 'l' },
		{ "stays-data", required_argument, NULL, 's' },
		{ "stays-user", required_argument, NULL, 'u' },
		{ "stays-pass", required_argument, NULL, 'w' },
		{ "tuya-data", required_argument, NULL, 't' },
		{ "fault", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	cJSON_Hooks hooks = { cjson_malloc, free };
	const char *port_file = NULL, *stays_data = NULL, *tuya_data = NULL;
	const char *stays_user = "fake-stays-id";
	const char *stays_pass = "fake-stays-secret";
	unsigned int port = 0;
	struct MHD_Daemon *d = NULL;
	const union MHD_DaemonInfo *di;
	struct sockaddr_in sa;
	pthread_condattr_t ca;
	sigset_t sigs;
	char err[512];
	int c, sig, rc = EX_OK;

	cJSON_InitHooks(&hooks);
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'P': port_file = optarg; break;
		case 'p':
			if (parse_port(optarg, &port) != 0) {
				fprintf(stderr, "fakeapi: bad port '%s'\n", optarg);
				rc = EX_USAGE;
				goto out;
			}
			break;
		case 'l': srv.log_path = optarg; break;
		case 's': stays_data = optarg; break;
		case 'u': stays_user = optarg; break;
		case 'w': stays_pass = optarg; break;
		case 't': tuya_data = optarg; break;
		case 'f': {
			struct fault *f = fault_parse(optarg, strlen(optarg), err,
			                              sizeof(err));

			if (!f) {
				fprintf(stderr, "fakeapi: --fault '%s': %s\n", optarg,
				        err);
				rc = EX_USAGE;
				goto out;
			}
			fault_append(f);
			break;
		}
		case 'h':
			usage(stdout);
			goto out;
		default:
			usage(stderr);
			rc = EX_USAGE;
			goto out;
		}
	}
	if (optind != argc || !port_file) {
		usage(stderr);
		rc = EX_USAGE;
		goto out;
	}
	if (srv.log_path && !(srv.log = fopen(srv.log_path, "a"))) {
		fprintf(stderr, "fakeapi: cannot open log '%s': %s\n",
		        srv.log_path, strerror(errno));
		rc = EX_CANTCREAT;
		goto out;
	}
	srv.stays = fake_stays_new(stays_data, stays_user, stays_pass, err,
	                           sizeof(err));
	if (!srv.stays) {
		fprintf(stderr, "fakeapi: %s\n", err);
		rc = EX_DATAERR;
		goto out;
	}
	srv.tuya = fake_tuya_new(tuya_data, err, sizeof(err));
	if (!srv.tuya) {
		fprintf(stderr, "fakeapi: %s\n", err);
		rc = EX_DATAERR;
		goto out;
	}

	if (pthread_condattr_init(&ca) != 0 ||
	    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) != 0 ||
	    pthread_cond_init(&srv.wake, &ca) != 0)
		fake_die("cannot create condition variable");
	pthread_condattr_destroy(&ca);

	/* Block the stop signals before MHD makes its threads, so they all
	 * inherit the mask and only sigwait() below sees the signal. */
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD |
	                     MHD_USE_THREAD_PER_CONNECTION | MHD_USE_AUTO |
	                     MHD_USE_ERROR_LOG,
	                     (uint16_t)port, NULL, NULL, on_request, NULL,
	                     MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
	                     MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
	                     MHD_OPTION_URI_LOG_CALLBACK, on_uri, NULL,
	                     MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
	                     MHD_OPTION_NOTIFY_CONNECTION, on_connection, NULL,
	                     MHD_OPTION_END);
	if (!d) {
		fprintf(stderr, "fakeapi: cannot listen on 127.0.0.1:%u\n", port);
		rc = EX_UNAVAILABLE;
		goto out_cond;
	}
	di = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	if (!di || di->port == 0) {
		fprintf(stderr, "fakeapi: cannot learn the listening port\n");
		rc = EX_OSERR;
		goto out_daemon;
	}
	if (write_port_file(port_file, di->port) != 0) {
		rc = EX_CANTCREAT;
		goto out_daemon;
	}

	while (sigwait(&sigs, &sig) != 0)
		;

out_daemon:
	pthread_mutex_lock(&srv.lock);
	srv.stopping = true;
	hold_release_all();
	pthread_cond_broadcast(&srv.wake);
	pthread_mutex_unlock(&srv.lock);
	MHD_stop_daemon(d);
out_cond:
	pthread_cond_destroy(&srv.wake);
out:
	fault_free_all(srv.faults);
	hold_free_all(srv.holds);
	fake_stays_free(srv.stays);
	fake_tuya_free(srv.tuya);
	hooks_clear();
	fake_buf_release(&srv.memlog);
	if (srv.log && fclose(srv.log) == EOF) {
		fprintf(stderr, "fakeapi: cannot write log '%s': %s\n",
		        srv.log_path, strerror(errno));
		if (rc == EX_OK)
			rc = EX_IOERR;
	}
	return rc;
}
