/*
 * http.h - one libcurl easy handle, reused for every request of a run so that
 * a whole reconciliation uses one TCP (and TLS) connection.
 *
 * This module moves bytes: it does not retry, sleep or interpret status
 * codes (callers do, because Stays and Tuya have different rules).  Bodies
 * are capped at opts.max_body bytes.  TLS peers are always verified.
 * Credentials passed in opts are never included in error messages.
 * libcurl is loaded (dlopen, netlib.h) and curl_global_init() done by the
 * first http_new(), only when a run sends a request: an idle run never
 * maps libcurl or OpenSSL.
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

/*
 * A new handle (opts borrowed; what it needs is copied).  Free with
 * http_free.  NULL when libcurl cannot be loaded (missing or incomplete:
 * the message names the library and the package to install) or cannot
 * create a handle; the message is then in errbuf (may be NULL), and the
 * error is ERR_INTERNAL (exit 70).
 */
struct http *http_new(const struct http_opts *opts, char *errbuf);
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
