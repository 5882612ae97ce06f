/* An upload on its way in: a body of at most SPOOL_MEMORY_BYTES is kept in
 * memory; a larger one streams into an unnamed temp file in the data folder
 * (O_TMPFILE, so no path ever names it and it vanishes when closed, even if
 * the server is killed). Its leaf hash is computed as it passes, and the
 * preamble and layout are checked as soon as the bytes that decide them have
 * arrived. Memory per upload is this struct plus at most SPOOL_MEMORY_BYTES,
 * whatever the body size. */
#ifndef SEALTIP_SPOOL_H
#define SEALTIP_SPOOL_H

#include <stddef.h>
#include <stdint.h>

#include <sodium.h>

#include "envelope.h"
#include "sha256.h"

/* Small reports (text, no attachments) skip the file: creating and freeing
 * an inode per upload costs more than the commit's share of an fsync. */
#define SPOOL_MEMORY_BYTES (32u * 1024u)

/* The key ids the server serves: an envelope naming any other is refused. */
struct spool_keys {
	size_t n;
	unsigned char ids[ENVELOPE_MAX_RECIPIENTS][ENVELOPE_KEY_ID_BYTES];
};

/* Why an upload was refused: an HTTP status, a stable code, a message. */
struct spool_error {
	unsigned status; /* 0 while nothing is wrong */
	const char *code;
	const char *message;
};

struct spool {
	int fd;		    /* the temp file, or -1 when the body is in mem */
	unsigned char *mem; /* the whole body when it is small, else NULL */
	uint64_t expected;  /* Content-Length */
	uint64_t received;
	const struct spool_keys *keys;
	struct sha256 leaf;
	unsigned char preamble[ENVELOPE_MAX_PREAMBLE_BYTES];
	size_t pre_have;
	int preamble_done;
	struct spool_error err;
};

/* Prepares for a body of content_length bytes: a buffer for a small one, a
 * temp file in dirfd for a large one. Returns 0, or -1 with errno set. */
int spool_open(struct spool *sp, int dirfd, uint64_t content_length, const struct spool_keys *keys);

/* Takes the next body bytes. Returns 0; or 1 once the upload is refused
 * (sp->err says why; later bytes are only counted, never written, so the
 * caller can read the body to its end and answer). */
int spool_write(struct spool *sp, const unsigned char *buf, size_t len);

/* After the last byte: 0 with the leaf hash SHA-256(0x00 || body), or 1 with
 * sp->err set. */
int spool_finish(struct spool *sp, unsigned char leaf_hash[32]);

/* Frees the buffer or closes (and so removes) the temp file; safe to call twice. */
void spool_close(struct spool *sp);

#endif
