#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "decimal.h"
#include "httpclient.h"
#include "interrupt.h"
#include "resolve.h"
#include "socks.h"
#include "tool.h"

#define HTTPCLIENT_SEND_CHUNK 65536

int
httpclient_url_parse(const char *s, struct httpclient_url *u)
{
	const char *p, *host_end, *path;
	size_t hlen;

	memset(u, 0, sizeof *u);
	u->timeout = HTTPCLIENT_TIMEOUT_SECONDS;
	if (strncmp(s, "http://", 7) != 0 || strlen(s) >= sizeof u->shown)
		return -1;
	snprintf(u->shown, sizeof u->shown, "%s", s);
	p = s + 7;
	path = p + strcspn(p, "/?#");
	if (*path != '\0' && *path != '/')
		return -1;
	if (*p == '[') {
		if ((host_end = memchr(p, ']', (size_t)(path - p))) == NULL)
			return -1;
		hlen = (size_t)(host_end - p - 1);
		memcpy(u->host, p + 1, hlen < sizeof u->host ? hlen : 0);
		p = host_end + 1;
	} else {
		host_end = memchr(p, ':', (size_t)(path - p));
		if (host_end == NULL)
			host_end = path;
		hlen = (size_t)(host_end - p);
		memcpy(u->host, p, hlen < sizeof u->host ? hlen : 0);
		p = host_end;
	}
	if (hlen == 0 || hlen >= sizeof u->host)
		return -1;
	u->host[hlen] = '\0';
	if (*p == ':') {
		p++;
		if (path - p < 1 || path - p > 5 || strspn(p, "0123456789") < (size_t)(path - p))
			return -1;
		memcpy(u->port, p, (size_t)(path - p));
		u->port[path - p] = '\0';
		/* getaddrinfo would take 85536 as 20000: the token to another port. */
		if (strtoul(u->port, NULL, 10) > 65535)
			return -1;
	} else if (p == path) {
		snprintf(u->port, sizeof u->port, "80");
	} else {
		return -1;
	}
	hlen = strlen(path);
	while (hlen > 0 && path[hlen - 1] == '/')
		hlen--;
	memcpy(u->base, path, hlen);
	u->base[hlen] = '\0';
	/* The path goes into the request line as it is. */
	if (strpbrk(u->base, "?# \r\n\t") != NULL)
		return -1;
	return 0;
}

int
httpclient_proxy_parse(const char *s, struct httpclient_url *u)
{
	const char *colon, *host = s;
	size_t hlen;

	if (*s == '[') {
		if ((colon = strstr(s, "]:")) == NULL)
			return -1;
		host = s + 1;
		hlen = (size_t)(colon - host);
		colon++;
	} else {
		if ((colon = strrchr(s, ':')) == NULL || memchr(s, ':', (size_t)(colon - s)) != NULL)
			return -1;
		hlen = (size_t)(colon - s);
	}
	if (hlen == 0 || hlen >= sizeof u->proxy_host || strlen(colon + 1) < 1 ||
	    strlen(colon + 1) > 5 || strspn(colon + 1, "0123456789") != strlen(colon + 1) ||
	    strtoul(colon + 1, NULL, 10) == 0 || strtoul(colon + 1, NULL, 10) > 65535)
		return -1;
	memcpy(u->proxy_host, host, hlen);
	u->proxy_host[hlen] = '\0';
	snprintf(u->proxy_port, sizeof u->proxy_port, "%s", colon + 1);
	return 0;
}

int
httpclient_timeout_parse(const char *s, int *seconds)
{
	uint64_t v;

	if (decimal_parse(s, HTTPCLIENT_TIMEOUT_MAX, &v) == -1 || v == 0)
		return -1;
	*seconds = (int)v;
	return 0;
}

static int64_t
httpclient_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* How far the exchange has come: body bytes received, or while sending,
 * the request bytes the server's end has acknowledged (those handed to the
 * socket less those still queued in it). */
static uint64_t
httpclient_progress(const struct httpclient *c)
{
	int queued;

	if (!c->sending)
		return c->moved;
	if (ioctl(c->fd, SIOCOUTQ, &queued) == -1 || queued < 0 || (uint64_t)queued > c->moved)
		return c->moved;
	return c->moved - (uint64_t)queued;
}

/* Body bytes that have arrived but were not read yet. */
static uint64_t
httpclient_unread(const struct httpclient *c)
{
	int queued;

	if (c->sending || ioctl(c->fd, FIONREAD, &queued) == -1 || queued < 0)
		return 0;
	return (uint64_t)queued;
}

/* A new window of c->timeout seconds, in which the server must keep pace. */
static void
httpclient_window_begin(struct httpclient *c)
{
	c->window_start = httpclient_now_ms();
	c->window_mark = httpclient_progress(c);
}

/* Waits until the socket is ready for events, and returns those that came
 * (> 0). A window that runs out with
 * less than the least pace moved in it ends the wait; so does the first one
 * when it is a deadline (the response headers, which come at once from any
 * server at all). slice_ms >= 0 bounds this one call (errno EAGAIN when it
 * ran out). Fails with -1 and errno ETIMEDOUT, EAGAIN, EINTR (a signal
 * caught by interrupt_catch) or poll's. */
static int
httpclient_wait(struct httpclient *c, short events, int deadline, int slice_ms)
{
	int64_t left;
	uint64_t done;
	int sliced, ready;

	for (;;) {
		left = c->window_start + (int64_t)c->timeout * 1000 - httpclient_now_ms();
		if (left <= 0 && deadline) {
			/* Headers that came while we were paused (^Z, a slow
			 * disk) may be whole: read them; at most
			 * HTTPCLIENT_HEADER_MAX bytes can be. */
			return interrupt_wait(c->fd, events, 0); /* or ETIMEDOUT, EINTR */
		}
		if (left <= 0) {
			/* What arrived but is not read yet counts, once: the one
			 * paused may have been us. */
			done = httpclient_progress(c) + httpclient_unread(c);
			if (done - c->window_mark <
			    (uint64_t)c->timeout * HTTPCLIENT_MIN_BYTES_PER_SECOND) {
				errno = ETIMEDOUT;
				return -1;
			}
			c->window_start = httpclient_now_ms();
			c->window_mark = done;
			continue;
		}
		sliced = slice_ms >= 0 && slice_ms < left;
		if ((ready = interrupt_wait(c->fd, events, sliced ? slice_ms : (int)left)) > 0)
			return ready;
		if (errno != ETIMEDOUT)
			return -1;
		if (sliced) {
			errno = EAGAIN;
			return -1;
		}
	}
}

/* Says why the server was given up on: it stopped sending the response, or
 * taking the request. */
static void
httpclient_stalled(const struct httpclient *c)
{
	uint64_t done = httpclient_progress(c) + httpclient_unread(c),
		 in_window = done - c->window_mark;
	const char *what = c->sending ? "took" : "sent",
		   *after = c->sending ? "of the request reached it" : "of the response";

	if (in_window == 0)
		tool_error("%s: the server %s nothing for %d s, after %llu bytes %s", c->shown, what,
		    c->timeout, (unsigned long long)done, after);
	else
		tool_error("%s: the server %s only %llu bytes in %d s, under %d KiB/s, after %llu "
			   "bytes %s", c->shown, what, (unsigned long long)in_window, c->timeout,
		    HTTPCLIENT_MIN_BYTES_PER_SECOND / 1024, (unsigned long long)done, after);
}

/* The request is all in the socket, not all at the server: megabytes of an
 * upload can still be queued here. Until the server's end has acknowledged
 * it all (or answered early), the pace rule holds, and only then does the
 * answer's deadline start. Returns 0, or -1 with errno as httpclient_wait. */
static int
httpclient_drain(struct httpclient *c)
{
	int queued;

	for (;;) {
		if (ioctl(c->fd, SIOCOUTQ, &queued) == -1 || queued <= 0)
			break;
		if (httpclient_wait(c, POLLIN, 0, 50) > 0)
			break;
		if (errno != EAGAIN)
			return -1;
	}
	c->sending = 0;
	return 0;
}

/* Connects fd to addr within timeout_ms, leaving fd blocking as it came.
 * Returns 0, or -1 with errno (ETIMEDOUT, EINTR from a caught signal, or
 * the connection's own error). Waited in interrupt_wait, not in a blocking
 * connect: signals caught by interrupt_catch are blocked anywhere else. */
static int
httpclient_connect(int fd, const struct sockaddr *addr, socklen_t addrlen, int timeout_ms)
{
	socklen_t errlen = sizeof(int);
	int flags, err = 0;

	if ((flags = fcntl(fd, F_GETFL)) == -1 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) == -1)
		return -1;
	if (connect(fd, addr, addrlen) == -1) {
		if (errno != EINPROGRESS)
			return -1;
		if (interrupt_wait(fd, POLLOUT, timeout_ms) == -1 ||
		    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &errlen) == -1)
			return -1;
		if (err != 0) {
			errno = err;
			return -1;
		}
	}
	return fcntl(fd, F_SETFL, flags);
}

/* Connects to the server, or through the SOCKS proxy to it: the name lookup
 * and the connection share one deadline of u->timeout. Returns the socket,
 * or -1 (printed, except errno EINTR from a caught signal). */
static int
httpclient_dial(const struct httpclient_url *u)
{
	int proxied = u->proxy_host[0] != '\0';
	const char *host = proxied ? u->proxy_host : u->host,
		   *port = proxied ? u->proxy_port : u->port,
		   *what = proxied ? "the SOCKS proxy " : "";
	int64_t deadline = httpclient_now_ms() + (int64_t)u->timeout * 1000, left;
	struct addrinfo hints, *ai = NULL, *a;
	struct timeval tv = {u->timeout, 0};
	size_t addresses = 0, tried = 0;
	char why[512];
	int fd = -1, rc, saved;

	/* Before any resolver hears the name. */
	if (!proxied && socks_is_onion(u->host)) {
		tool_error("%s: an onion address is reached only through Tor: give --socks "
			   "127.0.0.1:9050 (Tor Browser's: 127.0.0.1:9150); nothing was sent",
		    u->shown);
		return -1;
	}
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	rc = resolve_name(host, port, &hints, u->timeout * 1000, &ai);
	if (rc == EAI_SYSTEM && errno == EINTR)
		return -1;
	if (rc == EAI_SYSTEM && errno == ETIMEDOUT) {
		tool_error("%s%s: no answer from the name resolver within %d s", what, host,
		    u->timeout);
		return -1;
	}
	if (rc != 0) {
		tool_error("%s%s: %s", what, host, rc == EAI_SYSTEM ? strerror(errno) :
		    gai_strerror(rc));
		return -1;
	}
	for (a = ai; a != NULL; a = a->ai_next)
		addresses++;
	errno = ETIMEDOUT;
	for (a = ai; a != NULL; a = a->ai_next, tried++) {
		if ((left = deadline - httpclient_now_ms()) <= 0) {
			errno = ETIMEDOUT;
			break;
		}
		if ((fd = socket(a->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
			continue;
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
		/* Each address left gets its share of the time: one that drops
		 * every packet (an IPv6 route that goes nowhere) must not use up
		 * the time of the next. */
		if (httpclient_connect(fd, a->ai_addr, a->ai_addrlen,
			(int)(left / (int64_t)(addresses - tried))) == 0)
			break;
		saved = errno;
		close(fd);
		fd = -1;
		errno = saved;
		if (errno == EINTR)
			break;
	}
	if (fd == -1 && errno == ETIMEDOUT)
		tool_error("%s%s port %s: no connection within %d s", what, host, port, u->timeout);
	else if (fd == -1 && errno != EINTR)
		tool_error("%s%s port %s: %s%s", what, host, port, strerror(errno),
		    proxied ? " (is Tor running?)" : "");
	saved = errno;
	freeaddrinfo(ai);
	errno = saved;
	if (fd != -1 && proxied &&
	    socks_connect(fd, u->host, u->port, u->timeout * 1000, why, sizeof why) == -1) {
		saved = errno;
		if (why[0] != '\0')
			tool_error("%s: %s", u->shown, why);
		close(fd);
		fd = -1;
		errno = saved;
	}
	return fd;
}

/* Sends all of buf at the least pace. Returns 0, or -1 with errno
 * (ETIMEDOUT: the server stopped taking it). */
static int
httpclient_send_all(struct httpclient *c, const void *buf, size_t len)
{
	const char *p = buf;
	ssize_t n;
	int ready;

	while (len > 0) {
		if ((ready = httpclient_wait(c, POLLOUT | POLLIN, 0, -1)) == -1)
			return -1;
		/* An answer (413, 429) or a close before the request is all
		 * sent: stop, and let the caller read what the server said. */
		if (ready & POLLIN) {
			errno = EPIPE;
			return -1;
		}
		n = send(c->fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n == -1 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
		c->moved += (uint64_t)n;
	}
	return 0;
}

/* The body from an fd, in pieces: an envelope may be larger than memory. */
static int
httpclient_send_fd(struct httpclient *c, int body_fd, uint64_t len)
{
	unsigned char *buf;
	uint64_t left = len;
	ssize_t n;
	int rc = -1;

	c->send_errno = -1; /* until the socket is what failed */
	if ((buf = malloc(HTTPCLIENT_SEND_CHUNK)) == NULL) {
		tool_error("out of memory");
		return -1;
	}
	while (left > 0) {
		n = read(body_fd, buf, left < HTTPCLIENT_SEND_CHUNK ? (size_t)left
								    : HTTPCLIENT_SEND_CHUNK);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			tool_error("%s: the body ended after %llu of %llu bytes", c->shown,
			    (unsigned long long)(len - left), (unsigned long long)len);
			goto done;
		}
		if (httpclient_send_all(c, buf, (size_t)n) == -1) {
			c->send_errno = errno; /* the caller first looks for an answer */
			goto done;
		}
		left -= (uint64_t)n;
	}
	c->send_errno = 0;
	rc = 0;
done:
	free(buf);
	return rc;
}

/* The value of response header name, trimmed, in place: its start, with its
 * length in *vlen; NULL when absent. */
static const char *
httpclient_find_header(const struct httpclient *c, const char *name, size_t *vlen)
{
	const char *line, *colon, *end;
	size_t nlen = strlen(name);

	if (c->headers == NULL)
		return NULL;
	/* The block ends at the CRLF of its last line (read_headers cut it
	 * there), so the NUL alone ends the walk: stopping at a line that
	 * begins with CR as well hid every header after it, Transfer-Encoding
	 * and Content-Length too. */
	line = strstr(c->headers, "\r\n");
	while (line != NULL && line[2] != '\0') {
		line += 2;
		end = strstr(line, "\r\n");
		if (end == NULL)
			break;
		colon = memchr(line, ':', (size_t)(end - line));
		if (colon != NULL && (size_t)(colon - line) == nlen &&
		    strncasecmp(line, name, nlen) == 0) {
			colon++;
			while (*colon == ' ' || *colon == '\t')
				colon++;
			*vlen = (size_t)(end - colon);
			while (*vlen > 0 && (colon[*vlen - 1] == ' ' || colon[*vlen - 1] == '\t'))
				(*vlen)--;
			return colon;
		}
		line = end;
	}
	return NULL;
}

/* Whether block (the status line and header lines, each ending in CRLF)
 * holds only NAME: VALUE lines, NAME a token and VALUE blanks, visible
 * characters and obs-text, and a reason phrase of the same. A folded,
 * nameless or bare-CR line is one a proxy may read otherwise than we do. */
static int
httpclient_headers_valid(const char *block)
{
	static const char tchar[] = "!#$%&'*+-.^_`|~0123456789"
				    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
	const unsigned char *p = (const unsigned char *)block + 12; /* after "HTTP/1.x NNN" */
	int in_name = 0;

	for (; *p != '\0'; p++) {
		if (p[0] == '\r' && p[1] == '\n') {
			if (in_name) /* a line without a colon */
				return 0;
			p++;
			if (p[1] == '\0')
				break;
			if (strchr(tchar, p[1]) == NULL)
				return 0;
			in_name = 1;
		} else if (in_name) {
			if (*p == ':')
				in_name = 0;
			else if (strchr(tchar, *p) == NULL)
				return 0;
		} else if (*p != '\t' && (*p < 0x20 || *p == 0x7f)) {
			return 0;
		}
	}
	return 1;
}

/* quiet: after a failed send, where a missing answer is not the error to
 * report. */
static int
httpclient_read_headers(struct httpclient *c, int quiet)
{
	size_t have = 0;
	char *end;
	size_t coding_len;
	ssize_t n;

	if ((c->headers = malloc(HTTPCLIENT_HEADER_MAX + 1)) == NULL) {
		tool_error("out of memory");
		return -1;
	}
	c->sending = 0;
	httpclient_window_begin(c);
	for (;;) {
		if (have == HTTPCLIENT_HEADER_MAX) {
			tool_error("%s: response headers too long", c->shown);
			return -1;
		}
		if (httpclient_wait(c, POLLIN, 1, -1) == -1) {
			if (quiet || errno == EINTR)
				return -1;
			if (errno != ETIMEDOUT)
				tool_error("%s: waiting for the response: %s", c->shown, strerror(errno));
			else if (have == 0)
				tool_error("%s: no answer within %d s", c->shown, c->timeout);
			else
				tool_error("%s: the response headers did not all come within %d s",
				    c->shown, c->timeout);
			return -1;
		}
		n = recv(c->fd, c->headers + have, HTTPCLIENT_HEADER_MAX - have, MSG_DONTWAIT);
		if (n == -1 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
			continue;
		if (n <= 0) {
			if (quiet)
				return -1;
			tool_error("%s: connection closed before the response%s%s", c->shown,
			    n < 0 ? ": " : "", n < 0 ? strerror(errno) : "");
			return -1;
		}
		have += (size_t)n;
		c->headers[have] = '\0';
		if ((end = strstr(c->headers, "\r\n\r\n")) != NULL)
			break;
	}
	/* "HTTP/1.x NNN" then a space or the line's end, nothing looser:
	 * sscanf alone took "HTTP/1.12000" for a 200. */
	if (strncmp(c->headers, "HTTP/1.", 7) != 0 || (c->headers[7] != '0' && c->headers[7] != '1') ||
	    c->headers[8] != ' ' || strspn(c->headers + 9, "0123456789") != 3 ||
	    (c->headers[12] != ' ' && c->headers[12] != '\r') || c->headers[9] == '0') {
		if (!quiet)
			tool_error("%s: not an HTTP response", c->shown);
		return -1;
	}
	c->status = (c->headers[9] - '0') * 100 + (c->headers[10] - '0') * 10 + (c->headers[11] - '0');
	c->body = (unsigned char *)end + 4;
	c->body_have = have - (size_t)(end + 4 - c->headers);
	end[2] = '\0'; /* headers end at the blank line */
	if (!httpclient_headers_valid(c->headers)) {
		if (!quiet)
			tool_error("%s: a header line of the response is malformed", c->shown);
		return -1;
	}
	/* Asked as HTTP/1.0, a server must not frame the body in chunks; one
	 * that does would have its framing taken for the body. */
	if (httpclient_find_header(c, "Transfer-Encoding", &coding_len) != NULL) {
		if (!quiet)
			tool_error("%s: the response comes with Transfer-Encoding, which an "
				   "HTTP/1.0 request does not allow", c->shown);
		return -1;
	}
	/* From here, the pace of the body. */
	c->moved = c->body_have;
	httpclient_window_begin(c);
	return 0;
}

/* After sending failed (errno, or send_fd's c->send_errno): the server's
 * early answer, read as the result (0), or one line saying why (-1). A
 * server may answer from the headers alone (413, 429) and close: its answer
 * says more than the broken pipe. One that stopped taking the request has
 * said nothing. */
static int
httpclient_send_failed(struct httpclient *c)
{
	int err = c->send_errno != 0 ? c->send_errno : errno;

	if (err == -1) /* the body's own file: said already */
		return -1;
	if (err == ETIMEDOUT)
		httpclient_stalled(c);
	else if (err == EINTR)
		return -1;
	else if (httpclient_read_headers(c, 1) == 0)
		return 0;
	else
		tool_error("%s: sending the request: %s", c->shown, strerror(err));
	return -1;
}

int
httpclient_begin(struct httpclient *c, const struct httpclient_url *u, const char *method,
    const char *path, const char *headers, const unsigned char *body, uint64_t body_len,
    int body_fd)
{
	char *req = NULL, length[48];
	size_t req_size;
	int v6 = strchr(u->host, ':') != NULL, rc = -1;

	memset(c, 0, sizeof *c);
	c->fd = -1;
	c->shown = u->shown;
	/* Zero would make every wait end at once, and the checks spin. */
	c->timeout = u->timeout > 0 ? u->timeout : HTTPCLIENT_TIMEOUT_SECONDS;
	length[0] = '\0';
	if (body != NULL || body_fd != -1 || strcmp(method, "POST") == 0)
		snprintf(length, sizeof length, "Content-Length: %llu\r\n",
		    (unsigned long long)body_len);
	if (headers == NULL)
		headers = "";
	req_size = strlen(method) + strlen(u->base) + strlen(path) + strlen(u->host) +
	    strlen(headers) + sizeof length + 128;
	/* The extra headers may carry a bearer token. */
	if ((req = sodium_malloc(req_size)) == NULL) {
		tool_error("out of memory");
		goto done;
	}
	snprintf(req, req_size, "%s %s%s HTTP/1.0\r\nHost: %s%s%s:%s\r\n%s%sConnection: close\r\n\r\n",
	    method, u->base, path, v6 ? "[" : "", u->host, v6 ? "]" : "", u->port, headers, length);
	if ((c->fd = httpclient_dial(u)) == -1)
		goto done;
	c->sending = 1;
	httpclient_window_begin(c);
	if (httpclient_send_all(c, req, strlen(req)) == -1 ||
	    (body != NULL && httpclient_send_all(c, body, (size_t)body_len) == -1) ||
	    (body == NULL && body_fd != -1 && httpclient_send_fd(c, body_fd, body_len) == -1)) {
		rc = httpclient_send_failed(c);
		goto done;
	}
	if (httpclient_drain(c) == -1) {
		if (errno == ETIMEDOUT)
			httpclient_stalled(c);
		else if (errno != EINTR)
			tool_error("%s: waiting for the request to arrive: %s", u->shown,
			    strerror(errno));
		goto done;
	}
	if (httpclient_read_headers(c, 0) == -1)
		goto done;
	rc = 0;
done:
	if (req != NULL)
		sodium_free(req);
	return rc;
}

const char *
httpclient_header(const struct httpclient *c, const char *name, char *out, size_t outlen)
{
	const char *value;
	size_t vlen;

	if ((value = httpclient_find_header(c, name, &vlen)) == NULL || vlen >= outlen)
		return NULL;
	memcpy(out, value, vlen);
	out[vlen] = '\0';
	return out;
}

int
httpclient_content_length(const struct httpclient *c, uint64_t *len)
{
	char value[64];

	if (httpclient_header(c, "Content-Length", value, sizeof value) == NULL)
		return -1;
	return decimal_parse(value, UINT64_MAX, len) == -1 ? -1 : 0;
}

/* httpclient_read; quiet: nothing printed (an error body is read as a
 * courtesy, after the status said what matters). */
static ssize_t
httpclient_read_some(struct httpclient *c, unsigned char *buf, size_t len, int quiet)
{
	ssize_t n;

	if (c->body_have > 0) {
		if (len > c->body_have)
			len = c->body_have;
		memcpy(buf, c->body, len);
		c->body += len;
		c->body_have -= len;
		return (ssize_t)len;
	}
	for (;;) {
		if (httpclient_wait(c, POLLIN, 0, -1) == -1) {
			if (quiet || errno == EINTR)
				return -1;
			if (errno == ETIMEDOUT)
				httpclient_stalled(c);
			else
				tool_error("%s: waiting for the response: %s", c->shown,
				    strerror(errno));
			return -1;
		}
		n = recv(c->fd, buf, len, MSG_DONTWAIT);
		if (n == -1 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
			continue;
		break;
	}
	if (n == -1 && !quiet)
		tool_error("%s: reading the response: %s", c->shown, strerror(errno));
	if (n > 0)
		c->moved += (uint64_t)n;
	return n;
}

ssize_t
httpclient_read(struct httpclient *c, unsigned char *buf, size_t len)
{
	return httpclient_read_some(c, buf, len, 0);
}

int
httpclient_read_all(struct httpclient *c, size_t max, unsigned char **body, size_t *len)
{
	unsigned char *buf = NULL;
	uint64_t want = 0;
	int sized = httpclient_content_length(c, &want) == 0;
	size_t have = 0;
	ssize_t n;

	*body = NULL;
	*len = 0;
	if (sized && want > max) {
		tool_error("%s: the response is larger than %zu bytes", c->shown, max);
		return -1;
	}
	if ((buf = malloc(max + 1)) == NULL) {
		tool_error("out of memory");
		return -1;
	}
	while (!sized || have < want) {
		if (have == max) {
			/* Unsized and full: one byte more means too long. */
			unsigned char probe;
			if ((n = httpclient_read(c, &probe, 1)) == 0)
				break;
			if (n > 0) /* else said already */
				tool_error("%s: the response is larger than %zu bytes", c->shown,
				    max);
			goto fail;
		}
		n = httpclient_read(c, buf + have, (sized ? (size_t)want : max) - have);
		if (n == -1)
			goto fail;
		if (n == 0) {
			if (!sized)
				break;
			tool_error("%s: the response was cut after %zu of %llu bytes", c->shown,
			    have, (unsigned long long)want);
			goto fail;
		}
		have += (size_t)n;
	}
	buf[have] = '\0';
	*body = buf;
	*len = have;
	return 0;
fail:
	free(buf);
	return -1;
}

void
httpclient_report_error(struct httpclient *c)
{
	unsigned char buf[HTTPCLIENT_ERROR_BODY_MAX];
	uint64_t length;
	size_t have = 0, want = sizeof buf;
	ssize_t n;
	json_t *j;
	const char *msg = NULL;

	/* No more than the answer holds: a server that keeps the connection
	 * open after its error would otherwise hold us a timeout long. */
	if (httpclient_content_length(c, &length) == 0 && length < want)
		want = (size_t)length;
	while (have < want && (n = httpclient_read_some(c, buf + have, want - have, 1)) > 0)
		have += (size_t)n;
	j = json_loadb((const char *)buf, have, 0, NULL);
	if (j != NULL)
		msg = json_string_value(json_object_get(j, "message"));
	tool_error("%s: the server answered %d%s%s", c->shown, c->status, msg ? ": " : "",
	    msg ? msg : "");
	json_decref(j);
}

void
httpclient_end(struct httpclient *c)
{
	if (c->fd != -1)
		close(c->fd);
	free(c->headers);
	memset(c, 0, sizeof *c);
	c->fd = -1;
}

int
httpclient_get(const struct httpclient_url *u, const char *path, size_t max, int *status,
    unsigned char **body, size_t *len)
{
	struct httpclient c;
	int rc = -1;

	if (httpclient_begin(&c, u, "GET", path, NULL, NULL, 0, -1) == -1)
		goto done;
	*status = c.status;
	if (httpclient_read_all(&c, max, body, len) == -1)
		goto done;
	rc = 0;
done:
	httpclient_end(&c);
	return rc;
}
