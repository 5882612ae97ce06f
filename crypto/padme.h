/* Padmé padding lengths (PURBs, Nikitin et al. 2019), as the payload format uses them. */
#ifndef SEALTIP_PADME_H
#define SEALTIP_PADME_H

#include <stdbool.h>
#include <stdint.h>

/* The padded length for an unpadded length L: L itself when L < 2, else L
 * rounded up to a multiple of 2^(E - S), E = floor(log2 L), S = floor(log2 E) + 1.
 * Returns 0 with *ok false when the result would overflow 64 bits. */
uint64_t padme_length(uint64_t unpadded, bool *ok);

/* True when P is a fixed point, padme(P) == P: every padded payload length is. */
bool padme_is_padded(uint64_t length);

#endif
