/*
 * stays.c - fetch and parse Stays reservations (stays-api.md §9).
 *
 * Memory: one response body at a time (capped by the http handle) plus the
 * compact struct resv array of what was received.  Every field of every
 * item is checked before it is copied; ids are restricted to a safe
 * character set because they end up in job ids, messages and JSON.
 *
 * A page is read by the fast path (stays_scan.c) when it can be, with no
 * tree; otherwise, and for every message about a bad page or item, with
 * cJSON.  Both hand the same struct item_fields to stays_parse_fields(),
 * which holds every check.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "ids.h"
#include "stays.h"
#include "stays_int.h"
#include "banned.h"

#define MAX_RETRY_AFTER 300

static const char *const known_types[] = {
	"reserved", "booked", "contract", "blocked", "maintenance", "canceled"
};

void fetch_result_release(struct fetch_result *fr)
{
	free(fr->items);
	strbuf_release(&fr->errors);
	for (size_t i = 0; i < fr->nbad; i++)
		free(fr->bad_ids[i]);
	free(fr->bad_ids);
	for (size_t i = 0; i < fr->ncancel; i++)
		free(fr->cancel_ids[i]);
	free(fr->cancel_ids);
	strbuf_release(&fr->notes);
	memset(fr, 0, sizeof(*fr));
}

struct pos {
	const struct resv *r;
	size_t i;
};

static int cmp_pos(const void *a, const void *b)
{
	const struct pos *x = a, *y = b;
	int r = strcmp(x->r->id, y->r->id);

	if (r)
		return r;
	return x->i < y->i ? -1 : x->i > y->i;
}

void fetch_result_finish(struct fetch_result *fr)
{
	struct pos *ix;
	struct resv *out;
	size_t i, n = fr->n, k = 0;

	if (n == 0)
		return;
	ix = xcalloc(n, sizeof(*ix));
	for (i = 0; i < n; i++) {
		ix[i].r = &fr->items[i];
		ix[i].i = i;
	}
	qsort(ix, n, sizeof(*ix), cmp_pos);
	out = xcalloc(n, sizeof(*out));
	for (i = 0; i < n; i++) {
		/* Of equal ids keep the last received. */
		if (i + 1 < n && strcmp(ix[i].r->id, ix[i + 1].r->id) == 0)
			continue;
		out[k++] = *ix[i].r;
	}
	free(ix);
	free(fr->items);
	fr->items = out;
	fr->n = k;
	fr->alloc = n;
}

void stays_quote(const char *s, char *out, size_t size)
{
	size_t k = 0;

	for (; *s && k + 4 < size && k < 40; s++)
		out[k++] = (*s >= 0x20 && *s < 0x7f) ? *s : '?';
	if (*s && k + 4 < size) {
		out[k++] = '.';
		out[k++] = '.';
		out[k++] = '.';
	}
	out[k] = '\0';
}

/*
 * The parts of one item.  Each checks its fields of fl and fills them in r;
 * it returns NULL, or a message naming the field (static, or written into
 * msg, msgsize bytes, when it quotes a value).
 */

#define KEY(s) { s, sizeof(s) - 1 }
const struct item_key_name stays_item_keys[F_COUNT] = {
	[F_ID] = KEY("_id"), [F_CODE] = KEY("id"), [F_LISTING] = KEY("_idlisting"),
	[F_TYPE] = KEY("type"), [F_IN_DATE] = KEY("checkInDate"),
	[F_OUT_DATE] = KEY("checkOutDate"), [F_IN_TIME] = KEY("checkInTime"),
	[F_OUT_TIME] = KEY("checkOutTime"), [F_GUESTS] = KEY("guests")
};
#undef KEY

/* The tracked members of the object it, as cJSON parsed them. */
static void fields_from_tree(const cJSON *it, struct item_fields *fl)
{
	memset(fl, 0, sizeof(*fl));
	if (!cJSON_IsObject(it))
		return;
	for (int k = 0; k < F_COUNT; k++) {
		const cJSON *f = cJSON_GetObjectItemCaseSensitive(it, stays_item_keys[k].name);
		struct item_field *x = &fl->f[k];

		if (!f)
			x->kind = FK_ABSENT;
		else if (cJSON_IsNull(f))
			x->kind = FK_NULL;
		else if (cJSON_IsString(f) && f->valuestring)
			x->kind = FK_STRING, x->s = f->valuestring;
		else if (cJSON_IsNumber(f))
			x->kind = FK_NUMBER, x->num = f->valuedouble;
		else
			x->kind = FK_OTHER;
	}
}

/* _id, id (the reservation code) and _idlisting: strings by ids.h. */
static const char *parse_ids(const struct item_fields *fl, struct resv *r, char *msg,
			     size_t msgsize)
{
	const struct item_field *f;

#define REQ_STRING(k, key, dst, check, what)                                    \
	do {                                                                    \
		f = &fl->f[k];                                                  \
		if (f->kind == FK_ABSENT)                                       \
			return "missing field '" key "'";                       \
		if (f->kind != FK_STRING)                                       \
			return "field '" key "' is not a string";               \
		if (!(check)) {                                                 \
			char q_[48];                                            \
			stays_quote(f->s, q_, sizeof(q_));                      \
			snprintf(msg, msgsize, "field '" key "' is not %s: '%s'", \
				 what, q_);                                     \
			return msg;                                             \
		}                                                               \
		xstrlcpy(dst, f->s, sizeof(dst));                               \
	} while (0)

	REQ_STRING(F_ID, "_id", r->id, ids_listing_valid(f->s), "a valid id");
	REQ_STRING(F_CODE, "id", r->code, ids_code_valid(f->s), "a valid reservation code");
	REQ_STRING(F_LISTING, "_idlisting", r->listing, ids_listing_valid(f->s),
		   "a valid listing id");
	return NULL;
#undef REQ_STRING
}

/* type: one of known_types. */
static const char *parse_type(const struct item_fields *fl, struct resv *r, char *msg,
			      size_t msgsize)
{
	const struct item_field *f = &fl->f[F_TYPE];
	size_t i;

	if (f->kind == FK_ABSENT)
		return "missing field 'type'";
	if (f->kind != FK_STRING)
		return "field 'type' is not a string";
	for (i = 0; i < sizeof(known_types) / sizeof(*known_types); i++)
		if (strcmp(f->s, known_types[i]) == 0)
			break;
	if (i == sizeof(known_types) / sizeof(*known_types)) {
		char q[48];

		stays_quote(f->s, q, sizeof(q));
		snprintf(msg, msgsize, "unknown reservation type '%s'", q);
		return msg;
	}
	xstrlcpy(r->type, f->s, sizeof(r->type));
	return NULL;
}

/* Dates: "YYYY-MM-DD", possibly followed by a well-formed time part
 * ("T15:00:00Z") that we ignore. */
static const char *parse_dates(const struct item_fields *fl, struct resv *r, char *msg,
			       size_t msgsize)
{
	static const int date_fields[2] = { F_IN_DATE, F_OUT_DATE };
	char *date_dst[2] = { r->in_date, r->out_date };
	int y, m, d;

	for (int k = 0; k < 2; k++) {
		const struct item_field *f = &fl->f[date_fields[k]];
		const char *key = stays_item_keys[date_fields[k]].name;
		char buf[11];

		if (f->kind == FK_ABSENT) {
			snprintf(msg, msgsize, "missing field '%s'", key);
			return msg;
		}
		if (f->kind != FK_STRING) {
			snprintf(msg, msgsize, "field '%s' is not a string", key);
			return msg;
		}
		if (strlen(f->s) < 10 || !util_valid_time_suffix(f->s + 10) ||
		    (memcpy(buf, f->s, 10), buf[10] = '\0',
		     util_parse_date(buf, &y, &m, &d) != 0)) {
			char q[48];

			stays_quote(f->s, q, sizeof(q));
			snprintf(msg, msgsize, "field '%s' is not a date (YYYY-MM-DD): '%s'",
				 key, q);
			return msg;
		}
		memcpy(date_dst[k], buf, 11);
	}
	return NULL;
}

/* Times: optional "HH:MM" (or "HH:MM:SS"); absent, null or "" = default. */
static const char *parse_times(const struct item_fields *fl, struct resv *r, char *msg,
			       size_t msgsize)
{
	static const int time_fields[2] = { F_IN_TIME, F_OUT_TIME };
	char *time_dst[2] = { r->in_time, r->out_time };
	int h, mi;

	for (int k = 0; k < 2; k++) {
		const struct item_field *f = &fl->f[time_fields[k]];
		const char *key = stays_item_keys[time_fields[k]].name;

		if (f->kind == FK_ABSENT || f->kind == FK_NULL)
			continue;
		if (f->kind != FK_STRING) {
			snprintf(msg, msgsize, "field '%s' is not a string", key);
			return msg;
		}
		if (f->s[0] == '\0')
			continue;
		if (util_parse_hhmm_ss(f->s, &h, &mi) != 0) {
			char q[48];

			stays_quote(f->s, q, sizeof(q));
			snprintf(msg, msgsize, "field '%s' is not a time (HH:MM): '%s'", key, q);
			return msg;
		}
		/* util_parse_hhmm_ss() checked 0-23 and 0-59 */
		time_dst[k][0] = (char)('0' + h / 10);
		time_dst[k][1] = (char)('0' + h % 10);
		time_dst[k][2] = ':';
		time_dst[k][3] = (char)('0' + mi / 10);
		time_dst[k][4] = (char)('0' + mi % 10);
		time_dst[k][5] = '\0';
	}
	return NULL;
}

/* guests: optional whole number from 0 to 10000. */
static const char *parse_guests(const struct item_fields *fl, struct resv *r)
{
	const struct item_field *f = &fl->f[F_GUESTS];

	if (f->kind != FK_ABSENT && f->kind != FK_NULL) {
		double v = f->num;

		if (f->kind != FK_NUMBER || v < 0 || v > 10000 || floor(v) != v)
			return "field 'guests' is not a whole number from 0 to 10000";
		r->guests = (int)v;
	}
	return NULL;
}

/* The stay must end after it begins. */
static const char *check_stay_order(const struct resv *r, char *msg, size_t msgsize)
{
	if (strcmp(r->out_date, r->in_date) < 0) {
		snprintf(msg, msgsize, "checkOutDate %s is before checkInDate %s",
			 r->out_date, r->in_date);
		return msg;
	}
	if (strcmp(r->out_date, r->in_date) == 0 &&
	    (!r->in_time[0] || !r->out_time[0] || strcmp(r->out_time, r->in_time) <= 0)) {
		snprintf(msg, msgsize,
			 "check-out on %s is not after check-in (same day needs checkInTime before checkOutTime)",
			 r->out_date);
		return msg;
	}
	return NULL;
}

const char *stays_parse_fields(const struct item_fields *fl, struct resv *r, char *msg,
			       size_t msgsize)
{
	const char *why;

	memset(r, 0, sizeof(*r));
	if ((why = parse_ids(fl, r, msg, msgsize)) ||
	    (why = parse_type(fl, r, msg, msgsize)) ||
	    (why = parse_dates(fl, r, msg, msgsize)) ||
	    (why = parse_times(fl, r, msg, msgsize)) ||
	    (why = parse_guests(fl, r)))
		return why;
	return check_stay_order(r, msg, msgsize);
}

/* Check the item it (any JSON value) and fill r, as stays_parse_fields(). */
static const char *parse_item(const cJSON *it, struct resv *r, char *msg, size_t msgsize)
{
	struct item_fields fl;

	memset(r, 0, sizeof(*r));
	if (!cJSON_IsObject(it))
		return "not a JSON object";
	fields_from_tree(it, &fl);
	return stays_parse_fields(&fl, r, msg, msgsize);
}

static void note_bad_item(struct fetch_result *fr, const cJSON *it, const char *where,
			  size_t index, int canceled_query, const char *why)
{
	struct item_fields fl;
	const struct item_field *id, *code;
	const char *c;

	fields_from_tree(it, &fl);
	id = &fl.f[F_ID];
	code = &fl.f[F_CODE];
	c = code->kind == FK_STRING && ids_code_valid(code->s) ? code->s : "?";
	if (id->kind == FK_STRING && ids_listing_valid(id->s)) {
		if (canceled_query) {
			/* R8: canceled is canceled, whatever else is wrong. */
			fr->cancel_ids = xgrow(fr->cancel_ids, sizeof(*fr->cancel_ids),
					       fr->ncancel + 1, &fr->cancelalloc);
			fr->cancel_ids[fr->ncancel++] = xstrdup(id->s);
			strbuf_addf(&fr->notes, "reservation %s (%s) in the canceled query: %s; canceled by its _id\n",
				    c, id->s, why);
			return;
		}
		fr->nerrors++;
		fr->bad_ids = xgrow(fr->bad_ids, sizeof(*fr->bad_ids), fr->nbad + 1,
				    &fr->badalloc);
		fr->bad_ids[fr->nbad++] = xstrdup(id->s);
		strbuf_addf(&fr->errors, "reservation %s (%s): %s; skipped\n", c, id->s, why);
	} else {
		fr->nerrors++;
		fr->bad_without_id = 1;
		strbuf_addf(&fr->errors, "%s, item %zu: %s; skipped\n", where, index + 1, why);
	}
}

enum err stays_parse_json(const char *body, size_t len, const char *where, cJSON **root,
			  char *errbuf)
{
	const char *end = NULL;

	*root = cJSON_ParseWithLengthOpts(body, len, &end, 0);
	if (!*root) {
		size_t off = end && end >= body ? (size_t)(end - body) : 0;
		const char *p = body;

		while (p < body + len && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
			p++;
		if (p < body + len && *p == '<')
			return ERRF(errbuf, ERR_PROTOCOL,
				    "Stays sent HTML instead of JSON for %s (wrong [stays] url?)",
				    where);
		return ERRF(errbuf, ERR_PROTOCOL,
			    "Stays sent malformed JSON for %s (error near byte %zu of %zu)",
			    where, off, len);
	}
	while (end && end < body + len && (*end == ' ' || *end == '\n' || *end == '\r' ||
					   *end == '\t'))
		end++;
	if (end && end < body + len) {
		cJSON_Delete(*root);
		*root = NULL;
		return ERRF(errbuf, ERR_PROTOCOL,
			    "Stays sent trailing data after the JSON of %s", where);
	}
	return ERR_OK;
}

/*
 * A page: a JSON array of at most max_items items (noun: what they are,
 * for the messages).  *root is the caller's to cJSON_Delete() on ERR_OK.
 */
static enum err parse_page_array(const char *body, size_t len, size_t max_items,
				 const char *where, const char *noun, cJSON **root,
				 char *errbuf)
{
	size_t n;
	enum err e;

	if ((e = stays_parse_json(body, len, where, root, errbuf)) != ERR_OK)
		return e;
	if (!cJSON_IsArray(*root)) {
		const char *what = cJSON_IsObject(*root) ? "object" : "value";

		cJSON_Delete(*root);
		return ERRF(errbuf, ERR_PROTOCOL, "Stays sent a JSON %s for %s, expected an array of %s",
			    what, where, noun);
	}
	n = (size_t)cJSON_GetArraySize(*root);
	if (n > max_items) {
		cJSON_Delete(*root);
		return ERRF(errbuf, ERR_PROTOCOL,
			    "Stays sent %zu %s for %s, more than the page limit of %zu",
			    n, noun, where, max_items);
	}
	return ERR_OK;
}

enum err stays_parse_page(const char *body, size_t len, size_t max_items,
			  const char *where, int canceled_query,
			  struct fetch_result *fr, size_t *count, char *errbuf)
{
	*count = 0;
	if (stays_scan_page(body, len, max_items, fr, count))
		return ERR_OK;
	return stays_parse_page_tree(body, len, max_items, where, canceled_query, fr, count,
				     errbuf);
}

enum err stays_parse_page_tree(const char *body, size_t len, size_t max_items,
			       const char *where, int canceled_query,
			       struct fetch_result *fr, size_t *count, char *errbuf)
{
	cJSON *root;
	const cJSON *it;
	size_t n, i = 0;
	char msg[ERRBUF_SIZE];
	enum err e;

	*count = 0;
	if ((e = parse_page_array(body, len, max_items, where, "reservations", &root,
				  errbuf)) != ERR_OK)
		return e;
	n = (size_t)cJSON_GetArraySize(root);
	cJSON_ArrayForEach(it, root) {
		struct resv r;
		const char *why = parse_item(it, &r, msg, sizeof(msg));

		if (why) {
			note_bad_item(fr, it, where, i, canceled_query, why);
		} else {
			fr->items = xgrow(fr->items, sizeof(*fr->items), fr->n + 1, &fr->alloc);
			fr->items[fr->n++] = r;
		}
		i++;
	}
	cJSON_Delete(root);
	*count = n;
	return ERR_OK;
}

enum err stays_parse_reservation(const char *body, size_t len, struct resv *out,
				 char *errbuf)
{
	static const char where[] = "a reservation";
	char msg[ERRBUF_SIZE];
	const char *why;
	cJSON *root;
	enum err e;

	memset(out, 0, sizeof(*out));
	if ((e = stays_parse_json(body, len, where, &root, errbuf)) != ERR_OK)
		return e;
	why = parse_item(root, out, msg, sizeof(msg));
	if (why)
		e = ERRF(errbuf, ERR_PROTOCOL, "Stays sent a malformed reservation: %s", why);
	cJSON_Delete(root);
	return e;
}

/* The "message" of a Stays error body, if any, for error messages. */
static void server_message(const struct http_response *resp, char *out, size_t size)
{
	cJSON *root = cJSON_ParseWithLength(strbuf_str(&resp->body), resp->body.len);
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(root, "message");

	out[0] = '\0';
	if (cJSON_IsString(m) && m->valuestring) {
		char q[48];

		stays_quote(m->valuestring, q, sizeof(q));
		snprintf(out, size, ": %s", q);
	}
	cJSON_Delete(root);
}

enum err stays_http_get(struct stays_client *sc, const char *url, const char *where,
			int allow_404, struct http_response *resp, char *errbuf)
{
	static const char *const headers[] = { "Accept: application/json", NULL };
	char why[ERRBUF_SIZE], sm[64];
	enum err e;

	for (long attempt = 1;; attempt++) {
		long wait_ms;

		sc->requests++;
		e = http_request(sc->http, "GET", url, headers, NULL, 0, resp, why);
		if (e == ERR_OK && (resp->status == 200 || (resp->status == 404 && allow_404)))
			return ERR_OK;
		sc->errors++;
		if (e == ERR_OK) {
			if (resp->status == 401 || resp->status == 403)
				return ERRF(errbuf, ERR_PERM,
					    "Stays refused the credentials (HTTP %ld) for %s; check [stays] client_id and client_secret",
					    resp->status, where);
			if (resp->status != 429 && resp->status < 500) {
				server_message(resp, sm, sizeof(sm));
				return ERRF(errbuf, ERR_PROTOCOL,
					    "Stays answered HTTP %ld for %s%s", resp->status,
					    where, sm);
			}
			snprintf(why, sizeof(why), "HTTP %ld", resp->status);
		} else if (e != ERR_UNAVAILABLE) {
			return ERRF(errbuf, e, "%s (%s)", why, where);
		}
		if (attempt >= sc->attempts)
			return ERRF(errbuf, ERR_UNAVAILABLE,
				    "Stays is unavailable: %s for %s, after %ld attempt%s",
				    why, where, attempt, attempt == 1 ? "" : "s");
		if (e == ERR_OK && resp->retry_after >= 0) {
			if (resp->retry_after > MAX_RETRY_AFTER)
				return ERRF(errbuf, ERR_UNAVAILABLE,
					    "Stays is unavailable: %s for %s, and asks to retry after %ld s",
					    why, where, resp->retry_after);
			wait_ms = resp->retry_after * 1000;
		} else {
			wait_ms = 1000L << (attempt - 1 < 8 ? attempt - 1 : 8);
		}
		if (sc->note) {
			char note[ERRBUF_SIZE + 256];

			snprintf(note, sizeof(note), "stays: %s for %s; retrying in %ld s",
				 why, where, (wait_ms + 999) / 1000);
			sc->note(sc->ctx, note);
		}
		if (sc->sleep_ms && wait_ms > 0)
			sc->sleep_ms(sc->ctx, wait_ms);
	}
}

enum err stays_fetch(struct stays_client *sc, const char *from, const char *to,
		     const char *const *types, int ntypes, struct fetch_result *fr,
		     char *errbuf)
{
	struct http_response resp = HTTP_RESPONSE_INIT;
	struct strbuf url = STRBUF_INIT;
	size_t base_len, count;
	long skip = 0, page;
	enum err e = ERR_OK;
	char where[128];
	int canceled = ntypes == 1 && strcmp(types[0], "canceled") == 0;

	strbuf_addf(&url, "%s/external/v1/booking/reservations?from=%s&to=%s&dateType=departure",
		    sc->base_url, from, to);
	for (int i = 0; i < ntypes; i++)
		strbuf_addf(&url, "&type=%s", types[i]);
	base_len = url.len;

	for (page = 1;; page++) {
		if (page > STAYS_MAX_PAGES) {
			e = ERRF(errbuf, ERR_PROTOCOL,
				 "Stays returned more than %d pages; stopping",
				 STAYS_MAX_PAGES);
			break;
		}
		url.len = base_len;
		url.buf[base_len] = '\0';
		strbuf_addf(&url, "&skip=%ld&limit=%d", skip, STAYS_PAGE_LIMIT);
		snprintf(where, sizeof(where), "page %ld of the %s query", page,
			 canceled ? "canceled" : "reservations");
		e = stays_http_get(sc, url.buf, where, 0, &resp, errbuf);
		if (e != ERR_OK)
			break;
		e = stays_parse_page(resp.body.buf ? resp.body.buf : "", resp.body.len,
				     STAYS_PAGE_LIMIT, where, canceled, fr, &count, errbuf);
		if (e != ERR_OK)
			break;
		fr->pages++;
		if (count < STAYS_PAGE_LIMIT || (sc->max_pages > 0 && page >= sc->max_pages))
			break;
		skip += (long)count;
	}
	http_response_release(&resp);
	strbuf_release(&url);
	return e;
}

enum err stays_get_reservation(struct stays_client *sc, const char *id, struct resv *out,
			       int *gone, char *errbuf)
{
	struct http_response resp = HTTP_RESPONSE_INIT;
	struct strbuf url = STRBUF_INIT;
	char where[ID_MAX + 32], perr[ERRBUF_SIZE];
	enum err e;

	*gone = 0;
	memset(out, 0, sizeof(*out));
	if (!ids_listing_valid(id))
		return ERRF(errbuf, ERR_DATA, "invalid reservation id");
	snprintf(where, sizeof(where), "reservation %s", id);
	strbuf_addf(&url, "%s/external/v1/booking/reservations/%s", sc->base_url, id);
	e = stays_http_get(sc, url.buf, where, 1, &resp, errbuf);
	if (e == ERR_OK && resp.status == 404) {
		*gone = 1;
	} else if (e == ERR_OK) {
		e = stays_parse_reservation(resp.body.buf ? resp.body.buf : "", resp.body.len,
					    out, perr);
		if (e != ERR_OK)
			ERRF(errbuf, e, "%s (for %s)", perr, where);
		else if (strcmp(out->id, id) != 0)
			e = ERRF(errbuf, ERR_PROTOCOL,
				 "Stays answered reservation %s when asked for %s", out->id, id);
	}
	http_response_release(&resp);
	strbuf_release(&url);
	return e;
}

/* ------------------------------------------------------------------------
 * Listings
 */

void stays_listing_list_release(struct stays_listing_list *l)
{
	free(l->v);
	strbuf_release(&l->errors);
	memset(l, 0, sizeof(*l));
}

void stays_add_text(char *out, size_t size, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t j = strlen(out);

	while (*p) {
		size_t n = 1, k;

		if (*p >= 0xc2 && *p <= 0xf4) {
			n = *p >= 0xf0 ? 4 : *p >= 0xe0 ? 3 : 2;
			for (k = 1; k < n; k++)
				if ((p[k] & 0xc0) != 0x80)
					break;
			if (k < n)
				n = 0;
		} else if (*p >= 0x80 || *p < 0x20 || *p == 0x7f) {
			n = 0;
		}
		if (j + (n ? n : 1) + 1 > size)
			break;
		if (n) {
			memcpy(out + j, p, n);
			j += n;
			p += n;
		} else {
			out[j++] = '?';
			p++;
		}
	}
	out[j] = '\0';
}

int stays_opt_string(const cJSON *obj, const char *key, char *out, size_t size)
{
	const cJSON *f = cJSON_GetObjectItemCaseSensitive(obj, key);

	out[0] = '\0';
	if (!f || cJSON_IsNull(f))
		return 0;
	if (!cJSON_IsString(f) || !f->valuestring)
		return -1;
	stays_add_text(out, size, f->valuestring);
	return 0;
}

/* address: {"city", "street", "streetNumber" (number or string), "additional"}. */
static const char *parse_address(const cJSON *it, struct stays_listing *l)
{
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(it, "address"), *num;
	char street[STAYS_TEXT_MAX], extra[STAYS_TEXT_MAX], nb[32] = "";

	if (!a || cJSON_IsNull(a))
		return NULL;
	if (!cJSON_IsObject(a))
		return "field 'address' is not an object";
	if (stays_opt_string(a, "city", l->city, sizeof(l->city)) < 0)
		return "field 'address.city' is not a string";
	if (stays_opt_string(a, "street", street, sizeof(street)) < 0)
		return "field 'address.street' is not a string";
	if (stays_opt_string(a, "additional", extra, sizeof(extra)) < 0)
		return "field 'address.additional' is not a string";
	num = cJSON_GetObjectItemCaseSensitive(a, "streetNumber");
	if (cJSON_IsNumber(num) && num->valuedouble >= 0 && num->valuedouble < 1e9)
		snprintf(nb, sizeof(nb), "%ld", (long)num->valuedouble);
	else if (stays_opt_string(a, "streetNumber", nb, sizeof(nb)) < 0)
		return "field 'address.streetNumber' is not a number or a string";
	stays_add_text(l->address, sizeof(l->address), street);
	if (nb[0]) {
		if (l->address[0])
			stays_add_text(l->address, sizeof(l->address), " ");
		stays_add_text(l->address, sizeof(l->address), nb);
	}
	if (extra[0]) {
		if (l->address[0])
			stays_add_text(l->address, sizeof(l->address), ", ");
		stays_add_text(l->address, sizeof(l->address), extra);
	}
	return NULL;
}

static const char *parse_listing(const cJSON *it, struct stays_listing *l, char *msg,
				 size_t msgsize)
{
	const cJSON *f;
	char q[48];

	memset(l, 0, sizeof(*l));
	if (!cJSON_IsObject(it))
		return "not an object";
	f = cJSON_GetObjectItemCaseSensitive(it, "_id");
	if (!f)
		return "missing field '_id'";
	if (!cJSON_IsString(f) || !f->valuestring)
		return "field '_id' is not a string";
	if (!ids_listing_valid(f->valuestring)) {
		stays_quote(f->valuestring, q, sizeof(q));
		snprintf(msg, msgsize, "field '_id' is not a valid id: '%s'", q);
		return msg;
	}
	xstrlcpy(l->id, f->valuestring, sizeof(l->id));
	f = cJSON_GetObjectItemCaseSensitive(it, "id");
	if (f && !cJSON_IsNull(f)) {
		if (!cJSON_IsString(f) || !f->valuestring)
			return "field 'id' is not a string";
		if (!ids_code_valid(f->valuestring)) {
			stays_quote(f->valuestring, q, sizeof(q));
			snprintf(msg, msgsize, "field 'id' is not a valid short id: '%s'", q);
			return msg;
		}
		xstrlcpy(l->code, f->valuestring, sizeof(l->code));
	}
	if (stays_opt_string(it, "internalName", l->name, sizeof(l->name)) < 0)
		return "field 'internalName' is not a string";
	return parse_address(it, l);
}

enum err stays_parse_listings_page(const char *body, size_t len, size_t max_items,
				   const char *where, struct stays_listing_list *out,
				   size_t *count, char *errbuf)
{
	cJSON *root;
	const cJSON *it;
	size_t n, i = 0;
	char msg[ERRBUF_SIZE];
	enum err e;

	*count = 0;
	if ((e = parse_page_array(body, len, max_items, where, "listings", &root,
				  errbuf)) != ERR_OK)
		return e;
	n = (size_t)cJSON_GetArraySize(root);
	cJSON_ArrayForEach(it, root) {
		struct stays_listing l;
		const char *why = parse_listing(it, &l, msg, sizeof(msg));

		i++;
		if (why) {
			out->nerrors++;
			if (l.id[0])
				strbuf_addf(&out->errors, "listing %s: %s; skipped\n", l.id, why);
			else
				strbuf_addf(&out->errors, "%s, item %zu: %s; skipped\n", where, i,
					    why);
			continue;
		}
		out->v = xgrow(out->v, sizeof(*out->v), out->n + 1, &out->alloc);
		out->v[out->n++] = l;
	}
	cJSON_Delete(root);
	*count = n;
	return ERR_OK;
}

struct lpos {
	const struct stays_listing *l;
	size_t i;               /* received order */
};

static int cmp_lpos(const void *a, const void *b)
{
	const struct lpos *x = a, *y = b;
	int r = strcmp(x->l->id, y->l->id);

	if (r)
		return r;
	return x->i < y->i ? -1 : x->i > y->i;
}

/* Sort by id; of equal ids keep the last received. */
static void listings_finish(struct stays_listing_list *out)
{
	struct lpos *ix;
	struct stays_listing *v;
	size_t i, k = 0;

	if (out->n < 2)
		return;
	ix = xcalloc(out->n, sizeof(*ix));
	for (i = 0; i < out->n; i++) {
		ix[i].l = &out->v[i];
		ix[i].i = i;
	}
	qsort(ix, out->n, sizeof(*ix), cmp_lpos);
	v = xcalloc(out->n, sizeof(*v));
	for (i = 0; i < out->n; i++)
		if (i + 1 == out->n || strcmp(ix[i].l->id, ix[i + 1].l->id) != 0)
			v[k++] = *ix[i].l;
	free(ix);
	free(out->v);
	out->v = v;
	out->alloc = out->n;
	out->n = k;
}

enum err stays_listings(struct stays_client *sc, struct stays_listing_list *out,
			char *errbuf)
{
	struct http_response resp = HTTP_RESPONSE_INIT;
	struct strbuf url = STRBUF_INIT;
	size_t count;
	long skip = 0, page;
	char where[64];
	enum err e = ERR_OK;

	for (page = 1;; page++) {
		if (page > STAYS_MAX_PAGES) {
			e = ERRF(errbuf, ERR_PROTOCOL, "Stays returned more than %d pages of listings; stopping",
				 STAYS_MAX_PAGES);
			break;
		}
		strbuf_reset(&url);
		strbuf_addf(&url, "%s/external/v1/content/listings?status=active&skip=%ld&limit=%d",
			    sc->base_url, skip, STAYS_PAGE_LIMIT);
		snprintf(where, sizeof(where), "page %ld of the listings", page);
		if ((e = stays_http_get(sc, url.buf, where, 0, &resp, errbuf)) != ERR_OK)
			break;
		e = stays_parse_listings_page(resp.body.buf ? resp.body.buf : "", resp.body.len,
					      STAYS_PAGE_LIMIT, where, out, &count, errbuf);
		if (e != ERR_OK)
			break;
		out->pages++;
		if (count < STAYS_PAGE_LIMIT)
			break;
		skip += (long)count;
	}
	listings_finish(out);
	http_response_release(&resp);
	strbuf_release(&url);
	return e;
}

enum err stays_get_listing(struct stays_client *sc, const char *id,
			   struct stays_listing *out, int *gone, char *errbuf)
{
	struct http_response resp = HTTP_RESPONSE_INIT;
	struct strbuf url = STRBUF_INIT;
	char where[ID_MAX + 32], msg[ERRBUF_SIZE];
	const char *why;
	cJSON *root = NULL;
	enum err e;

	*gone = 0;
	memset(out, 0, sizeof(*out));
	if (!ids_listing_valid(id))
		return ERRF(errbuf, ERR_DATA, "invalid listing id");
	snprintf(where, sizeof(where), "listing %s", id);
	strbuf_addf(&url, "%s/external/v1/content/listings/%s", sc->base_url, id);
	e = stays_http_get(sc, url.buf, where, 1, &resp, errbuf);
	if (e == ERR_OK && resp.status == 404) {
		*gone = 1;
	} else if (e == ERR_OK &&
		   (e = stays_parse_json(resp.body.buf ? resp.body.buf : "", resp.body.len,
					 where, &root, errbuf)) == ERR_OK) {
		if ((why = parse_listing(root, out, msg, sizeof(msg))))
			e = ERRF(errbuf, ERR_PROTOCOL, "Stays sent a malformed %s: %s", where, why);
		else if (strcmp(out->id, id) != 0)
			e = ERRF(errbuf, ERR_PROTOCOL, "Stays answered listing %s when asked for %s",
				 out->id, id);
	}
	cJSON_Delete(root);
	http_response_release(&resp);
	strbuf_release(&url);
	return e;
}
