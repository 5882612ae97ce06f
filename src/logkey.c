#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "fileio.h"
#include "logkey.h"

static int
logkey_create(unsigned char *file, int datafd, char *err, size_t errlen)
{
	struct fileio_atomic f;
	unsigned char pk[NOTE_PUBLIC_KEY_BYTES];

	memcpy(file, LOGKEY_MAGIC, 4);
	crypto_sign_keypair(pk, file + 4);
	if (fileio_atomic_open(&f, datafd, LOGKEY_FILE, 0600) == -1)
		goto fail;
	/* Made by root (--print-verifier-key without --user) in the folder of
	 * the user the server runs as: that user's, or it could not read it. */
	if (fileio_give_to_dir_owner(datafd, f.fd) == -1 ||
	    fileio_atomic_write(&f, file, LOGKEY_FILE_BYTES) == -1 ||
	    fileio_atomic_commit(&f) == -1) {
		fileio_atomic_abort(&f);
		goto fail;
	}
	if (fileio_sync_dir(datafd) == -1)
		goto fail;
	return 0;
fail:
	snprintf(err, errlen, "creating %s: %s", LOGKEY_FILE, strerror(errno));
	return -1;
}

static int
logkey_read(unsigned char *file, int datafd, char *err, size_t errlen)
{
	struct stat st;
	ssize_t n;
	size_t got = 0;
	int fd;

	if ((fd = openat(datafd, LOGKEY_FILE, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1) {
		snprintf(err, errlen, "%s: %s", LOGKEY_FILE, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", LOGKEY_FILE);
		goto fail;
	}
	if (st.st_mode & 077) {
		snprintf(err, errlen, "%s: readable by others (mode %03o); it must be 0600",
		    LOGKEY_FILE, (unsigned)(st.st_mode & 0777));
		goto fail;
	}
	if (st.st_size != LOGKEY_FILE_BYTES) {
		snprintf(err, errlen, "%s: not a sealtip log key (wrong size)", LOGKEY_FILE);
		goto fail;
	}
	while (got < LOGKEY_FILE_BYTES) {
		n = read(fd, file + got, LOGKEY_FILE_BYTES - got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(err, errlen, "%s: cannot read", LOGKEY_FILE);
			goto fail;
		}
		got += (size_t)n;
	}
	close(fd);
	return 0;
fail:
	close(fd);
	return -1;
}

int
logkey_load(struct logkey *k, int datafd, const char *origin, int may_create, int *created,
    char *err, size_t errlen)
{
	unsigned char *file, pk[NOTE_PUBLIC_KEY_BYTES], *check = NULL;
	int rc = -1;

	memset(k, 0, sizeof *k);
	*created = 0;
	if ((file = sodium_malloc(LOGKEY_FILE_BYTES)) == NULL ||
	    (check = sodium_malloc(NOTE_SECRET_KEY_BYTES)) == NULL ||
	    (k->sk = sodium_malloc(NOTE_SECRET_KEY_BYTES)) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto done;
	}
	if (may_create && faccessat(datafd, LOGKEY_FILE, F_OK, AT_SYMLINK_NOFOLLOW) == -1 &&
	    errno == ENOENT) {
		if (logkey_create(file, datafd, err, errlen) == -1)
			goto done;
		*created = 1;
	} else if (logkey_read(file, datafd, err, errlen) == -1) {
		goto done;
	}
	/* The public half must be the one the seed gives. */
	if (memcmp(file, LOGKEY_MAGIC, 4) != 0 ||
	    crypto_sign_seed_keypair(pk, check, file + 4) != 0 ||
	    sodium_memcmp(check, file + 4, NOTE_SECRET_KEY_BYTES) != 0) {
		snprintf(err, errlen, "%s: not a sealtip log key", LOGKEY_FILE);
		goto done;
	}
	memcpy(k->sk, file + 4, NOTE_SECRET_KEY_BYTES);
	if (note_verifier_make(&k->v, origin, pk) != NOTE_OK ||
	    note_verifier_format(k->vkey, sizeof k->vkey, &k->v) != NOTE_OK) {
		snprintf(err, errlen, "the origin '%s' cannot be a key name", origin);
		goto done;
	}
	rc = 0;
done:
	sodium_free(file); /* sodium_free wipes */
	sodium_free(check);
	if (rc == -1)
		logkey_free(k);
	return rc;
}

void
logkey_free(struct logkey *k)
{
	sodium_free(k->sk);
	k->sk = NULL;
}
