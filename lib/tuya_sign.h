/*
 * tuya_sign.h - the signing and crypto layer of the Tuya client
 * (tuya-api.md §2, §5.2): string-to-sign, HMAC sign, ticket-key decryption,
 * PIN encryption and the create/modify body.
 *
 * Pure: OpenSSL libcrypto, no I/O, no clock.  libcrypto is loaded on first
 * use (netlib.h); when it cannot be, each function fails as on a libcrypto
 * failure (ERR_INTERNAL; tuya_decrypt_ticket_key says why in errbuf).
 * Every function here is checked against the test vectors of tuya-api.md
 * §8 (tests/test_tuya.c).  The client (tuya.h) uses this layer; the rest of the program need not.
 * No message written to an errbuf contains a secret, a key or a PIN.
 */
#ifndef STAYS_TUYA_SIGN_H
#define STAYS_TUYA_SIGN_H

#include <stddef.h>

#include "err.h"
#include "util.h"

#define TUYA_SIGN_LEN       64    /* hex characters of a sign */

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

/* 1 if pin is min to max ASCII digits, else 0 (pin borrowed, not NULL). */
int tuya_pin_valid(const char *pin, size_t min, size_t max);

/* Wipe sb's whole allocation (explicit_bzero), then release it; for
 * strbufs that held a secret.  Accepts a released sb. */
void tuya_strbuf_wipe(struct strbuf *sb);

#endif
