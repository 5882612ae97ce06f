/*
 * The payload manifest: what a reporter says about the report and its files.
 * The reporter may be the attacker here, so everything is checked against
 * the v1 schema before anyone reads a field, and the parse itself is left to
 * jansson, which refuses invalid UTF-8, lone surrogates, NUL in keys and
 * nesting deeper than 2048 before we see the tree.
 */
#include <jansson.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "manifest.h"
#include "status.h"

/*
 * Duplicate keys would let two readers of the same manifest see different
 * values. NUL inside strings is allowed because a file name may hold one
 * (names are exposed with their length). DECODE_ANY only lets a valid JSON
 * scalar through so that it is reported as the wrong shape, not as "not JSON".
 */
#define MANIFEST_JSON_FLAGS (JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL | JSON_DECODE_ANY)

/* The limits make the sum of sizes fit 64 bits; the check stays anyway. */
_Static_assert(MANIFEST_MAX_FILE_SIZE <= UINT64_MAX / MANIFEST_MAX_FILES,
    "MANIFEST_MAX_FILES * MANIFEST_MAX_FILE_SIZE must fit in 64 bits");

/* A string readers may treat as a C string: one with a NUL could show them
 * a prefix of what was sent. */
static bool
manifest_is_c_string(const json_t *v)
{
	return json_is_string(v) &&
	    memchr(json_string_value(v), '\0', json_string_length(v)) == NULL;
}

static int
manifest_check_version(const json_t *root)
{
	const json_t *v;

	if ((v = json_object_get(root, "v")) == NULL)
		return ST_ERR_MANIFEST_SCHEMA;
	/* 1.0 and "1" are refused too: jansson keeps integers and reals apart. */
	if (!json_is_integer(v) || json_integer_value(v) != 1)
		return ST_ERR_VERSION;
	return ST_OK;
}

/* Every value a string or an array of strings: this also caps the nesting
 * any reader of the fields has to walk at two. */
static int
manifest_check_fields(json_t *fields)
{
	const char *key;
	json_t *value, *item;
	size_t i;

	if (!json_is_object(fields) || json_object_size(fields) > MANIFEST_MAX_FIELDS)
		return ST_ERR_MANIFEST_SCHEMA;
	json_object_foreach(fields, key, value) {
		if (json_is_string(value))
			continue;
		if (!json_is_array(value) || json_array_size(value) > MANIFEST_MAX_VALUES)
			return ST_ERR_MANIFEST_SCHEMA;
		json_array_foreach(value, i, item) {
			if (!json_is_string(item))
				return ST_ERR_MANIFEST_SCHEMA;
		}
	}
	return ST_OK;
}

static int
manifest_hex_nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	/* Lowercase only: one spelling per hash keeps manifests canonical. */
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static int
manifest_read_sha256(const json_t *v, unsigned char out[32])
{
	const char *hex;
	size_t i;
	int hi, lo;

	if (!json_is_string(v) || json_string_length(v) != 64)
		return ST_ERR_MANIFEST_SCHEMA;
	hex = json_string_value(v);
	for (i = 0; i < 32; i++) {
		hi = manifest_hex_nibble(hex[2 * i]);
		lo = manifest_hex_nibble(hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return ST_ERR_MANIFEST_SCHEMA;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return ST_OK;
}

static int
manifest_read_file(const json_t *obj, struct manifest_file *f)
{
	const json_t *name, *type, *size;
	json_int_t n;

	if (!json_is_object(obj))
		return ST_ERR_MANIFEST_SCHEMA;
	name = json_object_get(obj, "name");
	type = json_object_get(obj, "type");
	size = json_object_get(obj, "size");
	if (!json_is_string(name) || !json_is_string(type) || !json_is_integer(size))
		return ST_ERR_MANIFEST_SCHEMA;
	n = json_integer_value(size);
	if (n < 0 || (uint64_t)n > MANIFEST_MAX_FILE_SIZE)
		return ST_ERR_MANIFEST_SCHEMA;
	if (manifest_read_sha256(json_object_get(obj, "sha256"), f->sha256) != ST_OK)
		return ST_ERR_MANIFEST_SCHEMA;
	f->name = json_string_value(name);
	f->name_len = json_string_length(name);
	f->type = json_string_value(type);
	f->type_len = json_string_length(type);
	f->size = (uint64_t)n;
	return ST_OK;
}

static int
manifest_read_files(struct manifest *m, const json_t *files)
{
	size_t i, n;
	int ret;

	if (!json_is_array(files) || (n = json_array_size(files)) > MANIFEST_MAX_FILES)
		return ST_ERR_MANIFEST_SCHEMA;
	/* One spare element so that an empty list is not a zero-byte calloc. */
	if ((m->files = calloc(n + 1, sizeof *m->files)) == NULL)
		return ST_ERR_NOMEM;
	/* Set now so that manifest_free wipes the whole array on any failure. */
	m->nfiles = n;
	for (i = 0; i < n; i++) {
		if ((ret = manifest_read_file(json_array_get(files, i), &m->files[i])) != ST_OK)
			return ret;
		if (m->files[i].size > UINT64_MAX - m->files_total)
			return ST_ERR_TOO_LARGE;
		m->files_total += m->files[i].size;
	}
	return ST_OK;
}

int
manifest_parse(const unsigned char *buf, size_t len, struct manifest **out)
{
	struct manifest *m = NULL;
	json_error_t jerr;
	const json_t *form, *lang;
	int ret;

	if (out == NULL || (buf == NULL && len > 0))
		return ST_ERR_ARGUMENT;
	*out = NULL;
	if (len > MANIFEST_MAX_BYTES)
		return ST_ERR_MANIFEST_LEN;
	if (len == 0)
		return ST_ERR_MANIFEST_JSON;
	if ((m = calloc(1, sizeof *m)) == NULL)
		return ST_ERR_NOMEM;
	m->root = json_loadb((const char *)buf, len, MANIFEST_JSON_FLAGS, &jerr);
	if (m->root == NULL) {
		ret = json_error_code(&jerr) == json_error_out_of_memory ?
		    ST_ERR_NOMEM : ST_ERR_MANIFEST_JSON;
		goto out;
	}
	if (!json_is_object(m->root)) {
		ret = ST_ERR_MANIFEST_SCHEMA;
		goto out;
	}
	/* The version first: another version may have another shape. */
	if ((ret = manifest_check_version(m->root)) != ST_OK)
		goto out;
	form = json_object_get(m->root, "form");
	lang = json_object_get(m->root, "lang");
	/* Exposed without a length, so they must not hold NUL. */
	if (!manifest_is_c_string(form) || !manifest_is_c_string(lang)) {
		ret = ST_ERR_MANIFEST_SCHEMA;
		goto out;
	}
	m->form = json_string_value(form);
	m->lang = json_string_value(lang);
	m->fields = json_object_get(m->root, "fields");
	if ((ret = manifest_check_fields(m->fields)) != ST_OK)
		goto out;
	if ((ret = manifest_read_files(m, json_object_get(m->root, "files"))) != ST_OK)
		goto out;
	*out = m;
	m = NULL;
	ret = ST_OK;
out:
	/* jansson quotes the text near an error ("near '...'"): a piece of
	 * the report, on the stack. */
	sodium_memzero(&jerr, sizeof jerr);
	manifest_free(m);
	return ret;
}

void
manifest_free(struct manifest *m)
{
	if (m == NULL)
		return;
	/* Sizes and hashes describe a report: no reason to leave them behind. */
	if (m->files != NULL) {
		sodium_memzero(m->files, (m->nfiles + 1) * sizeof *m->files);
		free(m->files);
	}
	json_decref(m->root);
	sodium_memzero(m, sizeof *m);
	free(m);
}

char *
manifest_dump(const json_t *root, size_t *len)
{
	const size_t flags = JSON_COMPACT;
	char *s;
	size_t n;

	if (len != NULL)
		*len = 0;
	if (root == NULL)
		return NULL;
	/*
	 * Measured first, then dumped into our own malloc: json_dumps would use
	 * jansson's allocator, which a program may have replaced, and the
	 * contract is "free with free".
	 */
	if ((n = json_dumpb(root, NULL, 0, flags)) == 0 || n == SIZE_MAX)
		return NULL;
	if ((s = malloc(n + 1)) == NULL)
		return NULL;
	if (json_dumpb(root, s, n, flags) != n) {
		free(s);
		return NULL;
	}
	s[n] = '\0';
	if (len != NULL)
		*len = n;
	return s;
}
