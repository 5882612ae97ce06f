#include <stddef.h>

#include "decimal.h"

int
decimal_parse(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t v = 0, digit;
	size_t i;

	if (s == NULL || s[0] == '\0' || (s[0] == '0' && s[1] != '\0'))
		return -1;
	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		digit = (uint64_t)(s[i] - '0');
		/* v * 10 + digit <= max, without overflow. */
		if (v > (max - digit) / 10)
			return -1;
		v = v * 10 + digit;
	}
	*out = v;
	return 0;
}
