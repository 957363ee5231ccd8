/*
 * cli.h - what both programs' main files share: global options, messages
 * on stderr, checked writes to stdout.  Only the top-level files print or
 * exit; lib/ returns error codes (see lib/err.h).
 */
#ifndef STAYS_CLI_H
#define STAYS_CLI_H

#include <getopt.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <sqlite3.h>

#include "config.h"
#include "err.h"
#include "util.h"

enum {
	OPT_NOW = 256, OPT_VERSION, OPT_DRY_RUN, OPT_JSON, OPT_FORCE, OPT_ALL,
	OPT_NAME, OPT_PIN_LENGTH, OPT_TIMEZONE, OPT_NO_CHECK, OPT_LOCK, OPT_REMOTE,
	OPT_SHOW_PIN, OPT_RESEND, OPT_MAX, OPT_KEEP, OPT_DAYS, OPT_FROM, OPT_LISTING,
	OPT_HTML
};

/* The global options, accepted before (and, for convenience, after) the command. */
#define GLOBAL_SHORTOPTS "+c:vqh"
#define GLOBAL_LONGOPTS                                         \
	{ "config", required_argument, NULL, 'c' },             \
	{ "verbose", no_argument, NULL, 'v' },                  \
	{ "quiet", no_argument, NULL, 'q' },                    \
	{ "help", no_argument, NULL, 'h' },                     \
	{ "now", required_argument, NULL, OPT_NOW },            \
	{ "version", no_argument, NULL, OPT_VERSION }

struct global {
	const char *prog;       /* "stays-reconcile" or "pin-runner" */
	const char *config_path;/* -c, or NULL */
	int verbosity;          /* -1 with -q, 0 default, 1 with -v */
	time_t now;             /* --now, or the clock at start */
	void (*usage)(FILE *f);
};

/*
 * Handle one global option returned by getopt_long.  Returns 1 if c was a
 * global option, 0 if not; exits with 64 on a bad value, 0 after --help or
 * --version.
 */
int cli_global_opt(struct global *g, int c, const char *arg);

/* "prog: message" on stderr. */
void cli_error(const struct global *g, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Each line of text as "prog: line" on stderr. */
void cli_error_lines(const struct global *g, const char *text);

/* Print the usage on stderr and return 64. */
int cli_usage_error(const struct global *g, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Load the configuration, printing errors; returns ERR_OK or the error. */
enum err cli_load_config(const struct global *g, struct config *cfg, int need);

/* Print a JSON tree (pretty) on stdout and delete it. */
void cli_print_json(cJSON *doc);

/* Flush stdout; 0, or 74 (EX_IOERR) after a message if writing failed. */
int cli_finish(const struct global *g, int code);

/* "<db>.lock" style path next to the database, in buf. */
void cli_lock_path(const char *db_path, const char *suffix, char *buf, size_t size);

/*
 * At the end of a run that wrote to db (not a dry run, not a read-only
 * command): when [metrics] textfile is set, write the metrics file from
 * the database (lib/metrics.h).  A failure is a warning on stderr (unless
 * -q), never an error: the caller's exit status does not change.
 */
void cli_write_metrics(const struct global *g, const struct config *cfg, sqlite3 *db);

/* status.c */
int cmd_status(struct global *g, int argc, char **argv);

#endif
