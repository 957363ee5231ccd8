/*
 * stays_scan.c - the fast path for a page of reservations: one pass over
 * the body's bytes that reads only the members stays_parse_fields()
 * checks, with no tree: nothing is allocated but the reservations it
 * appends (stays_int.h has the contract).
 *
 * It never decides anything on its own.  It reads a strict subset of what
 * cJSON reads, and declines (returns 0, fr untouched) whatever it is not
 * sure cJSON reads the same way:
 *   - whitespace other than JSON's four (cJSON skips every byte <= 32);
 *   - a control character in a string (cJSON keeps it);
 *   - an escape cJSON would refuse or that we would have to decode: any
 *     escape in a key or in a checked value, a \u with a non-hex digit or
 *     a surrogate anywhere;
 *   - a number JSON's grammar refuses (cJSON takes "01" and "1."), or one
 *     of more than SCAN_NUMBER_MAX characters (cJSON reads a number
 *     through a fixed buffer; no count or price is that long);
 *   - nesting deeper than SCAN_DEPTH, a checked string longer than
 *     SCAN_STRING_MAX;
 *   - more than max_items items, an item that is not an object, an item
 *     stays_parse_fields() refuses.
 * Of a member given twice the first counts, as cJSON's look-up finds it.
 * stays_parse_page() then parses the page with cJSON, which decides and
 * words every refusal, so a declined page costs one extra pass and changes
 * nothing.  test_stays_scan and fuzz_stays_scan check that an accepted
 * page gives exactly what the cJSON path gives.
 */
#include <stdlib.h>
#include <string.h>

#include "stays_int.h"
#include "util.h"
#include "banned.h"

#define SCAN_DEPTH 32
#define SCAN_NUMBER_MAX 32
#define SCAN_STRING_MAX 127

struct scan {
	const char *p;
	const char *end;
};

/* One item's checked members: the values, copied and NUL-terminated. */
struct scan_item {
	struct item_fields fl;
	char buf[F_COUNT][SCAN_STRING_MAX + 1];
};

static void skip_ws(struct scan *s)
{
	while (s->p < s->end &&
	       (*s->p == ' ' || *s->p == '\n' || *s->p == '\r' || *s->p == '\t'))
		s->p++;
}

static int eat(struct scan *s, char c)
{
	if (s->p < s->end && *s->p == c) {
		s->p++;
		return 1;
	}
	return 0;
}

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* The bytes that end a string's plain run: a quote, a backslash, a control
 * character. */
static const unsigned char string_stop[256] = {
	[0x00] = 1, [0x01] = 1, [0x02] = 1, [0x03] = 1, [0x04] = 1, [0x05] = 1, [0x06] = 1,
	[0x07] = 1, [0x08] = 1, [0x09] = 1, [0x0a] = 1, [0x0b] = 1, [0x0c] = 1, [0x0d] = 1,
	[0x0e] = 1, [0x0f] = 1, [0x10] = 1, [0x11] = 1, [0x12] = 1, [0x13] = 1, [0x14] = 1,
	[0x15] = 1, [0x16] = 1, [0x17] = 1, [0x18] = 1, [0x19] = 1, [0x1a] = 1, [0x1b] = 1,
	[0x1c] = 1, [0x1d] = 1, [0x1e] = 1, [0x1f] = 1, ['"'] = 1, ['\\'] = 1
};

/*
 * The string at s->p (its opening quote): *start and *len are its raw
 * bytes between the quotes, *escaped 1 if they hold an escape.  0 if it
 * is one to decline.
 */
static int scan_string(struct scan *s, const char **start, size_t *len, int *escaped)
{
	const char *p;

	if (!eat(s, '"'))
		return 0;
	*escaped = 0;
	*start = p = s->p;
	for (;;) {
		while (p < s->end && !string_stop[(unsigned char)*p])
			p++;
		if (p >= s->end || (unsigned char)*p < 0x20)
			return 0;
		if (*p == '"')
			break;
		*escaped = 1;
		if (s->end - p < 2)
			return 0;
		if (p[1] != '\0' && strchr("\"\\/bfnrt", p[1])) {
			p += 2;
			continue;
		}
		if (p[1] != 'u' || s->end - p < 6)
			return 0;
		{
			unsigned v = 0;

			for (int i = 2; i < 6; i++) {
				int h = util_hex_value((unsigned char)p[i]);

				if (h < 0)
					return 0;
				v = v * 16 + (unsigned)h;
			}
			if (v >= 0xd800 && v <= 0xdfff)
				return 0;
		}
		p += 6;
	}
	*len = (size_t)(p - *start);
	s->p = p + 1;
	return 1;
}

/* A number by JSON's grammar, at most SCAN_NUMBER_MAX characters. */
static int scan_number(struct scan *s, const char **start, size_t *len)
{
	const char *p = s->p, *e = s->end;

	if (p < e && *p == '-')
		p++;
	if (p >= e || !is_digit(*p))
		return 0;
	if (*p == '0')
		p++;
	else
		while (p < e && is_digit(*p))
			p++;
	if (p < e && *p == '.') {
		if (++p >= e || !is_digit(*p))
			return 0;
		while (p < e && is_digit(*p))
			p++;
	}
	if (p < e && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < e && (*p == '+' || *p == '-'))
			p++;
		if (p >= e || !is_digit(*p))
			return 0;
		while (p < e && is_digit(*p))
			p++;
	}
	if (p - s->p > SCAN_NUMBER_MAX)
		return 0;
	*start = s->p;
	*len = (size_t)(p - s->p);
	s->p = p;
	return 1;
}

static int scan_literal(struct scan *s, const char *word)
{
	size_t n = strlen(word);

	if ((size_t)(s->end - s->p) < n || memcmp(s->p, word, n) != 0)
		return 0;
	s->p += n;
	return 1;
}

/* Step over one value of any kind, checking its syntax. */
static int skip_value(struct scan *s, int depth)
{
	const char *start;
	size_t len;
	int escaped;

	if (s->p >= s->end || depth > SCAN_DEPTH)
		return 0;
	switch (*s->p) {
	case '"':
		return scan_string(s, &start, &len, &escaped);
	case 't':
		return scan_literal(s, "true");
	case 'f':
		return scan_literal(s, "false");
	case 'n':
		return scan_literal(s, "null");
	case '[':
		s->p++;
		skip_ws(s);
		if (eat(s, ']'))
			return 1;
		for (;;) {
			if (!skip_value(s, depth + 1))
				return 0;
			skip_ws(s);
			if (eat(s, ']'))
				return 1;
			if (!eat(s, ','))
				return 0;
			skip_ws(s);
		}
	case '{':
		s->p++;
		skip_ws(s);
		if (eat(s, '}'))
			return 1;
		for (;;) {
			if (!scan_string(s, &start, &len, &escaped))
				return 0;
			skip_ws(s);
			if (!eat(s, ':'))
				return 0;
			skip_ws(s);
			if (!skip_value(s, depth + 1))
				return 0;
			skip_ws(s);
			if (eat(s, '}'))
				return 1;
			if (!eat(s, ','))
				return 0;
			skip_ws(s);
		}
	default:
		return scan_number(s, &start, &len);
	}
}

/* The value of checked member k of it, at s->p. */
static int scan_field(struct scan *s, struct scan_item *it, int k, int depth)
{
	struct item_field *f = &it->fl.f[k];
	const char *start;
	size_t len;
	int escaped;

	if (s->p >= s->end)
		return 0;
	if (*s->p == '"') {
		if (!scan_string(s, &start, &len, &escaped) || escaped || len > SCAN_STRING_MAX)
			return 0;
		memcpy(it->buf[k], start, len);
		it->buf[k][len] = '\0';
		f->kind = FK_STRING;
		f->s = it->buf[k];
		return 1;
	}
	if (*s->p == '-' || is_digit(*s->p)) {
		if (!scan_number(s, &start, &len))
			return 0;
		memcpy(it->buf[k], start, len);
		it->buf[k][len] = '\0';
		f->kind = FK_NUMBER;
		f->num = strtod(it->buf[k], NULL);
		return 1;
	}
	if (*s->p == 'n') {
		f->kind = FK_NULL;
		return scan_literal(s, "null");
	}
	f->kind = FK_OTHER;
	return skip_value(s, depth);
}

/* Which checked member the key of len bytes is, or -1. */
static int item_key(const char *key, size_t len)
{
	for (int k = 0; k < F_COUNT; k++)
		if (stays_item_keys[k].len == len && memcmp(stays_item_keys[k].name, key, len) == 0)
			return k;
	return -1;
}

/* One item, an object, at s->p. */
static int scan_item(struct scan *s, struct scan_item *it)
{
	unsigned seen = 0;

	memset(&it->fl, 0, sizeof(it->fl));
	if (!eat(s, '{'))
		return 0;
	skip_ws(s);
	if (eat(s, '}'))
		return 1;
	for (;;) {
		const char *key;
		size_t len;
		int escaped, k;

		if (!scan_string(s, &key, &len, &escaped) || escaped)
			return 0;
		skip_ws(s);
		if (!eat(s, ':'))
			return 0;
		skip_ws(s);
		k = item_key(key, len);
		if (k >= 0 && !(seen & 1u << k)) {
			seen |= 1u << k;
			if (!scan_field(s, it, k, 3))
				return 0;
		} else if (!skip_value(s, 3)) {
			return 0;
		}
		skip_ws(s);
		if (eat(s, '}'))
			return 1;
		if (!eat(s, ','))
			return 0;
		skip_ws(s);
	}
}

int stays_scan_page(const char *body, size_t len, size_t max_items, struct fetch_result *fr,
		    size_t *count)
{
	struct scan s = { body, body + len };
	struct scan_item it;
	char msg[ERRBUF_SIZE];
	size_t n0 = fr->n, n = 0;

	skip_ws(&s);
	if (!eat(&s, '['))
		return 0;
	skip_ws(&s);
	if (!eat(&s, ']')) {
		for (;;) {
			struct resv r;

			if (++n > max_items || !scan_item(&s, &it) ||
			    stays_parse_fields(&it.fl, &r, msg, sizeof(msg)) != NULL)
				goto decline;
			fr->items = xgrow(fr->items, sizeof(*fr->items), fr->n + 1, &fr->alloc);
			fr->items[fr->n++] = r;
			skip_ws(&s);
			if (eat(&s, ']'))
				break;
			if (!eat(&s, ','))
				goto decline;
			skip_ws(&s);
		}
	}
	skip_ws(&s);
	if (s.p != s.end)
		goto decline;
	*count = n;
	return 1;
decline:
	fr->n = n0;
	return 0;
}
