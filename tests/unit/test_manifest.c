/* The manifest parser: the shared vectors parse as sent, and every way a
 * hostile reporter can bend the JSON or the schema is refused with its own
 * status. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <sodium.h>

#include "manifest.h"
#include "status.h"

/* sha256("abc") */
#define SHA "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
#define FILE_OK "{\"name\":\"a.jpg\",\"type\":\"image/jpeg\",\"size\":3,\"sha256\":\"" SHA "\"}"
#define HEAD "\"v\":1,\"form\":\"bribery-report/1\",\"lang\":\"km\""
#define M(fields, files) "{" HEAD ",\"fields\":" fields ",\"files\":" files "}"
#define FILE_WITH(name, type, size, sha) \
	"[{\"name\":" name ",\"type\":" type ",\"size\":" size ",\"sha256\":" sha "}]"
#define OK_FIELDS "{\"what\":\"cash\",\"gifts\":[\"watch\",\"phone\"]}"

struct buf {
	char *p;
	size_t len, cap;
};

static void
buf_add(struct buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		b->p = realloc(b->p, b->cap);
		assert_non_null(b->p);
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void
buf_str(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

static void
buf_fill(struct buf *b, char c, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		b->p = realloc(b->p, b->cap);
		assert_non_null(b->p);
	}
	memset(b->p + b->len, c, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static int
parse_str(const char *s, size_t len, struct manifest **out)
{
	return manifest_parse((const unsigned char *)s, len, out);
}

/* Parses, expects want, and for ST_OK hands the manifest back. */
static struct manifest *
expect(const char *what, const char *s, size_t len, int want)
{
	struct manifest *m = (struct manifest *)(uintptr_t)1;
	int ret;

	ret = parse_str(s, len, &m);
	if (ret != want)
		fail_msg("%s: got %d (%s), want %d (%s)", what, ret, status_message(ret),
		    want, status_message(want));
	if (want != ST_OK) {
		/* Nothing half-built leaks out. */
		assert_null(m);
		return NULL;
	}
	assert_non_null(m);
	return m;
}

static json_t *
load_vector(const char *name)
{
	char path[256];
	json_error_t err;
	json_t *v;

	snprintf(path, sizeof path, "tests/vectors/shared/%s.json", name);
	v = json_load_file(path, JSON_ALLOW_NUL | JSON_REJECT_DUPLICATES, &err);
	if (v == NULL)
		fail_msg("%s: %s", path, err.text);
	return v;
}

/* The vector's manifest, serialised compactly, parsed by us; checked equal to
 * what the vector says and stable under dump -> parse -> dump. */
static struct manifest *
parse_vector(const char *name, json_t **vector)
{
	struct manifest *m, *again;
	char *bytes, *bytes2;
	size_t len, len2;

	*vector = load_vector(name);
	bytes = manifest_dump(json_object_get(*vector, "manifest"), &len);
	assert_non_null(bytes);
	assert_int_equal(strlen(bytes), len);
	m = expect(name, bytes, len, ST_OK);
	assert_true(json_equal(m->root, json_object_get(*vector, "manifest")));
	bytes2 = manifest_dump(m->root, &len2);
	assert_non_null(bytes2);
	assert_int_equal(len2, len);
	assert_memory_equal(bytes2, bytes, len);
	again = expect(name, bytes2, len2, ST_OK);
	assert_true(json_equal(again->root, m->root));
	manifest_free(again);
	free(bytes2);
	free(bytes);
	return m;
}

static void
check_sha(const struct manifest_file *f, const char *hex)
{
	unsigned char want[32];

	assert_int_equal(sodium_hex2bin(want, sizeof want, hex, 64, NULL, NULL, NULL), 0);
	assert_memory_equal(f->sha256, want, 32);
}

static void
test_manifest_vector_basic(void **state)
{
	static const char what[] =
	    "មន្ត្រីអន្តោប្រវេសន៍បានទាមទារនាឡិកា Rolex ទឹកអប់ និង iPhone ដើម្បីបញ្ឈប់ការនិរទេស";
	const json_t *gifts, *w;
	json_t *v;
	struct manifest *m;

	(void)state;
	m = parse_vector("basic", &v);
	assert_string_equal(m->form, "bribery-report/1");
	assert_string_equal(m->lang, "km");
	assert_int_equal(json_object_size(m->fields), 4);
	w = json_object_get(m->fields, "what");
	assert_int_equal(json_string_length(w), sizeof what - 1);
	assert_memory_equal(json_string_value(w), what, sizeof what - 1);
	assert_string_equal(json_string_value(json_object_get(m->fields, "amount")), "5000 USD");
	gifts = json_object_get(m->fields, "gifts");
	assert_int_equal(json_array_size(gifts), 3);
	assert_string_equal(json_string_value(json_array_get(gifts, 2)), "phone");
	assert_int_equal(m->nfiles, 0);
	assert_int_equal(m->files_total, 0);
	manifest_free(m);
	json_decref(v);
}

static void
test_manifest_vector_two_recipients(void **state)
{
	json_t *v;
	struct manifest *m;

	(void)state;
	m = parse_vector("two-recipients", &v);
	assert_int_equal(m->nfiles, 2);
	assert_int_equal(m->files[0].name_len, 11);
	assert_memory_equal(m->files[0].name, "receipt.jpg", 11);
	assert_int_equal(m->files[0].type_len, 10);
	assert_memory_equal(m->files[0].type, "image/jpeg", 10);
	assert_int_equal(m->files[0].size, 3000);
	check_sha(&m->files[0], "e55e15abe0640bbc69a0b8c5babc7602b6841fd6c37c879959bc8e5c7085f4ed");
	assert_int_equal(m->files[1].size, 0);
	check_sha(&m->files[1], "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	assert_int_equal(m->files_total, 3000);
	manifest_free(m);
	json_decref(v);
}

static void
test_manifest_vector_chunk_boundary(void **state)
{
	json_t *v;
	struct manifest *m;

	(void)state;
	m = parse_vector("chunk-boundary", &v);
	assert_int_equal(m->nfiles, 1);
	assert_int_equal(m->files[0].size, 130000);
	assert_int_equal(m->files[0].name_len, 10);
	assert_memory_equal(m->files[0].name, "ledger.pdf", 10);
	assert_int_equal(m->files_total, 130000);
	manifest_free(m);
	json_decref(v);
}

static void
test_manifest_vector_hostile_names(void **state)
{
	static const char khmer[] = "ខ្មែរ.txt";
	static const struct {
		const char *name;
		size_t len;
	} want[] = {
		{ "../../etc/passwd", 16 }, { "/tmp/sealtip-absolute.txt", 25 },
		{ "a\\..\\..\\b.txt", 13 }, { "ok.txt", 6 }, { "ok.txt", 6 },
		{ NULL, 300 }, { "dir/../../up.txt", 16 }, { "nul\0byte.txt", 12 },
		{ "bell\a.txt", 9 }, { "CON", 3 }, { ".", 1 }, { "", 0 }, { " ", 1 },
		{ "..", 2 }, { khmer, sizeof khmer - 1 },
	};
	json_t *v;
	struct manifest *m;
	char *dump;
	size_t i, len;

	(void)state;
	m = parse_vector("hostile-names", &v);
	assert_int_equal(m->nfiles, 15);
	for (i = 0; i < m->nfiles; i++) {
		assert_int_equal(m->files[i].name_len, want[i].len);
		if (want[i].name != NULL)
			assert_memory_equal(m->files[i].name, want[i].name, want[i].len);
		assert_int_equal(m->files[i].size, i < 10 ? 7 : 8);
	}
	/* The NUL name is whole, not cut at the NUL. */
	assert_int_equal(m->files[7].name_len, 12);
	assert_int_equal(m->files[7].name[3], '\0');
	assert_memory_equal(m->files[7].name + 4, "byte.txt", 8);
	assert_int_equal(m->files[14].name_len, 19);
	assert_int_equal(m->files_total, 110);
	/* Dumped back: NUL escaped, Khmer raw. */
	dump = manifest_dump(m->root, &len);
	assert_non_null(dump);
	assert_non_null(strstr(dump, "\"nul\\u0000byte.txt\""));
	assert_non_null(strstr(dump, khmer));
	free(dump);
	manifest_free(m);
	json_decref(v);
}

/* Compact input in insertion order comes back byte for byte; non-ASCII
 * written as escapes comes back as raw UTF-8. */
static void
test_manifest_dump_round_trip(void **state)
{
	static const char compact[] = "{\"v\":1,\"form\":\"bribery-report/1\",\"lang\":\"km\","
	    "\"fields\":{\"what\":\"ខ្មែរ \\\" \\\\ \\n\",\"z\":\"last\",\"a\":[\"1\",\"2\"]},"
	    "\"files\":[" FILE_OK "],\"later\":{\"b\":[1,2.5,true,null],\"a\":\"x\"}}";
	static const char escaped[] = "{\"v\":1,\"form\":\"f\",\"lang\":\"km\","
	    "\"fields\":{\"what\":\"\\u1781\\u17d2\\u1798\"},\"files\":[]}";
	static const char raw[] = "{\"v\":1,\"form\":\"f\",\"lang\":\"km\","
	    "\"fields\":{\"what\":\"ខ្ម\"},\"files\":[]}";
	struct manifest *m;
	char *d;
	size_t len;

	(void)state;
	m = expect("compact", compact, sizeof compact - 1, ST_OK);
	d = manifest_dump(m->root, &len);
	assert_non_null(d);
	assert_int_equal(len, sizeof compact - 1);
	assert_memory_equal(d, compact, len);
	free(d);
	/* len is optional. */
	d = manifest_dump(m->root, NULL);
	assert_non_null(d);
	assert_string_equal(d, compact);
	free(d);
	manifest_free(m);

	m = expect("escaped", escaped, sizeof escaped - 1, ST_OK);
	d = manifest_dump(m->root, &len);
	assert_non_null(d);
	assert_string_equal(d, raw);
	assert_null(strstr(d, "\\u"));
	free(d);
	manifest_free(m);

	len = 99;
	assert_null(manifest_dump(NULL, &len));
	assert_int_equal(len, 0);
	manifest_free(NULL);
}

static void
test_manifest_arguments(void **state)
{
	struct manifest *m = NULL;

	(void)state;
	assert_int_equal(manifest_parse(NULL, 5, &m), ST_ERR_ARGUMENT);
	assert_int_equal(manifest_parse((const unsigned char *)"{}", 2, NULL), ST_ERR_ARGUMENT);
	assert_int_equal(manifest_parse(NULL, 0, &m), ST_ERR_MANIFEST_JSON);
	assert_null(m);
}

struct reject {
	const char *what;
	const char *json;
	size_t len;
	int want;
};

#define R(what, lit, want) { what, lit, sizeof(lit) - 1, want }

static void
run_cases(const struct reject *c, size_t n)
{
	struct manifest *m;
	size_t i;

	for (i = 0; i < n; i++) {
		m = expect(c[i].what, c[i].json, c[i].len, c[i].want);
		manifest_free(m);
	}
}

/* Not JSON, or not strict JSON. */
static void
test_manifest_reject_json(void **state)
{
	static const struct reject c[] = {
		R("control", M(OK_FIELDS, "[" FILE_OK "]"), ST_OK),
		R("not json", "bribe", ST_ERR_MANIFEST_JSON),
		R("empty object is fine json", "{}", ST_ERR_MANIFEST_SCHEMA),
		R("only spaces", "   ", ST_ERR_MANIFEST_JSON),
		R("trailing garbage", M(OK_FIELDS, "[]") " x", ST_ERR_MANIFEST_JSON),
		R("trailing object", M(OK_FIELDS, "[]") "{}", ST_ERR_MANIFEST_JSON),
		R("trailing NUL", M(OK_FIELDS, "[]") "\0", ST_ERR_MANIFEST_JSON),
		R("trailing whitespace is fine", M(OK_FIELDS, "[]") " \n\t", ST_OK),
		R("cut short", "{\"v\":1,\"form\":\"f\"", ST_ERR_MANIFEST_JSON),
		R("duplicate top-level key",
		    "{" HEAD ",\"v\":1,\"fields\":{},\"files\":[]}", ST_ERR_MANIFEST_JSON),
		R("duplicate key spelled with an escape",
		    "{" HEAD ",\"\\u0076\":1,\"fields\":{},\"files\":[]}", ST_ERR_MANIFEST_JSON),
		R("duplicate field id", M("{\"what\":\"a\",\"what\":\"b\"}", "[]"),
		    ST_ERR_MANIFEST_JSON),
		R("duplicate key in a file",
		    M("{}", "[{\"name\":\"a\",\"name\":\"b\",\"type\":\"t\",\"size\":3,"
		    "\"sha256\":\"" SHA "\"}]"), ST_ERR_MANIFEST_JSON),
		R("duplicate key in an unknown object",
		    "{" HEAD ",\"fields\":{},\"files\":[],\"x\":{\"a\":1,\"a\":2}}",
		    ST_ERR_MANIFEST_JSON),
		R("overlong slash", M("{\"what\":\"\xc0\xaf\"}", "[]"), ST_ERR_MANIFEST_JSON),
		R("overlong NUL", M("{\"what\":\"\xc0\x80\"}", "[]"), ST_ERR_MANIFEST_JSON),
		R("overlong 3-byte", M("{\"what\":\"\xe0\x80\xaf\"}", "[]"), ST_ERR_MANIFEST_JSON),
		R("surrogate in UTF-8", M("{\"what\":\"\xed\xa0\x80\"}", "[]"), ST_ERR_MANIFEST_JSON),
		R("low surrogate in UTF-8", M("{\"what\":\"\xed\xbf\xbf\"}", "[]"),
		    ST_ERR_MANIFEST_JSON),
		R("truncated sequence", M("{\"what\":\"\xe1\x9e\"}", "[]"), ST_ERR_MANIFEST_JSON),
		R("truncated at the end", "{\"v\":1,\"form\":\"\xe1\x9e", ST_ERR_MANIFEST_JSON),
		R("byte 0xFF", M("{\"what\":\"\xff\"}", "[]"), ST_ERR_MANIFEST_JSON),
		R("byte 0xFE in a key", M("{\"\xfe\":\"x\"}", "[]"), ST_ERR_MANIFEST_JSON),
		R("lone continuation byte", M("{\"what\":\"\x80\"}", "[]"), ST_ERR_MANIFEST_JSON),
		R("above U+10FFFF", M("{\"what\":\"\xf4\x90\x80\x80\"}", "[]"),
		    ST_ERR_MANIFEST_JSON),
		R("bad UTF-8 in a file name",
		    M("{}", FILE_WITH("\"\xff.txt\"", "\"t\"", "3", "\"" SHA "\"")),
		    ST_ERR_MANIFEST_JSON),
		R("lone high surrogate escape", M("{\"what\":\"\\ud800\"}", "[]"),
		    ST_ERR_MANIFEST_JSON),
		R("lone low surrogate escape", M("{\"what\":\"\\udc00\"}", "[]"),
		    ST_ERR_MANIFEST_JSON),
		R("high surrogate then text", M("{\"what\":\"\\ud83dx\"}", "[]"),
		    ST_ERR_MANIFEST_JSON),
		R("reversed surrogate pair", M("{\"what\":\"\\ude00\\ud83d\"}", "[]"),
		    ST_ERR_MANIFEST_JSON),
		R("surrogate pair is fine", M("{\"what\":\"\\ud83d\\ude00\"}", "[]"), ST_OK),
		R("U+10FFFF is fine", M("{\"what\":\"\xf4\x8f\xbf\xbf\"}", "[]"), ST_OK),
		R("raw control character", M("{\"what\":\"a\x01\"}", "[]"), ST_ERR_MANIFEST_JSON),
		R("raw NUL in a string", M("{\"what\":\"a\0b\"}", "[]"), ST_ERR_MANIFEST_JSON),
		R("raw newline in a string", M("{\"what\":\"a\nb\"}", "[]"), ST_ERR_MANIFEST_JSON),
		R("NUL in a key", M("{\"wh\\u0000at\":\"x\"}", "[]"), ST_ERR_MANIFEST_JSON),
		R("byte order mark", "\xef\xbb\xbf" M("{}", "[]"), ST_ERR_MANIFEST_JSON),
		R("NaN", "{" HEAD ",\"fields\":{},\"files\":[],\"x\":NaN}", ST_ERR_MANIFEST_JSON),
		R("single quotes", "{'v':1}", ST_ERR_MANIFEST_JSON),
		R("comment", "{/* */" HEAD ",\"fields\":{},\"files\":[]}", ST_ERR_MANIFEST_JSON),
		R("trailing comma", "{" HEAD ",\"fields\":{},\"files\":[],}", ST_ERR_MANIFEST_JSON),
		R("integer beyond 64 bits",
		    M("{}", FILE_WITH("\"a\"", "\"t\"", "99999999999999999999", "\"" SHA "\"")),
		    ST_ERR_MANIFEST_JSON),
		R("real beyond double", "{" HEAD ",\"fields\":{},\"files\":[],\"x\":1e999}",
		    ST_ERR_MANIFEST_JSON),
		R("bad escape", M("{\"what\":\"\\x41\"}", "[]"), ST_ERR_MANIFEST_JSON),
		R("short unicode escape", M("{\"what\":\"\\u12\"}", "[]"), ST_ERR_MANIFEST_JSON),
	};

	(void)state;
	run_cases(c, sizeof c / sizeof c[0]);
}

/* Valid JSON that is not a v1 manifest. */
static void
test_manifest_reject_schema(void **state)
{
	static const struct reject c[] = {
		R("top-level array", "[]", ST_ERR_MANIFEST_SCHEMA),
		R("top-level array of a manifest", "[" M("{}", "[]") "]", ST_ERR_MANIFEST_SCHEMA),
		R("top-level number", "1", ST_ERR_MANIFEST_SCHEMA),
		R("top-level string", "\"v\"", ST_ERR_MANIFEST_SCHEMA),
		R("top-level null", "null", ST_ERR_MANIFEST_SCHEMA),
		R("missing v", "{\"form\":\"f\",\"lang\":\"km\",\"fields\":{},\"files\":[]}",
		    ST_ERR_MANIFEST_SCHEMA),
		R("missing form", "{\"v\":1,\"lang\":\"km\",\"fields\":{},\"files\":[]}",
		    ST_ERR_MANIFEST_SCHEMA),
		R("form a number", "{\"v\":1,\"form\":1,\"lang\":\"km\",\"fields\":{},\"files\":[]}",
		    ST_ERR_MANIFEST_SCHEMA),
		R("form with NUL",
		    "{\"v\":1,\"form\":\"f\\u0000x\",\"lang\":\"km\",\"fields\":{},\"files\":[]}",
		    ST_ERR_MANIFEST_SCHEMA),
		R("missing lang", "{\"v\":1,\"form\":\"f\",\"fields\":{},\"files\":[]}",
		    ST_ERR_MANIFEST_SCHEMA),
		R("lang null", "{\"v\":1,\"form\":\"f\",\"lang\":null,\"fields\":{},\"files\":[]}",
		    ST_ERR_MANIFEST_SCHEMA),
		R("lang with NUL",
		    "{\"v\":1,\"form\":\"f\",\"lang\":\"km\\u0000\",\"fields\":{},\"files\":[]}",
		    ST_ERR_MANIFEST_SCHEMA),
		R("missing fields", "{" HEAD ",\"files\":[]}", ST_ERR_MANIFEST_SCHEMA),
		R("missing files", "{" HEAD ",\"fields\":{}}", ST_ERR_MANIFEST_SCHEMA),
		R("fields an array", M("[]", "[]"), ST_ERR_MANIFEST_SCHEMA),
		R("fields a string", M("\"x\"", "[]"), ST_ERR_MANIFEST_SCHEMA),
		R("fields null", M("null", "[]"), ST_ERR_MANIFEST_SCHEMA),
		R("field a number", M("{\"what\":1}", "[]"), ST_ERR_MANIFEST_SCHEMA),
		R("field true", M("{\"what\":true}", "[]"), ST_ERR_MANIFEST_SCHEMA),
		R("field null", M("{\"what\":null}", "[]"), ST_ERR_MANIFEST_SCHEMA),
		R("field an object", M("{\"what\":{\"a\":\"b\"}}", "[]"), ST_ERR_MANIFEST_SCHEMA),
		R("field array with a number", M("{\"what\":[\"a\",1]}", "[]"),
		    ST_ERR_MANIFEST_SCHEMA),
		R("field array nested", M("{\"what\":[[\"a\"]]}", "[]"), ST_ERR_MANIFEST_SCHEMA),
		R("field array with null", M("{\"what\":[null]}", "[]"), ST_ERR_MANIFEST_SCHEMA),
		R("files an object", M("{}", "{}"), ST_ERR_MANIFEST_SCHEMA),
		R("files null", M("{}", "null"), ST_ERR_MANIFEST_SCHEMA),
		R("file a string", M("{}", "[\"a.jpg\"]"), ST_ERR_MANIFEST_SCHEMA),
		R("file an array", M("{}", "[[]]"), ST_ERR_MANIFEST_SCHEMA),
		R("file missing name",
		    M("{}", "[{\"type\":\"t\",\"size\":3,\"sha256\":\"" SHA "\"}]"),
		    ST_ERR_MANIFEST_SCHEMA),
		R("file missing type",
		    M("{}", "[{\"name\":\"a\",\"size\":3,\"sha256\":\"" SHA "\"}]"),
		    ST_ERR_MANIFEST_SCHEMA),
		R("file missing size",
		    M("{}", "[{\"name\":\"a\",\"type\":\"t\",\"sha256\":\"" SHA "\"}]"),
		    ST_ERR_MANIFEST_SCHEMA),
		R("file missing sha256", M("{}", "[{\"name\":\"a\",\"type\":\"t\",\"size\":3}]"),
		    ST_ERR_MANIFEST_SCHEMA),
		R("name a number", M("{}", FILE_WITH("1", "\"t\"", "3", "\"" SHA "\"")),
		    ST_ERR_MANIFEST_SCHEMA),
		R("name null", M("{}", FILE_WITH("null", "\"t\"", "3", "\"" SHA "\"")),
		    ST_ERR_MANIFEST_SCHEMA),
		R("type an array", M("{}", FILE_WITH("\"a\"", "[\"t\"]", "3", "\"" SHA "\"")),
		    ST_ERR_MANIFEST_SCHEMA),
		R("size a string", M("{}", FILE_WITH("\"a\"", "\"t\"", "\"3\"", "\"" SHA "\"")),
		    ST_ERR_MANIFEST_SCHEMA),
		R("size a real", M("{}", FILE_WITH("\"a\"", "\"t\"", "3.0", "\"" SHA "\"")),
		    ST_ERR_MANIFEST_SCHEMA),
		R("size in exponent form", M("{}", FILE_WITH("\"a\"", "\"t\"", "3e0", "\"" SHA "\"")),
		    ST_ERR_MANIFEST_SCHEMA),
		R("size -1", M("{}", FILE_WITH("\"a\"", "\"t\"", "-1", "\"" SHA "\"")),
		    ST_ERR_MANIFEST_SCHEMA),
		R("size INT64_MIN",
		    M("{}", FILE_WITH("\"a\"", "\"t\"", "-9223372036854775808", "\"" SHA "\"")),
		    ST_ERR_MANIFEST_SCHEMA),
		R("size 2^53+1",
		    M("{}", FILE_WITH("\"a\"", "\"t\"", "9007199254740993", "\"" SHA "\"")),
		    ST_ERR_MANIFEST_SCHEMA),
		R("size INT64_MAX",
		    M("{}", FILE_WITH("\"a\"", "\"t\"", "9223372036854775807", "\"" SHA "\"")),
		    ST_ERR_MANIFEST_SCHEMA),
		R("size 2^53 is the limit",
		    M("{}", FILE_WITH("\"a\"", "\"t\"", "9007199254740992", "\"" SHA "\"")),
		    ST_OK),
		R("size -0 is zero", M("{}", FILE_WITH("\"a\"", "\"t\"", "-0", "\"" SHA "\"")),
		    ST_OK),
		R("sha256 uppercase",
		    M("{}", FILE_WITH("\"a\"", "\"t\"", "3",
		    "\"BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD\"")),
		    ST_ERR_MANIFEST_SCHEMA),
		R("sha256 one uppercase digit",
		    M("{}", FILE_WITH("\"a\"", "\"t\"", "3",
		    "\"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015aD\"")),
		    ST_ERR_MANIFEST_SCHEMA),
		R("sha256 63 chars",
		    M("{}", FILE_WITH("\"a\"", "\"t\"", "3",
		    "\"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015a\"")),
		    ST_ERR_MANIFEST_SCHEMA),
		R("sha256 65 chars",
		    M("{}", FILE_WITH("\"a\"", "\"t\"", "3", "\"" SHA "0\"")),
		    ST_ERR_MANIFEST_SCHEMA),
		R("sha256 not hex",
		    M("{}", FILE_WITH("\"a\"", "\"t\"", "3",
		    "\"ga7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\"")),
		    ST_ERR_MANIFEST_SCHEMA),
		R("sha256 with NUL",
		    M("{}", FILE_WITH("\"a\"", "\"t\"", "3",
		    "\"\\u0000a7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\"")),
		    ST_ERR_MANIFEST_SCHEMA),
		R("sha256 with spaces",
		    M("{}", FILE_WITH("\"a\"", "\"t\"", "3",
		    "\" a7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\"")),
		    ST_ERR_MANIFEST_SCHEMA),
		R("sha256 a number", M("{}", FILE_WITH("\"a\"", "\"t\"", "3", "0")),
		    ST_ERR_MANIFEST_SCHEMA),
		R("second file bad",
		    M("{}", "[" FILE_OK ",{\"name\":\"b\",\"type\":\"t\",\"size\":-1,"
		    "\"sha256\":\"" SHA "\"}]"), ST_ERR_MANIFEST_SCHEMA),
	};

	(void)state;
	run_cases(c, sizeof c / sizeof c[0]);
}

static void
test_manifest_reject_version(void **state)
{
	static const struct reject c[] = {
		R("v 2", "{\"v\":2,\"form\":\"f\",\"lang\":\"km\",\"fields\":{},\"files\":[]}",
		    ST_ERR_VERSION),
		R("v \"1\"", "{\"v\":\"1\",\"form\":\"f\",\"lang\":\"km\",\"fields\":{},\"files\":[]}",
		    ST_ERR_VERSION),
		R("v 1.0", "{\"v\":1.0,\"form\":\"f\",\"lang\":\"km\",\"fields\":{},\"files\":[]}",
		    ST_ERR_VERSION),
		R("v 1e0", "{\"v\":1e0,\"form\":\"f\",\"lang\":\"km\",\"fields\":{},\"files\":[]}",
		    ST_ERR_VERSION),
		R("v 0", "{\"v\":0,\"form\":\"f\",\"lang\":\"km\",\"fields\":{},\"files\":[]}",
		    ST_ERR_VERSION),
		R("v -1", "{\"v\":-1,\"form\":\"f\",\"lang\":\"km\",\"fields\":{},\"files\":[]}",
		    ST_ERR_VERSION),
		R("v true", "{\"v\":true,\"form\":\"f\",\"lang\":\"km\",\"fields\":{},\"files\":[]}",
		    ST_ERR_VERSION),
		R("v null", "{\"v\":null,\"form\":\"f\",\"lang\":\"km\",\"fields\":{},\"files\":[]}",
		    ST_ERR_VERSION),
		R("v [1]", "{\"v\":[1],\"form\":\"f\",\"lang\":\"km\",\"fields\":{},\"files\":[]}",
		    ST_ERR_VERSION),
		R("v 2^32+1", "{\"v\":4294967297,\"form\":\"f\",\"lang\":\"km\",\"fields\":{},"
		    "\"files\":[]}", ST_ERR_VERSION),
		/* The version decides before the shape: a v2 manifest may look different. */
		R("v 2 other shape", "{\"v\":2,\"parts\":[]}", ST_ERR_VERSION),
		R("v 1 last", "{\"form\":\"f\",\"lang\":\"km\",\"fields\":{},\"files\":[],\"v\":1}",
		    ST_OK),
	};

	(void)state;
	run_cases(c, sizeof c / sizeof c[0]);
}

/* What the schema allows: unknown keys anywhere, NUL inside values and file
 * names and types (exposed with lengths), empty lists, duplicate names. */
static void
test_manifest_accept(void **state)
{
	static const char later[] = "{" HEAD ",\"fields\":{},\"files\":[{\"name\":\"a\","
	    "\"type\":\"t\",\"size\":3,\"sha256\":\"" SHA "\",\"mtime\":1700000000}],"
	    "\"later\":{\"deep\":[1,{\"x\":null}],\"real\":0.5},\"v2hint\":true}";
	static const char nul[] = M("{\"what\":\"a\\u0000b\",\"many\":[\"\\u0000\"]}",
	    FILE_WITH("\"\\u0000\"", "\"text/plain\\u0000; evil\"", "0", "\"" SHA "\""));
	static const char empty[] = M("{}", "[]");
	static const char dup[] = M("{}", "[" FILE_OK "," FILE_OK "]");
	struct manifest *m;

	(void)state;
	m = expect("unknown keys", later, sizeof later - 1, ST_OK);
	assert_non_null(json_object_get(m->root, "later"));
	assert_int_equal(m->nfiles, 1);
	manifest_free(m);

	m = expect("NUL in values", nul, sizeof nul - 1, ST_OK);
	assert_int_equal(json_string_length(json_object_get(m->fields, "what")), 3);
	assert_int_equal(m->files[0].name_len, 1);
	assert_int_equal(m->files[0].name[0], '\0');
	assert_int_equal(m->files[0].type_len, 17);
	assert_memory_equal(m->files[0].type, "text/plain\0; evil", 17);
	manifest_free(m);

	m = expect("empty", empty, sizeof empty - 1, ST_OK);
	assert_int_equal(m->nfiles, 0);
	assert_non_null(m->files);
	assert_int_equal(json_object_size(m->fields), 0);
	manifest_free(m);

	m = expect("same file twice", dup, sizeof dup - 1, ST_OK);
	assert_int_equal(m->nfiles, 2);
	assert_int_equal(m->files_total, 6);
	manifest_free(m);
}

/* {HEAD, "fields": <fields>, "files": [FILE x nfiles]} built in a buffer. */
static void
build(struct buf *b, const char *fields, size_t nfiles, const char *file)
{
	size_t i;

	b->len = 0;
	buf_str(b, "{" HEAD ",\"fields\":");
	buf_str(b, fields);
	buf_str(b, ",\"files\":[");
	for (i = 0; i < nfiles; i++) {
		if (i > 0)
			buf_str(b, ",");
		buf_str(b, file);
	}
	buf_str(b, "]}");
}

static void
test_manifest_limits(void **state)
{
	struct buf b = { 0 }, f = { 0 };
	struct manifest *m;
	char item[32];
	size_t i;

	(void)state;
	build(&b, "{}", MANIFEST_MAX_FILES, FILE_OK);
	m = expect("1000 files", b.p, b.len, ST_OK);
	assert_int_equal(m->nfiles, MANIFEST_MAX_FILES);
	assert_int_equal(m->files_total, 3 * MANIFEST_MAX_FILES);
	manifest_free(m);
	build(&b, "{}", MANIFEST_MAX_FILES + 1, FILE_OK);
	expect("1001 files", b.p, b.len, ST_ERR_MANIFEST_SCHEMA);

	/* The biggest sum the schema allows fits 64 bits: 1000 * 2^53. */
	build(&b, "{}", MANIFEST_MAX_FILES,
	    "{\"name\":\"a\",\"type\":\"t\",\"size\":9007199254740992,\"sha256\":\"" SHA "\"}");
	m = expect("1000 files of 2^53", b.p, b.len, ST_OK);
	assert_int_equal(m->files_total, (uint64_t)MANIFEST_MAX_FILES << 53);
	manifest_free(m);

	f.len = 0;
	buf_str(&f, "{");
	for (i = 0; i < MANIFEST_MAX_FIELDS; i++) {
		snprintf(item, sizeof item, "%s\"f%zu\":\"x\"", i ? "," : "", i);
		buf_str(&f, item);
	}
	buf_str(&f, "}");
	build(&b, f.p, 0, "");
	m = expect("256 fields", b.p, b.len, ST_OK);
	assert_int_equal(json_object_size(m->fields), MANIFEST_MAX_FIELDS);
	manifest_free(m);
	f.len = 0;
	buf_str(&f, "{");
	for (i = 0; i <= MANIFEST_MAX_FIELDS; i++) {
		snprintf(item, sizeof item, "%s\"f%zu\":[]", i ? "," : "", i);
		buf_str(&f, item);
	}
	buf_str(&f, "}");
	build(&b, f.p, 0, "");
	expect("257 fields", b.p, b.len, ST_ERR_MANIFEST_SCHEMA);

	f.len = 0;
	buf_str(&f, "{\"gifts\":[");
	for (i = 0; i < MANIFEST_MAX_VALUES; i++)
		buf_str(&f, i ? ",\"x\"" : "\"x\"");
	buf_str(&f, "]}");
	build(&b, f.p, 0, "");
	m = expect("256 values", b.p, b.len, ST_OK);
	assert_int_equal(json_array_size(json_object_get(m->fields, "gifts")), MANIFEST_MAX_VALUES);
	manifest_free(m);
	f.len -= 2;
	buf_str(&f, ",\"x\"]}");
	build(&b, f.p, 0, "");
	expect("257 values", b.p, b.len, ST_ERR_MANIFEST_SCHEMA);

	/* MANIFEST_MAX_BYTES exactly (whitespace is JSON), then one more. */
	build(&b, "{}", 0, "");
	b.p[--b.len] = '\0';
	buf_fill(&b, ' ', MANIFEST_MAX_BYTES - 1 - b.len);
	buf_str(&b, "}");
	assert_int_equal(b.len, MANIFEST_MAX_BYTES);
	m = expect("1 MiB", b.p, b.len, ST_OK);
	manifest_free(m);
	buf_str(&b, " ");
	expect("1 MiB + 1", b.p, b.len, ST_ERR_MANIFEST_LEN);

	free(b.p);
	free(f.p);
}

/*
 * jansson 2.14 stops at depth 2048 ("maximum parsing depth reached"): a
 * hundred thousand nested arrays or objects in an ignored key are refused
 * without recursing that deep, and 2000 levels are accepted and freed
 * (recursively, but only 2000 frames deep).
 */
static void
test_manifest_deep_nesting(void **state)
{
	struct buf b = { 0 };
	struct manifest *m;
	char *d;
	size_t i, depth;

	(void)state;
	for (depth = 2000; depth <= 100000; depth += 98000) {
		build(&b, "{}", 0, "");
		b.p[--b.len] = '\0';
		buf_str(&b, ",\"later\":");
		buf_fill(&b, '[', depth);
		buf_fill(&b, ']', depth);
		buf_str(&b, "}");
		if (depth == 2000) {
			m = expect("2000 nested arrays", b.p, b.len, ST_OK);
			d = manifest_dump(m->root, NULL);
			assert_non_null(d);
			free(d);
			manifest_free(m);
		} else {
			expect("100000 nested arrays", b.p, b.len, ST_ERR_MANIFEST_JSON);
		}
	}

	/* Objects, and unclosed arrays: the same limit. */
	build(&b, "{}", 0, "");
	b.p[--b.len] = '\0';
	buf_str(&b, ",\"later\":");
	for (i = 0; i < 100000; i++)
		buf_str(&b, "{\"a\":");
	buf_str(&b, "0");
	buf_fill(&b, '}', 100000);
	buf_str(&b, "}");
	expect("100000 nested objects", b.p, b.len, ST_ERR_MANIFEST_JSON);
	b.len = 0;
	buf_fill(&b, '[', 100000);
	expect("100000 unclosed arrays", b.p, b.len, ST_ERR_MANIFEST_JSON);

	/* Nesting inside a field value is a schema error, not just deep. */
	b.len = 0;
	buf_str(&b, "{" HEAD ",\"files\":[],\"fields\":{\"what\":");
	buf_fill(&b, '[', 100);
	buf_fill(&b, ']', 100);
	buf_str(&b, "}}");
	expect("nested field value", b.p, b.len, ST_ERR_MANIFEST_SCHEMA);
	free(b.p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_manifest_vector_basic),
		cmocka_unit_test(test_manifest_vector_two_recipients),
		cmocka_unit_test(test_manifest_vector_chunk_boundary),
		cmocka_unit_test(test_manifest_vector_hostile_names),
		cmocka_unit_test(test_manifest_dump_round_trip),
		cmocka_unit_test(test_manifest_arguments),
		cmocka_unit_test(test_manifest_reject_json),
		cmocka_unit_test(test_manifest_reject_schema),
		cmocka_unit_test(test_manifest_reject_version),
		cmocka_unit_test(test_manifest_accept),
		cmocka_unit_test(test_manifest_limits),
		cmocka_unit_test(test_manifest_deep_nesting),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
