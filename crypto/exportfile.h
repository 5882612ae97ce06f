/* Export file v2 (docs/export.md): what `sealtip export` and the export
 * endpoint write and `sealtip open` and `sealtip audit` read. A header that
 * carries the log's signed checkpoint and the left frontier of the tree
 * below the first entry, one record per stored report (index, day, size,
 * leaf hash, envelope bytes), and an end record carrying the count and a
 * SHA-256 of every byte before it. The reader recomputes the checkpoint's
 * root from the frontier and the recomputed leaf hashes, so a file is
 * accepted only when every entry in it is the entry the log signed. Both
 * directions stream over callbacks with constant memory; no file I/O here. */
#ifndef SEALTIP_EXPORTFILE_H
#define SEALTIP_EXPORTFILE_H

#include <stddef.h>
#include <stdint.h>

#include "envelope.h"
#include "note.h"
#include "tlog.h"

#define EXPORTFILE_MAGIC "sealtipE"
#define EXPORTFILE_MAGIC_BYTES 8
#define EXPORTFILE_VERSION 2
/* magic || version u8 || first_index u64 || tree_size u64 || key_len u16 ||
 * note_len u16 || proof_size u64 || proof_count u8 */
#define EXPORTFILE_HEADER_BYTES (EXPORTFILE_MAGIC_BYTES + 1 + 8 + 8 + 2 + 2 + 8 + 1)
#define EXPORTFILE_TYPE_ENTRY 0x01
#define EXPORTFILE_TYPE_END 0xff
#define EXPORTFILE_DAY_BYTES 10
#define EXPORTFILE_HASH_BYTES 32
/* A checkpoint note in the header; the server's own are under 700 bytes,
 * the rest leaves room for cosignatures. */
#define EXPORTFILE_MAX_NOTE_BYTES 4096
/* type || index u64 || day[10] || size u64 || leaf_hash[32], then size bytes */
#define EXPORTFILE_ENTRY_HEADER_BYTES (1 + 8 + EXPORTFILE_DAY_BYTES + 8 + EXPORTFILE_HASH_BYTES)
/* type || count u64 || sha256 of every byte before it */
#define EXPORTFILE_END_BYTES (1 + 8 + EXPORTFILE_HASH_BYTES)
/* sqlite's largest blob: no stored envelope can be longer. */
#define EXPORTFILE_MAX_ENTRY_BYTES 1000000000u

/* What the header carries about the log. The entries of the file are
 * exactly [first_index, tree_size) (none when first_index >= tree_size). */
struct exportfile_log {
	uint64_t first_index;
	uint64_t tree_size; /* the checkpoint's size; 0 with no checkpoint */
	/* The log's verifier key as the server names it, "" when it has none
	 * (only with an empty tree). Unauthenticated: a reader compares it with
	 * the key it trusts. */
	char verifier_key[NOTE_VERIFIER_KEY_MAX];
	/* The signed checkpoint note, NUL-terminated; note_len 0 only when
	 * tree_size is 0 (an empty tree needs no signature). */
	char note[EXPORTFILE_MAX_NOTE_BYTES + 1];
	size_t note_len;
	/* Roots of the complete subtrees covering leaves [0, min(first_index,
	 * tree_size)), largest (leftmost) first: one per bit set in that size. */
	size_t frontier_len;
	unsigned char frontier[TLOG_MAX_LEVELS][EXPORTFILE_HASH_BYTES];
	/* RFC 9162 consistency proof from proof_size to tree_size, when the
	 * reader asked for one (proof_size 0: none). */
	uint64_t proof_size;
	size_t proof_len;
	unsigned char proof[TLOG_MAX_PROOF][EXPORTFILE_HASH_BYTES];
	/* Filled by the reader once the header checked out. */
	struct note_verifier verifier;
	struct note_checkpoint checkpoint;
};

/* One stored report as the file describes it. */
struct exportfile_entry {
	uint64_t index;
	char day[EXPORTFILE_DAY_BYTES + 1]; /* "YYYY-MM-DD", NUL-terminated */
	uint64_t size;
	unsigned char leaf_hash[EXPORTFILE_HASH_BYTES]; /* SHA-256(0x00 || envelope) */
};

/* What the header and end record say, once the reader accepted them. */
struct exportfile_summary {
	uint64_t first_index; /* index of the first entry (the --after value + 1, or 0) */
	uint64_t count;	      /* entries in the file */
	uint64_t tree_size;   /* the signed checkpoint's size */
	/* The tree's root at the size given to exportfile_reader_watch, when the
	 * file let the reader compute it. */
	int watched;
	unsigned char watched_root[EXPORTFILE_HASH_BYTES];
};

/* Bytes of a whole export file with this header and count entries totalling
 * payload bytes: lets the server send a Content-Length before it streams. */
uint64_t exportfile_length(const struct exportfile_log *log, uint64_t count, uint64_t payload);

/* 1 when day[0..len) is "YYYY-MM-DD" and a real day of the Gregorian
 * calendar from 1970-01-01 on: what sealtipd stores (the UTC day of its
 * clock). The one check of a day, for export files and for the database
 * audit alike. No signature covers a day: this says it is a date, not that
 * it is the day the report came. */
int exportfile_day_valid(const char *day, size_t len);

/* True when buf starts like an export file (magic only): lets a tool tell an
 * export file from a single envelope. */
int exportfile_sniff(const unsigned char *buf, size_t len);

struct exportfile_writer;

/* Starts a file for log (first_index, tree_size, verifier_key, note,
 * frontier, proof; the reader-filled fields are ignored) and writes its
 * header through write. Refuses (ST_ERR_ARGUMENT) a note that does not
 * verify with verifier_key or signs another size, and a frontier or proof
 * of the wrong length. */
int exportfile_writer_new(struct exportfile_writer **out, const struct exportfile_log *log,
    envelope_write_fn write, void *ctx);

/* Starts the next entry; e->index must be first_index + entries so far and
 * below tree_size, e->day a day exportfile_day_valid accepts, e->size at most
 * EXPORTFILE_MAX_ENTRY_BYTES. */
int exportfile_writer_entry_begin(struct exportfile_writer *w, const struct exportfile_entry *e);

/* Envelope bytes of the current entry, in any split. */
int exportfile_writer_entry_data(struct exportfile_writer *w, const unsigned char *buf, size_t len);

/* Ends the entry: ST_ERR_TRUNCATED / ST_ERR_TRAILING when the bytes did not add
 * up to e->size, ST_ERR_CHUNK_AUTH when they do not hash to e->leaf_hash (so a
 * damaged database row is never exported as if it were good). */
int exportfile_writer_entry_end(struct exportfile_writer *w);

/* Writes the end record once every entry up to tree_size was written and the
 * frontier and entries give the checkpoint's root (ST_ERR_CHUNK_AUTH when
 * not: the database does not hold the tree it signed). */
int exportfile_writer_finish(struct exportfile_writer *w);

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
	/* All size bytes arrived and hash to leaf_hash; whether the entry is
	 * the one the log signed is known only at exportfile_reader_final. */
	int (*entry_end)(void *ctx, const struct exportfile_entry *e);
	void *ctx;
	/* The header checked out (its checkpoint verifies with the key the file
	 * names): the caller compares that key with the one it trusts. Called
	 * before any entry. */
	int (*header)(void *ctx, const struct exportfile_log *log);
};

struct exportfile_reader;

int exportfile_reader_new(struct exportfile_reader **out, const struct exportfile_sink *sink);

/* Asks for the root of the tree at size (before the first byte): reported in
 * the summary when first_index <= size <= tree_size and the file reaches it. */
void exportfile_reader_watch(struct exportfile_reader *r, uint64_t size);

/* Feeds file bytes in any split. Errors are sticky; exportfile_reader_error
 * then says what was wrong and where. */
int exportfile_reader_update(struct exportfile_reader *r, const unsigned char *buf, size_t len);

/* Checks the end record arrived, its count and digest match, the root of
 * frontier + entries is the checkpoint's, and nothing follows it; fills *out
 * when it is not NULL. */
int exportfile_reader_final(struct exportfile_reader *r, struct exportfile_summary *out);

/* The header as parsed (valid after the sink's header callback). */
const struct exportfile_log *exportfile_reader_log(const struct exportfile_reader *r);

/* One line naming the first problem ("entry 5: leaf hash does not match its
 * envelope"), or "ok". */
const char *exportfile_reader_error(const struct exportfile_reader *r);

/* Frees; NULL is fine. */
void exportfile_reader_free(struct exportfile_reader *r);

/* The frontier of a tree of base leaves as the file orders it (largest
 * subtree first) from t's right edge, into log->frontier. */
void exportfile_frontier_from_tree(struct exportfile_log *log, const struct tlog_tree *t);

#endif
