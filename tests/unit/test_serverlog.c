/* serverlog: lines never wait for a reader; a full queue drops and counts,
 * and says so once the reader is back. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "serverlog.h"

#define LINES 20000

static double
now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Reads fd to its end into a malloc'd NUL-terminated text. */
static char *
read_all(int fd, size_t *len)
{
	size_t cap = 1 << 20;
	char *text = malloc(cap + 1);
	ssize_t n;

	*len = 0;
	while (text != NULL && (n = read(fd, text + *len, cap - *len)) > 0) {
		*len += (size_t)n;
		if (*len == cap && (text = realloc(text, (cap *= 2) + 1)) == NULL)
			break;
	}
	if (text != NULL)
		text[*len] = '\0';
	return text;
}

/* The child logs LINES lines to a pipe nobody reads yet: every call must
 * return at once. It tells the parent how many were dropped (on a second
 * pipe), then waits for the reader at stop. */
static void
test_never_blocks_and_says_what_it_dropped(void **state)
{
	int out[2], report[2], status;
	unsigned long long dropped = 0;
	double took = 0;
	char *text, *p;
	size_t len, i, seen;
	pid_t pid;

	(void)state;
	assert_int_equal(pipe(out), 0);
	assert_int_equal(pipe(report), 0);
	if ((pid = fork()) == 0) {
		double start;

		close(out[0]);
		close(report[0]);
		if (dup2(out[1], STDOUT_FILENO) == -1 || dup2(out[1], STDERR_FILENO) == -1)
			_exit(10);
		close(out[1]);
		if (serverlog_start() != 0)
			_exit(11);
		start = now();
		for (i = 0; i < LINES; i++)
			serverlog_info("line %zu of the test", i);
		took = now() - start;
		dropped = serverlog_dropped();
		if (write(report[1], &dropped, sizeof dropped) != sizeof dropped ||
		    write(report[1], &took, sizeof took) != sizeof took)
			_exit(12);
		serverlog_stop(20000);
		_exit(0);
	}
	assert_true(pid > 0);
	close(out[1]);
	close(report[1]);
	assert_int_equal(read(report[0], &dropped, sizeof dropped), sizeof dropped);
	assert_int_equal(read(report[0], &took, sizeof took), sizeof took);
	close(report[0]);
	/* 20,000 lines of ~25 bytes do not fit a 64 KiB pipe and the queue. */
	assert_true(dropped > 0);
	assert_true(dropped < LINES);
	/* Nothing waited for the pipe (which would wait forever): 20,000 calls
	 * take milliseconds, and seconds under valgrind. */
	assert_true(took < 30.0);

	text = read_all(out[0], &len);
	close(out[0]);
	assert_non_null(text);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	/* What got through is in order, from line 0, with nothing cut. */
	for (p = text, seen = 0, i = 0; (p = strstr(p, "line ")) != NULL; p++) {
		size_t n = strtoul(p + 5, NULL, 10);

		assert_true(n >= i);
		i = n + 1;
		seen++;
	}
	assert_int_equal(strncmp(text, "line 0 of the test\n", 19), 0);
	assert_int_equal(seen + dropped, LINES);
	/* Every drop is told, maybe over several notes as the queue filled
	 * again while a batch was being written. */
	{
		static const char tail[] = " log lines dropped: stdout or stderr was not being read\n";
		unsigned long long told = 0;
		char *end;

		for (p = text; (p = strstr(p, "sealtipd: ")) != NULL; p = end) {
			told += strtoull(p + 10, &end, 10);
			assert_memory_equal(end, tail, sizeof tail - 1);
		}
		assert_true(told == dropped);
	}
	free(text);
}

/* Runs body in a child whose stdout is a pipe; returns what it wrote, once
 * it exited 0. */
static char *
child_stdout(void (*body)(void), size_t *len)
{
	int out[2], status;
	char *text;
	pid_t pid;

	assert_int_equal(pipe(out), 0);
	if ((pid = fork()) == 0) {
		close(out[0]);
		if (dup2(out[1], STDOUT_FILENO) == -1)
			_exit(10);
		body();
		_exit(0);
	}
	close(out[1]);
	text = read_all(out[0], len);
	close(out[0]);
	assert_non_null(text);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	return text;
}

static void
log_before_during_after(void)
{
	serverlog_info("before %d", 1);
	if (serverlog_start() != 0)
		_exit(11);
	serverlog_info("during %d", 2);
	serverlog_stop(5000);
	serverlog_info("after %d", 3);
}

/* Before start and after stop, lines go out directly, in order. */
static void
test_direct_when_not_started(void **state)
{
	size_t len;
	char *text;

	(void)state;
	text = child_stdout(log_before_during_after, &len);
	assert_string_equal(text, "before 1\nduring 2\nafter 3\n");
	free(text);
}

static void
log_long_line(void)
{
	char big[4000];

	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	if (serverlog_start() != 0)
		_exit(11);
	serverlog_info("%s", big);
	serverlog_info("next");
	serverlog_stop(5000);
}

/* A line longer than SERVERLOG_LINE_MAX is cut, and still ends the line. */
static void
test_long_line_cut(void **state)
{
	size_t len;
	char *text;

	(void)state;
	text = child_stdout(log_long_line, &len);
	assert_int_equal(len, SERVERLOG_LINE_MAX + 1 + 5);
	assert_int_equal(text[SERVERLOG_LINE_MAX - 1], 'x');
	assert_string_equal(text + SERVERLOG_LINE_MAX, "\nnext\n");
	free(text);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_never_blocks_and_says_what_it_dropped),
		cmocka_unit_test(test_direct_when_not_started),
		cmocka_unit_test(test_long_line_cut),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
