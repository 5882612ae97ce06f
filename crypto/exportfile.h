/* Export file v1 (docs/export.md): what `sealtip export` and the export
 * endpoint write and `sealtip open` reads. A header, one record per stored
 * report (index, day, size, leaf hash, envelope bytes), and an end record
 * carrying the count and a SHA-256 of every byte before it. Both directions
 * stream over callbacks with constant memory; no file I/O here. */
#ifndef SEALTIP_EXPORTFILE_H
#define SEALTIP_EXPORTFILE_H

#include <stddef.h>
#include <stdint.h>

#include "envelope.h"

#define EXPORTFILE_MAGIC "sealtipE"
#define EXPORTFILE_MAGIC_BYTES 8
#define EXPORTFILE_VERSION 1
/* magic || version u8 || first_index u64 */
#define EXPORTFILE_HEADER_BYTES (EXPORTFILE_MAGIC_BYTES + 1 + 8)
#define EXPORTFILE_TYPE_ENTRY 0x01
#define EXPORTFILE_TYPE_END 0xff
#define EXPORTFILE_DAY_BYTES 10
#define EXPORTFILE_HASH_BYTES 32
/* type || index u64 || day[10] || size u64 || leaf_hash[32], then size bytes */
#define EXPORTFILE_ENTRY_HEADER_BYTES (1 + 8 + EXPORTFILE_DAY_BYTES + 8 + EXPORTFILE_HASH_BYTES)
/* type || count u64 || tree_size u64 || sha256 of every byte before it */
#define EXPORTFILE_END_BYTES (1 + 8 + 8 + EXPORTFILE_HASH_BYTES)
/* sqlite's largest blob: no stored envelope can be longer. */
#define EXPORTFILE_MAX_ENTRY_BYTES 1000000000u

/* One stored report as the file describes it. */
struct exportfile_entry {
	uint64_t index;
	char day[EXPORTFILE_DAY_BYTES + 1]; /* "YYYY-MM-DD", NUL-terminated */
	uint64_t size;
	unsigned char leaf_hash[EXPORTFILE_HASH_BYTES]; /* SHA-256(0x00 || envelope) */
};

/* What the end record and the header say, once the reader accepted them. */
struct exportfile_summary {
	uint64_t first_index; /* index of the first entry (the --after value + 1, or 0) */
	uint64_t count;	      /* entries in the file */
	uint64_t tree_size;   /* reports the database held when the snapshot was taken */
};

/* Bytes of a whole export file with count entries totalling payload bytes:
 * lets the server send a Content-Length before it streams. */
uint64_t exportfile_length(uint64_t count, uint64_t payload);

/* True when buf starts like an export file (magic only): lets a tool tell an
 * export file from a single envelope. */
int exportfile_sniff(const unsigned char *buf, size_t len);

struct exportfile_writer;

/* Starts a file whose first entry will carry first_index and writes its
 * header through write. */
int exportfile_writer_new(
    struct exportfile_writer **out, uint64_t first_index, envelope_write_fn write, void *ctx);

/* Starts the next entry; e->index must be first_index + entries so far, e->day
 * "YYYY-MM-DD", e->size at most EXPORTFILE_MAX_ENTRY_BYTES. */
int exportfile_writer_entry_begin(struct exportfile_writer *w, const struct exportfile_entry *e);

/* Envelope bytes of the current entry, in any split. */
int exportfile_writer_entry_data(struct exportfile_writer *w, const unsigned char *buf, size_t len);

/* Ends the entry: ST_ERR_TRUNCATED / ST_ERR_TRAILING when the bytes did not add
 * up to e->size, ST_ERR_CHUNK_AUTH when they do not hash to e->leaf_hash (so a
 * damaged database row is never exported as if it were good). */
int exportfile_writer_entry_end(struct exportfile_writer *w);

/* Writes the end record; tree_size is the number of reports in the snapshot. */
int exportfile_writer_finish(struct exportfile_writer *w, uint64_t tree_size);

/* Frees; NULL is fine. */
void exportfile_writer_free(struct exportfile_writer *w);

/* Where the reader sends what it parses. Each callback returns 0, or
 * non-zero to stop (the reader then returns ST_ERR_CALLBACK). NULL callbacks
 * are skipped. */
struct exportfile_sink {
	/* The entry's header, before any of its bytes. */
	int (*entry_begin)(void *ctx, const struct exportfile_entry *e);
	/* Envelope bytes as they stream; not yet checked against the leaf hash. */
	int (*entry_data)(void *ctx, const unsigned char *buf, size_t len);
	/* All size bytes arrived and hash to leaf_hash. */
	int (*entry_end)(void *ctx, const struct exportfile_entry *e);
	void *ctx;
};

struct exportfile_reader;

int exportfile_reader_new(struct exportfile_reader **out, const struct exportfile_sink *sink);

/* Feeds file bytes in any split. Errors are sticky; exportfile_reader_error
 * then says what was wrong and where. */
int exportfile_reader_update(struct exportfile_reader *r, const unsigned char *buf, size_t len);

/* Checks the end record arrived, its count and digest match, and nothing
 * follows it; fills *out when it is not NULL. */
int exportfile_reader_final(struct exportfile_reader *r, struct exportfile_summary *out);

/* One line naming the first problem ("entry 5: leaf hash does not match its
 * envelope"), or "ok". */
const char *exportfile_reader_error(const struct exportfile_reader *r);

/* Frees; NULL is fine. */
void exportfile_reader_free(struct exportfile_reader *r);

#endif
