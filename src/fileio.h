/* Files as the tools must write them: never overwrite, temp name then rename,
 * fsync before the rename, no following of symlinks on the way out.
 * Functions return 0, or -1 with errno set (the caller names the file). */
#ifndef SEALTIP_FILEIO_H
#define SEALTIP_FILEIO_H

#include <stddef.h>
#include <sys/types.h>

/* Reads a whole regular file of at most max bytes into malloc'd memory
 * (NUL-terminated for text use; *len excludes the NUL). EFBIG when larger,
 * EISDIR for a folder, EINVAL for anything else that is not a regular file
 * (a FIFO is refused at once, not waited on). */
int fileio_read_all(const char *path, size_t max, unsigned char **out, size_t *len);

/* Why a fileio_read_* failed, for the end of a message: strerror, except
 * "not a regular file" for its EINVAL. */
const char *fileio_read_error(int err);

/* Like fileio_read_all, but into sodium_malloc memory for secrets; free the
 * result with sodium_free. */
int fileio_read_secret(const char *path, size_t max, unsigned char **out, size_t *len);

/* Writes all of buf to fd, going on after short writes and EINTR. */
int fileio_write_all(int fd, const void *buf, size_t len);

/* A file being written under a temporary name in a directory. */
struct fileio_atomic {
	int dirfd;        /* borrowed */
	int fd;
	char tmp_name[64];
	char *name;       /* final name, owned */
};

/* Creates a hidden temp file in dirfd (O_EXCL, O_NOFOLLOW, the given mode)
 * that will become name. */
int fileio_atomic_open(struct fileio_atomic *f, int dirfd, const char *name, mode_t mode);

/* Writes all of buf. */
int fileio_atomic_write(struct fileio_atomic *f, const void *buf, size_t len);

/* fsyncs, then renames to the final name without replacing anything (EEXIST
 * when the name is taken, and the temp file is removed). */
int fileio_atomic_commit(struct fileio_atomic *f);

/* fileio_atomic_commit, then an fsync of the folder so that the new name
 * survives a crash. If that fails the file is removed again: -1 with errno
 * means nothing is left, whichever step failed. */
int fileio_atomic_commit_durable(struct fileio_atomic *f);

/* Removes the temp file; safe after a failed commit or on a never-opened f. */
void fileio_atomic_abort(struct fileio_atomic *f);

/* One call: write a new file at path (relative to the cwd) atomically and
 * durably (fileio_atomic_commit_durable): on -1 nothing is left at path. */
int fileio_write_new(const char *path, const void *buf, size_t len, mode_t mode);

/* Opens a directory (O_DIRECTORY | O_NOFOLLOW on the last component). */
int fileio_open_dir(const char *path);

/* fsync a directory so renames in it are durable. */
int fileio_sync_dir(int dirfd);

/* Run as root, fd (a file just made in dirfd) becomes the owner of dirfd's
 * folder, so that a process running as that user can open it again; not
 * root, nothing is done. 0, or -1 with errno. */
int fileio_give_to_dir_owner(int dirfd, int fd);

/* Removes a directory tree below dirfd created by us (no symlinks followed). */
int fileio_remove_tree(int dirfd, const char *name);

#endif
