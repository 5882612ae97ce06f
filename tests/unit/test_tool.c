/* tool_stdio_guard: closed standard descriptors are filled with /dev/null
 * before anything else can take their numbers. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "tool.h"

static int
is_dev_null(int fd)
{
	struct stat st, null;

	return fstat(fd, &st) == 0 && stat("/dev/null", &null) == 0 && S_ISCHR(st.st_mode) &&
	    st.st_rdev == null.st_rdev;
}

/* In a child: close the descriptors in mask (bit n for fd n), guard, then
 * check. The exit status says which check failed. */
static int
child_with_closed(unsigned mask)
{
	pid_t pid;
	int status, fd, n;

	if ((pid = fork()) == 0) {
		for (n = 0; n < 3; n++)
			if (mask & (1u << n))
				close(n);
		if (tool_stdio_guard() != 0)
			_exit(10);
		for (n = 0; n < 3; n++)
			if ((mask & (1u << n)) && !is_dev_null(n))
				_exit(20 + n);
		/* The next file opened gets a number above stderr. */
		if ((fd = open("/dev/zero", O_RDONLY)) < 3)
			_exit(30);
		_exit(0);
	}
	if (pid == -1 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

static void
test_fills_every_closed_combination(void **state)
{
	unsigned mask;

	(void)state;
	for (mask = 0; mask < 8; mask++)
		assert_int_equal(child_with_closed(mask), 0);
}

/* Open descriptors are left as they are. */
static void
test_leaves_open_ones_alone(void **state)
{
	struct stat before, after;

	(void)state;
	assert_int_equal(fstat(STDERR_FILENO, &before), 0);
	assert_int_equal(tool_stdio_guard(), 0);
	assert_int_equal(fstat(STDERR_FILENO, &after), 0);
	assert_true(before.st_dev == after.st_dev && before.st_ino == after.st_ino);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fills_every_closed_combination),
		cmocka_unit_test(test_leaves_open_ones_alone),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
