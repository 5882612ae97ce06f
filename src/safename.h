/* File names for attachments chosen by a reporter, who may be an attacker:
 * the result is always one path component, never hidden, never "." or "..",
 * free of separators, control and bidi characters, at most SAFENAME_MAX bytes,
 * and unique within a report because it starts with the attachment's number. */
#ifndef SEALTIP_SAFENAME_H
#define SEALTIP_SAFENAME_H

#include <stddef.h>

/* Leaves room under the 255-byte limit for a marker suffix and temp names. */
#define SAFENAME_MAX 200
#define SAFENAME_SIZE (SAFENAME_MAX + 1)

/* Writes "NN-<cleaned name>" for attachment number index (1-based) of count;
 * name may hold NUL bytes and is assumed to be UTF-8 (the manifest parser
 * checked it). */
void safename_make(const char *name, size_t name_len, size_t index, size_t count,
    char out[SAFENAME_SIZE]);

/* Appends printable text for untrusted UTF-8 to a display buffer: control
 * characters, NUL and bidi overrides become visible \xNN / \u{NNNN} escapes so
 * that a report cannot rewrite an investigator's terminal or reorder text.
 * Returns a NUL-terminated string in sodium_malloc memory (it is report
 * text: sodium_free wipes it), or NULL. */
char *safename_display(const char *text, size_t len);

#endif
