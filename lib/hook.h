/*
 * hook.h - run an operator's hook program ([hooks] on_pin, on_failure)
 * with a JSON document on its standard input.
 *
 * The program is executed directly (no shell) with the environment less
 * STAYS_CLIENT_SECRET and TUYA_CLIENT_SECRET, gets the JSON as one line on
 * its stdin, inherits stdout and stderr
 * (cron mails what it prints), and is killed after HOOK_TIMEOUT_S seconds.
 * A failing hook is reported, never fatal: the PIN it announces is already
 * on the lock.
 */
#ifndef STAYS_HOOK_H
#define STAYS_HOOK_H

#include "err.h"

#define HOOK_TIMEOUT_S 60

/*
 * Run path with input on stdin and wait for it.  Returns ERR_OK when it
 * exited 0; ERR_ITEMS with a message ("hook '/x' exited 3", "... was killed
 * after 60 s", "cannot run hook '/x': No such file or directory") otherwise.
 */
enum err hook_run(const char *path, const char *input, char *errbuf);

#endif
