/* Helper of make-seeds.sh (not a fuzz target): writes seed inputs that need
 * the library to make.
 *   seedgen key PASSPHRASE OPSLIMIT MEMLIMIT   a protected secret key file
 *   seedgen export FIRST_INDEX ENVELOPE...     an export file of the envelopes
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

static int
make_export(unsigned long long first, int n, char **paths)
{
	struct exportfile_writer *w = NULL;
	struct exportfile_entry e;
	crypto_hash_sha256_state st;
	unsigned char *buf;
	long size;
	FILE *f;
	int i, rc;

	if ((rc = exportfile_writer_new(&w, first, to_stdout, NULL)) != ST_OK)
		goto fail;
	for (i = 0; i < n; i++) {
		if ((f = fopen(paths[i], "rb")) == NULL || fseek(f, 0, SEEK_END) != 0 ||
		    (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0 ||
		    (buf = malloc((size_t)size + 1)) == NULL ||
		    fread(buf, 1, (size_t)size, f) != (size_t)size) {
			perror(paths[i]);
			return 1;
		}
		fclose(f);
		memset(&e, 0, sizeof e);
		e.index = first + (unsigned long long)i;
		memcpy(e.day, "2026-11-28", EXPORTFILE_DAY_BYTES);
		e.size = (uint64_t)size;
		crypto_hash_sha256_init(&st);
		crypto_hash_sha256_update(&st, (const unsigned char *)"\0", 1);
		crypto_hash_sha256_update(&st, buf, (size_t)size);
		crypto_hash_sha256_final(&st, e.leaf_hash);
		if ((rc = exportfile_writer_entry_begin(w, &e)) != ST_OK ||
		    (rc = exportfile_writer_entry_data(w, buf, (size_t)size)) != ST_OK ||
		    (rc = exportfile_writer_entry_end(w)) != ST_OK)
			goto fail;
		free(buf);
	}
	if ((rc = exportfile_writer_finish(w, first + (unsigned long long)n)) != ST_OK)
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
	if (argc >= 3 && strcmp(argv[1], "export") == 0)
		return make_export(strtoull(argv[2], NULL, 10), argc - 3, argv + 3);
	fprintf(stderr, "usage: seedgen key PASS OPS MEM | seedgen export FIRST ENVELOPE...\n");
	return 2;
}
