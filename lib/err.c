/*
 * err.c - the one mapping from error codes to sysexits exit status.
 */
#include <stdarg.h>
#include <stdio.h>
#include <sysexits.h>

#include "err.h"

int err_exitcode(enum err e)
{
	switch (e) {
	case ERR_OK:          return 0;
	case ERR_ITEMS:       return 1;
	case ERR_USAGE:       return EX_USAGE;
	case ERR_DATA:        return EX_DATAERR;
	case ERR_UNAVAILABLE: return EX_UNAVAILABLE;
	case ERR_INTERNAL:    return EX_SOFTWARE;
	case ERR_IO:          return EX_IOERR;
	case ERR_DB:          return EX_CANTCREAT;
	case ERR_LOCKED:      return EX_TEMPFAIL;
	case ERR_PROTOCOL:    return EX_PROTOCOL;
	case ERR_PERM:        return EX_NOPERM;
	case ERR_CONFIG:      return EX_CONFIG;
	case ERR_OS:          return EX_OSERR;
	}
	return EX_SOFTWARE;
}

enum err err_set(char *errbuf, size_t size, enum err e, const char *fmt, ...)
{
	va_list ap;

	if (errbuf && size) {
		va_start(ap, fmt);
		vsnprintf(errbuf, size, fmt, ap);
		va_end(ap);
	}
	return e;
}
