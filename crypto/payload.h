/* The payload inside an envelope: u32 manifest_len || manifest || file bytes
 * in manifest order || zero padding to the Padmé length. */
#ifndef SEALTIP_PAYLOAD_H
#define SEALTIP_PAYLOAD_H

#include <stddef.h>
#include <stdint.h>

#include "envelope.h"
#include "manifest.h"

/* Unpadded and padded payload lengths for a manifest and file sizes. */
int payload_lengths(size_t manifest_len, uint64_t files_total, uint64_t *unpadded,
    uint64_t *padded);

/* Writes the length prefix and manifest, once manifest_parse accepts it (its
 * status otherwise, nothing written): never what no reader would open. */
int payload_write_manifest(envelope_write_fn write, void *ctx, const char *manifest,
    size_t manifest_len);

/* Writes count zero bytes. */
int payload_write_padding(envelope_write_fn write, void *ctx, uint64_t count);

/* What the reader hands on as the payload streams past. Every callback
 * returns 0 or non-zero to stop; any may be NULL. Callbacks fire as bytes
 * arrive: nothing is final before payload_reader_finish succeeds. */
struct payload_sink {
	/* The raw manifest bytes exactly as received, and their parse; both
	 * are valid only during the call (copy what you keep). */
	int (*manifest)(void *ctx, const struct manifest *m, const unsigned char *raw, size_t raw_len);
	int (*file_begin)(void *ctx, size_t index, const struct manifest_file *f);
	int (*file_data)(void *ctx, const unsigned char *buf, size_t len);
	/* sha256_ok is 1 when the bytes hash to the manifest's sha256, else 0. */
	int (*file_end)(void *ctx, size_t index, int sha256_ok);
	void *ctx;
};

struct payload_reader;

/* Needs sodium_init() to have run. */
int payload_reader_new(struct payload_reader **out, const struct payload_sink *sink);

/* envelope_write_fn-shaped: feed the plaintext as it comes. Errors are sticky. */
int payload_reader_write(void *reader, const unsigned char *buf, size_t len);

/* Checks every file arrived (ST_ERR_SIZES if not), the padding was zeros
 * (checked as it streams: ST_ERR_PADDING) and the total is padme(unpadded). */
int payload_reader_finish(struct payload_reader *r);

/* The sticky error so far (ST_OK if none): lets a caller that fed the reader
 * through another layer (the envelope reader reports ST_ERR_CALLBACK) name
 * the real reason. */
int payload_reader_status(const struct payload_reader *r);

/* Wipes buffered manifest bytes and frees; NULL is fine. */
void payload_reader_free(struct payload_reader *r);

#endif
