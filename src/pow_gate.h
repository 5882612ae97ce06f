/* sealtipd's proof-of-work gate: the challenge key (made at start, never
 * written, wiped at exit), the difficulty and validity, and the set of
 * challenges already spent. Thread safe: handler threads share one gate. */
#ifndef SEALTIP_POW_GATE_H
#define SEALTIP_POW_GATE_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "pow.h"

/* Slots of one generation of the spent set (a power of two). At most 3/4
 * are filled: 98304 challenges spent per validity period, in 2 x 2 MiB. */
#define POW_GATE_SLOTS (1u << 17)
#define POW_GATE_FILL_MAX (POW_GATE_SLOTS / 4 * 3)
/* "challenge=" 56 "; leaf=" 64 "; nonce=" 16, and some room for spaces */
#define POW_GATE_HEADER_MAX 256

struct pow_gate_slot {
	unsigned char random[POW_RANDOM_BYTES]; /* all zero: free */
};

/* Two generations: a challenge spent during one is remembered during the
 * next as well, so at least ttl seconds, which outlives its validity. */
struct pow_gate_generation {
	struct pow_gate_slot *slots; /* POW_GATE_SLOTS */
	size_t filled;
};

struct pow_gate {
	unsigned bits;	    /* 0: no proof of work asked */
	unsigned ttl;	    /* seconds */
	unsigned char *key; /* sodium_malloc: the challenge MAC key, then the slot key */
	pthread_mutex_t lock;
	struct pow_gate_generation gen[2]; /* [0] current, [1] previous */
	uint64_t gen_started;		   /* unix seconds when [0] began */
	int ready;			   /* the lock is initialised */
};

/* What the gate decided about a request's header. */
enum pow_gate_result {
	POW_GATE_OK = 0,
	POW_GATE_MISSING,
	POW_GATE_MALFORMED,
	POW_GATE_INVALID, /* bad MAC: another server, or before a restart */
	POW_GATE_EXPIRED,
	POW_GATE_INSUFFICIENT,
	POW_GATE_REUSED,
	POW_GATE_BUSY /* the spent set is full for this period */
};

/* Makes the key and the spent set. Returns 0, or -1 (out of memory). */
int pow_gate_init(struct pow_gate *g, unsigned bits, unsigned ttl);

/* Wipes the key and frees; safe on a zeroed gate. */
void pow_gate_free(struct pow_gate *g);

/* Writes a new challenge, base64url without padding, NUL-terminated, valid
 * until now + ttl. */
void pow_gate_challenge(struct pow_gate *g, uint64_t now, char out[POW_CHALLENGE_B64_LEN + 1]);

/* Checks a Sealtip-Pow header value (NULL: absent) at time now: syntax,
 * MAC, expiry, work, then spends the challenge. On POW_GATE_OK, leaf_hash
 * gets the claimed leaf hash the body must match. With bits 0 it returns
 * POW_GATE_OK without looking (and leaves leaf_hash alone). */
enum pow_gate_result pow_gate_check(
    struct pow_gate *g, const char *header, uint64_t now, unsigned char leaf_hash[POW_LEAF_BYTES]);

/* The JSON error code and one-line message for a result that is not OK. */
const char *pow_gate_code(enum pow_gate_result r);
const char *pow_gate_message(enum pow_gate_result r);

/* Parses "challenge=B64URL; leaf=HEX; nonce=HEX" strictly. Returns 0, or -1
 * when anything is off. */
int pow_gate_parse(const char *header, unsigned char challenge[POW_CHALLENGE_BYTES],
    unsigned char leaf_hash[POW_LEAF_BYTES], unsigned char nonce[POW_NONCE_BYTES]);

#endif
