/* A fault for the tests to inject: with LD_PRELOAD, the first write() to a
 * file under the folder SEALTIP_TEST_SIGNAL_WRITE_DIR raises SIGINT in the
 * writing process, as a ^C that comes while a long output is being written.
 * The write itself goes through. It shows what the real tools leave behind
 * when interrupted half way: they must remove what they had begun. */
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

ssize_t
write(int fd, const void *buf, size_t len)
{
	static int raised;
	const char *dir = getenv("SEALTIP_TEST_SIGNAL_WRITE_DIR");
	char link[64], target[PATH_MAX];
	ssize_t n;

	if (!raised && dir != NULL) {
		snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
		n = readlink(link, target, sizeof target - 1);
		if (n > 0 && (size_t)n > strlen(dir) && strncmp(target, dir, strlen(dir)) == 0 &&
		    target[strlen(dir)] == '/') {
			raised = 1;
			raise(SIGINT);
		}
	}
	return (ssize_t)syscall(SYS_write, fd, buf, len);
}
