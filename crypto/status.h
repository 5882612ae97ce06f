/* Result codes shared by every crypto/ module.
 * Functions return ST_OK (0) or one negative code; status_message() gives the
 * one-line reason a tool prints after naming the input. */
#ifndef SEALTIP_STATUS_H
#define SEALTIP_STATUS_H

enum st_status {
	ST_OK = 0,
	ST_ERR_NOMEM = -1,          /* allocation failed */
	ST_ERR_ARGUMENT = -2,       /* caller broke a documented precondition */
	ST_ERR_MAGIC = -3,          /* not a sealtip envelope */
	ST_ERR_VERSION = -4,        /* unknown envelope or file version */
	ST_ERR_NRECIP = -5,         /* recipient count outside 1..16 */
	ST_ERR_NOT_RECIPIENT = -6,  /* no recipient entry carries our key id */
	ST_ERR_RECIPIENT_AUTH = -7, /* our entry does not open: corrupted or forged */
	ST_ERR_TRUNCATED = -8,      /* input ends early */
	ST_ERR_TRAILING = -9,       /* bytes after the FINAL chunk */
	ST_ERR_CHUNK_AUTH = -10,    /* a chunk failed authentication */
	ST_ERR_NO_FINAL = -11,      /* stream ends without a FINAL chunk */
	ST_ERR_LAYOUT = -12,        /* chunk sizes or tags break the canonical layout */
	ST_ERR_PADDING = -13,       /* padding bytes are not all zero */
	ST_ERR_NOT_PADME = -14,     /* payload length is not the Padmé length */
	ST_ERR_MANIFEST_LEN = -15,  /* manifest length field out of range */
	ST_ERR_MANIFEST_JSON = -16, /* manifest is not strict UTF-8 JSON */
	ST_ERR_MANIFEST_SCHEMA = -17, /* manifest JSON has the wrong shape */
	ST_ERR_SIZES = -18,         /* manifest sizes do not add up to the payload */
	ST_ERR_KEY_FORMAT = -19,    /* key file is malformed */
	ST_ERR_KEY_KIND = -20,      /* a public key where a secret key is needed, or the reverse */
	ST_ERR_PASSPHRASE = -21,    /* wrong passphrase, or the secret key file is corrupted */
	ST_ERR_KDF_LIMITS = -22,    /* key file asks for Argon2id limits we refuse */
	ST_ERR_TOO_LARGE = -23,     /* a size beyond the format's limits */
	ST_ERR_CRYPTO = -24,        /* libsodium refused an operation */
	ST_ERR_CALLBACK = -25,      /* the caller's callback reported an error */
	ST_ERR_STATE = -26,         /* function called in the wrong state */
	ST_ERR_DUPLICATE_RECIPIENT = -27, /* the same recipient key twice in one envelope */
	ST_ERR_KEY_WEAK = -28       /* a public key of small order: nothing sealed to it is secret */
};

/* One lowercase line without a final period, e.g. "stream ends without a FINAL chunk". */
const char *status_message(int status);

#endif
