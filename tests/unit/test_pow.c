/* Proof of work: challenges (make, verify, expiry, tampering, another key),
 * leading-zero counting, the work and its check against libsodium's own
 * SHA-256, and the server's gate: header syntax, every refusal, spending,
 * memory across a rotation, the bound on the spent set, and threads racing
 * to spend the same challenges. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "pow.h"
#include "pow_gate.h"

#define NOW 1800000000u

static const unsigned char key[POW_KEY_BYTES] = "0123456789abcdef0123456789abcde";

static void
test_challenge_roundtrip(void **state)
{
	unsigned char c[POW_CHALLENGE_BYTES];
	struct pow_challenge got;

	(void)state;
	pow_challenge_make(c, key, 18, NOW + 300);
	assert_int_equal(c[0], POW_VERSION);
	assert_int_equal(c[1], 18);
	/* expiry big-endian */
	assert_int_equal(c[6], (NOW + 300) >> 24 & 0xff);
	assert_int_equal(c[9], (NOW + 300) & 0xff);
	memset(&got, 0, sizeof got);
	assert_int_equal(pow_challenge_verify(c, sizeof c, key, 18, NOW, &got), POW_OK);
	assert_int_equal(got.bits, 18);
	assert_true(got.expiry == NOW + 300);
	assert_memory_equal(got.random, c + 10, POW_RANDOM_BYTES);
	assert_int_equal(pow_challenge_verify(c, sizeof c, key, 18, NOW + 299, &got), POW_OK);
}

static void
test_challenge_expiry(void **state)
{
	unsigned char c[POW_CHALLENGE_BYTES];
	struct pow_challenge got;

	(void)state;
	pow_challenge_make(c, key, 5, NOW + 300);
	assert_int_equal(pow_challenge_verify(c, sizeof c, key, 5, NOW + 300, &got), POW_EXPIRED);
	assert_int_equal(pow_challenge_verify(c, sizeof c, key, 5, NOW + 301, &got), POW_EXPIRED);
	assert_int_equal(pow_challenge_verify(c, sizeof c, key, 5, UINT64_MAX, &got), POW_EXPIRED);
}

static void
test_challenge_tampering(void **state)
{
	unsigned char c[POW_CHALLENGE_BYTES], t[POW_CHALLENGE_BYTES + 1];
	unsigned char other[POW_KEY_BYTES];
	struct pow_challenge got;
	size_t i;
	int bit;

	(void)state;
	pow_challenge_make(c, key, 7, NOW + 300);
	for (i = 0; i < sizeof c; i++)
		for (bit = 0; bit < 8; bit++) {
			memcpy(t, c, sizeof c);
			t[i] ^= (unsigned char)(1 << bit);
			assert_int_equal(pow_challenge_verify(t, sizeof c, key, 7, NOW, &got),
			    i == 0 ? POW_MALFORMED : POW_BAD_MAC);
		}
	memcpy(t, c, sizeof c);
	t[sizeof c] = 0;
	assert_int_equal(pow_challenge_verify(t, sizeof c + 1, key, 7, NOW, &got), POW_MALFORMED);
	assert_int_equal(pow_challenge_verify(c, sizeof c - 1, key, 7, NOW, &got), POW_MALFORMED);
	assert_int_equal(pow_challenge_verify(c, 0, key, 7, NOW, &got), POW_MALFORMED);
	memcpy(other, key, sizeof other);
	other[31] ^= 1;
	assert_int_equal(pow_challenge_verify(c, sizeof c, other, 7, NOW, &got), POW_BAD_MAC);
	/* made for 7 bits, checked by a server asking 8 */
	assert_int_equal(pow_challenge_verify(c, sizeof c, key, 8, NOW, &got), POW_BITS_CHANGED);
}

static void
test_challenge_random(void **state)
{
	unsigned char a[POW_CHALLENGE_BYTES], b[POW_CHALLENGE_BYTES];

	(void)state;
	pow_challenge_make(a, key, 7, NOW + 300);
	pow_challenge_make(b, key, 7, NOW + 300);
	assert_memory_equal(a, b, 10);
	assert_memory_not_equal(a + 10, b + 10, POW_RANDOM_BYTES);
}

static void
test_leading_zero_bits(void **state)
{
	unsigned char h[32];

	(void)state;
	memset(h, 0, sizeof h);
	assert_int_equal(pow_leading_zero_bits(h), 256);
	h[31] = 1;
	assert_int_equal(pow_leading_zero_bits(h), 255);
	h[0] = 0x80;
	assert_int_equal(pow_leading_zero_bits(h), 0);
	h[0] = 0x7f;
	assert_int_equal(pow_leading_zero_bits(h), 1);
	h[0] = 0x01;
	assert_int_equal(pow_leading_zero_bits(h), 7);
	h[0] = 0;
	h[1] = 0x10;
	assert_int_equal(pow_leading_zero_bits(h), 11);
	h[1] = 0;
	h[2] = 0xff;
	assert_int_equal(pow_leading_zero_bits(h), 16);
	h[2] = 0;
	h[4] = 0x02;
	assert_int_equal(pow_leading_zero_bits(h), 38);
}

/* The work is SHA-256 of the 82 bytes, as libsodium computes it. */
static void
test_work_is_sha256(void **state)
{
	unsigned char c[POW_CHALLENGE_BYTES], leaf[POW_LEAF_BYTES], nonce[POW_NONCE_BYTES];
	unsigned char all[POW_CHALLENGE_BYTES + POW_LEAF_BYTES + POW_NONCE_BYTES];
	unsigned char want[32], got[32];

	(void)state;
	pow_challenge_make(c, key, 12, NOW + 300);
	randombytes_buf(leaf, sizeof leaf);
	randombytes_buf(nonce, sizeof nonce);
	memcpy(all, c, sizeof c);
	memcpy(all + sizeof c, leaf, sizeof leaf);
	memcpy(all + sizeof c + sizeof leaf, nonce, sizeof nonce);
	crypto_hash_sha256(want, all, sizeof all);
	pow_work(got, c, leaf, nonce);
	assert_memory_equal(got, want, 32);
}

static unsigned
reference_zero_bits(const unsigned char c[POW_CHALLENGE_BYTES],
    const unsigned char leaf[POW_LEAF_BYTES], const unsigned char nonce[POW_NONCE_BYTES])
{
	unsigned char all[POW_CHALLENGE_BYTES + POW_LEAF_BYTES + POW_NONCE_BYTES], h[32];
	unsigned n = 0;

	memcpy(all, c, POW_CHALLENGE_BYTES);
	memcpy(all + POW_CHALLENGE_BYTES, leaf, POW_LEAF_BYTES);
	memcpy(all + POW_CHALLENGE_BYTES + POW_LEAF_BYTES, nonce, POW_NONCE_BYTES);
	crypto_hash_sha256(h, all, sizeof all);
	/* bit by bit, unlike pow_leading_zero_bits */
	while (n < 256 && (h[n / 8] >> (7 - n % 8) & 1) == 0)
		n++;
	return n;
}

static void
test_solve_and_check(void **state)
{
	unsigned char c[POW_CHALLENGE_BYTES], leaf[POW_LEAF_BYTES], nonce[POW_NONCE_BYTES];
	unsigned char prev[POW_NONCE_BYTES], other_leaf[POW_LEAF_BYTES];
	uint64_t tries, n = 0;
	unsigned bits = 14, i;

	(void)state;
	pow_challenge_make(c, key, bits, NOW + 300);
	randombytes_buf(leaf, sizeof leaf);
	tries = pow_solve(c, leaf, bits, 0, nonce, NULL, NULL);
	for (i = 0; i < POW_NONCE_BYTES; i++)
		n = n << 8 | nonce[i];
	assert_true(n == tries - 1);
	assert_true(reference_zero_bits(c, leaf, nonce) >= bits);
	assert_int_equal(pow_work_check(c, leaf, nonce, bits), POW_OK);
	/* the first solution: every earlier nonce falls short */
	if (n > 0) {
		for (i = 0; i < POW_NONCE_BYTES; i++)
			prev[i] = (unsigned char)((n - 1) >> (56 - 8 * i));
		assert_true(reference_zero_bits(c, leaf, prev) < bits);
		assert_int_equal(pow_work_check(c, leaf, prev, bits), POW_INSUFFICIENT);
	}
	/* bound to the leaf: the same nonce for another envelope almost never
	 * works (2^-14), and the check agrees with the reference either way */
	memcpy(other_leaf, leaf, sizeof leaf);
	other_leaf[0] ^= 1;
	assert_int_equal(pow_work_check(c, other_leaf, nonce, bits),
	    reference_zero_bits(c, other_leaf, nonce) >= bits ? POW_OK : POW_INSUFFICIENT);
	assert_int_equal(pow_work_check(c, leaf, nonce, 0), POW_OK);
}

/* A header for a fresh challenge of the gate, solved for leaf. */
static void
solved_header(struct pow_gate *g, uint64_t now, const unsigned char leaf[POW_LEAF_BYTES], char *out,
    size_t outlen)
{
	char b64[POW_CHALLENGE_B64_LEN + 1], leaf_hex[2 * POW_LEAF_BYTES + 1];
	char nonce_hex[2 * POW_NONCE_BYTES + 1];
	unsigned char c[POW_CHALLENGE_BYTES], nonce[POW_NONCE_BYTES];
	size_t len;

	pow_gate_challenge(g, now, b64);
	assert_int_equal(strlen(b64), POW_CHALLENGE_B64_LEN);
	assert_int_equal(sodium_base642bin(c, sizeof c, b64, strlen(b64), NULL, &len, NULL,
			     sodium_base64_VARIANT_URLSAFE_NO_PADDING),
	    0);
	assert_int_equal(len, sizeof c);
	pow_solve(c, leaf, g->bits, 0, nonce, NULL, NULL);
	sodium_bin2hex(leaf_hex, sizeof leaf_hex, leaf, POW_LEAF_BYTES);
	sodium_bin2hex(nonce_hex, sizeof nonce_hex, nonce, POW_NONCE_BYTES);
	snprintf(out, outlen, "challenge=%s; leaf=%s; nonce=%s", b64, leaf_hex, nonce_hex);
}

static void
test_gate_parse(void **state)
{
	static const char *bad[] = {
	    "",
	    "challenge=",
	    /* 55 characters of challenge */
	    "challenge=AQoAAQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyAhIiMkJSY; "
	    "leaf=0000000000000000000000000000000000000000000000000000000000000000; "
	    "nonce=0000000000000000",
	    /* a '+' (standard base64) */
	    "challenge=AQoAAQIDBAUGBwgJCgsM+Q4PEBESExQVFhcYGRobHB0eHyAhIiMkJSYn; "
	    "leaf=0000000000000000000000000000000000000000000000000000000000000000; "
	    "nonce=0000000000000000",
	    /* fields in another order */
	    "leaf=0000000000000000000000000000000000000000000000000000000000000000; "
	    "challenge=AQoAAQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyAhIiMkJSYn; "
	    "nonce=0000000000000000",
	    /* leaf not hex */
	    "challenge=AQoAAQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyAhIiMkJSYn; "
	    "leaf=000000000000000000000000000000000000000000000000000000000000000g; "
	    "nonce=0000000000000000",
	    /* nonce one digit short, then one long */
	    "challenge=AQoAAQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyAhIiMkJSYn; "
	    "leaf=0000000000000000000000000000000000000000000000000000000000000000; "
	    "nonce=000000000000000",
	    "challenge=AQoAAQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyAhIiMkJSYn; "
	    "leaf=0000000000000000000000000000000000000000000000000000000000000000; "
	    "nonce=00000000000000000",
	    /* no separator */
	    "challenge=AQoAAQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyAhIiMkJSYn "
	    "leaf=0000000000000000000000000000000000000000000000000000000000000000; "
	    "nonce=0000000000000000",
	    /* trailing junk */
	    "challenge=AQoAAQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyAhIiMkJSYn; "
	    "leaf=0000000000000000000000000000000000000000000000000000000000000000; "
	    "nonce=0000000000000000;",
	};
	unsigned char c[POW_CHALLENGE_BYTES], leaf[POW_LEAF_BYTES], nonce[POW_NONCE_BYTES];
	size_t i;

	(void)state;
	assert_int_equal(
	    pow_gate_parse("challenge=AQoAAQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyAhIiMkJSYn;"
			   "leaf=00000000000000000000000000000000000000000000000000000000000000ff;"
			   "\t nonce=0123456789abcdef",
		c, leaf, nonce),
	    0);
	assert_int_equal(c[0], 1);
	assert_int_equal(c[1], 10);
	assert_int_equal(leaf[31], 0xff);
	assert_int_equal(nonce[0], 0x01);
	assert_int_equal(nonce[7], 0xef);
	assert_int_equal(c[41], 39);
	/* Whitespace after the value is not part of it (RFC 9112 section 5). */
	assert_int_equal(
	    pow_gate_parse("challenge=AQoAAQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyAhIiMkJSYn; "
			   "leaf=00000000000000000000000000000000000000000000000000000000000000ff; "
			   "nonce=0123456789abcdef \t",
		c, leaf, nonce),
	    0);
	assert_int_equal(nonce[7], 0xef);
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_equal(pow_gate_parse(bad[i], c, leaf, nonce), -1);
}

static void
test_gate_refusals(void **state)
{
	struct pow_gate g, other;
	unsigned char leaf[POW_LEAF_BYTES], got[POW_LEAF_BYTES], wrong[POW_LEAF_BYTES];
	char header[POW_GATE_HEADER_MAX + 1], tampered[POW_GATE_HEADER_MAX + 1];
	char *nonce;
	unsigned i;

	(void)state;
	assert_int_equal(pow_gate_init(&g, 10, 300), 0);
	assert_int_equal(pow_gate_init(&other, 10, 300), 0);
	randombytes_buf(leaf, sizeof leaf);
	memset(got, 0xaa, sizeof got);
	memset(wrong, 0xaa, sizeof wrong);
	assert_int_equal(pow_gate_check(&g, NULL, NOW, got), POW_GATE_MISSING);
	assert_int_equal(pow_gate_check(&g, "nonce=1", NOW, got), POW_GATE_MALFORMED);
	solved_header(&g, NOW, leaf, header, sizeof header);
	/* another server's key (or this one before a restart) */
	assert_int_equal(pow_gate_check(&other, header, NOW, got), POW_GATE_INVALID);
	assert_int_equal(pow_gate_check(&g, header, NOW + 300, got), POW_GATE_EXPIRED);
	/* a nonce that falls short: the solution's last digit changed until
	 * the work has too few zero bits (most do) */
	memcpy(tampered, header, sizeof header);
	nonce = strstr(tampered, "nonce=") + 6;
	for (i = 0; i < 16; i++) {
		nonce[15] = "0123456789abcdef"[i];
		if (strcmp(tampered, header) != 0 &&
		    pow_gate_check(&g, tampered, NOW, got) == POW_GATE_INSUFFICIENT)
			break;
	}
	assert_true(i < 16);
	assert_memory_equal(got, wrong, sizeof got); /* untouched on refusal */
	assert_int_equal(pow_gate_check(&g, header, NOW + 299, got), POW_GATE_OK);
	assert_memory_equal(got, leaf, sizeof leaf);
	assert_int_equal(pow_gate_check(&g, header, NOW + 299, got), POW_GATE_REUSED);
	assert_string_equal(pow_gate_code(POW_GATE_REUSED), "pow_reused");
	assert_string_equal(pow_gate_code(POW_GATE_EXPIRED), "pow_expired");
	pow_gate_free(&g);
	pow_gate_free(&other);
}

static void
test_gate_off(void **state)
{
	struct pow_gate g;
	unsigned char got[POW_LEAF_BYTES], wrong[POW_LEAF_BYTES];

	(void)state;
	memset(got, 0xaa, sizeof got);
	memset(wrong, 0xaa, sizeof wrong);
	assert_int_equal(pow_gate_init(&g, 0, 300), 0);
	assert_int_equal(pow_gate_check(&g, NULL, NOW, got), POW_GATE_OK);
	assert_int_equal(pow_gate_check(&g, "junk", NOW, got), POW_GATE_OK);
	assert_memory_equal(got, wrong, sizeof got);
	pow_gate_free(&g);
}

/* Spent at the end of one generation, still refused in the next. */
static void
test_gate_rotation(void **state)
{
	struct pow_gate g;
	unsigned char leaf[POW_LEAF_BYTES], got[POW_LEAF_BYTES];
	char first[POW_GATE_HEADER_MAX + 1], late[POW_GATE_HEADER_MAX + 1];

	(void)state;
	assert_int_equal(pow_gate_init(&g, 4, 100), 0);
	randombytes_buf(leaf, sizeof leaf);
	solved_header(&g, NOW, leaf, first, sizeof first);
	assert_int_equal(pow_gate_check(&g, first, NOW, got), POW_GATE_OK); /* generation at NOW */
	solved_header(&g, NOW + 99, leaf, late, sizeof late); /* valid until NOW + 199 */
	assert_int_equal(pow_gate_check(&g, late, NOW + 99, got), POW_GATE_OK);
	assert_int_equal(pow_gate_check(&g, late, NOW + 100, got), POW_GATE_REUSED); /* rotated */
	assert_int_equal(pow_gate_check(&g, late, NOW + 198, got), POW_GATE_REUSED);
	assert_int_equal(pow_gate_check(&g, late, NOW + 199, got), POW_GATE_EXPIRED);
	pow_gate_free(&g);
}

/* The spent set refuses more than POW_GATE_FILL_MAX per period, then takes
 * new ones again once a period has passed. */
static void
test_gate_bound(void **state)
{
	struct pow_gate g;
	unsigned char leaf[POW_LEAF_BYTES], got[POW_LEAF_BYTES];
	char header[POW_GATE_HEADER_MAX + 1];
	unsigned i;

	(void)state;
	assert_int_equal(pow_gate_init(&g, 1, 100), 0);
	randombytes_buf(leaf, sizeof leaf);
	for (i = 0; i < POW_GATE_FILL_MAX; i++) {
		solved_header(&g, NOW, leaf, header, sizeof header);
		assert_int_equal(pow_gate_check(&g, header, NOW, got), POW_GATE_OK);
	}
	assert_int_equal(g.gen[0].filled, POW_GATE_FILL_MAX);
	solved_header(&g, NOW + 50, leaf, header, sizeof header);
	assert_int_equal(pow_gate_check(&g, header, NOW + 99, got), POW_GATE_BUSY);
	assert_int_equal(pow_gate_check(&g, header, NOW + 100, got), POW_GATE_OK);
	assert_int_equal(g.gen[0].filled, 1);
	assert_int_equal(g.gen[1].filled, POW_GATE_FILL_MAX);
	pow_gate_free(&g);
}

#define RACE_THREADS 4
#define RACE_HEADERS 2000

struct race {
	struct pow_gate *g;
	char (*headers)[POW_GATE_HEADER_MAX + 1];
	atomic_uint ok[RACE_HEADERS];
	atomic_uint reused;
};

struct racer {
	struct race *race;
	unsigned offset;
};

static void *
race_run(void *arg)
{
	struct racer *r = arg;
	unsigned char got[POW_LEAF_BYTES];
	unsigned i, k;

	/* Each thread starts elsewhere in the list, so they meet. */
	for (k = 0; k < RACE_HEADERS; k++) {
		i = (k + r->offset) % RACE_HEADERS;
		switch (pow_gate_check(r->race->g, r->race->headers[i], NOW, got)) {
		case POW_GATE_OK:
			atomic_fetch_add(&r->race->ok[i], 1);
			break;
		case POW_GATE_REUSED:
			atomic_fetch_add(&r->race->reused, 1);
			break;
		default:
			break;
		}
	}
	return NULL;
}

/* Handler threads share the gate: each challenge is spent exactly once
 * however many threads send it at the same moment. */
static void
test_gate_threads(void **state)
{
	static struct race race;
	struct pow_gate g;
	struct racer racers[RACE_THREADS];
	pthread_t threads[RACE_THREADS];
	unsigned char leaf[POW_LEAF_BYTES];
	unsigned i;

	(void)state;
	assert_int_equal(pow_gate_init(&g, 4, 300), 0);
	race.g = &g;
	race.headers = calloc(RACE_HEADERS, sizeof *race.headers);
	assert_non_null(race.headers);
	randombytes_buf(leaf, sizeof leaf);
	for (i = 0; i < RACE_HEADERS; i++) {
		solved_header(&g, NOW, leaf, race.headers[i], sizeof race.headers[i]);
		atomic_init(&race.ok[i], 0);
	}
	atomic_init(&race.reused, 0);
	for (i = 0; i < RACE_THREADS; i++) {
		racers[i].race = &race;
		racers[i].offset = i * (RACE_HEADERS / RACE_THREADS);
		assert_int_equal(pthread_create(&threads[i], NULL, race_run, &racers[i]), 0);
	}
	for (i = 0; i < RACE_THREADS; i++)
		pthread_join(threads[i], NULL);
	for (i = 0; i < RACE_HEADERS; i++)
		assert_int_equal(atomic_load(&race.ok[i]), 1);
	assert_int_equal(atomic_load(&race.reused), (RACE_THREADS - 1) * RACE_HEADERS);
	assert_int_equal(g.gen[0].filled, RACE_HEADERS);
	free(race.headers);
	pow_gate_free(&g);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_challenge_roundtrip),
	    cmocka_unit_test(test_challenge_expiry),
	    cmocka_unit_test(test_challenge_tampering),
	    cmocka_unit_test(test_challenge_random),
	    cmocka_unit_test(test_leading_zero_bits),
	    cmocka_unit_test(test_work_is_sha256),
	    cmocka_unit_test(test_solve_and_check),
	    cmocka_unit_test(test_gate_parse),
	    cmocka_unit_test(test_gate_refusals),
	    cmocka_unit_test(test_gate_off),
	    cmocka_unit_test(test_gate_rotation),
	    cmocka_unit_test(test_gate_bound),
	    cmocka_unit_test(test_gate_threads),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
