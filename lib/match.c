/*
 * match.c - suggest listing-lock pairs by name (see match.h for the
 * normalisation, the formula, the threshold and the assignment).
 *
 * Invariants: every string built here lives in a fixed buffer of a known
 * size (MATCH_TOKEN_MAX, MATCH_NORM_MAX, MATCH_REASON_MAX) and every write
 * into one is bounded by it, whatever the length or the bytes of the input.
 * The heap holds only the token sets, the candidate list and the result.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "match.h"
#include "util.h"
#include "banned.h"

#define UNIT_POINTS 40
#define SHORT_ID_POINTS 60
#define WORD_POINTS 60
#define MAX_TOKENS (MATCH_NORM_MAX / 2)

/* ---- folding: one code point to at most two ASCII characters ---------- */

/* U+00C0..U+00FF, then U+0100..U+017F, eight a group: the base letter, '*'
 * for the two-letter ones (fold_pair), ' ' for the signs × and ÷. */
static const char latin1[] =
	"aaaaaa*c" "eeeeiiii" "dnooooo " "ouuuuy**"
	"aaaaaa*c" "eeeeiiii" "dnooooo " "ouuuuy*y";
static const char latin_ext_a[] =
	"aaaaaacc" "ccccccdd" "ddeeeeee" "eeeegggg"
	"gggghhhh" "iiiiiiii" "ii**jjkk" "klllllll"
	"lllnnnnn" "nnnnoooo" "oo**rrrr" "rrssssss"
	"sstttttt" "uuuuuuuu" "uuuuwwyy" "yzzzzzzs";
_Static_assert(sizeof(latin1) == 64 + 1, "U+00C0..U+00FF");
_Static_assert(sizeof(latin_ext_a) == 128 + 1, "U+0100..U+017F");

static const char *fold_pair(unsigned cp)
{
	switch (cp) {
	case 0xC6: case 0xE6: return "ae";
	case 0xDE: case 0xFE: return "th";
	case 0xDF: return "ss";
	case 0x132: case 0x133: return "ij";
	default: return "oe";   /* U+0152, U+0153 */
	}
}

/* The ASCII letters or digits cp folds to, in f; 0 for a separator. */
static size_t fold(unsigned cp, char f[2])
{
	char c;

	if (cp < 0x80) {
		c = (char)cp;
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		f[0] = c;
		return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
	}
	if (cp < 0xC0 || cp > 0x17F)
		return 0;
	c = cp < 0x100 ? latin1[cp - 0xC0] : latin_ext_a[cp - 0x100];
	if (c == ' ')
		return 0;
	if (c != '*') {
		f[0] = c;
		return 1;
	}
	memcpy(f, fold_pair(cp), 2);
	return 2;
}

/*
 * The code point at s (*s != 0) and the bytes it takes.  Only two-byte
 * sequences are decoded (all the letters folded are among them); any
 * other byte >= 0x80, valid UTF-8 or not, is U+FFFD: a separator.
 */
static size_t utf8_next(const unsigned char *s, unsigned *cp)
{
	if (s[0] >= 0xC2 && s[0] <= 0xDF && (s[1] & 0xC0) == 0x80) {
		*cp = ((s[0] & 0x1Fu) << 6) | (s[1] & 0x3Fu);
		return 2;
	}
	*cp = s[0] < 0x80 ? s[0] : 0xFFFD;
	return 1;
}

/* ---- tokens ------------------------------------------------------------ */

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* 1 if t is a unit number: digits, then at most one letter. */
static int is_unit(const char *t)
{
	size_t n = 0;

	while (is_digit(t[n]))
		n++;
	return n > 0 && (t[n] == '\0' || (t[n + 1] == '\0' && !is_digit(t[n])));
}

static int is_filler(const char *t)
{
	static const char *const fillers[] = { MATCH_FILLERS };

	for (size_t i = 0; i < sizeof(fillers) / sizeof(*fillers); i++)
		if (strcmp(t, fillers[i]) == 0)
			return 1;
	return 0;
}

/* ---- normalisation: a token stream with one token of look-behind ------- */

struct norm {
	char *out;
	size_t outsz, len;
	int full;                       /* a token did not fit: stop there */
	char prev[MATCH_TOKEN_MAX + 2]; /* held back for a "-b" after it */
	int prev_hyphen;                /* prev ended at a '-' */
	char cur[MATCH_TOKEN_MAX + 1];  /* the token being read */
	size_t curlen;                  /* MATCH_TOKEN_MAX + 1: too long */
};

/* Append token t (a unit number without its leading zeros, a filler not
 * at all), or mark the output full if it does not fit whole. */
static void norm_emit(struct norm *n, const char *t)
{
	size_t tl, need;

	if (is_unit(t))
		while (t[0] == '0' && is_digit(t[1]))
			t++;
	if (n->full || is_filler(t))
		return;
	tl = strlen(t);
	need = n->len + (n->len > 0) + tl + 1;
	if (need > n->outsz) {
		n->full = 1;
		return;
	}
	if (n->len > 0)
		n->out[n->len++] = ' ';
	memcpy(n->out + n->len, t, tl + 1);
	n->len += tl;
}

static void norm_flush(struct norm *n)
{
	if (n->prev[0])
		norm_emit(n, n->prev);
	n->prev[0] = '\0';
	n->prev_hyphen = 0;
}

/* The current token ends at a separator (hyphen: a '-'). */
static void norm_end_token(struct norm *n, int hyphen)
{
	size_t pl = strlen(n->prev);
	int join;

	if (n->curlen == 0) {
		n->prev_hyphen = 0;
		return;
	}
	if (n->curlen > MATCH_TOKEN_MAX) {
		norm_flush(n);
		n->curlen = 0;
		return;
	}
	n->cur[n->curlen] = '\0';
	join = n->prev_hyphen && n->curlen == 1 && !is_digit(n->cur[0]) &&
	       pl > 0 && pl < MATCH_TOKEN_MAX && strspn(n->prev, "0123456789") == pl;
	if (join) {
		memcpy(n->prev + pl, n->cur, 2);
		norm_flush(n);
	} else {
		norm_flush(n);
		memcpy(n->prev, n->cur, n->curlen + 1);
		n->prev_hyphen = hyphen;
	}
	n->curlen = 0;
}

static void norm_feed(struct norm *n, unsigned cp)
{
	char f[2];
	size_t k = cp == '-' ? 0 : fold(cp, f);

	if (k == 0)
		norm_end_token(n, cp == '-');
	for (size_t i = 0; i < k; i++) {
		if (n->curlen < MATCH_TOKEN_MAX)
			n->cur[n->curlen] = f[i];
		if (n->curlen <= MATCH_TOKEN_MAX)
			n->curlen++;
	}
}

size_t match_normalize(const char *in, char *out, size_t outsz)
{
	const unsigned char *s = (const unsigned char *)(in ? in : "");
	struct norm n;
	unsigned cp;

	assert(out && outsz > 0);
	memset(&n, 0, sizeof(n));
	n.out = out;
	n.outsz = outsz;
	out[0] = '\0';
	while (*s && !n.full) {
		s += utf8_next(s, &cp);
		norm_feed(&n, cp);
	}
	norm_end_token(&n, 0);
	norm_flush(&n);
	return n.len;
}

/* ---- token sets of a name ---------------------------------------------- */

struct toks {
	char buf[MATCH_NORM_MAX];
	const char *word[MAX_TOKENS], *num[MAX_TOKENS];
	size_t nword, nnum;
};

static int has(const char *const *v, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i], s) == 0)
			return 1;
	return 0;
}

/* Normalise s and split it into its distinct words and unit numbers. */
static void toks_init(struct toks *t, const char *s)
{
	char *p = t->buf, *sp;

	t->nword = t->nnum = 0;
	if (!match_normalize(s, t->buf, sizeof(t->buf)))
		return;
	for (;; p = sp + 1) {
		sp = strchr(p, ' ');
		if (sp)
			*sp = '\0';
		if (is_unit(p) && !has(t->num, t->nnum, p))
			t->num[t->nnum++] = p;
		else if (!is_unit(p) && !has(t->word, t->nword, p))
			t->word[t->nword++] = p;
		if (!sp)
			break;
	}
}

struct lside {
	struct toks name, place;
	char sid[MATCH_TOKEN_MAX + 1];  /* the short id token, "" when none */
};

static void lside_init(struct lside *ls, const struct match_listing *l)
{
	char buf[MATCH_NORM_MAX];
	size_t n = match_normalize(l->short_id, buf, sizeof(buf));

	toks_init(&ls->name, l->name);
	toks_init(&ls->place, l->place);
	ls->sid[0] = '\0';
	if (n >= 3 && n <= MATCH_TOKEN_MAX && !strchr(buf, ' ') && !is_unit(buf))
		memcpy(ls->sid, buf, n + 1);
}

/* ---- scoring one pair ---------------------------------------------------- */

/* What matched, for the reason text. */
struct why {
	const char *unit;       /* the shared unit number, or NULL */
	int sid;                /* the short id is in the device name */
	size_t n;
	struct {
		const char *dw, *lw;
		char kind;      /* 'e' same word, 'p' prefix, 'l' listing's place */
	} m[MAX_TOKENS];
};

static void note(struct why *why, const char *dw, const char *lw, char kind)
{
	why->m[why->n].dw = dw;
	why->m[why->n].lw = lw;
	why->m[why->n++].kind = kind;
}

/* UNIT_POINTS if the names share a unit number, -1 if both carry numbers
 * and share none (the veto), else 0. */
static int unit_points(const struct toks *l, const struct toks *d, struct why *why)
{
	if (!l->nnum || !d->nnum)
		return 0;
	for (size_t i = 0; i < l->nnum; i++)
		if (has(d->num, d->nnum, l->num[i])) {
			why->unit = l->num[i];
			return UNIT_POINTS;
		}
	return -1;
}

/* 1 if a and b differ and the shorter, of MATCH_PREFIX_MIN characters or
 * more, starts the longer. */
static int prefix_pair(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), m = la < lb ? la : lb;

	return la != lb && m >= MATCH_PREFIX_MIN && strncmp(a, b, m) == 0;
}

static const char *prefix_match(const struct toks *t, const char *w)
{
	for (size_t i = 0; i < t->nword; i++)
		if (prefix_pair(t->word[i], w))
			return t->word[i];
	return NULL;
}

/* WORD_POINTS * Dice, the overlap in halves (match.h). */
static int word_points(const struct lside *l, const struct toks *d, struct why *why)
{
	size_t o2 = 0, nd = 0, found = 0, denom;
	const char *lw;

	for (size_t i = 0; i < d->nword; i++) {
		const char *w = d->word[i];

		if (why->sid && strcmp(w, l->sid) == 0)
			continue;
		nd++;
		if (has(l->name.word, l->name.nword, w)) {
			o2 += 2;
			note(why, w, w, 'e');
		} else if ((lw = prefix_match(&l->name, w))) {
			o2 += 1;
			note(why, w, lw, 'p');
		} else if (has(l->place.word, l->place.nword, w)) {
			o2 += 1;
			found++;
			note(why, w, w, 'l');
		}
	}
	denom = l->name.nword + nd + found;
	if (o2 == 0 || denom == 0)    /* o2 > 0 implies denom > 0 */
		return 0;
	return (int)(WORD_POINTS * (o2 < denom ? o2 : denom) / denom);
}

static int score_pair(const struct lside *l, const struct toks *d, struct why *why)
{
	int u, total;

	why->unit = NULL;
	why->n = 0;
	u = unit_points(&l->name, d, why);
	if (u < 0)
		return 0;
	why->sid = l->sid[0] && has(d->word, d->nword, l->sid);
	total = u + (why->sid ? SHORT_ID_POINTS : 0) + word_points(l, d, why);
	return total > 100 ? 100 : total;
}

/* ---- the reason text ------------------------------------------------------ */

/* Before item i of n: nothing, ", " or " and ". */
static void list_sep(struct strbuf *sb, size_t i, size_t n)
{
	if (i > 0)
		strbuf_adds(sb, i + 1 == n ? " and " : ", ");
}

static void clause_sep(struct strbuf *sb)
{
	if (sb->len)
		strbuf_adds(sb, "; ");
}

static void reason_both(struct strbuf *sb, const struct why *w)
{
	size_t n = w->unit != NULL, i = 0;

	for (size_t k = 0; k < w->n; k++)
		n += w->m[k].kind != 'l';
	if (!n)
		return;
	if (w->unit) {
		list_sep(sb, i++, n);
		strbuf_addf(sb, "unit %s", w->unit);
	}
	for (size_t k = 0; k < w->n; k++) {
		if (w->m[k].kind == 'l')
			continue;
		list_sep(sb, i++, n);
		if (w->m[k].kind == 'e')
			strbuf_addf(sb, "'%s'", w->m[k].dw);
		else
			strbuf_addf(sb, "'%s' ~ '%s'", w->m[k].dw, w->m[k].lw);
	}
	strbuf_adds(sb, " in both names");
}

static void reason_place(struct strbuf *sb, const struct why *w)
{
	size_t n = 0, i = 0;

	for (size_t k = 0; k < w->n; k++)
		n += w->m[k].kind == 'l';
	if (!n)
		return;
	clause_sep(sb);
	for (size_t k = 0; k < w->n; k++) {
		if (w->m[k].kind != 'l')
			continue;
		list_sep(sb, i++, n);
		strbuf_addf(sb, "'%s'", w->m[k].dw);
	}
	strbuf_adds(sb, " in the listing's place");
}

/* The reason into out (MATCH_REASON_MAX), cut with "..." if too long. */
static void reason_text(const struct lside *l, const struct why *w, char *out)
{
	struct strbuf sb = STRBUF_INIT;

	reason_both(&sb, w);
	reason_place(&sb, w);
	if (w->sid) {
		clause_sep(&sb);
		strbuf_addf(&sb, "short id '%s' in the device name", l->sid);
	}
	if (xstrlcpy(out, strbuf_str(&sb), MATCH_REASON_MAX) < 0)
		memcpy(out + MATCH_REASON_MAX - 4, "...", 4);
	strbuf_release(&sb);
}

/* ---- assignment ------------------------------------------------------------ */

struct cand {
	size_t li, di;
	int score;
	const char *lid, *did;  /* the ids, "" for NULL */
};

/* Best score first, then listing id, device id, listing and device index. */
static int cand_cmp(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;
	int r;

	if (x->score != y->score)
		return x->score > y->score ? -1 : 1;
	if ((r = strcmp(x->lid, y->lid)) != 0)
		return r;
	if ((r = strcmp(x->did, y->did)) != 0)
		return r;
	if (x->li != y->li)
		return x->li < y->li ? -1 : 1;
	return x->di < y->di ? -1 : x->di > y->di;
}

struct ctx {
	const struct match_listing *l;
	const struct match_device *d;
	size_t nl, nd;
	struct lside *ls;
	struct toks *ds;
	struct why why;         /* scratch */
	struct cand *c;
	size_t nc, nalloc;
};

/* Every pair at or above the threshold, sorted by cand_cmp. */
static void candidates(struct ctx *x)
{
	for (size_t i = 0; i < x->nl; i++)
		for (size_t j = 0; j < x->nd; j++) {
			int s = score_pair(&x->ls[i], &x->ds[j], &x->why);

			if (s < MATCH_THRESHOLD)
				continue;
			x->c = xgrow(x->c, sizeof(*x->c), x->nc + 1, &x->nalloc);
			x->c[x->nc].li = i;
			x->c[x->nc].di = j;
			x->c[x->nc].score = s;
			x->c[x->nc].lid = x->l[i].id ? x->l[i].id : "";
			x->c[x->nc++].did = x->d[j].id ? x->d[j].id : "";
		}
	if (x->nc > 1)
		qsort(x->c, x->nc, sizeof(*x->c), cand_cmp);
}

/* Take the candidates greedily into res; returns how many. */
static size_t assign(struct ctx *x, struct match_pair *res)
{
	char *used_l = xcalloc(x->nl, 1), *used_d = xcalloc(x->nd, 1);
	size_t n = 0;

	for (size_t k = 0; k < x->nc; k++) {
		const struct cand *c = &x->c[k];

		if (used_l[c->li] || used_d[c->di])
			continue;
		used_l[c->li] = used_d[c->di] = 1;
		res[n].listing = c->li;
		res[n].device = c->di;
		res[n].score = score_pair(&x->ls[c->li], &x->ds[c->di], &x->why);
		reason_text(&x->ls[c->li], &x->why, res[n++].reason);
	}
	free(used_l);
	free(used_d);
	return n;
}

size_t match_suggest(const struct match_listing *l, size_t nl,
		     const struct match_device *d, size_t nd,
		     struct match_pair **out)
{
	struct ctx *x;
	size_t n;

	assert(out && (l || !nl) && (d || !nd));
	*out = NULL;
	if (!nl || !nd)
		return 0;
	x = xcalloc(1, sizeof(*x));
	x->l = l;
	x->d = d;
	x->nl = nl;
	x->nd = nd;
	x->ls = xcalloc(nl, sizeof(*x->ls));
	x->ds = xcalloc(nd, sizeof(*x->ds));
	for (size_t i = 0; i < nl; i++)
		lside_init(&x->ls[i], &l[i]);
	for (size_t j = 0; j < nd; j++)
		toks_init(&x->ds[j], d[j].name);
	candidates(x);
	*out = xcalloc(nl < nd ? nl : nd, sizeof(**out));
	n = assign(x, *out);
	if (!n) {
		free(*out);
		*out = NULL;
	}
	free(x->c);
	free(x->ls);
	free(x->ds);
	free(x);
	return n;
}
