/* Proof of work for report submissions (docs/api.md, "Proof of work"): a
 * challenge is made without server state, a MAC over version, difficulty,
 * expiry and randomness; a solution is a nonce such that
 * SHA-256(challenge || leaf_hash || nonce) starts with `bits` zero bits,
 * which binds it to one envelope. Pure: no clock, no HTTP, no storage. */
#ifndef SEALTIP_POW_H
#define SEALTIP_POW_H

#include <stddef.h>
#include <stdint.h>

#define POW_VERSION 1
#define POW_KEY_BYTES 32
#define POW_RANDOM_BYTES 16
#define POW_MAC_BYTES 16
/* version (1) || bits (1) || expiry, unix seconds big-endian (8) || random
 * (16) || MAC (16) */
#define POW_CHALLENGE_BYTES (1 + 1 + 8 + POW_RANDOM_BYTES + POW_MAC_BYTES)
/* base64url without padding: 42 bytes are exactly 56 characters */
#define POW_CHALLENGE_B64_LEN 56
#define POW_LEAF_BYTES 32
#define POW_NONCE_BYTES 8
#define POW_MAX_BITS 32

enum pow_result {
	POW_OK = 0,
	POW_MALFORMED, /* wrong length or version */
	POW_BAD_MAC,   /* not made with this key (or another server, or before a restart) */
	POW_EXPIRED,
	POW_BITS_CHANGED, /* made for another difficulty than the one asked now */
	POW_INSUFFICIENT  /* the work has fewer leading zero bits than asked */
};

/* The fields of a challenge whose MAC checked. */
struct pow_challenge {
	unsigned bits;
	uint64_t expiry;
	unsigned char random[POW_RANDOM_BYTES];
};

/* Fills out with a new challenge for bits (<= POW_MAX_BITS) expiring at
 * expiry, with fresh random bytes, MAC'd under key. */
void pow_challenge_make(unsigned char out[POW_CHALLENGE_BYTES],
    const unsigned char key[POW_KEY_BYTES], unsigned bits, uint64_t expiry);

/* Checks length, version and MAC (in constant time), then that now is
 * before the expiry and the difficulty is bits. On POW_OK fills *c. */
enum pow_result pow_challenge_verify(const unsigned char *challenge, size_t len,
    const unsigned char key[POW_KEY_BYTES], unsigned bits, uint64_t now, struct pow_challenge *c);

/* out = SHA-256(challenge || leaf_hash || nonce). */
void pow_work(unsigned char out[32], const unsigned char challenge[POW_CHALLENGE_BYTES],
    const unsigned char leaf_hash[POW_LEAF_BYTES], const unsigned char nonce[POW_NONCE_BYTES]);

/* Leading zero bits of a 32-byte hash read big-endian (0..256). */
unsigned pow_leading_zero_bits(const unsigned char hash[32]);

/* POW_OK when the work for this challenge, leaf hash and nonce has at least
 * bits leading zero bits, else POW_INSUFFICIENT. */
enum pow_result pow_work_check(const unsigned char challenge[POW_CHALLENGE_BYTES],
    const unsigned char leaf_hash[POW_LEAF_BYTES], const unsigned char nonce[POW_NONCE_BYTES],
    unsigned bits);

/* Finds a nonce by counting up from start (for the CLI and tests; the page
 * has its own in JavaScript). progress, if not NULL, is called every 2^16
 * tries with the count so far. Returns the number of tries. */
uint64_t pow_solve(const unsigned char challenge[POW_CHALLENGE_BYTES],
    const unsigned char leaf_hash[POW_LEAF_BYTES], unsigned bits, uint64_t start,
    unsigned char nonce[POW_NONCE_BYTES], void (*progress)(uint64_t tries, void *ctx), void *ctx);

#endif
