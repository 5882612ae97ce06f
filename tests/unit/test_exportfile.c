/* Export files (crypto/exportfile.c): round trips in every split, the exact
 * length the server announces, and the refusal of every damaged, reordered,
 * truncated or extended file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "exportfile.h"
#include "status.h"

#define MAX_ENTRIES 8

struct buf {
	unsigned char *data;
	size_t len, cap;
};

static int
buf_write(void *ctx, const unsigned char *p, size_t len)
{
	struct buf *b = ctx;

	if (b->len + len > b->cap) {
		b->cap = (b->len + len) * 2 + 64;
		b->data = realloc(b->data, b->cap);
		assert_non_null(b->data);
	}
	memcpy(b->data + b->len, p, len);
	b->len += len;
	return 0;
}

/* What a reader handed out. */
struct seen {
	struct exportfile_entry entries[MAX_ENTRIES];
	struct buf data[MAX_ENTRIES];
	size_t n_begin, n_end;
	int stop_at_begin; /* refuse the nth entry_begin (1-based); 0 never */
};

static int
seen_begin(void *ctx, const struct exportfile_entry *e)
{
	struct seen *s = ctx;

	assert_true(s->n_begin < MAX_ENTRIES);
	if (s->stop_at_begin != 0 && (size_t)s->stop_at_begin == s->n_begin + 1)
		return -1;
	s->entries[s->n_begin++] = *e;
	return 0;
}

static int
seen_data(void *ctx, const unsigned char *p, size_t len)
{
	struct seen *s = ctx;

	return buf_write(&s->data[s->n_begin - 1], p, len);
}

static int
seen_end(void *ctx, const struct exportfile_entry *e)
{
	struct seen *s = ctx;

	assert_int_equal(e->index, s->entries[s->n_end].index);
	s->n_end++;
	return 0;
}

static void
seen_free(struct seen *s)
{
	for (size_t i = 0; i < MAX_ENTRIES; i++)
		free(s->data[i].data);
}

static void
leaf_hash(const unsigned char *env, size_t len, unsigned char out[32])
{
	crypto_hash_sha256_state st;
	static const unsigned char zero = 0;

	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, &zero, 1);
	crypto_hash_sha256_update(&st, env, len);
	crypto_hash_sha256_final(&st, out);
}

static const size_t sizes[] = {570, 0, 131227, 1, 65536 + 17};
#define NSIZES (sizeof sizes / sizeof sizes[0])

/* A file of NSIZES entries from first_index, with random envelopes. */
static void
make_file(uint64_t first_index, struct buf *file, unsigned char **envs)
{
	struct exportfile_writer *w;
	struct exportfile_entry e;
	size_t i, off;

	memset(file, 0, sizeof *file);
	assert_int_equal(exportfile_writer_new(&w, first_index, buf_write, file), ST_OK);
	for (i = 0; i < NSIZES; i++) {
		envs[i] = malloc(sizes[i] + 1);
		randombytes_buf(envs[i], sizes[i]);
		memset(&e, 0, sizeof e);
		e.index = first_index + i;
		snprintf(e.day, sizeof e.day, "2026-11-%02zu", i + 1);
		e.size = sizes[i];
		leaf_hash(envs[i], sizes[i], e.leaf_hash);
		assert_int_equal(exportfile_writer_entry_begin(w, &e), ST_OK);
		/* Odd pieces, to show the writer does not care how bytes come. */
		for (off = 0; off < sizes[i]; off += 7777)
			assert_int_equal(exportfile_writer_entry_data(w, envs[i] + off,
					     sizes[i] - off < 7777 ? sizes[i] - off : 7777),
			    ST_OK);
		assert_int_equal(exportfile_writer_entry_end(w), ST_OK);
	}
	assert_int_equal(exportfile_writer_finish(w, first_index + NSIZES + 3), ST_OK);
	exportfile_writer_free(w);
}

/* Feeds the file in pieces of step bytes (0: random pieces). */
static int
read_file(const unsigned char *data, size_t len, size_t step, struct seen *seen,
    struct exportfile_summary *sum, char *err, size_t errlen)
{
	struct exportfile_reader *r;
	struct exportfile_sink sink = {seen_begin, seen_data, seen_end, seen};
	size_t off = 0, n;
	int rc = ST_OK;

	assert_int_equal(exportfile_reader_new(&r, &sink), ST_OK);
	while (off < len && rc == ST_OK) {
		n = step != 0 ? step : 1 + randombytes_uniform(70000);
		if (n > len - off)
			n = len - off;
		rc = exportfile_reader_update(r, data + off, n);
		off += n;
	}
	if (rc == ST_OK)
		rc = exportfile_reader_final(r, sum);
	if (err != NULL)
		snprintf(err, errlen, "%s", exportfile_reader_error(r));
	exportfile_reader_free(r);
	return rc;
}

/* read_file with a fresh sink, for the refusal checks. */
static int
read_fresh(const unsigned char *data, size_t len, char *err, size_t errlen)
{
	struct seen seen;
	struct exportfile_summary sum;
	int rc;

	memset(&seen, 0, sizeof seen);
	rc = read_file(data, len, 0, &seen, &sum, err, errlen);
	seen_free(&seen);
	return rc;
}

static void
test_round_trip(void **state)
{
	struct buf file;
	unsigned char *envs[NSIZES];
	struct exportfile_summary sum;
	size_t steps[] = {1, 3, 59, 4096, 65536, 0, 0, 1u << 30};
	uint64_t total = 0;

	(void)state;
	make_file(41, &file, envs);
	for (size_t i = 0; i < NSIZES; i++)
		total += sizes[i];
	assert_int_equal(file.len, exportfile_length(NSIZES, total));
	assert_true(exportfile_sniff(file.data, file.len));
	for (size_t s = 0; s < sizeof steps / sizeof steps[0]; s++) {
		struct seen seen;

		memset(&seen, 0, sizeof seen);
		assert_int_equal(
		    read_file(file.data, file.len, steps[s], &seen, &sum, NULL, 0), ST_OK);
		assert_int_equal(sum.first_index, 41);
		assert_int_equal(sum.count, NSIZES);
		assert_int_equal(sum.tree_size, 41 + NSIZES + 3);
		assert_int_equal(seen.n_begin, NSIZES);
		assert_int_equal(seen.n_end, NSIZES);
		for (size_t i = 0; i < NSIZES; i++) {
			assert_int_equal(seen.entries[i].index, 41 + i);
			assert_int_equal(seen.entries[i].size, sizes[i]);
			assert_int_equal(seen.data[i].len, sizes[i]);
			if (sizes[i] > 0)
				assert_memory_equal(seen.data[i].data, envs[i], sizes[i]);
			assert_int_equal(strlen(seen.entries[i].day), 10);
		}
		seen_free(&seen);
	}
	for (size_t i = 0; i < NSIZES; i++)
		free(envs[i]);
	free(file.data);
}

static void
test_empty(void **state)
{
	struct buf file = {0};
	struct exportfile_writer *w;
	struct exportfile_summary sum;
	struct seen seen;

	(void)state;
	assert_int_equal(exportfile_writer_new(&w, 7, buf_write, &file), ST_OK);
	assert_int_equal(exportfile_writer_finish(w, 7), ST_OK);
	/* Nothing may follow the end record. */
	assert_int_not_equal(exportfile_writer_finish(w, 7), ST_OK);
	exportfile_writer_free(w);
	assert_int_equal(file.len, exportfile_length(0, 0));
	memset(&seen, 0, sizeof seen);
	assert_int_equal(read_file(file.data, file.len, 1, &seen, &sum, NULL, 0), ST_OK);
	assert_int_equal(sum.count, 0);
	assert_int_equal(sum.first_index, 7);
	assert_int_equal(sum.tree_size, 7);
	free(file.data);
}

static void
test_writer_refuses(void **state)
{
	struct buf file = {0};
	struct exportfile_writer *w;
	struct exportfile_entry e;
	unsigned char env[100];

	(void)state;
	randombytes_buf(env, sizeof env);
	memset(&e, 0, sizeof e);
	snprintf(e.day, sizeof e.day, "2026-11-28");
	e.size = sizeof env;
	leaf_hash(env, sizeof env, e.leaf_hash);
	assert_int_equal(exportfile_writer_new(&w, 0, buf_write, &file), ST_OK);
	e.index = 1; /* must be 0 */
	assert_int_equal(exportfile_writer_entry_begin(w, &e), ST_ERR_ARGUMENT);
	e.index = 0;
	snprintf(e.day, sizeof e.day, "2026-13-01");
	assert_int_equal(exportfile_writer_entry_begin(w, &e), ST_ERR_ARGUMENT);
	snprintf(e.day, sizeof e.day, "2026-11-28");
	e.size = (uint64_t)EXPORTFILE_MAX_ENTRY_BYTES + 1;
	assert_int_equal(exportfile_writer_entry_begin(w, &e), ST_ERR_ARGUMENT);
	e.size = sizeof env;
	/* A row whose bytes do not match its stored leaf hash is never exported. */
	assert_int_equal(exportfile_writer_entry_begin(w, &e), ST_OK);
	env[5] ^= 1;
	assert_int_equal(exportfile_writer_entry_data(w, env, sizeof env), ST_OK);
	assert_int_equal(exportfile_writer_entry_end(w), ST_ERR_CHUNK_AUTH);
	/* Sticky. */
	assert_int_equal(exportfile_writer_finish(w, 1), ST_ERR_CHUNK_AUTH);
	exportfile_writer_free(w);
	free(file.data);

	memset(&file, 0, sizeof file);
	env[5] ^= 1;
	assert_int_equal(exportfile_writer_new(&w, 0, buf_write, &file), ST_OK);
	assert_int_equal(exportfile_writer_entry_begin(w, &e), ST_OK);
	assert_int_equal(exportfile_writer_entry_data(w, env, 10), ST_OK);
	assert_int_equal(exportfile_writer_entry_end(w), ST_ERR_TRUNCATED);
	exportfile_writer_free(w);
	free(file.data);

	memset(&file, 0, sizeof file);
	assert_int_equal(exportfile_writer_new(&w, 0, buf_write, &file), ST_OK);
	assert_int_equal(exportfile_writer_entry_begin(w, &e), ST_OK);
	assert_int_equal(exportfile_writer_entry_data(w, env, sizeof env), ST_OK);
	assert_int_equal(exportfile_writer_entry_data(w, env, 1), ST_ERR_TRAILING);
	exportfile_writer_free(w);
	free(file.data);
}

/* Every single-byte change anywhere is refused (never silently accepted). */
static void
test_every_flip_refused(void **state)
{
	struct buf file;
	unsigned char *envs[NSIZES];
	struct exportfile_summary sum;
	size_t pos;

	(void)state;
	make_file(0, &file, envs);
	for (pos = 0; pos < file.len; pos += (pos < 400 || pos > file.len - 400) ? 1 : 997) {
		struct seen seen;

		memset(&seen, 0, sizeof seen);
		file.data[pos] ^= 0x20;
		assert_int_not_equal(
		    read_file(file.data, file.len, 4096, &seen, &sum, NULL, 0), ST_OK);
		file.data[pos] ^= 0x20;
		seen_free(&seen);
	}
	for (size_t i = 0; i < NSIZES; i++)
		free(envs[i]);
	free(file.data);
}

static void
test_truncated_and_trailing(void **state)
{
	struct buf file;
	unsigned char *envs[NSIZES], *longer;
	struct exportfile_summary sum;
	char err[200];
	size_t len;

	(void)state;
	make_file(0, &file, envs);
	for (len = 0; len < file.len; len += (len < 300 || len > file.len - 300) ? 1 : 1201) {
		struct seen seen;

		memset(&seen, 0, sizeof seen);
		assert_int_not_equal(
		    read_file(file.data, len, 0, &seen, &sum, err, sizeof err), ST_OK);
		seen_free(&seen);
	}
	{
		struct seen seen;

		memset(&seen, 0, sizeof seen);
		assert_int_equal(
		    read_file(file.data, file.len - 1, 1000, &seen, &sum, err, sizeof err),
		    ST_ERR_TRUNCATED);
		assert_non_null(strstr(err, "without its end record"));
		seen_free(&seen);
	}
	longer = malloc(file.len + 1);
	memcpy(longer, file.data, file.len);
	longer[file.len] = 0;
	{
		struct seen seen;

		memset(&seen, 0, sizeof seen);
		assert_int_equal(read_file(longer, file.len + 1, 0, &seen, &sum, err, sizeof err),
		    ST_ERR_TRAILING);
		seen_free(&seen);
	}
	free(longer);
	for (size_t i = 0; i < NSIZES; i++)
		free(envs[i]);
	free(file.data);
}

static void
test_specific_errors(void **state)
{
	struct buf file;
	unsigned char *envs[NSIZES];
	struct exportfile_summary sum;
	struct seen seen;
	char err[200];
	size_t first_entry = EXPORTFILE_HEADER_BYTES;

	(void)state;
	make_file(0, &file, envs);
	file.data[0] ^= 1;
	assert_int_equal(read_fresh(file.data, file.len, err, sizeof err), ST_ERR_MAGIC);
	assert_false(exportfile_sniff(file.data, file.len));
	file.data[0] ^= 1;
	file.data[EXPORTFILE_MAGIC_BYTES] = 2;
	assert_int_equal(read_fresh(file.data, file.len, err, sizeof err), ST_ERR_VERSION);
	file.data[EXPORTFILE_MAGIC_BYTES] = 1;
	/* The first entry claims index 1: out of sequence. */
	file.data[first_entry + 1] = 1;
	assert_int_equal(read_fresh(file.data, file.len, err, sizeof err), ST_ERR_LAYOUT);
	assert_non_null(strstr(err, "out of sequence"));
	file.data[first_entry + 1] = 0;
	file.data[first_entry] = 0x07;
	assert_int_equal(read_fresh(file.data, file.len, err, sizeof err), ST_ERR_LAYOUT);
	assert_non_null(strstr(err, "unknown record type"));
	file.data[first_entry] = EXPORTFILE_TYPE_ENTRY;
	/* An envelope byte changed: its leaf hash says so, naming the entry. */
	file.data[first_entry + EXPORTFILE_ENTRY_HEADER_BYTES + 3] ^= 1;
	assert_int_equal(read_fresh(file.data, file.len, err, sizeof err), ST_ERR_CHUNK_AUTH);
	assert_string_equal(err, "entry 0: leaf hash does not match its envelope");
	file.data[first_entry + EXPORTFILE_ENTRY_HEADER_BYTES + 3] ^= 1;
	/* The end record's count changed. */
	file.data[file.len - EXPORTFILE_END_BYTES + 1] ^= 1;
	assert_int_equal(read_fresh(file.data, file.len, err, sizeof err), ST_ERR_LAYOUT);
	file.data[file.len - EXPORTFILE_END_BYTES + 1] ^= 1;
	/* The digest changed. */
	file.data[file.len - 1] ^= 1;
	assert_int_equal(read_fresh(file.data, file.len, err, sizeof err), ST_ERR_CHUNK_AUTH);
	file.data[file.len - 1] ^= 1;
	/* A sink that refuses stops the reader. */
	memset(&seen, 0, sizeof seen);
	seen.stop_at_begin = 2;
	assert_int_equal(
	    read_file(file.data, file.len, 0, &seen, &sum, err, sizeof err), ST_ERR_CALLBACK);
	seen_free(&seen);
	assert_int_equal(read_fresh(file.data, file.len, err, sizeof err), ST_OK);
	assert_string_equal(err, "ok");
	for (size_t i = 0; i < NSIZES; i++)
		free(envs[i]);
	free(file.data);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_empty),
	    cmocka_unit_test(test_writer_refuses),
	    cmocka_unit_test(test_every_flip_refused),
	    cmocka_unit_test(test_truncated_and_trailing),
	    cmocka_unit_test(test_specific_errors),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests_name("exportfile", tests, NULL, NULL);
}
