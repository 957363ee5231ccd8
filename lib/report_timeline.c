/*
 * report_timeline.c - the access timeline as text, JSON and an HTML page
 * (report_timeline.h).
 *
 * Times: JSON has UTC ISO-8601 with 'Z' and the lane's wall clock; the
 * text and the page show the wall clock of the lane's lock ("MM-DD
 * HH:MM"; the header has the year).  The page is one XHTML document with
 * an inline SVG: x is time, linear in UTC, so a lane's day lines sit at
 * its own zone's midnights and a DST change shows as a 23- or 25-hour
 * day.  Colours are the Okabe-Ito palette, which stays distinguishable
 * with the common colour-vision deficiencies, and every state also has
 * its own fill pattern and is written in words (in the bar when it fits,
 * in the bar's tooltip, the legend and the list of flags).
 */
#include <stdio.h>
#include <string.h>

#include "report.h"
#include "report_timeline.h"
#include "tz.h"
#include "banned.h"

/* "MM-DD HH:MM" on zone's wall clock, "-" for 0, "?" for a bad zone. */
static const char *short_local(const char *zone, time_t t, char buf[LOCAL_LEN + 1])
{
	if (!t)
		return "-";
	if (report_fmt_local(zone, t, ' ', buf) != 0)
		return "?";
	return buf + 5;
}

static const char *code_of(const char *code, const char *resv)
{
	return code[0] ? code : resv;
}

void report_timeline_flag_text(const struct tl_flag *f, struct strbuf *out)
{
	char a[LOCAL_LEN + 1], u[LOCAL_LEN + 1];
	const char *code = code_of(f->code, f->resv);

	switch (f->kind) {
	case TL_OVERLAP:
		strbuf_addf(out, "the PIN windows of %s and %s overlap from %s to %s", f->other,
			    code, short_local(f->tz, f->at, a), short_local(f->tz, f->until, u));
		return;
	case TL_UNMAPPED:
		strbuf_addf(out, "%s (%s to %s) is on a listing with no lock: no PIN", code,
			    short_local(f->tz, f->at, a), short_local(f->tz, f->until, u));
		return;
	case TL_MISSING:
		strbuf_addf(out, "%s should have a PIN since %s and has none", code,
			    short_local(f->tz, f->at, a));
		return;
	case TL_UNCONFIRMED_FLAG:
		strbuf_addf(out, "the PIN of %s (from %s) is not confirmed on the lock", code,
			    short_local(f->tz, f->at, a));
		return;
	case TL_FAILED_JOB:
		strbuf_addf(out, "the %s job of %s failed after %ld attempt%s%s%s", f->action, code,
			    f->attempts, f->attempts == 1 ? "" : "s", f->last_error[0] ? ": " : "",
			    f->last_error);
		return;
	case TL_OVERDUE:
		strbuf_addf(out, "the %s job of %s, due %s, has not run", f->action, code,
			    short_local(f->tz, f->at, a));
		return;
	case TL_UNREVOKED:
		strbuf_addf(out, "the PIN of %s (until %s) is not confirmed gone from the lock",
			    code, short_local(f->tz, f->at, a));
		return;
	}
}

/* The lane of f's device, or NULL. */
static const struct tl_lane *flag_lane(const struct timeline *tl, const struct tl_flag *f)
{
	for (size_t i = 0; i < tl->nlanes; i++) {
		const struct tl_lane *l = &tl->lanes[i];

		if (f->device[0] ? strcmp(l->device, f->device) == 0
				 : !l->device[0] && strcmp(l->listing, f->listing) == 0)
			return l;
	}
	return NULL;
}

/* What names f's lock: its name, else its device, else "no lock". */
static const char *flag_lock(const struct timeline *tl, const struct tl_flag *f)
{
	const struct tl_lane *l = flag_lane(tl, f);

	if (l && l->lock_name[0])
		return l->lock_name;
	return f->device[0] ? f->device : "no lock";
}

/* ---- JSON --------------------------------------------------------------- */

static cJSON *stay_json(const struct tl_lane *l, const struct tl_stay *s)
{
	cJSON *o = cJSON_CreateObject(), *flags = cJSON_CreateArray();

	cJSON_AddStringToObject(o, "reservationId", s->resv);
	report_add_str(o, "reservationCode", s->code);
	cJSON_AddBoolToObject(o, "active", s->active);
	report_add_time(o, "checkIn", s->checkin, 0);
	report_add_time(o, "checkOut", s->checkout, 0);
	report_add_local(o, "checkInLocal", l->tz, s->checkin);
	report_add_local(o, "checkOutLocal", l->tz, s->checkout);
	report_add_time(o, "validFrom", s->valid_from, 0);
	report_add_time(o, "validUntil", s->valid_until, 0);
	report_add_local(o, "validFromLocal", l->tz, s->valid_from);
	report_add_local(o, "validUntilLocal", l->tz, s->valid_until);
	cJSON_AddStringToObject(o, "state", timeline_state_name(s->state));
	report_add_time(o, "generateAt", s->gen_at, 1);
	report_add_local(o, "generateAtLocal", l->tz, s->gen_at);
	report_add_str(o, "generateStatus", s->gen_status);
	report_add_time(o, "revokeAt", s->rev_at, 1);
	report_add_local(o, "revokeAtLocal", l->tz, s->rev_at);
	report_add_str(o, "revokeStatus", s->rev_status);
	for (int k = 0; k < TL_NFLAGS; k++)
		if (s->flags & (1u << k))
			cJSON_AddItemToArray(flags, cJSON_CreateString(
				timeline_flag_name((enum tl_flag_kind)k)));
	cJSON_AddItemToObject(o, "flags", flags);
	return o;
}

static cJSON *lane_json(const struct tl_lane *l)
{
	cJSON *o = cJSON_CreateObject(), *stays = cJSON_CreateArray();

	cJSON_AddStringToObject(o, "listingId", l->listing);
	report_add_str(o, "listingName", l->listing_name);
	report_add_str(o, "deviceId", l->device);
	report_add_str(o, "lockName", l->lock_name);
	cJSON_AddStringToObject(o, "timezone", l->tz);
	cJSON_AddBoolToObject(o, "mapped", l->mapped);
	for (size_t i = 0; i < l->n; i++)
		cJSON_AddItemToArray(stays, stay_json(l, &l->stays[i]));
	cJSON_AddItemToObject(o, "stays", stays);
	return o;
}

static cJSON *flag_json(const struct tl_flag *f)
{
	cJSON *o = cJSON_CreateObject();
	struct strbuf msg = STRBUF_INIT;
	int job = f->kind == TL_FAILED_JOB || f->kind == TL_OVERDUE;

	cJSON_AddStringToObject(o, "kind", timeline_flag_name(f->kind));
	cJSON_AddStringToObject(o, "state", timeline_state_name(f->state));
	cJSON_AddStringToObject(o, "reservationId", f->resv);
	report_add_str(o, "reservationCode", f->code);
	report_add_str(o, "listingId", f->listing);
	report_add_str(o, "deviceId", f->device);
	report_add_time(o, "at", f->at, 1);
	report_add_local(o, "atLocal", f->tz, f->at);
	report_add_time(o, "until", f->until, 1);
	report_add_local(o, "untilLocal", f->tz, f->until);
	report_add_str(o, "other", f->other);
	report_add_str(o, "action", f->action);
	if (job)
		cJSON_AddNumberToObject(o, "attempts", (double)f->attempts);
	else
		cJSON_AddNullToObject(o, "attempts");
	report_add_str(o, "lastError", f->last_error);
	report_timeline_flag_text(f, &msg);
	cJSON_AddStringToObject(o, "message", strbuf_str(&msg));
	strbuf_release(&msg);
	return o;
}

cJSON *report_timeline_json(const struct timeline *tl)
{
	cJSON *o = cJSON_CreateObject(), *lanes = cJSON_CreateArray(),
	      *flags = cJSON_CreateArray();

	report_add_time(o, "from", tl->from, 0);
	report_add_time(o, "until", tl->until, 0);
	report_add_local(o, "fromLocal", tl->tz, tl->from);
	report_add_local(o, "untilLocal", tl->tz, tl->until);
	cJSON_AddStringToObject(o, "timezone", tl->tz);
	cJSON_AddNumberToObject(o, "days", tl->days);
	report_add_time(o, "now", tl->now, 0);
	report_add_local(o, "nowLocal", tl->tz, tl->now);
	for (size_t i = 0; i < tl->nlanes; i++)
		cJSON_AddItemToArray(lanes, lane_json(&tl->lanes[i]));
	cJSON_AddItemToObject(o, "locks", lanes);
	for (size_t i = 0; i < tl->nflags; i++)
		cJSON_AddItemToArray(flags, flag_json(&tl->flags[i]));
	cJSON_AddItemToObject(o, "flags", flags);
	return o;
}

/* ---- text --------------------------------------------------------------- */

#define TEXT_WIDTH 80

/* Control characters from the database (an escape sequence in a lock's
 * name) are not sent to a terminal: each becomes '?'. */
static void clean_ctl(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
}

/* Append s cut to at most width columns ("..." marks a cut), cleaned. */
static void add_fit(struct strbuf *out, const char *s, size_t width)
{
	size_t cols = 0, i, start = out->len;

	if (report_text_width(s) <= width) {
		strbuf_adds(out, s);
	} else {
		for (i = 0; s[i]; i++) {
			if (((unsigned char)s[i] & 0xc0) != 0x80 && ++cols > width - 3)
				break;
		}
		strbuf_add(out, s, i);
		strbuf_adds(out, "...");
	}
	if (out->buf)
		clean_ctl(out->buf + start);
}

/* Append text word-wrapped to TEXT_WIDTH columns: the first line after
 * `used` columns, the others after indent spaces. */
static void add_wrapped(struct strbuf *out, const char *text, size_t used, size_t indent)
{
	size_t col = used;
	const char *p = text;

	while (*p) {
		const char *end = strchr(p, ' ');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		char word[512];
		size_t w;

		if (len >= sizeof(word))
			len = sizeof(word) - 1;
		memcpy(word, p, len);
		word[len] = '\0';
		w = report_text_width(word);
		if (col > indent && col + 1 + w > TEXT_WIDTH) {
			strbuf_addf(out, "\n%*s", (int)indent, "");
			col = indent;
		} else if (col > used || (col > indent && p != text)) {
			strbuf_adds(out, " ");
			col++;
		}
		if (w > TEXT_WIDTH - col)
			add_fit(out, word, TEXT_WIDTH - col);
		else
			strbuf_adds(out, word);
		col += w;
		p += end ? (size_t)(end - p) + 1 : strlen(p);
	}
	strbuf_adds(out, "\n");
}

#define STAY_COLS "    %-8s %-12s %-12s %-12s %-12s %s\n"

static void stay_line(const struct tl_lane *l, const struct tl_stay *s, struct strbuf *out)
{
	char f[LOCAL_LEN + 1], u[LOCAL_LEN + 1], g[LOCAL_LEN + 1], r[LOCAL_LEN + 1];
	char code[CODE_MAX + 4];

	snprintf(code, sizeof(code), "%s%s", s->code[0] ? s->code : "?", s->flags ? " !" : "");
	strbuf_adds(out, "    ");
	report_pad(out, code, 8);
	strbuf_addf(out, "%-12s %-12s %-12s %-12s %s\n", short_local(l->tz, s->valid_from, f),
		    short_local(l->tz, s->valid_until, u), timeline_state_name(s->state),
		    short_local(l->tz, s->gen_at, g), short_local(l->tz, s->rev_at, r));
}

static void lane_header(const struct tl_lane *l, struct strbuf *out)
{
	size_t room;

	strbuf_adds(out, "  ");
	if (!l->device[0]) {
		strbuf_adds(out, "no lock: these stays get no PIN\n");
		return;
	}
	room = TEXT_WIDTH - 2 - report_text_width(l->device) - report_text_width(l->tz) - 6;
	if (l->lock_name[0]) {
		add_fit(out, l->lock_name, room > 8 ? room : 8);
		strbuf_addf(out, " (%s), %s", l->device, l->tz);
	} else {
		strbuf_addf(out, "%s, %s", l->device, l->tz);
	}
	strbuf_adds(out, l->mapped ? "\n" : " - not mapped to this listing any more\n");
}

void report_timeline_text(const struct timeline *tl, struct strbuf *out)
{
	char f[LOCAL_LEN + 1], u[LOCAL_LEN + 1], n[LOCAL_LEN + 1];

	if (report_fmt_local(tl->tz, tl->from, ' ', f) != 0 ||
	    report_fmt_local(tl->tz, tl->until - 1, ' ', u) != 0 ||
	    report_fmt_local(tl->tz, tl->now, ' ', n) != 0)
		f[0] = u[0] = n[0] = '\0';
	f[10] = u[10] = '\0';
	strbuf_addf(out, "access timeline %s .. %s, %d day%s in %s\nnow %s\n", f, u, tl->days,
		    tl->days == 1 ? "" : "s", tl->tz, n);
	if (!tl->nlanes)
		strbuf_adds(out, "\nno lock is mapped and no stay needs one\n");
	for (size_t i = 0; i < tl->nlanes; i++) {
		const struct tl_lane *l = &tl->lanes[i];

		if (i == 0 || strcmp(l->listing, tl->lanes[i - 1].listing) != 0) {
			strbuf_adds(out, "\n");
			if (l->listing_name[0]) {
				add_fit(out, l->listing_name,
					TEXT_WIDTH - 3 - report_text_width(l->listing));
				strbuf_addf(out, " (%s)\n", l->listing);
			} else {
				strbuf_addf(out, "listing %s\n", l->listing);
			}
		}
		lane_header(l, out);
		if (!l->n) {
			strbuf_adds(out, "    no stay in the range\n");
			continue;
		}
		strbuf_addf(out, STAY_COLS, "CODE", "PIN FROM", "PIN UNTIL", "STATE", "GENERATE",
			    "REVOKE");
		for (size_t j = 0; j < l->n; j++)
			stay_line(l, &l->stays[j], out);
	}
	if (!tl->nflags) {
		strbuf_adds(out, "\nnothing needs a person\n");
		return;
	}
	strbuf_addf(out, "\nneeds a person (%zu):\n", tl->nflags);
	for (size_t i = 0; i < tl->nflags; i++) {
		const struct tl_flag *fl = &tl->flags[i];
		struct strbuf line = STRBUF_INIT;

		strbuf_addf(&line, "%s: ", flag_lock(tl, fl));
		report_timeline_flag_text(fl, &line);
		if (line.buf)
			clean_ctl(line.buf);
		strbuf_addf(out, "  %-12s", timeline_flag_name(fl->kind));
		add_wrapped(out, strbuf_str(&line), 14, 16);
		strbuf_release(&line);
	}
}

/* ---- HTML --------------------------------------------------------------- */

/*
 * Append s escaped for XML text and attribute values.  Control
 * characters and bytes that are not valid UTF-8 become '?': the page
 * stays well-formed whatever the database holds.
 */
static void add_esc(struct strbuf *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		unsigned char c = *p;
		size_t len = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3
			   : (c & 0xf8) == 0xf0 ? 4 : 0;
		size_t i;

		for (i = 1; i < len && (p[i] & 0xc0) == 0x80; i++)
			;
		if (len == 0 || i < len || (len == 2 && c < 0xc2)) {
			strbuf_adds(out, "?");
			p++;
			continue;
		}
		if (len > 1) {
			strbuf_add(out, p, len);
			p += len;
			continue;
		}
		switch (c) {
		case '&': strbuf_adds(out, "&amp;"); break;
		case '<': strbuf_adds(out, "&lt;"); break;
		case '>': strbuf_adds(out, "&gt;"); break;
		case '"': strbuf_adds(out, "&quot;"); break;
		case '\'': strbuf_adds(out, "&#39;"); break;
		default:
			if (c < 0x20 || c == 0x7f)
				strbuf_adds(out, "?");
			else
				strbuf_add(out, p, 1);
		}
		p++;
	}
}

/* add_esc() of s cut to at most width characters. */
static void add_esc_fit(struct strbuf *out, const char *s, size_t width)
{
	struct strbuf cut = STRBUF_INIT;

	add_fit(&cut, s, width);
	add_esc(out, strbuf_str(&cut));
	strbuf_release(&cut);
}

/* Each state's colour (Okabe-Ito), the colour of its text and outline,
 * and the CSS of its swatch (the same pattern as the SVG's). */
static const struct state_style {
	const char *fill, *ink, *line;
	const char *css;
} styles[TL_NSTATES] = {
	[TL_CREATING] = { "#E69F00", "#000", "#8a5a00",
		"background:repeating-linear-gradient(0deg,#E69F00 0 4px,#fff 4px 6px)" },
	[TL_UNCONFIRMED] = { "#F0E442", "#000", "#8a8000",
		"background:radial-gradient(#000 1px,transparent 1.5px) 0 0/5px 5px,#F0E442" },
	[TL_ACTIVE] = { "#009E73", "#fff", "#00573f", "background:#009E73" },
	[TL_REVOKING] = { "#CC79A7", "#000", "#7a3d63",
		"background:repeating-linear-gradient(135deg,#CC79A7 0 4px,#fff 4px 6px)" },
	[TL_FAILED] = { "#D55E00", "#000", "#7a3600",
		"background:repeating-linear-gradient(45deg,#D55E00 0 3px,transparent 3px 6px),"
		"repeating-linear-gradient(135deg,#D55E00 0 3px,#fff 3px 6px)" },
	[TL_PLANNED] = { "#56B4E9", "#000", "#1f6f9c",
		"background:repeating-linear-gradient(45deg,#56B4E9 0 4px,#fff 4px 7px)" },
	[TL_REVOKED] = { "#BBBBBB", "#000", "#666",
		"background:repeating-linear-gradient(90deg,#BBBBBB 0 2px,#eee 2px 5px)" },
	[TL_NONE] = { "#FFFFFF", "#000", "#000", "background:#fff;border-style:dashed" },
};

/* The SVG patterns: one per state but active (solid). */
static void svg_defs(struct strbuf *out)
{
	strbuf_adds(out,
		"<defs>\n"
		"<pattern id=\"p-creating\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\">"
		"<rect width=\"6\" height=\"6\" fill=\"#fff\"/><rect width=\"6\" height=\"4\" fill=\"#E69F00\"/></pattern>\n"
		"<pattern id=\"p-unconfirmed\" width=\"5\" height=\"5\" patternUnits=\"userSpaceOnUse\">"
		"<rect width=\"5\" height=\"5\" fill=\"#F0E442\"/><circle cx=\"2.5\" cy=\"2.5\" r=\"1\" fill=\"#000\"/></pattern>\n"
		"<pattern id=\"p-active\" width=\"4\" height=\"4\" patternUnits=\"userSpaceOnUse\">"
		"<rect width=\"4\" height=\"4\" fill=\"#009E73\"/></pattern>\n"
		"<pattern id=\"p-revoking\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\" patternTransform=\"rotate(-45)\">"
		"<rect width=\"6\" height=\"6\" fill=\"#fff\"/><rect width=\"4\" height=\"6\" fill=\"#CC79A7\"/></pattern>\n"
		"<pattern id=\"p-failed\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\" patternTransform=\"rotate(45)\">"
		"<rect width=\"6\" height=\"6\" fill=\"#fff\"/><rect width=\"3\" height=\"6\" fill=\"#D55E00\"/>"
		"<rect width=\"6\" height=\"3\" fill=\"#D55E00\"/></pattern>\n"
		"<pattern id=\"p-planned\" width=\"7\" height=\"7\" patternUnits=\"userSpaceOnUse\" patternTransform=\"rotate(45)\">"
		"<rect width=\"7\" height=\"7\" fill=\"#fff\"/><rect width=\"4\" height=\"7\" fill=\"#56B4E9\"/></pattern>\n"
		"<pattern id=\"p-revoked\" width=\"5\" height=\"5\" patternUnits=\"userSpaceOnUse\">"
		"<rect width=\"5\" height=\"5\" fill=\"#eee\"/><rect width=\"2\" height=\"5\" fill=\"#BBBBBB\"/></pattern>\n"
		"<pattern id=\"p-none\" width=\"4\" height=\"4\" patternUnits=\"userSpaceOnUse\">"
		"<rect width=\"4\" height=\"4\" fill=\"#fff\"/></pattern>\n"
		"</defs>\n");
}

/* The geometry of the chart, in SVG user units (pixels). */
#define SVG_W 1200
#define LABEL_W 250             /* the lanes' names */
#define X0 (LABEL_W + 10)
#define X1 (SVG_W - 20)
#define HEAD_H 46               /* day labels */
#define GROUP_H 24              /* a listing's title row */
#define LANE_H 40
#define BAR_Y 11                /* the bar within its lane */
#define BAR_H 18
#define LEGEND_H 64

struct chart {
	const struct timeline *tl;
	double scale;           /* pixels per second */
};

static double xof(const struct chart *c, time_t t)
{
	if (t < c->tl->from)
		t = c->tl->from;
	if (t > c->tl->until)
		t = c->tl->until;
	return X0 + (double)(t - c->tl->from) * c->scale;
}

static const char *const wday_names[7] = { "Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed" };
static const char *const month_names[12] = {
	"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"
};

/* Each local midnight (and, when days are wide enough, 06:00, 12:00,
 * 18:00) of zone in the range: fn(c, instant, hour, wall day). */
static void each_hour(const struct chart *c, const char *zone, int step,
		      void (*fn)(const struct chart *c, time_t t, int hour, long day, void *arg),
		      void *arg)
{
	time_t wall;
	long day;

	if (tz_instant_to_wall(zone, c->tl->from, &wall) != 0)
		return;
	day = (long)(wall / 86400) - (wall % 86400 < 0);
	for (long d = day; d <= day + c->tl->days + 1; d++) {
		for (int h = 0; h < 24; h += step) {
			int y, m, dd;
			time_t t;

			util_civil_from_days(d, &y, &m, &dd);
			if (tz_wall_to_instant(zone, tz_wall(y, m, dd, h, 0), &t) != 0)
				return;
			if (t >= c->tl->from && t < c->tl->until)
				fn(c, t, h, d, arg);
		}
	}
}

struct grid_arg {
	struct strbuf *out;
	double y0, y1;
};

static void grid_line(const struct chart *c, time_t t, int hour, long day, void *arg)
{
	struct grid_arg *g = arg;

	(void)day;
	strbuf_addf(g->out, "<line class=\"%s\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n",
		    hour ? "hour" : "day", xof(c, t), g->y0, xof(c, t), g->y1);
}

static void day_label(const struct chart *c, time_t t, int hour, long day, void *arg)
{
	struct strbuf *out = arg;
	double w = 86400.0 * c->scale;
	int y, m, d, every = w >= 40 ? 1 : w >= 18 ? 2 : 7;

	(void)hour;
	util_civil_from_days(day, &y, &m, &d);
	if (day % every != 0)
		return;
	strbuf_addf(out, "<text class=\"dayname\" x=\"%.1f\" y=\"%d\">%s</text>"
		    "<text class=\"date\" x=\"%.1f\" y=\"%d\">%s %d</text>\n",
		    xof(c, t) + 3, HEAD_H - 24, wday_names[((day % 7) + 7) % 7],
		    xof(c, t) + 3, HEAD_H - 10, month_names[m - 1], d);
}

/* A job's marker: generate a triangle pointing down onto the bar, revoke
 * one pointing up from under it; hollow unless done. */
static void job_marker(struct strbuf *out, const struct chart *c, const struct tl_lane *l,
		       time_t t, const char *status, int gen, double y, const char *code)
{
	char lt[LOCAL_LEN + 1];
	double x;

	if (!t || t < c->tl->from || t >= c->tl->until)
		return;
	x = xof(c, t);
	if (gen)
		strbuf_addf(out, "<path class=\"job job-%s\" d=\"M%.1f %.1f l-5 -8 h10 z\">",
			    status, x, y + BAR_Y);
	else
		strbuf_addf(out, "<path class=\"job job-%s\" d=\"M%.1f %.1f l-5 8 h10 z\">",
			    status, x, y + BAR_Y + BAR_H);
	strbuf_addf(out, "<title>%s job of ", gen ? "generate" : "revoke");
	add_esc(out, code);
	strbuf_addf(out, ": %s, %s</title></path>\n", status, short_local(l->tz, t, lt));
}

static void bar(struct strbuf *out, const struct chart *c, const struct tl_lane *l,
		const struct tl_stay *s, double y)
{
	char f[LOCAL_LEN + 1], u[LOCAL_LEN + 1];
	const char *state = timeline_state_name(s->state);
	const char *code = code_of(s->code, s->resv);
	double x0 = xof(c, s->valid_from), x1 = xof(c, s->valid_until), w;
	size_t chars;

	if (s->valid_until <= c->tl->from || s->valid_from >= c->tl->until) {
		job_marker(out, c, l, s->gen_at, s->gen_status, 1, y, code);
		job_marker(out, c, l, s->rev_at, s->rev_status, 0, y, code);
		return;
	}
	w = x1 - x0 < 2 ? 2 : x1 - x0;
	strbuf_addf(out, "<g class=\"stay s-%s%s\"><title>", state, s->flags ? " flagged" : "");
	add_esc(out, code);
	strbuf_addf(out, ": %s, PIN %s to %s (%s)", state, short_local(l->tz, s->valid_from, f),
		    short_local(l->tz, s->valid_until, u), l->tz);
	for (int k = 0; k < TL_NFLAGS; k++)
		if (s->flags & (1u << k))
			strbuf_addf(out, "; %s", timeline_flag_name((enum tl_flag_kind)k));
	strbuf_addf(out, "</title>\n<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%d\" "
		    "rx=\"3\" fill=\"url(#p-%s)\" stroke=\"%s\"/>\n", x0, y + BAR_Y, w, BAR_H,
		    state, styles[s->state].line);
	/* 6.5 px a character at 11 px: the code and the state when they fit. */
	chars = (size_t)((w - 8) / 6.5);
	if (chars >= strlen(code) + 1 + strlen(state)) {
		strbuf_addf(out, "<text class=\"label\" x=\"%.1f\" y=\"%.1f\">", x0 + 4,
			    y + BAR_Y + 13);
		add_esc(out, code);
		strbuf_addf(out, " %s</text>\n", state);
	} else if (chars >= strlen(code)) {
		strbuf_addf(out, "<text class=\"label\" x=\"%.1f\" y=\"%.1f\">", x0 + 4,
			    y + BAR_Y + 13);
		add_esc(out, code);
		strbuf_adds(out, "</text>\n");
	}
	if (s->flags)
		strbuf_addf(out, "<circle class=\"badge\" cx=\"%.1f\" cy=\"%.1f\" r=\"7\"/>"
			    "<text class=\"badge\" x=\"%.1f\" y=\"%.1f\">!</text>\n",
			    x1 - 1, y + BAR_Y, x1 - 1, y + BAR_Y + 4);
	strbuf_adds(out, "</g>\n");
	job_marker(out, c, l, s->gen_at, s->gen_status, 1, y, code);
	job_marker(out, c, l, s->rev_at, s->rev_status, 0, y, code);
}

static void lane_svg(struct strbuf *out, const struct chart *c, const struct tl_lane *l,
		     double y, int odd)
{
	struct grid_arg g = { out, y, y + LANE_H };
	int step = c->scale * 6 * 3600 >= 8 ? 6 : 24;

	strbuf_addf(out, "<rect class=\"lane%s\" x=\"0\" y=\"%.1f\" width=\"%d\" height=\"%d\"/>\n",
		    odd ? " odd" : "", y, SVG_W, LANE_H);
	strbuf_addf(out, "<text class=\"lock\" x=\"12\" y=\"%.1f\">", y + 17);
	if (!l->device[0])
		strbuf_adds(out, "no lock");
	else
		add_esc_fit(out, l->lock_name[0] ? l->lock_name : l->device, 34);
	strbuf_addf(out, "</text>\n<text class=\"sub\" x=\"12\" y=\"%.1f\">", y + 32);
	if (!l->device[0]) {
		strbuf_adds(out, "these stays get no PIN");
	} else {
		add_esc_fit(out, l->device, 24);
		strbuf_adds(out, " \xc2\xb7 ");
		add_esc(out, l->tz);
		if (!l->mapped)
			strbuf_adds(out, " \xc2\xb7 unmapped");
	}
	strbuf_adds(out, "</text>\n");
	each_hour(c, l->tz, step, grid_line, &g);
	for (size_t i = 0; i < l->n; i++)
		bar(out, c, l, &l->stays[i], y);
}

static void legend_svg(struct strbuf *out, double y)
{
	static const enum tl_state order[] = {
		TL_PLANNED, TL_CREATING, TL_UNCONFIRMED, TL_ACTIVE, TL_REVOKING, TL_REVOKED,
		TL_FAILED, TL_NONE
	};
	double x = 12;

	strbuf_addf(out, "<g class=\"legend\">\n<text class=\"lock\" x=\"12\" y=\"%.1f\">PIN state</text>\n",
		    y + 16);
	for (size_t i = 0; i < sizeof(order) / sizeof(*order); i++) {
		enum tl_state s = order[i];
		const char *name = timeline_state_name(s);

		strbuf_addf(out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"28\" height=\"14\" rx=\"3\" "
			    "fill=\"url(#p-%s)\" stroke=\"%s\"%s/>"
			    "<text class=\"key\" x=\"%.1f\" y=\"%.1f\">%s</text>\n",
			    x + 100, y + 5, name, styles[s].line,
			    s == TL_NONE ? " stroke-dasharray=\"3 2\"" : "", x + 134, y + 16, name);
		x += 128;
	}
	y += 26;
	strbuf_addf(out,
		"<path class=\"job job-pending\" d=\"M117 %.1f l-5 -8 h10 z\"/>"
		"<text class=\"key\" x=\"128\" y=\"%.1f\">generate job</text>\n"
		"<path class=\"job job-pending\" d=\"M237 %.1f l-5 8 h10 z\"/>"
		"<text class=\"key\" x=\"248\" y=\"%.1f\">revoke job</text>\n"
		"<path class=\"job job-done\" d=\"M337 %.1f l-5 -8 h10 z\"/>"
		"<path class=\"job job-failed\" d=\"M352 %.1f l-5 -8 h10 z\"/>"
		"<text class=\"key\" x=\"362\" y=\"%.1f\">filled: done, orange: failed</text>\n"
		"<line class=\"now\" x1=\"556\" y1=\"%.1f\" x2=\"556\" y2=\"%.1f\"/>"
		"<text class=\"key\" x=\"564\" y=\"%.1f\">now</text>\n"
		"<circle class=\"badge\" cx=\"610\" cy=\"%.1f\" r=\"7\"/>"
		"<text class=\"badge\" x=\"610\" y=\"%.1f\">!</text>"
		"<text class=\"key\" x=\"622\" y=\"%.1f\">needs a person (listed below)</text>\n"
		"<text class=\"key\" x=\"840\" y=\"%.1f\">grid: days and 6 hours on each lock&#39;s clock</text>\n"
		"</g>\n",
		y + 16, y + 16, y + 6, y + 16, y + 16, y + 16, y + 16, y + 4, y + 20, y + 16, y + 12,
		y + 16, y + 16, y + 16);
}

static const char css[] =
	"body{font-family:'DejaVu Sans',Verdana,Arial,sans-serif;margin:16px;color:#111;background:#fff}\n"
	"h1{font-size:20px;margin:0 0 4px}h2{font-size:16px;margin:18px 0 6px}\n"
	"p.meta{margin:0 0 10px;color:#333;font-size:13px}\n"
	"svg{display:block;font-size:11px}\n"
	".lane{fill:#fff}.lane.odd{fill:#f4f4f4}.group{fill:#dde3ea}\n"
	".day{stroke:#888;stroke-width:1}.hour{stroke:#d6d6d6;stroke-width:1;stroke-dasharray:2 3}\n"
	".lock{font-weight:bold;font-size:12px}.sub{fill:#555;font-size:10px}\n"
	".title{font-weight:bold;font-size:12px}.dayname{fill:#555}.date{font-weight:bold}\n"
	".label{font-size:11px;font-weight:bold;fill:#000;stroke:#fff;stroke-width:3px;"
	"paint-order:stroke;stroke-linejoin:round}\n"
	".key{font-size:11px}\n"
	".s-none rect{stroke-dasharray:3 2}\n"
	".flagged rect{stroke-width:2.5}\n"
	".job{stroke:#000;stroke-width:1.2;fill:#fff}.job-done{fill:#000}"
	".job-failed{fill:#D55E00}\n"
	".badge{fill:#000}text.badge{fill:#fff;font-weight:bold;text-anchor:middle;font-size:11px}\n"
	".now{stroke:#C00;stroke-width:2;stroke-dasharray:6 3}.nowlabel{fill:#C00;font-weight:bold}\n"
	"ul.flags{list-style:none;padding:0;margin:0;font-size:13px}\n"
	"ul.flags li{margin:3px 0;display:flex;gap:8px;align-items:baseline}\n"
	".sw{display:inline-block;width:28px;height:12px;border:1px solid #000;border-radius:3px;"
	"flex:none}\n"
	".kind{font-weight:bold;min-width:90px}.state{color:#333;min-width:80px}\n"
	"p.ok{font-size:13px}\n";

static void flags_html(const struct timeline *tl, struct strbuf *out)
{
	if (!tl->nflags) {
		strbuf_adds(out, "<h2>Needs a person</h2>\n<p class=\"ok\">Nothing.</p>\n");
		return;
	}
	strbuf_addf(out, "<h2>Needs a person (%zu)</h2>\n<ul class=\"flags\">\n", tl->nflags);
	for (size_t i = 0; i < tl->nflags; i++) {
		const struct tl_flag *f = &tl->flags[i];
		struct strbuf msg = STRBUF_INIT;

		report_timeline_flag_text(f, &msg);
		strbuf_addf(out, "<li><span class=\"sw\" style=\"%s\"></span>"
			    "<span class=\"state\">%s</span><span class=\"kind\">%s</span><span>",
			    styles[f->state].css, timeline_state_name(f->state),
			    timeline_flag_name(f->kind));
		add_esc(out, flag_lock(tl, f));
		strbuf_adds(out, ": ");
		add_esc(out, strbuf_str(&msg));
		strbuf_adds(out, "</span></li>\n");
		strbuf_release(&msg);
	}
	strbuf_adds(out, "</ul>\n");
}

void report_timeline_html(const struct timeline *tl, struct strbuf *out)
{
	struct chart c = { tl, (double)(X1 - X0) / (double)(tl->until - tl->from) };
	char f[LOCAL_LEN + 1] = "?", u[LOCAL_LEN + 1] = "?", n[LOCAL_LEN + 1] = "?";
	size_t groups = 0;
	double y, h;

	for (size_t i = 0; i < tl->nlanes; i++)
		groups += i == 0 || strcmp(tl->lanes[i].listing, tl->lanes[i - 1].listing) != 0;
	h = HEAD_H + (double)groups * GROUP_H + (double)tl->nlanes * LANE_H + 8 + LEGEND_H;
	report_fmt_local(tl->tz, tl->from, ' ', f);
	report_fmt_local(tl->tz, tl->until - 1, ' ', u);
	report_fmt_local(tl->tz, tl->now, ' ', n);
	f[10] = u[10] = '\0';
	strbuf_adds(out, "<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\">\n"
		    "<head>\n<meta charset=\"utf-8\"/>\n"
		    "<meta name=\"viewport\" content=\"width=device-width\"/>\n"
		    "<title>Who can open which door, when</title>\n<style>\n");
	strbuf_adds(out, css);
	strbuf_adds(out, "</style>\n</head>\n<body>\n<h1>Who can open which door, when</h1>\n");
	strbuf_addf(out, "<p class=\"meta\">%s to %s (%d day%s), days in ", f, u, tl->days,
		    tl->days == 1 ? "" : "s");
	add_esc(out, tl->tz);
	strbuf_addf(out, "; now %s. From the database only; PINs are never shown.</p>\n", n);
	strbuf_addf(out, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%.0f\" "
		    "viewBox=\"0 0 %d %.0f\" role=\"img\" aria-label=\"access timeline\">\n",
		    SVG_W, h, SVG_W, h);
	svg_defs(out);
	each_hour(&c, tl->tz, 24, day_label, out);
	y = HEAD_H;
	for (size_t i = 0; i < tl->nlanes; i++) {
		const struct tl_lane *l = &tl->lanes[i];

		if (i == 0 || strcmp(l->listing, tl->lanes[i - 1].listing) != 0) {
			strbuf_addf(out, "<rect class=\"group\" x=\"0\" y=\"%.1f\" width=\"%d\" "
				    "height=\"%d\"/>\n<text class=\"title\" x=\"8\" y=\"%.1f\">",
				    y, SVG_W, GROUP_H, y + 16);
			add_esc_fit(out, l->listing_name[0] ? l->listing_name : l->listing, 60);
			if (l->listing_name[0]) {
				strbuf_adds(out, "</text><text class=\"sub\" x=\"460\" y=\"");
				strbuf_addf(out, "%.1f\">listing ", y + 16);
				add_esc(out, l->listing);
			}
			strbuf_adds(out, "</text>\n");
			y += GROUP_H;
		}
		lane_svg(out, &c, l, y, (int)(i % 2));
		y += LANE_H;
	}
	if (tl->now >= tl->from && tl->now < tl->until)
		strbuf_addf(out, "<line class=\"now\" x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%.1f\"/>"
			    "<text class=\"nowlabel\" x=\"%.1f\" y=\"%d\">now</text>\n",
			    xof(&c, tl->now), HEAD_H - 4, xof(&c, tl->now), y,
			    xof(&c, tl->now) + 3, 10);
	legend_svg(out, y + 8);
	strbuf_adds(out, "</svg>\n");
	flags_html(tl, out);
	strbuf_adds(out, "</body>\n</html>\n");
}
