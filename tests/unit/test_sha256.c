/* SHA-256: the NIST example vectors, then libsodium's crypto_hash_sha256 as
 * the oracle for every length 0..2000, many ways of splitting the input into
 * updates, and 10 MiB. Every check runs twice in one process: once on the
 * engine the CPU picks (SHA-NI here when it has it) and once forced onto the
 * libsodium fallback through sha256_force_portable. Data and splits come from
 * fixed seeds, so a failure repeats. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

#include "sha256.h"

#define MAX_DENSE 2000
#define BIG_BYTES (10u * 1024 * 1024)

/* Which engine the running group forces: set by the group setups. */
static int test_forced;

/* xorshift64: the split patterns need repeatable numbers, not good ones. */
static uint64_t
test_rand(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

static unsigned char *
test_data(size_t len, unsigned char seed_byte)
{
	unsigned char seed[randombytes_SEEDBYTES];
	unsigned char *p;

	p = malloc(len > 0 ? len : 1);
	assert_non_null(p);
	memset(seed, seed_byte, sizeof(seed));
	randombytes_buf_deterministic(p, len, seed);
	return p;
}

static void
test_hex(unsigned char out[32], const char *hex)
{
	size_t len = 0;

	assert_int_equal(sodium_hex2bin(out, 32, hex, strlen(hex), " ", &len, NULL), 0);
	assert_int_equal(len, 32);
}

/* sha256() and a single update must both match libsodium. */
static void
test_check_oneshot(const unsigned char *data, size_t len)
{
	unsigned char want[32], got[32];
	struct sha256 s;

	crypto_hash_sha256(want, data, len);
	sha256(got, data, len);
	assert_memory_equal(got, want, 32);
	sha256_init(&s);
	sha256_update(&s, data, len);
	sha256_final(&s, got);
	assert_memory_equal(got, want, 32);
}

/* Feeds data in pieces of the sizes in cuts (cycled), then checks. */
static void
test_check_split(const unsigned char *data, size_t len, const size_t *cuts, size_t ncuts)
{
	unsigned char want[32], got[32];
	struct sha256 s;
	size_t off = 0, n, i = 0;

	crypto_hash_sha256(want, data, len);
	sha256_init(&s);
	while (off < len) {
		n = cuts[i++ % ncuts];
		if (n > len - off)
			n = len - off;
		sha256_update(&s, data + off, n);
		off += n;
	}
	sha256_final(&s, got);
	assert_memory_equal(got, want, 32);
}

static int
setup_native(void **state)
{
	(void)state;
	test_forced = 0;
	sha256_force_portable(0);
	return 0;
}

static int
setup_portable(void **state)
{
	(void)state;
	test_forced = 1;
	sha256_force_portable(1);
	return 0;
}

static int
teardown_group(void **state)
{
	(void)state;
	sha256_force_portable(0);
	return 0;
}

/* The engine in use is the one the CPU, environment and hook call for; the
 * CPU is asked here through cpuid.h's named bits, the code under test uses
 * the bit numbers, so a wrong bit in either shows. */
static void
test_engine(void **state)
{
	const char *want = "libsodium";
#if defined(__x86_64__) || defined(__i386__)
	const char *env = getenv("SEALTIP_SHA256");
	unsigned int a, b, c, d, sha = 0, sse41 = 0;

	if (__get_cpuid(1, &a, &b, &c, &d))
		sse41 = c & bit_SSE4_1;
	if (__get_cpuid_count(7, 0, &a, &b, &c, &d))
		sha = b & bit_SHA;
	if (!test_forced && (env == NULL || strcmp(env, "portable") != 0) && sha && sse41)
		want = "sha-ni";
#endif
	(void)state;
	print_message("engine: %s\n", sha256_implementation());
	assert_string_equal(sha256_implementation(), want);
}

/* FIPS 180-4 example messages, as published by NIST (csrc, "Example Values"). */
static void
test_nist_vectors(void **state)
{
	static const struct {
		const char *msg, *hex;
	} t[] = {
	    {"", "e3b0c442 98fc1c14 9afbf4c8 996fb924 27ae41e4 649b934c a495991b 7852b855"},
	    {"abc", "ba7816bf 8f01cfea 414140de 5dae2223 b00361a3 96177a9c b410ff61 f20015ad"},
	    {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
		"248d6a61 d20638b8 e5c02693 0c3e6039 a33ce459 64ff2167 f6ecedd4 19db06c1"},
	    {"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmno"
	     "pqrlmnopqrsmnopqrstnopqrstu",
		"cf5b16a7 78af8380 036ce59e 7b049237 0b249b11 e8f07a51 afac4503 7afee9d1"},
	};
	unsigned char want[32], got[32];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		test_hex(want, t[i].hex);
		sha256(got, (const unsigned char *)t[i].msg, strlen(t[i].msg));
		assert_memory_equal(got, want, 32);
	}
	/* The empty message with no buffer at all. */
	test_hex(want, t[0].hex);
	sha256(got, NULL, 0);
	assert_memory_equal(got, want, 32);
}

static void
test_million_a(void **state)
{
	static const size_t cuts[] = {1000};
	unsigned char want[32], got[32], *a;

	(void)state;
	a = malloc(1000000);
	assert_non_null(a);
	memset(a, 'a', 1000000);
	test_hex(want, "cdc76e5c 9914fb92 81a1c7e2 84d73e67 f1809a48 a497200e 046d39cc c7112cd0");
	sha256(got, a, 1000000);
	assert_memory_equal(got, want, 32);
	test_check_split(a, 1000000, cuts, 1);
	free(a);
}

/* Every length through the padding cases (55, 56, 63, 64 mod 64 ...), read
 * from an offset that varies too, so loads are unaligned as often as not. */
static void
test_every_length(void **state)
{
	unsigned char *buf;
	size_t len;

	(void)state;
	buf = test_data(MAX_DENSE + 64, 1);
	for (len = 0; len <= MAX_DENSE; len++)
		test_check_oneshot(buf + len % 17, len);
	free(buf);
}

static void
test_byte_updates(void **state)
{
	static const size_t one[] = {1};
	unsigned char *buf;
	size_t len;

	(void)state;
	buf = test_data(MAX_DENSE, 2);
	for (len = 0; len <= 300; len++)
		test_check_split(buf, len, one, 1);
	test_check_split(buf, MAX_DENSE, one, 1);
	free(buf);
}

/* Fixed piece sizes around the block size, and cycles of odd ones that drift
 * across every buffer fill level. */
static void
test_fixed_splits(void **state)
{
	static const size_t sizes[] = {
	    2, 3, 7, 31, 55, 56, 57, 63, 64, 65, 127, 128, 129, 191, 1000, 4096};
	static const size_t odd[] = {13, 1, 200, 63, 0, 65, 5, 640};
	/* A block's worth in two pieces, then many blocks with and without a tail. */
	static const size_t boundary[][3] = {{0, 64, 64 * 10}, {1, 63, 64 * 10 + 1},
	    {32, 32, 64 * 7 + 63}, {63, 1, 64}, {64, 0, 64 * 3}, {63, 66, 64 * 5 + 62}};
	unsigned char *buf;
	size_t i, len;

	(void)state;
	buf = test_data(8192, 3);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		for (len = 0; len <= 8192; len += 1 + len / 3)
			test_check_split(buf, len, &sizes[i], 1);
	for (len = 0; len <= 8192; len += 1 + len / 5)
		test_check_split(buf, len, odd, sizeof(odd) / sizeof(odd[0]));
	for (i = 0; i < sizeof(boundary) / sizeof(boundary[0]); i++) {
		len = boundary[i][0] + boundary[i][1] + boundary[i][2];
		test_check_split(buf, len, boundary[i], 3);
		test_check_split(buf + 5, len, boundary[i], 3);
	}
	free(buf);
}

static void
test_random_splits(void **state)
{
	size_t cuts[64], ncuts, len, i;
	unsigned char *buf;
	uint64_t x = 0x5eed5eed12345678u;
	int trial;

	(void)state;
	buf = test_data(20000 + 16, 4);
	for (trial = 0; trial < 2000; trial++) {
		len = (size_t)(test_rand(&x) % 20000);
		ncuts = 1 + (size_t)(test_rand(&x) % 64);
		for (i = 0; i < ncuts; i++) {
			/* Mostly small pieces, some of several blocks. */
			if (test_rand(&x) % 4 == 0)
				cuts[i] = (size_t)(test_rand(&x) % 3000);
			else
				cuts[i] = (size_t)(test_rand(&x) % 130);
		}
		/* A cycle of only empty pieces would never finish. */
		cuts[0] += 1;
		test_check_split(buf + trial % 16, len, cuts, ncuts);
	}
	free(buf);
}

static void
test_ten_mib(void **state)
{
	static const size_t cuts[] = {1024 * 1024 + 7, 3, 65536};
	unsigned char *buf;

	(void)state;
	buf = test_data(BIG_BYTES, 5);
	test_check_oneshot(buf, BIG_BYTES);
	test_check_split(buf, BIG_BYTES, cuts, sizeof(cuts) / sizeof(cuts[0]));
	free(buf);
}

/* The buffer may have held plaintext: nothing of the state may survive final. */
static void
test_final_wipes(void **state)
{
	unsigned char buf[100], out[32];
	struct sha256 s;

	(void)state;
	memset(buf, 0x5a, sizeof(buf));
	sha256_init(&s);
	sha256_update(&s, buf, sizeof(buf));
	sha256_final(&s, out);
	assert_true(sodium_is_zero((const unsigned char *)&s, sizeof(s)));
}

/* A state keeps the engine it started with when the hook flips mid-stream. */
static void
test_engine_fixed_at_init(void **state)
{
	unsigned char *buf, want[32], got[32];
	struct sha256 s;
	int first;

	(void)state;
	buf = test_data(1000, 6);
	crypto_hash_sha256(want, buf, 1000);
	for (first = 0; first <= 1; first++) {
		sha256_force_portable(first);
		sha256_init(&s);
		sha256_update(&s, buf, 333);
		sha256_force_portable(!first);
		sha256_update(&s, buf + 333, 667);
		sha256_final(&s, got);
		assert_memory_equal(got, want, 32);
	}
	sha256_force_portable(test_forced);
	free(buf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_engine),
	    cmocka_unit_test(test_nist_vectors),
	    cmocka_unit_test(test_million_a),
	    cmocka_unit_test(test_every_length),
	    cmocka_unit_test(test_byte_updates),
	    cmocka_unit_test(test_fixed_splits),
	    cmocka_unit_test(test_random_splits),
	    cmocka_unit_test(test_ten_mib),
	    cmocka_unit_test(test_final_wipes),
	    cmocka_unit_test(test_engine_fixed_at_init),
	};
	int failed = 0;

	if (sodium_init() < 0) {
		fprintf(stderr, "sodium_init failed\n");
		return 1;
	}
	failed += cmocka_run_group_tests_name("sha256 native", tests, setup_native, teardown_group);
	failed +=
	    cmocka_run_group_tests_name("sha256 portable", tests, setup_portable, teardown_group);
	return failed == 0 ? 0 : 1;
}
