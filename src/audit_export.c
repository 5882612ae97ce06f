/* sealtip audit EXPORTFILE (docs/audit.md, "Auditing an export file"). The
 * exportfile reader already recomputes every leaf hash, the root of frontier
 * + entries against the signed checkpoint, and the file digest; this adds
 * what the database audit checks per envelope (preamble, canonical chunk
 * layout, Padmé length, recipients, days in order) and the --checkpoint
 * files: a given checkpoint whose size lies within the file's tree range is
 * checked against the root rebuilt at that size; one below it only through
 * the file's consistency proof when it was made for that size; one beyond
 * the file's checkpoint cannot be checked and is counted as such. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "audit_export.h"
#include "audit_given.h"
#include "envelope.h"
#include "exportfile.h"
#include "fileio.h"
#include "keyfile.h"
#include "note.h"
#include "padme.h"
#include "safename.h"
#include "status.h"
#include "tlog.h"
#include "tool.h"

#define AX_READ_BYTES 65536

struct ax_cp {
	uint64_t size;
	unsigned char root[TLOG_HASH_BYTES];
	const char *file;
	int checked; /* its root is the tree's at its size */
	/* A receipt's claim: entry index has this leaf hash. It is checked by
	 * the receipt's own inclusion proof (proved), or by the entry itself
	 * when the file holds it (leaf_seen); else the receipt is not
	 * checkable from this file, however its root fares. */
	int has_leaf, proved, leaf_seen;
	uint64_t index;
	unsigned char leaf[TLOG_HASH_BYTES];
};

struct ax {
	const char *input;
	const char *given_key;
	const char *const *given; /* --checkpoint files */
	size_t ngiven;
	struct note_verifier key; /* the given key, parsed */
	struct audit_given_keys keys;
	struct ax_cp *cps;
	size_t ncps, next_cp;
	struct tlog_tree tree;
	unsigned char pre[ENVELOPE_MAX_PREAMBLE_BYTES];
	size_t pre_len;
	uint64_t entries, bytes;
	char first_day[EXPORTFILE_DAY_BYTES + 1], last_day[EXPORTFILE_DAY_BYTES + 1];
	char why[1200]; /* the first failure, said by a callback */
};

static int ax_fail(struct ax *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int
ax_fail(struct ax *a, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(a->why, sizeof a->why, fmt, ap);
	va_end(ap);
	return -1;
}

int
audit_export_sniff(const char *path)
{
	unsigned char magic[EXPORTFILE_MAGIC_BYTES];
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return 0;
	n = pread(fd, magic, sizeof magic, 0);
	close(fd);
	return n > 0 && exportfile_sniff(magic, (size_t)n);
}

/* Given checkpoints whose size the rebuilt tree has reached. */
static int
ax_check_cps(struct ax *a)
{
	unsigned char root[TLOG_HASH_BYTES];

	while (a->next_cp < a->ncps && a->cps[a->next_cp].size <= a->tree.size) {
		struct ax_cp *cp = &a->cps[a->next_cp++];

		if (cp->size < a->tree.size)
			continue; /* below the file's first entry: the proof's business */
		tlog_tree_root(&a->tree, root);
		if (sodium_memcmp(root, cp->root, sizeof root) != 0)
			return ax_fail(a,
			    "checkpoint at size %llu (%s): the entries of this export give "
			    "another tree: the log was forked or rewritten",
			    (unsigned long long)cp->size, cp->file);
		cp->checked = 1;
	}
	return 0;
}

static int ax_load_cp(struct ax *a, const char *file, const struct note_verifier *key);
static int ax_cp_cmp(const void *x, const void *y);

/* The header checked out: the log key is known, so the given checkpoints
 * can be verified, and the tree starts from the frontier. */
static int
ax_header(void *ctx, const struct exportfile_log *log)
{
	struct ax *a = ctx;
	uint64_t base = log->first_index < log->tree_size ? log->first_index : log->tree_size;
	size_t k = 0;

	/* The reader takes a file without a checkpoint for an empty log; from
	 * sealtipd there is none (it signs the empty tree at its first start),
	 * and such a file, made by anyone, would pass any key and checkpoint. */
	if (log->note_len == 0)
		return ax_fail(a,
		    "no signed checkpoint: an unsigned export proves nothing about the log "
		    "(sealtipd signs even an empty log's tree at its first start)");
	if (a->given_key != NULL && strcmp(a->given_key, log->verifier_key) != 0)
		return ax_fail(a,
		    "log key replaced: the checkpoint is signed by %s, the given key "
		    "is %s",
		    log->verifier_key, a->given_key);
	if (a->given_key == NULL)
		a->key = log->verifier;
	for (size_t i = 0; i < a->ngiven; i++)
		if (ax_load_cp(a, a->given[i], &a->key) == -1)
			return -1;
	qsort(a->cps, a->ncps, sizeof *a->cps, ax_cp_cmp);
	tlog_tree_init(&a->tree);
	for (int l = TLOG_MAX_LEVELS - 1; l >= 0; l--)
		if ((base >> l) & 1)
			memcpy(a->tree.edge[l], log->frontier[k++], TLOG_HASH_BYTES);
	a->tree.size = base;
	return ax_check_cps(a);
}

static int
ax_entry_begin(void *ctx, const struct exportfile_entry *e)
{
	struct ax *a = ctx;

	(void)e;
	a->pre_len = 0;
	return 0;
}

static int
ax_entry_data(void *ctx, const unsigned char *buf, size_t len)
{
	struct ax *a = ctx;
	size_t n = sizeof a->pre - a->pre_len;

	if (n > len)
		n = len;
	memcpy(a->pre + a->pre_len, buf, n);
	a->pre_len += n;
	a->bytes += len;
	return 0;
}

static int
ax_key_id(struct ax *a, uint64_t idx, const unsigned char id[ENVELOPE_KEY_ID_BYTES])
{
	return audit_given_key_id(&a->keys, idx, id, a->why, sizeof a->why);
}

/* The envelope arrived whole and hashes to its leaf: check its shape. */
static int
ax_entry_end(void *ctx, const struct exportfile_entry *e)
{
	struct ax *a = ctx;
	struct envelope_preamble pre;
	uint64_t payload;
	unsigned i;
	int st;

	if ((st = envelope_preamble_parse(a->pre, a->pre_len, &pre)) != 0)
		return ax_fail(a, "entry %llu: envelope preamble: %s", (unsigned long long)e->index,
		    st == ST_ERR_TRUNCATED ? "too short to hold one" : status_message(st));
	if (envelope_payload_length(e->size, pre.nrecip, &payload) != 0)
		return ax_fail(a,
		    "entry %llu: envelope length %llu does not fit the chunk layout for %u "
		    "recipient%s",
		    (unsigned long long)e->index, (unsigned long long)e->size, pre.nrecip,
		    pre.nrecip == 1 ? "" : "s");
	if (!padme_is_padded(payload))
		return ax_fail(a, "entry %llu: payload length %llu is not a Padme length",
		    (unsigned long long)e->index, (unsigned long long)payload);
	for (i = 0; i < pre.nrecip; i++)
		if (ax_key_id(a, e->index, pre.key_ids[i]) == -1)
			return -1;
	for (size_t k = 0; k < a->ncps; k++) {
		if (!a->cps[k].has_leaf || a->cps[k].index != e->index)
			continue;
		if (sodium_memcmp(a->cps[k].leaf, e->leaf_hash, TLOG_HASH_BYTES) != 0)
			return ax_fail(a,
			    "entry %llu: not the report the receipt %s was issued for (its "
			    "leaf_hash differs)",
			    (unsigned long long)e->index, a->cps[k].file);
		a->cps[k].leaf_seen = 1;
	}
	if (a->entries > 0 && strcmp(e->day, a->last_day) < 0)
		return ax_fail(a, "entry %llu: day %s is before the previous entry's %s",
		    (unsigned long long)e->index, e->day, a->last_day);
	if (a->entries == 0)
		memcpy(a->first_day, e->day, sizeof a->first_day);
	memcpy(a->last_day, e->day, sizeof a->last_day);
	a->entries++;
	if (tlog_tree_append(&a->tree, e->leaf_hash, NULL) != TLOG_OK)
		return ax_fail(a, "entry %llu: tree full", (unsigned long long)e->index);
	return ax_check_cps(a);
}

static int
ax_cp_cmp(const void *x, const void *y)
{
	const struct ax_cp *p = x, *q = y;

	return p->size < q->size ? -1 : p->size > q->size;
}

/* A --checkpoint FILE (a note, or a receipt's JSON with "checkpoint"),
 * verified with key. */
static int
ax_load_cp(struct ax *a, const char *file, const struct note_verifier *key)
{
	struct audit_given g;
	struct ax_cp *c = &a->cps[a->ncps];

	if (audit_given_read(file, key, &g, a->why, sizeof a->why) == -1)
		return -1;
	c->size = g.cp.size;
	memcpy(c->root, g.cp.root, TLOG_HASH_BYTES);
	c->file = file;
	c->has_leaf = g.receipt;
	c->proved = g.proved;
	c->index = g.index;
	memcpy(c->leaf, g.leaf, TLOG_HASH_BYTES);
	a->ncps++;
	return 0;
}

static int
ax_recipient(struct ax *a, const char *file)
{
	if (audit_given_recipient(file, a->keys.recipients[a->keys.nrecipients], a->why,
		sizeof a->why) == -1) {
		tool_error("audit: %s", a->why);
		return -1;
	}
	a->keys.nrecipients++;
	return 0;
}

/* Reads the whole file through the reader: every check but the given
 * checkpoints below the first entry. */
static int
ax_read(struct ax *a, struct exportfile_reader *r, struct exportfile_summary *sum)
{
	unsigned char *buf = NULL;
	unsigned long long done = 0, total;
	ssize_t n;
	int fd, rc = -1;

	if ((fd = open(a->input, O_RDONLY | O_CLOEXEC)) == -1) {
		tool_error("audit: %s: %s", a->input, strerror(errno));
		return -1;
	}
	/* The file's bytes, not the envelopes' (a->bytes): the progress line
	 * then ends on the total. */
	total = tool_progress_total(fd);
	if ((buf = malloc(AX_READ_BYTES)) == NULL) {
		tool_error("out of memory");
		goto done;
	}
	while ((n = read(fd, buf, AX_READ_BYTES)) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			tool_error("audit: %s: %s", a->input, strerror(errno));
			goto done;
		}
		if (exportfile_reader_update(r, buf, (size_t)n) != ST_OK)
			break;
		done += (unsigned long long)n;
		tool_progress("audit", done, total);
	}
	if (exportfile_reader_final(r, sum) != ST_OK) {
		tool_error("audit: %s: %s", a->input,
		    a->why[0] != '\0' ? a->why : exportfile_reader_error(r));
		goto done;
	}
	rc = 0;
done:
	tool_progress_end();
	free(buf);
	close(fd);
	return rc;
}

int
audit_export(const char *input, const char *given_key, const char *const *checkpoints,
    size_t ncheckpoints, const char *const *recipients, size_t nrecipients)
{
	struct ax a;
	const struct exportfile_sink sink = {
	    ax_entry_begin, ax_entry_data, ax_entry_end, &a, ax_header};
	struct exportfile_reader *r = NULL;
	struct exportfile_summary sum;
	const struct exportfile_log *log;
	size_t i, nchecked = 0, unchecked = 0;
	int rc = -1;

	memset(&a, 0, sizeof a);
	a.input = input;
	a.given_key = given_key;
	a.given = checkpoints;
	a.ngiven = ncheckpoints;
	if (given_key != NULL && note_verifier_parse(&a.key, given_key, strlen(given_key)) != 0) {
		tool_error("audit: '%s' is not a verifier key", given_key);
		goto done;
	}
	if ((a.keys.recipients = calloc(nrecipients + 1, sizeof *a.keys.recipients)) == NULL ||
	    (a.keys.seen = calloc(AUDIT_GIVEN_KEY_IDS_MAX, sizeof *a.keys.seen)) == NULL ||
	    (a.cps = calloc(ncheckpoints + 1, sizeof *a.cps)) == NULL ||
	    exportfile_reader_new(&r, &sink) != ST_OK) {
		tool_error("out of memory");
		goto done;
	}
	for (i = 0; i < nrecipients; i++)
		if (ax_recipient(&a, recipients[i]) == -1)
			goto done;
	if (ax_read(&a, r, &sum) == -1)
		goto done;
	log = exportfile_reader_log(r);
	/* What the entries could not reach: a checkpoint below the first entry
	 * (only through the file's consistency proof made for its size), or
	 * beyond the file's checkpoint. */
	for (i = 0; i < a.ncps; i++) {
		struct ax_cp *cp = &a.cps[i];

		if (cp->checked) {
		} else if (cp->size == 0) { /* a prefix of every tree, if the empty one */
			if (tlog_verify_consistency(0, sum.tree_size, cp->root, log->checkpoint.root,
				NULL, 0) != TLOG_OK) {
				tool_error("audit: %s: checkpoint at size 0 (%s): its signed root is "
					   "not the empty tree's",
				    input, cp->file);
				goto done;
			}
			cp->checked = 1;
		} else if (cp->size < sum.tree_size && log->proof_size == cp->size) {
			if (tlog_verify_consistency(cp->size, sum.tree_size, cp->root,
				log->checkpoint.root,
				(const unsigned char(*)[TLOG_HASH_BYTES])log->proof,
				log->proof_len) != TLOG_OK) {
				tool_error(
				    "audit: %s: checkpoint at size %llu (%s): the file's "
				    "consistency proof fails: the log was forked or rewritten",
				    input, (unsigned long long)cp->size, cp->file);
				goto done;
			}
			cp->checked = 1;
		}
		if (cp->checked && (!cp->has_leaf || cp->proved || cp->leaf_seen))
			nchecked++;
		else
			unchecked++;
	}
	/* The path as safename_put_line shows it: a name cannot forge a verdict. */
	fputs("audit ok: ", stdout);
	safename_put_line(stdout, input);
	printf(": export of %llu entr%s", (unsigned long long)a.entries,
	    a.entries == 1 ? "y" : "ies");
	if (a.entries > 0)
		printf(" (indexes %llu to %llu)", (unsigned long long)sum.first_index,
		    (unsigned long long)(sum.first_index + a.entries - 1));
	printf(" of a log of %llu, %llu bytes", (unsigned long long)sum.tree_size,
	    (unsigned long long)a.bytes);
	/* The checkpoint covers the envelopes, not the days: only the file's
	 * unkeyed digest does, which anyone can recompute. */
	if (a.entries > 0)
		printf(", days %s to %s (no signature covers them)", a.first_day, a.last_day);
	printf(", %zu recipient key id%s, checkpoint signature and root verified, %zu given "
	       "checkpoint%s verified, %zu not checkable from this file\n",
	    a.keys.nseen, a.keys.nseen == 1 ? "" : "s", nchecked, nchecked == 1 ? "" : "s",
	    unchecked);
	printf("log key: %s\n",
	    given_key != NULL
		? "the given --verifier-key"
		: "the key the file names (give --verifier-key to check it against the "
		  "published key)");
	rc = 0;
done:
	exportfile_reader_free(r);
	free(a.keys.recipients);
	free(a.keys.seen);
	free(a.cps);
	return rc;
}
