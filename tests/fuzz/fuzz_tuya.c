/*
 * fuzz_tuya.c - libFuzzer target: the bytes are a Tuya Cloud response
 * body for tuya_parse_envelope(); when it is a well-formed envelope, its
 * result goes to every result parser (token, ticket, one password, the
 * password list, create), as if it had answered each call.
 *
 * Checked beyond ASan/UBSan/LSan (abort() on violation): the documented
 * return codes only; a rejected envelope holds nothing; a failure envelope
 * has a non-zero code and a msg of printable ASCII; no message contains the
 * client secret; what each parser accepts obeys its contract (token expiry
 * 1 s to 30 days ahead, ids > 0, ticket id and key present).
 * The body is libFuzzer's exact-sized buffer: it need not be NUL-terminated.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tuya_parse.h"
#include "tuya_sign.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond) do { if (!(cond)) abort(); } while (0)

/* The fake server's secret (tuya-api.md §8.4): its vector decrypts. */
static const char secret[] = "0f1e2d3c4b5a69788796a5b4c3d2e1f0";
#define NOW_MS 1764583200000LL      /* 2025-12-01T10:00:00Z */

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	unsigned char key[17];
	char errbuf[ERRBUF_SIZE];

	(void)argc;
	(void)argv;
	/* Let libcrypto load and cache its ciphers before the first input, so
	 * libFuzzer's per-input leak check sees only what an input did. */
	if (tuya_decrypt_ticket_key(secret,
				    "C5ED04CBE9924E76C0C42DE82999705D8734A795D9AD699A9DD41E4AD0729E37",
				    key, errbuf) != ERR_OK ||
	    memcmp(key, "Zt8kq2Lm9Xw4Bn7P", 16) != 0)
		abort();
	return 0;
}

static void check_msg(const char *errbuf)
{
	CHECK(errbuf[0] != '\0');
	CHECK(!strstr(errbuf, secret));
}

static void results(const cJSON *result)
{
	char errbuf[ERRBUF_SIZE] = "";
	struct tuya_token tok;
	struct tuya_ticket ticket;
	struct tuya_password pw;
	struct tuya_password_list list = TUYA_PASSWORD_LIST_INIT;
	int64_t id = 0;
	enum err e;

	e = tuya_parse_token(result, NOW_MS, &tok, errbuf);
	if (e == ERR_OK) {
		CHECK(tok.access[0] != '\0');
		CHECK(tok.expires_at > NOW_MS &&
		      tok.expires_at <= NOW_MS + 30LL * 86400 * 1000);
	} else {
		CHECK(e == ERR_PROTOCOL);
		check_msg(errbuf);
	}

	errbuf[0] = '\0';
	e = tuya_parse_ticket(result, secret, &ticket, errbuf);
	if (e == ERR_OK) {
		CHECK(ticket.id[0] != '\0' && ticket.key[16] == '\0');
	} else {
		CHECK(e == ERR_PROTOCOL || e == ERR_INTERNAL);
		check_msg(errbuf);
	}

	errbuf[0] = '\0';
	memset(&pw, 0, sizeof(pw));
	e = tuya_parse_password(result, &pw, errbuf);
	if (e == ERR_OK) {
		CHECK(pw.id > 0 && pw.name);
	} else {
		CHECK(e == ERR_PROTOCOL && !pw.name);
		check_msg(errbuf);
	}
	tuya_password_release(&pw);

	errbuf[0] = '\0';
	e = tuya_parse_password_list(result, &list, errbuf);
	if (e == ERR_OK) {
		CHECK(list.n <= 10000 && (list.n == 0 || list.v));
		for (size_t i = 0; i < list.n; i++)
			CHECK(list.v[i].id > 0 && list.v[i].name);
	} else {
		CHECK(e == ERR_PROTOCOL && !list.v && list.n == 0);
		check_msg(errbuf);
	}
	tuya_password_list_release(&list);

	errbuf[0] = '\0';
	e = tuya_parse_create(result, &id, errbuf);
	if (e == ERR_OK) {
		CHECK(id > 0);
	} else {
		CHECK(e == ERR_PROTOCOL);
		check_msg(errbuf);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tuya_envelope env = TUYA_ENVELOPE_INIT;
	char errbuf[ERRBUF_SIZE] = "";
	enum err e = tuya_parse_envelope((const char *)data, size, &env, errbuf);

	if (e != ERR_OK) {
		CHECK(e == ERR_PROTOCOL);
		CHECK(!env.root && !env.result);
		check_msg(errbuf);
		tuya_envelope_release(&env);
		return 0;
	}
	CHECK(env.root);
	if (!env.success) {
		CHECK(env.code != 0);
		for (const char *p = env.msg; *p; p++)
			CHECK(*p >= 0x20 && *p < 0x7f);
	}
	results(env.result);
	tuya_envelope_release(&env);
	return 0;
}
