/*
 * timeline.h - `stays-reconcile timeline`: who can open which door, when.
 * reconcile.c owns the command table; this prints (or writes the page)
 * and returns an exit status.
 */
#ifndef STAYS_TIMELINE_CMD_H
#define STAYS_TIMELINE_CMD_H

#include "cli.h"

/*
 * stays-reconcile timeline [--days N] [--from DATE] [--lock DEVICE |
 *                           --listing ID] [--json | --html FILE]
 *
 * Read-only, no run lock, no network.  0 when nothing needs a person, 1
 * when something does (a flag), 64 for a bad command line, 73 when the
 * database cannot be opened or FILE cannot be written, 78 for a
 * configuration error.
 */
int cmd_timeline(struct global *g, int argc, char **argv);

#endif
