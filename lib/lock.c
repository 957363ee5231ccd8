/*
 * lock.c - flock(2) on "<database>.lock" (stays-reconcile) and
 * "<database>.pin.lock" (pin-runner): the two programs never block each
 * other, and each refuses to run twice.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "fileown.h"
#include "lock.h"
#include "banned.h"

enum err lock_acquire(const char *path, int *fd, char *errbuf)
{
	int f = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	char hint[ERRBUF_SIZE];

	*fd = -1;
	if (f < 0) {
		int err = errno;

		fileown_hint(path, 0, hint, sizeof(hint));
		return ERRF(errbuf, ERR_DB, "cannot create lock file '%s': %s%s", path,
			    strerror(err), hint);
	}
	fileown_as_folder(f, path);
	while (flock(f, LOCK_EX | LOCK_NB) != 0) {
		if (errno == EINTR)
			continue;
		if (errno == EWOULDBLOCK) {
			close(f);
			return ERRF(errbuf, ERR_LOCKED,
				    "another instance is running (lock '%s' is held); try later",
				    path);
		}
		close(f);
		return ERRF(errbuf, ERR_DB, "cannot lock '%s': %s", path, strerror(errno));
	}
	*fd = f;
	return ERR_OK;
}

void lock_release(int fd)
{
	if (fd >= 0)
		close(fd);
}

int lock_held(const char *path)
{
	int f = open(path, O_RDONLY | O_CLOEXEC);
	int held = 0;

	if (f < 0)
		return 0;
	if (flock(f, LOCK_SH | LOCK_NB) != 0)
		held = errno == EWOULDBLOCK;
	close(f);
	return held;
}
