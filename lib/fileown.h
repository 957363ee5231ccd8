/*
 * fileown.h - who owns the files the programs make beside the database.
 *
 * The programs run as an unprivileged user from cron; an operator who runs
 * one of them once as root (`locks add` on a fresh database, `pin-runner`
 * after a lock file was deleted) must not leave a file that user cannot
 * open.  So a file created in a folder takes the folder's owner and group
 * when the creator is root - what SQLite does for its -wal and -shm files,
 * which take the database file's owner - and a permission error names the
 * file, its owner and the chown that fixes it.
 */
#ifndef STAYS_FILEOWN_H
#define STAYS_FILEOWN_H

#include <stddef.h>

/*
 * If this process runs as root, give the open file fd (at path) the owner
 * and group of the folder that holds path.  Best effort: a failure leaves
 * the file as it is (the permission hint below will name it later).
 */
void fileown_as_folder(int fd, const char *path);

/*
 * For an error on the file path: if path, or one of its SQLite companions
 * ("-wal", "-shm") when companions is set, exists and this process may not
 * write it, write into buf "; '<file>' is owned by <owner>, not <us>:
 * `chown <us>: <files>` fixes it" (one file named, every such file in the
 * command).  Returns 1 when a hint was written, else 0 (buf = "").
 */
int fileown_hint(const char *path, int companions, char *buf, size_t size);

#endif
