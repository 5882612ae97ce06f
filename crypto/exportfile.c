#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "exportfile.h"
#include "status.h"
#include "tlog.h"

static void
put_u64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t
get_u64(const unsigned char *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

int
exportfile_day_valid(const char *day, size_t len)
{
	static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	static const char shape[] = "dddd-dd-dd";
	int y, m, d, leap;

	if (len != EXPORTFILE_DAY_BYTES)
		return 0;
	for (size_t i = 0; i < EXPORTFILE_DAY_BYTES; i++) {
		if (shape[i] == 'd' ? (day[i] < '0' || day[i] > '9') : day[i] != '-')
			return 0;
	}
	y = (day[0] - '0') * 1000 + (day[1] - '0') * 100 + (day[2] - '0') * 10 + (day[3] - '0');
	m = (day[5] - '0') * 10 + (day[6] - '0');
	d = (day[8] - '0') * 10 + (day[9] - '0');
	leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	/* Before 1970 no clock sealtipd reads can say. */
	if (y < 1970 || m < 1 || m > 12 || d < 1)
		return 0;
	return d <= mdays[m - 1] + (m == 2 && leap);
}

static void
put_u16(unsigned char *p, size_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
}

static size_t
get_u16(const unsigned char *p)
{
	return (size_t)p[0] | (size_t)p[1] << 8;
}

static unsigned
popcount64(uint64_t v)
{
	unsigned n = 0;

	for (; v != 0; v &= v - 1)
		n++;
	return n;
}

/* Leaves below the first entry that the frontier stands for. */
static uint64_t
frontier_base(const struct exportfile_log *log)
{
	return log->first_index < log->tree_size ? log->first_index : log->tree_size;
}

/* The tree of frontier_base leaves, its right edge from the frontier. */
static void
frontier_to_tree(const struct exportfile_log *log, struct tlog_tree *t)
{
	uint64_t base = frontier_base(log);
	size_t k = 0;

	tlog_tree_init(t);
	for (int l = TLOG_MAX_LEVELS - 1; l >= 0; l--)
		if ((base >> l) & 1)
			memcpy(t->edge[l], log->frontier[k++], TLOG_HASH_BYTES);
	t->size = base;
}

void
exportfile_frontier_from_tree(struct exportfile_log *log, const struct tlog_tree *t)
{
	size_t k = 0;

	for (int l = TLOG_MAX_LEVELS - 1; l >= 0; l--)
		if ((t->size >> l) & 1)
			memcpy(log->frontier[k++], t->edge[l], TLOG_HASH_BYTES);
	log->frontier_len = k;
}

static uint64_t
header_length(const struct exportfile_log *log)
{
	return EXPORTFILE_HEADER_BYTES + strlen(log->verifier_key) + log->note_len +
	    (uint64_t)EXPORTFILE_HASH_BYTES * (log->frontier_len + log->proof_len);
}

uint64_t
exportfile_length(const struct exportfile_log *log, uint64_t count, uint64_t payload)
{
	return header_length(log) + count * EXPORTFILE_ENTRY_HEADER_BYTES + payload +
	    EXPORTFILE_END_BYTES;
}

int
exportfile_sniff(const unsigned char *buf, size_t len)
{
	return len >= EXPORTFILE_MAGIC_BYTES &&
	    memcmp(buf, EXPORTFILE_MAGIC, EXPORTFILE_MAGIC_BYTES) == 0;
}

/* The checks writer and reader share on a header's log fields: lengths,
 * key, signature, size. Fills log->verifier and log->checkpoint. Returns
 * NULL, or what is wrong. */
static const char *
log_check(struct exportfile_log *log)
{
	size_t key_len = strlen(log->verifier_key);
	int ns;

	memset(&log->verifier, 0, sizeof log->verifier);
	memset(&log->checkpoint, 0, sizeof log->checkpoint);
	if (log->note_len > EXPORTFILE_MAX_NOTE_BYTES)
		return "too long";
	if (log->frontier_len != popcount64(frontier_base(log)))
		return "frontier: wrong number of hashes for the first index";
	if (log->proof_len > TLOG_MAX_PROOF || log->proof_size > log->tree_size ||
	    (log->proof_size == 0 && log->proof_len != 0))
		return "consistency proof: malformed";
	if (key_len > 0 &&
	    note_verifier_parse(&log->verifier, log->verifier_key, key_len) != NOTE_OK)
		return "verifier key: malformed";
	if (log->note_len == 0)
		return log->tree_size == 0 ? NULL : "no checkpoint for a non-empty tree";
	if (key_len == 0)
		return "checkpoint without a verifier key";
	if ((ns = note_checkpoint_open(
		 &log->checkpoint, log->note, log->note_len, &log->verifier)) != NOTE_OK)
		return note_status_message(ns);
	if (log->checkpoint.size != log->tree_size)
		return "signs another tree size than the header's";
	return NULL;
}

struct exportfile_writer {
	envelope_write_fn write;
	void *ctx;
	crypto_hash_sha256_state file_hash;
	crypto_hash_sha256_state leaf;
	struct exportfile_entry cur;
	struct exportfile_log log;
	struct tlog_tree tree;
	uint64_t next_index;
	uint64_t count;
	uint64_t left; /* bytes of the current entry still to come */
	int in_entry;
	int status; /* sticky */
};

/* Every byte written is also hashed into the end record's digest. */
static int
writer_emit(struct exportfile_writer *w, const unsigned char *buf, size_t len)
{
	crypto_hash_sha256_update(&w->file_hash, buf, len);
	if (w->write(w->ctx, buf, len) != 0)
		return ST_ERR_CALLBACK;
	return ST_OK;
}

static int
writer_header(struct exportfile_writer *w)
{
	unsigned char hdr[EXPORTFILE_HEADER_BYTES], *p = hdr;
	const struct exportfile_log *log = &w->log;
	size_t key_len = strlen(log->verifier_key);
	int rc;

	memcpy(p, EXPORTFILE_MAGIC, EXPORTFILE_MAGIC_BYTES);
	p += EXPORTFILE_MAGIC_BYTES;
	*p++ = EXPORTFILE_VERSION;
	put_u64(p, log->first_index);
	put_u64(p + 8, log->tree_size);
	put_u16(p + 16, key_len);
	put_u16(p + 18, log->note_len);
	put_u64(p + 20, log->proof_size);
	p[28] = (unsigned char)log->proof_len;
	if ((rc = writer_emit(w, hdr, sizeof hdr)) != ST_OK ||
	    (rc = writer_emit(w, (const unsigned char *)log->verifier_key, key_len)) != ST_OK ||
	    (rc = writer_emit(w, (const unsigned char *)log->note, log->note_len)) != ST_OK ||
	    (rc = writer_emit(w, log->frontier[0], EXPORTFILE_HASH_BYTES * log->frontier_len)) !=
		ST_OK)
		return rc;
	return writer_emit(w, log->proof[0], EXPORTFILE_HASH_BYTES * log->proof_len);
}

int
exportfile_writer_new(struct exportfile_writer **out, const struct exportfile_log *log,
    envelope_write_fn write, void *ctx)
{
	struct exportfile_writer *w;
	int rc = ST_ERR_ARGUMENT;

	*out = NULL;
	if (write == NULL || log == NULL)
		return ST_ERR_ARGUMENT;
	if ((w = calloc(1, sizeof *w)) == NULL)
		return ST_ERR_NOMEM;
	w->write = write;
	w->ctx = ctx;
	w->log = *log;
	if (memchr(w->log.verifier_key, '\0', sizeof w->log.verifier_key) == NULL ||
	    w->log.note_len > EXPORTFILE_MAX_NOTE_BYTES || log_check(&w->log) != NULL)
		goto fail;
	w->log.note[w->log.note_len] = '\0';
	w->next_index = log->first_index;
	frontier_to_tree(&w->log, &w->tree);
	crypto_hash_sha256_init(&w->file_hash);
	if ((rc = writer_header(w)) != ST_OK)
		goto fail;
	*out = w;
	return ST_OK;
fail:
	free(w);
	return rc;
}

int
exportfile_writer_entry_begin(struct exportfile_writer *w, const struct exportfile_entry *e)
{
	unsigned char hdr[EXPORTFILE_ENTRY_HEADER_BYTES], *p = hdr;
	static const unsigned char leaf_prefix = 0x00;

	if (w->status != ST_OK)
		return w->status;
	if (w->in_entry)
		return w->status = ST_ERR_STATE;
	if (e->index != w->next_index || e->index >= w->log.tree_size ||
	    !exportfile_day_valid(e->day, strnlen(e->day, sizeof e->day)) ||
	    e->size > EXPORTFILE_MAX_ENTRY_BYTES)
		return ST_ERR_ARGUMENT;
	*p++ = EXPORTFILE_TYPE_ENTRY;
	put_u64(p, e->index);
	p += 8;
	memcpy(p, e->day, EXPORTFILE_DAY_BYTES);
	p += EXPORTFILE_DAY_BYTES;
	put_u64(p, e->size);
	p += 8;
	memcpy(p, e->leaf_hash, EXPORTFILE_HASH_BYTES);
	if ((w->status = writer_emit(w, hdr, sizeof hdr)) != ST_OK)
		return w->status;
	w->cur = *e;
	w->left = e->size;
	w->in_entry = 1;
	crypto_hash_sha256_init(&w->leaf);
	crypto_hash_sha256_update(&w->leaf, &leaf_prefix, 1);
	return ST_OK;
}

int
exportfile_writer_entry_data(struct exportfile_writer *w, const unsigned char *buf, size_t len)
{
	if (w->status != ST_OK)
		return w->status;
	if (!w->in_entry)
		return w->status = ST_ERR_STATE;
	if (len > w->left)
		return w->status = ST_ERR_TRAILING;
	w->left -= len;
	crypto_hash_sha256_update(&w->leaf, buf, len);
	return w->status = writer_emit(w, buf, len);
}

int
exportfile_writer_entry_end(struct exportfile_writer *w)
{
	unsigned char h[EXPORTFILE_HASH_BYTES];

	if (w->status != ST_OK)
		return w->status;
	if (!w->in_entry)
		return w->status = ST_ERR_STATE;
	if (w->left != 0)
		return w->status = ST_ERR_TRUNCATED;
	crypto_hash_sha256_final(&w->leaf, h);
	if (sodium_memcmp(h, w->cur.leaf_hash, sizeof h) != 0)
		return w->status = ST_ERR_CHUNK_AUTH;
	if (tlog_tree_append(&w->tree, h, NULL) != TLOG_OK)
		return w->status = ST_ERR_ARGUMENT;
	w->in_entry = 0;
	w->next_index++;
	w->count++;
	return ST_OK;
}

int
exportfile_writer_finish(struct exportfile_writer *w)
{
	unsigned char end[EXPORTFILE_END_BYTES], root[EXPORTFILE_HASH_BYTES];

	if (w->status != ST_OK)
		return w->status;
	if (w->in_entry)
		return w->status = ST_ERR_STATE;
	if (w->tree.size != w->log.tree_size)
		return w->status = ST_ERR_ARGUMENT;
	tlog_tree_root(&w->tree, root);
	if (w->log.note_len > 0 && sodium_memcmp(root, w->log.checkpoint.root, sizeof root) != 0)
		return w->status = ST_ERR_CHUNK_AUTH;
	end[0] = EXPORTFILE_TYPE_END;
	put_u64(end + 1, w->count);
	crypto_hash_sha256_update(&w->file_hash, end, 9);
	crypto_hash_sha256_final(&w->file_hash, end + 9);
	if (w->write(w->ctx, end, sizeof end) != 0)
		return w->status = ST_ERR_CALLBACK;
	w->status = ST_ERR_STATE; /* nothing may follow the end record */
	return ST_OK;
}

void
exportfile_writer_free(struct exportfile_writer *w)
{
	free(w);
}

enum reader_state { RS_HEADER, RS_LOG, RS_TYPE, RS_ENTRY_HEADER, RS_ENTRY_DATA, RS_END, RS_DONE };

/* The header's variable part: key, note, frontier and proof hashes. */
#define READER_BUF_BYTES                                                                           \
	(NOTE_VERIFIER_KEY_MAX + EXPORTFILE_MAX_NOTE_BYTES +                                       \
	    EXPORTFILE_HASH_BYTES * (TLOG_MAX_LEVELS + TLOG_MAX_PROOF))

struct exportfile_reader {
	struct exportfile_sink sink;
	enum reader_state state;
	unsigned char buf[READER_BUF_BYTES];
	size_t have, need;
	size_t key_len;
	crypto_hash_sha256_state file_hash;
	crypto_hash_sha256_state leaf;
	struct exportfile_entry cur;
	struct exportfile_summary sum;
	struct exportfile_log log;
	struct tlog_tree tree;
	uint64_t watch;
	int watching;
	uint64_t left;
	int status;
	char error[160];
};

static int reader_fail(struct exportfile_reader *r, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
reader_fail(struct exportfile_reader *r, int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->error, sizeof r->error, fmt, ap);
	va_end(ap);
	return r->status = status;
}

int
exportfile_reader_new(struct exportfile_reader **out, const struct exportfile_sink *sink)
{
	struct exportfile_reader *r;

	*out = NULL;
	if ((r = calloc(1, sizeof *r)) == NULL)
		return ST_ERR_NOMEM;
	if (sink != NULL)
		r->sink = *sink;
	r->state = RS_HEADER;
	r->need = EXPORTFILE_HEADER_BYTES;
	crypto_hash_sha256_init(&r->file_hash);
	snprintf(r->error, sizeof r->error, "ok");
	*out = r;
	return ST_OK;
}

void
exportfile_reader_watch(struct exportfile_reader *r, uint64_t size)
{
	r->watch = size;
	r->watching = 1;
}

/* Keeps the root when the tree reaches the watched size. */
static void
reader_watch_check(struct exportfile_reader *r)
{
	if (r->watching && r->tree.size == r->watch) {
		tlog_tree_root(&r->tree, r->sum.watched_root);
		r->sum.watched = 1;
	}
}

/* The fixed header is in r->buf: magic, version, sizes of what follows. */
static int
reader_header(struct exportfile_reader *r)
{
	const unsigned char *p = r->buf + EXPORTFILE_MAGIC_BYTES + 1;
	uint64_t base;
	size_t proof_count;

	if (memcmp(r->buf, EXPORTFILE_MAGIC, EXPORTFILE_MAGIC_BYTES) != 0)
		return reader_fail(r, ST_ERR_MAGIC, "not a sealtip export file (bad magic)");
	if (r->buf[EXPORTFILE_MAGIC_BYTES] == 1)
		return reader_fail(r, ST_ERR_VERSION,
		    "export file version 1 carries no signed checkpoint: export it again");
	if (r->buf[EXPORTFILE_MAGIC_BYTES] != EXPORTFILE_VERSION)
		return reader_fail(r, ST_ERR_VERSION, "unknown export file version %u",
		    r->buf[EXPORTFILE_MAGIC_BYTES]);
	crypto_hash_sha256_update(&r->file_hash, r->buf, EXPORTFILE_HEADER_BYTES);
	r->log.first_index = get_u64(p);
	r->log.tree_size = get_u64(p + 8);
	r->key_len = get_u16(p + 16);
	r->log.note_len = get_u16(p + 18);
	r->log.proof_size = get_u64(p + 20);
	proof_count = p[28];
	base = frontier_base(&r->log);
	r->log.frontier_len = popcount64(base);
	r->log.proof_len = proof_count;
	if (r->key_len >= NOTE_VERIFIER_KEY_MAX)
		return reader_fail(r, ST_ERR_LAYOUT, "header: verifier key too long");
	if (r->log.note_len > EXPORTFILE_MAX_NOTE_BYTES)
		return reader_fail(r, ST_ERR_LAYOUT, "header: checkpoint too long");
	if (proof_count > TLOG_MAX_PROOF)
		return reader_fail(r, ST_ERR_LAYOUT, "header: consistency proof too long");
	r->sum.first_index = r->log.first_index;
	r->sum.tree_size = r->log.tree_size;
	r->state = RS_LOG;
	r->need = r->key_len + r->log.note_len +
	    EXPORTFILE_HASH_BYTES * (r->log.frontier_len + r->log.proof_len);
	return ST_OK;
}

/* The variable header is in r->buf: key, checkpoint, frontier, proof. */
static int
reader_log(struct exportfile_reader *r)
{
	const unsigned char *p = r->buf;
	const char *why;

	crypto_hash_sha256_update(&r->file_hash, r->buf, r->need);
	memcpy(r->log.verifier_key, p, r->key_len);
	r->log.verifier_key[r->key_len] = '\0';
	p += r->key_len;
	memcpy(r->log.note, p, r->log.note_len);
	r->log.note[r->log.note_len] = '\0';
	p += r->log.note_len;
	memcpy(r->log.frontier, p, EXPORTFILE_HASH_BYTES * r->log.frontier_len);
	p += EXPORTFILE_HASH_BYTES * r->log.frontier_len;
	memcpy(r->log.proof, p, EXPORTFILE_HASH_BYTES * r->log.proof_len);
	if (memchr(r->log.verifier_key, '\0', r->key_len) != NULL ||
	    memchr(r->log.note, '\0', r->log.note_len) != NULL)
		return reader_fail(r, ST_ERR_LAYOUT, "header: NUL byte in the key or checkpoint");
	if ((why = log_check(&r->log)) != NULL)
		return reader_fail(r, ST_ERR_CHUNK_AUTH, "checkpoint: %s", why);
	frontier_to_tree(&r->log, &r->tree);
	reader_watch_check(r);
	if (r->sink.header != NULL && r->sink.header(r->sink.ctx, &r->log) != 0)
		return reader_fail(r, ST_ERR_CALLBACK, "header refused");
	r->state = RS_TYPE;
	r->need = 1;
	return ST_OK;
}

/* A whole fixed-size record is in r->buf: act on it. */
static int
reader_record(struct exportfile_reader *r)
{
	static const unsigned char leaf_prefix = 0x00;
	unsigned char h[EXPORTFILE_HASH_BYTES];
	const unsigned char *p = r->buf;
	uint64_t expect = r->sum.first_index + r->sum.count;

	switch (r->state) {
	case RS_HEADER:
		return reader_header(r);
	case RS_LOG:
		return reader_log(r);
	case RS_TYPE:
		if (p[0] == EXPORTFILE_TYPE_ENTRY) {
			r->state = RS_ENTRY_HEADER;
			r->need = EXPORTFILE_ENTRY_HEADER_BYTES;
		} else if (p[0] == EXPORTFILE_TYPE_END) {
			r->state = RS_END;
			r->need = EXPORTFILE_END_BYTES;
		} else {
			return reader_fail(r, ST_ERR_LAYOUT,
			    "after entry %llu: unknown record type 0x%02x",
			    (unsigned long long)r->sum.count, p[0]);
		}
		/* The type byte stays in buf: records are parsed whole. */
		r->have = 1;
		return ST_OK;
	case RS_ENTRY_HEADER:
		crypto_hash_sha256_update(&r->file_hash, p, EXPORTFILE_ENTRY_HEADER_BYTES);
		r->cur.index = get_u64(p + 1);
		memcpy(r->cur.day, p + 9, EXPORTFILE_DAY_BYTES);
		r->cur.day[EXPORTFILE_DAY_BYTES] = '\0';
		r->cur.size = get_u64(p + 9 + EXPORTFILE_DAY_BYTES);
		memcpy(r->cur.leaf_hash, p + 17 + EXPORTFILE_DAY_BYTES, EXPORTFILE_HASH_BYTES);
		if (r->cur.index != expect)
			return reader_fail(r, ST_ERR_LAYOUT,
			    "entry %llu: index %llu out of sequence", (unsigned long long)expect,
			    (unsigned long long)r->cur.index);
		if (expect >= r->log.tree_size)
			return reader_fail(r, ST_ERR_LAYOUT,
			    "entry %llu: beyond the checkpoint's tree size %llu",
			    (unsigned long long)expect, (unsigned long long)r->log.tree_size);
		if (!exportfile_day_valid(r->cur.day, EXPORTFILE_DAY_BYTES))
			return reader_fail(r, ST_ERR_LAYOUT,
			    "entry %llu: day is not a valid YYYY-MM-DD day",
			    (unsigned long long)expect);
		if (r->cur.size > EXPORTFILE_MAX_ENTRY_BYTES)
			return reader_fail(r, ST_ERR_TOO_LARGE, "entry %llu: size %llu too large",
			    (unsigned long long)expect, (unsigned long long)r->cur.size);
		crypto_hash_sha256_init(&r->leaf);
		crypto_hash_sha256_update(&r->leaf, &leaf_prefix, 1);
		r->left = r->cur.size;
		if (r->sink.entry_begin != NULL && r->sink.entry_begin(r->sink.ctx, &r->cur) != 0)
			return reader_fail(r, ST_ERR_CALLBACK, "entry %llu: output failed",
			    (unsigned long long)expect);
		r->state = RS_ENTRY_DATA;
		r->need = 0;
		return ST_OK;
	case RS_ENTRY_DATA:
		crypto_hash_sha256_final(&r->leaf, h);
		if (sodium_memcmp(h, r->cur.leaf_hash, sizeof h) != 0)
			return reader_fail(r, ST_ERR_CHUNK_AUTH,
			    "entry %llu: leaf hash does not match its envelope",
			    (unsigned long long)r->cur.index);
		/* The recomputed hash joins the tree, never the file's word. */
		if (tlog_tree_append(&r->tree, h, NULL) != TLOG_OK)
			return reader_fail(r, ST_ERR_LAYOUT, "entry %llu: tree full",
			    (unsigned long long)r->cur.index);
		reader_watch_check(r);
		if (r->sink.entry_end != NULL && r->sink.entry_end(r->sink.ctx, &r->cur) != 0)
			return reader_fail(r, ST_ERR_CALLBACK, "entry %llu: output failed",
			    (unsigned long long)r->cur.index);
		r->sum.count++;
		r->state = RS_TYPE;
		r->need = 1;
		return ST_OK;
	case RS_END:
		crypto_hash_sha256_update(&r->file_hash, p, 9);
		crypto_hash_sha256_final(&r->file_hash, h);
		if (get_u64(p + 1) != r->sum.count)
			return reader_fail(r, ST_ERR_LAYOUT,
			    "end record counts %llu entries, the file holds %llu",
			    (unsigned long long)get_u64(p + 1), (unsigned long long)r->sum.count);
		if (sodium_memcmp(h, p + 9, sizeof h) != 0)
			return reader_fail(r, ST_ERR_CHUNK_AUTH,
			    "end record: file digest does not match (altered or damaged)");
		if (r->tree.size != r->log.tree_size)
			return reader_fail(r, ST_ERR_LAYOUT,
			    "entries %llu..%llu of the signed tree are missing",
			    (unsigned long long)r->tree.size,
			    (unsigned long long)(r->log.tree_size - 1));
		tlog_tree_root(&r->tree, h);
		if (r->log.note_len > 0 && sodium_memcmp(h, r->log.checkpoint.root, sizeof h) != 0)
			return reader_fail(r, ST_ERR_CHUNK_AUTH,
			    "the entries do not give the signed checkpoint's root: an entry "
			    "was altered, added or left out");
		r->state = RS_DONE;
		return ST_OK;
	case RS_DONE:
		break;
	}
	return reader_fail(r, ST_ERR_STATE, "internal error: wrong state");
}

int
exportfile_reader_update(struct exportfile_reader *r, const unsigned char *buf, size_t len)
{
	size_t n;
	int rc;

	if (r->status != ST_OK)
		return r->status;
	while (len > 0) {
		if (r->state == RS_DONE)
			return reader_fail(r, ST_ERR_TRAILING, "bytes after the end record");
		if (r->state == RS_ENTRY_DATA) {
			n = len < r->left ? len : (size_t)r->left;
			if (n > 0) {
				crypto_hash_sha256_update(&r->leaf, buf, n);
				crypto_hash_sha256_update(&r->file_hash, buf, n);
				if (r->sink.entry_data != NULL &&
				    r->sink.entry_data(r->sink.ctx, buf, n) != 0)
					return reader_fail(r, ST_ERR_CALLBACK,
					    "entry %llu: output failed",
					    (unsigned long long)r->cur.index);
				r->left -= n;
				buf += n;
				len -= n;
			}
			if (r->left == 0 && (rc = reader_record(r)) != ST_OK)
				return rc;
			continue;
		}
		n = r->need - r->have;
		if (n > len)
			n = len;
		memcpy(r->buf + r->have, buf, n);
		r->have += n;
		buf += n;
		len -= n;
		if (r->have < r->need)
			break;
		r->have = 0;
		if ((rc = reader_record(r)) != ST_OK)
			return rc;
		/* An empty variable header is complete as soon as it starts. */
		if (r->state == RS_LOG && r->need == 0 && (rc = reader_record(r)) != ST_OK)
			return rc;
		/* An empty envelope ends as soon as its header is read. */
		if (r->state == RS_ENTRY_DATA && r->left == 0 && (rc = reader_record(r)) != ST_OK)
			return rc;
	}
	return ST_OK;
}

int
exportfile_reader_final(struct exportfile_reader *r, struct exportfile_summary *out)
{
	if (r->status != ST_OK)
		return r->status;
	if (r->state != RS_DONE)
		return reader_fail(r, ST_ERR_TRUNCATED,
		    "file ends after %llu entries without its end record",
		    (unsigned long long)r->sum.count);
	if (out != NULL)
		*out = r->sum;
	return ST_OK;
}

const struct exportfile_log *
exportfile_reader_log(const struct exportfile_reader *r)
{
	return &r->log;
}

const char *
exportfile_reader_error(const struct exportfile_reader *r)
{
	return r->error;
}

void
exportfile_reader_free(struct exportfile_reader *r)
{
	free(r);
}
