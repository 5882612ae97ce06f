/* The log's cost per report at 10^6 entries: appending a leaf, making and
 * verifying an inclusion proof (from memory, as the writer does for
 * receipts, and from a real sqlite database through src/store.c, as the log
 * endpoints do), and signing a checkpoint. Each is printed in microseconds
 * and as a ratio to its raw limit measured in the same run: the node hashes
 * the operation cannot avoid, or one bare Ed25519 signature. The tree is
 * built once here, never in the tests.
 * Usage: bench_tlog WORKDIR [ENTRIES] (default 1000000) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>
#include <sqlite3.h>

#include "note.h"
#include "store.h"
#include "tlog.h"

#define PROOFS 100000
#define DB_PROOFS 20000
#define SIGNATURES 20000

struct memtree {
	unsigned char (*level[TLOG_MAX_LEVELS])[TLOG_HASH_BYTES];
	uint64_t n;
};

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
die(const char *what)
{
	fprintf(stderr, "bench_tlog: %s\n", what);
	exit(1);
}

static int
mem_get(void *ctx, unsigned level, uint64_t index, unsigned char out[TLOG_HASH_BYTES])
{
	struct memtree *m = ctx;

	if (level >= TLOG_MAX_LEVELS || m->level[level] == NULL || index >= m->n >> level)
		return -1;
	memcpy(out, m->level[level][index], TLOG_HASH_BYTES);
	return 0;
}

static int
mem_put(void *ctx, unsigned level, uint64_t index, const unsigned char hash[TLOG_HASH_BYTES])
{
	struct memtree *m = ctx;

	if (level >= TLOG_MAX_LEVELS || m->level[level] == NULL || index >= m->n >> level)
		return -1;
	memcpy(m->level[level][index], hash, TLOG_HASH_BYTES);
	return 0;
}

static int
db_get(void *ctx, unsigned level, uint64_t index, unsigned char out[TLOG_HASH_BYTES])
{
	return store_node_get(ctx, level, index, out);
}

/* xorshift: the same indexes every run, spread over the whole tree. */
static uint64_t
next_index(uint64_t *state, uint64_t n)
{
	*state ^= *state << 13;
	*state ^= *state >> 7;
	*state ^= *state << 17;
	return *state % n;
}

/* Proofs of count random leaves at size n; checks each; returns µs per proof
 * and adds the proof lengths to *hashes. */
static double
proofs(const struct tlog_store *st, const struct memtree *m, uint64_t n, unsigned count,
    const unsigned char root[TLOG_HASH_BYTES], uint64_t *hashes, double *verify_us)
{
	unsigned char proof[TLOG_MAX_PROOF][TLOG_HASH_BYTES];
	size_t len;
	uint64_t state = 0x9e3779b97f4a7c15u, i, idx;
	double start, made = 0.0, checked = 0.0;

	*hashes = 0;
	for (i = 0; i < count; i++) {
		idx = next_index(&state, n);
		start = now();
		if (tlog_inclusion_proof(st, idx, n, proof, &len) != TLOG_OK)
			die("cannot make a proof");
		made += now() - start;
		start = now();
		if (tlog_verify_inclusion(idx, n, m->level[0][idx],
			(const unsigned char(*)[TLOG_HASH_BYTES])proof, len, root) != TLOG_OK)
			die("a proof does not verify");
		checked += now() - start;
		*hashes += len;
	}
	*verify_us = checked / count * 1e6;
	return made / count * 1e6;
}

/* The same database a server of n reports has, as far as proofs go: the
 * leaf hashes in reports (empty envelopes) and every inner node. */
static struct store *
build_db(const char *dir, const struct memtree *m, double *seconds)
{
	char path[4096], err[256];
	struct store *s;
	struct store_row row;
	uint64_t i;
	unsigned level;
	double start = now();

	snprintf(path, sizeof path, "%s/bench-tlog.db", dir);
	remove(path);
	if (store_open(&s, path, 1, err, sizeof err) == -1)
		die(err);
	if (store_begin(s) != 0)
		die(store_errmsg(s));
	memset(&row, 0, sizeof row);
	snprintf(row.day, sizeof row.day, "2026-11-28");
	for (i = 0; i < m->n; i++) {
		row.idx = i;
		row.size = 0;
		memcpy(row.leaf_hash, m->level[0][i], TLOG_HASH_BYTES);
		if (store_insert(s, &row, (const unsigned char *)"", -1) != 0)
			die(store_errmsg(s));
	}
	for (level = 1; level < TLOG_MAX_LEVELS && (m->n >> level) > 0; level++)
		for (i = 0; i < m->n >> level; i++)
			if (store_node_put(s, level, i, m->level[level][i]) != 0)
				die(store_errmsg(s));
	if (store_commit(s) != 0)
		die(store_errmsg(s));
	*seconds = now() - start;
	return s;
}

int
main(int argc, char **argv)
{
	struct memtree m;
	struct tlog_tree t;
	struct tlog_store mem = {mem_get, mem_put, &m}, db;
	struct store *s;
	unsigned char root[TLOG_HASH_BYTES], sk[crypto_sign_SECRETKEYBYTES],
	    pk[crypto_sign_PUBLICKEYBYTES], sig[crypto_sign_BYTES], node[TLOG_HASH_BYTES];
	char note[NOTE_CHECKPOINT_MAX];
	size_t note_len;
	uint64_t n = 1000000, i, hashes;
	unsigned level;
	double start, append_s, raw_node_us, mem_us, mem_verify_us, db_us, db_verify_us, db_s,
	    sign_us, raw_sign_us, proof_len;
	char path[4096];

	if (argc < 2 || argc > 3)
		die("usage: bench_tlog WORKDIR [ENTRIES]");
	if (argc == 3 && (n = strtoull(argv[2], NULL, 10)) < 2)
		die("ENTRIES must be at least 2");
	if (sodium_init() < 0)
		die("libsodium");
	memset(&m, 0, sizeof m);
	m.n = n;
	for (level = 0; level < TLOG_MAX_LEVELS && (n >> level) > 0; level++)
		if ((m.level[level] = malloc((n >> level) * TLOG_HASH_BYTES)) == NULL)
			die("out of memory");
	for (i = 0; i < n; i++)
		tlog_leaf_hash(m.level[0][i], (const unsigned char *)&i, sizeof i);

	/* The raw limit of the tree: one node hash (65 bytes) each. */
	memset(node, 0, sizeof node);
	start = now();
	for (i = 0; i < n; i++)
		tlog_node_hash(node, node, m.level[0][i]);
	raw_node_us = (now() - start) / n * 1e6;

	tlog_tree_init(&t);
	start = now();
	for (i = 0; i < n; i++)
		if (tlog_tree_append(&t, m.level[0][i], &mem) != TLOG_OK)
			die("append failed");
	append_s = now() - start;
	tlog_tree_root(&t, root);

	printf("== the log at %llu entries\n", (unsigned long long)n);
	printf("raw node hash (SHA-256 of 65 bytes):          %8.3f us\n", raw_node_us);
	printf("append a leaf (tree edge + node callbacks):   %8.3f us = %5.2f x raw node hash "
	       "(an append completes 1 node on average)\n",
	    append_s / n * 1e6, append_s / n * 1e6 / raw_node_us);

	mem_us = proofs(&mem, &m, n, PROOFS, root, &hashes, &mem_verify_us);
	proof_len = (double)hashes / PROOFS;
	printf("inclusion proof from memory (receipts):       %8.3f us, %.1f hashes long\n", mem_us,
	    proof_len);
	printf("verify an inclusion proof:                    %8.3f us = %5.2f x its %.1f raw node "
	       "hashes\n",
	    mem_verify_us, mem_verify_us / (proof_len * raw_node_us), proof_len);

	s = build_db(argv[1], &m, &db_s);
	db = (struct tlog_store){db_get, NULL, s};
	db_us = proofs(&db, &m, n, DB_PROOFS, root, &hashes, &db_verify_us);
	printf("inclusion proof from sqlite (log endpoint):   %8.3f us = %5.2f x a proof from "
	       "memory (database built in %.1f s)\n",
	    db_us, db_us / mem_us, db_s);
	store_close(s);
	snprintf(path, sizeof path, "%s/bench-tlog.db", argv[1]);
	remove(path);
	snprintf(path, sizeof path, "%s/bench-tlog.db-wal", argv[1]);
	remove(path);
	snprintf(path, sizeof path, "%s/bench-tlog.db-shm", argv[1]);
	remove(path);

	crypto_sign_keypair(pk, sk);
	if (note_checkpoint_sign(note, sizeof note, &note_len, "bench.sealtip.invalid/log", n, root,
		sk) != NOTE_OK)
		die("cannot sign");
	start = now();
	for (i = 0; i < SIGNATURES; i++)
		crypto_sign_detached(sig, NULL, (const unsigned char *)note, note_len, sk);
	raw_sign_us = (now() - start) / SIGNATURES * 1e6;
	start = now();
	for (i = 0; i < SIGNATURES; i++)
		if (note_checkpoint_sign(note, sizeof note, &note_len, "bench.sealtip.invalid/log",
			n + i, root, sk) != NOTE_OK)
			die("cannot sign");
	sign_us = (now() - start) / SIGNATURES * 1e6;
	printf("sign a checkpoint (C2SP note):                %8.3f us = %5.2f x a bare Ed25519 "
	       "signature\n",
	    sign_us, sign_us / raw_sign_us);
	printf("per report, with the receipt's proof: %.1f us alone in its commit, %.1f us in a "
	       "commit of 32 (one checkpoint per commit)\n",
	    append_s / n * 1e6 + mem_us + sign_us, append_s / n * 1e6 + mem_us + sign_us / 32);
	sodium_memzero(sk, sizeof sk);
	for (level = 0; level < TLOG_MAX_LEVELS; level++)
		free(m.level[level]);
	return 0;
}
