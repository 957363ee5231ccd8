/*
 * tuya_sign.c - the signing and crypto layer of the Tuya client
 * (tuya-api.md §2, §5.2): string-to-sign, HMAC-SHA256 sign, ticket-key
 * decryption, PIN encryption and the body that carries the encrypted PIN.
 *
 * Pure: no I/O, no clock, no parsing of answers.  All cryptography is
 * OpenSSL libcrypto (EVP digests and ciphers, HMAC), called through the
 * table netlib_crypto() loads on first use (a library that cannot be
 * loaded is a libcrypto failure here; tuya_client_new() reports it);
 * nothing here implements a primitive.  Secrets (client secret, signatures,
 * ticket keys, PINs and the bodies that carry an encrypted PIN) are never
 * formatted into a message, and the buffers that held them are wiped before
 * they are freed or go out of scope.
 */
#include <assert.h>
#include <ctype.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "netlib.h"
#include "tuya_sign.h"
#include "util.h"
#include "banned.h"

#define EMPTY_SHA256 \
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

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

int tuya_pin_valid(const char *pin, size_t min, size_t max)
{
	size_t n = strlen(pin);

	if (n < min || n > max)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (pin[i] < '0' || pin[i] > '9')
			return 0;
	return 1;
}

void tuya_strbuf_wipe(struct strbuf *sb)
{
	if (sb->buf)
		explicit_bzero(sb->buf, sb->alloc);
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
	const struct netlib_crypto *cr = netlib_crypto(NULL);
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	if (!cr || !cr->digest(data ? data : "", len, md, &mdlen, cr->sha256(), NULL) ||
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
			hi = util_hex_value((unsigned char)s[i + 1]);
			lo = util_hex_value((unsigned char)s[i + 2]);
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
	const struct netlib_crypto *cr = netlib_crypto(NULL);
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
	if (!cr || klen > INT_MAX ||
	    !cr->hmac(cr->sha256(), secret, (int)klen,
		  (const unsigned char *)strbuf_str(&msg), msg.len, md, &mdlen) ||
	    mdlen != 32) {
		e = ERR_INTERNAL;
		goto out;
	}
	hex_encode(md, 32, out, 1);
out:
	explicit_bzero(md, sizeof(md));
	tuya_strbuf_wipe(&msg);
	return e;
}

/* ------------------------------------------------------------------------
 * AES
 */

/* AES-ECB with PKCS#7 padding over in[0..n) into out (room for n + 16),
 * with a 256-bit key (bits 256) or a 128-bit one.  Returns the output
 * length, or -1 (bad padding on decryption, or a libcrypto failure). */
static int aes_ecb(int bits, int enc, const unsigned char *key,
		   const unsigned char *in, int n, unsigned char *out)
{
	const struct netlib_crypto *cr = netlib_crypto(NULL);
	EVP_CIPHER_CTX *ctx;
	int len1 = 0, len2 = 0, ok;

	if (!cr || !(ctx = cr->ctx_new()))
		return -1;
	ok = cr->cipher_init_ex(ctx, bits == 256 ? cr->aes_256_ecb() : cr->aes_128_ecb(),
				NULL, key, NULL, enc) &&
	     cr->ctx_set_padding(ctx, 1) &&
	     cr->cipher_update(ctx, out, &len1, in, n) &&
	     cr->cipher_final_ex(ctx, out + len1, &len2);
	cr->ctx_free(ctx);
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
		int hi = util_hex_value((unsigned char)ticket_key_hex[2 * i]);
		int lo = util_hex_value((unsigned char)ticket_key_hex[2 * i + 1]);

		if (hi < 0 || lo < 0) {
			e = ERRF(errbuf, ERR_PROTOCOL, "ticket key is not hex");
			goto out;
		}
		cipher[i] = (unsigned char)(hi << 4 | lo);
	}
	if (!netlib_crypto(errbuf)) {
		e = ERR_INTERNAL;
		goto out;
	}
	plen = aes_ecb(256, 0, (const unsigned char *)secret,
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
	explicit_bzero(cipher, sizeof(cipher));
	explicit_bzero(plain, sizeof(plain));
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
	if (!tuya_pin_valid(pin, 1, 32))
		return ERR_DATA;
	if (size < 2 * clen + 1)
		return ERR_INTERNAL;
	len = aes_ecb(128, 1, key16, (const unsigned char *)pin,
		      (int)n, cipher);
	if (len < 0 || (size_t)len != clen) {
		explicit_bzero(cipher, sizeof(cipher));
		return ERR_INTERNAL;
	}
	hex_encode(cipher, clen, out, 0);
	explicit_bzero(cipher, sizeof(cipher));
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
