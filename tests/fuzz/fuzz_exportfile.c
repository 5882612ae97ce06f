/* libFuzzer target: the export file reader (crypto/exportfile.c), what
 * `sealtip open` reads from a file fetched off the online server.
 *
 * The input is read twice, once whole and once in pieces whose lengths come
 * from its last byte; both runs must reach the same verdict and hand on the
 * same entries. The sink checks that the header comes once and before any
 * entry, that entries come in order with contiguous indexes below the
 * checkpoint's size, that no entry gets more bytes than its header declared,
 * and that an accepted file's summary matches what was handed on: its
 * checkpoint verifies with the key it names and signs its tree size, and the
 * entries are exactly [first_index, tree_size). */
#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "exportfile.h"
#include "note.h"
#include "status.h"

#include "guard.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct sink_state {
	int open, headers;
	uint64_t tree_size;
	uint64_t entries, ended, next_index, size, got, bytes;
	int have_first;
};

static int
on_begin(void *ctx, const struct exportfile_entry *e)
{
	struct sink_state *s = ctx;

	if (s->open || s->headers != 1 || e->index >= s->tree_size ||
	    e->size > EXPORTFILE_MAX_ENTRY_BYTES || strlen(e->day) != EXPORTFILE_DAY_BYTES ||
	    (s->have_first && e->index != s->next_index))
		abort();
	s->have_first = 1;
	s->next_index = e->index + 1;
	s->open = 1;
	s->size = e->size;
	s->got = 0;
	s->entries++;
	return 0;
}

static int
on_data(void *ctx, const unsigned char *buf, size_t len)
{
	struct sink_state *s = ctx;

	if (!s->open || buf == NULL || len > s->size - s->got)
		abort();
	s->got += len;
	s->bytes += len;
	return 0;
}

static int
on_end(void *ctx, const struct exportfile_entry *e)
{
	struct sink_state *s = ctx;

	if (!s->open || s->got != s->size || e->size != s->size)
		abort();
	s->open = 0;
	s->ended++;
	return 0;
}

static int
on_header(void *ctx, const struct exportfile_log *log)
{
	struct sink_state *s = ctx;
	struct note_checkpoint cp;

	if (s->headers++ != 0 || s->entries != 0 || log->note_len > EXPORTFILE_MAX_NOTE_BYTES ||
	    log->frontier_len > TLOG_MAX_LEVELS || log->proof_len > TLOG_MAX_PROOF)
		abort();
	/* What the reader accepted must verify on its own. */
	if (log->note_len > 0 &&
	    (note_checkpoint_open(&cp, log->note, log->note_len, &log->verifier) != NOTE_OK ||
		cp.size != log->tree_size))
		abort();
	if (log->note_len == 0 && log->tree_size != 0)
		abort();
	s->tree_size = log->tree_size;
	return 0;
}

static int
run_reader(const uint8_t *data, size_t size, size_t step, struct sink_state *st,
    struct exportfile_summary *sum)
{
	struct exportfile_reader *r = NULL;
	struct exportfile_sink sink = {on_begin, on_data, on_end, st, on_header};
	size_t off, n;
	int rc, first = ST_OK;

	memset(st, 0, sizeof *st);
	memset(sum, 0, sizeof *sum);
	if (exportfile_reader_new(&r, &sink) != ST_OK)
		abort();
	if (step == 0)
		step = size;
	for (off = 0; off < size; off += n) {
		n = size - off < step ? size - off : step;
		rc = exportfile_reader_update(r, data + off, n);
		if (first != ST_OK && rc != first)
			abort(); /* sticky */
		if (rc != ST_OK && first == ST_OK)
			first = rc;
	}
	rc = exportfile_reader_final(r, sum);
	if (first != ST_OK && rc == ST_OK)
		abort();
	if (exportfile_reader_error(r) == NULL)
		abort();
	if (rc == ST_OK) {
		if (st->open || st->headers != 1 || st->entries != st->ended ||
		    sum->count != st->entries || strcmp(exportfile_reader_error(r), "ok") != 0 ||
		    exportfile_length(exportfile_reader_log(r), sum->count, st->bytes) != size ||
		    sum->tree_size != st->tree_size ||
		    sum->count !=
			(sum->first_index < sum->tree_size ? sum->tree_size - sum->first_index : 0))
			abort();
	}
	exportfile_reader_free(r);
	return rc;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	struct sink_state a, b;
	struct exportfile_summary sa, sb;
	size_t step;
	int rc_whole, rc_split;

	data = fuzz_guarded_copy(data, size);

	if (!ready) {
		if (sodium_init() < 0)
			abort();
		ready = 1;
	}
	(void)exportfile_sniff(data, size);
	rc_whole = run_reader(data, size, 0, &a, &sa);
	step = size > 0 ? (size_t)data[size - 1] % 97 + 1 : 1;
	rc_split = run_reader(data, size, step, &b, &sb);
	if (rc_whole != rc_split || a.entries != b.entries || a.ended != b.ended ||
	    a.bytes != b.bytes || (rc_whole == ST_OK && memcmp(&sa, &sb, sizeof sa) != 0))
		abort();
	return 0;
}
