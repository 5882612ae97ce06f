/* Every vector, through the whole reading path (envelope, then payload):
 * tests/vectors/shared/ from an independent implementation of the design,
 * tests/vectors/own/ with payloads built outside our C code. Good ones open to
 * exactly the manifest, files (and payload bytes) given; bad ones fail with
 * their exact status. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <sodium.h>

#include "envelope.h"
#include "keyfile.h"
#include "manifest.h"
#include "payload.h"
#include "status.h"

#define SHARED "tests/vectors/shared/"
#define OWN "tests/vectors/own/"

static unsigned char *
read_file(const char *path, size_t *len)
{
	unsigned char *buf;
	long size;
	FILE *f;

	f = fopen(path, "rb");
	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	size = ftell(f);
	assert_true(size >= 0);
	rewind(f);
	buf = malloc((size_t)size + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)size, f), (size_t)size);
	fclose(f);
	*len = (size_t)size;
	return buf;
}

static json_t *
read_json(const char *path)
{
	json_error_t error;
	json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &error);

	if (root == NULL)
		fail_msg("%s: %s", path, error.text);
	return root;
}

/* What the payload reader handed on, kept for comparison. */
struct capture {
	crypto_hash_sha256_state payload_hash; /* of the plaintext stream as a whole */
	json_t *manifest;
	size_t files_seen, files_ok;
	uint64_t bytes_in_file[32];
	struct payload_reader *payload;
};

static int
capture_manifest(void *ctx, const struct manifest *m, const unsigned char *raw, size_t raw_len)
{
	struct capture *c = ctx;

	(void)m;
	c->manifest = json_loadb((const char *)raw, raw_len, JSON_ALLOW_NUL, NULL);
	return c->manifest == NULL;
}

static int
capture_file_begin(void *ctx, size_t index, const struct manifest_file *f)
{
	struct capture *c = ctx;

	(void)f;
	assert_int_equal(index, c->files_seen);
	return 0;
}

static int
capture_file_data(void *ctx, const unsigned char *buf, size_t len)
{
	struct capture *c = ctx;

	(void)buf;
	c->bytes_in_file[c->files_seen < 32 ? c->files_seen : 31] += len;
	return 0;
}

static int
capture_file_end(void *ctx, size_t index, int sha256_ok)
{
	struct capture *c = ctx;

	assert_int_equal(index, c->files_seen);
	c->files_seen++;
	c->files_ok += sha256_ok ? 1 : 0;
	return 0;
}

/* Tees the plaintext: hash it whole, and feed the payload reader. Like
 * sealtip open, a payload error does not stop the envelope reader, so an
 * envelope-level defect is what gets reported when there is one. */
static int
capture_plaintext(void *ctx, const unsigned char *buf, size_t len)
{
	struct capture *c = ctx;

	crypto_hash_sha256_update(&c->payload_hash, buf, len);
	(void)payload_reader_write(c->payload, buf, len);
	return payload_reader_status(c->payload) == ST_ERR_CALLBACK ? -1 : 0;
}

/* Opens path with box_sk; returns the first failing status or ST_OK. */
static int
open_vector(const char *path, const char *box_sk_hex, struct capture *c, uint64_t *payload_len)
{
	const struct payload_sink sink = { capture_manifest, capture_file_begin,
		capture_file_data, capture_file_end, c };
	struct keyfile_secret *sk = NULL;
	struct envelope_open *envelope = NULL;
	unsigned char box_sk[32], *bytes;
	size_t len, bin_len, offset, step;
	int status;

	memset(c, 0, sizeof *c);
	crypto_hash_sha256_init(&c->payload_hash);
	assert_int_equal(sodium_hex2bin(box_sk, 32, box_sk_hex, 64, NULL, &bin_len, NULL), 0);
	assert_int_equal(keyfile_secret_from_box_sk(box_sk, &sk), ST_OK);
	bytes = read_file(path, &len);
	assert_int_equal(payload_reader_new(&c->payload, &sink), ST_OK);
	assert_int_equal(envelope_open_new(&envelope, sk->pub.box_pk, sk->box_sk,
	    capture_plaintext, c), ST_OK);
	/* Odd-sized pieces, so no reader relies on aligned input. */
	status = ST_OK;
	for (offset = 0; offset < len && status == ST_OK; offset += step) {
		step = len - offset < 7777 ? len - offset : 7777;
		status = envelope_open_update(envelope, bytes + offset, step);
	}
	if (status == ST_OK)
		status = envelope_open_final(envelope, payload_len);
	if (status == ST_OK)
		status = payload_reader_finish(c->payload);
	envelope_open_free(envelope);
	payload_reader_free(c->payload);
	keyfile_secret_free(sk);
	free(bytes);
	return status;
}

static const char *
key_hex(json_t *keys, const char *who)
{
	const char *hex = json_string_value(json_object_get(json_object_get(keys, who), "box_sk"));

	assert_non_null(hex);
	return hex;
}

static void
check_positive(const char *dir, const char *name, json_t *keys, const char *outsider_hex)
{
	char path[256];
	struct capture c;
	json_t *meta, *recipient, *files, *file;
	uint64_t payload_len;
	unsigned char digest[32], *expected;
	size_t i, j, expected_len;

	snprintf(path, sizeof path, "%s%s.json", dir, name);
	meta = read_json(path);
	snprintf(path, sizeof path, "%s%s.env", dir, name);
	json_array_foreach(json_object_get(meta, "recipients"), i, recipient) {
		assert_int_equal(open_vector(path, key_hex(keys, json_string_value(recipient)), &c,
		    &payload_len), ST_OK);
		assert_int_equal(payload_len,
		    json_integer_value(json_object_get(meta, "payload_len")));
		assert_true(json_equal(c.manifest, json_object_get(meta, "manifest")));
		files = json_object_get(json_object_get(meta, "manifest"), "files");
		assert_int_equal(c.files_seen, json_array_size(files));
		assert_int_equal(c.files_ok, json_array_size(files));
		json_array_foreach(files, j, file)
			if (j < 32)
				assert_int_equal(c.bytes_in_file[j],
				    json_integer_value(json_object_get(file, "size")));
		crypto_hash_sha256_final(&c.payload_hash, digest);
		if (json_object_get(meta, "payload") != NULL) {
			snprintf(path, sizeof path, "%s%s", dir,
			    json_string_value(json_object_get(meta, "payload")));
			expected = read_file(path, &expected_len);
			unsigned char want[32];
			crypto_hash_sha256(want, expected, expected_len);
			assert_memory_equal(digest, want, 32);
			free(expected);
			snprintf(path, sizeof path, "%s%s.env", dir, name);
		}
		json_decref(c.manifest);
	}
	if (outsider_hex != NULL) {
		assert_int_equal(open_vector(path, outsider_hex, &c, &payload_len),
		    ST_ERR_NOT_RECIPIENT);
		json_decref(c.manifest);
	}
	json_decref(meta);
}

static void
test_shared_positive(void **state)
{
	json_t *keys = read_json(SHARED "keys.json");

	(void)state;
	check_positive(SHARED, "basic", keys, key_hex(keys, "bob"));
	check_positive(SHARED, "two-recipients", keys, key_hex(keys, "carol"));
	check_positive(SHARED, "chunk-boundary", keys, NULL);
	check_positive(SHARED, "hostile-names", keys, NULL);
	json_decref(keys);
}

static void
test_own_positive(void **state)
{
	json_t *keys = read_json(OWN "keys.json");
	json_t *shared = read_json(SHARED "keys.json");

	(void)state;
	check_positive(OWN, "khmer-two-files", keys, key_hex(keys, "eli"));
	check_positive(OWN, "two-recipients", keys, key_hex(shared, "alice"));
	check_positive(OWN, "one-full-chunk", keys, NULL);
	check_positive(OWN, "no-files", keys, key_hex(keys, "dana"));
	json_decref(keys);
	json_decref(shared);
}

/* Each bad vector and the exact reason it must be refused for. */
static const struct {
	const char *file;
	int status;
} negatives[] = {
	{ "bad-truncated.env", ST_ERR_CHUNK_AUTH },
	{ "bad-trailing.env", ST_ERR_CHUNK_AUTH }, /* after a short last chunk: no way to tell */
	{ "bad-flipped-ciphertext.env", ST_ERR_CHUNK_AUTH },
	{ "bad-flipped-preamble.env", ST_ERR_CHUNK_AUTH },
	{ "bad-version-2.env", ST_ERR_VERSION },
	{ "bad-nrecip-0.env", ST_ERR_NRECIP },
	{ "bad-nrecip-17.env", ST_ERR_NRECIP },
	{ "bad-not-a-recipient.env", ST_ERR_NOT_RECIPIENT },
	{ "bad-no-final.env", ST_ERR_NO_FINAL },
	{ "bad-empty-final-after-full.env", ST_ERR_LAYOUT },
	/* Chunks are framed by length: a short chunk runs into the next one. */
	{ "bad-short-message-chunk.env", ST_ERR_CHUNK_AUTH },
	{ "bad-no-ad.env", ST_ERR_CHUNK_AUTH },
	{ "bad-sizes-exceed-payload.env", ST_ERR_SIZES },
	{ "bad-manifest-len-too-big.env", ST_ERR_MANIFEST_LEN },
	{ "bad-manifest-bad-utf8.env", ST_ERR_MANIFEST_JSON },
	{ "bad-manifest-duplicate-key.env", ST_ERR_MANIFEST_JSON },
	{ "bad-manifest-not-json.env", ST_ERR_MANIFEST_JSON },
	{ "bad-bad-padding.env", ST_ERR_PADDING },
	{ "bad-not-padme-length.env", ST_ERR_NOT_PADME },
};

static void
test_shared_negative(void **state)
{
	json_t *keys = read_json(SHARED "keys.json"), *list, *entry;
	char path[256];
	struct capture c;
	uint64_t payload_len;
	size_t i, j;
	int found;

	(void)state;
	/* The table must cover negative.json exactly: a new vector needs a row. */
	list = read_json(SHARED "negative.json");
	assert_int_equal(json_array_size(list), sizeof negatives / sizeof negatives[0]);
	json_array_foreach(list, i, entry) {
		found = 0;
		for (j = 0; j < sizeof negatives / sizeof negatives[0]; j++)
			found |= strcmp(negatives[j].file,
			    json_string_value(json_object_get(entry, "envelope"))) == 0;
		assert_true(found);
	}
	for (i = 0; i < sizeof negatives / sizeof negatives[0]; i++) {
		snprintf(path, sizeof path, SHARED "%s", negatives[i].file);
		int status = open_vector(path, key_hex(keys, "alice"), &c, &payload_len);
		if (status != negatives[i].status)
			fail_msg("%s: got %d (%s), want %d (%s)", negatives[i].file, status,
			    status_message(status), negatives[i].status,
			    status_message(negatives[i].status));
		json_decref(c.manifest);
	}
	json_decref(list);
	json_decref(keys);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shared_positive),
		cmocka_unit_test(test_own_positive),
		cmocka_unit_test(test_shared_negative),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
