/* libFuzzer target: src/jsonbuf.c against jansson, byte for byte. jsonbuf
 * writes the receipts and proofs sealtipd sends for every report; they must
 * be exactly what jansson would have written, since auditors and the page
 * parse them.
 *
 * Input: one byte for the buffer's size, then a string. Checks:
 *  - the string alone: jsonbuf_string fails exactly when json_stringn
 *    refuses it (not UTF-8), else writes json_dumps' bytes;
 *  - an object with the string as a key and as a value in an array, next to
 *    a number: the same bytes as jansson's compact dump;
 *  - the same object into a buffer of the size byte's length: it fails, or
 *    writes those bytes; never a byte past the buffer (ASan, and a canary). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "jsonbuf.h"

#include "guard.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_JSONBUF_MAX 8192

/* The object both write: {"n":<n>,<key>:[<s>,"<base64 of s>"]}. */
static long
write_object(char *buf, size_t cap, const char *s, size_t len, const char *key)
{
	struct jsonbuf j;

	jsonbuf_init(&j, buf, cap);
	jsonbuf_object_begin(&j);
	jsonbuf_key(&j, "n");
	jsonbuf_uint(&j, (uint64_t)len * 1000003u);
	jsonbuf_key(&j, key);
	jsonbuf_array_begin(&j);
	jsonbuf_string(&j, s, len);
	jsonbuf_base64(&j, (const unsigned char *)s, len);
	jsonbuf_array_end(&j);
	jsonbuf_object_end(&j);
	return jsonbuf_finish(&j);
}

static char *
jansson_object(const char *s, size_t len, const char *key)
{
	char b64[sodium_base64_ENCODED_LEN(FUZZ_JSONBUF_MAX, sodium_base64_VARIANT_ORIGINAL)];
	json_t *o;
	char *out;

	sodium_bin2base64(
	    b64, sizeof b64, (const unsigned char *)s, len, sodium_base64_VARIANT_ORIGINAL);
	o = json_pack("{s:I, s:[s%, s]}", "n", (json_int_t)len * 1000003, key, s, len, b64);
	if (o == NULL)
		abort();
	out = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return out;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char buf[3 * FUZZ_JSONBUF_MAX + 256], small[256 + 1];
	const uint8_t *input;
	const char *s;
	char key[64], *want;
	json_t *v;
	size_t len, cap, keylen;
	long n;
	struct jsonbuf j;

	if (size < 1 || size - 1 > FUZZ_JSONBUF_MAX || sodium_init() < 0)
		return 0;
	input = fuzz_guarded_copy(data, size);
	cap = input[0];
	s = (const char *)input + 1;
	len = size - 1;

	/* The string alone. */
	jsonbuf_init(&j, buf, sizeof buf);
	jsonbuf_string(&j, s, len);
	n = jsonbuf_finish(&j);
	if ((v = json_stringn(s, len)) == NULL) {
		if (n != -1)
			abort(); /* jansson says it is not a string */
		return 0;
	}
	want = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	json_decref(v);
	if (want == NULL || n != (long)strlen(want) || memcmp(buf, want, (size_t)n + 1) != 0)
		abort();
	free(want);

	/* In an object, with a key made of the string's first bytes (a key is a
	 * C string: up to the first NUL, and used only if jansson takes it). */
	keylen = strnlen(s, len < sizeof key - 1 ? len : sizeof key - 1);
	memcpy(key, s, keylen);
	key[keylen] = '\0';
	/* jansson keeps one member per key: never "n" twice. */
	if ((v = json_string(key)) == NULL || strcmp(key, "n") == 0)
		snprintf(key, sizeof key, "k");
	json_decref(v);
	want = jansson_object(s, len, key);
	if (want == NULL)
		abort();
	n = write_object(buf, sizeof buf, s, len, key);
	if (n != (long)strlen(want) || memcmp(buf, want, (size_t)n + 1) != 0)
		abort();

	/* Too small a buffer fails or fits, and never writes past its end. */
	memset(small, 'X', sizeof small);
	n = write_object(small, cap, s, len, key);
	if (small[cap] != 'X' || (n != -1 && (n != (long)strlen(want) || (size_t)n >= cap ||
					       memcmp(small, want, (size_t)n + 1) != 0)))
		abort();
	free(want);
	return 0;
}
