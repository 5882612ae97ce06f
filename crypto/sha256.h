/* Streaming SHA-256 (FIPS 180-4) for the hot paths: attachment hashes and the
 * Merkle log. Uses the x86 SHA extensions when the CPU has them and libsodium's
 * crypto_hash_sha256 everywhere else; both give the same digests, only the
 * speed differs. */
#ifndef SEALTIP_SHA256_H
#define SEALTIP_SHA256_H

#include <stddef.h>
#include <stdint.h>

#include <sodium.h>

#define SHA256_BYTES 32
#define SHA256_BLOCK_BYTES 64

/* Callers only pass it around; the fields are sha256.c's. Which engine a
 * state uses is fixed by sha256_init, so a state never changes engine
 * midway, whatever sha256_force_portable does meanwhile. */
struct sha256 {
	union {
		struct {
			uint32_t h[8];
			uint64_t total; /* bytes hashed so far; total % 64 are in buf */
			unsigned char buf[SHA256_BLOCK_BYTES];
		} ni;
		crypto_hash_sha256_state sodium;
	} u;
	int portable;
};

/* Starts a hash, choosing the engine: SHA-NI when CPUID reports SHA and
 * SSE4.1, unless SEALTIP_SHA256=portable is in the environment (read once,
 * on the first choice; for valgrind and other emulators that lack or
 * mis-handle the instructions) or sha256_force_portable(1) is in effect. */
void sha256_init(struct sha256 *s);

/* Adds len bytes (data may be NULL when len is 0). Whole 64-byte blocks are
 * hashed straight from data; at most 63 bytes are copied into the state. */
void sha256_update(struct sha256 *s, const unsigned char *data, size_t len);

/* Writes the digest and wipes the state; init it again before reuse. */
void sha256_final(struct sha256 *s, unsigned char out[SHA256_BYTES]);

/* One call: init, update, final. */
void sha256(unsigned char out[SHA256_BYTES], const unsigned char *data, size_t len);

/* "sha-ni" or "libsodium": what sha256_init would pick now. For benchmarks
 * and logs. */
const char *sha256_implementation(void);

/* Test hook: non-zero makes later sha256_init calls use libsodium even where
 * SHA-NI is available, zero restores the CPU's choice (the environment
 * variable above still wins). Lets one test run check both engines. States
 * already started keep their engine. Not for production code. */
void sha256_force_portable(int on);

#endif
