#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fileio.h"
#include "padme.h"
#include "spool.h"
#include "status.h"

static int
reject(struct spool *sp, unsigned status, const char *code, const char *message)
{
	if (sp->err.status == 0) {
		sp->err.status = status;
		sp->err.code = code;
		sp->err.message = message;
	}
	return 1;
}

/* An unnamed file where the kernel allows it; otherwise a random name that is
 * unlinked at once, so a crash never leaves ciphertext lying about. */
static int
open_unnamed(int dirfd)
{
	unsigned char rnd[12];
	char name[48];
	int fd, i;

	fd = openat(dirfd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd != -1 || (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL))
		return fd;
	for (i = 0; i < 8; i++) {
		randombytes_buf(rnd, sizeof rnd);
		snprintf(name, sizeof name, ".spool-");
		sodium_bin2hex(name + 7, sizeof name - 7, rnd, sizeof rnd);
		fd = openat(dirfd, name, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd == -1 && errno == EEXIST)
			continue;
		if (fd != -1)
			unlinkat(dirfd, name, 0);
		return fd;
	}
	return -1;
}

int
spool_open(struct spool *sp, int dirfd, uint64_t content_length, const struct spool_keys *keys)
{
	static const unsigned char leaf_prefix = 0x00;

	memset(sp, 0, sizeof *sp);
	sp->fd = -1;
	sp->expected = content_length;
	sp->keys = keys;
	sha256_init(&sp->leaf);
	sha256_update(&sp->leaf, &leaf_prefix, 1);
	if (content_length <= SPOOL_MEMORY_BYTES)
		return (sp->mem = malloc(content_length > 0 ? content_length : 1)) != NULL ? 0 : -1;
	if ((sp->fd = open_unnamed(dirfd)) == -1)
		return -1;
	return 0;
}

/* The whole preamble is in: everything but the ciphertext can be judged now,
 * the layout from Content-Length alone. */
static int
check_preamble(struct spool *sp, const struct envelope_preamble *pre)
{
	uint64_t payload;
	size_t i, j;
	int known;

	for (i = 0; i < pre->nrecip; i++) {
		known = 0;
		for (j = 0; j < sp->keys->n; j++)
			if (memcmp(pre->key_ids[i], sp->keys->ids[j], ENVELOPE_KEY_ID_BYTES) == 0)
				known = 1;
		if (!known)
			return reject(sp, 422, "unknown_recipient",
			    "the envelope is sealed to a key this server does not serve");
		for (j = 0; j < i; j++)
			if (memcmp(pre->key_ids[i], pre->key_ids[j], ENVELOPE_KEY_ID_BYTES) == 0)
				return reject(sp, 422, "duplicate_recipient",
				    "the envelope names the same recipient twice");
	}
	if (envelope_payload_length(sp->expected, pre->nrecip, &payload) != ST_OK)
		return reject(sp, 422, "bad_layout",
		    "the body length does not fit the envelope's chunk layout");
	if (!padme_is_padded(payload))
		return reject(sp, 422, "not_padded", "the payload length is not a Padme length");
	sp->preamble_done = 1;
	return 0;
}

static int
parse_preamble(struct spool *sp)
{
	struct envelope_preamble pre;
	int rc;

	rc = envelope_preamble_parse(sp->preamble, sp->pre_have, &pre);
	switch (rc) {
	case ST_OK:
		return check_preamble(sp, &pre);
	case ST_ERR_TRUNCATED:
		return 0;
	case ST_ERR_MAGIC:
		return reject(sp, 422, "bad_magic", "the body is not a sealtip envelope");
	case ST_ERR_VERSION:
		return reject(sp, 422, "bad_version", "unknown envelope version");
	case ST_ERR_NRECIP:
		return reject(sp, 422, "bad_recipient_count", "recipient count outside 1..16");
	default:
		return reject(sp, 422, "bad_preamble", "malformed envelope preamble");
	}
}

int
spool_write(struct spool *sp, const unsigned char *buf, size_t len)
{
	size_t n;

	if (len > sp->expected - sp->received)
		return reject(sp, 400, "body_too_long", "more bytes than Content-Length");
	sp->received += len;
	if (sp->err.status != 0)
		return 1;
	if (!sp->preamble_done) {
		n = sizeof sp->preamble - sp->pre_have;
		if (n > len)
			n = len;
		memcpy(sp->preamble + sp->pre_have, buf, n);
		sp->pre_have += n;
		if (parse_preamble(sp) != 0)
			return 1;
	}
	sha256_update(&sp->leaf, buf, len);
	if (sp->mem != NULL) {
		/* received was checked against expected, the buffer's size, above. */
		memcpy(sp->mem + (sp->received - len), buf, len);
		return 0;
	}
	if (fileio_write_all(sp->fd, buf, len) == -1)
		return reject(sp, errno == ENOSPC ? 507 : 500, "storage_failed",
		    "the server could not store the upload");
	return 0;
}

int
spool_finish(struct spool *sp, unsigned char leaf_hash[32])
{
	if (sp->err.status != 0)
		return 1;
	if (sp->received != sp->expected)
		return reject(sp, 400, "truncated", "the body ended before Content-Length");
	if (!sp->preamble_done)
		return reject(sp, 422, "bad_layout", "the body is too short to hold an envelope");
	sha256_final(&sp->leaf, leaf_hash);
	return 0;
}

void
spool_close(struct spool *sp)
{
	if (sp->fd >= 0)
		close(sp->fd);
	sp->fd = -1;
	free(sp->mem);
	sp->mem = NULL;
}
