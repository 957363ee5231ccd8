/*
 * lock.h - one instance at a time (R10), with flock(2) on a lock file
 * beside the database, as isync does.  The lock dies with the process, so
 * a killed run never leaves a stale lock behind.
 */
#ifndef STAYS_LOCK_H
#define STAYS_LOCK_H

#include "err.h"

/*
 * Take an exclusive, non-blocking lock on path (created 0600 if needed).
 * On success *fd holds it until lock_release() or exit.  Errors:
 * ERR_LOCKED (another process holds it), ERR_DB (cannot create the file).
 */
enum err lock_acquire(const char *path, int *fd, char *errbuf);
void lock_release(int fd);

/* 1 if some process holds the lock at path now, else 0 (also if absent). */
int lock_held(const char *path);

#endif
