#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "fileio.h"

/* Names come from reporters' file names: wiped like the rest of a report. */
static void
free_name(char **name)
{
	if (*name != NULL) {
		sodium_memzero(*name, strlen(*name));
		free(*name);
	}
	*name = NULL;
}

static int
read_fd_all(int fd, size_t max, unsigned char *(*alloc)(size_t), void (*release)(void *),
    unsigned char **out, size_t *len)
{
	struct stat st;
	unsigned char *buf = NULL;
	size_t size, got = 0;
	ssize_t n;
	int saved;

	if (fstat(fd, &st) == -1)
		return -1;
	if (!S_ISREG(st.st_mode)) {
		errno = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
		return -1;
	}
	if ((unsigned long long)st.st_size > max) {
		errno = EFBIG;
		return -1;
	}
	size = (size_t)st.st_size;
	if ((buf = alloc(size + 1)) == NULL) {
		errno = ENOMEM;
		return -1;
	}
	while (got < size) {
		n = read(fd, buf + got, size - got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			goto fail;
		if (n == 0)
			break; /* shrank while we read: take what is there */
		got += (size_t)n;
	}
	buf[got] = '\0';
	*out = buf;
	*len = got;
	return 0;
fail:
	saved = errno;
	sodium_memzero(buf, size + 1);
	release(buf);
	errno = saved;
	return -1;
}

static unsigned char *
alloc_plain(size_t n)
{
	return malloc(n);
}

static unsigned char *
alloc_secret(size_t n)
{
	return sodium_malloc(n);
}

static int
read_path(const char *path, size_t max, unsigned char *(*alloc)(size_t),
    void (*release)(void *), unsigned char **out, size_t *len)
{
	int fd, rc, saved;

	/* O_NONBLOCK: a FIFO would hold open() until a writer came; it is
	 * refused right after, like anything but a regular file. */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) == -1)
		return -1;
	rc = read_fd_all(fd, max, alloc, release, out, len);
	saved = errno;
	close(fd);
	errno = saved;
	return rc;
}

const char *
fileio_read_error(int err)
{
	return err == EINVAL ? "not a regular file" : strerror(err);
}

int
fileio_read_all(const char *path, size_t max, unsigned char **out, size_t *len)
{
	return read_path(path, max, alloc_plain, free, out, len);
}

int
fileio_read_secret(const char *path, size_t max, unsigned char **out, size_t *len)
{
	return read_path(path, max, alloc_secret, sodium_free, out, len);
}

int
fileio_atomic_open(struct fileio_atomic *f, int dirfd, const char *name, mode_t mode)
{
	int tries;

	f->dirfd = dirfd;
	f->fd = -1;
	f->tmp_name[0] = '\0';
	if ((f->name = strdup(name)) == NULL)
		return -1;
	for (tries = 0; tries < 16; tries++) {
		snprintf(f->tmp_name, sizeof f->tmp_name, ".sealtip-tmp-%08x%08x",
		    randombytes_random(), randombytes_random());
		f->fd = openat(dirfd, f->tmp_name,
		    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
		if (f->fd != -1 || errno != EEXIST)
			break;
	}
	if (f->fd == -1) {
		int saved = errno;

		free_name(&f->name);
		f->tmp_name[0] = '\0';
		errno = saved;
		return -1;
	}
	/* The umask must not widen or narrow what the caller asked for (0600 keys). */
	if (fchmod(f->fd, mode) == -1) {
		fileio_atomic_abort(f);
		return -1;
	}
	return 0;
}

int
fileio_write_all(int fd, const void *buf, size_t len)
{
	const unsigned char *p = buf;
	ssize_t n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return -1;
		if (n == 0) { /* no progress and no reason: do not spin */
			errno = EIO;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int
fileio_atomic_write(struct fileio_atomic *f, const void *buf, size_t len)
{
	return fileio_write_all(f->fd, buf, len);
}

/* durable: also fsync the folder after the rename, and undo the rename when
 * that fails, since the caller will report that nothing was written. */
static int
atomic_commit(struct fileio_atomic *f, int durable)
{
	int saved;

	if (fsync(f->fd) == -1)
		goto fail;
	if (close(f->fd) == -1) {
		f->fd = -1;
		goto fail;
	}
	f->fd = -1;
	/* RENAME_NOREPLACE: an existing file of that name is never replaced. */
	if (renameat2(f->dirfd, f->tmp_name, f->dirfd, f->name, RENAME_NOREPLACE) == -1)
		goto fail;
	f->tmp_name[0] = '\0';
	if (durable && fileio_sync_dir(f->dirfd) == -1) {
		saved = errno;
		(void)unlinkat(f->dirfd, f->name, 0);
		errno = saved;
		goto fail;
	}
	free_name(&f->name);
	return 0;
fail:
	saved = errno;
	fileio_atomic_abort(f);
	errno = saved;
	return -1;
}

int
fileio_atomic_commit(struct fileio_atomic *f)
{
	return atomic_commit(f, 0);
}

int
fileio_atomic_commit_durable(struct fileio_atomic *f)
{
	return atomic_commit(f, 1);
}

void
fileio_atomic_abort(struct fileio_atomic *f)
{
	int saved = errno;

	if (f->fd != -1)
		close(f->fd);
	f->fd = -1;
	if (f->tmp_name[0] != '\0')
		unlinkat(f->dirfd, f->tmp_name, 0);
	f->tmp_name[0] = '\0';
	free_name(&f->name);
	errno = saved;
}

int
fileio_write_new(const char *path, const void *buf, size_t len, mode_t mode)
{
	struct fileio_atomic f;
	char *copy, *slash;
	const char *dir, *base;
	int dirfd, rc = -1, saved;

	if ((copy = strdup(path)) == NULL)
		return -1;
	if ((slash = strrchr(copy, '/')) != NULL) {
		*slash = '\0';
		dir = copy[0] == '\0' ? "/" : copy;
		base = slash + 1;
	} else {
		dir = ".";
		base = copy;
	}
	if (base[0] == '\0') {
		errno = EISDIR;
		goto out;
	}
	if ((dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		goto out;
	if (fileio_atomic_open(&f, dirfd, base, mode) == -1)
		goto out_dir;
	if (fileio_atomic_write(&f, buf, len) == -1) {
		fileio_atomic_abort(&f);
		goto out_dir;
	}
	if (fileio_atomic_commit_durable(&f) == -1)
		goto out_dir;
	rc = 0;
out_dir:
	saved = errno;
	close(dirfd);
	errno = saved;
out:
	saved = errno;
	free(copy);
	errno = saved;
	return rc;
}

int
fileio_open_dir(const char *path)
{
	return open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

int
fileio_sync_dir(int dirfd)
{
	return fsync(dirfd);
}

int
fileio_give_to_dir_owner(int dirfd, int fd)
{
	struct stat dir;

	if (geteuid() != 0)
		return 0;
	if (fstat(dirfd, &dir) == -1)
		return -1;
	return fchown(fd, dir.st_uid, dir.st_gid);
}

int
fileio_remove_tree(int dirfd, const char *name)
{
	struct dirent *entry;
	DIR *dir;
	int fd, rc = 0, saved;

	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1) {
		/* Not a directory (or a symlink): remove the entry itself. */
		if (errno == ENOTDIR || errno == ELOOP)
			return unlinkat(dirfd, name, 0);
		return errno == ENOENT ? 0 : -1;
	}
	if ((dir = fdopendir(fd)) == NULL) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	while ((entry = readdir(dir)) != NULL) {
		if (strcmp(entry->d_name, ".") == 0 || strcmp(entry->d_name, "..") == 0)
			continue;
		if (fileio_remove_tree(fd, entry->d_name) == -1)
			rc = -1;
	}
	closedir(dir);
	if (unlinkat(dirfd, name, AT_REMOVEDIR) == -1)
		rc = -1;
	return rc;
}
