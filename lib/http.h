/*
 * http.h - one libcurl easy handle, reused for every request of a run so that
 * a whole reconciliation uses one TCP (and TLS) connection.
 *
 * This module moves bytes: it does not retry, sleep or interpret status
 * codes (callers do, because Stays and Tuya have different rules).  Bodies
 * are capped at opts.max_body bytes.  TLS peers are always verified.
 * Credentials passed in opts are never included in error messages.
 * curl_global_init() is done by the first http_new(), only when a run
 * sends a request (an idle run never loads OpenSSL's state).
 */
#ifndef STAYS_HTTP_H
#define STAYS_HTTP_H

#include <stddef.h>

#include "err.h"
#include "util.h"

struct http_opts {
	long timeout;           /* seconds for a whole request; 0 = 30 */
	const char *ca_file;    /* CA bundle; NULL = system default; copied */
	size_t max_body;        /* response size cap in bytes; 0 = 4 MiB */
	const char *basic_user; /* HTTP Basic credentials, or NULL; copied */
	const char *basic_pass;
	const char *user_agent; /* NULL = "stays-reconcile/VERSION" */
};

struct http_response {
	long status;            /* HTTP status code */
	struct strbuf body;     /* owned; release with http_response_release */
	long retry_after;       /* Retry-After in seconds, -1 when absent */
	char content_type[64];  /* "" when absent */
};
#define HTTP_RESPONSE_INIT { 0, STRBUF_INIT, -1, "" }

struct http;

/* A new handle; NULL only if libcurl cannot create one. Free with http_free. */
struct http *http_new(const struct http_opts *opts);
void http_free(struct http *h);

/*
 * Send one request.  method is "GET", "POST", "PUT" or "DELETE"; headers is
 * a NULL-terminated array of "Name: value" strings (may be NULL); body may
 * be NULL (no body).  On ERR_OK, resp holds the status and body of whatever
 * the server answered (any status).  Errors: ERR_UNAVAILABLE for transport
 * failures (DNS, connect, TLS, timeout, reset), ERR_PROTOCOL when the body is
 * larger than max_body.  resp is reset first; the caller releases it.
 */
enum err http_request(struct http *h, const char *method, const char *url,
		      const char *const *headers, const char *body,
		      size_t body_len, struct http_response *resp, char *errbuf);

void http_response_release(struct http_response *resp);

/* Connections opened by this handle so far (for tests and the benchmark). */
long http_connections(const struct http *h);

/* Requests sent by this handle so far. */
long http_requests(const struct http *h);

#endif
