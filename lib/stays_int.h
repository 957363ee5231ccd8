/*
 * stays_int.h - what the files of the Stays client share (stays.c,
 * stays_guest.c); not for other callers, who use stays.h.
 */
#ifndef STAYS_STAYS_INT_H
#define STAYS_STAYS_INT_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "err.h"
#include "http.h"
#include "stays.h"

/* Copy a string for a message: at most 40 printable characters. */
void stays_quote(const char *s, char *out, size_t size);

/* Parse body as exactly one JSON value; *root is owned by the caller.
 * `where` names the answer in messages ("reservation X"). */
enum err stays_parse_json(const char *body, size_t len, const char *where, cJSON **root,
			  char *errbuf);

/*
 * One GET with the client's retries.  On ERR_OK resp holds a 200 answer,
 * or a 404 when allow_404 (a single object that does not exist).  Errors:
 * ERR_PERM (401/403), ERR_PROTOCOL (another 4xx, with the server's
 * message), ERR_UNAVAILABLE (still failing after the retries).
 */
enum err stays_http_get(struct stays_client *sc, const char *url, const char *where,
			int allow_404, struct http_response *resp, char *errbuf);

/* Append s to out (size bytes) as display text: valid UTF-8 kept, control
 * characters and invalid bytes as '?', truncated at a character. */
void stays_add_text(char *out, size_t size, const char *s);

/* A string, null or absent member; "" unless a string.  -1 if another type. */
int stays_opt_string(const cJSON *obj, const char *key, char *out, size_t size);

#endif
