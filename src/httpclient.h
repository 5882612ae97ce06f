/* The plain HTTP client of `sealtip fetch`, `submit` and `audit --url`:
 * one HTTP/1.0 request per connection (Connection: close), so that no answer
 * comes in chunks; bounded response headers, each line strictly NAME: VALUE
 * (RFC 9112: a folded, nameless or bare-CR line refuses the response), no
 * redirects, no TLS. It talks to a loopback server, or to an onion
 * service through Tor's SOCKS port (--socks, src/socks.h). Every failure
 * is printed as one line with tool_error, naming the URL. */
#ifndef SEALTIP_HTTPCLIENT_H
#define SEALTIP_HTTPCLIENT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define HTTPCLIENT_HEADER_MAX 16384
/* --timeout: the default and the most accepted, in seconds. */
#define HTTPCLIENT_TIMEOUT_SECONDS 60
#define HTTPCLIENT_TIMEOUT_MAX 3600
/* The least pace, over each whole timeout, of an answer's body or of a body
 * being sent: a server trickling a byte now and then would otherwise hold
 * the command for hours (an audit run from cron would never report). Tor
 * onion services are a hundred times faster. */
#define HTTPCLIENT_MIN_BYTES_PER_SECOND 1024
#define HTTPCLIENT_URL_MAX 2048
/* A server's JSON error is short; more is not read. */
#define HTTPCLIENT_ERROR_BODY_MAX 4096

struct httpclient_url {
	char host[256];
	char port[8];
	char base[HTTPCLIENT_URL_MAX]; /* path prefix without a trailing '/' ("" at the root) */
	char shown[HTTPCLIENT_URL_MAX]; /* the URL as given, for messages */
	int timeout; /* seconds: HTTPCLIENT_TIMEOUT_SECONDS unless --timeout */
	/* --socks HOST:PORT, a SOCKS5 proxy that resolves host itself ("": none) */
	char proxy_host[256];
	char proxy_port[8];
};

/* One exchange: request sent, response headers read, body read on demand. */
struct httpclient {
	int fd;
	int status;
	char *headers;		   /* the header block, NUL-terminated */
	unsigned char *body;	   /* body bytes that came with the headers */
	size_t body_have;	   /* how many of them are left to hand out */
	const char *shown;	   /* the URL, for messages */
	int send_errno;		   /* why sending the body from a file failed; -1: the file */
	int timeout;		   /* seconds, from the URL's settings */
	int sending;		   /* the request is on its way: the pace is the server's acks */
	int64_t window_start;	   /* ms (monotonic): the pace is judged per window */
	uint64_t window_mark;	   /* progress at window_start */
	uint64_t moved;		   /* request bytes handed to the socket, or then body bytes received */
};

/* Parses http://HOST[:PORT][/PREFIX] (IPv6 hosts in brackets). Returns 0, or
 * -1 when it is not such a URL (nothing printed: the caller says usage). */
int httpclient_url_parse(const char *s, struct httpclient_url *u);

/* Parses --socks's value, HOST:PORT ([IPV6]:PORT), into u (after
 * httpclient_url_parse, which clears it). Returns 0, or -1 (nothing
 * printed: the caller says usage). */
int httpclient_proxy_parse(const char *s, struct httpclient_url *u);

/* Parses --timeout's value: whole seconds, 1 to HTTPCLIENT_TIMEOUT_MAX.
 * Returns 0, or -1 (nothing printed: the caller says usage). */
int httpclient_timeout_parse(const char *s, int *seconds);

/* Connects, sends METHOD base+path with the extra header lines (each ending
 * in CRLF; they may hold a secret: the request is built in memory that is
 * wiped) and a body of body_len bytes, from body or else from body_fd, then
 * reads the response headers. Connecting and the headers get u->timeout
 * seconds each; a body is sent at HTTPCLIENT_MIN_BYTES_PER_SECOND at least,
 * judged over each u->timeout. Returns 0 with c->status set, or -1
 * (printed, except errno EINTR once a signal caught by interrupt_catch came). */
int httpclient_begin(struct httpclient *c, const struct httpclient_url *u, const char *method,
    const char *path, const char *headers, const unsigned char *body, uint64_t body_len,
    int body_fd);

/* Copies the value of response header name into out (NUL-terminated).
 * Returns out, or NULL when absent or longer than outlen - 1. */
const char *httpclient_header(const struct httpclient *c, const char *name, char *out,
    size_t outlen);

/* The response's Content-Length: 0, or -1 when absent or not a number (a
 * response this client cannot bound). */
int httpclient_content_length(const struct httpclient *c, uint64_t *len);

/* Reads up to len body bytes: the count, 0 when the server closed, -1 on a
 * socket error or a stall (below HTTPCLIENT_MIN_BYTES_PER_SECOND over a
 * whole timeout; printed), or -1 with errno EINTR, unprinted, once a signal
 * caught by interrupt_catch came. */
ssize_t httpclient_read(struct httpclient *c, unsigned char *buf, size_t len);

/* Reads the whole body (Content-Length, else until close) into a new
 * NUL-terminated buffer of at most max bytes. Returns 0, or -1 (printed). */
int httpclient_read_all(struct httpclient *c, size_t max, unsigned char **body, size_t *len);

/* Prints "the server answered STATUS: message" with the JSON error's
 * message when the body carries one: the one line, whatever the reading of
 * that (short) body, at most Content-Length bytes, came to. */
void httpclient_report_error(struct httpclient *c);

/* Closes the connection and frees; safe on a zeroed or failed exchange. */
void httpclient_end(struct httpclient *c);

/* GET base+path into memory: one call for small JSON and text answers.
 * Returns 0 with *status and the body (free()), or -1 (printed). */
int httpclient_get(const struct httpclient_url *u, const char *path, size_t max, int *status,
    unsigned char **body, size_t *len);

#endif
