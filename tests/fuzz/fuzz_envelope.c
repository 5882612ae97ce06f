/* libFuzzer target: the envelope reader (crypto/envelope.c).
 *
 * Input: one control byte, then the envelope bytes. The control byte picks
 * how the envelope is cut into envelope_open_update calls, so the reader's
 * buffering across the preamble, the chunk boundaries and the end is
 * exercised in every split, not just the one the tools happen to use. The
 * reader holds the key pair the envelope names among the five of
 * tests/vectors (alice's when none), so seeds made from the vectors really
 * decrypt and the fuzzer mutates real streams.
 * The decrypted bytes go on into a payload reader, as in `sealtip open`.
 *
 * The envelope bytes also go through envelope_preamble_parse (whole, and
 * every prefix length up to the longest preamble) and envelope_payload_length
 * for every recipient count, checking the promises their headers make. */
#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "envelope.h"
#include "payload.h"
#include "status.h"

#include "guard.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The X25519 secret keys of tests/vectors: alice, bob, carol (shared) and
 * dana, eli (own). */
static const char *const box_sk_hex[] = {
    "8a9ef0faef18e6f895bc42f2bb507fff605878d9c63ce7e182036e0abb2b01ab",
    "b8b5e22b85bbd9b61882098c42032d825ea342e6ad32281e9a735fb09e9691ea",
    "600df81cf37d8c7517a6d27e4b56b134619796b383ecc391fe6388d3866167eb",
    "4f2d7c1e9a0b3c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5",
    "1122334455667788990011223344556677889900aabbccddeeff001122334455",
};
#define NKEYS (sizeof box_sk_hex / sizeof box_sk_hex[0])
static unsigned char box_sk[NKEYS][32], box_pk[NKEYS][32], key_id[NKEYS][ENVELOPE_KEY_ID_BYTES];

struct sink {
	struct payload_reader *payload;
	uint64_t plaintext; /* bytes the reader handed on */
};

static int
on_plaintext(void *ctx, const unsigned char *buf, size_t len)
{
	struct sink *s = ctx;

	s->plaintext += len;
	/* A payload error is not an envelope error: keep the envelope going so
	 * its own checks run to the end. */
	(void)payload_reader_write(s->payload, buf, len);
	return 0;
}

static void
init_once(void)
{
	static int done;

	if (done)
		return;
	if (sodium_init() < 0)
		abort();
	for (size_t i = 0; i < NKEYS; i++) {
		unsigned char h[32];

		if (sodium_hex2bin(box_sk[i], 32, box_sk_hex[i], 64, NULL, NULL, NULL) != 0 ||
		    crypto_scalarmult_base(box_pk[i], box_sk[i]) != 0)
			abort();
		/* key id = BLAKE2b-256(box_pk)[:8] (DESIGN.md) */
		crypto_generichash(h, sizeof h, box_pk[i], 32, NULL, 0);
		memcpy(key_id[i], h, ENVELOPE_KEY_ID_BYTES);
	}
	done = 1;
}

/* The length of the i-th piece for control byte c: c == 0 feeds everything
 * at once; otherwise a base step of 1..16 bytes times 2^(0..15), alternating
 * with a shorter piece so that consecutive cuts do not line up. */
static size_t
piece_length(uint8_t c, size_t i)
{
	size_t step;

	if (c == 0)
		return SIZE_MAX;
	step = ((size_t)(c & 0x0f) + 1) << (c >> 4);
	if (i % 2 == 1)
		step = step / 3 + 1;
	return step;
}

/* Checks the preamble parser; returns the key the envelope names first
 * among ours (as `sealtip open` would pick it), or alice's. */
static size_t
check_preamble(const uint8_t *env, size_t len)
{
	struct envelope_preamble p;
	size_t cut, chosen = NKEYS;
	int rc;

	rc = envelope_preamble_parse(env, len, &p);
	if (rc == ST_OK) {
		if (p.nrecip < ENVELOPE_MIN_RECIPIENTS || p.nrecip > ENVELOPE_MAX_RECIPIENTS ||
		    p.length != ENVELOPE_PREAMBLE_BYTES(p.nrecip) || p.length > len)
			abort();
		/* Every shorter prefix must ask for more bytes, never succeed. */
		for (unsigned r = 0; r < p.nrecip; r++)
			for (size_t k = 0; k < NKEYS; k++)
				if (memcmp(p.key_ids[r], key_id[k], ENVELOPE_KEY_ID_BYTES) == 0)
					chosen = chosen == NKEYS ? k : chosen;
		for (cut = 0; cut < p.length; cut += 1 + cut / 8)
			if (envelope_preamble_parse(env, cut, &p) != ST_ERR_TRUNCATED)
				abort();
	} else if (rc != ST_ERR_TRUNCATED && rc != ST_ERR_MAGIC && rc != ST_ERR_VERSION &&
		   rc != ST_ERR_NRECIP) {
		abort();
	}
	return chosen == NKEYS ? 0 : chosen;
}

static void
check_payload_length(uint64_t len)
{
	uint64_t payload;
	unsigned n;
	int rc;

	for (n = 0; n <= ENVELOPE_MAX_RECIPIENTS + 1; n++) {
		rc = envelope_payload_length(len, n, &payload);
		if (rc == ST_OK) {
			/* The layout it found must give back the same length. */
			if (envelope_length(payload, n) != len)
				abort();
		} else if (rc != ST_ERR_LAYOUT && rc != ST_ERR_NRECIP) {
			abort();
		}
	}
	/* Lengths near the top of the range, derived from the input. */
	for (n = 1; n <= ENVELOPE_MAX_RECIPIENTS; n += 5) {
		rc = envelope_payload_length(UINT64_MAX - len, n, &payload);
		if (rc == ST_OK && envelope_length(payload, n) != UINT64_MAX - len)
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct envelope_open *o = NULL;
	struct payload_sink psink;
	struct sink s;
	const uint8_t *env;
	size_t len, off, n, i, k;
	uint64_t payload_len = 0;
	int rc, rc_update = ST_OK, rc_final;

	data = fuzz_guarded_copy(data, size);

	init_once();
	if (size < 1)
		return 0;
	env = data + 1;
	len = size - 1;

	k = check_preamble(env, len);
	check_payload_length(len);

	memset(&psink, 0, sizeof psink);
	memset(&s, 0, sizeof s);
	if (payload_reader_new(&s.payload, &psink) != ST_OK)
		abort();
	rc = envelope_open_new(&o, box_pk[k], box_sk[k], on_plaintext, &s);
	if (rc != ST_OK)
		abort();
	for (off = 0, i = 0; off < len; off += n, i++) {
		n = piece_length(data[0], i);
		if (n > len - off)
			n = len - off;
		rc = envelope_open_update(o, env + off, n);
		if (rc_update != ST_OK && rc != rc_update)
			abort(); /* errors are documented as sticky */
		if (rc != ST_OK)
			rc_update = rc;
	}
	rc_final = envelope_open_final(o, &payload_len);
	if (rc_final == ST_OK) {
		const struct envelope_preamble *p = envelope_open_preamble(o);
		uint64_t from_layout;

		/* Success: the bytes handed on are the payload, and the server's
		 * key-less length check agrees with the reader. */
		if (rc_update != ST_OK || p == NULL || payload_len != s.plaintext ||
		    envelope_payload_length(len, p->nrecip, &from_layout) != ST_OK ||
		    from_layout != payload_len || envelope_length(payload_len, p->nrecip) != len)
			abort();
		(void)payload_reader_finish(s.payload);
	}
	envelope_open_free(o);
	payload_reader_free(s.payload);
	return 0;
}
