/* An export file produced on demand from a database snapshot, read in pieces
 * like a file: `sealtip export` writes it to disk, the export endpoint sends
 * it as an HTTP body. Memory is bounded by one 64 KiB piece whatever the size. */
#ifndef SEALTIP_EXPORT_STREAM_H
#define SEALTIP_EXPORT_STREAM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "store.h"

struct export_stream;

/* Takes a snapshot of s (which must stay open until export_stream_free) for
 * every report with index >= first_index, and starts the file. Returns 0 or -1. */
int export_stream_open(struct export_stream **out, struct store *s, uint64_t first_index);

/* Exact length of the whole file, known before the first byte. */
uint64_t export_stream_length(const struct export_stream *es);

/* Entries in the file and rows in the snapshot. */
void export_stream_counts(const struct export_stream *es, uint64_t *count, uint64_t *tree_size);

/* Copies up to max next bytes into buf: how many, 0 at the end, -1 on error
 * (a row that fails its leaf hash or cannot be read). */
ssize_t export_stream_read(struct export_stream *es, unsigned char *buf, size_t max);

/* Ends the snapshot and frees; NULL is fine. */
void export_stream_free(struct export_stream *es);

#endif
