/* The payload manifest (design, "Payload"): strict UTF-8 JSON parsed with
 * jansson (duplicate keys refused), then checked against the v1 schema. */
#ifndef SEALTIP_MANIFEST_H
#define SEALTIP_MANIFEST_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define MANIFEST_MAX_BYTES (1024u * 1024u)
#define MANIFEST_MAX_FILES 1000
#define MANIFEST_MAX_FIELDS 256
#define MANIFEST_MAX_VALUES 256
/* JSON numbers beyond 2^53 do not round-trip through JavaScript. */
#define MANIFEST_MAX_FILE_SIZE ((uint64_t)1 << 53)

struct manifest_file {
	const char *name;   /* may hold NUL bytes: use name_len */
	size_t name_len;
	const char *type;   /* as sent: never trusted for anything but display */
	size_t type_len;
	uint64_t size;
	unsigned char sha256[32];
};

struct manifest {
	json_t *root;       /* owns every string below */
	const char *form;
	const char *lang;
	json_t *fields;     /* object: field id -> string or array of strings */
	size_t nfiles;
	struct manifest_file *files;
	uint64_t files_total; /* sum of sizes, checked against overflow */
};

/* Parses and validates: "v" is integer 1; "form" and "lang" strings; "fields"
 * an object of strings or arrays of strings; "files" an array of objects with
 * string "name" and "type", integer "size" in 0..2^53 and 64 lowercase hex
 * "sha256". Unknown keys are kept and allowed. */
int manifest_parse(const unsigned char *buf, size_t len, struct manifest **out);

void manifest_free(struct manifest *m);

/* Serialises a manifest object compactly in key insertion order, UTF-8 kept
 * as is. Returns a malloc'd string (free with free) or NULL. */
char *manifest_dump(const json_t *root, size_t *len);

#endif
