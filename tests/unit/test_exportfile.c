/* Export files v2 (crypto/exportfile.c): round trips in every split, the
 * exact length the server announces, the checkpoint and frontier that tie the
 * entries to the signed log, and the refusal of every damaged, reordered,
 * truncated, extended, forged or foreign-signed file. */
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
#include "note.h"
#include "status.h"
#include "tlog.h"

#define ORIGIN "test.example/sealtip"

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

/* A deterministic Ed25519 key from one seed byte. */
static void
test_key(unsigned char seedbyte, unsigned char pk[32], unsigned char sk[64])
{
	unsigned char seed[32];

	memset(seed, seedbyte, sizeof seed);
	assert_int_equal(crypto_sign_seed_keypair(pk, sk, seed), 0);
}

/* The header of a log whose leaves [0, first) are pseudo-random and whose
 * next n leaves are leaves[], signed by the key of seedbyte. *root gets the
 * tree's root. */
static void
make_log(struct exportfile_log *log, uint64_t first, const unsigned char (*leaves)[32], size_t n,
    unsigned char seedbyte)
{
	struct note_verifier v;
	struct tlog_tree t;
	unsigned char pk[32], sk[64], leaf[32], root[32];
	uint64_t i;

	memset(log, 0, sizeof *log);
	test_key(seedbyte, pk, sk);
	assert_int_equal(note_verifier_make(&v, ORIGIN, pk), NOTE_OK);
	assert_int_equal(
	    note_verifier_format(log->verifier_key, sizeof log->verifier_key, &v), NOTE_OK);
	tlog_tree_init(&t);
	for (i = 0; i < first; i++) {
		memset(leaf, (int)(i * 7 + 1), sizeof leaf);
		assert_int_equal(tlog_tree_append(&t, leaf, NULL), TLOG_OK);
	}
	exportfile_frontier_from_tree(log, &t);
	for (i = 0; i < n; i++)
		assert_int_equal(tlog_tree_append(&t, leaves[i], NULL), TLOG_OK);
	tlog_tree_root(&t, root);
	log->first_index = first;
	log->tree_size = t.size;
	assert_int_equal(note_checkpoint_sign(
			     log->note, sizeof log->note, &log->note_len, ORIGIN, t.size, root, sk),
	    NOTE_OK);
}

/* A file of NSIZES entries from first_index, with random envelopes; *log
 * gets its header when log is not NULL. */
static void
make_file_log(
    uint64_t first_index, struct buf *file, unsigned char **envs, struct exportfile_log *logout)
{
	struct exportfile_writer *w;
	struct exportfile_entry e;
	static struct exportfile_log log;
	unsigned char leaves[NSIZES][32];
	size_t i, off;

	memset(file, 0, sizeof *file);
	for (i = 0; i < NSIZES; i++) {
		envs[i] = malloc(sizes[i] + 1);
		randombytes_buf(envs[i], sizes[i]);
		leaf_hash(envs[i], sizes[i], leaves[i]);
	}
	make_log(&log, first_index, (const unsigned char(*)[32])leaves, NSIZES, 1);
	if (logout != NULL)
		*logout = log;
	assert_int_equal(exportfile_writer_new(&w, &log, buf_write, file), ST_OK);
	for (i = 0; i < NSIZES; i++) {
		memset(&e, 0, sizeof e);
		e.index = first_index + i;
		snprintf(e.day, sizeof e.day, "2026-11-%02zu", i + 1);
		e.size = sizes[i];
		memcpy(e.leaf_hash, leaves[i], 32);
		assert_int_equal(exportfile_writer_entry_begin(w, &e), ST_OK);
		/* Odd pieces, to show the writer does not care how bytes come. */
		for (off = 0; off < sizes[i]; off += 7777)
			assert_int_equal(exportfile_writer_entry_data(w, envs[i] + off,
					     sizes[i] - off < 7777 ? sizes[i] - off : 7777),
			    ST_OK);
		assert_int_equal(exportfile_writer_entry_end(w), ST_OK);
	}
	assert_int_equal(exportfile_writer_finish(w), ST_OK);
	exportfile_writer_free(w);
}

static void
make_file(uint64_t first_index, struct buf *file, unsigned char **envs)
{
	make_file_log(first_index, file, envs, NULL);
}

/* Recomputes the end record's digest after an edit of the bytes before it. */
static void
redigest(struct buf *file)
{
	size_t end = file->len - EXPORTFILE_END_BYTES;

	crypto_hash_sha256(file->data + end + 9, file->data, end + 9);
}

/* Feeds the file in pieces of step bytes (0: random pieces). */
static int
read_file(const unsigned char *data, size_t len, size_t step, struct seen *seen,
    struct exportfile_summary *sum, char *err, size_t errlen)
{
	struct exportfile_reader *r;
	struct exportfile_sink sink = {seen_begin, seen_data, seen_end, seen, NULL};
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
	struct exportfile_log log;

	make_file_log(41, &file, envs, &log);
	for (size_t i = 0; i < NSIZES; i++)
		total += sizes[i];
	assert_int_equal(log.frontier_len, 3); /* 41 = 32 + 8 + 1 */
	assert_int_equal(file.len, exportfile_length(&log, NSIZES, total));
	assert_true(exportfile_sniff(file.data, file.len));
	for (size_t s = 0; s < sizeof steps / sizeof steps[0]; s++) {
		struct seen seen;

		memset(&seen, 0, sizeof seen);
		assert_int_equal(
		    read_file(file.data, file.len, steps[s], &seen, &sum, NULL, 0), ST_OK);
		assert_int_equal(sum.first_index, 41);
		assert_int_equal(sum.count, NSIZES);
		assert_int_equal(sum.tree_size, 41 + NSIZES);
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
	struct exportfile_log log;
	struct seen seen;

	(void)state;
	/* Nothing after index 6 of a log of 7: no entry, the frontier is the
	 * whole tree. */
	make_log(&log, 7, NULL, 0, 1);
	log.first_index = 9;
	assert_int_equal(exportfile_writer_new(&w, &log, buf_write, &file), ST_OK);
	assert_int_equal(exportfile_writer_finish(w), ST_OK);
	/* Nothing may follow the end record. */
	assert_int_not_equal(exportfile_writer_finish(w), ST_OK);
	exportfile_writer_free(w);
	assert_int_equal(file.len, exportfile_length(&log, 0, 0));
	memset(&seen, 0, sizeof seen);
	assert_int_equal(read_file(file.data, file.len, 1, &seen, &sum, NULL, 0), ST_OK);
	assert_int_equal(sum.count, 0);
	assert_int_equal(sum.first_index, 9);
	assert_int_equal(sum.tree_size, 7);
	free(file.data);

	/* An empty log: no key, no checkpoint, nothing to sign. */
	memset(&log, 0, sizeof log);
	memset(&file, 0, sizeof file);
	assert_int_equal(exportfile_writer_new(&w, &log, buf_write, &file), ST_OK);
	assert_int_equal(exportfile_writer_finish(w), ST_OK);
	exportfile_writer_free(w);
	assert_int_equal(file.len, EXPORTFILE_HEADER_BYTES + EXPORTFILE_END_BYTES);
	assert_int_equal(read_file(file.data, file.len, 1, &seen, &sum, NULL, 0), ST_OK);
	assert_int_equal(sum.tree_size, 0);
	free(file.data);
	/* A non-empty tree without a checkpoint is never written. */
	log.tree_size = 1;
	assert_int_equal(exportfile_writer_new(&w, &log, buf_write, &file), ST_ERR_ARGUMENT);
}

static void
test_writer_refuses(void **state)
{
	struct buf file = {0};
	struct exportfile_writer *w;
	struct exportfile_entry e;
	struct exportfile_log log, bad;
	unsigned char env[100];

	(void)state;
	randombytes_buf(env, sizeof env);
	memset(&e, 0, sizeof e);
	snprintf(e.day, sizeof e.day, "2026-11-28");
	e.size = sizeof env;
	leaf_hash(env, sizeof env, e.leaf_hash);
	make_log(&log, 0, (const unsigned char(*)[32])e.leaf_hash, 1, 1);
	assert_int_equal(exportfile_writer_new(&w, &log, buf_write, &file), ST_OK);
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
	assert_int_equal(exportfile_writer_finish(w), ST_ERR_CHUNK_AUTH);
	exportfile_writer_free(w);
	free(file.data);

	memset(&file, 0, sizeof file);
	env[5] ^= 1;
	assert_int_equal(exportfile_writer_new(&w, &log, buf_write, &file), ST_OK);
	assert_int_equal(exportfile_writer_entry_begin(w, &e), ST_OK);
	assert_int_equal(exportfile_writer_entry_data(w, env, 10), ST_OK);
	assert_int_equal(exportfile_writer_entry_end(w), ST_ERR_TRUNCATED);
	exportfile_writer_free(w);
	free(file.data);

	memset(&file, 0, sizeof file);
	assert_int_equal(exportfile_writer_new(&w, &log, buf_write, &file), ST_OK);
	assert_int_equal(exportfile_writer_entry_begin(w, &e), ST_OK);
	assert_int_equal(exportfile_writer_entry_data(w, env, sizeof env), ST_OK);
	assert_int_equal(exportfile_writer_entry_data(w, env, 1), ST_ERR_TRAILING);
	exportfile_writer_free(w);
	free(file.data);

	/* Finishing before the checkpoint's size is reached. */
	memset(&file, 0, sizeof file);
	assert_int_equal(exportfile_writer_new(&w, &log, buf_write, &file), ST_OK);
	assert_int_equal(exportfile_writer_finish(w), ST_ERR_ARGUMENT);
	exportfile_writer_free(w);
	free(file.data);

	/* A header the log did not sign: another size, a foreign key's note,
	 * a frontier of the wrong length. */
	memset(&file, 0, sizeof file);
	bad = log;
	bad.tree_size = 2;
	assert_int_equal(exportfile_writer_new(&w, &bad, buf_write, &file), ST_ERR_ARGUMENT);
	make_log(&bad, 0, (const unsigned char(*)[32])e.leaf_hash, 1, 2);
	memcpy(bad.verifier_key, log.verifier_key, sizeof bad.verifier_key);
	assert_int_equal(exportfile_writer_new(&w, &bad, buf_write, &file), ST_ERR_ARGUMENT);
	bad = log;
	bad.frontier_len = 1;
	assert_int_equal(exportfile_writer_new(&w, &bad, buf_write, &file), ST_ERR_ARGUMENT);
	assert_int_equal(file.len, 0);
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
	struct exportfile_log log;
	size_t first_entry;

	(void)state;
	make_file_log(0, &file, envs, &log);
	first_entry = exportfile_length(&log, 0, 0) - EXPORTFILE_END_BYTES;
	file.data[0] ^= 1;
	assert_int_equal(read_fresh(file.data, file.len, err, sizeof err), ST_ERR_MAGIC);
	assert_false(exportfile_sniff(file.data, file.len));
	file.data[0] ^= 1;
	file.data[EXPORTFILE_MAGIC_BYTES] = 3;
	assert_int_equal(read_fresh(file.data, file.len, err, sizeof err), ST_ERR_VERSION);
	file.data[EXPORTFILE_MAGIC_BYTES] = 1;
	assert_int_equal(read_fresh(file.data, file.len, err, sizeof err), ST_ERR_VERSION);
	assert_string_equal(
	    err, "export file version 1 carries no signed checkpoint: export it again");
	file.data[EXPORTFILE_MAGIC_BYTES] = 2;
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
	/* The header claims a larger tree than the checkpoint signs. */
	file.data[EXPORTFILE_MAGIC_BYTES + 9] ^= 1;
	assert_int_equal(read_fresh(file.data, file.len, err, sizeof err), ST_ERR_CHUNK_AUTH);
	assert_string_equal(err, "checkpoint: signs another tree size than the header's");
	file.data[EXPORTFILE_MAGIC_BYTES + 9] ^= 1;
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

/* An envelope byte changed and its leaf hash and the file digest recomputed:
 * only the signed root tells, and the reader says so at the end. */
static void
test_forged_entry(void **state)
{
	struct buf file;
	unsigned char *envs[NSIZES];
	struct exportfile_log log;
	struct exportfile_summary sum;
	struct seen seen;
	char err[200];
	size_t at;

	(void)state;
	make_file_log(5, &file, envs, &log);
	/* Entry 0 (index 5) is the first after the header. */
	at = exportfile_length(&log, 0, 0) - EXPORTFILE_END_BYTES;
	file.data[at + EXPORTFILE_ENTRY_HEADER_BYTES + 10] ^= 1;
	leaf_hash(file.data + at + EXPORTFILE_ENTRY_HEADER_BYTES, sizes[0],
	    file.data + at + 1 + 8 + EXPORTFILE_DAY_BYTES + 8);
	redigest(&file);
	memset(&seen, 0, sizeof seen);
	assert_int_equal(
	    read_file(file.data, file.len, 0, &seen, &sum, err, sizeof err), ST_ERR_CHUNK_AUTH);
	assert_string_equal(err,
	    "the entries do not give the signed checkpoint's root: an entry "
	    "was altered, added or left out");
	/* Every entry was handed on before the verdict: the caller must wait. */
	assert_int_equal(seen.n_end, NSIZES);
	seen_free(&seen);
	file.data[at + EXPORTFILE_ENTRY_HEADER_BYTES + 10] ^= 1;
	leaf_hash(file.data + at + EXPORTFILE_ENTRY_HEADER_BYTES, sizes[0],
	    file.data + at + 1 + 8 + EXPORTFILE_DAY_BYTES + 8);
	/* A frontier hash changed: the older entries are not the signed ones. */
	file.data[at - 32 + 4] ^= 1;
	redigest(&file);
	assert_int_equal(read_fresh(file.data, file.len, err, sizeof err), ST_ERR_CHUNK_AUTH);
	assert_non_null(strstr(err, "signed checkpoint's root"));
	file.data[at - 32 + 4] ^= 1;
	redigest(&file);
	assert_int_equal(read_fresh(file.data, file.len, err, sizeof err), ST_OK);
	for (size_t i = 0; i < NSIZES; i++)
		free(envs[i]);
	free(file.data);
}

/* One real-date check of a day, for the writer, the reader and the database
 * audit: 2026-02-31 passed the reader until it checked the calendar. No
 * signature covers a day, so a real date put in with the digest recomputed
 * is read as the file says: the day is the server's word. */
static void
test_days(void **state)
{
	static const char *const refused[] = {"2026-02-29", "2026-04-31", "2026-02-31",
	    "2100-02-29", "2026-13-01", "2026-00-10", "2026-01-00", "2026-01-32", "1969-12-31",
	    "0000-01-01", "2026/01/01", "2026-1-011", "20260-1-01", "2026-01-0a"};
	static const char *const accepted[] = {
	    "2024-02-29", "2000-02-29", "1970-01-01", "2026-12-31", "2026-04-30"};
	struct buf file;
	unsigned char *envs[NSIZES];
	struct exportfile_log log;
	struct exportfile_summary sum;
	struct exportfile_writer *w;
	struct exportfile_entry e;
	struct seen seen;
	char err[200];
	size_t at, i;

	(void)state;
	for (i = 0; i < sizeof refused / sizeof refused[0]; i++)
		assert_false(exportfile_day_valid(refused[i], EXPORTFILE_DAY_BYTES));
	for (i = 0; i < sizeof accepted / sizeof accepted[0]; i++)
		assert_true(exportfile_day_valid(accepted[i], EXPORTFILE_DAY_BYTES));
	assert_false(exportfile_day_valid("2026-02-1", 9));
	assert_false(exportfile_day_valid("2026-02-100", 11));
	assert_false(exportfile_day_valid("", 0));

	/* The reader: entry 0's day changed, the digest recomputed. */
	make_file_log(0, &file, envs, &log);
	at = exportfile_length(&log, 0, 0) - EXPORTFILE_END_BYTES + 1 + 8;
	for (i = 0; i < 4; i++) {
		memcpy(file.data + at, refused[i], EXPORTFILE_DAY_BYTES);
		redigest(&file);
		assert_int_equal(read_fresh(file.data, file.len, err, sizeof err), ST_ERR_LAYOUT);
		assert_string_equal(err, "entry 0: day is not a valid YYYY-MM-DD day");
	}
	memcpy(file.data + at, "2024-02-29", EXPORTFILE_DAY_BYTES);
	redigest(&file);
	memset(&seen, 0, sizeof seen);
	assert_int_equal(read_file(file.data, file.len, 0, &seen, &sum, err, sizeof err), ST_OK);
	assert_string_equal(seen.entries[0].day, "2024-02-29");
	seen_free(&seen);

	/* The writer never writes a day that is not a date. */
	memset(&e, 0, sizeof e);
	leaf_hash(file.data, 0, e.leaf_hash); /* an empty envelope */
	make_log(&log, 0, (const unsigned char(*)[32])e.leaf_hash, 1, 1);
	free(file.data);
	memset(&file, 0, sizeof file);
	assert_int_equal(exportfile_writer_new(&w, &log, buf_write, &file), ST_OK);
	for (i = 0; i < 4; i++) {
		snprintf(e.day, sizeof e.day, "%s", refused[i]);
		assert_int_equal(exportfile_writer_entry_begin(w, &e), ST_ERR_ARGUMENT);
	}
	snprintf(e.day, sizeof e.day, "2024-02-29");
	assert_int_equal(exportfile_writer_entry_begin(w, &e), ST_OK);
	assert_int_equal(exportfile_writer_entry_end(w), ST_OK);
	assert_int_equal(exportfile_writer_finish(w), ST_OK);
	exportfile_writer_free(w);
	free(file.data);
	for (i = 0; i < NSIZES; i++)
		free(envs[i]);
}

struct header_seen {
	char key[NOTE_VERIFIER_KEY_MAX];
	uint64_t size;
	int calls;
};

static int
header_cb(void *ctx, const struct exportfile_log *log)
{
	struct header_seen *h = ctx;

	snprintf(h->key, sizeof h->key, "%s", log->verifier_key);
	h->size = log->tree_size;
	h->calls++;
	return 0;
}

/* The checkpoint replaced by one of another key: refused unless the file
 * names that key too, and then the caller sees the key in the header. */
static void
test_foreign_checkpoint(void **state)
{
	struct buf file;
	unsigned char *envs[NSIZES], pk[32], sk[64];
	struct exportfile_log log;
	struct exportfile_reader *r;
	struct note_verifier v;
	struct header_seen hs = {{0}, 0, 0};
	char note[NOTE_CHECKPOINT_MAX], err[NOTE_VERIFIER_KEY_MAX];
	size_t note_len, key_len, at;

	(void)state;
	make_file_log(3, &file, envs, &log);
	test_key(2, pk, sk);
	key_len = strlen(log.verifier_key);
	at = EXPORTFILE_HEADER_BYTES + key_len;
	/* The checkpoint the file carries, re-signed by key 2, same length. */
	{
		struct note_checkpoint cp;
		struct note_verifier v1;
		assert_int_equal(note_verifier_parse(&v1, log.verifier_key, key_len), NOTE_OK);
		assert_int_equal(note_checkpoint_open(&cp, log.note, log.note_len, &v1), NOTE_OK);
		assert_int_equal(note_checkpoint_sign(
				     note, sizeof note, &note_len, ORIGIN, cp.size, cp.root, sk),
		    NOTE_OK);
	}
	assert_int_equal(note_len, log.note_len);
	memcpy(file.data + at, note, note_len);
	redigest(&file);
	assert_int_equal(read_fresh(file.data, file.len, err, sizeof err), ST_ERR_CHUNK_AUTH);
	assert_non_null(strstr(err, "checkpoint: "));
	/* Naming key 2 as well makes the file self-consistent: only the
	 * caller's trusted key can refuse it, through the header callback. */
	assert_int_equal(note_verifier_make(&v, ORIGIN, pk), NOTE_OK);
	assert_int_equal(note_verifier_format(err, sizeof err, &v), NOTE_OK);
	assert_int_equal(strlen(err), key_len);
	memcpy(file.data + EXPORTFILE_HEADER_BYTES, err, key_len);
	redigest(&file);
	assert_int_equal(read_fresh(file.data, file.len, note, sizeof note), ST_OK);
	assert_int_equal(
	    exportfile_reader_new(&r, &(struct exportfile_sink){NULL, NULL, NULL, &hs, header_cb}),
	    ST_OK);
	assert_int_equal(exportfile_reader_update(r, file.data, file.len), ST_OK);
	assert_int_equal(memcmp(exportfile_reader_log(r)->verifier.pk, pk, 32), 0);
	assert_int_equal(hs.calls, 1);
	assert_int_equal(hs.size, 3 + NSIZES);
	assert_string_equal(hs.key, err);
	exportfile_reader_free(r);
	for (size_t i = 0; i < NSIZES; i++)
		free(envs[i]);
	free(file.data);
}

/* The root at an earlier size, for a reader that remembers one. */
static void
test_watch(void **state)
{
	struct buf file;
	unsigned char *envs[NSIZES], leaves[NSIZES][32], expect[32], leaf[32];
	struct exportfile_reader *r;
	struct exportfile_summary sum;
	struct tlog_tree t;
	uint64_t i;

	(void)state;
	make_file(41, &file, envs);
	tlog_tree_init(&t);
	for (i = 0; i < 41; i++) {
		memset(leaf, (int)(i * 7 + 1), sizeof leaf);
		assert_int_equal(tlog_tree_append(&t, leaf, NULL), TLOG_OK);
	}
	for (i = 0; i < 2; i++) {
		leaf_hash(envs[i], sizes[i], leaves[i]);
		assert_int_equal(tlog_tree_append(&t, leaves[i], NULL), TLOG_OK);
	}
	tlog_tree_root(&t, expect);
	assert_int_equal(exportfile_reader_new(&r, NULL), ST_OK);
	exportfile_reader_watch(r, 43);
	assert_int_equal(exportfile_reader_update(r, file.data, file.len), ST_OK);
	assert_int_equal(exportfile_reader_final(r, &sum), ST_OK);
	assert_true(sum.watched);
	assert_memory_equal(sum.watched_root, expect, 32);
	exportfile_reader_free(r);
	/* Below the frontier: not computable from this file. */
	assert_int_equal(exportfile_reader_new(&r, NULL), ST_OK);
	exportfile_reader_watch(r, 40);
	assert_int_equal(exportfile_reader_update(r, file.data, file.len), ST_OK);
	assert_int_equal(exportfile_reader_final(r, &sum), ST_OK);
	assert_false(sum.watched);
	exportfile_reader_free(r);
	for (size_t k = 0; k < NSIZES; k++)
		free(envs[k]);
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
	    cmocka_unit_test(test_forged_entry),
	    cmocka_unit_test(test_days),
	    cmocka_unit_test(test_foreign_checkpoint),
	    cmocka_unit_test(test_watch),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests_name("exportfile", tests, NULL, NULL);
}
