/* libFuzzer target: sealtipd's request path, end to end but without a
 * network. The input is the raw bytes a client sends on one connection (one
 * request, several pipelined ones, or garbage).
 *
 * Set up once, the way src/sealtipd.c main() does it (that code is not a
 * reusable function yet, see docs/fuzzing.md): a fresh data folder with its
 * reports.db, the writer thread, the header-deadline reaper, the
 * GET /api/v1/config body, the export endpoint with a known token, a static
 * root, and libmicrohttpd with the server's handlers and options, but with
 * MHD_USE_NO_LISTEN_SOCKET. Each input gets a socketpair: one end goes to
 * MHD_add_connection, the harness writes the input on the other, half-closes
 * it, and reads the answer until the server closes (a hang is a finding).
 *
 * Invariants checked on every input:
 *  - the database gains exactly one row per 201 in the answer, none without;
 *  - no 500 (the storage failing on a well-formed request is a bug here);
 *  - every answer starts with an HTTP status line;
 *  - no export body (magic "sealtipE") without the bearer token in the input;
 *  - nothing from outside the static root is served (a canary file sits
 *    beside it, the database too).
 * Recipients served: the keys of tests/vectors/shared (alice, bob, carol) and
 * tests/vectors/own (dana, eli), so the vectors make valid uploads. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>
#include <sodium.h>

#include "config.h"
#include "fileio.h"
#include "http.h"
#include "http_config.h"
#include "keyfile.h"
#include "logkey.h"
#include "store.h"
#include "writer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_TOKEN "fuzz-export-token-0123456789abcdef"
#define FUZZ_ORIGIN "fuzz.sealtip.example/log"
#define FUZZ_CANARY "CANARY-OUTSIDE-THE-WEB-ROOT-7f3a"
#define FUZZ_ANSWER_MAX (8u * 1024 * 1024)
/* A server that has the whole request and a closed write side must finish
 * well within this. */
#define FUZZ_HANG_MS 15000

static const char *const box_sks[] = {
    "8a9ef0faef18e6f895bc42f2bb507fff605878d9c63ce7e182036e0abb2b01ab", /* alice */
    "b8b5e22b85bbd9b61882098c42032d825ea342e6ad32281e9a735fb09e9691ea", /* bob */
    "600df81cf37d8c7517a6d27e4b56b134619796b383ecc391fe6388d3866167eb", /* carol */
    "4f2d7c1e9a0b3c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5", /* dana */
    "1122334455667788990011223344556677889900aabbccddeeff001122334455", /* eli */
};
#define NKEYS (sizeof box_sks / sizeof box_sks[0])

static struct {
	char root[64];
	char data_dir[96], db_path[128], web_dir[96];
	struct config cfg;
	struct http_app app;
	struct store *store;  /* handed to the writer */
	struct store *reader; /* the harness's own connection, to count rows */
	struct logkey logkey;
	struct MHD_Daemon *d;
	unsigned char *answer;
} h;

static _Noreturn void
die(const char *what)
{
	fprintf(stderr, "fuzz_request: %s: %s\n", what, strerror(errno));
	abort();
}

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (f == NULL || fputs(text, f) == EOF || fclose(f) != 0)
		die(path);
}

static uint64_t
rows(void)
{
	uint64_t n;

	if (store_next_index(h.reader, &n) != 0) {
		fprintf(stderr, "fuzz_request: counting rows: %s\n", store_errmsg(h.reader));
		abort();
	}
	return n;
}

static void
teardown(void)
{
	if (h.d != NULL) {
		atomic_store(&h.app.stopping, 1);
		http_close_suspensions(&h.app);
		MHD_stop_daemon(h.d);
		h.d = NULL;
	}
	writer_stop(h.app.writer);
	h.app.writer = NULL;
	http_conns_stop(&h.app.conns);
	if (h.app.quota.cfg != NULL)
		quota_free(&h.app.quota);
	logkey_free(&h.logkey);
	for (unsigned i = 0; i < h.app.nlog_readers; i++)
		store_close(h.app.log_readers[i]);
	store_close(h.reader);
	free(h.app.config_json);
	pow_gate_free(&h.app.pow);
	if (h.app.webfd != -1)
		close(h.app.webfd);
	if (h.app.datafd != -1)
		close(h.app.datafd);
	free(h.answer);
	config_free(&h.cfg);
	/* The folder goes with the reaper (reaper_start). */
}

/* libFuzzer ends with _Exit or a crash, past any atexit handler: a child
 * process that waits for the end of a pipe only the parent holds removes the
 * temporary folder however the parent goes. Started before any thread. */
static void
reaper_start(void)
{
	int p[2];
	char c;
	pid_t pid;

	if (pipe(p) == -1 || (pid = fork()) == -1)
		die("reaper");
	if (pid == 0) {
		close(p[1]);
		while (read(p[0], &c, 1) > 0)
			;
		execlp("rm", "rm", "-rf", h.root, (char *)NULL);
		_exit(127);
	}
	close(p[0]); /* p[1] stays open, without FD_CLOEXEC, until we are gone */
}

static void
setup(void)
{
	struct keyfile_public keys[NKEYS];
	struct keyfile_secret *sk;
	unsigned char box_sk[32];
	char err[256], path[160];
	const char *tmp = getenv("TMPDIR");
	FILE *null;
	size_t i;
	int created;
	uint64_t stored;

	if (sodium_init() < 0)
		abort();
	/* The handlers print one line per refused report: not wanted here.
	 * File descriptors 1 and 2 stay open for libFuzzer and the sanitizers. */
	if ((null = fopen("/dev/null", "w")) == NULL)
		die("/dev/null");
	stdout = null;
	signal(SIGPIPE, SIG_IGN);
	umask(077);
	/* tmpfs when there is one: every 201 costs an fsync. */
	if (tmp == NULL)
		tmp = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	snprintf(h.root, sizeof h.root, "%s/fuzz_request.XXXXXX", tmp);
	if (mkdtemp(h.root) == NULL)
		die(h.root);
	reaper_start();
	snprintf(h.data_dir, sizeof h.data_dir, "%s/data", h.root);
	snprintf(h.web_dir, sizeof h.web_dir, "%s/web", h.root);
	snprintf(h.db_path, sizeof h.db_path, "%s/reports.db", h.data_dir);
	if (mkdir(h.data_dir, 0700) == -1 || mkdir(h.web_dir, 0700) == -1)
		die(h.root);
	snprintf(path, sizeof path, "%s/sub", h.web_dir);
	if (mkdir(path, 0700) == -1)
		die(path);
	snprintf(path, sizeof path, "%s/index.html", h.web_dir);
	write_file(path, "<!doctype html><title>fuzz</title>\n");
	snprintf(path, sizeof path, "%s/app.js", h.web_dir);
	write_file(path, "'use strict';\n");
	snprintf(path, sizeof path, "%s/sub/a.txt", h.web_dir);
	write_file(path, "a\n");
	snprintf(path, sizeof path, "%s/secret.txt", h.root);
	write_file(path, FUZZ_CANARY "\n");
	snprintf(path, sizeof path, "%s/secret.txt", h.data_dir);
	write_file(path, FUZZ_CANARY "\n");

	memset(&h.cfg, 0, sizeof h.cfg);
	h.cfg.data_dir = strdup(h.data_dir);
	h.cfg.listen = strdup("127.0.0.1:0");
	h.cfg.web = strdup(h.web_dir);
	h.cfg.origin = strdup(FUZZ_ORIGIN);
	if (h.cfg.data_dir == NULL || h.cfg.listen == NULL || h.cfg.web == NULL ||
	    h.cfg.origin == NULL)
		abort();
	h.cfg.max_report_bytes = 1024 * 1024;
	h.cfg.timeout = 10;
	h.cfg.max_connections = 64;
	h.cfg.threads = 2;
	/* No quota, no disk reserve: a 507 would only mean the fuzzing
	 * machine's disk. */
	h.cfg.max_uploads = 64;

	memset(&h.app, 0, sizeof h.app);
	h.app.datafd = h.app.webfd = -1;
	pthread_mutex_init(&h.app.suspend_lock, NULL);
	pthread_cond_init(&h.app.suspend_cond, NULL);
	for (i = 0; i < HTTP_LOG_READERS_MAX; i++)
		pthread_mutex_init(&h.app.log_locks[i], NULL);
	h.app.cfg = &h.cfg;
	/* Proof of work off (pow_bits 0), as sealtipd --pow-bits 0: the
	 * fuzzer reaches the report code without solving anything. */
	if (pow_gate_init(&h.app.pow, h.cfg.pow_bits, 300) == -1)
		abort();
	for (i = 0; i < NKEYS; i++) {
		if (sodium_hex2bin(box_sk, sizeof box_sk, box_sks[i], 64, NULL, NULL, NULL) != 0 ||
		    keyfile_secret_from_box_sk(box_sk, &sk) != 0)
			abort();
		keys[i] = sk->pub;
		keyfile_secret_free(sk);
		memcpy(h.app.keys.ids[i], keys[i].key_id, KEYFILE_KEY_ID_BYTES);
	}
	h.app.keys.n = NKEYS;
	crypto_hash_sha256(h.app.export_token_hash, (const unsigned char *)FUZZ_TOKEN,
	    sizeof FUZZ_TOKEN - 1);
	h.app.export_enabled = 1;
	if ((h.app.datafd = fileio_open_dir(h.data_dir)) == -1)
		die(h.data_dir);
	if ((h.app.webfd = fileio_open_dir(h.web_dir)) == -1)
		die(h.web_dir);
	h.app.db_path = h.db_path;
	if (store_open(&h.store, h.db_path, 1, err, sizeof err) == -1 ||
	    store_open(&h.reader, h.db_path, 0, err, sizeof err) == -1) {
		fprintf(stderr, "fuzz_request: %s: %s\n", h.db_path, err);
		abort();
	}
	for (i = 0; i < h.cfg.threads && i < HTTP_LOG_READERS_MAX; i++) {
		if (store_open(&h.app.log_readers[i], h.db_path, 0, err, sizeof err) == -1) {
			fprintf(stderr, "fuzz_request: %s\n", err);
			abort();
		}
		h.app.nlog_readers = (unsigned)i + 1;
	}
	/* As sealtipd: the verifier key is kept in meta (export files name it). */
	if (logkey_load(&h.logkey, h.app.datafd, h.cfg.origin, 1, &created, err, sizeof err) == -1 ||
	    store_meta_add(h.store, "log_verifier_key", h.logkey.vkey) == -1 ||
	    writer_start(&h.app.writer, h.store, &h.logkey, err, sizeof err) == -1) {
		fprintf(stderr, "fuzz_request: %s\n", err);
		abort();
	}
	h.app.logkey = &h.logkey;
	if ((h.app.config_json = http_config_build(
		 keys, NKEYS, &h.cfg, &h.logkey, &h.app.config_json_len)) == NULL)
		abort();
	if (store_stored_bytes(h.reader, &stored) != 0)
		abort();
	quota_init(&h.app.quota, &h.cfg, h.app.datafd, stored);
	if (http_conns_start(
		&h.app.conns, h.cfg.timeout, http_conns_budget(h.cfg.max_connections)) == -1)
		abort();
	/* sealtipd's flags and options, minus the listening socket. */
	/* epoll, where sealtipd polls (docs/fuzzing.md): this harness ends each
	 * input with a half-close, which libmicrohttpd's poll mode takes for
	 * the client leaving, before the answer is written. */
	h.d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
		MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ITC | MHD_USE_NO_LISTEN_SOCKET,
	    0, NULL, NULL, http_handle, &h.app, MHD_OPTION_THREAD_POOL_SIZE,
	    (unsigned int)h.cfg.threads, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)h.cfg.timeout,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned int)h.cfg.max_connections,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONFIG_CONNECTION_MEMORY,
	    MHD_OPTION_NOTIFY_COMPLETED, http_completed, &h.app, MHD_OPTION_NOTIFY_CONNECTION,
	    http_conns_notify, &h.app.conns, MHD_OPTION_UNESCAPE_CALLBACK, http_unescape, &h.app,
	    MHD_OPTION_URI_LOG_CALLBACK, http_request_new, &h.app, MHD_OPTION_END);
	if (h.d == NULL)
		die("MHD_start_daemon");
	if ((h.answer = malloc(FUZZ_ANSWER_MAX + 1)) == NULL)
		abort();
	atexit(teardown);
}

static long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits until the server has read every byte sent so far (nothing left in
 * its socket's receive queue), or until the queue stops shrinking for a
 * while (the server may rightly stop reading: a full buffer, an answer
 * already given). Needed before the half-close: libmicrohttpd 0.9.75 in epoll
 * mode (edge-triggered) reads a request, sees fewer bytes than it asked for,
 * and waits for the next edge; an end of stream that arrived together with
 * the last bytes makes no new edge, so it would sit until its connection
 * timeout. A real client's FIN mostly comes later and makes one. */
static void
wait_server_read(int server_fd, ino_t ino)
{
	struct timespec tick = {0, 200000};
	struct stat st;
	int queued, last = -1, still = 0;

	/* The descriptor is libmicrohttpd's: once it closed it, the number
	 * may name something else, so its inode is checked each time. */
	while (fstat(server_fd, &st) == 0 && st.st_ino == ino &&
	       ioctl(server_fd, FIONREAD, &queued) == 0 && queued > 0) {
		if (queued == last) {
			if (++still > 250) /* 50 ms without progress */
				return;
		} else {
			still = 0;
			last = queued;
		}
		nanosleep(&tick, NULL);
	}
}

/* Writes the request and reads the answer at the same time (a big request
 * could otherwise fill both socket buffers), half-closes after the last
 * byte, and returns the answer length once the server closed. */
static size_t
exchange(const uint8_t *data, size_t size)
{
	struct sockaddr_in peer;
	struct stat st;
	struct pollfd p;
	size_t sent = 0, got = 0;
	ssize_t n;
	long deadline = now_ms() + FUZZ_HANG_MS;
	int sv[2], wr_open = 1;
	char sink[4096];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1)
		die("socketpair");
	/* What sealtipd would see from accept(2); nothing reads it. */
	memset(&peer, 0, sizeof peer);
	peer.sin_family = AF_INET;
	peer.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fstat(sv[1], &st) == -1)
		die("fstat");
	if (MHD_add_connection(h.d, sv[1], (const struct sockaddr *)&peer, sizeof peer) != MHD_YES)
		die("MHD_add_connection");
	if (fcntl(sv[0], F_SETFL, O_NONBLOCK) == -1)
		die("fcntl");
	if (size == 0) {
		shutdown(sv[0], SHUT_WR);
		wr_open = 0;
	}
	/* sv[1] belongs to libmicrohttpd from here on; it is only looked at
	 * (FIONREAD), and only while it is still the same socket. */
	for (;;) {
		p.fd = sv[0];
		p.events = POLLIN | (wr_open ? POLLOUT : 0);
		p.revents = 0;
		if (now_ms() > deadline) {
			fprintf(stderr,
			    "fuzz_request: no end of answer after %d ms (%zu of %zu bytes sent, "
			    "%zu received)\n",
			    FUZZ_HANG_MS, sent, size, got);
			abort();
		}
		if (poll(&p, 1, 100) == -1) {
			if (errno == EINTR)
				continue;
			die("poll");
		}
		if (wr_open && (p.revents & (POLLOUT | POLLERR | POLLHUP))) {
			n = send(sv[0], data + sent, size - sent, MSG_NOSIGNAL);
			if (n > 0)
				sent += (size_t)n;
			/* EPIPE: the server closed early (413, 400...), fine. */
			if ((n == -1 && errno != EAGAIN && errno != EINTR) || sent == size) {
				if (sent == size)
					wait_server_read(sv[1], st.st_ino);
				shutdown(sv[0], SHUT_WR);
				wr_open = 0;
			}
		}
		if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
			if (got < FUZZ_ANSWER_MAX)
				n = recv(sv[0], h.answer + got, FUZZ_ANSWER_MAX - got, 0);
			else
				n = recv(sv[0], sink, sizeof sink, 0); /* counted, not kept */
			if (n == 0 || (n == -1 && errno == ECONNRESET))
				break;
			if (n > 0 && got < FUZZ_ANSWER_MAX)
				got += (size_t)n;
		}
	}
	close(sv[0]);
	h.answer[got] = '\0';
	return got;
}

/* libmicrohttpd calls the completion callback after closing the socket:
 * waits until every request of this connection has been cleaned up, so the
 * database is looked at only after any commit it started. */
static void
wait_idle(void)
{
	struct timespec tick = {0, 1000000};
	long deadline = now_ms() + FUZZ_HANG_MS;

	while (atomic_load(&h.app.in_flight) > 0) {
		if (now_ms() > deadline) {
			fprintf(stderr, "fuzz_request: a request never completed\n");
			abort();
		}
		nanosleep(&tick, NULL);
	}
}

static const void *
find(const void *hay, size_t hay_len, const char *needle)
{
	return memmem(hay, hay_len, needle, strlen(needle));
}

static unsigned
count(const unsigned char *a, size_t len, const char *needle)
{
	const unsigned char *p = a, *end = a + len, *hit;
	size_t n = strlen(needle);
	unsigned c = 0;

	while ((hit = memmem(p, (size_t)(end - p), needle, n)) != NULL) {
		c++;
		p = hit + n;
	}
	return c;
}

/* Content-Length of a response's header block, or 0 when it has none. */
static uint64_t
content_length(const unsigned char *hdr, size_t len, int *chunked)
{
	static const char cl[] = "\r\ncontent-length:", te[] = "\r\ntransfer-encoding:";
	uint64_t v = 0;
	size_t i, j;

	*chunked = 0;
	for (i = 0; i + sizeof te - 1 <= len; i++)
		if (strncasecmp((const char *)hdr + i, te, sizeof te - 1) == 0)
			*chunked = 1;
	for (i = 0; i + sizeof cl - 1 <= len; i++) {
		if (strncasecmp((const char *)hdr + i, cl, sizeof cl - 1) != 0)
			continue;
		for (j = i + sizeof cl - 1; j < len && hdr[j] == ' '; j++)
			;
		for (; j < len && hdr[j] >= '0' && hdr[j] <= '9' && v < UINT64_MAX / 10; j++)
			v = v * 10 + (uint64_t)(hdr[j] - '0');
		return v;
	}
	return 0;
}

/* Searches without libc's memmem: libFuzzer intercepts memmem calls and
 * learns the needle, and would soon put the canary into its inputs. */
static const unsigned char *
find_quiet(const unsigned char *hay, size_t len, const char *needle)
{
	size_t n = strlen(needle), i, j;

	for (i = 0; i + n <= len; i++) {
		for (j = 0; j < n && hay[i + j] == (unsigned char)needle[j]; j++)
			;
		if (j == n)
			return hay + i;
	}
	return NULL;
}

struct walk {
	unsigned created;	    /* 201 responses */
	unsigned errors_500;	    /* 500 responses */
	const unsigned char *leak; /* canary or database bytes in a body */
};

/* A body may not hold the canary or database pages, unless it is an export
 * file: those carry stored envelopes, which are bytes the fuzzer chose. */
static void
check_body(struct walk *w, const unsigned char *body, size_t len)
{
	const unsigned char *hit;

	if (w->leak != NULL || (len >= 8 && memcmp(body, "sealtipE", 8) == 0))
		return;
	if ((hit = find_quiet(body, len, FUZZ_CANARY)) != NULL ||
	    (hit = find_quiet(body, len, "SQLite format")) != NULL)
		w->leak = hit;
}

/* Walks the responses in the answer one by one (status line, headers, a body
 * of Content-Length bytes), counting 201s and 500s and checking each body.
 * Every response must start where the previous one's body ended: a
 * Content-Length that does not match its body is a finding too. A HEAD
 * answer announces a body it does not send: a "body" that starts with a
 * status line is taken for that (no body this server sends starts so). The
 * walk stops at a truncated response (the server may close mid-body on an
 * error) or a chunked one, whose remaining status lines are then searched
 * for. */
static void
walk_answer(const unsigned char *a, size_t len, struct walk *w)
{
	const unsigned char *p = a, *end = a + len, *hdr_end, *body;
	uint64_t cl;
	int chunked;

	memset(w, 0, sizeof *w);
	while (p < end) {
		if ((size_t)(end - p) < 13 || memcmp(p, "HTTP/1.", 7) != 0 || p[8] != ' ') {
			fprintf(stderr, "fuzz_request: no status line at byte %zu of the answer\n",
			    (size_t)(p - a));
			abort();
		}
		if (memcmp(p + 9, "201", 3) == 0)
			w->created++;
		if (memcmp(p + 9, "500", 3) == 0)
			w->errors_500++;
		if ((hdr_end = memmem(p, (size_t)(end - p), "\r\n\r\n", 4)) == NULL)
			break;
		body = hdr_end + 4;
		cl = content_length(p, (size_t)(hdr_end - p) + 2, &chunked);
		if (chunked) {
			w->created += count(body, (size_t)(end - body), "HTTP/1.1 201 ");
			w->errors_500 += count(body, (size_t)(end - body), "HTTP/1.1 500 ");
			check_body(w, body, (size_t)(end - body));
			break;
		}
		if ((size_t)(end - body) >= 7 && memcmp(body, "HTTP/1.", 7) == 0)
			cl = 0;
		if (cl > (uint64_t)(end - body)) {
			check_body(w, body, (size_t)(end - body));
			break;
		}
		check_body(w, body, (size_t)cl);
		p = body + cl;
	}
}

/* On a finding, FUZZ_REQUEST_ANSWER=FILE saves the whole answer there. */
static void
save_answer(size_t len)
{
	const char *path = getenv("FUZZ_REQUEST_ANSWER");
	FILE *f;

	if (path != NULL && (f = fopen(path, "wb")) != NULL) {
		fwrite(h.answer, 1, len, f);
		fclose(f);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t before, after;
	struct walk w;
	size_t len;

	if (h.d == NULL)
		setup();
	before = rows();
	len = exchange(data, size);
	wait_idle();
	after = rows();
	walk_answer(h.answer, len, &w);
	if (after - before != w.created) {
		fprintf(stderr,
		    "fuzz_request: %llu rows stored but %u answers were 201; the answer:\n%.*s\n",
		    (unsigned long long)(after - before), w.created, (int)(len < 4096 ? len : 4096),
		    h.answer);
		save_answer(len);
		abort();
	}
	if (w.errors_500 > 0) {
		fprintf(stderr, "fuzz_request: 500 in the answer:\n%.*s\n",
		    (int)(len < 4096 ? len : 4096), h.answer);
		save_answer(len);
		abort();
	}
	if (find(h.answer, len, "sealtipE") != NULL && find(data, size, FUZZ_TOKEN) == NULL) {
		fprintf(stderr, "fuzz_request: an export body without the token\n");
		save_answer(len);
		abort();
	}
	if (w.leak != NULL) {
		fprintf(stderr,
		    "fuzz_request: a file from outside the web root was served, at byte %zu of "
		    "the answer:\n%.*s\n",
		    (size_t)(w.leak - h.answer), (int)(len < 2048 ? len : 2048), h.answer);
		save_answer(len);
		abort();
	}
	return 0;
}
