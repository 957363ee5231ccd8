/*
 * tuya_parse.h - the parsing layer of the Tuya client (tuya-api.md §1.3,
 * §3-§5): the response envelope and the results of the token, ticket,
 * password list, password get and create calls, with the structs they
 * fill.
 *
 * Pure: no I/O, no clock.  Every byte from the network is untrusted.
 * Integers are accepted as a JSON number without fraction and no larger than
 * 2^53 in magnitude (a larger double may already have been rounded by the
 * parser), or as a string of 1-19 digits that fits in int64.  tuya.h
 * includes this header, since its client calls fill these structs.
 */
#ifndef STAYS_TUYA_PARSE_H
#define STAYS_TUYA_PARSE_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "err.h"
#include "ids.h"
#include "util.h"

#define TUYA_TOKEN_MAX      256   /* buffer size for a token, NUL included */
#define TUYA_TICKET_ID_MAX  64    /* buffer size for a ticket id */
#define TUYA_MSG_MAX        128   /* buffer size for Tuya's msg in messages */

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

/* 1 if s is 1 to max - 1 printable ASCII characters (0x20-0x7e; a space
 * only if allow_space), else 0; the check of every string the client puts
 * into a header, a path or a body, and of the strings it keeps from an
 * answer.  s is borrowed, not NULL. */
int tuya_printable(const char *s, size_t max, int allow_space);


/* ------------------------------------------------------------------------
 * Devices (tuya-api.md §7)
 */

#define TUYA_DEV_TEXT_MAX   128   /* buffer size for a device name or product */
#define TUYA_CATEGORY_MAX   32    /* buffer size for a category code */
#define TUYA_ROW_KEY_MAX    256   /* buffer size for a last_row_key */

/* One device as GET /v1.0/devices/{id} or the device list reports it.
 * Only what onboarding shows is kept (never local_key). */
struct tuya_device {
	char id[TUYA_DEVICE_ID_MAX + 1];     /* by ids_device_valid() */
	char name[TUYA_DEV_TEXT_MAX];        /* "" when absent; valid UTF-8, no
	                                        control characters, truncated */
	char category[TUYA_CATEGORY_MAX];    /* "" when absent; [a-z0-9_] */
	char product[TUYA_DEV_TEXT_MAX];     /* product_name, as name */
	int online;                          /* 1, 0, or -1 when absent */
};

/* The devices of a listing, and the entries that could not be read. */
struct tuya_device_list {
	struct tuya_device *v;  /* owned array of n */
	size_t n, alloc;
	struct strbuf errors;   /* one line per malformed entry, skipped */
	long nerrors;
	long pages;             /* pages received */
};
#define TUYA_DEVICE_LIST_INIT { NULL, 0, 0, STRBUF_INIT, 0, 0 }

void tuya_device_list_release(struct tuya_device_list *l);

/*
 * Parse one device object: "id" a string ids_device_valid() accepts
 * (required); "name", "category", "product_name" strings, null or absent;
 * "online" a boolean, null or absent.  Other fields are ignored.  Returns
 * ERR_OK with *out filled, or ERR_PROTOCOL naming the bad field.
 */
enum err tuya_parse_device(const cJSON *obj, struct tuya_device *out,
			   char *errbuf);

/*
 * Parse one page of GET /v1.0/iot-01/associated-users/devices: an object
 * with "devices" (an array of at most 1000 device objects), "has_more" (a
 * boolean, absent = false) and, when has_more, "last_row_key" (1 to
 * TUYA_ROW_KEY_MAX - 1 characters of [A-Za-z0-9._~-], since it goes back
 * into a query string).  A malformed device is one line in out->errors
 * and skipped; a malformed page is ERR_PROTOCOL and leaves out unchanged.
 * Valid devices are appended to out; *has_more and row_key (size bytes)
 * receive the paging state.
 */
enum err tuya_parse_device_page(const cJSON *result, struct tuya_device_list *out,
				int *has_more, char *row_key, size_t size,
				char *errbuf);

/*
 * Is a device of this category a door lock whose temporary passwords this
 * program can manage?  The categories are those tuya-api.md §7 lists as
 * locks seen in the wild:
 *   ms        residential lock          jtmspro   lock (pro)
 *   jtmsbh    lock (Bluetooth hub)      jtmsjh    lock (Zigbee hub)
 *   msp       lock (lite)               mk        access-control keypad
 *   videolock lock with camera
 * "bxx" (a safe) is deliberately not a lock here: it guards contents, not
 * a door of the unit, and handing its PIN to every guest is not what
 * mapping a listing means.  Anything else (plugs "cz", lights "dj",
 * sensors...) is not a lock.  `locks add --no-check` maps a device of any
 * category for the cases this list gets wrong.  category may be NULL.
 */
int tuya_is_lock(const char *category);

#endif
