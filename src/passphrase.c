/* Passphrases, from a file (automation) or typed on the terminal. Both end up
 * in sodium_malloc memory; every buffer that held one is wiped. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <sodium.h>

#include "fileio.h"
#include "passphrase.h"
#include "tool.h"

/* Room for the longest passphrase, its "\r\n", and one byte to tell that a
 * line is longer than allowed. */
#define PASSPHRASE_BUF (PASSPHRASE_MAX + 3)

/* Copies the len bytes of line into a fresh NUL-terminated sodium_malloc
 * buffer, refusing what no terminal could have typed either. */
static int
passphrase_keep(const char *what, const char *line, size_t len, char **out, size_t *out_len)
{
	char *p;

	if (len == 0) {
		tool_error("%s: the passphrase is empty", what);
		return -1;
	}
	if (len > PASSPHRASE_MAX) {
		tool_error("%s: the passphrase is longer than %d bytes", what, PASSPHRASE_MAX);
		return -1;
	}
	if (memchr(line, '\0', len) != NULL) {
		tool_error("%s: the passphrase contains a NUL byte", what);
		return -1;
	}
	if ((p = sodium_malloc(len + 1)) == NULL) {
		tool_error("%s: out of memory", what);
		return -1;
	}
	memcpy(p, line, len);
	p[len] = '\0';
	*out = p;
	*out_len = len;
	return 0;
}

/* Reads only as far as the first newline, so a pipe or a FIFO
 * (--passphrase-file <(pass show key), /dev/fd/3) works as well as a file and
 * nothing after the first line is ever held in memory. */
int
passphrase_from_file(const char *path, char **out, size_t *len)
{
	char *buf = NULL, *nl;
	size_t got = 0, line;
	ssize_t n;
	int fd = -1, rc = -1;

	*out = NULL;
	*len = 0;
	if ((buf = sodium_malloc(PASSPHRASE_BUF)) == NULL) {
		tool_error("%s: out of memory", path);
		goto out;
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1) {
		tool_error("%s: cannot open passphrase file: %s", path, strerror(errno));
		goto out;
	}
	while (got < PASSPHRASE_BUF && memchr(buf, '\n', got) == NULL) {
		n = read(fd, buf + got, PASSPHRASE_BUF - got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			tool_error("%s: cannot read passphrase file: %s", path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	/* Without a newline: the whole file, or a line too long (said below). */
	line = (nl = memchr(buf, '\n', got)) != NULL ? (size_t)(nl - buf) : got;
	if (line > 0 && buf[line - 1] == '\r')
		line--;
	rc = passphrase_keep(path, buf, line, out, len);
out:
	if (fd != -1)
		close(fd);
	if (buf != NULL) {
		sodium_memzero(buf, PASSPHRASE_BUF);
		sodium_free(buf);
	}
	return rc;
}

/* Signals that would otherwise leave the terminal without echo: the same set
 * as OpenBSD's readpassphrase(3). */
static const int passphrase_signals[] = {
    SIGALRM, SIGHUP, SIGINT, SIGPIPE, SIGQUIT, SIGTERM, SIGTSTP, SIGTTIN, SIGTTOU};
#define PASSPHRASE_NSIGNALS (sizeof passphrase_signals / sizeof passphrase_signals[0])

static volatile sig_atomic_t passphrase_caught[NSIG];

static void
passphrase_on_signal(int signo)
{
	passphrase_caught[signo] = 1;
}

static bool
passphrase_any_caught(void)
{
	size_t i;

	for (i = 0; i < PASSPHRASE_NSIGNALS; i++)
		if (passphrase_caught[passphrase_signals[i]])
			return true;
	return false;
}

static void
passphrase_write_tty(int fd, const char *s)
{
	/* Only a prompt: if it cannot be written, reading still tells. */
	(void)fileio_write_all(fd, s, strlen(s));
}

/*
 * One line from the terminal fd with echo off, into buf (PASSPHRASE_BUF).
 * Returns the line length, or -1 on a read error, or -2 when interrupted by a
 * signal that was then re-sent to us with its own disposition restored (and
 * we are still alive). The terminal settings and signal dispositions are put
 * back on every path before returning.
 */
static ssize_t
passphrase_read_tty(int fd, const char *prompt, char *buf)
{
	struct sigaction sa, saved_sa[PASSPHRASE_NSIGNALS];
	struct termios saved_term, term;
	size_t got, i;
	ssize_t n, rc;
	bool stopped, caught;
	int saved_errno = 0;
	char c;

restart:
	for (i = 0; i < PASSPHRASE_NSIGNALS; i++)
		passphrase_caught[passphrase_signals[i]] = 0;
	if (tcgetattr(fd, &saved_term) == -1)
		return -1;
	/* No SA_RESTART: a signal must interrupt read() so that we can restore the
	 * terminal before it takes effect. */
	memset(&sa, 0, sizeof sa);
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = passphrase_on_signal;
	for (i = 0; i < PASSPHRASE_NSIGNALS; i++)
		sigaction(passphrase_signals[i], &sa, &saved_sa[i]);

	term = saved_term;
	term.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
	/* TCSAFLUSH: anything typed before the prompt was shown is not the answer. */
	if (tcsetattr(fd, TCSAFLUSH, &term) == -1) {
		saved_errno = errno;
		rc = -1;
		goto restore;
	}
	passphrase_write_tty(fd, prompt);

	got = 0;
	rc = 0;
	for (;;) {
		n = read(fd, &c, 1);
		if (n == -1 && errno == EINTR && !passphrase_any_caught())
			continue; /* someone else's signal, e.g. SIGWINCH */
		if (n == -1) {
			saved_errno = errno;
			rc = errno == EINTR ? -2 : -1;
			break;
		}
		if (n == 0 || c == '\n' || c == '\r')
			break;
		/* Keep reading past the limit so the rest of the line is not left
		 * for the next reader; the length then says it was too long. */
		if (got < PASSPHRASE_BUF)
			buf[got] = c;
		got++;
	}
	sodium_memzero(&c, sizeof c);
	/* The newline the user typed was not echoed. */
	passphrase_write_tty(fd, "\n");
	if (rc == 0)
		rc = got < PASSPHRASE_BUF ? (ssize_t)got : PASSPHRASE_BUF;

restore:
	tcsetattr(fd, TCSAFLUSH, &saved_term);
	for (i = 0; i < PASSPHRASE_NSIGNALS; i++)
		sigaction(passphrase_signals[i], &saved_sa[i], NULL);

	/* Deliver what was caught, now that echo is back, with the caller's own
	 * disposition: SIGINT kills us as it would have. The buffer is wiped
	 * first, in case it does. Stop signals suspend us; once continued, the
	 * question is asked again. */
	stopped = false;
	if ((caught = passphrase_any_caught()))
		sodium_memzero(buf, PASSPHRASE_BUF);
	for (i = 0; i < PASSPHRASE_NSIGNALS; i++) {
		int signo = passphrase_signals[i];

		if (!passphrase_caught[signo])
			continue;
		kill(getpid(), signo);
		if (signo == SIGTSTP || signo == SIGTTIN || signo == SIGTTOU)
			stopped = true;
	}
	if (stopped)
		goto restart;
	if (caught)
		return -2;
	errno = saved_errno;
	return rc;
}

int
passphrase_from_tty(const char *prompt, int confirm, char **out, size_t *len)
{
	char *first = NULL, *again = NULL;
	ssize_t n1, n2 = 0;
	int fd = -1, rc = -1;

	*out = NULL;
	*len = 0;
	if ((fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC)) == -1) {
		tool_error(
		    "cannot ask for a passphrase: no terminal (/dev/tty: %s)", strerror(errno));
		goto out;
	}
	if ((first = sodium_malloc(PASSPHRASE_BUF)) == NULL ||
	    (confirm && (again = sodium_malloc(PASSPHRASE_BUF)) == NULL)) {
		tool_error("out of memory");
		goto out;
	}
	n1 = passphrase_read_tty(fd, prompt, first);
	/* Asked again only when the first answer could be kept: an empty one
	 * (Enter, or ^D) or one too long is refused right away. */
	if (n1 > 0 && n1 <= PASSPHRASE_MAX && confirm)
		n2 = passphrase_read_tty(fd, "Same passphrase again: ", again);
	if (n1 == -2 || n2 == -2) {
		tool_error("passphrase entry interrupted");
		goto out;
	}
	if (n1 == -1 || n2 == -1) {
		tool_error("cannot read the passphrase from the terminal: %s", strerror(errno));
		goto out;
	}
	if (again != NULL && n1 > 0 && n1 <= PASSPHRASE_MAX &&
	    (n1 != n2 || sodium_memcmp(first, again, (size_t)n1) != 0)) {
		tool_error("the two passphrases do not match");
		goto out;
	}
	rc = passphrase_keep("/dev/tty", first, (size_t)n1, out, len);
out:
	if (fd != -1)
		close(fd);
	if (first != NULL) {
		sodium_memzero(first, PASSPHRASE_BUF);
		sodium_free(first);
	}
	if (again != NULL) {
		sodium_memzero(again, PASSPHRASE_BUF);
		sodium_free(again);
	}
	return rc;
}

void
passphrase_free(char *passphrase)
{
	/* sodium_free wipes the whole allocation before releasing it. */
	sodium_free(passphrase);
}
