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

/*
 * The members of a reservation item that are checked (stays-api.md §9), as
 * either parser found them: stays_parse_page_tree() with cJSON, or the fast
 * path stays_scan_page().  s points into the parser's memory, valid until
 * it parses again.
 */
enum item_key {
	F_ID, F_CODE, F_LISTING, F_TYPE, F_IN_DATE, F_OUT_DATE, F_IN_TIME, F_OUT_TIME,
	F_GUESTS, F_COUNT
};
enum field_kind { FK_ABSENT, FK_NULL, FK_STRING, FK_NUMBER, FK_OTHER };
struct item_field {
	enum field_kind kind;
	const char *s;          /* FK_STRING: the value, NUL-terminated */
	double num;             /* FK_NUMBER */
};
struct item_fields {
	struct item_field f[F_COUNT];
};

/* The JSON member names, by enum item_key, and their lengths. */
struct item_key_name {
	const char *name;
	size_t len;
};
extern const struct item_key_name stays_item_keys[F_COUNT];

/*
 * Check the fields of one item and fill r.  Returns NULL, or a message
 * naming the field (static, or written into msg, msgsize bytes).
 */
const char *stays_parse_fields(const struct item_fields *fl, struct resv *r, char *msg,
			       size_t msgsize);

/*
 * stays_parse_page() is these two.  The fast path, stays_scan_page(),
 * reads a page straight from its bytes and appends its reservations to fr
 * only when it is sure the tree parse would append the same: the page is
 * JSON it reads exactly as cJSON does, with at most max_items items, each
 * an object whose fields stays_parse_fields() accepts.  Then it returns 1
 * with *count set; otherwise 0, fr and *count untouched, and the caller
 * parses the page with stays_parse_page_tree(), which decides and words
 * every refusal.
 */
int stays_scan_page(const char *body, size_t len, size_t max_items, struct fetch_result *fr,
		    size_t *count);
enum err stays_parse_page_tree(const char *body, size_t len, size_t max_items,
			       const char *where, int canceled_query,
			       struct fetch_result *fr, size_t *count, char *errbuf);

#endif
