/* libFuzzer target: the plain HTTP client (src/httpclient.c) of `sealtip
 * fetch`, `submit` and `audit --url`, which an auditor points at servers it
 * does not trust: every byte of a response is the fuzzer's.
 *
 * Set up once: a TCP listener on 127.0.0.1, port 0, a server thread and a
 * client thread (both out of libFuzzer's SIGALRM: see setup). The client
 * calls the public API the way the commands do, on the real socket path
 * (getaddrinfo, connect, send, recv). For each connection the
 * server reads the request up to its blank line and the body by its
 * Content-Length, writes the answer the harness set for this exchange,
 * closes, and says so; the client side waits for that before the next
 * exchange, so one input always plays out the same way.
 *
 * Input: one or more records separated by FUZZ_SEP, at most
 * FUZZ_EXCHANGES_MAX of them, each one exchange: a control byte, then the
 * bytes the server answers. An empty record is skipped. The control byte:
 *  - bits 0-1, the call: 0 httpclient_begin GET (with an Authorization
 *    header, as fetch), 1 begin POST with the body in memory, 2 begin POST
 *    with the body from a descriptor (as submit), 3 httpclient_get;
 *  - bits 2-3, after a begin that succeeded: 0 httpclient_read_all, 1 a
 *    loop of httpclient_read bounded by Content-Length (as fetch), 2
 *    httpclient_report_error, 3 nothing; httpclient_end in every case;
 *  - bits 4-7, an entry of limits[]: the max of read_all and get, the
 *    piece size of the read loop.
 *
 * Checked against a model of what httpclient.h promises, computed from the
 * answer alone (abort on any difference):
 *  - begin succeeds exactly when the answer has a blank line within
 *    HTTPCLIENT_HEADER_MAX bytes and no NUL before it (the client looks for
 *    it with strstr), a status line "HTTP/1.0|1 DDD" then a space or the
 *    line's end, first digit not 0, every header line NAME: VALUE (NAME a
 *    token; no control byte but HTAB in VALUE or the reason phrase), and
 *    no Transfer-Encoding header; then
 *    status is 100..999 and those digits;
 *  - httpclient_header gives the first header of that name (any case),
 *    trimmed, or NULL when absent or too long for the buffer;
 *    httpclient_content_length is 0 exactly for a decimal that fits 64 bits;
 *  - read_all succeeds exactly when the body (Content-Length bytes, or all
 *    until close) is all there and at most max bytes; then it returns those
 *    bytes, NUL-terminated;
 *  - httpclient_read returns at most what was asked, never more than
 *    Content-Length in all, and the bytes the server sent after the blank
 *    line, in order;
 *  - httpclient_get agrees with begin and read_all;
 *  - the server got the request line asked for, and a POST its body whole;
 *  - httpclient_end closes and frees: no descriptor is left open after an
 *    input (the lowest free one is the same each time) and ASan sees no
 *    leak;
 *  - no hang: the server always closes, so the client's 60 s timeout is
 *    never reached; libFuzzer's -timeout (20 s in run.sh) catches one, and
 *    the harness gives the server FUZZ_HANG_SECONDS to finish a connection.
 * tool_error writes every refusal on stderr: the stream is pointed at
 * /dev/null (as fuzz_config does); the harness's own messages go to file
 * descriptor 2. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "httpclient.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_SEP "@@next@@"
#define FUZZ_EXCHANGES_MAX 4
#define FUZZ_BASE "/base"
#define FUZZ_GET_PATH "/api/v1/export?after=0"
#define FUZZ_POST_PATH "/api/v1/reports"
#define FUZZ_GET_HEADERS "Authorization: Bearer fuzz-token\r\n"
#define FUZZ_POST_HEADERS "Content-Type: application/octet-stream\r\n"
#define FUZZ_POST_BODY "an envelope, in a small way"
#define FUZZ_REQUEST_MAX 4096
#define FUZZ_HANG_SECONDS 10
#define FUZZ_PIECE_MAX 65536

/* read_all's and get's max, the read loop's piece size: both sides of the
 * usual lengths, up to more than any answer (-max_len). */
static const size_t limits[16] = {
    0, 1, 2, 3, 4, 7, 8, 16, 63, 64, 100, 256, 1000, 4096, 16384, FUZZ_PIECE_MAX};

static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int listen_fd;
	int body_fd;	 /* FUZZ_POST_BODY, for the POST from a descriptor */
	int lowest_free; /* the lowest free descriptor between inputs */
	char url[64];
	/* Set by the client side before it connects; the server reads them
	 * once it accepted. */
	const uint8_t *answer;
	size_t answer_len;
	unsigned accepted, served;
	/* What the server read of the last request. */
	char request[FUZZ_REQUEST_MAX + 1];
	size_t request_len;
	/* The input handed to the client thread, and whether it is done. */
	const uint8_t *input;
	size_t input_size;
	int input_pending;
} s;

static unsigned char piece[FUZZ_PIECE_MAX];

static void *client_main(void *);

static _Noreturn void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
fail(const char *fmt, ...)
{
	va_list ap;

	/* The stderr stream is /dev/null (setup): straight to the descriptor. */
	dprintf(2, "fuzz_httpclient: ");
	va_start(ap, fmt);
	vdprintf(2, fmt, ap);
	va_end(ap);
	dprintf(2, "\n");
	abort();
}

/* --- the server thread -------------------------------------------------- */

/* The request up to its blank line, then as many body bytes as its
 * Content-Length says (the client's own request: no hostile input here). */
static size_t
server_read_request(int fd, char *buf, size_t size)
{
	size_t have = 0, want = 0;
	const char *end, *cl;
	ssize_t n;

	for (;;) {
		if (have == size)
			return have;
		n = recv(fd, buf + have, size - have, 0);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return have;
		have += (size_t)n;
		buf[have] = '\0';
		if (want == 0 && (end = memmem(buf, have, "\r\n\r\n", 4)) != NULL) {
			want = (size_t)(end + 4 - buf);
			if ((cl = strcasestr(buf, "\r\nContent-Length: ")) != NULL && cl < end)
				want += strtoul(cl + 18, NULL, 10);
		}
		if (want > 0 && have >= want)
			return have;
	}
}

static void *
server_main(void *arg)
{
	char req[FUZZ_REQUEST_MAX + 1];
	struct pollfd p;
	const uint8_t *answer;
	size_t len, req_len, sent;
	ssize_t n;
	int fd;

	(void)arg;
	for (;;) {
		/* Linux reserves accept's descriptor number before it waits:
		 * blocked in accept, this thread would hold the lowest free
		 * one, and the leak check would see it come and go. */
		p.fd = s.listen_fd;
		p.events = POLLIN;
		if (poll(&p, 1, -1) == -1) {
			if (errno == EINTR)
				continue;
			fail("poll: %s", strerror(errno));
		}
		if ((fd = accept4(s.listen_fd, NULL, NULL, SOCK_CLOEXEC)) == -1) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			fail("accept: %s", strerror(errno));
		}
		pthread_mutex_lock(&s.lock);
		s.accepted++;
		answer = s.answer;
		len = s.answer_len;
		pthread_mutex_unlock(&s.lock);
		/* Read all of it first: closing with request bytes unread would
		 * reset the connection, and the client could lose the answer. */
		req_len = server_read_request(fd, req, FUZZ_REQUEST_MAX);
		/* A client that stopped reading and closed makes this fail:
		 * MSG_NOSIGNAL, and the rest is dropped. */
		for (sent = 0; sent < len; sent += (size_t)n) {
			n = send(fd, answer + sent, len - sent, MSG_NOSIGNAL);
			if (n == -1 && errno == EINTR) {
				n = 0;
				continue;
			}
			if (n <= 0)
				break;
		}
		close(fd);
		pthread_mutex_lock(&s.lock);
		memcpy(s.request, req, req_len);
		s.request[req_len] = '\0';
		s.request_len = req_len;
		s.served++;
		pthread_cond_broadcast(&s.cond);
		pthread_mutex_unlock(&s.lock);
	}
	return NULL;
}

static int
lowest_free_fd(void)
{
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

	if (fd == -1)
		fail("/dev/null: %s", strerror(errno));
	close(fd);
	return fd;
}

static void
setup(void)
{
	struct sockaddr_in sa;
	socklen_t sa_len = sizeof sa;
	sigset_t alarm, old;
	pthread_t t;
	FILE *null;

	/* As sealtip's main: begin builds the request in sodium_malloc. */
	if (sodium_init() < 0)
		fail("sodium_init");
	/* tool_error's lines: every refusal prints one. */
	if ((null = fopen("/dev/null", "w")) == NULL)
		fail("/dev/null: %s", strerror(errno));
	stderr = null;
	pthread_mutex_init(&s.lock, NULL);
	pthread_cond_init(&s.cond, NULL);
	s.lowest_free = -1;
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((s.listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    bind(s.listen_fd, (struct sockaddr *)&sa, sizeof sa) == -1 ||
	    listen(s.listen_fd, 16) == -1 ||
	    getsockname(s.listen_fd, (struct sockaddr *)&sa, &sa_len) == -1)
		fail("listener: %s", strerror(errno));
	snprintf(s.url, sizeof s.url, "http://127.0.0.1:%u" FUZZ_BASE "/", ntohs(sa.sin_port));
	if ((s.body_fd = memfd_create("fuzz-httpclient-body", MFD_CLOEXEC)) == -1 ||
	    write(s.body_fd, FUZZ_POST_BODY, strlen(FUZZ_POST_BODY)) !=
		(ssize_t)strlen(FUZZ_POST_BODY))
		fail("memfd: %s", strerror(errno));
	/* libFuzzer's SIGALRM (every -timeout / 2 + 1 s) would interrupt
	 * the client's connect, which is never restarted on a socket with
	 * SO_SNDTIMEO (signal(7)): httpclient then gives that connection up,
	 * as it should on a ^C, and the exchange is not the input's. So the
	 * client and the server run in threads that block SIGALRM, and the
	 * fuzzing thread, which only waits, takes it and still catches a
	 * hang. Synchronous signals (SEGV, ABRT) stay unblocked for the
	 * crash reports. */
	sigemptyset(&alarm);
	sigaddset(&alarm, SIGALRM);
	if ((errno = pthread_sigmask(SIG_BLOCK, &alarm, &old)) != 0 ||
	    (errno = pthread_create(&t, NULL, server_main, NULL)) != 0 ||
	    (errno = pthread_detach(t)) != 0 ||
	    (errno = pthread_create(&t, NULL, client_main, NULL)) != 0 ||
	    (errno = pthread_detach(t)) != 0 ||
	    (errno = pthread_sigmask(SIG_SETMASK, &old, NULL)) != 0)
		fail("threads: %s", strerror(errno));
}

/* --- the model of a response ------------------------------------------ */

struct model {
	const uint8_t *a; /* the answer */
	size_t len;
	int ok; /* httpclient_begin must succeed */
	int status;
	size_t head_len;     /* status line, headers, blank line */
	const uint8_t *body; /* what follows the blank line */
	size_t body_len;
	int sized; /* Content-Length is a usable number */
	uint64_t cl;
};

/* The first header line named name (any case) in the header block, its
 * value without the blanks around it. Lines end in CRLF; the status line is
 * not a header. */
static const uint8_t *
model_header(const struct model *m, const char *name, size_t *vlen)
{
	const uint8_t *block_end = m->a + m->head_len - 2, *p, *line, *eol, *colon, *v;
	size_t nlen = strlen(name), n;

	p = memmem(m->a, (size_t)(block_end - m->a), "\r\n", 2);
	while (p != NULL && (line = p + 2) < block_end) {
		if ((eol = memmem(line, (size_t)(block_end - line), "\r\n", 2)) == NULL)
			break;
		colon = memchr(line, ':', (size_t)(eol - line));
		if (colon != NULL && (size_t)(colon - line) == nlen &&
		    strncasecmp((const char *)line, name, nlen) == 0) {
			for (v = colon + 1; v < eol && (*v == ' ' || *v == '\t'); v++)
				;
			for (n = (size_t)(eol - v); n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t');
			     n--)
				;
			*vlen = n;
			return v;
		}
		p = eol;
	}
	return NULL;
}

static int
model_control(uint8_t c)
{
	return (c < 0x20 && c != '\t') || c == 0x7f;
}

static int
model_tchar(uint8_t c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* RFC 9112's lines, as httpclient.h promises them: after the status code, a
 * reason phrase without control bytes but HTAB; then each header line NAME:
 * VALUE, NAME one or more tchar, VALUE the same as the reason. stop is just
 * past the last header line's CRLF. */
static int
model_lines_valid(const uint8_t *a, const uint8_t *stop)
{
	const uint8_t *p = a + 12, *eol, *colon, *q;

	eol = memmem(p, (size_t)(stop - p), "\r\n", 2);
	for (q = p; q < eol; q++)
		if (model_control(*q))
			return 0;
	for (p = eol + 2; p < stop; p = eol + 2) {
		eol = memmem(p, (size_t)(stop - p), "\r\n", 2);
		if ((colon = memchr(p, ':', (size_t)(eol - p))) == NULL || colon == p)
			return 0;
		for (q = p; q < colon; q++)
			if (!model_tchar(*q))
				return 0;
		for (q = colon + 1; q < eol; q++)
			if (model_control(*q))
				return 0;
	}
	return 1;
}

static void
model_build(struct model *m, const uint8_t *a, size_t len)
{
	size_t limit = len < HTTPCLIENT_HEADER_MAX ? len : HTTPCLIENT_HEADER_MAX, vlen, i;
	const uint8_t *end, *nul, *v;
	uint64_t n;

	memset(m, 0, sizeof *m);
	m->a = a;
	m->len = len;
	if ((nul = memchr(a, '\0', limit)) != NULL)
		limit = (size_t)(nul - a);
	if ((end = memmem(a, limit, "\r\n\r\n", 4)) == NULL)
		return;
	/* Twelve bytes before the blank line, or a check below fails anyway. */
	if (end - a < 12 || memcmp(a, "HTTP/1.", 7) != 0 || (a[7] != '0' && a[7] != '1') ||
	    a[8] != ' ' || a[9] < '1' || a[9] > '9' || a[10] < '0' || a[10] > '9' || a[11] < '0' ||
	    a[11] > '9' || (a[12] != ' ' && a[12] != '\r'))
		return;
	m->status = (a[9] - '0') * 100 + (a[10] - '0') * 10 + (a[11] - '0');
	m->head_len = (size_t)(end - a) + 4;
	m->body = a + m->head_len;
	m->body_len = len - m->head_len;
	if (!model_lines_valid(a, end + 2) || model_header(m, "Transfer-Encoding", &vlen) != NULL)
		return;
	m->ok = 1;
	/* 1 to 20 digits, no leading zero, at most 2^64 - 1. */
	if ((v = model_header(m, "Content-Length", &vlen)) == NULL || vlen == 0 || vlen > 20 ||
	    (v[0] == '0' && vlen > 1))
		return;
	for (n = 0, i = 0; i < vlen; i++) {
		if (v[i] < '0' || v[i] > '9' || n > (UINT64_MAX - (uint64_t)(v[i] - '0')) / 10)
			return;
		n = n * 10 + (uint64_t)(v[i] - '0');
	}
	m->sized = 1;
	m->cl = n;
}

/* read_all's and get's verdict: the whole body there, and within max. */
static int
model_read_all(const struct model *m, size_t max, size_t *len)
{
	if (m->sized) {
		*len = (size_t)m->cl;
		return m->cl <= max && m->cl <= m->body_len;
	}
	*len = m->body_len;
	return m->body_len <= max;
}

/* --- the checks -------------------------------------------------------- */

static void
check_begin(const struct model *m, int rc, const struct httpclient *c)
{
	static const char *const names[] = {
	    "Content-Length", "content-type", "Retry-After", "TRANSFER-ENCODING", "Location", "X"};
	char out[256], small[4];
	const uint8_t *want;
	const char *got;
	size_t i, vlen;
	uint64_t cl;
	int crc;

	if ((rc == 0) != m->ok)
		fail("httpclient_begin returned %d, the model says %s (answer of %zu bytes)", rc,
		    m->ok ? "accept" : "refuse", m->len);
	if (rc != 0)
		return;
	if (c->status < 100 || c->status > 999 || c->status != m->status)
		fail("status %d, the status line says %d", c->status, m->status);
	for (i = 0; i < sizeof names / sizeof names[0]; i++) {
		want = model_header(m, names[i], &vlen);
		got = httpclient_header(c, names[i], out, sizeof out);
		if ((want != NULL && vlen < sizeof out) != (got != NULL) ||
		    (got != NULL && (strlen(got) != vlen || memcmp(got, want, vlen) != 0)))
			fail("httpclient_header(%s) gave %s, the model %.*s", names[i],
			    got != NULL ? got : "NULL", want != NULL ? (int)vlen : 4,
			    want != NULL ? (const char *)want : "NULL");
		got = httpclient_header(c, names[i], small, sizeof small);
		if ((want != NULL && vlen < sizeof small) != (got != NULL))
			fail("httpclient_header(%s) into %zu bytes did not fit the model", names[i],
			    sizeof small);
	}
	crc = httpclient_content_length(c, &cl);
	if ((crc == 0) != m->sized || (crc == 0 && cl != m->cl))
		fail("httpclient_content_length returned %d (%llu), the model %s (%llu)", crc,
		    (unsigned long long)cl, m->sized ? "a length" : "none",
		    (unsigned long long)m->cl);
}

static void
check_body(
    const struct model *m, const char *what, const unsigned char *body, size_t len, size_t want_len)
{
	if (len != want_len || memcmp(body, m->body, len) != 0)
		fail(
		    "%s: %zu bytes that are not the %zu of the answer's body", what, len, want_len);
}

static void
consume_read_all(const struct model *m, struct httpclient *c, size_t max)
{
	unsigned char *body = NULL;
	size_t len = 0, want_len;
	int rc = httpclient_read_all(c, max, &body, &len), want = model_read_all(m, max, &want_len);

	if ((rc == 0) != want)
		fail("httpclient_read_all(max %zu) returned %d; body %zu bytes, Content-Length %s "
		     "%llu",
		    max, rc, m->body_len, m->sized ? "" : "none", (unsigned long long)m->cl);
	if (rc == 0) {
		if (body == NULL || len > max || body[len] != '\0')
			fail("httpclient_read_all: %zu bytes of at most %zu, or no NUL after them",
			    len, max);
		check_body(m, "httpclient_read_all", body, len, want_len);
	}
	free(body);
}

/* As fetch reads an export: pieces up to Content-Length, else until close. */
static void
consume_read_loop(const struct model *m, struct httpclient *c, size_t step)
{
	uint64_t got = 0;
	size_t ask;
	ssize_t n;

	if (step == 0)
		step = 1; /* fetch never asks for none */
	for (;;) {
		if (m->sized && got == m->cl)
			break;
		ask = m->sized && m->cl - got < step ? (size_t)(m->cl - got) : step;
		n = httpclient_read(c, piece, ask);
		if (n < -1 || n > (ssize_t)ask)
			fail("httpclient_read(%zu) returned %zd", ask, n);
		if (n == -1)
			fail("httpclient_read: a socket error, but the server only closed");
		if (n == 0)
			break;
		if (got + (uint64_t)n > m->body_len || memcmp(piece, m->body + got, (size_t)n) != 0)
			fail("httpclient_read: bytes %llu..%llu are not the answer's",
			    (unsigned long long)got, (unsigned long long)(got + (uint64_t)n));
		got += (uint64_t)n;
	}
	/* Everything the server sent, or exactly Content-Length of it. */
	if (got != (m->sized && m->cl < m->body_len ? m->cl : m->body_len))
		fail("httpclient_read: %llu bytes in all, body %zu, Content-Length %llu",
		    (unsigned long long)got, m->body_len, (unsigned long long)m->cl);
}

/* Waits until the server finished the connection this exchange made. */
static void
wait_served(unsigned accepted_before)
{
	struct timespec deadline;

	pthread_mutex_lock(&s.lock);
	/* The client returned, so the server accepted: it got an answer or
	 * an end, and only the server gives either. */
	if (s.accepted == accepted_before)
		fail("the client never connected to %s", s.url);
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += FUZZ_HANG_SECONDS;
	while (s.served != s.accepted)
		if (pthread_cond_timedwait(&s.cond, &s.lock, &deadline) == ETIMEDOUT)
			fail("the server did not finish a connection in %d s", FUZZ_HANG_SECONDS);
	pthread_mutex_unlock(&s.lock);
}

/* The request line the client was asked for, and a POST's body whole. */
static void
check_request(const char *method, const char *path, int post)
{
	char line[256];
	const char *end;
	size_t blen = strlen(FUZZ_POST_BODY);

	snprintf(line, sizeof line, "%s " FUZZ_BASE "%s HTTP/1.0\r\n", method, path);
	if (strncmp(s.request, line, strlen(line)) != 0 ||
	    (end = strstr(s.request, "\r\n\r\n")) == NULL)
		fail("the server read another request: %s", s.request);
	if (post &&
	    (s.request_len != (size_t)(end + 4 - s.request) + blen ||
		memcmp(end + 4, FUZZ_POST_BODY, blen) != 0))
		fail("the server did not read the POST body whole: %s", s.request);
}

static void
exchange(const struct httpclient_url *u, uint8_t ctl, const uint8_t *answer, size_t len)
{
	struct httpclient c;
	struct model m;
	unsigned char *body = NULL;
	size_t blen = 0, limit = limits[ctl >> 4], want_len;
	unsigned before;
	int call = ctl & 3, after = (ctl >> 2) & 3, rc, status = -1;

	model_build(&m, answer, len);
	pthread_mutex_lock(&s.lock);
	s.answer = answer;
	s.answer_len = len;
	before = s.accepted;
	pthread_mutex_unlock(&s.lock);
	if (call == 3) {
		rc = httpclient_get(u, "/api/v1/config", limit, &status, &body, &blen);
		if ((rc == 0) != (m.ok && model_read_all(&m, limit, &want_len)))
			fail("httpclient_get(max %zu) returned %d against the model", limit, rc);
		if (rc == 0) {
			if (status != m.status || body == NULL || blen > limit ||
			    body[blen] != '\0')
				fail(
				    "httpclient_get: status %d (the line says %d), %zu bytes of at "
				    "most %zu",
				    status, m.status, blen, limit);
			check_body(&m, "httpclient_get", body, blen, want_len);
		}
		free(body);
		wait_served(before);
		check_request("GET", "/api/v1/config", 0);
		return;
	}
	if (call == 0)
		rc = httpclient_begin(&c, u, "GET", FUZZ_GET_PATH, FUZZ_GET_HEADERS, NULL, 0, -1);
	else if (call == 1)
		rc = httpclient_begin(&c, u, "POST", FUZZ_POST_PATH, FUZZ_POST_HEADERS,
		    (const unsigned char *)FUZZ_POST_BODY, strlen(FUZZ_POST_BODY), -1);
	else {
		if (lseek(s.body_fd, 0, SEEK_SET) != 0)
			fail("memfd: %s", strerror(errno));
		rc = httpclient_begin(&c, u, "POST", FUZZ_POST_PATH, FUZZ_POST_HEADERS, NULL,
		    strlen(FUZZ_POST_BODY), s.body_fd);
	}
	check_begin(&m, rc, &c);
	if (rc == 0) {
		if (after == 0)
			consume_read_all(&m, &c, limit);
		else if (after == 1)
			consume_read_loop(&m, &c, limit);
		else if (after == 2)
			httpclient_report_error(&c);
	}
	httpclient_end(&c);
	if (c.fd != -1 || c.headers != NULL)
		fail("httpclient_end left a descriptor or the headers");
	wait_served(before);
	check_request(
	    call == 0 ? "GET" : "POST", call == 0 ? FUZZ_GET_PATH : FUZZ_POST_PATH, call != 0);
}

/* The client thread: one input after the other, as LLVMFuzzerTestOneInput
 * hands them over. */
static void
client_input(const uint8_t *data, size_t size)
{
	struct httpclient_url u;
	const uint8_t *p = data, *end = data + size, *sep;
	size_t n = 0, rec;
	int fd;

	if (s.lowest_free == -1)
		s.lowest_free = lowest_free_fd();
	if (httpclient_url_parse(s.url, &u) != 0 || strcmp(u.host, "127.0.0.1") != 0 ||
	    strcmp(u.base, FUZZ_BASE) != 0)
		fail("httpclient_url_parse(%s) failed", s.url);
	while (p < end && n < FUZZ_EXCHANGES_MAX) {
		sep = memmem(p, (size_t)(end - p), FUZZ_SEP, strlen(FUZZ_SEP));
		rec = (size_t)((sep != NULL ? sep : end) - p);
		if (rec > 0) {
			exchange(&u, p[0], p + 1, rec - 1);
			n++;
		}
		p = sep != NULL ? sep + strlen(FUZZ_SEP) : end;
	}
	if ((fd = lowest_free_fd()) != s.lowest_free)
		fail("descriptor %d is the lowest free one after this input, %d before: one was "
		     "%s",
		    fd, s.lowest_free, fd > s.lowest_free ? "left open" : "closed twice");
}

static void *
client_main(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&s.lock);
	for (;;) {
		while (!s.input_pending)
			pthread_cond_wait(&s.cond, &s.lock);
		pthread_mutex_unlock(&s.lock);
		client_input(s.input, s.input_size);
		pthread_mutex_lock(&s.lock);
		s.input_pending = 0;
		pthread_cond_broadcast(&s.cond);
	}
	return NULL;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (s.url[0] == '\0')
		setup();
	pthread_mutex_lock(&s.lock);
	s.input = data;
	s.input_size = size;
	s.input_pending = 1;
	pthread_cond_broadcast(&s.cond);
	while (s.input_pending)
		pthread_cond_wait(&s.cond, &s.lock);
	pthread_mutex_unlock(&s.lock);
	return 0;
}
