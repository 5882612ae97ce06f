/* Report envelope v1 (design, "Report envelope"): a preamble of magic,
 * recipient count and one sealed file key per recipient, then a secretstream
 * of 65536-byte plaintext chunks, the last one tagged FINAL. Both directions
 * stream with constant memory whatever the payload size. */
#ifndef SEALTIP_ENVELOPE_H
#define SEALTIP_ENVELOPE_H

#include <stddef.h>
#include <stdint.h>

#define ENVELOPE_MAGIC "sealtip\x01"
#define ENVELOPE_MAGIC_BYTES 8
#define ENVELOPE_VERSION 1
#define ENVELOPE_MIN_RECIPIENTS 1
#define ENVELOPE_MAX_RECIPIENTS 16
#define ENVELOPE_KEY_ID_BYTES 8
#define ENVELOPE_RECIPIENT_BYTES 88
#define ENVELOPE_HEADER_BYTES 24
#define ENVELOPE_CHUNK_BYTES 65536
#define ENVELOPE_CHUNK_OVERHEAD 17
#define ENVELOPE_SEALED_CHUNK_BYTES (ENVELOPE_CHUNK_BYTES + ENVELOPE_CHUNK_OVERHEAD)
#define ENVELOPE_PREAMBLE_BYTES(nrecip) \
	(ENVELOPE_MAGIC_BYTES + 1 + ENVELOPE_RECIPIENT_BYTES * (size_t)(nrecip) + ENVELOPE_HEADER_BYTES)
#define ENVELOPE_MAX_PREAMBLE_BYTES ENVELOPE_PREAMBLE_BYTES(ENVELOPE_MAX_RECIPIENTS)

/* Where a streaming writer or reader sends its bytes; returns 0 or non-zero to
 * stop (the caller then sees ST_ERR_CALLBACK). */
typedef int (*envelope_write_fn)(void *ctx, const unsigned char *buf, size_t len);

/* What the preamble says, readable without any key. */
struct envelope_preamble {
	unsigned nrecip;
	size_t length; /* bytes of the preamble, magic through header */
	unsigned char key_ids[ENVELOPE_MAX_RECIPIENTS][ENVELOPE_KEY_ID_BYTES];
};

/* Parses the preamble from the first len bytes of an envelope. Returns
 * ST_ERR_TRUNCATED when len is too short to hold it (feed more and retry),
 * ST_ERR_MAGIC / ST_ERR_VERSION / ST_ERR_NRECIP when it cannot be one. */
int envelope_preamble_parse(const unsigned char *buf, size_t len, struct envelope_preamble *out);

/* From the total envelope length and recipient count alone, the payload
 * length the canonical chunk layout implies; ST_ERR_LAYOUT when no canonical
 * layout has that length, ST_ERR_NRECIP for a count outside 1..16. Lets the
 * server refuse bodies without a key. */
int envelope_payload_length(uint64_t envelope_len, unsigned nrecip, uint64_t *payload_len);

/* The envelope length for a payload length and recipient count; 0 when
 * nrecip is out of range or the length would not fit in 64 bits. */
uint64_t envelope_length(uint64_t payload_len, unsigned nrecip);

struct envelope_seal;

/* Starts an envelope to nrecip (1..16) X25519 public keys, no key twice
 * (ST_ERR_DUPLICATE_RECIPIENT): draws a fresh file key, writes the preamble
 * through write, and keeps up to one chunk buffered. */
int envelope_seal_new(struct envelope_seal **out, const unsigned char (*box_pks)[32],
    unsigned nrecip, envelope_write_fn write, void *ctx);

/* Adds payload bytes; full chunks are sealed (MESSAGE) and written once more
 * bytes follow them, so the last chunk can still be tagged FINAL. */
int envelope_seal_update(struct envelope_seal *s, const unsigned char *data, size_t len);

/* envelope_write_fn-shaped form of envelope_seal_update (ctx is the seal). */
int envelope_seal_write(void *seal, const unsigned char *data, size_t len);

/* Seals the buffered bytes as the FINAL chunk. No update or final after it. */
int envelope_seal_final(struct envelope_seal *s);

/* Wipes the file key and buffer and frees; NULL is fine. */
void envelope_seal_free(struct envelope_seal *s);

struct envelope_open;

/* Starts reading an envelope for the X25519 key pair (ST_ERR_ARGUMENT when
 * box_pk is not box_sk's); plaintext chunks go to write as soon as each is
 * authenticated (the caller must not treat them as final before
 * envelope_open_final succeeds). */
int envelope_open_new(struct envelope_open **out, const unsigned char box_pk[32],
    const unsigned char box_sk[32], envelope_write_fn write, void *ctx);

/* Where chunks are decrypted to, when not the reader's own buffer: returns
 * room for ENVELOPE_CHUNK_BYTES bytes, or NULL for the reader's buffer. The
 * plaintext still goes to write, at that address: a consumer that queues
 * bytes (src/relay.c) then needs no copy. */
typedef unsigned char *(*envelope_buffer_fn)(void *ctx);

/* Installs a buffer_fn for the chunks still to come; NULL restores the
 * reader's own buffer. */
void envelope_open_set_buffer(struct envelope_open *o, envelope_buffer_fn buffer, void *ctx);

/* Feeds envelope bytes in any split. Errors are sticky: after one, every
 * further call returns the same status. */
int envelope_open_update(struct envelope_open *o, const unsigned char *data, size_t len);

/* Checks the envelope ended exactly after a canonical FINAL chunk and gives
 * the payload length. */
int envelope_open_final(struct envelope_open *o, uint64_t *payload_len);

/* The preamble once parsed (NULL before enough bytes arrived). */
const struct envelope_preamble *envelope_open_preamble(const struct envelope_open *o);

/* Wipes the file key, stream state and buffer and frees; NULL is fine. */
void envelope_open_free(struct envelope_open *o);

#endif
