/* Test-only helper for the CLI tests: makes inputs the real tools refuse to
 * make, so the tests can check how `sealtip open` treats them.
 *   vector_tool secret-key BOX_SK_HEX        unprotected secret key file on stdout
 *   vector_tool public-key BOX_SK_HEX        its public key file on stdout
 *   vector_tool seal-payload FILE.pub...     seals stdin (a raw payload) to stdout
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "envelope.h"
#include "keyfile.h"
#include "status.h"

static int
write_stdout(void *ctx, const unsigned char *buf, size_t len)
{
	(void)ctx;
	return fwrite(buf, 1, len, stdout) == len ? 0 : -1;
}

static int
key_file(const char *hex, int public)
{
	unsigned char box_sk[32];
	struct keyfile_secret *sk = NULL;
	char text[KEYFILE_TEXT_MAX];
	size_t len, bin_len;

	if (sodium_hex2bin(box_sk, sizeof box_sk, hex, strlen(hex), NULL, &bin_len, NULL) != 0 ||
	    bin_len != sizeof box_sk || keyfile_secret_from_box_sk(box_sk, &sk) != ST_OK ||
	    (public ? keyfile_public_format(&sk->pub, text, sizeof text, &len) :
	    keyfile_secret_format(sk, NULL, 0, NULL, text, sizeof text, &len)) != ST_OK)
		return 1;
	keyfile_secret_free(sk);
	return fwrite(text, 1, len, stdout) == len ? 0 : 1;
}

static int
seal_payload(int n, char **paths)
{
	unsigned char box_pks[ENVELOPE_MAX_RECIPIENTS][32], buf[65536];
	struct envelope_seal *seal = NULL;
	struct keyfile_public pk;
	char text[KEYFILE_TEXT_MAX];
	size_t len;
	FILE *f;
	int i;

	if (n < 1 || n > ENVELOPE_MAX_RECIPIENTS)
		return 2;
	for (i = 0; i < n; i++) {
		if ((f = fopen(paths[i], "r")) == NULL)
			return 1;
		len = fread(text, 1, sizeof text, f);
		fclose(f);
		if (keyfile_public_parse(text, len, &pk) != ST_OK)
			return 1;
		memcpy(box_pks[i], pk.box_pk, 32);
	}
	if (envelope_seal_new(&seal, (const unsigned char (*)[32])box_pks, (unsigned)n,
	    write_stdout, NULL) != ST_OK)
		return 1;
	while ((len = fread(buf, 1, sizeof buf, stdin)) > 0)
		if (envelope_seal_update(seal, buf, len) != ST_OK)
			return 1;
	if (envelope_seal_final(seal) != ST_OK)
		return 1;
	envelope_seal_free(seal);
	return fflush(stdout) == 0 ? 0 : 1;
}

int
main(int argc, char **argv)
{
	if (sodium_init() < 0)
		return 1;
	if (argc == 3 && strcmp(argv[1], "secret-key") == 0)
		return key_file(argv[2], 0);
	if (argc == 3 && strcmp(argv[1], "public-key") == 0)
		return key_file(argv[2], 1);
	if (argc >= 3 && strcmp(argv[1], "seal-payload") == 0)
		return seal_payload(argc - 2, argv + 2);
	fputs("usage: vector_tool secret-key HEX | public-key HEX | seal-payload FILE.pub...\n", stderr);
	return 2;
}
