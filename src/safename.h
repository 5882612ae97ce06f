/* File names for attachments chosen by a reporter, who may be an attacker:
 * the result is always one path component, never hidden, never "." or "..",
 * free of separators, control and bidi characters, at most SAFENAME_MAX bytes,
 * and unique within a report because it starts with the attachment's number. */
#ifndef SEALTIP_SAFENAME_H
#define SEALTIP_SAFENAME_H

#include <stddef.h>
#include <stdio.h>

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
 * A newline and a tab stay: answers have lines, which the caller indents.
 * Returns a NUL-terminated string in sodium_malloc memory (it is report
 * text: sodium_free wipes it), or NULL. */
char *safename_display(const char *text, size_t len);

/* As safename_display, for text shown on one line (a question's id, a media
 * type): a newline and a tab are escaped too. */
char *safename_display_line(const char *text, size_t len);

/* Writes text to out so that it stays on one line and reads as it is: a
 * control character (a newline, an escape sequence, a C1 control), a bidi
 * override or an invisible separator, and a byte that is not UTF-8 each come
 * out as '?'. For names and values quoted in a message. */
void safename_put_line(FILE *out, const char *text);

#endif
