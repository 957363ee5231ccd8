/*
 * tuya.h - Tuya Cloud OpenAPI client for temporary door-lock passwords
 * (tuya-api.md §2-§5).
 *
 * Three layers, each usable on its own:
 *   - pure crypto and signing (string-to-sign, HMAC sign, ticket-key
 *     decryption, PIN encryption), all done with OpenSSL libcrypto;
 *   - pure parsers of the JSON the cloud answers, which treat every byte from
 *     the network as untrusted;
 *   - a client, struct tuya_client, that signs and sends requests over a
 *     borrowed struct http and manages the access token.
 *
 * Invariants kept by this module:
 *   - No message written to an errbuf ever contains the client secret, an
 *     access or refresh token, a signature, a ticket key or a PIN (SPEC §8).
 *     Messages name the device and Tuya's code and (sanitised) msg.
 *   - The body that is signed is the exact byte string that is sent.
 *   - Requests carry no nonce and no Signature-Headers (tuya-api.md §2.1).
 *   - Nothing reads the clock: the caller supplies the time in milliseconds
 *     (tuya_client_new, tuya_client_set_now).
 *   - Token budget (SPEC P6): a client sends at most one proactive token
 *     request (when it has no token, or fewer than TUYA_TOKEN_MARGIN_MS
 *     remain) plus at most one more after the cloud answers a token error
 *     (1010/1011/1012) - the SPEC P5 "one new token and an immediate retry".
 *     The caller persists the token when tuya_client_token_fetched() says so.
 *
 * Every call that talks to the cloud returns an enum err and fills a
 * struct tuya_status, whose cls tells the caller what to do next:
 *
 *   cls               enum err         meaning
 *   TUYA_OK           ERR_OK           done
 *   TUYA_RETRY        ERR_UNAVAILABLE  transport, HTTP 5xx/429, 500, 1013,
 *                                      1110, 1111, 1199, 2001, 2328: retry
 *                                      later with backoff (SPEC P5)
 *   TUYA_TOKEN        ERR_UNAVAILABLE  1010/1011/1012 still failing after the
 *                                      one token re-fetch; retry later
 *   TUYA_AUTH         ERR_PERM         HTTP 401/403, 1001, 1004, 1005, 1106,
 *                                      28841105: credentials or authorisation
 *                                      refused (exit 77)
 *   TUYA_PIN_REJECTED ERR_DATA         1109: PIN length/encryption refused
 *   TUYA_GONE         ERR_DATA         1000 data not exist (ERR_OK from
 *                                      tuya_delete_temp_password: done)
 *   TUYA_PERMANENT    ERR_DATA         any other Tuya code
 *   TUYA_PERMANENT    ERR_PROTOCOL     malformed answer, other HTTP status
 */
#ifndef STAYS_TUYA_H
#define STAYS_TUYA_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "err.h"
#include "http.h"
#include "ids.h"
#include "util.h"

#define TUYA_TOKEN_MAX      256   /* buffer size for a token, NUL included */
#define TUYA_TICKET_ID_MAX  64    /* buffer size for a ticket id */
#define TUYA_NAME_MAX       64    /* buffer size for a password name we send */
#define TUYA_MSG_MAX        128   /* buffer size for Tuya's msg in messages */
#define TUYA_DEVICE_MAX     TUYA_DEVICE_ID_MAX /* longest device id (ids.h) */
#define TUYA_SIGN_LEN       64    /* hex characters of a sign */
#define TUYA_TOKEN_MARGIN_MS 60000LL /* re-fetch when fewer remain */

/* ------------------------------------------------------------------------
 * Classification
 */

enum tuya_class {
	TUYA_OK = 0,
	TUYA_RETRY,         /* transient: retry later with backoff */
	TUYA_TOKEN,         /* token expired or invalid */
	TUYA_AUTH,          /* credentials/authorisation refused (exit 77) */
	TUYA_PIN_REJECTED,  /* 1109: the encrypted PIN or a parameter refused */
	TUYA_GONE,          /* 1000: the password (or other data) does not exist */
	TUYA_PERMANENT      /* anything else: retrying the same call will not help */
};

/*
 * Classify a Tuya error code (the "code" of a failure envelope).  0 is
 * TUYA_OK.  2010 "device not exist" is deliberately TUYA_PERMANENT, not
 * TUYA_GONE: when the cloud forgets a device we cannot know that the lock
 * forgot the PIN, so a revoke must not count that as done.
 */
enum tuya_class tuya_classify(long long code);

/* Classify an HTTP status: 2xx TUYA_OK, 5xx/429 TUYA_RETRY, 401/403
 * TUYA_AUTH, anything else TUYA_PERMANENT. */
enum tuya_class tuya_classify_http(long status);

/* A short lowercase name for a class ("retry", "pin-rejected", ...), static. */
const char *tuya_class_name(enum tuya_class cls);

/* What a call to the cloud ended with; filled by every network call. */
struct tuya_status {
	enum tuya_class cls;
	long long code;      /* Tuya code of a failure envelope, else 0 */
	long http_status;    /* HTTP status, 0 when no response arrived */
	long retry_after;    /* Retry-After in seconds, -1 when absent */
	int sent;            /* create/modify: the write request went out (it
	                        may have taken effect even if the call failed) */
};
#define TUYA_STATUS_INIT { TUYA_OK, 0, 0, -1, 0 }

/* ------------------------------------------------------------------------
 * Signing and crypto (pure; OpenSSL libcrypto; no I/O)
 */

/*
 * Build Tuya's stringToSign (tuya-api.md §2.1) into out (reset first):
 *   METHOD "\n" hex(SHA256(body)) "\n" signed_headers "\n" URL
 * where URL is the path plus, when there is a query, "?" and its parameters
 * percent-decoded ("+" is a space), sorted by key (byte order, stable) and
 * joined as k=v with "&" (a parameter without "=" becomes "k=").
 *
 * method:         "GET", "POST", ...; upper-cased in the output.
 * path_and_query: "/v1.0/token?grant_type=1" (no scheme or host).
 * body, body_len: the exact bytes sent; body may be NULL when body_len is 0.
 * signed_headers: NULL or "" when no Signature-Headers is sent (always, for
 *                 this client); otherwise the block "name:value\n" for each
 *                 signed header in order, e.g. "area_id:x\ncall_id:y\n".
 * out:            receives the string (owned by the caller).
 * All pointers are borrowed.
 * Returns ERR_OK; ERR_DATA for a bad percent escape or one decoding to NUL;
 * ERR_INTERNAL when libcrypto fails.
 */
enum err tuya_string_to_sign(const char *method, const char *path_and_query,
			     const void *body, size_t body_len,
			     const char *signed_headers, struct strbuf *out);

/*
 * sign = UPPER(hex(HMAC-SHA256(secret, client_id + access_token + t +
 * nonce + string_to_sign))).
 *
 * access_token: "" (or NULL) for token requests.  nonce: NULL or "" when no
 * nonce header is sent.  t_ms: the value of the t header.  out receives 64
 * uppercase hex characters and a NUL.  All inputs are borrowed.
 * Returns ERR_OK or ERR_INTERNAL (libcrypto failure; out is then "").
 */
enum err tuya_sign(const char *client_id, const char *secret,
		   const char *access_token, long long t_ms, const char *nonce,
		   const char *string_to_sign, char out[TUYA_SIGN_LEN + 1]);

/*
 * Decrypt a ticket_key: AES-256-ECB with the 32 ASCII bytes of secret as
 * the key (not hex-decoded), PKCS#7 padding; the plaintext must be exactly
 * 16 bytes (tuya-api.md §5.2).
 *
 * ticket_key_hex: hex in either case, as the cloud sent it (borrowed).
 * out_key:        receives the 16 key bytes and a NUL at [16].  The caller
 *                 should wipe it (explicit_bzero) when done.
 * Returns ERR_OK; ERR_CONFIG when secret is not 32 bytes; ERR_PROTOCOL when
 * the hex, the padding or the plaintext length is wrong (wrong secret or a
 * broken answer); ERR_INTERNAL when libcrypto fails.  Messages contain
 * neither the secret nor any key material.
 */
enum err tuya_decrypt_ticket_key(const char *secret, const char *ticket_key_hex,
				 unsigned char out_key[17], char *errbuf);

/*
 * Encrypt a PIN for the cloud: AES-128-ECB with the 16 bytes of key16 used
 * as they are, PKCS#7 padding, output lowercase hex (tuya-api.md §5.2).
 *
 * pin:  1 to 32 ASCII digits (borrowed).
 * out:  receives the hex and a NUL; needs 2 * 16 * (strlen(pin) / 16 + 1) + 1
 *       bytes (33 for PINs up to 15 digits).
 * Returns ERR_OK; ERR_DATA when pin is not 1-32 digits; ERR_INTERNAL when
 * out is too small or libcrypto fails.  out is "" on error (when size > 0).
 */
enum err tuya_encrypt_pin(const unsigned char key16[16], const char *pin,
			  char *out, size_t size);

/*
 * The JSON body of a create or modify call, compact and in this field order
 * (the 175-byte body of vector B3 for its inputs):
 *   {"name":N,"password":P,"password_type":"ticket","ticket_id":T,
 *    "effective_time":E,"invalid_time":I,"type":0}
 * name and ticket_id are JSON-escaped.  out is reset first (owned by the
 * caller; it holds the encrypted PIN, so wipe it when done).
 */
void tuya_password_body(const char *name, const char *password_hex,
			const char *ticket_id, long long effective,
			long long invalid, struct strbuf *out);

/* ------------------------------------------------------------------------
 * Parsing the cloud's answers (pure; exposed for the tests)
 *
 * Integers are accepted as a JSON number without fraction and no larger than
 * 2^53 in magnitude (a larger double may already have been rounded by the
 * parser), or as a string of 1-19 digits that fits in int64.
 */

struct tuya_envelope {
	cJSON *root;            /* owned parse tree, NULL when not parsed */
	const cJSON *result;    /* "result", borrowed from root; NULL if absent */
	int success;            /* the "success" boolean */
	long long code;         /* failure code, 0 on success */
	char msg[TUYA_MSG_MAX]; /* failure msg, sanitised printable ASCII */
};
#define TUYA_ENVELOPE_INIT { NULL, NULL, 0, 0, "" }

/*
 * Parse a response body: a JSON object (nothing but whitespace after it)
 * whose "success" is a boolean; on failure "code" must be an integer other
 * than 0 and "msg", if present and not null, a string.
 *
 * body, len: the response (borrowed; need not be NUL-terminated).
 * env:       filled; env->root is owned by the caller even when the envelope
 *            says success false.  Release with tuya_envelope_release().
 * Returns ERR_OK for any well-formed envelope (check env->success), or
 * ERR_PROTOCOL with a message for a malformed one (env then holds nothing).
 */
enum err tuya_parse_envelope(const char *body, size_t len,
			     struct tuya_envelope *env, char *errbuf);

/* Free env->root and reset env; accepts an already released env. */
void tuya_envelope_release(struct tuya_envelope *env);

/* A cached access token.  Loaded and saved by the caller (pin-runner keeps
 * it in the database); secret: never log it. */
struct tuya_token {
	char access[TUYA_TOKEN_MAX];   /* "" when there is none */
	char refresh[TUYA_TOKEN_MAX];  /* kept for the caller; not used here */
	long long expires_at;          /* Unix time in milliseconds */
};

/*
 * Parse the result of GET /v1.0/token: access_token (1 to
 * TUYA_TOKEN_MAX - 1 printable characters, no space), refresh_token (same
 * rule, may be absent) and expire_time (or "expire") in seconds, 1 to 30
 * days.  expires_at = now_ms + expire_time * 1000 (our clock, not the
 * server's, since our clock is the one it is compared with).
 * Returns ERR_OK or ERR_PROTOCOL; out is left zeroed on error.
 */
enum err tuya_parse_token(const cJSON *result, long long now_ms,
			  struct tuya_token *out, char *errbuf);

struct tuya_ticket {
	char id[TUYA_TICKET_ID_MAX];  /* ticket_id */
	unsigned char key[17];        /* decrypted key: 16 bytes + NUL; secret */
	long long expire_time;        /* seconds of validity left, -1 if absent */
};

/*
 * Parse the result of POST .../password-ticket and decrypt its ticket_key
 * with secret (tuya_decrypt_ticket_key).  ticket_id must be 1 to
 * TUYA_TICKET_ID_MAX - 1 printable characters.  The caller should wipe out
 * after use.  Returns ERR_OK, ERR_PROTOCOL, or the errors of
 * tuya_decrypt_ticket_key().
 */
enum err tuya_parse_ticket(const cJSON *result, const char *secret,
			   struct tuya_ticket *out, char *errbuf);

/* One temporary password as the cloud reports it (tuya-api.md §5.4). */
struct tuya_password {
	int64_t id;            /* > 0 */
	char *name;            /* owned, "" when absent or null */
	int phase;             /* meaning depends on the lock type (§5.4) */
	long long effective;   /* effective_time, Unix seconds */
	long long invalid;     /* invalid_time, Unix seconds */
	int delivery_status;   /* Zigbee only; -1 when absent */
};

/* Free p->name and zero p; accepts a zeroed p. */
void tuya_password_release(struct tuya_password *p);

struct tuya_password_list {
	struct tuya_password *v;  /* owned array of n */
	size_t n;
};
#define TUYA_PASSWORD_LIST_INIT { NULL, 0 }

/* Free every element and the array; accepts an empty list. */
void tuya_password_list_release(struct tuya_password_list *l);

/*
 * Parse one password object: "id" an integer > 0; "phase", "effective_time",
 * "invalid_time" integers (phase within int); "name" a string, null or
 * absent; "delivery_status" an int, null or absent.  Unknown fields are
 * ignored.  out is filled only on ERR_OK (release it); else ERR_PROTOCOL.
 */
enum err tuya_parse_password(const cJSON *obj, struct tuya_password *out,
			     char *errbuf);

/*
 * Parse the result of the list call: an array (at most 10000 entries) of
 * password objects.  One bad entry fails the whole list, since a caller
 * deciding whether a password exists (SPEC P3) must not act on half a list.
 * out is filled only on ERR_OK; else ERR_PROTOCOL.
 */
enum err tuya_parse_password_list(const cJSON *result,
				  struct tuya_password_list *out, char *errbuf);

/* Parse the result of the create call: {"id": integer > 0}. */
enum err tuya_parse_create(const cJSON *result, int64_t *id, char *errbuf);

/* ------------------------------------------------------------------------
 * The client
 */

struct tuya_client;

/*
 * Create a client.
 *
 * base_url:  "https://openapi.tuyaus.com" or a test server; must start with
 *            http:// or https://; a trailing "/" is dropped.  Copied.
 * client_id: the project's Access ID (printable, no space).  Copied.
 * secret:    the project's Access Secret.  Copied; wiped on free.  Signing
 *            accepts any secret; ticket decryption needs exactly 32 bytes.
 * http:      borrowed; must outlive the client.  Used for every request.
 * now_ms:    the current time in Unix milliseconds (see tuya_client_set_now).
 * *out:      receives the client; free with tuya_client_free().
 * Returns ERR_OK, or ERR_CONFIG (message names the bad parameter, never the
 * secret's value).  The client starts without a token.
 */
enum err tuya_client_new(struct tuya_client **out, const char *base_url,
			 const char *client_id, const char *secret,
			 struct http *http, long long now_ms, char *errbuf);

/* Wipe the secret and token and free the client; accepts NULL. */
void tuya_client_free(struct tuya_client *c);

/*
 * Set the time used for the t header and for token expiry.  The caller
 * passes real wall-clock time before each job (lib/ never reads the clock);
 * the cloud refuses a t that is too far off (1013), so do not reuse an old
 * value across a long run.
 */
void tuya_client_set_now(struct tuya_client *c, long long now_ms);

/* Give the client a cached token (copied).  tok may be NULL: no token. */
void tuya_client_set_token(struct tuya_client *c, const struct tuya_token *tok);

/* The client's current token (borrowed; valid until the next call on c).
 * access is "" when it has none. */
const struct tuya_token *tuya_client_token(const struct tuya_client *c);

/* 1 when the client obtained a new token since it was created (the caller
 * should save tuya_client_token() then), else 0. */
int tuya_client_token_fetched(const struct tuya_client *c);

/* Token requests sent by this client so far (0, 1 or 2). */
int tuya_client_token_requests(const struct tuya_client *c);

/*
 * Crash-test points: fn (may be NULL) is called with "ticket" when a
 * ticket is in hand, just before a password is written, and with "sent"
 * right after the write call returned (whatever it returned).  pin-runner
 * uses it to _exit() there in tests (SPEC P3); it is never set otherwise.
 */
void tuya_client_set_step(struct tuya_client *c, void (*fn)(void *ctx, const char *what),
			  void *ctx);

/*
 * Every network call below:
 *   device: the Tuya device id as ids_device_valid() accepts it (anything
 *           else is ERR_DATA before any request).  Borrowed.
 *   st:     filled with the outcome (may be NULL); see the table at the top.
 *   errbuf: ERRBUF_SIZE bytes or NULL; on error a message like
 *           "tuya device 'bf01...': cannot create a temporary password:
 *           tuya code 1109: param is illegal, please check it".
 * may first fetch a token (see the budget at the top) and, on a token error,
 * fetch one and retry the call once.  Errors of the token request itself
 * are reported as such ("tuya: cannot get an access token: ...").
 */

/*
 * POST /v1.0/devices/{device}/door-lock/password-ticket (empty body) and
 * decrypt the ticket key.  *ticket is filled on ERR_OK; wipe it after use.
 */
enum err tuya_get_ticket(struct tuya_client *c, const char *device,
			 struct tuya_ticket *ticket, struct tuya_status *st,
			 char *errbuf);

/*
 * Create a temporary password: get a fresh ticket, encrypt pin with it, and
 * POST /v1.0/devices/{device}/door-lock/temp-password with the body of
 * tuya_password_body() (type 0: usable any number of times in the window).
 *
 * name:      1 to TUYA_NAME_MAX - 1 printable ASCII characters (Tuya may
 *            limit names to 20); the reservation code (SPEC P2).
 * pin:       4 to 12 digits.  Never copied anywhere but the encryption.
 * effective, invalid: the validity window, Unix seconds, 0 < effective <
 *            invalid.
 * *password_id: receives the new password's id (> 0) on ERR_OK.
 * Errors: ERR_DATA for bad arguments (before any request), else as above.
 * A failure after the POST was sent (e.g. a timeout) may still have created
 * the password: the caller must look for it before creating again (SPEC P3).
 */
enum err tuya_create_temp_password(struct tuya_client *c, const char *device,
				   const char *name, const char *pin,
				   long long effective, long long invalid,
				   int64_t *password_id, struct tuya_status *st,
				   char *errbuf);

/*
 * Change the PIN, name and window of password id: fresh ticket, then
 * PUT /v1.0/devices/{device}/door-lock/temp-passwords/{id}/modify-password
 * with the same body as create.  The body of this call is not confirmed by
 * tuya-api.md (§5.5); the result must be true, absent or an object.
 * Arguments and errors as for tuya_create_temp_password(); id > 0.
 */
enum err tuya_modify_temp_password(struct tuya_client *c, const char *device,
				   int64_t id, const char *name, const char *pin,
				   long long effective, long long invalid,
				   struct tuya_status *st, char *errbuf);

/*
 * GET /v1.0/devices/{device}/door-lock/temp-passwords: every temporary
 * password the cloud knows for the lock, in any phase.  *out (initialise
 * with TUYA_PASSWORD_LIST_INIT) is replaced on ERR_OK; the caller releases
 * it with tuya_password_list_release().
 */
enum err tuya_list_temp_passwords(struct tuya_client *c, const char *device,
				  struct tuya_password_list *out,
				  struct tuya_status *st, char *errbuf);

/*
 * GET /v1.0/devices/{device}/door-lock/temp-password/{id} (singular path).
 * *out is filled on ERR_OK (release with tuya_password_release()); an
 * answer for another id is ERR_PROTOCOL.  An unknown id is code 1000:
 * ERR_DATA with st->cls TUYA_GONE.
 */
enum err tuya_get_temp_password(struct tuya_client *c, const char *device,
				int64_t id, struct tuya_password *out,
				struct tuya_status *st, char *errbuf);

/*
 * DELETE /v1.0/devices/{device}/door-lock/temp-passwords/{id} (revoke,
 * SPEC P4).  The result must be true.  A password the cloud no longer has
 * (code 1000) returns ERR_OK with st->cls TUYA_GONE: the caller counts it
 * as revoked.  Any other failure is an error as above.
 */
enum err tuya_delete_temp_password(struct tuya_client *c, const char *device,
				   int64_t id, struct tuya_status *st,
				   char *errbuf);

#endif
