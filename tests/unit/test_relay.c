/* relay: bytes reach the consumer thread complete and in order; a consumer
 * failure stops the producer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "envelope.h"
#include "relay.h"
#include "status.h"

struct sink {
	crypto_generichash_state hash;
	size_t bytes, calls, fail_after;
};

static int
consume(void *ctx, const unsigned char *buf, size_t len)
{
	struct sink *s = ctx;

	if (s->fail_after != 0 && s->calls == s->fail_after)
		return -1;
	s->calls++;
	s->bytes += len;
	crypto_generichash_update(&s->hash, buf, len);
	return 0;
}

static void
test_in_order(void **state)
{
	static unsigned char data[3 << 20];
	unsigned char want[32], got[32];
	struct relay *r = NULL;
	struct sink s = { .fail_after = 0 };
	size_t offset = 0, step;

	(void)state;
	randombytes_buf(data, sizeof data);
	crypto_generichash(want, 32, data, sizeof data, NULL, 0);
	crypto_generichash_init(&s.hash, NULL, 0, 32);
	assert_int_equal(relay_start(&r, consume, &s), 0);
	/* Pieces smaller than, equal to and larger than a slot. */
	while (offset < sizeof data) {
		step = (offset / 7919) % 3 == 0 ? 65536 : (offset / 7919) % 3 == 1 ? 1000 : 200000;
		if (step > sizeof data - offset)
			step = sizeof data - offset;
		assert_int_equal(relay_write(r, data + offset, step), 0);
		offset += step;
	}
	assert_int_equal(relay_finish(r), 0);
	relay_free(r);
	crypto_generichash_final(&s.hash, got, 32);
	assert_int_equal(s.bytes, sizeof data);
	assert_memory_equal(got, want, 32);
}

static void
test_consumer_failure_stops_producer(void **state)
{
	static unsigned char data[65536];
	struct relay *r = NULL;
	struct sink s = { .fail_after = 3 };
	int i, rc = 0;

	(void)state;
	crypto_generichash_init(&s.hash, NULL, 0, 32);
	assert_int_equal(relay_start(&r, consume, &s), 0);
	/* At most 3 slots consumed + 4 in flight + 1 being filled fit before
	 * the producer must see the failure: 64 MiB is far more than that. */
	for (i = 0; i < 1024 && rc == 0; i++)
		rc = relay_write(r, data, sizeof data);
	assert_int_equal(rc, -1);
	assert_int_equal(relay_finish(r), -1);
	assert_int_equal(s.calls, 3);
	relay_free(r);
}

static void
test_free_without_finish(void **state)
{
	static unsigned char data[1000];
	struct relay *r = NULL;
	struct sink s = { .fail_after = 0 };

	(void)state;
	crypto_generichash_init(&s.hash, NULL, 0, 32);
	assert_int_equal(relay_start(&r, consume, &s), 0);
	assert_int_equal(relay_write(r, data, sizeof data), 0);
	relay_free(r); /* an error path: must join, not leak or crash */
	assert_int_equal(s.bytes, sizeof data);
}

struct out {
	unsigned char *p;
	size_t *len;
	size_t cap;
};

static int
append_out(void *ctx, const unsigned char *data, size_t len)
{
	struct out *o = ctx;

	if (*o->len + len > o->cap)
		return -1;
	memcpy(o->p + *o->len, data, len);
	*o->len += len;
	return 0;
}

static void
test_reserve_hands_over_without_copy(void **state)
{
	unsigned char *room, want[32], got[32];
	struct relay *r = NULL;
	struct sink s = { .fail_after = 0 };
	crypto_generichash_state expect;
	size_t i;

	(void)state;
	crypto_generichash_init(&s.hash, NULL, 0, 32);
	crypto_generichash_init(&expect, NULL, 0, 32);
	assert_int_equal(relay_start(&r, consume, &s), 0);
	assert_null(relay_reserve(r, (1u << 20) + 1));
	/* 40 chunks: more than one slot, filled in place, with a copied write
	 * in between so both paths share the ring. */
	for (i = 0; i < 40; i++) {
		room = relay_chunk_buffer(r);
		assert_non_null(room);
		randombytes_buf(room, 65536);
		crypto_generichash_update(&expect, room, 65536);
		assert_int_equal(relay_write(r, room, 65536), 0);
		if (i == 20) {
			static const unsigned char odd[3] = { 1, 2, 3 };

			crypto_generichash_update(&expect, odd, sizeof odd);
			assert_int_equal(relay_write(r, odd, sizeof odd), 0);
		}
	}
	assert_int_equal(relay_finish(r), 0);
	relay_free(r);
	crypto_generichash_final(&expect, want, 32);
	crypto_generichash_final(&s.hash, got, 32);
	assert_int_equal(s.bytes, 40 * 65536 + 3);
	assert_memory_equal(got, want, 32);
}

/* The envelope reader decrypting straight into relay slots gives the same
 * plaintext as decrypting into its own buffer. */
static void
test_envelope_into_relay(void **state)
{
	static unsigned char payload[300000];
	unsigned char pk[32], sk[32], want[32], got[32];
	struct envelope_seal *seal = NULL;
	struct envelope_open *open = NULL;
	struct relay *r = NULL;
	struct sink s = { .fail_after = 0 };
	unsigned char *sealed;
	size_t sealed_len = 0, cap = 400000;
	uint64_t payload_len;

	(void)state;
	crypto_box_keypair(pk, sk);
	randombytes_buf(payload, sizeof payload);
	crypto_generichash(want, 32, payload, sizeof payload, NULL, 0);
	sealed = malloc(cap);
	assert_non_null(sealed);
	assert_int_equal(envelope_seal_new(&seal, (const unsigned char (*)[32])pk, 1, append_out,
	    &(struct out){ sealed, &sealed_len, cap }), ST_OK);
	assert_int_equal(envelope_seal_update(seal, payload, sizeof payload), ST_OK);
	assert_int_equal(envelope_seal_final(seal), ST_OK);
	envelope_seal_free(seal);

	crypto_generichash_init(&s.hash, NULL, 0, 32);
	assert_int_equal(relay_start(&r, consume, &s), 0);
	assert_int_equal(envelope_open_new(&open, pk, sk, relay_write, r), ST_OK);
	envelope_open_set_buffer(open, relay_chunk_buffer, r);
	assert_int_equal(envelope_open_update(open, sealed, sealed_len), ST_OK);
	assert_int_equal(envelope_open_final(open, &payload_len), ST_OK);
	assert_int_equal(relay_finish(r), 0);
	envelope_open_free(open);
	relay_free(r);
	crypto_generichash_final(&s.hash, got, 32);
	assert_int_equal(payload_len, sizeof payload);
	assert_memory_equal(got, want, 32);
	free(sealed);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_in_order),
		cmocka_unit_test(test_consumer_failure_stops_producer),
		cmocka_unit_test(test_free_without_finish),
		cmocka_unit_test(test_reserve_hands_over_without_copy),
		cmocka_unit_test(test_envelope_into_relay),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
