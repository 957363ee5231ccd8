/*
 * pin.h - choosing a guest PIN (SPEC.md P2).
 *
 * A PIN is a string of decimal digits, PIN_MIN_LEN to PIN_MAX_LEN long, drawn
 * uniformly from getrandom(2): random bytes are mapped to digits by rejection
 * sampling (bytes >= 250 are discarded), so every digit has probability
 * exactly 1/10 and there is no modulo bias.  Trivial PINs and PINs already
 * active are drawn again, a bounded number of times.
 *
 * Nothing here logs or keeps a PIN: the caller owns every buffer, and the
 * module wipes its own scratch copies.
 */
#ifndef STAYS_PIN_H
#define STAYS_PIN_H

#include <stddef.h>

#include "err.h"

#define PIN_MIN_LEN 4
#define PIN_MAX_LEN 12

/* A run of this many equal adjacent digits makes a PIN trivial. */
#define PIN_MAX_REPEAT 4

/* Candidates pin_choose() draws before it gives up. */
#define PIN_MAX_ATTEMPTS 1000

/*
 * Whether pin is too easy to guess to hand to a guest.  A PIN is trivial
 * when it is:
 *   - one repeated digit ("0000000");
 *   - an ascending or descending run of consecutive digits, with or without
 *     wrapping past 9/0 ("1234567", "7654321", "8901234", "2109876");
 *   - or contains a run of PIN_MAX_REPEAT (4) or more equal adjacent digits
 *     anywhere ("1000023").
 * The last rule is our own addition to SPEC P2: such a PIN reads as "mostly
 * one digit", and the rule removes only about 0.4% of the 7-digit space.
 * Repeated patterns such as "1212121" are not rejected.
 *
 * pin: a NUL-terminated string (borrowed).
 * Returns 1 if trivial, 0 if acceptable.  A string that is empty or has a
 * character that is not a digit is not a usable PIN and also returns 1.
 * The length is not checked here (pin_choose() does that).
 */
int pin_is_trivial(const char *pin);

/*
 * The digit mapping of pin_choose(), exposed for the tests: append to
 * digits[have..want) one digit per byte of bytes[0..nbytes) that is below
 * 250 (digit = byte % 10), discarding bytes 250-255, until want digits are
 * there or the bytes run out.  digits is not NUL-terminated.
 * Returns the new number of digits (have <= result <= want).
 * Precondition: have <= want.
 */
size_t pin_digits_from_bytes(const unsigned char *bytes, size_t nbytes,
			     char *digits, size_t have, size_t want);

/*
 * Choose a random PIN of length digits that is not trivial
 * (pin_is_trivial()) and equal to none of active_pins.
 *
 * length:      PIN_MIN_LEN..PIN_MAX_LEN.
 * active_pins: the PINs the new one must differ from, n_active of them
 *              (borrowed; NULL entries are skipped; may be NULL when
 *              n_active is 0).  SPEC P2 gives one PIN to all locks of a
 *              reservation, so pass the active PINs of every one of them.
 * out, size:   receives the PIN, NUL-terminated; size >= length + 1.
 *              Owned by the caller, who should wipe it when done.
 * errbuf:      ERRBUF_SIZE bytes, or NULL.  Messages never contain a PIN.
 *
 * Returns ERR_OK; ERR_CONFIG when length is out of range; ERR_INTERNAL when
 * out is too small or getrandom(2) fails; ERR_DATA when PIN_MAX_ATTEMPTS
 * candidates were all trivial or active (only possible when the active set
 * covers most of the PIN space).  On error out is "" (when size > 0).
 */
enum err pin_choose(int length, const char *const *active_pins,
		    size_t n_active, char *out, size_t size, char *errbuf);

/*
 * The name a new credential's password gets on the lock (SPEC P2): the
 * reservation code, cut to PIN_NAME_CODE_MAX characters, a '-' and
 * PIN_NAME_SUFFIX random characters of [0-9a-z] ("RV02J-k3f9"), at most 20
 * characters, as Tuya allows.  Unique to the credential in practice (36^4
 * per code), and checked against the database by the caller: a crash-safe
 * retry finds its own password by this name, never a stranger's.
 *
 * code: a reservation code (borrowed).  out: at least PIN_NAME_MAX + 1
 * bytes.  Returns ERR_OK, or ERR_INTERNAL when getrandom(2) fails.
 */
#define PIN_NAME_CODE_MAX 15
#define PIN_NAME_SUFFIX 4
#define PIN_NAME_MAX (PIN_NAME_CODE_MAX + 1 + PIN_NAME_SUFFIX)
enum err pin_name(const char *code, char *out, size_t size, char *errbuf);

#endif
