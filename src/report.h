/* report.txt: a decrypted report as a person reads it, questions in the
 * form's order with their labels, every untrusted string made inert. */
#ifndef SEALTIP_REPORT_H
#define SEALTIP_REPORT_H

#include <stddef.h>

#include "formdef.h"
#include "manifest.h"
#include "safename.h"

/* Where one attachment was written, and whether its bytes matched. */
struct report_file {
	char path[SAFENAME_SIZE + 32]; /* relative to the report folder */
	int sha256_ok;
};

/* The text of report.txt, in sodium_malloc memory (it is plaintext); free
 * with report_text_free. NULL when out of memory. */
char *report_text(const struct manifest *m, const struct formdef *def, const char *source,
    const struct report_file *files, size_t *len);

/* Wipes and frees a report_text result; NULL is fine. */
void report_text_free(char *text, size_t len);

#endif
