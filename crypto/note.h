/* C2SP signed-note (Ed25519 signatures) and C2SP tlog-checkpoint: the text
 * formats of the log's signed tree heads. No I/O.
 *
 * A note is UTF-8 text of one or more lines, each ending in '\n', then a
 * blank line, then signature lines "— <name> <base64(key id[4] || sig[64])>\n"
 * (U+2014 em dash, a space). The Ed25519 signature covers the text including
 * its final newline. key id = SHA-256(name || 0x0A || 0x01 || pk)[:4]; the
 * verifier key string is "<name>+<key id in 8 hex digits>+<base64(0x01 || pk)>".
 *
 * A checkpoint is a note whose text is "<origin>\n<tree size>\n<base64 root
 * hash>\n" followed by optional non-empty extension lines. */
#ifndef SEALTIP_NOTE_H
#define SEALTIP_NOTE_H

#include <stddef.h>
#include <stdint.h>

#include <sodium.h>

#define NOTE_MAX_BYTES (1024 * 1024) /* whole note, text and signatures */
#define NOTE_MAX_SIGNATURES 100
#define NOTE_KEY_ID_BYTES 4
#define NOTE_ALG_ED25519 0x01
#define NOTE_PUBLIC_KEY_BYTES crypto_sign_PUBLICKEYBYTES /* 32 */
#define NOTE_SECRET_KEY_BYTES crypto_sign_SECRETKEYBYTES /* 64, libsodium layout */
#define NOTE_SIGNATURE_BYTES crypto_sign_BYTES		 /* 64 */
/* Our own cap on key names and checkpoint origins, in bytes. */
#define NOTE_NAME_MAX 255
/* A verifier key string: name, '+', 8 hex, '+', 44 base64, NUL. */
#define NOTE_VERIFIER_KEY_MAX (NOTE_NAME_MAX + 1 + 8 + 1 + 44 + 1)
/* "— " name " " base64(68 bytes) "\n": one of our signature lines. */
#define NOTE_SIGNATURE_LINE_MAX (4 + NOTE_NAME_MAX + 1 + 92 + 1)
/* A signed checkpoint with no extension lines, as note_checkpoint_sign makes
 * it, fits in this many bytes (NUL included). */
#define NOTE_CHECKPOINT_MAX (NOTE_NAME_MAX + 1 + 20 + 1 + 44 + 1 + 1 + NOTE_SIGNATURE_LINE_MAX + 1)

enum note_status {
	NOTE_OK = 0,
	NOTE_ERR_ARGUMENT = -1,	     /* bad name, text or buffer too small */
	NOTE_ERR_TOO_LARGE = -2,     /* over NOTE_MAX_BYTES or NOTE_MAX_SIGNATURES */
	NOTE_ERR_MALFORMED = -3,     /* not a well-formed note, key or checkpoint */
	NOTE_ERR_UNKNOWN_KEY = -4,   /* no signature by the verifier's key */
	NOTE_ERR_BAD_SIGNATURE = -5, /* the verifier's signature does not verify */
	NOTE_ERR_DUPLICATE = -6,     /* the verifier's key signed twice */
	NOTE_ERR_ORIGIN = -7	     /* checkpoint origin is not the key's name */
};

/* One lowercase line, e.g. "signature does not verify". */
const char *note_status_message(int status);

/* A key as a verifier knows it. */
struct note_verifier {
	char name[NOTE_NAME_MAX + 1];
	unsigned char key_id[NOTE_KEY_ID_BYTES];
	unsigned char pk[NOTE_PUBLIC_KEY_BYTES];
};

/* 1 when name[0..len) is a key name: non-empty, at most NOTE_NAME_MAX bytes,
 * valid UTF-8, no '+', no Unicode space, no control character (C0, DEL, C1),
 * and nothing invisible (Unicode's default-ignorable characters: bidi
 * controls, zero-width characters, the soft hyphen...): people compare it
 * by eye. */
int note_name_valid(const char *name, size_t len);

/* SHA-256(name || 0x0A || 0x01 || pk)[:4]. */
void note_key_id(unsigned char out[NOTE_KEY_ID_BYTES], const char *name,
    const unsigned char pk[NOTE_PUBLIC_KEY_BYTES]);

/* Fills v from a name and an Ed25519 public key (computing the key id). */
int note_verifier_make(
    struct note_verifier *v, const char *name, const unsigned char pk[NOTE_PUBLIC_KEY_BYTES]);

/* "<name>+<hex key id>+<base64(0x01 || pk)>" into out (NUL-terminated). */
int note_verifier_format(char *out, size_t outlen, const struct note_verifier *v);

/* Parses a verifier key string (no surrounding spaces or newline): valid
 * name, exactly 8 lowercase hex digits, canonical base64 of 33 bytes starting
 * with 0x01, and a key id that matches the name and key. */
int note_verifier_parse(struct note_verifier *v, const char *s, size_t len);

/* Signs text[0..textlen) (non-empty, ending in '\n', valid UTF-8, no control
 * character but '\n') with the Ed25519 secret key sk as name; writes the
 * note, NUL-terminated, into out and its length (without NUL) into *outlen. */
int note_sign(char *out, size_t outcap, size_t *outlen, const char *text, size_t textlen,
    const char *name, const unsigned char sk[NOTE_SECRET_KEY_BYTES]);

/* Verifies note[0..len) against v, strictly: at most NOTE_MAX_BYTES, valid
 * UTF-8 without control characters but '\n', split at the last blank line,
 * 1..NOTE_MAX_SIGNATURES well-formed signature lines, exactly one by v's name
 * and key id, and it verifies. Other keys' lines (a witness's cosignature)
 * are skipped, not verified; their names need only follow the spec (non-
 * empty, valid UTF-8, no Unicode space, no '+'), not note_name_valid's
 * length cap and control-character ban. On NOTE_OK, *textlen is the length
 * of the signed text, which is note[0..*textlen). */
int note_verify(const char *note, size_t len, const struct note_verifier *v, size_t *textlen);

/* A parsed checkpoint body. */
struct note_checkpoint {
	char origin[NOTE_NAME_MAX + 1];
	uint64_t size;
	unsigned char root[32];
	size_t extensions; /* count of extension lines after the root hash */
};

/* Writes the checkpoint text "<origin>\n<size>\n<base64 root>\n" into out
 * (NUL-terminated); *textlen gets its length. origin must be a valid name. */
int note_checkpoint_format(char *out, size_t outcap, size_t *textlen, const char *origin,
    uint64_t size, const unsigned char root[32]);

/* Parses checkpoint text, strictly: every line ends in '\n'; origin
 * non-empty, at most NOTE_NAME_MAX bytes, without leading or trailing space;
 * size in decimal without sign or leading zeros, at most 2^64 - 1; root hash
 * canonical base64 of exactly 32 bytes; extension lines non-empty. */
int note_checkpoint_parse(struct note_checkpoint *cp, const char *text, size_t len);

/* Formats and signs a checkpoint by name == origin: the server's one call. */
int note_checkpoint_sign(char *out, size_t outcap, size_t *outlen, const char *origin,
    uint64_t size, const unsigned char root[32], const unsigned char sk[NOTE_SECRET_KEY_BYTES]);

/* 1 when note[0..len) is exactly what note_checkpoint_sign makes of cp by
 * v's key: the origin (v's name), size and root lines, a blank line and one
 * signature line by v's name and key id, nothing else (no extension line, no
 * other key's line). Only the shape: the signature is note_verify's. */
int note_checkpoint_bare(
    const char *note, size_t len, const struct note_checkpoint *cp, const struct note_verifier *v);

/* note_verify, then note_checkpoint_parse of the text, then the origin must
 * equal v's name (NOTE_ERR_ORIGIN). The auditor's and client's one call. */
int note_checkpoint_open(
    struct note_checkpoint *cp, const char *note, size_t len, const struct note_verifier *v);

#endif
