/*
 * report_timeline.h - `stays-reconcile timeline` rendered: text for the
 * terminal (80 columns), JSON for scripts, and one self-contained HTML
 * page with an inline SVG Gantt chart.  Pure: a struct timeline in, text
 * or a cJSON tree out; nothing here writes to a stream or a file.  No PIN
 * is part of a timeline, so none can be part of any output.
 *
 * Every text that comes from the database or from Stays and Tuya (listing
 * and lock names, codes, ids, a job's last error) is escaped in the HTML,
 * and bytes that are not valid UTF-8 or are control characters are
 * replaced, so the page is well-formed XML (XHTML served as HTML) whatever
 * the database holds.
 */
#ifndef STAYS_REPORT_TIMELINE_H
#define STAYS_REPORT_TIMELINE_H

#include <cjson/cJSON.h>

#include "timeline.h"
#include "util.h"

/*
 * {"from", "until", "fromLocal", "untilLocal", "timezone", "days", "now",
 *  "nowLocal",
 *  "locks": [{"listingId", "listingName", "deviceId", "lockName",
 *             "timezone", "mapped",
 *             "stays": [{"reservationId", "reservationCode", "active",
 *                        "checkIn", "checkOut", "checkInLocal",
 *                        "checkOutLocal", "validFrom", "validUntil",
 *                        "validFromLocal", "validUntilLocal", "state",
 *                        "generateAt", "generateAtLocal", "generateStatus",
 *                        "revokeAt", "revokeAtLocal", "revokeStatus",
 *                        "flags": ["overlap", ...]}]}],
 *  "flags": [{"kind", "state", "reservationId", "reservationCode",
 *             "listingId", "deviceId", "at", "atLocal", "until",
 *             "untilLocal", "other", "action", "attempts", "lastError",
 *             "message"}]}
 * Times UTC ISO-8601 with 'Z'; *Local on the lane's (the flag's) zone as
 * "YYYY-MM-DDTHH:MM"; null where there is none.  A listing without a lock
 * is a lane with deviceId null.
 */
cJSON *report_timeline_json(const struct timeline *tl);

/* The text: a header, per listing its lanes with one line per stay, then
 * the flags ("needs a person"); every line at most 80 columns (long
 * names are shortened, long messages wrapped). */
void report_timeline_text(const struct timeline *tl, struct strbuf *out);

/* The HTML page (UTF-8, XHTML syntax, inline SVG and CSS, no script, no
 * external resource). */
void report_timeline_html(const struct timeline *tl, struct strbuf *out);

/* What flag f says, in words, without the lock (no newline); times on
 * f's zone. */
void report_timeline_flag_text(const struct tl_flag *f, struct strbuf *out);

#endif
