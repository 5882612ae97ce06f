/*
 * The payload inside an envelope:
 *
 *	u32 manifest_len || manifest || file bytes in manifest order || zeros
 *
 * padded with zeros to the Padmé length of everything before the zeros.
 *
 * The reader is a state machine fed the plaintext in whatever pieces the
 * envelope hands over (one byte at a time works). Its memory is constant
 * apart from the manifest, which is at most MANIFEST_MAX_BYTES and refused
 * from its length prefix alone. File bytes are never buffered: they go
 * straight to the sink together with their running SHA-256.
 */
#include <sodium.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "manifest.h"
#include "padme.h"
#include "payload.h"
#include "sha256.h"
#include "status.h"

#define PAYLOAD_PREFIX_BYTES 4

enum payload_state {
	PAYLOAD_PREFIX,		/* reading the u32 manifest length */
	PAYLOAD_MANIFEST,	/* buffering the manifest */
	PAYLOAD_FILES,		/* inside file findex, fleft bytes to go */
	PAYLOAD_PADDING,	/* only zeros may follow, up to padded */
	PAYLOAD_DONE		/* payload_reader_finish succeeded */
};

struct payload_reader {
	struct payload_sink sink;
	enum payload_state state;
	int error;			/* sticky: once set, every call returns it */
	unsigned char prefix[PAYLOAD_PREFIX_BYTES];
	size_t prefix_have;
	unsigned char *mbuf;		/* sodium_malloc'd: report plaintext */
	size_t mlen, mhave;
	struct manifest *m;
	size_t findex;
	bool file_open;
	uint64_t fleft;
	struct sha256 sha;		/* of the file being read: SHA-NI where the CPU has it */
	uint64_t received;		/* payload bytes consumed so far */
	uint64_t unpadded, padded;
};

int
payload_lengths(size_t manifest_len, uint64_t files_total, uint64_t *unpadded,
    uint64_t *padded)
{
	uint64_t u, p;
	bool ok;

	if (unpadded == NULL || padded == NULL)
		return ST_ERR_ARGUMENT;
	if (manifest_len == 0 || manifest_len > MANIFEST_MAX_BYTES)
		return ST_ERR_MANIFEST_LEN;
	if (files_total > UINT64_MAX - PAYLOAD_PREFIX_BYTES - manifest_len)
		return ST_ERR_TOO_LARGE;
	u = PAYLOAD_PREFIX_BYTES + (uint64_t)manifest_len + files_total;
	p = padme_length(u, &ok);
	if (!ok)
		return ST_ERR_TOO_LARGE;
	*unpadded = u;
	*padded = p;
	return ST_OK;
}

int
payload_write_manifest(envelope_write_fn write, void *ctx, const char *manifest,
    size_t manifest_len)
{
	unsigned char prefix[PAYLOAD_PREFIX_BYTES];
	struct manifest *m;
	int status;

	if (write == NULL || manifest == NULL)
		return ST_ERR_ARGUMENT;
	/* Never write what no reader would accept: the reader's own check. */
	if (manifest_len == 0 || manifest_len > MANIFEST_MAX_BYTES)
		return ST_ERR_MANIFEST_LEN;
	if ((status = manifest_parse((const unsigned char *)manifest, manifest_len, &m)) != ST_OK)
		return status;
	manifest_free(m);
	prefix[0] = (unsigned char)(manifest_len & 0xff);
	prefix[1] = (unsigned char)((manifest_len >> 8) & 0xff);
	prefix[2] = (unsigned char)((manifest_len >> 16) & 0xff);
	prefix[3] = (unsigned char)((manifest_len >> 24) & 0xff);
	if (write(ctx, prefix, sizeof prefix) != 0 ||
	    write(ctx, (const unsigned char *)manifest, manifest_len) != 0)
		return ST_ERR_CALLBACK;
	return ST_OK;
}

int
payload_write_padding(envelope_write_fn write, void *ctx, uint64_t count)
{
	static const unsigned char zeros[4096];
	size_t n;

	if (write == NULL)
		return ST_ERR_ARGUMENT;
	while (count > 0) {
		n = count < sizeof zeros ? (size_t)count : sizeof zeros;
		if (write(ctx, zeros, n) != 0)
			return ST_ERR_CALLBACK;
		count -= n;
	}
	return ST_OK;
}

int
payload_reader_new(struct payload_reader **out, const struct payload_sink *sink)
{
	struct payload_reader *r;

	if (out == NULL || sink == NULL)
		return ST_ERR_ARGUMENT;
	*out = NULL;
	if ((r = calloc(1, sizeof *r)) == NULL)
		return ST_ERR_NOMEM;
	r->sink = *sink;
	r->state = PAYLOAD_PREFIX;
	r->error = ST_OK;
	*out = r;
	return ST_OK;
}

/* The raw manifest is only lent to the sink's manifest callback: wiped and
 * released as soon as it returns, or as soon as anything fails. */
static void
payload_drop_manifest_bytes(struct payload_reader *r)
{
	if (r->mbuf != NULL)
		sodium_free(r->mbuf);
	r->mbuf = NULL;
	r->mlen = r->mhave = 0;
}

static int
payload_begin_manifest(struct payload_reader *r)
{
	uint32_t mlen;

	mlen = (uint32_t)r->prefix[0] | (uint32_t)r->prefix[1] << 8 |
	    (uint32_t)r->prefix[2] << 16 | (uint32_t)r->prefix[3] << 24;
	/* Refused from the prefix alone, before a byte of it is buffered. */
	if (mlen == 0 || mlen > MANIFEST_MAX_BYTES)
		return ST_ERR_MANIFEST_LEN;
	/* Guard pages, no swap, no core dump, wiped on free. */
	if ((r->mbuf = sodium_malloc(mlen)) == NULL)
		return ST_ERR_NOMEM;
	r->mlen = mlen;
	r->mhave = 0;
	r->state = PAYLOAD_MANIFEST;
	return ST_OK;
}

static int
payload_file_begin(struct payload_reader *r)
{
	const struct manifest_file *f = &r->m->files[r->findex];

	sha256_init(&r->sha);
	r->fleft = f->size;
	r->file_open = true;
	if (r->sink.file_begin != NULL &&
	    r->sink.file_begin(r->sink.ctx, r->findex, f) != 0)
		return ST_ERR_CALLBACK;
	return ST_OK;
}

static int
payload_file_end(struct payload_reader *r)
{
	unsigned char digest[SHA256_BYTES];
	size_t index = r->findex;
	int ok;

	sha256_final(&r->sha, digest);
	ok = sodium_memcmp(digest, r->m->files[index].sha256, sizeof digest) == 0;
	sodium_memzero(digest, sizeof digest);
	r->file_open = false;
	r->findex++;
	/* A wrong hash is the sink's to report: the payload itself is fine. */
	if (r->sink.file_end != NULL && r->sink.file_end(r->sink.ctx, index, ok) != 0)
		return ST_ERR_CALLBACK;
	return ST_OK;
}

/*
 * Closes finished files and opens the next until one still expects bytes,
 * or moves on to the padding. Zero-length files open and close here, so they
 * are reported even when no byte ever follows them.
 */
static int
payload_settle_files(struct payload_reader *r)
{
	int ret;

	for (;;) {
		if (r->file_open) {
			if (r->fleft > 0)
				return ST_OK;
			if ((ret = payload_file_end(r)) != ST_OK)
				return ret;
		}
		if (r->findex == r->m->nfiles) {
			r->state = PAYLOAD_PADDING;
			return ST_OK;
		}
		if ((ret = payload_file_begin(r)) != ST_OK)
			return ret;
	}
}

static int
payload_end_manifest(struct payload_reader *r)
{
	int ret;

	if ((ret = manifest_parse(r->mbuf, r->mlen, &r->m)) != ST_OK)
		return ret;
	if ((ret = payload_lengths(r->mlen, r->m->files_total, &r->unpadded,
	    &r->padded)) != ST_OK)
		return ret;
	if (r->sink.manifest != NULL &&
	    r->sink.manifest(r->sink.ctx, r->m, r->mbuf, r->mlen) != 0)
		return ST_ERR_CALLBACK;
	payload_drop_manifest_bytes(r);
	r->state = PAYLOAD_FILES;
	r->findex = 0;
	r->file_open = false;
	return payload_settle_files(r);
}

/* Consumes a prefix of buf; *used says how much. */
static int
payload_step(struct payload_reader *r, const unsigned char *buf, size_t len,
    size_t *used)
{
	uint64_t room;
	size_t i, n;

	*used = 0;
	switch (r->state) {
	case PAYLOAD_PREFIX:
		n = PAYLOAD_PREFIX_BYTES - r->prefix_have;
		n = len < n ? len : n;
		memcpy(r->prefix + r->prefix_have, buf, n);
		r->prefix_have += n;
		*used = n;
		if (r->prefix_have < PAYLOAD_PREFIX_BYTES)
			return ST_OK;
		return payload_begin_manifest(r);
	case PAYLOAD_MANIFEST:
		n = r->mlen - r->mhave;
		n = len < n ? len : n;
		memcpy(r->mbuf + r->mhave, buf, n);
		r->mhave += n;
		*used = n;
		if (r->mhave < r->mlen)
			return ST_OK;
		return payload_end_manifest(r);
	case PAYLOAD_FILES:
		n = (uint64_t)len < r->fleft ? len : (size_t)r->fleft;
		sha256_update(&r->sha, buf, n);
		r->fleft -= n;
		*used = n;
		if (r->sink.file_data != NULL && r->sink.file_data(r->sink.ctx, buf, n) != 0)
			return ST_ERR_CALLBACK;
		return payload_settle_files(r);
	case PAYLOAD_PADDING:
		room = r->padded - r->received;
		/* A byte past the Padmé length can never become valid. */
		if (room == 0)
			return ST_ERR_NOT_PADME;
		n = (uint64_t)len < room ? len : (size_t)room;
		for (i = 0; i < n; i++) {
			if (buf[i] != 0)
				return ST_ERR_PADDING;
		}
		*used = n;
		return ST_OK;
	case PAYLOAD_DONE:
		break;
	}
	return ST_ERR_STATE;
}

int
payload_reader_write(void *reader, const unsigned char *buf, size_t len)
{
	struct payload_reader *r = reader;
	size_t used;
	int ret;

	if (r == NULL || (buf == NULL && len > 0))
		return ST_ERR_ARGUMENT;
	if (r->error != ST_OK)
		return r->error;
	if (r->state == PAYLOAD_DONE)
		return ST_ERR_STATE;
	while (len > 0) {
		ret = payload_step(r, buf, len, &used);
		r->received += used;
		buf += used;
		len -= used;
		if (ret != ST_OK) {
			r->error = ret;
			payload_drop_manifest_bytes(r);
			return ret;
		}
	}
	return ST_OK;
}

int
payload_reader_finish(struct payload_reader *r)
{
	int ret = ST_ERR_STATE;

	if (r == NULL)
		return ST_ERR_ARGUMENT;
	if (r->error != ST_OK)
		return r->error;
	switch (r->state) {
	case PAYLOAD_PREFIX:
	case PAYLOAD_MANIFEST:
		ret = ST_ERR_TRUNCATED;
		break;
	case PAYLOAD_FILES:
		/* The manifest promised more file bytes than the payload held. */
		ret = ST_ERR_SIZES;
		break;
	case PAYLOAD_PADDING:
		/* Too many bytes were refused as they came: only too few remain. */
		ret = r->received == r->padded ? ST_OK : ST_ERR_NOT_PADME;
		break;
	case PAYLOAD_DONE:
		ret = ST_OK;
		break;
	}
	if (ret != ST_OK) {
		r->error = ret;
		payload_drop_manifest_bytes(r);
		return ret;
	}
	r->state = PAYLOAD_DONE;
	return ST_OK;
}

int
payload_reader_status(const struct payload_reader *r)
{
	return r == NULL ? ST_ERR_ARGUMENT : r->error;
}

void
payload_reader_free(struct payload_reader *r)
{
	if (r == NULL)
		return;
	payload_drop_manifest_bytes(r);
	manifest_free(r->m);
	/* The hash state is derived from plaintext too. */
	sodium_memzero(r, sizeof *r);
	free(r);
}
