#include <stdio.h>
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
	struct exportfile_log log;
	uint64_t tree_size, count, bytes, first_index, rows;
	struct store_row row;
	uint64_t offset;   /* into the current row's envelope */
	uint64_t row_next; /* index after the last row read */
	int in_entry;
	int finished; /* end record staged */
	int failed;
	char error[160]; /* why export_stream_read failed */
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

static int
node_from_store(void *ctx, unsigned level, uint64_t index, unsigned char out[TLOG_HASH_BYTES])
{
	return store_node_get(ctx, level, index, out);
}

/* Checkpoint, frontier and proof for the header, read inside the snapshot. */
static int
export_stream_log(
    struct export_stream *es, struct store *s, uint64_t since_size, char *err, size_t errlen)
{
	const struct tlog_store nodes = {node_from_store, NULL, s};
	struct exportfile_log *log = &es->log;
	struct tlog_tree t;
	int rc;

	log->first_index = es->first_index;
	if (store_meta_get(s, "log_verifier_key", log->verifier_key, sizeof log->verifier_key) ==
	    -1) {
		snprintf(err, errlen, "cannot read meta.log_verifier_key");
		return -1;
	}
	rc = store_checkpoint_at_most(
	    s, es->rows, &log->tree_size, log->note, sizeof log->note, &log->note_len);
	if (rc == -1) {
		snprintf(err, errlen, "cannot read the newest checkpoint");
		return -1;
	}
	if (rc == 0 && es->rows > 0) {
		snprintf(err, errlen, "no signed checkpoint covers the stored reports");
		return -1;
	}
	if (rc == 0)
		log->tree_size = 0;
	if (tlog_tree_load(&t,
		log->first_index < log->tree_size ? log->first_index : log->tree_size,
		&nodes) != TLOG_OK) {
		snprintf(err, errlen, "a tree node below the first index is missing");
		return -1;
	}
	exportfile_frontier_from_tree(log, &t);
	if (since_size > 0 && since_size <= log->tree_size) {
		if (tlog_consistency_proof(&nodes, since_size, log->tree_size, log->proof,
			&log->proof_len) != TLOG_OK) {
			snprintf(err, errlen, "cannot make the consistency proof from size %llu",
			    (unsigned long long)since_size);
			return -1;
		}
		log->proof_size = since_size;
	}
	if (store_range_info(s, es->first_index, log->tree_size, &es->count, &es->bytes) == -1) {
		snprintf(err, errlen, "cannot count the reports");
		return -1;
	}
	es->tree_size = log->tree_size;
	return 0;
}

int
export_stream_open(struct export_stream **out, struct store *s, uint64_t first_index,
    uint64_t since_size, char *err, size_t errlen)
{
	struct export_stream *es;
	uint64_t count, bytes;
	int rc;

	*out = NULL;
	if ((es = calloc(1, sizeof *es)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	es->first_index = first_index;
	es->row_next = first_index;
	if (store_snapshot_begin(s, first_index, &es->snap) != 0) {
		snprintf(err, errlen, "cannot read a snapshot: %s", store_errmsg(s));
		goto fail;
	}
	store_snapshot_info(es->snap, &es->rows, &count, &bytes);
	if (export_stream_log(es, s, since_size, err, errlen) == -1)
		goto fail;
	if ((rc = exportfile_writer_new(&es->w, &es->log, stage_write, es)) != ST_OK) {
		snprintf(err, errlen,
		    "the stored checkpoint does not verify with "
		    "meta.log_verifier_key (%s)",
		    status_message(rc));
		goto fail;
	}
	*out = es;
	return 0;
fail:
	export_stream_free(es);
	return -1;
}

uint64_t
export_stream_length(const struct export_stream *es)
{
	return exportfile_length(&es->log, es->count, es->bytes);
}

void
export_stream_counts(
    const struct export_stream *es, uint64_t *count, uint64_t *tree_size, uint64_t *rows)
{
	*count = es->count;
	*tree_size = es->tree_size;
	*rows = es->rows;
}

/* Produces the next bytes into the stage; on failure es->error says why. */
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
			goto fail_row;
		es->offset += n;
		return 0;
	}
	if (es->in_entry) {
		es->in_entry = 0;
		if (exportfile_writer_entry_end(es->w) != ST_OK)
			goto fail_row;
		return 0;
	}
	/* Rows no checkpoint covers yet wait for the next export. */
	rc = es->row_next < es->tree_size ? store_snapshot_next(es->snap, &es->row) : 0;
	if (rc < 0) {
		snprintf(es->error, sizeof es->error, "entry %llu: cannot be read",
		    (unsigned long long)es->row_next);
		return -1;
	}
	if (rc == 0) {
		es->finished = 1;
		if (exportfile_writer_finish(es->w) != ST_OK) {
			snprintf(es->error, sizeof es->error,
			    es->row_next < es->tree_size
				? "entry %llu: missing below the signed checkpoint's size"
				: "the reports do not give the signed checkpoint's root "
				  "(checkpoint "
				  "of %llu entries): the database does not hold the tree it signed",
			    (unsigned long long)(es->row_next < es->tree_size ? es->row_next
									      : es->tree_size));
			return -1;
		}
		return 0;
	}
	es->row_next = es->row.idx + 1;
	memset(&e, 0, sizeof e);
	e.index = es->row.idx;
	memcpy(e.day, es->row.day, sizeof e.day);
	e.size = es->row.size;
	memcpy(e.leaf_hash, es->row.leaf_hash, sizeof e.leaf_hash);
	/* The writer's precondition, checked here so that the message names it. */
	if (!exportfile_day_valid(e.day, strnlen(e.day, sizeof e.day))) {
		snprintf(es->error, sizeof es->error,
		    "entry %llu: its day is not a valid YYYY-MM-DD date",
		    (unsigned long long)es->row.idx);
		return -1;
	}
	if (exportfile_writer_entry_begin(es->w, &e) != ST_OK)
		goto fail_row;
	es->in_entry = 1;
	es->offset = 0;
	return 0;
fail_row:
	snprintf(es->error, sizeof es->error,
	    "entry %llu: cannot be read, or its envelope does not match its leaf_hash",
	    (unsigned long long)es->row.idx);
	return -1;
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

const char *
export_stream_error(const struct export_stream *es)
{
	return es->error;
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
