/*
 * check.h - `stays-reconcile check [--json]`: a pre-flight, like
 * `nginx -t`.  It reads the configuration, the database (read-only), asks
 * Stays for one page and Tuya for its devices and each mapped lock, and
 * looks for a schedule; it changes nothing anywhere.
 */
#ifndef STAYS_CHECK_H
#define STAYS_CHECK_H

#include "cli.h"

/*
 * Print one line per item (ok, warn or FAIL, with the fix), or the JSON
 * of report_check_json().  Returns 0 when nothing failed, else the exit
 * status of the first failure (err_exitcode() of its error).
 */
int cmd_check(struct global *g, int argc, char **argv);

#endif
