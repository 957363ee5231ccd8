/*
 * fileown.c - files beside the database keep the folder's owner; a
 * permission problem says who owns what (see fileown.h).
 */
#include <libgen.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <fcntl.h>

#include "fileown.h"
#include "util.h"
#include "banned.h"

void fileown_as_folder(int fd, const char *path)
{
	char dir[4096];
	struct stat st;

	if (geteuid() != 0 || xstrlcpy(dir, path, sizeof(dir)) != 0)
		return;
	if (stat(dirname(dir), &st) != 0 || (st.st_uid == 0 && st.st_gid == 0))
		return;
	(void)fchown(fd, st.st_uid, st.st_gid);
}

/* A user's name, else its number, into buf. */
static const char *user_name(uid_t uid, char *buf, size_t size)
{
	const struct passwd *pw = getpwuid(uid);

	if (pw && pw->pw_name)
		snprintf(buf, size, "%s", pw->pw_name);
	else
		snprintf(buf, size, "uid %ld", (long)uid);
	return buf;
}

int fileown_hint(const char *path, int companions, char *buf, size_t size)
{
	static const char *const suffixes[] = { "", "-wal", "-shm", NULL };
	char file[4096], first[4096] = "", owner[64] = "", us[64];
	struct strbuf cmd = STRBUF_INIT;
	size_t n = companions ? 3 : 1;
	struct stat st;

	buf[0] = '\0';
	/* The files, then the folder that holds them (where -wal is made). */
	for (size_t i = 0; i <= n; i++) {
		if (i < n) {
			snprintf(file, sizeof(file), "%s%s", path, suffixes[i]);
		} else {
			char tmp[4096];

			snprintf(tmp, sizeof(tmp), "%s", path);
			snprintf(file, sizeof(file), "%s", dirname(tmp));
		}
		if (stat(file, &st) != 0 || st.st_uid == geteuid() ||
		    faccessat(AT_FDCWD, file, W_OK, AT_EACCESS) == 0)
			continue;
		if (!first[0]) {
			snprintf(first, sizeof(first), "%s", file);
			user_name(st.st_uid, owner, sizeof(owner));
		}
		strbuf_addf(&cmd, " '%s'", file);
	}
	if (!first[0])
		return 0;
	user_name(geteuid(), us, sizeof(us));
	snprintf(buf, size, "; '%s' is owned by %s and this program runs as %s: `chown %s:%s` fixes it",
		 first, owner, us, us, strbuf_str(&cmd));
	strbuf_release(&cmd);
	return 1;
}
