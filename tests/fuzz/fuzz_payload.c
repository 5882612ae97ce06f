/* libFuzzer target: the payload container and manifest (crypto/payload.c,
 * crypto/manifest.c), i.e. the plaintext `sealtip open` gets out of an
 * envelope once it authenticated, which a hostile reporter fully controls.
 *
 * The input is fed to payload_reader_write as the payload: once whole, and
 * once in pieces whose lengths come from the input's last byte; both readers
 * must reach the same verdict, and the sink checks that files are announced
 * in order and never get more bytes than the manifest declared. The input is
 * also given to manifest_parse directly; an accepted manifest must survive
 * manifest_dump and a second parse. */
#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "manifest.h"
#include "payload.h"
#include "status.h"

#include "guard.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct sink_state {
	int have_manifest;
	size_t nfiles;
	size_t next_file; /* index the next file_begin must carry */
	int file_open;
	uint64_t file_size, file_got;
	uint64_t files_bytes; /* every file byte handed on */
};

static int
on_manifest(void *ctx, const struct manifest *m, const unsigned char *raw, size_t raw_len)
{
	struct sink_state *s = ctx;

	if (s->have_manifest || m == NULL || raw == NULL || raw_len == 0 ||
	    raw_len > MANIFEST_MAX_BYTES)
		abort();
	s->have_manifest = 1;
	s->nfiles = m->nfiles;
	return 0;
}

static int
on_file_begin(void *ctx, size_t index, const struct manifest_file *f)
{
	struct sink_state *s = ctx;

	if (!s->have_manifest || s->file_open || index != s->next_file || index >= s->nfiles ||
	    f == NULL || f->size > MANIFEST_MAX_FILE_SIZE)
		abort();
	s->file_open = 1;
	s->file_size = f->size;
	s->file_got = 0;
	return 0;
}

static int
on_file_data(void *ctx, const unsigned char *buf, size_t len)
{
	struct sink_state *s = ctx;

	if (!s->file_open || buf == NULL || len == 0 || len > s->file_size - s->file_got)
		abort();
	s->file_got += len;
	s->files_bytes += len;
	return 0;
}

static int
on_file_end(void *ctx, size_t index, int sha256_ok)
{
	struct sink_state *s = ctx;

	if (!s->file_open || index != s->next_file || s->file_got != s->file_size ||
	    (sha256_ok != 0 && sha256_ok != 1))
		abort();
	s->file_open = 0;
	s->next_file++;
	return 0;
}

/* Feeds data in pieces of step bytes (all at once when step is 0); returns
 * payload_reader_finish's verdict, or the first write error. */
static int
run_reader(const uint8_t *data, size_t size, size_t step, struct sink_state *st)
{
	struct payload_reader *r = NULL;
	struct payload_sink sink = {on_manifest, on_file_begin, on_file_data, on_file_end, st};
	size_t off, n;
	int rc = ST_OK, first = ST_OK;

	memset(st, 0, sizeof *st);
	if (payload_reader_new(&r, &sink) != ST_OK)
		abort();
	if (step == 0)
		step = size;
	for (off = 0; off < size; off += n) {
		n = size - off < step ? size - off : step;
		rc = payload_reader_write(r, data + off, n);
		if (first != ST_OK && rc != first)
			abort(); /* sticky */
		if (rc != ST_OK && first == ST_OK)
			first = rc;
	}
	if (payload_reader_status(r) != first)
		abort();
	rc = first != ST_OK ? first : payload_reader_finish(r);
	if (rc == ST_OK) {
		/* Accepted: every file arrived whole, and the length is padded. */
		if (!st->have_manifest || st->file_open || st->next_file != st->nfiles)
			abort();
	}
	payload_reader_free(r);
	return rc;
}

static void
check_manifest(const uint8_t *data, size_t size)
{
	struct manifest *m = NULL, *again = NULL;
	char *dump;
	size_t dump_len;
	int rc;

	if (manifest_parse(data, size, &m) != ST_OK)
		return;
	if (m == NULL || m->form == NULL || m->lang == NULL || m->fields == NULL)
		abort();
	if ((dump = manifest_dump(m->root, &dump_len)) == NULL)
		abort();
	rc = manifest_parse((const unsigned char *)dump, dump_len, &again);
	/* Escaping can make the dump longer than the limit the input met. */
	if (rc != ST_OK && !(rc == ST_ERR_MANIFEST_LEN && dump_len > MANIFEST_MAX_BYTES))
		abort();
	if (rc == ST_OK) {
		if (again->nfiles != m->nfiles || again->files_total != m->files_total ||
		    strcmp(again->form, m->form) != 0 || strcmp(again->lang, m->lang) != 0)
			abort();
		for (size_t i = 0; i < m->nfiles; i++)
			if (again->files[i].size != m->files[i].size ||
			    again->files[i].name_len != m->files[i].name_len ||
			    memcmp(again->files[i].name, m->files[i].name, m->files[i].name_len) !=
				0 ||
			    memcmp(again->files[i].sha256, m->files[i].sha256, 32) != 0)
				abort();
	}
	manifest_free(again);
	free(dump);
	manifest_free(m);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	struct sink_state a, b;
	size_t step;
	int rc_whole, rc_split;

	data = fuzz_guarded_copy(data, size);

	if (!ready) {
		if (sodium_init() < 0)
			abort();
		ready = 1;
	}
	rc_whole = run_reader(data, size, 0, &a);
	step = size > 0 ? (size_t)data[size - 1] % 61 + 1 : 1;
	/* Byte-sized pieces over a whole attachment cost the fuzzer more than
	 * they find: big inputs get pieces a few hundred times larger. */
	if (size > 4096)
		step *= 257;
	rc_split = run_reader(data, size, step, &b);
	/* The split must not change the verdict or what was handed on. */
	if (rc_whole != rc_split || a.files_bytes != b.files_bytes || a.next_file != b.next_file)
		abort();
	check_manifest(data, size);
	return 0;
}
