/* UTF-8 as the formats require it: strict, so that a signed note, a JSON
 * reply and a parser elsewhere agree on what a string is. */
#ifndef SEALTIP_UTF8_H
#define SEALTIP_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* Decodes the sequence at s (len bytes available) strictly: no overlong
 * forms, surrogates or values over U+10FFFF. Returns its length with the
 * code point in *cp, or 0 when it is not UTF-8 (or len is 0). */
size_t utf8_next(const unsigned char *s, size_t len, uint32_t *cp);

#endif
