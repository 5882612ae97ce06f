#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "relay.h"

/* Slots of 1 MiB, filled by several writes before they are handed over:
 * a thread wake-up per 64 KiB chunk cost more than the copying. Four in
 * flight ride out jitter on either side within the open command's memory
 * promise (16 MiB). */
#define RELAY_SLOTS 4
#define RELAY_SLOT_BYTES (1u << 20)

struct relay {
	pthread_mutex_t lock;
	pthread_cond_t changed;
	pthread_t thread;
	int running;
	relay_consumer_fn consumer;
	void *ctx;
	unsigned char *slots;   /* RELAY_SLOTS × RELAY_SLOT_BYTES, sodium_malloc */
	size_t lengths[RELAY_SLOTS];
	size_t head, count;     /* ring: next slot to consume, slots handed over */
	size_t fill;            /* bytes in the slot being filled (not handed over yet) */
	int closing;            /* producer is done */
	int failed;             /* consumer said stop */
};

static void *
relay_consume(void *arg)
{
	struct relay *r = arg;
	unsigned char *slot;
	size_t len;
	int failed;

	pthread_mutex_lock(&r->lock);
	for (;;) {
		while (r->count == 0 && !r->closing)
			pthread_cond_wait(&r->changed, &r->lock);
		if (r->count == 0)
			break;
		slot = r->slots + r->head * RELAY_SLOT_BYTES;
		len = r->lengths[r->head];
		pthread_mutex_unlock(&r->lock);
		/* The slot stays ours until count drops: no copy needed. */
		failed = r->consumer(r->ctx, slot, len) != 0;
		pthread_mutex_lock(&r->lock);
		r->head = (r->head + 1) % RELAY_SLOTS;
		r->count--;
		if (failed) {
			r->failed = 1;
			r->count = 0;
		}
		pthread_cond_broadcast(&r->changed);
		if (failed)
			break;
	}
	pthread_mutex_unlock(&r->lock);
	return NULL;
}

/* Called with the lock held: the filled slot goes to the consumer. */
static void
relay_hand_over(struct relay *r, size_t tail)
{
	r->lengths[tail] = r->fill;
	r->fill = 0;
	r->count++;
	pthread_cond_broadcast(&r->changed);
}

int
relay_start(struct relay **out, relay_consumer_fn consumer, void *ctx)
{
	struct relay *r;
	int rc;

	if ((r = calloc(1, sizeof *r)) == NULL)
		return -1;
	r->consumer = consumer;
	r->ctx = ctx;
	if ((r->slots = sodium_malloc(RELAY_SLOTS * RELAY_SLOT_BYTES)) == NULL) {
		free(r);
		errno = ENOMEM;
		return -1;
	}
	pthread_mutex_init(&r->lock, NULL);
	pthread_cond_init(&r->changed, NULL);
	if ((rc = pthread_create(&r->thread, NULL, relay_consume, r)) != 0) {
		relay_free(r);
		errno = rc;
		return -1;
	}
	r->running = 1;
	*out = r;
	return 0;
}

int
relay_write(void *relay, const unsigned char *buf, size_t len)
{
	struct relay *r = relay;
	size_t tail, n;
	int failed;

	pthread_mutex_lock(&r->lock);
	while (len > 0) {
		while (r->count == RELAY_SLOTS && !r->failed)
			pthread_cond_wait(&r->changed, &r->lock);
		if (r->failed)
			break;
		tail = (r->head + r->count) % RELAY_SLOTS;
		n = RELAY_SLOT_BYTES - r->fill;
		if (n > len)
			n = len;
		/* The slot being filled is not counted yet: the consumer never
		 * reads it, so the copy needs no lock. Bytes decrypted in place
		 * (relay_reserve) are already there. */
		if (buf != r->slots + tail * RELAY_SLOT_BYTES + r->fill) {
			pthread_mutex_unlock(&r->lock);
			memcpy(r->slots + tail * RELAY_SLOT_BYTES + r->fill, buf, n);
			pthread_mutex_lock(&r->lock);
		}
		r->fill += n;
		buf += n;
		len -= n;
		if (r->fill == RELAY_SLOT_BYTES)
			relay_hand_over(r, tail);
	}
	failed = r->failed;
	pthread_mutex_unlock(&r->lock);
	return failed ? -1 : 0;
}

unsigned char *
relay_reserve(struct relay *r, size_t len)
{
	unsigned char *room = NULL;
	size_t tail;

	if (len > RELAY_SLOT_BYTES)
		return NULL;
	pthread_mutex_lock(&r->lock);
	for (;;) {
		while (r->count == RELAY_SLOTS && !r->failed)
			pthread_cond_wait(&r->changed, &r->lock);
		if (r->failed)
			break;
		tail = (r->head + r->count) % RELAY_SLOTS;
		if (RELAY_SLOT_BYTES - r->fill >= len) {
			room = r->slots + tail * RELAY_SLOT_BYTES + r->fill;
			break;
		}
		/* Not enough room left: send this slot on, start the next. */
		relay_hand_over(r, tail);
	}
	pthread_mutex_unlock(&r->lock);
	return room;
}

unsigned char *
relay_chunk_buffer(void *relay)
{
	return relay_reserve(relay, 65536);
}

int
relay_finish(struct relay *r)
{
	pthread_mutex_lock(&r->lock);
	/* The last, partly filled slot. */
	while (r->fill > 0 && r->count == RELAY_SLOTS && !r->failed)
		pthread_cond_wait(&r->changed, &r->lock);
	if (r->fill > 0 && !r->failed)
		relay_hand_over(r, (r->head + r->count) % RELAY_SLOTS);
	r->closing = 1;
	pthread_cond_broadcast(&r->changed);
	pthread_mutex_unlock(&r->lock);
	if (r->running)
		pthread_join(r->thread, NULL);
	r->running = 0;
	return r->failed ? -1 : 0;
}

void
relay_free(struct relay *r)
{
	if (r == NULL)
		return;
	if (r->running)
		(void)relay_finish(r);
	pthread_cond_destroy(&r->changed);
	pthread_mutex_destroy(&r->lock);
	sodium_free(r->slots);
	free(r);
}
