/*
 * test_tuya.c - the Tuya client: every vector of tuya-api.md §8 (A1-A3,
 * B1-B6, the ticket key and the three PIN encryptions), classification, the
 * parsers on good and malformed answers, and the client itself against a
 * scripted HTTP server on 127.0.0.1 (a thread in this process) that records
 * each request, so the signs, headers, bodies, token budget and error
 * mapping are checked on the wire.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "http.h"
#include "tuya.h"
#include "tuya_parse.h"
#include "tuya_sign.h"
#include "banned.h"

#define E_SHA "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

/* Vector B inputs (tuya-api.md §8.3), all fake. */
#define CID     "fake4client6id8xyzw12"
#define SECRET  "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
#define TOKEN1  "fake0access0token0000000000000001"
#define TOKEN2  "fake0access0token0000000000000002"
#define REFRESH "fake0refresh0token000000000000002"
#define DEV     "bf0123456789abcdefxyzq"
#define PLAIN_KEY  "Zt8kq2Lm9Xw4Bn7P"
#define TICKET_KEY "C5ED04CBE9924E76C0C42DE82999705D8734A795D9AD699A9DD41E4AD0729E37"
#define B3_BODY "{\"name\":\"guest-42\",\"password\":\"cf92bdd05e22fa0b6bf735c37569f174\"," \
	"\"password_type\":\"ticket\",\"ticket_id\":\"9wxxoLM\",\"effective_time\":1700003600," \
	"\"invalid_time\":1700090000,\"type\":0}"

/* A1/A2 inputs (doc:sign worked example). */
#define A_CID    "1KAD46OrT9HafiKdsXeg"
#define A_SECRET "4OHBOnWOqaEC1mWXOpVL3yV50s0qGSRC"
#define A_NONCE  "5138cc3a9033d69856923fd07b491173"
#define A_HDRS   "area_id:29a33e8796834b1efa6\ncall_id:8afdb70ab2ed11eb85290242ac130003\n"

/* ------------------------------------------------------------------------
 * Signing vectors
 */

static const struct sign_vector {
	const char *name, *method, *path, *body, *headers;
	const char *client, *secret, *token;
	long long t;
	const char *nonce, *sts, *sign;
} sign_vectors[] = {
	{ "A1", "GET", "/v1.0/token?grant_type=1", "", A_HDRS,
	  A_CID, A_SECRET, "", 1588925778000LL, A_NONCE,
	  "GET\n" E_SHA "\n" A_HDRS "\n/v1.0/token?grant_type=1",
	  "9E48A3E93B302EEECC803C7241985D0A34EB944F40FB573C7B5C2A82158AF13E" },
	{ "A2", "GET", "/v2.0/apps/schema/users?page_no=1&page_size=50", "", A_HDRS,
	  A_CID, A_SECRET, "3f4eda2bdec17232f67c0b188af3eec1", 1588925778000LL,
	  A_NONCE,
	  "GET\n" E_SHA "\n" A_HDRS "\n/v2.0/apps/schema/users?page_no=1&page_size=50",
	  "AE4481C692AA80B25F3A7E12C3A5FD9BBF6251539DD78E565A1A72A508A88784" },
	{ "A3", "GET", "/v1.0/token?grant_type=1", "", NULL,
	  "test-client", "test-secret", "", 1588925778000LL, NULL,
	  "GET\n" E_SHA "\n\n/v1.0/token?grant_type=1",
	  "09BCCB8654D63513F682D7B67BA0FEB7FB04B23ADA97599C675EB91B56CE7999" },
	{ "B1", "GET", "/v1.0/token?grant_type=1", "", NULL,
	  CID, SECRET, "", 1700000000000LL, NULL,
	  "GET\n" E_SHA "\n\n/v1.0/token?grant_type=1",
	  "19B5B6F0C530628FDC6E8B91AA8C87E62565E01B164FC2E9CCCAD553C59D146C" },
	{ "B1n", "GET", "/v1.0/token?grant_type=1", "", NULL,
	  CID, SECRET, "", 1700000000000LL, "c0ffee00-1111-2222-3333-444455556666",
	  "GET\n" E_SHA "\n\n/v1.0/token?grant_type=1",
	  "01C3597589E10D9457B15E29FF2CCF34AE75BCE3453236B6C7FF686E2B7D87DB" },
	{ "B2", "GET", "/v1.0/iot-01/associated-users/devices?size=20&last_row_key=7c1e0f2a",
	  "", NULL, CID, SECRET, TOKEN1, 1700000001000LL, NULL,
	  "GET\n" E_SHA "\n\n/v1.0/iot-01/associated-users/devices?last_row_key=7c1e0f2a&size=20",
	  "2F45A5CD060E0051BAF500C58542AF4C2D31F2A83314F435B85F3557C1E9F51D" },
	{ "B3", "POST", "/v1.0/devices/" DEV "/door-lock/temp-password", B3_BODY, NULL,
	  CID, SECRET, TOKEN1, 1700000002000LL, NULL,
	  "POST\nccfeb229242f790fcb6db0ec2135310ed45e1ff9ee1739c7321c3332b268de68\n\n"
	  "/v1.0/devices/" DEV "/door-lock/temp-password",
	  "2162B8AD541E0745B60F2B1FC24AFD24237BF8EC4E44F1031060A60AF09E9C8C" },
	{ "B4", "POST", "/v1.0/devices/" DEV "/door-lock/password-ticket", "", NULL,
	  CID, SECRET, TOKEN1, 1700000002000LL, NULL,
	  "POST\n" E_SHA "\n\n/v1.0/devices/" DEV "/door-lock/password-ticket",
	  "069D9BD75DB891C362B67C856287088A967206956F4E2717BCCF58BE04589F71" },
	{ "B5", "DELETE", "/v1.0/devices/" DEV "/door-lock/temp-passwords/1001", "", NULL,
	  CID, SECRET, TOKEN1, 1700000002000LL, NULL,
	  "DELETE\n" E_SHA "\n\n/v1.0/devices/" DEV "/door-lock/temp-passwords/1001",
	  "202BCB5234374257BCC8A8187F7830E999E1E63F4D2C7908F1090C6D362C6324" },
	{ "B6", "GET", "/v1.0/token/" REFRESH, "", NULL,
	  CID, SECRET, "", 1700000001000LL, NULL,
	  "GET\n" E_SHA "\n\n/v1.0/token/" REFRESH,
	  "1A11FEF9BE79B8AE17FB6A8CC8D3EB419066BD056BE41521EC1FB89B6D84CDA6" },
};

static void test_sign_vectors(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(sign_vectors) / sizeof(sign_vectors[0]); i++) {
		const struct sign_vector *v = &sign_vectors[i];
		struct strbuf sts = STRBUF_INIT;
		char sign[TUYA_SIGN_LEN + 1];

		assert_int_equal(tuya_string_to_sign(v->method, v->path, v->body,
						     strlen(v->body), v->headers,
						     &sts), ERR_OK);
		if (strcmp(strbuf_str(&sts), v->sts) != 0)
			fail_msg("%s: stringToSign\n got  %s\n want %s", v->name,
				 strbuf_str(&sts), v->sts);
		assert_int_equal(tuya_sign(v->client, v->secret, v->token, v->t,
					   v->nonce, strbuf_str(&sts), sign),
				 ERR_OK);
		if (strcmp(sign, v->sign) != 0)
			fail_msg("%s: sign\n got  %s\n want %s", v->name, sign,
				 v->sign);
		strbuf_release(&sts);
	}
}

/* B3's body is exactly the 175 bytes that tuya_password_body() builds from
 * the ticket of vector C and PIN 1234567. */
static void test_b3_body(void **state)
{
	unsigned char key[17];
	char enc[33], err[ERRBUF_SIZE];
	struct strbuf body = STRBUF_INIT;

	(void)state;
	assert_int_equal(tuya_decrypt_ticket_key(SECRET, TICKET_KEY, key, err), ERR_OK);
	assert_int_equal(tuya_encrypt_pin(key, "1234567", enc, sizeof(enc)), ERR_OK);
	tuya_password_body("guest-42", enc, "9wxxoLM", 1700003600, 1700090000, &body);
	assert_int_equal(body.len, 175);
	assert_string_equal(strbuf_str(&body), B3_BODY);
	assert_int_equal(strlen(B3_BODY), 175);
	strbuf_release(&body);
}

static void test_body_escaping(void **state)
{
	struct strbuf body = STRBUF_INIT;

	(void)state;
	tuya_password_body("a\"b\\c\x01", "00", "t\"1", 1, 2, &body);
	assert_string_equal(strbuf_str(&body),
			    "{\"name\":\"a\\\"b\\\\c\\u0001\",\"password\":\"00\","
			    "\"password_type\":\"ticket\",\"ticket_id\":\"t\\\"1\","
			    "\"effective_time\":1,\"invalid_time\":2,\"type\":0}");
	strbuf_release(&body);
}

static void test_string_to_sign_query(void **state)
{
	static const struct {
		const char *path, *want;
	} t[] = {
		/* sorted by key, decoded, "+" is a space, bare key is "k=" */
		{ "/p?b=2&a=1", "/p?a=1&b=2" },
		{ "/p?x=a%20b&w=c+d", "/p?w=c d&x=a b" },
		{ "/p?flag&a=%2F%3d", "/p?a=/=&flag=" },
		{ "/p?k=2&k=1&a", "/p?a=&k=2&k=1" },        /* stable */
		{ "/p?B=1&a=1&_=1", "/p?B=1&_=1&a=1" },     /* byte order */
		{ "/p?&&a=1&", "/p?a=1" },
		{ "/p?", "/p" },
		{ "/p?a=%E2%82%AC", "/p?a=\xe2\x82\xac" },
	};
	struct strbuf sts = STRBUF_INIT;

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		const char *nl;

		assert_int_equal(tuya_string_to_sign("get", t[i].path, NULL, 0,
						     NULL, &sts), ERR_OK);
		assert_memory_equal(strbuf_str(&sts), "GET\n" E_SHA "\n\n", 70);
		nl = strbuf_str(&sts) + 70;
		if (strcmp(nl, t[i].want) != 0)
			fail_msg("%s -> %s, want %s", t[i].path, nl, t[i].want);
	}
	assert_int_equal(tuya_string_to_sign("GET", "/p?a=%2", NULL, 0, NULL, &sts),
			 ERR_DATA);
	assert_string_equal(strbuf_str(&sts), "");
	assert_int_equal(tuya_string_to_sign("GET", "/p?a=%zz", NULL, 0, NULL, &sts),
			 ERR_DATA);
	assert_int_equal(tuya_string_to_sign("GET", "/p?a=x%00", NULL, 0, NULL, &sts),
			 ERR_DATA);
	assert_int_equal(tuya_string_to_sign("GET", "/p?%=1", NULL, 0, NULL, &sts),
			 ERR_DATA);
	strbuf_release(&sts);
}

/* ------------------------------------------------------------------------
 * Ticket key and PIN encryption (vector C)
 */

static void test_ticket_key(void **state)
{
	unsigned char key[17];
	char err[ERRBUF_SIZE];

	(void)state;
	assert_int_equal(tuya_decrypt_ticket_key(SECRET, TICKET_KEY, key, err), ERR_OK);
	assert_memory_equal(key, PLAIN_KEY, 16);
	assert_int_equal(key[16], 0);
	/* lowercase hex too */
	assert_int_equal(tuya_decrypt_ticket_key(SECRET,
		"c5ed04cbe9924e76c0c42de82999705d8734a795d9ad699a9dd41e4ad0729e37",
		key, err), ERR_OK);
	assert_memory_equal(key, PLAIN_KEY, 16);
}

static void test_ticket_key_bad(void **state)
{
	static const struct {
		const char *secret, *hex;
		enum err want;
	} t[] = {
		/* plaintext "Zt8kq2Lm9Xw4Bn7PX": 17 bytes */
		{ SECRET, "c5ed04cbe9924e76c0c42de82999705ddd128765714f84f63a7e6101fa802bac",
		  ERR_PROTOCOL },
		/* plaintext "Zt8kq2Lm9Xw4Bn7": 15 bytes */
		{ SECRET, "7b28dc6872b8e24825c2e71b25e94ce3", ERR_PROTOCOL },
		/* no valid padding */
		{ SECRET, "c5ed04cbe9924e76c0c42de82999705dc5ed04cbe9924e76c0c42de82999705d",
		  ERR_PROTOCOL },
		/* encrypted with another secret (...e1f1) */
		{ SECRET, "d50d6a51f5a79f11f292dfc4a4e58d1f11e5cf58d73ae7d1e44b2cad7371c895",
		  ERR_PROTOCOL },
		/* the right ciphertext, the wrong secret */
		{ "0f1e2d3c4b5a69788796a5b4c3d2e1f1", TICKET_KEY, ERR_PROTOCOL },
		{ SECRET, "", ERR_PROTOCOL },
		{ SECRET, "C5ED04CBE9924E76C0C42DE82999705D8734A795D9AD699A9DD41E4AD0729E3", ERR_PROTOCOL },
		{ SECRET, "X5ED04CBE9924E76C0C42DE82999705D8734A795D9AD699A9DD41E4AD0729E37", ERR_PROTOCOL },
		{ SECRET, TICKET_KEY TICKET_KEY TICKET_KEY, ERR_PROTOCOL },
		/* the secret is the AES-256 key: 32 bytes or nothing */
		{ "0f1e2d3c4b5a69788796a5b4c3d2e1f", TICKET_KEY, ERR_CONFIG },
		{ "short", TICKET_KEY, ERR_CONFIG },
	};
	unsigned char key[17];
	char err[ERRBUF_SIZE];

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		memset(key, 'x', sizeof(key));
		err[0] = '\0';
		if (tuya_decrypt_ticket_key(t[i].secret, t[i].hex, key, err) != t[i].want)
			fail_msg("case %zu: want %d (%s)", i, t[i].want, err);
		assert_true(err[0] != '\0');
		assert_null(strstr(err, t[i].secret));
		assert_null(strstr(err, PLAIN_KEY));
		for (size_t j = 0; j < sizeof(key); j++)
			assert_int_equal(key[j], 0);
	}
}

static void test_encrypt_pin(void **state)
{
	static const struct {
		const char *pin, *hex;
	} t[] = {
		{ "1234567", "cf92bdd05e22fa0b6bf735c37569f174" },
		{ "123456", "b2f63a63ac9cce50052e6803198bc865" },
		{ "0000000", "a27ba51c7740364fcbab7193dcd4d7e7" },
		{ "000000000000", "f976a90491ed3e3d28965c2b1d3c5e66" },
	};
	const unsigned char *key = (const unsigned char *)PLAIN_KEY;
	char out[65];

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		assert_int_equal(tuya_encrypt_pin(key, t[i].pin, out, 33), ERR_OK);
		assert_string_equal(out, t[i].hex);
	}
	/* 16 digits need two blocks */
	assert_int_equal(tuya_encrypt_pin(key, "1234567890123456", out, 33), ERR_INTERNAL);
	assert_string_equal(out, "");
	assert_int_equal(tuya_encrypt_pin(key, "1234567890123456", out, 65), ERR_OK);
	assert_int_equal(strlen(out), 64);
	assert_int_equal(tuya_encrypt_pin(key, "1234567", out, 32), ERR_INTERNAL);
	assert_int_equal(tuya_encrypt_pin(key, "12a4567", out, 33), ERR_DATA);
	assert_int_equal(tuya_encrypt_pin(key, "", out, 33), ERR_DATA);
	assert_int_equal(tuya_encrypt_pin(key, "-123456", out, 33), ERR_DATA);
}

/* The two checks the client shares with its layers: PIN digits and
 * printable strings. */
static void test_pin_valid_printable(void **state)
{
	(void)state;
	assert_true(tuya_pin_valid("1234", 4, 12));
	assert_true(tuya_pin_valid("123456789012", 4, 12));
	assert_false(tuya_pin_valid("123", 4, 12));
	assert_false(tuya_pin_valid("1234567890123", 4, 12));
	assert_false(tuya_pin_valid("12a4", 4, 12));
	assert_false(tuya_pin_valid("12 34", 4, 12));
	assert_false(tuya_pin_valid("", 1, 32));

	assert_true(tuya_printable("a", 2, 0));
	assert_false(tuya_printable("ab", 2, 0));          /* max counts the NUL */
	assert_true(tuya_printable("~!x", 4, 0));
	assert_false(tuya_printable("", 64, 1));
	assert_false(tuya_printable("a b", 64, 0));
	assert_true(tuya_printable("a b", 64, 1));
	assert_false(tuya_printable("a\tb", 64, 1));
	assert_false(tuya_printable("a\x7f", 64, 1));
	assert_false(tuya_printable("caf\xc3\xa9", 64, 1));
}

/* ------------------------------------------------------------------------
 * Classification
 */

static void test_classify(void **state)
{
	static const struct {
		long long code;
		enum tuya_class cls;
	} t[] = {
		{ 0, TUYA_OK },
		{ 500, TUYA_RETRY }, { 1013, TUYA_RETRY }, { 1110, TUYA_RETRY },
		{ 1111, TUYA_RETRY }, { 1199, TUYA_RETRY }, { 2001, TUYA_RETRY },
		{ 2328, TUYA_RETRY },
		{ 1010, TUYA_TOKEN }, { 1011, TUYA_TOKEN }, { 1012, TUYA_TOKEN },
		{ 1001, TUYA_AUTH }, { 1004, TUYA_AUTH }, { 1005, TUYA_AUTH },
		{ 1106, TUYA_AUTH }, { 28841105, TUYA_AUTH },
		{ 1109, TUYA_PIN_REJECTED },
		{ 1000, TUYA_GONE },
		{ 2010, TUYA_PERMANENT }, { 1002, TUYA_PERMANENT },
		{ 1100, TUYA_PERMANENT }, { 1108, TUYA_PERMANENT },
		{ 2008, TUYA_PERMANENT }, { -1, TUYA_PERMANENT },
		{ 99999999999LL, TUYA_PERMANENT },
	};
	static const struct {
		long status;
		enum tuya_class cls;
	} h[] = {
		{ 200, TUYA_OK }, { 204, TUYA_OK }, { 500, TUYA_RETRY },
		{ 502, TUYA_RETRY }, { 599, TUYA_RETRY }, { 429, TUYA_RETRY },
		{ 401, TUYA_AUTH }, { 403, TUYA_AUTH }, { 400, TUYA_PERMANENT },
		{ 404, TUYA_PERMANENT }, { 301, TUYA_PERMANENT }, { 0, TUYA_PERMANENT },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (tuya_classify(t[i].code) != t[i].cls)
			fail_msg("code %lld: got %s, want %s", t[i].code,
				 tuya_class_name(tuya_classify(t[i].code)),
				 tuya_class_name(t[i].cls));
	for (size_t i = 0; i < sizeof(h) / sizeof(h[0]); i++)
		if (tuya_classify_http(h[i].status) != h[i].cls)
			fail_msg("http %ld: got %s", h[i].status,
				 tuya_class_name(tuya_classify_http(h[i].status)));
	assert_string_equal(tuya_class_name(TUYA_PIN_REJECTED), "pin-rejected");
}

/* ------------------------------------------------------------------------
 * Envelope and result parsing
 */

static void test_envelope_good(void **state)
{
	struct tuya_envelope env = TUYA_ENVELOPE_INIT;
	char err[ERRBUF_SIZE];
	const char *ok = "{\"success\":true,\"result\":{\"id\":1001},\"t\":1700684973862,"
			 "\"tid\":\"d8e56ec6897511ee9dcc3ea672c7e535\"}\n";
	const char *bad = "{\"success\":false,\"code\":1004,\"msg\":\"sign invalid\","
			  "\"t\":1699465157510,\"tid\":\"bdb8\"}";
	int64_t id;

	(void)state;
	assert_int_equal(tuya_parse_envelope(ok, strlen(ok), &env, err), ERR_OK);
	assert_true(env.success);
	assert_int_equal(env.code, 0);
	assert_int_equal(tuya_parse_create(env.result, &id, err), ERR_OK);
	assert_int_equal(id, 1001);
	tuya_envelope_release(&env);
	assert_null(env.root);

	assert_int_equal(tuya_parse_envelope(bad, strlen(bad), &env, err), ERR_OK);
	assert_false(env.success);
	assert_int_equal(env.code, 1004);
	assert_string_equal(env.msg, "sign invalid");
	tuya_envelope_release(&env);

	/* success without result; code as a digit string; msg null; no msg */
	assert_int_equal(tuya_parse_envelope("{\"success\":true}", 16, &env, err), ERR_OK);
	assert_null(env.result);
	tuya_envelope_release(&env);
	{
		const char *b = "{\"success\":false,\"code\":\"1010\",\"msg\":null}";

		assert_int_equal(tuya_parse_envelope(b, strlen(b), &env, err), ERR_OK);
	}
	assert_int_equal(env.code, 1010);
	assert_string_equal(env.msg, "");
	tuya_envelope_release(&env);
	/* the cloud's msg is untrusted: control characters are masked and the
	 * length capped */
	{
		struct strbuf sb = STRBUF_INIT;

		strbuf_adds(&sb, "{\"success\":false,\"code\":1109,\"msg\":\"a\\nb\\u001b[31m");
		for (int i = 0; i < 300; i++)
			strbuf_adds(&sb, "x");
		strbuf_adds(&sb, "\"}");
		assert_int_equal(tuya_parse_envelope(sb.buf, sb.len, &env, err), ERR_OK);
		assert_memory_equal(env.msg, "a?b?[31mxx", 10);
		assert_int_equal(strlen(env.msg), TUYA_MSG_MAX - 1);
		tuya_envelope_release(&env);
		strbuf_release(&sb);
	}
	/* length-delimited: bytes after len are not looked at */
	assert_int_equal(tuya_parse_envelope("{\"success\":true}garbage", 16, &env, err),
			 ERR_OK);
	tuya_envelope_release(&env);
}

static void test_envelope_malformed(void **state)
{
	static const char *const bad[] = {
		"",
		"   ",
		"not json",
		"<html>502 Bad Gateway</html>",
		"[]",
		"null",
		"true",
		"\"success\"",
		"{}",
		"{\"result\":{}}",
		"{\"success\":\"true\",\"result\":{}}",
		"{\"success\":1,\"result\":{}}",
		"{\"success\":null}",
		"{\"success\":true} {\"success\":true}",
		"{\"success\":true}x",
		"{\"success\":true",
		"{\"success\":false}",
		"{\"success\":false,\"msg\":\"no code\"}",
		"{\"success\":false,\"code\":0}",
		"{\"success\":false,\"code\":null}",
		"{\"success\":false,\"code\":1010.5}",
		"{\"success\":false,\"code\":1e300}",
		"{\"success\":false,\"code\":\"10x\"}",
		"{\"success\":false,\"code\":\"-1\"}",
		"{\"success\":false,\"code\":\"\"}",
		"{\"success\":false,\"code\":[1010]}",
		"{\"success\":false,\"code\":1010,\"msg\":42}",
		"{\"success\":false,\"code\":1010,\"msg\":{}}",
	};
	struct tuya_envelope env = TUYA_ENVELOPE_INIT;
	char err[ERRBUF_SIZE];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		if (tuya_parse_envelope(bad[i], strlen(bad[i]), &env, err) != ERR_PROTOCOL)
			fail_msg("accepted: %s", bad[i]);
		assert_null(env.root);
		assert_true(err[0] != '\0');
	}
	assert_int_equal(tuya_parse_envelope(NULL, 0, &env, err), ERR_PROTOCOL);
}

/* Parse text as JSON for the result parsers. */
static cJSON *json(const char *text)
{
	cJSON *j = cJSON_Parse(text);

	assert_non_null(j);
	return j;
}

static void test_parse_token(void **state)
{
	static const char *const bad[] = {
		"null", "[]", "\"x\"",
		"{\"refresh_token\":\"r\",\"expire_time\":7200}",
		"{\"access_token\":\"\",\"expire_time\":7200}",
		"{\"access_token\":\"a b\",\"expire_time\":7200}",
		"{\"access_token\":\"a\\nb\",\"expire_time\":7200}",
		"{\"access_token\":17,\"expire_time\":7200}",
		"{\"access_token\":\"a\"}",
		"{\"access_token\":\"a\",\"expire_time\":0}",
		"{\"access_token\":\"a\",\"expire_time\":-5}",
		"{\"access_token\":\"a\",\"expire_time\":7200.5}",
		"{\"access_token\":\"a\",\"expire_time\":\"2h\"}",
		"{\"access_token\":\"a\",\"expire_time\":99999999999}",
		"{\"access_token\":\"a\",\"expire_time\":7200,\"refresh_token\":5}",
	};
	struct tuya_token tok;
	char err[ERRBUF_SIZE];
	cJSON *j;

	(void)state;
	j = json("{\"access_token\":\"" TOKEN1 "\",\"expire_time\":7200,"
		 "\"refresh_token\":\"" REFRESH "\",\"uid\":\"u\"}");
	assert_int_equal(tuya_parse_token(j, 1700000000000LL, &tok, err), ERR_OK);
	assert_string_equal(tok.access, TOKEN1);
	assert_string_equal(tok.refresh, REFRESH);
	assert_int_equal(tok.expires_at, 1700007200000LL);
	cJSON_Delete(j);

	/* "expire" (sdk:py) and a digit string; no refresh token */
	j = json("{\"access_token\":\"x\",\"expire\":\"60\"}");
	assert_int_equal(tuya_parse_token(j, 1000, &tok, err), ERR_OK);
	assert_int_equal(tok.expires_at, 61000);
	assert_string_equal(tok.refresh, "");
	cJSON_Delete(j);

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		j = json(bad[i]);
		if (tuya_parse_token(j, 0, &tok, err) != ERR_PROTOCOL)
			fail_msg("accepted: %s", bad[i]);
		assert_string_equal(tok.access, "");
		cJSON_Delete(j);
	}
	/* a token that does not fit the buffer is refused, not truncated */
	{
		struct strbuf sb = STRBUF_INIT;

		strbuf_adds(&sb, "{\"expire_time\":7200,\"access_token\":\"");
		for (int i = 0; i < TUYA_TOKEN_MAX; i++)
			strbuf_adds(&sb, "a");
		strbuf_adds(&sb, "\"}");
		j = json(sb.buf);
		assert_int_equal(tuya_parse_token(j, 0, &tok, err), ERR_PROTOCOL);
		cJSON_Delete(j);
		strbuf_release(&sb);
	}
}

static void test_parse_ticket(void **state)
{
	static const char *const bad[] = {
		"null", "[]",
		"{\"ticket_key\":\"" TICKET_KEY "\"}",
		"{\"ticket_id\":\"\",\"ticket_key\":\"" TICKET_KEY "\"}",
		"{\"ticket_id\":7,\"ticket_key\":\"" TICKET_KEY "\"}",
		"{\"ticket_id\":\"a b\",\"ticket_key\":\"" TICKET_KEY "\"}",
		"{\"ticket_id\":\"9wxxoLM\"}",
		"{\"ticket_id\":\"9wxxoLM\",\"ticket_key\":null}",
		"{\"ticket_id\":\"9wxxoLM\",\"ticket_key\":\"00\"}",
		"{\"ticket_id\":\"9wxxoLM\",\"ticket_key\":\"" TICKET_KEY "\",\"expire_time\":\"soon\"}",
	};
	struct tuya_ticket tk;
	char err[ERRBUF_SIZE];
	cJSON *j;

	(void)state;
	j = json("{\"ticket_id\":\"9wxxoLM\",\"ticket_key\":\"" TICKET_KEY "\",\"expire_time\":360}");
	assert_int_equal(tuya_parse_ticket(j, SECRET, &tk, err), ERR_OK);
	assert_string_equal(tk.id, "9wxxoLM");
	assert_memory_equal(tk.key, PLAIN_KEY, 17);
	assert_int_equal(tk.expire_time, 360);
	cJSON_Delete(j);

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		j = json(bad[i]);
		if (tuya_parse_ticket(j, SECRET, &tk, err) != ERR_PROTOCOL)
			fail_msg("accepted: %s", bad[i]);
		assert_null(strstr(err, SECRET));
		cJSON_Delete(j);
	}
}

static void test_parse_passwords(void **state)
{
	static const char *const bad_entries[] = {
		"null", "[]", "7",
		"{\"phase\":2,\"effective_time\":1,\"invalid_time\":2}",
		"{\"id\":0,\"phase\":2,\"effective_time\":1,\"invalid_time\":2}",
		"{\"id\":-4,\"phase\":2,\"effective_time\":1,\"invalid_time\":2}",
		"{\"id\":1.5,\"phase\":2,\"effective_time\":1,\"invalid_time\":2}",
		"{\"id\":9007199254740994,\"phase\":2,\"effective_time\":1,\"invalid_time\":2}",
		"{\"id\":\"9223372036854775808\",\"phase\":2,\"effective_time\":1,\"invalid_time\":2}",
		"{\"id\":\"12a\",\"phase\":2,\"effective_time\":1,\"invalid_time\":2}",
		"{\"id\":\" 12\",\"phase\":2,\"effective_time\":1,\"invalid_time\":2}",
		"{\"id\":true,\"phase\":2,\"effective_time\":1,\"invalid_time\":2}",
		"{\"id\":1,\"effective_time\":1,\"invalid_time\":2}",
		"{\"id\":1,\"phase\":\"two\",\"effective_time\":1,\"invalid_time\":2}",
		"{\"id\":1,\"phase\":4294967296,\"effective_time\":1,\"invalid_time\":2}",
		"{\"id\":1,\"phase\":2,\"invalid_time\":2}",
		"{\"id\":1,\"phase\":2,\"effective_time\":1}",
		"{\"id\":1,\"phase\":2,\"effective_time\":1,\"invalid_time\":null}",
		"{\"id\":1,\"phase\":2,\"effective_time\":1,\"invalid_time\":2,\"name\":5}",
		"{\"id\":1,\"phase\":2,\"effective_time\":1,\"invalid_time\":2,\"name\":[]}",
		"{\"id\":1,\"phase\":2,\"effective_time\":1,\"invalid_time\":2,\"delivery_status\":\"x\"}",
	};
	struct tuya_password_list l = TUYA_PASSWORD_LIST_INIT;
	struct tuya_password p;
	char err[ERRBUF_SIZE];
	cJSON *j;

	(void)state;
	/* the doc example, plus an id beyond 2^53 as a digit string, a name
	 * that is null, and integers sent as strings */
	j = json("[{\"effective_time\":1530841779,\"phase\":1,\"time_zone\":\"Asia/Shanghai\","
		 "\"phone\":\"\",\"name\":\"HM42\",\"invalid_time\":1530881779,\"id\":1001,"
		 "\"delivery_status\":1},"
		 "{\"id\":\"9007199254740993\",\"name\":null,\"phase\":\"2\","
		 "\"effective_time\":\"1700003600\",\"invalid_time\":1700090000,"
		 "\"delivery_status\":null,\"schedule_list\":[]},"
		 "{\"id\":9007199254740992,\"phase\":0,\"effective_time\":0,\"invalid_time\":0}]");
	assert_int_equal(tuya_parse_password_list(j, &l, err), ERR_OK);
	assert_int_equal(l.n, 3);
	assert_int_equal(l.v[0].id, 1001);
	assert_string_equal(l.v[0].name, "HM42");
	assert_int_equal(l.v[0].phase, 1);
	assert_int_equal(l.v[0].effective, 1530841779);
	assert_int_equal(l.v[0].invalid, 1530881779);
	assert_int_equal(l.v[0].delivery_status, 1);
	assert_true(l.v[1].id == INT64_C(9007199254740993));
	assert_string_equal(l.v[1].name, "");
	assert_int_equal(l.v[1].phase, 2);
	assert_int_equal(l.v[1].effective, 1700003600);
	assert_int_equal(l.v[1].delivery_status, -1);
	assert_true(l.v[2].id == INT64_C(9007199254740992));
	tuya_password_list_release(&l);
	assert_null(l.v);
	cJSON_Delete(j);

	j = json("[]");
	assert_int_equal(tuya_parse_password_list(j, &l, err), ERR_OK);
	assert_int_equal(l.n, 0);
	tuya_password_list_release(&l);
	cJSON_Delete(j);

	for (size_t i = 0; i < sizeof(bad_entries) / sizeof(bad_entries[0]); i++) {
		struct strbuf sb = STRBUF_INIT;

		j = json(bad_entries[i]);
		if (tuya_parse_password(j, &p, err) != ERR_PROTOCOL)
			fail_msg("entry accepted: %s", bad_entries[i]);
		cJSON_Delete(j);
		/* one bad entry after a good one fails the whole list */
		strbuf_addf(&sb, "[{\"id\":1,\"phase\":2,\"effective_time\":1,"
			    "\"invalid_time\":2},%s]", bad_entries[i]);
		j = json(sb.buf);
		l.n = 99;
		if (tuya_parse_password_list(j, &l, err) != ERR_PROTOCOL)
			fail_msg("list accepted: %s", sb.buf);
		assert_int_equal(l.n, 99);
		l.n = 0;
		cJSON_Delete(j);
		strbuf_release(&sb);
	}
	j = json("{\"id\":1}");
	assert_int_equal(tuya_parse_password_list(j, &l, err), ERR_PROTOCOL);
	cJSON_Delete(j);
	assert_int_equal(tuya_parse_password_list(NULL, &l, err), ERR_PROTOCOL);
}

static void test_parse_create(void **state)
{
	static const char *const bad[] = {
		"null", "true", "[]", "{}", "{\"id\":0}", "{\"id\":-1}",
		"{\"id\":1.25}", "{\"id\":\"\"}", "{\"id\":\"0x10\"}",
		"{\"id\":\"+5\"}", "{\"id\":1e20}", "{\"id\":null}",
		"{\"id\":\"99999999999999999999\"}",
	};
	char err[ERRBUF_SIZE];
	int64_t id;
	cJSON *j;

	(void)state;
	j = json("{\"id\":\"9223372036854775807\"}");
	assert_int_equal(tuya_parse_create(j, &id, err), ERR_OK);
	assert_true(id == INT64_MAX);
	cJSON_Delete(j);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		j = json(bad[i]);
		if (tuya_parse_create(j, &id, err) != ERR_PROTOCOL)
			fail_msg("accepted: %s", bad[i]);
		cJSON_Delete(j);
	}
	assert_int_equal(tuya_parse_create(NULL, &id, err), ERR_PROTOCOL);
}

/* ------------------------------------------------------------------------
 * A scripted HTTP server on 127.0.0.1: answers the scripted responses in
 * order, one connection each ("Connection: close"), and records requests.
 */

struct fake_resp {
	int status;
	const char *body;
	const char *headers;   /* extra header lines, each ending "\r\n" */
};

#define FAKE_MAX 16

struct fake {
	int lfd;
	int port;
	pthread_t th;
	const struct fake_resp *resp;
	size_t nresp;
	char *req[FAKE_MAX];   /* raw requests, head and body */
	size_t nreq;
};

static size_t content_length(const char *head)
{
	const char *p = head;

	while ((p = strchr(p, '\n')) != NULL) {
		p++;
		if (strncasecmp(p, "content-length:", 15) == 0)
			return (size_t)strtoul(p + 15, NULL, 10);
	}
	return 0;
}

static void *fake_main(void *arg)
{
	struct fake *f = arg;

	for (size_t i = 0; i < f->nresp && i < FAKE_MAX; i++) {
		struct pollfd pfd = { f->lfd, POLLIN, 0 };
		char buf[65536];
		size_t len = 0, need = 0;
		char *hdr_end = NULL;
		struct strbuf out = STRBUF_INIT;
		int fd;

		if (poll(&pfd, 1, 20000) <= 0 || !(pfd.revents & POLLIN))
			break;
		fd = accept(f->lfd, NULL, NULL);
		if (fd < 0)
			break;
		for (;;) {
			ssize_t n = recv(fd, buf + len, sizeof(buf) - 1 - len, 0);

			if (n <= 0)
				break;
			len += (size_t)n;
			buf[len] = '\0';
			if (!hdr_end && (hdr_end = strstr(buf, "\r\n\r\n")) != NULL)
				need = (size_t)(hdr_end + 4 - buf) + content_length(buf);
			if (hdr_end && len >= need)
				break;
		}
		buf[len] = '\0';
		f->req[f->nreq++] = xstrdup(buf);
		strbuf_addf(&out, "HTTP/1.1 %d X\r\nContent-Type: application/json\r\n"
			    "Content-Length: %zu\r\nConnection: close\r\n%s\r\n%s",
			    f->resp[i].status, strlen(f->resp[i].body),
			    f->resp[i].headers ? f->resp[i].headers : "",
			    f->resp[i].body);
		if (send(fd, out.buf, out.len, MSG_NOSIGNAL) < 0)
			perror("fake: send");
		strbuf_release(&out);
		close(fd);
	}
	return NULL;
}

static void fake_start(struct fake *f, const struct fake_resp *resp, size_t n)
{
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);

	memset(f, 0, sizeof(*f));
	f->resp = resp;
	f->nresp = n;
	f->lfd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(f->lfd >= 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(f->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(f->lfd, 8), 0);
	assert_int_equal(getsockname(f->lfd, (struct sockaddr *)&sa, &sl), 0);
	f->port = ntohs(sa.sin_port);
	assert_int_equal(pthread_create(&f->th, NULL, fake_main, f), 0);
}

/* Stop the server (waking it if it still waits) and collect requests. */
static void fake_stop(struct fake *f)
{
	shutdown(f->lfd, SHUT_RDWR);
	pthread_join(f->th, NULL);
	close(f->lfd);
}

static void fake_free(struct fake *f)
{
	for (size_t i = 0; i < f->nreq; i++)
		free(f->req[i]);
	f->nreq = 0;
}

/* The value of header name in a raw request, into out; 0 or -1 if absent. */
static int req_header(const char *req, const char *name, char *out, size_t size)
{
	const char *end = strstr(req, "\r\n\r\n");
	const char *p = req;
	size_t nl = strlen(name);

	while ((p = strstr(p, "\r\n")) != NULL && p < end) {
		p += 2;
		if (strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
			const char *v = p + nl + 1;
			size_t n;

			while (*v == ' ')
				v++;
			n = strcspn(v, "\r");
			if (n >= size)
				n = size - 1;
			memcpy(out, v, n);
			out[n] = '\0';
			return 0;
		}
	}
	return -1;
}

static const char *req_body(const char *req)
{
	const char *p = strstr(req, "\r\n\r\n");

	return p ? p + 4 : "";
}

static void assert_request_line(const char *req, const char *line)
{
	size_t n = strlen(line);

	if (strncmp(req, line, n) != 0 || strncmp(req + n, " HTTP/1.1\r\n", 11) != 0)
		fail_msg("request line: want '%s', got '%.*s'", line,
			 (int)strcspn(req, "\r"), req);
}

/* The headers every request carries; token: the access_token expected, or
 * NULL for a token request (no access_token header at all). */
static void assert_common_headers(const char *req, const char *token,
				  const char *t)
{
	char v[512];

	assert_int_equal(req_header(req, "client_id", v, sizeof(v)), 0);
	assert_string_equal(v, CID);
	assert_int_equal(req_header(req, "sign_method", v, sizeof(v)), 0);
	assert_string_equal(v, "HMAC-SHA256");
	assert_int_equal(req_header(req, "t", v, sizeof(v)), 0);
	assert_string_equal(v, t);
	assert_int_equal(req_header(req, "nonce", v, sizeof(v)), -1);
	assert_int_equal(req_header(req, "Signature-Headers", v, sizeof(v)), -1);
	if (token) {
		assert_int_equal(req_header(req, "access_token", v, sizeof(v)), 0);
		assert_string_equal(v, token);
	} else {
		assert_int_equal(req_header(req, "access_token", v, sizeof(v)), -1);
	}
}

/* Recompute the sign of a recorded request, as the real server does. */
static void assert_signed(const char *req, const char *token, long long t)
{
	char method[16], path[512], sign[TUYA_SIGN_LEN + 1], got[128];
	const char *body = req_body(req);
	struct strbuf sts = STRBUF_INIT;

	assert_int_equal(sscanf(req, "%15s %511s", method, path), 2);
	assert_int_equal(tuya_string_to_sign(method, path, body, strlen(body),
					     NULL, &sts), ERR_OK);
	assert_int_equal(tuya_sign(CID, SECRET, token, t, NULL, strbuf_str(&sts),
				   sign), ERR_OK);
	assert_int_equal(req_header(req, "sign", got, sizeof(got)), 0);
	assert_string_equal(got, sign);
	strbuf_release(&sts);
}

/* No secret of any kind in a message. */
static void assert_clean(const char *msg, const char *pin)
{
	static const char *const secrets[] = {
		SECRET, TOKEN1, TOKEN2, REFRESH, PLAIN_KEY, TICKET_KEY,
		"cf92bdd05e22fa0b6bf735c37569f174",
	};

	for (size_t i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++)
		if (strstr(msg, secrets[i]))
			fail_msg("message leaks %s: %s", secrets[i], msg);
	if (pin && strstr(msg, pin))
		fail_msg("message leaks the pin: %s", msg);
	/* nothing that looks like a sign (64 uppercase hex) */
	for (const char *p = msg; *p; p++) {
		size_t n = strspn(p, "0123456789ABCDEF");

		if (n >= 32)
			fail_msg("message has a hex run: %s", msg);
		p += n ? n - 1 : 0;
	}
}

#define TOKEN_BODY(tok) \
	"{\"success\":true,\"result\":{\"access_token\":\"" tok "\",\"expire_time\":7200," \
	"\"refresh_token\":\"" REFRESH "\",\"uid\":\"u1\"},\"t\":1700000000000,\"tid\":\"x\"}"
#define TICKET_BODY \
	"{\"success\":true,\"result\":{\"ticket_id\":\"9wxxoLM\",\"ticket_key\":\"" \
	TICKET_KEY "\",\"expire_time\":300},\"t\":1700000002000}"
#define LIST_BODY \
	"{\"success\":true,\"result\":[{\"id\":1001,\"name\":\"guest-42\",\"phase\":2," \
	"\"effective_time\":1700003600,\"invalid_time\":1700090000}],\"t\":1}"

struct env {
	struct http *http;
	struct tuya_client *c;
	struct fake f;
	char url[64];
	char err[ERRBUF_SIZE];
	struct tuya_status st;
};

/* Start the fake with resp and a client for it at now_ms, holding token
 * TOKEN1 (valid for an hour) when cached is set. */
static void env_start(struct env *e, const struct fake_resp *resp, size_t n,
		      long long now_ms, int cached)
{
	struct http_opts o = { 10, NULL, 0, NULL, NULL, NULL };

	memset(e, 0, sizeof(*e));
	fake_start(&e->f, resp, n);
	snprintf(e->url, sizeof(e->url), "http://127.0.0.1:%d/", e->f.port);
	e->http = http_new(&o, NULL);
	assert_non_null(e->http);
	assert_int_equal(tuya_client_new(&e->c, e->url, CID, SECRET, e->http,
					 now_ms, e->err), ERR_OK);
	if (cached) {
		struct tuya_token tok;

		memset(&tok, 0, sizeof(tok));
		xstrlcpy(tok.access, TOKEN1, sizeof(tok.access));
		tok.expires_at = now_ms + 3600 * 1000LL;
		tuya_client_set_token(e->c, &tok);
	}
}

/* Stop the fake; the client made exactly nreq requests. */
static void env_stop(struct env *e, size_t nreq)
{
	fake_stop(&e->f);
	if (e->f.nreq != nreq)
		fail_msg("server saw %zu requests, want %zu", e->f.nreq, nreq);
}

static void env_free(struct env *e)
{
	fake_free(&e->f);
	tuya_client_free(e->c);
	http_free(e->http);
}

/* Create with a cached token at t = 1700000002000: the ticket request is
 * vector B4 and the create request is vector B3, byte for byte. */
static void test_client_create_b3(void **state)
{
	static const struct fake_resp r[] = {
		{ 200, TICKET_BODY, NULL },
		{ 200, "{\"success\":true,\"result\":{\"id\":1001},\"t\":1}", NULL },
	};
	struct env e;
	char v[128];
	int64_t id = -1;

	(void)state;
	env_start(&e, r, 2, 1700000002000LL, 1);
	assert_int_equal(tuya_create_temp_password(e.c, DEV, "guest-42", "1234567",
						   1700003600, 1700090000, &id,
						   &e.st, e.err), ERR_OK);
	env_stop(&e, 2);
	assert_int_equal(id, 1001);
	assert_int_equal(e.st.cls, TUYA_OK);
	assert_int_equal(e.st.http_status, 200);

	assert_request_line(e.f.req[0], "POST /v1.0/devices/" DEV "/door-lock/password-ticket");
	assert_common_headers(e.f.req[0], TOKEN1, "1700000002000");
	assert_int_equal(req_header(e.f.req[0], "sign", v, sizeof(v)), 0);
	assert_string_equal(v, "069D9BD75DB891C362B67C856287088A967206956F4E2717BCCF58BE04589F71");
	assert_int_equal(req_header(e.f.req[0], "content-length", v, sizeof(v)), 0);
	assert_string_equal(v, "0");
	assert_string_equal(req_body(e.f.req[0]), "");

	assert_request_line(e.f.req[1], "POST /v1.0/devices/" DEV "/door-lock/temp-password");
	assert_common_headers(e.f.req[1], TOKEN1, "1700000002000");
	assert_int_equal(req_header(e.f.req[1], "sign", v, sizeof(v)), 0);
	assert_string_equal(v, "2162B8AD541E0745B60F2B1FC24AFD24237BF8EC4E44F1031060A60AF09E9C8C");
	assert_int_equal(req_header(e.f.req[1], "content-type", v, sizeof(v)), 0);
	assert_string_equal(v, "application/json");
	assert_string_equal(req_body(e.f.req[1]), B3_BODY);
	assert_int_equal(tuya_client_token_requests(e.c), 0);
	assert_int_equal(tuya_client_token_fetched(e.c), 0);
	env_free(&e);
}

/* No token: the first request is vector B1 (no access_token header), the
 * call then uses the new token, and the caller is told to save it. */
static void test_client_fetches_token(void **state)
{
	static const struct fake_resp r[] = {
		{ 200, TOKEN_BODY(TOKEN1), NULL },
		{ 200, LIST_BODY, NULL },
	};
	struct tuya_password_list l = TUYA_PASSWORD_LIST_INIT;
	struct env e;
	char v[128];

	(void)state;
	env_start(&e, r, 2, 1700000000000LL, 0);
	assert_int_equal(tuya_list_temp_passwords(e.c, DEV, &l, &e.st, e.err), ERR_OK);
	env_stop(&e, 2);
	assert_request_line(e.f.req[0], "GET /v1.0/token?grant_type=1");
	assert_common_headers(e.f.req[0], NULL, "1700000000000");
	assert_int_equal(req_header(e.f.req[0], "sign", v, sizeof(v)), 0);
	assert_string_equal(v, "19B5B6F0C530628FDC6E8B91AA8C87E62565E01B164FC2E9CCCAD553C59D146C");
	assert_int_equal(req_header(e.f.req[0], "content-type", v, sizeof(v)), -1);

	assert_request_line(e.f.req[1], "GET /v1.0/devices/" DEV "/door-lock/temp-passwords");
	assert_common_headers(e.f.req[1], TOKEN1, "1700000000000");
	assert_signed(e.f.req[1], TOKEN1, 1700000000000LL);
	assert_int_equal(req_header(e.f.req[1], "content-type", v, sizeof(v)), -1);

	assert_int_equal(l.n, 1);
	assert_int_equal(l.v[0].id, 1001);
	assert_string_equal(l.v[0].name, "guest-42");
	assert_int_equal(tuya_client_token_fetched(e.c), 1);
	assert_int_equal(tuya_client_token_requests(e.c), 1);
	assert_string_equal(tuya_client_token(e.c)->access, TOKEN1);
	assert_string_equal(tuya_client_token(e.c)->refresh, REFRESH);
	assert_int_equal(tuya_client_token(e.c)->expires_at, 1700007200000LL);
	tuya_password_list_release(&l);
	env_free(&e);
}

/* A cached token with less than 60 s left is replaced once; after that the
 * client never asks again, even when its token runs out (P6). */
static void test_client_token_budget(void **state)
{
	static const struct fake_resp r[] = {
		{ 200, TOKEN_BODY(TOKEN2), NULL },
		{ 200, LIST_BODY, NULL },
		{ 200, LIST_BODY, NULL },
	};
	struct tuya_password_list l = TUYA_PASSWORD_LIST_INIT;
	struct tuya_token tok;
	struct env e;

	(void)state;
	env_start(&e, r, 3, 1700000000000LL, 0);
	memset(&tok, 0, sizeof(tok));
	xstrlcpy(tok.access, TOKEN1, sizeof(tok.access));
	tok.expires_at = 1700000000000LL + 59999;
	tuya_client_set_token(e.c, &tok);
	assert_int_equal(tuya_list_temp_passwords(e.c, DEV, &l, &e.st, e.err), ERR_OK);
	/* three hours later: expired, but the one proactive request is spent */
	tuya_client_set_now(e.c, 1700000000000LL + 3 * 3600 * 1000LL);
	assert_int_equal(tuya_list_temp_passwords(e.c, DEV, &l, &e.st, e.err), ERR_OK);
	env_stop(&e, 3);
	assert_request_line(e.f.req[0], "GET /v1.0/token?grant_type=1");
	assert_common_headers(e.f.req[1], TOKEN2, "1700000000000");
	assert_common_headers(e.f.req[2], TOKEN2, "1700010800000");
	assert_signed(e.f.req[2], TOKEN2, 1700010800000LL);
	assert_int_equal(tuya_client_token_requests(e.c), 1);
	tuya_password_list_release(&l);
	env_free(&e);

	/* exactly 60 s left is enough: no token request */
	{
		static const struct fake_resp r2[] = { { 200, LIST_BODY, NULL } };

		env_start(&e, r2, 1, 1700000000000LL, 0);
		tok.expires_at = 1700000000000LL + 60000;
		tuya_client_set_token(e.c, &tok);
		assert_int_equal(tuya_list_temp_passwords(e.c, DEV, &l, &e.st, e.err),
				 ERR_OK);
		env_stop(&e, 1);
		assert_int_equal(tuya_client_token_requests(e.c), 0);
		assert_int_equal(tuya_client_token_fetched(e.c), 0);
		tuya_password_list_release(&l);
		env_free(&e);
	}
}

/* A token error gets one new token and one retry; a second token error in
 * the same run does not get another (P5, P6). */
static void test_client_token_error_retry(void **state)
{
	static const struct fake_resp r[] = {
		{ 200, "{\"success\":false,\"code\":1010,\"msg\":\"token is expired\",\"t\":1}", NULL },
		{ 200, TOKEN_BODY(TOKEN2), NULL },
		{ 200, "{\"success\":true,\"result\":true,\"t\":1}", NULL },
		{ 200, "{\"success\":false,\"code\":1011,\"msg\":\"token invalid\",\"t\":1}", NULL },
	};
	struct env e;

	(void)state;
	env_start(&e, r, 4, 1700000002000LL, 1);
	assert_int_equal(tuya_delete_temp_password(e.c, DEV, 1001, &e.st, e.err), ERR_OK);
	assert_int_equal(e.st.cls, TUYA_OK);
	assert_int_equal(tuya_delete_temp_password(e.c, DEV, 1002, &e.st, e.err),
			 ERR_UNAVAILABLE);
	env_stop(&e, 4);
	assert_int_equal(e.st.cls, TUYA_TOKEN);
	assert_int_equal(e.st.code, 1011);
	assert_non_null(strstr(e.err, "1011"));
	assert_non_null(strstr(e.err, DEV));
	assert_clean(e.err, NULL);
	/* the first DELETE is vector B5 */
	{
		char v[128];

		assert_request_line(e.f.req[0], "DELETE /v1.0/devices/" DEV "/door-lock/temp-passwords/1001");
		assert_int_equal(req_header(e.f.req[0], "sign", v, sizeof(v)), 0);
		assert_string_equal(v, "202BCB5234374257BCC8A8187F7830E999E1E63F4D2C7908F1090C6D362C6324");
		assert_int_equal(req_header(e.f.req[0], "content-type", v, sizeof(v)), -1);
	}
	assert_request_line(e.f.req[1], "GET /v1.0/token?grant_type=1");
	assert_common_headers(e.f.req[1], NULL, "1700000002000");
	assert_request_line(e.f.req[2], "DELETE /v1.0/devices/" DEV "/door-lock/temp-passwords/1001");
	assert_common_headers(e.f.req[2], TOKEN2, "1700000002000");
	assert_signed(e.f.req[2], TOKEN2, 1700000002000LL);
	assert_request_line(e.f.req[3], "DELETE /v1.0/devices/" DEV "/door-lock/temp-passwords/1002");
	assert_int_equal(tuya_client_token_requests(e.c), 1);
	assert_int_equal(tuya_client_token_fetched(e.c), 1);
	assert_string_equal(tuya_client_token(e.c)->access, TOKEN2);
	env_free(&e);
}

/* Credentials refused on the token request: exit-77 class, reported again
 * without another request. */
static void test_client_token_refused(void **state)
{
	static const struct fake_resp r[] = {
		{ 200, "{\"success\":false,\"code\":1004,\"msg\":\"sign invalid\",\"t\":1}", NULL },
	};
	struct tuya_ticket tk;
	struct env e;

	(void)state;
	env_start(&e, r, 1, 1700000000000LL, 0);
	assert_int_equal(tuya_get_ticket(e.c, DEV, &tk, &e.st, e.err), ERR_PERM);
	assert_int_equal(e.st.cls, TUYA_AUTH);
	assert_int_equal(e.st.code, 1004);
	assert_non_null(strstr(e.err, "access token"));
	assert_non_null(strstr(e.err, "1004: sign invalid"));
	assert_clean(e.err, NULL);
	e.err[0] = '\0';
	assert_int_equal(tuya_get_ticket(e.c, DEV, &tk, &e.st, e.err), ERR_PERM);
	assert_int_equal(e.st.cls, TUYA_AUTH);
	assert_non_null(strstr(e.err, "1004"));
	env_stop(&e, 1);
	assert_int_equal(tuya_client_token_fetched(e.c), 0);
	assert_string_equal(tuya_client_token(e.c)->access, "");
	env_free(&e);
}

/* HTTP status and body failures map to the documented classes. */
static void test_client_http_errors(void **state)
{
	static const struct {
		struct fake_resp r;
		enum err want;
		enum tuya_class cls;
		long retry_after;
	} t[] = {
		{ { 503, "{}", "Retry-After: 7\r\n" }, ERR_UNAVAILABLE, TUYA_RETRY, 7 },
		{ { 500, "oops", NULL }, ERR_UNAVAILABLE, TUYA_RETRY, -1 },
		{ { 429, "{}", NULL }, ERR_UNAVAILABLE, TUYA_RETRY, -1 },
		{ { 401, "{}", NULL }, ERR_PERM, TUYA_AUTH, -1 },
		{ { 404, "{}", NULL }, ERR_PROTOCOL, TUYA_PERMANENT, -1 },
		{ { 200, "<html>", NULL }, ERR_PROTOCOL, TUYA_PERMANENT, -1 },
		{ { 200, "{\"success\":true,\"result\":{}}", NULL }, ERR_PROTOCOL, TUYA_PERMANENT, -1 },
		{ { 200, "{\"success\":true,\"result\":false}", NULL }, ERR_PROTOCOL, TUYA_PERMANENT, -1 },
		{ { 200, "{\"success\":false,\"code\":1111,\"msg\":\"busy\"}", NULL }, ERR_UNAVAILABLE, TUYA_RETRY, -1 },
		{ { 200, "{\"success\":false,\"code\":2001,\"msg\":\"device is offline\"}", NULL }, ERR_UNAVAILABLE, TUYA_RETRY, -1 },
		{ { 200, "{\"success\":false,\"code\":1106,\"msg\":\"permission deny\"}", NULL }, ERR_PERM, TUYA_AUTH, -1 },
		{ { 200, "{\"success\":false,\"code\":2010,\"msg\":\"device not exist\"}", NULL }, ERR_DATA, TUYA_PERMANENT, -1 },
		{ { 200, "{\"success\":false,\"code\":1100,\"msg\":\"token " TOKEN1 " invalid\"}", NULL }, ERR_DATA, TUYA_PERMANENT, -1 },
		{ { 200, "{\"success\":false,\"code\":1001,\"msg\":\"secret " SECRET " invalid\"}", NULL }, ERR_PERM, TUYA_AUTH, -1 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct env e;

		env_start(&e, &t[i].r, 1, 1700000002000LL, 1);
		if (tuya_delete_temp_password(e.c, DEV, 1001, &e.st, e.err) != t[i].want)
			fail_msg("case %zu: want %d: %s", i, t[i].want, e.err);
		env_stop(&e, 1);
		assert_int_equal(e.st.cls, t[i].cls);
		assert_int_equal(e.st.http_status, t[i].r.status);
		assert_int_equal(e.st.retry_after, t[i].retry_after);
		assert_non_null(strstr(e.err, "tuya device '" DEV "'"));
		assert_clean(e.err, NULL);
		env_free(&e);
	}
}

/* Deleting a password the cloud no longer has counts as done (P4). */
static void test_client_delete_gone(void **state)
{
	static const struct fake_resp r[] = {
		{ 200, "{\"success\":false,\"code\":1000,\"msg\":\"data not exist\"}", NULL },
	};
	struct env e;

	(void)state;
	env_start(&e, r, 1, 1700000002000LL, 1);
	assert_int_equal(tuya_delete_temp_password(e.c, DEV, 1001, &e.st, e.err), ERR_OK);
	env_stop(&e, 1);
	assert_int_equal(e.st.cls, TUYA_GONE);
	assert_int_equal(e.st.code, 1000);
	env_free(&e);
}

/* A refused PIN: the message names device and code, never the PIN, its
 * ciphertext, the ticket key, the token or the secret. */
static void test_client_pin_rejected(void **state)
{
	static const struct fake_resp r[] = {
		{ 200, TICKET_BODY, NULL },
		{ 200, "{\"success\":false,\"code\":1109,\"msg\":\"param is illegal, please check it\"}", NULL },
	};
	struct env e;
	int64_t id = 5;

	(void)state;
	env_start(&e, r, 2, 1700000002000LL, 1);
	assert_int_equal(tuya_create_temp_password(e.c, DEV, "HM42", "8302719",
						   1700003600, 1700090000, &id,
						   &e.st, e.err), ERR_DATA);
	env_stop(&e, 2);
	assert_int_equal(id, 0);
	assert_int_equal(e.st.cls, TUYA_PIN_REJECTED);
	assert_int_equal(e.st.code, 1109);
	assert_string_equal(e.err, "tuya device '" DEV "': cannot create a temporary "
			    "password: tuya code 1109: param is illegal, please check it");
	assert_clean(e.err, "8302719");
	assert_signed(e.f.req[1], TOKEN1, 1700000002000LL);
	env_free(&e);
}

/* The id of a new password may be beyond 2^53 when sent as a string. */
static void test_client_create_big_id(void **state)
{
	static const struct fake_resp r[] = {
		{ 200, TICKET_BODY, NULL },
		{ 200, "{\"success\":true,\"result\":{\"id\":\"9007199254740993\"}}", NULL },
	};
	struct env e;
	int64_t id = 0;

	(void)state;
	env_start(&e, r, 2, 1700000002000LL, 1);
	assert_int_equal(tuya_create_temp_password(e.c, DEV, "HM42", "8302719",
						   1700003600, 1700090000, &id,
						   &e.st, e.err), ERR_OK);
	env_stop(&e, 2);
	assert_true(id == INT64_C(9007199254740993));
	env_free(&e);
}

static void test_client_modify(void **state)
{
	static const struct fake_resp r[] = {
		{ 200, TICKET_BODY, NULL },
		{ 200, "{\"success\":true,\"result\":true}", NULL },
	};
	struct env e;

	(void)state;
	env_start(&e, r, 2, 1700000002000LL, 1);
	assert_int_equal(tuya_modify_temp_password(e.c, DEV, 1001, "guest-42", "1234567",
						   1700003600, 1700090000, &e.st,
						   e.err), ERR_OK);
	env_stop(&e, 2);
	assert_request_line(e.f.req[1], "PUT /v1.0/devices/" DEV
			    "/door-lock/temp-passwords/1001/modify-password");
	assert_string_equal(req_body(e.f.req[1]), B3_BODY);
	assert_signed(e.f.req[1], TOKEN1, 1700000002000LL);
	env_free(&e);
}

static void test_client_get(void **state)
{
	static const struct fake_resp r[] = {
		{ 200, "{\"success\":true,\"result\":{\"id\":1001,\"name\":\"HM42\",\"phase\":1,"
		  "\"effective_time\":10,\"invalid_time\":20,\"delivery_status\":2}}", NULL },
		{ 200, "{\"success\":true,\"result\":{\"id\":1002,\"name\":\"HM42\",\"phase\":1,"
		  "\"effective_time\":10,\"invalid_time\":20}}", NULL },
		{ 200, "{\"success\":false,\"code\":1000,\"msg\":\"data not exist\"}", NULL },
	};
	struct tuya_password p;
	struct env e;

	(void)state;
	env_start(&e, r, 3, 1700000002000LL, 1);
	assert_int_equal(tuya_get_temp_password(e.c, DEV, 1001, &p, &e.st, e.err), ERR_OK);
	assert_int_equal(p.id, 1001);
	assert_string_equal(p.name, "HM42");
	assert_int_equal(p.phase, 1);
	assert_int_equal(p.delivery_status, 2);
	tuya_password_release(&p);
	/* an answer about another password */
	assert_int_equal(tuya_get_temp_password(e.c, DEV, 1001, &p, &e.st, e.err),
			 ERR_PROTOCOL);
	assert_null(p.name);
	assert_int_equal(tuya_get_temp_password(e.c, DEV, 1001, &p, &e.st, e.err), ERR_DATA);
	assert_int_equal(e.st.cls, TUYA_GONE);
	env_stop(&e, 3);
	assert_request_line(e.f.req[0], "GET /v1.0/devices/" DEV "/door-lock/temp-password/1001");
	env_free(&e);
}

/* Bad arguments are refused before anything is sent. */
static void test_client_bad_args(void **state)
{
	static const char *const devices[] = {
		"", "../etc", "bf01 23", "bf01/x", "bf01?a=1", "bf01%2F",
		"a1234567890123456789012345678901234567890123456789012345678901234",
	};
	struct tuya_password_list l = TUYA_PASSWORD_LIST_INIT;
	struct tuya_ticket tk;
	struct env e;
	int64_t id;

	(void)state;
	env_start(&e, NULL, 0, 1700000002000LL, 1);
	for (size_t i = 0; i < sizeof(devices) / sizeof(devices[0]); i++) {
		assert_int_equal(tuya_get_ticket(e.c, devices[i], &tk, &e.st, e.err), ERR_DATA);
		assert_int_equal(tuya_list_temp_passwords(e.c, devices[i], &l, &e.st, e.err),
				 ERR_DATA);
		assert_int_equal(tuya_delete_temp_password(e.c, devices[i], 1, NULL, e.err),
				 ERR_DATA);
	}
	assert_int_equal(tuya_get_ticket(e.c, NULL, &tk, &e.st, e.err), ERR_DATA);
	assert_int_equal(tuya_delete_temp_password(e.c, DEV, 0, &e.st, e.err), ERR_DATA);
	assert_int_equal(tuya_create_temp_password(e.c, DEV, "x", "123", 1, 2, &id, &e.st,
						   e.err), ERR_DATA);
	assert_null(strstr(e.err, "123'"));
	assert_int_equal(tuya_create_temp_password(e.c, DEV, "x", "12345a7", 1, 2, &id,
						   &e.st, e.err), ERR_DATA);
	assert_int_equal(tuya_create_temp_password(e.c, DEV, "x", "1234567890123", 1, 2,
						   &id, &e.st, e.err), ERR_DATA);
	assert_int_equal(tuya_create_temp_password(e.c, DEV, "", "8302719", 1, 2, &id,
						   &e.st, e.err), ERR_DATA);
	assert_int_equal(tuya_create_temp_password(e.c, DEV, "a\nb", "8302719", 1, 2, &id,
						   &e.st, e.err), ERR_DATA);
	assert_int_equal(tuya_create_temp_password(e.c, DEV, "x", "8302719", 2, 2, &id,
						   &e.st, e.err), ERR_DATA);
	assert_int_equal(tuya_create_temp_password(e.c, DEV, "x", "8302719", 0, 2, &id,
						   &e.st, e.err), ERR_DATA);
	assert_int_equal(tuya_modify_temp_password(e.c, DEV, -1, "x", "8302719", 1, 2,
						   &e.st, e.err), ERR_DATA);
	env_stop(&e, 0);
	env_free(&e);

	/* client configuration */
	{
		struct http_opts o = { 1, NULL, 0, NULL, NULL, NULL };
		struct http *h = http_new(&o, NULL);
		struct tuya_client *c = (struct tuya_client *)&o;
		char err[ERRBUF_SIZE];

		assert_int_equal(tuya_client_new(&c, "ftp://x", CID, SECRET, h, 0, err),
				 ERR_CONFIG);
		assert_null(c);
		assert_int_equal(tuya_client_new(&c, "https://x", "", SECRET, h, 0, err),
				 ERR_CONFIG);
		assert_int_equal(tuya_client_new(&c, "https://x", CID, "has space", h, 0,
						 err), ERR_CONFIG);
		assert_null(strstr(err, "has space"));
		assert_int_equal(tuya_client_new(&c, "https://x", CID, "", h, 0, err),
				 ERR_CONFIG);
		http_free(h);
	}
}

/* Nothing listening: a transport error, retryable, with no HTTP status. */
static void test_client_unreachable(void **state)
{
	struct http_opts o = { 5, NULL, 0, NULL, NULL, NULL };
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	struct tuya_client *c;
	struct tuya_status st;
	struct http *h;
	char url[64], err[ERRBUF_SIZE];
	int fd;

	(void)state;
	/* a port that was free a moment ago */
	fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
	close(fd);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", ntohs(sa.sin_port));
	h = http_new(&o, NULL);
	assert_int_equal(tuya_client_new(&c, url, CID, SECRET, h, 1700000000000LL, err),
			 ERR_OK);
	assert_int_equal(tuya_delete_temp_password(c, DEV, 1001, &st, err), ERR_UNAVAILABLE);
	assert_int_equal(st.cls, TUYA_RETRY);
	assert_int_equal(st.http_status, 0);
	assert_int_equal(st.code, 0);
	assert_non_null(strstr(err, "access token"));
	assert_clean(err, NULL);
	assert_int_equal(tuya_client_token_requests(c), 1);
	/* the failed token request is not repeated */
	assert_int_equal(tuya_delete_temp_password(c, DEV, 1001, &st, err), ERR_UNAVAILABLE);
	assert_int_equal(st.cls, TUYA_RETRY);
	assert_int_equal(tuya_client_token_requests(c), 1);
	assert_int_equal(http_requests(h), 1);
	tuya_client_free(c);
	http_free(h);
}


/* ---- devices ------------------------------------------------------------- */

static cJSON *js(const char *text)
{
	cJSON *j = cJSON_Parse(text);

	assert_non_null(j);
	return j;
}

static void test_parse_device(void **state)
{
	static const char *const bad[] = {
		"[]", "{}", "{\"id\":7}", "{\"id\":\"a/b\"}", "{\"id\":\"\"}",
		"{\"id\":\"d1\",\"name\":1}", "{\"id\":\"d1\",\"product_name\":{}}",
		"{\"id\":\"d1\",\"category\":\"Has Caps\"}", "{\"id\":\"d1\",\"category\":2}",
		"{\"id\":\"d1\",\"online\":\"yes\"}",
	};
	struct tuya_device d;
	char eb[ERRBUF_SIZE];
	cJSON *j;

	(void)state;
	j = js("{\"id\":\"bf01\",\"name\":\"Porta \\u00e9\\u0001\",\"category\":\"jtmspro\","
	       "\"product_name\":\"Lock X\",\"online\":false,\"local_key\":\"k\",\"uid\":\"u\"}");
	assert_int_equal(tuya_parse_device(j, &d, eb), ERR_OK);
	assert_string_equal(d.id, "bf01");
	assert_string_equal(d.name, "Porta \xc3\xa9?");
	assert_string_equal(d.category, "jtmspro");
	assert_string_equal(d.product, "Lock X");
	assert_int_equal(d.online, 0);
	cJSON_Delete(j);
	j = js("{\"id\":\"bf02\",\"name\":null}");
	assert_int_equal(tuya_parse_device(j, &d, eb), ERR_OK);
	assert_string_equal(d.name, "");
	assert_string_equal(d.category, "");
	assert_int_equal(d.online, -1);
	cJSON_Delete(j);
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		j = js(bad[i]);
		if (tuya_parse_device(j, &d, eb) != ERR_PROTOCOL)
			fail_msg("accepted %s", bad[i]);
		cJSON_Delete(j);
	}
}

static void test_parse_device_page(void **state)
{
	static const char *const bad[] = {
		"[]", "{}", "{\"devices\":{}}", "{\"devices\":[],\"has_more\":1}",
		"{\"devices\":[],\"has_more\":true}",
		"{\"devices\":[],\"has_more\":true,\"last_row_key\":\"\"}",
		"{\"devices\":[],\"has_more\":true,\"last_row_key\":\"a&b=c\"}",
		"{\"devices\":[],\"has_more\":true,\"last_row_key\":7}",
	};
	struct tuya_device_list l = TUYA_DEVICE_LIST_INIT;
	char eb[ERRBUF_SIZE], key[TUYA_ROW_KEY_MAX];
	int more = -1;
	cJSON *j;

	(void)state;
	j = js("{\"devices\":[{\"id\":\"d1\",\"category\":\"ms\"},{\"id\":\"bad id\"},7,"
	       "{\"id\":\"d2\",\"category\":\"cz\"}],\"has_more\":true,\"last_row_key\":\"d2\","
	       "\"total\":5}");
	assert_int_equal(tuya_parse_device_page(j, &l, &more, key, sizeof(key), eb), ERR_OK);
	cJSON_Delete(j);
	assert_int_equal(more, 1);
	assert_string_equal(key, "d2");
	assert_int_equal(l.n, 2);
	assert_int_equal(l.nerrors, 2);
	assert_non_null(strstr(strbuf_str(&l.errors), "page 1, entry 2: device has no valid 'id'"));
	assert_int_equal(l.pages, 1);
	j = js("{\"devices\":[{\"id\":\"d3\"}],\"has_more\":false}");
	assert_int_equal(tuya_parse_device_page(j, &l, &more, key, sizeof(key), eb), ERR_OK);
	cJSON_Delete(j);
	assert_int_equal(more, 0);
	assert_string_equal(key, "");
	assert_int_equal(l.n, 3);
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		j = js(bad[i]);
		if (tuya_parse_device_page(j, &l, &more, key, sizeof(key), eb) != ERR_PROTOCOL)
			fail_msg("accepted %s", bad[i]);
		cJSON_Delete(j);
	}
	assert_int_equal(l.n, 3);
	tuya_device_list_release(&l);
}

static void test_is_lock(void **state)
{
	(void)state;
	assert_true(tuya_is_lock("ms"));
	assert_true(tuya_is_lock("jtmspro"));
	assert_true(tuya_is_lock("videolock"));
	assert_true(tuya_is_lock("mk"));
	assert_false(tuya_is_lock("cz"));
	assert_false(tuya_is_lock("bxx"));
	assert_false(tuya_is_lock("MS"));
	assert_false(tuya_is_lock(""));
	assert_false(tuya_is_lock(NULL));
}

static void test_client_devices(void **state)
{
	static const struct fake_resp r[] = {
		{ 200, "{\"success\":true,\"result\":{\"id\":\"" DEV "\",\"name\":\"Front\","
		  "\"category\":\"ms\",\"product_name\":\"Lock\",\"online\":true}}", NULL },
		{ 200, "{\"success\":true,\"result\":{\"id\":\"other\",\"category\":\"ms\"}}", NULL },
		{ 200, "{\"success\":false,\"code\":1106,\"msg\":\"permission deny\"}", NULL },
		{ 200, "{\"success\":true,\"result\":{\"devices\":[{\"id\":\"d1\"},{\"id\":\"d2\"}],"
		  "\"has_more\":true,\"last_row_key\":\"d2\"}}", NULL },
		{ 200, "{\"success\":true,\"result\":{\"devices\":[{\"id\":\"d3\",\"category\":\"cz\"}],"
		  "\"has_more\":false}}", NULL },
		{ 200, "{\"success\":true,\"result\":{\"devices\":[],\"has_more\":true,"
		  "\"last_row_key\":\"k\"}}", NULL },
		{ 200, "{\"success\":true,\"result\":{\"devices\":[],\"has_more\":true,"
		  "\"last_row_key\":\"k\"}}", NULL },
	};
	struct tuya_device_list l = TUYA_DEVICE_LIST_INIT;
	struct tuya_device d;
	struct env e;

	(void)state;
	env_start(&e, r, 7, 1700000002000LL, 1);
	assert_int_equal(tuya_device_get(e.c, DEV, &d, &e.st, e.err), ERR_OK);
	assert_string_equal(d.name, "Front");
	assert_int_equal(d.online, 1);
	assert_int_equal(tuya_device_get(e.c, DEV, &d, &e.st, e.err), ERR_PROTOCOL);
	assert_non_null(strstr(e.err, "answer is for device 'other'"));
	assert_int_equal(tuya_device_get(e.c, DEV, &d, &e.st, e.err), ERR_PERM);
	assert_int_equal(e.st.code, 1106);
	assert_non_null(strstr(e.err, "tuya code 1106: permission deny"));
	assert_int_equal(tuya_device_get(e.c, "a/b", &d, &e.st, e.err), ERR_DATA);
	assert_int_equal(tuya_devices_list(e.c, &l, &e.st, e.err), ERR_OK);
	assert_int_equal(l.n, 3);
	assert_int_equal(l.pages, 2);
	assert_string_equal(l.v[2].category, "cz");
	tuya_device_list_release(&l);
	/* a page key that repeats ends the listing */
	assert_int_equal(tuya_devices_list(e.c, &l, &e.st, e.err), ERR_PROTOCOL);
	assert_non_null(strstr(e.err, "repeats"));
	tuya_device_list_release(&l);
	env_stop(&e, 7);
	assert_request_line(e.f.req[0], "GET /v1.0/devices/" DEV);
	assert_request_line(e.f.req[3], "GET /v1.0/iot-01/associated-users/devices?size=50");
	assert_request_line(e.f.req[4],
			    "GET /v1.0/iot-01/associated-users/devices?size=50&last_row_key=d2");
	env_free(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sign_vectors),
		cmocka_unit_test(test_b3_body),
		cmocka_unit_test(test_body_escaping),
		cmocka_unit_test(test_string_to_sign_query),
		cmocka_unit_test(test_ticket_key),
		cmocka_unit_test(test_ticket_key_bad),
		cmocka_unit_test(test_encrypt_pin),
		cmocka_unit_test(test_pin_valid_printable),
		cmocka_unit_test(test_classify),
		cmocka_unit_test(test_envelope_good),
		cmocka_unit_test(test_envelope_malformed),
		cmocka_unit_test(test_parse_token),
		cmocka_unit_test(test_parse_ticket),
		cmocka_unit_test(test_parse_passwords),
		cmocka_unit_test(test_parse_create),
		cmocka_unit_test(test_client_create_b3),
		cmocka_unit_test(test_client_fetches_token),
		cmocka_unit_test(test_client_token_budget),
		cmocka_unit_test(test_client_token_error_retry),
		cmocka_unit_test(test_client_token_refused),
		cmocka_unit_test(test_client_http_errors),
		cmocka_unit_test(test_client_delete_gone),
		cmocka_unit_test(test_client_pin_rejected),
		cmocka_unit_test(test_client_create_big_id),
		cmocka_unit_test(test_client_modify),
		cmocka_unit_test(test_client_get),
		cmocka_unit_test(test_client_bad_args),
		cmocka_unit_test(test_client_unreachable),
		cmocka_unit_test(test_parse_device),
		cmocka_unit_test(test_parse_device_page),
		cmocka_unit_test(test_is_lock),
		cmocka_unit_test(test_client_devices),
	};

	/* libcurl is loaded and initialised by the first http_new(). */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
