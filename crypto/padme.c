/*
 * Padmé (PURBs, Nikitin et al. 2019): pads a length L to a multiple of
 * 2^(E - S), E = floor(log2 L), S = floor(log2 E) + 1, so a padded length
 * leaks O(log log L) bits about L at an overhead below 2^-S of L (under 12%
 * for any L, under 6.25% once L >= 256).
 *
 * Integer arithmetic only: a floating point log2 rounds wrongly near powers of
 * two for large L, and the browser and every other implementation must agree
 * with us to the byte.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "padme.h"

/* floor(log2 x) for x >= 1; a loop rather than a compiler builtin keeps it
 * portable and defined for every input we pass. */
static unsigned
padme_log2(uint64_t x)
{
	unsigned n = 0;

	while (x >>= 1)
		n++;
	return n;
}

uint64_t
padme_length(uint64_t unpadded, bool *ok)
{
	uint64_t mask;
	unsigned e, s;

	if (ok != NULL)
		*ok = true;
	/* log2 0 is undefined and E = 0 at L = 1: the paper leaves both as is. */
	if (unpadded < 2)
		return unpadded;
	e = padme_log2(unpadded);
	/* S <= E for every E >= 1, so the shift below is 0..57. */
	s = padme_log2(e) + 1;
	mask = ((uint64_t)1 << (e - s)) - 1;
	if (unpadded > UINT64_MAX - mask) {
		if (ok != NULL)
			*ok = false;
		return 0;
	}
	return (unpadded + mask) & ~mask;
}

bool
padme_is_padded(uint64_t length)
{
	bool ok;

	return padme_length(length, &ok) == length && ok;
}
