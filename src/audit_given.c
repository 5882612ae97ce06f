#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "audit_given.h"
#include "fileio.h"
#include "keyfile.h"
#include "status.h"

int
audit_given_b64_hash(const char *s, size_t len, unsigned char out[TLOG_HASH_BYTES])
{
	const char *end = NULL;
	size_t n;

	if (sodium_base642bin(out, TLOG_HASH_BYTES, s, len, NULL, &n, &end,
		sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    n != TLOG_HASH_BYTES || end != s + len)
		return -1;
	return 0;
}

/* A JSON array of base64 hashes, at most TLOG_MAX_PROOF. */
static int
audit_given_proof(const json_t *arr, unsigned char proof[TLOG_MAX_PROOF][TLOG_HASH_BYTES],
    size_t *n)
{
	const json_t *v;
	size_t i;

	if (!json_is_array(arr) || json_array_size(arr) > TLOG_MAX_PROOF)
		return -1;
	json_array_foreach (arr, i, v)
		if (!json_is_string(v) ||
		    audit_given_b64_hash(json_string_value(v), json_string_length(v), proof[i]) == -1)
			return -1;
	*n = json_array_size(arr);
	return 0;
}

int
audit_given_read(const char *file, const struct note_verifier *key, struct audit_given *out,
    char *why, size_t whylen)
{
	unsigned char *buf = NULL;
	size_t len;
	int rc;

	memset(out, 0, sizeof *out);
	if (fileio_read_all(file, AUDIT_GIVEN_FILE_MAX, &buf, &len) == -1) {
		snprintf(why, whylen, "%s: %s", file, fileio_read_error(errno));
		return -1;
	}
	rc = audit_given_parse(file, buf, len, key, out, why, whylen);
	free(buf);
	return rc;
}

int
audit_given_parse(const char *file, const unsigned char *buf, size_t len,
    const struct note_verifier *key, struct audit_given *out, char *why, size_t whylen)
{
	unsigned char proof[TLOG_MAX_PROOF][TLOG_HASH_BYTES];
	const char *note;
	size_t i, n;
	json_t *j = NULL, *r = NULL, *v, *lh, *proof_json;
	int ns, rc = -1;

	memset(out, 0, sizeof *out);
	note = (const char *)buf;
	for (i = 0; i < len && isspace(buf[i]); i++)
		;
	if (i < len && buf[i] == '{') {
		j = json_loadb((const char *)buf, len, JSON_REJECT_DUPLICATES, NULL);
		/* The page saves the server's receipt under "receipt". */
		r = json_is_object(json_object_get(j, "receipt")) ? json_object_get(j, "receipt") : j;
		if (!json_is_string(v = json_object_get(r, "checkpoint"))) {
			snprintf(why, whylen, "%s: not a receipt: no \"checkpoint\" string", file);
			goto done;
		}
		note = json_string_value(v);
		len = json_string_length(v);
		if ((v = json_object_get(r, "index")) != NULL) {
			lh = json_object_get(j, "leaf_hash");
			if (!json_is_string(lh))
				lh = json_object_get(r, "leaf_hash");
			if (!json_is_integer(v) || json_integer_value(v) < 0 || !json_is_string(lh) ||
			    audit_given_b64_hash(json_string_value(lh), json_string_length(lh),
				out->leaf) == -1) {
				snprintf(why, whylen, "%s: receipt: bad index or leaf_hash", file);
				goto done;
			}
			out->index = (uint64_t)json_integer_value(v);
			out->receipt = 1;
		}
	}
	if ((ns = note_checkpoint_open(&out->cp, note, len, key)) != NOTE_OK) {
		snprintf(why, whylen, "%s: checkpoint: does not verify with the log key: %s%s", file,
		    note_status_message(ns),
		    ns == NOTE_ERR_UNKNOWN_KEY ? " (signed by another key: from another log?)" : "");
		goto done;
	}
	if (out->receipt && out->index >= out->cp.size) {
		snprintf(why, whylen, "%s: receipt: entry %llu is beyond its checkpoint's size %llu",
		    file, (unsigned long long)out->index, (unsigned long long)out->cp.size);
		goto done;
	}
	/* The receipt's own proof: its entry is in the tree its checkpoint signs. */
	proof_json = out->receipt ? json_object_get(r, "inclusion_proof") : NULL;
	out->proved = proof_json != NULL;
	if (proof_json != NULL &&
	    (audit_given_proof(proof_json, proof, &n) == -1 ||
		tlog_verify_inclusion(out->index, out->cp.size, out->leaf,
		    (const unsigned char(*)[TLOG_HASH_BYTES])proof, n, out->cp.root) != TLOG_OK)) {
		snprintf(why, whylen,
		    "%s: receipt: its inclusion proof of entry %llu does not verify against its "
		    "own checkpoint at size %llu",
		    file, (unsigned long long)out->index, (unsigned long long)out->cp.size);
		goto done;
	}
	rc = 0;
done:
	json_decref(j);
	return rc;
}

int
audit_given_recipient(
    const char *file, unsigned char id[ENVELOPE_KEY_ID_BYTES], char *why, size_t whylen)
{
	struct keyfile_public pk;
	unsigned char *buf;
	size_t len;
	int st;

	if (fileio_read_all(file, 4096, &buf, &len) == -1) {
		snprintf(why, whylen, "%s: %s", file, fileio_read_error(errno));
		return -1;
	}
	st = keyfile_public_parse((const char *)buf, len, &pk);
	free(buf);
	if (st != 0) {
		snprintf(why, whylen, "%s: %s", file, status_message(st));
		return -1;
	}
	memcpy(id, pk.key_id, ENVELOPE_KEY_ID_BYTES);
	return 0;
}

int
audit_given_key_id(struct audit_given_keys *k, uint64_t idx,
    const unsigned char id[ENVELOPE_KEY_ID_BYTES], char *why, size_t whylen)
{
	char idhex[2 * ENVELOPE_KEY_ID_BYTES + 1];
	size_t i;

	if (k->nrecipients > 0) {
		for (i = 0; i < k->nrecipients; i++)
			if (memcmp(k->recipients[i], id, ENVELOPE_KEY_ID_BYTES) == 0)
				break;
		if (i == k->nrecipients) {
			sodium_bin2hex(idhex, sizeof idhex, id, ENVELOPE_KEY_ID_BYTES);
			snprintf(why, whylen, "entry %llu: recipient key id %s was never a recipient",
			    (unsigned long long)idx, idhex);
			return -1;
		}
	}
	for (i = 0; i < k->nseen; i++)
		if (memcmp(k->seen[i], id, ENVELOPE_KEY_ID_BYTES) == 0)
			return 0;
	if (k->nseen == AUDIT_GIVEN_KEY_IDS_MAX) {
		snprintf(why, whylen, "entry %llu: more than %d distinct recipient key ids",
		    (unsigned long long)idx, AUDIT_GIVEN_KEY_IDS_MAX);
		return -1;
	}
	memcpy(k->seen[k->nseen++], id, ENVELOPE_KEY_ID_BYTES);
	return 0;
}
