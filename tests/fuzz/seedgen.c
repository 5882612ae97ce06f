/* Helper of make-seeds.sh (not a fuzz target): writes seed inputs that need
 * the library to make.
 *   seedgen key PASSPHRASE OPSLIMIT MEMLIMIT   a protected secret key file
 *   seedgen export FIRST_INDEX [SINCE] ENVELOPE...
 *                                              an export file of the envelopes
 *                                              after FIRST_INDEX pseudo-random
 *                                              leaves, its checkpoint signed by
 *                                              the key of EXPORT_SEED (a
 *                                              consistency proof from SINCE when
 *                                              given as +N); FIRST 0 and no
 *                                              envelope: the empty log
 *   seedgen note NAME SEED32 < TEXT            TEXT signed as a C2SP note
 *   seedgen vkey NAME SEED32                   the verifier key string
 * to stdout. Keys are fresh each run; the export's days are fixed; notes are
 * signed by the key of the 32-byte SEED32 (fuzz_note.c's fixed key). */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exportfile.h"
#include "keyfile.h"
#include "note.h"
#include "status.h"
#include "tlog.h"

#define EXPORT_SEED "sealtip-fuzz-export-seed-32bytes"
#define EXPORT_ORIGIN "fuzz.example/sealtip"
#define EXPORT_MAX_LEAVES 4096

static int
to_stdout(void *ctx, const unsigned char *buf, size_t len)
{
	(void)ctx;
	return fwrite(buf, 1, len, stdout) == len ? 0 : -1;
}

static int
make_key(const char *pass, unsigned long long ops, size_t mem)
{
	struct keyfile_secret *sk = NULL;
	struct keyfile_kdf_limits lim = {ops, mem};
	char text[KEYFILE_TEXT_MAX];
	size_t len;
	int rc;

	if ((rc = keyfile_secret_generate(&sk)) == ST_OK)
		rc = keyfile_secret_format(sk, pass, strlen(pass), &lim, text, sizeof text, &len);
	keyfile_secret_free(sk);
	if (rc != ST_OK) {
		fprintf(stderr, "seedgen: %s\n", status_message(rc));
		return 1;
	}
	return fwrite(text, 1, len, stdout) == len ? 0 : 1;
}

static unsigned char export_leaves[EXPORT_MAX_LEAVES][TLOG_HASH_BYTES];

/* Node (level, index) of the seed's tree, straight from its leaves. */
static int
export_node(void *ctx, unsigned level, uint64_t index, unsigned char out[TLOG_HASH_BYTES])
{
	uint64_t *n = ctx;

	if (level >= 63 || ((index + 1) << level) > *n)
		return -1;
	tlog_root_from_leaves(out,
	    (const unsigned char(*)[TLOG_HASH_BYTES])export_leaves + (index << level),
	    (uint64_t)1 << level);
	return 0;
}

/* Reads a whole file into memory. */
static unsigned char *
slurp(const char *path, size_t *len)
{
	unsigned char *buf = NULL;
	long size;
	FILE *f;

	if ((f = fopen(path, "rb")) == NULL || fseek(f, 0, SEEK_END) != 0 ||
	    (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0 ||
	    (buf = malloc((size_t)size + 1)) == NULL ||
	    fread(buf, 1, (size_t)size, f) != (size_t)size) {
		perror(path);
		exit(1);
	}
	fclose(f);
	*len = (size_t)size;
	return buf;
}

static int
make_export(unsigned long long first, unsigned long long since, int n, char **paths)
{
	static struct exportfile_log log;
	struct exportfile_writer *w = NULL;
	struct exportfile_entry e;
	struct note_verifier v;
	struct tlog_tree t;
	unsigned char pk[32], sk[64], root[32], *buf;
	const struct tlog_store nodes = {export_node, NULL, &log.tree_size};
	size_t size;
	int i, rc = ST_ERR_ARGUMENT;

	if (first + (unsigned long long)n > EXPORT_MAX_LEAVES ||
	    crypto_sign_seed_keypair(pk, sk, (const unsigned char *)EXPORT_SEED) != 0)
		goto fail;
	memset(&log, 0, sizeof log);
	log.first_index = first;
	tlog_tree_init(&t);
	for (uint64_t k = 0; k < first; k++) {
		memset(export_leaves[k], (int)(k * 7 + 1), TLOG_HASH_BYTES);
		tlog_tree_append(&t, export_leaves[k], NULL);
	}
	exportfile_frontier_from_tree(&log, &t);
	for (i = 0; i < n; i++) {
		buf = slurp(paths[i], &size);
		tlog_leaf_hash(export_leaves[first + (unsigned)i], buf, size);
		tlog_tree_append(&t, export_leaves[first + (unsigned)i], NULL);
		free(buf);
	}
	log.tree_size = t.size;
	if (t.size > 0) {
		tlog_tree_root(&t, root);
		if (note_verifier_make(&v, EXPORT_ORIGIN, pk) != NOTE_OK ||
		    note_verifier_format(log.verifier_key, sizeof log.verifier_key, &v) !=
			NOTE_OK ||
		    note_checkpoint_sign(log.note, sizeof log.note, &log.note_len, EXPORT_ORIGIN,
			t.size, root, sk) != NOTE_OK)
			goto fail;
	}
	if (since > 0) {
		log.proof_size = since;
		if (tlog_consistency_proof(&nodes, since, t.size, log.proof, &log.proof_len) !=
		    TLOG_OK)
			goto fail;
	}
	if ((rc = exportfile_writer_new(&w, &log, to_stdout, NULL)) != ST_OK)
		goto fail;
	for (i = 0; i < n; i++) {
		buf = slurp(paths[i], &size);
		memset(&e, 0, sizeof e);
		e.index = first + (unsigned long long)i;
		memcpy(e.day, "2026-11-28", EXPORTFILE_DAY_BYTES);
		e.size = (uint64_t)size;
		memcpy(e.leaf_hash, export_leaves[e.index], TLOG_HASH_BYTES);
		if ((rc = exportfile_writer_entry_begin(w, &e)) != ST_OK ||
		    (rc = exportfile_writer_entry_data(w, buf, size)) != ST_OK ||
		    (rc = exportfile_writer_entry_end(w)) != ST_OK) {
			free(buf);
			goto fail;
		}
		free(buf);
	}
	if ((rc = exportfile_writer_finish(w)) != ST_OK)
		goto fail;
	exportfile_writer_free(w);
	return 0;
fail:
	fprintf(stderr, "seedgen: %s\n", status_message(rc));
	exportfile_writer_free(w);
	return 1;
}

static int
make_note(const char *name, const char *seed, int vkey_only)
{
	static char text[NOTE_MAX_BYTES], out[NOTE_MAX_BYTES + 1];
	unsigned char pk[32], sk[64];
	struct note_verifier v;
	size_t len, outlen;
	int rc;

	if (strlen(seed) != 32 ||
	    crypto_sign_seed_keypair(pk, sk, (const unsigned char *)seed) != 0)
		return 2;
	if (vkey_only) {
		if (note_verifier_make(&v, name, pk) != NOTE_OK ||
		    note_verifier_format(out, sizeof out, &v) != NOTE_OK)
			return 1;
		printf("%s", out);
		return 0;
	}
	len = fread(text, 1, sizeof text, stdin);
	if ((rc = note_sign(out, sizeof out, &outlen, text, len, name, sk)) != NOTE_OK) {
		fprintf(stderr, "seedgen: %s\n", note_status_message(rc));
		return 1;
	}
	return fwrite(out, 1, outlen, stdout) == outlen ? 0 : 1;
}

int
main(int argc, char **argv)
{
	if (sodium_init() < 0)
		return 1;
	if (argc == 4 && strcmp(argv[1], "note") == 0)
		return make_note(argv[2], argv[3], 0);
	if (argc == 4 && strcmp(argv[1], "vkey") == 0)
		return make_note(argv[2], argv[3], 1);
	if (argc == 5 && strcmp(argv[1], "key") == 0)
		return make_key(argv[2], strtoull(argv[3], NULL, 10), (size_t)strtoull(argv[4], NULL, 10));
	if (argc >= 4 && strcmp(argv[1], "export") == 0 && argv[3][0] == '+')
		return make_export(strtoull(argv[2], NULL, 10), strtoull(argv[3] + 1, NULL, 10),
		    argc - 4, argv + 4);
	if (argc >= 3 && strcmp(argv[1], "export") == 0)
		return make_export(strtoull(argv[2], NULL, 10), 0, argc - 3, argv + 3);
	fprintf(stderr, "usage: seedgen key PASS OPS MEM | seedgen export FIRST ENVELOPE...\n");
	return 2;
}
