#include <stdlib.h>
#include <string.h>

#include "export_stream.h"
#include "exportfile.h"
#include "status.h"

#define PIECE_BYTES 65536
/* A piece of envelope plus at most one record header or end record. */
#define STAGE_BYTES (PIECE_BYTES + 256)

struct export_stream {
	struct store_snapshot *snap;
	struct exportfile_writer *w;
	uint64_t tree_size, count, bytes, first_index;
	struct store_row row;
	uint64_t offset; /* into the current row's envelope */
	int in_entry;
	int finished; /* end record staged */
	int failed;
	unsigned char stage[STAGE_BYTES];
	size_t stage_len, stage_pos;
	unsigned char piece[PIECE_BYTES];
};

/* The exportfile writer's output lands in the stage; the stage is always
 * drained before the next step, so it never overflows. */
static int
stage_write(void *ctx, const unsigned char *buf, size_t len)
{
	struct export_stream *es = ctx;

	if (len > STAGE_BYTES - es->stage_len)
		return -1;
	memcpy(es->stage + es->stage_len, buf, len);
	es->stage_len += len;
	return 0;
}

int
export_stream_open(struct export_stream **out, struct store *s, uint64_t first_index)
{
	struct export_stream *es;

	*out = NULL;
	if ((es = calloc(1, sizeof *es)) == NULL)
		return -1;
	es->first_index = first_index;
	if (store_snapshot_begin(s, first_index, &es->snap) != 0)
		goto fail;
	store_snapshot_info(es->snap, &es->tree_size, &es->count, &es->bytes);
	if (exportfile_writer_new(&es->w, first_index, stage_write, es) != ST_OK)
		goto fail;
	*out = es;
	return 0;
fail:
	export_stream_free(es);
	return -1;
}

uint64_t
export_stream_length(const struct export_stream *es)
{
	return exportfile_length(es->count, es->bytes);
}

void
export_stream_counts(const struct export_stream *es, uint64_t *count, uint64_t *tree_size)
{
	*count = es->count;
	*tree_size = es->tree_size;
}

/* Produces the next bytes into the stage. */
static int
export_stream_step(struct export_stream *es)
{
	struct exportfile_entry e;
	size_t n;
	int rc;

	if (es->in_entry && es->offset < es->row.size) {
		n = es->row.size - es->offset < PIECE_BYTES ? (size_t)(es->row.size - es->offset)
							    : PIECE_BYTES;
		if (store_snapshot_read(es->snap, es->piece, n, es->offset) != 0 ||
		    exportfile_writer_entry_data(es->w, es->piece, n) != ST_OK)
			return -1;
		es->offset += n;
		return 0;
	}
	if (es->in_entry) {
		es->in_entry = 0;
		return exportfile_writer_entry_end(es->w) == ST_OK ? 0 : -1;
	}
	rc = store_snapshot_next(es->snap, &es->row);
	if (rc < 0)
		return -1;
	if (rc == 0) {
		es->finished = 1;
		return exportfile_writer_finish(es->w, es->tree_size) == ST_OK ? 0 : -1;
	}
	memset(&e, 0, sizeof e);
	e.index = es->row.idx;
	memcpy(e.day, es->row.day, sizeof e.day);
	e.size = es->row.size;
	memcpy(e.leaf_hash, es->row.leaf_hash, sizeof e.leaf_hash);
	if (exportfile_writer_entry_begin(es->w, &e) != ST_OK)
		return -1;
	es->in_entry = 1;
	es->offset = 0;
	return 0;
}

ssize_t
export_stream_read(struct export_stream *es, unsigned char *buf, size_t max)
{
	size_t n;

	if (es->failed)
		return -1;
	while (es->stage_pos == es->stage_len) {
		if (es->finished)
			return 0;
		es->stage_pos = es->stage_len = 0;
		if (export_stream_step(es) != 0) {
			es->failed = 1;
			return -1;
		}
	}
	n = es->stage_len - es->stage_pos;
	if (n > max)
		n = max;
	memcpy(buf, es->stage + es->stage_pos, n);
	es->stage_pos += n;
	return (ssize_t)n;
}

void
export_stream_free(struct export_stream *es)
{
	if (es == NULL)
		return;
	exportfile_writer_free(es->w);
	store_snapshot_end(es->snap);
	free(es);
}
