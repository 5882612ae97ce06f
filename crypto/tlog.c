#include <string.h>

#include "tlog.h"

void
tlog_leaf_init(struct sha256 *s)
{
	static const unsigned char prefix = 0x00;

	sha256_init(s);
	sha256_update(s, &prefix, 1);
}

void
tlog_leaf_hash(unsigned char out[TLOG_HASH_BYTES], const unsigned char *data, size_t len)
{
	struct sha256 s;

	tlog_leaf_init(&s);
	sha256_update(&s, data, len);
	sha256_final(&s, out);
}

void
tlog_node_hash(unsigned char out[TLOG_HASH_BYTES], const unsigned char left[TLOG_HASH_BYTES],
    const unsigned char right[TLOG_HASH_BYTES])
{
	unsigned char buf[1 + 2 * TLOG_HASH_BYTES];

	buf[0] = 0x01;
	memcpy(buf + 1, left, TLOG_HASH_BYTES);
	memcpy(buf + 1 + TLOG_HASH_BYTES, right, TLOG_HASH_BYTES);
	sha256(out, buf, sizeof buf);
}

/* floor(log2 x), x > 0. */
static unsigned
log2_floor(uint64_t x)
{
	return 63u - (unsigned)__builtin_clzll(x);
}

/* The largest power of two smaller than s (s >= 2): RFC 9162's k. */
static uint64_t
split_point(uint64_t s)
{
	return (uint64_t)1 << log2_floor(s - 1);
}

void
tlog_tree_init(struct tlog_tree *t)
{
	memset(t, 0, sizeof *t);
}

int
tlog_tree_load(struct tlog_tree *t, uint64_t size, const struct tlog_store *st)
{
	unsigned l;

	tlog_tree_init(t);
	for (l = 0; l < TLOG_MAX_LEVELS; l++)
		if ((size >> l) & 1)
			if (st->get_hash(st->ctx, l, (size >> l) - 1, t->edge[l]) != 0) {
				tlog_tree_init(t);
				return TLOG_ERR_STORE;
			}
	t->size = size;
	return TLOG_OK;
}

int
tlog_tree_append(
    struct tlog_tree *t, const unsigned char leaf[TLOG_HASH_BYTES], const struct tlog_store *st)
{
	unsigned char h[TLOG_HASH_BYTES];
	unsigned l = 0;

	if (t->size == UINT64_MAX)
		return TLOG_ERR_ARGUMENT;
	memcpy(h, leaf, TLOG_HASH_BYTES);
	/* Each set low bit is a complete subtree that the new leaf completes
	 * into one twice its size; nothing in t changes until all were kept. */
	while ((t->size >> l) & 1) {
		tlog_node_hash(h, t->edge[l], h);
		l++;
		if (st != NULL && st->put_hash != NULL &&
		    st->put_hash(st->ctx, l, t->size >> l, h) != 0)
			return TLOG_ERR_STORE;
	}
	memcpy(t->edge[l], h, TLOG_HASH_BYTES);
	t->size++;
	return TLOG_OK;
}

void
tlog_tree_root(const struct tlog_tree *t, unsigned char out[TLOG_HASH_BYTES])
{
	unsigned char acc[TLOG_HASH_BYTES];
	unsigned l;
	int have = 0;

	if (t->size == 0) {
		sha256(out, NULL, 0);
		return;
	}
	/* Smallest subtree on the right; fold leftwards. */
	for (l = 0; l < TLOG_MAX_LEVELS; l++) {
		if (!((t->size >> l) & 1))
			continue;
		if (!have) {
			memcpy(acc, t->edge[l], TLOG_HASH_BYTES);
			have = 1;
		} else {
			tlog_node_hash(acc, t->edge[l], acc);
		}
	}
	memcpy(out, acc, TLOG_HASH_BYTES);
}

void
tlog_root_from_leaves(
    unsigned char out[TLOG_HASH_BYTES], const unsigned char (*leaves)[TLOG_HASH_BYTES], uint64_t n)
{
	struct tlog_tree t;
	uint64_t i;

	tlog_tree_init(&t);
	for (i = 0; i < n; i++)
		tlog_tree_append(&t, leaves[i], NULL);
	tlog_tree_root(&t, out);
}

int
tlog_range_hash(
    const struct tlog_store *st, uint64_t begin, uint64_t end, unsigned char out[TLOG_HASH_BYTES])
{
	unsigned char piece[TLOG_HASH_BYTES], acc[TLOG_HASH_BYTES];
	unsigned levels[TLOG_MAX_LEVELS];
	uint64_t at = begin, idx[TLOG_MAX_LEVELS];
	size_t n = 0, i;
	unsigned l;

	if (begin >= end)
		return TLOG_ERR_ARGUMENT;
	/* Complete subtrees of strictly decreasing size, left to right. */
	l = log2_floor(end - begin);
	if (begin & (((uint64_t)1 << l) - 1))
		return TLOG_ERR_ARGUMENT;
	while (at < end) {
		l = log2_floor(end - at);
		levels[n] = l;
		idx[n] = at >> l;
		n++;
		at += (uint64_t)1 << l;
	}
	/* MTH folds from the right: H(p0, H(p1, ... H(pn-2, pn-1))). */
	if (st->get_hash(st->ctx, levels[n - 1], idx[n - 1], acc) != 0)
		return TLOG_ERR_STORE;
	for (i = n - 1; i-- > 0;) {
		if (st->get_hash(st->ctx, levels[i], idx[i], piece) != 0)
			return TLOG_ERR_STORE;
		tlog_node_hash(acc, piece, acc);
	}
	memcpy(out, acc, TLOG_HASH_BYTES);
	return TLOG_OK;
}

/* Hashes the ranges [begin[i], end[i]) into proof in reverse order. */
static int
ranges_to_proof(const struct tlog_store *st, const uint64_t *begin, const uint64_t *end, size_t n,
    unsigned char proof[TLOG_MAX_PROOF][TLOG_HASH_BYTES], size_t first)
{
	size_t i;
	int rc;

	for (i = 0; i < n; i++)
		if ((rc = tlog_range_hash(
			 st, begin[n - 1 - i], end[n - 1 - i], proof[first + i])) != TLOG_OK)
			return rc;
	return TLOG_OK;
}

int
tlog_inclusion_proof(const struct tlog_store *st, uint64_t index, uint64_t size,
    unsigned char proof[TLOG_MAX_PROOF][TLOG_HASH_BYTES], size_t *len)
{
	uint64_t lo = 0, hi = size, k, rb[TLOG_MAX_PROOF], re[TLOG_MAX_PROOF];
	size_t n = 0;
	int rc;

	*len = 0;
	if (index >= size)
		return TLOG_ERR_ARGUMENT;
	/* Top down: the sibling range at each split, recorded root side first. */
	while (hi - lo > 1) {
		k = split_point(hi - lo);
		if (index < lo + k) {
			rb[n] = lo + k;
			re[n] = hi;
			hi = lo + k;
		} else {
			rb[n] = lo;
			re[n] = lo + k;
			lo += k;
		}
		n++;
	}
	if ((rc = ranges_to_proof(st, rb, re, n, proof, 0)) != TLOG_OK)
		return rc;
	*len = n;
	return TLOG_OK;
}

int
tlog_consistency_proof(const struct tlog_store *st, uint64_t m, uint64_t n,
    unsigned char proof[TLOG_MAX_PROOF][TLOG_HASH_BYTES], size_t *len)
{
	uint64_t lo = 0, hi = n, k, rb[TLOG_MAX_PROOF], re[TLOG_MAX_PROOF];
	size_t cnt = 0, first = 0;
	int whole = 1, rc; /* SUBPROOF's b: still the original old tree */

	*len = 0;
	if (m > n)
		return TLOG_ERR_ARGUMENT;
	if (m == 0 || m == n)
		return TLOG_OK;
	for (;;) {
		if (m == hi - lo) {
			if (!whole) {
				if ((rc = tlog_range_hash(st, lo, hi, proof[0])) != TLOG_OK)
					return rc;
				first = 1;
			}
			break;
		}
		k = split_point(hi - lo);
		if (m <= k) {
			rb[cnt] = lo + k;
			re[cnt] = hi;
			hi = lo + k;
		} else {
			rb[cnt] = lo;
			re[cnt] = lo + k;
			m -= k;
			lo += k;
			whole = 0;
		}
		cnt++;
	}
	if (first + cnt > TLOG_MAX_PROOF)
		return TLOG_ERR_ARGUMENT;
	if ((rc = ranges_to_proof(st, rb, re, cnt, proof, first)) != TLOG_OK)
		return rc;
	*len = first + cnt;
	return TLOG_OK;
}

int
tlog_verify_inclusion(uint64_t index, uint64_t size, const unsigned char leaf[TLOG_HASH_BYTES],
    const unsigned char (*proof)[TLOG_HASH_BYTES], size_t len,
    const unsigned char root[TLOG_HASH_BYTES])
{
	unsigned char r[TLOG_HASH_BYTES];
	uint64_t fn, sn;
	size_t i;

	/* Step 1. */
	if (index >= size)
		return TLOG_ERR_PROOF;
	/* Steps 2 and 3. */
	fn = index;
	sn = size - 1;
	memcpy(r, leaf, TLOG_HASH_BYTES);
	/* Step 4. */
	for (i = 0; i < len; i++) {
		if (sn == 0)
			return TLOG_ERR_PROOF;
		if ((fn & 1) || fn == sn) {
			tlog_node_hash(r, proof[i], r);
			if (!(fn & 1))
				while (!(fn & 1) && fn != 0) {
					fn >>= 1;
					sn >>= 1;
				}
		} else {
			tlog_node_hash(r, r, proof[i]);
		}
		fn >>= 1;
		sn >>= 1;
	}
	/* Step 5. */
	if (sn != 0 || memcmp(r, root, TLOG_HASH_BYTES) != 0)
		return TLOG_ERR_PROOF;
	return TLOG_OK;
}

int
tlog_verify_consistency(uint64_t m, uint64_t n, const unsigned char root_m[TLOG_HASH_BYTES],
    const unsigned char root_n[TLOG_HASH_BYTES], const unsigned char (*proof)[TLOG_HASH_BYTES],
    size_t len)
{
	unsigned char fr[TLOG_HASH_BYTES], sr[TLOG_HASH_BYTES];
	const unsigned char *c;
	uint64_t fn, sn;
	size_t i, start;

	/* The cases §2.1.4.2 leaves to the caller. */
	if (m > n)
		return TLOG_ERR_PROOF;
	/* Stricter than transparency-dev's table, which takes any root_m at
	 * size 0: only the empty tree's root is true there. */
	sha256(fr, NULL, 0);
	if (m == 0 && memcmp(root_m, fr, TLOG_HASH_BYTES) != 0)
		return TLOG_ERR_PROOF;
	if (m == n)
		return len == 0 && memcmp(root_m, root_n, TLOG_HASH_BYTES) == 0 ? TLOG_OK
										: TLOG_ERR_PROOF;
	if (m == 0)
		return len == 0 ? TLOG_OK : TLOG_ERR_PROOF;
	/* Step 1. */
	if (len == 0)
		return TLOG_ERR_PROOF;
	/* Step 2: when m is a power of two, root_m is the path's first value
	 * (start 0 means "root_m, then proof[0..len)"). */
	start = (m & (m - 1)) == 0 ? 0 : 1;
	/* Steps 3 and 4. */
	fn = m - 1;
	sn = n - 1;
	while (fn & 1) {
		fn >>= 1;
		sn >>= 1;
	}
	/* Step 5. */
	c = start == 0 ? root_m : proof[0];
	memcpy(fr, c, TLOG_HASH_BYTES);
	memcpy(sr, c, TLOG_HASH_BYTES);
	/* Step 6: every later value. */
	for (i = start == 0 ? 0 : 1; i < len; i++) {
		c = proof[i];
		if (sn == 0)
			return TLOG_ERR_PROOF;
		if ((fn & 1) || fn == sn) {
			tlog_node_hash(fr, c, fr);
			tlog_node_hash(sr, c, sr);
			if (!(fn & 1))
				while (!(fn & 1) && fn != 0) {
					fn >>= 1;
					sn >>= 1;
				}
		} else {
			tlog_node_hash(sr, sr, c);
		}
		fn >>= 1;
		sn >>= 1;
	}
	/* Step 7. */
	if (memcmp(fr, root_m, TLOG_HASH_BYTES) != 0 || memcmp(sr, root_n, TLOG_HASH_BYTES) != 0 ||
	    sn != 0)
		return TLOG_ERR_PROOF;
	return TLOG_OK;
}
