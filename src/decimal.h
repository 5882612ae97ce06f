/* Numbers from untrusted text (HTTP headers, query strings, options). */
#ifndef SEALTIP_DECIMAL_H
#define SEALTIP_DECIMAL_H

#include <stdint.h>

/* Strict decimal: "0", or a non-zero digit then digits, nothing else (no
 * sign, space or leading zero), at most max. Returns 0, or -1 with *out
 * untouched. */
int decimal_parse(const char *s, uint64_t max, uint64_t *out);

#endif
