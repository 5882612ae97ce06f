/* What an auditor gives an audit besides its input, read the same way by
 * the audit of a database, of an export file and of a live server: kept
 * checkpoints and receipts (--checkpoint), the investigators' public keys
 * (--recipient), and the set of recipient key ids the envelopes name. Each
 * failure is one line in why, naming the file or the entry. */
#ifndef SEALTIP_AUDIT_GIVEN_H
#define SEALTIP_AUDIT_GIVEN_H

#include <stddef.h>
#include <stdint.h>

#include "envelope.h"
#include "note.h"
#include "tlog.h"

/* Large enough for a receipt with its proof and checkpoint. */
#define AUDIT_GIVEN_FILE_MAX (NOTE_MAX_BYTES + 65536)
#define AUDIT_GIVEN_KEY_IDS_MAX 4096
/* A receipt's index and tree_size: JSON numbers a JavaScript reader holds
 * exactly (2^53 - 1). */
#define AUDIT_GIVEN_COUNT_MAX 9007199254740991LL

/* A --checkpoint file, its checkpoint verified. */
struct audit_given {
	struct note_checkpoint cp;
	int receipt; /* it names an entry: index and leaf */
	int proved;  /* and carried an inclusion proof, which verified */
	uint64_t index;
	unsigned char leaf[TLOG_HASH_BYTES];
};

/* Recipient key ids: those the deployment serves (if given) and those seen. */
struct audit_given_keys {
	unsigned char (*recipients)[ENVELOPE_KEY_ID_BYTES];
	size_t nrecipients;
	unsigned char (*seen)[ENVELOPE_KEY_ID_BYTES]; /* AUDIT_GIVEN_KEY_IDS_MAX */
	size_t nseen;
};

/* Reads file: a signed checkpoint, the server's receipt (JSON with
 * "checkpoint", "index", "leaf_hash", "inclusion_proof"), or the page's
 * saved receipt (the same under "receipt"). The checkpoint must verify with
 * key, and a receipt's inclusion proof against it. 0, or -1 with why set. */
int audit_given_read(const char *file, const struct note_verifier *key, struct audit_given *out,
    char *why, size_t whylen);

/* audit_given_read of len bytes at buf, which came from what file names
 * (for the messages): sealtip submit checks the server's answer with it. */
int audit_given_parse(const char *file, const unsigned char *buf, size_t len,
    const struct note_verifier *key, struct audit_given *out, char *why, size_t whylen);

/* The key id of the public key file. 0, or -1 with why set. */
int audit_given_recipient(
    const char *file, unsigned char id[ENVELOPE_KEY_ID_BYTES], char *why, size_t whylen);

/* Envelope idx names id: with recipients given it must be one of them;
 * it joins the seen set. 0, or -1 with why set. */
int audit_given_key_id(struct audit_given_keys *k, uint64_t idx,
    const unsigned char id[ENVELOPE_KEY_ID_BYTES], char *why, size_t whylen);

/* One base64 hash of exactly 32 bytes, nothing after it: 0 or -1. */
int audit_given_b64_hash(const char *s, size_t len, unsigned char out[TLOG_HASH_BYTES]);

#endif
