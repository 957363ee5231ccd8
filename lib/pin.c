/*
 * pin.c - random guest PINs without modulo bias.
 *
 * Invariant: a digit is only ever made from a byte below 250, the largest
 * multiple of 10 that fits in a byte, so each digit 0-9 comes from exactly
 * 25 of the 250 accepted byte values and is equally likely.  Random bytes and
 * candidate PINs live in local buffers that are wiped before returning.
 */
#include <assert.h>
#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include "pin.h"
#include "banned.h"

/* Bytes >= this are rejected: 250 = 25 * 10. */
#define PIN_BYTE_LIMIT 250

int pin_is_trivial(const char *pin)
{
	size_t n = strlen(pin);
	int same = 1, up = 1, down = 1;
	size_t run = 1, maxrun = 1;

	if (n == 0)
		return 1;
	for (size_t i = 0; i < n; i++)
		if (pin[i] < '0' || pin[i] > '9')
			return 1;
	for (size_t i = 1; i < n; i++) {
		int p = pin[i - 1] - '0';
		int d = pin[i] - '0';

		if (d == p) {
			if (++run > maxrun)
				maxrun = run;
		} else {
			same = 0;
			run = 1;
		}
		if (d != (p + 1) % 10)
			up = 0;
		if (d != (p + 9) % 10)
			down = 0;
	}
	return same || up || down || maxrun >= PIN_MAX_REPEAT;
}

size_t pin_digits_from_bytes(const unsigned char *bytes, size_t nbytes,
			     char *digits, size_t have, size_t want)
{
	assert(have <= want);
	for (size_t i = 0; i < nbytes && have < want; i++)
		if (bytes[i] < PIN_BYTE_LIMIT)
			digits[have++] = (char)('0' + bytes[i] % 10);
	return have;
}

/* Fill buf completely from getrandom(2).  Returns 0, or -1 with errno set. */
static int fill_random(unsigned char *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = getrandom(buf + got, len - got, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		got += (size_t)n;
	}
	return 0;
}

static int is_active(const char *pin, const char *const *active, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (active[i] && strcmp(active[i], pin) == 0)
			return 1;
	return 0;
}

enum err pin_choose(int length, const char *const *active_pins,
		    size_t n_active, char *out, size_t size, char *errbuf)
{
	unsigned char bytes[32];
	char cand[PIN_MAX_LEN + 1];
	enum err e = ERR_OK;
	size_t len;

	assert(active_pins || n_active == 0);
	if (out && size)
		out[0] = '\0';
	if (length < PIN_MIN_LEN || length > PIN_MAX_LEN)
		return ERRF(errbuf, ERR_CONFIG,
			    "pin length %d is out of range (%d-%d)", length,
			    PIN_MIN_LEN, PIN_MAX_LEN);
	len = (size_t)length;
	if (!out || size < len + 1)
		return ERRF(errbuf, ERR_INTERNAL,
			    "buffer too small for a %d-digit pin", length);

	for (int attempt = 0; attempt < PIN_MAX_ATTEMPTS; attempt++) {
		size_t have = 0;

		while (have < len) {
			if (fill_random(bytes, sizeof(bytes)) < 0) {
				e = ERRF(errbuf, ERR_INTERNAL,
					 "cannot read random bytes: %s",
					 strerror(errno));
				goto out;
			}
			have = pin_digits_from_bytes(bytes, sizeof(bytes),
						     cand, have, len);
		}
		cand[len] = '\0';
		if (pin_is_trivial(cand) || is_active(cand, active_pins, n_active))
			continue;
		memcpy(out, cand, len + 1);
		goto out;
	}
	e = ERRF(errbuf, ERR_DATA,
		 "no usable %d-digit pin after %d attempts (too many active pins)",
		 length, PIN_MAX_ATTEMPTS);
out:
	explicit_bzero(bytes, sizeof(bytes));
	explicit_bzero(cand, sizeof(cand));
	return e;
}

enum err pin_name(const char *code, char *out, size_t size, char *errbuf)
{
	static const char set[] = "0123456789abcdefghijklmnopqrstuvwxyz";
	unsigned char bytes[16];
	size_t n = strlen(code), have = 0;

	assert(size > PIN_NAME_MAX);
	if (n > PIN_NAME_CODE_MAX)
		n = PIN_NAME_CODE_MAX;
	memcpy(out, code, n);
	out[n++] = '-';
	while (have < PIN_NAME_SUFFIX) {
		if (fill_random(bytes, sizeof(bytes)) < 0) {
			out[0] = '\0';
			return ERRF(errbuf, ERR_INTERNAL, "cannot read random bytes: %s",
				    strerror(errno));
		}
		/* 252 = 7 * 36: no modulo bias. */
		for (size_t i = 0; i < sizeof(bytes) && have < PIN_NAME_SUFFIX; i++)
			if (bytes[i] < 252)
				out[n + have++] = set[bytes[i] % 36];
	}
	out[n + have] = '\0';
	return ERR_OK;
}
