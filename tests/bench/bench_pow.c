/* What checking a proof of work costs sealtipd, per request, in
 * microseconds: the whole gate on a valid solution (parse, MAC, expiry,
 * work, spending it under the lock), its parts alone, and the cheapest
 * refusals. Compared with one raw SHA-256 of the 82 bytes measured in the
 * same run. Also the C solver's rate (what `sealtip submit` does).
 * Usage: bench_pow [checks] (default 50000, at most POW_GATE_FILL_MAX) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "pow.h"
#include "pow_gate.h"
#include "sha256.h"

#define NOW 1800000000u
#define BITS 8 /* cheap to prepare; the check costs the same at any difficulty */

static double
now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
report(const char *what, double seconds, unsigned n, double raw_us)
{
	double us = seconds / n * 1e6;

	printf("  %-44s %8.3f us  (%5.1f x one SHA-256 of 82 bytes)\n", what, us, us / raw_us);
}

int
main(int argc, char **argv)
{
	struct pow_gate g;
	unsigned n = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 50000, i, ok = 0;
	char(*headers)[POW_GATE_HEADER_MAX + 1];
	unsigned char c[POW_CHALLENGE_BYTES], leaf[POW_LEAF_BYTES], nonce[POW_NONCE_BYTES];
	unsigned char input[82], h[32], claimed[POW_LEAF_BYTES];
	char b64[POW_CHALLENGE_B64_LEN + 1], leaf_hex[65], nonce_hex[17];
	struct pow_challenge pc;
	size_t len;
	double t, raw_us;
	uint64_t tries = 0;

	if (sodium_init() < 0 || n == 0 || n > POW_GATE_FILL_MAX ||
	    pow_gate_init(&g, BITS, 300) == -1 ||
	    (headers = malloc((size_t)n * sizeof *headers)) == NULL) {
		fprintf(stderr, "bench_pow: cannot start (checks 1..%u)\n", POW_GATE_FILL_MAX);
		return 1;
	}
	randombytes_buf(leaf, sizeof leaf);
	sodium_bin2hex(leaf_hex, sizeof leaf_hex, leaf, sizeof leaf);
	for (i = 0; i < n; i++) {
		pow_gate_challenge(&g, NOW, b64);
		sodium_base642bin(c, sizeof c, b64, strlen(b64), NULL, &len, NULL,
		    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
		pow_solve(c, leaf, BITS, 0, nonce, NULL, NULL);
		sodium_bin2hex(nonce_hex, sizeof nonce_hex, nonce, sizeof nonce);
		snprintf(headers[i], sizeof headers[i], "challenge=%s; leaf=%s; nonce=%s", b64,
		    leaf_hex, nonce_hex);
	}
	printf("== proof-of-work check in sealtipd (%u checks each, SHA-256: %s)\n", n,
	    sha256_implementation());
	memset(input, 7, sizeof input);
	t = now_seconds();
	for (i = 0; i < n; i++) {
		input[0] = (unsigned char)i;
		sha256(h, input, sizeof input);
	}
	raw_us = (now_seconds() - t) / n * 1e6;
	report("raw SHA-256 of 82 bytes", raw_us * n / 1e6, n, raw_us);
	t = now_seconds();
	for (i = 0; i < n; i++)
		ok += pow_gate_parse(headers[i], c, claimed, nonce) == 0;
	report("header parse", now_seconds() - t, n, raw_us);
	t = now_seconds();
	for (i = 0; i < n; i++)
		ok += pow_challenge_verify(c, sizeof c, g.key, BITS, NOW, &pc) == POW_OK;
	report("challenge MAC and expiry", now_seconds() - t, n, raw_us);
	t = now_seconds();
	for (i = 0; i < n; i++)
		ok += pow_work_check(c, claimed, nonce, BITS) == POW_OK;
	report("work (one SHA-256 + zero bits)", now_seconds() - t, n, raw_us);
	t = now_seconds();
	for (i = 0; i < n; i++)
		ok += pow_gate_check(&g, headers[i], NOW, claimed) == POW_GATE_OK;
	report("whole gate, valid and spent (the 201 path)", now_seconds() - t, n, raw_us);
	t = now_seconds();
	for (i = 0; i < n; i++)
		ok += pow_gate_check(&g, headers[i], NOW, claimed) == POW_GATE_REUSED;
	report("whole gate, reused (refused)", now_seconds() - t, n, raw_us);
	t = now_seconds();
	for (i = 0; i < n; i++)
		ok += pow_gate_check(&g, "challenge=x", NOW, claimed) == POW_GATE_MALFORMED;
	report("whole gate, malformed (refused)", now_seconds() - t, n, raw_us);
	if (ok != 6 * n) {
		fprintf(stderr, "bench_pow: %u of %u checks gave the wrong answer\n", 6 * n - ok,
		    6 * n);
		return 1;
	}
	printf("== C solver (sealtip submit)\n");
	t = now_seconds();
	for (i = 0; i < 16; i++) {
		pow_challenge_make(c, g.key, 16, NOW + 300);
		tries += pow_solve(c, leaf, 16, 0, nonce, NULL, NULL);
	}
	t = now_seconds() - t;
	printf("  %.2f M tries/s; 2^18 (the default) takes %.2f s on average\n", tries / t / 1e6,
	    (double)(1u << 18) / (tries / t));
	pow_gate_free(&g);
	free(headers);
	return 0;
}
