/*
 * tuya.h - Tuya Cloud OpenAPI client for temporary door-lock passwords
 * (tuya-api.md §2-§5).
 *
 * Three layers, each usable on its own:
 *   - tuya_sign.h: pure crypto and signing (string-to-sign, HMAC sign,
 *     ticket-key decryption, PIN encryption), all done with OpenSSL
 *     libcrypto;
 *   - tuya_parse.h: pure parsers of the JSON the cloud answers, which treat
 *     every byte from the network as untrusted (included here: the client
 *     calls fill its structs);
 *   - this header: the client, struct tuya_client, that signs and sends
 *     requests over a borrowed struct http, manages the access token and
 *     classifies what the cloud answered.  The rest of the program uses
 *     this one.
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

#include "err.h"
#include "http.h"
#include "ids.h"
#include "tuya_parse.h"

#define TUYA_NAME_MAX       64    /* buffer size for a password name we send */
#define TUYA_DEVICE_MAX     TUYA_DEVICE_ID_MAX /* longest device id (ids.h) */
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
 * Returns ERR_OK; ERR_CONFIG (message names the bad parameter, never the
 * secret's value); ERR_INTERNAL when libcrypto cannot be loaded (netlib.h:
 * the message names the library and the package to install).  The client
 * starts without a token.
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
 * Requests this client sent so far (token requests included), and how many
 * of them failed: no answer, an HTTP error, or an answer with success false
 * - except "not found" (TUYA_GONE), which is the answer a delete or a look
 * for a password that is gone expects.  For the metrics file.
 */
long tuya_client_requests(const struct tuya_client *c);
long tuya_client_errors(const struct tuya_client *c);

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


/*
 * GET /v1.0/devices/{device} (tuya-api.md §7): the device's name,
 * category, product and online state, in *out (its id is device).  A
 * device the project cannot see - not linked, or unknown - is code 1106
 * (TUYA_AUTH, ERR_PERM) on the real cloud and the fake; 2010 "device not
 * exist" is TUYA_PERMANENT (ERR_DATA).  An answer for another id is
 * ERR_PROTOCOL.
 */
enum err tuya_device_get(struct tuya_client *c, const char *device,
			 struct tuya_device *out, struct tuya_status *st,
			 char *errbuf);

/*
 * Every device linked to the project, GET
 * /v1.0/iot-01/associated-users/devices?size=50[&last_row_key=K], page
 * after page while has_more (tuya-api.md §7), appended to *out (initialise
 * with TUYA_DEVICE_LIST_INIT; release with tuya_device_list_release()).
 * Malformed entries are skipped into out->errors, not fatal.  A page key
 * that repeats, or more than 1000 pages, is ERR_PROTOCOL (no endless
 * loop).  Errors as for the calls above; out keeps the pages received.
 */
enum err tuya_devices_list(struct tuya_client *c, struct tuya_device_list *out,
			   struct tuya_status *st, char *errbuf);

#endif
