/*
 * stays_guest.c - who a reservation's guest is (stays-api.md §2.2, §3, §5),
 * for the on_pin hook.
 *
 * Two reads: the single reservation (its "_idclient" and the primary entry
 * of guestsDetails.list, which carries the name and phone the channel
 * gave) and the client (e-mail, preferred language).  What Stays sends is
 * untrusted display text that ends up in a guest's message: every value
 * is type-checked, kept as valid UTF-8 without control characters, and
 * phone numbers, e-mail addresses and languages must look like one.  A
 * bad field is left out and named in g->problem; only an answer that is
 * not the object asked for is an error.
 */
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "ids.h"
#include "stays.h"
#include "stays_int.h"
#include "banned.h"

/* Remember the first thing that went missing. */
static void problem(struct stays_guest *g, const char *who, const char *what)
{
	if (!g->problem[0])
		snprintf(g->problem, sizeof(g->problem), "the %s %s", who, what);
}

/* "adult_1", "child_2", "infant_3": Stays' names for unnamed guests. */
static int placeholder_name(const char *s)
{
	static const char *const kinds[] = { "adult_", "child_", "infant_" };

	for (size_t i = 0; i < sizeof(kinds) / sizeof(*kinds); i++) {
		size_t n = strlen(kinds[i]);

		if (strncmp(s, kinds[i], n) == 0 && s[n] && strspn(s + n, "0123456789") ==
							     strlen(s + n))
			return 1;
	}
	return 0;
}

/* A name: text with something besides spaces, not a placeholder. */
static void take_name(struct stays_guest *g, const char *s)
{
	char buf[STAYS_TEXT_MAX] = "";

	stays_add_text(buf, sizeof(buf), s);
	if (buf[strspn(buf, " ")] && !placeholder_name(buf))
		xstrlcpy(g->name, buf, sizeof(g->name));
}

/* "+5521987654321", "(21) 98765-4321": a '+', digits, spaces, "-().". */
static int phone_valid(const char *s)
{
	size_t n = strlen(s), digits = 0;

	if (n == 0 || n >= GUEST_PHONE_MAX || strspn(s, "+0123456789 -().") != n ||
	    strchr(s + 1, '+'))
		return 0;
	for (; *s; s++)
		digits += *s >= '0' && *s <= '9';
	return digits >= 4;
}

/* Something@something, printable ASCII, no spaces; short enough. */
static int email_valid(const char *s)
{
	const char *at = strchr(s, '@');
	size_t n = strlen(s);

	if (!at || at == s || !at[1] || strchr(at + 1, '@') || n >= STAYS_TEXT_MAX)
		return 0;
	for (; *s; s++)
		if (*s <= ' ' || *s >= 0x7f || *s == '"' || *s == '<' || *s == '>')
			return 0;
	return 1;
}

/* "pt_BR", "en", "pt-br": letters, '_' or '-', 2 to 15 characters. */
static int language_valid(const char *s)
{
	size_t n = strlen(s);

	return n >= 2 && n < GUEST_LANG_MAX &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_-") == n;
}

/* The first phones[].iso that is a phone number, if g has none yet. */
static void take_phone(struct stays_guest *g, const cJSON *obj, const char *who)
{
	const cJSON *phones = cJSON_GetObjectItemCaseSensitive(obj, "phones"), *p;

	if (g->phone[0] || !phones || cJSON_IsNull(phones))
		return;
	if (!cJSON_IsArray(phones)) {
		problem(g, who, "has phones that are not an array");
		return;
	}
	cJSON_ArrayForEach(p, phones) {
		const cJSON *iso = cJSON_GetObjectItemCaseSensitive(p, "iso");

		if (cJSON_IsString(iso) && iso->valuestring && phone_valid(iso->valuestring)) {
			xstrlcpy(g->phone, iso->valuestring, sizeof(g->phone));
			return;
		}
	}
	problem(g, who, "has no valid phone number");
}

/* guestsDetails.list: the entry with "primary": true, else the first. */
static const cJSON *primary_guest(const cJSON *root, struct stays_guest *g)
{
	const cJSON *d = cJSON_GetObjectItemCaseSensitive(root, "guestsDetails");
	const cJSON *list = cJSON_IsObject(d) ? cJSON_GetObjectItemCaseSensitive(d, "list") : NULL;
	const cJSON *it;

	if (d && !cJSON_IsObject(d) && !cJSON_IsNull(d))
		problem(g, "reservation", "has a guestsDetails that is not an object");
	if (!list || cJSON_IsNull(list))
		return NULL;
	if (!cJSON_IsArray(list)) {
		problem(g, "reservation", "has a guestsDetails.list that is not an array");
		return NULL;
	}
	cJSON_ArrayForEach(it, list)
		if (cJSON_IsObject(it) &&
		    cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(it, "primary")))
			return it;
	it = cJSON_GetArrayItem(list, 0);
	return cJSON_IsObject(it) ? it : NULL;
}

enum err stays_parse_guest_of(const char *body, size_t len, const char *id,
			      struct stays_guest *g, char *errbuf)
{
	char where[ID_MAX + 32], text[STAYS_TEXT_MAX];
	const cJSON *f, *p;
	cJSON *root;
	enum err e;

	memset(g, 0, sizeof(*g));
	snprintf(where, sizeof(where), "reservation %s", id);
	if ((e = stays_parse_json(body, len, where, &root, errbuf)) != ERR_OK)
		return e;
	f = cJSON_GetObjectItemCaseSensitive(root, "_id");
	if (!cJSON_IsObject(root) || !cJSON_IsString(f) || !f->valuestring ||
	    strcmp(f->valuestring, id) != 0) {
		cJSON_Delete(root);
		return ERRF(errbuf, ERR_PROTOCOL, "Stays did not answer %s with that reservation",
			    where);
	}
	f = cJSON_GetObjectItemCaseSensitive(root, "_idclient");
	if (cJSON_IsString(f) && f->valuestring && ids_listing_valid(f->valuestring))
		xstrlcpy(g->client, f->valuestring, sizeof(g->client));
	else if (f && !cJSON_IsNull(f))
		problem(g, "reservation", "has an _idclient that is not a valid id");
	if ((p = primary_guest(root, g))) {
		if (stays_opt_string(p, "name", text, sizeof(text)) == 0)
			take_name(g, text);
		else
			problem(g, "primary guest", "has a name that is not a string");
		take_phone(g, p, "primary guest");
	}
	cJSON_Delete(root);
	return ERR_OK;
}

/* "email", else contactEmails: the "main" one, else the first valid. */
static void take_email(struct stays_guest *g, const cJSON *root)
{
	const cJSON *f = cJSON_GetObjectItemCaseSensitive(root, "email"), *it;
	const char *first = NULL, *main = NULL;

	if (cJSON_IsString(f) && f->valuestring && email_valid(f->valuestring)) {
		xstrlcpy(g->email, f->valuestring, sizeof(g->email));
		return;
	}
	f = cJSON_GetObjectItemCaseSensitive(root, "contactEmails");
	if (!cJSON_IsArray(f))
		f = NULL;
	cJSON_ArrayForEach(it, f) {
		const cJSON *adr = cJSON_GetObjectItemCaseSensitive(it, "adr");
		const cJSON *type = cJSON_GetObjectItemCaseSensitive(it, "type");

		if (!cJSON_IsString(adr) || !adr->valuestring || !email_valid(adr->valuestring))
			continue;
		if (!first)
			first = adr->valuestring;
		if (!main && cJSON_IsString(type) && type->valuestring &&
		    strcmp(type->valuestring, "main") == 0)
			main = adr->valuestring;
	}
	if (main || first)
		xstrlcpy(g->email, main ? main : first, sizeof(g->email));
}

enum err stays_parse_client(const char *body, size_t len, struct stays_guest *g,
			    char *errbuf)
{
	char where[ID_MAX + 32], first[STAYS_TEXT_MAX], last[STAYS_TEXT_MAX];
	const cJSON *f;
	cJSON *root;
	enum err e;

	snprintf(where, sizeof(where), "client %s", g->client);
	if ((e = stays_parse_json(body, len, where, &root, errbuf)) != ERR_OK)
		return e;
	f = cJSON_GetObjectItemCaseSensitive(root, "_id");
	if (!cJSON_IsObject(root) ||
	    (f && (!cJSON_IsString(f) || !f->valuestring || strcmp(f->valuestring, g->client)))) {
		cJSON_Delete(root);
		return ERRF(errbuf, ERR_PROTOCOL, "Stays did not answer %s with that client", where);
	}
	if (!g->name[0] && stays_opt_string(root, "name", first, sizeof(first)) == 0)
		take_name(g, first);
	if (!g->name[0] && stays_opt_string(root, "fName", first, sizeof(first)) == 0 &&
	    stays_opt_string(root, "lName", last, sizeof(last)) == 0) {
		if (first[0] && last[0])
			stays_add_text(first, sizeof(first), " ");
		stays_add_text(first, sizeof(first), last);
		take_name(g, first);
	}
	take_phone(g, root, "client");
	take_email(g, root);
	f = cJSON_GetObjectItemCaseSensitive(root, "prefLang");
	if (cJSON_IsString(f) && f->valuestring && language_valid(f->valuestring))
		xstrlcpy(g->language, f->valuestring, sizeof(g->language));
	cJSON_Delete(root);
	return ERR_OK;
}

/* The client's part: whatever happens, only g->problem and g->retry. */
static void get_client(struct stays_client *sc, struct stays_guest *g)
{
	struct http_response resp = HTTP_RESPONSE_INIT;
	struct strbuf url = STRBUF_INIT;
	char where[ID_MAX + 32], eb[ERRBUF_SIZE];
	enum err e;

	snprintf(where, sizeof(where), "client %s", g->client);
	strbuf_addf(&url, "%s/external/v1/booking/clients/%s", sc->base_url, g->client);
	e = stays_http_get(sc, url.buf, where, 1, &resp, eb);
	if (e == ERR_OK && resp.status == 404)
		e = ERRF(eb, ERR_DATA, "Stays has no %s", where);
	else if (e == ERR_OK)
		e = stays_parse_client(resp.body.buf ? resp.body.buf : "", resp.body.len, g, eb);
	if (e != ERR_OK) {
		snprintf(g->problem, sizeof(g->problem), "%s", eb);
		g->retry = e == ERR_UNAVAILABLE;
	}
	http_response_release(&resp);
	strbuf_release(&url);
}

enum err stays_get_guest(struct stays_client *sc, const char *resv_id,
			 struct stays_guest *g, int *gone, char *errbuf)
{
	struct http_response resp = HTTP_RESPONSE_INIT;
	struct strbuf url = STRBUF_INIT;
	char where[ID_MAX + 32];
	enum err e;

	*gone = 0;
	memset(g, 0, sizeof(*g));
	if (!ids_listing_valid(resv_id))
		return ERRF(errbuf, ERR_DATA, "invalid reservation id");
	snprintf(where, sizeof(where), "reservation %s", resv_id);
	strbuf_addf(&url, "%s/external/v1/booking/reservations/%s", sc->base_url, resv_id);
	e = stays_http_get(sc, url.buf, where, 1, &resp, errbuf);
	if (e == ERR_OK && resp.status == 404)
		*gone = 1;
	else if (e == ERR_OK)
		e = stays_parse_guest_of(resp.body.buf ? resp.body.buf : "", resp.body.len, resv_id,
					 g, errbuf);
	http_response_release(&resp);
	strbuf_release(&url);
	if (e == ERR_OK && !*gone && g->client[0])
		get_client(sc, g);
	return e;
}
