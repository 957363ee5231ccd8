/*
 * onboard.h - the onboarding commands of stays-reconcile: what exists on
 * either side before anything is mapped (`listings`, `locks discover`)
 * and the Tuya check of `locks add`.  reconcile.c owns the command table
 * and the locks command line; these functions print, and return an exit
 * status (lib/err.h's err_exitcode()).
 */
#ifndef STAYS_ONBOARD_H
#define STAYS_ONBOARD_H

#include <sqlite3.h>

#include "cli.h"
#include "config.h"
#include "tuya.h"

/* stays-reconcile listings [--json]: every active Stays listing and the
 * devices mapped to it. */
int cmd_listings(struct global *g, int argc, char **argv);

/*
 * locks discover [--json]: every device linked to the Tuya project, with
 * its category, whether it is a lock (tuya_is_lock()) and the listing it
 * is mapped to.  cfg is loaded by the caller (the [tuya] keys are checked
 * here); db: the database, or NULL when there is none yet.
 */
int onboard_discover(struct global *g, const struct config *cfg, sqlite3 *db, int json);

/*
 * locks suggest [--json]: the Stays listings with no lock and the Tuya
 * locks on no listing, paired by their names (lib/match.h), best first,
 * each with the `locks add` command that would map it.  Maps nothing.
 * cfg and db as for onboard_discover(); needs both [stays] and [tuya].
 */
int onboard_suggest(struct global *g, const struct config *cfg, sqlite3 *db, int json);

/*
 * The check of `locks add` (without --no-check): [tuya] must be
 * configured (else 78), GET /v1.0/devices/{device} must answer (a device
 * the project cannot see: 77 with Tuya's reason), and the device must be a
 * lock by tuya_is_lock() (else 65).  Returns 0 when the device may be
 * mapped, else the exit status, after a message.
 */
int onboard_check_device(struct global *g, const struct config *cfg, const char *device);

/*
 * A Tuya connection of an interactive command: [tuya] must be configured
 * (else 78, the message says that why needs it), and the client fetches
 * a fresh access token when first used, never stored (pin-runner's cached
 * token stays its own).  Returns 0 with t filled, or the exit status
 * after a message; release t with onboard_tuya_release() either way.
 */
struct tuya_conn {
	struct http *http;
	struct tuya_client *c;
};
int onboard_tuya_connect(struct global *g, const struct config *cfg, const char *why,
			 struct tuya_conn *t);
void onboard_tuya_release(struct tuya_conn *t);

#endif
