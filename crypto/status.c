#include "status.h"

const char *
status_message(int status)
{
	switch (status) {
	case ST_OK: return "ok";
	case ST_ERR_NOMEM: return "out of memory";
	case ST_ERR_ARGUMENT: return "invalid argument";
	case ST_ERR_MAGIC: return "not a sealtip envelope (bad magic)";
	case ST_ERR_VERSION: return "unknown format version";
	case ST_ERR_NRECIP: return "recipient count out of range 1..16";
	case ST_ERR_NOT_RECIPIENT: return "not sealed to this key";
	case ST_ERR_RECIPIENT_AUTH: return "recipient entry for this key does not open (corrupted or forged)";
	case ST_ERR_TRUNCATED: return "truncated";
	case ST_ERR_TRAILING: return "trailing bytes after the FINAL chunk";
	case ST_ERR_CHUNK_AUTH: return "a chunk failed authentication (corrupted, forged or wrong key)";
	case ST_ERR_NO_FINAL: return "stream ends without a FINAL chunk";
	case ST_ERR_LAYOUT: return "chunk layout is not canonical";
	case ST_ERR_PADDING: return "padding bytes are not all zero";
	case ST_ERR_NOT_PADME: return "payload length is not a Padme length";
	case ST_ERR_MANIFEST_LEN: return "manifest length out of range";
	case ST_ERR_MANIFEST_JSON: return "manifest is not valid JSON";
	case ST_ERR_MANIFEST_SCHEMA: return "manifest does not follow the v1 schema";
	case ST_ERR_SIZES: return "manifest file sizes do not add up to the payload";
	case ST_ERR_KEY_FORMAT: return "malformed key file";
	case ST_ERR_KEY_KIND: return "wrong kind of key file";
	case ST_ERR_PASSPHRASE: return "wrong passphrase or corrupted secret key";
	case ST_ERR_KDF_LIMITS: return "key file asks for Argon2id limits outside the accepted range";
	case ST_ERR_TOO_LARGE: return "too large";
	case ST_ERR_CRYPTO: return "cryptographic operation failed";
	case ST_ERR_CALLBACK: return "output failed";
	case ST_ERR_STATE: return "internal error: wrong state";
	case ST_ERR_DUPLICATE_RECIPIENT: return "the same recipient key twice";
	case ST_ERR_KEY_WEAK: return "not a usable public key (small order)";
	}
	return "unknown error";
}
