/* libFuzzer target: C2SP signed notes and checkpoints (crypto/note.c), what
 * the page, `sealtip audit` and every auditor read from a server that may be
 * hostile.
 *
 * A fixed Ed25519 key (seed FUZZ_NOTE_SEED, name FUZZ_NOTE_NAME; the seeds in
 * corpus/fuzz_note were signed with it by seedgen) verifies the input with
 * note_verify and note_checkpoint_open; the input is also parsed as bare
 * checkpoint text and as a verifier key string. Checks:
 *  - a verified note's signed text is a prefix ending in '\n', and signing
 *    that text again (Ed25519 is deterministic) gives a signature line that
 *    is in the input: nothing verifies that the key did not sign;
 *  - an accepted checkpoint formats back to the same first three lines;
 *  - an accepted verifier key formats back to exactly the input. */
#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "note.h"

#include "guard.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_NOTE_NAME "fuzz.sealtip.example/log"
#define FUZZ_NOTE_SEED "sealtip fuzz_note signing seed!!" /* 32 bytes */

static unsigned char sk[NOTE_SECRET_KEY_BYTES];
static struct note_verifier v;

static void
init_once(void)
{
	static int done;
	unsigned char pk[NOTE_PUBLIC_KEY_BYTES];

	if (done)
		return;
	if (sodium_init() < 0 ||
	    crypto_sign_seed_keypair(pk, sk, (const unsigned char *)FUZZ_NOTE_SEED) != 0 ||
	    note_verifier_make(&v, FUZZ_NOTE_NAME, pk) != NOTE_OK)
		abort();
	done = 1;
}

static void
check_verify(const char *note, size_t len)
{
	static char again[NOTE_MAX_BYTES + NOTE_SIGNATURE_LINE_MAX + 2];
	size_t textlen = 0, againlen = 0;
	const char *line;

	if (note_verify(note, len, &v, &textlen) != NOTE_OK)
		return;
	if (textlen == 0 || textlen >= len || note[textlen - 1] != '\n')
		abort();
	if (note_sign(again, sizeof again, &againlen, note, textlen, FUZZ_NOTE_NAME, sk) !=
	    NOTE_OK)
		abort();
	/* again = text || "\n" || our signature line: that line must be one of
	 * the input's. */
	line = again + textlen + 1;
	if (againlen <= textlen + 1 ||
	    memmem(note + textlen, len - textlen, line, againlen - textlen - 1) == NULL)
		abort();
}

static void
check_checkpoint(const char *text, size_t len)
{
	struct note_checkpoint cp, cp2;
	char out[NOTE_CHECKPOINT_MAX];
	size_t outlen;

	if (note_checkpoint_parse(&cp, text, len) != NOTE_OK)
		return;
	/* The format side takes key names only; an origin may be wider. */
	if (!note_name_valid(cp.origin, strlen(cp.origin)))
		return;
	if (note_checkpoint_format(out, sizeof out, &outlen, cp.origin, cp.size, cp.root) !=
		NOTE_OK ||
	    outlen > len || memcmp(out, text, outlen) != 0)
		abort();
	if (note_checkpoint_parse(&cp2, out, outlen) != NOTE_OK || cp2.size != cp.size ||
	    memcmp(cp2.root, cp.root, 32) != 0 || strcmp(cp2.origin, cp.origin) != 0 ||
	    cp2.extensions != 0)
		abort();
	if (cp.extensions == 0 && outlen != len)
		abort();
}

static void
check_verifier(const char *s, size_t len)
{
	struct note_verifier pv;
	char out[NOTE_VERIFIER_KEY_MAX];

	if (len >= NOTE_VERIFIER_KEY_MAX * 2)
		return;
	if (note_verifier_parse(&pv, s, len) != NOTE_OK)
		return;
	if (note_verifier_format(out, sizeof out, &pv) != NOTE_OK || strlen(out) != len ||
	    memcmp(out, s, len) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct note_checkpoint cp;
	const char *s;
	int rc;

	data = fuzz_guarded_copy(data, size);
	s = (const char *)data;

	init_once();
	check_verify(s, size);
	check_checkpoint(s, size);
	check_verifier(s, size);
	rc = note_checkpoint_open(&cp, s, size, &v);
	if (rc == NOTE_OK && strcmp(cp.origin, FUZZ_NOTE_NAME) != 0)
		abort();
	return 0;
}
