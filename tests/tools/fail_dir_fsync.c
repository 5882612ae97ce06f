/* A fault for the tests to inject: with LD_PRELOAD, an fsync of the folder
 * named by SEALTIP_TEST_FAIL_FSYNC_DIR fails with EIO, as on a failing disk,
 * after the first SEALTIP_TEST_FAIL_FSYNC_AFTER of them (default 0) went
 * through; every other fsync goes through. It shows what the real tools do
 * when a rename cannot be made durable. The folder is looked up at each call:
 * it may not exist yet when the program starts (open -o makes it). */
#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

int
fsync(int fd)
{
	static unsigned long passed;
	const char *dir = getenv("SEALTIP_TEST_FAIL_FSYNC_DIR");
	const char *after = getenv("SEALTIP_TEST_FAIL_FSYNC_AFTER");
	struct stat target, st;

	if (dir != NULL && stat(dir, &target) == 0 && fstat(fd, &st) == 0 &&
	    st.st_dev == target.st_dev && st.st_ino == target.st_ino &&
	    passed++ >= (after != NULL ? strtoul(after, NULL, 10) : 0)) {
		errno = EIO;
		return -1;
	}
	return (int)syscall(SYS_fsync, fd);
}
