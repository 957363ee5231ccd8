/*
 * err.h - error codes shared by every module, and their mapping to exit status.
 *
 * lib/ functions return one of these (ERR_OK = 0 means success) and write a
 * human-readable message into a caller's buffer (msmtp's errstr idiom).  Only
 * the programs' main files turn a code into an exit status, through
 * err_exitcode(), so the sysexits table of SPEC.md lives in one place.
 */
#ifndef STAYS_ERR_H
#define STAYS_ERR_H

#include <stddef.h>

enum err {
	ERR_OK = 0,
	ERR_ITEMS,       /* run completed, some items failed        -> 1  */
	ERR_USAGE,       /* bad command line                        -> 64 */
	ERR_DATA,        /* bad data stopped the run (R6 guard)     -> 65 */
	ERR_UNAVAILABLE, /* remote unavailable after retries        -> 69 */
	ERR_INTERNAL,    /* bug, out of memory                      -> 70 */
	ERR_IO,          /* cannot write output                     -> 74 */
	ERR_DB,          /* database cannot be created or opened    -> 73 */
	ERR_LOCKED,      /* another instance holds the lock         -> 75 */
	ERR_PROTOCOL,    /* remote broke its protocol               -> 76 */
	ERR_PERM,        /* credentials refused, unsafe config mode -> 77 */
	ERR_CONFIG,      /* configuration error                     -> 78 */
	ERR_OS           /* the system failed (random source)       -> 71 */
};

/* Size of every error buffer passed to lib/ functions. */
#define ERRBUF_SIZE 512

/* The exit status (sysexits.h) for an error code. */
int err_exitcode(enum err e);

/*
 * Format a message into errbuf (size ERRBUF_SIZE or the given size) and
 * return e, so that callers can write `return err_set(...)`.
 * errbuf may be NULL.
 */
enum err err_set(char *errbuf, size_t size, enum err e, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#define ERRF(buf, e, ...) err_set((buf), ERRBUF_SIZE, (e), __VA_ARGS__)

#endif
