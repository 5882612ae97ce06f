/* Key files: the shared public key vectors, round trips, and every way a
 * hostile or damaged file must be refused. Run from the repository root. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <jansson.h>
#include <sodium.h>

#include "keyfile.h"
#include "status.h"

#define VECTORS "tests/vectors/shared/"

/* Decoded secret blob layout (docs/keyfile.md). */
#define SK_TAG 0
#define SK_VERSION 4
#define SK_KDF 5
#define SK_OPS 6
#define SK_MEM 14
#define SK_SALT 22
#define SK_NONCE 38
#define SK_BOX_PK 62
#define SK_SIGN_PK 94
#define SK_MAC 126
#define SK_CT 142
#define SK_BLOB 206

/* Cheapest Argon2id the format accepts: keeps the corruption sweeps fast. */
static const struct keyfile_kdf_limits kdf_min = {1, 8192};

static const char *const names[] = {"alice", "bob", "carol"};

/* Made once: Argon2id at INTERACTIVE cost is the slow part of this file. */
struct fixture {
	struct keyfile_secret *sk;
	char interactive[KEYFILE_TEXT_MAX]; /* protected, keyfile_kdf_interactive */
	size_t interactive_len;
	char fast[KEYFILE_TEXT_MAX]; /* protected, kdf_min */
	size_t fast_len;
	char plain[KEYFILE_TEXT_MAX]; /* unprotected */
	size_t plain_len;
};

static const char passphrase[] = "correct horse battery staple";
#define PASS passphrase, sizeof passphrase - 1

static char *
read_text(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n >= 0);
	rewind(f);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static void
hex_to_bin(const char *hex, unsigned char *out, size_t out_len)
{
	size_t n;

	assert_int_equal(sodium_hex2bin(out, out_len, hex, strlen(hex), NULL, &n, NULL), 0);
	assert_int_equal(n, out_len);
}

static json_t *
load_keys(void)
{
	json_error_t err;
	json_t *keys = json_load_file(VECTORS "keys.json", 0, &err);

	assert_non_null(keys);
	return keys;
}

/* Decodes the base64 line of a formatted key file. */
static size_t
decode_blob(const char *text, size_t len, unsigned char *blob, size_t blob_size)
{
	const char *line = memchr(text, '\n', len);
	size_t n, b64_len;

	assert_non_null(line);
	line++;
	b64_len = len - (size_t)(line - text);
	if (b64_len > 0 && line[b64_len - 1] == '\n')
		b64_len--;
	assert_int_equal(sodium_base642bin(blob, blob_size, line, b64_len, NULL, &n, NULL,
			     sodium_base64_VARIANT_ORIGINAL),
	    0);
	return n;
}

/* A key file text around blob, with the given comment line. */
static size_t
encode_text(
    const char *comment, const unsigned char *blob, size_t blob_len, char *out, size_t out_size)
{
	size_t c = strlen(comment), b;

	b = sodium_base64_ENCODED_LEN(blob_len, sodium_base64_VARIANT_ORIGINAL);
	assert_true(c + 1 + b + 1 <= out_size);
	memcpy(out, comment, c);
	out[c] = '\n';
	sodium_bin2base64(out + c + 1, b, blob, blob_len, sodium_base64_VARIANT_ORIGINAL);
	out[c + b] = '\n';
	out[c + b + 1] = '\0';
	return c + b + 1;
}

#define SK_COMMENT "untrusted comment: sealtip secret key"

static int
secret_parse_blob(const unsigned char *blob, size_t blob_len, const char *pass, size_t pass_len)
{
	struct keyfile_secret *sk = NULL;
	char text[KEYFILE_TEXT_MAX];
	size_t len;
	int rc;

	len = encode_text(SK_COMMENT, blob, blob_len, text, sizeof text);
	rc = keyfile_secret_parse(text, len, pass, pass_len, &sk);
	if (rc == ST_OK)
		assert_non_null(sk);
	else
		assert_null(sk);
	keyfile_secret_free(sk);
	return rc;
}

static void
assert_same_secret(const struct keyfile_secret *a, const struct keyfile_secret *b)
{
	assert_memory_equal(a->pub.box_pk, b->pub.box_pk, KEYFILE_BOX_PK_BYTES);
	assert_memory_equal(a->pub.sign_pk, b->pub.sign_pk, KEYFILE_SIGN_PK_BYTES);
	assert_memory_equal(a->pub.key_id, b->pub.key_id, KEYFILE_KEY_ID_BYTES);
	assert_memory_equal(a->box_sk, b->box_sk, KEYFILE_BOX_SK_BYTES);
	assert_memory_equal(a->sign_sk, b->sign_sk, KEYFILE_SIGN_SK_BYTES);
}

static int
group_setup(void **state)
{
	struct fixture *f;

	if (sodium_init() < 0)
		return -1;
	if ((f = calloc(1, sizeof *f)) == NULL)
		return -1;
	if (keyfile_secret_generate(&f->sk) != ST_OK ||
	    keyfile_secret_format(f->sk, PASS, &keyfile_kdf_interactive, f->interactive,
		sizeof f->interactive, &f->interactive_len) != ST_OK ||
	    keyfile_secret_format(f->sk, PASS, &kdf_min, f->fast, sizeof f->fast, &f->fast_len) !=
		ST_OK ||
	    keyfile_secret_format(f->sk, NULL, 0, NULL, f->plain, sizeof f->plain, &f->plain_len) !=
		ST_OK) {
		keyfile_secret_free(f->sk);
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int
group_teardown(void **state)
{
	struct fixture *f = *state;

	keyfile_secret_free(f->sk);
	free(f);
	return 0;
}

/* The three shared public key files parse to the JSON's keys and format back
 * byte for byte. */
static void
test_vectors_public(void **state)
{
	json_t *keys = load_keys();
	size_t i;

	(void)state;
	for (i = 0; i < sizeof names / sizeof names[0]; i++) {
		json_t *k = json_object_get(keys, names[i]);
		unsigned char box_pk[32], sign_pk[32], key_id[8];
		char path[256], out[KEYFILE_TEXT_MAX], id_hex[KEYFILE_KEY_ID_HEX_SIZE];
		struct keyfile_public pk;
		size_t len, out_len;
		char *text;

		assert_non_null(k);
		hex_to_bin(json_string_value(json_object_get(k, "box_pk")), box_pk, 32);
		hex_to_bin(json_string_value(json_object_get(k, "sign_pk")), sign_pk, 32);
		hex_to_bin(json_string_value(json_object_get(k, "key_id")), key_id, 8);
		snprintf(path, sizeof path, VECTORS "%s",
		    json_string_value(json_object_get(k, "pub_file")));
		text = read_text(path, &len);

		assert_int_equal(keyfile_public_parse(text, len, &pk), ST_OK);
		assert_memory_equal(pk.box_pk, box_pk, 32);
		assert_memory_equal(pk.sign_pk, sign_pk, 32);
		assert_memory_equal(pk.key_id, key_id, 8);
		keyfile_key_id_hex(pk.key_id, id_hex);
		assert_string_equal(id_hex, json_string_value(json_object_get(k, "key_id")));

		assert_int_equal(keyfile_public_format(&pk, out, sizeof out, &out_len), ST_OK);
		assert_int_equal(out_len, len);
		assert_memory_equal(out, text, len);
		assert_int_equal(out[out_len], '\0');
		free(text);
	}
	json_decref(keys);
}

/* Expected values computed outside this code base, with python3:
 * hashlib.blake2b(blob68, digest_size=32).digest()[:20].hex() in groups of 4. */
static void
test_vectors_fingerprint(void **state)
{
	static const char *const expected[] = {
	    "4322 6113 d3b8 959f dbf7 5d6e 4cba e15a c2c1 c993",
	    "fe93 b1d4 76cb ae44 f40e 42a0 7433 0e59 d4c4 44e0",
	    "8d26 6f1e 5bb7 7915 1812 fd20 117d 6b1d e341 4f9f",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof names / sizeof names[0]; i++) {
		char path[256], fp[KEYFILE_FINGERPRINT_SIZE];
		struct keyfile_public pk;
		size_t len;
		char *text;

		snprintf(path, sizeof path, VECTORS "%s.pub", names[i]);
		text = read_text(path, &len);
		assert_int_equal(keyfile_public_parse(text, len, &pk), ST_OK);
		memset(fp, 'x', sizeof fp);
		keyfile_fingerprint(&pk, fp);
		assert_string_equal(fp, expected[i]);
		assert_int_equal(strlen(fp), KEYFILE_FINGERPRINT_SIZE - 1);
		free(text);
	}
}

/* box_pk and key id follow from the vectors' box_sk. The sign key follows the
 * documented seed derivation; the expected sign_pk was computed with python3
 * (blake2b + the cryptography package's Ed25519). It is not the vectors'
 * sign_pk, which their generator drew some other way. */
static void
test_secret_from_box_sk(void **state)
{
	static const char *const sign_pk_hex[] = {
	    "48d67b6293b808378a39e1c9322a33f3eaa83fe35ab013831bebeccd1299c468",
	    "9db2ad58892aeb76dc4db8a326f86b3a52201edb2223a951aa7bac3a87f2a868",
	    "78c1f7cb98419d7778cc06629b30488979615e3899cc5f0b340ce1692cdbb656",
	};
	json_t *keys = load_keys();
	size_t i;

	(void)state;
	for (i = 0; i < sizeof names / sizeof names[0]; i++) {
		json_t *k = json_object_get(keys, names[i]);
		unsigned char box_sk[32], box_pk[32], sign_pk[32], key_id[8];
		struct keyfile_secret *sk = NULL;

		hex_to_bin(json_string_value(json_object_get(k, "box_sk")), box_sk, 32);
		hex_to_bin(json_string_value(json_object_get(k, "box_pk")), box_pk, 32);
		hex_to_bin(json_string_value(json_object_get(k, "key_id")), key_id, 8);
		hex_to_bin(sign_pk_hex[i], sign_pk, 32);
		assert_int_equal(keyfile_secret_from_box_sk(box_sk, &sk), ST_OK);
		assert_memory_equal(sk->box_sk, box_sk, 32);
		assert_memory_equal(sk->pub.box_pk, box_pk, 32);
		assert_memory_equal(sk->pub.key_id, key_id, 8);
		assert_memory_equal(sk->pub.sign_pk, sign_pk, 32);
		/* libsodium's Ed25519 secret key is seed || public key. */
		assert_memory_equal(sk->sign_sk + 32, sign_pk, 32);
		keyfile_secret_free(sk);
	}
	json_decref(keys);
	assert_int_equal(keyfile_secret_from_box_sk(NULL, NULL), ST_ERR_ARGUMENT);
}

static void
test_generate_public_roundtrip(void **state)
{
	struct keyfile_secret *sk = NULL;
	struct keyfile_public pk;
	char text[KEYFILE_TEXT_MAX], fa[KEYFILE_FINGERPRINT_SIZE], fb[KEYFILE_FINGERPRINT_SIZE];
	char id_hex[KEYFILE_KEY_ID_HEX_SIZE], comment[64];
	unsigned char key_id[8], pub[32], sig[64];
	size_t len;

	(void)state;
	assert_int_equal(keyfile_secret_generate(&sk), ST_OK);
	/* The pairs really are pairs. */
	assert_int_equal(crypto_scalarmult_base(pub, sk->box_sk), 0);
	assert_memory_equal(pub, sk->pub.box_pk, 32);
	assert_int_equal(
	    crypto_sign_detached(sig, NULL, (const unsigned char *)"m", 1, sk->sign_sk), 0);
	assert_int_equal(
	    crypto_sign_verify_detached(sig, (const unsigned char *)"m", 1, sk->pub.sign_pk), 0);
	keyfile_key_id(sk->pub.box_pk, key_id);
	assert_memory_equal(key_id, sk->pub.key_id, 8);

	assert_int_equal(keyfile_public_format(&sk->pub, text, sizeof text, &len), ST_OK);
	assert_int_equal(len, strlen(text));
	keyfile_key_id_hex(sk->pub.key_id, id_hex);
	snprintf(comment, sizeof comment, "untrusted comment: sealtip public key %s\n", id_hex);
	assert_memory_equal(text, comment, strlen(comment));
	assert_int_equal(text[len - 1], '\n');

	assert_int_equal(keyfile_public_parse(text, len, &pk), ST_OK);
	assert_memory_equal(pk.box_pk, sk->pub.box_pk, 32);
	assert_memory_equal(pk.sign_pk, sk->pub.sign_pk, 32);
	assert_memory_equal(pk.key_id, sk->pub.key_id, 8);
	keyfile_fingerprint(&sk->pub, fa);
	keyfile_fingerprint(&pk, fb);
	assert_string_equal(fa, fb);
	keyfile_secret_free(sk);

	/* Two keys are two keys. */
	assert_int_equal(keyfile_secret_generate(&sk), ST_OK);
	assert_memory_not_equal(sk->pub.box_pk, pk.box_pk, 32);
	keyfile_secret_free(sk);
	keyfile_secret_free(NULL);
}

static void
test_secret_protected_roundtrip(void **state)
{
	struct fixture *f = *state;
	struct keyfile_secret *sk = NULL;
	unsigned char blob[512];
	char id_hex[KEYFILE_KEY_ID_HEX_SIZE], comment[128];

	keyfile_key_id_hex(f->sk->pub.key_id, id_hex);
	snprintf(comment, sizeof comment,
	    "untrusted comment: sealtip secret key %s (passphrase-protected)\n", id_hex);
	assert_memory_equal(f->interactive, comment, strlen(comment));
	assert_int_equal(f->interactive_len, strlen(f->interactive));
	assert_int_equal(keyfile_secret_is_protected(f->interactive, f->interactive_len), 1);

	/* The header carries the INTERACTIVE limits, little-endian, and a salt. */
	assert_int_equal(
	    decode_blob(f->interactive, f->interactive_len, blob, sizeof blob), SK_BLOB);
	assert_memory_equal(blob, "stsk\x01\x01", 6);
	assert_int_equal(blob[SK_OPS], crypto_pwhash_argon2id_OPSLIMIT_INTERACTIVE);
	assert_int_equal(blob[SK_MEM + 3], crypto_pwhash_argon2id_MEMLIMIT_INTERACTIVE >> 24);

	assert_int_equal(
	    keyfile_secret_parse(f->interactive, f->interactive_len, PASS, &sk), ST_OK);
	assert_same_secret(sk, f->sk);
	keyfile_secret_free(sk);
}

static void
test_secret_wrong_passphrase(void **state)
{
	struct fixture *f = *state;
	struct keyfile_secret *sk = (struct keyfile_secret *)(uintptr_t)1;

	assert_int_equal(keyfile_secret_parse(f->interactive, f->interactive_len,
			     "correct horse battery stapler", 29, &sk),
	    ST_ERR_PASSPHRASE);
	assert_null(sk);
	/* Same bytes but one shorter: the length is part of the passphrase. */
	assert_int_equal(
	    keyfile_secret_parse(f->fast, f->fast_len, passphrase, sizeof passphrase - 2, &sk),
	    ST_ERR_PASSPHRASE);
	assert_int_equal(keyfile_secret_parse(f->fast, f->fast_len, PASS, &sk), ST_OK);
	keyfile_secret_free(sk);
	/* No passphrase at all for a protected file is the caller's mistake. */
	assert_int_equal(keyfile_secret_parse(f->fast, f->fast_len, NULL, 0, &sk), ST_ERR_ARGUMENT);
	assert_int_equal(keyfile_secret_parse(f->fast, f->fast_len, "", 0, &sk), ST_ERR_ARGUMENT);
	assert_null(sk);
}

static void
test_secret_unprotected_roundtrip(void **state)
{
	struct fixture *f = *state;
	struct keyfile_secret *sk = NULL;
	unsigned char blob[512];
	char id_hex[KEYFILE_KEY_ID_HEX_SIZE], comment[128];
	size_t i;

	keyfile_key_id_hex(f->sk->pub.key_id, id_hex);
	snprintf(comment, sizeof comment,
	    "untrusted comment: sealtip secret key %s (UNPROTECTED)\n", id_hex);
	assert_memory_equal(f->plain, comment, strlen(comment));
	assert_int_equal(keyfile_secret_is_protected(f->plain, f->plain_len), 0);
	assert_int_equal(decode_blob(f->plain, f->plain_len, blob, sizeof blob), SK_BLOB);
	assert_memory_equal(blob, "stsk\x01\x00", 6);
	for (i = SK_OPS; i < SK_NONCE; i++)
		assert_int_equal(blob[i], 0);

	/* The passphrase is ignored for an unprotected file. */
	assert_int_equal(keyfile_secret_parse(f->plain, f->plain_len, NULL, 0, &sk), ST_OK);
	assert_same_secret(sk, f->sk);
	keyfile_secret_free(sk);
	assert_int_equal(keyfile_secret_parse(f->plain, f->plain_len, "anything", 8, &sk), ST_OK);
	assert_same_secret(sk, f->sk);
	keyfile_secret_free(sk);
}

/* What one corrupted byte of an unprotected blob must give. */
static int
expected_unprotected(size_t pos, unsigned v)
{
	if (pos < SK_VERSION)
		/* "stsk" is one byte away from "stpk": then it is a public key. */
		return (pos == 2 && v == 'p') ? ST_ERR_KEY_KIND : ST_ERR_KEY_FORMAT;
	if (pos == SK_VERSION)
		return ST_ERR_VERSION;
	if (pos == SK_KDF)
		/* Argon2id with zero limits is refused before any work. */
		return v == 1 ? ST_ERR_KDF_LIMITS : ST_ERR_KEY_FORMAT;
	if (pos < SK_NONCE)
		return ST_ERR_KEY_FORMAT; /* limits and salt must be zero */
	if (pos < SK_BOX_PK)
		return ST_ERR_PASSPHRASE; /* nonce */
	if (pos < SK_MAC)
		return ST_ERR_KEY_FORMAT; /* stored public keys */
	return ST_ERR_PASSPHRASE;	  /* MAC and ciphertext */
}

/* Every byte of an unprotected blob: the tag, version and kdf bytes set to
 * each of their 255 other values, every other byte to 0x00, 0xff and each of
 * its eight single-bit flips. Never ST_OK, and the status the region implies. */
static void
test_secret_corruption_unprotected(void **state)
{
	struct fixture *f = *state;
	unsigned char blob[512], orig, vals[256];
	size_t pos, n, nvals, i;
	int rc, want;

	n = decode_blob(f->plain, f->plain_len, blob, sizeof blob);
	assert_int_equal(n, SK_BLOB);
	for (pos = 0; pos < n; pos++) {
		orig = blob[pos];
		nvals = 0;
		if (pos <= SK_KDF) {
			for (i = 0; i < 256; i++)
				vals[nvals++] = (unsigned char)i;
		} else {
			vals[nvals++] = 0x00;
			vals[nvals++] = 0xff;
			for (i = 0; i < 8; i++)
				vals[nvals++] = orig ^ (unsigned char)(1U << i);
		}
		for (i = 0; i < nvals; i++) {
			if (vals[i] == orig)
				continue;
			blob[pos] = vals[i];
			rc = secret_parse_blob(blob, n, NULL, 0);
			want = expected_unprotected(pos, vals[i]);
			assert_int_not_equal(rc, ST_OK);
			if (rc != want)
				fail_msg("byte %zu = 0x%02x: status %d, expected %d", pos, vals[i],
				    rc, want);
		}
		blob[pos] = orig;
	}
	assert_int_equal(secret_parse_blob(blob, n, NULL, 0), ST_OK);
}

/* Every byte of a protected blob (cheapest Argon2id), flipped three ways. A
 * full 255-value sweep would make the memlimit bytes ask for up to 1 GiB. */
static void
test_secret_corruption_protected(void **state)
{
	static const unsigned char flips[] = {0x01, 0x80, 0xff};
	struct fixture *f = *state;
	unsigned char blob[512], orig;
	size_t pos, n, i;
	int rc;

	n = decode_blob(f->fast, f->fast_len, blob, sizeof blob);
	assert_int_equal(n, SK_BLOB);
	for (pos = 0; pos < n; pos++) {
		orig = blob[pos];
		for (i = 0; i < sizeof flips; i++) {
			blob[pos] = orig ^ flips[i];
			rc = secret_parse_blob(blob, n, PASS);
			assert_int_not_equal(rc, ST_OK);
			if (pos < SK_VERSION)
				assert_int_equal(rc, ST_ERR_KEY_FORMAT);
			else if (pos == SK_VERSION)
				assert_int_equal(rc, ST_ERR_VERSION);
			else if (pos == SK_KDF)
				/* kdf 0 with limits set, or an unknown kdf. */
				assert_int_equal(rc, ST_ERR_KEY_FORMAT);
			else if (pos < SK_SALT)
				/* A limit out of range, or a different key. */
				assert_true(rc == ST_ERR_KDF_LIMITS || rc == ST_ERR_PASSPHRASE);
			else if (pos >= SK_BOX_PK && pos < SK_MAC)
				assert_int_equal(rc, ST_ERR_KEY_FORMAT);
			else
				assert_int_equal(
				    rc, ST_ERR_PASSPHRASE); /* salt, nonce, MAC, ciphertext */
		}
		blob[pos] = orig;
	}
	assert_int_equal(secret_parse_blob(blob, n, PASS), ST_OK);
}

static double
now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Limits outside the accepted range are refused before Argon2id runs: a
 * crafted file must not cost hours or terabytes. */
static void
test_kdf_limits(void **state)
{
	static const struct {
		uint64_t ops, mem;
	} bad[] = {
	    {0, 8192},
	    {17, 8192},
	    {0xffffffffULL, 8192},
	    {UINT64_MAX, 8192},
	    {1, 8191},
	    {1, 0},
	    {1, (1ULL << 30) + 1},
	    {1, 1ULL << 42},
	    {1, UINT64_MAX},
	    {16, (1ULL << 30) + 1024},
	    {1, 8193}, /* Argon2 would round it down to 8 KiB */
	    {1, 8192 + 1023},
	};
	struct fixture *f = *state;
	struct keyfile_secret *sk = NULL;
	struct keyfile_kdf_limits limits;
	unsigned char blob[512];
	char text[KEYFILE_TEXT_MAX];
	size_t n, i, len;
	double t0, elapsed;
	int b;

	n = decode_blob(f->fast, f->fast_len, blob, sizeof blob);
	t0 = now_seconds();
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		for (b = 0; b < 8; b++) {
			blob[SK_OPS + b] = (unsigned char)(bad[i].ops >> (8 * b));
			blob[SK_MEM + b] = (unsigned char)(bad[i].mem >> (8 * b));
		}
		len = encode_text(SK_COMMENT, blob, n, text, sizeof text);
		assert_int_equal(keyfile_secret_is_protected(text, len), ST_ERR_KDF_LIMITS);
		assert_int_equal(keyfile_secret_parse(text, len, PASS, &sk), ST_ERR_KDF_LIMITS);
		assert_null(sk);
	}
	elapsed = now_seconds() - t0;
	/* Any Argon2id run at these costs would take far longer (even 4 TiB
	 * fails only after trying); generous for valgrind. */
	assert_true(elapsed < 0.5);

	/* keygen cannot write what parse would refuse. */
	limits.opslimit = 17;
	limits.memlimit = 8192;
	assert_int_equal(keyfile_secret_format(f->sk, PASS, &limits, text, sizeof text, &len),
	    ST_ERR_KDF_LIMITS);
	limits.opslimit = 1;
	limits.memlimit = (1U << 30) + 1;
	assert_int_equal(keyfile_secret_format(f->sk, PASS, &limits, text, sizeof text, &len),
	    ST_ERR_KDF_LIMITS);
	limits.memlimit = 4096;
	assert_int_equal(keyfile_secret_format(f->sk, PASS, &limits, text, sizeof text, &len),
	    ST_ERR_KDF_LIMITS);
	limits.memlimit = 8192 + 512;
	assert_int_equal(keyfile_secret_format(f->sk, PASS, &limits, text, sizeof text, &len),
	    ST_ERR_KDF_LIMITS);

	/* The top of the ops range with the least memory is accepted. */
	limits.opslimit = 16;
	limits.memlimit = 8192;
	assert_int_equal(
	    keyfile_secret_format(f->sk, PASS, &limits, text, sizeof text, &len), ST_OK);
	assert_int_equal(keyfile_secret_parse(text, len, PASS, &sk), ST_OK);
	assert_same_secret(sk, f->sk);
	keyfile_secret_free(sk);

	/* The presets are libsodium's Argon2id ones, all inside the range. */
	assert_int_equal(
	    keyfile_kdf_interactive.opslimit, crypto_pwhash_argon2id_OPSLIMIT_INTERACTIVE);
	assert_int_equal(
	    keyfile_kdf_interactive.memlimit, crypto_pwhash_argon2id_MEMLIMIT_INTERACTIVE);
	assert_int_equal(keyfile_kdf_moderate.opslimit, crypto_pwhash_argon2id_OPSLIMIT_MODERATE);
	assert_int_equal(keyfile_kdf_moderate.memlimit, crypto_pwhash_argon2id_MEMLIMIT_MODERATE);
	assert_int_equal(keyfile_kdf_sensitive.opslimit, crypto_pwhash_argon2id_OPSLIMIT_SENSITIVE);
	assert_int_equal(keyfile_kdf_sensitive.memlimit, crypto_pwhash_argon2id_MEMLIMIT_SENSITIVE);
}

/* A file whose stored public keys are not the ones its secret keys make, e.g.
 * another key's public half pasted in, is refused after decryption. */
static void
test_secret_mismatched_public(void **state)
{
	struct fixture *f = *state;
	struct keyfile_secret *other = NULL;
	unsigned char blob[512], fresh[512];
	size_t n;

	assert_int_equal(keyfile_secret_generate(&other), ST_OK);
	n = decode_blob(f->plain, f->plain_len, blob, sizeof blob);
	memcpy(fresh, blob, n);

	memcpy(blob + SK_BOX_PK, other->pub.box_pk, 32);
	assert_int_equal(secret_parse_blob(blob, n, NULL, 0), ST_ERR_KEY_FORMAT);
	memcpy(blob, fresh, n);
	memcpy(blob + SK_SIGN_PK, other->pub.sign_pk, 32);
	assert_int_equal(secret_parse_blob(blob, n, NULL, 0), ST_ERR_KEY_FORMAT);
	memcpy(blob + SK_BOX_PK, other->pub.box_pk, 32);
	assert_int_equal(secret_parse_blob(blob, n, NULL, 0), ST_ERR_KEY_FORMAT);

	/* Same for a protected file: the public keys sit outside the box. */
	n = decode_blob(f->fast, f->fast_len, blob, sizeof blob);
	memcpy(blob + SK_SIGN_PK, other->pub.sign_pk, 32);
	assert_int_equal(secret_parse_blob(blob, n, PASS), ST_ERR_KEY_FORMAT);
	keyfile_secret_free(other);
}

/* Copies tmpl into out with each '@' replaced by b64. */
static int
expand(const char *tmpl, const char *b64, char *out, size_t out_size)
{
	size_t o = 0, b = strlen(b64);

	for (; *tmpl != '\0'; tmpl++) {
		if (*tmpl == '@') {
			assert_true(o + b < out_size);
			memcpy(out + o, b64, b);
			o += b;
		} else {
			assert_true(o + 1 < out_size);
			out[o++] = *tmpl;
		}
	}
	out[o] = '\0';
	return (int)o;
}

/* Text-level damage to a public key file: each variant must be refused. */
static void
test_public_malformed(void **state)
{
	static const char good_b64[] = "c3RwawlJOopO6Rpls7DT7METYojXeg8bXF11oRbBEueKq5NafD9vaQxVPZ9"
				       "MdClFkADmyZFbN6Es7IMl9vV4OR8xy6g=";
	static const char c[] = "untrusted comment: sealtip public key 874fc3c2ab6e810c";
	static const struct {
		const char *why, *text;
	} bad[] = {
	    {"empty", ""},
	    {"comment only", "untrusted comment: x\n"},
	    {"comment without newline", "untrusted comment: x"},
	    {"no comment",
		"c3RwawlJOopO6Rpls7DT7METYojXeg8bXF11oRbBEueKq5NafD9vaQxVPZ9MdClFkADmyZFbN6Es7IMl9v"
		"V4OR8xy6g=\n"},
	    {"wrong prefix", "trusted comment: x\n@\n"},
	    {"prefix without space", "untrusted comment:x\n@\n"},
	    {"capitalised prefix", "Untrusted comment: x\n@\n"},
	    {"leading blank line", "\nuntrusted comment: x\n@\n"},
	    {"control char in comment", "untrusted comment: \x1b[2Jx\n@\n"},
	    {"lone CR in comment", "untrusted comment: a\rb\n@\n"},
	    {"empty base64 line", "untrusted comment: x\n\n"},
	    {"extra empty line", "untrusted comment: x\n@\n\n"},
	    {"extra line", "untrusted comment: x\n@\nuntrusted comment: y\n"},
	    {"extra bytes", "untrusted comment: x\n@\nX"},
	    {"blank line between", "untrusted comment: x\n\n@\n"},
	    {"leading space", "untrusted comment: x\n @\n"},
	    {"trailing space", "untrusted comment: x\n@ \n"},
	    {"trailing tab", "untrusted comment: x\n@\t\n"},
	    {"CR without LF at end", "untrusted comment: x\n@\r"},
	    {"two CRs", "untrusted comment: x\n@\r\r\n"},
	    {"missing padding",
		"untrusted comment: "
		"x\nc3RwawlJOopO6Rpls7DT7METYojXeg8bXF11oRbBEueKq5NafD9vaQxVPZ9MdClFkADmyZFbN6Es7IM"
		"l9vV4OR8xy6g\n"},
	    {"non-canonical last char",
		"untrusted comment: "
		"x\nc3RwawlJOopO6Rpls7DT7METYojXeg8bXF11oRbBEueKq5NafD9vaQxVPZ9MdClFkADmyZFbN6Es7IM"
		"l9vV4OR8xy6h=\n"},
	    {"url-safe alphabet (bob)",
		"untrusted comment: "
		"x\nc3Rwa81x7Be3g-5Ta_MvGlmhhZFPoj6jlXvcpDqcBvavPiEd3fd_"
		"y95aYEtVyPl9ubDp4BuoH6BS8PBqNs6LO_DR2nc=\n"},
	    {"bad char",
		"untrusted comment: "
		"x\nc3Rwaw*"
		"JOopO6Rpls7DT7METYojXeg8bXF11oRbBEueKq5NafD9vaQxVPZ9MdClFkADmyZFbN6Es7IMl9vV4OR8xy"
		"6g=\n"},
	    {"67 bytes",
		"untrusted comment: "
		"x\nc3RwawlJOopO6Rpls7DT7METYojXeg8bXF11oRbBEueKq5NafD9vaQxVPZ9MdClFkADmyZFbN6Es7IM"
		"l9vV4OR8xyw==\n"},
	    {"69 bytes",
		"untrusted comment: "
		"x\nc3RwawlJOopO6Rpls7DT7METYojXeg8bXF11oRbBEueKq5NafD9vaQxVPZ9MdClFkADmyZFbN6Es7IM"
		"l9vV4OR8xy6gA\n"},
	    {"wrong tag stpx",
		"untrusted comment: "
		"x\nc3RweAlJOopO6Rpls7DT7METYojXeg8bXF11oRbBEueKq5NafD9vaQxVPZ9MdClFkADmyZFbN6Es7IM"
		"l9vV4OR8xy6g=\n"},
	    {"base64 split over two lines",
		"untrusted comment: "
		"x\nc3RwawlJOopO6Rpls7DT7METYojXeg8bXF11oRbBEueKq5Na\nfD9vaQxVPZ9MdClFkADmyZFbN6Es7"
		"IMl9vV4OR8xy6g=\n"},
	    {"too short", "untrusted comment: x\nc3Rw\n"},
	};
	char text[2048], tmp[2048], comment[1100];
	struct keyfile_public pk;
	size_t i;
	int len;

	(void)state;
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		len = expand(bad[i].text, good_b64, text, sizeof text);
		if (keyfile_public_parse(text, (size_t)len, &pk) != ST_ERR_KEY_FORMAT)
			fail_msg("accepted or wrong status: %s", bad[i].why);
	}

	/* An embedded NUL, anywhere, is refused (the length is what counts). */
	len = snprintf(text, sizeof text, "%s\n%s\n", c, good_b64);
	assert_int_equal(keyfile_public_parse(text, (size_t)len, &pk), ST_OK);
	for (i = 0; i < (size_t)len; i++) {
		memcpy(tmp, text, (size_t)len);
		tmp[i] = '\0';
		assert_int_equal(keyfile_public_parse(tmp, (size_t)len, &pk), ST_ERR_KEY_FORMAT);
	}
	/* One byte short of the final newline is fine; any shorter is not. */
	assert_int_equal(keyfile_public_parse(text, (size_t)len - 1, &pk), ST_OK);
	for (i = 0; i < (size_t)len - 1; i++)
		assert_int_equal(keyfile_public_parse(text, i, &pk), ST_ERR_KEY_FORMAT);

	/* Line endings: "\r\n" after either line, or both, is accepted. */
	len = snprintf(text, sizeof text, "%s\r\n%s\r\n", c, good_b64);
	assert_int_equal(keyfile_public_parse(text, (size_t)len, &pk), ST_OK);
	len = snprintf(text, sizeof text, "%s\n%s\r\n", c, good_b64);
	assert_int_equal(keyfile_public_parse(text, (size_t)len, &pk), ST_OK);
	len = snprintf(text, sizeof text, "%s\r\n%s", c, good_b64);
	assert_int_equal(keyfile_public_parse(text, (size_t)len, &pk), ST_OK);

	/* The comment is untrusted: another key id in it changes nothing. */
	len = snprintf(text, sizeof text,
	    "untrusted comment: sealtip public key 0000000000000000\n%s\n", good_b64);
	assert_int_equal(keyfile_public_parse(text, (size_t)len, &pk), ST_OK);
	assert_memory_equal(pk.key_id, "\x87\x4f\xc3\xc2\xab\x6e\x81\x0c", 8);
	len = snprintf(text, sizeof text, "untrusted comment: \n%s\n", good_b64);
	assert_int_equal(keyfile_public_parse(text, (size_t)len, &pk), ST_OK);

	/* The comment line may be 1024 bytes long, not 1025. */
	memset(comment, 'a', sizeof comment);
	memcpy(comment, "untrusted comment: ", 19);
	comment[1024] = '\0';
	len = snprintf(text, sizeof text, "%s\n%s\n", comment, good_b64);
	assert_int_equal(keyfile_public_parse(text, (size_t)len, &pk), ST_OK);
	len = snprintf(text, sizeof text, "%s\r\n%s\n", comment, good_b64);
	assert_int_equal(keyfile_public_parse(text, (size_t)len, &pk), ST_OK);
	comment[1024] = 'a';
	comment[1025] = '\0';
	len = snprintf(text, sizeof text, "%s\n%s\n", comment, good_b64);
	assert_int_equal(keyfile_public_parse(text, (size_t)len, &pk), ST_ERR_KEY_FORMAT);

	assert_int_equal(keyfile_public_parse(NULL, 0, &pk), ST_ERR_ARGUMENT);
	assert_int_equal(keyfile_public_parse(text, (size_t)len, NULL), ST_ERR_ARGUMENT);
}

/* A secret key where a public one is expected, and the reverse. */
static void
test_key_kind(void **state)
{
	struct fixture *f = *state;
	struct keyfile_secret *sk = NULL;
	struct keyfile_public pk;
	unsigned char blob[512];
	char text[KEYFILE_TEXT_MAX];
	size_t len, n;
	char *pub;

	assert_int_equal(keyfile_public_parse(f->plain, f->plain_len, &pk), ST_ERR_KEY_KIND);
	assert_int_equal(
	    keyfile_public_parse(f->interactive, f->interactive_len, &pk), ST_ERR_KEY_KIND);

	pub = read_text(VECTORS "alice.pub", &len);
	assert_int_equal(keyfile_secret_parse(pub, len, PASS, &sk), ST_ERR_KEY_KIND);
	assert_null(sk);
	assert_int_equal(keyfile_secret_parse(pub, len, NULL, 0, &sk), ST_ERR_KEY_KIND);
	assert_int_equal(keyfile_secret_is_protected(pub, len), ST_ERR_KEY_KIND);
	free(pub);

	/* The tag decides, whatever the comment says or the length is. */
	n = decode_blob(f->plain, f->plain_len, blob, sizeof blob);
	len = encode_text(
	    "untrusted comment: sealtip public key 874fc3c2ab6e810c", blob, n, text, sizeof text);
	assert_int_equal(keyfile_public_parse(text, len, &pk), ST_ERR_KEY_KIND);
	memcpy(blob, "stpk", 4);
	assert_int_equal(secret_parse_blob(blob, n, NULL, 0), ST_ERR_KEY_KIND);
	assert_int_equal(secret_parse_blob(blob, 68, NULL, 0), ST_ERR_KEY_KIND);
}

/* A box key of small order: well formed, but anything sealed to it can be
 * read by anyone. Refused at parse, naming the reason. */
static void
test_public_small_order(void **state)
{
	/* u = 0, u = 1, and a point of order 8 (libsodium's blocklist). */
	static const char *const small[] = {
	    "0000000000000000000000000000000000000000000000000000000000000000",
	    "0100000000000000000000000000000000000000000000000000000000000000",
	    "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
	};
	struct keyfile_public pk, got;
	char text[KEYFILE_TEXT_MAX];
	size_t i;

	(void)state;
	memset(&pk, 0, sizeof pk);
	randombytes_buf(pk.sign_pk, sizeof pk.sign_pk);
	for (i = 0; i < sizeof small / sizeof small[0]; i++) {
		hex_to_bin(small[i], pk.box_pk, sizeof pk.box_pk);
		assert_int_equal(keyfile_public_format(&pk, text, sizeof text, NULL), ST_OK);
		assert_int_equal(keyfile_public_parse(text, strlen(text), &got), ST_ERR_KEY_WEAK);
	}
	crypto_box_keypair(pk.box_pk, (unsigned char[crypto_box_SECRETKEYBYTES]){0});
	assert_int_equal(keyfile_public_format(&pk, text, sizeof text, NULL), ST_OK);
	assert_int_equal(keyfile_public_parse(text, strlen(text), &got), ST_OK);
}

/* Text-level and header damage to a secret key file. */
static void
test_secret_malformed(void **state)
{
	struct fixture *f = *state;
	struct keyfile_secret *sk = NULL;
	unsigned char blob[512], big[512];
	char text[2048];
	size_t n, i, len;

	/* Every truncation, and a missing final newline is fine. */
	assert_int_equal(keyfile_secret_parse(f->plain, f->plain_len - 1, NULL, 0, &sk), ST_OK);
	keyfile_secret_free(sk);
	sk = NULL;
	for (i = 0; i < f->plain_len - 1; i++) {
		assert_int_equal(
		    keyfile_secret_parse(f->plain, i, NULL, 0, &sk), ST_ERR_KEY_FORMAT);
		assert_int_equal(keyfile_secret_is_protected(f->plain, i), ST_ERR_KEY_FORMAT);
	}
	/* Extra line, extra byte, doubled newline. */
	len = (size_t)snprintf(text, sizeof text, "%sx", f->plain);
	assert_int_equal(keyfile_secret_parse(text, len, NULL, 0, &sk), ST_ERR_KEY_FORMAT);
	len = (size_t)snprintf(text, sizeof text, "%s\n", f->plain);
	assert_int_equal(keyfile_secret_parse(text, len, NULL, 0, &sk), ST_ERR_KEY_FORMAT);
	len = (size_t)snprintf(text, sizeof text, "%s%s", f->plain, f->plain);
	assert_int_equal(keyfile_secret_parse(text, len, NULL, 0, &sk), ST_ERR_KEY_FORMAT);
	/* Bad base64: a character the alphabet lacks, in the middle. */
	memcpy(text, f->plain, f->plain_len);
	text[f->plain_len - 40] = '.';
	assert_int_equal(keyfile_secret_parse(text, f->plain_len, NULL, 0, &sk), ST_ERR_KEY_FORMAT);
	assert_null(sk);

	n = decode_blob(f->plain, f->plain_len, blob, sizeof blob);
	/* One byte short or long. */
	assert_int_equal(secret_parse_blob(blob, n - 1, NULL, 0), ST_ERR_KEY_FORMAT);
	memcpy(big, blob, n);
	big[n] = 0;
	assert_int_equal(secret_parse_blob(big, n + 1, NULL, 0), ST_ERR_KEY_FORMAT);
	/* Tag alone, or shorter. */
	assert_int_equal(secret_parse_blob(blob, 4, NULL, 0), ST_ERR_KEY_FORMAT);
	assert_int_equal(secret_parse_blob(blob, 3, NULL, 0), ST_ERR_KEY_FORMAT);
	/* A later version is named as such, whatever its length. */
	big[SK_VERSION] = 2;
	assert_int_equal(secret_parse_blob(big, n + 1, NULL, 0), ST_ERR_VERSION);
	assert_int_equal(secret_parse_blob(big, 5, NULL, 0), ST_ERR_VERSION);
	big[SK_VERSION] = 0;
	assert_int_equal(secret_parse_blob(big, n, NULL, 0), ST_ERR_VERSION);
	/* Unknown kdf. */
	blob[SK_KDF] = 2;
	assert_int_equal(secret_parse_blob(blob, n, NULL, 0), ST_ERR_KEY_FORMAT);
	blob[SK_KDF] = 0;
	/* kdf 0 with a salt left in. */
	blob[SK_SALT + 15] = 1;
	assert_int_equal(secret_parse_blob(blob, n, NULL, 0), ST_ERR_KEY_FORMAT);
	blob[SK_SALT + 15] = 0;
	assert_int_equal(secret_parse_blob(blob, n, NULL, 0), ST_OK);
	/* A protected file claims "UNPROTECTED" in its comment: the kdf byte decides. */
	n = decode_blob(f->fast, f->fast_len, blob, sizeof blob);
	len = encode_text(
	    "untrusted comment: sealtip secret key 0 (UNPROTECTED)", blob, n, text, sizeof text);
	assert_int_equal(keyfile_secret_is_protected(text, len), 1);
	assert_int_equal(keyfile_secret_parse(text, len, NULL, 0, &sk), ST_ERR_ARGUMENT);
	assert_int_equal(keyfile_secret_parse(text, len, PASS, &sk), ST_OK);
	keyfile_secret_free(sk);
}

static void
test_format_sizes(void **state)
{
	struct fixture *f = *state;
	char out[KEYFILE_TEXT_MAX];
	size_t len = 12345, need;

	/* Public: exactly enough room, then one byte less. */
	assert_int_equal(keyfile_public_format(&f->sk->pub, out, sizeof out, &len), ST_OK);
	need = len + 1;
	assert_int_equal(keyfile_public_format(&f->sk->pub, out, need, &len), ST_OK);
	assert_int_equal(keyfile_public_format(&f->sk->pub, out, need - 1, &len), ST_ERR_TOO_LARGE);
	assert_int_equal(keyfile_public_format(NULL, out, sizeof out, &len), ST_ERR_ARGUMENT);

	/* Secret (unprotected keeps it fast). */
	need = f->plain_len + 1;
	assert_int_equal(keyfile_secret_format(f->sk, NULL, 0, NULL, out, need, &len), ST_OK);
	assert_int_equal(len, f->plain_len);
	assert_int_equal(
	    keyfile_secret_format(f->sk, NULL, 0, NULL, out, need - 1, &len), ST_ERR_TOO_LARGE);
	/* A protected file needs a passphrase. */
	assert_int_equal(keyfile_secret_format(f->sk, NULL, 0, &kdf_min, out, sizeof out, &len),
	    ST_ERR_ARGUMENT);
	assert_int_equal(
	    keyfile_secret_format(f->sk, "", 0, &kdf_min, out, sizeof out, &len), ST_ERR_ARGUMENT);
	assert_int_equal(
	    keyfile_secret_format(NULL, NULL, 0, NULL, out, sizeof out, &len), ST_ERR_ARGUMENT);

	/* Each format draws a fresh nonce (and salt): two files differ. */
	assert_int_equal(keyfile_secret_format(f->sk, NULL, 0, NULL, out, sizeof out, &len), ST_OK);
	assert_int_equal(len, f->plain_len);
	assert_memory_not_equal(out, f->plain, len);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_vectors_public),
	    cmocka_unit_test(test_vectors_fingerprint),
	    cmocka_unit_test(test_secret_from_box_sk),
	    cmocka_unit_test(test_generate_public_roundtrip),
	    cmocka_unit_test(test_secret_protected_roundtrip),
	    cmocka_unit_test(test_secret_wrong_passphrase),
	    cmocka_unit_test(test_secret_unprotected_roundtrip),
	    cmocka_unit_test(test_secret_corruption_unprotected),
	    cmocka_unit_test(test_secret_corruption_protected),
	    cmocka_unit_test(test_kdf_limits),
	    cmocka_unit_test(test_secret_mismatched_public),
	    cmocka_unit_test(test_public_malformed),
	    cmocka_unit_test(test_public_small_order),
	    cmocka_unit_test(test_key_kind),
	    cmocka_unit_test(test_secret_malformed),
	    cmocka_unit_test(test_format_sizes),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
