/*
 * SHA-256 (FIPS 180-4) with the x86 SHA extensions, libsodium elsewhere.
 *
 * libsodium's crypto_hash_sha256 is portable C; on a CPU with SHA-NI the
 * block function below is several times faster, and SHA-256 runs over every
 * decrypted attachment and every stored envelope. Only the block function is
 * ours: padding and length encoding follow FIPS 180-4 section 5.1.1, and the
 * tests hold every result to libsodium's.
 *
 * The intrinsics are compiled per function with a target attribute, so this
 * file builds with the project's ordinary flags and the instructions only run
 * after CPUID said they exist.
 */
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "sha256.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#include <immintrin.h>
#define SHA256_HAVE_NI 1
#endif

enum {
	SHA256_UNDECIDED = 0,
	SHA256_NI,
	SHA256_SODIUM,
};

/* The CPU's answer, decided by the first sha256_init and kept; atomic so
 * that threads racing on the first call agree on one value without a lock. */
static atomic_int sha256_engine_chosen = SHA256_UNDECIDED;
/* The test hook; separate so that turning it off restores the CPU's answer. */
static atomic_int sha256_forced;

/* The environment is read here, once: a variable set later has no effect, and
 * nothing needs a lock around getenv. Only "portable" means anything; other
 * values leave the choice to the CPU, since choosing slower can never break a
 * hash and a library has no good way to refuse a bad setting. */
static int
sha256_detect(void)
{
	const char *env;

	env = getenv("SEALTIP_SHA256");
	if (env != NULL && strcmp(env, "portable") == 0)
		return SHA256_SODIUM;
#ifdef SHA256_HAVE_NI
	{
		unsigned int a, b, c, d;

		/* Leaf 1 ECX bit 19: SSE4.1 (which implies the SSSE3 byte shuffle
		 * and alignr used below). */
		if (!__get_cpuid(1, &a, &b, &c, &d) || (c & (1u << 19)) == 0)
			return SHA256_SODIUM;
		/* Leaf 7 subleaf 0 EBX bit 29: SHA; __get_cpuid_count fails when
		 * leaf 7 is beyond the CPU's maximum. */
		if (!__get_cpuid_count(7, 0, &a, &b, &c, &d) || (b & (1u << 29)) == 0)
			return SHA256_SODIUM;
		return SHA256_NI;
	}
#else
	return SHA256_SODIUM;
#endif
}

static int
sha256_engine(void)
{
	int chosen, expected;

	chosen = atomic_load(&sha256_engine_chosen);
	if (chosen == SHA256_UNDECIDED) {
		chosen = sha256_detect();
		expected = SHA256_UNDECIDED;
		/* A thread that lost the race takes the winner's answer. */
		if (!atomic_compare_exchange_strong(&sha256_engine_chosen, &expected, chosen))
			chosen = expected;
	}
	if (atomic_load(&sha256_forced))
		return SHA256_SODIUM;
	return chosen;
}

void
sha256_force_portable(int on)
{
	atomic_store(&sha256_forced, on != 0);
}

const char *
sha256_implementation(void)
{
	return sha256_engine() == SHA256_NI ? "sha-ni" : "libsodium";
}

#ifdef SHA256_HAVE_NI

/* FIPS 180-4 4.2.2: the first 32 bits of the fractional parts of the cube
 * roots of the first 64 primes, four to a line as printed there (hence no
 * clang-format). Aligned so four load as one vector. */
/* clang-format off */
static _Alignas(16) const uint32_t sha256_k[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5,
	0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
	0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
	0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
	0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc,
	0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
	0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
	0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
	0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
	0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3,
	0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5,
	0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
	0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

/* FIPS 180-4 5.3.3: the first 32 bits of the fractional parts of the square
 * roots of the first 8 primes. */
static const uint32_t sha256_h0[8] = {
	0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
	0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
};
/* clang-format on */

/*
 * Four rounds t..t+3 with message words w (lane j = W[t+j]).
 *
 * SHA256RNDS2 takes the state split as {A,B,E,F} (second operand) and
 * {C,D,G,H} (first operand), A and C in the top lane, and W+K for two rounds
 * in the low two lanes of the third. It returns the new {A,B,E,F}; after two
 * rounds the new C,D,G,H are the old A,B,E,F, so the old ABEF becomes CDGH.
 */
__attribute__((target("sha,sse4.1"))) static inline void
sha256_ni_rounds4(__m128i *abef, __m128i *cdgh, __m128i w, unsigned int t)
{
	__m128i wk, next;

	wk = _mm_add_epi32(w, _mm_load_si128((const __m128i *)&sha256_k[t]));
	next = _mm_sha256rnds2_epu32(*cdgh, *abef, wk);
	*cdgh = *abef;
	*abef = next;
	/* Lanes 2 and 3 down to 0 and 1 for rounds t+2 and t+3. */
	next = _mm_sha256rnds2_epu32(*cdgh, *abef, _mm_shuffle_epi32(wk, 0x0e));
	*cdgh = *abef;
	*abef = next;
}

/*
 * W[t..t+3] for t >= 16 from m0..m3 = W[t-16..t-1] (FIPS 180-4 6.2.2 step 1):
 * W[t] = s1(W[t-2]) + W[t-7] + s0(W[t-15]) + W[t-16].
 *
 * SHA256MSG1(m0, m1) gives lane j = W[t-16+j] + s0(W[t-15+j]). W[t-7+j]
 * straddles m2 and m3, so alignr shifts it out of the pair. SHA256MSG2 adds
 * s1(W[t-2]) and s1(W[t-1]) (lanes 2 and 3 of m3) to the low two lanes, then
 * s1 of those two fresh words to the high two: W[t+2] needs W[t], which is
 * why it is one instruction and not a vector add.
 */
__attribute__((target("sha,sse4.1"))) static inline __m128i
sha256_ni_schedule(__m128i m0, __m128i m1, __m128i m2, __m128i m3)
{
	__m128i x;

	x = _mm_add_epi32(_mm_sha256msg1_epu32(m0, m1), _mm_alignr_epi8(m3, m2, 4));
	return _mm_sha256msg2_epu32(x, m3);
}

/* Hashes nblocks 64-byte blocks at p into h, in FIPS 180-4 word order. The
 * state stays in registers across blocks, so callers should pass as many
 * blocks at once as they have. */
__attribute__((target("sha,sse4.1"))) static void
sha256_ni_blocks(uint32_t h[8], const unsigned char *p, size_t nblocks)
{
	/* Reverses the bytes of each 32-bit lane: message words are big-endian. */
	const __m128i bswap = _mm_set_epi8(12, 13, 14, 15, 8, 9, 10, 11, 4, 5, 6, 7, 0, 1, 2, 3);
	__m128i abef, cdgh, abef_in, cdgh_in, m0, m1, m2, m3, next, t0, t1;
	unsigned int t;

	/* h as lanes (low first) {A,B,C,D} and {E,F,G,H} into {F,E,B,A} and
	 * {H,G,D,C}: ABEF and CDGH with A and C on top, as SHA256RNDS2 wants. */
	t0 = _mm_loadu_si128((const __m128i *)&h[0]);
	t1 = _mm_loadu_si128((const __m128i *)&h[4]);
	abef = _mm_shuffle_epi32(_mm_unpacklo_epi64(t1, t0), 0xb1);
	cdgh = _mm_shuffle_epi32(_mm_unpackhi_epi64(t1, t0), 0xb1);

	for (; nblocks > 0; nblocks--, p += SHA256_BLOCK_BYTES) {
		abef_in = abef;
		cdgh_in = cdgh;
		m0 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 0)), bswap);
		m1 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 16)), bswap);
		m2 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 32)), bswap);
		m3 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 48)), bswap);
		/* Rounds 0..47 also extend the schedule by the four words that
		 * rounds t+16..t+19 will need; the last 16 rounds need none. */
		for (t = 0; t < 48; t += 4) {
			sha256_ni_rounds4(&abef, &cdgh, m0, t);
			next = sha256_ni_schedule(m0, m1, m2, m3);
			m0 = m1;
			m1 = m2;
			m2 = m3;
			m3 = next;
		}
		sha256_ni_rounds4(&abef, &cdgh, m0, 48);
		sha256_ni_rounds4(&abef, &cdgh, m1, 52);
		sha256_ni_rounds4(&abef, &cdgh, m2, 56);
		sha256_ni_rounds4(&abef, &cdgh, m3, 60);
		abef = _mm_add_epi32(abef, abef_in);
		cdgh = _mm_add_epi32(cdgh, cdgh_in);
	}

	/* Back from {F,E,B,A}, {H,G,D,C} to {A,B,C,D}, {E,F,G,H}. */
	abef = _mm_shuffle_epi32(abef, 0xb1);
	cdgh = _mm_shuffle_epi32(cdgh, 0xb1);
	_mm_storeu_si128((__m128i *)&h[0], _mm_unpackhi_epi64(abef, cdgh));
	_mm_storeu_si128((__m128i *)&h[4], _mm_unpacklo_epi64(abef, cdgh));
}

static void
sha256_ni_update(struct sha256 *s, const unsigned char *data, size_t len)
{
	size_t used, n;

	used = (size_t)(s->u.ni.total % SHA256_BLOCK_BYTES);
	s->u.ni.total += len;
	if (used > 0) {
		n = SHA256_BLOCK_BYTES - used;
		if (n > len)
			n = len;
		memcpy(s->u.ni.buf + used, data, n);
		data += n;
		len -= n;
		if (used + n < SHA256_BLOCK_BYTES)
			return;
		sha256_ni_blocks(s->u.ni.h, s->u.ni.buf, 1);
	}
	if (len >= SHA256_BLOCK_BYTES) {
		sha256_ni_blocks(s->u.ni.h, data, len / SHA256_BLOCK_BYTES);
		data += len - len % SHA256_BLOCK_BYTES;
		len %= SHA256_BLOCK_BYTES;
	}
	if (len > 0)
		memcpy(s->u.ni.buf, data, len);
}

/* FIPS 180-4 5.1.1: a 1 bit, zeros to 56 bytes mod 64, then the length in
 * bits as a 64-bit big-endian number. Lengths wrap at 2^64 bits, as there. */
static void
sha256_ni_final(struct sha256 *s, unsigned char out[SHA256_BYTES])
{
	unsigned char *buf = s->u.ni.buf;
	uint64_t bits = s->u.ni.total << 3;
	size_t used, i;

	used = (size_t)(s->u.ni.total % SHA256_BLOCK_BYTES);
	buf[used++] = 0x80;
	if (used > SHA256_BLOCK_BYTES - 8) {
		memset(buf + used, 0, SHA256_BLOCK_BYTES - used);
		sha256_ni_blocks(s->u.ni.h, buf, 1);
		used = 0;
	}
	memset(buf + used, 0, SHA256_BLOCK_BYTES - 8 - used);
	for (i = 0; i < 8; i++)
		buf[SHA256_BLOCK_BYTES - 1 - i] = (unsigned char)(bits >> (8 * i));
	sha256_ni_blocks(s->u.ni.h, buf, 1);
	for (i = 0; i < 8; i++) {
		out[4 * i + 0] = (unsigned char)(s->u.ni.h[i] >> 24);
		out[4 * i + 1] = (unsigned char)(s->u.ni.h[i] >> 16);
		out[4 * i + 2] = (unsigned char)(s->u.ni.h[i] >> 8);
		out[4 * i + 3] = (unsigned char)s->u.ni.h[i];
	}
}

#endif /* SHA256_HAVE_NI */

void
sha256_init(struct sha256 *s)
{
	memset(s, 0, sizeof(*s));
	s->portable = sha256_engine() != SHA256_NI;
#ifdef SHA256_HAVE_NI
	if (!s->portable) {
		memcpy(s->u.ni.h, sha256_h0, sizeof(s->u.ni.h));
		return;
	}
#endif
	crypto_hash_sha256_init(&s->u.sodium);
}

void
sha256_update(struct sha256 *s, const unsigned char *data, size_t len)
{
	/* Also keeps a NULL data away from memcpy. */
	if (len == 0)
		return;
#ifdef SHA256_HAVE_NI
	if (!s->portable) {
		sha256_ni_update(s, data, len);
		return;
	}
#endif
	crypto_hash_sha256_update(&s->u.sodium, data, len);
}

/* The buffer may hold the tail of a decrypted attachment: wiped with the rest. */
void
sha256_final(struct sha256 *s, unsigned char out[SHA256_BYTES])
{
#ifdef SHA256_HAVE_NI
	if (!s->portable) {
		sha256_ni_final(s, out);
		sodium_memzero(s, sizeof(*s));
		return;
	}
#endif
	crypto_hash_sha256_final(&s->u.sodium, out);
	sodium_memzero(s, sizeof(*s));
}

void
sha256(unsigned char out[SHA256_BYTES], const unsigned char *data, size_t len)
{
	struct sha256 s;

	sha256_init(&s);
	sha256_update(&s, data, len);
	sha256_final(&s, out);
}
