/*
 * metrics_file.c - write the metrics file atomically, and serialise its
 * writers (see metrics.h).
 *
 * Invariant: the file at the configured path is always a whole file -
 * the old one or the new one, never a mix or a prefix - because the new
 * text is written and fsync'ed under another name in the same folder
 * (same file system) and then renamed over it; rename(2) is atomic.  The
 * temporary name is hidden and does not end in .prom, so node_exporter's
 * collector never reads it, and every failure path removes it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "metrics.h"
#include "banned.h"

/* The folder of path (an absolute path: config.c checks it) in out. */
static void folder(const char *path, struct strbuf *out)
{
	const char *slash = strrchr(path, '/');

	if (!slash || slash == path)
		strbuf_adds(out, "/");
	else
		strbuf_add(out, path, (size_t)(slash - path));
}

void metrics_file_lock(const char *path, int *fd)
{
	struct strbuf dir = STRBUF_INIT;

	folder(path, &dir);
	*fd = open(strbuf_str(&dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	strbuf_release(&dir);
	if (*fd < 0)
		return;
	while (flock(*fd, LOCK_EX) != 0) {
		if (errno != EINTR) {
			close(*fd);
			*fd = -1;
			return;
		}
	}
}

void metrics_file_unlock(int fd)
{
	if (fd >= 0)
		close(fd);      /* releases the flock */
}

static int write_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

enum err metrics_write_file(const char *path, const char *text, size_t len, char *errbuf)
{
	struct strbuf tmp = STRBUF_INIT;
	const char *base = strrchr(path, '/');
	const char *what;
	int fd, saved;

	base = base ? base + 1 : path;
	folder(path, &tmp);
	strbuf_addf(&tmp, "%s.%s.XXXXXX", strcmp(strbuf_str(&tmp), "/") ? "/" : "", base);
	fd = mkostemp(tmp.buf, O_CLOEXEC);
	if (fd < 0) {
		saved = errno;
		strbuf_release(&tmp);
		return ERRF(errbuf, ERR_IO, "cannot write metrics file '%s': %s", path,
			    strerror(saved));
	}
	what = write_all(fd, text, len) != 0 ? "write" :
	       fsync(fd) != 0 ? "fsync" :
	       fchmod(fd, 0644) != 0 ? "chmod" : NULL;
	saved = errno;
	if (close(fd) != 0 && !what) {
		what = "close";
		saved = errno;
	}
	if (!what && rename(tmp.buf, path) != 0) {
		what = "rename";
		saved = errno;
	}
	if (what) {
		unlink(tmp.buf);
		strbuf_release(&tmp);
		return ERRF(errbuf, ERR_IO, "cannot write metrics file '%s': %s: %s", path, what,
			    strerror(saved));
	}
	strbuf_release(&tmp);
	return ERR_OK;
}
