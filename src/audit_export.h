/* sealtip audit EXPORTFILE: the checks of docs/audit.md that an export file
 * allows, offline and with no secret (docs/audit.md, "Auditing an export
 * file"): every leaf recomputed, every envelope's preamble and layout,
 * recipients, the checkpoint's signature and root, and given checkpoints. */
#ifndef SEALTIP_AUDIT_EXPORT_H
#define SEALTIP_AUDIT_EXPORT_H

#include <stddef.h>

/* True when path starts with the export file magic (so audit reads it as one). */
int audit_export_sniff(const char *path);

/* Audits the export file input. given_key is the --verifier-key (or NULL:
 * the key the file names is used, and the output says so); checkpoints are
 * --checkpoint files (notes or receipts), recipients --recipient .pub files.
 * A file without a signed checkpoint is refused whatever the options.
 * Prints the summary and returns 0, or prints one line and returns -1. */
int audit_export(const char *input, const char *given_key, const char *const *checkpoints,
    size_t ncheckpoints, const char *const *recipients, size_t nrecipients);

#endif
