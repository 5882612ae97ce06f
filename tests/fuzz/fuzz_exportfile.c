/* libFuzzer target: the export file reader (crypto/exportfile.c), what
 * `sealtip open` reads from a file fetched off the online server.
 *
 * The input is read twice, once whole and once in pieces whose lengths come
 * from its last byte; both runs must reach the same verdict and hand on the
 * same entries. The sink checks that entries come in order with contiguous
 * indexes, that no entry gets more bytes than its header declared, and that
 * an accepted file's summary matches what was handed on. */
#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "exportfile.h"
#include "status.h"

#include "guard.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct sink_state {
	int open;
	uint64_t entries, ended, next_index, size, got, bytes;
	int have_first;
};

static int
on_begin(void *ctx, const struct exportfile_entry *e)
{
	struct sink_state *s = ctx;

	if (s->open || e->size > EXPORTFILE_MAX_ENTRY_BYTES ||
	    strlen(e->day) != EXPORTFILE_DAY_BYTES || (s->have_first && e->index != s->next_index))
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
run_reader(const uint8_t *data, size_t size, size_t step, struct sink_state *st,
    struct exportfile_summary *sum)
{
	struct exportfile_reader *r = NULL;
	struct exportfile_sink sink = {on_begin, on_data, on_end, st};
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
		if (st->open || st->entries != st->ended || sum->count != st->entries ||
		    strcmp(exportfile_reader_error(r), "ok") != 0 ||
		    exportfile_length(sum->count, st->bytes) != size)
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
