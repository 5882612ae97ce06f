#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "interrupt.h"

static volatile sig_atomic_t interrupt_signal;
static sigset_t interrupt_caught;    /* the signals interrupt_catch took over */
static sigset_t interrupt_unblocked; /* the thread's mask before, for ppoll */
static int interrupt_active;	     /* interrupt_catch ran */

static void
interrupt_on_signal(int signo)
{
	interrupt_signal = signo;
}

void
interrupt_catch(void)
{
	static const int signals[] = { SIGINT, SIGTERM, SIGHUP };
	struct sigaction sa, old;
	size_t i;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = interrupt_on_signal;
	sigemptyset(&sa.sa_mask);
	sigemptyset(&interrupt_caught);
	/* A signal the parent blocked stays blocked, and pending, as asked;
	 * one it ignored stays ignored. */
	pthread_sigmask(SIG_BLOCK, NULL, &interrupt_unblocked);
	for (i = 0; i < sizeof signals / sizeof signals[0]; i++)
		if (!sigismember(&interrupt_unblocked, signals[i]) &&
		    sigaction(signals[i], NULL, &old) == 0 && old.sa_handler != SIG_IGN &&
		    sigaction(signals[i], &sa, NULL) == 0)
			sigaddset(&interrupt_caught, signals[i]);
	/* Blocked, and let through only inside ppoll: a handler run between a
	 * check of the flag and a blocking read would leave that read waiting. */
	pthread_sigmask(SIG_BLOCK, &interrupt_caught, &interrupt_unblocked);
	interrupt_active = 1;
}

int
interrupt_wait(int fd, short events, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = events };
	const struct timespec limit = { timeout_ms / 1000, (long)(timeout_ms % 1000) * 1000000 };
	int n;

	for (;;) {
		if (interrupt_poll() != 0) {
			errno = EINTR;
			return -1;
		}
		/* Without interrupt_catch, the caller's mask stays as it is: a
		 * signal a parent blocked must not kill us here. */
		n = ppoll(&p, 1, timeout_ms < 0 ? NULL : &limit,
		    interrupt_active ? &interrupt_unblocked : NULL);
		if (n > 0)
			return p.revents;
		if (n == 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		if (errno != EINTR)
			return -1;
	}
}

int
interrupt_poll(void)
{
	const struct timespec now = { 0, 0 };
	int signo, saved = errno;

	if (interrupt_signal == 0 && (signo = sigtimedwait(&interrupt_caught, NULL, &now)) > 0)
		interrupt_signal = signo;
	/* Callers ask between a failure and its message: keep the failure's errno. */
	errno = saved;
	return interrupt_signal;
}

void
interrupt_reraise(void)
{
	int signo = interrupt_poll();

	if (signo == 0)
		return;
	/* What was said of reports kept must not die in stdout's buffer. */
	fflush(stdout);
	signal(signo, SIG_DFL);
	raise(signo);
	pthread_sigmask(SIG_SETMASK, &interrupt_unblocked, NULL);
}
