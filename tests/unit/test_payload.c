/* The payload writer helpers and the streaming reader: round trips in every
 * split, each malformed payload refused with its own status at the byte
 * where it becomes wrong, and the independent implementation's payloads
 * (decrypted here with libsodium directly, not with envelope.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <sodium.h>

#include "manifest.h"
#include "padme.h"
#include "payload.h"
#include "status.h"

#define MAXF 16

/* ---- a growing byte buffer, usable as an envelope_write_fn ---- */

struct out {
	unsigned char *p;
	size_t len, cap;
	size_t calls;
	size_t max_write;	/* largest single write seen */
	size_t fail_on_call;	/* 1-based call to refuse; 0 never */
};

static void
out_add(struct out *o, const unsigned char *buf, size_t len)
{
	if (o->len + len > o->cap) {
		o->cap = (o->len + len) * 2 + 64;
		o->p = realloc(o->p, o->cap);
		assert_non_null(o->p);
	}
	if (len > 0)
		memcpy(o->p + o->len, buf, len);
	o->len += len;
}

static int
out_write(void *ctx, const unsigned char *buf, size_t len)
{
	struct out *o = ctx;

	o->calls++;
	if (o->fail_on_call != 0 && o->calls == o->fail_on_call)
		return -1;
	if (len > o->max_write)
		o->max_write = len;
	out_add(o, buf, len);
	return 0;
}

/* The length prefix and a manifest, written by hand: for manifests the
 * writer refuses, to see that the reader refuses them too. */
static void
raw_manifest(struct out *o, const char *json, size_t len)
{
	const unsigned char prefix[4] = { (unsigned char)(len & 0xff),
		(unsigned char)((len >> 8) & 0xff), (unsigned char)((len >> 16) & 0xff),
		(unsigned char)((len >> 24) & 0xff) };

	out_add(o, prefix, sizeof prefix);
	out_add(o, (const unsigned char *)json, len);
}

/* A valid manifest of exactly len bytes (len >= its 55 bytes + 1): no fields,
 * no files, spaces before its closing brace. malloc'd. */
static char *
manifest_of_length(size_t len)
{
	char *m = malloc(len + 1);
	size_t k;

	assert_non_null(m);
	k = (size_t)snprintf(m, len + 1, "{\"v\":1,\"form\":\"f\",\"lang\":\"km\","
	    "\"fields\":{},\"files\":[]");
	assert_true(k < len);
	memset(m + k, ' ', len - 1 - k);
	m[len - 1] = '}';
	m[len] = '\0';
	return m;
}

/* ---- a recording sink that also checks the order of calls ---- */

enum { FAIL_NONE, FAIL_MANIFEST, FAIL_BEGIN, FAIL_DATA, FAIL_END };

struct rec {
	struct out manifest;
	int manifest_calls;
	size_t nfiles;		/* from the manifest */
	struct out data[MAXF];
	uint64_t size[MAXF];
	int sha_ok[MAXF];
	size_t begins, ends;
	bool in_file;
	size_t current;
	int fail;		/* which callback refuses */
	size_t fail_index;	/* for FAIL_BEGIN / FAIL_END / FAIL_DATA: which file */
	bool failed;
	int calls_after_fail;
};

static int
rec_manifest(void *ctx, const struct manifest *m, const unsigned char *raw, size_t raw_len)
{
	struct rec *r = ctx;

	if (r->failed)
		r->calls_after_fail++;
	assert_int_equal(r->manifest_calls, 0);
	assert_non_null(m);
	assert_true(m->nfiles <= MAXF);
	r->manifest_calls++;
	r->nfiles = m->nfiles;
	out_add(&r->manifest, raw, raw_len);
	if (r->fail == FAIL_MANIFEST) {
		r->failed = true;
		return 1;
	}
	return 0;
}

static int
rec_file_begin(void *ctx, size_t index, const struct manifest_file *f)
{
	struct rec *r = ctx;

	if (r->failed)
		r->calls_after_fail++;
	assert_int_equal(r->manifest_calls, 1);
	assert_false(r->in_file);
	assert_int_equal(index, r->begins);
	assert_true(index < r->nfiles);
	r->begins++;
	r->in_file = true;
	r->current = index;
	r->size[index] = f->size;
	if (r->fail == FAIL_BEGIN && index == r->fail_index) {
		r->failed = true;
		return 1;
	}
	return 0;
}

static int
rec_file_data(void *ctx, const unsigned char *buf, size_t len)
{
	struct rec *r = ctx;

	if (r->failed)
		r->calls_after_fail++;
	assert_true(r->in_file);
	/* Never an empty call, never more than the manifest promised. */
	assert_true(len > 0);
	assert_true(r->data[r->current].len + len <= r->size[r->current]);
	out_add(&r->data[r->current], buf, len);
	if (r->fail == FAIL_DATA && r->current == r->fail_index) {
		r->failed = true;
		return 1;
	}
	return 0;
}

static int
rec_file_end(void *ctx, size_t index, int sha256_ok)
{
	struct rec *r = ctx;

	if (r->failed)
		r->calls_after_fail++;
	assert_true(r->in_file);
	assert_int_equal(index, r->current);
	assert_int_equal(r->data[index].len, r->size[index]);
	assert_true(sha256_ok == 0 || sha256_ok == 1);
	r->in_file = false;
	r->ends++;
	r->sha_ok[index] = sha256_ok;
	if (r->fail == FAIL_END && index == r->fail_index) {
		r->failed = true;
		return 1;
	}
	return 0;
}

static void
rec_free(struct rec *r)
{
	size_t i;

	free(r->manifest.p);
	for (i = 0; i < MAXF; i++)
		free(r->data[i].p);
	memset(r, 0, sizeof *r);
}

static struct payload_sink
rec_sink(struct rec *r)
{
	struct payload_sink s = {
		.manifest = rec_manifest,
		.file_begin = rec_file_begin,
		.file_data = rec_file_data,
		.file_end = rec_file_end,
		.ctx = r,
	};

	return s;
}

/* ---- building payloads ---- */

struct files {
	size_t n;
	unsigned char *data[MAXF];
	size_t size[MAXF];
};

static void
files_free(struct files *f)
{
	size_t i;

	for (i = 0; i < f->n; i++)
		free(f->data[i]);
	memset(f, 0, sizeof *f);
}

/* n files of the given sizes with distinct, position-dependent bytes. */
static void
files_make(struct files *f, const size_t *sizes, size_t n)
{
	size_t i, j;

	assert_true(n <= MAXF);
	f->n = n;
	for (i = 0; i < n; i++) {
		f->size[i] = sizes[i];
		f->data[i] = malloc(sizes[i] + 1);
		assert_non_null(f->data[i]);
		for (j = 0; j < sizes[i]; j++)
			f->data[i][j] = (unsigned char)(j * 31 + i * 7 + (j >> 8));
	}
}

/* A manifest for the files; bad_sha flips one hash; extra adds trailing
 * whitespace, which is valid JSON and moves the unpadded length. */
static char *
manifest_for(const struct files *f, int bad_sha, size_t extra, size_t *len)
{
	json_t *root, *list, *entry;
	unsigned char h[32];
	char hex[65], name[32], *s, *t;
	size_t i;

	root = json_pack("{s:i, s:s, s:s, s:{s:s, s:[s, s]}}", "v", 1, "form",
	    "bribery-report/1", "lang", "km", "fields", "what",
	    "មន្ត្រីបានទាមទារ iPhone", "gifts", "watch", "phone");
	assert_non_null(root);
	list = json_array();
	for (i = 0; i < f->n; i++) {
		crypto_hash_sha256(h, f->data[i], f->size[i]);
		if ((int)i == bad_sha)
			h[0] ^= 1;
		sodium_bin2hex(hex, sizeof hex, h, sizeof h);
		snprintf(name, sizeof name, "file%zu.bin", i);
		entry = json_pack("{s:s, s:s, s:I, s:s}", "name", name, "type",
		    "application/octet-stream", "size", (json_int_t)f->size[i], "sha256", hex);
		assert_non_null(entry);
		json_array_append_new(list, entry);
	}
	json_object_set_new(root, "files", list);
	s = manifest_dump(root, len);
	assert_non_null(s);
	json_decref(root);
	if (extra > 0) {
		t = realloc(s, *len + extra + 1);
		assert_non_null(t);
		s = t;
		memset(s + *len, ' ', extra);
		*len += extra;
		s[*len] = '\0';
	}
	return s;
}

/* prefix || manifest || files || padding, with the writer helpers. */
static void
payload_make(struct out *o, const char *manifest, size_t mlen, const struct files *f)
{
	uint64_t unpadded, padded, total = 0;
	size_t i;

	memset(o, 0, sizeof *o);
	assert_int_equal(payload_write_manifest(out_write, o, manifest, mlen), ST_OK);
	for (i = 0; i < f->n; i++) {
		out_add(o, f->data[i], f->size[i]);
		total += f->size[i];
	}
	assert_int_equal(payload_lengths(mlen, total, &unpadded, &padded), ST_OK);
	assert_int_equal(o->len, unpadded);
	assert_int_equal(payload_write_padding(out_write, o, padded - unpadded), ST_OK);
	assert_int_equal(o->len, padded);
	assert_true(padme_is_padded(o->len));
}

/* ---- feeding ---- */

enum split { SPLIT_WHOLE, SPLIT_BYTES, SPLIT_RANDOM };

static uint64_t
xorshift64(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

static size_t
next_piece(enum split split, uint64_t *seed, size_t left)
{
	uint64_t r;
	size_t n;

	switch (split) {
	case SPLIT_WHOLE:
		return left;
	case SPLIT_BYTES:
		return 1;
	case SPLIT_RANDOM:
		r = xorshift64(seed);
		/* Mostly small pieces, sometimes empty, sometimes huge. */
		switch (r % 8) {
		case 0: n = 0; break;
		case 1: n = 1; break;
		case 2: case 3: n = (size_t)(r >> 8) % 16; break;
		case 4: case 5: n = (size_t)(r >> 8) % 4096; break;
		default: n = (size_t)(r >> 8) % 100000; break;
		}
		return n < left ? n : left;
	}
	return left;
}

struct fed {
	int status;		/* first error, or finish's result */
	bool from_write;	/* the error came from a write, not finish */
	size_t at;		/* bytes fed before the failing write's end */
	size_t ends_before_finish;
};

/* Feeds len bytes in pieces; stops at the first error, checking it sticks. */
static struct fed
feed(const unsigned char *p, size_t len, enum split split, uint64_t seed, struct rec *r)
{
	struct payload_sink sink = rec_sink(r);
	struct payload_reader *rd = NULL;
	struct fed f = { 0 };
	size_t pos = 0, n;
	int ret;

	if (seed == 0)
		seed = 88172645463325252ull;
	assert_int_equal(payload_reader_new(&rd, &sink), ST_OK);
	while (pos < len) {
		n = next_piece(split, &seed, len - pos);
		ret = payload_reader_write(rd, p + pos, n);
		pos += n;
		if (ret != ST_OK) {
			f.status = ret;
			f.from_write = true;
			f.at = pos;
			/* Sticky, and no callback after it. */
			assert_int_equal(payload_reader_write(rd, (const unsigned char *)"", 1), ret);
			assert_int_equal(payload_reader_write(rd, NULL, 0), ret);
			assert_int_equal(payload_reader_finish(rd), ret);
			assert_int_equal(payload_reader_finish(rd), ret);
			assert_int_equal(r->calls_after_fail, 0);
			payload_reader_free(rd);
			return f;
		}
	}
	f.ends_before_finish = r->ends;
	f.status = payload_reader_finish(rd);
	f.at = len;
	if (f.status != ST_OK)
		assert_int_equal(payload_reader_finish(rd), f.status);
	payload_reader_free(rd);
	return f;
}

/* Everything the sink saw matches what was written. */
static void
check_seen(const struct rec *r, const char *manifest, size_t mlen, const struct files *f,
    int bad_sha)
{
	size_t i;

	assert_int_equal(r->manifest_calls, 1);
	assert_int_equal(r->manifest.len, mlen);
	assert_memory_equal(r->manifest.p, manifest, mlen);
	assert_int_equal(r->nfiles, f->n);
	assert_int_equal(r->begins, f->n);
	assert_int_equal(r->ends, f->n);
	assert_false(r->in_file);
	for (i = 0; i < f->n; i++) {
		assert_int_equal(r->data[i].len, f->size[i]);
		if (f->size[i] > 0)
			assert_memory_equal(r->data[i].p, f->data[i], f->size[i]);
		assert_int_equal(r->sha_ok[i], (int)i == bad_sha ? 0 : 1);
	}
}

static void
round_trip(const size_t *sizes, size_t n, int bad_sha)
{
	static const enum split splits[] = { SPLIT_WHOLE, SPLIT_BYTES, SPLIT_RANDOM };
	struct files f;
	struct out p;
	struct rec r;
	struct fed fed;
	char *m;
	size_t mlen, i;
	uint64_t seed;

	files_make(&f, sizes, n);
	m = manifest_for(&f, bad_sha, 0, &mlen);
	payload_make(&p, m, mlen, &f);
	for (i = 0; i < sizeof splits / sizeof splits[0]; i++) {
		for (seed = 1; seed <= (splits[i] == SPLIT_RANDOM ? 4u : 1u); seed++) {
			memset(&r, 0, sizeof r);
			fed = feed(p.p, p.len, splits[i], seed * 0x9e3779b97f4a7c15ull, &r);
			assert_int_equal(fed.status, ST_OK);
			check_seen(&r, m, mlen, &f, bad_sha);
			rec_free(&r);
		}
	}
	free(p.p);
	free(m);
	files_free(&f);
}

static void
test_payload_round_trip_no_files(void **state)
{
	(void)state;
	round_trip(NULL, 0, -1);
}

static void
test_payload_round_trip_one_file(void **state)
{
	static const size_t sizes[] = { 100 };

	(void)state;
	round_trip(sizes, 1, -1);
}

/* Empty files first, between and last; the total crosses 65536, one
 * envelope chunk. */
static void
test_payload_round_trip_several(void **state)
{
	static const size_t sizes[] = { 0, 70000, 1, 0, 0, 5000, 65536, 0 };

	(void)state;
	round_trip(sizes, sizeof sizes / sizeof sizes[0], -1);
}

/* A wrong hash is reported by file_end(…, 0): the payload itself is fine. */
static void
test_payload_wrong_sha256(void **state)
{
	static const size_t sizes[] = { 10, 0, 20 };

	(void)state;
	round_trip(sizes, 3, 0);
	round_trip(sizes, 3, 1);
	round_trip(sizes, 3, 2);
}

/* With no padding at all and an empty last file, the last file_end comes
 * with the last byte, before finish: nothing waits for bytes that never come. */
static void
test_payload_no_padding_empty_last_file(void **state)
{
	static const size_t sizes[] = { 300, 0 };
	struct files f;
	struct out p;
	struct rec r;
	struct fed fed;
	uint64_t u, pad;
	char *m;
	size_t mlen, extra;

	(void)state;
	files_make(&f, sizes, 2);
	for (extra = 0;; extra++) {
		m = manifest_for(&f, -1, extra, &mlen);
		assert_int_equal(payload_lengths(mlen, 300, &u, &pad), ST_OK);
		if (u == pad)
			break;
		free(m);
	}
	payload_make(&p, m, mlen, &f);
	assert_int_equal(p.len, 4 + mlen + 300);
	memset(&r, 0, sizeof r);
	fed = feed(p.p, p.len, SPLIT_BYTES, 0, &r);
	assert_int_equal(fed.status, ST_OK);
	assert_int_equal(fed.ends_before_finish, 2);
	check_seen(&r, m, mlen, &f, -1);
	rec_free(&r);
	free(p.p);
	free(m);
	files_free(&f);
}

/* A payload with padding, for the malformations below. */
static void
padded_sample(struct out *p, char **m, size_t *mlen, struct files *f, uint64_t *unpadded)
{
	static const size_t sizes[] = { 1000, 0, 3000 };
	uint64_t padded;

	files_make(f, sizes, 3);
	*m = manifest_for(f, -1, 0, mlen);
	payload_make(p, *m, *mlen, f);
	assert_int_equal(payload_lengths(*mlen, 4000, unpadded, &padded), ST_OK);
	assert_true(padded - *unpadded >= 2);
}

static void
test_payload_bad_padding(void **state)
{
	struct files f;
	struct out p;
	struct rec r;
	struct fed fed;
	uint64_t unpadded, pos;
	char *m;
	size_t mlen;
	int split;

	(void)state;
	padded_sample(&p, &m, &mlen, &f, &unpadded);
	for (pos = unpadded; pos < p.len; pos += (p.len - unpadded - 1)) {
		for (split = SPLIT_WHOLE; split <= SPLIT_RANDOM; split++) {
			p.p[pos] = 0x80;
			memset(&r, 0, sizeof r);
			fed = feed(p.p, p.len, (enum split)split, 7, &r);
			assert_int_equal(fed.status, ST_ERR_PADDING);
			assert_true(fed.from_write);
			/* Refused by the write holding that byte, not later. */
			if (split == SPLIT_BYTES)
				assert_int_equal(fed.at, pos + 1);
			/* Every file was complete and good before it. */
			assert_int_equal(r.ends, 3);
			rec_free(&r);
			p.p[pos] = 0;
		}
	}
	free(p.p);
	free(m);
	files_free(&f);
}

static void
test_payload_not_padme(void **state)
{
	struct files f;
	struct out p;
	struct rec r;
	struct fed fed;
	uint64_t unpadded;
	char *m;
	size_t mlen, len;
	int split;

	(void)state;
	padded_sample(&p, &m, &mlen, &f, &unpadded);
	out_add(&p, (const unsigned char *)"", 1);	/* one zero too many */
	for (split = SPLIT_WHOLE; split <= SPLIT_RANDOM; split++) {
		memset(&r, 0, sizeof r);
		fed = feed(p.p, p.len, (enum split)split, 3, &r);
		assert_int_equal(fed.status, ST_ERR_NOT_PADME);
		/* Too long is known at the first byte too many. */
		assert_true(fed.from_write);
		if (split == SPLIT_BYTES)
			assert_int_equal(fed.at, p.len);
		rec_free(&r);

		/* One short, no padding at all: only finish can tell. */
		for (len = p.len - 2; len >= unpadded; len = (len == unpadded ? 0 : unpadded)) {
			memset(&r, 0, sizeof r);
			fed = feed(p.p, len, (enum split)split, 3, &r);
			assert_int_equal(fed.status, ST_ERR_NOT_PADME);
			assert_false(fed.from_write);
			assert_int_equal(r.ends, 3);
			rec_free(&r);
		}
	}
	free(p.p);
	free(m);
	files_free(&f);
}

static void
test_payload_missing_file_bytes(void **state)
{
	static const size_t sizes[] = { 100 };
	struct files f, liar;
	struct out p;
	struct rec r;
	struct fed fed;
	uint64_t unpadded, cut;
	char *m;
	size_t mlen, big = 100000;

	(void)state;
	padded_sample(&p, &m, &mlen, &f, &unpadded);
	/* Cut inside the first file, at the empty one, inside the last. */
	for (cut = 4 + mlen; cut < unpadded; cut += 1500) {
		memset(&r, 0, sizeof r);
		fed = feed(p.p, (size_t)cut, SPLIT_RANDOM, cut, &r);
		assert_int_equal(fed.status, ST_ERR_SIZES);
		assert_false(fed.from_write);
		rec_free(&r);
	}
	memset(&r, 0, sizeof r);
	fed = feed(p.p, (size_t)unpadded - 1, SPLIT_BYTES, 0, &r);
	assert_int_equal(fed.status, ST_ERR_SIZES);
	rec_free(&r);
	free(p.p);
	free(m);
	files_free(&f);

	/* The manifest promises 100000 bytes, the payload holds 100 and its
	 * padding: the reader takes the padding for file bytes and runs out. */
	files_make(&f, sizes, 1);
	files_make(&liar, &big, 1);
	m = manifest_for(&liar, -1, 0, &mlen);
	memset(&p, 0, sizeof p);
	assert_int_equal(payload_write_manifest(out_write, &p, m, mlen), ST_OK);
	out_add(&p, f.data[0], 100);
	assert_int_equal(payload_write_padding(out_write, &p,
	    padme_length(p.len, NULL) - p.len), ST_OK);
	memset(&r, 0, sizeof r);
	fed = feed(p.p, p.len, SPLIT_RANDOM, 11, &r);
	assert_int_equal(fed.status, ST_ERR_SIZES);
	assert_int_equal(r.begins, 1);
	assert_int_equal(r.ends, 0);
	rec_free(&r);
	free(p.p);
	free(m);
	files_free(&f);
	files_free(&liar);
}

static void
test_payload_truncated(void **state)
{
	struct files f;
	struct out p;
	struct rec r;
	struct fed fed;
	uint64_t unpadded;
	char *m;
	size_t mlen, len;

	(void)state;
	padded_sample(&p, &m, &mlen, &f, &unpadded);
	for (len = 0; len < 4 + mlen; len += (len < 5 ? 1 : mlen / 3)) {
		memset(&r, 0, sizeof r);
		fed = feed(p.p, len, SPLIT_RANDOM, len + 1, &r);
		assert_int_equal(fed.status, ST_ERR_TRUNCATED);
		assert_false(fed.from_write);
		assert_int_equal(r.manifest_calls, 0);
		rec_free(&r);
	}
	free(p.p);
	free(m);
	files_free(&f);
}

static void
test_payload_manifest_len(void **state)
{
	static const unsigned char zero[4] = { 0, 0, 0, 0 };
	static const unsigned char over[4] = { 0x01, 0x00, 0x10, 0x00 }; /* 1 MiB + 1 */
	static const unsigned char huge[4] = { 0xff, 0xff, 0xff, 0xff };
	static const unsigned char *const bad[] = { zero, over, huge };
	struct payload_sink sink;
	struct payload_reader *rd;
	struct rec r;
	struct out p;
	struct fed fed;
	size_t i, k;
	char *big;

	(void)state;
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		memset(&r, 0, sizeof r);
		sink = rec_sink(&r);
		assert_int_equal(payload_reader_new(&rd, &sink), ST_OK);
		/* Refused on the fourth byte: nothing of the manifest is awaited. */
		for (k = 0; k < 3; k++)
			assert_int_equal(payload_reader_write(rd, bad[i] + k, 1), ST_OK);
		assert_int_equal(payload_reader_write(rd, bad[i] + 3, 1), ST_ERR_MANIFEST_LEN);
		assert_int_equal(payload_reader_finish(rd), ST_ERR_MANIFEST_LEN);
		assert_int_equal(r.manifest_calls, 0);
		payload_reader_free(rd);
		rec_free(&r);
	}

	/* Exactly 1 MiB: {"v":1,…} then spaces. */
	big = malloc(MANIFEST_MAX_BYTES + 1);
	assert_non_null(big);
	k = (size_t)snprintf(big, MANIFEST_MAX_BYTES, "{\"v\":1,\"form\":\"f\",\"lang\":\"km\","
	    "\"fields\":{},\"files\":[]");
	memset(big + k, ' ', MANIFEST_MAX_BYTES - 1 - k);
	big[MANIFEST_MAX_BYTES - 1] = '}';
	memset(&p, 0, sizeof p);
	assert_int_equal(payload_write_manifest(out_write, &p, big, MANIFEST_MAX_BYTES), ST_OK);
	assert_int_equal(payload_write_padding(out_write, &p,
	    padme_length(p.len, NULL) - p.len), ST_OK);
	memset(&r, 0, sizeof r);
	fed = feed(p.p, p.len, SPLIT_RANDOM, 5, &r);
	assert_int_equal(fed.status, ST_OK);
	assert_int_equal(r.manifest.len, MANIFEST_MAX_BYTES);
	assert_memory_equal(r.manifest.p, big, MANIFEST_MAX_BYTES);
	rec_free(&r);
	free(p.p);

	/* The writer refuses what the reader would. */
	memset(&p, 0, sizeof p);
	assert_int_equal(payload_write_manifest(out_write, &p, big, MANIFEST_MAX_BYTES + 1),
	    ST_ERR_MANIFEST_LEN);
	assert_int_equal(payload_write_manifest(out_write, &p, big, 0), ST_ERR_MANIFEST_LEN);
	assert_int_equal(p.calls, 0);
	free(big);
}

/* A manifest that does not parse stops the reader with the parser's status
 * before the sink hears of it. */
static void
test_payload_manifest_errors(void **state)
{
	static const struct {
		const char *json;
		int want;
	} c[] = {
		{ "not json", ST_ERR_MANIFEST_JSON },
		{ "{\"v\":1,\"v\":1}", ST_ERR_MANIFEST_JSON },
		{ "{\"v\":1,\"form\":\"\xff\"}", ST_ERR_MANIFEST_JSON },
		{ "[]", ST_ERR_MANIFEST_SCHEMA },
		{ "{\"v\":1,\"form\":\"f\",\"lang\":\"km\",\"fields\":{},\"files\":{}}",
		  ST_ERR_MANIFEST_SCHEMA },
		{ "{\"v\":2,\"form\":\"f\",\"lang\":\"km\",\"fields\":{},\"files\":[]}",
		  ST_ERR_VERSION },
	};
	struct out p;
	struct rec r;
	struct fed fed;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof c / sizeof c[0]; i++) {
		memset(&p, 0, sizeof p);
		/* The writer refuses it with the reader's status, writing nothing. */
		assert_int_equal(payload_write_manifest(out_write, &p, c[i].json,
		    strlen(c[i].json)), c[i].want);
		assert_int_equal(p.calls, 0);
		raw_manifest(&p, c[i].json, strlen(c[i].json));
		/* Some zeros behind it, as padding would be. */
		assert_int_equal(payload_write_padding(out_write, &p, 40), ST_OK);
		memset(&r, 0, sizeof r);
		fed = feed(p.p, p.len, SPLIT_BYTES, 0, &r);
		assert_int_equal(fed.status, c[i].want);
		assert_true(fed.from_write);
		assert_int_equal(fed.at, 4 + strlen(c[i].json));
		assert_int_equal(r.manifest_calls, 0);
		rec_free(&r);
		free(p.p);
	}
}

static void
test_payload_callback_failure(void **state)
{
	static const size_t sizes[] = { 10, 0, 70000 };
	static const struct {
		int fail;
		size_t index;
		size_t begins, ends;
	} c[] = {
		{ FAIL_MANIFEST, 0, 0, 0 },
		{ FAIL_BEGIN, 0, 1, 0 },
		{ FAIL_BEGIN, 1, 2, 1 },
		{ FAIL_DATA, 0, 1, 0 },
		{ FAIL_DATA, 2, 3, 2 },
		{ FAIL_END, 0, 1, 1 },
		{ FAIL_END, 1, 2, 2 },
		{ FAIL_END, 2, 3, 3 },
	};
	struct files f;
	struct out p;
	struct rec r;
	struct fed fed;
	char *m;
	size_t mlen, i;
	int split;

	(void)state;
	files_make(&f, sizes, 3);
	m = manifest_for(&f, -1, 0, &mlen);
	payload_make(&p, m, mlen, &f);
	for (i = 0; i < sizeof c / sizeof c[0]; i++) {
		for (split = SPLIT_WHOLE; split <= SPLIT_RANDOM; split++) {
			memset(&r, 0, sizeof r);
			r.fail = c[i].fail;
			r.fail_index = c[i].index;
			fed = feed(p.p, p.len, (enum split)split, i + 1, &r);
			assert_int_equal(fed.status, ST_ERR_CALLBACK);
			assert_true(fed.from_write);
			assert_true(r.failed);
			assert_int_equal(r.begins, c[i].begins);
			assert_int_equal(r.ends, c[i].ends);
			rec_free(&r);
		}
	}
	free(p.p);
	free(m);
	files_free(&f);
}

/* Every callback is optional: a reader that only verifies. */
static void
test_payload_null_callbacks(void **state)
{
	static const size_t sizes[] = { 10, 0, 3000 };
	struct payload_sink sink = { 0 };
	struct payload_reader *rd;
	struct files f;
	struct out p;
	char *m;
	size_t mlen;

	(void)state;
	files_make(&f, sizes, 3);
	m = manifest_for(&f, 1, 0, &mlen);
	payload_make(&p, m, mlen, &f);
	assert_int_equal(payload_reader_new(&rd, &sink), ST_OK);
	assert_int_equal(payload_reader_write(rd, p.p, p.len), ST_OK);
	assert_int_equal(payload_reader_finish(rd), ST_OK);
	payload_reader_free(rd);
	free(p.p);
	free(m);
	files_free(&f);
}

static void
test_payload_state_and_arguments(void **state)
{
	static const size_t sizes[] = { 5 };
	struct payload_sink sink = { 0 };
	struct payload_reader *rd = NULL;
	struct files f;
	struct out p;
	char *m;
	size_t mlen;

	(void)state;
	assert_int_equal(payload_reader_new(NULL, &sink), ST_ERR_ARGUMENT);
	assert_int_equal(payload_reader_new(&rd, NULL), ST_ERR_ARGUMENT);
	assert_null(rd);
	assert_int_equal(payload_reader_write(NULL, (const unsigned char *)"x", 1), ST_ERR_ARGUMENT);
	assert_int_equal(payload_reader_finish(NULL), ST_ERR_ARGUMENT);
	payload_reader_free(NULL);

	files_make(&f, sizes, 1);
	m = manifest_for(&f, -1, 0, &mlen);
	payload_make(&p, m, mlen, &f);
	assert_int_equal(payload_reader_new(&rd, &sink), ST_OK);
	assert_int_equal(payload_reader_write(rd, NULL, 1), ST_ERR_ARGUMENT);
	/* An argument error is the caller's, not the stream's: not sticky. */
	assert_int_equal(payload_reader_write(rd, NULL, 0), ST_OK);
	assert_int_equal(payload_reader_write(rd, p.p, p.len), ST_OK);
	assert_int_equal(payload_reader_finish(rd), ST_OK);
	assert_int_equal(payload_reader_finish(rd), ST_OK);
	assert_int_equal(payload_reader_write(rd, p.p, 1), ST_ERR_STATE);
	assert_int_equal(payload_reader_finish(rd), ST_OK);
	payload_reader_free(rd);
	free(p.p);
	free(m);
	files_free(&f);
}

static void
test_payload_writers(void **state)
{
	struct out o;
	size_t i;

	(void)state;
	memset(&o, 0, sizeof o);
	{
		char *m = manifest_of_length(60);

		assert_int_equal(payload_write_manifest(out_write, &o, m, 60), ST_OK);
		assert_int_equal(o.len, 64);
		assert_memory_equal(o.p, "\x3c\x00\x00\x00", 4);
		assert_memory_equal(o.p + 4, m, 60);
		free(o.p);
		free(m);
	}
	/* Valid JSON, but a schema no reader accepts: nothing written. */
	memset(&o, 0, sizeof o);
	assert_int_equal(payload_write_manifest(out_write, &o, "{}", 2), ST_ERR_MANIFEST_SCHEMA);
	assert_int_equal(o.calls, 0);

	/* Little-endian, all four bytes. */
	{
		char *m = manifest_of_length(0x012345);

		memset(&o, 0, sizeof o);
		assert_int_equal(payload_write_manifest(out_write, &o, m, 0x012345), ST_OK);
		assert_memory_equal(o.p, "\x45\x23\x01\x00", 4);
		assert_int_equal(o.len, 4 + 0x012345);
		free(o.p);
		free(m);
	}

	assert_int_equal(payload_write_manifest(NULL, &o, "{}", 2), ST_ERR_ARGUMENT);
	assert_int_equal(payload_write_manifest(out_write, &o, NULL, 2), ST_ERR_ARGUMENT);
	for (i = 1; i <= 2; i++) {
		char *m = manifest_of_length(60);

		memset(&o, 0, sizeof o);
		o.fail_on_call = i;
		assert_int_equal(payload_write_manifest(out_write, &o, m, 60), ST_ERR_CALLBACK);
		free(o.p);
		free(m);
	}

	memset(&o, 0, sizeof o);
	assert_int_equal(payload_write_padding(out_write, &o, 0), ST_OK);
	assert_int_equal(o.calls, 0);
	assert_int_equal(payload_write_padding(out_write, &o, 100000), ST_OK);
	assert_int_equal(o.len, 100000);
	assert_true(o.max_write <= 4096);
	for (i = 0; i < o.len; i++)
		assert_int_equal(o.p[i], 0);
	free(o.p);
	memset(&o, 0, sizeof o);
	o.fail_on_call = 3;
	assert_int_equal(payload_write_padding(out_write, &o, 100000), ST_ERR_CALLBACK);
	assert_int_equal(o.calls, 3);
	free(o.p);
	assert_int_equal(payload_write_padding(NULL, &o, 1), ST_ERR_ARGUMENT);
}

static void
test_payload_lengths(void **state)
{
	uint64_t u = 0, p = 0;

	(void)state;
	assert_int_equal(payload_lengths(1, 0, &u, &p), ST_OK);
	assert_int_equal(u, 5);
	assert_int_equal(p, 5);
	assert_int_equal(payload_lengths(414, 0, &u, &p), ST_OK);
	assert_int_equal(u, 418);
	assert_int_equal(p, 432);
	assert_int_equal(payload_lengths(248, 130000, &u, &p), ST_OK);
	assert_int_equal(u, 130252);
	assert_int_equal(p, 131072);
	assert_int_equal(payload_lengths(MANIFEST_MAX_BYTES, (uint64_t)MANIFEST_MAX_FILES << 53,
	    &u, &p), ST_OK);
	assert_int_equal(u, 4 + MANIFEST_MAX_BYTES + ((uint64_t)MANIFEST_MAX_FILES << 53));
	assert_int_equal(p, padme_length(u, NULL));

	assert_int_equal(payload_lengths(0, 0, &u, &p), ST_ERR_MANIFEST_LEN);
	assert_int_equal(payload_lengths(MANIFEST_MAX_BYTES + 1, 0, &u, &p), ST_ERR_MANIFEST_LEN);
	assert_int_equal(payload_lengths(1, UINT64_MAX, &u, &p), ST_ERR_TOO_LARGE);
	assert_int_equal(payload_lengths(1, UINT64_MAX - 5, &u, &p), ST_ERR_TOO_LARGE);
	/* Fits 64 bits unpadded, but its Padmé length does not. */
	assert_int_equal(payload_lengths(1, UINT64_MAX - 6, &u, &p), ST_ERR_TOO_LARGE);
	assert_int_equal(payload_lengths(1, 0xFE00000000000000ull - 5, &u, &p), ST_OK);
	assert_int_equal(p, 0xFE00000000000000ull);
	assert_int_equal(payload_lengths(1, 0, NULL, &p), ST_ERR_ARGUMENT);
	assert_int_equal(payload_lengths(1, 0, &u, NULL), ST_ERR_ARGUMENT);
}

/* ---- the independent implementation's payloads ---- */

static const char alice_box_pk[] =
    "09493a8a4ee91a65b3b0d3ecc1136288d77a0f1b5c5d75a116c112e78aab935a";
static const char alice_box_sk[] =
    "8a9ef0faef18e6f895bc42f2bb507fff605878d9c63ce7e182036e0abb2b01ab";
static const char alice_key_id[] = "874fc3c2ab6e810c";

static unsigned char *
read_whole(const char *path, size_t *len)
{
	unsigned char *p;
	FILE *fp;
	long n;

	fp = fopen(path, "rb");
	if (fp == NULL)
		fail_msg("cannot open %s (run from the repository root)", path);
	assert_int_equal(fseek(fp, 0, SEEK_END), 0);
	n = ftell(fp);
	assert_true(n > 0);
	rewind(fp);
	p = malloc((size_t)n);
	assert_non_null(p);
	assert_int_equal(fread(p, 1, (size_t)n, fp), (size_t)n);
	fclose(fp);
	*len = (size_t)n;
	return p;
}

static void
unhex(unsigned char *out, size_t outlen, const char *h)
{
	size_t n = 0;

	assert_int_equal(sodium_hex2bin(out, outlen, h, strlen(h), NULL, &n, NULL), 0);
	assert_int_equal(n, outlen);
}

/*
 * Opens a vector envelope for alice straight from DESIGN.md's layout, with
 * libsodium alone: just enough to reach the payload, not a second envelope
 * reader (no layout checks beyond what reaching it needs).
 */
static unsigned char *
open_vector(const char *name, size_t *plen)
{
	crypto_secretstream_xchacha20poly1305_state st;
	unsigned char pk[32], sk[32], id[8], key[32], tag = 0, *env, *out;
	unsigned long long mlen;
	char path[256];
	size_t n, nrecip, pre, pos, clen, olen = 0, i;
	bool found = false;

	snprintf(path, sizeof path, "tests/vectors/shared/%s.env", name);
	env = read_whole(path, &n);
	unhex(pk, sizeof pk, alice_box_pk);
	unhex(sk, sizeof sk, alice_box_sk);
	unhex(id, sizeof id, alice_key_id);
	assert_true(n > 9);
	assert_memory_equal(env, "sealtip\x01", 8);
	nrecip = env[8];
	pre = 9 + 88 * nrecip + 24;
	assert_true(n >= pre);
	for (i = 0; i < nrecip && !found; i++) {
		if (memcmp(env + 9 + 88 * i, id, 8) == 0) {
			assert_int_equal(crypto_box_seal_open(key, env + 9 + 88 * i + 8, 80, pk, sk), 0);
			found = true;
		}
	}
	assert_true(found);
	assert_int_equal(crypto_secretstream_xchacha20poly1305_init_pull(&st, env + pre - 24,
	    key), 0);
	out = malloc(n);
	assert_non_null(out);
	for (pos = pre; tag != crypto_secretstream_xchacha20poly1305_TAG_FINAL;) {
		assert_true(pos < n);
		clen = n - pos < 65536 + 17 ? n - pos : 65536 + 17;
		assert_int_equal(crypto_secretstream_xchacha20poly1305_pull(&st, out + olen, &mlen,
		    &tag, env + pos, clen, pos == pre ? env : NULL, pos == pre ? pre : 0), 0);
		olen += (size_t)mlen;
		pos += clen;
	}
	assert_int_equal(pos, n);
	sodium_memzero(key, sizeof key);
	sodium_memzero(sk, sizeof sk);
	free(env);
	*plen = olen;
	return out;
}

static void
test_payload_shared_vectors_open(void **state)
{
	static const char *const names[] = {
		"basic", "two-recipients", "chunk-boundary", "hostile-names",
	};
	static const enum split splits[] = { SPLIT_WHOLE, SPLIT_BYTES, SPLIT_RANDOM };
	struct manifest *m;
	char path[256];
	unsigned char *p;
	json_t *v;
	struct rec r;
	struct fed fed;
	uint64_t u, pad;
	size_t len, i, j, k;

	(void)state;
	for (i = 0; i < sizeof names / sizeof names[0]; i++) {
		snprintf(path, sizeof path, "tests/vectors/shared/%s.json", names[i]);
		v = json_load_file(path, JSON_ALLOW_NUL, NULL);
		assert_non_null(v);
		p = open_vector(names[i], &len);
		assert_int_equal(len, json_integer_value(json_object_get(v, "payload_len")));
		for (j = 0; j < sizeof splits / sizeof splits[0]; j++) {
			memset(&r, 0, sizeof r);
			fed = feed(p, len, splits[j], i + j + 1, &r);
			if (fed.status != ST_OK)
				fail_msg("%s: %s", names[i], status_message(fed.status));
			/* The raw bytes parse to the vector's manifest. */
			assert_int_equal(manifest_parse(r.manifest.p, r.manifest.len, &m), ST_OK);
			assert_true(json_equal(m->root, json_object_get(v, "manifest")));
			assert_int_equal(payload_lengths(r.manifest.len, m->files_total, &u, &pad),
			    ST_OK);
			assert_int_equal(u, json_integer_value(json_object_get(v, "unpadded_len")));
			assert_int_equal(pad, len);
			assert_memory_equal(p + 4, r.manifest.p, r.manifest.len);
			assert_int_equal(r.nfiles, m->nfiles);
			assert_int_equal(r.ends, m->nfiles);
			for (k = 0; k < m->nfiles; k++) {
				assert_int_equal(r.sha_ok[k], 1);
				assert_int_equal(r.data[k].len, m->files[k].size);
			}
			manifest_free(m);
			rec_free(&r);
		}
		free(p);
		json_decref(v);
	}
}

/* The negative vectors whose fault is in the payload (the envelope opens). */
static void
test_payload_shared_vectors_refused(void **state)
{
	static const struct {
		const char *name;
		int want;
	} c[] = {
		{ "bad-bad-padding", ST_ERR_PADDING },
		{ "bad-sizes-exceed-payload", ST_ERR_SIZES },
		{ "bad-manifest-len-too-big", ST_ERR_MANIFEST_LEN },
		{ "bad-manifest-bad-utf8", ST_ERR_MANIFEST_JSON },
		{ "bad-manifest-duplicate-key", ST_ERR_MANIFEST_JSON },
		{ "bad-manifest-not-json", ST_ERR_MANIFEST_JSON },
		{ "bad-not-padme-length", ST_ERR_NOT_PADME },
	};
	unsigned char *p;
	struct rec r;
	struct fed fed;
	size_t len, i;
	int split;

	(void)state;
	for (i = 0; i < sizeof c / sizeof c[0]; i++) {
		p = open_vector(c[i].name, &len);
		for (split = SPLIT_WHOLE; split <= SPLIT_RANDOM; split++) {
			memset(&r, 0, sizeof r);
			fed = feed(p, len, (enum split)split, i + 1, &r);
			if (fed.status != c[i].want)
				fail_msg("%s: got %s, want %s", c[i].name,
				    status_message(fed.status), status_message(c[i].want));
			rec_free(&r);
		}
		free(p);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_payload_round_trip_no_files),
		cmocka_unit_test(test_payload_round_trip_one_file),
		cmocka_unit_test(test_payload_round_trip_several),
		cmocka_unit_test(test_payload_wrong_sha256),
		cmocka_unit_test(test_payload_no_padding_empty_last_file),
		cmocka_unit_test(test_payload_bad_padding),
		cmocka_unit_test(test_payload_not_padme),
		cmocka_unit_test(test_payload_missing_file_bytes),
		cmocka_unit_test(test_payload_truncated),
		cmocka_unit_test(test_payload_manifest_len),
		cmocka_unit_test(test_payload_manifest_errors),
		cmocka_unit_test(test_payload_callback_failure),
		cmocka_unit_test(test_payload_null_callbacks),
		cmocka_unit_test(test_payload_state_and_arguments),
		cmocka_unit_test(test_payload_writers),
		cmocka_unit_test(test_payload_lengths),
		cmocka_unit_test(test_payload_shared_vectors_open),
		cmocka_unit_test(test_payload_shared_vectors_refused),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
