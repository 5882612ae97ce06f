/* The append-only Merkle log of RFC 9162 §2.1 (the same tree as RFC 6962)
 * with SHA-256: leaf hash H(0x00 || data), node hash H(0x01 || left ||
 * right), the Merkle tree hash of n leaves, inclusion and consistency proofs
 * (generation, §2.1.3.1 / §2.1.4.1, and verification exactly as §2.1.3.2 /
 * §2.1.4.2). No I/O: hashes the tree needs come from the caller through a
 * small callback (struct tlog_store).
 *
 * Node addressing: (level, index) is the root of the complete subtree of
 * 2^level leaves that starts at leaf index << level; level 0 is the leaf
 * hashes. Only complete subtrees have an address. Every proof of a tree of
 * size n needs at most 2·64 such lookups (O(log n)); appending is O(log n)
 * and emits each newly completed node exactly once, so a server can persist
 * them, and an auditor can rebuild everything from the leaves alone. */
#ifndef SEALTIP_TLOG_H
#define SEALTIP_TLOG_H

#include <stddef.h>
#include <stdint.h>

#include "sha256.h"

#define TLOG_HASH_BYTES 32
/* Levels of a tree of up to 2^64 - 1 leaves; also the longest proof. */
#define TLOG_MAX_LEVELS 64
#define TLOG_MAX_PROOF 64

enum tlog_status {
	TLOG_OK = 0,
	TLOG_ERR_ARGUMENT = -1, /* sizes or indexes out of range */
	TLOG_ERR_STORE = -2,	/* the callback failed to give or keep a hash */
	TLOG_ERR_PROOF = -3	/* the proof does not verify */
};

/* Where the tree's hashes live. get_hash fills out with the hash of node
 * (level, index) and returns 0, or non-zero when it cannot (missing, I/O).
 * put_hash (may be NULL) is told of every node completed by tlog_tree_append,
 * level >= 1, exactly once; non-zero fails the append. */
struct tlog_store {
	int (*get_hash)(
	    void *ctx, unsigned level, uint64_t index, unsigned char out[TLOG_HASH_BYTES]);
	int (*put_hash)(
	    void *ctx, unsigned level, uint64_t index, const unsigned char hash[TLOG_HASH_BYTES]);
	void *ctx;
};

/* Leaf hash, streaming: tlog_leaf_init feeds the 0x00 prefix; then
 * sha256_update with the entry's bytes and sha256_final give the hash. */
void tlog_leaf_init(struct sha256 *s);

/* Leaf hash in one call. */
void tlog_leaf_hash(unsigned char out[TLOG_HASH_BYTES], const unsigned char *data, size_t len);

/* H(0x01 || left || right). out may alias left or right. */
void tlog_node_hash(unsigned char out[TLOG_HASH_BYTES], const unsigned char left[TLOG_HASH_BYTES],
    const unsigned char right[TLOG_HASH_BYTES]);

/* MTH of n leaf hashes (SHA-256 of nothing when n is 0), in O(log n) memory. */
void tlog_root_from_leaves(
    unsigned char out[TLOG_HASH_BYTES], const unsigned char (*leaves)[TLOG_HASH_BYTES], uint64_t n);

/* The tree's right edge ("compact range"): for every bit l set in size, the
 * root of the complete subtree at level l that lies on it. Enough to append
 * and to give the root at any size reached, with no store at all. */
struct tlog_tree {
	uint64_t size;
	unsigned char edge[TLOG_MAX_LEVELS][TLOG_HASH_BYTES];
};

/* An empty tree. */
void tlog_tree_init(struct tlog_tree *t);

/* The tree of size leaves, its edge read with at most 64 get_hash calls. */
int tlog_tree_load(struct tlog_tree *t, uint64_t size, const struct tlog_store *st);

/* Appends one leaf hash. When st and st->put_hash are given, every node
 * this completes (level >= 1) is passed to put_hash first; if one fails
 * the tree is left unchanged and TLOG_ERR_STORE returned. Leaf hashes
 * themselves (level 0) are the caller's to keep. */
int tlog_tree_append(
    struct tlog_tree *t, const unsigned char leaf[TLOG_HASH_BYTES], const struct tlog_store *st);

/* The root hash of the tree as it is now (MTH; SHA-256("") when empty). */
void tlog_tree_root(const struct tlog_tree *t, unsigned char out[TLOG_HASH_BYTES]);

/* MTH of leaves [begin, end) of a larger tree, from the store, where the
 * range is one RFC 6962 recursion produces: end - begin leaves with begin a
 * multiple of the largest power of two below end - begin (and any begin
 * when end - begin is a power of two dividing begin). Covers every
 * complete subtree and every right-edge range [begin, n). */
int tlog_range_hash(
    const struct tlog_store *st, uint64_t begin, uint64_t end, unsigned char out[TLOG_HASH_BYTES]);

/* PATH(index, D[0:size]) of RFC 9162 §2.1.3.1, leaf side first, into
 * proof[0..*len). index < size. */
int tlog_inclusion_proof(const struct tlog_store *st, uint64_t index, uint64_t size,
    unsigned char proof[TLOG_MAX_PROOF][TLOG_HASH_BYTES], size_t *len);

/* PROOF(m, D[0:n]) of RFC 9162 §2.1.4.1, into proof[0..*len). m <= n; the
 * proof is empty when m == 0 or m == n. */
int tlog_consistency_proof(const struct tlog_store *st, uint64_t m, uint64_t n,
    unsigned char proof[TLOG_MAX_PROOF][TLOG_HASH_BYTES], size_t *len);

/* RFC 9162 §2.1.3.2: TLOG_OK when leaf is entry index of the tree of size
 * leaves whose root is root, TLOG_ERR_PROOF otherwise (index >= size, a
 * proof of the wrong length, a hash that does not match). */
int tlog_verify_inclusion(uint64_t index, uint64_t size, const unsigned char leaf[TLOG_HASH_BYTES],
    const unsigned char (*proof)[TLOG_HASH_BYTES], size_t len,
    const unsigned char root[TLOG_HASH_BYTES]);

/* RFC 9162 §2.1.4.2: TLOG_OK when the tree of size m with root root_m is a
 * prefix of the tree of size n with root root_n. m == n needs an empty proof
 * and equal roots; m == 0 needs an empty proof and root_m the empty tree's,
 * SHA-256 of nothing (the empty tree is a prefix of every tree, but a size-0
 * checkpoint with another root is a false statement); m > n fails. */
int tlog_verify_consistency(uint64_t m, uint64_t n, const unsigned char root_m[TLOG_HASH_BYTES],
    const unsigned char root_n[TLOG_HASH_BYTES], const unsigned char (*proof)[TLOG_HASH_BYTES],
    size_t len);

#endif
