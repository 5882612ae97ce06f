/* Hands bytes from one thread to a consumer running on its own thread, so
 * decrypting (producer) and hashing + writing (consumer) use both cores.
 * Slots are sodium_malloc memory wiped on free: they carry plaintext. */
#ifndef SEALTIP_RELAY_H
#define SEALTIP_RELAY_H

#include <stddef.h>

/* The consumer: same shape as envelope_write_fn; non-zero stops the relay. */
typedef int (*relay_consumer_fn)(void *ctx, const unsigned char *buf, size_t len);

struct relay;

/* Starts the consumer thread. Returns 0, or -1 (errno set). */
int relay_start(struct relay **out, relay_consumer_fn consumer, void *ctx);

/* Copies buf into free slots (waiting for one when all are full); returns
 * 0, or -1 once the consumer has failed. envelope_write_fn-shaped. */
int relay_write(void *relay, const unsigned char *buf, size_t len);

/* Room for len (at most 1 MiB) more bytes at the end of the slot being
 * filled, waiting for a free slot if needed; NULL once the consumer failed.
 * A relay_write of exactly that address then hands the bytes over without
 * copying them. envelope_buffer_fn-shaped with len = 65536: see relay_chunk_buffer. */
unsigned char *relay_reserve(struct relay *r, size_t len);

/* relay_reserve(relay, 65536), shaped as an envelope_buffer_fn. */
unsigned char *relay_chunk_buffer(void *relay);

/* Waits until the consumer has taken everything, stops its thread; returns
 * 0, or -1 when the consumer failed. Call once, before relay_free. */
int relay_finish(struct relay *r);

/* Stops the thread if relay_finish was not called, wipes and frees; NULL ok. */
void relay_free(struct relay *r);

#endif
