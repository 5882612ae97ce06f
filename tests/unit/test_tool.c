/* tool_stdio_guard: closed standard descriptors are filled with /dev/null
 * before anything else can take their numbers. tool_progress: what it draws
 * on a terminal, for a known total and an unknown one. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <termios.h>
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

/* Runs draw in a child whose stderr is a pseudo-terminal (raw: no byte
 * rewritten), and returns what reached the terminal, NUL-terminated. */
static void
progress_on_pty(void (*draw)(void), char *out, size_t size)
{
	struct termios raw;
	size_t got = 0;
	ssize_t n;
	pid_t pid;
	int master, slave, status;

	master = posix_openpt(O_RDWR | O_NOCTTY);
	assert_true(master != -1 && grantpt(master) == 0 && unlockpt(master) == 0);
	slave = open(ptsname(master), O_RDWR | O_NOCTTY);
	assert_true(slave != -1 && tcgetattr(slave, &raw) == 0);
	cfmakeraw(&raw);
	assert_int_equal(tcsetattr(slave, TCSANOW, &raw), 0);
	if ((pid = fork()) == 0) {
		close(master);
		if (dup2(slave, STDERR_FILENO) == -1)
			_exit(1);
		close(slave);
		draw();
		fflush(stderr);
		_exit(0);
	}
	assert_true(pid != -1);
	close(slave);
	/* Until the child's end closes the terminal: EIO. */
	while (got < size - 1) {
		n = read(master, out + got, size - 1 - got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	out[got] = '\0';
	close(master);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* 100 chunks of 1 MiB from a pipe (no total): nothing until 16 MiB, then one
 * line, "N MiB", however fast the chunks come. */
static void
draw_unknown_total(void)
{
	for (unsigned long long i = 1; i <= 100; i++)
		tool_progress("audit", i << 20, 0);
	tool_progress_end();
}

static void
test_progress_unknown_total(void **state)
{
	char out[4096];

	(void)state;
	progress_on_pty(draw_unknown_total, out, sizeof out);
	assert_string_equal(out, "\raudit 16 MiB\r\033[K");
}

/* A 20 MiB file in 1 MiB chunks: the first line, then none until the last,
 * which ends on the total. */
static void
draw_known_total(void)
{
	for (unsigned long long i = 1; i <= 20; i++)
		tool_progress("audit", i << 20, 20ull << 20);
	tool_progress_end();
}

static void
test_progress_known_total(void **state)
{
	char out[4096];

	(void)state;
	progress_on_pty(draw_known_total, out, sizeof out);
	assert_string_equal(out, "\raudit 1/20 MiB\raudit 20/20 MiB\r\033[K");
}

/* An input known to be small draws nothing, and so erases nothing. */
static void
draw_small_total(void)
{
	for (unsigned long long i = 1; i <= 15; i++)
		tool_progress("audit", i << 20, 15ull << 20);
	tool_progress_end();
}

static void
test_progress_small_total(void **state)
{
	char out[4096];

	(void)state;
	progress_on_pty(draw_small_total, out, sizeof out);
	assert_string_equal(out, "");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fills_every_closed_combination),
		cmocka_unit_test(test_leaves_open_ones_alone),
		cmocka_unit_test(test_progress_unknown_total),
		cmocka_unit_test(test_progress_known_total),
		cmocka_unit_test(test_progress_small_total),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
