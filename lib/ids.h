/*
 * ids.h - one validator per kind of identifier.
 *
 * Ids travel far: into job ids, SQL parameters, URL paths, messages and
 * JSON.  Each kind is checked in one place, and every entry point (the
 * command line, the Stays parser, the Tuya client) uses the same check, so
 * an id one part accepts is never refused by another.
 */
#ifndef STAYS_IDS_H
#define STAYS_IDS_H

#include <stdint.h>

#include "model.h"

/* A Stays id (_id, _idlisting) or reservation code: 1..max letters, digits,
 * '_', '-' or '.'. */
int ids_stays_valid(const char *s, size_t max);

/* A Stays reservation _id or listing _idlisting (at most ID_MAX). */
int ids_listing_valid(const char *s);

/* A Stays reservation code ("RV02J", at most CODE_MAX). */
int ids_code_valid(const char *s);

/* A Tuya device id: 1..TUYA_DEVICE_ID_MAX letters, digits, '-' or '_' (it
 * is a path segment of every Tuya call, so no '.'). */
#define TUYA_DEVICE_ID_MAX 64
int ids_device_valid(const char *s);

/* A Tuya temporary password id: an integer > 0 (it is a path segment of
 * the get, modify and delete calls, and the cloud numbers from 1). */
int ids_password_valid(int64_t id);

#endif
