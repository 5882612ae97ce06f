/* The log's Ed25519 signing key (docs/server.md, "Log key"): made at first
 * start in the data folder as log.key (mode 0600, written under a temporary
 * name, fsync'd, then renamed), kept in sodium_malloc memory while in use.
 * File layout: "stlk" || libsodium Ed25519 secret key (seed || public key),
 * 68 bytes. */
#ifndef SEALTIP_LOGKEY_H
#define SEALTIP_LOGKEY_H

#include <stddef.h>

#include "note.h"

#define LOGKEY_FILE "log.key"
#define LOGKEY_MAGIC "stlk"
#define LOGKEY_FILE_BYTES (4 + NOTE_SECRET_KEY_BYTES)

struct logkey {
	unsigned char *sk;		  /* sodium_malloc'd, NOTE_SECRET_KEY_BYTES */
	struct note_verifier v;		  /* name = origin */
	char vkey[NOTE_VERIFIER_KEY_MAX]; /* the C2SP verifier key string */
};

/* Loads LOGKEY_FILE from the data folder, or, when it is missing and
 * may_create, creates it (*created = 1). Refuses a key file that is not a regular file, is readable
 * by group or others, or is malformed. Returns 0, or -1 with err filled. */
int logkey_load(struct logkey *k, int datafd, const char *origin, int may_create, int *created,
    char *err, size_t errlen);

/* Wipes and frees the secret key; safe on a zeroed or freed struct. */
void logkey_free(struct logkey *k);

#endif
