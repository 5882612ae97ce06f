/* interrupt: interrupt_wait lets the caught signals through and no other;
 * without interrupt_catch it keeps the caller's mask, so a signal a parent
 * blocked stays pending rather than killing the tool. Each case runs in a
 * child, whose exit status is the verdict. */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "interrupt.h"

/* Runs body in a child, which must exit 0. */
static void
expect_child_ok(int (*body)(void))
{
	pid_t pid;
	int status;

	if ((pid = fork()) == 0)
		_exit(body());
	assert_int_not_equal(pid, -1);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

/* Blocks signo, as a parent's mask would, and makes a pipe that stays
 * empty. Returns 0, or -1. */
static int
block_and_pipe(int signo, int fds[2])
{
	sigset_t one;

	sigemptyset(&one);
	sigaddset(&one, signo);
	return sigprocmask(SIG_BLOCK, &one, NULL) == -1 || pipe(fds) == -1 ? -1 : 0;
}

/* SIGUSR1 blocked and pending, as a parent's mask would leave it: the wait
 * times out and the signal is still pending. */
static int
blocked_signal_stays_pending(void)
{
	sigset_t pending;
	int fds[2];

	if (block_and_pipe(SIGUSR1, fds) == -1)
		return 10;
	raise(SIGUSR1);
	if (interrupt_wait(fds[0], POLLIN, 50) != -1 || errno != ETIMEDOUT)
		return 11;
	if (sigpending(&pending) == -1 || !sigismember(&pending, SIGUSR1))
		return 12;
	if (interrupt_poll() != 0)
		return 13;
	return 0;
}

/* After interrupt_catch, a SIGTERM ends the wait with EINTR and is named by
 * interrupt_poll; a blocked SIGUSR1 still does not come through. */
static int
caught_signal_ends_wait(void)
{
	int fds[2];

	if (block_and_pipe(SIGUSR1, fds) == -1)
		return 10;
	interrupt_catch();
	raise(SIGUSR1);
	if (interrupt_wait(fds[0], POLLIN, 50) != -1 || errno != ETIMEDOUT)
		return 11;
	raise(SIGTERM);
	if (interrupt_wait(fds[0], POLLIN, 5000) != -1 || errno != EINTR)
		return 12;
	if (interrupt_poll() != SIGTERM)
		return 13;
	return 0;
}

/* A SIGTERM the parent blocked is not taken over by interrupt_catch: it
 * stays pending, the wait runs its course, and interrupt_poll names none. */
static int
blocked_term_not_caught(void)
{
	sigset_t pending;
	int fds[2];

	if (block_and_pipe(SIGTERM, fds) == -1)
		return 10;
	interrupt_catch();
	raise(SIGTERM);
	if (interrupt_wait(fds[0], POLLIN, 50) != -1 || errno != ETIMEDOUT)
		return 11;
	if (interrupt_poll() != 0)
		return 12;
	if (sigpending(&pending) == -1 || !sigismember(&pending, SIGTERM))
		return 13;
	return 0;
}

/* Ready at once: the events that came, for POLLOUT as for POLLIN. */
static int
ready_returns_zero(void)
{
	int fds[2];

	if (pipe(fds) == -1 || write(fds[1], "x", 1) != 1)
		return 10;
	if (interrupt_wait(fds[0], POLLIN, 0) != POLLIN || interrupt_wait(fds[1], POLLOUT, 0) != POLLOUT)
		return 11;
	return 0;
}

static void
test_blocked_signal_stays_pending(void **state)
{
	(void)state;
	expect_child_ok(blocked_signal_stays_pending);
}

static void
test_caught_signal_ends_wait(void **state)
{
	(void)state;
	expect_child_ok(caught_signal_ends_wait);
}

static void
test_blocked_term_not_caught(void **state)
{
	(void)state;
	expect_child_ok(blocked_term_not_caught);
}

static void
test_ready_returns_zero(void **state)
{
	(void)state;
	expect_child_ok(ready_returns_zero);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_blocked_signal_stays_pending),
	    cmocka_unit_test(test_caught_signal_ends_wait),
	    cmocka_unit_test(test_blocked_term_not_caught),
	    cmocka_unit_test(test_ready_returns_zero),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
