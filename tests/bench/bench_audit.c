/* make bench: `sealtip audit` throughput as a ratio to raw SHA-256
 * (crypto/sha256.h, the engine the audit uses) measured in this same run,
 * and the audit's peak RSS. The database is made by tests/bench/audit.sh
 * with the real server. Best of RUNS each (default 3), interleaved.
 * Usage: bench_audit SEALTIP DB [RUNS] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "sha256.h"

/* A small buffer hashed many times: SHA-256 is compute-bound, and a large
 * one would be counted in the forked audit's peak RSS. */
#define RAW_BUF ((size_t)4 * 1024 * 1024)
#define RAW_BYTES ((size_t)256 * 1024 * 1024)

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* sha256() over 64 KiB pieces, as the audit feeds it, in MiB/s. */
static double
raw_rate(const unsigned char *buf)
{
	struct sha256 h;
	unsigned char out[SHA256_BYTES];
	double start;
	size_t off;

	start = now();
	sha256_init(&h);
	for (off = 0; off < RAW_BYTES; off += 65536)
		sha256_update(&h, buf + off % RAW_BUF, 65536);
	sha256_final(&h, out);
	return (double)RAW_BYTES / (1 << 20) / (now() - start);
}

/* One audit; its rate in MiB/s over the envelope bytes it reports. */
static double
audit_rate(const char *sealtip, const char *db, long *maxrss)
{
	struct rusage usage;
	char line[1024];
	unsigned long long entries = 0, bytes = 0;
	double start, elapsed;
	int fds[2], status;
	FILE *f;
	pid_t pid;

	if (pipe(fds) == -1)
		exit(1);
	start = now();
	if ((pid = fork()) == 0) {
		dup2(fds[1], STDOUT_FILENO);
		close(fds[0]);
		close(fds[1]);
		execl(sealtip, sealtip, "audit", db, (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	if ((f = fdopen(fds[0], "r")) == NULL)
		exit(1);
	while (fgets(line, sizeof line, f) != NULL)
		if (strncmp(line, "audit ok: ", 10) == 0)
			(void)sscanf(strstr(line, ": ") + 2, "%*[^:]: %llu entries, %llu bytes",
			    &entries, &bytes);
	fclose(f);
	if (pid == -1 || wait4(pid, &status, 0, &usage) == -1 || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0 || bytes == 0) {
		fputs("bench_audit: sealtip audit failed\n", stderr);
		exit(1);
	}
	elapsed = now() - start;
	if (usage.ru_maxrss > *maxrss)
		*maxrss = usage.ru_maxrss;
	printf("audit run: %llu entries, %.0f MiB in %.2f s\n", entries, (double)bytes / (1 << 20),
	    elapsed);
	return (double)bytes / (1 << 20) / elapsed;
}

int
main(int argc, char **argv)
{
	unsigned char *buf;
	double best_raw = 0.0, best_audit = 0.0, r;
	long maxrss = 0;
	int runs = 3, i;

	if (argc < 3 || argc > 4 || (argc == 4 && (runs = atoi(argv[3])) < 1) ||
	    sodium_init() < 0) {
		fputs("usage: bench_audit SEALTIP DB [RUNS]\n", stderr);
		return 2;
	}
	if ((buf = malloc(RAW_BUF)) == NULL)
		return 1;
	randombytes_buf(buf, RAW_BUF);
	for (i = 0; i < runs; i++) {
		if ((r = raw_rate(buf)) > best_raw)
			best_raw = r;
		if ((r = audit_rate(argv[1], argv[2], &maxrss)) > best_audit)
			best_audit = r;
	}
	printf("audit: %.0f MiB/s; raw SHA-256 (%s) %.0f MiB/s\n", best_audit,
	    sha256_implementation(), best_raw);
	printf("audit ratio to raw SHA-256: %.2f (target >= 0.70)\n", best_audit / best_raw);
	printf("audit peak RSS: %.1f MiB\n", (double)maxrss / 1024);
	free(buf);
	return 0;
}
