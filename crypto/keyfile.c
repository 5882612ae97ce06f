/* Investigator key files. The public format is the design's; the secret
 * format is this project's and is described in docs/keyfile.md. Both are
 * parsed the way signify parses its files: comment line, one base64 line of
 * an exact decoded length, algorithm tag, and only then the contents. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "keyfile.h"
#include "status.h"

#define KEYFILE_COMMENT_PREFIX "untrusted comment: "
#define KEYFILE_COMMENT_MAX 1024

#define KEYFILE_PUBLIC_TAG "stpk"
#define KEYFILE_SECRET_TAG "stsk"
#define KEYFILE_TAG_BYTES 4

#define KEYFILE_SECRET_VERSION 1
#define KEYFILE_KDF_NONE 0
#define KEYFILE_KDF_ARGON2ID13 1

/* Offsets into the decoded secret key blob (docs/keyfile.md). */
#define SK_OFF_VERSION 4
#define SK_OFF_KDF 5
#define SK_OFF_OPSLIMIT 6
#define SK_OFF_MEMLIMIT 14
#define SK_OFF_SALT 22
#define SK_OFF_NONCE (SK_OFF_SALT + crypto_pwhash_argon2id_SALTBYTES)
#define SK_OFF_BOX_PK (SK_OFF_NONCE + crypto_secretbox_NONCEBYTES)
#define SK_OFF_SIGN_PK (SK_OFF_BOX_PK + KEYFILE_BOX_PK_BYTES)
#define SK_OFF_BOXED (SK_OFF_SIGN_PK + KEYFILE_SIGN_PK_BYTES)
/* box_sk || Ed25519 seed, the only part that is encrypted. */
#define SK_PLAIN_BYTES (KEYFILE_BOX_SK_BYTES + crypto_sign_SEEDBYTES)
#define SK_BOXED_BYTES (crypto_secretbox_MACBYTES + SK_PLAIN_BYTES)
#define SK_BLOB_BYTES (SK_OFF_BOXED + SK_BOXED_BYTES)

/* Room for any blob we might be shown, so that a secret key given as a public
 * one (or a longer future version) is named for what it is instead of failing
 * the base64 decoder with "too long". */
#define KEYFILE_DECODE_MAX 512

/* Argon2id bounds a file may ask for. The floor is libsodium's; the ceilings
 * stop a crafted file from making us spend hours or allocate terabytes before
 * the MAC can say it is garbage. 4 x SENSITIVE passes and 1 GiB (= SENSITIVE
 * memory) leave room for anyone who raised the cost on purpose. */
#define KEYFILE_OPSLIMIT_MIN ((unsigned long long)crypto_pwhash_argon2id_OPSLIMIT_MIN)
#define KEYFILE_MEMLIMIT_MIN ((unsigned long long)crypto_pwhash_argon2id_MEMLIMIT_MIN)
#ifdef KEYFILE_FUZZING
/* Fuzz builds only (tests/fuzz/fuzz.mk): one input must not cost seconds. */
#define KEYFILE_OPSLIMIT_MAX 3ULL
#define KEYFILE_MEMLIMIT_MAX (64ULL * 1024)
#else
#define KEYFILE_OPSLIMIT_MAX (4ULL * crypto_pwhash_argon2id_OPSLIMIT_SENSITIVE)
#define KEYFILE_MEMLIMIT_MAX (1ULL << 30)
#endif

/* The Ed25519 seed of keyfile_secret_from_box_sk; no NUL in the hash input. */
#define KEYFILE_SIGN_SEED_CONTEXT "sealtip sign seed"
#define KEYFILE_SIGN_SEED_CONTEXT_BYTES (sizeof KEYFILE_SIGN_SEED_CONTEXT - 1)

const struct keyfile_kdf_limits keyfile_kdf_interactive = {
    crypto_pwhash_argon2id_OPSLIMIT_INTERACTIVE, crypto_pwhash_argon2id_MEMLIMIT_INTERACTIVE};
const struct keyfile_kdf_limits keyfile_kdf_moderate = {
    crypto_pwhash_argon2id_OPSLIMIT_MODERATE, crypto_pwhash_argon2id_MEMLIMIT_MODERATE};
const struct keyfile_kdf_limits keyfile_kdf_sensitive = {
    crypto_pwhash_argon2id_OPSLIMIT_SENSITIVE, crypto_pwhash_argon2id_MEMLIMIT_SENSITIVE};

/* Temporaries of the secret key paths, kept together in one sodium_malloc
 * region so that a single wipe covers them all. Only byte arrays: sodium_malloc
 * gives no alignment guarantee. */
struct keyfile_work {
	unsigned char blob[KEYFILE_DECODE_MAX];
	unsigned char key[crypto_secretbox_KEYBYTES];
	unsigned char plain[SK_PLAIN_BYTES];
	unsigned char box_pk[KEYFILE_BOX_PK_BYTES];
	unsigned char sign_pk[KEYFILE_SIGN_PK_BYTES];
	unsigned char sign_sk[KEYFILE_SIGN_SK_BYTES];
	unsigned char seed_input[KEYFILE_SIGN_SEED_CONTEXT_BYTES + KEYFILE_BOX_SK_BYTES];
	unsigned char seed[crypto_sign_SEEDBYTES];
};

_Static_assert(SK_BLOB_BYTES == 206, "secret key blob layout of docs/keyfile.md");
_Static_assert(KEYFILE_DECODE_MAX >= SK_BLOB_BYTES, "decode buffer holds a secret key blob");

static struct keyfile_work *
keyfile_work_new(void)
{
	struct keyfile_work *w;

	if ((w = sodium_malloc(sizeof *w)) != NULL)
		sodium_memzero(w, sizeof *w);
	return w;
}

static void
keyfile_work_free(struct keyfile_work *w)
{
	if (w == NULL)
		return;
	sodium_memzero(w, sizeof *w);
	sodium_free(w);
}

static void
store64_le(unsigned char *p, uint64_t v)
{
	int i;

	for (i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t
load64_le(const unsigned char *p)
{
	uint64_t v = 0;
	int i;

	for (i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

/* Argon2 counts memory in KiB and drops the rest, so memlimit must be a
 * whole number of KiB: otherwise 8192 and 8193 would be two files that open
 * with the same key, and a flipped bit would go unnoticed. */
static int
keyfile_limits_ok(uint64_t opslimit, uint64_t memlimit)
{
	return opslimit >= KEYFILE_OPSLIMIT_MIN && opslimit <= KEYFILE_OPSLIMIT_MAX &&
	    memlimit >= KEYFILE_MEMLIMIT_MIN && memlimit <= KEYFILE_MEMLIMIT_MAX &&
	    memlimit % 1024 == 0;
}

void
keyfile_key_id(
    const unsigned char box_pk[KEYFILE_BOX_PK_BYTES], unsigned char key_id[KEYFILE_KEY_ID_BYTES])
{
	unsigned char h[32];

	crypto_generichash(h, sizeof h, box_pk, KEYFILE_BOX_PK_BYTES, NULL, 0);
	memcpy(key_id, h, KEYFILE_KEY_ID_BYTES);
}

void
keyfile_key_id_hex(
    const unsigned char key_id[KEYFILE_KEY_ID_BYTES], char out[KEYFILE_KEY_ID_HEX_SIZE])
{
	sodium_bin2hex(out, KEYFILE_KEY_ID_HEX_SIZE, key_id, KEYFILE_KEY_ID_BYTES);
}

static void
keyfile_public_blob(const struct keyfile_public *pk, unsigned char blob[KEYFILE_PUBLIC_BLOB_BYTES])
{
	memcpy(blob, KEYFILE_PUBLIC_TAG, KEYFILE_TAG_BYTES);
	memcpy(blob + KEYFILE_TAG_BYTES, pk->box_pk, KEYFILE_BOX_PK_BYTES);
	memcpy(blob + KEYFILE_TAG_BYTES + KEYFILE_BOX_PK_BYTES, pk->sign_pk, KEYFILE_SIGN_PK_BYTES);
}

void
keyfile_fingerprint(const struct keyfile_public *pk, char out[KEYFILE_FINGERPRINT_SIZE])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char blob[KEYFILE_PUBLIC_BLOB_BYTES], h[32];
	size_t i, o = 0;

	keyfile_public_blob(pk, blob);
	crypto_generichash(h, sizeof h, blob, sizeof blob, NULL, 0);
	/* 20 bytes = 40 hex digits = 10 groups of 4. */
	for (i = 0; i < 20; i++) {
		if (i > 0 && i % 2 == 0)
			out[o++] = ' ';
		out[o++] = hex[h[i] >> 4];
		out[o++] = hex[h[i] & 0x0f];
	}
	out[o] = '\0';
}

static struct keyfile_secret *
keyfile_secret_alloc(void)
{
	struct keyfile_secret *sk;

	if ((sk = sodium_malloc(sizeof *sk)) != NULL)
		sodium_memzero(sk, sizeof *sk);
	return sk;
}

int
keyfile_secret_generate(struct keyfile_secret **out)
{
	struct keyfile_secret *sk;
	int rc;

	if (out == NULL)
		return ST_ERR_ARGUMENT;
	*out = NULL;
	if ((sk = keyfile_secret_alloc()) == NULL)
		return ST_ERR_NOMEM;
	/* Independent random keys: nothing links the signing key to the box key. */
	if (crypto_box_keypair(sk->pub.box_pk, sk->box_sk) != 0 ||
	    crypto_sign_keypair(sk->pub.sign_pk, sk->sign_sk) != 0) {
		rc = ST_ERR_CRYPTO;
		goto out;
	}
	keyfile_key_id(sk->pub.box_pk, sk->pub.key_id);
	*out = sk;
	sk = NULL;
	rc = ST_OK;
out:
	keyfile_secret_free(sk);
	return rc;
}

int
keyfile_secret_from_box_sk(
    const unsigned char box_sk[KEYFILE_BOX_SK_BYTES], struct keyfile_secret **out)
{
	struct keyfile_secret *sk = NULL;
	struct keyfile_work *w = NULL;
	int rc;

	if (box_sk == NULL || out == NULL)
		return ST_ERR_ARGUMENT;
	*out = NULL;
	if ((sk = keyfile_secret_alloc()) == NULL || (w = keyfile_work_new()) == NULL) {
		rc = ST_ERR_NOMEM;
		goto out;
	}
	memcpy(sk->box_sk, box_sk, KEYFILE_BOX_SK_BYTES);
	memcpy(w->seed_input, KEYFILE_SIGN_SEED_CONTEXT, KEYFILE_SIGN_SEED_CONTEXT_BYTES);
	memcpy(w->seed_input + KEYFILE_SIGN_SEED_CONTEXT_BYTES, box_sk, KEYFILE_BOX_SK_BYTES);
	crypto_generichash(w->seed, sizeof w->seed, w->seed_input, sizeof w->seed_input, NULL, 0);
	if (crypto_scalarmult_base(sk->pub.box_pk, sk->box_sk) != 0 ||
	    crypto_sign_seed_keypair(sk->pub.sign_pk, sk->sign_sk, w->seed) != 0) {
		rc = ST_ERR_CRYPTO;
		goto out;
	}
	keyfile_key_id(sk->pub.box_pk, sk->pub.key_id);
	*out = sk;
	sk = NULL;
	rc = ST_OK;
out:
	keyfile_work_free(w);
	keyfile_secret_free(sk);
	return rc;
}

void
keyfile_secret_free(struct keyfile_secret *sk)
{
	if (sk == NULL)
		return;
	sodium_memzero(sk, sizeof *sk);
	sodium_free(sk);
}

/*
 * Text layout shared by both files: a comment line that must start with
 * "untrusted comment: " (at most 1024 bytes, no control characters), then one
 * base64 line, then nothing. Either line may end in "\n" or "\r\n"; the last
 * newline is optional. The comment is never trusted for anything.
 */
static int
keyfile_split(const char *text, size_t len, const char **b64, size_t *b64_len)
{
	const char *nl, *line, *end = text + len;
	size_t n, i;

	if ((nl = memchr(text, '\n', len)) == NULL)
		return ST_ERR_KEY_FORMAT;
	n = (size_t)(nl - text);
	if (n > 0 && text[n - 1] == '\r')
		n--;
	if (n < sizeof KEYFILE_COMMENT_PREFIX - 1 || n > KEYFILE_COMMENT_MAX ||
	    memcmp(text, KEYFILE_COMMENT_PREFIX, sizeof KEYFILE_COMMENT_PREFIX - 1) != 0)
		return ST_ERR_KEY_FORMAT;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)text[i];

		if (c < 0x20 || c == 0x7f)
			return ST_ERR_KEY_FORMAT;
	}

	line = nl + 1;
	if ((nl = memchr(line, '\n', (size_t)(end - line))) != NULL) {
		/* The newline after the base64 line must be the last byte. */
		if (nl + 1 != end)
			return ST_ERR_KEY_FORMAT;
		n = (size_t)(nl - line);
		if (n > 0 && line[n - 1] == '\r')
			n--;
	} else
		n = (size_t)(end - line);
	if (n == 0)
		return ST_ERR_KEY_FORMAT;
	*b64 = line;
	*b64_len = n;
	return ST_OK;
}

/* Decodes the base64 line into blob; every character must be consumed, so a
 * stray space, '\r' or junk after the padding is refused. libsodium also
 * refuses missing padding and non-zero unused bits, so the encoding is
 * canonical: one key, one text. */
static int
keyfile_decode(
    const char *text, size_t len, unsigned char blob[KEYFILE_DECODE_MAX], size_t *blob_len)
{
	const char *b64, *b64_end;
	size_t b64_len;
	int rc;

	if (text == NULL)
		return ST_ERR_ARGUMENT;
	if ((rc = keyfile_split(text, len, &b64, &b64_len)) != ST_OK)
		return rc;
	if (sodium_base642bin(blob, KEYFILE_DECODE_MAX, b64, b64_len, NULL, blob_len, &b64_end,
		sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    b64_end != b64 + b64_len)
		return ST_ERR_KEY_FORMAT;
	if (*blob_len < KEYFILE_TAG_BYTES)
		return ST_ERR_KEY_FORMAT;
	return ST_OK;
}

/* Writes comment + "\n" + base64(blob) + "\n" + NUL into out. */
static int
keyfile_write_text(const char *comment, const unsigned char *blob, size_t blob_len, char *out,
    size_t out_size, size_t *out_len)
{
	size_t clen = strlen(comment);
	size_t b64_size = sodium_base64_ENCODED_LEN(blob_len, sodium_base64_VARIANT_ORIGINAL);

	/* b64_size counts the NUL; the text needs comment, '\n', base64, '\n', NUL. */
	if (out_size < clen + 1 + b64_size + 1)
		return ST_ERR_TOO_LARGE;
	memcpy(out, comment, clen);
	out[clen] = '\n';
	sodium_bin2base64(out + clen + 1, b64_size, blob, blob_len, sodium_base64_VARIANT_ORIGINAL);
	out[clen + b64_size] = '\n';
	out[clen + b64_size + 1] = '\0';
	if (out_len != NULL)
		*out_len = clen + b64_size + 1;
	return ST_OK;
}

int
keyfile_public_format(const struct keyfile_public *pk, char *out, size_t out_size, size_t *out_len)
{
	unsigned char blob[KEYFILE_PUBLIC_BLOB_BYTES], key_id[KEYFILE_KEY_ID_BYTES];
	char comment[64], id_hex[KEYFILE_KEY_ID_HEX_SIZE];

	if (pk == NULL || out == NULL)
		return ST_ERR_ARGUMENT;
	/* Recomputed: the comment must name the key actually written. */
	keyfile_key_id(pk->box_pk, key_id);
	keyfile_key_id_hex(key_id, id_hex);
	snprintf(comment, sizeof comment, KEYFILE_COMMENT_PREFIX "sealtip public key %s", id_hex);
	keyfile_public_blob(pk, blob);
	return keyfile_write_text(comment, blob, sizeof blob, out, out_size, out_len);
}

/* 0 for a point of small order (all zeros, among others): crypto_box_seal
 * refuses it, and would say nothing of which key. Any clamped scalar is a
 * multiple of 8, so it sends such a point, and only such, to zero, which
 * crypto_scalarmult refuses. */
static int
keyfile_box_pk_usable(const unsigned char box_pk[KEYFILE_BOX_PK_BYTES])
{
	static const unsigned char scalar[crypto_scalarmult_SCALARBYTES] = {1};
	unsigned char q[crypto_scalarmult_BYTES];
	int usable = crypto_scalarmult(q, scalar, box_pk) == 0;

	sodium_memzero(q, sizeof q);
	return usable;
}

int
keyfile_public_parse(const char *text, size_t len, struct keyfile_public *pk)
{
	unsigned char blob[KEYFILE_DECODE_MAX];
	size_t blob_len;
	int rc;

	if (pk == NULL)
		return ST_ERR_ARGUMENT;
	if ((rc = keyfile_decode(text, len, blob, &blob_len)) != ST_OK)
		goto out;
	if (memcmp(blob, KEYFILE_SECRET_TAG, KEYFILE_TAG_BYTES) == 0) {
		rc = ST_ERR_KEY_KIND;
		goto out;
	}
	if (blob_len != KEYFILE_PUBLIC_BLOB_BYTES ||
	    memcmp(blob, KEYFILE_PUBLIC_TAG, KEYFILE_TAG_BYTES) != 0) {
		rc = ST_ERR_KEY_FORMAT;
		goto out;
	}
	memcpy(pk->box_pk, blob + KEYFILE_TAG_BYTES, KEYFILE_BOX_PK_BYTES);
	memcpy(pk->sign_pk, blob + KEYFILE_TAG_BYTES + KEYFILE_BOX_PK_BYTES, KEYFILE_SIGN_PK_BYTES);
	if (!keyfile_box_pk_usable(pk->box_pk)) {
		rc = ST_ERR_KEY_WEAK;
		goto out;
	}
	/* The key id in the comment is untrusted: it is always recomputed. */
	keyfile_key_id(pk->box_pk, pk->key_id);
	rc = ST_OK;
out:
	/* A secret key passed here by mistake must not linger on the stack. */
	sodium_memzero(blob, sizeof blob);
	return rc;
}

/*
 * Checks everything about a secret key blob that can be checked without the
 * passphrase, in the order: tag, version, exact length, KDF and its limits.
 * Called before any Argon2id work, so a hostile file costs nothing.
 */
static int
keyfile_secret_check(const unsigned char *blob, size_t blob_len, int *protected)
{
	uint64_t opslimit, memlimit;
	size_t i;

	if (memcmp(blob, KEYFILE_PUBLIC_TAG, KEYFILE_TAG_BYTES) == 0)
		return ST_ERR_KEY_KIND;
	if (memcmp(blob, KEYFILE_SECRET_TAG, KEYFILE_TAG_BYTES) != 0 || blob_len <= SK_OFF_VERSION)
		return ST_ERR_KEY_FORMAT;
	/* Before the length: another version may well have another length. */
	if (blob[SK_OFF_VERSION] != KEYFILE_SECRET_VERSION)
		return ST_ERR_VERSION;
	if (blob_len != SK_BLOB_BYTES)
		return ST_ERR_KEY_FORMAT;
	opslimit = load64_le(blob + SK_OFF_OPSLIMIT);
	memlimit = load64_le(blob + SK_OFF_MEMLIMIT);
	switch (blob[SK_OFF_KDF]) {
	case KEYFILE_KDF_NONE:
		/* One canonical form: no limits, no salt. */
		if (opslimit != 0 || memlimit != 0)
			return ST_ERR_KEY_FORMAT;
		for (i = 0; i < crypto_pwhash_argon2id_SALTBYTES; i++)
			if (blob[SK_OFF_SALT + i] != 0)
				return ST_ERR_KEY_FORMAT;
		*protected = 0;
		return ST_OK;
	case KEYFILE_KDF_ARGON2ID13:
		if (!keyfile_limits_ok(opslimit, memlimit))
			return ST_ERR_KDF_LIMITS;
		*protected = 1;
		return ST_OK;
	default:
		return ST_ERR_KEY_FORMAT;
	}
}

/* The secretbox key: Argon2id of the passphrase, or 32 zero bytes for an
 * unprotected file, so that the MAC still catches any corruption. */
static int
keyfile_derive(unsigned char key[crypto_secretbox_KEYBYTES], const unsigned char *blob,
    const char *passphrase, size_t passphrase_len)
{
	if (blob[SK_OFF_KDF] == KEYFILE_KDF_NONE) {
		sodium_memzero(key, crypto_secretbox_KEYBYTES);
		return ST_OK;
	}
	if (crypto_pwhash(key, crypto_secretbox_KEYBYTES, passphrase, passphrase_len,
		blob + SK_OFF_SALT, load64_le(blob + SK_OFF_OPSLIMIT),
		(size_t)load64_le(blob + SK_OFF_MEMLIMIT), crypto_pwhash_ALG_ARGON2ID13) != 0)
		/* The limits were checked, so only the memory can be missing. */
		return ST_ERR_NOMEM;
	return ST_OK;
}

int
keyfile_secret_format(const struct keyfile_secret *sk, const char *passphrase,
    size_t passphrase_len, const struct keyfile_kdf_limits *limits, char *out, size_t out_size,
    size_t *out_len)
{
	struct keyfile_work *w = NULL;
	unsigned char *b, key_id[KEYFILE_KEY_ID_BYTES];
	char comment[96], id_hex[KEYFILE_KEY_ID_HEX_SIZE];
	int rc;

	if (sk == NULL || out == NULL)
		return ST_ERR_ARGUMENT;
	if (limits != NULL) {
		if (passphrase == NULL || passphrase_len == 0)
			return ST_ERR_ARGUMENT;
		/* Never write a file that keyfile_secret_parse would refuse. */
		if (!keyfile_limits_ok(limits->opslimit, limits->memlimit))
			return ST_ERR_KDF_LIMITS;
	}
	if ((w = keyfile_work_new()) == NULL)
		return ST_ERR_NOMEM;
	b = w->blob;
	memcpy(b, KEYFILE_SECRET_TAG, KEYFILE_TAG_BYTES);
	b[SK_OFF_VERSION] = KEYFILE_SECRET_VERSION;
	if (limits != NULL) {
		b[SK_OFF_KDF] = KEYFILE_KDF_ARGON2ID13;
		store64_le(b + SK_OFF_OPSLIMIT, limits->opslimit);
		store64_le(b + SK_OFF_MEMLIMIT, limits->memlimit);
		randombytes_buf(b + SK_OFF_SALT, crypto_pwhash_argon2id_SALTBYTES);
	}
	/* else kdf, limits and salt stay zero (keyfile_work_new cleared them). */
	randombytes_buf(b + SK_OFF_NONCE, crypto_secretbox_NONCEBYTES);
	memcpy(b + SK_OFF_BOX_PK, sk->pub.box_pk, KEYFILE_BOX_PK_BYTES);
	memcpy(b + SK_OFF_SIGN_PK, sk->pub.sign_pk, KEYFILE_SIGN_PK_BYTES);
	memcpy(w->plain, sk->box_sk, KEYFILE_BOX_SK_BYTES);
	crypto_sign_ed25519_sk_to_seed(w->plain + KEYFILE_BOX_SK_BYTES, sk->sign_sk);
	if ((rc = keyfile_derive(w->key, b, passphrase, passphrase_len)) != ST_OK)
		goto out;
	if (crypto_secretbox_easy(
		b + SK_OFF_BOXED, w->plain, SK_PLAIN_BYTES, b + SK_OFF_NONCE, w->key) != 0) {
		rc = ST_ERR_CRYPTO;
		goto out;
	}
	keyfile_key_id(sk->pub.box_pk, key_id);
	keyfile_key_id_hex(key_id, id_hex);
	snprintf(comment, sizeof comment, KEYFILE_COMMENT_PREFIX "sealtip secret key %s (%s)",
	    id_hex, limits != NULL ? "passphrase-protected" : "UNPROTECTED");
	rc = keyfile_write_text(comment, b, SK_BLOB_BYTES, out, out_size, out_len);
out:
	keyfile_work_free(w);
	return rc;
}

int
keyfile_secret_is_protected(const char *text, size_t len)
{
	struct keyfile_work *w;
	size_t blob_len;
	int rc, protected = 0;

	/* The blob of an unprotected key is the key: decode it into wiped memory. */
	if ((w = keyfile_work_new()) == NULL)
		return ST_ERR_NOMEM;
	if ((rc = keyfile_decode(text, len, w->blob, &blob_len)) == ST_OK)
		rc = keyfile_secret_check(w->blob, blob_len, &protected);
	keyfile_work_free(w);
	return rc == ST_OK ? protected : rc;
}

int
keyfile_secret_parse(const char *text, size_t len, const char *passphrase, size_t passphrase_len,
    struct keyfile_secret **out)
{
	struct keyfile_secret *sk = NULL;
	struct keyfile_work *w = NULL;
	const unsigned char *b;
	size_t blob_len;
	int rc, protected = 0;

	if (out == NULL)
		return ST_ERR_ARGUMENT;
	*out = NULL;
	if ((w = keyfile_work_new()) == NULL) {
		rc = ST_ERR_NOMEM;
		goto out;
	}
	b = w->blob;
	if ((rc = keyfile_decode(text, len, w->blob, &blob_len)) != ST_OK ||
	    (rc = keyfile_secret_check(b, blob_len, &protected)) != ST_OK)
		goto out;
	if (protected && (passphrase == NULL || passphrase_len == 0)) {
		rc = ST_ERR_ARGUMENT;
		goto out;
	}
	if ((rc = keyfile_derive(w->key, b, passphrase, passphrase_len)) != ST_OK)
		goto out;
	if (crypto_secretbox_open_easy(
		w->plain, b + SK_OFF_BOXED, SK_BOXED_BYTES, b + SK_OFF_NONCE, w->key) != 0) {
		rc = ST_ERR_PASSPHRASE;
		goto out;
	}
	/* The public halves are stored in the clear; they must be the ones the
	 * secret halves make, or the file was put together from two keys. */
	if (crypto_scalarmult_base(w->box_pk, w->plain) != 0 ||
	    crypto_sign_seed_keypair(w->sign_pk, w->sign_sk, w->plain + KEYFILE_BOX_SK_BYTES) !=
		0 ||
	    sodium_memcmp(w->box_pk, b + SK_OFF_BOX_PK, KEYFILE_BOX_PK_BYTES) != 0 ||
	    sodium_memcmp(w->sign_pk, b + SK_OFF_SIGN_PK, KEYFILE_SIGN_PK_BYTES) != 0) {
		rc = ST_ERR_KEY_FORMAT;
		goto out;
	}
	if ((sk = keyfile_secret_alloc()) == NULL) {
		rc = ST_ERR_NOMEM;
		goto out;
	}
	memcpy(sk->box_sk, w->plain, KEYFILE_BOX_SK_BYTES);
	memcpy(sk->pub.box_pk, w->box_pk, KEYFILE_BOX_PK_BYTES);
	memcpy(sk->pub.sign_pk, w->sign_pk, KEYFILE_SIGN_PK_BYTES);
	memcpy(sk->sign_sk, w->sign_sk, KEYFILE_SIGN_SK_BYTES);
	keyfile_key_id(sk->pub.box_pk, sk->pub.key_id);
	*out = sk;
	sk = NULL;
	rc = ST_OK;
out:
	keyfile_work_free(w);
	keyfile_secret_free(sk);
	return rc;
}
