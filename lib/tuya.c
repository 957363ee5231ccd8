/*
 * tuya.c - Tuya Cloud client: signing, token, ticket, PIN crypto, temporary
 * passwords (tuya-api.md).
 *
 * All cryptography is OpenSSL libcrypto (EVP digests and ciphers, HMAC);
 * nothing here implements a primitive.  Secrets (client secret, tokens,
 * signatures, ticket keys, PINs and the bodies that carry an encrypted PIN)
 * are never formatted into a message, and the buffers that held them are
 * wiped before they are freed or go out of scope.
 *
 * Every answer is untrusted: the envelope and each result are type-checked
 * field by field, integers must be exact, strings are length-capped, and
 * the cloud's own msg is reduced to printable ASCII before it is quoted.
 */
#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "ids.h"
#include "tuya.h"
#include "banned.h"

#define MAX_SAFE_DOUBLE_INT 9007199254740992.0 /* 2^53 */
#define MAX_LIST_ENTRIES 10000
#define MAX_EXPIRE_S (30LL * 86400)
#define EMPTY_SHA256 \
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

struct tuya_client {
	char *base_url;          /* without a trailing '/' */
	char *client_id;
	char *secret;            /* wiped on free */
	struct http *http;       /* borrowed */
	long long now_ms;
	struct tuya_token token; /* wiped on free */
	int token_requests;      /* sent by this client */
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
 * Small helpers
 */

static void hex_encode(const unsigned char *in, size_t n, char *out, int upper)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

static int hex_value(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Copy s into out (size bytes) keeping printable ASCII, other bytes as '?',
 * truncated; for quoting untrusted text in messages. */
static void sanitize(const char *s, char *out, size_t size)
{
	size_t j = 0;

	if (!size)
		return;
	for (size_t i = 0; s[i] && j + 1 < size; i++) {
		unsigned char ch = (unsigned char)s[i];

		out[j++] = (ch >= 0x20 && ch < 0x7f) ? (char)ch : '?';
	}
	out[j] = '\0';
}

/* 1 if s is 1..max-1 printable ASCII characters (space allowed if
 * allow_space). */
static int printable(const char *s, size_t max, int allow_space)
{
	size_t n = 0;

	for (; s[n]; n++) {
		unsigned char ch = (unsigned char)s[n];

		if (ch < 0x20 || ch >= 0x7f || (ch == ' ' && !allow_space))
			return 0;
		if (n + 1 >= max)
			return 0;
	}
	return n > 0;
}

static int valid_pin(const char *pin, size_t min, size_t max)
{
	size_t n = strlen(pin);

	if (n < min || n > max)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (pin[i] < '0' || pin[i] > '9')
			return 0;
	return 1;
}

static void strbuf_wipe(struct strbuf *sb)
{
	if (sb->buf)
		OPENSSL_cleanse(sb->buf, sb->alloc);
	strbuf_release(sb);
}

/* Append s as a JSON string literal (quoted, escaped). */
static void json_add_string(struct strbuf *sb, const char *s)
{
	strbuf_adds(sb, "\"");
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\') {
			char esc[2] = { '\\', (char)ch };

			strbuf_add(sb, esc, 2);
		} else if (ch < 0x20 || ch == 0x7f) {
			strbuf_addf(sb, "\\u%04x", ch);
		} else {
			strbuf_add(sb, s, 1);
		}
	}
	strbuf_adds(sb, "\"");
}

/* ------------------------------------------------------------------------
 * Signing
 */

static int sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	if (!EVP_Digest(data ? data : "", len, md, &mdlen, EVP_sha256(), NULL) ||
	    mdlen != 32) {
		out[0] = '\0';
		return -1;
	}
	hex_encode(md, 32, out, 0);
	return 0;
}

/* Percent-decode s[0..n) into a new string ("+" is a space).  NULL when an
 * escape is malformed or decodes to NUL. */
static char *url_decode(const char *s, size_t n)
{
	char *out = xmalloc(n + 1);
	size_t j = 0;

	for (size_t i = 0; i < n; i++) {
		if (s[i] == '%') {
			int hi, lo;

			if (i + 2 >= n) {
				free(out);
				return NULL;
			}
			hi = hex_value((unsigned char)s[i + 1]);
			lo = hex_value((unsigned char)s[i + 2]);
			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
				free(out);
				return NULL;
			}
			out[j++] = (char)(hi << 4 | lo);
			i += 2;
		} else if (s[i] == '+') {
			out[j++] = ' ';
		} else {
			out[j++] = s[i];
		}
	}
	out[j] = '\0';
	return out;
}

struct qparam {
	char *key;
	char *val;
	size_t idx;   /* original position, for a stable sort */
};

static int qparam_cmp(const void *a, const void *b)
{
	const struct qparam *x = a, *y = b;
	int c = strcmp(x->key, y->key);

	if (c)
		return c;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

enum err tuya_string_to_sign(const char *method, const char *path_and_query,
			     const void *body, size_t body_len,
			     const char *signed_headers, struct strbuf *out)
{
	struct qparam *params = NULL;
	size_t nparams = 0, alloc = 0;
	const char *q = strchr(path_and_query, '?');
	size_t pathlen = q ? (size_t)(q - path_and_query) : strlen(path_and_query);
	char hash[65];
	enum err e = ERR_OK;

	assert(body || body_len == 0);
	strbuf_reset(out);
	if (sha256_hex(body, body_len, hash) < 0)
		return ERR_INTERNAL;
	for (const char *m = method; *m; m++) {
		char up = (char)toupper((unsigned char)*m);

		strbuf_add(out, &up, 1);
	}
	strbuf_addf(out, "\n%s\n%s\n", hash, signed_headers ? signed_headers : "");
	strbuf_add(out, path_and_query, pathlen);
	if (!q)
		return ERR_OK;

	for (const char *p = q + 1; *p;) {
		size_t seg = strcspn(p, "&#");
		const char *eq = memchr(p, '=', seg);
		size_t klen = eq ? (size_t)(eq - p) : seg;

		if (seg > 0) {
			params = xgrow(params, sizeof(*params), nparams + 1, &alloc);
			params[nparams].key = url_decode(p, klen);
			params[nparams].val = eq ? url_decode(eq + 1, seg - klen - 1)
						 : xstrdup("");
			params[nparams].idx = nparams;
			nparams++;
			if (!params[nparams - 1].key || !params[nparams - 1].val) {
				e = ERR_DATA;
				goto out;
			}
		}
		p += seg;
		if (*p != '&')
			break;
		p++;
	}
	if (nparams) {
		qsort(params, nparams, sizeof(*params), qparam_cmp);
		strbuf_adds(out, "?");
		for (size_t i = 0; i < nparams; i++)
			strbuf_addf(out, "%s%s=%s", i ? "&" : "", params[i].key,
				    params[i].val);
	}
out:
	for (size_t i = 0; i < nparams; i++) {
		free(params[i].key);
		free(params[i].val);
	}
	free(params);
	if (e)
		strbuf_reset(out);
	return e;
}

enum err tuya_sign(const char *client_id, const char *secret,
		   const char *access_token, long long t_ms, const char *nonce,
		   const char *string_to_sign, char out[TUYA_SIGN_LEN + 1])
{
	struct strbuf msg = STRBUF_INIT;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	size_t klen = strlen(secret);
	enum err e = ERR_OK;

	out[0] = '\0';
	strbuf_adds(&msg, client_id);
	strbuf_adds(&msg, access_token ? access_token : "");
	strbuf_addf(&msg, "%lld", t_ms);
	strbuf_adds(&msg, nonce ? nonce : "");
	strbuf_adds(&msg, string_to_sign);
	if (klen > INT_MAX ||
	    !HMAC(EVP_sha256(), secret, (int)klen,
		  (const unsigned char *)strbuf_str(&msg), msg.len, md, &mdlen) ||
	    mdlen != 32) {
		e = ERR_INTERNAL;
		goto out;
	}
	hex_encode(md, 32, out, 1);
out:
	OPENSSL_cleanse(md, sizeof(md));
	strbuf_wipe(&msg);
	return e;
}

/* ------------------------------------------------------------------------
 * AES
 */

/* AES-ECB with PKCS#7 padding over in[0..n) into out (room for n + 16).
 * Returns the output length, or -1 (bad padding on decryption, or a
 * libcrypto failure). */
static int aes_ecb(const EVP_CIPHER *cipher, int enc, const unsigned char *key,
		   const unsigned char *in, int n, unsigned char *out)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int len1 = 0, len2 = 0, ok;

	if (!ctx)
		return -1;
	ok = EVP_CipherInit_ex(ctx, cipher, NULL, key, NULL, enc) &&
	     EVP_CIPHER_CTX_set_padding(ctx, 1) &&
	     EVP_CipherUpdate(ctx, out, &len1, in, n) &&
	     EVP_CipherFinal_ex(ctx, out + len1, &len2);
	EVP_CIPHER_CTX_free(ctx);
	return ok ? len1 + len2 : -1;
}

enum err tuya_decrypt_ticket_key(const char *secret, const char *ticket_key_hex,
				 unsigned char out_key[17], char *errbuf)
{
	unsigned char cipher[64], plain[64 + 16];
	size_t hexlen = strlen(ticket_key_hex), n;
	int plen;
	enum err e = ERR_OK;

	memset(out_key, 0, 17);
	if (strlen(secret) != 32)
		return ERRF(errbuf, ERR_CONFIG,
			    "tuya client secret must be 32 characters, not %zu",
			    strlen(secret));
	if (hexlen == 0 || hexlen % 32 != 0 || hexlen > 2 * sizeof(cipher))
		return ERRF(errbuf, ERR_PROTOCOL,
			    "ticket key has %zu hex digits, not a multiple of 32 up to 128",
			    hexlen);
	n = hexlen / 2;
	for (size_t i = 0; i < n; i++) {
		int hi = hex_value((unsigned char)ticket_key_hex[2 * i]);
		int lo = hex_value((unsigned char)ticket_key_hex[2 * i + 1]);

		if (hi < 0 || lo < 0) {
			e = ERRF(errbuf, ERR_PROTOCOL, "ticket key is not hex");
			goto out;
		}
		cipher[i] = (unsigned char)(hi << 4 | lo);
	}
	plen = aes_ecb(EVP_aes_256_ecb(), 0, (const unsigned char *)secret,
		       cipher, (int)n, plain);
	if (plen < 0) {
		e = ERRF(errbuf, ERR_PROTOCOL,
			 "cannot decrypt the ticket key (wrong client secret?)");
		goto out;
	}
	if (plen != 16) {
		e = ERRF(errbuf, ERR_PROTOCOL,
			 "decrypted ticket key has %d bytes, not 16", plen);
		goto out;
	}
	memcpy(out_key, plain, 16);
	out_key[16] = 0;
out:
	OPENSSL_cleanse(cipher, sizeof(cipher));
	OPENSSL_cleanse(plain, sizeof(plain));
	return e;
}

enum err tuya_encrypt_pin(const unsigned char key16[16], const char *pin,
			  char *out, size_t size)
{
	unsigned char cipher[48];
	size_t n = strlen(pin), clen = 16 * (n / 16 + 1);
	int len;

	if (size)
		out[0] = '\0';
	if (!valid_pin(pin, 1, 32))
		return ERR_DATA;
	if (size < 2 * clen + 1)
		return ERR_INTERNAL;
	len = aes_ecb(EVP_aes_128_ecb(), 1, key16, (const unsigned char *)pin,
		      (int)n, cipher);
	if (len < 0 || (size_t)len != clen) {
		OPENSSL_cleanse(cipher, sizeof(cipher));
		return ERR_INTERNAL;
	}
	hex_encode(cipher, clen, out, 0);
	OPENSSL_cleanse(cipher, sizeof(cipher));
	return ERR_OK;
}

void tuya_password_body(const char *name, const char *password_hex,
			const char *ticket_id, long long effective,
			long long invalid, struct strbuf *out)
{
	strbuf_reset(out);
	strbuf_adds(out, "{\"name\":");
	json_add_string(out, name);
	strbuf_adds(out, ",\"password\":");
	json_add_string(out, password_hex);
	strbuf_adds(out, ",\"password_type\":\"ticket\",\"ticket_id\":");
	json_add_string(out, ticket_id);
	strbuf_addf(out, ",\"effective_time\":%lld,\"invalid_time\":%lld,\"type\":0}",
		    effective, invalid);
}

/* ------------------------------------------------------------------------
 * Parsing
 */

/* An exact integer: a number without fraction within +-2^53, or a string of
 * 1..19 digits that fits in int64.  Returns 0 or -1. */
static int json_int64(const cJSON *item, long long *out)
{
	if (cJSON_IsNumber(item)) {
		double d = item->valuedouble;

		if (!(d >= -MAX_SAFE_DOUBLE_INT && d <= MAX_SAFE_DOUBLE_INT))
			return -1;   /* also NaN */
		if ((double)(long long)d != d)
			return -1;
		*out = (long long)d;
		return 0;
	}
	if (cJSON_IsString(item) && item->valuestring) {
		const char *s = item->valuestring;
		size_t n = strlen(s);
		char *end;
		long long v;

		if (n == 0 || n > 19 || strspn(s, "0123456789") != n)
			return -1;
		errno = 0;
		v = strtoll(s, &end, 10);
		if (errno || *end)
			return -1;
		*out = v;
		return 0;
	}
	return -1;
}

static const cJSON *field(const cJSON *obj, const char *name)
{
	return cJSON_GetObjectItemCaseSensitive(obj, name);
}

void tuya_envelope_release(struct tuya_envelope *env)
{
	cJSON_Delete(env->root);
	env->root = NULL;
	env->result = NULL;
	env->success = 0;
	env->code = 0;
	env->msg[0] = '\0';
}

enum err tuya_parse_envelope(const char *body, size_t len,
			     struct tuya_envelope *env, char *errbuf)
{
	const char *end = NULL;
	const cJSON *succ, *code, *msg;
	cJSON *root;

	env->root = NULL;
	tuya_envelope_release(env);
	if (!body || len == 0)
		return ERRF(errbuf, ERR_PROTOCOL, "empty response");
	root = cJSON_ParseWithLengthOpts(body, len, &end, 0);
	if (!root)
		return ERRF(errbuf, ERR_PROTOCOL, "response is not JSON");
	for (; end && end < body + len; end++) {
		if (!isspace((unsigned char)*end)) {
			cJSON_Delete(root);
			return ERRF(errbuf, ERR_PROTOCOL,
				    "response has data after the JSON value");
		}
	}
	if (!cJSON_IsObject(root)) {
		cJSON_Delete(root);
		return ERRF(errbuf, ERR_PROTOCOL, "response is not a JSON object");
	}
	succ = field(root, "success");
	if (!cJSON_IsBool(succ)) {
		cJSON_Delete(root);
		return ERRF(errbuf, ERR_PROTOCOL,
			    "response has no boolean 'success'");
	}
	if (cJSON_IsTrue(succ)) {
		env->root = root;
		env->success = 1;
		env->result = field(root, "result");
		return ERR_OK;
	}
	code = field(root, "code");
	if (json_int64(code, &env->code) < 0 || env->code == 0) {
		cJSON_Delete(root);
		env->code = 0;
		return ERRF(errbuf, ERR_PROTOCOL,
			    "failure response has no integer 'code'");
	}
	msg = field(root, "msg");
	if (msg && !cJSON_IsNull(msg)) {
		if (!cJSON_IsString(msg) || !msg->valuestring) {
			cJSON_Delete(root);
			env->code = 0;
			return ERRF(errbuf, ERR_PROTOCOL,
				    "failure response has a 'msg' that is not a string");
		}
		sanitize(msg->valuestring, env->msg, sizeof(env->msg));
	}
	env->root = root;
	env->success = 0;
	return ERR_OK;
}

/* Copy a string field into out (size bytes): printable, no space. */
static int get_token_string(const cJSON *obj, const char *name, char *out,
			    size_t size)
{
	const cJSON *it = field(obj, name);

	if (!cJSON_IsString(it) || !it->valuestring ||
	    !printable(it->valuestring, size, 0))
		return -1;
	return xstrlcpy(out, it->valuestring, size);
}

enum err tuya_parse_token(const cJSON *result, long long now_ms,
			  struct tuya_token *out, char *errbuf)
{
	const cJSON *exp;
	long long secs;

	memset(out, 0, sizeof(*out));
	if (!cJSON_IsObject(result))
		return ERRF(errbuf, ERR_PROTOCOL, "token result is not an object");
	if (get_token_string(result, "access_token", out->access,
			     sizeof(out->access)) < 0) {
		memset(out, 0, sizeof(*out));
		return ERRF(errbuf, ERR_PROTOCOL,
			    "token result has no valid 'access_token'");
	}
	if (field(result, "refresh_token") &&
	    get_token_string(result, "refresh_token", out->refresh,
			     sizeof(out->refresh)) < 0) {
		OPENSSL_cleanse(out, sizeof(*out));
		return ERRF(errbuf, ERR_PROTOCOL,
			    "token result has an invalid 'refresh_token'");
	}
	exp = field(result, "expire_time");
	if (!exp)
		exp = field(result, "expire");
	if (json_int64(exp, &secs) < 0 || secs < 1 || secs > MAX_EXPIRE_S) {
		OPENSSL_cleanse(out, sizeof(*out));
		return ERRF(errbuf, ERR_PROTOCOL,
			    "token result has no valid 'expire_time'");
	}
	out->expires_at = now_ms + secs * 1000;
	return ERR_OK;
}

enum err tuya_parse_ticket(const cJSON *result, const char *secret,
			   struct tuya_ticket *out, char *errbuf)
{
	const cJSON *id, *key, *exp;
	enum err e;

	memset(out, 0, sizeof(*out));
	out->expire_time = -1;
	if (!cJSON_IsObject(result))
		return ERRF(errbuf, ERR_PROTOCOL, "ticket result is not an object");
	id = field(result, "ticket_id");
	if (!cJSON_IsString(id) || !id->valuestring ||
	    !printable(id->valuestring, sizeof(out->id), 0))
		return ERRF(errbuf, ERR_PROTOCOL,
			    "ticket result has no valid 'ticket_id'");
	key = field(result, "ticket_key");
	if (!cJSON_IsString(key) || !key->valuestring)
		return ERRF(errbuf, ERR_PROTOCOL,
			    "ticket result has no string 'ticket_key'");
	exp = field(result, "expire_time");
	if (exp && !cJSON_IsNull(exp) && json_int64(exp, &out->expire_time) < 0)
		return ERRF(errbuf, ERR_PROTOCOL,
			    "ticket result has a non-integer 'expire_time'");
	e = tuya_decrypt_ticket_key(secret, key->valuestring, out->key, errbuf);
	if (e) {
		OPENSSL_cleanse(out, sizeof(*out));
		return e;
	}
	xstrlcpy(out->id, id->valuestring, sizeof(out->id));
	return ERR_OK;
}

void tuya_password_release(struct tuya_password *p)
{
	free(p->name);
	memset(p, 0, sizeof(*p));
}

void tuya_password_list_release(struct tuya_password_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		tuya_password_release(&l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

enum err tuya_parse_password(const cJSON *obj, struct tuya_password *out,
			     char *errbuf)
{
	const cJSON *name, *ds;
	long long id, phase, eff, inv, dsv = -1;

	assert(out);
	if (!cJSON_IsObject(obj))
		return ERRF(errbuf, ERR_PROTOCOL, "password entry is not an object");
	if (json_int64(field(obj, "id"), &id) < 0 || !ids_password_valid(id))
		return ERRF(errbuf, ERR_PROTOCOL,
			    "password entry has no valid 'id'");
	if (json_int64(field(obj, "phase"), &phase) < 0 ||
	    phase < INT_MIN || phase > INT_MAX)
		return ERRF(errbuf, ERR_PROTOCOL,
			    "password %lld has no valid 'phase'", id);
	if (json_int64(field(obj, "effective_time"), &eff) < 0)
		return ERRF(errbuf, ERR_PROTOCOL,
			    "password %lld has no integer 'effective_time'", id);
	if (json_int64(field(obj, "invalid_time"), &inv) < 0)
		return ERRF(errbuf, ERR_PROTOCOL,
			    "password %lld has no integer 'invalid_time'", id);
	name = field(obj, "name");
	if (name && !cJSON_IsNull(name) &&
	    (!cJSON_IsString(name) || !name->valuestring))
		return ERRF(errbuf, ERR_PROTOCOL,
			    "password %lld has a 'name' that is not a string", id);
	ds = field(obj, "delivery_status");
	if (ds && !cJSON_IsNull(ds) &&
	    (json_int64(ds, &dsv) < 0 || dsv < INT_MIN || dsv > INT_MAX))
		return ERRF(errbuf, ERR_PROTOCOL,
			    "password %lld has an invalid 'delivery_status'", id);

	out->id = (int64_t)id;
	out->name = xstrdup(name && cJSON_IsString(name) && name->valuestring ? name->valuestring : "");
	out->phase = (int)phase;
	out->effective = eff;
	out->invalid = inv;
	out->delivery_status = (int)dsv;
	return ERR_OK;
}

enum err tuya_parse_password_list(const cJSON *result,
				  struct tuya_password_list *out, char *errbuf)
{
	struct tuya_password_list l = TUYA_PASSWORD_LIST_INIT;
	const cJSON *it;
	int n;
	enum err e;

	if (!cJSON_IsArray(result))
		return ERRF(errbuf, ERR_PROTOCOL,
			    "password list result is not an array");
	n = cJSON_GetArraySize(result);
	if (n > MAX_LIST_ENTRIES)
		return ERRF(errbuf, ERR_PROTOCOL,
			    "password list has more than %d entries",
			    MAX_LIST_ENTRIES);
	if (n > 0)
		l.v = xcalloc((size_t)n, sizeof(*l.v));
	cJSON_ArrayForEach(it, result) {
		e = tuya_parse_password(it, &l.v[l.n], errbuf);
		if (e) {
			tuya_password_list_release(&l);
			return e;
		}
		l.n++;
	}
	*out = l;
	return ERR_OK;
}

enum err tuya_parse_create(const cJSON *result, int64_t *id, char *errbuf)
{
	long long v;

	if (!cJSON_IsObject(result) || json_int64(field(result, "id"), &v) < 0 ||
	    !ids_password_valid(v))
		return ERRF(errbuf, ERR_PROTOCOL,
			    "create result has no valid 'id'");
	*id = (int64_t)v;
	return ERR_OK;
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
	    !printable(base_url, 1024, 0))
		return ERRF(errbuf, ERR_CONFIG,
			    "tuya url must start with https:// or http://");
	if (!client_id || !printable(client_id, 256, 0))
		return ERRF(errbuf, ERR_CONFIG,
			    "tuya client_id must be 1-255 printable characters without spaces");
	if (!secret || !printable(secret, 256, 0))
		return ERRF(errbuf, ERR_CONFIG,
			    "tuya client_secret must be 1-255 printable characters without spaces");
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
	OPENSSL_cleanse(c->secret, strlen(c->secret));
	free(c->secret);
	OPENSSL_cleanse(&c->token, sizeof(c->token));
	free(c);
}

void tuya_client_set_now(struct tuya_client *c, long long now_ms)
{
	c->now_ms = now_ms;
}

void tuya_client_set_token(struct tuya_client *c, const struct tuya_token *tok)
{
	OPENSSL_cleanse(&c->token, sizeof(c->token));
	if (!tok)
		return;
	/* Both strings must be terminated within their arrays, and a token
	 * that is not printable (it goes into a header) is no token. */
	if (memchr(tok->access, '\0', sizeof(tok->access)) &&
	    memchr(tok->refresh, '\0', sizeof(tok->refresh)) &&
	    printable(tok->access, sizeof(tok->access), 0))
		c->token = *tok;
	else
		OPENSSL_cleanse(&c->token, sizeof(c->token));
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

/* "tuya device 'X'" or "tuya", the subject of every message. */
static void subject(const char *device, char *out, size_t size)
{
	if (device)
		snprintf(out, size, "tuya device '%s'", device);
	else
		snprintf(out, size, "tuya");
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
	struct strbuf sts = STRBUF_INIT, url = STRBUF_INIT;
	struct strbuf h_client = STRBUF_INIT, h_sign = STRBUF_INIT;
	struct strbuf h_t = STRBUF_INIT, h_token = STRBUF_INIT;
	const char *headers[8];
	const char *token = token_call ? "" : c->token.access;
	char sign[TUYA_SIGN_LEN + 1];
	char who[TUYA_DEVICE_MAX + 16];
	char herr[ERRBUF_SIZE], perr[ERRBUF_SIZE];
	size_t nh = 0;
	enum err e;

	status_reset(st);
	subject(device, who, sizeof(who));
	tuya_envelope_release(env);

	e = tuya_string_to_sign(method, path, body, body_len, NULL, &sts);
	if (!e)
		e = tuya_sign(c->client_id, c->secret, token, c->now_ms, NULL,
			      strbuf_str(&sts), sign);
	if (e) {
		st->cls = TUYA_PERMANENT;
		e = ERRF(errbuf, e, "%s: cannot %s: cannot sign the request",
			 who, what);
		goto out;
	}
	strbuf_addf(&url, "%s%s", c->base_url, path);
	strbuf_addf(&h_client, "client_id: %s", c->client_id);
	strbuf_addf(&h_sign, "sign: %s", sign);
	strbuf_addf(&h_t, "t: %lld", c->now_ms);
	headers[nh++] = strbuf_str(&h_client);
	headers[nh++] = strbuf_str(&h_sign);
	headers[nh++] = strbuf_str(&h_t);
	headers[nh++] = "sign_method: HMAC-SHA256";
	if (!token_call) {
		strbuf_addf(&h_token, "access_token: %s", token);
		headers[nh++] = strbuf_str(&h_token);
	}
	if (body)
		headers[nh++] = "Content-Type: application/json";
	headers[nh] = NULL;

	e = http_request(c->http, method, strbuf_str(&url), headers, body,
			 body_len, &resp, herr);
	if (e) {
		st->cls = e == ERR_UNAVAILABLE ? TUYA_RETRY : TUYA_PERMANENT;
		e = ERRF(errbuf, e, "%s: cannot %s: %s", who, what, herr);
		goto out;
	}
	st->http_status = resp.status;
	st->retry_after = resp.retry_after;
	st->cls = tuya_classify_http(resp.status);
	if (st->cls != TUYA_OK) {
		e = st->cls == TUYA_RETRY ? ERR_UNAVAILABLE :
		    st->cls == TUYA_AUTH ? ERR_PERM : ERR_PROTOCOL;
		e = ERRF(errbuf, e, "%s: cannot %s: HTTP status %ld", who, what,
			 resp.status);
		goto out;
	}
	e = tuya_parse_envelope(resp.body.buf, resp.body.len, env, perr);
	if (e) {
		st->cls = TUYA_PERMANENT;
		e = ERRF(errbuf, e, "%s: cannot %s: malformed response: %s", who,
			 what, perr);
		goto out;
	}
	if (!env->success) {
		/* Never quote a msg that echoes one of our secrets back. */
		if ((token[0] && strstr(env->msg, token)) ||
		    strstr(env->msg, c->secret))
			xstrlcpy(env->msg, "(message withheld)", sizeof(env->msg));
		st->code = env->code;
		st->cls = tuya_classify(env->code);
		e = ERRF(errbuf, class_err(st->cls),
			 "%s: cannot %s: tuya code %lld: %s", who, what,
			 env->code, env->msg[0] ? env->msg : "(no message)");
		goto out;
	}
out:
	if (e)
		tuya_envelope_release(env);
	OPENSSL_cleanse(sign, sizeof(sign));
	strbuf_wipe(&sts);
	strbuf_release(&url);
	strbuf_release(&h_client);
	strbuf_wipe(&h_sign);
	strbuf_release(&h_t);
	strbuf_wipe(&h_token);
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
	OPENSSL_cleanse(&tok, sizeof(tok));
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

/* check_device() and ids_password_valid(). */
static int check_password(const char *device, int64_t id, struct tuya_status *st,
			  char *errbuf)
{
	if (check_device(device, st, errbuf) < 0)
		return -1;
	if (ids_password_valid(id))
		return 0;
	st->cls = TUYA_PERMANENT;
	ERRF(errbuf, ERR_DATA, "tuya device '%s': invalid password id %lld", device,
	     (long long)id);
	return -1;
}

enum err tuya_get_ticket(struct tuya_client *c, const char *device,
			 struct tuya_ticket *ticket, struct tuya_status *st,
			 char *errbuf)
{
	struct tuya_status dummy;
	struct tuya_envelope env = TUYA_ENVELOPE_INIT;
	struct strbuf path = STRBUF_INIT;
	char perr[ERRBUF_SIZE];
	enum err e;

	if (!st)
		st = &dummy;
	memset(ticket, 0, sizeof(*ticket));
	if (check_device(device, st, errbuf) < 0)
		return ERR_DATA;
	strbuf_addf(&path, "/v1.0/devices/%s/door-lock/password-ticket", device);
	/* An empty body, sent with Content-Length: 0, signed as "". */
	e = call_api(c, "get a ticket", device, "POST", strbuf_str(&path), "", 0,
		     &env, st, errbuf);
	if (e)
		goto out;
	e = tuya_parse_ticket(env.result, c->secret, ticket, perr);
	if (e) {
		st->cls = TUYA_PERMANENT;
		e = ERRF(errbuf, e, "tuya device '%s': cannot get a ticket: %s",
			 device, perr);
	}
out:
	tuya_envelope_release(&env);
	strbuf_release(&path);
	return e;
}

/* Shared by create and modify: validate, ticket, encrypt, send the body. */
static enum err send_password(struct tuya_client *c, const char *what,
			      const char *device, const char *method,
			      const char *path, const char *name,
			      const char *pin, long long effective,
			      long long invalid, struct tuya_envelope *env,
			      struct tuya_status *st, char *errbuf)
{
	struct tuya_ticket ticket;
	struct strbuf body = STRBUF_INIT;
	char enc[33];
	enum err e;

	st->sent = 0;
	if (!name || !printable(name, TUYA_NAME_MAX, 1)) {
		st->cls = TUYA_PERMANENT;
		return ERRF(errbuf, ERR_DATA,
			    "tuya device '%s': cannot %s: the name must be 1-%d printable ASCII characters",
			    device, what, TUYA_NAME_MAX - 1);
	}
	if (!pin || !valid_pin(pin, 4, 12)) {
		st->cls = TUYA_PERMANENT;
		return ERRF(errbuf, ERR_DATA,
			    "tuya device '%s': cannot %s: the pin must be 4-12 digits",
			    device, what);
	}
	if (effective <= 0 || invalid <= effective) {
		st->cls = TUYA_PERMANENT;
		return ERRF(errbuf, ERR_DATA,
			    "tuya device '%s': cannot %s: bad validity window %lld-%lld",
			    device, what, effective, invalid);
	}

	/* A fresh ticket right before the write: tickets live ~5 minutes and
	 * may already be partly used up when issued (tuya-api.md §5.1). */
	e = tuya_get_ticket(c, device, &ticket, st, errbuf);
	if (e)
		return e;
	e = tuya_encrypt_pin(ticket.key, pin, enc, sizeof(enc));
	if (e) {
		st->cls = TUYA_PERMANENT;
		e = ERRF(errbuf, ERR_INTERNAL,
			 "tuya device '%s': cannot %s: cannot encrypt the pin",
			 device, what);
		goto out;
	}
	tuya_password_body(name, enc, ticket.id, effective, invalid, &body);
	if (c->step)
		c->step(c->step_ctx, "ticket");
	/* From here the write may reach the cloud, whatever the call returns. */
	st->sent = 1;
	e = call_api(c, what, device, method, path, body.buf, body.len, env, st,
		     errbuf);
	if (c->step)
		c->step(c->step_ctx, "sent");
out:
	OPENSSL_cleanse(&ticket, sizeof(ticket));
	OPENSSL_cleanse(enc, sizeof(enc));
	strbuf_wipe(&body);
	return e;
}

enum err tuya_create_temp_password(struct tuya_client *c, const char *device,
				   const char *name, const char *pin,
				   long long effective, long long invalid,
				   int64_t *password_id, struct tuya_status *st,
				   char *errbuf)
{
	struct tuya_status dummy;
	struct tuya_envelope env = TUYA_ENVELOPE_INIT;
	struct strbuf path = STRBUF_INIT;
	char perr[ERRBUF_SIZE];
	enum err e;

	if (!st)
		st = &dummy;
	*password_id = 0;
	if (check_device(device, st, errbuf) < 0)
		return ERR_DATA;
	strbuf_addf(&path, "/v1.0/devices/%s/door-lock/temp-password", device);
	e = send_password(c, "create a temporary password", device, "POST",
			  strbuf_str(&path), name, pin, effective, invalid,
			  &env, st, errbuf);
	if (e)
		goto out;
	e = tuya_parse_create(env.result, password_id, perr);
	if (e) {
		st->cls = TUYA_PERMANENT;
		e = ERRF(errbuf, e,
			 "tuya device '%s': cannot create a temporary password: %s",
			 device, perr);
	}
out:
	tuya_envelope_release(&env);
	strbuf_release(&path);
	return e;
}

enum err tuya_modify_temp_password(struct tuya_client *c, const char *device,
				   int64_t id, const char *name, const char *pin,
				   long long effective, long long invalid,
				   struct tuya_status *st, char *errbuf)
{
	struct tuya_status dummy;
	struct tuya_envelope env = TUYA_ENVELOPE_INIT;
	struct strbuf path = STRBUF_INIT;
	enum err e;

	if (!st)
		st = &dummy;
	if (check_password(device, id, st, errbuf) < 0)
		return ERR_DATA;
	strbuf_addf(&path,
		    "/v1.0/devices/%s/door-lock/temp-passwords/%lld/modify-password",
		    device, (long long)id);
	e = send_password(c, "modify a temporary password", device, "PUT",
			  strbuf_str(&path), name, pin, effective, invalid,
			  &env, st, errbuf);
	if (e)
		goto out;
	if (cJSON_IsFalse(env.result) ||
	    (env.result && !cJSON_IsTrue(env.result) &&
	     !cJSON_IsNull(env.result) && !cJSON_IsObject(env.result))) {
		st->cls = TUYA_PERMANENT;
		e = ERRF(errbuf, ERR_PROTOCOL,
			 "tuya device '%s': cannot modify temporary password %lld: unexpected result",
			 device, (long long)id);
	}
out:
	tuya_envelope_release(&env);
	strbuf_release(&path);
	return e;
}

enum err tuya_list_temp_passwords(struct tuya_client *c, const char *device,
				  struct tuya_password_list *out,
				  struct tuya_status *st, char *errbuf)
{
	struct tuya_status dummy;
	struct tuya_envelope env = TUYA_ENVELOPE_INIT;
	struct tuya_password_list l = TUYA_PASSWORD_LIST_INIT;
	struct strbuf path = STRBUF_INIT;
	char perr[ERRBUF_SIZE];
	enum err e;

	if (!st)
		st = &dummy;
	if (check_device(device, st, errbuf) < 0)
		return ERR_DATA;
	strbuf_addf(&path, "/v1.0/devices/%s/door-lock/temp-passwords", device);
	e = call_api(c, "list temporary passwords", device, "GET",
		     strbuf_str(&path), NULL, 0, &env, st, errbuf);
	if (e)
		goto out;
	e = tuya_parse_password_list(env.result, &l, perr);
	if (e) {
		st->cls = TUYA_PERMANENT;
		e = ERRF(errbuf, e,
			 "tuya device '%s': cannot list temporary passwords: %s",
			 device, perr);
		goto out;
	}
	tuya_password_list_release(out);
	*out = l;
out:
	tuya_envelope_release(&env);
	strbuf_release(&path);
	return e;
}

enum err tuya_get_temp_password(struct tuya_client *c, const char *device,
				int64_t id, struct tuya_password *out,
				struct tuya_status *st, char *errbuf)
{
	struct tuya_status dummy;
	struct tuya_envelope env = TUYA_ENVELOPE_INIT;
	struct tuya_password p = { 0, NULL, 0, 0, 0, -1 };
	struct strbuf path = STRBUF_INIT;
	char perr[ERRBUF_SIZE];
	enum err e;

	if (!st)
		st = &dummy;
	memset(out, 0, sizeof(*out));
	if (check_password(device, id, st, errbuf) < 0)
		return ERR_DATA;
	strbuf_addf(&path, "/v1.0/devices/%s/door-lock/temp-password/%lld",
		    device, (long long)id);
	e = call_api(c, "get a temporary password", device, "GET",
		     strbuf_str(&path), NULL, 0, &env, st, errbuf);
	if (e)
		goto out;
	e = tuya_parse_password(env.result, &p, perr);
	if (!e && p.id != id) {
		tuya_password_release(&p);
		e = ERRF(perr, ERR_PROTOCOL, "answer is for password %lld",
			 (long long)p.id);
	}
	if (e) {
		st->cls = TUYA_PERMANENT;
		e = ERRF(errbuf, e,
			 "tuya device '%s': cannot get temporary password %lld: %s",
			 device, (long long)id, perr);
		goto out;
	}
	*out = p;
out:
	tuya_envelope_release(&env);
	strbuf_release(&path);
	return e;
}

enum err tuya_delete_temp_password(struct tuya_client *c, const char *device,
				   int64_t id, struct tuya_status *st,
				   char *errbuf)
{
	struct tuya_status dummy;
	struct tuya_envelope env = TUYA_ENVELOPE_INIT;
	struct strbuf path = STRBUF_INIT;
	enum err e;

	if (!st)
		st = &dummy;
	if (check_password(device, id, st, errbuf) < 0)
		return ERR_DATA;
	strbuf_addf(&path, "/v1.0/devices/%s/door-lock/temp-passwords/%lld",
		    device, (long long)id);
	e = call_api(c, "delete a temporary password", device, "DELETE",
		     strbuf_str(&path), NULL, 0, &env, st, errbuf);
	if (e) {
		/* Already gone is what a revoke wants (SPEC P4). */
		if (st->cls == TUYA_GONE) {
			if (errbuf)
				errbuf[0] = '\0';
			e = ERR_OK;
		}
		goto out;
	}
	if (!cJSON_IsTrue(env.result)) {
		st->cls = TUYA_PERMANENT;
		e = ERRF(errbuf, ERR_PROTOCOL,
			 "tuya device '%s': cannot delete temporary password %lld: result is not true",
			 device, (long long)id);
	}
out:
	tuya_envelope_release(&env);
	strbuf_release(&path);
	return e;
}
