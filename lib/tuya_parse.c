/*
 * tuya_parse.c - the parsing layer of the Tuya client (tuya-api.md §1.3,
 * §3-§5): the response envelope and the results of the token, ticket,
 * password list, password get and create calls.
 *
 * Pure: no I/O, no clock (the caller passes the time a token is received).
 * Every answer is untrusted: the envelope and each result are type-checked
 * field by field, integers must be exact, strings are length-capped, and
 * the cloud's own msg is reduced to printable ASCII before it is quoted.
 * Tokens and ticket keys are wiped from an output that is rejected halfway.
 */
#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "ids.h"
#include "tuya_parse.h"
#include "tuya_sign.h"
#include "util.h"
#include "banned.h"

#define MAX_SAFE_DOUBLE_INT 9007199254740992.0 /* 2^53 */
#define MAX_LIST_ENTRIES 10000
#define MAX_EXPIRE_S (30LL * 86400)

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

int tuya_printable(const char *s, size_t max, int allow_space)
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
	    !tuya_printable(it->valuestring, size, 0))
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
		explicit_bzero(out, sizeof(*out));
		return ERRF(errbuf, ERR_PROTOCOL,
			    "token result has an invalid 'refresh_token'");
	}
	exp = field(result, "expire_time");
	if (!exp)
		exp = field(result, "expire");
	if (json_int64(exp, &secs) < 0 || secs < 1 || secs > MAX_EXPIRE_S) {
		explicit_bzero(out, sizeof(*out));
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
	    !tuya_printable(id->valuestring, sizeof(out->id), 0))
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
		explicit_bzero(out, sizeof(*out));
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
 * Devices
 */

#define MAX_PAGE_DEVICES 1000

void tuya_device_list_release(struct tuya_device_list *l)
{
	free(l->v);
	strbuf_release(&l->errors);
	memset(l, 0, sizeof(*l));
}

/* The length of the valid UTF-8 sequence at s (1-4), or 0. */
static size_t utf8_len(const unsigned char *s)
{
	size_t n, i;
	unsigned int cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2;
		cp = s[0] & 0x1fu;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3;
		cp = s[0] & 0x0fu;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4;
		cp = s[0] & 0x07u;
	} else {
		return 0;
	}
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3fu);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/* Copy a display text: valid UTF-8 kept, control characters and invalid
 * bytes become '?', truncated at a character boundary. */
static void copy_text(const char *s, char *out, size_t size)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t j = 0, n;

	while (*p) {
		n = utf8_len(p);
		if (n == 0 || (n == 1 && (*p < 0x20 || *p == 0x7f))) {
			if (j + 2 > size)
				break;
			out[j++] = '?';
			p++;
			continue;
		}
		if (j + n + 1 > size)
			break;
		memcpy(out + j, p, n);
		j += n;
		p += n;
	}
	out[j] = '\0';
}

/* A string field that may be null or absent ("" then); -1 if another type. */
static int opt_text(const cJSON *obj, const char *name, char *out, size_t size)
{
	const cJSON *f = field(obj, name);

	out[0] = '\0';
	if (!f || cJSON_IsNull(f))
		return 0;
	if (!cJSON_IsString(f) || !f->valuestring)
		return -1;
	copy_text(f->valuestring, out, size);
	return 0;
}

static int category_valid(const char *s)
{
	size_t n = 0;

	for (; s[n]; n++)
		if (!((s[n] >= 'a' && s[n] <= 'z') || (s[n] >= '0' && s[n] <= '9') ||
		      s[n] == '_') || n + 1 >= TUYA_CATEGORY_MAX)
			return 0;
	return 1;
}

enum err tuya_parse_device(const cJSON *obj, struct tuya_device *out,
			   char *errbuf)
{
	const cJSON *id, *online;

	memset(out, 0, sizeof(*out));
	out->online = -1;
	if (!cJSON_IsObject(obj))
		return ERRF(errbuf, ERR_PROTOCOL, "device is not an object");
	id = field(obj, "id");
	if (!cJSON_IsString(id) || !id->valuestring || !ids_device_valid(id->valuestring))
		return ERRF(errbuf, ERR_PROTOCOL, "device has no valid 'id'");
	xstrlcpy(out->id, id->valuestring, sizeof(out->id));
	if (opt_text(obj, "name", out->name, sizeof(out->name)) < 0)
		return ERRF(errbuf, ERR_PROTOCOL, "device '%s': 'name' is not a string",
			    out->id);
	if (opt_text(obj, "product_name", out->product, sizeof(out->product)) < 0)
		return ERRF(errbuf, ERR_PROTOCOL,
			    "device '%s': 'product_name' is not a string", out->id);
	if (opt_text(obj, "category", out->category, sizeof(out->category)) < 0 ||
	    !category_valid(out->category))
		return ERRF(errbuf, ERR_PROTOCOL,
			    "device '%s': 'category' is not a category code", out->id);
	online = field(obj, "online");
	if (cJSON_IsBool(online))
		out->online = cJSON_IsTrue(online);
	else if (online && !cJSON_IsNull(online))
		return ERRF(errbuf, ERR_PROTOCOL, "device '%s': 'online' is not a boolean",
			    out->id);
	return ERR_OK;
}

static int row_key_valid(const char *s)
{
	size_t n = 0;

	for (; s[n]; n++)
		if (!((s[n] >= 'a' && s[n] <= 'z') || (s[n] >= 'A' && s[n] <= 'Z') ||
		      (s[n] >= '0' && s[n] <= '9') || strchr("._~-", s[n])) ||
		    n + 1 >= TUYA_ROW_KEY_MAX)
			return 0;
	return n > 0;
}

enum err tuya_parse_device_page(const cJSON *result, struct tuya_device_list *out,
				int *has_more, char *row_key, size_t size,
				char *errbuf)
{
	const cJSON *devs, *more, *key, *it;
	char perr[ERRBUF_SIZE];
	size_t i = 0;
	int n;

	assert(size >= TUYA_ROW_KEY_MAX);
	*has_more = 0;
	row_key[0] = '\0';
	if (!cJSON_IsObject(result))
		return ERRF(errbuf, ERR_PROTOCOL, "device list result is not an object");
	devs = field(result, "devices");
	if (!cJSON_IsArray(devs))
		return ERRF(errbuf, ERR_PROTOCOL, "device list has no 'devices' array");
	n = cJSON_GetArraySize(devs);
	if (n > MAX_PAGE_DEVICES)
		return ERRF(errbuf, ERR_PROTOCOL, "device list page has more than %d devices",
			    MAX_PAGE_DEVICES);
	more = field(result, "has_more");
	if (more && !cJSON_IsBool(more) && !cJSON_IsNull(more))
		return ERRF(errbuf, ERR_PROTOCOL, "device list: 'has_more' is not a boolean");
	if (cJSON_IsTrue(more)) {
		key = field(result, "last_row_key");
		if (!cJSON_IsString(key) || !key->valuestring ||
		    !row_key_valid(key->valuestring))
			return ERRF(errbuf, ERR_PROTOCOL,
				    "device list has more pages but no valid 'last_row_key'");
		xstrlcpy(row_key, key->valuestring, size);
		*has_more = 1;
	}
	cJSON_ArrayForEach(it, devs) {
		struct tuya_device d;

		i++;
		if (tuya_parse_device(it, &d, perr) != ERR_OK) {
			out->nerrors++;
			strbuf_addf(&out->errors, "tuya device list, page %ld, entry %zu: %s; skipped\n",
				    out->pages + 1, i, perr);
			continue;
		}
		out->v = xgrow(out->v, sizeof(*out->v), out->n + 1, &out->alloc);
		out->v[out->n++] = d;
	}
	out->pages++;
	return ERR_OK;
}

int tuya_is_lock(const char *category)
{
	static const char *const locks[] = {
		"ms", "jtmspro", "jtmsbh", "jtmsjh", "msp", "mk", "videolock"
	};

	if (!category)
		return 0;
	for (size_t i = 0; i < sizeof(locks) / sizeof(*locks); i++)
		if (strcmp(category, locks[i]) == 0)
			return 1;
	return 0;
}
