/* Unit tests for crypto/envelope.c: round trips, the exact refusal of every
 * malformed envelope, the shared vectors of the independent implementation,
 * and the length arithmetic the server relies on. Run from the repo root. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "envelope.h"
#include "status.h"

#define VECTOR_DIR "tests/vectors/shared/"
#define CHUNK ENVELOPE_CHUNK_BYTES
#define SEALED ENVELOPE_SEALED_CHUNK_BYTES
#define OVERHEAD ENVELOPE_CHUNK_OVERHEAD
#define MIB (1024u * 1024u)
#define TEST_KEYS (ENVELOPE_MAX_RECIPIENTS + 1)
#define TAG_MESSAGE crypto_secretstream_xchacha20poly1305_TAG_MESSAGE
#define TAG_PUSH crypto_secretstream_xchacha20poly1305_TAG_PUSH
#define TAG_REKEY crypto_secretstream_xchacha20poly1305_TAG_REKEY
#define TAG_FINAL crypto_secretstream_xchacha20poly1305_TAG_FINAL

struct keypair {
	unsigned char pk[32];
	unsigned char sk[32];
};

/* Collects what a writer or reader hands out, and the size of each call. */
struct sink {
	unsigned char *data;
	size_t len;
	size_t cap;
	size_t *writes;
	size_t nwrites;
	size_t writes_cap;
	size_t fail_at; /* refuse this call (1-based); 0 never */
};

enum split { SPLIT_WHOLE, SPLIT_BYTES, SPLIT_RANDOM };

/* One piece of a hand-built stream. */
struct chunk_spec {
	size_t len;
	unsigned char tag;
	int ad; /* 1: the preamble as additional data */
};

/* keys[0 .. 15] are recipients, keys[16] is never one. Seeded, so a failure
 * reproduces. */
static struct keypair keys[TEST_KEYS];
static unsigned char pks[TEST_KEYS][32];
static const struct keypair *outsider = &keys[ENVELOPE_MAX_RECIPIENTS];
/* C17 does not add const to array elements implicitly. */
#define RECIPIENT_PKS ((const unsigned char(*)[32])pks)

static struct keypair alice, bob, carol;

static int
sink_write(void *ctx, const unsigned char *buf, size_t len)
{
	struct sink *s = ctx;

	if (s->fail_at != 0 && s->nwrites + 1 == s->fail_at)
		return -1;
	if (s->nwrites == s->writes_cap) {
		s->writes_cap = s->writes_cap ? 2 * s->writes_cap : 64;
		s->writes = realloc(s->writes, s->writes_cap * sizeof *s->writes);
		assert_non_null(s->writes);
	}
	s->writes[s->nwrites++] = len;
	if (len > s->cap - s->len) {
		while (len > s->cap - s->len)
			s->cap = s->cap ? 2 * s->cap : 4096;
		s->data = realloc(s->data, s->cap);
		assert_non_null(s->data);
	}
	memcpy(s->data + s->len, buf, len);
	s->len += len;
	return 0;
}

static void
sink_clear(struct sink *s)
{
	free(s->data);
	free(s->writes);
	memset(s, 0, sizeof *s);
}

static void
sink_append(struct sink *s, const unsigned char *buf, size_t len)
{
	assert_int_equal(sink_write(s, buf, len), 0);
}

/* xorshift64*: split sizes that are arbitrary yet the same on every run. */
static uint64_t
xorshift_next(uint64_t *state)
{
	*state ^= *state >> 12;
	*state ^= *state << 25;
	*state ^= *state >> 27;
	return *state * 0x2545F4914F6CDD1DULL;
}

static size_t
piece_length(enum split split, size_t left, uint64_t *random_state)
{
	uint64_t r;
	size_t n;

	switch (split) {
	case SPLIT_WHOLE:
		return left;
	case SPLIT_BYTES:
		return 1;
	case SPLIT_RANDOM:
		break;
	}
	/* Mostly pieces of about a chunk, sometimes tiny or empty ones, so
	 * piece boundaries fall everywhere relative to chunk boundaries. */
	r = xorshift_next(random_state);
	n = r % 4 == 0 ? (size_t)((r >> 8) % 20) : (size_t)((r >> 8) % 200000);
	return n < left ? n : left;
}

static int
open_update(void *o, const unsigned char *data, size_t len)
{
	return envelope_open_update(o, data, len);
}

/* Feeds data to update in pieces; stops at the first error and returns it. */
static int
feed(int (*update)(void *, const unsigned char *, size_t), void *obj, const unsigned char *data,
    size_t len, enum split split, uint64_t seed)
{
	uint64_t random_state = seed | 1;
	size_t off = 0, n;
	int status;

	if (len == 0)
		return update(obj, data, 0);
	while (off < len) {
		n = piece_length(split, len - off, &random_state);
		if ((status = update(obj, data + off, n)) != ST_OK)
			return status;
		off += n;
	}
	return ST_OK;
}

static unsigned char *
make_payload(size_t len, uint64_t seed)
{
	unsigned char random_seed[randombytes_SEEDBYTES] = {0};
	unsigned char *p;

	memcpy(random_seed, &seed, sizeof seed);
	p = malloc(len ? len : 1);
	assert_non_null(p);
	randombytes_buf_deterministic(p, len, random_seed);
	return p;
}

static void
seal_payload(unsigned nrecip, const unsigned char *payload, size_t len, enum split split,
    struct sink *envelope)
{
	struct envelope_seal *s = NULL;

	assert_int_equal(envelope_seal_new(&s, RECIPIENT_PKS, nrecip, sink_write, envelope), ST_OK);
	assert_non_null(s);
	assert_int_equal(
	    feed(envelope_seal_write, s, payload, len, split, len * 31 + nrecip), ST_OK);
	assert_int_equal(envelope_seal_final(s), ST_OK);
	envelope_seal_free(s);
}

/* Opens envelope with k; on failure also checks the error stays put. */
static int
open_envelope(const struct keypair *k, const unsigned char *envelope, size_t len, enum split split,
    struct sink *plain, uint64_t *payload_len)
{
	struct envelope_open *o = NULL;
	uint64_t got = UINT64_MAX;
	int status;

	assert_int_equal(envelope_open_new(&o, k->pk, k->sk, sink_write, plain), ST_OK);
	assert_non_null(o);
	status = feed(open_update, o, envelope, len, split, len * 17 + 5);
	if (status == ST_OK)
		status = envelope_open_final(o, &got);
	if (status == ST_OK) {
		assert_int_equal(envelope_open_final(o, &got), ST_ERR_STATE);
	} else {
		assert_int_equal(got, UINT64_MAX);
		assert_int_equal(envelope_open_update(o, envelope, len), status);
		assert_int_equal(envelope_open_final(o, &got), status);
		assert_int_equal(got, UINT64_MAX);
	}
	envelope_open_free(o);
	if (payload_len != NULL)
		*payload_len = got;
	return status;
}

/* Opens with k, expects status and that no plaintext came out. */
static void
assert_refused(const struct keypair *k, const unsigned char *envelope, size_t len, int expected)
{
	struct sink plain = {0};

	assert_int_equal(open_envelope(k, envelope, len, SPLIT_WHOLE, &plain, NULL), expected);
	assert_int_equal(plain.len, 0);
	sink_clear(&plain);
}

static void
key_id_of(unsigned char id[ENVELOPE_KEY_ID_BYTES], const unsigned char pk[32])
{
	unsigned char hash[32];

	assert_int_equal(crypto_generichash(hash, sizeof hash, pk, 32, NULL, 0), 0);
	memcpy(id, hash, ENVELOPE_KEY_ID_BYTES);
}

/* memcmp without cmocka's byte-by-byte report, which would flood the log
 * for a 10 MiB mismatch; an empty sink has no buffer at all. */
static int
same_bytes(const unsigned char *a, const unsigned char *b, size_t len)
{
	return len == 0 || memcmp(a, b, len) == 0;
}

static size_t
chunk_count(size_t len)
{
	return len == 0 ? 1 : (len - 1) / CHUNK + 1;
}

/* Checks the bytes a writer produced with libsodium directly, as another
 * implementation would read them: preamble, chunk sizes, tags, and the
 * preamble as additional data of the first chunk only. */
static void
check_layout(const struct sink *envelope, unsigned nrecip, const unsigned char *payload, size_t len)
{
	crypto_secretstream_xchacha20poly1305_state state;
	unsigned char file_key[32], id[ENVELOPE_KEY_ID_BYTES], tag, *plain;
	unsigned long long plain_len;
	size_t preamble = ENVELOPE_PREAMBLE_BYTES(nrecip), chunks = chunk_count(len), i, off, want;

	assert_int_equal(envelope->len, envelope_length(len, nrecip));
	assert_int_equal(envelope->nwrites, 1 + chunks);
	assert_int_equal(envelope->writes[0], preamble);
	for (i = 0; i < chunks; i++) {
		want = i + 1 < chunks ? CHUNK : len - (chunks - 1) * CHUNK;
		assert_int_equal(envelope->writes[1 + i], want + OVERHEAD);
	}

	assert_memory_equal(envelope->data, "sealtip\x01", 8);
	assert_int_equal(envelope->data[8], nrecip);
	for (i = 0; i < nrecip; i++) {
		key_id_of(id, pks[i]);
		assert_memory_equal(envelope->data + 9 + 88 * i, id, sizeof id);
		assert_int_equal(crypto_box_seal_open(file_key, envelope->data + 9 + 88 * i + 8, 80,
				     keys[i].pk, keys[i].sk),
		    0);
	}
	assert_int_equal(crypto_secretstream_xchacha20poly1305_init_pull(
			     &state, envelope->data + preamble - 24, file_key),
	    0);
	plain = malloc(CHUNK);
	assert_non_null(plain);
	off = preamble;
	for (i = 0; i < chunks; i++) {
		want = envelope->writes[1 + i];
		assert_int_equal(crypto_secretstream_xchacha20poly1305_pull(&state, plain,
				     &plain_len, &tag, envelope->data + off, want,
				     i == 0 ? envelope->data : NULL, i == 0 ? preamble : 0),
		    0);
		assert_int_equal(tag, i + 1 < chunks ? TAG_MESSAGE : TAG_FINAL);
		assert_int_equal(plain_len, want - OVERHEAD);
		assert_true(same_bytes(plain, payload + i * CHUNK, plain_len));
		off += want;
	}
	assert_int_equal(off, envelope->len);
	free(plain);
}

static void
round_trip(size_t len, unsigned nrecip)
{
	struct sink envelope = {0}, plain = {0};
	const struct envelope_preamble *parsed;
	struct envelope_open *o = NULL;
	unsigned char id[ENVELOPE_KEY_ID_BYTES];
	unsigned char *payload = make_payload(len, len + 1);
	uint64_t payload_len, derived;
	size_t i, chunks = chunk_count(len);
	enum split seal_split, split;
	unsigned r;

	/* The writer must give the same layout however the payload arrives. */
	seal_split = nrecip == 1	      ? SPLIT_WHOLE
	    : len <= 2 * CHUNK && nrecip == 2 ? SPLIT_BYTES
					      : SPLIT_RANDOM;
	seal_payload(nrecip, payload, len, seal_split, &envelope);
	check_layout(&envelope, nrecip, payload, len);
	assert_int_equal(envelope_payload_length(envelope.len, nrecip, &derived), ST_OK);
	assert_int_equal(derived, len);

	for (r = 0; r < nrecip; r++) {
		assert_int_equal(open_envelope(&keys[r], envelope.data, envelope.len, SPLIT_WHOLE,
				     &plain, &payload_len),
		    ST_OK);
		assert_int_equal(payload_len, len);
		assert_int_equal(plain.len, len);
		assert_true(same_bytes(plain.data, payload, len));
		/* One call per non-empty chunk, as each authenticates. */
		assert_int_equal(plain.nwrites, len == 0 ? 0 : chunks);
		for (i = 0; i < plain.nwrites; i++)
			assert_true(plain.writes[i] == CHUNK || i + 1 == plain.nwrites);
		sink_clear(&plain);
	}

	for (split = SPLIT_BYTES; split <= SPLIT_RANDOM; split++) {
		if (split == SPLIT_BYTES && envelope.len > 3 * SEALED)
			continue;
		assert_int_equal(open_envelope(&keys[nrecip - 1], envelope.data, envelope.len,
				     split, &plain, &payload_len),
		    ST_OK);
		assert_int_equal(payload_len, len);
		assert_int_equal(plain.len, len);
		assert_true(same_bytes(plain.data, payload, len));
		sink_clear(&plain);
	}

	assert_int_equal(
	    open_envelope(outsider, envelope.data, envelope.len, SPLIT_WHOLE, &plain, NULL),
	    ST_ERR_NOT_RECIPIENT);
	assert_int_equal(plain.len, 0);
	sink_clear(&plain);

	/* The reader shows the preamble it parsed. */
	assert_int_equal(envelope_open_new(&o, keys[0].pk, keys[0].sk, sink_write, &plain), ST_OK);
	assert_null(envelope_open_preamble(o));
	assert_int_equal(
	    envelope_open_update(o, envelope.data, ENVELOPE_PREAMBLE_BYTES(nrecip)), ST_OK);
	assert_non_null(parsed = envelope_open_preamble(o));
	assert_int_equal(parsed->nrecip, nrecip);
	assert_int_equal(parsed->length, ENVELOPE_PREAMBLE_BYTES(nrecip));
	for (r = 0; r < nrecip; r++) {
		key_id_of(id, pks[r]);
		assert_memory_equal(parsed->key_ids[r], id, sizeof id);
	}
	envelope_open_free(o);
	sink_clear(&plain);

	sink_clear(&envelope);
	free(payload);
}

static void
test_round_trip(void **state)
{
	size_t len = *(const size_t *)*state;

	round_trip(len, 1);
	round_trip(len, 2);
	round_trip(len, ENVELOPE_MAX_RECIPIENTS);
}

static const size_t round_trip_lengths[] = {0, 1, 65535, 65536, 65537, 131072, 10 * MIB};

/* Writer and reader each hold back at most one chunk: output appears as soon
 * as the format allows, which is what bounds their memory. */
static void
test_streaming(void **state)
{
	struct sink envelope = {0}, plain = {0};
	struct envelope_seal *s = NULL;
	struct envelope_open *o = NULL;
	unsigned char *payload = make_payload(2 * CHUNK + 1, 7);
	size_t preamble = ENVELOPE_PREAMBLE_BYTES(1);
	uint64_t payload_len;

	(void)state;
	assert_int_equal(envelope_seal_new(&s, RECIPIENT_PKS, 1, sink_write, &envelope), ST_OK);
	assert_int_equal(envelope.len, preamble);
	assert_int_equal(envelope_seal_update(s, payload, CHUNK), ST_OK);
	/* A full chunk waits: it may yet be the FINAL one. */
	assert_int_equal(envelope.len, preamble);
	assert_int_equal(envelope_seal_update(s, payload + CHUNK, 1), ST_OK);
	assert_int_equal(envelope.len, preamble + SEALED);
	assert_int_equal(envelope_seal_update(s, payload + CHUNK + 1, CHUNK - 1), ST_OK);
	assert_int_equal(envelope.len, preamble + SEALED);
	assert_int_equal(envelope_seal_update(s, payload + 2 * CHUNK, 1), ST_OK);
	assert_int_equal(envelope.len, preamble + 2 * SEALED);
	assert_int_equal(envelope_seal_final(s), ST_OK);
	assert_int_equal(envelope.len, preamble + 2 * SEALED + 1 + OVERHEAD);
	envelope_seal_free(s);

	assert_int_equal(envelope_open_new(&o, keys[0].pk, keys[0].sk, sink_write, &plain), ST_OK);
	assert_int_equal(envelope_open_update(o, envelope.data, preamble + SEALED - 1), ST_OK);
	assert_int_equal(plain.len, 0);
	assert_int_equal(envelope_open_update(o, envelope.data + preamble + SEALED - 1, 1), ST_OK);
	assert_int_equal(plain.len, CHUNK);
	assert_memory_equal(plain.data, payload, CHUNK);
	assert_int_equal(envelope_open_update(o, envelope.data + preamble + SEALED, SEALED), ST_OK);
	assert_int_equal(plain.len, 2 * CHUNK);
	assert_int_equal(envelope_open_update(o, envelope.data + preamble + 2 * SEALED,
			     envelope.len - preamble - 2 * SEALED),
	    ST_OK);
	/* The short last chunk can only be judged at the end. */
	assert_int_equal(plain.len, 2 * CHUNK);
	assert_int_equal(envelope_open_final(o, &payload_len), ST_OK);
	assert_int_equal(payload_len, 2 * CHUNK + 1);
	assert_int_equal(plain.len, 2 * CHUNK + 1);
	assert_memory_equal(plain.data, payload, 2 * CHUNK + 1);
	envelope_open_free(o);

	sink_clear(&envelope);
	sink_clear(&plain);
	free(payload);
}

static void
test_seal_arguments(void **state)
{
	const unsigned char zero_pk[1][32] = {{0}};
	/* Not NULL, so the test sees a failing new() clear it. */
	struct envelope_seal *s = (struct envelope_seal *)&s;
	struct sink envelope = {0};

	(void)state;
	assert_int_equal(
	    envelope_seal_new(NULL, RECIPIENT_PKS, 1, sink_write, &envelope), ST_ERR_ARGUMENT);
	assert_int_equal(envelope_seal_new(&s, NULL, 1, sink_write, &envelope), ST_ERR_ARGUMENT);
	assert_null(s);
	assert_int_equal(envelope_seal_new(&s, RECIPIENT_PKS, 1, NULL, &envelope), ST_ERR_ARGUMENT);
	assert_int_equal(
	    envelope_seal_new(&s, RECIPIENT_PKS, 0, sink_write, &envelope), ST_ERR_NRECIP);
	assert_int_equal(
	    envelope_seal_new(&s, RECIPIENT_PKS, 17, sink_write, &envelope), ST_ERR_NRECIP);
	/* A key twice: sealtipd refuses such an envelope, so it is never made. */
	{
		unsigned char twice[3][32];

		memcpy(twice[0], pks[0], 32);
		memcpy(twice[1], pks[1], 32);
		memcpy(twice[2], pks[0], 32);
		assert_int_equal(envelope_seal_new(&s, (const unsigned char(*)[32])twice, 3,
				     sink_write, &envelope),
		    ST_ERR_DUPLICATE_RECIPIENT);
		assert_null(s);
		assert_int_equal(envelope.len, 0);
	}
	/* A key of small order would make the sealed file key readable by anyone. */
	assert_int_equal(envelope_seal_new(&s, zero_pk, 1, sink_write, &envelope), ST_ERR_CRYPTO);
	assert_null(s);
	assert_int_equal(envelope.len, 0);

	assert_int_equal(
	    envelope_seal_update(NULL, (const unsigned char *)"x", 1), ST_ERR_ARGUMENT);
	assert_int_equal(envelope_seal_final(NULL), ST_ERR_ARGUMENT);
	envelope_seal_free(NULL);

	assert_int_equal(envelope_seal_new(&s, RECIPIENT_PKS, 1, sink_write, &envelope), ST_OK);
	assert_int_equal(envelope_seal_update(s, NULL, 0), ST_OK);
	assert_int_equal(envelope_seal_update(s, NULL, 1), ST_ERR_ARGUMENT);
	assert_int_equal(envelope_seal_update(s, (const unsigned char *)"x", 1), ST_ERR_ARGUMENT);
	assert_int_equal(envelope_seal_final(s), ST_ERR_ARGUMENT);
	envelope_seal_free(s);
	sink_clear(&envelope);

	assert_int_equal(envelope_seal_new(&s, RECIPIENT_PKS, 1, sink_write, &envelope), ST_OK);
	assert_int_equal(envelope_seal_final(s), ST_OK);
	assert_int_equal(envelope_seal_update(s, (const unsigned char *)"x", 1), ST_ERR_STATE);
	assert_int_equal(envelope_seal_final(s), ST_ERR_STATE);
	envelope_seal_free(s);
	sink_clear(&envelope);
}

static void
test_seal_callback_fails(void **state)
{
	struct envelope_seal *s = (struct envelope_seal *)&s;
	unsigned char *payload = make_payload(CHUNK + 1, 3);
	struct sink envelope = {0};

	(void)state;
	envelope.fail_at = 1;
	assert_int_equal(
	    envelope_seal_new(&s, RECIPIENT_PKS, 1, sink_write, &envelope), ST_ERR_CALLBACK);
	assert_null(s);
	sink_clear(&envelope);

	envelope.fail_at = 2;
	assert_int_equal(envelope_seal_new(&s, RECIPIENT_PKS, 1, sink_write, &envelope), ST_OK);
	assert_int_equal(envelope_seal_update(s, payload, CHUNK), ST_OK);
	assert_int_equal(envelope_seal_update(s, payload + CHUNK, 1), ST_ERR_CALLBACK);
	assert_int_equal(envelope_seal_update(s, payload, 1), ST_ERR_CALLBACK);
	assert_int_equal(envelope_seal_final(s), ST_ERR_CALLBACK);
	envelope_seal_free(s);
	sink_clear(&envelope);

	envelope.fail_at = 2;
	assert_int_equal(envelope_seal_new(&s, RECIPIENT_PKS, 1, sink_write, &envelope), ST_OK);
	assert_int_equal(envelope_seal_update(s, payload, 10), ST_OK);
	assert_int_equal(envelope_seal_final(s), ST_ERR_CALLBACK);
	assert_int_equal(envelope_seal_final(s), ST_ERR_CALLBACK);
	envelope_seal_free(s);
	sink_clear(&envelope);
	free(payload);
}

static void
test_open_arguments(void **state)
{
	/* Not NULL, so the test sees a failing new() clear it. */
	struct envelope_open *o = (struct envelope_open *)&o;
	struct sink envelope = {0}, plain = {0};
	unsigned char *payload = make_payload(100, 4);
	uint64_t payload_len = 42;

	(void)state;
	assert_int_equal(
	    envelope_open_new(NULL, keys[0].pk, keys[0].sk, sink_write, &plain), ST_ERR_ARGUMENT);
	assert_int_equal(
	    envelope_open_new(&o, NULL, keys[0].sk, sink_write, &plain), ST_ERR_ARGUMENT);
	assert_null(o);
	assert_int_equal(
	    envelope_open_new(&o, keys[0].pk, NULL, sink_write, &plain), ST_ERR_ARGUMENT);
	assert_int_equal(
	    envelope_open_new(&o, keys[0].pk, keys[0].sk, NULL, &plain), ST_ERR_ARGUMENT);
	/* A public key that is not the secret key's is a caller's mistake, not
	 * a bad envelope. */
	assert_int_equal(
	    envelope_open_new(&o, keys[1].pk, keys[0].sk, sink_write, &plain), ST_ERR_ARGUMENT);
	assert_null(o);
	assert_int_equal(envelope_open_update(NULL, payload, 1), ST_ERR_ARGUMENT);
	assert_int_equal(envelope_open_final(NULL, &payload_len), ST_ERR_ARGUMENT);
	assert_null(envelope_open_preamble(NULL));
	envelope_open_free(NULL);

	seal_payload(1, payload, 100, SPLIT_WHOLE, &envelope);
	assert_int_equal(envelope_open_new(&o, keys[0].pk, keys[0].sk, sink_write, &plain), ST_OK);
	assert_int_equal(envelope_open_update(o, NULL, 0), ST_OK);
	assert_int_equal(envelope_open_update(o, NULL, 1), ST_ERR_ARGUMENT);
	assert_int_equal(envelope_open_update(o, envelope.data, envelope.len), ST_ERR_ARGUMENT);
	envelope_open_free(o);

	assert_int_equal(envelope_open_new(&o, keys[0].pk, keys[0].sk, sink_write, &plain), ST_OK);
	assert_int_equal(envelope_open_update(o, envelope.data, envelope.len), ST_OK);
	assert_int_equal(envelope_open_final(o, NULL), ST_ERR_ARGUMENT);
	envelope_open_free(o);

	assert_int_equal(envelope_open_new(&o, keys[0].pk, keys[0].sk, sink_write, &plain), ST_OK);
	assert_int_equal(envelope_open_update(o, envelope.data, envelope.len), ST_OK);
	assert_int_equal(envelope_open_final(o, &payload_len), ST_OK);
	assert_int_equal(payload_len, 100);
	assert_int_equal(envelope_open_update(o, envelope.data, 0), ST_ERR_STATE);
	assert_int_equal(envelope_open_final(o, &payload_len), ST_ERR_STATE);
	envelope_open_free(o);

	sink_clear(&envelope);
	sink_clear(&plain);
	free(payload);
}

static void
test_open_callback_fails(void **state)
{
	struct sink envelope = {0}, plain = {0};
	unsigned char *payload = make_payload(CHUNK + 5, 5);
	uint64_t payload_len;

	(void)state;
	seal_payload(1, payload, CHUNK + 5, SPLIT_WHOLE, &envelope);
	plain.fail_at = 1;
	assert_int_equal(
	    open_envelope(&keys[0], envelope.data, envelope.len, SPLIT_WHOLE, &plain, &payload_len),
	    ST_ERR_CALLBACK);
	sink_clear(&plain);
	plain.fail_at = 2;
	assert_int_equal(
	    open_envelope(&keys[0], envelope.data, envelope.len, SPLIT_WHOLE, &plain, &payload_len),
	    ST_ERR_CALLBACK);
	assert_int_equal(plain.len, CHUNK);
	sink_clear(&plain);
	sink_clear(&envelope);
	free(payload);
}

/* What cutting a one-chunk envelope to cut bytes must give: the reader can
 * tell a cut inside the preamble or the chunk overhead, but a longer cut
 * chunk is just a chunk that fails to authenticate. */
static int
expected_cut_status(size_t cut, size_t preamble)
{
	if (cut < preamble + OVERHEAD)
		return ST_ERR_TRUNCATED;
	return ST_ERR_CHUNK_AUTH;
}

static void
test_truncated(void **state)
{
	struct sink envelope = {0}, plain = {0};
	unsigned char *payload = make_payload(CHUNK + 100, 9);
	size_t preamble, cut;
	unsigned nrecip;
	int expected;

	(void)state;
	for (nrecip = 1; nrecip <= 2; nrecip++) {
		preamble = ENVELOPE_PREAMBLE_BYTES(nrecip);
		seal_payload(nrecip, payload, 100, SPLIT_WHOLE, &envelope);
		for (cut = 0; cut < envelope.len; cut++)
			assert_refused(&keys[nrecip - 1], envelope.data, cut,
			    expected_cut_status(cut, preamble));
		sink_clear(&envelope);

		seal_payload(nrecip, payload, 0, SPLIT_WHOLE, &envelope);
		for (cut = 0; cut < envelope.len; cut++)
			assert_refused(&keys[nrecip - 1], envelope.data, cut, ST_ERR_TRUNCATED);
		sink_clear(&envelope);
	}

	/* Two chunks: a cut right after the full first chunk leaves a stream
	 * without FINAL; its plaintext has been handed on already, as the
	 * header warns. */
	preamble = ENVELOPE_PREAMBLE_BYTES(1);
	seal_payload(1, payload, CHUNK + 100, SPLIT_WHOLE, &envelope);
	for (cut = 0; cut < envelope.len; cut++) {
		if (cut > preamble + OVERHEAD + 2 && cut < preamble + SEALED - 2)
			cut = preamble + SEALED - 2;
		if (cut < preamble + SEALED)
			expected = expected_cut_status(cut, preamble);
		else if (cut == preamble + SEALED)
			expected = ST_ERR_NO_FINAL;
		else if (cut < preamble + SEALED + OVERHEAD)
			expected = ST_ERR_TRUNCATED;
		else
			expected = ST_ERR_CHUNK_AUTH;
		assert_int_equal(
		    open_envelope(&keys[0], envelope.data, cut, SPLIT_WHOLE, &plain, NULL),
		    expected);
		assert_int_equal(plain.len, cut < preamble + SEALED ? 0 : CHUNK);
		sink_clear(&plain);
	}
	sink_clear(&envelope);
	free(payload);
}

static void
test_trailing(void **state)
{
	struct sink envelope = {0}, plain = {0};
	struct envelope_open *o = NULL;
	unsigned char *payload = make_payload(2 * CHUNK, 10);
	static const size_t lengths[] = {CHUNK, 2 * CHUNK};
	static const size_t extra[] = {1, 16, 17, SEALED, SEALED + 1};
	unsigned char *copy = malloc(SEALED + 1);
	uint64_t payload_len;
	size_t i, j;

	(void)state;
	assert_non_null(copy);
	/* After a full FINAL chunk the reader knows the envelope is over, so
	 * any further byte is trailing, even one arriving in a later call. */
	for (i = 0; i < sizeof lengths / sizeof lengths[0]; i++) {
		for (j = 0; j < sizeof extra / sizeof extra[0]; j++) {
			seal_payload(1, payload, lengths[i], SPLIT_WHOLE, &envelope);
			/* A copy of the first chunk's bytes: a real chunk's worth
			 * of trailing data when extra[j] is a chunk long. */
			memcpy(copy, envelope.data + ENVELOPE_PREAMBLE_BYTES(1), extra[j]);
			sink_append(&envelope, copy, extra[j]);
			assert_int_equal(open_envelope(&keys[0], envelope.data, envelope.len,
					     SPLIT_WHOLE, &plain, NULL),
			    ST_ERR_TRAILING);
			sink_clear(&plain);
			assert_int_equal(open_envelope(&keys[0], envelope.data, envelope.len,
					     SPLIT_RANDOM, &plain, NULL),
			    ST_ERR_TRAILING);
			sink_clear(&plain);
			sink_clear(&envelope);
		}
	}
	seal_payload(1, payload, CHUNK, SPLIT_WHOLE, &envelope);
	assert_int_equal(envelope_open_new(&o, keys[0].pk, keys[0].sk, sink_write, &plain), ST_OK);
	assert_int_equal(envelope_open_update(o, envelope.data, envelope.len), ST_OK);
	assert_int_equal(envelope_open_update(o, (const unsigned char *)"\n", 1), ST_ERR_TRAILING);
	assert_int_equal(envelope_open_final(o, &payload_len), ST_ERR_TRAILING);
	envelope_open_free(o);
	sink_clear(&plain);
	sink_clear(&envelope);

	/* After a short last chunk the reader cannot see where the chunk ended:
	 * the extra bytes make it a longer chunk that fails to authenticate. */
	for (i = 0; i < 3; i++) {
		seal_payload(1, payload, i * 100, SPLIT_WHOLE, &envelope);
		sink_append(&envelope, (const unsigned char *)"\n", 1);
		assert_refused(&keys[0], envelope.data, envelope.len, ST_ERR_CHUNK_AUTH);
		sink_clear(&envelope);
	}
	free(copy);
	free(payload);
}

/* The status a 1-recipient envelope of a 100-byte payload (238 bytes) must
 * give with its byte at offset `at` changed. A count of 3 or more makes the
 * preamble longer than the whole envelope. */
static int
expected_flip_status(size_t at, unsigned char flipped)
{
	if (at < 7)
		return ST_ERR_MAGIC;
	if (at == 7)
		return ST_ERR_VERSION;
	if (at == 8)
		return flipped == 0 || flipped > 16 ? ST_ERR_NRECIP : ST_ERR_TRUNCATED;
	if (at < 9 + ENVELOPE_KEY_ID_BYTES)
		return ST_ERR_NOT_RECIPIENT;
	if (at < 9 + ENVELOPE_RECIPIENT_BYTES)
		return ST_ERR_RECIPIENT_AUTH;
	/* Header or chunk: the header is also the first chunk's additional data. */
	return ST_ERR_CHUNK_AUTH;
}

/* The same for 2 recipients where we are the second (326 bytes): the other
 * entry is covered by the first chunk's additional data. A count of 3 still
 * finds our entry intact, then takes 24 chunk bytes as the header and leaves
 * a 29-byte chunk that cannot authenticate. */
static int
expected_flip_status_second(size_t at, unsigned char flipped)
{
	if (at == 8)
		return flipped == 3 ? ST_ERR_CHUNK_AUTH : ST_ERR_NRECIP;
	if (at < 9)
		return expected_flip_status(at, flipped);
	if (at >= 9 + ENVELOPE_RECIPIENT_BYTES && at < 9 + 2 * ENVELOPE_RECIPIENT_BYTES)
		return expected_flip_status(at - ENVELOPE_RECIPIENT_BYTES, flipped);
	return ST_ERR_CHUNK_AUTH;
}

static void
test_flipped_bytes(void **state)
{
	static const unsigned char masks[] = {0x01, 0x80, 0xff};
	struct sink envelope = {0}, plain = {0};
	unsigned char *payload = make_payload(100, 11);
	unsigned char original;
	size_t at, m;
	unsigned nrecip;

	(void)state;
	for (nrecip = 1; nrecip <= 2; nrecip++) {
		seal_payload(nrecip, payload, 100, SPLIT_WHOLE, &envelope);
		for (at = 0; at < envelope.len; at++) {
			original = envelope.data[at];
			for (m = 0; m < sizeof masks; m++) {
				envelope.data[at] = original ^ masks[m];
				assert_refused(&keys[nrecip - 1], envelope.data, envelope.len,
				    nrecip == 1
					? expected_flip_status(at, envelope.data[at])
					: expected_flip_status_second(at, envelope.data[at]));
			}
			envelope.data[at] = original;
		}
		/* Every byte restored: the control opens. */
		assert_int_equal(open_envelope(&keys[nrecip - 1], envelope.data, envelope.len,
				     SPLIT_WHOLE, &plain, NULL),
		    ST_OK);
		assert_int_equal(plain.len, 100);
		sink_clear(&plain);
		sink_clear(&envelope);
	}
	free(payload);
}

static void
test_bad_preamble_fields(void **state)
{
	static const unsigned char versions[] = {0, 2, 0xff};
	static const unsigned char counts[] = {0, 17, 0xff};
	struct sink envelope = {0}, plain = {0};
	unsigned char *payload = make_payload(100, 12);
	size_t i;

	(void)state;
	seal_payload(1, payload, 100, SPLIT_WHOLE, &envelope);
	for (i = 0; i < sizeof versions; i++) {
		envelope.data[7] = versions[i];
		assert_refused(&keys[0], envelope.data, envelope.len, ST_ERR_VERSION);
		/* A wrong version is refused as soon as its byte arrives. */
		assert_refused(&keys[0], envelope.data, 8, ST_ERR_VERSION);
	}
	envelope.data[7] = 1;
	for (i = 0; i < sizeof counts; i++) {
		envelope.data[8] = counts[i];
		assert_refused(&keys[0], envelope.data, envelope.len, ST_ERR_NRECIP);
		assert_refused(&keys[0], envelope.data, 9, ST_ERR_NRECIP);
	}
	envelope.data[8] = 1;
	memcpy(envelope.data, "SEALTIP", 7);
	assert_refused(&keys[0], envelope.data, envelope.len, ST_ERR_MAGIC);
	assert_refused(&keys[0], envelope.data, 1, ST_ERR_MAGIC);
	assert_refused(&keys[0], (const unsigned char *)"POST /api/v1/reports", 20, ST_ERR_MAGIC);
	memcpy(envelope.data, "sealtip", 7);
	assert_int_equal(
	    open_envelope(&keys[0], envelope.data, envelope.len, SPLIT_WHOLE, &plain, NULL), ST_OK);
	assert_int_equal(plain.len, 100);
	assert_refused(outsider, envelope.data, envelope.len, ST_ERR_NOT_RECIPIENT);
	sink_clear(&plain);
	sink_clear(&envelope);
	free(payload);
}

/* Builds an envelope as the writer would but lets each chunk, tag and entry
 * be chosen, with libsodium's secretstream directly. Entry i carries the key
 * id of id_keys[i] and the file key sealed to box_keys[i]. */
static void
build_envelope(const struct keypair *const *id_keys, const struct keypair *const *box_keys,
    unsigned nrecip, const struct chunk_spec *chunks, size_t nchunks, const unsigned char *payload,
    struct sink *envelope)
{
	crypto_secretstream_xchacha20poly1305_state state;
	unsigned char preamble[ENVELOPE_MAX_PREAMBLE_BYTES], file_key[32], *sealed;
	size_t preamble_len = ENVELOPE_PREAMBLE_BYTES(nrecip), i, off = 0;
	unsigned long long sealed_len;

	memcpy(preamble, "sealtip\x01", 8);
	preamble[8] = (unsigned char)nrecip;
	crypto_secretstream_xchacha20poly1305_keygen(file_key);
	for (i = 0; i < nrecip; i++) {
		key_id_of(preamble + 9 + 88 * i, id_keys[i]->pk);
		assert_int_equal(
		    crypto_box_seal(preamble + 9 + 88 * i + 8, file_key, 32, box_keys[i]->pk), 0);
	}
	assert_int_equal(crypto_secretstream_xchacha20poly1305_init_push(
			     &state, preamble + preamble_len - 24, file_key),
	    0);
	sink_append(envelope, preamble, preamble_len);
	sealed = malloc(SEALED);
	assert_non_null(sealed);
	for (i = 0; i < nchunks; i++) {
		assert_true(chunks[i].len <= CHUNK);
		assert_int_equal(
		    crypto_secretstream_xchacha20poly1305_push(&state, sealed, &sealed_len,
			payload + off, chunks[i].len, chunks[i].ad ? preamble : NULL,
			chunks[i].ad ? preamble_len : 0, chunks[i].tag),
		    0);
		sink_append(envelope, sealed, sealed_len);
		off += chunks[i].len;
	}
	free(sealed);
	sodium_memzero(file_key, sizeof file_key);
}

struct stream_case {
	const char *what;
	struct chunk_spec chunks[4];
	size_t nchunks;
	int expected;
	size_t plain_len; /* plaintext handed on before the verdict */
};

static const struct stream_case stream_cases[] = {
    {"canonical short", {{100, TAG_FINAL, 1}}, 1, ST_OK, 100},
    {"canonical empty", {{0, TAG_FINAL, 1}}, 1, ST_OK, 0},
    {"canonical full", {{CHUNK, TAG_FINAL, 1}}, 1, ST_OK, CHUNK},
    {"canonical two", {{CHUNK, TAG_MESSAGE, 1}, {1, TAG_FINAL, 0}}, 2, ST_OK, CHUNK + 1},
    {"short MESSAGE, alone", {{100, TAG_MESSAGE, 1}}, 1, ST_ERR_LAYOUT, 0},
    {"empty MESSAGE, alone", {{0, TAG_MESSAGE, 1}}, 1, ST_ERR_LAYOUT, 0},
    {"short MESSAGE last", {{CHUNK, TAG_MESSAGE, 1}, {100, TAG_MESSAGE, 0}}, 2, ST_ERR_LAYOUT,
	CHUNK},
    /* Every boundary after a short chunk is misplaced for a reader that
     * finds boundaries by length, so the next chunk cannot authenticate. */
    {"short MESSAGE then FINAL", {{100, TAG_MESSAGE, 1}, {332, TAG_FINAL, 0}}, 2, ST_ERR_CHUNK_AUTH,
	0},
    {"short MESSAGE then full", {{100, TAG_MESSAGE, 1}, {CHUNK, TAG_FINAL, 0}}, 2,
	ST_ERR_CHUNK_AUTH, 0},
    {"empty FINAL after full", {{CHUNK, TAG_MESSAGE, 1}, {0, TAG_FINAL, 0}}, 2, ST_ERR_LAYOUT,
	CHUNK},
    {"empty FINAL after two full",
	{{CHUNK, TAG_MESSAGE, 1}, {CHUNK, TAG_MESSAGE, 0}, {0, TAG_FINAL, 0}}, 3, ST_ERR_LAYOUT,
	2 * CHUNK},
    {"no FINAL, one chunk", {{CHUNK, TAG_MESSAGE, 1}}, 1, ST_ERR_NO_FINAL, CHUNK},
    {"no FINAL, two chunks", {{CHUNK, TAG_MESSAGE, 1}, {CHUNK, TAG_MESSAGE, 0}}, 2, ST_ERR_NO_FINAL,
	2 * CHUNK},
    {"full FINAL then a chunk", {{CHUNK, TAG_FINAL, 1}, {100, TAG_FINAL, 0}}, 2, ST_ERR_TRAILING,
	CHUNK},
    {"full FINAL then full chunks",
	{{CHUNK, TAG_FINAL, 1}, {CHUNK, TAG_MESSAGE, 0}, {1, TAG_FINAL, 0}}, 3, ST_ERR_TRAILING,
	CHUNK},
    {"short FINAL then a chunk", {{100, TAG_FINAL, 1}, {100, TAG_FINAL, 0}}, 2, ST_ERR_CHUNK_AUTH,
	0},
    {"first chunk without ad", {{100, TAG_FINAL, 0}}, 1, ST_ERR_CHUNK_AUTH, 0},
    {"first full chunk without ad", {{CHUNK, TAG_MESSAGE, 0}, {100, TAG_FINAL, 0}}, 2,
	ST_ERR_CHUNK_AUTH, 0},
    {"second chunk with ad", {{CHUNK, TAG_MESSAGE, 1}, {100, TAG_FINAL, 1}}, 2, ST_ERR_CHUNK_AUTH,
	CHUNK},
    {"PUSH last", {{100, TAG_PUSH, 1}}, 1, ST_ERR_LAYOUT, 0},
    {"PUSH full", {{CHUNK, TAG_PUSH, 1}, {100, TAG_FINAL, 0}}, 2, ST_ERR_LAYOUT, 0},
    {"REKEY full", {{CHUNK, TAG_REKEY, 1}, {100, TAG_FINAL, 0}}, 2, ST_ERR_LAYOUT, 0},
    {"REKEY last", {{100, TAG_REKEY, 1}}, 1, ST_ERR_LAYOUT, 0},
};

static void
test_hand_built_streams(void **state)
{
	const struct keypair *me[1] = {&keys[0]};
	struct sink envelope = {0}, plain = {0};
	unsigned char *payload = make_payload(4 * CHUNK, 13);
	uint64_t payload_len;
	enum split split;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof stream_cases / sizeof stream_cases[0]; i++) {
		const struct stream_case *c = &stream_cases[i];

		print_message("stream case: %s\n", c->what);
		build_envelope(me, me, 1, c->chunks, c->nchunks, payload, &envelope);
		for (split = SPLIT_WHOLE; split <= SPLIT_RANDOM; split++) {
			if (split == SPLIT_BYTES && envelope.len > 2 * SEALED)
				continue;
			assert_int_equal(open_envelope(&keys[0], envelope.data, envelope.len, split,
					     &plain, &payload_len),
			    c->expected);
			assert_int_equal(plain.len, c->plain_len);
			assert_true(same_bytes(plain.data, payload, plain.len));
			if (c->expected == ST_OK)
				assert_int_equal(payload_len, c->plain_len);
			sink_clear(&plain);
		}
		sink_clear(&envelope);
	}
	free(payload);
}

static void
test_recipient_entries(void **state)
{
	static const struct chunk_spec one[1] = {{50, TAG_FINAL, 1}};
	const struct keypair *ids[ENVELOPE_MAX_RECIPIENTS], *boxes[ENVELOPE_MAX_RECIPIENTS];
	struct sink envelope = {0}, plain = {0};
	unsigned char *payload = make_payload(50, 14);
	uint64_t payload_len;
	unsigned i;

	(void)state;
	/* Our key id on an entry sealed to someone else: forged or corrupted. */
	ids[0] = &keys[0];
	boxes[0] = &keys[1];
	build_envelope(ids, boxes, 1, one, 1, payload, &envelope);
	assert_refused(&keys[0], envelope.data, envelope.len, ST_ERR_RECIPIENT_AUTH);
	assert_refused(&keys[1], envelope.data, envelope.len, ST_ERR_NOT_RECIPIENT);
	sink_clear(&envelope);

	/* Two entries with our id: the one that opens wins, wherever it is. */
	ids[1] = &keys[0];
	boxes[1] = &keys[0];
	build_envelope(ids, boxes, 2, one, 1, payload, &envelope);
	assert_int_equal(
	    open_envelope(&keys[0], envelope.data, envelope.len, SPLIT_WHOLE, &plain, &payload_len),
	    ST_OK);
	assert_int_equal(payload_len, 50);
	assert_memory_equal(plain.data, payload, 50);
	sink_clear(&plain);
	sink_clear(&envelope);

	ids[1] = &keys[0];
	boxes[1] = &keys[2];
	build_envelope(ids, boxes, 2, one, 1, payload, &envelope);
	assert_refused(&keys[0], envelope.data, envelope.len, ST_ERR_RECIPIENT_AUTH);
	sink_clear(&envelope);

	/* Sixteen entries, ours last. */
	for (i = 0; i < ENVELOPE_MAX_RECIPIENTS; i++)
		ids[i] = boxes[i] = &keys[ENVELOPE_MAX_RECIPIENTS - i];
	build_envelope(ids, boxes, ENVELOPE_MAX_RECIPIENTS, one, 1, payload, &envelope);
	assert_int_equal(
	    open_envelope(&keys[1], envelope.data, envelope.len, SPLIT_BYTES, &plain, &payload_len),
	    ST_OK);
	assert_int_equal(payload_len, 50);
	sink_clear(&plain);
	assert_refused(&keys[0], envelope.data, envelope.len, ST_ERR_NOT_RECIPIENT);
	sink_clear(&envelope);
	free(payload);
}

static void
test_length_values(void **state)
{
	uint64_t p;

	(void)state;
	assert_int_equal(ENVELOPE_PREAMBLE_BYTES(1), 121);
	assert_int_equal(ENVELOPE_PREAMBLE_BYTES(2), 209);
	assert_int_equal(ENVELOPE_MAX_PREAMBLE_BYTES, 1441);
	assert_int_equal(envelope_length(0, 1), 138);
	assert_int_equal(envelope_length(1, 1), 139);
	assert_int_equal(envelope_length(432, 1), 570);
	assert_int_equal(envelope_length(65535, 1), 65673);
	assert_int_equal(envelope_length(65536, 1), 65674);
	assert_int_equal(envelope_length(65537, 1), 65692);
	assert_int_equal(envelope_length(131072, 1), 131227);
	assert_int_equal(envelope_length(3456, 2), 3682);
	assert_int_equal(envelope_length(0, 16), 1458);

	assert_int_equal(envelope_payload_length(138, 1, &p), ST_OK);
	assert_int_equal(p, 0);
	assert_int_equal(envelope_payload_length(131227, 1, &p), ST_OK);
	assert_int_equal(p, 131072);
	assert_int_equal(envelope_payload_length(65692, 1, &p), ST_OK);
	assert_int_equal(p, 65537);
	/* Empty ciphertext, chunks shorter than their overhead, an empty
	 * last chunk after full ones. */
	assert_int_equal(envelope_payload_length(0, 1, &p), ST_ERR_LAYOUT);
	assert_int_equal(envelope_payload_length(120, 1, &p), ST_ERR_LAYOUT);
	assert_int_equal(envelope_payload_length(121, 1, &p), ST_ERR_LAYOUT);
	assert_int_equal(envelope_payload_length(122, 1, &p), ST_ERR_LAYOUT);
	assert_int_equal(envelope_payload_length(137, 1, &p), ST_ERR_LAYOUT);
	assert_int_equal(envelope_payload_length(65675, 1, &p), ST_ERR_LAYOUT);
	assert_int_equal(envelope_payload_length(65690, 1, &p), ST_ERR_LAYOUT);
	assert_int_equal(envelope_payload_length(65691, 1, &p), ST_ERR_LAYOUT);
	assert_int_equal(envelope_payload_length(131244, 1, &p), ST_ERR_LAYOUT);
	assert_int_equal(p, 0);

	assert_int_equal(envelope_payload_length(138, 0, &p), ST_ERR_NRECIP);
	assert_int_equal(envelope_payload_length(138, 17, &p), ST_ERR_NRECIP);
	assert_int_equal(envelope_payload_length(138, UINT32_MAX, &p), ST_ERR_NRECIP);
	assert_int_equal(envelope_payload_length(138, 1, NULL), ST_ERR_ARGUMENT);
	assert_int_equal(envelope_length(0, 0), 0);
	assert_int_equal(envelope_length(100, 17), 0);
	assert_int_equal(envelope_length(100, UINT32_MAX), 0);
}

static void
assert_inverse(uint64_t payload_len, unsigned nrecip)
{
	uint64_t total = envelope_length(payload_len, nrecip), back = UINT64_MAX;

	assert_true(total > payload_len);
	assert_int_equal(envelope_payload_length(total, nrecip, &back), ST_OK);
	assert_int_equal(back, payload_len);
}

static void
test_length_inverse(void **state)
{
	static const unsigned counts[] = {1, 2, 7, 16};
	uint64_t p, k, random_state = 99;
	size_t c;
	int d, j;

	(void)state;
	for (c = 0; c < sizeof counts / sizeof counts[0]; c++) {
		for (p = 0; p <= 300000; p++)
			assert_inverse(p, counts[c]);
		/* Around multiples of the chunk size, up to 2^40: every small
		 * one, every power of two, and a sample of the rest. */
		for (k = 1; k <= 4096; k++)
			for (d = -2; d <= 2; d++)
				assert_inverse(k * CHUNK + (uint64_t)(int64_t)d, counts[c]);
		for (j = 12; j <= 24; j++) {
			for (d = -2; d <= 2; d++) {
				assert_inverse(
				    ((uint64_t)1 << j) * CHUNK + (uint64_t)(int64_t)d, counts[c]);
				assert_inverse(
				    (((uint64_t)1 << j) - 1) * CHUNK + (uint64_t)(int64_t)d,
				    counts[c]);
			}
		}
		for (j = 0; j < 20000; j++) {
			k = xorshift_next(&random_state) % ((uint64_t)1 << 24) + 1;
			for (d = -1; d <= 1; d++)
				assert_inverse(k * CHUNK + (uint64_t)(int64_t)d, counts[c]);
		}
	}
	assert_int_equal(envelope_length((uint64_t)1 << 40, 1),
	    ((uint64_t)1 << 40) + ((uint64_t)1 << 24) * OVERHEAD + 121);
}

/* Every total in a range is accepted exactly when some payload has it. */
static void
test_length_rejects_non_canonical(void **state)
{
	static const unsigned counts[] = {1, 16};
	uint64_t total, limit, p, back;
	unsigned char *canonical;
	size_t c;
	int status;

	(void)state;
	for (c = 0; c < sizeof counts / sizeof counts[0]; c++) {
		limit = ENVELOPE_PREAMBLE_BYTES(counts[c]) + 4 * (uint64_t)SEALED + 100;
		canonical = calloc(limit, 1);
		assert_non_null(canonical);
		for (p = 0; envelope_length(p, counts[c]) < limit; p++)
			canonical[envelope_length(p, counts[c])] = 1;
		for (total = 0; total < limit; total++) {
			status = envelope_payload_length(total, counts[c], &back);
			if (!canonical[total]) {
				assert_int_equal(status, ST_ERR_LAYOUT);
				continue;
			}
			assert_int_equal(status, ST_OK);
			assert_int_equal(envelope_length(back, counts[c]), total);
		}
		free(canonical);
	}
}

/* At the top of the 64-bit range nothing wraps: the largest envelope maps
 * back and forth, one byte more of payload has no length. */
static void
test_length_overflow(void **state)
{
	uint64_t total, p, top = 0, top_total = 0;
	unsigned nrecip;

	(void)state;
	for (nrecip = 1; nrecip <= ENVELOPE_MAX_RECIPIENTS; nrecip += 15) {
		top_total = 0;
		for (total = UINT64_MAX; total > UINT64_MAX - 2 * (uint64_t)SEALED; total--) {
			if (envelope_payload_length(total, nrecip, &p) != ST_OK)
				continue;
			assert_int_equal(envelope_length(p, nrecip), total);
			if (top_total == 0) {
				top_total = total;
				top = p;
			}
		}
		assert_true(top_total > UINT64_MAX - SEALED);
		assert_int_equal(envelope_length(top + 1, nrecip), 0);
		assert_int_equal(envelope_length(UINT64_MAX, nrecip), 0);
		assert_int_equal(envelope_length(UINT64_MAX - 1000, nrecip), 0);
	}
}

static void
test_preamble_parse(void **state)
{
	static const unsigned counts[] = {1, 2, 16};
	struct envelope_preamble parsed;
	struct sink envelope = {0};
	unsigned char id[ENVELOPE_KEY_ID_BYTES], zero[ENVELOPE_KEY_ID_BYTES] = {0};
	size_t c, len, preamble;
	unsigned i;

	(void)state;
	for (c = 0; c < sizeof counts / sizeof counts[0]; c++) {
		seal_payload(counts[c], NULL, 0, SPLIT_WHOLE, &envelope);
		preamble = ENVELOPE_PREAMBLE_BYTES(counts[c]);
		for (len = 0; len < preamble; len++) {
			assert_int_equal(
			    envelope_preamble_parse(envelope.data, len, &parsed), ST_ERR_TRUNCATED);
			assert_int_equal(parsed.nrecip, 0);
		}
		for (len = preamble; len <= envelope.len; len += envelope.len - preamble) {
			assert_int_equal(
			    envelope_preamble_parse(envelope.data, len, &parsed), ST_OK);
			assert_int_equal(parsed.nrecip, counts[c]);
			assert_int_equal(parsed.length, preamble);
			for (i = 0; i < ENVELOPE_MAX_RECIPIENTS; i++) {
				if (i < counts[c]) {
					key_id_of(id, pks[i]);
					assert_memory_equal(parsed.key_ids[i], id, sizeof id);
				} else
					assert_memory_equal(parsed.key_ids[i], zero, sizeof zero);
			}
		}
		sink_clear(&envelope);
	}
	/* Judged byte by byte as the input arrives. */
	assert_int_equal(envelope_preamble_parse(NULL, 0, &parsed), ST_ERR_TRUNCATED);
	assert_int_equal(
	    envelope_preamble_parse((const unsigned char *)"s", 1, &parsed), ST_ERR_TRUNCATED);
	assert_int_equal(
	    envelope_preamble_parse((const unsigned char *)"x", 1, &parsed), ST_ERR_MAGIC);
	assert_int_equal(
	    envelope_preamble_parse((const unsigned char *)"sealtiq", 7, &parsed), ST_ERR_MAGIC);
	assert_int_equal(envelope_preamble_parse((const unsigned char *)"sealtip\x02", 8, &parsed),
	    ST_ERR_VERSION);
	assert_int_equal(envelope_preamble_parse((const unsigned char *)"sealtip\x01", 8, &parsed),
	    ST_ERR_TRUNCATED);
	assert_int_equal(
	    envelope_preamble_parse((const unsigned char *)"sealtip\x01\x00", 9, &parsed),
	    ST_ERR_NRECIP);
	assert_int_equal(
	    envelope_preamble_parse((const unsigned char *)"sealtip\x01\x11", 9, &parsed),
	    ST_ERR_NRECIP);
	assert_int_equal(
	    envelope_preamble_parse((const unsigned char *)"sealtip\x01\x01", 9, &parsed),
	    ST_ERR_TRUNCATED);
	assert_int_equal(envelope_preamble_parse(NULL, 1, &parsed), ST_ERR_ARGUMENT);
	assert_int_equal(
	    envelope_preamble_parse((const unsigned char *)"s", 1, NULL), ST_ERR_ARGUMENT);
}

/* Vectors made by the independent implementation (tests/vectors/shared). */

static unsigned char *
read_vector(const char *name, size_t *len)
{
	char path[256];
	unsigned char *buf;
	FILE *f;
	long size;

	assert_true((size_t)snprintf(path, sizeof path, VECTOR_DIR "%s", name) < sizeof path);
	f = fopen(path, "rb");
	if (f == NULL)
		fail_msg("cannot open %s (run from the repository root)", path);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	size = ftell(f);
	assert_true(size > 0);
	assert_int_equal(fseek(f, 0, SEEK_SET), 0);
	buf = malloc((size_t)size);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)size, f), (size_t)size);
	fclose(f);
	*len = (size_t)size;
	return buf;
}

static void
hex_to_bin(unsigned char *out, size_t len, const char *hex)
{
	size_t got = 0;

	assert_int_equal(sodium_hex2bin(out, len, hex, strlen(hex), NULL, &got, NULL), 0);
	assert_int_equal(got, len);
}

static void
vector_key(struct keypair *k, const char *pk_hex, const char *sk_hex, const char *id_hex)
{
	unsigned char derived[32], id[ENVELOPE_KEY_ID_BYTES], want_id[ENVELOPE_KEY_ID_BYTES];

	hex_to_bin(k->pk, sizeof k->pk, pk_hex);
	hex_to_bin(k->sk, sizeof k->sk, sk_hex);
	hex_to_bin(want_id, sizeof want_id, id_hex);
	assert_int_equal(crypto_scalarmult_base(derived, k->sk), 0);
	assert_memory_equal(derived, k->pk, sizeof derived);
	key_id_of(id, k->pk);
	assert_memory_equal(id, want_id, sizeof id);
}

/* Raw keys from tests/vectors/shared/keys.json. */
static int
setup_vector_keys(void **state)
{
	(void)state;
	vector_key(&alice, "09493a8a4ee91a65b3b0d3ecc1136288d77a0f1b5c5d75a116c112e78aab935a",
	    "8a9ef0faef18e6f895bc42f2bb507fff605878d9c63ce7e182036e0abb2b01ab", "874fc3c2ab6e810c");
	vector_key(&bob, "cd71ec17b783ee536bf32f1a59a185914fa23ea3957bdca43a9c06f6af3e211d",
	    "b8b5e22b85bbd9b61882098c42032d825ea342e6ad32281e9a735fb09e9691ea", "a038d1aed6d7eeda");
	vector_key(&carol, "4e4361a94ac3fc06598bbd126e5425249fa18bfe83424855617696bf89024860",
	    "600df81cf37d8c7517a6d27e4b56b134619796b383ecc391fe6388d3866167eb", "98fb2a15236b5c86");
	return 0;
}

/* The hex above must be the keys of the public key files beside the vectors:
 * "untrusted comment: sealtip public key <key id>" then
 * base64("stpk" || box_pk || sign_pk). */
static void
check_pub_file(const char *name, const struct keypair *k, const char *id_hex)
{
	unsigned char decoded[4 + 32 + 32];
	char *text, *line;
	size_t len, decoded_len = 0;

	text = (char *)read_vector(name, &len);
	text = realloc(text, len + 1);
	assert_non_null(text);
	text[len] = '\0';
	line = strchr(text, '\n');
	assert_non_null(line);
	*line++ = '\0';
	assert_non_null(strstr(text, "untrusted comment: sealtip public key "));
	assert_non_null(strstr(text, id_hex));
	line[strcspn(line, "\r\n")] = '\0';
	assert_int_equal(sodium_base642bin(decoded, sizeof decoded, line, strlen(line), NULL,
			     &decoded_len, NULL, sodium_base64_VARIANT_ORIGINAL),
	    0);
	assert_int_equal(decoded_len, sizeof decoded);
	assert_memory_equal(decoded, "stpk", 4);
	assert_memory_equal(decoded + 4, k->pk, 32);
	free(text);
}

static void
test_vector_keys(void **state)
{
	(void)state;
	check_pub_file("alice.pub", &alice, "874fc3c2ab6e810c");
	check_pub_file("bob.pub", &bob, "a038d1aed6d7eeda");
	check_pub_file("carol.pub", &carol, "98fb2a15236b5c86");
}

struct positive_vector {
	const char *name;
	const char *sha256_hex;
	unsigned nrecip;
	uint64_t payload_len;
	uint64_t unpadded_len;
	uint64_t files_total; /* sum of the manifest's file sizes */
};

static const struct positive_vector positive_vectors[] = {
    {"basic.env", "c1ad1413bc885a70523a67bc7978e3747f78accf3aec6f4e3adc00688c04a9cf", 1, 432, 418,
	0},
    {"two-recipients.env", "7fdd333d104a40bcc9028d6cd3cf924a07a9cb7be03065884a31355fd647f282", 2,
	3456, 3413, 3000},
    {"chunk-boundary.env", "c63f5888eda8f4932330f3b225f5ac922834f9c21976b7e587bc4988541c79b9", 1,
	131072, 130252, 130000},
    {"hostile-names.env", "159047db57e5554c145652caa0529374b622fc754eb340f1d5f884eaa525e573", 1,
	2560, 2554, 110},
};

static void
check_positive_payload(const struct positive_vector *v, const struct sink *plain)
{
	uint32_t manifest_len;
	uint64_t i;

	assert_int_equal(plain->len, v->payload_len);
	manifest_len = (uint32_t)plain->data[0] | (uint32_t)plain->data[1] << 8 |
	    (uint32_t)plain->data[2] << 16 | (uint32_t)plain->data[3] << 24;
	assert_int_equal(4 + (uint64_t)manifest_len + v->files_total, v->unpadded_len);
	assert_int_equal(plain->data[4], '{');
	assert_int_equal(plain->data[4 + manifest_len - 1], '}');
	assert_non_null(memmem(plain->data + 4, manifest_len, "\"v\"", 3));
	assert_non_null(memmem(plain->data + 4, manifest_len, "\"files\"", 7));
	for (i = v->unpadded_len; i < v->payload_len; i++)
		assert_int_equal(plain->data[i], 0);
}

static void
test_vectors_positive(void **state)
{
	const struct keypair *readers[] = {&alice, &bob};
	unsigned char hash[crypto_hash_sha256_BYTES], want[crypto_hash_sha256_BYTES];
	struct envelope_preamble parsed;
	struct sink plain = {0};
	unsigned char *envelope;
	uint64_t payload_len, derived;
	enum split split;
	size_t i, len;
	unsigned r;

	(void)state;
	for (i = 0; i < sizeof positive_vectors / sizeof positive_vectors[0]; i++) {
		const struct positive_vector *v = &positive_vectors[i];

		print_message("vector: %s\n", v->name);
		envelope = read_vector(v->name, &len);
		hex_to_bin(want, sizeof want, v->sha256_hex);
		crypto_hash_sha256(hash, envelope, len);
		assert_memory_equal(hash, want, sizeof hash);

		assert_int_equal(envelope_preamble_parse(envelope, len, &parsed), ST_OK);
		assert_int_equal(parsed.nrecip, v->nrecip);
		assert_int_equal(envelope_payload_length(len, v->nrecip, &derived), ST_OK);
		assert_int_equal(derived, v->payload_len);
		assert_int_equal(envelope_length(v->payload_len, v->nrecip), len);

		for (r = 0; r < v->nrecip; r++) {
			for (split = SPLIT_WHOLE; split <= SPLIT_RANDOM; split++) {
				assert_int_equal(open_envelope(readers[r], envelope, len, split,
						     &plain, &payload_len),
				    ST_OK);
				assert_int_equal(payload_len, v->payload_len);
				check_positive_payload(v, &plain);
				sink_clear(&plain);
			}
		}
		assert_refused(&carol, envelope, len, ST_ERR_NOT_RECIPIENT);
		if (v->nrecip == 1)
			assert_refused(&bob, envelope, len, ST_ERR_NOT_RECIPIENT);
		free(envelope);
	}
}

struct negative_vector {
	const char *name;
	int expected;	     /* opened with alice */
	int layout_status;   /* envelope_payload_length on the file's size */
	uint64_t layout_len; /* its answer when ST_OK */
	size_t plain_len;    /* plaintext handed on before the refusal */
};

/* Each status follows from the file's bytes, inspected, rather than from its
 * name; where the two could be confused a note says what the file is. */
static const struct negative_vector negative_vectors[] = {
    /* basic.env less its last 5 bytes: 444 bytes remain, enough to be a
     * chunk, so the cut shows as a chunk that does not authenticate. */
    {"bad-truncated.env", ST_ERR_CHUNK_AUTH, ST_OK, 427, 0},
    /* basic.env plus one byte after its short FINAL chunk: the reader
     * finds chunk ends by length, sees one 450-byte last chunk, and it
     * does not authenticate. Trailing bytes are told apart only after a
     * full FINAL chunk (test_trailing). */
    {"bad-trailing.env", ST_ERR_CHUNK_AUTH, ST_OK, 433, 0},
    {"bad-flipped-ciphertext.env", ST_ERR_CHUNK_AUTH, ST_OK, 432, 0},
    /* The flipped bit is the last byte of the secretstream header (offset
     * 120): alice's entry still opens, the first chunk does not. */
    {"bad-flipped-preamble.env", ST_ERR_CHUNK_AUTH, ST_OK, 432, 0},
    {"bad-version-2.env", ST_ERR_VERSION, ST_OK, 432, 0},
    {"bad-nrecip-0.env", ST_ERR_NRECIP, ST_ERR_NRECIP, 0, 0},
    {"bad-nrecip-17.env", ST_ERR_NRECIP, ST_ERR_NRECIP, 0, 0},
    {"bad-not-a-recipient.env", ST_ERR_NOT_RECIPIENT, ST_OK, 432, 0},
    /* One full MESSAGE chunk, nothing after: the length alone looks like
     * a canonical 65536-byte payload, only the tag tells. */
    {"bad-no-final.env", ST_ERR_NO_FINAL, ST_OK, 65536, CHUNK},
    {"bad-empty-final-after-full.env", ST_ERR_LAYOUT, ST_ERR_LAYOUT, 0, 2 * CHUNK},
    /* A 100-byte MESSAGE chunk then a 332-byte FINAL one: 466 bytes after
     * the preamble, read as one last chunk, which does not authenticate. */
    {"bad-short-message-chunk.env", ST_ERR_CHUNK_AUTH, ST_OK, 449, 0},
    {"bad-no-ad.env", ST_ERR_CHUNK_AUTH, ST_OK, 432, 0},
    /* Sound envelopes around bad payloads: refused by the payload reader. */
    {"bad-bad-padding.env", ST_OK, ST_OK, 432, 432},
    {"bad-manifest-bad-utf8.env", ST_OK, ST_OK, 72, 72},
    {"bad-manifest-duplicate-key.env", ST_OK, ST_OK, 80, 80},
    {"bad-manifest-len-too-big.env", ST_OK, ST_OK, 240, 240},
    {"bad-manifest-not-json.env", ST_OK, ST_OK, 12, 12},
    {"bad-sizes-exceed-payload.env", ST_OK, ST_OK, 224, 224},
    {"bad-not-padme-length.env", ST_OK, ST_OK, 226, 226},
};

static void
test_vectors_negative(void **state)
{
	struct sink plain = {0};
	unsigned char *envelope;
	uint64_t payload_len, derived;
	enum split split;
	size_t i, len;

	(void)state;
	for (i = 0; i < sizeof negative_vectors / sizeof negative_vectors[0]; i++) {
		const struct negative_vector *v = &negative_vectors[i];

		print_message("vector: %s\n", v->name);
		envelope = read_vector(v->name, &len);
		assert_true(len > 8);
		assert_int_equal(
		    envelope_payload_length(len, envelope[8], &derived), v->layout_status);
		if (v->layout_status == ST_OK)
			assert_int_equal(derived, v->layout_len);
		for (split = SPLIT_WHOLE; split <= SPLIT_RANDOM; split++) {
			assert_int_equal(
			    open_envelope(&alice, envelope, len, split, &plain, &payload_len),
			    v->expected);
			assert_int_equal(plain.len, v->plain_len);
			if (v->expected == ST_OK) {
				assert_int_equal(payload_len, v->layout_len);
				assert_int_equal(envelope_length(payload_len, envelope[8]), len);
			}
			sink_clear(&plain);
		}
		free(envelope);
	}
}

static int
setup_keys(void **state)
{
	unsigned char seed[crypto_box_SEEDBYTES];
	unsigned i;

	(void)state;
	for (i = 0; i < TEST_KEYS; i++) {
		memset(seed, 0, sizeof seed);
		seed[0] = (unsigned char)(i + 1);
		assert_int_equal(crypto_box_seed_keypair(keys[i].pk, keys[i].sk, seed), 0);
		memcpy(pks[i], keys[i].pk, 32);
	}
	return 0;
}

#define ROUND_TRIP(i, size)                                                                        \
	{                                                                                          \
		"round_trip_" size, test_round_trip, NULL, NULL, (void *)&round_trip_lengths[i]    \
	}

int
main(void)
{
	const struct CMUnitTest round_trips[] = {
	    ROUND_TRIP(0, "0"),
	    ROUND_TRIP(1, "1"),
	    ROUND_TRIP(2, "65535"),
	    ROUND_TRIP(3, "65536"),
	    ROUND_TRIP(4, "65537"),
	    ROUND_TRIP(5, "131072"),
	    ROUND_TRIP(6, "10MiB"),
	    cmocka_unit_test(test_streaming),
	    cmocka_unit_test(test_seal_arguments),
	    cmocka_unit_test(test_seal_callback_fails),
	    cmocka_unit_test(test_open_arguments),
	    cmocka_unit_test(test_open_callback_fails),
	};
	const struct CMUnitTest malformed[] = {
	    cmocka_unit_test(test_truncated),
	    cmocka_unit_test(test_trailing),
	    cmocka_unit_test(test_flipped_bytes),
	    cmocka_unit_test(test_bad_preamble_fields),
	    cmocka_unit_test(test_hand_built_streams),
	    cmocka_unit_test(test_recipient_entries),
	};
	const struct CMUnitTest lengths[] = {
	    cmocka_unit_test(test_length_values),
	    cmocka_unit_test(test_length_inverse),
	    cmocka_unit_test(test_length_rejects_non_canonical),
	    cmocka_unit_test(test_length_overflow),
	    cmocka_unit_test(test_preamble_parse),
	};
	const struct CMUnitTest vectors[] = {
	    cmocka_unit_test(test_vector_keys),
	    cmocka_unit_test(test_vectors_positive),
	    cmocka_unit_test(test_vectors_negative),
	};
	int failed = 0;

	if (sodium_init() < 0) {
		fprintf(stderr, "sodium_init failed\n");
		return 1;
	}
	failed +=
	    cmocka_run_group_tests_name("envelope round trips", round_trips, setup_keys, NULL);
	failed += cmocka_run_group_tests_name("envelope malformed", malformed, setup_keys, NULL);
	failed += cmocka_run_group_tests_name("envelope lengths", lengths, setup_keys, NULL);
	failed += cmocka_run_group_tests_name("envelope vectors", vectors, setup_vector_keys, NULL);
	return failed == 0 ? 0 : 1;
}
