/* make bench, intake server: durable submissions per second of 2 KiB
 * envelopes at 1, 8 and 32 connections, as ratios to (a) a bare
 * libmicrohttpd handler that reads the body and answers 200 and (b) one-row
 * durable sqlite inserts (WAL, FULL, one transaction each), both measured in
 * this run; then sealtipd's peak RSS while 20 clients upload 50 MiB each.
 * Not a test: it prints figures and fails only when something breaks.
 *
 * usage: bench_server SEALTIPD RECIPIENT.pub WORKDIR   (WORKDIR on a real disk) */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <microhttpd.h>
#include <sodium.h>
#include <sqlite3.h>

#include "envelope.h"
#include "keyfile.h"
#include "padme.h"
#include "status.h"

#define RUN_SECONDS 3.0
#define SMALL_PAYLOAD 1920 /* a Padmé length: envelope of 2058 bytes */
#define BIG_PAYLOAD (50u * 1024u * 1024u)
#define BIG_CLIENTS 20

struct bytes {
	unsigned char *data;
	size_t len, cap;
};

static int
bytes_write(void *ctx, const unsigned char *buf, size_t len)
{
	struct bytes *b = ctx;

	if (b->len + len > b->cap) {
		b->cap = (b->len + len) * 2;
		if ((b->data = realloc(b->data, b->cap)) == NULL)
			return -1;
	}
	memcpy(b->data + b->len, buf, len);
	b->len += len;
	return 0;
}

static double
now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static _Noreturn void
die(const char *what)
{
	fprintf(stderr, "bench_server: %s\n", what);
	exit(1);
}

/* A real envelope to the recipient with a payload of len bytes. */
static struct bytes
seal(const struct keyfile_public *pk, size_t len)
{
	struct bytes out = {0};
	struct envelope_seal *s;
	unsigned char *payload = calloc(1, len > 0 ? len : 1);
	const unsigned char(*pks)[32] = (const unsigned char(*)[32])pk->box_pk;

	if (payload == NULL || envelope_seal_new(&s, pks, 1, bytes_write, &out) != ST_OK ||
	    envelope_seal_update(s, payload, len) != ST_OK || envelope_seal_final(s) != ST_OK)
		die("cannot seal a test envelope");
	envelope_seal_free(s);
	free(payload);
	return out;
}

/* (b): one-row durable inserts, one transaction each. */
static double
bench_sqlite(const char *dir, const struct bytes *env)
{
	char path[4096];
	sqlite3 *db;
	sqlite3_stmt *st;
	double t0, t;
	long n = 0;

	snprintf(path, sizeof path, "%s/raw.db", dir);
	unlink(path);
	sync(); /* earlier runs' dirty pages must not slow this run's fsyncs */
	if (sqlite3_open(path, &db) != SQLITE_OK ||
	    sqlite3_exec(db,
		"PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
		"CREATE TABLE t (id INTEGER PRIMARY KEY, b BLOB NOT NULL)",
		NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "INSERT INTO t (b) VALUES (?)", -1, &st, NULL) != SQLITE_OK)
		die("sqlite setup failed");
	t0 = now();
	do {
		sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
		sqlite3_bind_blob(st, 1, env->data, (int)env->len, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE)
			die("sqlite insert failed");
		sqlite3_reset(st);
		if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
			die("sqlite commit failed");
		n++;
	} while ((t = now() - t0) < RUN_SECONDS);
	sqlite3_finalize(st);
	sqlite3_close(db);
	unlink(path);
	return (double)n / t;
}

/* (a): the bare handler. */
static enum MHD_Result
bare_handler(void *cls, struct MHD_Connection *c, const char *url, const char *method,
    const char *version, const char *data, size_t *size, void **con_cls)
{
	static int marker;
	struct MHD_Response *r;
	enum MHD_Result ret;

	(void)cls, (void)url, (void)method, (void)version, (void)data;
	if (*con_cls == NULL) {
		*con_cls = &marker;
		return MHD_YES;
	}
	if (*size > 0) {
		*size = 0;
		return MHD_YES;
	}
	r = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
	ret = MHD_queue_response(c, 200, r);
	MHD_destroy_response(r);
	return ret;
}

struct client {
	unsigned port;
	const struct bytes *body;
	int expect;
	double until;
	long ok;
	long failed;
	pthread_t thread;
};

static int
dial(unsigned port)
{
	struct sockaddr_in sa;
	int fd, one = 1;

	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_port = htons((unsigned short)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

static int
send_all(int fd, const void *buf, size_t len)
{
	const unsigned char *p = buf;
	ssize_t n;

	while (len > 0) {
		if ((n = send(fd, p, len, MSG_NOSIGNAL)) <= 0) {
			if (n == -1 && errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* One request on a keep-alive connection; returns the status or -1. */
static int
roundtrip(int fd, const struct bytes *body)
{
	char head[128], resp[4096], *end, *cl;
	size_t have = 0, hlen, want;
	ssize_t n;
	int status;

	hlen = (size_t)snprintf(head, sizeof head,
	    "POST /api/v1/reports HTTP/1.1\r\nHost: b\r\nContent-Length: %zu\r\n\r\n", body->len);
	if (send_all(fd, head, hlen) == -1 || send_all(fd, body->data, body->len) == -1)
		return -1;
	for (;;) {
		if (have == sizeof resp - 1)
			return -1;
		if ((n = recv(fd, resp + have, sizeof resp - 1 - have, 0)) <= 0)
			return -1;
		have += (size_t)n;
		resp[have] = '\0';
		if ((end = strstr(resp, "\r\n\r\n")) != NULL)
			break;
	}
	if (sscanf(resp, "HTTP/1.1 %d", &status) != 1)
		return -1;
	cl = strcasestr(resp, "\r\nContent-Length:");
	want = cl != NULL && cl < end ? strtoul(cl + 17, NULL, 10) : 0;
	want += (size_t)(end + 4 - resp);
	while (have < want) {
		if ((n = recv(fd, resp, sizeof resp - 1, 0)) <= 0)
			return -1;
		have += (size_t)n;
	}
	return status;
}

static void *
client_main(void *arg)
{
	struct client *c = arg;
	int fd = dial(c->port);

	if (fd == -1) {
		c->failed++;
		return NULL;
	}
	while (now() < c->until) {
		if (roundtrip(fd, c->body) == c->expect) {
			c->ok++;
		} else {
			c->failed++;
			close(fd);
			if ((fd = dial(c->port)) == -1)
				break;
		}
	}
	if (fd != -1)
		close(fd);
	return NULL;
}

/* Requests per second answered with expect, over nconn keep-alive connections. */
static double
load(unsigned port, const struct bytes *body, int expect, int nconn, double seconds, long *failed)
{
	struct client *cs = calloc((size_t)nconn, sizeof *cs);
	double t0 = now();
	long ok = 0;
	int i;

	*failed = 0;
	for (i = 0; i < nconn; i++) {
		cs[i] = (struct client){port, body, expect, t0 + seconds, 0, 0, 0};
		pthread_create(&cs[i].thread, NULL, client_main, &cs[i]);
	}
	for (i = 0; i < nconn; i++) {
		pthread_join(cs[i].thread, NULL);
		ok += cs[i].ok;
		*failed += cs[i].failed;
	}
	free(cs);
	return (double)ok / (now() - t0);
}

static pid_t
start_sealtipd(const char *bin, const char *pub, const char *dir, unsigned *port)
{
	char data[4096], line[512];
	int pipefd[2];
	pid_t pid;
	FILE *out;

	snprintf(data, sizeof data, "%s/data", dir);
	if (pipe(pipefd) == -1)
		die("pipe");
	if ((pid = fork()) == 0) {
		dup2(pipefd[1], 1);
		close(pipefd[0]);
		close(pipefd[1]);
		execl(bin, bin, "--data", data, "--recipient", pub, "--listen", "127.0.0.1:0",
		    "--max-report-bytes", "60000000", "--timeout", "60", "--web", dir,
		    "--pow-bits", "0", (char *)NULL); /* measures storage, not the puzzle */
		_exit(127);
	}
	close(pipefd[1]);
	if ((out = fdopen(pipefd[0], "r")) == NULL || fgets(line, sizeof line, out) == NULL ||
	    sscanf(line, "listening on http://127.0.0.1:%u/", port) != 1)
		die("sealtipd did not start");
	/* Keep reading its output so it never blocks on a full pipe. */
	if (fork() == 0) {
		while (fgets(line, sizeof line, out) != NULL)
			;
		_exit(0);
	}
	fclose(out);
	return pid;
}

static long
peak_rss_kib(pid_t pid)
{
	char path[64], line[256];
	long kib = -1;
	FILE *f;

	snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof line, f) != NULL)
		if (strncmp(line, "VmHWM:", 6) == 0)
			kib = strtol(line + 6, NULL, 10);
	fclose(f);
	return kib;
}

int
main(int argc, char **argv)
{
	struct keyfile_public pk;
	struct bytes small, big;
	struct MHD_Daemon *d;
	const union MHD_DaemonInfo *info;
	char text[KEYFILE_TEXT_MAX + 1];
	static const int conns[] = {1, 8, 32};
	double sql[4], bare[3], srv[3], ratio[3];
	unsigned port;
	long failed, rss;
	size_t n;
	FILE *f;
	pid_t pid;
	int i, status;

	if (argc != 4)
		die("usage: bench_server SEALTIPD RECIPIENT.pub WORKDIR");
	if (sodium_init() < 0)
		die("libsodium");
	signal(SIGPIPE, SIG_IGN);
	if ((f = fopen(argv[2], "r")) == NULL)
		die("cannot read the public key");
	n = fread(text, 1, KEYFILE_TEXT_MAX, f);
	fclose(f);
	if (keyfile_public_parse(text, n, &pk) != ST_OK)
		die("bad public key");
	small = seal(&pk, SMALL_PAYLOAD);
	/* For profiling a running server: SEALTIP_BENCH_LOAD="PORT CONNECTIONS"
	 * only sends load to it. */
	if (getenv("SEALTIP_BENCH_LOAD") != NULL) {
		int c = 1;

		if (sscanf(getenv("SEALTIP_BENCH_LOAD"), "%u %d", &port, &c) != 2 || c < 1)
			die("SEALTIP_BENCH_LOAD=\"PORT CONNECTIONS\"");
		printf("%.0f /s\n", load(port, &small, 201, c, RUN_SECONDS, &failed));
		return 0;
	}
	big = seal(&pk, BIG_PAYLOAD);
	if (!padme_is_padded(SMALL_PAYLOAD) || !padme_is_padded(BIG_PAYLOAD))
		die("test payloads are not Padmé lengths");

	printf("== sealtipd intake: %zu-byte envelopes, %.0f s per run, work dir %s\n", small.len,
	    RUN_SECONDS, argv[3]);
	sql[0] = bench_sqlite(argv[3], &small);
	printf("(b) durable one-row sqlite inserts (WAL, FULL):  %8.0f /s\n", sql[0]);

	d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL, 0, NULL, NULL,
	    bare_handler, NULL, MHD_OPTION_THREAD_POOL_SIZE, 4u, MHD_OPTION_CONNECTION_TIMEOUT, 30u,
	    MHD_OPTION_END);
	if (d == NULL || (info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT)) == NULL)
		die("bare libmicrohttpd did not start");
	for (i = 0; i < 3; i++) {
		bare[i] = load(info->port, &small, 200, conns[i], RUN_SECONDS, &failed);
		printf("(a) bare libmicrohttpd POST, %2d connections:   %8.0f /s\n", conns[i],
		    bare[i]);
	}
	MHD_stop_daemon(d);

	pid = start_sealtipd(argv[1], argv[2], argv[3], &port);
	/* The disk is shared and its fsync latency drifts: each server run is
	 * compared with (b) measured right before and right after it. */
	for (i = 0; i < 3; i++) {
		sync();
		srv[i] = load(port, &small, 201, conns[i], RUN_SECONDS, &failed);
		sql[i + 1] = bench_sqlite(argv[3], &small);
		ratio[i] = srv[i] / ((sql[i] + sql[i + 1]) / 2);
		printf("sealtipd durable submissions, %2d connections: %8.0f /s = %5.2f x (b) [(b) "
		       "after: "
		       "%.0f /s], %5.3f x (a)%s\n",
		    conns[i], srv[i], ratio[i], sql[i + 1], srv[i] / bare[i],
		    failed ? "  (some requests failed)" : "");
	}
	printf("targets: 32 connections >= 3 x (b): %s; 1 connection >= 0.8 x (b): %s\n",
	    ratio[2] >= 3 ? "met" : "NOT met", ratio[0] >= 0.8 ? "met" : "NOT met");
	/* One connection cannot overlap anything: the next request leaves only
	 * after the 201, the 201 only after the fsync. So no server, however
	 * made, beats one bare exchange (a) followed by one durable commit (b),
	 * in sequence. */
	{
		double b1 = (sql[0] + sql[1]) / 2, ceiling = 1.0 / (1.0 / bare[0] + 1.0 / b1);

		printf("ceiling at 1 connection, (a) then (b) in sequence: %.0f /s = %.2f x (b); "
		       "sealtipd reaches %.2f of it\n",
		    ceiling, ceiling / b1, srv[0] / ceiling);
	}
	{
		struct client cs[BIG_CLIENTS];

		for (i = 0; i < BIG_CLIENTS; i++) {
			/* One upload each: until is in the past after the first. */
			cs[i] = (struct client){port, &big, 201, now(), 0, 0, 0};
			pthread_create(&cs[i].thread, NULL, client_main, &cs[i]);
		}
		for (i = 0; i < BIG_CLIENTS; i++)
			pthread_join(cs[i].thread, NULL);
		rss = peak_rss_kib(pid);
		printf("peak RSS after %d concurrent %u MiB uploads: %ld MiB (target < 64 MiB)\n",
		    BIG_CLIENTS, BIG_PAYLOAD >> 20, rss / 1024);
	}
	kill(pid, SIGTERM);
	waitpid(pid, &status, 0);
	free(small.data);
	free(big.data);
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
