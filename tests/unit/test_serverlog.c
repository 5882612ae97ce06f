/* serverlog: lines never wait for a reader; a full queue drops and counts,
 * and says so once the reader is back. What one upload did is counted and
 * said at the stop (or an hour's or a day's end: the integration test
 * clock.test.js), never when it happens. */
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

/* The UTC day and hour now, as the counts' labels give them. */
static void
utc_now(char day[16], char hour[8])
{
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(day, 16, "%Y-%m-%d", &tm);
	strftime(hour, 8, "%H:00", &tm);
}

/* The line serverlog_stop writes for a day without a report. */
static void
no_reports_line(char *out, size_t len, const char *day)
{
	snprintf(out, len, "sealtipd: %s to the stop: 0 reports stored, 0 bytes\n", day);
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
	/* The stop's count comes last, behind the queue it waited for. */
	{
		char day[16], hour[8], last[128];
		size_t n;

		utc_now(day, hour);
		no_reports_line(last, sizeof last, day);
		n = strlen(last);
		assert_true(len > n);
		assert_string_equal(text + len - n, last);
		text[len - n] = '\0';
	}
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

/* Runs body in a child whose stdout (and stderr, with both) is a pipe;
 * returns what it wrote, once it exited 0. */
static char *
child_output(void (*body)(void), int both, size_t *len)
{
	int out[2], status;
	char *text;
	pid_t pid;

	assert_int_equal(pipe(out), 0);
	if ((pid = fork()) == 0) {
		close(out[0]);
		if (dup2(out[1], STDOUT_FILENO) == -1 ||
		    (both && dup2(out[1], STDERR_FILENO) == -1))
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

static char *
child_stdout(void (*body)(void), size_t *len)
{
	return child_output(body, 0, len);
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

/* Before start and after stop, lines go out directly, in order; the stop
 * says the day's count (none) before it stops. */
static void
test_direct_when_not_started(void **state)
{
	char day[16], hour[8], last[128], want[256];
	size_t len;
	char *text;

	(void)state;
	text = child_stdout(log_before_during_after, &len);
	utc_now(day, hour);
	no_reports_line(last, sizeof last, day);
	snprintf(want, sizeof want, "before 1\nduring 2\n%safter 3\n", last);
	assert_string_equal(text, want);
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
	char day[16], hour[8], last[128], want[256];
	size_t len;
	char *text;

	(void)state;
	text = child_stdout(log_long_line, &len);
	utc_now(day, hour);
	no_reports_line(last, sizeof last, day);
	snprintf(want, sizeof want, "\nnext\n%s", last);
	assert_int_equal(len, SERVERLOG_LINE_MAX + strlen(want));
	assert_int_equal(text[SERVERLOG_LINE_MAX - 1], 'x');
	assert_string_equal(text + SERVERLOG_LINE_MAX, want);
	free(text);
}

static void
log_counts(void)
{
	char big[600];

	memset(big, 'y', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	if (serverlog_start() != 0)
		_exit(11);
	serverlog_stored(570);
	serverlog_day_info("report refused: %u %s", 422, "not_padded");
	serverlog_hour_error("commit failed: %s", "database or disk is full");
	serverlog_stored(1000);
	serverlog_day_info("report refused: %u %s", 413, "too_large");
	serverlog_day_error("a receipt could not be written");
	serverlog_hour_error("commit failed: %s", "database or disk is full");
	serverlog_day_info("report refused: %u %s", 422, "not_padded");
	serverlog_day_info("%s", big);
	serverlog_hour_error("commit failed: %s", "database or disk is full");
	/* Given its way, the thread would have written the counts by now;
	 * this line, queued after them, must come before them. */
	usleep(200 * 1000);
	serverlog_info("before the stop");
	serverlog_stop(5000);
	serverlog_stored(1);
	serverlog_day_info("after the stop");
	serverlog_stop(5000);
}

/* Stored reports, refusals and failures are counted, not written as they
 * come: the stop writes each text once with its count, in the order of
 * the texts, stdout first (the thread writes stdout, then stderr), the
 * count never cut off a long text. Once stopped, nothing more is said. */
static void
test_counts_said_at_the_stop(void **state)
{
	char day[16], hour[8], day2[16], hour2[8], ys[600], want[2048];
	size_t len;
	char *text;
	int tries;

	(void)state;
	memset(ys, 'y', SERVERLOG_LINE_MAX - 128);
	ys[SERVERLOG_LINE_MAX - 128] = '\0';
	/* An hour that ends during the child splits the counts: once more. */
	for (tries = 0; tries < 2; tries++) {
		utc_now(day, hour);
		text = child_output(log_counts, 1, &len);
		utc_now(day2, hour2);
		if (strcmp(day, day2) == 0 && strcmp(hour, hour2) == 0)
			break;
		free(text);
		text = NULL;
	}
	assert_non_null(text);
	snprintf(want, sizeof want,
	    "before the stop\n"
	    "sealtipd: %s to the stop: 2 reports stored, 1570 bytes\n"
	    "sealtipd: %s to the stop: report refused: 413 too_large (1 time)\n"
	    "sealtipd: %s to the stop: report refused: 422 not_padded (2 times)\n"
	    "sealtipd: %s to the stop: %s (1 time)\n"
	    "sealtipd: %s %s UTC to the stop: commit failed: database or disk is full (3 times)\n"
	    "sealtipd: %s to the stop: a receipt could not be written (1 time)\n",
	    day, day, day, day, ys, day, hour, day);
	assert_string_equal(text, want);
	free(text);
}

static void
log_many_texts(void)
{
	int i;

	if (serverlog_start() != 0)
		_exit(11);
	for (i = 0; i < SERVERLOG_TALLY_MAX + 6; i++)
		serverlog_day_info("event %03d", i);
	serverlog_day_info("event %03d", SERVERLOG_TALLY_MAX + 1);
	serverlog_stop(5000);
}

/* More distinct texts than the table holds: the first ones keep their
 * own line, the rest are counted together. */
static void
test_counts_beyond_the_table(void **state)
{
	char day[16], hour[8], line[128], want[16384];
	size_t len, off = 0;
	char *text;
	int i;

	(void)state;
	utc_now(day, hour);
	text = child_stdout(log_many_texts, &len);
	no_reports_line(line, sizeof line, day);
	off += (size_t)snprintf(want + off, sizeof want - off, "%s", line);
	for (i = 0; i < SERVERLOG_TALLY_MAX; i++)
		off += (size_t)snprintf(want + off, sizeof want - off,
		    "sealtipd: %s to the stop: event %03d (1 time)\n", day, i);
	snprintf(want + off, sizeof want - off,
	    "sealtipd: %s to the stop: events of other kinds (7 times)\n", day);
	assert_string_equal(text, want);
	free(text);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_never_blocks_and_says_what_it_dropped),
		cmocka_unit_test(test_direct_when_not_started),
		cmocka_unit_test(test_long_line_cut),
		cmocka_unit_test(test_counts_said_at_the_stop),
		cmocka_unit_test(test_counts_beyond_the_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
