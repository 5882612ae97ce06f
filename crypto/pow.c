#include <string.h>

#include <sodium.h>

#include "pow.h"
#include "sha256.h"

#define POW_SIGNED_BYTES (POW_CHALLENGE_BYTES - POW_MAC_BYTES)

static void
pow_mac(unsigned char mac[POW_MAC_BYTES], const unsigned char signed_part[POW_SIGNED_BYTES],
    const unsigned char key[POW_KEY_BYTES])
{
	/* Keyed BLAKE2b: a PRF, so a 128-bit tag is a 128-bit forgery bound. */
	crypto_generichash(mac, POW_MAC_BYTES, signed_part, POW_SIGNED_BYTES, key, POW_KEY_BYTES);
}

void
pow_challenge_make(unsigned char out[POW_CHALLENGE_BYTES], const unsigned char key[POW_KEY_BYTES],
    unsigned bits, uint64_t expiry)
{
	int i;

	out[0] = POW_VERSION;
	out[1] = (unsigned char)bits;
	for (i = 0; i < 8; i++)
		out[2 + i] = (unsigned char)(expiry >> (56 - 8 * i));
	randombytes_buf(out + 10, POW_RANDOM_BYTES);
	pow_mac(out + POW_SIGNED_BYTES, out, key);
}

enum pow_result
pow_challenge_verify(const unsigned char *challenge, size_t len,
    const unsigned char key[POW_KEY_BYTES], unsigned bits, uint64_t now, struct pow_challenge *c)
{
	unsigned char mac[POW_MAC_BYTES];
	uint64_t expiry = 0;
	int i;

	if (len != POW_CHALLENGE_BYTES || challenge[0] != POW_VERSION)
		return POW_MALFORMED;
	pow_mac(mac, challenge, key);
	if (sodium_memcmp(mac, challenge + POW_SIGNED_BYTES, POW_MAC_BYTES) != 0)
		return POW_BAD_MAC;
	for (i = 0; i < 8; i++)
		expiry = expiry << 8 | challenge[2 + i];
	if (now >= expiry)
		return POW_EXPIRED;
	if (challenge[1] != bits)
		return POW_BITS_CHANGED;
	c->bits = challenge[1];
	c->expiry = expiry;
	memcpy(c->random, challenge + 10, POW_RANDOM_BYTES);
	return POW_OK;
}

void
pow_work(unsigned char out[32], const unsigned char challenge[POW_CHALLENGE_BYTES],
    const unsigned char leaf_hash[POW_LEAF_BYTES], const unsigned char nonce[POW_NONCE_BYTES])
{
	struct sha256 s;

	sha256_init(&s);
	sha256_update(&s, challenge, POW_CHALLENGE_BYTES);
	sha256_update(&s, leaf_hash, POW_LEAF_BYTES);
	sha256_update(&s, nonce, POW_NONCE_BYTES);
	sha256_final(&s, out);
}

unsigned
pow_leading_zero_bits(const unsigned char hash[32])
{
	unsigned n = 0, i;
	unsigned char b;

	for (i = 0; i < 32 && hash[i] == 0; i++)
		n += 8;
	if (i == 32)
		return n;
	for (b = hash[i]; (b & 0x80) == 0; b = (unsigned char)(b << 1))
		n++;
	return n;
}

enum pow_result
pow_work_check(const unsigned char challenge[POW_CHALLENGE_BYTES],
    const unsigned char leaf_hash[POW_LEAF_BYTES], const unsigned char nonce[POW_NONCE_BYTES],
    unsigned bits)
{
	unsigned char h[32];

	pow_work(h, challenge, leaf_hash, nonce);
	return pow_leading_zero_bits(h) >= bits ? POW_OK : POW_INSUFFICIENT;
}

uint64_t
pow_solve(const unsigned char challenge[POW_CHALLENGE_BYTES],
    const unsigned char leaf_hash[POW_LEAF_BYTES], unsigned bits, uint64_t start,
    unsigned char nonce[POW_NONCE_BYTES], void (*progress)(uint64_t tries, void *ctx), void *ctx)
{
	uint64_t tries = 0, n;
	int i;

	for (n = start;; n++) {
		for (i = 0; i < POW_NONCE_BYTES; i++)
			nonce[i] = (unsigned char)(n >> (56 - 8 * i));
		tries++;
		if (pow_work_check(challenge, leaf_hash, nonce, bits) == POW_OK)
			return tries;
		if (progress != NULL && (tries & 0xffff) == 0)
			progress(tries, ctx);
	}
}
