/*
 * report_pins.h - `stays-reconcile pins`: the live credentials as a table
 * or JSON, and the drift between the database and what the locks list
 * (pins --remote).  Pure: the credentials (pinstore_live()) and the
 * password lists (tuya_list_temp_passwords()) come in as arrays; local
 * times are computed with lib/tz.  Nothing here writes to a stream.
 *
 * A PIN is shown only when the caller says so (show_pin, the operator's
 * --show-pin), else as one '*' per digit; a PIN read from a lock is never
 * part of any output (struct tuya_password holds none).
 */
#ifndef STAYS_REPORT_PINS_H
#define STAYS_REPORT_PINS_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "pinstore.h"
#include "tuya_parse.h"
#include "util.h"

/* What the view shows; everything borrowed. */
struct pins_view {
	const struct live_cred *v;      /* sorted by device, valid_from */
	size_t n;
	const char *default_tz;         /* [pins] timezone, for locks without one */
	int show_pin;
};

enum pin_drift_kind {
	DRIFT_UNKNOWN,  /* live on the lock, no credential holds its id */
	DRIFT_MISSING,  /* an unconfirmed or active credential the lock has not live */
	DRIFT_WINDOW    /* both have it, with another window */
};

struct pin_drift {
	enum pin_drift_kind kind;
	const char *device;             /* borrowed from the input */
	int64_t password_id;
	const char *name;               /* the lock's name (unknown, window), else
	                                   the credential's; borrowed */
	const struct live_cred *cred;   /* missing, window; NULL for unknown */
	int phase;                      /* the lock's phase; -1 when it has none */
	long long effective, invalid;   /* the lock's window; 0 when it has none */
};

/*
 * Compare the passwords pw (n_pw) that the cloud lists for device with
 * the credentials v (n) of the same device (others are skipped):
 *   - unknown: a password that may open the door (pinrun_password_live())
 *     whose id no credential holds, and whose name is not that of a
 *     credential still creating (pin-runner adopts those);
 *   - missing: an unconfirmed or active credential whose password is not
 *     listed, or listed as gone or failed;
 *   - window: an unconfirmed or active credential whose password is live
 *     with an effective/invalid time other than valid_from/valid_until.
 * A creating credential (no id yet) and a revoking one (on its way off
 * the lock) are never missing.  Appends to *out (owned, free(); *alloc as
 * for xgrow()) and returns the new count.
 */
size_t pins_drift(const char *device, const struct tuya_password *pw, size_t n_pw,
		  const struct live_cred *v, size_t n, struct pin_drift **out,
		  size_t count, size_t *alloc);

/* "unknown", "missing" or "window" (static). */
const char *pins_drift_kind_name(enum pin_drift_kind k);

/*
 * The credentials, one object each:
 *   [{"reservationId", "reservationCode", "listingId", "deviceId",
 *     "lockName", "passwordId", "state", "validFrom", "validUntil",
 *     "validFromLocal", "validUntilLocal", "timezone", "notified",
 *     "notifiedAt", "pin"}]
 * Local times are "YYYY-MM-DDTHH:MM" on the lock's wall clock (its
 * timezone, else default_tz; null when that zone cannot be used).
 * reservationCode, listingId, lockName, passwordId and notifiedAt are
 * null when unknown.
 */
cJSON *report_pins_json(const struct pins_view *pv);

/* {"deviceId", "kind", "passwordId", "name", "phase", "lockValidFrom",
 *  "lockValidUntil", "reservationId", "reservationCode", "state",
 *  "validFrom", "validUntil"}, one per drift; null where not known. */
cJSON *report_drift_json(const struct pin_drift *d, size_t n);

/* The credentials grouped by lock: a "lock DEVICE (NAME), ZONE" line,
 * then an aligned table of its credentials.  Nothing when n == 0. */
void report_pins_table(const struct pins_view *pv, struct strbuf *out);

/* One "drift: ..." line per drift. */
void report_drift_text(const struct pin_drift *d, size_t n, struct strbuf *out);

#endif
