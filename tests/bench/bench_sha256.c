/* SHA-256 throughput: sha256() against libsodium's crypto_hash_sha256 over
 * one 256 MiB buffer, in MiB/s and as a ratio measured in the same run. The
 * best of several runs each, so a busy moment on the machine does not count;
 * the digests must agree or the numbers mean nothing. Also sha256() forced
 * onto its fallback, which should come out at about 1.0.
 * Usage: bench_sha256 [runs] (default 3) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "sha256.h"

#define BENCH_BYTES ((size_t)256 * 1024 * 1024)

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
hash_ours(unsigned char out[32], const unsigned char *buf, size_t len)
{
	sha256(out, buf, len);
}

static void
hash_sodium(unsigned char out[32], const unsigned char *buf, size_t len)
{
	crypto_hash_sha256(out, buf, len);
}

/* One run's rate in MiB/s; keeps the best seen in *best. */
static void
rate(void (*fn)(unsigned char *, const unsigned char *, size_t), const unsigned char *buf,
    unsigned char out[32], double *best)
{
	double start, mibps;

	start = now();
	fn(out, buf, BENCH_BYTES);
	mibps = (double)BENCH_BYTES / (1024.0 * 1024.0) / (now() - start);
	if (mibps > *best)
		*best = mibps;
}

int
main(int argc, char **argv)
{
	unsigned char ours[32], theirs[32], portable[32];
	unsigned char *buf;
	char label[64];
	double r_ours = 0.0, r_sodium = 0.0, r_portable = 0.0;
	int runs = 3, i;

	if (argc > 1 && (runs = atoi(argv[1])) < 1) {
		fprintf(stderr, "usage: bench_sha256 [runs]\n");
		return 2;
	}
	if (sodium_init() < 0 || (buf = malloc(BENCH_BYTES)) == NULL)
		return 1;
	randombytes_buf(buf, BENCH_BYTES);

	/* Interleaved, so a spell of load on a shared machine hits all three
	 * alike rather than whichever ran during it. */
	for (i = 0; i < runs; i++) {
		rate(hash_sodium, buf, theirs, &r_sodium);
		rate(hash_ours, buf, ours, &r_ours);
		sha256_force_portable(1);
		rate(hash_ours, buf, portable, &r_portable);
		sha256_force_portable(0);
	}
	if (memcmp(ours, theirs, 32) != 0 || memcmp(portable, theirs, 32) != 0) {
		fprintf(stderr, "bench_sha256: digests differ\n");
		return 1;
	}

	snprintf(label, sizeof(label), "sha256 (%s)", sha256_implementation());
	printf("sha256 over 256 MiB, best of %d\n", runs);
	printf("  %-26s %8.1f MiB/s\n", "crypto_hash_sha256", r_sodium);
	printf("  %-26s %8.1f MiB/s  %.2fx libsodium\n", label, r_ours, r_ours / r_sodium);
	printf("  %-26s %8.1f MiB/s  %.2fx libsodium\n", "sha256 (forced portable)", r_portable,
	    r_portable / r_sodium);
	free(buf);
	return 0;
}
