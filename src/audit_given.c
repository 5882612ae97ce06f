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

/* A receipt's index or tree size: a JSON number that is a whole number in
 * 0..2^53 - 1, as web/receipt.js reads it (JSON gives "3" and "3.0" the
 * same value; beyond 2^53 a JavaScript reader cannot hold it exactly, RFC
 * 7493 §2.2). 0 with *out set, or -1. */
static int
audit_given_count(const json_t *v, uint64_t *out)
{
	double d;

	if (json_is_integer(v)) {
		if (json_integer_value(v) < 0 || json_integer_value(v) > AUDIT_GIVEN_COUNT_MAX)
			return -1;
		*out = (uint64_t)json_integer_value(v);
		return 0;
	}
	if (!json_is_real(v))
		return -1;
	d = json_real_value(v);
	if (!(d >= 0 && d <= (double)AUDIT_GIVEN_COUNT_MAX) || d != (double)(uint64_t)d)
		return -1;
	*out = (uint64_t)d;
	return 0;
}

/* 1 when s is "YYYY-MM-DD" in shape (digits and dashes), as the page's
 * receipt file must hold. */
static int
audit_given_day_shape(const json_t *v)
{
	const char *s = json_string_value(v);
	size_t i;

	if (!json_is_string(v) || json_string_length(v) != 10)
		return 0;
	for (i = 0; i < 10; i++)
		if (i == 4 || i == 7 ? s[i] != '-' : !isdigit((unsigned char)s[i]))
			return 0;
	return 1;
}

/* The page's saved receipt file (docs/page.md, "sealtip-receipt-1") holds
 * what web/receipt.js's openReceiptFile checks before the log's claims:
 * its format, the server's receipt as an object with its day and its own
 * leaf_hash equal to the page's, the log it names. NULL, or what is wrong. */
static const char *
audit_given_page_file(const json_t *j, const struct note_verifier *key)
{
	const json_t *r = json_object_get(j, "receipt"), *log = json_object_get(j, "log"), *v;

	if (!json_is_string(v = json_object_get(j, "format")) ||
	    strcmp(json_string_value(v), "sealtip-receipt-1") != 0 ||
	    json_string_length(v) != strlen("sealtip-receipt-1"))
		return "not a sealtip-receipt-1 file";
	if (!json_is_object(r) || !json_is_object(log) ||
	    !json_is_string(json_object_get(log, "verifier_key")))
		return "no receipt object, or no log with its verifier_key";
	if (!audit_given_day_shape(json_object_get(r, "day")))
		return "the receipt has no YYYY-MM-DD day";
	if (!json_is_string(v = json_object_get(j, "leaf_hash")) ||
	    !json_equal(v, json_object_get(r, "leaf_hash")))
		return "the server's leaf_hash is not the page's";
	if ((v = json_object_get(log, "origin")) != NULL &&
	    (!json_is_string(v) || strlen(key->name) != json_string_length(v) ||
		memcmp(key->name, json_string_value(v), json_string_length(v)) != 0))
		return "the log's origin is not the key's name";
	if (json_object_get(r, "index") == NULL || json_object_get(r, "inclusion_proof") == NULL)
		return "the receipt has no index or no inclusion_proof";
	return NULL;
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
	const char *note, *bad;
	size_t i, n;
	json_t *j = NULL, *r = NULL, *v, *lh, *proof_json, *ts;
	uint64_t tree_size = 0;
	int ns, rc = -1;

	memset(out, 0, sizeof *out);
	note = (const char *)buf;
	for (i = 0; i < len && isspace(buf[i]); i++)
		;
	if (i < len && buf[i] == '{') {
		/* A "\u0000" in a string is JSON (RFC 8259), and the page reads it:
		 * where it matters (the note, a hash) the checks below refuse it. */
		j = json_loadb(
		    (const char *)buf, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, NULL);
		/* The page saves the server's receipt under "receipt". */
		if (json_object_get(j, "receipt") != NULL || json_object_get(j, "format") != NULL) {
			if ((bad = audit_given_page_file(j, key)) != NULL) {
				snprintf(why, whylen, "%s: page's receipt file: %s", file, bad);
				goto done;
			}
			r = json_object_get(j, "receipt");
		} else {
			r = j;
		}
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
			if (audit_given_count(v, &out->index) == -1 || !json_is_string(lh) ||
			    audit_given_b64_hash(json_string_value(lh), json_string_length(lh),
				out->leaf) == -1) {
				snprintf(why, whylen, "%s: receipt: bad index or leaf_hash", file);
				goto done;
			}
			/* docs/api.md: the checkpoint's size, greater than index. */
			ts = json_object_get(r, "tree_size");
			if (audit_given_count(ts, &tree_size) == -1 || tree_size <= out->index) {
				snprintf(why, whylen, "%s: receipt: bad tree_size", file);
				goto done;
			}
			out->receipt = 1;
		}
	}
	if ((ns = note_checkpoint_open(&out->cp, note, len, key)) != NOTE_OK) {
		snprintf(why, whylen, "%s: checkpoint: does not verify with the log key: %s%s", file,
		    note_status_message(ns),
		    ns == NOTE_ERR_UNKNOWN_KEY ? " (signed by another key: from another log?)" : "");
		goto done;
	}
	if (out->receipt && tree_size != out->cp.size) {
		snprintf(why, whylen, "%s: receipt: its tree_size %llu is not its checkpoint's size %llu",
		    file, (unsigned long long)tree_size, (unsigned long long)out->cp.size);
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
