#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include <sodium.h>

#include "interrupt.h"
#include "socks.h"

#define SOCKS_VERSION 5
#define SOCKS_AUTH_NONE 0x00
#define SOCKS_AUTH_PASSWORD 0x02
#define SOCKS_AUTH_REFUSED 0xff
#define SOCKS_PASSWORD_VERSION 1
#define SOCKS_CONNECT 1
#define SOCKS_ATYP_IPV4 1
#define SOCKS_ATYP_NAME 3
#define SOCKS_ATYP_IPV6 4
/* Random bytes behind the isolation user name (and password), in hex. */
#define SOCKS_ISOLATION_BYTES 16

/* The reply codes of RFC 1928, then those Tor adds for onion services with
 * its ExtendedErrors flag (proposal 304). */
static const char *
socks_reply_text(unsigned code)
{
	static const char *const rfc[] = {"succeeded", "general failure",
	    "connection not allowed by its rules", "network unreachable", "host unreachable",
	    "connection refused", "TTL expired", "command not supported",
	    "address type not supported"};
	static const char *const tor[] = {"onion service descriptor not found (is the address "
					  "right, and the service up?)",
	    "onion service descriptor invalid", "onion service introduction failed",
	    "onion service rendezvous failed", "onion service needs client authorization",
	    "onion service client authorization wrong", "invalid onion address",
	    "onion service introduction timed out"};

	if (code < sizeof rfc / sizeof rfc[0])
		return rfc[code];
	if (code >= 0xf0 && code - 0xf0 < sizeof tor / sizeof tor[0])
		return tor[code - 0xf0];
	return NULL;
}

static int64_t
socks_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Sends all of len bytes of buf (sending), or reads exactly len into it:
 * the proxy's reply ends where the server's bytes begin. By deadline_ms
 * (socks_now_ms), for the whole handshake: a proxy that drips its bytes
 * must not restart the wait with each. 0, or -1 with errno (EPIPE: the
 * proxy closed; EINTR: a caught signal; ETIMEDOUT). */
static int
socks_move(int fd, void *buf, size_t len, int64_t deadline_ms, int sending)
{
	unsigned char *p = buf;
	int64_t left;
	ssize_t n;

	while (len > 0) {
		if ((left = deadline_ms - socks_now_ms()) <= 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		if (interrupt_wait(fd, sending ? POLLOUT : POLLIN,
			left > INT32_MAX ? INT32_MAX : (int)left) == -1)
			return -1;
		n = sending ? send(fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT)
			    : recv(fd, p, len, MSG_DONTWAIT);
		if (n == -1 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
			continue;
		if (n == 0)
			errno = EPIPE;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int
socks_send(int fd, const void *buf, size_t len, int64_t deadline_ms)
{
	return socks_move(fd, (void *)(uintptr_t)buf, len, deadline_ms, 1);
}

static int
socks_recv(int fd, void *buf, size_t len, int64_t deadline_ms)
{
	return socks_move(fd, buf, len, deadline_ms, 0);
}

/* The one line for an I/O failure with the proxy, during what. */
static int
socks_io_failed(const char *what, int timeout_ms, char *why, size_t whylen)
{
	if (errno == EINTR)
		why[0] = '\0';
	else if (errno == ETIMEDOUT)
		snprintf(why, whylen,
		    "the SOCKS proxy did not complete the handshake within %d s (stopped at the %s)",
		    timeout_ms / 1000, what);
	else if (errno == EPIPE)
		snprintf(why, whylen, "the SOCKS proxy closed the connection at the %s", what);
	else
		snprintf(why, whylen, "the SOCKS proxy, at the %s: %s", what, strerror(errno));
	return -1;
}

/* RFC 1929, with a user name and password of random bytes: the same for
 * every connection of one run (one circuit, not one per request: each new
 * circuit to an onion service takes seconds), another for the next run. */
static int
socks_password(int fd, int64_t deadline_ms, int timeout_ms, char *why, size_t whylen)
{
	static char hex[2 * SOCKS_ISOLATION_BYTES + 1];
	unsigned char random[SOCKS_ISOLATION_BYTES], msg[3 + 2 * 2 * SOCKS_ISOLATION_BYTES],
	    reply[2];
	size_t n = 2 * SOCKS_ISOLATION_BYTES;

	if (hex[0] == '\0') {
		randombytes_buf(random, sizeof random);
		sodium_bin2hex(hex, sizeof hex, random, sizeof random);
	}
	msg[0] = SOCKS_PASSWORD_VERSION;
	msg[1] = (unsigned char)n;
	memcpy(msg + 2, hex, n);
	msg[2 + n] = (unsigned char)n;
	memcpy(msg + 3 + n, hex, n);
	if (socks_send(fd, msg, sizeof msg, deadline_ms) == -1 ||
	    socks_recv(fd, reply, sizeof reply, deadline_ms) == -1)
		return socks_io_failed("log-in", timeout_ms, why, whylen);
	if (reply[0] != SOCKS_PASSWORD_VERSION || reply[1] != 0) {
		snprintf(why, whylen, "the SOCKS proxy refused the log-in (status %u)", reply[1]);
		return -1;
	}
	return 0;
}

int
socks_connect(int fd, const char *host, const char *port, int timeout_ms, char *why,
    size_t whylen)
{
	static const unsigned char hello[] = {
	    SOCKS_VERSION, 2, SOCKS_AUTH_NONE, SOCKS_AUTH_PASSWORD};
	unsigned char msg[4 + 1 + 255 + 2], reply[4 + 255 + 2];
	size_t hlen = strlen(host), rest;
	unsigned long portnum = strtoul(port, NULL, 10);
	int64_t deadline_ms = socks_now_ms() + timeout_ms;
	const char *text;

	why[0] = '\0';
	if (hlen == 0 || hlen > 255 || portnum == 0 || portnum > 65535) {
		snprintf(why, whylen, "the host name or port cannot be sent to a SOCKS proxy");
		return -1;
	}
	if (socks_send(fd, hello, sizeof hello, deadline_ms) == -1 ||
	    socks_recv(fd, reply, 2, deadline_ms) == -1)
		return socks_io_failed("greeting", timeout_ms, why, whylen);
	if (reply[0] != SOCKS_VERSION) {
		snprintf(why, whylen, "not a SOCKS5 proxy (it answered version %u)", reply[0]);
		return -1;
	}
	if (reply[1] == SOCKS_AUTH_PASSWORD) {
		if (socks_password(fd, deadline_ms, timeout_ms, why, whylen) == -1)
			return -1;
	} else if (reply[1] != SOCKS_AUTH_NONE) {
		snprintf(why, whylen, "the SOCKS proxy wants a log-in sealtip does not offer");
		return -1;
	}
	msg[0] = SOCKS_VERSION;
	msg[1] = SOCKS_CONNECT;
	msg[2] = 0;
	msg[3] = SOCKS_ATYP_NAME;
	msg[4] = (unsigned char)hlen;
	memcpy(msg + 5, host, hlen);
	msg[5 + hlen] = (unsigned char)(portnum >> 8);
	msg[6 + hlen] = (unsigned char)(portnum & 0xff);
	if (socks_send(fd, msg, 7 + hlen, deadline_ms) == -1 ||
	    socks_recv(fd, reply, 4, deadline_ms) == -1)
		return socks_io_failed("connect request", timeout_ms, why, whylen);
	if (reply[0] != SOCKS_VERSION) {
		snprintf(why, whylen, "not a SOCKS5 proxy (it answered version %u)", reply[0]);
		return -1;
	}
	if (reply[1] != 0) {
		if ((text = socks_reply_text(reply[1])) != NULL)
			snprintf(why, whylen, "the SOCKS proxy could not connect to %s port %s: %s",
			    host, port, text);
		else
			snprintf(why, whylen,
			    "the SOCKS proxy could not connect to %s port %s: reply code 0x%02x",
			    host, port, reply[1]);
		return -1;
	}
	/* The address the proxy bound, which says nothing we need, then its
	 * port: read to the end so that the server's answer starts clean. */
	if (reply[3] == SOCKS_ATYP_IPV4)
		rest = 4 + 2;
	else if (reply[3] == SOCKS_ATYP_IPV6)
		rest = 16 + 2;
	else if (reply[3] == SOCKS_ATYP_NAME && socks_recv(fd, reply, 1, deadline_ms) == 0)
		rest = (size_t)reply[0] + 2;
	else if (reply[3] == SOCKS_ATYP_NAME)
		return socks_io_failed("connect reply", timeout_ms, why, whylen);
	else {
		snprintf(why, whylen, "the SOCKS proxy answered an unknown address type %u",
		    reply[3]);
		return -1;
	}
	if (socks_recv(fd, reply, rest, deadline_ms) == -1)
		return socks_io_failed("connect reply", timeout_ms, why, whylen);
	return 0;
}

int
socks_is_onion(const char *host)
{
	size_t n = strlen(host);

	if (n > 0 && host[n - 1] == '.')
		n--;
	return n >= 6 && strncasecmp(host + n - 6, ".onion", 6) == 0;
}
