/*
 * fakeapi_stays.c - the fake Stays External API (stays-api.md §9.2).
 *
 * Serves reservations, listings and clients from one JSON data file:
 * either an array of reservations, or an object with optional arrays
 * "reservations", "listings" and "clients" (other keys are ignored).
 *
 * Invariants:
 *  - Items are served byte for byte as they appear in the file (the file's
 *    own text between the array's commas), so tests can plant malformed
 *    items, odd number spellings and key orders and see exactly those
 *    reach the client.  Only if that text cannot be located (a key written
 *    with escapes, say) is an item re-printed by cJSON instead.
 *  - The file is re-read when its inode, size or mtime changes, checked as
 *    each request is handled: a request a "before" hold parked sees the
 *    file as it is when released, which is how a test changes pages in
 *    the middle of a fetch.  A file that no longer parses makes every
 *    data request a 500 (and a message on stderr) until it parses again;
 *    stale data is never served.
 *  - Filters skip an item they cannot evaluate: a missing or non-string
 *    field, or a date field whose first 10 characters are not a date, lets
 *    the item through, and a non-object item passes every filter.  That is
 *    how a malformed item reaches the client at all.
 *  - Lists are sorted by "_id" (byte order; items without a string "_id"
 *    first), ties broken by position in the file, so paging is stable.
 *  - A client is served as stored, except that Stays validates a client's
 *    stored data on the detail call (stays-api.md §5): a string
 *    contactEmails[i].adr that does not match ^[^@\s]+@[^@\s]+$ (no '@',
 *    two of them, an empty side, white space) makes GET .../clients/{id} a
 *    400 naming the first such index, as Stays answers.  Nothing else of a
 *    client is checked, so other malformed items still reach the client.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "fakeapi.h"
#include "../lib/banned.h"

#define PAGE_MAX 20             /* Stays clamps limit to this */
#define DATA_MAX (256u * 1024 * 1024)
#define HUGE_COUNT 10000

struct item {
	const cJSON *json;      /* borrowed from the dataset's root */
	const char *raw;        /* the item's bytes, in text or in own */
	size_t raw_len;
	char *own;              /* cJSON-printed fallback, or NULL */
	size_t pos;             /* index in the file's array */
};

struct dataset {
	char *text;
	cJSON *root;
	struct item *res, *lst, *cli;
	size_t nres, nlst, ncli;
};

struct fake_stays {
	char *path;             /* NULL: no data file, all lists empty */
	char *user, *pass;
	struct dataset data;
	bool loaded;
	struct stat stamp;      /* of the file data was read from */
};

static void items_free(struct item *it, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(it[i].own);
	free(it);
}

static void dataset_release(struct dataset *ds)
{
	items_free(ds->res, ds->nres);
	items_free(ds->lst, ds->nlst);
	items_free(ds->cli, ds->ncli);
	cJSON_Delete(ds->root);
	free(ds->text);
	memset(ds, 0, sizeof(*ds));
}

/* ---- locating each item's bytes in the file --------------------------- */

static size_t skip_ws(const char *s, size_t n, size_t i)
{
	while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' ||
	                 s[i] == '\r'))
		i++;
	return i;
}

/* Advance *i past the string starting at s[*i] == '"'. */
static bool scan_string(const char *s, size_t n, size_t *i)
{
	size_t j = *i + 1;

	while (j < n) {
		if (s[j] == '\\')
			j += 2;
		else if (s[j] == '"') {
			*i = j + 1;
			return true;
		} else
			j++;
	}
	return false;
}

/* Advance *i past one JSON value (the text is known to be valid JSON). */
static bool scan_value(const char *s, size_t n, size_t *i)
{
	size_t j = *i, depth = 0;

	if (j >= n)
		return false;
	if (s[j] == '"')
		return scan_string(s, n, i);
	if (s[j] != '{' && s[j] != '[') {
		while (j < n && !strchr(",]} \t\r\n", s[j]))
			j++;
		if (j == *i)
			return false;
		*i = j;
		return true;
	}
	while (j < n) {
		if (s[j] == '"') {
			if (!scan_string(s, n, &j))
				return false;
			continue;
		}
		if (s[j] == '{' || s[j] == '[')
			depth++;
		else if (s[j] == '}' || s[j] == ']') {
			if (--depth == 0) {
				*i = j + 1;
				return true;
			}
		}
		j++;
	}
	return false;
}

/* Does the first byte of a value's text agree with the parsed type? */
static bool same_kind(const cJSON *v, char c)
{
	if (cJSON_IsObject(v))
		return c == '{';
	if (cJSON_IsArray(v))
		return c == '[';
	if (cJSON_IsString(v))
		return c == '"';
	return c != '{' && c != '[' && c != '"';
}

/*
 * Point items[k].raw at the text of element k of the array at s[i] == '['
 * whose parsed form is arr.  False if the text does not line up.
 */
static bool span_array(const char *s, size_t n, size_t i, const cJSON *arr,
                       struct item *items, size_t count)
{
	const cJSON *el = arr->child;
	size_t k = 0;

	if (i >= n || s[i] != '[')
		return false;
	i = skip_ws(s, n, i + 1);
	if (i < n && s[i] == ']')
		return count == 0;
	for (;;) {
		size_t start = i;

		if (k >= count || !el || !scan_value(s, n, &i) ||
		    !same_kind(el, s[start]))
			return false;
		items[k].raw = s + start;
		items[k].raw_len = i - start;
		k++;
		el = el->next;
		i = skip_ws(s, n, i);
		if (i < n && s[i] == ',') {
			i = skip_ws(s, n, i + 1);
			continue;
		}
		if (i < n && s[i] == ']')
			return k == count;
		return false;
	}
}

/* Offset of the value of the first member named name of the object at
 * s[i] == '{' (name compared as raw text), or (size_t)-1. */
static size_t find_member(const char *s, size_t n, size_t i, const char *name)
{
	size_t nlen = strlen(name);

	if (i >= n || s[i] != '{')
		return (size_t)-1;
	i = skip_ws(s, n, i + 1);
	while (i < n && s[i] == '"') {
		size_t kstart = i + 1, kend;

		if (!scan_string(s, n, &i))
			return (size_t)-1;
		kend = i - 1;
		i = skip_ws(s, n, i);
		if (i >= n || s[i] != ':')
			return (size_t)-1;
		i = skip_ws(s, n, i + 1);
		if (kend - kstart == nlen && !memcmp(s + kstart, name, nlen))
			return i;
		if (!scan_value(s, n, &i))
			return (size_t)-1;
		i = skip_ws(s, n, i);
		if (i < n && s[i] == ',')
			i = skip_ws(s, n, i + 1);
	}
	return (size_t)-1;
}

static int cmp_items(const void *pa, const void *pb)
{
	const struct item *a = pa, *b = pb;
	const cJSON *ia = cJSON_IsObject(a->json)
		? cJSON_GetObjectItemCaseSensitive(a->json, "_id") : NULL;
	const cJSON *ib = cJSON_IsObject(b->json)
		? cJSON_GetObjectItemCaseSensitive(b->json, "_id") : NULL;
	bool sa = cJSON_IsString(ia), sb = cJSON_IsString(ib);
	int c;

	if (sa != sb)
		return sa ? 1 : -1;
	if (sa && (c = strcmp(ia->valuestring, ib->valuestring)) != 0)
		return c;
	return a->pos < b->pos ? -1 : a->pos > b->pos;
}

/*
 * Build the sorted item list of arr.  at is the offset of arr's text in
 * ds->text, or (size_t)-1 if unknown (then every item is re-printed).
 */
static struct item *make_items(const struct dataset *ds, size_t len,
                               const cJSON *arr, size_t at, size_t *count)
{
	size_t n = (size_t)cJSON_GetArraySize(arr), k = 0;
	struct item *items = fake_xcalloc(n ? n : 1, sizeof(*items));
	const cJSON *el;

	cJSON_ArrayForEach(el, arr) {
		items[k].json = el;
		items[k].pos = k;
		k++;
	}
	if (at == (size_t)-1 || !span_array(ds->text, len, at, arr, items, n)) {
		for (k = 0; k < n; k++) {
			items[k].own = cJSON_PrintUnformatted(items[k].json);
			if (!items[k].own)
				fake_die("cannot print a data item");
			items[k].raw = items[k].own;
			items[k].raw_len = strlen(items[k].own);
		}
	}
	qsort(items, n, sizeof(*items), cmp_items);
	*count = n;
	return items;
}

static int read_file(const char *path, char **text, size_t *len,
                     struct stat *st, char *err, size_t errlen)
{
	struct fake_buf b = FAKE_BUF_INIT;
	char chunk[65536];
	FILE *fp = fopen(path, "rb");
	size_t n;

	if (!fp) {
		snprintf(err, errlen, "cannot open '%s': %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fileno(fp), st) != 0) {
		snprintf(err, errlen, "cannot stat '%s': %s", path, strerror(errno));
		goto fail;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0) {
		if (b.len + n > DATA_MAX) {
			snprintf(err, errlen, "'%s' is larger than %u bytes", path,
			         DATA_MAX);
			goto fail;
		}
		fake_buf_add(&b, chunk, n);
	}
	if (ferror(fp)) {
		snprintf(err, errlen, "cannot read '%s': %s", path, strerror(errno));
		goto fail;
	}
	fclose(fp);
	if (!b.buf)
		fake_buf_adds(&b, "");
	*len = b.len;
	*text = b.buf;
	return 0;
fail:
	fclose(fp);
	fake_buf_release(&b);
	return -1;
}

/* Line and column of byte off in text, for parse errors. */
static void where(const char *text, size_t off, unsigned long *line,
                  unsigned long *col)
{
	size_t i;

	*line = 1;
	*col = 1;
	for (i = 0; i < off; i++) {
		if (text[i] == '\n') {
			(*line)++;
			*col = 1;
		} else {
			(*col)++;
		}
	}
}

static int dataset_load(struct dataset *ds, const char *path,
                        struct stat *st, char *err, size_t errlen)
{
	static const char *const names[] = { "reservations", "listings", "clients" };
	struct item **lists[] = { &ds->res, &ds->lst, &ds->cli };
	size_t *counts[] = { &ds->nres, &ds->nlst, &ds->ncli };
	size_t len, i, top, off;

	memset(ds, 0, sizeof(*ds));
	if (read_file(path, &ds->text, &len, st, err, errlen) != 0)
		return -1;
	ds->root = fake_json_parse(ds->text, len, &off);
	if (!ds->root) {
		unsigned long line, col;

		where(ds->text, off, &line, &col);
		snprintf(err, errlen, "%s:%lu:%lu: invalid JSON", path, line, col);
		goto fail;
	}
	top = skip_ws(ds->text, len, 0);
	if (cJSON_IsArray(ds->root)) {
		ds->res = make_items(ds, len, ds->root, top, &ds->nres);
		ds->lst = fake_xcalloc(1, sizeof(*ds->lst));
		ds->cli = fake_xcalloc(1, sizeof(*ds->cli));
		return 0;
	}
	if (!cJSON_IsObject(ds->root)) {
		snprintf(err, errlen, "%s: must be an array of reservations or "
		         "an object with \"reservations\"", path);
		goto fail;
	}
	for (i = 0; i < 3; i++) {
		const cJSON *arr = cJSON_GetObjectItemCaseSensitive(ds->root,
		                                                    names[i]);

		if (!arr) {
			*lists[i] = fake_xcalloc(1, sizeof(**lists));
			continue;
		}
		if (!cJSON_IsArray(arr)) {
			snprintf(err, errlen, "%s: \"%s\" must be an array", path,
			         names[i]);
			goto fail;
		}
		*lists[i] = make_items(ds, len, arr,
		                       find_member(ds->text, len, top, names[i]),
		                       counts[i]);
	}
	return 0;
fail:
	dataset_release(ds);
	return -1;
}

static bool same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino &&
	       a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	       a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/* Make st->data current.  Returns 0, or -1 with err set. */
static int refresh(struct fake_stays *st, char *err, size_t errlen)
{
	struct dataset ds;
	struct stat now;

	if (!st->path)
		return 0;
	if (st->loaded && stat(st->path, &now) == 0 && same_file(&now, &st->stamp))
		return 0;
	if (dataset_load(&ds, st->path, &now, err, errlen) != 0) {
		dataset_release(&st->data);
		st->loaded = false;
		return -1;
	}
	dataset_release(&st->data);
	st->data = ds;
	st->stamp = now;
	st->loaded = true;
	return 0;
}

struct fake_stays *fake_stays_new(const char *data_path, const char *user,
                                  const char *pass, char *err, size_t errlen)
{
	struct fake_stays *st = fake_xcalloc(1, sizeof(*st));

	st->user = fake_xstrdup(user);
	st->pass = fake_xstrdup(pass);
	if (data_path) {
		st->path = fake_xstrdup(data_path);
		if (refresh(st, err, errlen) != 0) {
			fake_stays_free(st);
			return NULL;
		}
	} else {
		st->data.res = fake_xcalloc(1, sizeof(struct item));
		st->data.lst = fake_xcalloc(1, sizeof(struct item));
		st->data.cli = fake_xcalloc(1, sizeof(struct item));
	}
	return st;
}

void fake_stays_free(struct fake_stays *st)
{
	if (!st)
		return;
	dataset_release(&st->data);
	free(st->path);
	free(st->user);
	free(st->pass);
	free(st);
}

/* ---- authentication ---------------------------------------------------- */

static int b64val(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* Decode standard base64 (padding optional) into out; NULL if invalid. */
static char *b64_decode(const char *s, size_t n, size_t *outlen)
{
	char *out;
	size_t i, o = 0, pad = 0;
	unsigned long acc = 0;
	int bits = 0;

	while (n > 0 && s[n - 1] == '=' && pad < 2) {
		n--;
		pad++;
	}
	if (n % 4 == 1 || (pad && (n + pad) % 4))
		return NULL;
	out = fake_xmalloc(n + 1);
	for (i = 0; i < n; i++) {
		int v = b64val(s[i]);

		if (v < 0) {
			free(out);
			return NULL;
		}
		acc = (acc << 6) | (unsigned long)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (char)((acc >> bits) & 0xff);
		}
	}
	out[o] = '\0';
	*outlen = o;
	return out;
}

/* HTTP Basic with exactly the configured user and password. */
static bool authorized(const struct fake_stays *st,
                       const struct fake_request *req)
{
	const char *h = fake_header(req, "Authorization");
	size_t n, dlen, ulen = strlen(st->user), plen = strlen(st->pass);
	char *dec;
	bool ok;

	if (!h || strncasecmp(h, "Basic", 5) || (h[5] != ' ' && h[5] != '\t'))
		return false;
	h += 5;
	while (*h == ' ' || *h == '\t')
		h++;
	n = strlen(h);
	while (n > 0 && (h[n - 1] == ' ' || h[n - 1] == '\t'))
		n--;
	dec = b64_decode(h, n, &dlen);
	if (!dec)
		return false;
	ok = dlen == ulen + 1 + plen && !memcmp(dec, st->user, ulen) &&
	     dec[ulen] == ':' && !memcmp(dec + ulen + 1, st->pass, plen);
	free(dec);
	return ok;
}

/* ---- query parameters ---------------------------------------------------- */

#define MAXVALS 64

/* A list parameter: plain "k", "k[]" and "k[N]" all add to it. */
struct multi {
	const char *v[MAXVALS];
	size_t n;
};

/* Does key (len bytes) name list parameter base in any of its forms? */
static bool is_list_key(const struct fake_param *p, const char *base)
{
	size_t bl = strlen(base), i;

	if (p->key_len < bl || memcmp(p->key, base, bl))
		return false;
	if (p->key_len == bl)
		return true;
	if (p->key[bl] != '[' || p->key[p->key_len - 1] != ']')
		return false;
	for (i = bl + 1; i < p->key_len - 1; i++)
		if (p->key[i] < '0' || p->key[i] > '9')
			return false;
	return true;
}

static bool is_key(const struct fake_param *p, const char *key)
{
	return p->key_len == strlen(key) && !memcmp(p->key, key, p->key_len);
}

/* Parse an unsigned decimal (saturating at 10^15); false if not digits. */
static bool parse_count(const struct fake_param *p, long long *out)
{
	long long v = 0;
	size_t i;

	if (p->value_len == 0 || p->value_len != strlen(p->value))
		return false;
	for (i = 0; i < p->value_len; i++) {
		if (p->value[i] < '0' || p->value[i] > '9')
			return false;
		if (v < 1000000000000000LL)
			v = v * 10 + (p->value[i] - '0');
	}
	*out = v;
	return true;
}

static bool in_set(const char *s, const char *const *set)
{
	for (; *set; set++)
		if (!strcmp(s, *set))
			return true;
	return false;
}

struct page {
	long long skip, limit;
};

/*
 * If p is skip or limit, validate it into pg (limit clamped to PAGE_MAX).
 * Other parameters are ignored.  Returns NULL, or a message for a 400.
 */
static const char *parse_page(const struct fake_param *p, struct page *pg,
                              bool *seen_skip, bool *seen_limit)
{
	if (is_key(p, "skip")) {
		if (*seen_skip)
			return "skip must be given once";
		*seen_skip = true;
		if (!parse_count(p, &pg->skip))
			return "skip must be a non-negative integer";
	} else if (is_key(p, "limit")) {
		if (*seen_limit)
			return "limit must be given once";
		*seen_limit = true;
		if (!parse_count(p, &pg->limit) || pg->limit == 0)
			return "limit must be a positive integer";
		if (pg->limit > PAGE_MAX)
			pg->limit = PAGE_MAX;   /* silent clamp, like Stays */
	}
	return NULL;
}

static const char *add_multi(struct multi *m, const struct fake_param *p,
                             const char *const *allowed, const char *msg)
{
	if (p->value_len == 0 || p->value_len != strlen(p->value) ||
	    (allowed && !in_set(p->value, allowed)))
		return msg;
	if (m->n == MAXVALS)
		return "too many values";
	m->v[m->n++] = p->value;
	return NULL;
}

/* ---- item helpers ------------------------------------------------------ */

static const cJSON *field(const struct item *it, const char *name)
{
	if (!cJSON_IsObject(it->json))
		return NULL;
	return cJSON_GetObjectItemCaseSensitive(it->json, name);
}

static const char *str_field(const struct item *it, const char *name)
{
	const cJSON *f = field(it, name);

	return cJSON_IsString(f) ? f->valuestring : NULL;
}

/* Date in the first 10 characters of a string field, if there is one. */
static bool date_field(const struct item *it, const char *name, long *days)
{
	const char *s = str_field(it, name);

	return s && strlen(s) >= 10 && fake_parse_date(s, 10, days);
}

static const struct item *find_item(const struct item *items, size_t n,
                                    const char *id)
{
	size_t i;

	for (i = 0; i < n; i++) {
		const char *a = str_field(&items[i], "_id");
		const char *b = str_field(&items[i], "id");

		if ((a && !strcmp(a, id)) || (b && !strcmp(b, id)))
			return &items[i];
	}
	return NULL;
}

/* Append the page [skip, skip+limit) of the selected items as an array. */
struct pager {
	struct fake_buf out;
	long long seen, emitted;
	struct page pg;
};

static void pager_add(struct pager *pr, const struct item *it)
{
	if (pr->seen++ < pr->pg.skip || pr->emitted >= pr->pg.limit)
		return;
	fake_buf_adds(&pr->out, pr->emitted++ ? "," : "[");
	fake_buf_add(&pr->out, it->raw, it->raw_len);
}

static void pager_respond(struct pager *pr, struct fake_response *resp)
{
	fake_buf_adds(&pr->out, pr->emitted ? "]" : "[]");
	resp->status = 200;
	resp->content_type = "application/json";
	fake_buf_release(&resp->body);
	resp->body = pr->out;
	memset(&pr->out, 0, sizeof(pr->out));
}

/* ---- endpoints ----------------------------------------------------------- */

enum date_type { DT_ARRIVAL, DT_DEPARTURE, DT_CREATION, DT_INCLUDED };

static const char *const res_types[] = {
	"reserved", "booked", "contract", "blocked", "maintenance", "canceled",
	NULL
};

/* Does the reservation's _idlisting name one of the requested listings
 * (by long _id, or by the short id of a listing in the data)? */
static bool listing_match(const struct fake_stays *st, const char *lid,
                          const struct multi *want)
{
	size_t i, j;

	for (i = 0; i < want->n; i++) {
		if (!strcmp(lid, want->v[i]))
			return true;
		for (j = 0; j < st->data.nlst; j++) {
			const char *a = str_field(&st->data.lst[j], "_id");
			const char *b = str_field(&st->data.lst[j], "id");

			if (a && b && !strcmp(a, lid) && !strcmp(b, want->v[i]))
				return true;
		}
	}
	return false;
}

static void list_reservations(const struct fake_stays *st,
                              const struct fake_request *req,
                              struct fake_response *resp)
{
	static const char *const date_types[] = {
		"arrival", "departure", "creation", "creationorig", "included", NULL
	};
	struct multi types = { .n = 0 }, listings = { .n = 0 };
	struct pager pr = { .pg = { 0, PAGE_MAX } };
	const struct fake_param *from = NULL, *to = NULL, *dt = NULL, *cli = NULL;
	bool seen_skip = false, seen_limit = false;
	enum date_type dtype = DT_ARRIVAL;
	long dfrom = 0, dto = 0;
	const char *msg = NULL;
	size_t i, j;

	for (i = 0; i < req->nparams && !msg; i++) {
		const struct fake_param *p = &req->params[i];
		const struct fake_param **slot = NULL;

		if (is_key(p, "from"))
			slot = &from;
		else if (is_key(p, "to"))
			slot = &to;
		else if (is_key(p, "dateType"))
			slot = &dt;
		else if (is_key(p, "_idclient"))
			slot = &cli;
		if (slot) {
			if (*slot)
				msg = "from, to, dateType and _idclient must be given once";
			*slot = p;
		} else if (is_list_key(p, "type")) {
			msg = add_multi(&types, p, res_types, "type must be one of "
			                "reserved, booked, contract, blocked, "
			                "maintenance, canceled");
		} else if (is_list_key(p, "listingId")) {
			msg = add_multi(&listings, p, NULL,
			                "listingId must not be empty");
		} else {
			msg = parse_page(p, &pr.pg, &seen_skip, &seen_limit);
		}
	}
	if (!msg && !from)
		msg = "from is required";
	else if (!msg && !to)
		msg = "to is required";
	else if (!msg && !fake_parse_date(from->value, from->value_len, &dfrom))
		msg = "from must be a date (YYYY-MM-DD)";
	else if (!msg && !fake_parse_date(to->value, to->value_len, &dto))
		msg = "to must be a date (YYYY-MM-DD)";
	else if (!msg && !dt)
		msg = "dateType is required";
	else if (!msg && (dt->value_len != strlen(dt->value) ||
	                  !in_set(dt->value, date_types)))
		msg = "dateType must be one of arrival, departure, creation, "
		      "creationorig, included";
	if (msg) {
		fake_respond_message(resp, 400, msg);
		return;
	}
	if (!strcmp(dt->value, "departure"))
		dtype = DT_DEPARTURE;
	else if (!strncmp(dt->value, "creation", 8))
		dtype = DT_CREATION;
	else if (!strcmp(dt->value, "included"))
		dtype = DT_INCLUDED;
	if (types.n == 0) {
		types.v[types.n++] = "reserved";
		types.v[types.n++] = "booked";
		types.v[types.n++] = "contract";
	}

	for (i = 0; i < st->data.nres; i++) {
		const struct item *it = &st->data.res[i];
		const char *s;
		long d;
		bool ok;

		switch (dtype) {
		case DT_ARRIVAL:
			if (date_field(it, "checkInDate", &d) && (d < dfrom || d > dto))
				continue;
			break;
		case DT_DEPARTURE:
			if (date_field(it, "checkOutDate", &d) && (d < dfrom || d > dto))
				continue;
			break;
		case DT_CREATION:
			if (date_field(it, "creationDate", &d) && (d < dfrom || d > dto))
				continue;
			break;
		case DT_INCLUDED:
			if (date_field(it, "checkInDate", &d) && d > dto)
				continue;
			if (date_field(it, "checkOutDate", &d) && d < dfrom)
				continue;
			break;
		}
		if ((s = str_field(it, "type"))) {
			for (ok = false, j = 0; j < types.n && !ok; j++)
				ok = !strcmp(s, types.v[j]);
			if (!ok)
				continue;
		}
		if (listings.n && (s = str_field(it, "_idlisting")) &&
		    !listing_match(st, s, &listings))
			continue;
		if (cli && (s = str_field(it, "_idclient")) && strcmp(s, cli->value))
			continue;
		pager_add(&pr, it);
	}
	pager_respond(&pr, resp);
}

static void list_listings(const struct fake_stays *st,
                          const struct fake_request *req,
                          struct fake_response *resp)
{
	static const char *const statuses[] = {
		"active", "inactive", "hidden", "draft", NULL
	};
	struct multi want = { .n = 0 };
	struct pager pr = { .pg = { 0, PAGE_MAX } };
	bool seen_skip = false, seen_limit = false;
	const char *msg = NULL;
	size_t i, j;

	for (i = 0; i < req->nparams && !msg; i++) {
		const struct fake_param *p = &req->params[i];

		if (is_list_key(p, "status"))
			msg = add_multi(&want, p, statuses, "status must be one of "
			                "active, inactive, hidden, draft");
		else
			msg = parse_page(p, &pr.pg, &seen_skip, &seen_limit);
	}
	if (msg) {
		fake_respond_message(resp, 400, msg);
		return;
	}
	if (want.n == 0)
		want.v[want.n++] = "active";
	for (i = 0; i < st->data.nlst; i++) {
		const struct item *it = &st->data.lst[i];
		const char *s = str_field(it, "status");
		bool ok = !s;

		for (j = 0; j < want.n && !ok; j++)
			ok = !strcmp(s, want.v[j]);
		if (ok)
			pager_add(&pr, it);
	}
	pager_respond(&pr, resp);
}

/* Does s match ^[^@\s]+@[^@\s]+$ (\s as in JavaScript, ASCII part)? */
static bool plausible_email(const char *s)
{
	const char *at = strchr(s, '@');

	if (!at || at == s || !at[1] || strchr(at + 1, '@'))
		return false;
	return !s[strcspn(s, " \t\n\v\f\r")];
}

/*
 * Stays' check of a stored client on the detail call: true and a 400 in
 * resp if a contactEmails[i].adr is a string that is not an address.
 */
static bool client_invalid(const struct item *it, struct fake_response *resp)
{
	const cJSON *emails = field(it, "contactEmails"), *e;
	char msg[128];
	int i = 0;

	if (!cJSON_IsArray(emails))
		return false;
	cJSON_ArrayForEach(e, emails) {
		const cJSON *adr = cJSON_IsObject(e)
			? cJSON_GetObjectItemCaseSensitive(e, "adr") : NULL;

		if (adr && cJSON_IsString(adr) &&
		    !plausible_email(adr->valuestring)) {
			snprintf(msg, sizeof(msg), "contactEmails/%d/adr must "
			         "match pattern \"^[^@\\s]+@[^@\\s]+$\"", i);
			fake_respond_message(resp, 400, msg);
			return true;
		}
		i++;
	}
	return false;
}

/* One item by "_id" or "id"; clients (is_client) are validated first. */
static void get_one(const struct item *items, size_t n, const char *raw_id,
                    bool is_client, struct fake_response *resp)
{
	const struct item *it = NULL;
	size_t i, o = 0;
	char *id = fake_xstrdup(raw_id);

	/* percent-decode the path segment; ids are plain, but be exact */
	for (i = 0; raw_id[i]; i++) {
		if (raw_id[i] == '%' && raw_id[i + 1] && raw_id[i + 2] &&
		    strchr("0123456789abcdefABCDEF", raw_id[i + 1]) &&
		    strchr("0123456789abcdefABCDEF", raw_id[i + 2])) {
			char hex[3] = { raw_id[i + 1], raw_id[i + 2], '\0' };

			id[o++] = (char)strtol(hex, NULL, 16);
			i += 2;
		} else {
			id[o++] = raw_id[i];
		}
	}
	id[o] = '\0';
	if (o == strlen(id))
		it = find_item(items, n, id);
	free(id);
	if (!it) {
		fake_respond_message(resp, 404, "Not found");
		return;
	}
	if (is_client && client_invalid(it, resp))
		return;
	resp->status = 200;
	resp->content_type = "application/json";
	fake_buf_reset(&resp->body);
	fake_buf_add(&resp->body, it->raw, it->raw_len);
}

/* "rest" if path is prefix followed by one non-empty segment, else NULL. */
static const char *one_segment(const char *path, const char *prefix)
{
	size_t n = strlen(prefix);

	if (strncmp(path, prefix, n) || !path[n] || strchr(path + n, '/'))
		return NULL;
	return path + n;
}

void fake_stays_handle(struct fake_stays *st, const struct fake_request *req,
                       struct fake_response *resp)
{
	static const char api[] = "/external/v1/";
	const char *path = req->path, *id;
	char err[512];
	enum { R_NONE, R_RES, R_RES1, R_LST, R_LST1, R_CLI1 } route = R_NONE;

	if (strncmp(path, api, sizeof(api) - 1) && strcmp(path, "/external/v1")) {
		fake_respond_message(resp, 404, "Not found");
		return;
	}
	if (!authorized(st, req)) {
		fake_respond_message(resp, 401, "Unauthorized");
		return;
	}
	id = NULL;
	if (!strcmp(path, "/external/v1/booking/reservations"))
		route = R_RES;
	else if ((id = one_segment(path, "/external/v1/booking/reservations/")))
		route = R_RES1;
	else if (!strcmp(path, "/external/v1/content/listings"))
		route = R_LST;
	else if ((id = one_segment(path, "/external/v1/content/listings/")))
		route = R_LST1;
	else if ((id = one_segment(path, "/external/v1/booking/clients/")))
		route = R_CLI1;
	if (route == R_NONE) {
		fake_respond_message(resp, 404, "Not found");
		return;
	}
	if (strcmp(req->method, "GET")) {
		fake_respond_message(resp, 405, "Method not allowed");
		return;
	}
	if (refresh(st, err, sizeof(err)) != 0) {
		fprintf(stderr, "fakeapi: %s\n", err);
		fake_respond_message(resp, 500, "fake: cannot load the data file");
		return;
	}
	switch (route) {
	case R_RES:
		list_reservations(st, req, resp);
		break;
	case R_RES1:
		get_one(st->data.res, st->data.nres, id, false, resp);
		break;
	case R_LST:
		list_listings(st, req, resp);
		break;
	case R_LST1:
		get_one(st->data.lst, st->data.nlst, id, false, resp);
		break;
	case R_CLI1:
		get_one(st->data.cli, st->data.ncli, id, true, resp);
		break;
	case R_NONE:
		break;
	}
}

void fake_stays_huge(const struct fake_request *req,
                     struct fake_response *resp)
{
	const struct fake_param *from = fake_param(req, "from");
	const struct fake_param *dt = fake_param(req, "dateType");
	struct fake_buf b = FAKE_BUF_INIT;
	char cin[11], cout[11], created[11];
	long day;
	unsigned int i;

	if (!from || !fake_parse_date(from->value, from->value_len, &day))
		fake_parse_date("2025-06-01", 10, &day);
	if (dt && !strcmp(dt->value, "departure")) {
		fake_format_date(day - 3, cin);
		fake_format_date(day, cout);
	} else {
		fake_format_date(day, cin);
		fake_format_date(day + 3, cout);
	}
	fake_format_date(day - 20, created);
	fake_buf_adds(&b, "[");
	for (i = 0; i < HUGE_COUNT; i++) {
		fake_buf_addf(&b,
			"%s{\"_id\":\"6868%020x\",\"id\":\"HG%04u\","
			"\"creationDate\":\"%s\",\"checkInDate\":\"%s\","
			"\"checkInTime\":\"15:00\",\"checkOutDate\":\"%s\","
			"\"checkOutTime\":\"11:00\","
			"\"_idlisting\":\"63dd7e20333d8b60be510f9c\","
			"\"_idclient\":\"6869%020x\",\"type\":\"booked\","
			"\"price\":{\"currency\":\"BRL\",\"_f_expected\":900,"
			"\"_f_total\":1020.5},\"stats\":{\"_f_totalPaid\":0},"
			"\"guests\":2,\"guestsDetails\":{\"adults\":2,"
			"\"children\":0,\"infants\":0},"
			"\"partnerCode\":\"HMHUGE%05u\"}",
			i ? "," : "", i, i, created, cin, cout, i, i);
	}
	fake_buf_adds(&b, "]");
	resp->status = 200;
	resp->content_type = "application/json";
	fake_buf_release(&resp->body);
	resp->body = b;
}
