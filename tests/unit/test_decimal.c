/* decimal_parse: the one strict number parser for untrusted text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "decimal.h"

static void
test_accepts(void **state)
{
	uint64_t v;

	(void)state;
	assert_int_equal(decimal_parse("0", 10, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(decimal_parse("10", 10, &v), 0);
	assert_int_equal(v, 10);
	assert_int_equal(decimal_parse("9223372036854775807", INT64_MAX, &v), 0);
	assert_true(v == (uint64_t)INT64_MAX);
	assert_int_equal(decimal_parse("18446744073709551615", UINT64_MAX, &v), 0);
	assert_true(v == UINT64_MAX);
}

static void
test_refuses(void **state)
{
	static const char *bad[] = { "", "-1", "+1", " 1", "1 ", "01", "00", "1e3", "0x10",
		"1.0", "١", "18446744073709551616", "99999999999999999999999" };
	uint64_t v = 42;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(decimal_parse(bad[i], UINT64_MAX, &v), -1);
		assert_int_equal(v, 42);
	}
	assert_int_equal(decimal_parse(NULL, 10, &v), -1);
	assert_int_equal(decimal_parse("11", 10, &v), -1);
	assert_int_equal(decimal_parse("9223372036854775808", INT64_MAX, &v), -1);
	assert_int_equal(v, 42);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accepts),
		cmocka_unit_test(test_refuses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
