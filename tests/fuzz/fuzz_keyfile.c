/* libFuzzer target: key files (crypto/keyfile.c), the public one sealtipd
 * and `sealtip seal` read, and the secret one `sealtip open` reads.
 *
 * The input goes through keyfile_public_parse, keyfile_secret_is_protected
 * and keyfile_secret_parse with a fixed passphrase. An accepted key must
 * format back to the same canonical text it was parsed from (the format
 * allows one text per key, up to the comment and line endings), and an
 * accepted secret key's public half must be the one its secret derives.
 *
 * Argon2id cost: the parser accepts limits up to 4 x SENSITIVE passes and
 * 1 GiB, far too slow for a fuzzer (and over libFuzzer's memory limit). The
 * fuzz build passes -DKEYFILE_FUZZING, which asks crypto/keyfile.c to lower
 * its accepted maximum; in case it does not, this harness also refuses to run
 * the KDF itself for limits that the real parser would accept but that cost
 * more than FUZZ_OPSLIMIT_MAX passes over FUZZ_MEMLIMIT_MAX bytes. Limits
 * outside the real range still go to the parser, which must refuse them
 * before any work. */
#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "keyfile.h"
#include "status.h"

#include "guard.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_PASSPHRASE "correct horse battery staple"
#define FUZZ_OPSLIMIT_MAX 3ULL
#define FUZZ_MEMLIMIT_MAX (64ULL * 1024)
/* crypto/keyfile.c's bounds and blob offsets (docs/keyfile.md). */
#define REAL_OPSLIMIT_MAX (4ULL * crypto_pwhash_argon2id_OPSLIMIT_SENSITIVE)
#define REAL_MEMLIMIT_MAX (1ULL << 30)
#define SK_OFF_KDF 5
#define SK_OFF_OPSLIMIT 6
#define SK_OFF_MEMLIMIT 14

static uint64_t
load64_le(const unsigned char *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* 0 when the KDF the file asks for is too costly to run here. */
static int
kdf_affordable(const uint8_t *data, size_t size)
{
	unsigned char blob[512];
	const uint8_t *line, *end, *nl;
	size_t blob_len;
	uint64_t ops, mem;

	/* Second line, as the parser will find it (it refuses anything else). */
	if ((nl = memchr(data, '\n', size)) == NULL)
		return 1;
	line = nl + 1;
	end = memchr(line, '\n', size - (size_t)(line - data));
	if (end == NULL)
		end = data + size;
	if (end > line && end[-1] == '\r')
		end--;
	if (sodium_base642bin(blob, sizeof blob, (const char *)line, (size_t)(end - line), NULL,
		&blob_len, NULL, sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    blob_len < SK_OFF_MEMLIMIT + 8 || blob[SK_OFF_KDF] == 0)
		return 1;
	ops = load64_le(blob + SK_OFF_OPSLIMIT);
	mem = load64_le(blob + SK_OFF_MEMLIMIT);
	if (ops > REAL_OPSLIMIT_MAX || mem > REAL_MEMLIMIT_MAX)
		return 1; /* the parser must refuse it at no cost */
	return ops <= FUZZ_OPSLIMIT_MAX && mem <= FUZZ_MEMLIMIT_MAX;
}

static void
check_public(const uint8_t *data, size_t size)
{
	struct keyfile_public pk, again;
	char text[KEYFILE_TEXT_MAX];
	size_t len;
	unsigned char id[KEYFILE_KEY_ID_BYTES];

	if (keyfile_public_parse((const char *)data, size, &pk) != ST_OK)
		return;
	keyfile_key_id(pk.box_pk, id);
	if (memcmp(id, pk.key_id, sizeof id) != 0)
		abort();
	if (keyfile_public_format(&pk, text, sizeof text, &len) != ST_OK ||
	    keyfile_public_parse(text, len, &again) != ST_OK || memcmp(&pk, &again, sizeof pk) != 0)
		abort();
}

static void
check_secret(const uint8_t *data, size_t size)
{
	struct keyfile_secret *sk = NULL, *derived = NULL;
	int prot, rc;

	prot = keyfile_secret_is_protected((const char *)data, size);
	if (prot != 0 && prot != 1 && prot >= 0)
		abort();
	if (!kdf_affordable(data, size))
		return;
	rc = keyfile_secret_parse(
	    (const char *)data, size, FUZZ_PASSPHRASE, sizeof FUZZ_PASSPHRASE - 1, &sk);
	if (rc == ST_OK) {
		/* Only a well-formed file can open, and its keys must agree. */
		if (prot < 0 || sk == NULL)
			abort();
		if (keyfile_secret_from_box_sk(sk->box_sk, &derived) != ST_OK)
			abort();
		if (memcmp(derived->pub.box_pk, sk->pub.box_pk, KEYFILE_BOX_PK_BYTES) != 0 ||
		    memcmp(sk->sign_sk + 32, sk->pub.sign_pk, KEYFILE_SIGN_PK_BYTES) != 0)
			abort();
		keyfile_secret_free(derived);
	} else if (sk != NULL) {
		abort();
	}
	keyfile_secret_free(sk);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;

	data = fuzz_guarded_copy(data, size);

	if (!ready) {
		if (sodium_init() < 0)
			abort();
		ready = 1;
	}
	check_public(data, size);
	check_secret(data, size);
	return 0;
}
