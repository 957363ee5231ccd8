/*
 * hook.c - fork/exec a hook with a pipe on its stdin (see hook.h).
 *
 * The wait polls waitpid(WNOHANG) in 10 ms steps instead of reading a clock,
 * so lib/ stays clock-free; HOOK_TIMEOUT_S is counted in those steps.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hook.h"
#include "banned.h"

static void write_all(int fd, const char *s, size_t n)
{
	while (n) {
		ssize_t w = write(fd, s, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return;	/* the hook closed its stdin: its business */
		}
		s += w;
		n -= (size_t)w;
	}
}

enum err hook_run(const char *path, const char *input, char *errbuf)
{
	int p[2], errp[2], status = 0;
	pid_t pid;
	char child_err[64];
	ssize_t nerr;
	long waited = 0;
	struct sigaction ign, old;

	if (pipe2(p, O_CLOEXEC) != 0 || pipe2(errp, O_CLOEXEC) != 0)
		return ERRF(errbuf, ERR_ITEMS, "cannot run hook '%s': %s", path, strerror(errno));
	memset(&ign, 0, sizeof(ign));
	ign.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &ign, &old);
	pid = fork();
	if (pid < 0) {
		int err = errno;

		close(p[0]); close(p[1]); close(errp[0]); close(errp[1]);
		sigaction(SIGPIPE, &old, NULL);
		return ERRF(errbuf, ERR_ITEMS, "cannot run hook '%s': %s", path, strerror(err));
	}
	if (pid == 0) {
		char *const argv[] = { (char *)path, NULL };
		int err;

		signal(SIGPIPE, SIG_DFL);
		/* Secrets given through the environment stay with us (SPEC §8). */
		unsetenv("STAYS_CLIENT_SECRET");
		unsetenv("TUYA_CLIENT_SECRET");
		if (dup2(p[0], 0) < 0)
			_exit(127);
		execv(path, argv);
		err = errno;
		write_all(errp[1], (const char *)&err, sizeof(err));
		_exit(127);
	}
	close(p[0]);
	close(errp[1]);
	write_all(p[1], input, strlen(input));
	write_all(p[1], "\n", 1);	/* one line, for `read` in shell hooks */
	close(p[1]);
	nerr = read(errp[0], child_err, sizeof(int));
	close(errp[0]);
	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);
		struct timespec ts = { 0, 10 * 1000000L };

		if (r == pid)
			break;
		if (r < 0 && errno != EINTR)
			break;
		if (++waited > HOOK_TIMEOUT_S * 100L) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			sigaction(SIGPIPE, &old, NULL);
			return ERRF(errbuf, ERR_ITEMS, "hook '%s' was killed after %d s", path,
				    HOOK_TIMEOUT_S);
		}
		nanosleep(&ts, NULL);
	}
	sigaction(SIGPIPE, &old, NULL);
	if (nerr == (ssize_t)sizeof(int)) {
		int err;

		memcpy(&err, child_err, sizeof(err));
		return ERRF(errbuf, ERR_ITEMS, "cannot run hook '%s': %s", path, strerror(err));
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return ERR_OK;
	if (WIFEXITED(status))
		return ERRF(errbuf, ERR_ITEMS, "hook '%s' exited %d", path, WEXITSTATUS(status));
	return ERRF(errbuf, ERR_ITEMS, "hook '%s' was killed by signal %d", path,
		    WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}
