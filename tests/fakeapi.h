/*
 * fakeapi.h - the pieces shared by the three files of tests/fakeapi, the fake
 * Stays + Tuya server that the end-to-end tests and the demo run against.
 *
 * fakeapi.c owns the HTTP daemon, the request log, fault injection, holds
 * and the control endpoints; fakeapi_stays.c and fakeapi_tuya.c each answer
 * one service.  Invariants every file keeps:
 *
 *  - All service state is touched only with the global lock held: the
 *    daemon runs one thread per connection and fakeapi.c calls the
 *    fake_stays_* and fake_tuya_* functions under its mutex, so those
 *    modules need no locking of their own.  They never wait: a request
 *    parked by a hold or a delay waits in fakeapi.c, before or after its
 *    handler runs, never inside it.
 *  - A request handler never fails: it always fills a fake_response (an
 *    error answer is still an answer).  Allocation failure aborts the
 *    process through the fake_x* wrappers; nothing returns NULL.
 *  - Secrets (Basic credentials, Tuya secret, tokens) never reach stderr or
 *    the request log.
 */
#ifndef FAKEAPI_H
#define FAKEAPI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <microhttpd.h>

/* Request bodies above this many bytes are refused with HTTP 413. */
#define FAKE_MAX_BODY (64 * 1024)

/*
 * Allocation.  None of these returns NULL: on failure they print one line to
 * stderr and abort().  fake_xmemdup0 copies n bytes and adds a NUL.
 */
void *fake_xmalloc(size_t n);
void *fake_xcalloc(size_t nmemb, size_t size);
void *fake_xrealloc(void *p, size_t n);
char *fake_xstrdup(const char *s);
char *fake_xmemdup0(const void *p, size_t n);

/* Print "fakeapi: <message>" to stderr and abort(); for broken invariants. */
void fake_die(const char *fmt, ...)
	__attribute__((noreturn, format(printf, 1, 2)));

/*
 * A growable byte buffer, always NUL-terminated once anything was added.
 * Initialise with FAKE_BUF_INIT; buf is owned by the struct.
 */
struct fake_buf {
	char *buf;
	size_t len;
	size_t alloc;
};
#define FAKE_BUF_INIT { NULL, 0, 0 }

void fake_buf_add(struct fake_buf *b, const void *data, size_t len);
void fake_buf_adds(struct fake_buf *b, const char *s);
void fake_buf_addf(struct fake_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Always a valid C string ("" when empty); borrowed from b. */
const char *fake_buf_str(const struct fake_buf *b);
void fake_buf_reset(struct fake_buf *b);
void fake_buf_release(struct fake_buf *b);

/* One query parameter, percent-decoded ('+' is a space), in wire order. */
struct fake_param {
	char *key;              /* owned, NUL-terminated */
	size_t key_len;         /* may differ from strlen() if %00 was sent */
	char *value;            /* owned, NUL-terminated; "" for "k" or "k=" */
	size_t value_len;
};

/*
 * One HTTP request as the services see it.  Everything is owned by
 * fakeapi.c and lives until the request completes.
 */
struct fake_request {
	unsigned long conn_id;          /* per TCP connection, from 1 */
	const char *method;             /* borrowed from libmicrohttpd */
	struct MHD_Connection *conn;    /* borrowed; for header lookups */
	char *path;                     /* raw request path, not decoded */
	char *query;                    /* raw query after '?', NULL if none */
	struct fake_param *params;      /* decoded query, wire order */
	size_t nparams;
	struct fake_buf body;           /* exact body bytes received */
	bool body_too_large;            /* body was cut at FAKE_MAX_BODY */
	bool started;                   /* access handler has seen it */
};

/* Value of header name (case-insensitive), or NULL; borrowed. */
const char *fake_header(const struct fake_request *req, const char *name);
/* First query parameter named key (exact bytes), or NULL; borrowed. */
const struct fake_param *fake_param(const struct fake_request *req,
                                    const char *key);

/* The answer a handler builds; fakeapi.c turns it into an MHD response. */
struct fake_response {
	unsigned int status;            /* HTTP status, 0 = not yet set */
	const char *content_type;       /* static string */
	struct fake_buf body;
	long retry_after;               /* seconds, -1 = no Retry-After */
	bool truncate;                  /* send a cut body, then close */
	bool has_code;                  /* Tuya error code, for the log */
	long code;
};

/* Replace resp's body with body (copied) and set status and type. */
void fake_respond(struct fake_response *resp, unsigned int status,
                  const char *content_type, const char *body);
/* Print root compactly as the body (application/json); frees root. */
void fake_respond_json(struct fake_response *resp, unsigned int status,
                       struct cJSON *root);
/* {"message": msg} with status, the Stays and control error shape. */
void fake_respond_message(struct fake_response *resp, unsigned int status,
                          const char *msg);

/* Wall clock in milliseconds since the epoch. */
int64_t fake_now_ms(void);
/* The value of a hex digit (either case), or -1. */
int fake_hexval(char c);

/* n random characters from [0-9A-Za-z] (alnum) or [0-9a-f] (hex), plus NUL. */
void fake_random_alnum(char *out, size_t n);
void fake_random_hex(char *out, size_t n);

/*
 * Civil dates as days since 1970-01-01.  fake_parse_date accepts exactly
 * "YYYY-MM-DD" naming a real calendar day (len bytes, no NUL needed);
 * returns true and sets *days on success.  fake_format_date writes
 * "YYYY-MM-DD" and a NUL into out[11].
 */
bool fake_parse_date(const char *s, size_t len, long *days);
void fake_format_date(long days, char out[11]);

/*
 * Parse text[0..len) (text[len] must be NUL) as exactly one JSON value with
 * nothing but whitespace around it.  Returns the root (caller frees with
 * cJSON_Delete) or NULL; *errpos (may be NULL) gets the byte offset of the
 * error.
 */
struct cJSON *fake_json_parse(const char *text, size_t len, size_t *errpos);

/*
 * Parse a JSON number that must be an integer in [min, max].  Returns true
 * and sets *out; false for anything else (non-number, fraction, range).
 */
bool fake_json_int(const struct cJSON *item, int64_t min, int64_t max,
                   int64_t *out);

/* ---- Stays (fakeapi_stays.c) ---------------------------------------- */

struct fake_stays;

/*
 * Create the Stays side.  data_path may be NULL (no data: every list is
 * empty); otherwise the file is loaded now and re-read whenever its size
 * or mtime changes.  user/pass are the accepted Basic credentials (copied).
 * Returns NULL and writes err on a missing or malformed data file.
 */
struct fake_stays *fake_stays_new(const char *data_path, const char *user,
                                  const char *pass, char *err, size_t errlen);
void fake_stays_free(struct fake_stays *st);
/* Answer one request whose path is not a Tuya or control path. */
void fake_stays_handle(struct fake_stays *st, const struct fake_request *req,
                       struct fake_response *resp);
/* The "huge" fault: 200 with 10000 valid-looking reservations. */
void fake_stays_huge(const struct fake_request *req,
                     struct fake_response *resp);

/* ---- Tuya (fakeapi_tuya.c) ------------------------------------------ */

struct fake_tuya;

/*
 * Create the Tuya side from data_path (NULL = all defaults, no devices).
 * Returns NULL and writes err on a malformed file.
 */
struct fake_tuya *fake_tuya_new(const char *data_path, char *err,
                                size_t errlen);
void fake_tuya_free(struct fake_tuya *tu);
/* Answer one request for a /v1.x or /v2.x path. */
void fake_tuya_handle(struct fake_tuya *tu, const struct fake_request *req,
                      struct fake_response *resp);
/* A Tuya error envelope (HTTP 200, success false) with code and msg. */
void fake_tuya_error(struct fake_tuya *tu, struct fake_response *resp,
                     long code, const char *msg);
/* The canonical msg for a Tuya error code ("unknown error" if none). */
const char *fake_tuya_msg(long code);
/* Answer a /_fake/tuya/... control request (no authentication). */
void fake_tuya_control(struct fake_tuya *tu, const struct fake_request *req,
                       struct fake_response *resp);

#endif
