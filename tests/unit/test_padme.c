/* Padmé lengths: hand-checked values, the shared vectors, the properties the
 * paper proves (monotonic, fixed points, bounded overhead and leakage), and
 * overflow near 2^64. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>
#include <jansson.h>
#include <sodium.h>

#include "padme.h"

#define DENSE_LIMIT ((uint64_t)1 << 17)

/* The test's own floor(log2 x), by comparison rather than shifting, so that
 * the properties below are not checked against the code under test. */
static unsigned
test_log2(uint64_t x)
{
	unsigned e = 63;

	while (e > 0 && x < ((uint64_t)1 << e))
		e--;
	return e;
}

static uint64_t
padme(uint64_t l)
{
	bool ok = false;
	uint64_t p = padme_length(l, &ok);

	assert_true(ok);
	return p;
}

static void
test_padme_table(void **state)
{
	/*
	 * Worked by hand from E = floor(log2 L), S = floor(log2 E) + 1,
	 * z = E - S, e.g. 418: E 8, S 4, z 4 -> ceil(418/16)*16 = 432;
	 * 129: E 7, S 3, z 4 -> 144 (the worst overhead, 11.6%);
	 * 65537: E 16, S 5, z 11 -> 65536 + 2048.
	 */
	static const struct {
		uint64_t l, p;
	} t[] = {
		{ 0, 0 }, { 1, 1 }, { 2, 2 }, { 3, 3 }, { 4, 4 }, { 5, 5 },
		{ 6, 6 }, { 7, 7 }, { 8, 8 }, { 9, 10 }, { 10, 10 }, { 11, 12 },
		{ 12, 12 }, { 13, 14 }, { 15, 16 }, { 16, 16 }, { 17, 18 },
		{ 31, 32 }, { 32, 32 }, { 33, 36 }, { 63, 64 }, { 64, 64 },
		{ 65, 72 }, { 100, 104 }, { 129, 144 }, { 255, 256 }, { 256, 256 },
		{ 257, 272 }, { 418, 432 }, { 1000, 1024 }, { 2554, 2560 },
		{ 3413, 3456 }, { 65536, 65536 }, { 65537, 67584 },
		{ 130252, 131072 }, { 1000000, 1015808 },
		{ 4294967297ull, 4362076160ull },
		{ 9223372036854775809ull, 9367487224930631680ull },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		if (padme(t[i].l) != t[i].p)
			fail_msg("padme(%llu) = %llu, want %llu", (unsigned long long)t[i].l,
			    (unsigned long long)padme(t[i].l), (unsigned long long)t[i].p);
	}
	/* ok may be NULL. */
	assert_int_equal(padme_length(418, NULL), 432);
}

/* unpadded_len -> payload_len of the independent implementation's vectors. */
static void
test_padme_shared_vectors(void **state)
{
	static const char *const names[] = {
		"basic", "two-recipients", "chunk-boundary", "hostile-names",
	};
	char path[256];
	json_t *v;
	json_int_t u, p;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof names / sizeof names[0]; i++) {
		snprintf(path, sizeof path, "tests/vectors/shared/%s.json", names[i]);
		v = json_load_file(path, JSON_ALLOW_NUL, NULL);
		assert_non_null(v);
		u = json_integer_value(json_object_get(v, "unpadded_len"));
		p = json_integer_value(json_object_get(v, "payload_len"));
		assert_true(u > 0 && p >= u);
		assert_int_equal(padme((uint64_t)u), (uint64_t)p);
		assert_true(padme_is_padded((uint64_t)p));
		json_decref(v);
	}
}

static void
check_properties(uint64_t l)
{
	uint64_t p = padme(l);
	unsigned e, s;

	assert_true(p >= l);
	assert_int_equal(padme(p), p);
	assert_true(padme_is_padded(p));
	if (l < 2) {
		assert_int_equal(p, l);
		return;
	}
	e = test_log2(l);
	s = test_log2(e) + 1;
	/* The paper's bound: padding below 2^(E-S) <= L / 2^S. */
	assert_true(p - l < ((uint64_t)1 << (e - s)));
	assert_true(p - l < (l >> s));
	/* And the padded length keeps the top S bits of L's magnitude only. */
	assert_int_equal(p & (((uint64_t)1 << (e - s)) - 1), 0);
}

static void
test_padme_properties_dense(void **state)
{
	uint64_t l, p, prev = 0;

	(void)state;
	for (l = 0; l < DENSE_LIMIT; l++) {
		p = padme(l);
		/* Monotonic. */
		assert_true(p >= prev);
		prev = p;
		check_properties(l);
		/* Overhead under 12% everywhere (worst is 11.6% at 129), and
		 * under 2^-4 = 6.25% once L >= 256 (S >= 4). */
		if (l >= 2)
			assert_true((p - l) * 100 < l * 12);
		if (l >= 256)
			assert_true((p - l) * 16 < l);
		assert_int_equal(padme_is_padded(l), p == l);
	}
}

/* A fixed-seed generator: sparse samples over the whole 64-bit range. */
static uint64_t
xorshift64(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

static void
test_padme_properties_sparse(void **state)
{
	/* Above this, the next multiple of 2^57 is 2^64: no 64-bit answer. */
	const uint64_t top = 0xFE00000000000000ull;
	uint64_t seed = 0x5ea171f5ea171f00ull, a, b;
	unsigned i, shift;
	bool ok;

	(void)state;
	for (i = 0; i < 50000; i++) {
		/* Spread over every magnitude, not just near 2^63. */
		shift = (unsigned)(xorshift64(&seed) % 60);
		a = xorshift64(&seed) >> shift;
		b = a + (xorshift64(&seed) >> (shift + 4));
		if (a > top) {
			ok = true;
			assert_int_equal(padme_length(a, &ok), 0);
			assert_false(ok);
			continue;
		}
		check_properties(a);
		if (b >= a && b <= top)
			assert_true(padme(a) <= padme(b));
	}
}

/* Leakage: an octave [2^E, 2^(E+1)) maps to 2^S + 1 lengths once z >= 1,
 * so the padded length tells O(log log L) bits about L. */
static void
test_padme_octave_leakage(void **state)
{
	uint64_t l, lo, p, last;
	unsigned e, s, distinct;

	(void)state;
	for (e = 1; e <= 16; e++) {
		s = test_log2(e) + 1;
		lo = (uint64_t)1 << e;
		distinct = 0;
		last = 0;
		for (l = lo; l < 2 * lo; l++) {
			p = padme(l);
			if (p != last)
				distinct++;
			last = p;
		}
		if (e > s)
			assert_int_equal(distinct, (1u << s) + 1);
		else
			assert_int_equal(distinct, lo); /* z = 0: nothing padded */
		/* E = 16: 65536 lengths collapse to 33. */
		if (e == 16)
			assert_int_equal(distinct, 33);
	}
}

static void
test_padme_is_padded(void **state)
{
	(void)state;
	assert_true(padme_is_padded(0));
	assert_true(padme_is_padded(1));
	assert_true(padme_is_padded(8));
	assert_false(padme_is_padded(9));
	assert_true(padme_is_padded(10));
	assert_false(padme_is_padded(431));
	assert_true(padme_is_padded(432));
	assert_true(padme_is_padded(131072));
	assert_false(padme_is_padded(131073));
	assert_true(padme_is_padded(131072 + 4096));
	assert_false(padme_is_padded(131072 + 2048));
	assert_true(padme_is_padded((uint64_t)1 << 63));
	assert_false(padme_is_padded(((uint64_t)1 << 63) + 1));
	assert_false(padme_is_padded(UINT64_MAX));
}

static void
test_padme_overflow(void **state)
{
	/* At E = 63: S = 6, z = 57, so lengths round to multiples of 2^57. */
	const uint64_t top = UINT64_MAX - (((uint64_t)1 << 57) - 1);
	bool ok;

	(void)state;
	assert_int_equal(top, 0xFE00000000000000ull);
	ok = false;
	assert_int_equal(padme_length(top, &ok), top);
	assert_true(ok);
	ok = false;
	assert_int_equal(padme_length(top - 1, &ok), top);
	assert_true(ok);
	ok = true;
	assert_int_equal(padme_length(top + 1, &ok), 0);
	assert_false(ok);
	ok = true;
	assert_int_equal(padme_length(UINT64_MAX, &ok), 0);
	assert_false(ok);
	/* No crash without ok, still 0. */
	assert_int_equal(padme_length(UINT64_MAX, NULL), 0);
	ok = false;
	assert_int_equal(padme_length((uint64_t)1 << 63, &ok), (uint64_t)1 << 63);
	assert_true(ok);
	assert_int_equal(padme(((uint64_t)1 << 63) + 1), ((uint64_t)1 << 63) + ((uint64_t)1 << 57));
	assert_true(padme_is_padded(top));
	assert_false(padme_is_padded(top + 1));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_padme_table),
		cmocka_unit_test(test_padme_shared_vectors),
		cmocka_unit_test(test_padme_properties_dense),
		cmocka_unit_test(test_padme_properties_sparse),
		cmocka_unit_test(test_padme_octave_leakage),
		cmocka_unit_test(test_padme_is_padded),
		cmocka_unit_test(test_padme_overflow),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
