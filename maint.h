/*
 * maint.h - the database upkeep commands of stays-reconcile (maint.c).
 */
#ifndef STAYS_MAINT_H
#define STAYS_MAINT_H

#include "cli.h"

int cmd_vacuum(struct global *g, int argc, char **argv);
int cmd_backup(struct global *g, int argc, char **argv);

#endif
