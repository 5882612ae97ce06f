/* An export file produced on demand from a database snapshot, read in pieces
 * like a file: `sealtip export` writes it to disk, the export endpoint sends
 * it as an HTTP body. The file carries the newest signed checkpoint of the
 * snapshot and the tree nodes a reader needs to check the entries against
 * it (docs/export.md). Memory is bounded by one 64 KiB piece whatever the
 * size. */
#ifndef SEALTIP_EXPORT_STREAM_H
#define SEALTIP_EXPORT_STREAM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "store.h"

struct export_stream;

/* Takes a snapshot of s (which must stay open until export_stream_free) and
 * starts the file of every report with first_index <= index < the size of the
 * newest checkpoint in it. With since_size > 0 (the size of a checkpoint the
 * reader already holds) the file also carries the consistency proof from
 * since_size to that checkpoint, when since_size is not beyond it. Returns 0,
 * or -1 with the reason in err. */
int export_stream_open(struct export_stream **out, struct store *s, uint64_t first_index,
    uint64_t since_size, char *err, size_t errlen);

/* Exact length of the whole file, known before the first byte. */
uint64_t export_stream_length(const struct export_stream *es);

/* Entries in the file, the signed tree size they end at, and the rows the
 * snapshot holds (more than tree_size only for rows no checkpoint covers). */
void export_stream_counts(
    const struct export_stream *es, uint64_t *count, uint64_t *tree_size, uint64_t *rows);

/* Copies up to max next bytes into buf: how many, 0 at the end, -1 on error
 * (a row that fails its leaf hash or cannot be read, or entries that do not
 * give the checkpoint's root). */
ssize_t export_stream_read(struct export_stream *es, unsigned char *buf, size_t max);

/* One line saying why export_stream_read failed ("entry 7: …"). */
const char *export_stream_error(const struct export_stream *es);

/* Ends the snapshot and frees; NULL is fine. */
void export_stream_free(struct export_stream *es);

#endif
