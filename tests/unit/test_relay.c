/* relay: bytes reach the consumer thread complete and in order; a consumer
 * failure stops the producer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "relay.h"

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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_in_order),
		cmocka_unit_test(test_consumer_failure_stops_producer),
		cmocka_unit_test(test_free_without_finish),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
