/* jsonbuf: the bytes json_dumps(JSON_COMPACT) would write, or a failure. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <sodium.h>

#include "jsonbuf.h"

/* jansson's compact text of a single string value. */
static char *
jansson_string(const char *s, size_t len)
{
	json_t *v = json_stringn(s, len);
	char *out;

	if (v == NULL)
		return NULL;
	out = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	json_decref(v);
	return out;
}

static void
test_strings_as_jansson_writes_them(void **state)
{
	static const char *const samples[] = {
		"", "plain", "quote \" backslash \\ slash /", "tab\there\nnew line\r\b\f",
		"\x01\x02\x1f\x7f", "caf\xc3\xa9", "\xe2\x80\x94 dash", "\xe2\x80\xa8 line separator",
		"\xf0\x9f\x94\x92 lock", "\xe1\x9e\x80\xe1\x9e\xb6 Khmer",
		("sealtip.example/log\n15\nq2Bz0mFJtZ5Fv0aZ0DqU1dc0mJ2bI4t1xBTOTD6w5eQ=\n\n"
		 "\xe2\x80\x94 sealtip.example/log AAAA+/==\n"), /* a signed note, one string */
	};
	char buf[512], all[32];
	struct jsonbuf j;
	char *want;
	size_t i;
	long n;

	(void)state;
	for (i = 0; i < sizeof samples / sizeof samples[0]; i++) {
		want = jansson_string(samples[i], strlen(samples[i]));
		assert_non_null(want);
		jsonbuf_init(&j, buf, sizeof buf);
		jsonbuf_string(&j, samples[i], strlen(samples[i]));
		n = jsonbuf_finish(&j);
		assert_int_equal(n, (long)strlen(want));
		assert_string_equal(buf, want);
		free(want);
	}
	/* Every control character and a NUL, each as jansson escapes it. */
	for (i = 1; i < 32; i++)
		all[i - 1] = (char)i;
	all[31] = '\0';
	want = jansson_string(all, 32);
	jsonbuf_init(&j, buf, sizeof buf);
	jsonbuf_string(&j, all, 32);
	assert_int_equal(jsonbuf_finish(&j), (long)strlen(want));
	assert_string_equal(buf, want);
	free(want);
}

static void
test_refuses_what_is_not_utf8(void **state)
{
	static const struct {
		const char *s;
		size_t len;
	} bad[] = {
		{"\x80", 1}, {"\xc0\xaf", 2}, {"\xc3", 1}, {"\xe0\x80\xaf", 3}, {"\xed\xa0\x80", 3},
		{"\xf4\x90\x80\x80", 4}, {"\xf8\x88\x80\x80\x80", 5}, {"\xe2\x80", 2},
	};
	char buf[64];
	struct jsonbuf j;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		/* jansson refuses each too: the two agree on what a string is. */
		assert_null(json_stringn(bad[i].s, bad[i].len));
		jsonbuf_init(&j, buf, sizeof buf);
		jsonbuf_string(&j, bad[i].s, bad[i].len);
		assert_int_equal(jsonbuf_finish(&j), -1);
	}
}

static void
test_receipt_shape_as_jansson(void **state)
{
	unsigned char hash[3][32];
	char b64[3][64], buf[2048];
	struct jsonbuf j;
	json_t *o, *arr;
	char *want;
	size_t i;

	(void)state;
	arr = json_array();
	for (i = 0; i < 3; i++) {
		memset(hash[i], (int)(0x3e + i * 0x41), sizeof hash[i]);
		sodium_bin2base64(b64[i], sizeof b64[i], hash[i], 32, sodium_base64_VARIANT_ORIGINAL);
		json_array_append_new(arr, json_string(b64[i]));
	}
	o = json_pack("{s:I, s:s, s:I, s:s, s:I, s:s, s:o, s:[]}", "index", (json_int_t)0,
	    "leaf_hash", b64[0], "size", (json_int_t)2058, "day", "2026-11-28", "tree_size",
	    (json_int_t)9223372036854775807LL, "checkpoint", "origin\n1\nroot=\n", "proof", arr,
	    "empty");
	want = json_dumps(o, JSON_COMPACT);
	json_decref(o);

	jsonbuf_init(&j, buf, sizeof buf);
	jsonbuf_object_begin(&j);
	jsonbuf_key(&j, "index");
	jsonbuf_uint(&j, 0);
	jsonbuf_key(&j, "leaf_hash");
	jsonbuf_base64(&j, hash[0], 32);
	jsonbuf_key(&j, "size");
	jsonbuf_uint(&j, 2058);
	jsonbuf_key(&j, "day");
	jsonbuf_string(&j, "2026-11-28", 10);
	jsonbuf_key(&j, "tree_size");
	jsonbuf_uint(&j, 9223372036854775807ULL);
	jsonbuf_key(&j, "checkpoint");
	jsonbuf_string(&j, "origin\n1\nroot=\n", 15);
	jsonbuf_key(&j, "proof");
	jsonbuf_array_begin(&j);
	for (i = 0; i < 3; i++)
		jsonbuf_base64(&j, hash[i], 32);
	jsonbuf_array_end(&j);
	jsonbuf_key(&j, "empty");
	jsonbuf_array_begin(&j);
	jsonbuf_array_end(&j);
	jsonbuf_object_end(&j);
	assert_int_equal(jsonbuf_finish(&j), (long)strlen(want));
	assert_string_equal(buf, want);
	free(want);
}

/* Every prefix of a buffer too small fails, never writes past cap, and
 * leaves a NUL-terminated text. */
static void
test_too_small_fails_within_bounds(void **state)
{
	unsigned char hash[32] = {0};
	char buf[128];
	struct jsonbuf j;
	size_t cap, full = 0;
	long n;

	(void)state;
	for (cap = 1; cap <= sizeof buf - 8; cap++) {
		memset(buf, 'X', sizeof buf);
		jsonbuf_init(&j, buf, cap);
		jsonbuf_object_begin(&j);
		jsonbuf_key(&j, "k");
		jsonbuf_base64(&j, hash, sizeof hash);
		jsonbuf_key(&j, "n");
		jsonbuf_uint(&j, 18446744073709551615ULL);
		jsonbuf_object_end(&j);
		n = jsonbuf_finish(&j);
		assert_int_equal(buf[cap], 'X');
		assert_non_null(memchr(buf, '\0', cap));
		if (n >= 0 && full == 0)
			full = cap;
		if (full == 0)
			assert_int_equal(n, -1);
	}
	/* {"k":"<44>","n":18446744073709551615} and its NUL */
	assert_int_equal(full, 1 + 4 + 46 + 1 + 4 + 20 + 1 + 1);
}

static void
test_misuse_fails(void **state)
{
	char buf[64];
	struct jsonbuf j;
	int i;

	(void)state;
	/* A value in an object without its key. */
	jsonbuf_init(&j, buf, sizeof buf);
	jsonbuf_object_begin(&j);
	jsonbuf_uint(&j, 1);
	jsonbuf_object_end(&j);
	assert_int_equal(jsonbuf_finish(&j), -1);
	/* A key in an array. */
	jsonbuf_init(&j, buf, sizeof buf);
	jsonbuf_array_begin(&j);
	jsonbuf_key(&j, "k");
	jsonbuf_array_end(&j);
	assert_int_equal(jsonbuf_finish(&j), -1);
	/* A key without its value. */
	jsonbuf_init(&j, buf, sizeof buf);
	jsonbuf_object_begin(&j);
	jsonbuf_key(&j, "k");
	jsonbuf_object_end(&j);
	assert_int_equal(jsonbuf_finish(&j), -1);
	/* Unclosed, and closed once too often. */
	jsonbuf_init(&j, buf, sizeof buf);
	jsonbuf_array_begin(&j);
	assert_int_equal(jsonbuf_finish(&j), -1);
	jsonbuf_array_end(&j);
	assert_int_equal(jsonbuf_finish(&j), 2);
	jsonbuf_array_end(&j);
	assert_int_equal(jsonbuf_finish(&j), -1);
	/* Too deep. */
	jsonbuf_init(&j, buf, sizeof buf);
	for (i = 0; i < JSONBUF_MAX_DEPTH; i++)
		jsonbuf_array_begin(&j);
	assert_int_equal(jsonbuf_finish(&j), -1);
	/* Nested arrays and objects, as jansson writes them. */
	jsonbuf_init(&j, buf, sizeof buf);
	jsonbuf_array_begin(&j);
	jsonbuf_array_begin(&j);
	jsonbuf_array_end(&j);
	jsonbuf_object_begin(&j);
	jsonbuf_key(&j, "a");
	jsonbuf_object_begin(&j);
	jsonbuf_object_end(&j);
	jsonbuf_key(&j, "b");
	jsonbuf_uint(&j, 2);
	jsonbuf_object_end(&j);
	jsonbuf_uint(&j, 3);
	jsonbuf_array_end(&j);
	assert_int_equal(jsonbuf_finish(&j), (long)strlen("[[],{\"a\":{},\"b\":2},3]"));
	assert_string_equal(buf, "[[],{\"a\":{},\"b\":2},3]");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_strings_as_jansson_writes_them),
		cmocka_unit_test(test_refuses_what_is_not_utf8),
		cmocka_unit_test(test_receipt_shape_as_jansson),
		cmocka_unit_test(test_too_small_fails_within_bounds),
		cmocka_unit_test(test_misuse_fails),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
