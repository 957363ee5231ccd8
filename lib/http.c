/*
 * http.c - the libcurl edge of the program.
 *
 * Invariant: one easy handle per struct http, reused, so libcurl keeps the
 * connection alive between requests of a run.  The body callback refuses to
 * grow past max_body, which bounds memory whatever a server sends.
 * libcurl is not linked: the first http_new() loads it (netlib.h), and
 * every libcurl call goes through that table, cu, which is set whenever a
 * struct http exists.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "http.h"
#include "netlib.h"
#include "banned.h"

#define DEFAULT_MAX_BODY (4u << 20)

struct http {
	CURL *curl;
	long timeout;
	size_t max_body;
	char *ca_file;
	char *user;
	char *pass;
	char *user_agent;
	long connections;
	long requests;
	int overflow;
	struct http_response *cur;
	char curl_err[CURL_ERROR_SIZE];
};

/* libcurl, once loaded (NULL before the first successful http_new). */
static const struct netlib_curl *cu;

/*
 * libcurl itself (dlopen) and its global state (OpenSSL's start-up) come
 * with the first handle, not in main: a run that sends nothing - an idle
 * pin-runner every minute, status, jobs - never loads either.
 * Single-threaded programs, so a static pointer is enough; the global
 * state is released at exit, the library stays mapped.
 */
static enum err global_init(char *errbuf)
{
	const struct netlib_curl *t;

	if (cu)
		return ERR_OK;
	if (!(t = netlib_curl(errbuf)))
		return ERR_INTERNAL;
	if (t->global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return ERRF(errbuf, ERR_INTERNAL, "cannot initialise libcurl");
	atexit(t->global_cleanup);
	cu = t;
	return ERR_OK;
}

struct http *http_new(const struct http_opts *opts, char *errbuf)
{
	struct http *h;

	if (global_init(errbuf) != ERR_OK)
		return NULL;
	h = xcalloc(1, sizeof(*h));
	h->curl = cu->easy_init();
	if (!h->curl) {
		free(h);
		ERRF(errbuf, ERR_INTERNAL, "cannot initialise libcurl");
		return NULL;
	}
	h->timeout = opts->timeout > 0 ? opts->timeout : 30;
	h->max_body = opts->max_body ? opts->max_body : DEFAULT_MAX_BODY;
	h->ca_file = opts->ca_file && *opts->ca_file ? xstrdup(opts->ca_file) : NULL;
	h->user = opts->basic_user ? xstrdup(opts->basic_user) : NULL;
	h->pass = opts->basic_pass ? xstrdup(opts->basic_pass) : NULL;
	h->user_agent = xstrdup(opts->user_agent ? opts->user_agent
				: "stays-reconcile/" VERSION);
	return h;
}

static void wipe_free(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

void http_free(struct http *h)
{
	if (!h)
		return;
	cu->easy_cleanup(h->curl);
	free(h->ca_file);
	wipe_free(h->user);
	wipe_free(h->pass);
	free(h->user_agent);
	free(h);
}

void http_response_release(struct http_response *resp)
{
	strbuf_release(&resp->body);
	resp->status = 0;
	resp->retry_after = -1;
	resp->content_type[0] = '\0';
}

long http_connections(const struct http *h)
{
	return h->connections;
}

long http_requests(const struct http *h)
{
	return h->requests;
}

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct http *h = userdata;
	size_t n = size * nmemb;

	if (h->cur->body.len + n > h->max_body) {
		h->overflow = 1;
		return 0;	/* makes curl fail with CURLE_WRITE_ERROR */
	}
	strbuf_add(&h->cur->body, ptr, n);
	return n;
}

/* Parse "Retry-After: 120" (delta seconds); an HTTP-date counts as 60 s. */
static size_t on_header(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct http *h = userdata;
	size_t n = size * nmemb;
	static const char ra[] = "retry-after:";
	static const char ct[] = "content-type:";

	if (n > sizeof(ra) - 1 && strncasecmp(ptr, ra, sizeof(ra) - 1) == 0) {
		const char *p = ptr + sizeof(ra) - 1;
		const char *end = ptr + n;
		long v = 0;
		int digits = 0;

		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		while (p < end && isdigit((unsigned char)*p) && v < 1000000) {
			v = v * 10 + (*p++ - '0');
			digits++;
		}
		h->cur->retry_after = digits ? v : 60;
	} else if (n > sizeof(ct) - 1 &&
		   strncasecmp(ptr, ct, sizeof(ct) - 1) == 0) {
		const char *p = ptr + sizeof(ct) - 1;
		size_t len;

		while (*p == ' ' || *p == '\t')
			p++;
		len = (size_t)(ptr + n - p);
		while (len && (p[len - 1] == '\r' || p[len - 1] == '\n'))
			len--;
		if (len >= sizeof(h->cur->content_type))
			len = sizeof(h->cur->content_type) - 1;
		memcpy(h->cur->content_type, p, len);
		h->cur->content_type[len] = '\0';
	}
	return n;
}

/* The URL without its query string, for messages. */
static void url_for_message(const char *url, char *out, size_t size)
{
	size_t n = strcspn(url, "?");

	if (n >= size)
		n = size - 1;
	memcpy(out, url, n);
	out[n] = '\0';
}

/* The curl list of headers, plus "Expect:" when there is a body.  *out is
 * the caller's (curl_slist_free_all), also on error. */
static enum err header_list(const char *const *headers, const char *body,
			    struct curl_slist **out, char *errbuf)
{
	for (const char *const *p = headers; p && *p; p++) {
		struct curl_slist *nl = cu->slist_append(*out, *p);

		if (!nl)
			return ERRF(errbuf, ERR_INTERNAL, "out of memory");
		*out = nl;
	}
	if (body) {
		/* An explicit header list entry suppresses curl's default. */
		struct curl_slist *nl = cu->slist_append(*out, "Expect:");

		if (!nl)
			return ERRF(errbuf, ERR_INTERNAL, "out of memory");
		*out = nl;
	}
	return ERR_OK;
}

/* Reset the easy handle and set every option of one request: the
 * handle's policy (timeouts, TLS checks, http/https only, no redirects,
 * callbacks, credentials), then the method, headers and body. */
static void set_options(struct http *h, const char *method, const char *url,
			struct curl_slist *hl, const char *body, size_t body_len)
{
	CURL *c = h->curl;

	cu->easy_reset(c);
	cu->setopt(c, CURLOPT_URL, url);
	cu->setopt(c, CURLOPT_NOSIGNAL, 1L);
	cu->setopt(c, CURLOPT_TIMEOUT, h->timeout);
	cu->setopt(c, CURLOPT_CONNECTTIMEOUT, h->timeout < 10 ? h->timeout : 10L);
	cu->setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	cu->setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	cu->setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	cu->setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	cu->setopt(c, CURLOPT_USERAGENT, h->user_agent);
	cu->setopt(c, CURLOPT_ERRORBUFFER, h->curl_err);
	cu->setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	cu->setopt(c, CURLOPT_WRITEDATA, h);
	cu->setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	cu->setopt(c, CURLOPT_HEADERDATA, h);
	cu->setopt(c, CURLOPT_ACCEPT_ENCODING, "");
	if (h->ca_file)
		cu->setopt(c, CURLOPT_CAINFO, h->ca_file);
	if (h->user) {
		cu->setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		cu->setopt(c, CURLOPT_USERNAME, h->user);
		cu->setopt(c, CURLOPT_PASSWORD, h->pass ? h->pass : "");
	}
	if (hl)
		cu->setopt(c, CURLOPT_HTTPHEADER, hl);
	if (strcmp(method, "GET") == 0) {
		cu->setopt(c, CURLOPT_HTTPGET, 1L);
	} else {
		cu->setopt(c, CURLOPT_CUSTOMREQUEST, method);
		if (body) {
			cu->setopt(c, CURLOPT_POSTFIELDS, body);
			cu->setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
		}
	}
}

enum err http_request(struct http *h, const char *method, const char *url,
		      const char *const *headers, const char *body,
		      size_t body_len, struct http_response *resp, char *errbuf)
{
	struct curl_slist *hl = NULL;
	CURLcode rc;
	long nconn = 0;
	char where[256];
	enum err e;

	http_response_release(resp);
	h->cur = resp;
	h->overflow = 0;
	h->curl_err[0] = '\0';
	url_for_message(url, where, sizeof(where));

	e = header_list(headers, body, &hl, errbuf);
	if (e)
		goto out;
	set_options(h, method, url, hl, body, body_len);

	h->requests++;
	rc = cu->perform(h->curl);
	if (cu->getinfo(h->curl, CURLINFO_NUM_CONNECTS, &nconn) == CURLE_OK)
		h->connections += nconn;
	if (h->overflow) {
		e = ERRF(errbuf, ERR_PROTOCOL,
			 "response from '%s' is larger than %zu bytes", where,
			 h->max_body);
		goto out;
	}
	if (rc != CURLE_OK) {
		e = ERRF(errbuf, ERR_UNAVAILABLE, "cannot reach '%s': %s", where,
			 h->curl_err[0] ? h->curl_err : cu->easy_strerror(rc));
		goto out;
	}
	cu->getinfo(h->curl, CURLINFO_RESPONSE_CODE, &resp->status);
out:
	cu->slist_free_all(hl);
	h->cur = NULL;
	return e;
}
