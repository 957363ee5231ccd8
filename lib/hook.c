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

/* The child: stdin from the pipe, no secrets, exec; errno to errfd. */
static void hook_child(const char *path, int in, int errfd) __attribute__((noreturn));
static void hook_child(const char *path, int in, int errfd)
{
	char *const argv[] = { (char *)path, NULL };
	int err;

	signal(SIGPIPE, SIG_DFL);
	/* Secrets given through the environment stay with us (SPEC §8). */
	unsetenv("STAYS_CLIENT_SECRET");
	unsetenv("TUYA_CLIENT_SECRET");
	if (dup2(in, 0) < 0)
		_exit(127);
	execv(path, argv);
	err = errno;
	write_all(errfd, (const char *)&err, sizeof(err));
	_exit(127);
}

/* Wait for pid for at most HOOK_TIMEOUT_S, then kill it.  1 if killed. */
static int hook_wait(pid_t pid, int *status)
{
	long waited = 0;

	for (;;) {
		pid_t r = waitpid(pid, status, WNOHANG);
		struct timespec ts = { 0, 10 * 1000000L };

		if (r == pid || (r < 0 && errno != EINTR))
			return 0;
		if (++waited > HOOK_TIMEOUT_S * 100L) {
			kill(pid, SIGKILL);
			waitpid(pid, status, 0);
			return 1;
		}
		nanosleep(&ts, NULL);
	}
}

/* What the child's exec error or exit status means. */
static enum err hook_outcome(const char *path, ssize_t nerr, const char *child_err,
			     int status, char *errbuf)
{
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

enum err hook_run(const char *path, const char *input, char *errbuf)
{
	int p[2], errp[2], status = 0, killed;
	pid_t pid;
	char child_err[64];
	ssize_t nerr;
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
	if (pid == 0)
		hook_child(path, p[0], errp[1]);
	close(p[0]);
	close(errp[1]);
	write_all(p[1], input, strlen(input));
	write_all(p[1], "\n", 1);	/* one line, for `read` in shell hooks */
	close(p[1]);
	nerr = read(errp[0], child_err, sizeof(int));
	close(errp[0]);
	killed = hook_wait(pid, &status);
	sigaction(SIGPIPE, &old, NULL);
	if (killed)
		return ERRF(errbuf, ERR_ITEMS, "hook '%s' was killed after %d s", path,
			    HOOK_TIMEOUT_S);
	return hook_outcome(path, nerr, child_err, status, errbuf);
}
