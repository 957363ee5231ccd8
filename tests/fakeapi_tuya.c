/*
 * fakeapi_tuya.c - the fake Tuya Cloud OpenAPI for smart-lock temporary
 * PINs (tuya-api.md §9), plus its /_fake/tuya/ control endpoints.
 *
 * Every request is checked the way tuya-api.md §2.3 says, in this order:
 *   client_id header equal to ours                    else 1005
 *   sign and sign_method: HMAC-SHA256 present          else 1004
 *   t: decimal milliseconds within t_skew_ms of us     else 1013
 *   access_token present (all but /v1.0/token...)      else 1002
 *   sign equal to the uppercase HMAC we compute        else 1004
 *   access_token known (1011) and unexpired (1010)
 * then the route (unknown path or method: 1108) and the device (unknown or
 * "linked": false: 1106).  Every answer is HTTP 200 with the envelope
 * {"success", "result" | "code"+"msg", "t", "tid"}.
 *
 * Decisions where the real service is undocumented (tuya-api.md §10):
 *  - Tickets: valid ticket_ttl seconds (300), for their own device only,
 *    and single-use: a successful create or modify consumes the ticket.  A
 *    ticket that is unknown, expired, used or for another device is 1109.
 *  - A missing required body field is 1100; any malformed or out-of-range
 *    value (name over 20 characters, wrong password_type, a PIN that does
 *    not decrypt to exactly pin_length digits, effective_time >=
 *    invalid_time, a time of 10^10 or more, i.e. milliseconds) is 1109.
 *  - Unknown password id (get, delete, purge, modify): 1000 "data not
 *    exist".  Deleting an already deleted password is success again.
 *    Modifying a deleted one is 1109.
 *  - Phases (tuya-api.md §5.4) depend on the device's "protocol":
 *      wifi (the default): created or modified on an online lock 2
 *        (active), on an offline one 1 (to be sent); deleted on an online
 *        lock 0, on an offline one 3 (to be deleted).  Coming online
 *        (control endpoint) moves 1 to 2 and 3 to 0.
 *      zigbee: created or modified on an online lock 2 with
 *        delivery_status 2, on an offline one 1 with delivery_status 1;
 *        deleted on an online lock 4, on an offline one it stays as it is,
 *        marked pending-delete.  Coming online moves pending-delete to 4
 *        and 1 to 2 (delivery_status 2).  A Zigbee device with
 *        "fail_delivery": N (3..6) makes every delivery (create or modify
 *        on an online lock, or a pending one when it comes online) end in
 *        phase 5 (creation failed) with delivery_status N instead.
 *    delivery_status is in the list and get-one answers of Zigbee
 *    devices only.  A phase set through /_fake/tuya/password is taken as
 *    it is: 1 (and 3 on Wi-Fi) is then pending like any other and synced
 *    when the lock comes online; anything else (12, say) changes only by a
 *    delete, a modify or a reset.
 *  - Password ids only grow, across /_fake/tuya/reset too: an id is never
 *    reused, so a test cannot mistake a new password for an old one.
 *  - A refresh token is single-use: refreshing drops the old pair (old
 *    access token then gets 1011).  An unknown refresh token is 1011.
 *
 * Times come from the wall clock plus clock_offset_ms, which tests can set
 * to fake a client clock that is off.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "fakeapi.h"
#include "../lib/banned.h"

#define MAX_TOKENS 1024
#define NAME_MAX_CHARS 20
#define TIME_LIMIT 10000000000LL        /* 10^10 s: a 13-digit value is ms */
#define FIRST_PASSWORD_ID 7000000001LL  /* above 2^32: catches int32 ids */

struct device {
	char *id, *name, *category, *product_name, *time_zone, *uid, *local_key;
	int pin_length;
	bool zigbee;            /* "protocol": "zigbee"; else Wi-Fi */
	bool online, linked;
	int fail_delivery;      /* Zigbee: 0, or the delivery_status 3..6 */
	/* the data file's values, which /_fake/tuya/reset restores */
	bool file_online, file_linked;
	int file_fail_delivery;
};

struct token {
	char access[33];
	char refresh[33];
	int64_t expires_ms;
};

struct ticket {
	char id[9];
	char key[17];           /* the plain 16-character AES-128 key */
	size_t dev;
	int64_t expires_ms;
	bool used;
};

struct password {
	int64_t id;
	size_t dev;
	char *name;
	char *pin;              /* decrypted digits */
	int phase;
	int delivery_status;    /* Zigbee only */
	bool pending_delete;    /* Zigbee: deleted while the lock was offline */
	int64_t effective, invalid;
	char *time_zone, *phone;
	int type;
};

struct fake_tuya {
	char *client_id;
	char *secret;           /* 32 bytes: the AES-256 key and HMAC key */
	char *uid;
	int64_t token_ttl, ticket_ttl, t_skew_ms, clock_offset_ms;
	int64_t file_clock_offset_ms;   /* restored by /_fake/tuya/reset */
	struct device *dev;
	size_t ndev;
	struct token *tok;
	size_t ntok;
	struct ticket *tix;
	size_t ntix;
	struct password *pw;
	size_t npw;
	int64_t next_pid;
	long token_requests, refresh_requests, tickets_issued;
};

static const struct {
	long code;
	const char *msg;
} messages[] = {
	{ 500, "system error, please contact the admin" },
	{ 1000, "data not exist" },
	{ 1001, "secret invalid" },
	{ 1002, "access_token is null" },
	{ 1003, "grant type invalid" },
	{ 1004, "sign invalid" },
	{ 1005, "clientId invalid" },
	{ 1010, "token is expired" },
	{ 1011, "token invalid" },
	{ 1012, "token status is invalid" },
	{ 1013, "request time is invalid" },
	{ 1100, "param is empty" },
	{ 1101, "params range invalid" },
	{ 1105, "missing the header" },
	{ 1106, "permission deny" },
	{ 1108, "uri path invalid" },
	{ 1109, "param is illegal, please check it" },
	{ 1110, "concurrent request over limit" },
	{ 1111, "system is busy, please retry later" },
	{ 1199, "your requests are too frequent" },
	{ 2001, "device is offline" },
	{ 2008, "command or value not support" },
	{ 2009, "not support this device" },
	{ 2010, "device not exist" },
	{ 2328, "operation in progress" },
	{ 28841105, "No permissions. This project is not authorized to call this API" },
};

const char *fake_tuya_msg(long code)
{
	size_t i;

	for (i = 0; i < sizeof(messages) / sizeof(*messages); i++)
		if (messages[i].code == code)
			return messages[i].msg;
	return "unknown error";
}

static int64_t now_ms(const struct fake_tuya *tu)
{
	return fake_now_ms() + tu->clock_offset_ms;
}

/* ---- envelope ------------------------------------------------------- */

static cJSON *json_i64(int64_t v)
{
	char num[24];

	snprintf(num, sizeof(num), "%lld", (long long)v);
	return cJSON_CreateRaw(num);
}

static void envelope_tail(const struct fake_tuya *tu, cJSON *o)
{
	char tid[33];

	fake_random_hex(tid, 32);
	cJSON_AddItemToObject(o, "t", json_i64(now_ms(tu)));
	cJSON_AddStringToObject(o, "tid", tid);
}

/* Success with result (consumed). */
static void respond_ok(struct fake_tuya *tu, struct fake_response *resp,
                       cJSON *result)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddBoolToObject(o, "success", 1);
	cJSON_AddItemToObject(o, "result", result);
	envelope_tail(tu, o);
	fake_respond_json(resp, 200, o);
}

void fake_tuya_error(struct fake_tuya *tu, struct fake_response *resp,
                     long code, const char *msg)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddBoolToObject(o, "success", 0);
	cJSON_AddItemToObject(o, "code", json_i64(code));
	cJSON_AddStringToObject(o, "msg", msg);
	envelope_tail(tu, o);
	fake_respond_json(resp, 200, o);
	resp->has_code = true;
	resp->code = code;
}

static void fail(struct fake_tuya *tu, struct fake_response *resp, long code)
{
	fake_tuya_error(tu, resp, code, fake_tuya_msg(code));
}

/* ---- crypto ----------------------------------------------------------- */

static void hex_upper(const unsigned char *in, size_t n, char *out)
{
	static const char digits[] = "0123456789ABCDEF";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

/* Hex (either case) to bytes; false if odd length or not hex. */
static bool hex_decode(const char *s, unsigned char *out, size_t cap,
                       size_t *n)
{
	size_t len = strlen(s), i;

	if (len % 2 || len / 2 > cap)
		return false;
	for (i = 0; i < len / 2; i++) {
		int hi = fake_hexval(s[2 * i]), lo = fake_hexval(s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return false;
		out[i] = (unsigned char)(hi * 16 + lo);
	}
	*n = len / 2;
	return true;
}

/*
 * AES-ECB with PKCS#7 (OpenSSL's default padding).  out needs inlen + 16
 * bytes.  Returns false when decryption finds bad padding.
 */
static bool aes_ecb(const EVP_CIPHER *cipher, bool enc,
                    const unsigned char *key, const unsigned char *in,
                    size_t inlen, unsigned char *out, size_t *outlen)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int n1 = 0, n2 = 0;
	bool ok;

	if (!ctx)
		fake_die("EVP_CIPHER_CTX_new failed");
	if (EVP_CipherInit_ex(ctx, cipher, NULL, key, NULL, enc ? 1 : 0) != 1 ||
	    inlen > 4096)
		fake_die("EVP_CipherInit_ex failed");
	ok = EVP_CipherUpdate(ctx, out, &n1, in, (int)inlen) == 1 &&
	     EVP_CipherFinal_ex(ctx, out + n1, &n2) == 1;
	EVP_CIPHER_CTX_free(ctx);
	*outlen = (size_t)n1 + (size_t)n2;
	return ok;
}

static void sha256_hex_lower(const void *data, size_t n, char out[65])
{
	static const char digits[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0, i;

	if (EVP_Digest(data, n, md, &mdlen, EVP_sha256(), NULL) != 1 ||
	    mdlen != 32)
		fake_die("SHA-256 failed");
	for (i = 0; i < 32; i++) {
		out[2 * i] = digits[md[i] >> 4];
		out[2 * i + 1] = digits[md[i] & 15];
	}
	out[64] = '\0';
}

/* ---- signature (tuya-api.md §2.1) ------------------------------------- */

static int cmp_params(const void *pa, const void *pb)
{
	const struct fake_param *a = *(const struct fake_param *const *)pa;
	const struct fake_param *b = *(const struct fake_param *const *)pb;
	size_t n = a->key_len < b->key_len ? a->key_len : b->key_len;
	int c = memcmp(a->key, b->key, n);

	if (c)
		return c;
	if (a->key_len != b->key_len)
		return a->key_len < b->key_len ? -1 : 1;
	return a < b ? -1 : a > b;      /* stable: keep wire order */
}

/* The sign a correct client computes for req, uppercase hex, into out. */
static void expected_sign(const struct fake_tuya *tu,
                          const struct fake_request *req, const char *token,
                          const char *t, char out[65])
{
	struct fake_buf m = FAKE_BUF_INIT;
	const char *nonce = fake_header(req, "nonce");
	const char *sh = fake_header(req, "Signature-Headers");
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	char sha[65];
	size_t i;

	sha256_hex_lower(req->body.buf ? req->body.buf : "", req->body.len, sha);
	fake_buf_adds(&m, tu->client_id);
	fake_buf_adds(&m, token);
	fake_buf_adds(&m, t);
	fake_buf_adds(&m, nonce ? nonce : "");
	fake_buf_addf(&m, "%s\n%s\n", req->method, sha);
	while (sh && *sh) {
		const char *colon = strchr(sh, ':');
		size_t n = colon ? (size_t)(colon - sh) : strlen(sh);

		if (n > 0) {
			char *name = fake_xmemdup0(sh, n);
			const char *v = fake_header(req, name);

			fake_buf_addf(&m, "%s:%s\n", name, v ? v : "");
			free(name);
		}
		sh = colon ? colon + 1 : NULL;
	}
	fake_buf_adds(&m, "\n");
	fake_buf_adds(&m, req->path);
	if (req->nparams) {
		const struct fake_param **sorted =
			fake_xcalloc(req->nparams, sizeof(*sorted));

		for (i = 0; i < req->nparams; i++)
			sorted[i] = &req->params[i];
		qsort(sorted, req->nparams, sizeof(*sorted), cmp_params);
		for (i = 0; i < req->nparams; i++) {
			fake_buf_adds(&m, i ? "&" : "?");
			fake_buf_add(&m, sorted[i]->key, sorted[i]->key_len);
			fake_buf_adds(&m, "=");
			fake_buf_add(&m, sorted[i]->value, sorted[i]->value_len);
		}
		free(sorted);
	}
	if (!HMAC(EVP_sha256(), tu->secret, (int)strlen(tu->secret),
	          (const unsigned char *)m.buf, m.len, md, &mdlen) || mdlen != 32)
		fake_die("HMAC-SHA256 failed");
	hex_upper(md, 32, out);
	fake_buf_release(&m);
}

/* Strict decimal; false for anything else or more than 18 digits. */
static bool parse_i64(const char *s, int64_t *out)
{
	int64_t v = 0;
	size_t i;

	if (!s || !*s || strlen(s) > 18)
		return false;
	for (i = 0; s[i]; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

static struct token *find_token(struct fake_tuya *tu, const char *access,
                                const char *refresh)
{
	size_t i;

	for (i = 0; i < tu->ntok; i++)
		if ((access && !strcmp(tu->tok[i].access, access)) ||
		    (refresh && !strcmp(tu->tok[i].refresh, refresh)))
			return &tu->tok[i];
	return NULL;
}

/* Check signature and token as in the file comment.  0 or a Tuya code. */
static long authenticate(struct fake_tuya *tu, const struct fake_request *req,
                         bool token_call)
{
	const char *cid = fake_header(req, "client_id");
	const char *sign = fake_header(req, "sign");
	const char *method = fake_header(req, "sign_method");
	const char *t = fake_header(req, "t");
	const char *token = token_call ? "" : fake_header(req, "access_token");
	const struct token *tok;
	char want[65];
	int64_t tv, now = now_ms(tu);

	if (!cid || strcmp(cid, tu->client_id))
		return 1005;
	if (!sign || !method || strcmp(method, "HMAC-SHA256"))
		return 1004;
	if (!parse_i64(t, &tv) || tv < now - tu->t_skew_ms ||
	    tv > now + tu->t_skew_ms)
		return 1013;
	if (!token_call && (!token || !*token))
		return 1002;
	expected_sign(tu, req, token, t, want);
	if (strcmp(sign, want))
		return 1004;
	if (token_call)
		return 0;
	tok = find_token(tu, token, NULL);
	if (!tok)
		return 1011;
	if (now >= tok->expires_ms)
		return 1010;
	return 0;
}

/* ---- tokens ------------------------------------------------------------- */

static void issue_token(struct fake_tuya *tu, struct fake_response *resp)
{
	struct token *t;
	cJSON *r;

	if (tu->ntok == MAX_TOKENS) {
		memmove(tu->tok, tu->tok + 1, (MAX_TOKENS - 1) * sizeof(*tu->tok));
		tu->ntok--;
	}
	tu->tok = fake_xrealloc(tu->tok, (tu->ntok + 1) * sizeof(*tu->tok));
	t = &tu->tok[tu->ntok++];
	fake_random_hex(t->access, 32);
	fake_random_hex(t->refresh, 32);
	t->expires_ms = now_ms(tu) + tu->token_ttl * 1000;
	tu->token_requests++;
	r = cJSON_CreateObject();
	cJSON_AddStringToObject(r, "access_token", t->access);
	cJSON_AddItemToObject(r, "expire_time", json_i64(tu->token_ttl));
	cJSON_AddStringToObject(r, "refresh_token", t->refresh);
	cJSON_AddStringToObject(r, "uid", tu->uid);
	respond_ok(tu, resp, r);
}

static void refresh_token(struct fake_tuya *tu, const char *rt,
                          struct fake_response *resp)
{
	struct token *t = find_token(tu, NULL, rt);

	if (!t) {
		fail(tu, resp, 1011);
		return;
	}
	memmove(t, t + 1, (size_t)(tu->tok + tu->ntok - (t + 1)) * sizeof(*t));
	tu->ntok--;
	tu->refresh_requests++;
	issue_token(tu, resp);
}

/* ---- devices ------------------------------------------------------------- */

static cJSON *device_json(const struct device *d)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "id", d->id);
	cJSON_AddStringToObject(o, "name", d->name);
	cJSON_AddStringToObject(o, "category", d->category);
	cJSON_AddStringToObject(o, "product_name", d->product_name);
	cJSON_AddBoolToObject(o, "online", d->online);
	cJSON_AddStringToObject(o, "uid", d->uid);
	cJSON_AddStringToObject(o, "time_zone", d->time_zone);
	cJSON_AddStringToObject(o, "local_key", d->local_key);
	return o;
}

/* GET /v1.0/iot-01/associated-users/devices?size=N[&last_row_key=K] */
static void list_devices(struct fake_tuya *tu, const struct fake_request *req,
                         struct fake_response *resp)
{
	const struct fake_param *ps = fake_param(req, "size");
	const struct fake_param *pk = fake_param(req, "last_row_key");
	cJSON *r, *arr;
	int64_t size = 20;
	size_t i = 0, total = 0, sent = 0;
	const char *last = "";

	if (ps && !parse_i64(ps->value, &size)) {
		fail(tu, resp, 1109);
		return;
	}
	if (size < 1 || size > 100) {
		fail(tu, resp, 1101);
		return;
	}
	if (pk && pk->value_len) {
		for (i = 0; i < tu->ndev; i++)
			if (tu->dev[i].linked && !strcmp(tu->dev[i].id, pk->value))
				break;
		if (i == tu->ndev) {
			fail(tu, resp, 1109);
			return;
		}
		i++;
	}
	r = cJSON_CreateObject();
	arr = cJSON_AddArrayToObject(r, "devices");
	for (; i < tu->ndev; i++) {
		if (!tu->dev[i].linked)
			continue;
		if ((int64_t)sent == size)
			break;
		cJSON_AddItemToArray(arr, device_json(&tu->dev[i]));
		last = tu->dev[i].id;
		sent++;
	}
	for (; i < tu->ndev; i++)
		if (tu->dev[i].linked)
			break;
	cJSON_AddBoolToObject(r, "has_more", i < tu->ndev);
	cJSON_AddStringToObject(r, "last_row_key", last);
	for (i = 0; i < tu->ndev; i++)
		total += tu->dev[i].linked;
	cJSON_AddItemToObject(r, "total", json_i64((int64_t)total));
	respond_ok(tu, resp, r);
}

/* ---- passwords ------------------------------------------------------------ */

static struct password *find_password(struct fake_tuya *tu, size_t dev,
                                      const char *pid)
{
	int64_t id;
	size_t i;

	if (!parse_i64(pid, &id))
		return NULL;
	for (i = 0; i < tu->npw; i++)
		if (tu->pw[i].id == id && tu->pw[i].dev == dev)
			return &tu->pw[i];
	return NULL;
}

/* p as the API shows it; state adds what only /_fake/tuya/state shows. */
static cJSON *password_json(const struct fake_tuya *tu,
                            const struct password *p, bool state)
{
	bool zigbee = tu->dev[p->dev].zigbee;
	cJSON *o = cJSON_CreateObject();

	cJSON_AddItemToObject(o, "id", json_i64(p->id));
	cJSON_AddStringToObject(o, "name", p->name);
	if (state)
		cJSON_AddStringToObject(o, "pin", p->pin);
	cJSON_AddNumberToObject(o, "phase", p->phase);
	cJSON_AddItemToObject(o, "effective_time", json_i64(p->effective));
	cJSON_AddItemToObject(o, "invalid_time", json_i64(p->invalid));
	cJSON_AddStringToObject(o, "time_zone", p->time_zone);
	cJSON_AddStringToObject(o, "phone", p->phone);
	if (zigbee)
		cJSON_AddNumberToObject(o, "delivery_status", p->delivery_status);
	if (state)
		cJSON_AddNumberToObject(o, "type", p->type);
	if (state && zigbee)
		cJSON_AddBoolToObject(o, "pending_delete", p->pending_delete);
	return o;
}

/* ---- phases (see the file comment) ------------------------------------- */

/* p reaches its lock, which is online now. */
static void deliver(const struct fake_tuya *tu, struct password *p)
{
	const struct device *d = &tu->dev[p->dev];

	p->phase = 2;
	if (!d->zigbee)
		return;
	p->delivery_status = 2;
	if (d->fail_delivery) {
		p->phase = 5;
		p->delivery_status = d->fail_delivery;
	}
}

/* p was just created or modified: deliver it, or queue it for the lock. */
static void send_password(const struct fake_tuya *tu, struct password *p)
{
	if (tu->dev[p->dev].online) {
		deliver(tu, p);
	} else {
		p->phase = 1;
		if (tu->dev[p->dev].zigbee)
			p->delivery_status = 1;
	}
}

static bool is_deleted(const struct fake_tuya *tu, const struct password *p)
{
	return tu->dev[p->dev].zigbee ? p->phase == 4 : p->phase == 0;
}

/* A delete of p (deleting a deleted password changes nothing). */
static void revoke_password(const struct fake_tuya *tu, struct password *p)
{
	const struct device *d = &tu->dev[p->dev];

	if (is_deleted(tu, p))
		return;
	if (!d->zigbee)
		p->phase = d->online ? 0 : 3;
	else if (d->online)
		p->phase = 4;
	else
		p->pending_delete = true;
}

/* Device dev has come online: it syncs what was pending. */
static void device_wakes(struct fake_tuya *tu, size_t dev)
{
	size_t j;

	for (j = 0; j < tu->npw; j++) {
		struct password *p = &tu->pw[j];

		if (p->dev != dev)
			continue;
		if (p->pending_delete) {
			p->pending_delete = false;
			p->phase = 4;
		} else if (p->phase == 1) {
			deliver(tu, p);
		} else if (p->phase == 3 && !tu->dev[dev].zigbee) {
			p->phase = 0;
		}
	}
}

/*
 * A new password on dev (strings copied), sent to the lock as a create is.
 * The pointer is valid until the next password is added or purged.
 */
static struct password *add_password(struct fake_tuya *tu, size_t dev,
                                     const char *name, const char *pin,
                                     int64_t effective, int64_t invalid,
                                     const char *time_zone, const char *phone,
                                     int type)
{
	struct password *p;

	tu->pw = fake_xrealloc(tu->pw, (tu->npw + 1) * sizeof(*tu->pw));
	p = &tu->pw[tu->npw++];
	memset(p, 0, sizeof(*p));
	p->id = tu->next_pid++;
	p->dev = dev;
	p->name = fake_xstrdup(name);
	p->pin = fake_xstrdup(pin);
	p->effective = effective;
	p->invalid = invalid;
	p->time_zone = fake_xstrdup(time_zone);
	p->phone = fake_xstrdup(phone);
	p->type = type;
	send_password(tu, p);
	return p;
}

static void issue_ticket(struct fake_tuya *tu, size_t dev,
                         struct fake_response *resp)
{
	unsigned char enc[48];
	char hex[97];
	struct ticket *tk;
	size_t i, n, kept = 0;
	int64_t now = now_ms(tu);
	cJSON *r;

	/* forget tickets that can no longer be used */
	for (i = 0; i < tu->ntix; i++)
		if (!tu->tix[i].used && tu->tix[i].expires_ms > now)
			tu->tix[kept++] = tu->tix[i];
	tu->ntix = kept;
	tu->tix = fake_xrealloc(tu->tix, (tu->ntix + 1) * sizeof(*tu->tix));
	tk = &tu->tix[tu->ntix++];
	memset(tk, 0, sizeof(*tk));
	fake_random_alnum(tk->id, 8);
	fake_random_alnum(tk->key, 16);
	tk->dev = dev;
	tk->expires_ms = now + tu->ticket_ttl * 1000;
	tu->tickets_issued++;
	aes_ecb(EVP_aes_256_ecb(), true, (const unsigned char *)tu->secret,
	        (const unsigned char *)tk->key, 16, enc, &n);
	if (n != 32)
		fake_die("AES-256 ticket key is %zu bytes", n);
	hex_upper(enc, n, hex);
	r = cJSON_CreateObject();
	cJSON_AddStringToObject(r, "ticket_id", tk->id);
	cJSON_AddStringToObject(r, "ticket_key", hex);
	cJSON_AddItemToObject(r, "expire_time", json_i64(tu->ticket_ttl));
	respond_ok(tu, resp, r);
}

/* What a create or modify body asks for, once validated. */
struct pin_request {
	const char *name;       /* borrowed from the parsed body; NULL if absent */
	char pin[64];
	int64_t effective, invalid;
	const char *time_zone, *phone;
	int type;
	struct ticket *ticket;
};

static size_t utf8_chars(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xC0) != 0x80;
	return n;
}

/*
 * Validate a create (creating) or modify body for device dev.  Returns 0,
 * 1100 for a missing required field, or 1109 for anything wrong.
 */
static long parse_pin_body(struct fake_tuya *tu, size_t dev, const cJSON *b,
                           bool creating, struct pin_request *out)
{
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(b, "name");
	const cJSON *pass = cJSON_GetObjectItemCaseSensitive(b, "password");
	const cJSON *ptype = cJSON_GetObjectItemCaseSensitive(b, "password_type");
	const cJSON *tid = cJSON_GetObjectItemCaseSensitive(b, "ticket_id");
	const cJSON *eff = cJSON_GetObjectItemCaseSensitive(b, "effective_time");
	const cJSON *inv = cJSON_GetObjectItemCaseSensitive(b, "invalid_time");
	const cJSON *type = cJSON_GetObjectItemCaseSensitive(b, "type");
	const cJSON *tz = cJSON_GetObjectItemCaseSensitive(b, "time_zone");
	const cJSON *phone = cJSON_GetObjectItemCaseSensitive(b, "phone");
	const cJSON *sched = cJSON_GetObjectItemCaseSensitive(b, "schedule_list");
	unsigned char cipher[64], plain[80];
	size_t clen, plen, i;
	int64_t v;

	memset(out, 0, sizeof(*out));
	if ((creating && (!name || !ptype)) || !pass || !tid || !eff || !inv)
		return 1100;
	if (name) {
		if (!cJSON_IsString(name) || !*name->valuestring)
			return 1100;
		if (utf8_chars(name->valuestring) > NAME_MAX_CHARS)
			return 1109;
		out->name = name->valuestring;
	}
	if (ptype && (!cJSON_IsString(ptype) ||
	              strcmp(ptype->valuestring, "ticket")))
		return 1109;
	if (!fake_json_int(eff, 0, TIME_LIMIT - 1, &out->effective) ||
	    !fake_json_int(inv, 0, TIME_LIMIT - 1, &out->invalid) ||
	    out->effective >= out->invalid)
		return 1109;
	if (type) {
		if (!fake_json_int(type, 0, 1, &v))
			return 1109;
		out->type = (int)v;
	}
	if ((tz && !cJSON_IsString(tz)) || (phone && !cJSON_IsString(phone)))
		return 1109;
	out->time_zone = tz ? tz->valuestring : "";
	out->phone = phone ? phone->valuestring : "";
	/* only one schedule block per code is accepted (tuya-api.md §5.3) */
	if (sched && (!cJSON_IsArray(sched) || cJSON_GetArraySize(sched) > 1))
		return 1109;

	if (!cJSON_IsString(tid))
		return 1109;
	for (i = 0; i < tu->ntix; i++)
		if (!strcmp(tu->tix[i].id, tid->valuestring))
			break;
	if (i == tu->ntix || tu->tix[i].used || tu->tix[i].dev != dev ||
	    tu->tix[i].expires_ms <= now_ms(tu))
		return 1109;
	out->ticket = &tu->tix[i];

	if (!cJSON_IsString(pass) ||
	    !hex_decode(pass->valuestring, cipher, sizeof(cipher), &clen) ||
	    clen == 0 || clen % 16 ||
	    !aes_ecb(EVP_aes_128_ecb(), false,
	             (const unsigned char *)out->ticket->key, cipher, clen,
	             plain, &plen))
		return 1109;
	if (plen != (size_t)tu->dev[dev].pin_length)
		return 1109;
	for (i = 0; i < plen; i++)
		if (plain[i] < '0' || plain[i] > '9')
			return 1109;
	memcpy(out->pin, plain, plen);
	out->pin[plen] = '\0';
	return 0;
}

/* Parse the request body as a JSON object; 0 or a Tuya code. */
static long body_object(const struct fake_request *req, cJSON **out)
{
	const char *ct = fake_header(req, "Content-Type");

	*out = NULL;
	if (req->body.len == 0)
		return 1100;
	/* without a JSON content type the gateway would not see any params */
	if (!ct || strncasecmp(ct, "application/json", 16))
		return 1100;
	*out = fake_json_parse(req->body.buf, req->body.len, NULL);
	if (!cJSON_IsObject(*out)) {
		cJSON_Delete(*out);
		*out = NULL;
		return 1109;
	}
	return 0;
}

static void create_password(struct fake_tuya *tu, size_t dev,
                            const struct fake_request *req,
                            struct fake_response *resp)
{
	struct pin_request pr;
	struct password *p;
	cJSON *body, *r;
	long code;

	if ((code = body_object(req, &body)) ||
	    (code = parse_pin_body(tu, dev, body, true, &pr))) {
		cJSON_Delete(body);
		fail(tu, resp, code);
		return;
	}
	pr.ticket->used = true;
	p = add_password(tu, dev, pr.name, pr.pin, pr.effective, pr.invalid,
	                 pr.time_zone, pr.phone, pr.type);
	cJSON_Delete(body);
	r = cJSON_CreateObject();
	cJSON_AddItemToObject(r, "id", json_i64(p->id));
	respond_ok(tu, resp, r);
}

static void modify_password(struct fake_tuya *tu, size_t dev,
                            struct password *p, const struct fake_request *req,
                            struct fake_response *resp)
{
	struct pin_request pr;
	cJSON *body;
	long code;

	/* deleted, or on its way out */
	if (is_deleted(tu, p) || p->pending_delete ||
	    (!tu->dev[dev].zigbee && p->phase == 3)) {
		fail(tu, resp, 1109);
		return;
	}
	if ((code = body_object(req, &body)) ||
	    (code = parse_pin_body(tu, dev, body, false, &pr))) {
		cJSON_Delete(body);
		fail(tu, resp, code);
		return;
	}
	pr.ticket->used = true;
	if (pr.name) {
		free(p->name);
		p->name = fake_xstrdup(pr.name);
	}
	free(p->pin);
	p->pin = fake_xstrdup(pr.pin);
	p->effective = pr.effective;
	p->invalid = pr.invalid;
	if (cJSON_GetObjectItemCaseSensitive(body, "time_zone")) {
		free(p->time_zone);
		p->time_zone = fake_xstrdup(pr.time_zone);
	}
	if (cJSON_GetObjectItemCaseSensitive(body, "phone")) {
		free(p->phone);
		p->phone = fake_xstrdup(pr.phone);
	}
	if (cJSON_GetObjectItemCaseSensitive(body, "type"))
		p->type = pr.type;
	send_password(tu, p);
	cJSON_Delete(body);
	respond_ok(tu, resp, cJSON_CreateTrue());
}

static void list_passwords(struct fake_tuya *tu, size_t dev,
                           const struct fake_request *req,
                           struct fake_response *resp)
{
	const struct fake_param *pv = fake_param(req, "valid");
	int64_t now_s = now_ms(tu) / 1000;
	int want = -1;          /* -1 all, 1 valid only, 0 invalid only */
	cJSON *arr;
	size_t i;

	if (pv) {
		if (!strcmp(pv->value, "true"))
			want = 1;
		else if (!strcmp(pv->value, "false"))
			want = 0;
		else {
			fail(tu, resp, 1109);
			return;
		}
	}
	arr = cJSON_CreateArray();
	for (i = 0; i < tu->npw; i++) {
		const struct password *p = &tu->pw[i];
		int valid = (p->phase == 1 || p->phase == 2) && p->invalid > now_s;

		if (p->dev == dev && (want < 0 || want == valid))
			cJSON_AddItemToArray(arr, password_json(tu, p, false));
	}
	respond_ok(tu, resp, arr);
}

static void free_password(struct password *p)
{
	free(p->name);
	free(p->pin);
	free(p->time_zone);
	free(p->phone);
}

/* ---- routing --------------------------------------------------------------- */

#define MAXSEG 8

/* Split "/a/b/c" in place into segments; -1 if more than MAXSEG. */
static int split_path(char *buf, char *seg[MAXSEG])
{
	char *s = buf + 1;
	int n = 0;

	if (*buf != '/')
		return -1;
	for (;;) {
		char *slash = strchr(s, '/');

		if (n == MAXSEG)
			return -1;
		seg[n++] = s;
		if (!slash)
			return n;
		*slash = '\0';
		s = slash + 1;
	}
}

static bool seg_is(char *const *seg, int n, int i, const char *s)
{
	return i < n && !strcmp(seg[i], s);
}

static bool find_device(const struct fake_tuya *tu, const char *id, size_t *out)
{
	size_t i;

	for (i = 0; i < tu->ndev; i++)
		if (!strcmp(tu->dev[i].id, id)) {
			*out = i;
			return tu->dev[i].linked;
		}
	return false;
}

void fake_tuya_handle(struct fake_tuya *tu, const struct fake_request *req,
                      struct fake_response *resp)
{
	enum {
		R_NONE, R_TOKEN, R_REFRESH, R_DEVLIST, R_DEVICE, R_TICKET,
		R_CREATE, R_LIST, R_GET, R_DELETE, R_PURGE, R_MODIFY
	} route = R_NONE;
	const char *m = req->method;
	bool get = !strcmp(m, "GET"), post = !strcmp(m, "POST");
	bool del = !strcmp(m, "DELETE"), put = !strcmp(m, "PUT");
	bool token_call = !strncmp(req->path, "/v1.0/token", 11);
	char *path = fake_xstrdup(req->path);
	char *seg[MAXSEG];
	int n = split_path(path, seg);
	struct password *p = NULL;
	size_t dev = 0;
	long code;

	if ((code = authenticate(tu, req, token_call)) != 0) {
		fail(tu, resp, code);
		goto out;
	}
	if (n == 2 && seg_is(seg, n, 0, "v1.0") && seg_is(seg, n, 1, "token"))
		route = get ? R_TOKEN : R_NONE;
	else if (n == 3 && seg_is(seg, n, 0, "v1.0") &&
	         seg_is(seg, n, 1, "token") && *seg[2])
		route = get ? R_REFRESH : R_NONE;
	else if (n == 4 && seg_is(seg, n, 0, "v1.0") &&
	         seg_is(seg, n, 1, "iot-01") &&
	         seg_is(seg, n, 2, "associated-users") &&
	         seg_is(seg, n, 3, "devices"))
		route = get ? R_DEVLIST : R_NONE;
	else if (n >= 3 && seg_is(seg, n, 0, "v1.0") &&
	         seg_is(seg, n, 1, "devices") && *seg[2]) {
		if (n == 3 && get)
			route = R_DEVICE;
		else if (n >= 5 && seg_is(seg, n, 3, "door-lock")) {
			const char *what = seg[4];

			if (n == 5 && post && !strcmp(what, "password-ticket"))
				route = R_TICKET;
			else if (n == 5 && post && !strcmp(what, "temp-password"))
				route = R_CREATE;
			else if (n == 5 && get && !strcmp(what, "temp-passwords"))
				route = R_LIST;
			else if (n == 6 && get && !strcmp(what, "temp-password"))
				route = R_GET;
			else if (n == 6 && del && !strcmp(what, "temp-passwords"))
				route = R_DELETE;
			else if (n == 7 && del && !strcmp(what, "temp-passwords") &&
			         !strcmp(seg[6], "record"))
				route = R_PURGE;
			else if (n == 7 && put && !strcmp(what, "temp-passwords") &&
			         !strcmp(seg[6], "modify-password"))
				route = R_MODIFY;
		}
	}
	if (route == R_NONE) {
		fail(tu, resp, 1108);
		goto out;
	}
	if (route >= R_DEVICE && !find_device(tu, seg[2], &dev)) {
		fail(tu, resp, 1106);
		goto out;
	}
	if (route >= R_GET) {
		p = find_password(tu, dev, seg[5]);
		if (!p) {
			fail(tu, resp, 1000);
			goto out;
		}
	}
	switch (route) {
	case R_TOKEN: {
		const struct fake_param *g = fake_param(req, "grant_type");

		if (!g || strcmp(g->value, "1"))
			fail(tu, resp, 1003);
		else
			issue_token(tu, resp);
		break;
	}
	case R_REFRESH:
		refresh_token(tu, seg[2], resp);
		break;
	case R_DEVLIST:
		list_devices(tu, req, resp);
		break;
	case R_DEVICE:
		respond_ok(tu, resp, device_json(&tu->dev[dev]));
		break;
	case R_TICKET:
		issue_ticket(tu, dev, resp);
		break;
	case R_CREATE:
		create_password(tu, dev, req, resp);
		break;
	case R_LIST:
		list_passwords(tu, dev, req, resp);
		break;
	case R_GET:
		respond_ok(tu, resp, password_json(tu, p, false));
		break;
	case R_DELETE:
		revoke_password(tu, p);
		respond_ok(tu, resp, cJSON_CreateTrue());
		break;
	case R_PURGE:
		free_password(p);
		memmove(p, p + 1, (size_t)(tu->pw + tu->npw - (p + 1)) * sizeof(*p));
		tu->npw--;
		respond_ok(tu, resp, cJSON_CreateTrue());
		break;
	case R_MODIFY:
		modify_password(tu, dev, p, req, resp);
		break;
	case R_NONE:
		break;
	}
out:
	free(path);
}

/* ---- configuration ------------------------------------------------------------ */

static bool id_chars(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'z') ||
		      (*s >= 'A' && *s <= 'Z') || *s == '-' || *s == '_'))
			return false;
	return true;
}

/* Copy string member key of o into *dst (default def); false if not a
 * string or empty. */
static bool get_str(const cJSON *o, const char *key, const char *def,
                    char **dst)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	if (!v) {
		*dst = fake_xstrdup(def);
		return true;
	}
	if (!cJSON_IsString(v) || !*v->valuestring)
		return false;
	*dst = fake_xstrdup(v->valuestring);
	return true;
}

static bool get_int(const cJSON *o, const char *key, int64_t min, int64_t max,
                    int64_t def, int64_t *dst)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	if (!v) {
		*dst = def;
		return true;
	}
	return fake_json_int(v, min, max, dst);
}

static bool get_bool(const cJSON *o, const char *key, bool def, bool *dst)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	if (!v) {
		*dst = def;
		return true;
	}
	if (!cJSON_IsBool(v))
		return false;
	*dst = cJSON_IsTrue(v);
	return true;
}

/* The first member of o not in allowed, or NULL. */
static const char *unknown_key(const cJSON *o, const char *const *allowed)
{
	const cJSON *it;

	cJSON_ArrayForEach(it, o) {
		const char *const *a;

		for (a = allowed; *a; a++)
			if (!strcmp(it->string, *a))
				break;
		if (!*a)
			return it->string;
	}
	return NULL;
}

static int load_devices(struct fake_tuya *tu, const cJSON *arr,
                        const char *file, char *err, size_t errlen)
{
	static const char *const keys[] = {
		"id", "name", "pin_length", "online", "linked", "category",
		"product_name", "time_zone", "uid", "local_key", "protocol",
		"fail_delivery", NULL
	};
	const cJSON *o;
	size_t i, j;

	tu->dev = fake_xcalloc((size_t)cJSON_GetArraySize(arr) + 1,
	                       sizeof(*tu->dev));
	i = 0;
	cJSON_ArrayForEach(o, arr) {
		struct device *d = &tu->dev[i];
		const char *bad;
		char *proto = NULL;
		int64_t pl, fd;

		tu->ndev = ++i;
		if (!cJSON_IsObject(o)) {
			snprintf(err, errlen, "%s: devices[%zu] is not an object",
			         file, i - 1);
			return -1;
		}
		if ((bad = unknown_key(o, keys))) {
			snprintf(err, errlen, "%s: devices[%zu]: unknown key '%s'",
			         file, i - 1, bad);
			return -1;
		}
		if (!get_str(o, "id", "", &d->id) || !id_chars(d->id)) {
			snprintf(err, errlen, "%s: devices[%zu]: 'id' must be a "
			         "non-empty string of [A-Za-z0-9_-]", file, i - 1);
			return -1;
		}
		if (!get_str(o, "name", d->id, &d->name) ||
		    !get_str(o, "category", "ms", &d->category) ||
		    !get_str(o, "product_name", "Smart Lock", &d->product_name) ||
		    !get_str(o, "time_zone", "-03:00", &d->time_zone) ||
		    !get_str(o, "uid", "az1700000000000fakeuid", &d->uid) ||
		    !get_str(o, "local_key", "0123456789abcdef", &d->local_key) ||
		    !get_int(o, "pin_length", 4, 12, 7, &pl) ||
		    !get_bool(o, "online", true, &d->online) ||
		    !get_bool(o, "linked", true, &d->linked) ||
		    !get_int(o, "fail_delivery", 0, 6, 0, &fd) ||
		    (fd != 0 && fd < 3)) {
			snprintf(err, errlen, "%s: devices[%zu] ('%s'): a field has "
			         "the wrong type or range", file, i - 1, d->id);
			return -1;
		}
		if (!get_str(o, "protocol", "wifi", &proto) ||
		    (strcmp(proto, "wifi") && strcmp(proto, "zigbee"))) {
			free(proto);
			snprintf(err, errlen, "%s: devices[%zu] ('%s'): 'protocol' "
			         "must be \"wifi\" or \"zigbee\"", file, i - 1, d->id);
			return -1;
		}
		d->zigbee = !strcmp(proto, "zigbee");
		free(proto);
		if (fd && !d->zigbee) {
			snprintf(err, errlen, "%s: devices[%zu] ('%s'): "
			         "'fail_delivery' is for zigbee devices only", file,
			         i - 1, d->id);
			return -1;
		}
		d->pin_length = (int)pl;
		d->fail_delivery = (int)fd;
		d->file_online = d->online;
		d->file_linked = d->linked;
		d->file_fail_delivery = d->fail_delivery;
		for (j = 0; j + 1 < i; j++)
			if (!strcmp(tu->dev[j].id, d->id)) {
				snprintf(err, errlen, "%s: duplicate device id '%s'",
				         file, d->id);
				return -1;
			}
	}
	return 0;
}

static int load_config(struct fake_tuya *tu, const char *path, char *err,
                       size_t errlen)
{
	static const char *const keys[] = {
		"client_id", "secret", "token_ttl", "ticket_ttl", "t_skew_ms",
		"clock_offset_ms", "uid", "devices", NULL
	};
	struct fake_buf b = FAKE_BUF_INIT;
	const cJSON *devs;
	const char *bad;
	cJSON *root = NULL;
	char chunk[8192];
	size_t n, off = 0;
	FILE *fp;
	int rc = -1;

	if (!(fp = fopen(path, "rb"))) {
		snprintf(err, errlen, "cannot open '%s': %s", path, strerror(errno));
		return -1;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0 &&
	       b.len < (16u << 20))
		fake_buf_add(&b, chunk, n);
	if (ferror(fp)) {
		snprintf(err, errlen, "cannot read '%s': %s", path, strerror(errno));
		fclose(fp);
		goto out;
	}
	fclose(fp);
	if (!b.buf)
		fake_buf_adds(&b, "");
	root = fake_json_parse(b.buf, b.len, &off);
	if (!cJSON_IsObject(root)) {
		snprintf(err, errlen, "%s: not a JSON object (error near byte %zu)",
		         path, off);
		goto out;
	}
	if ((bad = unknown_key(root, keys))) {
		snprintf(err, errlen, "%s: unknown key '%s'", path, bad);
		goto out;
	}
	free(tu->client_id);
	free(tu->secret);
	free(tu->uid);
	tu->client_id = tu->secret = tu->uid = NULL;
	if (!get_str(root, "client_id", "fake4client6id8xyzw12", &tu->client_id) ||
	    !get_str(root, "secret", "0f1e2d3c4b5a69788796a5b4c3d2e1f0",
	             &tu->secret) || strlen(tu->secret) != 32 ||
	    !get_str(root, "uid", "az1700000000000fakeprj", &tu->uid) ||
	    !get_int(root, "token_ttl", 1, 100000000, 7200, &tu->token_ttl) ||
	    !get_int(root, "ticket_ttl", 1, 86400, 300, &tu->ticket_ttl) ||
	    !get_int(root, "t_skew_ms", 0, 100000000000LL, 300000,
	             &tu->t_skew_ms) ||
	    !get_int(root, "clock_offset_ms", -10000000000000LL, 10000000000000LL,
	             0, &tu->clock_offset_ms)) {
		snprintf(err, errlen, "%s: a top-level field has the wrong type or "
		         "range (secret must be 32 characters)", path);
		goto out;
	}
	devs = cJSON_GetObjectItemCaseSensitive(root, "devices");
	if (devs && !cJSON_IsArray(devs)) {
		snprintf(err, errlen, "%s: 'devices' must be an array", path);
		goto out;
	}
	if (devs && load_devices(tu, devs, path, err, errlen) != 0)
		goto out;
	rc = 0;
out:
	cJSON_Delete(root);
	fake_buf_release(&b);
	return rc;
}

struct fake_tuya *fake_tuya_new(const char *data_path, char *err,
                                size_t errlen)
{
	struct fake_tuya *tu = fake_xcalloc(1, sizeof(*tu));

	tu->client_id = fake_xstrdup("fake4client6id8xyzw12");
	tu->secret = fake_xstrdup("0f1e2d3c4b5a69788796a5b4c3d2e1f0");
	tu->uid = fake_xstrdup("az1700000000000fakeprj");
	tu->token_ttl = 7200;
	tu->ticket_ttl = 300;
	tu->t_skew_ms = 300000;
	tu->next_pid = FIRST_PASSWORD_ID;
	if (data_path && load_config(tu, data_path, err, errlen) != 0) {
		fake_tuya_free(tu);
		return NULL;
	}
	tu->file_clock_offset_ms = tu->clock_offset_ms;
	return tu;
}

void fake_tuya_free(struct fake_tuya *tu)
{
	size_t i;

	if (!tu)
		return;
	for (i = 0; i < tu->ndev; i++) {
		struct device *d = &tu->dev[i];

		free(d->id);
		free(d->name);
		free(d->category);
		free(d->product_name);
		free(d->time_zone);
		free(d->uid);
		free(d->local_key);
	}
	free(tu->dev);
	for (i = 0; i < tu->npw; i++)
		free_password(&tu->pw[i]);
	free(tu->pw);
	free(tu->tok);
	free(tu->tix);
	free(tu->client_id);
	free(tu->secret);
	free(tu->uid);
	free(tu);
}

/* ---- control endpoints --------------------------------------------------------- */

static void control_state(struct fake_tuya *tu, struct fake_response *resp)
{
	cJSON *root = cJSON_CreateObject();
	cJSON *devs = cJSON_AddArrayToObject(root, "devices");
	int64_t now = now_ms(tu);
	size_t i, j, live = 0;

	for (i = 0; i < tu->ndev; i++) {
		const struct device *d = &tu->dev[i];
		cJSON *o = cJSON_CreateObject(), *pws;

		cJSON_AddStringToObject(o, "id", d->id);
		cJSON_AddStringToObject(o, "name", d->name);
		cJSON_AddBoolToObject(o, "online", d->online);
		cJSON_AddBoolToObject(o, "linked", d->linked);
		cJSON_AddNumberToObject(o, "pin_length", d->pin_length);
		cJSON_AddStringToObject(o, "protocol", d->zigbee ? "zigbee" : "wifi");
		cJSON_AddNumberToObject(o, "fail_delivery", d->fail_delivery);
		pws = cJSON_AddArrayToObject(o, "passwords");
		for (j = 0; j < tu->npw; j++)
			if (tu->pw[j].dev == i)
				cJSON_AddItemToArray(pws,
				                     password_json(tu, &tu->pw[j], true));
		cJSON_AddItemToArray(devs, o);
	}
	for (i = 0; i < tu->ntok; i++)
		live += tu->tok[i].expires_ms > now;
	cJSON_AddNumberToObject(root, "token_requests", (double)tu->token_requests);
	cJSON_AddNumberToObject(root, "refresh_requests",
	                        (double)tu->refresh_requests);
	cJSON_AddNumberToObject(root, "tickets_issued", (double)tu->tickets_issued);
	cJSON_AddNumberToObject(root, "live_tokens", (double)live);
	cJSON_AddItemToObject(root, "server_time_ms", json_i64(now));
	fake_respond_json(resp, 200, root);
}

/* The device named by string member key of b, or -1 (then resp is set). */
static long control_find_device(const struct fake_tuya *tu, const cJSON *b,
                                const char *key, struct fake_response *resp)
{
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(b, key);
	size_t i;

	for (i = 0; i < tu->ndev; i++)
		if (!strcmp(tu->dev[i].id, id->valuestring))
			return (long)i;
	fake_respond_message(resp, 404, "no such device");
	return -1;
}

/*
 * POST /_fake/tuya/device {"id":..., "online":bool, "linked":bool,
 * "fail_delivery":0|3..6}: at least one of the last three.  "online": true
 * makes the lock sync what is pending, even if it was online already.
 * fail_delivery is set first, so that sync already fails.
 */
static void control_device(struct fake_tuya *tu, const struct fake_request *req,
                           struct fake_response *resp)
{
	static const char *const keys[] = {
		"id", "online", "linked", "fail_delivery", NULL
	};
	cJSON *b = fake_json_parse(fake_buf_str(&req->body), req->body.len, NULL);
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(b, "id");
	const cJSON *on = cJSON_GetObjectItemCaseSensitive(b, "online");
	const cJSON *ln = cJSON_GetObjectItemCaseSensitive(b, "linked");
	const cJSON *fd = cJSON_GetObjectItemCaseSensitive(b, "fail_delivery");
	int64_t fdv = 0;
	struct device *d;
	long i;

	if (!cJSON_IsObject(b) || unknown_key(b, keys) || !cJSON_IsString(id) ||
	    (!on && !ln && !fd) || (on && !cJSON_IsBool(on)) ||
	    (ln && !cJSON_IsBool(ln)) ||
	    (fd && (!fake_json_int(fd, 0, 6, &fdv) || (fdv && fdv < 3)))) {
		fake_respond_message(resp, 400, "want {\"id\":string, "
		                     "\"online\":bool, \"linked\":bool and/or "
		                     "\"fail_delivery\":0 or 3..6}");
		goto out;
	}
	if ((i = control_find_device(tu, b, "id", resp)) < 0)
		goto out;
	d = &tu->dev[i];
	if (fdv && !d->zigbee) {
		fake_respond_message(resp, 400, "fail_delivery is for zigbee "
		                     "devices only");
		goto out;
	}
	if (fd)
		d->fail_delivery = (int)fdv;
	if (ln)
		d->linked = cJSON_IsTrue(ln);
	if (on) {
		d->online = cJSON_IsTrue(on);
		if (d->online)
			device_wakes(tu, (size_t)i);
	}
	fake_respond(resp, 200, "application/json", "{\"ok\":true}");
out:
	cJSON_Delete(b);
}

/*
 * POST /_fake/tuya/password: what an operator or the lock does outside the
 * API.  {"device", "id", "phase"[, "delivery_status"]} sets an existing
 * password's phase (any 0..99, e.g. an undocumented 12), and its
 * delivery_status on a Zigbee lock.  {"device", "name", "pin",
 * "effective_time", "invalid_time"} (no "id") adds a password as the Tuya
 * app would, sent to the lock like an API create; answers {"id": PID}.
 */
static void control_password(struct fake_tuya *tu,
                             const struct fake_request *req,
                             struct fake_response *resp)
{
	static const char *const set_keys[] = {
		"device", "id", "phase", "delivery_status", NULL
	};
	static const char *const add_keys[] = {
		"device", "name", "pin", "effective_time", "invalid_time", NULL
	};
	cJSON *b = fake_json_parse(fake_buf_str(&req->body), req->body.len, NULL);
	const cJSON *dv = cJSON_GetObjectItemCaseSensitive(b, "device");
	const cJSON *pid = cJSON_GetObjectItemCaseSensitive(b, "id");
	int64_t id, phase, ds = -1, eff, inv;
	long dev;
	size_t i;

	if (!cJSON_IsObject(b) || !cJSON_IsString(dv)) {
		fake_respond_message(resp, 400, "want a JSON object with "
		                     "\"device\":string");
		goto out;
	}
	if (pid) {
		const cJSON *ph = cJSON_GetObjectItemCaseSensitive(b, "phase");
		const cJSON *st = cJSON_GetObjectItemCaseSensitive(b,
		                                                   "delivery_status");
		struct password *p = NULL;

		if (unknown_key(b, set_keys) ||
		    !fake_json_int(pid, 1, INT64_MAX, &id) ||
		    !fake_json_int(ph, 0, 99, &phase) ||
		    (st && !fake_json_int(st, 0, 99, &ds))) {
			fake_respond_message(resp, 400, "want {\"device\":string, "
			                     "\"id\":integer, \"phase\":0..99[, "
			                     "\"delivery_status\":0..99]}");
			goto out;
		}
		if ((dev = control_find_device(tu, b, "device", resp)) < 0)
			goto out;
		if (st && !tu->dev[dev].zigbee) {
			fake_respond_message(resp, 400, "delivery_status is for "
			                     "zigbee devices only");
			goto out;
		}
		for (i = 0; i < tu->npw && !p; i++)
			if (tu->pw[i].id == id && tu->pw[i].dev == (size_t)dev)
				p = &tu->pw[i];
		if (!p) {
			fake_respond_message(resp, 404, "no such password on that "
			                     "device");
			goto out;
		}
		p->phase = (int)phase;
		if (st)
			p->delivery_status = (int)ds;
		fake_respond(resp, 200, "application/json", "{\"ok\":true}");
	} else {
		const cJSON *nm = cJSON_GetObjectItemCaseSensitive(b, "name");
		const cJSON *pin = cJSON_GetObjectItemCaseSensitive(b, "pin");
		const struct password *p;
		cJSON *r;

		if (unknown_key(b, add_keys) || !cJSON_IsString(nm) ||
		    !*nm->valuestring || utf8_chars(nm->valuestring) > NAME_MAX_CHARS ||
		    !cJSON_IsString(pin) ||
		    !fake_json_int(cJSON_GetObjectItemCaseSensitive(b,
		                   "effective_time"), 0, TIME_LIMIT - 1, &eff) ||
		    !fake_json_int(cJSON_GetObjectItemCaseSensitive(b,
		                   "invalid_time"), 0, TIME_LIMIT - 1, &inv) ||
		    eff >= inv) {
			fake_respond_message(resp, 400, "want {\"device\":string, "
			                     "\"name\":1..20 characters, "
			                     "\"pin\":digits, \"effective_time\":s, "
			                     "\"invalid_time\":s (later)}");
			goto out;
		}
		if ((dev = control_find_device(tu, b, "device", resp)) < 0)
			goto out;
		if (strlen(pin->valuestring) !=
		    (size_t)tu->dev[dev].pin_length ||
		    strspn(pin->valuestring, "0123456789") !=
		    strlen(pin->valuestring)) {
			fake_respond_message(resp, 400, "pin must be as many digits "
			                     "as the lock's pin_length");
			goto out;
		}
		p = add_password(tu, (size_t)dev, nm->valuestring,
		                 pin->valuestring, eff, inv, "", "", 0);
		r = cJSON_CreateObject();
		cJSON_AddItemToObject(r, "id", json_i64(p->id));
		fake_respond_json(resp, 200, r);
	}
out:
	cJSON_Delete(b);
}

/*
 * POST /_fake/tuya/reset: back to the start without restarting.  Drops every
 * password, ticket and token, zeroes the counters, and restores each
 * device's online, linked and fail_delivery and the clock offset to what the
 * data file said when the server started (the file is not re-read).
 * Password ids go on from where they were.
 */
static void control_reset(struct fake_tuya *tu, struct fake_response *resp)
{
	size_t i;

	for (i = 0; i < tu->npw; i++)
		free_password(&tu->pw[i]);
	free(tu->pw);
	free(tu->tok);
	free(tu->tix);
	tu->pw = NULL;
	tu->tok = NULL;
	tu->tix = NULL;
	tu->npw = tu->ntok = tu->ntix = 0;
	tu->token_requests = tu->refresh_requests = tu->tickets_issued = 0;
	for (i = 0; i < tu->ndev; i++) {
		tu->dev[i].online = tu->dev[i].file_online;
		tu->dev[i].linked = tu->dev[i].file_linked;
		tu->dev[i].fail_delivery = tu->dev[i].file_fail_delivery;
	}
	tu->clock_offset_ms = tu->file_clock_offset_ms;
	fake_respond(resp, 200, "application/json", "{\"ok\":true}");
}

/* POST /_fake/tuya/clock {"offset_ms": N} */
static void control_clock(struct fake_tuya *tu, const struct fake_request *req,
                          struct fake_response *resp)
{
	cJSON *b = fake_json_parse(fake_buf_str(&req->body), req->body.len, NULL);
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(b, "offset_ms");
	int64_t off;

	if (!cJSON_IsObject(b) || cJSON_GetArraySize(b) != 1 ||
	    !fake_json_int(v, -10000000000000LL, 10000000000000LL, &off))
		fake_respond_message(resp, 400, "want {\"offset_ms\":integer}");
	else {
		tu->clock_offset_ms = off;
		fake_respond(resp, 200, "application/json", "{\"ok\":true}");
	}
	cJSON_Delete(b);
}

void fake_tuya_control(struct fake_tuya *tu, const struct fake_request *req,
                       struct fake_response *resp)
{
	const char *what = req->path + strlen("/_fake/tuya/");
	bool get = !strcmp(req->method, "GET");
	bool post = !strcmp(req->method, "POST");
	int64_t now = now_ms(tu);
	size_t i, n = 0;
	char out[64];

	if (!strcmp(what, "state") && get) {
		control_state(tu, resp);
	} else if (!strcmp(what, "device") && post) {
		control_device(tu, req, resp);
	} else if (!strcmp(what, "password") && post) {
		control_password(tu, req, resp);
	} else if (!strcmp(what, "reset") && post) {
		control_reset(tu, resp);
	} else if (!strcmp(what, "clock") && post) {
		control_clock(tu, req, resp);
	} else if (!strcmp(what, "expire-tokens") && post) {
		for (i = 0; i < tu->ntok; i++) {
			n += tu->tok[i].expires_ms > now;
			tu->tok[i].expires_ms = 0;
		}
		snprintf(out, sizeof(out), "{\"expired\":%zu}", n);
		fake_respond(resp, 200, "application/json", out);
	} else if (!strcmp(what, "expire-tickets") && post) {
		for (i = 0; i < tu->ntix; i++) {
			n += tu->tix[i].expires_ms > now && !tu->tix[i].used;
			tu->tix[i].expires_ms = 0;
		}
		snprintf(out, sizeof(out), "{\"expired\":%zu}", n);
		fake_respond(resp, 200, "application/json", out);
	} else if (!strcmp(what, "state") || !strcmp(what, "device") ||
	           !strcmp(what, "password") || !strcmp(what, "reset") ||
	           !strcmp(what, "clock") || !strcmp(what, "expire-tokens") ||
	           !strcmp(what, "expire-tickets")) {
		fake_respond_message(resp, 405, "Method not allowed");
	} else {
		fake_respond_message(resp, 404, "Not found");
	}
}
