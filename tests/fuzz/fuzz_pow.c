/* libFuzzer target: the proof-of-work checks sealtipd runs on every report's
 * headers, before a byte of the body is read (crypto/pow.c,
 * src/pow_gate.c). The first input byte picks the part:
 *
 *  - even: the rest is a Sealtip-Pow header value. pow_gate_parse must
 *    accept exactly the canonical form: what it accepts, formatted back,
 *    parses to the same bytes; pow_gate_check on a gate (its own random key)
 *    must answer without crashing, never OK for a challenge it did not make,
 *    and the same header twice never OK twice.
 *  - odd: the rest is a raw challenge, verified with a fixed key; then the
 *    same bytes with their MAC recomputed under that key, so the fuzzer gets
 *    past the MAC to the version, difficulty and expiry checks, whose answer
 *    must follow from the fields alone. */
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pow.h"
#include "pow_gate.h"

#include "guard.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_POW_KEY "sealtip fuzz_pow challenge key!!" /* 32 bytes */
#define FUZZ_POW_BITS 8
#define FUZZ_POW_NOW 1800000000u
/* version || bits || expiry: what the MAC covers with the random bytes */
#define FUZZ_POW_SIGNED (POW_CHALLENGE_BYTES - POW_MAC_BYTES)

static struct pow_gate gate;

static void
init_once(void)
{
	static int done;

	if (done)
		return;
	if (sodium_init() < 0 || pow_gate_init(&gate, FUZZ_POW_BITS, 300) != 0)
		abort();
	done = 1;
}

static void
fuzz_header(const uint8_t *data, size_t size)
{
	unsigned char challenge[POW_CHALLENGE_BYTES], leaf[POW_LEAF_BYTES], nonce[POW_NONCE_BYTES];
	unsigned char challenge2[POW_CHALLENGE_BYTES], leaf2[POW_LEAF_BYTES],
	    nonce2[POW_NONCE_BYTES], claimed[POW_LEAF_BYTES];
	char canonical[POW_GATE_HEADER_MAX], b64[POW_CHALLENGE_B64_LEN + 1],
	    leaf_hex[2 * POW_LEAF_BYTES + 1], nonce_hex[2 * POW_NONCE_BYTES + 1];
	char *header;
	enum pow_gate_result first, second;

	/* A header value is a C string to the gate, as libmicrohttpd hands it. */
	if ((header = malloc(size + 1)) == NULL)
		abort();
	memcpy(header, data, size);
	header[size] = '\0';
	if (pow_gate_parse(header, challenge, leaf, nonce) == 0) {
		sodium_bin2base64(b64, sizeof b64, challenge, sizeof challenge,
		    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
		sodium_bin2hex(leaf_hex, sizeof leaf_hex, leaf, sizeof leaf);
		sodium_bin2hex(nonce_hex, sizeof nonce_hex, nonce, sizeof nonce);
		snprintf(canonical, sizeof canonical, "challenge=%s; leaf=%s; nonce=%s", b64,
		    leaf_hex, nonce_hex);
		if (pow_gate_parse(canonical, challenge2, leaf2, nonce2) != 0 ||
		    memcmp(challenge, challenge2, sizeof challenge) != 0 ||
		    memcmp(leaf, leaf2, sizeof leaf) != 0 || memcmp(nonce, nonce2, sizeof nonce) != 0)
			abort();
	}
	/* The gate's key is its own: nothing from outside can carry its MAC. */
	first = pow_gate_check(&gate, header, FUZZ_POW_NOW, claimed);
	second = pow_gate_check(&gate, header, FUZZ_POW_NOW, claimed);
	if (first == POW_GATE_OK || second == POW_GATE_OK)
		abort();
	(void)pow_gate_code(first);
	(void)pow_gate_message(second);
	free(header);
}

static void
fuzz_challenge(const uint8_t *data, size_t size)
{
	const unsigned char *key = (const unsigned char *)FUZZ_POW_KEY;
	unsigned char fixed[POW_CHALLENGE_BYTES];
	struct pow_challenge c;
	enum pow_result r, want;
	uint64_t expiry = 0;
	unsigned i;

	r = pow_challenge_verify(data, size, key, FUZZ_POW_BITS, FUZZ_POW_NOW, &c);
	if (r == POW_OK && (size != POW_CHALLENGE_BYTES || c.bits != FUZZ_POW_BITS))
		abort();
	if (size != POW_CHALLENGE_BYTES)
		return;
	/* The same fields under a MAC the key really made. */
	memcpy(fixed, data, FUZZ_POW_SIGNED);
	crypto_generichash(fixed + FUZZ_POW_SIGNED, POW_MAC_BYTES, fixed, FUZZ_POW_SIGNED, key,
	    POW_KEY_BYTES);
	for (i = 0; i < 8; i++)
		expiry = expiry << 8 | fixed[2 + i];
	if (fixed[0] != POW_VERSION)
		want = POW_MALFORMED;
	else if (expiry <= FUZZ_POW_NOW)
		want = POW_EXPIRED;
	else if (fixed[1] != FUZZ_POW_BITS)
		want = POW_BITS_CHANGED;
	else
		want = POW_OK;
	r = pow_challenge_verify(fixed, sizeof fixed, key, FUZZ_POW_BITS, FUZZ_POW_NOW, &c);
	/* Which of two wrong fields is named first is the verifier's choice;
	 * that it is refused, and OK exactly when all are right, is not. */
	if ((r == POW_OK) != (want == POW_OK) || r == POW_BAD_MAC)
		abort();
	if (r == POW_OK && (c.expiry != expiry || c.bits != FUZZ_POW_BITS ||
			       memcmp(c.random, fixed + 10, POW_RANDOM_BYTES) != 0))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *copy;

	init_once();
	if (size == 0)
		return 0;
	copy = fuzz_guarded_copy(data + 1, size - 1);
	if (data[0] % 2 == 0)
		fuzz_header(copy, size - 1);
	else
		fuzz_challenge(copy, size - 1);
	return 0;
}
