#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "exportfile.h"
#include "status.h"

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

/* "YYYY-MM-DD" with digits where digits belong; the calendar is not checked
 * beyond month 01..12 and day 01..31. */
static int
day_valid(const char *d)
{
	static const char shape[] = "dddd-dd-dd";

	for (size_t i = 0; i < EXPORTFILE_DAY_BYTES; i++) {
		if (shape[i] == 'd' ? (d[i] < '0' || d[i] > '9') : d[i] != '-')
			return 0;
	}
	if (memcmp(d + 5, "01", 2) < 0 || memcmp(d + 5, "12", 2) > 0)
		return 0;
	if (memcmp(d + 8, "01", 2) < 0 || memcmp(d + 8, "31", 2) > 0)
		return 0;
	return 1;
}

uint64_t
exportfile_length(uint64_t count, uint64_t payload)
{
	return EXPORTFILE_HEADER_BYTES + count * EXPORTFILE_ENTRY_HEADER_BYTES + payload +
	    EXPORTFILE_END_BYTES;
}

int
exportfile_sniff(const unsigned char *buf, size_t len)
{
	return len >= EXPORTFILE_MAGIC_BYTES &&
	    memcmp(buf, EXPORTFILE_MAGIC, EXPORTFILE_MAGIC_BYTES) == 0;
}

struct exportfile_writer {
	envelope_write_fn write;
	void *ctx;
	crypto_hash_sha256_state file_hash;
	crypto_hash_sha256_state leaf;
	struct exportfile_entry cur;
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

int
exportfile_writer_new(
    struct exportfile_writer **out, uint64_t first_index, envelope_write_fn write, void *ctx)
{
	struct exportfile_writer *w;
	unsigned char hdr[EXPORTFILE_HEADER_BYTES];
	int rc;

	*out = NULL;
	if (write == NULL)
		return ST_ERR_ARGUMENT;
	if ((w = calloc(1, sizeof *w)) == NULL)
		return ST_ERR_NOMEM;
	w->write = write;
	w->ctx = ctx;
	w->next_index = first_index;
	crypto_hash_sha256_init(&w->file_hash);
	memcpy(hdr, EXPORTFILE_MAGIC, EXPORTFILE_MAGIC_BYTES);
	hdr[EXPORTFILE_MAGIC_BYTES] = EXPORTFILE_VERSION;
	put_u64(hdr + EXPORTFILE_MAGIC_BYTES + 1, first_index);
	if ((rc = writer_emit(w, hdr, sizeof hdr)) != ST_OK) {
		free(w);
		return rc;
	}
	*out = w;
	return ST_OK;
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
	if (e->index != w->next_index || !day_valid(e->day) || e->size > EXPORTFILE_MAX_ENTRY_BYTES)
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
	w->in_entry = 0;
	w->next_index++;
	w->count++;
	return ST_OK;
}

int
exportfile_writer_finish(struct exportfile_writer *w, uint64_t tree_size)
{
	unsigned char end[EXPORTFILE_END_BYTES];

	if (w->status != ST_OK)
		return w->status;
	if (w->in_entry)
		return w->status = ST_ERR_STATE;
	if (tree_size < w->next_index)
		return w->status = ST_ERR_ARGUMENT;
	end[0] = EXPORTFILE_TYPE_END;
	put_u64(end + 1, w->count);
	put_u64(end + 9, tree_size);
	crypto_hash_sha256_update(&w->file_hash, end, 17);
	crypto_hash_sha256_final(&w->file_hash, end + 17);
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

enum reader_state { RS_HEADER, RS_TYPE, RS_ENTRY_HEADER, RS_ENTRY_DATA, RS_END, RS_DONE };

struct exportfile_reader {
	struct exportfile_sink sink;
	enum reader_state state;
	unsigned char buf[EXPORTFILE_END_BYTES > EXPORTFILE_ENTRY_HEADER_BYTES
		? EXPORTFILE_END_BYTES
		: EXPORTFILE_ENTRY_HEADER_BYTES];
	size_t have, need;
	crypto_hash_sha256_state file_hash;
	crypto_hash_sha256_state leaf;
	struct exportfile_entry cur;
	struct exportfile_summary sum;
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
		if (memcmp(p, EXPORTFILE_MAGIC, EXPORTFILE_MAGIC_BYTES) != 0)
			return reader_fail(
			    r, ST_ERR_MAGIC, "not a sealtip export file (bad magic)");
		if (p[EXPORTFILE_MAGIC_BYTES] != EXPORTFILE_VERSION)
			return reader_fail(r, ST_ERR_VERSION, "unknown export file version %u",
			    p[EXPORTFILE_MAGIC_BYTES]);
		r->sum.first_index = get_u64(p + EXPORTFILE_MAGIC_BYTES + 1);
		crypto_hash_sha256_update(&r->file_hash, p, EXPORTFILE_HEADER_BYTES);
		r->state = RS_TYPE;
		r->need = 1;
		return ST_OK;
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
		if (!day_valid(r->cur.day))
			return reader_fail(r, ST_ERR_LAYOUT, "entry %llu: malformed day",
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
		if (r->sink.entry_end != NULL && r->sink.entry_end(r->sink.ctx, &r->cur) != 0)
			return reader_fail(r, ST_ERR_CALLBACK, "entry %llu: output failed",
			    (unsigned long long)r->cur.index);
		r->sum.count++;
		r->state = RS_TYPE;
		r->need = 1;
		return ST_OK;
	case RS_END:
		crypto_hash_sha256_update(&r->file_hash, p, 17);
		crypto_hash_sha256_final(&r->file_hash, h);
		if (get_u64(p + 1) != r->sum.count)
			return reader_fail(r, ST_ERR_LAYOUT,
			    "end record counts %llu entries, the file holds %llu",
			    (unsigned long long)get_u64(p + 1), (unsigned long long)r->sum.count);
		r->sum.tree_size = get_u64(p + 9);
		if (r->sum.tree_size < expect)
			return reader_fail(r, ST_ERR_LAYOUT,
			    "end record: tree size %llu below last index",
			    (unsigned long long)r->sum.tree_size);
		if (sodium_memcmp(h, p + 17, sizeof h) != 0)
			return reader_fail(r, ST_ERR_CHUNK_AUTH,
			    "end record: file digest does not match (altered or damaged)");
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
