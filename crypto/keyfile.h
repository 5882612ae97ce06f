/* Investigator key files: the public key format of the design (two text lines,
 * "stpk" || box_pk || sign_pk in base64) and this project's secret key format
 * (docs/keyfile.md): Argon2id-derived key + crypto_secretbox, or unprotected.
 * Works on buffers only; reading and writing files is the caller's business. */
#ifndef SEALTIP_KEYFILE_H
#define SEALTIP_KEYFILE_H

#include <stddef.h>
#include <stdint.h>

#define KEYFILE_BOX_PK_BYTES 32
#define KEYFILE_BOX_SK_BYTES 32
#define KEYFILE_SIGN_PK_BYTES 32
#define KEYFILE_SIGN_SK_BYTES 64
#define KEYFILE_KEY_ID_BYTES 8
/* "stpk" || box_pk || sign_pk */
#define KEYFILE_PUBLIC_BLOB_BYTES (4 + 32 + 32)
/* 10 groups of 4 hex digits separated by spaces, plus NUL. */
#define KEYFILE_FINGERPRINT_SIZE 50
/* Hex key id plus NUL. */
#define KEYFILE_KEY_ID_HEX_SIZE 17
/* Upper bound of a formatted public or secret key file. */
#define KEYFILE_TEXT_MAX 1024

struct keyfile_public {
	unsigned char box_pk[KEYFILE_BOX_PK_BYTES];
	unsigned char sign_pk[KEYFILE_SIGN_PK_BYTES];
	unsigned char key_id[KEYFILE_KEY_ID_BYTES];
};

/* Always lives in sodium_malloc memory: made by keyfile_secret_generate or
 * keyfile_secret_parse, released (and wiped) by keyfile_secret_free. */
struct keyfile_secret {
	struct keyfile_public pub;
	unsigned char box_sk[KEYFILE_BOX_SK_BYTES];
	unsigned char sign_sk[KEYFILE_SIGN_SK_BYTES];
};

/* Argon2id cost written into a protected secret key file. */
struct keyfile_kdf_limits {
	unsigned long long opslimit;
	size_t memlimit;
};

/* The presets keygen offers: libsodium's INTERACTIVE, MODERATE (default) and SENSITIVE. */
extern const struct keyfile_kdf_limits keyfile_kdf_interactive;
extern const struct keyfile_kdf_limits keyfile_kdf_moderate;
extern const struct keyfile_kdf_limits keyfile_kdf_sensitive;

/* key_id = first 8 bytes of BLAKE2b-256(box_pk). */
void keyfile_key_id(const unsigned char box_pk[KEYFILE_BOX_PK_BYTES],
    unsigned char key_id[KEYFILE_KEY_ID_BYTES]);

/* Lowercase hex of a key id, NUL-terminated. */
void keyfile_key_id_hex(const unsigned char key_id[KEYFILE_KEY_ID_BYTES],
    char out[KEYFILE_KEY_ID_HEX_SIZE]);

/* Human fingerprint: first 20 bytes of BLAKE2b-256("stpk" || box_pk || sign_pk)
 * as 10 space-separated groups of 4 lowercase hex digits. */
void keyfile_fingerprint(const struct keyfile_public *pk, char out[KEYFILE_FINGERPRINT_SIZE]);

/* Fresh X25519 + Ed25519 key pair in sodium_malloc memory. */
int keyfile_secret_generate(struct keyfile_secret **out);

/* Secret key from a raw X25519 secret key (tests and vectors); the Ed25519
 * pair is derived from a seed = BLAKE2b-256("sealtip sign seed" || box_sk). */
int keyfile_secret_from_box_sk(const unsigned char box_sk[KEYFILE_BOX_SK_BYTES],
    struct keyfile_secret **out);

/* Wipes and frees; NULL is fine. */
void keyfile_secret_free(struct keyfile_secret *sk);

/* Writes the two-line public key file into out (NUL-terminated); *out_len
 * excludes the NUL. ST_ERR_TOO_LARGE when out_size is too small. */
int keyfile_public_format(const struct keyfile_public *pk, char *out, size_t out_size,
    size_t *out_len);

/* Strict parse: "untrusted comment: " line, then exactly one base64 line of
 * the 68-byte blob, optional final newline, nothing else; a box key of
 * small order is ST_ERR_KEY_WEAK. Fills key_id. */
int keyfile_public_parse(const char *text, size_t len, struct keyfile_public *pk);

/* Writes the secret key file. limits NULL writes an unprotected file
 * (passphrase ignored); else passphrase must be non-empty. */
int keyfile_secret_format(const struct keyfile_secret *sk, const char *passphrase,
    size_t passphrase_len, const struct keyfile_kdf_limits *limits, char *out,
    size_t out_size, size_t *out_len);

/* 1 when the file is passphrase-protected, 0 when not; or a negative status
 * when it is not a well-formed secret key file. */
int keyfile_secret_is_protected(const char *text, size_t len);

/* Parses and decrypts a secret key file; passphrase is ignored for an
 * unprotected file. Checks that the stored public keys match the secret ones. */
int keyfile_secret_parse(const char *text, size_t len, const char *passphrase,
    size_t passphrase_len, struct keyfile_secret **out);

#endif
