/*
 * config.h - the INI configuration of SPEC.md §3, with environment overrides.
 *
 * config_load() reads the whole file, checks every value, and reports every
 * bad line as "FILE:LINE: message" (isync's habit: all of them, then fail
 * once).  Keys that only some commands need (the Stays and Tuya credentials)
 * are checked by config_require(), so `status`, `jobs` and `locks` work
 * without them.  A file that holds a secret and is accessible by group or
 * others is refused, as ssh refuses such a key.
 */
#ifndef STAYS_CONFIG_H
#define STAYS_CONFIG_H

#include "cron.h"
#include "err.h"
#include "util.h"

#define CONFIG_DEFAULT_PATH "/etc/stays-reconcile.conf"
#define CONFIG_MAX_TYPES 5

struct config {
	char *path;             /* the file read; NULL when none was found */

	char *db_path;          /* [database] path / STAYS_RECONCILE_DB */
	long keep_days;         /* [database] keep_days: history kept this long */

	char *cron;             /* [schedule] cron */
	struct cron_expr cron_expr;
	long pin_runner_every;  /* [schedule] pin_runner_every, seconds */

	struct {
		char *url;          /* without trailing '/' */
		char *client_id;
		char *client_secret;
		char *ca_file;      /* NULL: system CA store */
		char *types[CONFIG_MAX_TYPES];
		int ntypes;
		long past_days;
		long future_days;
		long timeout;       /* seconds per request */
		long retries;       /* attempts per request */
		long max_removals;
	} stays;

	struct {
		char *url;
		char *client_id;
		char *client_secret;
		char *ca_file;
	} tuya;

	struct {
		int length;
		char *timezone;
		int checkin_min;    /* minutes after midnight */
		int checkout_min;
		long generate_before;   /* seconds */
		long revoke_after;
		long valid_before;
		long valid_after;
		long max_attempts;
	} pins;

	struct {
		char *on_pin;       /* NULL when not set */
		char *on_failure;
	} hooks;

	struct {
		char *textfile;     /* [metrics] textfile: an absolute path ending
		                       in .prom; NULL: no metrics are written */
	} metrics;
};

/* What a command needs beyond the always-checked keys. */
enum config_need {
	CONFIG_NEED_STAYS = 1,
	CONFIG_NEED_TUYA = 2
};

/*
 * Load the configuration.  path is the -c argument or NULL; then
 * $STAYS_RECONCILE_CONFIG; then CONFIG_DEFAULT_PATH.  A missing file is an
 * error when it was named (-c or the environment), and means "defaults and
 * environment only" for the default path.  Environment variables override
 * the file.  On error, errs receives one message per line ("FILE:LINE:
 * message\n") and the return is ERR_CONFIG (bad keys or values), ERR_PERM
 * (a secret-bearing file accessible by group/others) or ERR_CONFIG for an
 * unreadable file.  c is always initialised; release it with config_release.
 */
enum err config_load(struct config *c, const char *path, struct strbuf *errs);

/*
 * Check that the keys a command needs are set (need is a mask of
 * enum config_need).  Appends one line per missing key to errs and returns
 * ERR_CONFIG, or ERR_OK.
 */
enum err config_require(const struct config *c, int need, struct strbuf *errs);

/* 1 if type is one of the configured PIN types. */
int config_is_pin_type(const struct config *c, const char *type);

void config_release(struct config *c);

#endif
