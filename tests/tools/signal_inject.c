/* Faults for the tests to inject, with LD_PRELOAD: a ^C (SIGINT raised in
 * the process) at a chosen moment, to show what the real tools leave behind
 * when interrupted there. They must remove what they had begun.
 *   SEALTIP_TEST_SIGNAL_WRITE_DIR=DIR  at the first write() to a file under
 *                                      DIR (the write itself goes through);
 *   SEALTIP_TEST_SIGNAL_EOF_FILE=PATH  when a read() of PATH meets its end:
 *                                      the input is all read, the work on it
 *                                      not yet finished. */
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* The path fd is open on, into out; 0, or -1 when it cannot be told. */
static int
fd_path(int fd, char *out, size_t size)
{
	char link[64];
	ssize_t n;

	snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
	if ((n = readlink(link, out, size - 1)) <= 0)
		return -1;
	out[n] = '\0';
	return 0;
}

ssize_t
write(int fd, const void *buf, size_t len)
{
	static int raised;
	const char *dir = getenv("SEALTIP_TEST_SIGNAL_WRITE_DIR");
	char target[PATH_MAX];
	size_t dir_len;

	if (!raised && dir != NULL && fd_path(fd, target, sizeof target) == 0) {
		dir_len = strlen(dir);
		if (strncmp(target, dir, dir_len) == 0 && target[dir_len] == '/') {
			raised = 1;
			raise(SIGINT);
		}
	}
	return (ssize_t)syscall(SYS_write, fd, buf, len);
}

ssize_t
read(int fd, void *buf, size_t len)
{
	static int raised;
	const char *file = getenv("SEALTIP_TEST_SIGNAL_EOF_FILE");
	char target[PATH_MAX];
	ssize_t n = (ssize_t)syscall(SYS_read, fd, buf, len);

	if (n == 0 && len > 0 && !raised && file != NULL && fd_path(fd, target, sizeof target) == 0 &&
	    strcmp(target, file) == 0) {
		raised = 1;
		raise(SIGINT);
	}
	return n;
}
