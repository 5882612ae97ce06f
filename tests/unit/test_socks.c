/* socks: the SOCKS5 handshake byte for byte, against a proxy played over a
 * socket pair; what it reads ends where the server's bytes begin; every
 * refusal is one line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "socks.h"

/* Plays a proxy whose answers are given in advance: runs socks_connect to
 * host port 80 on one end of a pair; the other end gets proxy_says, then is
 * closed for writing. sent gets what the client sent (up to 1024 bytes).
 * Returns socks_connect's result; *client stays open for more reading. */
static int
play(const unsigned char *proxy_says, size_t len, const char *host, unsigned char *sent,
    size_t *sent_len, char *why, size_t whylen, int *client)
{
	int pair[2], rc;
	ssize_t n;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, pair), 0);
	assert_int_equal(write(pair[1], proxy_says, len), (ssize_t)len);
	shutdown(pair[1], SHUT_WR);
	rc = socks_connect(pair[0], host, "80", 1000, why, whylen);
	shutdown(pair[0], SHUT_WR);
	n = read(pair[1], sent, 1024);
	*sent_len = n > 0 ? (size_t)n : 0;
	close(pair[1]);
	*client = pair[0];
	return rc;
}

static void
test_login_connect_and_nothing_more(void **state)
{
	static const unsigned char proxy[] = {5, 2, 1, 0, 5, 0, 0, 3, 9, 'l', 'o', 'c', 'a', 'l',
	    'h', 'o', 's', 't', 0, 80, 'H', 'T', 'T', 'P'};
	unsigned char sent[1024], expect[128], rest[8], first_login[32];
	size_t n, i;
	char why[256];
	int fd;

	(void)state;
	assert_int_equal(
	    play(proxy, sizeof proxy, "ab.onion", sent, &n, why, sizeof why, &fd), 0);
	/* Hello offering no log-in and a password; RFC 1929 with 32 hex
	 * characters as user and password; CONNECT by name to port 80. */
	memcpy(expect, "\x05\x02\x00\x02\x01\x20", 6);
	assert_int_equal(n, 6 + 32 + 1 + 32 + 7 + 8);
	assert_memory_equal(sent, expect, 6);
	for (i = 0; i < 32; i++)
		assert_non_null(strchr("0123456789abcdef", sent[6 + i]));
	assert_int_equal(sent[38], 32);
	assert_memory_equal(sent + 39, sent + 6, 32);
	assert_memory_equal(sent + 71, "\x05\x01\x00\x03\x08" "ab.onion" "\x00\x50", 15);
	/* The server's first bytes are left for the HTTP client. */
	assert_int_equal(read(fd, rest, sizeof rest), 4);
	assert_memory_equal(rest, "HTTP", 4);
	close(fd);
	memcpy(first_login, sent + 6, 32);
	/* The next connection of the same run logs in the same. */
	assert_int_equal(
	    play(proxy, sizeof proxy, "ab.onion", sent, &n, why, sizeof why, &fd), 0);
	close(fd);
	assert_memory_equal(sent + 6, first_login, 32);
}

static void
test_no_login_and_address_replies(void **state)
{
	static const unsigned char v4[] = {5, 0, 5, 0, 0, 1, 127, 0, 0, 1, 0, 80, 'X'};
	static const unsigned char v6[] = {5, 0, 5, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    0, 0, 0, 0, 1, 0, 80, 'Y'};
	unsigned char sent[1024], rest[4];
	size_t n;
	char why[256];
	int fd;

	(void)state;
	assert_int_equal(play(v4, sizeof v4, "example.org", sent, &n, why, sizeof why, &fd), 0);
	assert_int_equal(n, 4 + 7 + 11);
	assert_memory_equal(sent + 4, "\x05\x01\x00\x03\x0b" "example.org" "\x00\x50", 18);
	assert_int_equal(read(fd, rest, sizeof rest), 1);
	assert_int_equal(rest[0], 'X');
	close(fd);
	assert_int_equal(play(v6, sizeof v6, "example.org", sent, &n, why, sizeof why, &fd), 0);
	assert_int_equal(read(fd, rest, sizeof rest), 1);
	assert_int_equal(rest[0], 'Y');
	close(fd);
}

static void
test_refusals(void **state)
{
	static const struct {
		unsigned char says[16];
		size_t len;
		const char *why;
	} cases[] = {
	    {{5, 0, 5, 4, 0, 1, 0, 0, 0, 0, 0, 0}, 12,
		"the SOCKS proxy could not connect to ab.onion port 80: host unreachable"},
	    {{5, 0, 5, 5, 0, 1, 0, 0, 0, 0, 0, 0}, 12,
		"the SOCKS proxy could not connect to ab.onion port 80: connection refused"},
	    {{5, 0, 5, 0xf0, 0, 1, 0, 0, 0, 0, 0, 0}, 12,
		"the SOCKS proxy could not connect to ab.onion port 80: onion service "
		"descriptor not found (is the address right, and the service up?)"},
	    {{5, 0, 5, 0xf6, 0, 1, 0, 0, 0, 0, 0, 0}, 12,
		"the SOCKS proxy could not connect to ab.onion port 80: invalid onion address"},
	    {{5, 0, 5, 0x42, 0, 1, 0, 0, 0, 0, 0, 0}, 12,
		"the SOCKS proxy could not connect to ab.onion port 80: reply code 0x42"},
	    {{5, 0xff}, 2, "the SOCKS proxy wants a log-in sealtip does not offer"},
	    {{5, 2, 1, 1}, 4, "the SOCKS proxy refused the log-in (status 1)"},
	    {{4, 0}, 2, "not a SOCKS5 proxy (it answered version 4)"},
	    {{5}, 1, "the SOCKS proxy closed the connection at the greeting"},
	    {{5, 0, 5, 0, 0}, 5, "the SOCKS proxy closed the connection at the connect request"},
	    {{5, 0, 5, 0, 0, 1, 127, 0}, 8,
		"the SOCKS proxy closed the connection at the connect reply"},
	    {{5, 0, 5, 0, 0, 3}, 6, "the SOCKS proxy closed the connection at the connect reply"},
	    {{5, 0, 5, 0, 0, 9, 0, 0}, 8, "the SOCKS proxy answered an unknown address type 9"},
	};
	unsigned char sent[1024];
	size_t n, i;
	char why[256];
	int fd;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		assert_int_equal(play(cases[i].says, cases[i].len, "ab.onion", sent, &n, why,
				     sizeof why, &fd),
		    -1);
		close(fd);
		assert_string_equal(why, cases[i].why);
	}
}

/* A proxy that stops half way, its end still open: the whole handshake
 * has one deadline. */
static void
test_deadline(void **state)
{
	static const unsigned char half[] = {5, 0, 5, 0, 0, 3, 9, 'l', 'o'};
	struct timespec t0, t1;
	char why[256];
	int pair[2];
	double took;

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, pair), 0);
	assert_int_equal(write(pair[1], half, sizeof half), (ssize_t)sizeof half);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(socks_connect(pair[0], "ab.onion", "80", 1000, why, sizeof why), -1);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	took = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	assert_true(took >= 0.9 && took < 5);
	assert_string_equal(why, "the SOCKS proxy did not complete the handshake within 1 s "
				 "(stopped at the connect reply)");
	close(pair[0]);
	close(pair[1]);
}

/* A proxy that drips its reply, a byte every 300 ms: each byte comes
 * well within the second, the whole does not. */
static void
test_drip(void **state)
{
	static const unsigned char full[] = {5, 0, 5, 0, 0, 3, 9, 'l', 'o', 'c', 'a', 'l', 'h',
	    'o', 's', 't', 0, 80};
	const struct timespec pace = {0, 300 * 1000 * 1000};
	char why[256];
	int pair[2], status;
	size_t i;
	pid_t pid;

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, pair), 0);
	if ((pid = fork()) == 0) {
		close(pair[0]);
		for (i = 0; i < sizeof full; i++) {
			if (write(pair[1], full + i, 1) != 1)
				_exit(1);
			nanosleep(&pace, NULL);
		}
		_exit(0);
	}
	assert_true(pid > 0);
	close(pair[1]);
	assert_int_equal(socks_connect(pair[0], "ab.onion", "80", 1000, why, sizeof why), -1);
	assert_string_equal(why, "the SOCKS proxy did not complete the handshake within 1 s "
				 "(stopped at the connect request)");
	close(pair[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
}

static void
test_names(void **state)
{
	char host[300], why[256];
	unsigned char sent[1024];
	size_t n;
	int fd;

	(void)state;
	assert_true(socks_is_onion("ab.onion"));
	assert_true(socks_is_onion("AB.ONION."));
	assert_true(socks_is_onion("x.y.Onion"));
	assert_false(socks_is_onion("onion"));
	assert_false(socks_is_onion(".onion.example"));
	assert_false(socks_is_onion("ab.onion.."));
	assert_false(socks_is_onion("abonion"));
	assert_false(socks_is_onion(""));
	/* A name longer than SOCKS5 carries: refused, nothing sent. */
	memset(host, 'a', 256);
	host[256] = '\0';
	assert_int_equal(play((const unsigned char *)"", 0, host, sent, &n, why, sizeof why, &fd),
	    -1);
	close(fd);
	assert_int_equal(n, 0);
	assert_string_equal(why, "the host name or port cannot be sent to a SOCKS proxy");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_login_connect_and_nothing_more),
		cmocka_unit_test(test_no_login_and_address_replies),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_deadline),
		cmocka_unit_test(test_drip),
		cmocka_unit_test(test_names),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
