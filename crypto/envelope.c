/* Report envelope v1: see envelope.h and the design's "Report envelope".
 *
 * Chunk boundaries are not written in the stream: a reader finds them because
 * every chunk but the last is exactly ENVELOPE_SEALED_CHUNK_BYTES long. So the
 * writer holds back a full chunk until it knows more bytes follow, and the
 * reader treats whatever is left at the end (less than one sealed chunk) as
 * the last chunk. Both keep one chunk in memory, whatever the payload size. */
#include <stdint.h>
#include <string.h>

#include <sodium.h>

#include "envelope.h"
#include "status.h"

#define ENVELOPE_NRECIP_OFFSET ENVELOPE_MAGIC_BYTES
#define ENVELOPE_ENTRIES_OFFSET (ENVELOPE_NRECIP_OFFSET + 1)
#define ENVELOPE_SEALED_KEY_BYTES                                                                  \
	(crypto_box_SEALBYTES + crypto_secretstream_xchacha20poly1305_KEYBYTES)
#define ENVELOPE_TAG_MESSAGE crypto_secretstream_xchacha20poly1305_TAG_MESSAGE
#define ENVELOPE_TAG_FINAL crypto_secretstream_xchacha20poly1305_TAG_FINAL

/* The header fixes these sizes as numbers; they must be libsodium's. */
_Static_assert(sizeof(ENVELOPE_MAGIC) - 1 == ENVELOPE_MAGIC_BYTES, "magic length");
_Static_assert(ENVELOPE_RECIPIENT_BYTES == ENVELOPE_KEY_ID_BYTES + ENVELOPE_SEALED_KEY_BYTES,
    "recipient entry size");
_Static_assert(ENVELOPE_HEADER_BYTES == crypto_secretstream_xchacha20poly1305_HEADERBYTES,
    "secretstream header size");
_Static_assert(ENVELOPE_CHUNK_OVERHEAD == crypto_secretstream_xchacha20poly1305_ABYTES,
    "secretstream chunk overhead");
_Static_assert(ENVELOPE_KEY_ID_BYTES <= crypto_generichash_BYTES, "key id is a hash prefix");
_Static_assert(ENVELOPE_MAX_RECIPIENTS <= UINT8_MAX, "recipient count fits its byte");

struct envelope_seal {
	crypto_secretstream_xchacha20poly1305_state state;
	envelope_write_fn write;
	void *ctx;
	int status;
	int finished;
	uint64_t chunks;
	size_t preamble_len;
	size_t buffered;
	unsigned char file_key[crypto_secretstream_xchacha20poly1305_KEYBYTES];
	/* Kept until the first chunk is sealed: it is that chunk's additional data. */
	unsigned char preamble[ENVELOPE_MAX_PREAMBLE_BYTES];
	unsigned char plain[ENVELOPE_CHUNK_BYTES];
	unsigned char sealed[ENVELOPE_SEALED_CHUNK_BYTES];
};

struct envelope_open {
	crypto_secretstream_xchacha20poly1305_state state;
	envelope_write_fn write;
	void *ctx;
	envelope_buffer_fn buffer;
	void *buffer_ctx;
	int status;
	int finished;
	int parsed;
	int final_seen;
	uint64_t chunks;
	uint64_t payload_len;
	size_t preamble_have;
	size_t sealed_len;
	struct envelope_preamble preamble;
	unsigned char key_id[ENVELOPE_KEY_ID_BYTES];
	unsigned char box_pk[crypto_box_PUBLICKEYBYTES];
	unsigned char box_sk[crypto_box_SECRETKEYBYTES];
	unsigned char file_key[crypto_secretstream_xchacha20poly1305_KEYBYTES];
	unsigned char preamble_bytes[ENVELOPE_MAX_PREAMBLE_BYTES];
	unsigned char sealed[ENVELOPE_SEALED_CHUNK_BYTES];
	unsigned char plain[ENVELOPE_CHUNK_BYTES];
};

static int
envelope_nrecip_valid(unsigned nrecip)
{
	return nrecip >= ENVELOPE_MIN_RECIPIENTS && nrecip <= ENVELOPE_MAX_RECIPIENTS;
}

static int
envelope_key_id(unsigned char id[ENVELOPE_KEY_ID_BYTES], const unsigned char box_pk[32])
{
	unsigned char hash[crypto_generichash_BYTES];

	if (crypto_generichash(hash, sizeof hash, box_pk, crypto_box_PUBLICKEYBYTES, NULL, 0) != 0)
		return ST_ERR_CRYPTO;
	memcpy(id, hash, ENVELOPE_KEY_ID_BYTES);
	return ST_OK;
}

int
envelope_preamble_parse(const unsigned char *buf, size_t len, struct envelope_preamble *out)
{
	size_t magic_have, i;
	unsigned nrecip;

	if (out == NULL || (buf == NULL && len > 0))
		return ST_ERR_ARGUMENT;
	memset(out, 0, sizeof *out);

	/* Judge each byte as soon as it is there, so a server can drop a body
	 * that is no envelope after its first bytes instead of spooling it. */
	magic_have = len < ENVELOPE_MAGIC_BYTES - 1 ? len : ENVELOPE_MAGIC_BYTES - 1;
	if (magic_have > 0 && memcmp(buf, ENVELOPE_MAGIC, magic_have) != 0)
		return ST_ERR_MAGIC;
	if (len < ENVELOPE_MAGIC_BYTES)
		return ST_ERR_TRUNCATED;
	if (buf[ENVELOPE_MAGIC_BYTES - 1] != ENVELOPE_VERSION)
		return ST_ERR_VERSION;
	if (len <= ENVELOPE_NRECIP_OFFSET)
		return ST_ERR_TRUNCATED;
	nrecip = buf[ENVELOPE_NRECIP_OFFSET];
	if (!envelope_nrecip_valid(nrecip))
		return ST_ERR_NRECIP;
	if (len < ENVELOPE_PREAMBLE_BYTES(nrecip))
		return ST_ERR_TRUNCATED;

	out->nrecip = nrecip;
	out->length = ENVELOPE_PREAMBLE_BYTES(nrecip);
	for (i = 0; i < nrecip; i++)
		memcpy(out->key_ids[i],
		    buf + ENVELOPE_ENTRIES_OFFSET + i * ENVELOPE_RECIPIENT_BYTES,
		    ENVELOPE_KEY_ID_BYTES);
	return ST_OK;
}

int
envelope_payload_length(uint64_t envelope_len, unsigned nrecip, uint64_t *payload_len)
{
	uint64_t preamble, ciphertext, full, rest;

	if (payload_len == NULL)
		return ST_ERR_ARGUMENT;
	*payload_len = 0;
	if (!envelope_nrecip_valid(nrecip))
		return ST_ERR_NRECIP;
	preamble = ENVELOPE_PREAMBLE_BYTES(nrecip);
	if (envelope_len < preamble)
		return ST_ERR_LAYOUT;
	ciphertext = envelope_len - preamble;
	full = ciphertext / ENVELOPE_SEALED_CHUNK_BYTES;
	rest = ciphertext % ENVELOPE_SEALED_CHUNK_BYTES;

	/* rest == 0: the last full chunk is the FINAL one, unless there is none.
	 * rest < overhead: no chunk is that short. rest == overhead: an empty
	 * last chunk, canonical only as the sole chunk of an empty payload. */
	if (rest == 0 && full == 0)
		return ST_ERR_LAYOUT;
	if (rest > 0 && rest < ENVELOPE_CHUNK_OVERHEAD)
		return ST_ERR_LAYOUT;
	if (rest == ENVELOPE_CHUNK_OVERHEAD && full > 0)
		return ST_ERR_LAYOUT;
	*payload_len =
	    full * ENVELOPE_CHUNK_BYTES + (rest > 0 ? rest - ENVELOPE_CHUNK_OVERHEAD : 0);
	return ST_OK;
}

/* No envelope is 0 bytes long, so 0 stands for "no such envelope": nrecip out
 * of range, or a length beyond 64 bits. */
uint64_t
envelope_length(uint64_t payload_len, unsigned nrecip)
{
	uint64_t chunks, overhead;

	if (!envelope_nrecip_valid(nrecip))
		return 0;
	/* (payload_len - 1) / size + 1 rounds up without overflowing near 2^64. */
	chunks = payload_len == 0 ? 1 : (payload_len - 1) / ENVELOPE_CHUNK_BYTES + 1;
	overhead = ENVELOPE_PREAMBLE_BYTES(nrecip) + chunks * ENVELOPE_CHUNK_OVERHEAD;
	if (payload_len > UINT64_MAX - overhead)
		return 0;
	return payload_len + overhead;
}

static int
envelope_seal_chunk(struct envelope_seal *s, unsigned char tag)
{
	const unsigned char *ad = NULL;
	unsigned long long sealed_len;
	size_t ad_len = 0;
	int status = ST_OK;

	if (s->chunks == 0) {
		ad = s->preamble;
		ad_len = s->preamble_len;
	}
	if (crypto_secretstream_xchacha20poly1305_push(
		&s->state, s->sealed, &sealed_len, s->plain, s->buffered, ad, ad_len, tag) != 0) {
		status = ST_ERR_CRYPTO;
		goto done;
	}
	s->chunks++;
	if (s->write(s->ctx, s->sealed, (size_t)sealed_len) != 0)
		status = ST_ERR_CALLBACK;
done:
	sodium_memzero(s->plain, s->buffered);
	s->buffered = 0;
	return status;
}

int
envelope_seal_new(struct envelope_seal **out, const unsigned char (*box_pks)[32], unsigned nrecip,
    envelope_write_fn write, void *ctx)
{
	struct envelope_seal *s = NULL;
	unsigned char *entry;
	unsigned i, j;
	int status;

	if (out == NULL)
		return ST_ERR_ARGUMENT;
	*out = NULL;
	if (box_pks == NULL || write == NULL)
		return ST_ERR_ARGUMENT;
	if (!envelope_nrecip_valid(nrecip))
		return ST_ERR_NRECIP;
	/* Guarded, locked pages: the struct holds the file key, the stream
	 * state and up to a chunk of plaintext; sodium_free wipes it. */
	if ((s = sodium_malloc(sizeof *s)) == NULL)
		return ST_ERR_NOMEM;
	memset(s, 0, sizeof *s);
	s->write = write;
	s->ctx = ctx;

	memcpy(s->preamble, ENVELOPE_MAGIC, ENVELOPE_MAGIC_BYTES);
	s->preamble[ENVELOPE_NRECIP_OFFSET] = (unsigned char)nrecip;
	crypto_secretstream_xchacha20poly1305_keygen(s->file_key);
	entry = s->preamble + ENVELOPE_ENTRIES_OFFSET;
	for (i = 0; i < nrecip; i++) {
		if ((status = envelope_key_id(entry, box_pks[i])) != ST_OK)
			goto done;
		/* Readers (sealtipd) refuse an envelope naming a key twice. */
		for (j = 0; j < i; j++)
			if (memcmp(s->preamble + ENVELOPE_ENTRIES_OFFSET + (size_t)j *
				ENVELOPE_RECIPIENT_BYTES, entry, ENVELOPE_KEY_ID_BYTES) == 0) {
				status = ST_ERR_DUPLICATE_RECIPIENT;
				goto done;
			}
		/* Fails for a public key of small order, which no honest key is. */
		if (crypto_box_seal(entry + ENVELOPE_KEY_ID_BYTES, s->file_key, sizeof s->file_key,
			box_pks[i]) != 0) {
			status = ST_ERR_CRYPTO;
			goto done;
		}
		entry += ENVELOPE_RECIPIENT_BYTES;
	}
	if (crypto_secretstream_xchacha20poly1305_init_push(&s->state, entry, s->file_key) != 0) {
		status = ST_ERR_CRYPTO;
		goto done;
	}
	/* The stream state carries its own subkey; the file key is done with. */
	sodium_memzero(s->file_key, sizeof s->file_key);
	s->preamble_len = ENVELOPE_PREAMBLE_BYTES(nrecip);
	if (write(ctx, s->preamble, s->preamble_len) != 0) {
		status = ST_ERR_CALLBACK;
		goto done;
	}
	*out = s;
	s = NULL;
	status = ST_OK;
done:
	envelope_seal_free(s);
	return status;
}

static int
envelope_seal_consume(struct envelope_seal *s, const unsigned char *data, size_t len)
{
	size_t n;
	int status;

	if (data == NULL && len > 0)
		return ST_ERR_ARGUMENT;
	while (len > 0) {
		/* A full chunk goes out only now that bytes follow it, so the
		 * chunk that final() tags FINAL is always the last one. */
		if (s->buffered == ENVELOPE_CHUNK_BYTES &&
		    (status = envelope_seal_chunk(s, ENVELOPE_TAG_MESSAGE)) != ST_OK)
			return status;
		n = ENVELOPE_CHUNK_BYTES - s->buffered;
		if (n > len)
			n = len;
		memcpy(s->plain + s->buffered, data, n);
		s->buffered += n;
		data += n;
		len -= n;
	}
	return ST_OK;
}

int
envelope_seal_update(struct envelope_seal *s, const unsigned char *data, size_t len)
{
	if (s == NULL)
		return ST_ERR_ARGUMENT;
	if (s->status != ST_OK)
		return s->status;
	if (s->finished)
		s->status = ST_ERR_STATE;
	else
		s->status = envelope_seal_consume(s, data, len);
	return s->status;
}

int
envelope_seal_write(void *seal, const unsigned char *data, size_t len)
{
	return envelope_seal_update(seal, data, len);
}

int
envelope_seal_final(struct envelope_seal *s)
{
	if (s == NULL)
		return ST_ERR_ARGUMENT;
	if (s->status != ST_OK)
		return s->status;
	if (s->finished) {
		s->status = ST_ERR_STATE;
		return s->status;
	}
	s->finished = 1;
	s->status = envelope_seal_chunk(s, ENVELOPE_TAG_FINAL);
	sodium_memzero(&s->state, sizeof s->state);
	return s->status;
}

void
envelope_seal_free(struct envelope_seal *s)
{
	/* sodium_free wipes the pages before unmapping them. */
	sodium_free(s);
}

int
envelope_open_new(struct envelope_open **out, const unsigned char box_pk[32],
    const unsigned char box_sk[32], envelope_write_fn write, void *ctx)
{
	struct envelope_open *o = NULL;
	unsigned char derived_pk[crypto_box_PUBLICKEYBYTES];
	int status;

	if (out == NULL)
		return ST_ERR_ARGUMENT;
	*out = NULL;
	if (box_pk == NULL || box_sk == NULL || write == NULL)
		return ST_ERR_ARGUMENT;
	if ((o = sodium_malloc(sizeof *o)) == NULL)
		return ST_ERR_NOMEM;
	memset(o, 0, sizeof *o);
	o->write = write;
	o->ctx = ctx;

	/* A pair that does not belong together would only surface later as a
	 * recipient entry that does not open, blaming the envelope. */
	if (crypto_scalarmult_base(derived_pk, box_sk) != 0 ||
	    sodium_memcmp(derived_pk, box_pk, sizeof derived_pk) != 0) {
		status = ST_ERR_ARGUMENT;
		goto done;
	}
	if ((status = envelope_key_id(o->key_id, box_pk)) != ST_OK)
		goto done;
	memcpy(o->box_pk, box_pk, sizeof o->box_pk);
	memcpy(o->box_sk, box_sk, sizeof o->box_sk);
	*out = o;
	o = NULL;
	status = ST_OK;
done:
	sodium_memzero(derived_pk, sizeof derived_pk);
	envelope_open_free(o);
	return status;
}

/* Finds our entry and starts the stream. Several entries may carry our key id
 * (a colliding or hostile one among them): the first that opens wins. */
static int
envelope_open_recipient(struct envelope_open *o)
{
	const unsigned char *entry, *header;
	unsigned i;
	int status = ST_ERR_NOT_RECIPIENT;

	for (i = 0; i < o->preamble.nrecip; i++) {
		/* Key ids are public: a plain comparison leaks nothing. */
		if (memcmp(o->preamble.key_ids[i], o->key_id, ENVELOPE_KEY_ID_BYTES) != 0)
			continue;
		entry = o->preamble_bytes + ENVELOPE_ENTRIES_OFFSET +
		    (size_t)i * ENVELOPE_RECIPIENT_BYTES + ENVELOPE_KEY_ID_BYTES;
		if (crypto_box_seal_open(
			o->file_key, entry, ENVELOPE_SEALED_KEY_BYTES, o->box_pk, o->box_sk) == 0) {
			status = ST_OK;
			break;
		}
		status = ST_ERR_RECIPIENT_AUTH;
	}
	/* The secret key opens one entry per envelope; keep it no longer. */
	sodium_memzero(o->box_sk, sizeof o->box_sk);
	if (status != ST_OK)
		goto done;
	header = o->preamble_bytes + o->preamble.length - ENVELOPE_HEADER_BYTES;
	if (crypto_secretstream_xchacha20poly1305_init_pull(&o->state, header, o->file_key) != 0)
		status = ST_ERR_CRYPTO;
done:
	sodium_memzero(o->file_key, sizeof o->file_key);
	return status;
}

/* Takes bytes up to the end of the preamble and no further. */
static int
envelope_open_take_preamble(struct envelope_open *o, const unsigned char **data, size_t *len)
{
	size_t want, n;
	int status;

	want = ENVELOPE_ENTRIES_OFFSET;
	/* The count byte, checked by the parse that let it in, sets the length. */
	if (o->preamble_have >= want)
		want = ENVELOPE_PREAMBLE_BYTES(o->preamble_bytes[ENVELOPE_NRECIP_OFFSET]);
	if (want > sizeof o->preamble_bytes || want <= o->preamble_have)
		return ST_ERR_STATE;
	n = want - o->preamble_have;
	if (n > *len)
		n = *len;
	memcpy(o->preamble_bytes + o->preamble_have, *data, n);
	o->preamble_have += n;
	*data += n;
	*len -= n;

	status = envelope_preamble_parse(o->preamble_bytes, o->preamble_have, &o->preamble);
	if (status == ST_ERR_TRUNCATED)
		return ST_OK;
	if (status != ST_OK)
		return status;
	o->parsed = 1;
	return envelope_open_recipient(o);
}

/* Decrypts the buffered sealed chunk. Only the last chunk is ever short, so a
 * short one here is the last: its tag must be FINAL. */
static int
envelope_open_chunk(struct envelope_open *o, const unsigned char *sealed, size_t sealed_len)
{
	const unsigned char *ad = NULL;
	unsigned long long plain_len;
	unsigned char *plain = NULL;
	size_t ad_len = 0;
	unsigned char tag;
	int status = ST_OK;

	if (o->chunks == 0) {
		ad = o->preamble_bytes;
		ad_len = o->preamble.length;
	}
	if (o->buffer != NULL)
		plain = o->buffer(o->buffer_ctx);
	if (plain == NULL)
		plain = o->plain;
	if (crypto_secretstream_xchacha20poly1305_pull(
		&o->state, plain, &plain_len, &tag, sealed, sealed_len, ad, ad_len) != 0)
		return ST_ERR_CHUNK_AUTH;
	o->chunks++;

	/* Refuse before handing anything on: a chunk that breaks the layout
	 * is not part of a valid envelope even though it authenticated. */
	if (tag == ENVELOPE_TAG_FINAL) {
		if (plain_len == 0 && o->chunks > 1) {
			status = ST_ERR_LAYOUT;
			goto done;
		}
		o->final_seen = 1;
	} else if (tag != ENVELOPE_TAG_MESSAGE || plain_len != ENVELOPE_CHUNK_BYTES) {
		status = ST_ERR_LAYOUT;
		goto done;
	}
	o->payload_len += plain_len;
	if (plain_len > 0 && o->write(o->ctx, plain, (size_t)plain_len) != 0)
		status = ST_ERR_CALLBACK;
done:
	/* o->plain is overwritten by the next chunk and wiped by sodium_free;
	 * wiping it here too cost a few percent of the whole open. */
	return status;
}

static int
envelope_open_consume(struct envelope_open *o, const unsigned char *data, size_t len)
{
	size_t n;
	int status;

	if (data == NULL && len > 0)
		return ST_ERR_ARGUMENT;
	while (len > 0) {
		if (o->final_seen)
			return ST_ERR_TRAILING;
		if (!o->parsed) {
			if ((status = envelope_open_take_preamble(o, &data, &len)) != ST_OK)
				return status;
			continue;
		}
		/* Whole chunks in the caller's buffer are opened where they lie:
		 * copying them first was a tenth of the work. */
		if (o->sealed_len == 0 && len >= ENVELOPE_SEALED_CHUNK_BYTES) {
			if ((status = envelope_open_chunk(o, data,
			    ENVELOPE_SEALED_CHUNK_BYTES)) != ST_OK)
				return status;
			data += ENVELOPE_SEALED_CHUNK_BYTES;
			len -= ENVELOPE_SEALED_CHUNK_BYTES;
			continue;
		}
		n = ENVELOPE_SEALED_CHUNK_BYTES - o->sealed_len;
		if (n > len)
			n = len;
		memcpy(o->sealed + o->sealed_len, data, n);
		o->sealed_len += n;
		data += n;
		len -= n;
		/* A full sealed chunk is complete whether or not it is the last. */
		if (o->sealed_len == ENVELOPE_SEALED_CHUNK_BYTES) {
			if ((status = envelope_open_chunk(o, o->sealed, o->sealed_len)) != ST_OK)
				return status;
			o->sealed_len = 0;
		}
	}
	return ST_OK;
}

int
envelope_open_update(struct envelope_open *o, const unsigned char *data, size_t len)
{
	if (o == NULL)
		return ST_ERR_ARGUMENT;
	if (o->status != ST_OK)
		return o->status;
	if (o->finished)
		o->status = ST_ERR_STATE;
	else
		o->status = envelope_open_consume(o, data, len);
	return o->status;
}

static int
envelope_open_finish(struct envelope_open *o)
{
	if (!o->parsed)
		return ST_ERR_TRUNCATED;
	if (o->final_seen)
		return ST_OK;
	if (o->sealed_len == 0)
		return o->chunks == 0 ? ST_ERR_TRUNCATED : ST_ERR_NO_FINAL;
	if (o->sealed_len < ENVELOPE_CHUNK_OVERHEAD)
		return ST_ERR_TRUNCATED;
	/* What remains is shorter than a sealed chunk, so it is the last one:
	 * envelope_open_chunk refuses it as LAYOUT unless it is FINAL. */
	return envelope_open_chunk(o, o->sealed, o->sealed_len);
}

int
envelope_open_final(struct envelope_open *o, uint64_t *payload_len)
{
	if (o == NULL)
		return ST_ERR_ARGUMENT;
	if (o->status != ST_OK)
		return o->status;
	if (o->finished)
		o->status = ST_ERR_STATE;
	else if (payload_len == NULL)
		o->status = ST_ERR_ARGUMENT;
	else {
		o->finished = 1;
		o->status = envelope_open_finish(o);
		sodium_memzero(&o->state, sizeof o->state);
		if (o->status == ST_OK)
			*payload_len = o->payload_len;
	}
	return o->status;
}

void
envelope_open_set_buffer(struct envelope_open *o, envelope_buffer_fn buffer, void *ctx)
{
	if (o == NULL)
		return;
	o->buffer = buffer;
	o->buffer_ctx = ctx;
}

const struct envelope_preamble *
envelope_open_preamble(const struct envelope_open *o)
{
	if (o == NULL || !o->parsed)
		return NULL;
	return &o->preamble;
}

void
envelope_open_free(struct envelope_open *o)
{
	/* sodium_free wipes the pages before unmapping them. */
	sodium_free(o);
}
