/* sealtip audit --url: the online audit (docs/audit.md, "Auditing a live
 * server"). In order, stopping at the first failure:
 *   1. the state file (if one is named and exists) and the web manifest are
 *      read and checked before anything is asked of the server;
 *   2. the log key: the given one, else the state's, else the server's own
 *      (trusted on first use); the server's /api/v1/config must serve it,
 *      and exactly the --recipient keys when they are given;
 *   3. the live checkpoint verifies with it;
 *   4. the state's checkpoint is a prefix of the live tree: smaller size is a
 *      rollback, another root at the same size or a failing consistency
 *      proof is a fork;
 *   5. every --checkpoint note or receipt likewise, and a receipt's entry is
 *      in its own checkpoint and still in the live tree;
 *   6. every file of the web manifest is served byte for byte, and nothing
 *      the served page links to is served without being in the manifest;
 *   7. the state file is replaced (temp file, fsync, rename) with the key
 *      and the live checkpoint.
 * Everything the server sends is untrusted input of bounded size. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "audit_given.h"
#include "audit_url.h"
#include "fileio.h"
#include "httpclient.h"
#include "keyfile.h"
#include "note.h"
#include "safename.h"
#include "sha256.h"
#include "status.h"
#include "tlog.h"
#include "tool.h"

/* JSON answers, checkpoints, receipts and state files: a note and some. */
#define AUDIT_URL_TEXT_MAX (NOTE_MAX_BYTES + 65536)
#define AUDIT_URL_WEB_FILE_MAX (32 * 1024 * 1024)
#define AUDIT_URL_MANIFEST_MAX (1024 * 1024)
#define AUDIT_URL_MANIFEST_FILES 4096
#define AUDIT_URL_PATH_MAX 1024
#define AUDIT_URL_STATE_MAGIC "sealtip-audit-state 1\n"

struct audit_url_cp {
	uint64_t size;
	unsigned char root[TLOG_HASH_BYTES];
};

struct audit_url_web_file {
	char *path;
	unsigned char hash[TLOG_HASH_BYTES];
};

struct audit_url {
	const struct audit_url_options *o;
	struct httpclient_url url;
	struct note_verifier key;
	char key_text[NOTE_VERIFIER_KEY_MAX];
	const char *key_source;
	struct keyfile_public *recipients;
	int have_state;
	char state_key[NOTE_VERIFIER_KEY_MAX];
	struct audit_url_cp state_cp;
	struct audit_url_cp live;
	char origin[NOTE_NAME_MAX + 1];
	unsigned char *live_note;
	size_t live_len;
	size_t ngiven, nreceipts;
	struct audit_url_web_file *web;
	size_t nweb;
	char manifest_hash[2 * TLOG_HASH_BYTES + 1];
	/* Paths the served page links to that the manifest lacks. */
	char **linked;
	size_t nlinked, linked_cap;
};

static int audit_url_fail(const struct audit_url *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* "audit: URL: what": a failure of the server under audit. */
static int
audit_url_fail(const struct audit_url *a, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	tool_error("audit: %s: %s", a->url.shown, msg);
	return -1;
}

/* Strict base64 of exactly one hash, the whole string. */
/* GET path, which must answer 200; the body is the caller's to free. */
static int
audit_url_get(struct audit_url *a, const char *path, unsigned char **body, size_t *len)
{
	int status;

	*body = NULL;
	if (httpclient_get(&a->url, path, AUDIT_URL_TEXT_MAX, &status, body, len) == -1)
		return -1;
	if (status != 200) {
		free(*body);
		*body = NULL;
		return audit_url_fail(a, "GET %s: the server answered %d", path, status);
	}
	return 0;
}

/* A JSON array of base64 hashes (at most TLOG_MAX_PROOF) into proof. */
static int
audit_url_hashes(const json_t *arr, unsigned char proof[TLOG_MAX_PROOF][TLOG_HASH_BYTES], size_t *n)
{
	const json_t *v;
	size_t i;

	if (!json_is_array(arr) || json_array_size(arr) > TLOG_MAX_PROOF)
		return -1;
	for (i = 0; i < json_array_size(arr); i++) {
		v = json_array_get(arr, i);
		if (!json_is_string(v) ||
		    audit_given_b64_hash(json_string_value(v), json_string_length(v), proof[i]) == -1)
			return -1;
	}
	*n = i;
	return 0;
}

/* GET one of the two proof endpoints; the answer must echo both numbers. */
static int
audit_url_proof(struct audit_url *a, int consistency, uint64_t x, uint64_t y,
    unsigned char proof[TLOG_MAX_PROOF][TLOG_HASH_BYTES], size_t *n)
{
	const char *kx = consistency ? "from" : "index", *ky = consistency ? "to" : "size";
	char path[128];
	unsigned char *body = NULL;
	size_t len;
	json_t *j = NULL, *vx, *vy;
	int rc = -1;

	snprintf(path, sizeof path, "/api/v1/log/%s?%s=%llu&%s=%llu",
	    consistency ? "consistency" : "inclusion", kx, (unsigned long long)x, ky,
	    (unsigned long long)y);
	if (audit_url_get(a, path, &body, &len) == -1)
		goto done;
	j = json_loadb((const char *)body, len, JSON_REJECT_DUPLICATES, NULL);
	vx = json_object_get(j, kx);
	vy = json_object_get(j, ky);
	if (!json_is_integer(vx) || !json_is_integer(vy) || (uint64_t)json_integer_value(vx) != x ||
	    (uint64_t)json_integer_value(vy) != y ||
	    audit_url_hashes(json_object_get(j, "proof"), proof, n) == -1) {
		audit_url_fail(a, "GET %s: not a proof of the sizes asked for", path);
		goto done;
	}
	rc = 0;
done:
	json_decref(j);
	free(body);
	return rc;
}

/* ---- 1. the state file and the web manifest ---- */

/* The state file: the magic line, the verifier key, a blank line, then the
 * last checkpoint verified, verbatim. A missing file is a first run. */
static int
audit_url_state_read(struct audit_url *a)
{
	const char *file = a->o->state;
	struct note_verifier key;
	struct note_checkpoint cp;
	unsigned char *buf = NULL;
	const char *p, *nl;
	size_t len, magic = strlen(AUDIT_URL_STATE_MAGIC), klen;
	int ns, rc = -1;

	if (fileio_read_all(file, AUDIT_URL_TEXT_MAX, &buf, &len) == -1) {
		if (errno == ENOENT)
			return 0;
		tool_error("audit: %s: %s", file, fileio_read_error(errno));
		return -1;
	}
	p = (const char *)buf;
	if (len < magic || memcmp(p, AUDIT_URL_STATE_MAGIC, magic) != 0) {
		tool_error("audit: %s: not a sealtip audit state file (its first line is not "
			   "'sealtip-audit-state 1')",
		    file);
		goto done;
	}
	p += magic;
	nl = memchr(p, '\n', len - magic);
	klen = nl != NULL ? (size_t)(nl - p) : 0;
	if (nl == NULL || klen >= sizeof a->state_key || note_verifier_parse(&key, p, klen) != 0 ||
	    nl[1] != '\n') {
		tool_error("audit: %s: corrupted: line 2 is not a verifier key followed by a blank "
			   "line",
		    file);
		goto done;
	}
	memcpy(a->state_key, p, klen);
	a->state_key[klen] = '\0';
	p = nl + 2;
	if ((ns = note_checkpoint_open(&cp, p, len - (size_t)(p - (const char *)buf), &key)) !=
	    NOTE_OK) {
		tool_error("audit: %s: corrupted: its checkpoint does not verify with its key: %s",
		    file, note_status_message(ns));
		goto done;
	}
	a->state_cp.size = cp.size;
	memcpy(a->state_cp.root, cp.root, TLOG_HASH_BYTES);
	a->have_state = 1;
	rc = 0;
done:
	free(buf);
	return rc;
}

/* A relative path of the served tree: components of [A-Za-z0-9._~+-], none
 * empty or hidden (the server answers 404 for those). */
static int
audit_url_path_valid(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len >= AUDIT_URL_PATH_MAX)
		return 0;
	for (i = 0; i < len; i++) {
		if ((i == 0 || s[i - 1] == '/') && (s[i] == '/' || s[i] == '.'))
			return 0;
		if (!isalnum((unsigned char)s[i]) &&
		    (s[i] == '\0' || strchr("._~+-/", s[i]) == NULL))
			return 0;
	}
	return s[len - 1] != '/';
}

/* sha256sum lines, "<64 lowercase hex>  <path>\n", sorted by path in byte
 * order, no path twice. */
static int
audit_url_manifest_read(struct audit_url *a)
{
	const char *file = a->o->web_manifest;
	unsigned char *buf = NULL, digest[TLOG_HASH_BYTES];
	const char *p, *end, *nl, *bin_end;
	size_t len, line = 0, plen, n;
	struct sha256 h;
	int rc = -1;

	if (fileio_read_all(file, AUDIT_URL_MANIFEST_MAX, &buf, &len) == -1) {
		tool_error("audit: %s: %s", file, fileio_read_error(errno));
		return -1;
	}
	sha256_init(&h);
	sha256_update(&h, buf, len);
	sha256_final(&h, digest);
	sodium_bin2hex(a->manifest_hash, sizeof a->manifest_hash, digest, sizeof digest);
	if ((a->web = calloc(AUDIT_URL_MANIFEST_FILES, sizeof *a->web)) == NULL) {
		tool_error("out of memory");
		goto done;
	}
	p = (const char *)buf;
	end = p + len;
	for (; p < end; p = nl + 1) {
		line++;
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL) {
			tool_error("audit: %s: line %zu: no newline at its end", file, line);
			goto done;
		}
		plen = (size_t)(nl - p);
		if (a->nweb == AUDIT_URL_MANIFEST_FILES) {
			tool_error("audit: %s: more than %d files", file, AUDIT_URL_MANIFEST_FILES);
			goto done;
		}
		if (plen < 67 || p[64] != ' ' || p[65] != ' ' ||
		    sodium_hex2bin(
			a->web[a->nweb].hash, TLOG_HASH_BYTES, p, 64, NULL, &n, &bin_end) != 0 ||
		    n != TLOG_HASH_BYTES || bin_end != p + 64 ||
		    strspn(p, "0123456789abcdef") < 64 ||
		    !audit_url_path_valid(p + 66, plen - 66)) {
			tool_error("audit: %s: line %zu: not '<sha256 in lowercase hex>  <relative "
				   "path>' (a sha256sum line of a served file)",
			    file, line);
			goto done;
		}
		if ((a->web[a->nweb].path = strndup(p + 66, plen - 66)) == NULL) {
			tool_error("out of memory");
			goto done;
		}
		if (a->nweb > 0 && strcmp(a->web[a->nweb - 1].path, a->web[a->nweb].path) >= 0) {
			tool_error("audit: %s: line %zu: %s is out of order or listed twice (the "
				   "manifest is sorted by path)",
			    file, line, a->web[a->nweb].path);
			a->nweb++;
			goto done;
		}
		a->nweb++;
	}
	if (a->nweb == 0) {
		tool_error("audit: %s: lists no file", file);
		goto done;
	}
	rc = 0;
done:
	free(buf);
	return rc;
}

static int
audit_url_recipients_read(struct audit_url *a)
{
	unsigned char *buf;
	size_t i, j, len;
	int st;

	if ((a->recipients = calloc(a->o->nrecipients, sizeof *a->recipients)) == NULL) {
		tool_error("out of memory");
		return -1;
	}
	for (i = 0; i < a->o->nrecipients; i++) {
		if (fileio_read_all(a->o->recipients[i], 4096, &buf, &len) == -1) {
			tool_error("audit: %s: %s", a->o->recipients[i], fileio_read_error(errno));
			return -1;
		}
		st = keyfile_public_parse((const char *)buf, len, &a->recipients[i]);
		free(buf);
		if (st != 0) {
			tool_error("audit: %s: %s", a->o->recipients[i], status_message(st));
			return -1;
		}
		for (j = 0; j < i; j++)
			if (memcmp(a->recipients[j].key_id, a->recipients[i].key_id,
				KEYFILE_KEY_ID_BYTES) == 0) {
				tool_error("audit: %s: the same key as %s", a->o->recipients[i],
				    a->o->recipients[j]);
				return -1;
			}
	}
	return 0;
}

/* /api/v1/config's "recipients" are the keys every report is sealed to: with
 * --recipient, exactly those keys (same key id, box_pk and sign_pk). */
static int
audit_url_recipients_check(struct audit_url *a, const json_t *served)
{
	const struct keyfile_public *k;
	char id[KEYFILE_KEY_ID_HEX_SIZE];
	unsigned char box[KEYFILE_BOX_PK_BYTES], sign[KEYFILE_SIGN_PK_BYTES];
	const json_t *r, *v;
	size_t i, j, n;

	if (!json_is_array(served))
		return audit_url_fail(a, "GET /api/v1/config: no recipients array");
	for (i = 0; i < json_array_size(served); i++) {
		r = json_array_get(served, i);
		for (j = 0; j < a->o->nrecipients; j++) {
			k = &a->recipients[j];
			keyfile_key_id_hex(k->key_id, id);
			if (!json_is_string(v = json_object_get(r, "key_id")) ||
			    strcmp(json_string_value(v), id) != 0)
				continue;
			v = json_object_get(r, "box_pk");
			if (!json_is_string(v) ||
			    sodium_base642bin(box, sizeof box, json_string_value(v),
				json_string_length(v), NULL, &n, NULL,
				sodium_base64_VARIANT_ORIGINAL) != 0 ||
			    n != sizeof box || memcmp(box, k->box_pk, sizeof box) != 0)
				return audit_url_fail(a,
				    "recipients: key id %s is served with a box_pk that is not "
				    "%s's: reports would be sealed to another key",
				    id, a->o->recipients[j]);
			v = json_object_get(r, "sign_pk");
			if (!json_is_string(v) ||
			    sodium_base642bin(sign, sizeof sign, json_string_value(v),
				json_string_length(v), NULL, &n, NULL,
				sodium_base64_VARIANT_ORIGINAL) != 0 ||
			    n != sizeof sign || memcmp(sign, k->sign_pk, sizeof sign) != 0)
				return audit_url_fail(a,
				    "recipients: key id %s is served with a sign_pk that is not "
				    "%s's",
				    id, a->o->recipients[j]);
			break;
		}
		if (j == a->o->nrecipients) {
			v = json_object_get(r, "key_id");
			return audit_url_fail(a,
			    "recipients: the server serves key id %.40s, which is none of the "
			    "--recipient keys: reports would be sealed to it",
			    json_is_string(v) ? json_string_value(v) : "(none)");
		}
	}
	for (j = 0; j < a->o->nrecipients; j++) {
		keyfile_key_id_hex(a->recipients[j].key_id, id);
		for (i = 0; i < json_array_size(served); i++) {
			v = json_object_get(json_array_get(served, i), "key_id");
			if (json_is_string(v) && strcmp(json_string_value(v), id) == 0)
				break;
		}
		if (i == json_array_size(served))
			return audit_url_fail(a,
			    "recipients: %s (key id %s) is not served: no report is sealed "
			    "to it",
			    a->o->recipients[j], id);
	}
	return 0;
}

/* ---- 2. and 3. the key and the live checkpoint ---- */

static int
audit_url_key(struct audit_url *a)
{
	unsigned char *body = NULL;
	size_t len;
	json_t *j = NULL, *v;
	const char *served;
	int rc = -1;

	if (audit_url_get(a, "/api/v1/config", &body, &len) == -1)
		goto done;
	j = json_loadb((const char *)body, len, JSON_REJECT_DUPLICATES, NULL);
	v = json_object_get(json_object_get(j, "log"), "verifier_key");
	if (!json_is_string(v) || json_string_length(v) >= sizeof a->key_text) {
		audit_url_fail(a, "GET /api/v1/config: no log.verifier_key in the answer");
		goto done;
	}
	served = json_string_value(v);
	if (a->o->nrecipients > 0 &&
	    audit_url_recipients_check(a, json_object_get(j, "recipients")) == -1)
		goto done;
	if (a->o->verifier_key != NULL) {
		if (a->have_state && strcmp(a->o->verifier_key, a->state_key) != 0) {
			tool_error(
			    "audit: %s: holds the verifier key %s, not the given %s: the log "
			    "key was replaced since the last audit (or the wrong state file)",
			    a->o->state, a->state_key, a->o->verifier_key);
			goto done;
		}
		snprintf(a->key_text, sizeof a->key_text, "%s", a->o->verifier_key);
		a->key_source = "the given --verifier-key";
	} else if (a->have_state) {
		snprintf(a->key_text, sizeof a->key_text, "%s", a->state_key);
		a->key_source = "the one in the state file";
	} else {
		snprintf(a->key_text, sizeof a->key_text, "%s", served);
		a->key_source = "the server's own, trusted on first use (compare it with the key "
				"the operator published; the state file keeps it for next time)";
	}
	if (note_verifier_parse(&a->key, a->key_text, strlen(a->key_text)) != 0) {
		audit_url_fail(a, "'%s' is not a verifier key", a->key_text);
		goto done;
	}
	if (strcmp(served, a->key_text) != 0) {
		audit_url_fail(a,
		    "log key replaced: the server serves the verifier key %s, the "
		    "audited key is %s",
		    served, a->key_text);
		goto done;
	}
	rc = 0;
done:
	json_decref(j);
	free(body);
	return rc;
}

static int
audit_url_checkpoint(struct audit_url *a)
{
	struct note_checkpoint cp;
	int ns;

	if (audit_url_get(a, "/api/v1/log/checkpoint", &a->live_note, &a->live_len) == -1)
		return -1;
	if ((ns = note_checkpoint_open(&cp, (const char *)a->live_note, a->live_len, &a->key)) !=
	    NOTE_OK)
		return audit_url_fail(a,
		    "GET /api/v1/log/checkpoint: does not verify with the log key: %s%s",
		    note_status_message(ns),
		    ns == NOTE_ERR_UNKNOWN_KEY ? " (signed by another key)" : "");
	a->live.size = cp.size;
	memcpy(a->live.root, cp.root, TLOG_HASH_BYTES);
	snprintf(a->origin, sizeof a->origin, "%s", cp.origin);
	return 0;
}

/* ---- 4. and 5. consistency ---- */

/* Proves that the tree cp signs (what names it) is a prefix of the live one. */
static int
audit_url_consistent(struct audit_url *a, const struct audit_url_cp *cp, const char *what)
{
	unsigned char proof[TLOG_MAX_PROOF][TLOG_HASH_BYTES];
	size_t n;

	if (cp->size > a->live.size)
		return audit_url_fail(a,
		    "rolled back: %s signs a log of %llu entries, the server's checkpoint now "
		    "signs only %llu",
		    what, (unsigned long long)cp->size, (unsigned long long)a->live.size);
	if (cp->size == a->live.size) {
		if (sodium_memcmp(cp->root, a->live.root, TLOG_HASH_BYTES) != 0)
			return audit_url_fail(a,
			    "forked: %s and the server's checkpoint sign different roots for the "
			    "same size %llu",
			    what, (unsigned long long)cp->size);
		return 0;
	}
	if (audit_url_proof(a, 1, cp->size, a->live.size, proof, &n) == -1)
		return -1;
	if (tlog_verify_consistency(cp->size, a->live.size, cp->root, a->live.root,
		(const unsigned char(*)[TLOG_HASH_BYTES])proof, n) != TLOG_OK)
		return audit_url_fail(a,
		    "forked: the consistency proof from size %llu (%s) to the server's size %llu "
		    "does not verify: the log is not an extension of the one %s signs",
		    (unsigned long long)cp->size, what, (unsigned long long)a->live.size, what);
	return 0;
}

/* A --checkpoint FILE: a note, a server's receipt (the 201 answer), or the
 * page's saved receipt (its "receipt" object, and the page's own
 * "leaf_hash"). */
static int
audit_url_given(struct audit_url *a, const char *file)
{
	unsigned char proof[TLOG_MAX_PROOF][TLOG_HASH_BYTES];
	struct audit_given g;
	struct audit_url_cp given;
	char what[1100], why[1200];
	size_t n;

	if (audit_given_read(file, &a->key, &g, why, sizeof why) == -1) {
		tool_error("audit: %s", why);
		return -1;
	}
	given.size = g.cp.size;
	memcpy(given.root, g.cp.root, TLOG_HASH_BYTES);
	snprintf(what, sizeof what, "the checkpoint in %s", file);
	if (audit_url_consistent(a, &given, what) == -1)
		return -1;
	a->ngiven++;
	if (g.receipt) {
		if (audit_url_proof(a, 0, g.index, a->live.size, proof, &n) == -1)
			return -1;
		if (tlog_verify_inclusion(g.index, a->live.size, g.leaf,
			(const unsigned char(*)[TLOG_HASH_BYTES])proof, n,
			a->live.root) != TLOG_OK) {
			audit_url_fail(a,
			    "entry %llu of the receipt %s: the server's inclusion proof at size "
			    "%llu does not verify: the report is no longer in the log",
			    (unsigned long long)g.index, file, (unsigned long long)a->live.size);
			return -1;
		}
		a->nreceipts++;
	}
	return 0;
}

/* ---- 6. the served page ---- */

static const struct audit_url_web_file *
audit_url_web_find(const struct audit_url *a, const char *path)
{
	size_t lo = 0, hi = a->nweb, mid;
	int c;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		c = strcmp(a->web[mid].path, path);
		if (c == 0)
			return &a->web[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* Notes a link of the served file base to ref[0..len) when it names a file
 * of this server that the manifest lacks: ".." and "." are resolved against
 * base's folder; absolute URLs, fragments and queries are left out. */
static int
audit_url_link(struct audit_url *a, const char *base, const char *ref, size_t len)
{
	char path[AUDIT_URL_PATH_MAX], **grown;
	size_t n = 0, seg, i;
	const char *slash;

	for (i = 0; i < len && ref[i] != '?' && ref[i] != '#'; i++)
		;
	len = i;
	if (len == 0 || len >= AUDIT_URL_PATH_MAX || memchr(ref, ':', len) != NULL ||
	    (len >= 2 && ref[0] == '/' && ref[1] == '/'))
		return 0;
	if (ref[0] == '/') {
		ref++;
		len--;
	} else if ((slash = strrchr(base, '/')) != NULL) {
		n = (size_t)(slash - base) + 1;
		memcpy(path, base, n);
	}
	for (i = 0; i < len; i += seg + 1) {
		seg = strcspn(ref + i, "/");
		seg = seg < len - i ? seg : len - i;
		if (seg == 0 || (seg == 1 && ref[i] == '.'))
			continue;
		if (seg == 2 && ref[i] == '.' && ref[i + 1] == '.') {
			if (n == 0)
				return 0; /* above the root: the server never serves it */
			for (n--; n > 0 && path[n - 1] != '/'; n--)
				;
			continue;
		}
		if (n + seg + 1 >= sizeof path)
			return 0;
		memcpy(path + n, ref + i, seg);
		n += seg;
		path[n++] = '/';
	}
	if (n == 0)
		return 0;
	path[--n] = '\0';
	if (!audit_url_path_valid(path, n) || audit_url_web_find(a, path) != NULL)
		return 0;
	for (i = 0; i < a->nlinked; i++)
		if (strcmp(a->linked[i], path) == 0)
			return 0;
	if (a->nlinked == a->linked_cap) {
		a->linked_cap = a->linked_cap ? 2 * a->linked_cap : 16;
		if ((grown = realloc(a->linked, a->linked_cap * sizeof *grown)) == NULL)
			goto oom;
		a->linked = grown;
	}
	if ((a->linked[a->nlinked] = strdup(path)) == NULL)
		goto oom;
	a->nlinked++;
	return 0;
oom:
	tool_error("out of memory");
	return -1;
}

/* The links of an HTML page (src= and href= attributes) or a script (module
 * specifiers and other quoted relative paths, "./x" or "../x"). */
static int
audit_url_links(struct audit_url *a, const char *base, const unsigned char *body, size_t len)
{
	static const char *const html_attrs[] = {"src=", "href="};
	const char *s = (const char *)body, *q, *end;
	size_t i, k, alen;
	int html = strlen(base) > 5 && strcmp(base + strlen(base) - 5, ".html") == 0;
	int js = strlen(base) > 3 && strcmp(base + strlen(base) - 3, ".js") == 0;

	for (i = 0; i < len; i++) {
		q = NULL;
		if (html) {
			for (k = 0; k < 2 && q == NULL; k++) {
				alen = strlen(html_attrs[k]);
				if (len - i > alen + 1 &&
				    strncasecmp(s + i, html_attrs[k], alen) == 0 &&
				    (i == 0 || isspace((unsigned char)s[i - 1])) &&
				    (s[i + alen] == '"' || s[i + alen] == '\''))
					q = s + i + alen;
			}
		} else if (js && (s[i] == '"' || s[i] == '\'') && len - i > 3 &&
		    (strncmp(s + i + 1, "./", 2) == 0 || strncmp(s + i + 1, "../", 3) == 0)) {
			q = s + i;
		}
		if (q == NULL)
			continue;
		end = memchr(q + 1, *q, len - (size_t)(q + 1 - s));
		if (end == NULL)
			break;
		if (audit_url_link(a, base, q + 1, (size_t)(end - q - 1)) == -1)
			return -1;
		i = (size_t)(end - s);
	}
	return 0;
}

/* GET /path: 0 with the body on 200, 1 on 404, -1 otherwise (printed). */
static int
audit_url_web_get(struct audit_url *a, const char *path, unsigned char **body, size_t *len)
{
	char url_path[AUDIT_URL_PATH_MAX + 1];
	int status;

	snprintf(url_path, sizeof url_path, "/%s", path);
	if (httpclient_get(&a->url, url_path, AUDIT_URL_WEB_FILE_MAX, &status, body, len) == -1)
		return -1;
	if (status == 200)
		return 0;
	free(*body);
	*body = NULL;
	if (status == 404)
		return 1;
	return audit_url_fail(a, "web: %s: the server answered %d", path, status);
}

static int
audit_url_web_file(struct audit_url *a, const char *path, const struct audit_url_web_file *f)
{
	char got[2 * TLOG_HASH_BYTES + 1], want[2 * TLOG_HASH_BYTES + 1];
	unsigned char *body = NULL, digest[TLOG_HASH_BYTES];
	struct sha256 h;
	size_t len;
	int g, rc = -1;

	if ((g = audit_url_web_get(a, path[0] != '\0' ? path : "", &body, &len)) != 0) {
		if (g == 1)
			audit_url_fail(a,
			    "web: %s: missing: the server answers 404 for a file of %s", f->path,
			    a->o->web_manifest);
		goto done;
	}
	sha256_init(&h);
	sha256_update(&h, body, len);
	sha256_final(&h, digest);
	if (memcmp(digest, f->hash, TLOG_HASH_BYTES) != 0) {
		sodium_bin2hex(got, sizeof got, digest, sizeof digest);
		sodium_bin2hex(want, sizeof want, f->hash, sizeof f->hash);
		audit_url_fail(a,
		    "web: %s: the served bytes differ from %s (sha256 %s, the manifest says %s): "
		    "the server serves an altered file",
		    path[0] != '\0' ? path : "/ (index.html)", a->o->web_manifest, got, want);
		goto done;
	}
	if (audit_url_links(a, f->path, body, len) == -1)
		goto done;
	rc = 0;
done:
	free(body);
	return rc;
}

static int
audit_url_web(struct audit_url *a)
{
	const struct audit_url_web_file *index;
	unsigned char *body = NULL;
	size_t i, len;
	int g;

	for (i = 0; i < a->nweb; i++)
		if (audit_url_web_file(a, a->web[i].path, &a->web[i]) == -1)
			return -1;
	/* What a visitor gets first: "/" is index.html. */
	if ((index = audit_url_web_find(a, "index.html")) != NULL &&
	    audit_url_web_file(a, "", index) == -1)
		return -1;
	for (i = 0; i < a->nlinked; i++) {
		if ((g = audit_url_web_get(a, a->linked[i], &body, &len)) == -1)
			return -1;
		free(body);
		body = NULL;
		if (g == 0)
			return audit_url_fail(a,
			    "web: %s: served and linked from the page, but not in %s: the server "
			    "serves a file the build did not make",
			    a->linked[i], a->o->web_manifest);
	}
	return 0;
}

/* ---- 7. the state file ---- */

/* Replaces the state file: a temp file beside it, fsync, rename over the old
 * one, fsync of the folder. (fileio_atomic_commit never replaces, so the
 * last two steps are here.) */
static int
audit_url_state_write(struct audit_url *a)
{
	const char *file = a->o->state, *slash = strrchr(file, '/');
	struct fileio_atomic f = {.dirfd = -1, .fd = -1};
	char *dir = NULL;
	int dirfd = -1, rc = -1;

	if ((dir = slash == NULL
		    ? strdup(".")
		    : strndup(file, slash == file ? 1 : (size_t)(slash - file))) == NULL) {
		tool_error("out of memory");
		return -1;
	}
	if ((dirfd = fileio_open_dir(dir)) == -1 ||
	    fileio_atomic_open(&f, dirfd, slash != NULL ? slash + 1 : file, 0644) == -1 ||
	    fileio_atomic_write(&f, AUDIT_URL_STATE_MAGIC, strlen(AUDIT_URL_STATE_MAGIC)) == -1 ||
	    fileio_atomic_write(&f, a->key_text, strlen(a->key_text)) == -1 ||
	    fileio_atomic_write(&f, "\n\n", 2) == -1 ||
	    fileio_atomic_write(&f, a->live_note, a->live_len) == -1 || fsync(f.fd) == -1 ||
	    renameat(dirfd, f.tmp_name, dirfd, f.name) == -1) {
		tool_error("audit: %s: cannot write the state: %s", file, strerror(errno));
		goto done;
	}
	f.tmp_name[0] = '\0';
	if (fileio_sync_dir(dirfd) == -1) {
		tool_error("audit: %s: cannot sync its folder: %s", file, strerror(errno));
		goto done;
	}
	rc = 0;
done:
	fileio_atomic_abort(&f);
	if (dirfd != -1)
		close(dirfd);
	free(dir);
	return rc;
}

int
audit_url_run(const struct audit_url_options *o)
{
	struct audit_url a;
	size_t i;
	int rc = TOOL_EXIT_FAIL;

	memset(&a, 0, sizeof a);
	a.o = o;
	if (httpclient_url_parse(o->url, &a.url) == -1) {
		tool_error("audit: '%s' is not an http://HOST[:PORT][/PREFIX] URL", o->url);
		return TOOL_EXIT_USAGE;
	}
	if (o->socks != NULL && httpclient_proxy_parse(o->socks, &a.url) == -1) {
		tool_error("audit: --socks: '%s' is not HOST:PORT", o->socks);
		return TOOL_EXIT_USAGE;
	}
	if (o->timeout != 0)
		a.url.timeout = o->timeout;
	if ((o->state != NULL && audit_url_state_read(&a) == -1) ||
	    (o->web_manifest != NULL && audit_url_manifest_read(&a) == -1) ||
	    (o->nrecipients > 0 && audit_url_recipients_read(&a) == -1) ||
	    audit_url_key(&a) == -1 || audit_url_checkpoint(&a) == -1 ||
	    (a.have_state &&
		audit_url_consistent(&a, &a.state_cp, "the checkpoint in the state file") == -1))
		goto done;
	for (i = 0; i < o->ncheckpoints; i++)
		if (audit_url_given(&a, o->checkpoints[i]) == -1)
			goto done;
	if (o->web_manifest != NULL && audit_url_web(&a) == -1)
		goto done;
	if (o->state != NULL && audit_url_state_write(&a) == -1)
		goto done;
	fputs("audit ok: ", stdout);
	safename_put_line(stdout, a.url.shown);
	fputs(": log ", stdout);
	safename_put_line(stdout, a.origin);
	printf(" at size %llu", (unsigned long long)a.live.size);
	if (a.have_state)
		printf(", consistent with the state's checkpoint at size %llu",
		    (unsigned long long)a.state_cp.size);
	printf(", %zu given checkpoint%s consistent, %zu receipt%s still included\n", a.ngiven,
	    a.ngiven == 1 ? "" : "s", a.nreceipts, a.nreceipts == 1 ? "" : "s");
	printf("log key: %s\n", a.key_source);
	if (o->nrecipients > 0)
		printf("recipients ok: the server hands out exactly the %zu given key%s\n",
		    o->nrecipients, o->nrecipients == 1 ? "" : "s");
	if (o->state != NULL)
		tool_print(stdout, "state: %s %s at size %llu", o->state,
		    a.have_state ? "updated" : "created", (unsigned long long)a.live.size);
	if (o->web_manifest != NULL) {
		printf("web ok: %zu file%s of ", a.nweb, a.nweb == 1 ? "" : "s");
		safename_put_line(stdout, o->web_manifest);
		printf(" (sha256 %s) served byte for byte", a.manifest_hash);
		if (audit_url_web_find(&a, "index.html") != NULL)
			printf(", / is index.html");
		if (a.nlinked > 0)
			printf(", %zu linked path%s outside it answer%s 404", a.nlinked,
			    a.nlinked == 1 ? "" : "s", a.nlinked == 1 ? "s" : "");
		printf("\n");
	}
	rc = TOOL_EXIT_OK;
done:
	for (i = 0; i < a.nweb; i++)
		free(a.web[i].path);
	free(a.web);
	for (i = 0; i < a.nlinked; i++)
		free(a.linked[i]);
	free(a.linked);
	free(a.live_note);
	free(a.recipients);
	return rc;
}
