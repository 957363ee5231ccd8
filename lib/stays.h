/*
 * stays.h - the Stays client: pages of reservations -> struct resv.
 *
 * The contract is stays-api.md §9.1: GET /external/v1/booking/reservations
 * with Basic auth, limit=20, skip advancing by the items received until a
 * short page.  Everything a server sends is untrusted: the page must be a
 * JSON array of at most `limit` items, each item is type-checked field by
 * field.  A malformed item is a per-item error (R8); a malformed page is a
 * protocol error (ERR_PROTOCOL, exit 76).
 */
#ifndef STAYS_STAYS_H
#define STAYS_STAYS_H

#include <stddef.h>

#include "err.h"
#include "http.h"
#include "model.h"
#include "util.h"

#define STAYS_PAGE_LIMIT 20
#define STAYS_MAX_PAGES 5000    /* a safety stop: 100,000 reservations */

/* What a fetch accumulates, over both queries of a run. */
struct fetch_result {
	struct resv *items;     /* owned; valid reservations */
	size_t n, alloc;
	struct strbuf errors;   /* one line per malformed reservation */
	long nerrors;
	char **bad_ids;         /* owned: _ids of malformed items of the PIN-type
	                           query (protected from R6) */
	size_t nbad, badalloc;
	char **cancel_ids;      /* owned: _ids of malformed items of the canceled
	                           query (canceled by their _id, R8) */
	size_t ncancel, cancelalloc;
	struct strbuf notes;    /* one line per item canceled by its _id, for -v */
	int bad_without_id;     /* a malformed item had no usable _id */
	long pages;             /* pages received */
};

/*
 * Sort items by id and drop duplicates (the later fetch of an _id wins:
 * the canceled query runs second and is the fresher answer).
 */
void fetch_result_finish(struct fetch_result *fr);
void fetch_result_release(struct fetch_result *fr);

/*
 * Parse one page (body of len bytes) and append its reservations to fr.
 * *count receives the number of array items (valid or not).  Returns
 * ERR_OK, or ERR_PROTOCOL when the body is not a JSON array of at most
 * max_items elements (message in errbuf).  `where` names the page in
 * messages ("page 2 of the canceled query").  canceled_query: the page is
 * of the type=canceled query, where a malformed item with a valid _id is
 * not an error but a cancellation by id (R8: nothing else in it can keep
 * a PIN alive).
 */
enum err stays_parse_page(const char *body, size_t len, size_t max_items,
			  const char *where, int canceled_query,
			  struct fetch_result *fr, size_t *count, char *errbuf);

/*
 * Parse the answer of GET /booking/reservations/{id}: one reservation
 * object, checked like a page item.  Returns ERR_OK with *out filled, or
 * ERR_PROTOCOL (message in errbuf) when the body is not that.
 */
enum err stays_parse_reservation(const char *body, size_t len, struct resv *out,
				 char *errbuf);

struct stays_client {
	struct http *http;      /* borrowed; carries Basic auth and timeouts */
	const char *base_url;   /* borrowed; "https://acct.stays.net" */
	long attempts;          /* per request, >= 1 */
	/* Wait ms milliseconds before a retry (the caller sleeps). */
	void (*sleep_ms)(void *ctx, long ms);
	/* A one-line progress note for -v (may be NULL). */
	void (*note)(void *ctx, const char *msg);
	void *ctx;
	long requests;          /* requests sent (every attempt), for the -v
	                           summary and the metrics file */
	long errors;            /* of those, the ones without a usable answer:
	                           no answer, or a status other than 200 (and
	                           404 where a 404 is an answer) */
	long max_pages;         /* stays_fetch() stops after this many pages of
	                           a query; 0: no limit (a run) */
};

/*
 * Fetch every page of one query: reservations whose check-out date is in
 * [from, to] (YYYY-MM-DD), of the given types, appended to fr.  Retries
 * transport errors, 429 and 5xx up to attempts times with exponential
 * backoff (1 s, 2 s, 4 s ...) or the server's Retry-After (at most 300 s).
 * With sc->max_pages > 0, stops after that many pages (`check` asks for
 * one).  Errors: ERR_UNAVAILABLE (still failing after the retries),
 * ERR_PERM (401/403), ERR_PROTOCOL (any other status, not JSON, a bad page).
 */
enum err stays_fetch(struct stays_client *sc, const char *from, const char *to,
		     const char *const *types, int ntypes, struct fetch_result *fr,
		     char *errbuf);

/*
 * R6: ask Stays about one reservation, GET
 * /external/v1/booking/reservations/{id}, with the retries of
 * stays_fetch().  ERR_OK with *gone = 1 when Stays answers 404; ERR_OK with
 * *gone = 0 and *out filled when it answers the reservation with that _id.
 * Errors as stays_fetch(), and ERR_PROTOCOL for an answer that is not a
 * valid reservation with that _id.
 */
enum err stays_get_reservation(struct stays_client *sc, const char *id, struct resv *out,
			       int *gone, char *errbuf);


/* ------------------------------------------------------------------------
 * Listings (stays-api.md §4): GET /external/v1/content/listings
 * ?status=active&skip=N&limit=20, the same paging as reservations.
 */

#define STAYS_TEXT_MAX 128      /* buffer size for a name, city or address */

struct stays_listing {
	char id[ID_MAX + 1];            /* _id, by ids_listing_valid() */
	char code[CODE_MAX + 1];        /* id (short id), by ids_code_valid(); ""
	                                   when absent */
	char name[STAYS_TEXT_MAX];      /* internalName; "" when absent */
	char city[STAYS_TEXT_MAX];      /* address.city; "" when absent */
	char address[STAYS_TEXT_MAX];   /* "street streetNumber, additional", the
	                                   parts present; "" when none */
};

struct stays_listing_list {
	struct stays_listing *v;        /* owned, sorted by id, no duplicates
	                                   after stays_listings() */
	size_t n, alloc;
	struct strbuf errors;           /* one line per malformed listing */
	long nerrors;
	long pages;
};
#define STAYS_LISTING_LIST_INIT { NULL, 0, 0, STRBUF_INIT, 0, 0 }

void stays_listing_list_release(struct stays_listing_list *l);

/*
 * Parse one page of listings (a JSON array of at most max_items objects)
 * and append the valid ones to out.  An item without a valid "_id", with
 * a non-string "id"/"internalName", a bad short id, or an "address" that
 * is not an object, is one line in out->errors and skipped (not fatal).
 * Text fields are kept as valid UTF-8 without control characters.
 * *count receives the number of items.  ERR_PROTOCOL (message in errbuf)
 * when the body is not such an array.
 */
enum err stays_parse_listings_page(const char *body, size_t len, size_t max_items,
				   const char *where, struct stays_listing_list *out,
				   size_t *count, char *errbuf);

/*
 * Every active listing, page after page until a short page, with the
 * retries and errors of stays_fetch(); then sorted by _id, duplicates
 * dropped (the later page wins).  out: initialised by the caller;
 * released by the caller, also after an error.
 */
enum err stays_listings(struct stays_client *sc, struct stays_listing_list *out,
			char *errbuf);

/*
 * One listing, GET /external/v1/content/listings/{id}, with the retries of
 * stays_fetch().  ERR_OK with *gone = 1 on 404, else *out filled (checked
 * like a page item; ERR_PROTOCOL when it is not that listing).
 */
enum err stays_get_listing(struct stays_client *sc, const char *id,
			   struct stays_listing *out, int *gone, char *errbuf);


/* ------------------------------------------------------------------------
 * Guests (stays-api.md §2.2, §3, §5): who stays, for the on_pin hook.
 * GET /external/v1/booking/reservations/{id} gives the client's id and the
 * primary entry of guestsDetails.list (name, phones); GET
 * /external/v1/booking/clients/{_idclient} adds the e-mail and preferred
 * language.  The data is untrusted display text: a field of the wrong
 * type or shape is left out (and named in `problem`), never fatal.
 */

#define GUEST_PHONE_MAX 32      /* buffer size: "+5521987654321" */
#define GUEST_LANG_MAX 16       /* buffer size: "pt_BR" */

struct stays_guest {
	char client[ID_MAX + 1];        /* _idclient; "" when none */
	char name[STAYS_TEXT_MAX];      /* "" when not known */
	char phone[GUEST_PHONE_MAX];
	char email[STAYS_TEXT_MAX];
	char language[GUEST_LANG_MAX];
	char problem[ERRBUF_SIZE];      /* "" or why something is missing */
	int retry;                      /* the missing part may come later (the
	                                   client call was unavailable) */
};

/*
 * Parse the answer of GET /booking/reservations/{id} for its guest:
 * "_idclient" and the primary entry of guestsDetails.list ("adult_1"
 * style placeholders are not names).  *g is reset first.  ERR_PROTOCOL
 * when the body is not a JSON object with "_id" equal to id.
 */
enum err stays_parse_guest_of(const char *body, size_t len, const char *id,
			      struct stays_guest *g, char *errbuf);

/*
 * Parse the answer of GET /booking/clients/{id} into g: the e-mail
 * ("email", else the "main" then the first of contactEmails) and
 * "prefLang"; name ("name", else "fName lName") and phone (the first
 * valid phones[].iso) only where g has none yet.  ERR_PROTOCOL when the
 * body is not a JSON object, or names another client.
 */
enum err stays_parse_client(const char *body, size_t len, struct stays_guest *g,
			    char *errbuf);

/*
 * The guest of reservation resv_id: the reservation, then its client.
 * ERR_OK with *gone = 1 when Stays has no such reservation (404); ERR_OK
 * with g filled otherwise - also when the client call failed, which is
 * in g->problem (g->retry when it may succeed later: Stays unavailable).
 * Errors of the reservation call as stays_get_reservation().
 */
enum err stays_get_guest(struct stays_client *sc, const char *resv_id,
			 struct stays_guest *g, int *gone, char *errbuf);

#endif
