/*
 * tuya.c - the Tuya Cloud client (tuya-api.md): the token policy, signed
 * requests over a borrowed struct http, and the ticket and temporary
 * password calls.  Signing and crypto are tuya_sign.c's, the reading of
 * answers tuya_parse.c's; this file decides what to send, when, and what
 * an answer means for the caller (struct tuya_status).
 *
 * Secrets (client secret, tokens, signatures, ticket keys, PINs and the
 * bodies that carry an encrypted PIN) are never formatted into a message,
 * and the buffers that held them are wiped before they are freed or go out
 * of scope.  A failure msg that echoes the token or the secret is withheld.
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ids.h"
#include "netlib.h"
#include "tuya.h"
#include "tuya_parse.h"
#include "tuya_sign.h"
#include "banned.h"

struct tuya_client {
	char *base_url;          /* without a trailing '/' */
	char *client_id;
	char *secret;            /* wiped on free */
	struct http *http;       /* borrowed */
	long long now_ms;
	struct tuya_token token; /* wiped on free */
	int token_requests;      /* sent by this client */
	long requests;           /* every request sent by this client */
	long errors;             /* of those, the ones that failed (not 'gone') */
	int token_fetched;       /* a new token was obtained */
	int token_retry_used;    /* the one re-fetch after a token error */
	enum err token_err;      /* how the last token request failed */
	struct tuya_status token_st;
	char token_msg[ERRBUF_SIZE];
	void (*step)(void *ctx, const char *what);  /* test crash points */
	void *step_ctx;
};

void tuya_client_set_step(struct tuya_client *c, void (*fn)(void *ctx, const char *what),
			  void *ctx)
{
	c->step = fn;
	c->step_ctx = ctx;
}

/* ------------------------------------------------------------------------
 * Classification
 */

enum tuya_class tuya_classify(long long code)
{
	switch (code) {
	case 0:
		return TUYA_OK;
	case 500:      /* system error */
	case 1013:     /* request time invalid: a skewed clock gets fixed */
	case 1110:     /* concurrent request over limit */
	case 1111:     /* system busy */
	case 1199:     /* requests too frequent */
	case 2001:     /* device offline */
	case 2328:     /* operation in progress (lock busy) */
		return TUYA_RETRY;
	case 1010:     /* token expired */
	case 1011:     /* token invalid */
	case 1012:     /* token status invalid */
		return TUYA_TOKEN;
	case 1001:     /* secret invalid */
	case 1004:     /* sign invalid */
	case 1005:     /* clientId invalid */
	case 1106:     /* permission deny: device not linked */
	case 28841105: /* project not subscribed to the lock API */
		return TUYA_AUTH;
	case 1109:     /* param is illegal: PIN encryption or length */
		return TUYA_PIN_REJECTED;
	case 1000:     /* data not exist */
		return TUYA_GONE;
	default:
		return TUYA_PERMANENT;
	}
}

enum tuya_class tuya_classify_http(long status)
{
	if (status >= 200 && status <= 299)
		return TUYA_OK;
	if (status >= 500 && status <= 599)
		return TUYA_RETRY;
	if (status == 429)
		return TUYA_RETRY;
	if (status == 401 || status == 403)
		return TUYA_AUTH;
	return TUYA_PERMANENT;
}

const char *tuya_class_name(enum tuya_class cls)
{
	switch (cls) {
	case TUYA_OK:           return "ok";
	case TUYA_RETRY:        return "retry";
	case TUYA_TOKEN:        return "token";
	case TUYA_AUTH:         return "auth";
	case TUYA_PIN_REJECTED: return "pin-rejected";
	case TUYA_GONE:         return "gone";
	case TUYA_PERMANENT:    return "permanent";
	}
	return "unknown";
}

/* The enum err for a failure of class cls reported in a Tuya envelope. */
static enum err class_err(enum tuya_class cls)
{
	switch (cls) {
	case TUYA_OK:           return ERR_OK;
	case TUYA_RETRY:        return ERR_UNAVAILABLE;
	case TUYA_TOKEN:        return ERR_UNAVAILABLE;
	case TUYA_AUTH:         return ERR_PERM;
	case TUYA_PIN_REJECTED: return ERR_DATA;
	case TUYA_GONE:         return ERR_DATA;
	case TUYA_PERMANENT:    return ERR_DATA;
	}
	return ERR_INTERNAL;
}

static void status_reset(struct tuya_status *st)
{
	st->cls = TUYA_OK;
	st->code = 0;
	st->http_status = 0;
	st->retry_after = -1;
}

/* ------------------------------------------------------------------------
 * The client
 */

enum err tuya_client_new(struct tuya_client **out, const char *base_url,
			 const char *client_id, const char *secret,
			 struct http *http, long long now_ms, char *errbuf)
{
	struct tuya_client *c;
	size_t n;

	*out = NULL;
	assert(http);
	if (!base_url || (strncmp(base_url, "https://", 8) != 0 &&
			  strncmp(base_url, "http://", 7) != 0) ||
	    !tuya_printable(base_url, 1024, 0))
		return ERRF(errbuf, ERR_CONFIG,
			    "tuya url must start with https:// or http://");
	if (!client_id || !tuya_printable(client_id, 256, 0))
		return ERRF(errbuf, ERR_CONFIG,
			    "tuya client_id must be 1-255 printable characters without spaces");
	if (!secret || !tuya_printable(secret, 256, 0))
		return ERRF(errbuf, ERR_CONFIG,
			    "tuya client_secret must be 1-255 printable characters without spaces");
	/* libcrypto now, before the caller does anything it would have to
	 * undo: every request is signed with it (tuya_sign.c). */
	if (!netlib_crypto(errbuf))
		return ERR_INTERNAL;
	c = xcalloc(1, sizeof(*c));
	n = strlen(base_url);
	while (n > 0 && base_url[n - 1] == '/')
		n--;
	c->base_url = xstrndup(base_url, n);
	c->client_id = xstrdup(client_id);
	c->secret = xstrdup(secret);
	c->http = http;
	c->now_ms = now_ms;
	*out = c;
	return ERR_OK;
}

void tuya_client_free(struct tuya_client *c)
{
	if (!c)
		return;
	free(c->base_url);
	free(c->client_id);
	explicit_bzero(c->secret, strlen(c->secret));
	free(c->secret);
	explicit_bzero(&c->token, sizeof(c->token));
	free(c);
}

void tuya_client_set_now(struct tuya_client *c, long long now_ms)
{
	c->now_ms = now_ms;
}

void tuya_client_set_token(struct tuya_client *c, const struct tuya_token *tok)
{
	explicit_bzero(&c->token, sizeof(c->token));
	if (!tok)
		return;
	/* Both strings must be terminated within their arrays, and a token
	 * that is not printable (it goes into a header) is no token. */
	if (memchr(tok->access, '\0', sizeof(tok->access)) &&
	    memchr(tok->refresh, '\0', sizeof(tok->refresh)) &&
	    tuya_printable(tok->access, sizeof(tok->access), 0))
		c->token = *tok;
	else
		explicit_bzero(&c->token, sizeof(c->token));
}

const struct tuya_token *tuya_client_token(const struct tuya_client *c)
{
	return &c->token;
}

int tuya_client_token_fetched(const struct tuya_client *c)
{
	return c->token_fetched;
}

int tuya_client_token_requests(const struct tuya_client *c)
{
	return c->token_requests;
}

long tuya_client_requests(const struct tuya_client *c)
{
	return c->requests;
}

long tuya_client_errors(const struct tuya_client *c)
{
	return c->errors;
}

/* "tuya device 'X'" or "tuya", the subject of every message. */
static void subject(const char *device, char *out, size_t size)
{
	if (device)
		snprintf(out, size, "tuya device '%s'", device);
	else
		snprintf(out, size, "tuya");
}

/* The header lines of one signed request; the strbufs own the text that
 * v points into. */
struct req_headers {
	struct strbuf client, sign, t, token;
	const char *v[8];       /* NULL-terminated, for http_request() */
};
#define REQ_HEADERS_INIT { STRBUF_INIT, STRBUF_INIT, STRBUF_INIT, STRBUF_INIT, { NULL } }

/* Wipe the sign and the token and release h. */
static void req_headers_release(struct req_headers *h)
{
	strbuf_release(&h->client);
	tuya_strbuf_wipe(&h->sign);
	strbuf_release(&h->t);
	tuya_strbuf_wipe(&h->token);
}

/*
 * Sign the request (tuya-api.md §2) and fill h with its headers: client_id,
 * sign, t, sign_method, the access_token unless token is NULL (a token
 * call), and Content-Type when there is a body.  Returns ERR_OK, or the
 * error of tuya_string_to_sign() or tuya_sign() (no message).
 */
static enum err sign_headers(const struct tuya_client *c, const char *method,
			     const char *path, const char *body, size_t body_len,
			     const char *token, struct req_headers *h)
{
	struct strbuf sts = STRBUF_INIT;
	char sign[TUYA_SIGN_LEN + 1];
	size_t nh = 0;
	enum err e;

	e = tuya_string_to_sign(method, path, body, body_len, NULL, &sts);
	if (!e)
		e = tuya_sign(c->client_id, c->secret, token ? token : "",
			      c->now_ms, NULL, strbuf_str(&sts), sign);
	if (e)
		goto out;
	strbuf_addf(&h->client, "client_id: %s", c->client_id);
	strbuf_addf(&h->sign, "sign: %s", sign);
	strbuf_addf(&h->t, "t: %lld", c->now_ms);
	h->v[nh++] = strbuf_str(&h->client);
	h->v[nh++] = strbuf_str(&h->sign);
	h->v[nh++] = strbuf_str(&h->t);
	h->v[nh++] = "sign_method: HMAC-SHA256";
	if (token) {
		strbuf_addf(&h->token, "access_token: %s", token);
		h->v[nh++] = strbuf_str(&h->token);
	}
	if (body)
		h->v[nh++] = "Content-Type: application/json";
	h->v[nh] = NULL;
out:
	explicit_bzero(sign, sizeof(sign));
	tuya_strbuf_wipe(&sts);
	return e;
}

/*
 * What an answer that arrived means: its HTTP status, then its envelope.
 * On ERR_OK env holds a successful envelope; otherwise st says why and
 * errbuf has "<who>: cannot <what>: ...".  token: the access token the
 * request carried ("" for a token call), withheld from a msg that echoes it.
 */
static enum err read_answer(const struct tuya_client *c, const char *who,
			    const char *what, const char *token,
			    const struct http_response *resp,
			    struct tuya_envelope *env, struct tuya_status *st,
			    char *errbuf)
{
	char perr[ERRBUF_SIZE];
	enum err e;

	st->http_status = resp->status;
	st->retry_after = resp->retry_after;
	st->cls = tuya_classify_http(resp->status);
	if (st->cls != TUYA_OK) {
		e = st->cls == TUYA_RETRY ? ERR_UNAVAILABLE :
		    st->cls == TUYA_AUTH ? ERR_PERM : ERR_PROTOCOL;
		return ERRF(errbuf, e, "%s: cannot %s: HTTP status %ld", who, what,
			    resp->status);
	}
	e = tuya_parse_envelope(resp->body.buf, resp->body.len, env, perr);
	if (e) {
		st->cls = TUYA_PERMANENT;
		return ERRF(errbuf, e, "%s: cannot %s: malformed response: %s",
			    who, what, perr);
	}
	if (!env->success) {
		/* Never quote a msg that echoes one of our secrets back. */
		if ((token[0] && strstr(env->msg, token)) ||
		    strstr(env->msg, c->secret))
			xstrlcpy(env->msg, "(message withheld)", sizeof(env->msg));
		st->code = env->code;
		st->cls = tuya_classify(env->code);
		return ERRF(errbuf, class_err(st->cls),
			    "%s: cannot %s: tuya code %lld: %s", who, what,
			    env->code, env->msg[0] ? env->msg : "(no message)");
	}
	return ERR_OK;
}

/*
 * Sign and send one request and parse its envelope.  On ERR_OK env holds a
 * successful envelope.  A failure envelope, a bad HTTP status or a transport
 * error becomes an error with st filled.  token_call: sign without the access
 * token and send no access_token header.
 */
static enum err send_request(struct tuya_client *c, const char *what,
			     const char *device, const char *method,
			     const char *path, const char *body, size_t body_len,
			     int token_call, struct tuya_envelope *env,
			     struct tuya_status *st, char *errbuf)
{
	struct http_response resp = HTTP_RESPONSE_INIT;
	struct req_headers h = REQ_HEADERS_INIT;
	struct strbuf url = STRBUF_INIT;
	const char *token = token_call ? "" : c->token.access;
	char who[TUYA_DEVICE_MAX + 16];
	char herr[ERRBUF_SIZE];
	enum err e;

	status_reset(st);
	subject(device, who, sizeof(who));
	tuya_envelope_release(env);

	e = sign_headers(c, method, path, body, body_len,
			 token_call ? NULL : token, &h);
	if (e) {
		st->cls = TUYA_PERMANENT;
		e = ERRF(errbuf, e, "%s: cannot %s: cannot sign the request",
			 who, what);
		goto out;
	}
	strbuf_addf(&url, "%s%s", c->base_url, path);
	c->requests++;
	e = http_request(c->http, method, strbuf_str(&url), h.v, body,
			 body_len, &resp, herr);
	if (e) {
		st->cls = e == ERR_UNAVAILABLE ? TUYA_RETRY : TUYA_PERMANENT;
		e = ERRF(errbuf, e, "%s: cannot %s: %s", who, what, herr);
		c->errors++;
		goto out;
	}
	e = read_answer(c, who, what, token, &resp, env, st, errbuf);
	if (e && st->cls != TUYA_GONE)
		c->errors++;
out:
	if (e)
		tuya_envelope_release(env);
	req_headers_release(&h);
	strbuf_release(&url);
	http_response_release(&resp);
	return e;
}

/* GET /v1.0/token?grant_type=1 and keep the answer.  Counts toward the
 * budget whether or not it succeeds. */
static enum err fetch_token(struct tuya_client *c, struct tuya_status *st,
			    char *errbuf)
{
	struct tuya_envelope env = TUYA_ENVELOPE_INIT;
	struct tuya_token tok;
	char perr[ERRBUF_SIZE];
	enum err e;

	c->token_requests++;
	e = send_request(c, "get an access token", NULL, "GET",
			 "/v1.0/token?grant_type=1", NULL, 0, 1, &env, st,
			 errbuf);
	if (e)
		goto out;
	e = tuya_parse_token(env.result, c->now_ms, &tok, perr);
	if (e) {
		st->cls = TUYA_PERMANENT;
		e = ERRF(errbuf, e, "tuya: cannot get an access token: %s", perr);
		goto out;
	}
	c->token = tok;
	c->token_fetched = 1;
	explicit_bzero(&tok, sizeof(tok));
out:
	c->token_err = e;
	c->token_st = *st;
	if (e)
		err_set(c->token_msg, sizeof(c->token_msg), e, "%s",
			errbuf ? errbuf : "tuya: cannot get an access token");
	tuya_envelope_release(&env);
	return e;
}

/*
 * The token policy (SPEC P5/P6, tuya-api.md §3): use the cached token while
 * at least TUYA_TOKEN_MARGIN_MS remain; otherwise fetch one, but only once per
 * client.  After that one request the client keeps whatever token it has,
 * even close to expiry: the cloud then answers a token error and the single
 * re-fetch of call_api() deals with it, so a run never sends more than two
 * token requests however the server behaves.
 */
static enum err ensure_token(struct tuya_client *c, struct tuya_status *st,
			     char *errbuf)
{
	if (c->token.access[0] &&
	    c->token.expires_at - c->now_ms >= TUYA_TOKEN_MARGIN_MS)
		return ERR_OK;
	if (c->token_requests == 0)
		return fetch_token(c, st, errbuf);
	if (c->token.access[0])
		return ERR_OK;
	/* The one token request failed: report that failure again. */
	*st = c->token_st;
	return ERRF(errbuf, c->token_err ? c->token_err : ERR_UNAVAILABLE, "%s",
		    c->token_msg[0] ? c->token_msg : "tuya: no access token");
}

/* A business call with the token policy: one token re-fetch and one retry
 * on a token error. */
static enum err call_api(struct tuya_client *c, const char *what,
			 const char *device, const char *method,
			 const char *path, const char *body, size_t body_len,
			 struct tuya_envelope *env, struct tuya_status *st,
			 char *errbuf)
{
	enum err e = ensure_token(c, st, errbuf);

	if (e)
		return e;
	e = send_request(c, what, device, method, path, body, body_len, 0, env,
			 st, errbuf);
	if (e && st->cls == TUYA_TOKEN && !c->token_retry_used &&
	    c->token_requests < 2) {
		c->token_retry_used = 1;
		e = fetch_token(c, st, errbuf);
		if (e)
			return e;
		e = send_request(c, what, device, method, path, body, body_len,
				 0, env, st, errbuf);
	}
	return e;
}

static int check_device(const char *device, struct tuya_status *st,
			char *errbuf)
{
	status_reset(st);
	if (ids_device_valid(device))
		return 0;
	st->cls = TUYA_PERMANENT;
	ERRF(errbuf, ERR_DATA,
	     "invalid tuya device id (1-%d letters, digits, '-' or '_')",
	     TUYA_DEVICE_MAX);
	return -1;
}

/* After check_device(): the password id of device, by ids_password_valid(). */
static int check_password_id(const char *device, int64_t id,
			     struct tuya_status *st, char *errbuf)
{
	if (ids_password_valid(id))
		return 0;
	st->cls = TUYA_PERMANENT;
	ERRF(errbuf, ERR_DATA, "tuya device '%s': invalid password id %lld", device,
	     (long long)id);
	return -1;
}

/* The password a create or modify call writes. */
struct pw_write {
	const char *name;
	const char *pin;
	long long effective, invalid;
};

/* Shared by create and modify: validate, ticket, encrypt, send the body. */
static enum err send_password(struct tuya_client *c, const char *what,
			      const char *device, const char *method,
			      const char *path, const struct pw_write *w,
			      struct tuya_envelope *env, struct tuya_status *st,
			      char *errbuf)
{
	struct tuya_ticket ticket;
	struct strbuf body = STRBUF_INIT;
	char enc[33];
	enum err e;

	st->sent = 0;
	if (!w->name || !tuya_printable(w->name, TUYA_NAME_MAX, 1)) {
		st->cls = TUYA_PERMANENT;
		return ERRF(errbuf, ERR_DATA,
			    "tuya device '%s': cannot %s: the name must be 1-%d printable ASCII characters",
			    device, what, TUYA_NAME_MAX - 1);
	}
	if (!w->pin || !tuya_pin_valid(w->pin, 4, 12)) {
		st->cls = TUYA_PERMANENT;
		return ERRF(errbuf, ERR_DATA,
			    "tuya device '%s': cannot %s: the pin must be 4-12 digits",
			    device, what);
	}
	if (w->effective <= 0 || w->invalid <= w->effective) {
		st->cls = TUYA_PERMANENT;
		return ERRF(errbuf, ERR_DATA,
			    "tuya device '%s': cannot %s: bad validity window %lld-%lld",
			    device, what, w->effective, w->invalid);
	}

	/* A fresh ticket right before the write: tickets live ~5 minutes and
	 * may already be partly used up when issued (tuya-api.md §5.1). */
	e = tuya_get_ticket(c, device, &ticket, st, errbuf);
	if (e)
		return e;
	e = tuya_encrypt_pin(ticket.key, w->pin, enc, sizeof(enc));
	if (e) {
		st->cls = TUYA_PERMANENT;
		e = ERRF(errbuf, ERR_INTERNAL,
			 "tuya device '%s': cannot %s: cannot encrypt the pin",
			 device, what);
		goto out;
	}
	tuya_password_body(w->name, enc, ticket.id, w->effective, w->invalid,
			   &body);
	if (c->step)
		c->step(c->step_ctx, "ticket");
	/* From here the write may reach the cloud, whatever the call returns. */
	st->sent = 1;
	e = call_api(c, what, device, method, path, body.buf, body.len, env, st,
		     errbuf);
	if (c->step)
		c->step(c->step_ctx, "sent");
out:
	explicit_bzero(&ticket, sizeof(ticket));
	explicit_bzero(enc, sizeof(enc));
	tuya_strbuf_wipe(&body);
	return e;
}

/*
 * What one device call owns; device_call() does the rest.  The path is
 * /v1.0/devices/{device}/door-lock/{resource}[/{id}][/{action}], or
 * /v1.0/devices/{device} when resource is NULL (the device itself).
 */
struct device_op {
	const char *what;       /* "create a temporary password", for messages */
	const char *verb;       /* with an id: "get" -> "get temporary password 42" */
	const char *method;     /* "GET", "POST", "PUT", "DELETE" */
	const char *resource;   /* "temp-passwords", or NULL */
	const char *action;     /* after the id, or NULL */
	int has_id;             /* the path carries id (checked before sending) */
	int64_t id;
	const char *body;       /* not a write: NULL, or "" for an empty POST */
	const struct pw_write *write;  /* create, modify: the password to send */
	int gone_is_done;       /* code 1000 is success (a revoke, SPEC P4) */
	/* Check the result of a successful envelope and fill op->out; on
	 * error put the reason into perr (ERRBUF_SIZE). */
	enum err (*take)(const struct tuya_client *c, const struct device_op *op,
			 const cJSON *result, char *perr);
	void *out;              /* the caller's output, filled by take */
};

/*
 * The frame of every ticket and password call: check the device id (and
 * the password id), build the path, sign and send (through send_password()
 * for a write), then let op->take read the result.  The failures of the
 * send are reported as call_api() reports them; a result that take refuses
 * is TUYA_PERMANENT, "tuya device 'D': cannot <what>: <reason>" (with an
 * id: "cannot <verb> temporary password <id>: <reason>").  st may be NULL.
 */
static enum err device_call(struct tuya_client *c, const char *device,
			    const struct device_op *op, struct tuya_status *st,
			    char *errbuf)
{
	struct tuya_status dummy = TUYA_STATUS_INIT;
	struct tuya_envelope env = TUYA_ENVELOPE_INIT;
	struct strbuf path = STRBUF_INIT;
	char perr[ERRBUF_SIZE];
	enum err e;

	if (!st)
		st = &dummy;
	if (check_device(device, st, errbuf) < 0 ||
	    (op->has_id && check_password_id(device, op->id, st, errbuf) < 0))
		return ERR_DATA;
	if (op->resource)
		strbuf_addf(&path, "/v1.0/devices/%s/door-lock/%s", device, op->resource);
	else
		strbuf_addf(&path, "/v1.0/devices/%s", device);
	if (op->has_id)
		strbuf_addf(&path, "/%lld", (long long)op->id);
	if (op->action)
		strbuf_addf(&path, "/%s", op->action);

	if (op->write)
		e = send_password(c, op->what, device, op->method,
				  strbuf_str(&path), op->write, &env, st, errbuf);
	else
		e = call_api(c, op->what, device, op->method, strbuf_str(&path),
			     op->body, op->body ? strlen(op->body) : 0, &env, st,
			     errbuf);
	if (e) {
		if (op->gone_is_done && st->cls == TUYA_GONE) {
			if (errbuf)
				errbuf[0] = '\0';
			e = ERR_OK;
		}
		goto out;
	}
	e = op->take(c, op, env.result, perr);
	if (e) {
		st->cls = TUYA_PERMANENT;
		if (op->has_id)
			e = ERRF(errbuf, e,
				 "tuya device '%s': cannot %s temporary password %lld: %s",
				 device, op->verb, (long long)op->id, perr);
		else
			e = ERRF(errbuf, e, "tuya device '%s': cannot %s: %s",
				 device, op->what, perr);
	}
out:
	tuya_envelope_release(&env);
	strbuf_release(&path);
	return e;
}

/* ------------------------------------------------------------------------
 * The ticket and password calls: what each sends and what it accepts
 */

static enum err take_ticket(const struct tuya_client *c,
			    const struct device_op *op, const cJSON *result,
			    char *perr)
{
	return tuya_parse_ticket(result, c->secret, op->out, perr);
}

enum err tuya_get_ticket(struct tuya_client *c, const char *device,
			 struct tuya_ticket *ticket, struct tuya_status *st,
			 char *errbuf)
{
	/* An empty body, sent with Content-Length: 0, signed as "". */
	const struct device_op op = {
		.what = "get a ticket", .method = "POST",
		.resource = "password-ticket", .body = "",
		.take = take_ticket, .out = ticket,
	};

	memset(ticket, 0, sizeof(*ticket));
	return device_call(c, device, &op, st, errbuf);
}

static enum err take_created(const struct tuya_client *c,
			     const struct device_op *op, const cJSON *result,
			     char *perr)
{
	(void)c;
	return tuya_parse_create(result, op->out, perr);
}

enum err tuya_create_temp_password(struct tuya_client *c, const char *device,
				   const char *name, const char *pin,
				   long long effective, long long invalid,
				   int64_t *password_id, struct tuya_status *st,
				   char *errbuf)
{
	const struct pw_write w = { name, pin, effective, invalid };
	const struct device_op op = {
		.what = "create a temporary password", .method = "POST",
		.resource = "temp-password", .write = &w,
		.take = take_created, .out = password_id,
	};

	*password_id = 0;
	return device_call(c, device, &op, st, errbuf);
}

/* The modify result: true, absent, null or an object (tuya-api.md §5.5). */
static enum err take_modified(const struct tuya_client *c,
			      const struct device_op *op, const cJSON *result,
			      char *perr)
{
	(void)c;
	(void)op;
	if (cJSON_IsFalse(result) ||
	    (result && !cJSON_IsTrue(result) && !cJSON_IsNull(result) &&
	     !cJSON_IsObject(result)))
		return ERRF(perr, ERR_PROTOCOL, "unexpected result");
	return ERR_OK;
}

enum err tuya_modify_temp_password(struct tuya_client *c, const char *device,
				   int64_t id, const char *name, const char *pin,
				   long long effective, long long invalid,
				   struct tuya_status *st, char *errbuf)
{
	const struct pw_write w = { name, pin, effective, invalid };
	const struct device_op op = {
		.what = "modify a temporary password", .verb = "modify",
		.method = "PUT", .resource = "temp-passwords", .has_id = 1,
		.id = id, .action = "modify-password", .write = &w,
		.take = take_modified,
	};

	return device_call(c, device, &op, st, errbuf);
}

/* Replace *op->out only when the whole list parsed. */
static enum err take_list(const struct tuya_client *c,
			  const struct device_op *op, const cJSON *result,
			  char *perr)
{
	struct tuya_password_list l = TUYA_PASSWORD_LIST_INIT;
	struct tuya_password_list *out = op->out;
	enum err e;

	(void)c;
	e = tuya_parse_password_list(result, &l, perr);
	if (e)
		return e;
	tuya_password_list_release(out);
	*out = l;
	return ERR_OK;
}

enum err tuya_list_temp_passwords(struct tuya_client *c, const char *device,
				  struct tuya_password_list *out,
				  struct tuya_status *st, char *errbuf)
{
	const struct device_op op = {
		.what = "list temporary passwords", .method = "GET",
		.resource = "temp-passwords", .take = take_list, .out = out,
	};

	return device_call(c, device, &op, st, errbuf);
}

/* The password asked for, and no other. */
static enum err take_password(const struct tuya_client *c,
			      const struct device_op *op, const cJSON *result,
			      char *perr)
{
	struct tuya_password p = { 0, NULL, 0, 0, 0, -1 };
	enum err e;

	(void)c;
	e = tuya_parse_password(result, &p, perr);
	if (!e && p.id != op->id) {
		tuya_password_release(&p);
		e = ERRF(perr, ERR_PROTOCOL, "answer is for password %lld",
			 (long long)p.id);
	}
	if (!e)
		*(struct tuya_password *)op->out = p;
	return e;
}

enum err tuya_get_temp_password(struct tuya_client *c, const char *device,
				int64_t id, struct tuya_password *out,
				struct tuya_status *st, char *errbuf)
{
	const struct device_op op = {
		.what = "get a temporary password", .verb = "get",
		.method = "GET", .resource = "temp-password", .has_id = 1,
		.id = id, .take = take_password, .out = out,
	};

	memset(out, 0, sizeof(*out));
	return device_call(c, device, &op, st, errbuf);
}

static enum err take_true(const struct tuya_client *c,
			  const struct device_op *op, const cJSON *result,
			  char *perr)
{
	(void)c;
	(void)op;
	if (!cJSON_IsTrue(result))
		return ERRF(perr, ERR_PROTOCOL, "result is not true");
	return ERR_OK;
}

enum err tuya_delete_temp_password(struct tuya_client *c, const char *device,
				   int64_t id, struct tuya_status *st,
				   char *errbuf)
{
	const struct device_op op = {
		.what = "delete a temporary password", .verb = "delete",
		.method = "DELETE", .resource = "temp-passwords", .has_id = 1,
		.id = id, .gone_is_done = 1, .take = take_true,
	};

	return device_call(c, device, &op, st, errbuf);
}

/* ------------------------------------------------------------------------
 * Devices (tuya-api.md §7): what onboarding asks
 */

#define DEVICE_PAGE_SIZE 50     /* per page of the device list (tinytuya's) */
#define DEVICE_MAX_PAGES 1000   /* a safety stop: 50,000 devices */

/* The device asked for, and no other. */
static enum err take_device(const struct tuya_client *c,
			    const struct device_op *op, const cJSON *result,
			    char *perr)
{
	struct tuya_device *out = op->out;
	char want[TUYA_DEVICE_MAX + 1];
	enum err e;

	(void)c;
	xstrlcpy(want, out->id, sizeof(want));
	e = tuya_parse_device(result, out, perr);
	if (!e && strcmp(out->id, want) != 0)
		e = ERRF(perr, ERR_PROTOCOL, "answer is for device '%s'", out->id);
	if (e) {
		memset(out, 0, sizeof(*out));
		xstrlcpy(out->id, want, sizeof(out->id));
	}
	return e;
}

enum err tuya_device_get(struct tuya_client *c, const char *device,
			 struct tuya_device *out, struct tuya_status *st,
			 char *errbuf)
{
	const struct device_op op = {
		.what = "get the device", .method = "GET",
		.take = take_device, .out = out,
	};

	memset(out, 0, sizeof(*out));
	out->online = -1;
	if (ids_device_valid(device))
		xstrlcpy(out->id, device, sizeof(out->id));
	return device_call(c, device, &op, st, errbuf);
}

enum err tuya_devices_list(struct tuya_client *c, struct tuya_device_list *out,
			   struct tuya_status *st, char *errbuf)
{
	struct tuya_status dummy = TUYA_STATUS_INIT;
	struct tuya_envelope env = TUYA_ENVELOPE_INIT;
	struct strbuf path = STRBUF_INIT;
	char key[TUYA_ROW_KEY_MAX] = "", prev[TUYA_ROW_KEY_MAX];
	char perr[ERRBUF_SIZE];
	int more = 1;
	enum err e = ERR_OK;

	if (!st)
		st = &dummy;
	status_reset(st);
	while (more) {
		if (out->pages >= DEVICE_MAX_PAGES) {
			st->cls = TUYA_PERMANENT;
			e = ERRF(errbuf, ERR_PROTOCOL,
				 "tuya: cannot list devices: more than %d pages", DEVICE_MAX_PAGES);
			break;
		}
		strbuf_reset(&path);
		strbuf_addf(&path, "/v1.0/iot-01/associated-users/devices?size=%d",
			    DEVICE_PAGE_SIZE);
		if (key[0])
			strbuf_addf(&path, "&last_row_key=%s", key);
		e = call_api(c, "list devices", NULL, "GET", strbuf_str(&path), NULL, 0,
			     &env, st, errbuf);
		if (e)
			break;
		xstrlcpy(prev, key, sizeof(prev));
		e = tuya_parse_device_page(env.result, out, &more, key, sizeof(key), perr);
		if (!e && more && strcmp(key, prev) == 0)
			e = ERRF(perr, ERR_PROTOCOL, "the next page key repeats '%s'", key);
		if (e) {
			st->cls = TUYA_PERMANENT;
			e = ERRF(errbuf, e, "tuya: cannot list devices: %s", perr);
			break;
		}
		tuya_envelope_release(&env);
	}
	tuya_envelope_release(&env);
	strbuf_release(&path);
	return e;
}
